//! Container and EC2 instance credentials, through aws-config's providers (they implement the
//! endpoints, tokens and retries; nothing to gain by rewriting them), and `credential_source`.

use aws_credential_types::provider::ProvideCredentials;

use super::{Context, Resolved, Source, environment};
use crate::config::CredentialSourceKind;
use crate::env_vars;
use crate::error::{CredentialError, Error};
use crate::secret::{Credentials, Secret};

fn convert(c: &aws_credential_types::Credentials) -> Credentials {
    Credentials {
        access_key_id: c.access_key_id().into(),
        secret_access_key: Secret::new(c.secret_access_key()),
        session_token: c.session_token().map(Secret::new),
        expiration: c.expiry().and_then(|e| time::OffsetDateTime::from(e).into()),
        account_id: c.account_id().map(|a| a.as_str().to_string()),
    }
}

/// The container credentials endpoint, when AWS_CONTAINER_CREDENTIALS_* is set.
pub async fn container(ctx: &Context<'_>) -> Result<Option<Resolved>, Error> {
    if ctx.env.get(env_vars::AWS_CONTAINER_CREDENTIALS_RELATIVE_URI).is_none()
        && ctx.env.get(env_vars::AWS_CONTAINER_CREDENTIALS_FULL_URI).is_none()
    {
        return Ok(None);
    }
    let c = aws_config::ecs::EcsCredentialsProvider::builder().build().provide_credentials().await.map_err(|e| {
        CredentialError::Rejected {
            operation: "container credentials".into(),
            arn: None,
            code: "ProviderError".into(),
            message: super::error_chain(&e),
            command: None,
        }
    })?;
    Ok(Some(Resolved { credentials: convert(&c), source: Source::Container, profile: None, arn: None }))
}

/// The IMDS client, pointed where the injected environment says (AWS_EC2_METADATA_SERVICE_ENDPOINT,
/// else AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE): aws-config would read the process environment,
/// and its `ProviderConfig::with_env` is private. None for an endpoint that is not a URL.
fn imds_client(env: &crate::os::Env) -> Option<aws_config::imds::Client> {
    use aws_config::imds::client::EndpointMode;
    let b = aws_config::imds::Client::builder();
    let b = match env.get(env_vars::AWS_EC2_METADATA_SERVICE_ENDPOINT) {
        Some(url) => b.endpoint(url).ok()?,
        None => b.endpoint_mode(match env.get(env_vars::AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE) {
            Some(m) if m.eq_ignore_ascii_case("ipv6") => EndpointMode::IpV6,
            _ => EndpointMode::IpV4,
        }),
    };
    Some(b.build())
}

/// EC2 instance metadata, unless AWS_EC2_METADATA_DISABLED. Not reachable is "nothing here".
pub async fn imds(ctx: &Context<'_>) -> Result<Option<Resolved>, Error> {
    if ctx.env.flag(env_vars::AWS_EC2_METADATA_DISABLED) {
        return Ok(None);
    }
    let Some(client) = imds_client(ctx.env) else { return Ok(None) };
    match aws_config::imds::credentials::ImdsCredentialsProvider::builder()
        .imds_client(client)
        .build()
        .provide_credentials()
        .await
    {
        Ok(c) => Ok(Some(Resolved { credentials: convert(&c), source: Source::Imds, profile: None, arn: None })),
        Err(_) => Ok(None),
    }
}

/// `credential_source = Environment | Ec2InstanceMetadata | EcsContainer`.
pub async fn credential_source(
    ctx: &Context<'_>,
    profile: &str,
    source: CredentialSourceKind,
) -> Result<Resolved, Error> {
    let missing = |what: &str| -> Error {
        CredentialError::CredentialSourceEmpty {
            profile: profile.into(),
            source_name: what.into(),
            missing: match what {
                "Environment" => "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set".into(),
                "EcsContainer" => "no container credentials endpoint is configured or it did not answer".into(),
                _ => "the instance metadata service gave no credentials".into(),
            },
        }
        .into()
    };
    match source {
        CredentialSourceKind::Environment => {
            let c = environment::credentials(ctx.env, ctx.clock)?.ok_or_else(|| missing("Environment"))?;
            Ok(Resolved { credentials: c, source: Source::Env, profile: Some(profile.into()), arn: None })
        }
        CredentialSourceKind::EcsContainer => container(ctx).await?.ok_or_else(|| missing("EcsContainer")),
        CredentialSourceKind::Ec2InstanceMetadata => {
            let client = imds_client(ctx.env).ok_or_else(|| missing("Ec2InstanceMetadata"))?;
            let c = aws_config::imds::credentials::ImdsCredentialsProvider::builder()
                .imds_client(client)
                .build()
                .provide_credentials()
                .await
                .map_err(|_| missing("Ec2InstanceMetadata"))?;
            Ok(Resolved { credentials: convert(&c), source: Source::Imds, profile: Some(profile.into()), arn: None })
        }
    }
}
