//! Flags every binary shares, spelled the same way everywhere, and the one place errors are
//! rendered: the message, then `hint:`, then the documented exit code.

use std::io::Write;
use std::process::ExitCode;

use crate::error::{Error, Hint};
use crate::output::Format;

/// Global flags, flattened into each plugin's clap command: the profile and output format, then
/// [`CommonArgs`]. Reads of the common ones go through `Deref` (`global.region`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GlobalArgs {
    /// The profile to use (default: AWS_PROFILE, AWS_DEFAULT_PROFILE, `default`).
    #[arg(long, global = true, value_name = "PROFILE", add = clap_complete::ArgValueCandidates::new(profile_candidates))]
    pub profile: Option<String>,
    /// Output format (default: table on a terminal, json otherwise).
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<Format>,
    /// The flags every tool has, whatever its profile and output flags look like.
    #[command(flatten)]
    pub common: CommonArgs,
}

impl std::ops::Deref for GlobalArgs {
    type Target = CommonArgs;
    fn deref(&self) -> &CommonArgs {
        &self.common
    }
}

/// The flags every binary shares, spelled and validated the same way everywhere; a tool with
/// its own `--profile` or `--output` (aws-keyaudit: several profiles, SARIF) flattens only these.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CommonArgs {
    /// The region to use (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's).
    #[arg(long, global = true, value_name = "REGION", value_parser = parse_region)]
    pub region: Option<String>,
    /// Log each AWS call (operation, duration, attempts) to stderr; secrets are never logged.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print nothing to stderr but errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Seconds to wait for an answer to each attempt (as the AWS CLI's flag; default 30, at most 3600).
    #[arg(long, global = true, value_name = "SECONDS", value_parser = parse_seconds)]
    pub cli_read_timeout: Option<f64>,
    /// Seconds to wait for a connection (as the AWS CLI's flag; default 5, at most 3600).
    #[arg(long, global = true, value_name = "SECONDS", value_parser = parse_seconds)]
    pub cli_connect_timeout: Option<f64>,
}

/// The longest wait any seconds flag accepts.
pub const MAX_SECONDS: f64 = 3600.0;

/// A seconds flag: a finite number above 0 and at most [`MAX_SECONDS`] (so `1e20`, `inf` and
/// `NaN` are usage errors, never a panic).
pub fn parse_seconds(text: &str) -> Result<f64, String> {
    let v: f64 =
        text.trim().parse().map_err(|_| format!("`{}` is not a number of seconds", crate::text::clip(text)))?;
    if !v.is_finite() || v <= 0.0 || v > MAX_SECONDS {
        return Err(format!(
            "`{}` is out of range: use more than 0 and at most {MAX_SECONDS} seconds",
            crate::text::clip(text)
        ));
    }
    Ok(v)
}

/// A whole-number flag within `min..=max`.
pub fn parse_bounded(text: &str, min: u64, max: u64) -> Result<u64, String> {
    let v: u64 = text.trim().parse().map_err(|_| format!("`{}` is not a whole number", crate::text::clip(text)))?;
    if v < min || v > max {
        return Err(format!("`{v}` is out of range: use {min} to {max}"));
    }
    Ok(v)
}

/// `--region`: checked like a region from the config, before anything reaches the SDK.
pub fn parse_region(text: &str) -> Result<String, String> {
    if crate::config::valid_region(text) {
        Ok(text.to_string())
    } else {
        Err(format!("`{}` is not a region name (e.g. us-east-1)", crate::text::clip(text)))
    }
}

/// Whether a name can be offered to a shell's completion as it is: the generated scripts insert
/// candidates unquoted, so only names made of characters no shell treats specially are offered
/// (`$`, backticks, quotes, globs, spaces and control characters never reach a command line).
pub fn shell_safe(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-@+=,:/%".contains(c))
}

fn candidates(names: Vec<String>) -> Vec<clap_complete::CompletionCandidate> {
    names.into_iter().filter(|n| shell_safe(n)).map(clap_complete::CompletionCandidate::new).collect()
}

/// Profile names of the user's own config, for shell completion (shell-safe ones only).
pub fn profile_candidates() -> Vec<clap_complete::CompletionCandidate> {
    let env = crate::os::Env::from_process();
    candidates(crate::config::AwsFiles::load(&env).map(|f| f.profile_names()).unwrap_or_default())
}

/// sso-session names of the user's own config, for shell completion (shell-safe ones only).
pub fn sso_session_candidates() -> Vec<clap_complete::CompletionCandidate> {
    let env = crate::os::Env::from_process();
    candidates(crate::config::AwsFiles::load(&env).map(|f| f.sso_session_names()).unwrap_or_default())
}

/// Answers a shell-completion request (`COMPLETE=bash aws-whoami ...`) and exits; returns at
/// once, doing nothing, when none is being made. With `COMPLETE=<shell>` and no other argument
/// it prints the registration script that `completions/` holds.
pub fn complete(bin: &'static str, factory: fn() -> clap::Command) {
    clap_complete::CompleteEnv::with_factory(factory).bin(bin).completer(bin).complete();
}

/// Which tokio runtime a tool runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// One thread: the fastest start (whoami, assume).
    CurrentThread,
    /// Two workers: tools that keep many calls in flight (sso-sync, keyaudit).
    MultiThread,
}

/// Every binary's `main_impl`: completion requests, clap parsing (`--help` exit 0, bad usage
/// exit 2), the runtime, and the one place errors are rendered.
pub fn main<T, F, Fut>(
    bin: &'static str,
    factory: fn() -> clap::Command,
    args: impl IntoIterator<Item = std::ffi::OsString>,
    runtime: Runtime,
    run: F,
) -> ExitCode
where
    T: clap::Parser,
    F: FnOnce(T) -> Fut,
    Fut: std::future::Future<Output = Result<ExitCode, Error>>,
{
    complete(bin, factory);
    crate::fsutil::set_tool_name(bin);
    let cli: T = match parse(args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let built = match runtime {
        Runtime::CurrentThread => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        Runtime::MultiThread => tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build(),
    };
    let rt = match built {
        Ok(rt) => rt,
        Err(e) => return report(bin, &Error::Io { context: "starting the runtime".into(), source: e }),
    };
    let result = rt.block_on(run(cli));
    // A blocking read that lost a race with its time-out (a prompt nobody answered) must not keep
    // the process alive: dropping the runtime would wait for it forever.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(code) => code,
        // A reader that went away (`| head`) is not an error: stop quietly, as cat and grep do.
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => report(bin, &e),
    }
}

/// Writes an error as one paragraph, a `hint:` line, and returns its exit code. The text is
/// escaped: a server message or a profile name cannot move the cursor or forge a `hint:` line.
pub fn report(tool: &str, err: &Error) -> ExitCode {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{tool}: error: {}", crate::text::clean(&err.to_string()));
    if let Some(h) = err.hint() {
        let _ = writeln!(e, "hint: {}", crate::text::clean(&h));
    }
    ExitCode::from(err.exit_code())
}

/// Parses the command line; `--help`/`--version` print and exit 0, bad usage exits 2.
pub fn parse<T: clap::Parser>(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<T, ExitCode> {
    T::try_parse_from(args).map_err(|e| {
        let _ = e.print();
        ExitCode::from(if e.use_stderr() { crate::error::exit::USAGE } else { crate::error::exit::OK })
    })
}

/// The version string of every binary: the workspace version and the git revision it was built from.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("AWS_COMPANION_GIT_REV"), ")");
