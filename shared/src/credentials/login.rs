//! `aws login` sessions (AWS CLI 2.32+): a profile with `login_session = <ARN>` gets its
//! credentials from `~/.aws/login/cache` (see [`crate::cache::login`]), refreshed with the
//! Sign-In service's CreateOAuth2Token (`POST {base}/v1/token`, unsigned, JSON) and a DPoP proof
//! (RFC 9449: an ES256 JWT over the request, signed with the session's P-256 key) when under 5
//! minutes remain, as botocore does. The refreshed session is written back in botocore's format so
//! `aws`, the SDKs and these tools keep sharing it.
//!
//! Why not aws-config's `credentials-login` provider: it refreshes without any lock between
//! processes (the refresh token rotates, so two processes refreshing at once lose the session:
//! aws-cli #10628), rewrites the file in place (a reader may see half of it), writes compact JSON
//! instead of botocore's, and reads the process environment rather than ours. Here the refresh runs
//! under the cache file's lock, single flight across processes, like the SSO and role caches.
//! The crypto is the `p256` crate's (ECDSA P-256 with SHA-256, SEC1/PKCS#8 PEM).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::DecodePrivateKey;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{Context, Resolved, Source};
use crate::cache::login::{self as cache, LoginToken, login_cache_dir, token_path};
use crate::cache::{format_z, parse_timestamp};
use crate::client::ClientSettings;
use crate::error::{CredentialError, Error, ServiceError};
use crate::fsutil::{FileLock, LockWait};
use crate::secret::{Credentials, Secret};

/// Credentials are refreshed when less than this is left (botocore's `_REFRESH_THRESHOLD`).
pub const REFRESH_WINDOW: time::Duration = time::Duration::minutes(5);

/// The client of the same-device flow (loopback redirect).
pub const SAME_DEVICE: &str = "arn:aws:signin:::devtools/same-device";
/// The client of the cross-device flow (`--remote`: the code is pasted).
pub const CROSS_DEVICE: &str = "arn:aws:signin:::devtools/cross-device";

/// The largest token answer we read (a few KiB in practice).
const MAX_ANSWER: usize = 256 * 1024;

/// The Sign-In endpoint for `region`: `AWS_ENDPOINT_URL_SIGNIN` / `AWS_ENDPOINT_URL` when set,
/// else the partition's `https://{region}.signin...` (the service's endpoint rules).
pub fn signin_base(settings: &ClientSettings, region: &str) -> String {
    if let Some(url) = settings.endpoint("SIGNIN") {
        return url.trim_end_matches('/').to_string();
    }
    let suffix = if region.starts_with("cn-") {
        "signin.amazonaws.cn"
    } else if region.starts_with("us-gov-") {
        "signin.amazonaws-us-gov.com"
    } else if region.starts_with("eusc-") {
        "signin.amazonaws-eusc.eu"
    } else {
        "signin.aws.amazon.com"
    };
    format!("https://{region}.{suffix}")
}

/// A session's DPoP key: signs the proofs its refresh token is bound to.
pub struct DpopKey(SigningKey);

impl DpopKey {
    /// A fresh key (every login makes one).
    pub fn generate() -> Self {
        Self(SigningKey::random(&mut rand_core::OsRng))
    }

    /// Reads the cache's `dpopKey`: SEC1 (`EC PRIVATE KEY`, what the AWS CLI writes) or PKCS#8
    /// (`PRIVATE KEY`, in the SDKs' test data).
    pub fn from_pem(pem: &str) -> Option<Self> {
        let pem = pem.trim();
        if let Ok(k) = p256::SecretKey::from_sec1_pem(pem) {
            return Some(Self(k.into()));
        }
        p256::SecretKey::from_pkcs8_pem(pem).ok().map(|k| Self(k.into()))
    }

    /// SEC1 PEM with 64-column lines and a final newline, as the AWS CLI writes it: the DER
    /// `ECPrivateKey {version 1, privateKey, [0] prime256v1, [1] publicKey}`. Built by hand
    /// because p256's SEC1 encoder leaves out the optional `[0]` curve OID, and awscrt (which
    /// botocore[crt] reads the key with) refuses a key without it. For P-256 the structure has a
    /// fixed length (121 bytes), so the template is exact.
    pub fn to_pem(&self) -> Secret {
        let secret = zeroize::Zeroizing::new(self.0.to_bytes());
        let point = self.0.verifying_key().to_encoded_point(false);
        let mut der = zeroize::Zeroizing::new(Vec::with_capacity(121));
        der.extend_from_slice(&[0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20]);
        der.extend_from_slice(&secret);
        der.extend_from_slice(&[0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);
        der.extend_from_slice(&[0xa1, 0x44, 0x03, 0x42]);
        der.push(0x00);
        der.extend_from_slice(point.as_bytes());
        let b64 = zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*der));
        let mut pem = String::from("-----BEGIN EC PRIVATE KEY-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            pem.push('\n');
        }
        pem.push_str("-----END EC PRIVATE KEY-----\n");
        Secret::new(pem)
    }

    /// The public key as a JWK (`kty, x, y, crv`, botocore's member order).
    pub fn jwk(&self) -> Value {
        let point = self.0.verifying_key().to_encoded_point(false);
        json!({
            "kty": "EC",
            "x": URL_SAFE_NO_PAD.encode(point.x().expect("uncompressed point")),
            "y": URL_SAFE_NO_PAD.encode(point.y().expect("uncompressed point")),
            "crv": "P-256",
        })
    }

    /// The DPoP proof for a POST to `htu`: header `{typ: dpop+jwt, alg: ES256, jwk}`, payload
    /// `{htm, htu, iat, jti}`, signature r||s (64 bytes), all base64url without padding.
    pub fn proof(&self, htu: &str, iat: i64, jti: &str) -> String {
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk()});
        let payload = json!({"htm": "POST", "htu": htu, "iat": iat, "jti": jti});
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(payload.to_string()));
        let sig: Signature = self.0.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }
}

/// What CreateOAuth2Token answered.
#[derive(Debug)]
pub struct TokenOutput {
    /// The new credentials.
    pub access_key_id: String,
    /// Secret key.
    pub secret_access_key: Secret,
    /// Session token.
    pub session_token: Secret,
    /// Seconds they last (at most 900).
    pub expires_in: i64,
    /// The next refresh token.
    pub refresh_token: Secret,
    /// `aws_sigv4`
    pub token_type: Option<String>,
    /// The OpenID token (authorization-code grant only).
    pub id_token: Option<String>,
}

/// Why CreateOAuth2Token failed.
#[derive(Debug)]
pub enum TokenError {
    /// The service refused: its error type (AccessDeniedException, ValidationException, ...) and
    /// `error` code (TOKEN_EXPIRED, USER_CREDENTIALS_CHANGED, INSUFFICIENT_PERMISSIONS,
    /// AUTHCODE_EXPIRED, INVALID_REQUEST, ...).
    Refused {
        /// HTTP status.
        status: u16,
        /// Error type.
        kind: String,
        /// OAuth2 error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// Not answered, or not understood.
    Failed(String),
}

impl TokenError {
    /// Whether the session is over and only a new sign-in helps (botocore's LoginRefreshRequired,
    /// plus a refresh token the service no longer knows).
    pub fn needs_login(&self) -> bool {
        matches!(self, TokenError::Refused { code, .. }
            if matches!(code.as_str(), "TOKEN_EXPIRED" | "USER_CREDENTIALS_CHANGED" | "INVALID_REQUEST" | "AUTHCODE_EXPIRED"))
    }
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Refused { code, message, kind, .. } => {
                let why = match code.as_str() {
                    "TOKEN_EXPIRED" => "the session has ended (its refresh token expired)",
                    "USER_CREDENTIALS_CHANGED" => "the console password changed or the session was revoked",
                    "INSUFFICIENT_PERMISSIONS" => {
                        "the principal may not call signin:CreateOAuth2Token (policy SignInLocalDevelopmentAccess)"
                    }
                    "AUTHCODE_EXPIRED" => "the authorization code expired",
                    "INVALID_REQUEST" => {
                        "the request was refused as invalid (a superseded refresh token, a proof the service did not accept, or another region)"
                    }
                    _ => "the Sign-In service refused",
                };
                write!(f, "{why} ({kind} {code}: {})", crate::text::clip(&crate::text::clean(message)))
            }
            TokenError::Failed(m) => write!(f, "{m}"),
        }
    }
}

/// Calls CreateOAuth2Token at `base` with `input` (the token input's fields) and a fresh DPoP
/// proof. Retried (a new proof each time, `AWS_MAX_ATTEMPTS` at most 5) on throttling and server
/// errors, as the SDKs retry; a refusal is never retried.
pub async fn create_token(
    settings: &ClientSettings,
    clock: &dyn crate::os::Clock,
    base: &str,
    key: &DpopKey,
    input: &Value,
) -> Result<TokenOutput, TokenError> {
    let url = format!("{base}/v1/token");
    let body = bytes::Bytes::from(input.to_string());
    let attempts = settings.max_attempts.clamp(1, 5);
    let mut last = TokenError::Failed("not sent".into());
    for attempt in 1..=attempts {
        let proof = key.proof(&url, clock.now().unix_timestamp(), &uuid::Uuid::new_v4().to_string());
        let headers = [("content-type", "application/json"), ("accept", "application/json"), ("dpop", proof.as_str())];
        let answer = crate::client::http::send(
            http::Method::POST,
            &url,
            &headers,
            body.clone(),
            settings.connect_timeout.max(Duration::from_secs(1)) * 10,
            MAX_ANSWER,
        )
        .await
        .map_err(|e| TokenError::Failed(format!("signin:CreateOAuth2Token at {url}: {e}")))?;
        match parse_answer(answer) {
            Err(e @ TokenError::Refused { status: 429 | 500 | 502 | 503 | 504, .. }) if attempt < attempts => {
                last = e;
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
            other => return other,
        }
    }
    Err(last)
}

fn parse_answer(answer: crate::client::http::Answer) -> Result<TokenOutput, TokenError> {
    let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    if answer.status >= 300 {
        // rest-json: the type in x-amzn-errortype (maybe with a `:namespace` tail), else the body.
        // Names from the server are shown: escaped and bounded like every other server text.
        let shown = |t: &str| crate::text::clip(&crate::text::clean(t)).to_string();
        let kind = answer
            .header("x-amzn-errortype")
            .map(|t| shown(t.split(':').next().unwrap_or(t)))
            .or_else(|| body.get("__type").and_then(Value::as_str).map(|t| shown(t.rsplit('#').next().unwrap_or(t))))
            .unwrap_or_else(|| format!("HTTP {}", answer.status));
        let text = |k: &str| shown(body.get(k).and_then(Value::as_str).unwrap_or_default());
        return Err(TokenError::Refused {
            status: answer.status,
            kind,
            code: text("error"),
            message: body.get("message").or(body.get("Message")).and_then(Value::as_str).unwrap_or("").to_string(),
        });
    }
    let s = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_string);
    let at = &body["accessToken"];
    match (s(&at["accessKeyId"]), s(&at["secretAccessKey"]), s(&at["sessionToken"]), s(&body["refreshToken"])) {
        (Some(id), Some(secret), Some(token), Some(refresh)) => Ok(TokenOutput {
            access_key_id: id,
            secret_access_key: Secret::new(secret),
            session_token: Secret::new(token),
            // The model caps it at 900 s; a hostile or broken answer cannot make it years.
            expires_in: body["expiresIn"].as_i64().unwrap_or(900).clamp(1, 900),
            refresh_token: Secret::new(refresh),
            token_type: s(&body["tokenType"]),
            id_token: s(&body["idToken"]),
        }),
        _ => Err(TokenError::Failed(
            "signin:CreateOAuth2Token answered without accessToken credentials or refreshToken".into(),
        )),
    }
}

/// The command that signs in again.
pub fn login_command(profile: &str) -> String {
    format!("aws login --profile {profile}")
}

/// Credentials for a profile with `login_session`.
pub async fn credentials(ctx: &Context<'_>, profile: &str, session: &str) -> Result<Resolved, Error> {
    let path = token_path(&login_cache_dir(ctx.env), session);
    let fail = |reason: String| -> Error {
        CredentialError::LoginSession {
            profile: profile.into(),
            session: session.into(),
            reason,
            command: login_command(profile),
        }
        .into()
    };
    let done = |t: &LoginToken| Resolved {
        credentials: to_credentials(t),
        source: Source::Login,
        profile: Some(profile.into()),
        arn: Some(session.into()),
    };
    let now = ctx.clock.now();
    let quick = cache::read_token(&path).map_err(|m| fail(m.to_string()))?;
    if !ctx.refresh && quick.expires().is_some_and(|e| e - now > REFRESH_WINDOW) {
        return Ok(done(&quick));
    }
    let mut wait = LockWait::new(format!("refreshing the `aws login` session of the profile `{profile}`"), ctx.env);
    wait.limit = wait.limit.max(Duration::from_secs(60));
    let _guard = FileLock::acquire_async(path.clone(), wait).await?;
    // Another process may have refreshed it while we waited: its refresh token is now the only
    // valid one, so re-read before deciding.
    let mut token = cache::read_token(&path).map_err(|m| fail(m.to_string()))?;
    let expires = token.expires().unwrap_or(OffsetDateTime::UNIX_EPOCH);
    if !ctx.refresh && expires - now > REFRESH_WINDOW {
        return Ok(done(&token));
    }
    if token.access_token.account_id.is_none() {
        return Err(fail("its cache file has no accessToken.accountId, which a refresh needs".into()));
    }
    let key = DpopKey::from_pem(token.dpop_key.expose())
        .ok_or_else(|| fail("its dpopKey is not a P-256 private key in PEM".into()))?;
    let region = token
        .sign_in_region
        .clone()
        .or_else(|| ctx.files.profile(profile).ok().and_then(|p| p.get("region").map(str::to_string)))
        .or_else(|| ctx.settings.region.clone())
        .unwrap_or_else(|| "us-east-1".into());
    let input = json!({
        "clientId": token.client_id,
        "refreshToken": token.refresh_token.expose(),
        "grantType": "refresh_token",
    });
    match create_token(ctx.settings, ctx.clock, &signin_base(ctx.settings, &region), &key, &input).await {
        Ok(out) => {
            let at = &mut token.access_token;
            at.access_key_id = out.access_key_id;
            at.secret_access_key = out.secret_access_key;
            at.session_token = out.session_token;
            at.expires_at = format_z(ctx.clock.now() + time::Duration::seconds(out.expires_in));
            token.refresh_token = out.refresh_token;
            cache::write_token(&path, &token)
                .map_err(|e| Error::Io { context: format!("writing {}", path.display()), source: e })?;
            Ok(done(&token))
        }
        // Still-valid credentials serve out their last minutes, as botocore's advisory refresh
        // does, but only if they have a minute left: an export that dies at once helps no one.
        Err(e) if expires - now > time::Duration::minutes(1) => {
            if !ctx.quiet {
                eprintln!(
                    "warning: could not refresh the `aws login` session of the profile `{profile}`: {e}; its credentials expire at {}\nhint: run `{}`",
                    format_z(expires),
                    login_command(profile)
                );
            }
            Ok(done(&token))
        }
        Err(e) if e.needs_login() => Err(fail(e.to_string())),
        Err(TokenError::Refused { code, message, kind, .. }) if code == "INSUFFICIENT_PERMISSIONS" => {
            Err(CredentialError::Rejected {
                operation: "signin:CreateOAuth2Token".into(),
                arn: Some(session.into()),
                code: format!("{kind} {code}"),
                message: crate::text::clean(&message).into_owned(),
                command: Some(login_command(profile)),
            }
            .into())
        }
        Err(e) => {
            Err(ServiceError { operation: "signin:CreateOAuth2Token".into(), code: None, message: e.to_string() }
                .into())
        }
    }
}

fn to_credentials(t: &LoginToken) -> Credentials {
    Credentials {
        access_key_id: t.access_token.access_key_id.clone(),
        secret_access_key: t.access_token.secret_access_key.clone(),
        session_token: Some(t.access_token.session_token.clone()),
        expiration: parse_timestamp(&t.access_token.expires_at),
        account_id: t.access_token.account_id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier;

    fn b64json(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn a_proof_verifies_with_the_key_in_its_header_and_says_what_it_is_for() {
        let key = DpopKey::generate();
        let proof = key.proof("https://us-east-1.signin.aws.amazon.com/v1/token", 1_764_000_000, "jti-1");
        let parts: Vec<&str> = proof.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = b64json(parts[0]);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"]["crv"], "P-256");
        let payload = b64json(parts[1]);
        assert_eq!(
            payload,
            json!({"htm": "POST", "htu": "https://us-east-1.signin.aws.amazon.com/v1/token", "iat": 1_764_000_000, "jti": "jti-1"})
        );
        let x = URL_SAFE_NO_PAD.decode(header["jwk"]["x"].as_str().unwrap()).unwrap();
        let y = URL_SAFE_NO_PAD.decode(header["jwk"]["y"].as_str().unwrap()).unwrap();
        let point = p256::EncodedPoint::from_affine_coordinates(x.as_slice().into(), y.as_slice().into(), false);
        let vk = VerifyingKey::from_encoded_point(&point).unwrap();
        let sig = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
        vk.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig).unwrap();
        assert!(vk.verify(format!("{}.{}x", parts[0], parts[1]).as_bytes(), &sig).is_err());
    }

    #[test]
    fn keys_read_both_pem_forms_and_write_the_aws_clis() {
        // PKCS#8, as in the SDKs' shared login test cases.
        let pkcs8 = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+PNauWi/ihtwHHbq\n1tgc8Vgpwx0qQlNSN38y+z0igWehRANCAAR2Ntw6BXJ1v8jb9XjzKZJ+gL5f/3Jq\nIqiH2PUGKWxoFwNlcNB83FivEXEzlTbuCQK5OezOYb3gbvHuzKkB0nDX\n-----END PRIVATE KEY-----";
        let k = DpopKey::from_pem(pkcs8).expect("PKCS#8 reads");
        let sec1 = k.to_pem();
        assert!(sec1.expose().starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
        assert!(sec1.expose().ends_with("-----END EC PRIVATE KEY-----\n"));
        assert!(sec1.expose().lines().all(|l| l.len() <= 64));
        let again = DpopKey::from_pem(sec1.expose()).expect("SEC1 reads");
        assert_eq!(again.jwk(), k.jwk());
        // The AWS CLI's (awscrt's) encoding: with the curve OID, 121 bytes of DER.
        let body: String = sec1.expose().lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
        assert_eq!(der.len(), 121);
        assert_eq!(&der[39..51], &[0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);
        assert_eq!(
            p256::SecretKey::from_sec1_der(&der).unwrap().public_key(),
            p256::SecretKey::from_pkcs8_pem(pkcs8).unwrap().public_key()
        );
        assert!(DpopKey::from_pem("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----").is_none());
    }

    fn answer(status: u16, errortype: Option<&str>, body: Value) -> crate::client::http::Answer {
        let mut headers = http::HeaderMap::new();
        if let Some(t) = errortype {
            headers.insert("x-amzn-errortype", t.parse().unwrap());
        }
        crate::client::http::Answer { status, headers, body: body.to_string().into() }
    }

    #[test]
    fn answers_and_refusals() {
        let ok = parse_answer(answer(
            200,
            None,
            json!({"accessToken": {"accessKeyId": "ASIA1", "secretAccessKey": "s", "sessionToken": "t"},
                   "tokenType": "aws_sigv4", "expiresIn": 86_400, "refreshToken": "r2"}),
        ))
        .unwrap();
        assert_eq!((ok.access_key_id.as_str(), ok.expires_in, ok.refresh_token.expose()), ("ASIA1", 900, "r2"));
        assert!(parse_answer(answer(200, None, json!({"accessToken": {}}))).is_err());
        let refused = |t: &str, code: &str| {
            parse_answer(answer(400, Some(t), json!({"error": code, "message": "m\u{1b}[31m"}))).unwrap_err()
        };
        let e = refused("AccessDeniedException:http://internal.amazon.com/coral/", "TOKEN_EXPIRED");
        assert!(e.needs_login());
        assert!(e.to_string().starts_with("the session has ended"), "{e}");
        assert!(!e.to_string().contains('\u{1b}'), "server text is escaped: {e}");
        assert!(refused("AccessDeniedException", "USER_CREDENTIALS_CHANGED").needs_login());
        assert!(refused("ValidationException", "INVALID_REQUEST").needs_login());
        assert!(!refused("AccessDeniedException", "INSUFFICIENT_PERMISSIONS").needs_login());
        assert!(!refused("TooManyRequestsError", "server_error").needs_login());
    }

    #[test]
    fn endpoints_follow_the_partition_unless_overridden() {
        let s = ClientSettings::new(&crate::os::Env::default(), &crate::config::AwsFiles::from_text("", ""), None, 0)
            .unwrap();
        assert_eq!(signin_base(&s, "eu-west-1"), "https://eu-west-1.signin.aws.amazon.com");
        assert_eq!(signin_base(&s, "cn-north-1"), "https://cn-north-1.signin.amazonaws.cn");
        assert_eq!(signin_base(&s, "us-gov-west-1"), "https://us-gov-west-1.signin.amazonaws-us-gov.com");
        let env = crate::os::Env::from_pairs([("AWS_ENDPOINT_URL_SIGNIN", "http://127.0.0.1:9/")]);
        let s = ClientSettings::new(&env, &crate::config::AwsFiles::from_text("", ""), None, 0).unwrap();
        assert_eq!(signin_base(&s, "eu-west-1"), "http://127.0.0.1:9");
    }
}
