//! AssumeRoleWithWebIdentity from a token file (profile `web_identity_token_file` + `role_arn`, or
//! AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN), cached like assume-role credentials.

use std::path::Path;

use time::OffsetDateTime;

use super::{Context, Resolved, Source, sdk_error};
use crate::cache::cli::{self as cli_cache, AssumeRoleKey};
use crate::env_vars;
use crate::error::{CredentialError, Error, ServiceError};
use crate::secret::{Credentials, Secret};

/// Web identity credentials for a role.
pub async fn credentials(
    ctx: &Context<'_>,
    profile: &str,
    role_arn: &str,
    token_file: &Path,
    session_name: Option<&str>,
) -> Result<Resolved, Error> {
    let key = AssumeRoleKey {
        role_arn: role_arn.into(),
        role_session_name: session_name.map(str::to_string),
        ..AssumeRoleKey::default()
    };
    let path = cli_cache::assume_role_path(&ctx.cli_cache(), &key);
    if !ctx.refresh
        && let Some(c) = cli_cache::read_valid(&path, ctx.clock.now())
    {
        return Ok(Resolved {
            credentials: c.credentials,
            source: Source::WebIdentity,
            profile: Some(profile.into()),
            arn: c.arn,
        });
    }
    let token = std::fs::read_to_string(token_file)
        .map_err(|e| CredentialError::WebIdentityToken { path: token_file.into(), source: e })?;
    let name = session_name
        .map(str::to_string)
        .unwrap_or_else(|| format!("botocore-session-{}", ctx.clock.now().unix_timestamp()));
    let out = ctx
        .settings
        .sts(None)
        .assume_role_with_web_identity()
        .role_arn(role_arn)
        .role_session_name(name)
        .web_identity_token(token.trim())
        .send()
        .await
        .map_err(|e| sdk_error("sts:AssumeRoleWithWebIdentity", Some(role_arn), None, e))?;
    let c = out.credentials().ok_or_else(|| {
        Error::Service(ServiceError {
            operation: "sts:AssumeRoleWithWebIdentity".into(),
            code: None,
            message: "no Credentials".into(),
        })
    })?;
    let arn = out.assumed_role_user().map(|u| u.arn().to_string());
    let creds = Credentials {
        access_key_id: c.access_key_id().into(),
        secret_access_key: Secret::new(c.secret_access_key()),
        session_token: Some(Secret::new(c.session_token())),
        expiration: OffsetDateTime::from_unix_timestamp(c.expiration().secs()).ok(),
        account_id: arn.as_deref().and_then(|a| a.split(':').nth(4)).map(str::to_string),
    };
    let id = out.assumed_role_user().map(|u| u.assumed_role_id().to_string()).unwrap_or_default();
    cli_cache::write_assume_role(&path, &creds, &id, arn.as_deref().unwrap_or_default())
        .map_err(|e| Error::Io { context: format!("writing {}", path.display()), source: e })?;
    Ok(Resolved { credentials: creds, source: Source::WebIdentity, profile: Some(profile.into()), arn })
}

/// Web identity from AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, if both are set.
pub async fn from_env(ctx: &Context<'_>) -> Result<Option<Resolved>, Error> {
    let (Some(file), Some(role)) =
        (ctx.env.get(env_vars::AWS_WEB_IDENTITY_TOKEN_FILE), ctx.env.get(env_vars::AWS_ROLE_ARN))
    else {
        return Ok(None);
    };
    let mut r = credentials(
        ctx,
        "(environment)",
        role,
        &ctx.env.expand_path(file),
        ctx.env.get(env_vars::AWS_ROLE_SESSION_NAME),
    )
    .await?;
    r.profile = None;
    Ok(Some(r))
}
