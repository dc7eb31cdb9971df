//! `aws-whoami`: who am I, in which account, through which profile and credential source, until
//! when. GetCallerIdentity and ListAccountAliases run in parallel; `--all-profiles` checks every
//! profile concurrently and never prompts.

mod identity;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use serde::Serialize;
use shared::app::App;
use shared::cli::GlobalArgs;
use shared::client::ClientSettings;
use shared::credentials::{self, Resolved, Selection};
use shared::env_vars;
use shared::error::{Error, exit};
use shared::output::{self, Format};

pub use identity::{Identity, parse_arn};

/// Who am I, in which account, through which profile and credential source, until when.
#[derive(Debug, Parser)]
#[command(name = "aws-whoami", version = shared::cli::VERSION, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    /// Skip the account alias lookup (also AWS_WHOAMI_DISABLE_ACCOUNT_ALIAS=true).
    #[arg(long)]
    no_alias: bool,
    /// Check every profile of the config concurrently, one row each; never prompts.
    #[arg(long, conflicts_with = "profile")]
    all_profiles: bool,
    /// Show how the identity would be reached, with no call made: the selection, each step of
    /// the chain with the file and line of its settings, the caches and their expiry, and the
    /// error a broken profile gives. Table for people, JSON for scripts.
    #[arg(long, conflicts_with = "all_profiles")]
    explain: bool,
    /// How many profiles to check at once with --all-profiles.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
}

/// The clap command (completions, man page).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Runs aws-whoami with `args`.
pub fn main_impl(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    shared::cli::main("aws-whoami", command, args, shared::cli::Runtime::CurrentThread, run)
}

/// Whether to look up aliases for this identity: `--no-alias`, or AWS_WHOAMI_DISABLE_ACCOUNT_ALIAS
/// as `true`/`1`, or a comma list matched (as the Python aws-whoami does) against the account
/// number's start or end, the principal name or ARN, or the role session name.
enum AliasPolicy {
    Always,
    Never,
    UnlessMatches(Vec<String>),
}

fn alias_policy(cli: &Cli, app: &App) -> AliasPolicy {
    if cli.no_alias {
        return AliasPolicy::Never;
    }
    match app.env.get(env_vars::AWS_WHOAMI_DISABLE_ACCOUNT_ALIAS) {
        None => AliasPolicy::Always,
        Some(v) if matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes") => AliasPolicy::Never,
        Some(v) if matches!(v.to_ascii_lowercase().as_str(), "false" | "0" | "no") => AliasPolicy::Always,
        Some(v) => {
            AliasPolicy::UnlessMatches(v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
        }
    }
}

fn matches_any(list: &[String], id: &Identity) -> bool {
    list.iter().any(|m| {
        id.account.starts_with(m.as_str())
            || id.account.ends_with(m.as_str())
            || id.name.as_deref() == Some(m)
            || id.arn == *m
            || id.role_session_name.as_deref() == Some(m)
    })
}

async fn run(cli: Cli) -> Result<ExitCode, Error> {
    let app = App::new(&cli.global)?;
    let format = Format::resolve(cli.global.output);
    if cli.all_profiles {
        return all_profiles(&cli, &app, format).await;
    }
    if cli.explain {
        return explain(&app, format);
    }
    let policy = alias_policy(&cli, &app);
    let ctx = app.context(&app.settings, None);
    let resolved = credentials::resolve(&ctx, &app.selection).await?;
    let id = whoami(&app.settings, &resolved, &policy).await?;
    let report = Report::new(id, &resolved, app.settings.region.clone());
    let cells = report.table_rows(app.clock.now()).into_iter().map(|(k, v)| vec![k, v]).collect::<Vec<_>>();
    let rows = output::Rows::new(&[], cells, &report).with_text(vec![report.text_values()]);
    output::render(format.into(), &rows).map_err(|e| Error::Io { context: "writing the output".into(), source: e })?;
    Ok(ExitCode::SUCCESS)
}

/// GetCallerIdentity, with ListAccountAliases in parallel when the policy allows it up front.
async fn whoami(settings: &ClientSettings, resolved: &Resolved, policy: &AliasPolicy) -> Result<Identity, Error> {
    let sts = settings.sts(Some(&resolved.credentials));
    let gci = async {
        sts.get_caller_identity()
            .send()
            .await
            .map_err(|e| credentials::sdk_error("sts:GetCallerIdentity", resolved.arn.as_deref(), fix_for(resolved), e))
    };
    let (out, aliases) = match policy {
        AliasPolicy::Never => (gci.await?, None),
        AliasPolicy::Always => {
            let (out, aliases) = tokio::join!(gci, account_aliases(settings, resolved));
            (out?, Some(aliases))
        }
        AliasPolicy::UnlessMatches(_) => (gci.await?, None),
    };
    let mut id =
        parse_arn(out.arn().unwrap_or_default(), out.user_id().unwrap_or_default(), out.account().unwrap_or_default());
    id.aliases = match (policy, aliases) {
        (_, Some(a)) => a,
        (AliasPolicy::UnlessMatches(list), None) if !matches_any(list, &id) => {
            account_aliases(settings, resolved).await
        }
        _ => Vec::new(),
    };
    Ok(id)
}

/// What fixes rejected credentials of this source.
fn fix_for(r: &Resolved) -> Option<String> {
    Some(match (&r.source, &r.profile) {
        (credentials::Source::Env, _) => "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN".into(),
        (credentials::Source::SharedCredentials, Some(p)) => format!("aws configure --profile {p}"),
        (credentials::Source::AssumeRole, Some(p)) => format!("aws-assume {p} --refresh"),
        (credentials::Source::Sso, Some(p)) => format!("aws sso login --profile {p}"),
        _ => return None,
    })
}

/// ListAccountAliases; AccessDenied means "no alias" and any other failure is a warning.
async fn account_aliases(settings: &ClientSettings, resolved: &Resolved) -> Vec<String> {
    let iam = settings.iam(&resolved.credentials);
    let mut aliases = Vec::new();
    let mut pages = iam.list_account_aliases().into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => aliases.extend(p.account_aliases().iter().cloned()),
            Err(e) => {
                let code = e
                    .as_service_error()
                    .and_then(|s| aws_sdk_iam::error::ProvideErrorMetadata::code(s))
                    .unwrap_or_default()
                    .to_string();
                if !code.starts_with("AccessDenied") {
                    eprintln!(
                        "aws-whoami: warning: could not list account aliases: {}",
                        credentials::sdk_error("iam:ListAccountAliases", None, None, e)
                    );
                }
                break;
            }
        }
    }
    aliases
}

/// The JSON document (keys compatible with the Python aws-whoami where they overlap).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Report {
    account: String,
    account_aliases: Vec<String>,
    arn: String,
    user_id: String,
    #[serde(rename = "Type")]
    kind: String,
    name: Option<String>,
    role_session_name: Option<String>,
    #[serde(rename = "SSOPermissionSet")]
    sso_permission_set: Option<String>,
    region: Option<String>,
    profile: Option<String>,
    credential_source: &'static str,
    expiration: Option<String>,
}

impl Report {
    fn new(id: Identity, resolved: &Resolved, region: Option<String>) -> Self {
        Self {
            account: id.account,
            account_aliases: id.aliases,
            arn: id.arn,
            user_id: id.user_id,
            kind: id.kind.to_string(),
            name: id.name,
            role_session_name: id.role_session_name,
            sso_permission_set: id.sso_permission_set,
            region,
            profile: resolved.profile.clone(),
            credential_source: resolved.source.as_str(),
            expiration: resolved.credentials.expiration.map(shared::cache::format_z),
        }
    }

    fn text_values(&self) -> Vec<String> {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            self.account.clone(),
            self.account_aliases.join(","),
            self.arn.clone(),
            self.user_id.clone(),
            self.kind.clone(),
            o(&self.name),
            o(&self.role_session_name),
            o(&self.sso_permission_set),
            o(&self.region),
            o(&self.profile),
            self.credential_source.to_string(),
            o(&self.expiration),
        ]
    }

    fn table_rows(&self, now: time::OffsetDateTime) -> Vec<(String, String)> {
        let mut rows = vec![("Account".to_string(), self.account.clone())];
        for a in &self.account_aliases {
            rows.push(("Alias".into(), a.clone()));
        }
        let type_label = match (&self.sso_permission_set, self.kind.as_str()) {
            (Some(_), _) => "AWS SSO".to_string(),
            (None, k) => k.to_string(),
        };
        rows.push((
            "Identity".into(),
            format!(
                "{type_label}: {}",
                self.sso_permission_set.clone().or_else(|| self.name.clone()).unwrap_or_default()
            ),
        ));
        if let Some(s) = &self.role_session_name {
            rows.push(("RoleSessionName".into(), s.clone()));
        }
        rows.push(("Arn".into(), self.arn.clone()));
        rows.push(("UserId".into(), self.user_id.clone()));
        rows.push(("Region".into(), self.region.clone().unwrap_or_else(|| "(none)".into())));
        rows.push(("Profile".into(), self.profile.clone().unwrap_or_else(|| "(none)".into())));
        rows.push(("Source".into(), self.credential_source.to_string()));
        if let Some(e) = &self.expiration {
            let left =
                shared::cache::parse_timestamp(e).map(|t| t - now).map(output::human_duration).unwrap_or_default();
            rows.push(("Expires".into(), format!("{e} ({left})")));
        }
        rows
    }
}

/// One row of `--all-profiles`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProfileRow {
    profile: String,
    ok: bool,
    account: Option<String>,
    account_aliases: Vec<String>,
    arn: Option<String>,
    #[serde(rename = "Type")]
    kind: Option<String>,
    credential_source: Option<&'static str>,
    expiration: Option<String>,
    error: Option<String>,
    exit_code: u8,
}

async fn check_profile(cli: &Cli, app: &App, name: String) -> ProfileRow {
    let mut row = ProfileRow {
        profile: name.clone(),
        ok: false,
        account: None,
        account_aliases: vec![],
        arn: None,
        kind: None,
        credential_source: None,
        expiration: None,
        error: None,
        exit_code: exit::OK,
    };
    let result = async {
        let settings = App::settings_for(&app.env, &app.files, &name, &cli.global)?;
        let ctx = app.context(&settings, None);
        let sel = Selection { name: name.clone(), explicit: true, from_env: false };
        let resolved = credentials::resolve(&ctx, &sel).await?;
        let policy = if cli.no_alias { AliasPolicy::Never } else { alias_policy(cli, app) };
        let id = whoami(&settings, &resolved, &policy).await?;
        Ok::<_, Error>((id, resolved))
    }
    .await;
    match result {
        Ok((id, resolved)) => {
            row.ok = true;
            row.account = Some(id.account.clone());
            row.account_aliases = id.aliases.clone();
            row.arn = Some(id.arn.clone());
            row.kind = Some(id.kind.to_string());
            row.credential_source = Some(resolved.source.as_str());
            row.expiration = resolved.credentials.expiration.map(shared::cache::format_z);
        }
        Err(e) => {
            let hint = shared::error::Hint::hint(&e).map(|h| format!(" (hint: {h})")).unwrap_or_default();
            row.error = Some(format!("{e}{hint}"));
            row.exit_code = e.exit_code();
        }
    }
    row
}

async fn all_profiles(cli: &Cli, app: &App, format: Format) -> Result<ExitCode, Error> {
    use futures_util::StreamExt;
    let names = app.files.profile_names();
    if names.is_empty() {
        return Err(Error::usage(
            format!("no profiles in {} or {}", app.files.config_path.display(), app.files.credentials_path.display()),
            Some("run `aws configure` or `aws-sso-sync` to create profiles".into()),
        ));
    }
    let rows: Vec<ProfileRow> = futures_util::stream::iter(names.into_iter().map(|n| check_profile(cli, app, n)))
        .buffered(usize::from(cli.concurrency))
        .collect()
        .await;
    let failed = rows.iter().filter(|r| !r.ok).count();
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let text: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.profile.clone(),
                if r.ok { "ok".into() } else { "failed".into() },
                o(&r.account),
                o(&r.arn),
                r.credential_source.unwrap_or_default().into(),
                o(&r.expiration),
                o(&r.error),
            ]
        })
        .collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let account = match (&r.account, r.account_aliases.first()) {
                (Some(a), Some(alias)) => format!("{a} ({alias})"),
                (Some(a), None) => a.clone(),
                _ => String::new(),
            };
            vec![
                r.profile.clone(),
                account,
                o(&r.arn),
                r.credential_source.unwrap_or_default().to_string(),
                o(&r.expiration),
                r.error.clone().unwrap_or_else(|| "ok".into()),
            ]
        })
        .collect();
    let table = output::Rows::new(&["Profile", "Account", "Identity", "Source", "Expires", "Status"], cells, &rows)
        .with_text(text);
    output::render(format.into(), &table).map_err(|e| Error::Io { context: "writing the output".into(), source: e })?;
    if !cli.global.quiet && failed > 0 {
        eprintln!("aws-whoami: {failed} of {} profiles failed", rows.len());
    }
    Ok(if failed > 0 { ExitCode::from(exit::VERDICT) } else { ExitCode::SUCCESS })
}

/// `--explain`: the chain as the tools would run it, without running it. Exits with the error's
/// code when the profile cannot work (after printing why).
fn explain(app: &App, format: Format) -> Result<ExitCode, Error> {
    let ctx = app.context(&app.settings, None);
    let e = shared::credentials::explain::explain(&ctx, &app.selection);
    let keys = if e.selection.environment_keys { "environment keys present" } else { "no environment keys" };
    let mut cells = vec![vec![
        "selection".to_string(),
        e.selection.profile.clone(),
        e.source.to_string(),
        "chosen by".into(),
        e.selection.chosen_by.to_string(),
        keys.to_string(),
    ]];
    for (i, step) in e.steps.iter().enumerate() {
        let n = (i + 1).to_string();
        for st in &step.settings {
            cells.push(vec![
                n.clone(),
                step.profile.clone(),
                step.kind.into(),
                st.key.clone(),
                st.value.clone(),
                st.from.clone(),
            ]);
        }
        for c in &step.caches {
            let state = match (&c.expires, c.usable) {
                (Some(x), true) => format!("valid until {x}"),
                (Some(x), false) => format!("expired or expiring ({x})"),
                (None, _) => "none".into(),
            };
            cells.push(vec![
                n.clone(),
                step.profile.clone(),
                step.kind.into(),
                format!("cache: {}", c.what),
                c.path.clone(),
                state,
            ]);
        }
    }
    if let Some(err) = &e.error {
        cells.push(vec![
            "error".into(),
            String::new(),
            String::new(),
            err.message.clone(),
            String::new(),
            String::new(),
        ]);
        if let Some(h) = &err.hint {
            cells.push(vec!["hint".into(), String::new(), String::new(), h.clone(), String::new(), String::new()]);
        }
    }
    let rows = output::Rows::new(&["Step", "Profile", "Kind", "Setting", "Value", "From"], cells, &e);
    output::render(format.into(), &rows).map_err(|e| Error::Io { context: "writing the output".into(), source: e })?;
    Ok(e.error.map(|err| ExitCode::from(err.exit_code)).unwrap_or(ExitCode::SUCCESS))
}
