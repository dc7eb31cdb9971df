//! `aws-sso-sync`: log in to IAM Identity Center and keep every account and role as a profile in
//! `~/.aws/config`, for several sso-sessions, sharing the AWS CLI's login.

pub mod filters;
pub mod login;
pub mod pace;
pub mod portal;
pub mod profiles;
pub mod vanity;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, CommandFactory, Parser, Subcommand};
use serde_json::json;
use shared::app::App;
use shared::cache::{self, cli as cli_cache, sso as sso_cache};
use shared::cli::GlobalArgs;
use shared::config::doc::{self, Document};
use shared::config::write;
use shared::config::{AwsFiles, SsoSession};
use shared::credentials::sso::TokenFor;
use shared::error::{ConfigError, Error};
use shared::fsutil::Edited;
use shared::output::{self, Format};

/// Log in to IAM Identity Center and keep every account and role as a profile.
#[derive(Debug, Parser)]
#[command(name = "aws-sso-sync", version = shared::cli::VERSION, about, long_about = None, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    sync: SyncArgs,
    #[command(flatten)]
    global: GlobalArgs,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Write every account and role as a profile (the default command).
    Sync(SyncArgs),
    /// Log in (authorization code with PKCE, or device code) and cache the token as the AWS CLI does.
    Login(LoginArgs),
    /// Log out: revoke the token and remove cached tokens and SSO role credentials.
    Logout(Sessions),
    /// Sessions, token expiry, whether they can refresh.
    Status(Sessions),
    /// Print a shareable config (sso-sessions and their profiles; no tokens, nothing personal).
    Export(Sessions),
    /// Manage [sso-session] sections.
    #[command(subcommand)]
    Session(SessionCmd),
}

#[derive(Debug, Subcommand)]
enum SessionCmd {
    /// Add or update an [sso-session NAME] section (what `aws configure sso-session` asks for).
    Add {
        /// The session name.
        name: String,
        /// The portal's start URL: the AWS access portal URL, or a vanity URL that redirects to
        /// one (resolved as the AWS CLI does: one redirect at most, AWS-owned hosts only).
        #[arg(long)]
        start_url: String,
        /// The Identity Center region (optional when the portal's host names it).
        #[arg(long = "sso-region", alias = "region-of-sso", value_name = "REGION")]
        sso_region: Option<String>,
        /// Registration scopes, comma-separated.
        #[arg(long, default_value = "sso:account:access")]
        scopes: String,
        /// Write to this file instead of the AWS config file.
        #[arg(long, value_name = "PATH")]
        config_file: Option<std::path::PathBuf>,
    },
}

/// Which sessions.
#[derive(Debug, Clone, Default, Args)]
struct Sessions {
    /// The sso-session(s) (repeatable); default: every one.
    #[arg(long = "sso-session", value_name = "NAME", add = clap_complete::ArgValueCandidates::new(shared::cli::sso_session_candidates))]
    sessions: Vec<String>,
    /// Every sso-session.
    #[arg(long, conflicts_with = "sessions")]
    all: bool,
    /// Use this config file instead of the AWS config file.
    #[arg(long, value_name = "PATH")]
    config_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Args)]
struct LoginArgs {
    #[command(flatten)]
    which: Sessions,
    /// Log in for a legacy profile (sso_start_url without an sso-session).
    #[arg(long = "sso-profile", value_name = "PROFILE", conflicts_with_all = ["sessions", "all"], add = clap_complete::ArgValueCandidates::new(shared::cli::profile_candidates))]
    legacy_profile: Option<String>,
    /// Print the sign-in URL instead of opening a browser.
    #[arg(long)]
    no_browser: bool,
    /// Use the device-code flow (for hosts without a browser).
    #[arg(long)]
    use_device_code: bool,
    /// Log in even when a valid token is cached.
    #[arg(long)]
    force: bool,
    /// How long to wait for the sign-in, seconds (at most 3600).
    #[arg(long, default_value_t = 600, value_parser = |v: &str| shared::cli::parse_bounded(v, 1, 3600))]
    timeout: u64,
}

#[derive(Debug, Clone, Default, Args)]
struct SyncArgs {
    #[command(flatten)]
    which: Sessions,
    /// Profile name template; variables {account_id} {account_name} {role_name} {sso_session} {region} {email}.
    #[arg(long, default_value = "{account_name}.{role_name}")]
    template: String,
    /// `region` of the generated profiles (default: `--region`, else the session's sso_region).
    #[arg(long = "profile-region", value_name = "REGION")]
    profile_region: Option<String>,
    /// Also write `output = FORMAT` in each profile.
    #[arg(long = "profile-output", value_name = "FORMAT")]
    profile_output: Option<String>,
    /// Remove profiles of accounts and roles that are gone (only inside our blocks).
    #[arg(long)]
    prune: bool,
    /// With --prune: remove profiles even when the portal lists no accounts, or fewer than half
    /// of those the block has (otherwise such a listing is suspect and nothing is removed).
    #[arg(long, requires = "prune")]
    allow_empty: bool,
    /// Only accounts (id or name) matching this glob (repeatable; case-insensitive).
    #[arg(long = "include-account", value_name = "GLOB")]
    include_accounts: Vec<String>,
    /// Not the accounts (id or name) matching this glob (repeatable).
    #[arg(long = "exclude-account", value_name = "GLOB")]
    exclude_accounts: Vec<String>,
    /// Only roles (permission sets) matching this glob (repeatable).
    #[arg(long = "include-role", value_name = "GLOB")]
    include_roles: Vec<String>,
    /// Not the roles matching this glob (repeatable).
    #[arg(long = "exclude-role", value_name = "GLOB")]
    exclude_roles: Vec<String>,
    /// Store these filters in each [sso-session] synced, so a plain `aws-sso-sync` keeps them
    /// (with no filter flag: remove the stored ones).
    #[arg(long)]
    save_filters: bool,
    /// Print the change as a unified diff; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Accounts listed at once (1 to 256).
    #[arg(long, default_value_t = 32, value_parser = |v: &str| shared::cli::parse_bounded(v, 1, 256).map(|n| n as usize))]
    concurrency: usize,
    /// Attempts per portal request (throttling, 5xx, time-outs; 1 to 100).
    #[arg(long, default_value_t = 12, value_parser = |v: &str| shared::cli::parse_bounded(v, 1, 100).map(|n| n as u32))]
    attempts: u32,
    /// Read time-out per portal request, seconds.
    #[arg(long, default_value_t = 10.0, value_parser = shared::cli::parse_seconds)]
    request_timeout: f64,
}

/// The clap command (completions, man page).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Runs aws-sso-sync with `args`.
pub fn main_impl(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    shared::cli::main("aws-sso-sync", command, args, shared::cli::Runtime::MultiThread, run)
}

fn app_for(global: &GlobalArgs, config_file: Option<&std::path::Path>) -> Result<App, Error> {
    let mut env = shared::os::Env::from_process();
    if let Some(p) = config_file {
        env.set(shared::env_vars::AWS_CONFIG_FILE, &p.to_string_lossy());
    }
    App::without_profile(global, env)
}

async fn run(cli: Cli) -> Result<ExitCode, Error> {
    let global = cli.global.clone();
    match cli.cmd {
        None => sync(&global, &cli.sync).await,
        Some(Cmd::Sync(a)) => sync(&global, &a).await,
        Some(Cmd::Login(a)) => login(&global, &a).await,
        Some(Cmd::Logout(s)) => logout(&global, &s).await,
        Some(Cmd::Status(s)) => status(&global, &s),
        Some(Cmd::Export(s)) => export(&global, &s),
        Some(Cmd::Session(SessionCmd::Add { name, start_url, sso_region, scopes, config_file })) => {
            session_add(&global, &name, &start_url, sso_region.as_deref(), &scopes, config_file.as_deref()).await
        }
    }
}

/// The sessions asked for (all when none is named).
fn sessions(files: &AwsFiles, which: &Sessions) -> Result<Vec<SsoSession>, Error> {
    let names = if which.sessions.is_empty() { files.sso_session_names() } else { which.sessions.clone() };
    if names.is_empty() {
        return Err(Error::usage(
            format!("{} has no [sso-session] section", files.config_path.display()),
            Some("run `aws-sso-sync session add NAME --start-url URL --sso-region REGION`".into()),
        ));
    }
    names
        .iter()
        .map(|n| {
            files.sso_session(n)?.ok_or_else(|| {
                Error::usage(
                    format!(
                        "{} has no [sso-session {n}] section (it has: {})",
                        files.config_path.display(),
                        files.sso_session_names().join(", ")
                    ),
                    Some(format!("run `aws-sso-sync session add {n} --start-url URL --sso-region REGION`")),
                )
            })
        })
        .collect()
}

fn session_parts(s: &SsoSession, files: &AwsFiles) -> Result<(String, String, Vec<String>), Error> {
    let missing = |k: &str| -> Error {
        ConfigError::InvalidProfile {
            profile: format!("sso-session {}", s.name),
            path: files.config_path.clone(),
            line: Some(s.line),
            message: format!("has no {k}"),
            fix: Some(format!("run `aws-sso-sync session add {} --start-url URL --sso-region REGION`", s.name)),
        }
        .into()
    };
    let start = s.get("sso_start_url").ok_or_else(|| missing("sso_start_url"))?.to_string();
    let region = s.get("sso_region").ok_or_else(|| missing("sso_region"))?.to_string();
    let scopes = s
        .get("sso_registration_scopes")
        .map(|v| v.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect())
        .unwrap_or_else(|| vec!["sso:account:access".to_string()]);
    Ok((start, region, scopes))
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::Io { context, source: e }
}

async fn session_add(
    global: &GlobalArgs,
    name: &str,
    start_url: &str,
    region: Option<&str>,
    scopes: &str,
    config_file: Option<&std::path::Path>,
) -> Result<ExitCode, Error> {
    if !start_url.starts_with("https://") && !start_url.starts_with("http://") {
        return Err(Error::usage(
            format!("--start-url {} is not a URL", shared::text::clip(start_url)),
            Some("use the portal URL, e.g. https://d-1234567890.awsapps.com/start".into()),
        ));
    }
    doc::check_section_name("the sso-session name", name)
        .map_err(|e| Error::usage(e.to_string(), Some("use letters, digits, `-`, `_` or `.`".into())))?;
    if let Some(region) = region
        && !shared::config::valid_region(region)
    {
        return Err(Error::usage(
            format!("--sso-region `{}` is not a region name", shared::text::clip(region)),
            Some("use the Identity Center region, e.g. eu-west-1".into()),
        ));
    }
    let app = app_for(global, config_file)?;
    let resolved = vanity::resolve(start_url, region).await?;
    let region = resolved.region.as_str();
    if resolved.followed && !global.quiet {
        eprintln!(
            "aws-sso-sync: {} resolved to {} (region {region}); the config keeps the URL you gave, as the AWS CLI does",
            shared::text::clean(start_url),
            shared::text::clean(&resolved.url)
        );
    }
    let path = app.files.config_path.clone();
    let section = format!("sso-session {name}");
    let edited = write::edit(&path, &app.env, &format!("adding [{section}]"), |d| {
        d.set(&section, "sso_start_url", start_url)?;
        d.set(&section, "sso_region", region)?;
        d.set(&section, "sso_registration_scopes", scopes)?;
        Ok(())
    })?;
    if !global.quiet {
        match edited {
            Edited::Written { .. } => eprintln!("aws-sso-sync: wrote [sso-session {name}] to {}", path.display()),
            Edited::Unchanged => {
                eprintln!("aws-sso-sync: [sso-session {name}] is already up to date in {}", path.display())
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn login(global: &GlobalArgs, a: &LoginArgs) -> Result<ExitCode, Error> {
    let app = app_for(global, a.which.config_file.as_deref())?;
    let targets: Vec<login::Target> = if let Some(p) = &a.legacy_profile {
        let prof = app.files.profile(p)?;
        let (Some(start), Some(region)) = (prof.get("sso_start_url"), prof.get("sso_region")) else {
            return Err(Error::usage(
                format!("the profile `{p}` has no sso_start_url and sso_region"),
                Some("name an SSO profile, or use --sso-session".into()),
            ));
        };
        vec![login::Target {
            session: None,
            start_url: start.into(),
            region: region.into(),
            scopes: vec![],
            profile: Some(p.clone()),
            portal_url: None,
        }]
    } else {
        let all = sessions(&app.files, &a.which)?;
        if all.len() > 1 && a.which.sessions.is_empty() && !a.which.all {
            return Err(Error::usage(
                format!(
                    "there are {} sso-sessions ({})",
                    all.len(),
                    all.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
                Some("pick one with --sso-session NAME, or log in to all with --all".into()),
            ));
        }
        all.iter()
            .map(|s| {
                session_parts(s, &app.files).map(|(start_url, region, scopes)| login::Target {
                    session: Some(s.name.clone()),
                    start_url,
                    region,
                    scopes,
                    profile: None,
                    portal_url: None,
                })
            })
            .collect::<Result<_, _>>()?
    };
    let opts = login::Options {
        no_browser: a.no_browser,
        device_code: a.use_device_code,
        force: a.force,
        timeout: Duration::from_secs(a.timeout),
        quiet: global.quiet,
        clock: app.clock.clone(),
    };
    let mut outcomes = Vec::new();
    for t in &targets {
        let o = login::login(&app.env, &app.settings, t, &opts).await?;
        if !global.quiet {
            if o.already_logged_in {
                eprintln!(
                    "aws-sso-sync: {} is already logged in until {} (use --force to log in again)",
                    o.target, o.expires_at
                );
            } else {
                eprintln!("aws-sso-sync: logged in to {} until {}", o.target, o.expires_at);
            }
        }
        outcomes.push(o);
    }
    if global.output == Some(Format::Json) {
        output::print_json(&outcomes).map_err(io("writing the output".into()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One session's part of a sync.
struct Listed {
    session: String,
    region: String,
    accounts: usize,
    /// What the portal listed.
    listed: Vec<profiles::Assignment>,
    /// What the filters keep.
    assignments: Vec<profiles::Assignment>,
    /// The filters applied (for the summary), empty when none.
    filters: String,
    calls: u64,
    throttled: u64,
    seconds: f64,
}

/// The filters of a session: the command line's when it gives any (or asks to store or clear
/// them), else those stored in the `[sso-session]` section.
fn patterns_for(a: &SyncArgs, s: &SsoSession) -> filters::Patterns {
    let given = filters::Patterns {
        include_accounts: a.include_accounts.clone(),
        exclude_accounts: a.exclude_accounts.clone(),
        include_roles: a.include_roles.clone(),
        exclude_roles: a.exclude_roles.clone(),
    };
    if given.is_empty() && !a.save_filters { filters::Patterns::stored(s) } else { given }
}

async fn list_session(app: &App, s: &SsoSession, a: &SyncArgs, quiet: bool) -> Result<Listed, Error> {
    let (start_url, region, _) = session_parts(s, &app.files)?;
    let ctx = app.context(&app.settings, None);
    let t = TokenFor { session: Some(s.name.clone()), start_url, region: region.clone(), profile: None };
    let token = shared::credentials::sso::token(&ctx, &t).await?;
    let mut settings = app.settings.clone();
    settings.max_attempts = 1;
    settings.read_timeout = Duration::from_secs_f64(a.request_timeout.max(0.1));
    let portal =
        portal::Portal::new(settings.sso(&region), token.access_token.clone(), a.attempts.max(1), t.login_command());
    let bar = if !quiet && std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} accounts ({per_sec})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        b.set_message(format!("sso-session {}", s.name));
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let started = Instant::now();
    let (accounts, listed) = portal.assignments(a.concurrency, &bar).await?;
    bar.finish_and_clear();
    let patterns = patterns_for(a, s);
    let filter = filters::Filter::new(&patterns)
        .map_err(|e| Error::usage(e, Some("globs use `*`, `?` and `[...]`, e.g. --include-account 'prod-*'".into())))?;
    let assignments = listed.iter().filter(|x| filter.keeps(x)).cloned().collect();
    Ok(Listed {
        session: s.name.clone(),
        region,
        accounts,
        listed,
        assignments,
        filters: patterns.describe(),
        calls: portal.calls.load(std::sync::atomic::Ordering::Relaxed),
        throttled: portal.throttled(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn sync(global: &GlobalArgs, a: &SyncArgs) -> Result<ExitCode, Error> {
    profiles::check_template(&a.template)
        .map_err(|e| Error::usage(e, Some("see `aws-sso-sync sync --help` for the variables".into())))?;
    let app = app_for(global, a.which.config_file.as_deref())?;
    let chosen = sessions(&app.files, &a.which)?;
    for s in &chosen {
        filters::Filter::new(&patterns_for(a, s)).map_err(|e| {
            Error::usage(e, Some("globs use `*`, `?` and `[...]`, e.g. --include-account 'prod-*'".into()))
        })?;
    }
    // Everything is listed before the config is touched: a failure part way writes nothing.
    let mut listed = Vec::new();
    for s in &chosen {
        listed.push(list_session(&app, s, a, global.quiet).await?);
    }
    let path = app.files.config_path.clone();
    // Portal answers are data: a role or account that cannot be written as it is (a newline,
    // a control character, marker text) is skipped with a warning, never written.
    for l in &mut listed {
        l.assignments.retain(|x| match profiles::check_assignment(x) {
            Ok(()) => true,
            Err(e) => {
                if !global.quiet {
                    eprintln!("aws-sso-sync: warning: sso-session {}: skipped one role: {e}", l.session);
                }
                false
            }
        });
    }
    let mut report: Vec<(usize, profiles::Summary, bool)> = Vec::new();
    let mut apply = |doc: &mut Document| -> Result<(), Error> {
        report.clear();
        let newline = doc.newline().to_string();
        let hand_written = profiles::hand_written_profiles(doc);
        let mut taken: BTreeSet<String> = hand_written.clone();
        for (i, l) in listed.iter().enumerate() {
            // Portal calls always go to the session's own region, so `--region` names the profiles' region.
            let region = a.profile_region.clone().or_else(|| global.region.clone()).unwrap_or_else(|| l.region.clone());
            let (begin, end) = profiles::markers(&l.session);
            let existing = doc
                .block(&begin, &end)
                .map(|r| profiles::parse_block(&doc.lines()[r].iter().map(|x| x.raw()).collect::<String>()))
                .unwrap_or_default();
            let fresh = profiles::entries(
                &l.assignments,
                &a.template,
                &l.session,
                &region,
                a.profile_output.as_deref(),
                &taken,
            );
            let wanted: Vec<String> = profiles::entries(
                &l.assignments,
                &a.template,
                &l.session,
                &region,
                a.profile_output.as_deref(),
                &BTreeSet::new(),
            )
            .into_iter()
            .map(|e| e.name)
            .collect();
            // A short answer from the portal is suspect; a narrow filter is the user's choice.
            let suspect = a.prune && !a.allow_empty && profiles::suspect_shrink(&existing, &l.listed);
            let (entries, mut summary) = profiles::merge(&existing, fresh, a.prune && !suspect);
            summary.skipped_hand_written = wanted.into_iter().filter(|n| hand_written.contains(n)).collect();
            taken.extend(entries.iter().map(|e| e.name.clone()));
            let text = profiles::block_text(&l.session, &entries, &newline);
            debug_assert_eq!(profiles::parse_block(&text), entries, "a written block reads back to its entries");
            doc.replace_block(&begin, &end, &text);
            if a.save_filters {
                let section = format!("sso-session {}", l.session);
                for (key, value) in patterns_for(a, &chosen[i]).to_settings() {
                    if value.is_empty() {
                        doc.remove_key(&section, key);
                    } else {
                        doc.set(&section, key, &value)?;
                    }
                }
            }
            report.push((i, summary, suspect));
        }
        Ok(())
    };
    let changed = if a.dry_run {
        let (old, new) = write::preview(&path, &mut apply)?;
        let diff = similar::TextDiff::from_lines(&old, &new);
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(&path.display().to_string(), &format!("{} (after sync)", path.display()))
            .to_string();
        output::print_text(&shared::text::clean_keep_newlines(&text)).map_err(io("writing the output".into()))?;
        old != new
    } else {
        let purpose =
            format!("syncing sso-session {}", listed.iter().map(|l| l.session.as_str()).collect::<Vec<_>>().join(", "));
        matches!(write::edit(&path, &app.env, &purpose, &mut apply)?, Edited::Written { .. })
    };
    let report: Vec<(&Listed, profiles::Summary, bool)> =
        report.into_iter().map(|(i, s, suspect)| (&listed[i], s, suspect)).collect();
    let json_rows: Vec<serde_json::Value> = report
        .iter()
        .map(|(l, s, _)| {
            json!({"SsoSession": l.session, "Accounts": l.accounts, "Roles": l.assignments.len(), "Listed": l.listed.len(), "Filters": l.filters, "Added": s.added, "Updated": s.updated, "Removed": s.removed,
                   "Unchanged": s.unchanged, "SkippedHandWritten": s.skipped_hand_written, "Calls": l.calls, "Throttled": l.throttled, "Seconds": l.seconds})
        })
        .collect();
    if global.output == Some(Format::Json) && !a.dry_run {
        output::print_json(&json_rows).map_err(io("writing the output".into()))?;
    }
    if !global.quiet {
        for (l, s, suspect) in &report {
            if *suspect {
                eprintln!(
                    "aws-sso-sync: warning: sso-session {}: the portal listed {} account{} where the block has more than twice as many; nothing was removed (a shrunken listing is suspect)\nhint: if those accounts are really gone, run `aws-sso-sync --sso-session {} --prune --allow-empty`",
                    l.session,
                    l.accounts,
                    if l.accounts == 1 { "" } else { "s" },
                    l.session
                );
            }
            eprintln!(
                "aws-sso-sync: sso-session {}: {} added, {} updated, {} removed, {} unchanged ({} accounts, {} roles, {} calls{}, {:.1} s)",
                l.session,
                s.added.len(),
                s.updated.len(),
                s.removed.len(),
                s.unchanged,
                l.accounts,
                l.assignments.len(),
                l.calls,
                if l.throttled > 0 { format!(", {} throttled and retried", l.throttled) } else { String::new() },
                l.seconds
            );
            if !l.filters.is_empty() {
                eprintln!(
                    "aws-sso-sync: sso-session {}: filters {} keep {} of {} account roles",
                    l.session,
                    shared::text::clean(&l.filters),
                    l.assignments.len(),
                    l.listed.len()
                );
            }
            for n in &s.skipped_hand_written {
                eprintln!(
                    "aws-sso-sync: kept your own [profile {n}]; the generated one is named with its account id instead"
                );
            }
        }
        if a.dry_run {
            eprintln!("aws-sso-sync: dry run: {} was not written", path.display());
        } else if !changed {
            eprintln!("aws-sso-sync: {} is already up to date (not rewritten)", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn status(global: &GlobalArgs, which: &Sessions) -> Result<ExitCode, Error> {
    let app = app_for(global, which.config_file.as_deref())?;
    let now = app.clock.now();
    let mut rows = Vec::new();
    for s in sessions(&app.files, which)? {
        let (start, region, _) = session_parts(&s, &app.files)?;
        let token = sso_cache::read_token(&sso_cache::token_path(&cache::sso_cache_dir(&app.env), &s.name));
        let exp = token.as_ref().and_then(|t| t.expires());
        rows.push(json!({
            "SsoSession": s.name,
            "StartUrl": start,
            "Region": region,
            "LoggedIn": exp.is_some_and(|e| e > now),
            "ExpiresAt": exp.map(cache::format_z),
            "CanRefresh": token.as_ref().is_some_and(|t| t.refreshable(now)),
            "RegistrationExpiresAt": token.as_ref().and_then(|t| t.registration_expires_at.clone()),
        }));
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r["SsoSession"].as_str().unwrap_or_default().to_string(),
                r["StartUrl"].as_str().unwrap_or_default().to_string(),
                r["Region"].as_str().unwrap_or_default().to_string(),
                match (r["LoggedIn"].as_bool(), r["ExpiresAt"].as_str()) {
                    (Some(true), Some(e)) => format!("valid until {e}"),
                    (_, Some(e)) => format!("expired at {e}"),
                    _ => "not logged in".into(),
                },
                if r["CanRefresh"] == true { "yes".into() } else { "no".into() },
            ]
        })
        .collect();
    let table = output::Rows::new(&["sso-session", "Start URL", "Region", "Token", "Refresh"], cells, &rows);
    output::render(Format::resolve(global.output).into(), &table).map_err(io("writing the output".into()))?;
    Ok(ExitCode::SUCCESS)
}

async fn logout(global: &GlobalArgs, which: &Sessions) -> Result<ExitCode, Error> {
    let app = app_for(global, which.config_file.as_deref())?;
    let chosen = sessions(&app.files, which)?;
    let sso_dir = cache::sso_cache_dir(&app.env);
    let cli_dir = cache::cli_cache_dir(&app.env);
    let mut removed = 0;
    for s in &chosen {
        let (_, region, _) = session_parts(s, &app.files)?;
        let path = sso_cache::token_path(&sso_dir, &s.name);
        if let Some(t) = sso_cache::read_token(&path) {
            // Revoke at the portal; a failure there still removes the local token.
            let _ = app.settings.sso(&region).logout().access_token(t.access_token.expose()).send().await;
            std::fs::remove_file(&path).map_err(io(format!("removing {}", path.display())))?;
            removed += 1;
        }
        // Role credentials of every profile of this session.
        for name in app.files.profile_names() {
            if let Ok(p) = app.files.profile(&name)
                && p.get("sso_session") == Some(s.name.as_str())
                && let (Some(acct), Some(role)) = (p.get("sso_account_id"), p.get("sso_role_name"))
            {
                let f = cli_cache::sso_role_path(&cli_dir, acct, role, Some(&s.name), "");
                if std::fs::remove_file(&f).is_ok() {
                    removed += 1;
                }
            }
        }
    }
    if !global.quiet {
        eprintln!(
            "aws-sso-sync: logged out of {}; removed {removed} cached file{}",
            chosen.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
            if removed == 1 { "" } else { "s" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn export(global: &GlobalArgs, which: &Sessions) -> Result<ExitCode, Error> {
    let app = app_for(global, which.config_file.as_deref())?;
    let doc = app.files.config.clone().unwrap_or_default();
    let mut out = String::from(
        "# Shared AWS config: IAM Identity Center sessions and their profiles (from aws-sso-sync export).\n# Merge into ~/.aws/config, then run `aws-sso-sync login` and `aws-sso-sync` to refresh the profiles.\n\n",
    );
    for s in sessions(&app.files, which)? {
        let (start, region, scopes) = session_parts(&s, &app.files)?;
        out.push_str(&format!(
            "[sso-session {}]\nsso_start_url = {start}\nsso_region = {region}\nsso_registration_scopes = {}\n\n",
            s.name,
            scopes.join(",")
        ));
        let (begin, end) = profiles::markers(&s.name);
        if let Some(r) = doc.block(&begin, &end) {
            let entries = profiles::parse_block(&doc.lines()[r].iter().map(|l| l.raw()).collect::<String>());
            out.push_str(&profiles::block_text(&s.name, &entries, "\n"));
            out.push('\n');
        }
    }
    output::print_text(out.trim_end()).map_err(io("writing the output".into()))?;
    Ok(ExitCode::SUCCESS)
}
