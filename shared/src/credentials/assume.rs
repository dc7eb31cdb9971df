//! Role hops: AssumeRole with the previous credentials, cached in `~/.aws/cli/cache` under
//! botocore's key (so `aws --profile X` reuses our sessions and we reuse its), under a lock (so
//! parallel callers assume once). A hop with `mfa_serial` is served from, in order: the cache;
//! our GetSessionToken MFA session for the long-term key and serial (MFA carries over to every
//! role assumed from it); the MFA provider (a prompt); otherwise it fails with a hint.

use time::OffsetDateTime;

use super::{Context, Resolved, Source, sdk_error};
use crate::cache::cli::{self as cli_cache, AssumeRoleKey};
use crate::config::{Hop, Plan};
use crate::error::{CredentialError, Error, ServiceError};
use crate::fsutil::FileLock;
use crate::secret::{Credentials, Secret};

/// The cache key of a hop (from config, as botocore computes it).
pub fn cache_key(hop: &Hop) -> AssumeRoleKey {
    AssumeRoleKey {
        role_arn: hop.role_arn.clone(),
        role_session_name: hop.role_session_name.clone(),
        external_id: hop.external_id.clone(),
        serial_number: hop.mfa_serial.clone(),
        duration_seconds: hop.duration_seconds,
    }
}

/// The cache file of a hop.
pub fn cache_path(ctx: &Context<'_>, hop: &Hop) -> std::path::PathBuf {
    cli_cache::assume_role_path(&ctx.cli_cache(), &cache_key(hop))
}

async fn lock(ctx: &Context<'_>, path: std::path::PathBuf, purpose: String) -> Result<FileLock, Error> {
    Ok(FileLock::acquire_async(path, crate::fsutil::LockWait::new(purpose, ctx.env)).await?)
}

fn sts_creds(c: Option<&aws_sdk_sts::types::Credentials>, op: &str) -> Result<Credentials, Error> {
    let c = c.ok_or_else(|| {
        Error::Service(ServiceError {
            operation: op.into(),
            code: None,
            message: "no Credentials in the answer".into(),
        })
    })?;
    Ok(Credentials {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: Secret::new(c.secret_access_key()),
        session_token: Some(Secret::new(c.session_token())),
        expiration: OffsetDateTime::from_unix_timestamp(c.expiration().secs()).ok(),
        account_id: None,
    })
}

/// The MFA session for long-term keys: cached, or (with a provider) a new GetSessionToken.
async fn mfa_session(
    ctx: &Context<'_>,
    plan: &Plan,
    hop: &Hop,
    serial: &str,
    base: &Credentials,
) -> Result<Option<Credentials>, Error> {
    if base.session_token.is_some() {
        return Ok(None);
    }
    let path = cli_cache::mfa_session_path(&ctx.cli_cache(), &base.access_key_id, serial);
    if let Some(c) = cli_cache::read_valid(&path, ctx.clock.now()) {
        return Ok(Some(c.credentials));
    }
    let (Some(seconds), Some(provider)) = (ctx.mfa_session_seconds, ctx.mfa) else { return Ok(None) };
    let _guard =
        lock(ctx, path.clone(), format!("getting an MFA session for {serial}; it may be at its MFA prompt")).await?;
    if let Some(c) = cli_cache::read_valid(&path, ctx.clock.now()) {
        return Ok(Some(c.credentials));
    }
    let code = provider.code(serial, &hop.profile)?;
    let out = ctx
        .settings
        .sts(Some(base))
        .get_session_token()
        .serial_number(serial)
        .token_code(code)
        .duration_seconds(i32::try_from(seconds).unwrap_or(43_200))
        .send()
        .await
        .map_err(|e| sdk_error("sts:GetSessionToken", Some(serial), Some(format!("aws-assume {}", plan.profile)), e))?;
    let creds = sts_creds(out.credentials(), "sts:GetSessionToken")?;
    cli_cache::write_mfa_session(&path, &creds, &base.access_key_id, serial, None)
        .map_err(|e| Error::Io { context: format!("writing {}", path.display()), source: e })?;
    Ok(Some(creds))
}

/// Role chaining (assuming a role with role-session credentials: a previous hop, SSO, web
/// identity) is capped by AWS at one hour; a longer `duration_seconds` would be refused, so it is
/// clamped, with a warning that says why. The cache key keeps the configured value, as botocore
/// computes it, so the AWS CLI still finds the session.
pub fn effective_duration(ctx: &Context<'_>, hop: &Hop, from: &Resolved) -> Option<u64> {
    let d = hop.duration_seconds?;
    let chained = matches!(from.source, Source::AssumeRole | Source::Sso | Source::WebIdentity);
    if chained && d > 3600 {
        if !ctx.quiet {
            eprintln!(
                "warning: profile `{}` asks for duration_seconds = {d}, but it is a chained role (assumed with role credentials) and AWS caps those at 3600 seconds; using 3600",
                hop.profile
            );
        }
        return Some(3600);
    }
    Some(d)
}

/// Assumes one hop from `from`.
pub async fn hop(ctx: &Context<'_>, plan: &Plan, hop: &Hop, from: Resolved) -> Result<Resolved, Error> {
    let path = cache_path(ctx, hop);
    let done = |c: Credentials, arn: Option<String>| Resolved {
        credentials: c,
        source: Source::AssumeRole,
        profile: Some(hop.profile.clone()),
        arn,
    };
    if !ctx.refresh
        && let Some(c) = cli_cache::read_valid(&path, ctx.clock.now())
    {
        return Ok(done(c.credentials, c.arn));
    }
    let _guard = lock(ctx, path.clone(), format!("assuming {}", hop.role_arn)).await?;
    if !ctx.refresh
        && let Some(c) = cli_cache::read_valid(&path, ctx.clock.now())
    {
        return Ok(done(c.credentials, c.arn));
    }
    let mut caller = from.credentials.clone();
    let mut code = None;
    if let Some(serial) = &hop.mfa_serial {
        if let Some(session) = mfa_session(ctx, plan, hop, serial, &from.credentials).await? {
            caller = session;
        } else if let Some(provider) = ctx.mfa {
            code = Some(provider.code(serial, &hop.profile)?);
        } else {
            return Err(CredentialError::MfaRequired {
                profile: hop.profile.clone(),
                entry: plan.profile.clone(),
                serial: serial.clone(),
            }
            .into());
        }
    }
    let session_name = hop
        .role_session_name
        .clone()
        .unwrap_or_else(|| format!("botocore-session-{}", ctx.clock.now().unix_timestamp()));
    let mut req = ctx.settings.sts(Some(&caller)).assume_role().role_arn(&hop.role_arn).role_session_name(session_name);
    if let Some(x) = &hop.external_id {
        req = req.external_id(x);
    }
    if let Some(d) = effective_duration(ctx, hop, &from) {
        req = req.duration_seconds(i32::try_from(d).unwrap_or(i32::MAX));
    }
    if let (Some(serial), Some(c)) = (&hop.mfa_serial, &code) {
        req = req.serial_number(serial).token_code(c);
    }
    let out = req.send().await.map_err(|e| sdk_error("sts:AssumeRole", Some(&hop.role_arn), None, e))?;
    let mut creds = sts_creds(out.credentials(), "sts:AssumeRole")?;
    let user = out.assumed_role_user();
    let arn = user.map(|u| u.arn().to_string());
    creds.account_id = arn.as_deref().and_then(|a| a.split(':').nth(4)).map(str::to_string);
    cli_cache::write_assume_role(
        &path,
        &creds,
        user.map(|u| u.assumed_role_id()).unwrap_or_default(),
        arn.as_deref().unwrap_or_default(),
    )
    .map_err(|e| Error::Io { context: format!("writing {}", path.display()), source: e })?;
    Ok(done(creds, arn))
}
