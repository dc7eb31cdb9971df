//! The credential chain, as the AWS CLI runs it, one module per source:
//! environment → profile (its plan: static keys, SSO, `aws login`, credential_process, web identity or
//! credential_source, then role hops) → web identity from the environment → container → IMDS.
//!
//! Semantics follow aws-config's chain: a source that has nothing goes on to the next; a source
//! that is configured but fails stops the chain with its error. `--profile` skips environment keys
//! (botocore: "an explicitly provided profile will negate an EnvProvider"); `AWS_PROFILE` does not.
//! A role hop that needs MFA is served from a cached session, or from the caller's MFA provider
//! (aws-assume prompts); without either it fails with a hint to run `aws-assume`.

pub mod assume;
pub mod environment;
pub mod explain;
pub mod instance;
pub mod login;
pub mod process;
pub mod sso;
pub mod web_identity;

use serde::Serialize;

use crate::client::ClientSettings;
use crate::config::{AwsFiles, Plan, resolve};
use crate::env_vars;
use crate::error::{ConfigError, CredentialError, Error, ServiceError};
use crate::os::{Clock, Env};
use crate::secret::Credentials;

/// Where credentials came from (the `CredentialSource` field of aws-whoami).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
    Env,
    /// Static keys in the credentials or config file.
    SharedCredentials,
    /// A role hop.
    AssumeRole,
    /// IAM Identity Center.
    Sso,
    /// An `aws login` session (`login_session`).
    Login,
    /// credential_process.
    Process,
    /// AssumeRoleWithWebIdentity.
    WebIdentity,
    /// The container credentials endpoint.
    Container,
    /// EC2 instance metadata.
    Imds,
}

impl Source {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Env => "env",
            Source::SharedCredentials => "shared-credentials",
            Source::AssumeRole => "assume-role",
            Source::Sso => "sso",
            Source::Login => "login",
            Source::Process => "process",
            Source::WebIdentity => "web-identity",
            Source::Container => "container",
            Source::Imds => "imds",
        }
    }
}

/// Credentials and how they were found.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The credentials.
    pub credentials: Credentials,
    /// Their source.
    pub source: Source,
    /// The profile used, if any.
    pub profile: Option<String>,
    /// The principal ARN, when the source said (AssumeRole responses and caches).
    pub arn: Option<String>,
}

/// Which profile, and how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The profile name (`default` when nothing names one).
    pub name: String,
    /// Named on the command line (`--profile`): environment keys are then skipped.
    pub explicit: bool,
    /// Named by AWS_PROFILE / AWS_DEFAULT_PROFILE: a missing profile is then an error too.
    pub from_env: bool,
}

impl Selection {
    /// `--profile`, else AWS_PROFILE, else AWS_DEFAULT_PROFILE, else `default`.
    pub fn new(cli_profile: Option<&str>, env: &Env) -> Self {
        if let Some(p) = cli_profile {
            return Self { name: p.into(), explicit: true, from_env: false };
        }
        match env.get(env_vars::AWS_PROFILE).or_else(|| env.get(env_vars::AWS_DEFAULT_PROFILE)) {
            Some(p) => Self { name: p.into(), explicit: false, from_env: true },
            None => Self { name: "default".into(), explicit: false, from_env: false },
        }
    }
}

/// Supplies MFA codes (aws-assume prompts on the terminal or runs `mfa_process`).
pub trait MfaProvider: Send + Sync {
    /// A 6-digit code for `serial`, asked for on behalf of `profile`.
    fn code(&self, serial: &str, profile: &str) -> Result<String, Error>;
}

/// What the chain needs.
pub struct Context<'a> {
    /// The environment.
    pub env: &'a Env,
    /// The AWS files.
    pub files: &'a AwsFiles,
    /// The clock.
    pub clock: &'a dyn Clock,
    /// Client settings (endpoints, retries).
    pub settings: &'a ClientSettings,
    /// MFA codes; None never prompts.
    pub mfa: Option<&'a dyn MfaProvider>,
    /// Use GetSessionToken MFA sessions for hops from long-term keys (aws-assume).
    pub mfa_session_seconds: Option<u64>,
    /// Ignore cached role credentials (`--refresh`).
    pub refresh: bool,
    /// Say nothing on stderr but errors (`-q`).
    pub quiet: bool,
}

impl Context<'_> {
    /// `~/.aws/cli/cache`
    pub fn cli_cache(&self) -> std::path::PathBuf {
        crate::cache::cli_cache_dir(self.env)
    }
}

/// The plan of the selected profile, or None (no such profile and none was asked for, or a
/// profile without credential settings).
pub fn plan_for(ctx: &Context<'_>, sel: &Selection) -> Result<Option<Plan>, Error> {
    if !ctx.files.has_profile(&sel.name) {
        if sel.explicit || sel.from_env {
            return Err(ctx.files.profile(&sel.name).map(|_| ()).unwrap_err().into());
        }
        return Ok(None);
    }
    Ok(resolve::plan(ctx.files, ctx.env, &sel.name)?)
}

/// What the chain will use for a selection, decided without any network call.
#[derive(Debug, Clone)]
pub enum Choice {
    /// Environment credentials.
    Env(Credentials),
    /// The profile's plan.
    Plan(Plan),
    /// Nothing in the files: web identity from the environment, container, IMDS, in that order.
    Fallback,
}

/// Decides the source: environment keys (unless `--profile`), else the profile's plan, else the
/// fallbacks.
pub fn choose(ctx: &Context<'_>, sel: &Selection) -> Result<Choice, Error> {
    if !sel.explicit
        && let Some(creds) = environment::credentials(ctx.env, ctx.clock)?
    {
        return Ok(Choice::Env(creds));
    }
    Ok(match plan_for(ctx, sel)? {
        Some(plan) => Choice::Plan(plan),
        None => Choice::Fallback,
    })
}

/// Runs the chain for a selection.
pub async fn resolve(ctx: &Context<'_>, sel: &Selection) -> Result<Resolved, Error> {
    match choose(ctx, sel)? {
        Choice::Env(creds) => {
            return Ok(Resolved { credentials: creds, source: Source::Env, profile: None, arn: None });
        }
        Choice::Plan(plan) => return run_plan(ctx, &plan).await,
        Choice::Fallback => {}
    }
    if let Some(r) = web_identity::from_env(ctx).await? {
        return Ok(r);
    }
    if let Some(r) = instance::container(ctx).await? {
        return Ok(r);
    }
    if let Some(r) = instance::imds(ctx).await? {
        return Ok(r);
    }
    Err(CredentialError::NotFound {
        profile: (sel.explicit || sel.from_env || ctx.files.has_profile(&sel.name)).then(|| sel.name.clone()),
    }
    .into())
}

/// Runs a plan: the base source, then each hop.
pub async fn run_plan(ctx: &Context<'_>, plan: &Plan) -> Result<Resolved, Error> {
    use crate::config::Base;
    // A warm cache for a later hop makes the base and the hops before it unnecessary (the cache
    // key depends on the role, not on the credentials that assumed it): start there, as botocore
    // reads its cache before it resolves the source profile. A `credential_process` base is then
    // not even started.
    for (i, hop) in plan.hops.iter().enumerate().rev() {
        if let Some(mut current) = assume::cached(ctx, hop) {
            for later in &plan.hops[i + 1..] {
                current = assume::hop(ctx, plan, later, current).await?;
            }
            current.profile = Some(plan.profile.clone());
            return Ok(current);
        }
    }
    let mut current = match &plan.base {
        Base::StaticKeys { profile, access_key_id, secret_access_key, session_token, .. } => Resolved {
            credentials: Credentials {
                access_key_id: access_key_id.clone(),
                secret_access_key: secret_access_key.clone(),
                session_token: session_token.clone(),
                expiration: None,
                account_id: None,
            },
            source: Source::SharedCredentials,
            profile: Some(profile.clone()),
            arn: None,
        },
        Base::Sso { .. } => sso::credentials(ctx, &plan.base).await?,
        Base::Login { profile, session } => login::credentials(ctx, profile, session).await?,
        Base::Process { profile, command } => process::credentials(ctx, profile, command).await?,
        Base::WebIdentity { profile, role_arn, token_file, session_name } => {
            web_identity::credentials(ctx, profile, role_arn, token_file, session_name.as_deref()).await?
        }
        Base::CredentialSource { profile, source } => instance::credential_source(ctx, profile, *source).await?,
        Base::Chain { source_profile, .. } => {
            let sel = match source_profile {
                Some(p) => Selection { name: p.clone(), explicit: true, from_env: false },
                None => Selection::new(None, ctx.env),
            };
            Box::pin(resolve(ctx, &sel)).await?
        }
    };
    for hop in &plan.hops {
        current = assume::hop(ctx, plan, hop, current).await?;
    }
    current.profile = Some(plan.profile.clone());
    Ok(current)
}

/// AWS error codes that mean the credentials or the principal were refused (exit 3), as opposed
/// to service trouble (exit 4).
pub const AUTH_ERROR_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "UnauthorizedException",
    "MissingAuthenticationToken",
    "IncompleteSignature",
    "InvalidIdentityToken",
    "IDPRejectedClaim",
    "ValidationError",
    "RegionDisabledException",
    "ForbiddenException",
];

/// Turns an SDK error into ours: refused credentials → [`CredentialError::Rejected`] (exit 3),
/// everything else → [`ServiceError`] (exit 4).
pub fn sdk_error<E, R>(
    operation: &str,
    arn: Option<&str>,
    fix: Option<String>,
    err: aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> Error
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    match &err {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("Unknown").to_string();
            let message = se.err().message().unwrap_or("").to_string();
            if AUTH_ERROR_CODES.contains(&code.as_str()) {
                CredentialError::Rejected {
                    operation: operation.into(),
                    arn: arn.map(str::to_string),
                    code,
                    message,
                    command: fix,
                }
                .into()
            } else {
                ServiceError { operation: operation.into(), code: Some(code), message }.into()
            }
        }
        SdkError::TimeoutError(_) => {
            ServiceError { operation: operation.into(), code: None, message: "timed out".into() }.into()
        }
        SdkError::DispatchFailure(d) => {
            let why = if d.is_timeout() {
                "timed out".to_string()
            } else if d.is_io() {
                "could not connect".to_string()
            } else {
                "the request could not be sent".to_string()
            };
            let source = std::error::Error::source(&err).map(|s| format!(": {}", error_chain(s))).unwrap_or_default();
            ServiceError { operation: operation.into(), code: None, message: format!("{why}{source}") }.into()
        }
        SdkError::ResponseError(_) => ServiceError {
            operation: operation.into(),
            code: None,
            message: "the response could not be read (cut short or not the expected format)".into(),
        }
        .into(),
        _ => ServiceError { operation: operation.into(), code: None, message: error_chain(&err) }.into(),
    }
}

pub use crate::text::error_chain;

/// A config error for a profile (keeps call sites short).
pub fn profile_error(ctx: &Context<'_>, profile: &str, message: String, fix: Option<String>) -> Error {
    ConfigError::InvalidProfile {
        profile: profile.into(),
        path: ctx.files.config_path.clone(),
        line: None,
        message,
        fix,
    }
    .into()
}

/// A world for unit tests of the chain: environment, files, settings and a fixed clock, from
/// which a [`Context`] is borrowed (no network is configured unless the environment names one).
#[cfg(test)]
pub(crate) struct TestWorld {
    pub env: Env,
    pub files: AwsFiles,
    pub settings: crate::client::ClientSettings,
    pub clock: crate::os::FixedClock,
}

#[cfg(test)]
impl TestWorld {
    pub fn new(env: Env, files: AwsFiles, now: time::OffsetDateTime) -> Self {
        let settings = crate::client::ClientSettings::new(&env, &files, None, 0).expect("valid test settings");
        Self { env, files, settings, clock: crate::os::FixedClock(now) }
    }

    /// A non-prompting, quiet context (MFA sessions on with `mfa`).
    pub fn ctx<'a>(&'a self, mfa: Option<&'a dyn MfaProvider>) -> Context<'a> {
        Context {
            env: &self.env,
            files: &self.files,
            clock: &self.clock,
            settings: &self.settings,
            mfa,
            mfa_session_seconds: mfa.map(|_| 43_200),
            refresh: false,
            quiet: true,
        }
    }
}
