//! IAM Identity Center credentials, sharing the AWS CLI's caches: the token from
//! `~/.aws/sso/cache` (refreshed with the refresh token when under 15 minutes remain, then written
//! back in the AWS CLI's format), role credentials from `~/.aws/cli/cache` (ProviderType sso) or
//! GetRoleCredentials. Both happen under a file lock, so parallel callers refresh once.

use time::OffsetDateTime;

use super::{Context, Resolved, Source, sdk_error};
use crate::cache::sso::{SsoToken, read_token, token_path, write_token};
use crate::cache::{cli as cli_cache, format_z, sso_cache_dir};
use crate::config::Base;
use crate::error::{CredentialError, Error};
use crate::fsutil::FileLock;
use crate::secret::{Credentials, Secret};

/// Tokens are refreshed when less than this is left (botocore's SSOTokenProvider).
pub const REFRESH_WINDOW: time::Duration = time::Duration::minutes(15);

/// What a token is for, for messages and hints.
#[derive(Debug, Clone)]
pub struct TokenFor {
    /// The sso-session name, when there is one.
    pub session: Option<String>,
    /// The start URL.
    pub start_url: String,
    /// The Identity Center region.
    pub region: String,
    /// A profile using it (for the legacy hint).
    pub profile: Option<String>,
}

impl TokenFor {
    fn what(&self) -> String {
        match &self.session {
            Some(s) => format!("sso-session `{s}`"),
            None => self.start_url.clone(),
        }
    }

    /// The command that logs in again.
    pub fn login_command(&self) -> String {
        match (&self.session, &self.profile) {
            (Some(s), _) => format!("aws-sso-sync login --sso-session {s}"),
            (None, Some(p)) => format!("aws sso login --profile {p}"),
            (None, None) => "aws sso login".into(),
        }
    }

    /// The token cache file.
    pub fn path(&self, ctx: &Context<'_>) -> std::path::PathBuf {
        token_path(&sso_cache_dir(ctx.env), self.session.as_deref().unwrap_or(&self.start_url))
    }
}

async fn lock(ctx: &Context<'_>, path: std::path::PathBuf, purpose: String) -> Result<FileLock, Error> {
    Ok(FileLock::acquire_async(path, crate::fsutil::LockWait::new(purpose, ctx.env)).await?)
}

/// A usable token: the cached one, refreshed if under 15 minutes remain and it can be.
pub async fn token(ctx: &Context<'_>, t: &TokenFor) -> Result<SsoToken, Error> {
    let path = t.path(ctx);
    let now = ctx.clock.now();
    let quick = read_token(&path)
        .ok_or_else(|| CredentialError::SsoLoginRequired { what: t.what(), command: t.login_command() })?;
    if quick.expires().is_some_and(|e| e - now > REFRESH_WINDOW) {
        return Ok(quick);
    }
    let _guard = lock(ctx, path.clone(), format!("refreshing the SSO token for {}", t.what())).await?;
    // Another process may have refreshed it while we waited.
    let mut token = read_token(&path)
        .ok_or_else(|| CredentialError::SsoLoginRequired { what: t.what(), command: t.login_command() })?;
    let expires = token.expires().unwrap_or(OffsetDateTime::UNIX_EPOCH);
    if expires - now > REFRESH_WINDOW {
        return Ok(token);
    }
    let reason;
    if token.refreshable(now) {
        let client = ctx.settings.ssooidc(&t.region);
        let res = client
            .create_token()
            .client_id(token.client_id.clone().unwrap_or_default())
            .client_secret(token.client_secret.as_ref().map(Secret::expose).unwrap_or_default())
            .grant_type("refresh_token")
            .refresh_token(token.refresh_token.as_ref().map(Secret::expose).unwrap_or_default())
            .send()
            .await;
        match res {
            Ok(out) => {
                token.access_token = Secret::new(out.access_token().unwrap_or_default());
                token.expires_at = format_z(now + time::Duration::seconds(i64::from(out.expires_in())));
                if let Some(rt) = out.refresh_token() {
                    token.refresh_token = Some(Secret::new(rt));
                }
                write_token(&path, &token)
                    .map_err(|e| Error::Io { context: format!("writing {}", path.display()), source: e })?;
                return Ok(token);
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_invalid_grant_exception()) => {
                // The refresh token itself was refused: revoked (sign-out elsewhere), not expired.
                if expires > now {
                    return Err(CredentialError::SsoTokenRevoked {
                        what: t.what(),
                        detail: "its refresh token was refused (InvalidGrantException)".into(),
                        command: t.login_command(),
                    }
                    .into());
                }
                reason = Some("its refresh token was revoked or has expired".into());
            }
            Err(e) => reason = Some(format!("refresh failed: {}", sdk_error("sso-oidc:CreateToken", None, None, e))),
        }
    } else if token.refresh_token.is_none() {
        reason = Some("no refresh token".into());
    } else {
        reason = Some("the client registration expired".into());
    }
    if expires > now {
        return Ok(token);
    }
    Err(CredentialError::SsoTokenExpired {
        what: t.what(),
        expired: format_z(expires),
        reason,
        command: t.login_command(),
    }
    .into())
}

/// Role credentials for an SSO profile.
pub async fn credentials(ctx: &Context<'_>, base: &Base) -> Result<Resolved, Error> {
    let Base::Sso { profile, session, start_url, sso_region, account_id, role_name, .. } = base else {
        unreachable!("called with an SSO base");
    };
    let cache = cli_cache::sso_role_path(&ctx.cli_cache(), account_id, role_name, session.as_deref(), start_url);
    let done =
        |c: Credentials| Resolved { credentials: c, source: Source::Sso, profile: Some(profile.clone()), arn: None };
    if !ctx.refresh
        && let Some(c) = cli_cache::read_valid(&cache, ctx.clock.now())
    {
        return Ok(done(c.credentials));
    }
    let t = TokenFor {
        session: session.clone(),
        start_url: start_url.clone(),
        region: sso_region.clone(),
        profile: Some(profile.clone()),
    };
    let token = token(ctx, &t).await?;
    let _guard = lock(ctx, cache.clone(), format!("getting SSO role credentials for the profile `{profile}`")).await?;
    if !ctx.refresh
        && let Some(c) = cli_cache::read_valid(&cache, ctx.clock.now())
    {
        return Ok(done(c.credentials));
    }
    let out = ctx
        .settings
        .sso(sso_region)
        .get_role_credentials()
        .access_token(token.access_token.expose())
        .account_id(account_id)
        .role_name(role_name)
        .send()
        .await
        .map_err(|e| {
            let unauthorized = e.as_service_error().is_some_and(|s| s.is_unauthorized_exception());
            if unauthorized {
                return CredentialError::SsoTokenRevoked {
                    what: t.what(),
                    detail: "sso:GetRoleCredentials answered UnauthorizedException".into(),
                    command: t.login_command(),
                }
                .into();
            }
            sdk_error("sso:GetRoleCredentials", Some(&format!("{account_id}/{role_name}")), Some(t.login_command()), e)
        })?;
    let rc = out.role_credentials().ok_or_else(|| {
        Error::Service(crate::error::ServiceError {
            operation: "sso:GetRoleCredentials".into(),
            code: None,
            message: "no roleCredentials in the answer".into(),
        })
    })?;
    let creds = Credentials {
        access_key_id: rc.access_key_id().unwrap_or_default().to_string(),
        secret_access_key: Secret::new(rc.secret_access_key().unwrap_or_default()),
        session_token: rc.session_token().map(Secret::new),
        expiration: OffsetDateTime::from_unix_timestamp(rc.expiration() / 1000).ok(),
        account_id: Some(account_id.clone()),
    };
    cli_cache::write_sso_role(&cache, &creds)
        .map_err(|e| Error::Io { context: format!("writing {}", cache.display()), source: e })?;
    Ok(done(creds))
}

#[cfg(test)]
mod clock_tests {
    //! The refresh window at a fixed instant: no network is reachable here (the endpoints point
    //! at a closed port), so any refresh attempt would show up as a failure.
    use super::*;
    use crate::cache::sso::{SsoToken, write_token};
    use crate::config::AwsFiles;
    use crate::os::Env;

    const NOW: OffsetDateTime = time::macros::datetime!(2026-11-28 12:00 UTC);

    fn token_expiring_in(minutes: i64, refreshable: bool) -> SsoToken {
        serde_json::from_value(serde_json::json!({
            "startUrl": "https://d-0000000000.awsapps.com/start",
            "region": "us-east-1",
            "accessToken": "aoa-token",
            "expiresAt": format_z(NOW + time::Duration::minutes(minutes)),
            "refreshToken": refreshable.then_some("aor-refresh"),
            "clientId": refreshable.then_some("client"),
            "clientSecret": refreshable.then_some("secret"),
            "registrationExpiresAt": refreshable.then(|| format_z(NOW + time::Duration::days(30))),
        }))
        .unwrap()
    }

    async fn token_at(minutes: i64, refreshable: bool) -> Result<SsoToken, Error> {
        let home = tempfile::tempdir().unwrap();
        let env = Env::from_pairs([
            ("HOME", home.path().to_str().unwrap()),
            ("AWS_ENDPOINT_URL_SSO_OIDC", "http://127.0.0.1:9"),
            ("AWS_MAX_ATTEMPTS", "1"),
        ]);
        let mut world = crate::credentials::TestWorld::new(env, AwsFiles::from_text("", ""), NOW);
        world.settings.connect_timeout = std::time::Duration::from_millis(200);
        let ctx = world.ctx(None);
        let t = TokenFor {
            session: Some("corp".into()),
            start_url: "https://d-0000000000.awsapps.com/start".into(),
            region: "us-east-1".into(),
            profile: None,
        };
        write_token(&t.path(&ctx), &token_expiring_in(minutes, refreshable)).unwrap();
        token(&ctx, &t).await
    }

    #[tokio::test]
    async fn outside_the_window_the_cached_token_is_used_as_is() {
        assert_eq!(token_at(16, true).await.unwrap().access_token.expose(), "aoa-token");
    }

    #[tokio::test]
    async fn inside_the_window_a_token_that_cannot_refresh_is_still_used_until_it_expires() {
        assert_eq!(token_at(14, false).await.unwrap().access_token.expose(), "aoa-token");
        // Refreshable: the refresh is attempted (and fails here), the still-valid token serves.
        assert_eq!(token_at(14, true).await.unwrap().access_token.expose(), "aoa-token");
    }

    #[tokio::test]
    async fn an_expired_token_is_an_error_naming_why() {
        let e = token_at(-1, false).await.unwrap_err();
        assert!(e.to_string().contains("expired at 2026-11-28T11:59:00Z (no refresh token)"), "{e}");
        assert_eq!(e.exit_code(), 3);
    }
}
