//! Errors of the common crate, with the file, line, profile or ARN they concern, a `hint:` naming
//! the command that fixes them, and the documented exit code of every binary:
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | success |
//! | 1 | the tool's negative verdict (aws-keyaudit findings at or above `--fail-on`) |
//! | 2 | usage, configuration or local file error (bad flags, invalid config, unknown profile, a file that cannot be read, written or locked) |
//! | 3 | credential or authentication error (none found, expired, MFA or SSO login needed, rejected) |
//! | 4 | AWS service or network error after retries |

use std::path::PathBuf;

/// Exit codes shared by every binary.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// The tool's negative verdict.
    pub const VERDICT: u8 = 1;
    /// Usage or configuration error.
    pub const USAGE: u8 = 2;
    /// Credential or authentication error.
    pub const CREDENTIALS: u8 = 3;
    /// AWS service or network error after retries.
    pub const SERVICE: u8 = 4;
}

/// Something that can tell the user what to run next.
pub trait Hint {
    /// The `hint:` line, if there is one.
    fn hint(&self) -> Option<String>;
}

/// A name or value that cannot be written into an AWS INI file as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} `{shown}` cannot be written to an AWS config file: {why}")]
pub struct ValueError {
    /// What it is: "the profile name", "the value of sso_role_name".
    pub what: String,
    /// The value, escaped and cut for display.
    pub shown: String,
    /// Why not.
    pub why: &'static str,
}

/// Problems with the AWS config and credentials files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not UTF-8.
    #[error("{}: line {line} is not valid UTF-8 (the AWS CLI reads config files as UTF-8 too)", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// First bad line.
        line: usize,
    },
    /// A line the AWS CLI cannot parse, in a part of the file that is used.
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The profile is in neither file.
    #[error("the profile `{profile}` was not found in {} or {}", config.display(), credentials.display())]
    ProfileNotFound {
        /// The profile.
        profile: String,
        /// The config file looked in.
        config: PathBuf,
        /// The credentials file looked in.
        credentials: PathBuf,
        /// Profiles that do exist (for the hint).
        available: Vec<String>,
    },
    /// `source_profile` names a profile that does not exist.
    #[error("the profile `{profile}` has source_profile = {source_profile}, but no profile `{source_profile}` exists")]
    SourceProfileNotFound {
        /// The profile with the reference.
        profile: String,
        /// The missing source profile.
        source_profile: String,
    },
    /// `source_profile` references loop.
    #[error("source_profile references form a loop: {}", cycle.join(" → "))]
    SourceProfileLoop {
        /// The profiles of the loop, the first repeated at the end.
        cycle: Vec<String>,
    },
    /// A profile's settings do not make a credential source.
    #[error("the profile `{profile}` ({}{}) {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    InvalidProfile {
        /// The profile.
        profile: String,
        /// Its file.
        path: PathBuf,
        /// The line, where one is to blame.
        line: Option<usize>,
        /// What is wrong.
        message: String,
        /// What to run or change.
        fix: Option<String>,
    },
    /// `sso_session` names a missing `[sso-session]` section.
    #[error("the profile `{profile}` has sso_session = {session}, but {} has no [sso-session {session}] section", path.display())]
    SsoSessionNotFound {
        /// The profile.
        profile: String,
        /// The missing session.
        session: String,
        /// The config file.
        path: PathBuf,
    },
    /// A name or value that cannot be written into the file as it is.
    #[error(transparent)]
    Value(#[from] ValueError),
    /// The file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl Hint for ConfigError {
    fn hint(&self) -> Option<String> {
        match self {
            ConfigError::Read { .. } | ConfigError::Write { .. } => Some(
                "check the path and its permissions (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE move the files)"
                    .into(),
            ),
            ConfigError::NotUtf8 { path, .. } => Some(format!("re-save {} as UTF-8", path.display())),
            ConfigError::Parse { path, message, .. } if message.contains("byte-order mark") => {
                Some(format!("re-save {} as UTF-8 without a BOM", path.display()))
            }
            ConfigError::Parse { path, line, .. } => Some(format!(
                "fix or remove line {line} of {}; lines are `key = value`, `[section]` or comments",
                path.display()
            )),
            ConfigError::ProfileNotFound { profile, available, .. } => Some(if available.is_empty() {
                format!("run `aws configure --profile {profile}`, or `aws-sso-sync` to create SSO profiles")
            } else {
                format!("known profiles: {}; or run `aws configure --profile {profile}`", available.join(", "))
            }),
            ConfigError::SourceProfileNotFound { source_profile, .. } => Some(format!(
                "add a [profile {source_profile}] section, or point source_profile at an existing profile"
            )),
            ConfigError::SourceProfileLoop { .. } => {
                Some("make one profile in the loop get its credentials from keys, SSO or credential_source".into())
            }
            ConfigError::InvalidProfile { fix, .. } => fix.clone(),
            ConfigError::Value(_) => Some(
                "use a value without control characters, markers or surrounding spaces; nothing was written".into(),
            ),
            ConfigError::SsoSessionNotFound { session, .. } => Some(format!(
                "run `aws-sso-sync session add {session} --start-url URL --region REGION` (or `aws configure sso-session`)"
            )),
        }
    }
}

/// Credentials that are missing, expired, or refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// Nothing in the chain had credentials.
    #[error("no AWS credentials found{}", profile.as_ref().map(|p| format!(" for the profile `{p}`")).unwrap_or_default())]
    NotFound {
        /// The profile, when one was in use.
        profile: Option<String>,
    },
    /// A role hop needs an MFA code and no cached session exists (prompting is aws-assume's job).
    #[error("the profile `{profile}` needs an MFA code for {serial} and there is no cached session")]
    MfaRequired {
        /// The profile asking for MFA.
        profile: String,
        /// The entry profile (for the hint).
        entry: String,
        /// The MFA device.
        serial: String,
    },
    /// An `aws login` session that gives no credentials: nothing cached, or its refresh token
    /// expired or was revoked (the console password changed, a sign-out).
    #[error("the `aws login` session of the profile `{profile}` ({session}) gives no credentials: {reason}")]
    LoginSession {
        /// The profile with `login_session`.
        profile: String,
        /// The session (the principal ARN).
        session: String,
        /// Why.
        reason: String,
        /// The fix.
        command: String,
    },
    /// No SSO token is cached for the session or start URL.
    #[error("no SSO token for {what}: not logged in")]
    SsoLoginRequired {
        /// `sso-session X` or the start URL.
        what: String,
        /// The fix.
        command: String,
    },
    /// The cached SSO token has expired and cannot be refreshed.
    #[error("the SSO token for {what} expired at {expired}{}", reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default())]
    SsoTokenExpired {
        /// `sso-session X` or the start URL.
        what: String,
        /// When.
        expired: String,
        /// Why it could not be refreshed.
        reason: Option<String>,
        /// The fix.
        command: String,
    },
    /// The portal or OIDC service refused a token that had not expired: revoked (a sign-out
    /// elsewhere, an administrator) or otherwise invalidated.
    #[error("the SSO token for {what} was refused: it was revoked or is no longer valid ({detail})")]
    SsoTokenRevoked {
        /// `sso-session X` or the start URL.
        what: String,
        /// What refused it.
        detail: String,
        /// The fix.
        command: String,
    },
    /// `credential_source` names a source that has no credentials here.
    #[error("the profile `{profile}` has credential_source = {source_name}, but {missing}")]
    CredentialSourceEmpty {
        /// The profile.
        profile: String,
        /// `Environment`, `Ec2InstanceMetadata` or `EcsContainer`.
        source_name: String,
        /// What is missing.
        missing: String,
    },
    /// The key store could not be used: locked, absent, wrong passphrase, unreadable.
    #[error("the key store ({backend}) {message}")]
    KeyStore {
        /// `os keyring (Secret Service)`, `encrypted file ~/.aws/...`.
        backend: String,
        /// What went wrong.
        message: String,
        /// How to unlock it or pick the other backend.
        fix: String,
    },
    /// Credentials with an expiry in the past.
    #[error("the credentials from {source_name} expired at {expired}")]
    Expired {
        /// Where they came from.
        source_name: String,
        /// When.
        expired: String,
        /// The fix.
        command: String,
    },
    /// credential_process failed or printed something that is not the contract.
    #[error("credential_process of the profile `{profile}` {message}")]
    Process {
        /// The profile.
        profile: String,
        /// What went wrong (never the credentials).
        message: String,
    },
    /// AWS refused the credentials or the role (InvalidClientTokenId, AccessDenied, ...).
    #[error("{operation} was refused{}: {code}: {message}", arn.as_ref().map(|a| format!(" for {a}")).unwrap_or_default())]
    Rejected {
        /// The operation.
        operation: String,
        /// The role or principal concerned.
        arn: Option<String>,
        /// AWS's error code.
        code: String,
        /// AWS's message.
        message: String,
        /// The fix.
        command: Option<String>,
    },
    /// Web identity token file unreadable.
    #[error("cannot read the web identity token file {}: {source}", path.display())]
    WebIdentityToken {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl Hint for CredentialError {
    fn hint(&self) -> Option<String> {
        match self {
            CredentialError::NotFound { profile } => Some(match profile {
                Some(p) => format!("run `aws configure --profile {p}`, or set AWS_PROFILE to a configured profile"),
                None => "run `aws configure`, `aws-sso-sync login`, or set AWS_PROFILE to a configured profile".into(),
            }),
            CredentialError::MfaRequired { entry, .. } => {
                Some(format!("run `aws-assume {entry}` to enter the MFA code once and cache the session"))
            }
            CredentialError::CredentialSourceEmpty { profile, source_name, .. } => Some(match source_name.as_str() {
                "Environment" => format!(
                    "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY first, or run `aws configure set credential_source Ec2InstanceMetadata --profile {profile}` on EC2"
                ),
                _ => format!(
                    "run this where {source_name} credentials exist, or switch the profile to keys in the environment: `aws configure set credential_source Environment --profile {profile}`"
                ),
            }),
            CredentialError::SsoLoginRequired { command, .. }
            | CredentialError::SsoTokenExpired { command, .. }
            | CredentialError::SsoTokenRevoked { command, .. }
            | CredentialError::LoginSession { command, .. }
            | CredentialError::Expired { command, .. } => Some(format!("run `{command}`")),
            CredentialError::Process { .. } => Some(
                "run the credential_process command by hand to see its output; it must print JSON with Version 1"
                    .into(),
            ),
            CredentialError::Rejected { command, .. } => command.as_ref().map(|c| format!("run `{c}`")),
            CredentialError::KeyStore { fix, .. } => Some(fix.clone()),
            CredentialError::WebIdentityToken { .. } => {
                Some("check web_identity_token_file / AWS_WEB_IDENTITY_TOKEN_FILE".into())
            }
        }
    }
}

/// An AWS call that failed for a reason other than credentials, after retries.
#[derive(Debug, thiserror::Error)]
#[error("{operation} failed{}: {message}", code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
pub struct ServiceError {
    /// The operation, e.g. `sts:GetCallerIdentity`.
    pub operation: String,
    /// AWS's error code, when there is one.
    pub code: Option<String>,
    /// What happened.
    pub message: String,
}

impl Hint for ServiceError {
    fn hint(&self) -> Option<String> {
        Some("check the network and the endpoint (AWS_ENDPOINT_URL*), or retry; `-v` shows each call".into())
    }
}

/// Every error the common crate returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Config and credentials files.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Credentials.
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    /// An AWS call.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// Bad command-line input.
    #[error("{message}")]
    Usage {
        /// What is wrong.
        message: String,
        /// What to do instead.
        hint: Option<String>,
    },
    /// A file we own or edit could not be written (refused, locked, read-only, not a file).
    #[error(transparent)]
    Write(#[from] crate::fsutil::WriteError),
    /// A file or system error outside the config files (local: exit 2).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

impl Error {
    /// The documented exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) | Error::Usage { .. } | Error::Write(_) | Error::Io { .. } => exit::USAGE,
            Error::Credentials(_) => exit::CREDENTIALS,
            Error::Service(_) => exit::SERVICE,
        }
    }

    /// A usage error.
    pub fn usage(message: impl Into<String>, hint: Option<String>) -> Self {
        Error::Usage { message: message.into(), hint }
    }
}

impl Hint for Error {
    fn hint(&self) -> Option<String> {
        match self {
            Error::Config(e) => e.hint(),
            Error::Credentials(e) => e.hint(),
            Error::Service(e) => e.hint(),
            Error::Usage { hint, .. } => hint.clone(),
            Error::Write(e) => Some(write_hint(e)),
            Error::Io { source, .. } => io_hint(source),
        }
    }
}

impl From<ValueError> for Error {
    fn from(e: ValueError) -> Self {
        Error::Config(e.into())
    }
}

impl From<crate::fsutil::LockError> for Error {
    fn from(e: crate::fsutil::LockError) -> Self {
        Error::Write(e.into())
    }
}

fn write_hint(e: &crate::fsutil::WriteError) -> String {
    use crate::fsutil::{LockError, WriteError};
    match e {
        WriteError::NotRegular { .. } => {
            "point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE (or --config-file) at a regular file".into()
        }
        WriteError::ReadOnly { path, .. } => {
            format!(
                "the file is read-only on purpose? If the change is wanted, run `chmod u+w {}` and run again",
                path.display()
            )
        }
        WriteError::KeptChanging { .. } => {
            "another program keeps rewriting the file: let it finish, then run again".into()
        }
        WriteError::Lock(LockError::Timeout { .. }) => {
            "let the other run finish (or stop it), then run again; AWS_COMPANIONS_LOCK_TIMEOUT=SECONDS waits longer"
                .into()
        }
        WriteError::Lock(LockError::Io { .. }) | WriteError::Io { .. } => {
            "check the folder's owner, permissions and free space (`ls -ld` on it)".into()
        }
    }
}

fn io_hint(e: &std::io::Error) -> Option<String> {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => {
            Some("check the file's and folder's owner and permissions (`ls -l`)".into())
        }
        std::io::ErrorKind::NotFound => Some("check the path".into()),
        _ => None,
    }
}

/// A result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
