//! Container and EC2 instance credentials, and `credential_source`.
//!
//! The container endpoint is our own small client: aws-config's `EcsCredentialsProvider` reads
//! the process environment (its `ProviderConfig::with_env` is crate-private), and our chain
//! resolves from the injected one. It follows botocore's `ContainerProvider`: the relative URI
//! under 169.254.170.2, else the full URI when it is HTTPS or a loopback / ECS / EKS address; the
//! token from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read each time) or
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN`; three attempts of 2 s; the JSON `AccessKeyId`,
//! `SecretAccessKey`, `Token`, `Expiration`, `AccountId`. IMDS stays aws-config's provider (it
//! takes an explicit endpoint, so the injected environment reaches it).

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

/// The ECS task metadata address the relative URI is under.
const ECS_HOST: &str = "http://169.254.170.2";

fn container_error(message: String) -> Error {
    CredentialError::Rejected {
        operation: "container credentials".into(),
        arn: None,
        code: "ProviderError".into(),
        message,
        command: None,
    }
    .into()
}

/// The endpoint the injected environment names, if any; a full URI must be HTTPS or on a
/// loopback, ECS or EKS address (credentials never go to an arbitrary host in clear text).
fn container_endpoint(env: &crate::os::Env) -> Result<Option<String>, Error> {
    if let Some(rel) = env.get(env_vars::AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) {
        return Ok(Some(format!("{ECS_HOST}{rel}")));
    }
    let Some(full) = env.get(env_vars::AWS_CONTAINER_CREDENTIALS_FULL_URI) else { return Ok(None) };
    let uri: http::Uri = full.parse().map_err(|_| {
        container_error(format!("AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL: {}", crate::text::clip(full)))
    })?;
    let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    let allowed_http = host == "localhost"
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| {
            ip.is_loopback() || ["169.254.170.2", "169.254.170.23", "fd00:ec2::23"].iter().any(|a| a.parse() == Ok(ip))
        });
    match uri.scheme_str() {
        Some("https") => Ok(Some(full.to_string())),
        Some("http") if allowed_http => Ok(Some(full.to_string())),
        _ => Err(container_error(format!(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI must be HTTPS, or HTTP on a loopback, ECS or EKS address, not {}",
            crate::text::clip(full)
        ))),
    }
}

/// The authorization token: the token file's (trimmed) content, else the variable.
fn container_token(env: &crate::os::Env) -> Result<Option<Secret>, Error> {
    let token = match env.get(env_vars::AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE) {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| container_error(format!("reading the token file {path}: {e}")))?
                .trim()
                .to_string(),
        ),
        None => env.get(env_vars::AWS_CONTAINER_AUTHORIZATION_TOKEN).map(str::to_string),
    };
    match token {
        Some(t) if t.contains(['\r', '\n']) => {
            Err(container_error("the container authorization token holds a line break".into()))
        }
        t => Ok(t.map(Secret::new)),
    }
}

fn parse_container(body: &[u8]) -> Result<Credentials, String> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let field = |k: &str| v.get(k).and_then(serde_json::Value::as_str);
    let (Some(id), Some(secret)) = (field("AccessKeyId"), field("SecretAccessKey")) else {
        return Err("the answer has no AccessKeyId / SecretAccessKey".into());
    };
    Ok(Credentials {
        access_key_id: id.into(),
        secret_access_key: Secret::new(secret),
        session_token: field("Token").map(Secret::new),
        expiration: field("Expiration").and_then(crate::cache::parse_timestamp),
        account_id: field("AccountId").map(str::to_string),
    })
}

/// The container credentials endpoint, when AWS_CONTAINER_CREDENTIALS_* is set.
pub async fn container(ctx: &Context<'_>) -> Result<Option<Resolved>, Error> {
    let Some(url) = container_endpoint(ctx.env)? else { return Ok(None) };
    let mut last = String::new();
    for attempt in 0..3 {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
        }
        // The token file is read for every attempt: the agent that writes it may rotate it.
        let token = container_token(ctx.env)?;
        let headers: Vec<(&str, &str)> = token.as_ref().map(|t| ("Authorization", t.expose())).into_iter().collect();
        match crate::client::http::get(&url, &headers, std::time::Duration::from_secs(2), 1024 * 1024).await {
            Ok(a) if a.status == 200 => {
                let credentials = parse_container(&a.body).map_err(container_error)?;
                return Ok(Some(Resolved { credentials, source: Source::Container, profile: None, arn: None }));
            }
            // A refusal does not get better by asking again.
            Ok(a) if (400..500).contains(&a.status) => {
                let text = String::from_utf8_lossy(&a.body);
                return Err(container_error(format!(
                    "the endpoint answered HTTP {}: {}",
                    a.status,
                    crate::text::clip(text.trim())
                )));
            }
            Ok(a) => last = format!("the endpoint answered HTTP {}", a.status),
            Err(e) => last = e,
        }
    }
    Err(container_error(format!("{last} (3 attempts)")))
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

#[cfg(test)]
mod container_tests {
    use super::*;
    use crate::os::Env;

    #[test]
    fn endpoints_follow_botocore() {
        let env = Env::from_pairs([("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc")]);
        assert_eq!(container_endpoint(&env).unwrap().as_deref(), Some("http://169.254.170.2/v2/credentials/abc"));
        for ok in [
            "https://creds.example.com/x",
            "http://127.0.0.1:9/x",
            "http://localhost/x",
            "http://169.254.170.23/v1/credentials",
            "http://[fd00:ec2::23]/x",
            "http://[::1]:8/x",
        ] {
            let env = Env::from_pairs([("AWS_CONTAINER_CREDENTIALS_FULL_URI", ok)]);
            assert_eq!(container_endpoint(&env).unwrap().as_deref(), Some(ok), "{ok}");
        }
        for bad in ["http://198.51.100.7/x", "ftp://127.0.0.1/x", "not a url"] {
            let env = Env::from_pairs([("AWS_CONTAINER_CREDENTIALS_FULL_URI", bad)]);
            assert!(container_endpoint(&env).is_err(), "{bad}");
        }
        assert_eq!(container_endpoint(&Env::default()).unwrap(), None);
    }

    /// The endpoint and token come from the injected environment, not the process's: a tiny
    /// local endpoint that checks the token answers the chain.
    #[tokio::test]
    async fn the_chain_reads_the_container_endpoint_from_the_injected_environment() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/creds", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = vec![0u8; 4096];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_lowercase();
                let (status, body) = if req.contains("authorization: injected-token") {
                    (
                        "200 OK",
                        r#"{"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"s","Token":"t","Expiration":"2099-01-01T00:00:00Z"}"#,
                    )
                } else {
                    ("401 Unauthorized", r#"{"message":"bad token"}"#)
                };
                let resp =
                    format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                let _ = sock.write_all(resp.as_bytes()).await;
            }
        });
        let world = crate::credentials::TestWorld::new(
            Env::from_pairs([
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", url.as_str()),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "injected-token"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ]),
            crate::config::AwsFiles::from_text("", ""),
            time::OffsetDateTime::UNIX_EPOCH,
        );
        let r = container(&world.ctx(None)).await.unwrap().unwrap();
        assert_eq!((r.credentials.access_key_id.as_str(), r.source), ("ASIACONTAINER", Source::Container));
        let world = crate::credentials::TestWorld::new(
            Env::from_pairs([
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", url.as_str()),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong"),
            ]),
            crate::config::AwsFiles::from_text("", ""),
            time::OffsetDateTime::UNIX_EPOCH,
        );
        let e = container(&world.ctx(None)).await.unwrap_err().to_string();
        assert!(e.contains("HTTP 401") && e.contains("bad token") && !e.contains("wrong"), "{e}");
    }

    #[test]
    fn the_token_file_wins_and_line_breaks_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "from-file\n").unwrap();
        let env = Env::from_pairs([
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file.to_str().unwrap()),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "from-env"),
        ]);
        assert_eq!(container_token(&env).unwrap().unwrap().expose(), "from-file");
        let env = Env::from_pairs([("AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nX-Injected: 1")]);
        assert!(container_token(&env).is_err());
        let c = parse_container(br#"{"AccessKeyId":"ASIA1","SecretAccessKey":"s","Token":"t","Expiration":"2026-11-28T12:00:00Z","AccountId":"111111111111"}"#).unwrap();
        assert_eq!((c.access_key_id.as_str(), c.account_id.as_deref()), ("ASIA1", Some("111111111111")));
        assert!(c.expiration.is_some());
        assert!(parse_container(b"{}").is_err());
    }
}
