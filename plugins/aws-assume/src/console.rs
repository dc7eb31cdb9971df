//! `--console`: an AWS console sign-in URL through the federation endpoint
//! (peers-and-formats.md §3.4). An IAM user's long-term keys first get GetFederationToken
//! credentials (the federation endpoint refuses long-term keys and GetSessionToken sessions);
//! `SessionDuration` is sent only for a role assumed with long-term credentials, where AWS
//! allows it, never for chained sessions or federation tokens.

use serde_json::json;
use shared::config::{Base, Plan};
use shared::credentials::{Resolved, sdk_error};
use shared::error::{Error, ServiceError};
use shared::os::Env;
use shared::secret::{Credentials, Secret};

/// Environment variable that moves the federation endpoint (tests, other partitions' proxies).
pub const FEDERATION_URL_ENV: &str = "AWS_ASSUME_FEDERATION_URL";

/// The federation endpoint from the environment: our own variable (the full URL) first, then the
/// SDKs' `AWS_ENDPOINT_URL_SIGNIN` (the service's base URL, to which `/federation` is added),
/// unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` turns configured endpoints off.
fn federation_endpoint(env: &Env) -> Option<String> {
    if let Some(url) = env.get(FEDERATION_URL_ENV) {
        return Some(url.to_string());
    }
    if env.flag(shared::env_vars::AWS_IGNORE_CONFIGURED_ENDPOINT_URLS) {
        return None;
    }
    env.get(shared::env_vars::AWS_ENDPOINT_URL_SIGNIN).map(|base| format!("{}/federation", base.trim_end_matches('/')))
}

fn partition_hosts(region: Option<&str>) -> (&'static str, &'static str) {
    match region {
        Some(r) if r.starts_with("cn-") => ("https://signin.amazonaws.cn/federation", "console.amazonaws.cn"),
        Some(r) if r.starts_with("us-gov-") => {
            ("https://signin.amazonaws-us-gov.com/federation", "console.amazonaws-us-gov.com")
        }
        _ => ("https://signin.aws.amazon.com/federation", "console.aws.amazon.com"),
    }
}

/// The sign-in URL for the plan's credentials.
pub async fn signin_url(
    env: &Env,
    settings: &shared::client::ClientSettings,
    plan: &Plan,
    resolved: &Resolved,
    duration: Option<u64>,
    region: Option<&str>,
) -> Result<String, Error> {
    let long_term_user = plan.hops.is_empty() && matches!(&plan.base, Base::StaticKeys { session_token: None, .. });
    let mut session_duration = None;
    let creds: Credentials = if long_term_user {
        let name: String =
            plan.profile.chars().filter(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(*c)).take(32).collect();
        let name = if name.len() < 2 { "aws-assume".to_string() } else { name };
        let out = settings
            .sts(Some(&resolved.credentials))
            .get_federation_token()
            .name(name)
            .duration_seconds(i32::try_from(duration.unwrap_or(43_200)).unwrap_or(43_200))
            .send()
            .await
            .map_err(|e| {
                sdk_error("sts:GetFederationToken", None, Some(format!("aws-assume {} --console", plan.profile)), e)
            })?;
        let c = out.credentials().ok_or_else(|| {
            Error::Service(ServiceError {
                operation: "sts:GetFederationToken".into(),
                code: None,
                message: "no Credentials".into(),
            })
        })?;
        Credentials::new(c.access_key_id(), c.secret_access_key(), Some(c.session_token().to_string()))
    } else {
        let chained = plan.hops.len() > 1 || !matches!(&plan.base, Base::StaticKeys { session_token: None, .. });
        if !plan.hops.is_empty() && !chained {
            session_duration = duration;
        }
        resolved.credentials.clone()
    };
    let (default_endpoint, console_host) = partition_hosts(region);
    let endpoint = federation_endpoint(env).unwrap_or_else(|| default_endpoint.to_string());
    let session = json!({
        "sessionId": creds.access_key_id,
        "sessionKey": creds.secret_access_key.expose(),
        "sessionToken": creds.session_token.as_ref().map(Secret::expose),
    })
    .to_string();
    let mut url = format!("{endpoint}?Action=getSigninToken&Session={}", shared::os::url_encode(&session));
    if let Some(d) = session_duration {
        url.push_str(&format!("&SessionDuration={d}"));
    }
    let fail = |message: String| {
        Error::Service(ServiceError { operation: "signin:getSigninToken".into(), code: None, message })
    };
    let (status, bytes) =
        get(&url).await.map_err(|e| fail(format!("the federation endpoint {endpoint} did not answer: {e}")))?;
    let body: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| fail(format!("the federation endpoint answered HTTP {status} without JSON: {e}")))?;
    let token = body["SigninToken"].as_str().ok_or_else(|| {
        fail(format!(
            "the federation endpoint answered HTTP {status}: {}",
            body["message"].as_str().unwrap_or("no SigninToken")
        ))
    })?;
    let region = region.unwrap_or("us-east-1");
    let destination = format!("https://{region}.{console_host}/console/home?region={region}");
    Ok(format!(
        "{endpoint}?Action=login&Issuer=aws-assume&Destination={}&SigninToken={}",
        shared::os::url_encode(&destination),
        shared::os::url_encode(token)
    ))
}

async fn get(url: &str) -> Result<(u16, bytes::Bytes), String> {
    let a = shared::client::http::get(url, &[], std::time::Duration::from_secs(20), 1024 * 1024).await?;
    Ok((a.status, a.body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_signin_variable_moves_the_federation_endpoint() {
        assert_eq!(federation_endpoint(&Env::default()), None);
        let env = Env::from_pairs([("AWS_ENDPOINT_URL_SIGNIN", "http://127.0.0.1:9/")]);
        assert_eq!(federation_endpoint(&env).as_deref(), Some("http://127.0.0.1:9/federation"));
        let env = Env::from_pairs([("AWS_ENDPOINT_URL_SIGNIN", "http://a"), (FEDERATION_URL_ENV, "http://b/fed")]);
        assert_eq!(federation_endpoint(&env).as_deref(), Some("http://b/fed"));
        let env =
            Env::from_pairs([("AWS_ENDPOINT_URL_SIGNIN", "http://a"), ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")]);
        assert_eq!(federation_endpoint(&env), None);
    }
}
