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

/// The MFA session of a long-term key (cached, or one prompt through `ctx.mfa`), for calls that
/// IAM allows only with MFA (`aws-assume keys rotate`). The same cache entry as the role chains'.
pub async fn key_mfa_session(
    ctx: &Context<'_>,
    profile: &str,
    serial: &str,
    base: &Credentials,
) -> Result<Option<Credentials>, Error> {
    mfa_session_for(ctx, profile, profile, serial, base).await
}

/// The MFA session for long-term keys: cached, or (with a provider) a new GetSessionToken.
async fn mfa_session(
    ctx: &Context<'_>,
    plan: &Plan,
    hop: &Hop,
    serial: &str,
    base: &Credentials,
) -> Result<Option<Credentials>, Error> {
    mfa_session_for(ctx, &plan.profile, &hop.profile, serial, base).await
}

/// [`mfa_session`] by names: `entry` for the hint, `asking` for the prompt.
async fn mfa_session_for(
    ctx: &Context<'_>,
    entry: &str,
    asking: &str,
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
    let code = provider.code(serial, asking)?;
    let out = ctx
        .settings
        .sts(Some(base))
        .get_session_token()
        .serial_number(serial)
        .token_code(code)
        .duration_seconds(i32::try_from(seconds).unwrap_or(43_200))
        .send()
        .await
        .map_err(|e| sdk_error("sts:GetSessionToken", Some(serial), Some(format!("aws-assume {entry}")), e))?;
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

/// The hop's cached credentials, when valid (and `--refresh` is off).
pub fn cached(ctx: &Context<'_>, hop: &Hop) -> Option<Resolved> {
    if ctx.refresh {
        return None;
    }
    let c = cli_cache::read_valid(&cache_path(ctx, hop), ctx.clock.now())?;
    Some(Resolved {
        credentials: c.credentials,
        source: Source::AssumeRole,
        profile: Some(hop.profile.clone()),
        arn: c.arn,
    })
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

#[cfg(test)]
mod clock_tests {
    //! MFA-session reuse at fixed instants: a cached session serves every role hop (no prompt,
    //! no call) until 15 minutes before it expires; after that the provider is asked again.
    use super::*;
    use crate::config::{AwsFiles, Base, FileKind};
    use crate::credentials::MfaProvider;
    use crate::os::Env;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const SERIAL: &str = "arn:aws:iam::111111111111:mfa/alice";
    const EXPIRES: OffsetDateTime = time::macros::datetime!(2026-11-28 20:00 UTC);

    /// Counts prompts and refuses them, so a test sees whether one was needed.
    struct CountingPrompt(AtomicUsize);
    impl MfaProvider for CountingPrompt {
        fn code(&self, _: &str, _: &str) -> Result<String, Error> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Err(Error::usage("no prompt in tests", None))
        }
    }

    async fn session_at(now: OffsetDateTime, prompts: &CountingPrompt) -> Result<Option<Credentials>, Error> {
        let home = tempfile::tempdir().unwrap();
        let env = Env::from_pairs([("HOME", home.path().to_str().unwrap())]);
        let world = crate::credentials::TestWorld::new(env, AwsFiles::from_text("", ""), now);
        let ctx = world.ctx(Some(prompts));
        let base = Credentials::new("AKIAEXAMPLEALICE0001", "secret", None);
        let session = Credentials {
            access_key_id: "ASIAEXAMPLESESSION01".into(),
            secret_access_key: Secret::new("s"),
            session_token: Some(Secret::new("t")),
            expiration: Some(EXPIRES),
            account_id: None,
        };
        let path = cli_cache::mfa_session_path(&ctx.cli_cache(), &base.access_key_id, SERIAL);
        cli_cache::write_mfa_session(&path, &session, &base.access_key_id, SERIAL, None).unwrap();
        let hop = Hop {
            profile: "admin".into(),
            role_arn: "arn:aws:iam::222222222222:role/admin".into(),
            mfa_serial: Some(SERIAL.into()),
            external_id: None,
            role_session_name: None,
            duration_seconds: None,
            mfa_process: None,
        };
        let plan = Plan {
            profile: "admin".into(),
            base: Base::StaticKeys {
                profile: "alice".into(),
                file: FileKind::Credentials,
                access_key_id: base.access_key_id.clone(),
                secret_access_key: base.secret_access_key.clone(),
                session_token: None,
            },
            hops: vec![hop.clone()],
        };
        mfa_session(&ctx, &plan, &hop, SERIAL, &base).await
    }

    #[tokio::test]
    async fn a_cached_mfa_session_is_reused_until_fifteen_minutes_remain() {
        let prompts = CountingPrompt(AtomicUsize::new(0));
        let hours_before = session_at(EXPIRES - time::Duration::hours(11), &prompts).await.unwrap();
        assert_eq!(hours_before.unwrap().access_key_id, "ASIAEXAMPLESESSION01");
        let just_before = session_at(EXPIRES - time::Duration::minutes(16), &prompts).await.unwrap();
        assert!(just_before.is_some());
        assert_eq!(prompts.0.load(Ordering::SeqCst), 0, "no prompt while the session is good");
        assert!(session_at(EXPIRES - time::Duration::minutes(14), &prompts).await.is_err());
        assert_eq!(prompts.0.load(Ordering::SeqCst), 1, "inside the window a new code is asked for");
    }
}
