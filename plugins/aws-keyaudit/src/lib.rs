//! `aws-keyaudit`: audit IAM access keys (age, last use, two active keys, root keys, and whether a
//! source-IP / VPC restriction really covers each key), fit for CI and many accounts. Read-only:
//! it never changes IAM.

pub mod checks;
pub mod data;
pub mod policy;
pub mod report;
pub mod restrict;
pub mod usage;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use futures_util::StreamExt;
use serde_json::json;
use shared::app::App;
use shared::cli::GlobalArgs;
use shared::client::gate::Gate;
use shared::credentials::{self, Selection};
use shared::error::{Error, exit};
use shared::output;

use checks::{Severity, Status};
use report::Format;

/// Audit IAM access keys: age, last use, two active keys, root keys, source-IP restriction.
#[derive(Debug, Parser)]
#[command(name = "aws-keyaudit", version = shared::cli::VERSION, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    /// Profile(s) to audit (repeatable; default: the usual chain).
    #[arg(long = "profile", value_name = "PROFILE", add = clap_complete::ArgValueCandidates::new(shared::cli::profile_candidates))]
    profiles: Vec<String>,
    /// Audit every profile of the config (each account once).
    #[arg(long, conflicts_with = "profiles")]
    all_profiles: bool,
    /// List the organisation's accounts and audit each through this role (assumed from the
    /// --profile's credentials); the calling account is audited with its own credentials.
    #[arg(long, value_name = "ROLE", conflicts_with = "all_profiles")]
    org_role: Option<String>,
    /// Output format (default: table on a terminal, json otherwise).
    #[arg(long, value_enum)]
    output: Option<Format>,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    fail_on: Option<Severity>,
    /// KA-ROTATE / KA-INACTIVE-STALE: maximum key age in days.
    #[arg(long, default_value_t = 90, value_parser = |v: &str| shared::cli::parse_bounded(v, 1, 36_500).map(|n| n as i64))]
    max_age_days: i64,
    /// KA-UNUSED: maximum days without use (never-used keys count from creation).
    #[arg(long, default_value_t = 45, value_parser = |v: &str| shared::cli::parse_bounded(v, 1, 36_500).map(|n| n as i64))]
    max_unused_days: i64,
    /// KA-UNUSED: keys younger than this many days are not judged unused yet (fresh rotations);
    /// never-used keys older than this are unused.
    #[arg(long, default_value_t = 7, value_parser = |v: &str| shared::cli::parse_bounded(v, 0, 365).map(|n| n as i64))]
    grace_days: i64,
    /// KA-NO-OWNER-TAG: the tag key that names a user's owner.
    #[arg(long, default_value = "owner")]
    owner_tag: String,
    /// KA-NO-IP-RESTRICTION: ranges the allowed networks must lie in (repeatable).
    #[arg(long = "allowed-cidr", value_name = "CIDR", value_parser = parse_cidr)]
    allowed_cidrs: Vec<ipnet::IpNet>,
    /// KA-NO-IP-RESTRICTION: more allowed IPv4 addresses than this is WEAK.
    #[arg(long, default_value_t = 65_536)]
    max_allowed_addresses: u128,
    /// Suppressions (TOML `[[suppress]]` with check/account/user/key, reason, expires).
    #[arg(long, value_name = "FILE")]
    ignore_file: Option<std::path::PathBuf>,
    /// Also report long-lived keys on this machine: ~/.aws/credentials, ~/.aws/config, the environment.
    #[arg(long)]
    local: bool,
    /// The shared flags (`--region`, `-v`, `-q`, `--cli-read-timeout`, `--cli-connect-timeout`).
    #[command(flatten)]
    common: shared::cli::CommonArgs,
    /// Also show where each active key was used from: CloudTrail event history (LookupEvents),
    /// paced under its limit of 2 calls per second per region (about half a second per key).
    #[arg(long)]
    usage: bool,
    /// --usage and restrict's dry run: days of event history to read (1 to 90).
    #[arg(long, global = true, default_value_t = 30, value_parser = |v: &str| shared::cli::parse_bounded(v, 1, 90).map(|n| n as u32))]
    days: u32,
    /// --usage: also read this region's history for every key (repeatable; always read: the
    /// region the credential report says the key was last used in, else us-east-1).
    #[arg(long = "usage-region", global = true, value_name = "REGION", value_parser = shared::cli::parse_region)]
    usage_regions: Vec<String>,
    /// --usage: the newest events read per key and region.
    #[arg(long, global = true, value_name = "N", default_value_t = 1000, value_parser = |v: &str| shared::cli::parse_bounded(v, 1, 100_000).map(|n| n as usize))]
    usage_max_events: usize,
    /// Accounts audited at once (1 to 512).
    #[arg(long, default_value_t = 128, value_parser = |v: &str| shared::cli::parse_bounded(v, 1, 512).map(|n| n as usize))]
    concurrency: usize,
    /// AWS calls in flight at once across all accounts (1 to 1024); each account also slows
    /// itself down when its calls are throttled, without holding back the others.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = |v: &str| shared::cli::parse_bounded(v, 1, 1024).map(|n| n as usize))]
    max_in_flight: usize,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// Write (and with --apply attach) the policy that restricts a user's keys to known networks;
    /// our evaluator checks it first, and the user is re-audited after.
    Restrict(restrict::RestrictArgs),
}

fn parse_cidr(s: &str) -> Result<ipnet::IpNet, String> {
    policy::parse_net(s).ok_or_else(|| format!("`{s}` is not an address or CIDR range"))
}

/// The clap command (completions, man page).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Runs aws-keyaudit with `args`.
pub fn main_impl(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    shared::cli::main("aws-keyaudit", command, args, shared::cli::Runtime::MultiThread, run)
}

fn global(cli: &Cli, profile: Option<String>) -> GlobalArgs {
    GlobalArgs { profile, output: None, common: cli.common.clone() }
}

struct Audited {
    profile: Option<String>,
    account: Option<data::Account>,
    error: Option<Error>,
    calls: std::collections::BTreeMap<String, u64>,
}

/// The account the credentials belong to (GetCallerIdentity, which needs no permission).
async fn account_of(
    settings: &shared::client::ClientSettings,
    creds: &shared::secret::Credentials,
) -> Result<String, Error> {
    let who = settings
        .sts(Some(creds))
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| credentials::sdk_error("sts:GetCallerIdentity", None, None, e))?;
    Ok(who.account().unwrap_or_default().to_string())
}

/// Settings and credentials of a profile (or the default chain).
async fn resolve(
    cli: &Cli,
    app: &App,
    profile: &Option<String>,
    gate: &Gate,
) -> Result<(shared::client::ClientSettings, shared::secret::Credentials), Error> {
    let g = global(cli, profile.clone());
    let sel = match profile {
        Some(p) => Selection { name: p.clone(), explicit: true, from_env: false },
        None => app.selection.clone(),
    };
    let mut settings = App::settings_for(&app.env, &app.files, &sel.name, &g)?;
    // Standard retries (exponential backoff with full jitter), more of them: the SDK's adaptive
    // mode collapses its client-side rate after a few throttles (minutes for a few dozen calls).
    settings.max_attempts = settings.max_attempts.max(8);
    let settings = settings.with_gate(gate.for_account());
    let ctx = app.context(&settings, None);
    let resolved = credentials::resolve(&ctx, &sel).await?;
    Ok((settings, resolved.credentials))
}

async fn audit_one(cli: &Cli, app: &App, profile: Option<String>, gate: &Gate) -> Audited {
    match resolve(cli, app, &profile, gate).await {
        Ok((settings, creds)) => audit_with(cli, app, profile, settings, creds).await,
        Err(e) => Audited { profile, account: None, error: Some(e), calls: Default::default() },
    }
}

/// Every account of the organisation: the caller's own with its credentials, the others through
/// `role`.
async fn audit_org(cli: &Cli, app: &App, role: &str, gate: &Gate) -> Result<Vec<Audited>, Error> {
    let profile = cli.profiles.first().cloned();
    let (settings, creds) = resolve(cli, app, &profile, gate).await?;
    let my_account = account_of(&settings, &creds).await?;
    let org = settings.organizations(&creds);
    let mut ids = Vec::new();
    let mut pages = org.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            credentials::sdk_error(
                "organizations:ListAccounts",
                None,
                Some("aws-keyaudit --org-role ROLE --profile MANAGEMENT_ACCOUNT_PROFILE".into()),
                e,
            )
        })?;
        for a in page.accounts() {
            if a.status().is_none_or(|s| s.as_str() == "ACTIVE")
                && let Some(id) = a.id()
            {
                ids.push(id.to_string());
            }
        }
    }
    let jobs = ids.into_iter().map(|id| {
        // Each account its own pace (a throttled one slows only itself), one cap for all.
        let (settings, creds, me) = (settings.with_gate(gate.for_account()), creds.clone(), my_account.clone());
        async move {
            if id == me {
                return audit_with(cli, app, Some(format!("{id} (caller)")), settings, creds).await;
            }
            let label = Some(format!("{id} (via {role})"));
            let arn = format!("arn:aws:iam::{id}:role/{role}");
            match settings.sts(Some(&creds)).assume_role().role_arn(&arn).role_session_name("aws-keyaudit").send().await
            {
                Ok(out) => match out.credentials() {
                    Some(c) => {
                        let creds = shared::secret::Credentials::new(
                            c.access_key_id(),
                            c.secret_access_key(),
                            Some(c.session_token().to_string()),
                        );
                        audit_with(cli, app, label, settings, creds).await
                    }
                    None => Audited {
                        profile: label,
                        account: None,
                        error: Some(Error::usage("AssumeRole returned no credentials", None)),
                        calls: Default::default(),
                    },
                },
                Err(e) => Audited {
                    profile: label,
                    account: None,
                    error: Some(credentials::sdk_error("sts:AssumeRole", Some(&arn), None, e)),
                    calls: Default::default(),
                },
            }
        }
    });
    let mut audited = run_jobs(cli, app, jobs).await;
    // The organisation's own calls (the caller's identity, ListAccounts) count once.
    if let Some(first) = audited.first_mut() {
        for (k, v) in settings.calls.counts() {
            *first.calls.entry(k).or_default() += v;
        }
    }
    Ok(audited)
}

/// Runs the per-account audits `--concurrency` at a time. Unordered, so a slow or throttled
/// account never holds back the others, then put back in input order so the output is the same
/// whatever finished first; a progress bar on a terminal (accounts done, findings so far).
async fn run_jobs(
    cli: &Cli,
    app: &App,
    jobs: impl Iterator<Item = impl std::future::Future<Output = Audited>>,
) -> Vec<Audited> {
    let jobs: Vec<_> = jobs.collect();
    let bar = progress(cli, jobs.len() > 1, jobs.len() as u64, "auditing", "accounts");
    let (settings, now) = (check_settings(cli), app.clock.now());
    let mut found = 0usize;
    let mut done: Vec<(usize, Audited)> =
        futures_util::stream::iter(jobs.into_iter().enumerate().map(|(i, job)| async move { (i, job.await) }))
            .buffer_unordered(cli.concurrency.max(1))
            .inspect(|(_, a)| {
                if !bar.is_hidden() {
                    found += a.account.as_ref().map_or(0, |acct| checks::run(acct, &settings, now).len());
                    bar.set_message(format!("auditing ({found} findings so far)"));
                }
                bar.inc(1);
            })
            .collect()
            .await;
    bar.finish_and_clear();
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, a)| a).collect()
}

/// A progress bar on a terminal (hidden when `visible` is false, with `-q`, or off a TTY).
fn progress(cli: &Cli, visible: bool, len: u64, msg: &'static str, unit: &str) -> indicatif::ProgressBar {
    if !visible || cli.common.quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!("{{msg}} [{{bar:30}}] {{pos}}/{{len}} {unit}"))
    {
        b.set_style(style.progress_chars("=> "));
    }
    b.set_message(msg);
    b
}

/// What `--usage` (and restrict's dry run) reads.
fn usage_options(cli: &Cli) -> usage::Options {
    usage::Options { days: cli.days, rate: usage::LOOKUP_RATE, max_events: cli.usage_max_events }
}

async fn audit_with(
    cli: &Cli,
    app: &App,
    profile: Option<String>,
    settings: shared::client::ClientSettings,
    creds: shared::secret::Credentials,
) -> Audited {
    let mut calls = Default::default();
    let result = async {
        let account = account_of(&settings, &creds).await?;
        let iam = settings.iam(&creds);
        let data = data::collect(&iam, &account, 8).await;
        calls = settings.calls.counts();
        let mut data = data?;
        if cli.local {
            local_keys(app, &iam, &mut data).await;
        }
        if cli.usage {
            let targets: Vec<usage::Target> = data
                .users
                .iter()
                .flat_map(|u| u.keys.iter())
                .filter(|k| k.state == data::KeyState::Active)
                .map(|k| usage::Target::new(&k.id, k.last_region.as_deref(), &cli.usage_regions))
                .collect();
            // One account: its own bar; many: the accounts' bar is already showing.
            let one = cli.profiles.len() <= 1 && !cli.all_profiles && cli.org_role.is_none();
            let bar = progress(cli, one, 0, "reading CloudTrail", "key lookups");
            data.usage = usage::collect(&settings, &creds, &targets, &usage_options(cli), app.clock.now(), &bar).await;
            bar.finish_and_clear();
            calls = settings.calls.counts();
            if let Some(e) = data.usage.values().find_map(|u| u.error.as_ref()) {
                data.notes.push(format!("key usage was not (fully) read: {e}"));
            }
        }
        Ok::<_, Error>(data)
    }
    .await;
    match result {
        Ok(a) => Audited { profile, account: Some(a), error: None, calls },
        Err(e) => Audited { profile, account: None, error: Some(e), calls },
    }
}

/// A long-lived key found on this machine: id, where, the profile using it, the store backend.
struct LocalKey {
    id: String,
    place: String,
    profile: Option<String>,
    stored: Option<String>,
    created: Option<time::OffsetDateTime>,
}

/// Long-lived keys on this machine: the files (plaintext), the environment, and the key store
/// (`aws-assume keys`, from its index: nothing is unlocked), each looked up in the account.
async fn local_keys(app: &App, iam: &aws_sdk_iam::Client, acct: &mut data::Account) {
    let mut found: Vec<LocalKey> = Vec::new();
    // Static keys in either file: the AWS CLI reads aws_access_key_id from ~/.aws/config too.
    for (doc, path) in
        [(&app.files.credentials, &app.files.credentials_path), (&app.files.config, &app.files.config_path)]
    {
        let Some(doc) = doc else { continue };
        for s in doc.sections() {
            for (k, v, _) in doc.properties(s.body) {
                if k == "aws_access_key_id" && v.starts_with("AKIA") && !found.iter().any(|f| f.id == v) {
                    let profile = s.name.strip_prefix("profile ").unwrap_or(&s.name).trim().to_string();
                    found.push(LocalKey {
                        id: v,
                        place: format!("{} [{}]", path.display(), s.name),
                        profile: Some(profile),
                        stored: None,
                        created: None,
                    });
                }
            }
        }
    }
    if let Some(id) = app.env.get("AWS_ACCESS_KEY_ID").filter(|k| k.starts_with("AKIA")) {
        found.push(LocalKey {
            id: id.to_string(),
            place: "the environment (AWS_ACCESS_KEY_ID)".into(),
            profile: None,
            stored: None,
            created: None,
        });
    }
    match shared::keystore::Index::load(&app.env) {
        Ok(index) => found.extend(index.keys.into_iter().map(|r| LocalKey {
            place: format!("the key store ({}) [{}]", r.backend.as_str(), r.profile),
            created: r.created.as_deref().and_then(shared::cache::parse_timestamp),
            id: r.access_key_id,
            profile: Some(r.profile),
            stored: Some(r.backend.as_str().to_string()),
        })),
        Err(e) => acct.notes.push(format!("the key store's index could not be read: {e}")),
    }
    for k in found {
        let user = iam.get_access_key_last_used().access_key_id(&k.id).send().await.ok();
        let name = user.as_ref().and_then(|u| u.user_name().map(str::to_string));
        let last = user
            .as_ref()
            .and_then(|u| u.access_key_last_used())
            .and_then(|l| l.last_used_date())
            .and_then(|d| time::OffsetDateTime::from_unix_timestamp(d.secs()).ok());
        let created = match &name {
            Some(n) => iam.list_access_keys().user_name(n).send().await.ok().and_then(|o| {
                o.access_key_metadata()
                    .iter()
                    .find(|m| m.access_key_id() == Some(k.id.as_str()))
                    .and_then(|m| m.create_date().map(|d| d.secs()))
                    .and_then(|c| time::OffsetDateTime::from_unix_timestamp(c).ok())
            }),
            None => None,
        };
        acct.users.push(data::User {
            name: format!("(local) {}", name.clone().unwrap_or_else(|| "unknown user".into())),
            arn: k.place.clone(),
            keys: vec![data::Key {
                id: k.id.clone(),
                state: data::KeyState::Local,
                created: created.or(k.created).unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
                last_used: last,
                last_service: None,
                last_region: None,
                stored: k.stored,
                profile: k.profile,
            }],
            ..data::User::default()
        });
    }
}

/// What an audit found, before it is rendered.
struct Outcome {
    now: time::OffsetDateTime,
    findings: Vec<checks::Finding>,
    /// One JSON object per account: its counts and report age, or its error.
    accounts: Vec<serde_json::Value>,
    expired: Vec<checks::Suppression>,
    calls: std::collections::BTreeMap<String, u64>,
    /// `--usage`: every key looked up (account, user, key and its usage).
    usage: Vec<usage::KeyUsage>,
    /// Accounts that could not be audited, of how many.
    failures: usize,
    targets: usize,
    first_error_code: Option<u8>,
}

async fn run(cli: Cli) -> Result<ExitCode, Error> {
    let suppressions = match &cli.ignore_file {
        Some(p) => checks::read_ignore_file(p)
            .map_err(|e| Error::usage(e, Some("see README: aws-keyaudit suppressions".into())))?,
        None => Vec::new(),
    };
    let app = App::without_profile(&global(&cli, None), shared::os::Env::from_process())?;
    app.files.check_hiding_lines()?;
    if let Some(Cmd::Restrict(r)) = &cli.cmd {
        return restrict::run(&cli, &app, r).await;
    }
    let audited = gather(&cli, &app).await?;
    let outcome = evaluate(&cli, &audited, &suppressions, app.clock.now());
    if !cli.common.quiet {
        warn(&outcome);
    }
    render(&cli, &outcome).map_err(|e| Error::Io { context: "writing the output".into(), source: e })?;
    if cli.common.verbose > 0 {
        log_calls(&outcome.calls);
    }
    Ok(exit_code(&cli, &outcome))
}

/// Gather: the data of every account asked for (profiles, all profiles, or the organisation).
async fn gather(cli: &Cli, app: &App) -> Result<Vec<Audited>, Error> {
    let gate = Gate::new(cli.max_in_flight);
    if let Some(role) = &cli.org_role {
        return audit_org(cli, app, role, &gate).await;
    }
    let targets: Vec<Option<String>> = if cli.all_profiles {
        app.files.profile_names().into_iter().map(Some).collect()
    } else if cli.profiles.is_empty() {
        vec![None]
    } else {
        cli.profiles.iter().cloned().map(Some).collect()
    };
    Ok(run_jobs(cli, app, targets.into_iter().map(|p| audit_one(cli, app, p, &gate))).await)
}

/// The checks' thresholds from the flags.
fn check_settings(cli: &Cli) -> checks::Settings {
    checks::Settings {
        max_age_days: cli.max_age_days,
        max_unused_days: cli.max_unused_days,
        grace_days: cli.grace_days,
        owner_tag: cli.owner_tag.clone(),
        policy: policy::Options {
            max_addresses: cli.max_allowed_addresses,
            allowed_cidrs: cli.allowed_cidrs.clone(),
            ..policy::Options::default()
        },
    }
}

/// Evaluate: every check over every account (each account once), then the suppressions.
fn evaluate(
    cli: &Cli,
    audited: &[Audited],
    suppressions: &[checks::Suppression],
    now: time::OffsetDateTime,
) -> Outcome {
    let settings = check_settings(cli);
    let mut o = Outcome {
        now,
        findings: Vec::new(),
        accounts: Vec::new(),
        expired: Vec::new(),
        calls: Default::default(),
        usage: Vec::new(),
        failures: 0,
        targets: audited.len(),
        first_error_code: None,
    };
    let mut seen = std::collections::BTreeSet::new();
    for a in audited {
        for (k, v) in &a.calls {
            *o.calls.entry(k.clone()).or_default() += v;
        }
        match (&a.account, &a.error) {
            (Some(acct), _) if seen.insert(acct.id.clone()) => {
                let mut found = checks::run(acct, &settings, now);
                if cli.usage {
                    attach_usage(cli, acct, &mut found, &mut o.usage);
                }
                o.findings.extend(found);
                o.accounts.push(account_summary(acct, a.profile.as_deref(), now));
            }
            (None, Some(e)) => {
                o.failures += 1;
                o.first_error_code.get_or_insert(e.exit_code());
                let hint = shared::error::Hint::hint(e).map(|h| format!(" (hint: {h})")).unwrap_or_default();
                o.accounts
                    .push(json!({"profile": a.profile, "error": format!("{e}{hint}"), "exit_code": e.exit_code()}));
                if !cli.common.quiet {
                    eprintln!(
                        "aws-keyaudit: error: {}: {}{}",
                        a.profile.as_deref().unwrap_or("(default credentials)"),
                        shared::text::clean(&e.to_string()),
                        shared::text::clean(&hint)
                    );
                }
            }
            _ => {}
        }
    }
    o.expired = checks::suppress(&mut o.findings, suppressions, now);
    o
}

/// `--usage`: each finding gets its key's usage (a user-level one: the user's keys together),
/// and every key looked up is listed, with or without findings.
fn attach_usage(cli: &Cli, acct: &data::Account, found: &mut [checks::Finding], all: &mut Vec<usage::KeyUsage>) {
    for f in found.iter_mut() {
        f.usage = match &f.key {
            Some(k) => acct.usage.get(k).cloned(),
            None => acct
                .users
                .iter()
                .find(|u| u.name == f.user)
                .and_then(|u| usage::Usage::merged(cli.days, u.keys.iter().filter_map(|k| acct.usage.get(&k.id)))),
        };
    }
    for u in &acct.users {
        for k in &u.keys {
            if let Some(usage) = acct.usage.get(&k.id) {
                all.push(usage::KeyUsage {
                    account: acct.id.clone(),
                    user: u.name.clone(),
                    key: k.id.clone(),
                    usage: usage.clone(),
                });
            }
        }
    }
}

fn account_summary(acct: &data::Account, profile: Option<&str>, now: time::OffsetDateTime) -> serde_json::Value {
    json!({
        "id": acct.id,
        "profile": profile,
        "users": acct.users.iter().filter(|u| !u.name.starts_with("(local)")).count(),
        "keys": acct.users.iter().map(|u| u.keys.iter().filter(|k| k.state != data::KeyState::Local).count()).sum::<usize>(),
        "credential_report_generated": acct.report_generated.map(shared::cache::format_z),
        "credential_report_age_hours": acct.report_generated.map(|g| ((now - g).whole_minutes() as f64 / 60.0 * 10.0).round() / 10.0),
        "service_credentials": acct.users.iter().map(|u| u.service_credentials.len()).sum::<usize>(),
        "notes": acct.notes,
    })
}

/// Expired suppressions, old credential reports and what could not be looked at, on stderr.
fn warn(o: &Outcome) {
    for a in &o.accounts {
        for n in a["notes"].as_array().into_iter().flatten() {
            eprintln!(
                "aws-keyaudit: warning: {}: {}",
                a["id"].as_str().unwrap_or("?"),
                shared::text::clean(n.as_str().unwrap_or_default())
            );
        }
    }
    for s in &o.expired {
        eprintln!(
            "aws-keyaudit: warning: a suppression expired on {} and no longer applies: {}",
            shared::text::clean(s.expires.as_deref().unwrap_or("?")),
            shared::text::clean(&s.reason)
        );
    }
    for a in &o.accounts {
        if let Some(h) = a["credential_report_age_hours"].as_f64().filter(|h| *h >= 1.0) {
            eprintln!(
                "aws-keyaudit: note: the credential report of {} is {h} hours old (AWS regenerates it at most every 4 hours)",
                a["id"].as_str().unwrap_or("?")
            );
        }
    }
}

/// Render: the documents (JSON, SARIF) and the findings through the shared writers.
fn render(cli: &Cli, o: &Outcome) -> std::io::Result<()> {
    let format = cli.output.unwrap_or(if std::io::stdout().is_terminal() { Format::Table } else { Format::Json });
    let failing: Vec<&checks::Finding> = o.findings.iter().filter(|f| f.status == Status::Fail).collect();
    let usage = cli.usage.then_some(o.usage.as_slice());
    match format {
        Format::Table => output::print_text(&report::table(&o.findings, usage)),
        Format::Text => output::render(
            output::Style::Text,
            &output::Rows::new(&report::columns(cli.usage), report::rows(&o.findings, cli.usage), &failing),
        ),
        Format::Csv => output::print_text(&report::csv(&o.findings, cli.usage).map_err(std::io::Error::other)?),
        Format::Sarif => output::print_json(&report::sarif(&o.findings, shared::cli::VERSION)),
        Format::Markdown => output::print_text(&report::markdown(&o.findings, &o.accounts, usage)),
        Format::Json => output::print_json(&{
            let mut doc = json!({
            "report": {"generated_at": shared::cache::format_z(o.now), "tool": format!("aws-keyaudit {}", shared::cli::VERSION), "accounts": o.accounts,
                "settings": {"max_age_days": cli.max_age_days, "max_unused_days": cli.max_unused_days, "grace_days": cli.grace_days, "owner_tag": cli.owner_tag, "max_allowed_addresses": cli.max_allowed_addresses.to_string()}},
            "summary": report::summary(&o.findings),
            "findings": o.findings,
            "expired_suppressions": o.expired,
            "calls": o.calls,
            });
            if let Some(u) = usage {
                doc["usage"] = json!(u);
            }
            doc
        }),
    }
}

fn log_calls(calls: &std::collections::BTreeMap<String, u64>) {
    let total: u64 = calls.values().sum();
    if total == 0 {
        eprintln!("aws-keyaudit: no AWS calls were made");
    } else {
        eprintln!(
            "aws-keyaudit: {total} AWS call{}: {}",
            if total == 1 { "" } else { "s" },
            calls.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
        );
    }
}

/// Every account failed: its error's code; findings at `--fail-on`: 1; some failed: 4.
fn exit_code(cli: &Cli, o: &Outcome) -> ExitCode {
    if o.failures > 0 && o.failures == o.targets {
        return ExitCode::from(o.first_error_code.unwrap_or(exit::SERVICE));
    }
    let verdict =
        cli.fail_on.is_some_and(|level| o.findings.iter().any(|f| f.status == Status::Fail && f.severity >= level));
    if verdict {
        ExitCode::from(exit::VERDICT)
    } else if o.failures > 0 {
        ExitCode::from(exit::SERVICE)
    } else {
        ExitCode::SUCCESS
    }
}
