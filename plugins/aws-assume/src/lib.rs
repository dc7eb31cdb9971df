//! `aws-assume`: role chaining with MFA, one prompt per session, and the credentials exported
//! every way people use them (shell exports, `-- CMD`, credential_process, JSON, .env).
//!
//! The chain, caches and MFA sessions live in `shared`; this crate adds the prompt, the output
//! formats, exec, the shell integration and the cache commands.

mod console;
pub mod keys;
pub mod login;
mod mfa;
pub mod pick;
pub mod server;
pub mod shells;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use serde_json::json;
use shared::app::App;
use shared::cache::{self, cli as cli_cache};
use shared::cli::GlobalArgs;
use shared::config::{Base, Hop, Plan};
use shared::credentials::{self, Resolved, Selection, assume};
use shared::error::{CredentialError, Error, exit};
use shared::output;

use shells::ExportFormat;

/// Assume roles (source_profile chains, MFA once per session) and export the credentials.
#[derive(Debug, Parser)]
#[command(name = "aws-assume", version = shared::cli::VERSION, about, long_about = None, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    /// The profile to assume (or --profile).
    #[arg(value_name = "PROFILE", add = clap_complete::ArgValueCandidates::new(shared::cli::profile_candidates))]
    target: Option<String>,
    #[command(flatten)]
    global: GlobalArgs,
    /// How to print the credentials (default from $SHELL: env, fish or powershell).
    #[arg(long, short = 'f', value_enum)]
    format: Option<ExportFormat>,
    /// Ignore cached role sessions and assume again.
    #[arg(long)]
    refresh: bool,
    /// The MFA code, instead of a prompt or `mfa_process`.
    #[arg(long, value_name = "CODE")]
    mfa_code: Option<String>,
    /// Lifetime of the MFA session (GetSessionToken) that serves every role, e.g. 12h, 3600.
    #[arg(long, value_name = "DURATION", default_value = "12h", value_parser = parse_duration)]
    mfa_session_duration: u64,
    /// Send the MFA code with each AssumeRole instead of opening one MFA session.
    #[arg(long)]
    no_mfa_session: bool,
    /// Session duration of the (last) role, e.g. 1h, 90m, 3600.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    duration: Option<u64>,
    /// Ad hoc: the role to assume, without a profile for it.
    #[arg(long, value_name = "ARN", conflicts_with = "target")]
    role_arn: Option<String>,
    /// Ad hoc: the profile whose credentials assume the role (default: the usual chain).
    #[arg(long, value_name = "PROFILE", requires = "role_arn", add = clap_complete::ArgValueCandidates::new(shared::cli::profile_candidates))]
    source_profile: Option<String>,
    /// Ad hoc: the MFA device.
    #[arg(long, value_name = "ARN", requires = "role_arn")]
    mfa_serial: Option<String>,
    /// Ad hoc: the external id.
    #[arg(long, value_name = "ID", requires = "role_arn")]
    external_id: Option<String>,
    /// Ad hoc: the role session name.
    #[arg(long, value_name = "NAME", requires = "role_arn")]
    role_session_name: Option<String>,
    /// Open the AWS console signed in with these credentials.
    #[arg(long)]
    console: bool,
    /// With --console: print the sign-in URL instead of opening a browser.
    #[arg(long, requires = "console")]
    print: bool,
    /// Start a subshell ($SHELL) with the credentials.
    #[arg(long)]
    shell: bool,
    /// With `-- CMD`: serve CMD refreshing credentials from a local endpoint (the container
    /// credentials protocol every SDK polls) instead of fixed keys, for anything that runs longer
    /// than a session lasts. No keys in CMD's environment; the endpoint ends with CMD.
    #[arg(long, requires = "command", conflicts_with_all = ["shell", "console"])]
    server: bool,
    /// Pick the profile in a fuzzy finder (also what a run with no profile does on a terminal).
    #[arg(long, conflicts_with_all = ["target", "role_arn", "list", "clear_cache", "profile_names"])]
    pick: bool,
    /// List every profile: kind, chain, MFA, cached session.
    #[arg(long, conflicts_with_all = ["target", "role_arn"])]
    list: bool,
    /// Remove cached sessions (of PROFILE, or all of them).
    #[arg(long)]
    clear_cache: bool,
    /// Print profile names, one per line (for shell completion).
    #[arg(long, hide = true)]
    profile_names: bool,
    /// Run this command with the credentials (after `--`); its exit status is ours.
    #[arg(last = true, value_name = "CMD")]
    command: Vec<OsString>,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Print the `assume` shell function: eval "$(aws-assume init zsh)".
    Init {
        /// bash, zsh, fish or powershell.
        shell: String,
    },
    /// Long-term keys out of ~/.aws/credentials: add, remove, list, rotate (OS keyring or an
    /// encrypted file).
    Keys(keys::KeysArgs),
    /// Sign in with your AWS console credentials (as `aws login` does): the profile gets
    /// `login_session` and short-lived credentials refreshed for up to 12 hours.
    Login(login::LoginArgs),
    /// Remove the profile's cached `aws login` session (or every one with --all).
    Logout(login::LogoutArgs),
}

/// The longest session AWS grants (GetSessionToken: 36 hours).
pub const MAX_DURATION_SECONDS: u64 = 129_600;

/// `3600`, `90m`, `12h`, `1h30m` → seconds, from 1 second to 36 hours (AWS's longest session);
/// anything larger is a usage error, never an overflow.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let shown = shared::text::clip(s);
    let bad = || format!("`{shown}` is not a duration (e.g. 3600, 90m, 12h)");
    let total = if let Ok(n) = s.parse::<u64>() {
        n
    } else {
        let mut total = 0u64;
        let mut num = String::new();
        for c in s.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let n: u64 = num.parse().map_err(|_| bad())?;
            num.clear();
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                _ => return Err(bad()),
            };
            total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(|| {
                format!("`{shown}` is too long: AWS sessions last at most 36h ({MAX_DURATION_SECONDS} seconds)")
            })?;
        }
        if !num.is_empty() {
            return Err(bad());
        }
        total
    };
    if total == 0 || total > MAX_DURATION_SECONDS {
        return Err(format!("`{shown}` is out of range: use 1s to 36h ({MAX_DURATION_SECONDS} seconds)"));
    }
    Ok(total)
}

/// The clap command (completions, man page).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Runs aws-assume with `args`.
pub fn main_impl(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    shared::cli::main("aws-assume", command, args, shared::cli::Runtime::CurrentThread, run)
}

fn io(context: &str) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Io { context: context.into(), source: e }
}

async fn run(mut cli: Cli) -> Result<ExitCode, Error> {
    match &cli.cmd {
        Some(Cmd::Keys(k)) => return keys::run(k, &cli.global).await,
        Some(Cmd::Login(l)) => return login::login(l, &cli.global).await,
        Some(Cmd::Logout(l)) => return login::logout(l, &cli.global).await,
        _ => {}
    }
    if let Some(Cmd::Init { shell }) = &cli.cmd {
        let script = shells::init_script(shell).ok_or_else(|| {
            Error::usage(
                format!("no shell integration for `{shell}`"),
                Some("use bash, zsh, fish or powershell".into()),
            )
        })?;
        output::print_text(&script).map_err(io("writing the output"))?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(code) = &cli.mfa_code
        && !mfa::valid_code(code)
    {
        return Err(Error::usage(
            "--mfa-code must be 6 digits",
            Some("pass the current code of your MFA device".into()),
        ));
    }
    if cli.target.is_some() {
        cli.global.profile = cli.target.take();
    }
    let app = App::new(&cli.global)?;
    if cli.profile_names {
        output::print_text(&app.files.profile_names().join("\n")).map_err(io("writing the output"))?;
        return Ok(ExitCode::SUCCESS);
    }
    if cli.list {
        return list(&cli, &app).await;
    }
    if cli.clear_cache {
        return clear_cache(&cli, &app);
    }
    // No profile named anywhere and a person at the terminal: let them pick (granted's `assume`).
    let unnamed = cli.global.profile.is_none() && !app.selection.from_env && cli.role_arn.is_none();
    let app = if cli.pick || (unnamed && std::io::stderr().is_terminal()) {
        match pick::pick(&app)? {
            Some(profile) => {
                cli.global.profile = Some(profile);
                App::new(&cli.global)?
            }
            None => return Ok(ExitCode::from(130)),
        }
    } else {
        app
    };
    let plan = plan(&cli, &app)?;
    let provider = mfa::Prompt::new(cli.mfa_code.clone(), &app.files, &plan.profile);
    let mut ctx = app.context(&app.settings, Some(&provider));
    ctx.mfa_session_seconds = (!cli.no_mfa_session).then_some(cli.mfa_session_duration);
    ctx.refresh = cli.refresh;
    ctx.quiet = cli.global.quiet;
    let resolved = credentials::run_plan(&ctx, &plan).await?;
    if cli.role_arn.is_none() {
        pick::remember(&app, &plan.profile);
    }
    let region = app.settings.region.clone();
    if cli.console {
        let url =
            console::signin_url(&app.env, &app.settings, &plan, &resolved, cli.duration, region.as_deref()).await?;
        if !cli.print && shared::os::open_browser(&app.env, &url) {
            if !cli.global.quiet {
                eprintln!("aws-assume: opened the AWS console for `{}` in your browser", plan.profile);
            }
        } else {
            output::print_text(&url).map_err(io("writing the output"))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if cli.server {
        return server::run(&ctx, &plan, &cli.command, region.as_deref()).await;
    }
    if !cli.command.is_empty() || cli.shell {
        return exec(&cli, &app, &plan, &resolved, region.as_deref());
    }
    let format = cli.format.unwrap_or_else(|| ExportFormat::from_shell(app.env.get("SHELL")));
    print_credentials(format, &plan, &resolved, region.as_deref(), &app).await?;
    if !cli.global.quiet && !matches!(format, ExportFormat::Process | ExportFormat::Json) {
        let until = resolved
            .credentials
            .expiration
            .map(|e| format!(" until {} ({})", cache::format_z(e), output::human_duration(e - app.clock.now())))
            .unwrap_or_default();
        eprintln!(
            "aws-assume: {}{until}",
            resolved.arn.clone().unwrap_or_else(|| format!("profile `{}`", plan.profile))
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The plan: the profile's, or an ad hoc role on top of --source-profile (or the default chain).
fn plan(cli: &Cli, app: &App) -> Result<Plan, Error> {
    let Some(role_arn) = &cli.role_arn else {
        let sel = &app.selection;
        let ctx = app.context(&app.settings, None);
        let mut plan = credentials::plan_for(&ctx, &Selection { explicit: true, ..sel.clone() })?
            .ok_or_else(|| CredentialError::NotFound { profile: Some(sel.name.clone()) })?;
        if let (Some(d), Some(last)) = (cli.duration, plan.hops.last_mut()) {
            last.duration_seconds = Some(d);
        }
        return Ok(plan);
    };
    let label = format!("--role-arn {role_arn}");
    Ok(Plan {
        profile: label.clone(),
        base: Base::Chain {
            source_profile: cli.source_profile.clone(),
            label: cli.source_profile.clone().unwrap_or_else(|| "default chain".into()),
        },
        hops: vec![Hop {
            profile: label,
            role_arn: role_arn.clone(),
            mfa_serial: cli.mfa_serial.clone(),
            external_id: cli.external_id.clone(),
            role_session_name: cli.role_session_name.clone(),
            duration_seconds: cli.duration,
            mfa_process: None,
        }],
    })
}

/// The exported variables: the credentials, their expiry, the region, and the prompt marker
/// (`AWS_ASSUME_PROFILE`, `AWS_ASSUME_EXPIRATION`: which profile this shell is in, and until when;
/// our own names, so no other tool's nesting guard, such as aws-vault's `AWS_VAULT`, misfires).
fn variables(plan: &Plan, resolved: &Resolved, region: Option<&str>) -> Vec<(&'static str, String)> {
    let c = &resolved.credentials;
    let mut v = vec![
        ("AWS_ACCESS_KEY_ID", c.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", c.secret_access_key.expose().to_string()),
    ];
    if let Some(t) = &c.session_token {
        v.push(("AWS_SESSION_TOKEN", t.expose().to_string()));
    }
    if let Some(e) = c.expiration {
        v.push(("AWS_CREDENTIAL_EXPIRATION", cache::format_z(e)));
    }
    v.push((shared::env_vars::AWS_ASSUME_PROFILE, plan.profile.clone()));
    if let Some(e) = c.expiration {
        v.push((shared::env_vars::AWS_ASSUME_EXPIRATION, cache::format_z(e)));
    }
    if let Some(r) = region {
        v.push(("AWS_REGION", r.to_string()));
        v.push(("AWS_DEFAULT_REGION", r.to_string()));
    }
    v
}

/// Variables that would make tools ignore the exported keys.
const UNSET: [&str; 3] = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN"];

async fn print_credentials(
    format: ExportFormat,
    plan: &Plan,
    resolved: &Resolved,
    region: Option<&str>,
    app: &App,
) -> Result<(), Error> {
    let c = &resolved.credentials;
    let text = match format {
        ExportFormat::Process => {
            let mut v =
                json!({"Version": 1, "AccessKeyId": c.access_key_id, "SecretAccessKey": c.secret_access_key.expose()});
            if let Some(t) = &c.session_token {
                v["SessionToken"] = json!(t.expose());
            }
            if let Some(e) = c.expiration {
                v["Expiration"] = json!(cache::format_z(e));
            }
            if let Some(a) = resolved.arn.as_deref().and_then(|a| a.split(':').nth(4)).or(c.account_id.as_deref()) {
                v["AccountId"] = json!(a);
            }
            serde_json::to_string(&v).expect("JSON")
        }
        ExportFormat::Json => {
            let arn = match &resolved.arn {
                Some(a) => Some(a.clone()),
                None => app
                    .settings
                    .sts(Some(c))
                    .get_caller_identity()
                    .send()
                    .await
                    .ok()
                    .and_then(|o| o.arn().map(str::to_string)),
            };
            serde_json::to_string_pretty(&json!({
                "AccessKeyId": c.access_key_id,
                "SecretAccessKey": c.secret_access_key.expose(),
                "SessionToken": c.session_token.as_ref().map(|t| t.expose()),
                "Expiration": c.expiration.map(cache::format_z),
                "Profile": plan.profile,
                "Arn": arn,
            }))
            .expect("JSON")
        }
        f => shells::render(f, &variables(plan, resolved, region), &UNSET)
            .map_err(|e| Error::usage(e, Some("pick another --format (powershell, env, json)".into())))?,
    };
    output::print_text(&text).map_err(io("writing the output"))
}

/// Replaces this process with CMD (or a subshell): its exit status and signals are then
/// CMD's own, with nothing in between.
fn exec(cli: &Cli, app: &App, plan: &Plan, resolved: &Resolved, region: Option<&str>) -> Result<ExitCode, Error> {
    let (program, args): (OsString, Vec<OsString>) = if cli.command.is_empty() {
        (app.env.get("SHELL").unwrap_or("/bin/sh").into(), vec![])
    } else {
        (cli.command[0].clone(), cli.command[1..].to_vec())
    };
    let mut cmd = std::process::Command::new(&program);
    cmd.args(&args);
    for name in UNSET {
        cmd.env_remove(name);
    }
    cmd.env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_CREDENTIAL_EXPIRATION")
        .env_remove(shared::env_vars::AWS_ASSUME_EXPIRATION);
    for (k, v) in variables(plan, resolved, region) {
        cmd.env(k, v);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let e = cmd.exec();
        let code = if e.kind() == std::io::ErrorKind::NotFound { 127 } else { 126 };
        eprintln!("aws-assume: error: cannot run {}: {e}", program.to_string_lossy());
        Ok(ExitCode::from(code))
    }
    #[cfg(not(unix))]
    {
        let status = cmd.status().map_err(io("running the command"))?;
        Ok(ExitCode::from(status.code().unwrap_or(1) as u8))
    }
}

/// The cache files a plan's sessions live in.
pub(crate) fn cache_files(ctx: &credentials::Context<'_>, plan: &Plan) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = plan.hops.iter().map(|h| assume::cache_path(ctx, h)).collect();
    match &plan.base {
        Base::Sso { account_id, role_name, session, start_url, .. } => {
            out.push(cli_cache::sso_role_path(&ctx.cli_cache(), account_id, role_name, session.as_deref(), start_url));
        }
        Base::StaticKeys { access_key_id, session_token: None, .. } => {
            for serial in plan.hops.iter().filter_map(|h| h.mfa_serial.as_ref()) {
                out.push(cli_cache::mfa_session_path(&ctx.cli_cache(), access_key_id, serial));
            }
        }
        _ => {}
    }
    out
}

fn clear_cache(cli: &Cli, app: &App) -> Result<ExitCode, Error> {
    let ctx = app.context(&app.settings, None);
    let dir = ctx.cli_cache();
    let targets: Vec<std::path::PathBuf> = if cli.global.profile.is_some() {
        let plan = credentials::plan_for(&ctx, &app.selection)?
            .ok_or_else(|| CredentialError::NotFound { profile: Some(app.selection.name.clone()) })?;
        cache_files(&ctx, &plan)
    } else {
        std::fs::read_dir(&dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .filter(|p| cli_cache::read(p).is_some())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut removed = 0;
    for p in targets {
        match std::fs::remove_file(&p) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::Io { context: format!("removing {}", p.display()), source: e }),
        }
    }
    if !cli.global.quiet {
        eprintln!(
            "aws-assume: removed {removed} cached session{} from {}",
            if removed == 1 { "" } else { "s" },
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Until when a login profile's session has credentials (None: not signed in, or expired).
fn login_until(ctx: &credentials::Context<'_>, plan: &Plan, now: time::OffsetDateTime) -> Option<String> {
    let Base::Login { session, .. } = &plan.base else { return None };
    if !plan.hops.is_empty() {
        return None;
    }
    let path = cache::login::token_path(&cache::login::login_cache_dir(ctx.env), session);
    cache::login::read_token(&path).ok()?.expires().filter(|e| *e > now).map(cache::format_z)
}

async fn list(cli: &Cli, app: &App) -> Result<ExitCode, Error> {
    let ctx = app.context(&app.settings, None);
    let now = app.clock.now();
    let mut rows = Vec::new();
    for name in app.files.profile_names() {
        let sel = Selection { name: name.clone(), explicit: true, from_env: false };
        let row = match credentials::plan_for(&ctx, &sel) {
            Ok(Some(plan)) => {
                let kind = if plan.hops.is_empty() { plan.base.kind() } else { "role" };
                let cached = cache_files(&ctx, &plan)
                    .first()
                    .filter(|_| !plan.hops.is_empty() || matches!(plan.base, Base::Sso { .. }))
                    .and_then(|p| cli_cache::read(p))
                    .and_then(|c| c.credentials.expiration)
                    .filter(|e| *e > now)
                    .map(cache::format_z)
                    .or_else(|| login_until(&ctx, &plan, now));
                json!({"Profile": name, "Kind": kind, "Chain": plan.chain().join(" → "), "Mfa": plan.needs_mfa(), "CachedUntil": cached, "Error": null})
            }
            Ok(None) => {
                json!({"Profile": name, "Kind": "none", "Chain": name, "Mfa": false, "CachedUntil": null, "Error": "no credentials configured"})
            }
            Err(e) => {
                json!({"Profile": name, "Kind": "invalid", "Chain": name, "Mfa": false, "CachedUntil": null, "Error": e.to_string()})
            }
        };
        rows.push(row);
    }
    let text: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            ["Profile", "Kind", "Chain", "Mfa", "CachedUntil"]
                .map(|k| match &r[k] {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => String::new(),
                    v => v.to_string(),
                })
                .to_vec()
        })
        .collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r["Profile"].as_str().unwrap_or_default().to_string(),
                r["Kind"].as_str().unwrap_or_default().to_string(),
                r["Chain"].as_str().unwrap_or_default().to_string(),
                if r["Mfa"] == true { "yes".into() } else { String::new() },
                r["CachedUntil"].as_str().or(r["Error"].as_str()).unwrap_or_default().to_string(),
            ]
        })
        .collect();
    let table = output::Rows::new(&["Profile", "Kind", "Chain", "MFA", "Cached session / problem"], cells, &rows)
        .with_text(text);
    output::render(output::Format::resolve(cli.global.output).into(), &table).map_err(io("writing the output"))?;
    Ok(ExitCode::from(exit::OK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3600"), Ok(3600));
        assert_eq!(parse_duration("12h"), Ok(43_200));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert!(parse_duration("12x").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("90m5").is_err());
        assert!(parse_duration("999999999999999d").unwrap_err().contains("at most 36h"));
        assert!(parse_duration("99999999999999999999999").is_err());
        assert!(parse_duration("0").is_err());
        assert_eq!(parse_duration("36h"), Ok(MAX_DURATION_SECONDS));
    }
}
