//! The Sign-In service of `aws login` (AWS CLI 2.32+), as botocore's `signin` model and the AWS
//! CLI's login command use it:
//! - `GET /v1/authorize`: the browser step. Validates the request (client, redirect, PKCE with
//!   `SHA-256`, `scope=openid`, state) and, as the scenario's console user approves (or denies),
//!   redirects to the loopback `redirect_uri` (same-device) or to `/v1/sessions/confirmation`
//!   (cross-device), which shows the base64 `state=…&code=…` the user pastes.
//! - `POST /v1/token`: CreateOAuth2Token (rest-json, unsigned), the authorization-code grant with
//!   PKCE and the refresh grant. Every request needs a DPoP proof (RFC 9449), checked as the
//!   service does: ES256 signature by the key in its header, `typ`, `htm`, `htu` (this endpoint's
//!   URL), `iat` within five minutes of the real clock (the proof is made with the client's wall
//!   clock; `/_sandbox/clock` ages sessions, not proofs), `jti` never seen before, and, for a
//!   refresh, the key's thumbprint equal to the one the session was granted to. Refresh tokens
//!   rotate; a superseded one is refused with INVALID_REQUEST. A session lasts `session_ttl`
//!   (then TOKEN_EXPIRED, HTTP 400); `POST /_sandbox/signin/revoke` ends every session
//!   (USER_CREDENTIALS_CHANGED), as a console password change does.
//!
//! The credentials it issues are the emulator's own, so STS (GetCallerIdentity, AssumeRole with
//! MFA) and the console federation endpoint know them.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::state::{Identity, Kind, State, random_token};
use super::{Emulator, Reply, Service};

/// The two clients of the AWS CLI.
pub const SAME_DEVICE: &str = "arn:aws:signin:::devtools/same-device";
/// `aws login --remote`.
pub const CROSS_DEVICE: &str = "arn:aws:signin:::devtools/cross-device";

/// An authorization code waiting to be exchanged.
#[derive(Debug, Clone)]
pub struct LoginCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub expires: i64,
    pub used: bool,
}

/// A signed-in session: who, since when, bound to which key, and its current refresh token.
#[derive(Debug, Clone)]
pub struct LoginSession {
    pub client_id: String,
    pub principal: String,
    pub started: i64,
    pub thumbprint: String,
    pub refresh_token: String,
    pub revoked: bool,
    pub refreshes: u64,
}

/// The Sign-In service's part of the state.
#[derive(Debug, Default)]
pub struct LoginState {
    pub codes: HashMap<String, LoginCode>,
    pub sessions: Vec<LoginSession>,
    /// Every refresh token ever issued → the index of its session (superseded ones included).
    pub refresh_tokens: HashMap<String, usize>,
    pub seen_jti: std::collections::HashSet<String>,
}

/// A rest-json error of the Sign-In service: `x-amzn-errortype` and `{error, message}`.
pub fn error(status: StatusCode, kind: &str, code: &str, message: &str) -> Reply {
    let mut reply = Reply::json(status, &json!({ "error": code, "message": message }));
    reply.headers.push((header::HeaderName::from_static("x-amzn-errortype"), kind.into()));
    reply.error = Some(format!("{kind} {code}"));
    reply
}

fn invalid(message: &str) -> Reply {
    error(StatusCode::BAD_REQUEST, "ValidationException", "INVALID_REQUEST", message)
}

fn denied(code: &str, message: &str) -> Reply {
    error(StatusCode::BAD_REQUEST, "AccessDeniedException", code, message)
}

/// The console principal's identity and the kind of credentials it gets.
fn identity_of(arn: &str) -> Option<(Identity, Kind)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, _, service, _, account, resource] = parts[..] else { return None };
    let account = account.to_string();
    match (service, resource.split_once('/')) {
        ("iam", None) if resource == "root" => Some((Identity::Root { account }, Kind::SessionToken)),
        ("iam", Some(("user", rest))) => {
            let (path, name) = match rest.rsplit_once('/') {
                Some((p, n)) => (format!("/{p}/"), n.to_string()),
                None => ("/".to_string(), rest.to_string()),
            };
            Some((Identity::User { account, name, path }, Kind::SessionToken))
        }
        ("sts", Some(("assumed-role", rest))) => {
            let (role, session) = rest.split_once('/')?;
            Some((Identity::AssumedRole { account, role: role.into(), session: session.into() }, Kind::Role))
        }
        _ => None,
    }
}

/// The key the emulator signs its ID tokens with (fixed: tokens stay verifiable across restarts).
fn id_token_key() -> SigningKey {
    SigningKey::from_slice(&Sha256::digest(b"aws-companions sandbox sign-in")).expect("a valid P-256 scalar")
}

fn id_token(principal: &str, client_id: &str, now: i64) -> String {
    let header = json!({"kid": "sandbox", "typ": "JWT", "alg": "ES256"});
    let payload = json!({
        "sub": principal, "aud": client_id, "iss": "https://signin.aws.amazon.com/signin",
        "session_arn": principal, "iat": now, "exp": now + 900,
    });
    let input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(payload.to_string()));
    let sig: Signature = id_token_key().sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

/// RFC 7638 thumbprint of a P-256 JWK.
pub fn thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// Checks a DPoP proof for a POST to `htu`; returns its key's thumbprint.
pub fn verify_dpop(
    proof: &str,
    htu: &str,
    now: i64,
    seen: &mut std::collections::HashSet<String>,
) -> Result<String, String> {
    let parts: Vec<&str> = proof.split('.').collect();
    let [h, p, s] = parts[..] else { return Err("not a compact JWS (three parts)".into()) };
    let part = |x: &str| -> Result<Value, String> {
        let bytes = URL_SAFE_NO_PAD.decode(x).map_err(|_| "a part is not base64url".to_string())?;
        serde_json::from_slice(&bytes).map_err(|_| "a part is not JSON".to_string())
    };
    let (header, payload) = (part(h)?, part(p)?);
    if header["typ"] != "dpop+jwt" {
        return Err("typ is not dpop+jwt".into());
    }
    if header["alg"] != "ES256" {
        return Err("alg is not ES256".into());
    }
    let jwk = &header["jwk"];
    if jwk["kty"] != "EC" || jwk["crv"] != "P-256" {
        return Err("jwk is not an EC P-256 key".into());
    }
    let (Some(x), Some(y)) = (jwk["x"].as_str(), jwk["y"].as_str()) else { return Err("jwk has no x/y".into()) };
    let coord = |c: &str| URL_SAFE_NO_PAD.decode(c).ok().filter(|b| b.len() == 32);
    let (Some(xb), Some(yb)) = (coord(x), coord(y)) else { return Err("jwk x/y are not 32-byte coordinates".into()) };
    let point = p256::EncodedPoint::from_affine_coordinates(xb.as_slice().into(), yb.as_slice().into(), false);
    let key = VerifyingKey::from_encoded_point(&point).map_err(|_| "jwk is not a point on P-256".to_string())?;
    let sig = URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or("the signature is not a 64-byte ES256 signature")?;
    key.verify(format!("{h}.{p}").as_bytes(), &sig).map_err(|_| "the signature does not verify".to_string())?;
    if payload["htm"] != "POST" {
        return Err("htm is not POST".into());
    }
    if payload["htu"].as_str() != Some(htu) {
        return Err(format!("htu is not {htu}"));
    }
    let iat = payload["iat"].as_i64().ok_or("no iat")?;
    if (iat - now).abs() > 300 {
        return Err("iat is more than five minutes away".into());
    }
    let jti = payload["jti"].as_str().filter(|j| !j.is_empty()).ok_or("no jti")?;
    if !seen.insert(jti.to_string()) {
        return Err("jti was used before (a replayed proof)".into());
    }
    Ok(thumbprint(x, y))
}

/// Whether a loopback redirect is the AWS CLI's (`http://127.0.0.1:<port>/oauth/callback`).
fn loopback(uri: &str) -> bool {
    uri.strip_prefix("http://127.0.0.1:")
        .and_then(|r| r.split_once('/'))
        .is_some_and(|(port, path)| port.parse::<u16>().is_ok() && path == "oauth/callback")
}

fn page(title: &str, body: &str) -> Reply {
    Reply::html(format!(
        "<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"
    ))
}

/// `GET /v1/authorize?response_type=code&client_id&state&code_challenge_method=SHA-256&scope=openid&redirect_uri&code_challenge`
pub async fn authorize(AxState(emu): AxState<Emulator>, Query(q): Query<HashMap<String, String>>) -> Response {
    let logged = super::to_params(q.iter().filter(|(k, _)| *k != "code_challenge"));
    let base = emu.base_url();
    emu.clone()
        .call(Service::Login, "Authorize", logged, None, move |st| {
            let get = |k: &str| q.get(k).cloned().unwrap_or_default();
            let (client_id, redirect, state) = (get("client_id"), get("redirect_uri"), get("state"));
            let confirmation = format!("{base}/v1/sessions/confirmation");
            let redirect_ok = match client_id.as_str() {
                SAME_DEVICE => loopback(&redirect),
                CROSS_DEVICE => redirect == confirmation,
                _ => return page("Sign-in failed", "<p>Unknown client_id.</p>"),
            };
            if !redirect_ok {
                return page("Sign-in failed", "<p>redirect_uri is not allowed for this client.</p>");
            }
            let back = |pairs: &[(&str, &str)]| {
                let query: Vec<String> =
                    pairs.iter().map(|(k, v)| format!("{k}={}", shared::os::url_encode(v))).collect();
                Reply::redirect(format!("{redirect}?{}", query.join("&")))
            };
            if get("response_type") != "code"
                || get("code_challenge_method") != "SHA-256"
                || get("scope") != "openid"
                || state.is_empty()
                || get("code_challenge").len() < 43
            {
                return back(&[("error", "invalid_request"), ("state", &state)]);
            }
            if !st.scenario.signin.approve {
                return back(&[("error", "access_denied"), ("state", &state)]);
            }
            let code = random_token(48);
            let expires = st.now() + st.scenario.signin.code_ttl as i64;
            st.login.codes.insert(
                code.clone(),
                LoginCode {
                    client_id,
                    redirect_uri: redirect.clone(),
                    code_challenge: get("code_challenge"),
                    expires,
                    used: false,
                },
            );
            back(&[("code", &code), ("state", &state)])
        })
        .await
}

/// `GET /v1/sessions/confirmation?code&state`: the cross-device page with the code to paste.
pub async fn confirmation(Query(q): Query<HashMap<String, String>>) -> Response {
    let (Some(code), Some(state)) = (q.get("code"), q.get("state")) else {
        return page("Sign-in failed", "<p>The sign-in was not completed.</p>").into_response(false);
    };
    let blob = STANDARD.encode(format!("state={state}&code={code}"));
    page(
        "Signed in",
        &format!("<p>Paste this code where you ran the login:</p><pre id=\"verification-code\">{blob}</pre>"),
    )
    .into_response(false)
}

/// `POST /v1/token`: CreateOAuth2Token.
pub async fn token(AxState(emu): AxState<Emulator>, headers: HeaderMap, body: Bytes) -> Response {
    let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut logged = input.as_object().cloned().unwrap_or_default();
    if headers.contains_key("dpop") {
        logged.insert("DPoP".into(), "<present>".into());
    }
    let proof = headers.get("dpop").and_then(|v| v.to_str().ok()).map(str::to_string);
    let htu = format!("{}/v1/token", emu.base_url());
    emu.clone()
        .call(Service::Login, "CreateOAuth2Token", logged, None, move |st| {
            let Some(input) = input.as_object() else { return invalid("the body is not a JSON object") };
            let get = |k: &str| input.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            let Some(proof) = proof else { return invalid("the DPoP header is missing") };
            let real_now = time::OffsetDateTime::now_utc().unix_timestamp();
            let thumb = match verify_dpop(&proof, &htu, real_now, &mut st.login.seen_jti) {
                Ok(t) => t,
                Err(why) => return invalid(&format!("invalid DPoP proof: {why}")),
            };
            let client_id = get("clientId");
            if client_id != SAME_DEVICE && client_id != CROSS_DEVICE {
                return invalid("clientId is not a devtools client");
            }
            match get("grantType").as_str() {
                "authorization_code" => {
                    exchange_code(st, &client_id, &get("code"), &get("redirectUri"), &get("codeVerifier"), thumb)
                }
                "refresh_token" => refresh(st, &client_id, &get("refreshToken"), &thumb),
                _ => invalid("grantType must be authorization_code or refresh_token"),
            }
        })
        .await
}

fn exchange_code(st: &mut State, client_id: &str, code: &str, redirect: &str, verifier: &str, thumb: String) -> Reply {
    let now = st.now();
    let Some(c) = st.login.codes.get_mut(code) else { return invalid("unknown authorization code") };
    if c.used {
        return invalid("the authorization code was already used");
    }
    c.used = true;
    if c.expires <= now {
        return denied("AUTHCODE_EXPIRED", "The authorization code has expired");
    }
    if c.client_id != client_id || (c.client_id == SAME_DEVICE && c.redirect_uri != redirect) {
        return invalid("clientId or redirectUri differ from the authorization request");
    }
    // The AWS CLI sends the url-safe base64 SHA-256 of the verifier, without its padding.
    let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if verifier.len() < 43 || c.code_challenge != expected {
        return invalid("codeVerifier does not match the code challenge");
    }
    let principal = st.scenario.signin.principal.clone().unwrap_or_else(|| {
        st.scenario
            .users
            .first()
            .map(|u| format!("arn:aws:iam::{}:user{}{}", u.account, u.path, u.name))
            .unwrap_or_default()
    });
    let refresh_token = format!("ASOR{}", random_token(80));
    st.login.sessions.push(LoginSession {
        client_id: client_id.into(),
        principal: principal.clone(),
        started: now,
        thumbprint: thumb,
        refresh_token: refresh_token.clone(),
        revoked: false,
        refreshes: 0,
    });
    let index = st.login.sessions.len() - 1;
    st.login.refresh_tokens.insert(refresh_token.clone(), index);
    let mut answer = issue(st, &principal, &refresh_token);
    if let Some(obj) = answer.as_object_mut() {
        obj.insert("idToken".into(), id_token(&principal, client_id, now).into());
    }
    Reply::json(StatusCode::OK, &answer)
}

fn refresh(st: &mut State, client_id: &str, token: &str, thumb: &str) -> Reply {
    let now = st.now();
    let Some(&index) = st.login.refresh_tokens.get(token) else { return invalid("unknown refresh token") };
    let session = st.login.sessions[index].clone();
    if session.refresh_token != token {
        return invalid("the refresh token was superseded by a later refresh");
    }
    if session.client_id != client_id {
        return invalid("clientId differs from the session's");
    }
    if session.thumbprint != thumb {
        return invalid("invalid DPoP proof: its key is not the one the session was granted to");
    }
    if session.revoked {
        return denied("USER_CREDENTIALS_CHANGED", "The user's credentials changed; sign in again");
    }
    if now >= session.started + st.scenario.signin.session_ttl as i64 {
        return denied("TOKEN_EXPIRED", "The session has expired; sign in again");
    }
    let next = format!("ASOR{}", random_token(80));
    st.login.sessions[index].refresh_token = next.clone();
    st.login.sessions[index].refreshes += 1;
    st.login.refresh_tokens.insert(next.clone(), index);
    let answer = issue(st, &session.principal, &next);
    Reply::json(StatusCode::OK, &answer)
}

fn issue(st: &mut State, principal: &str, refresh_token: &str) -> Value {
    let ttl = st.scenario.signin.credentials_ttl.clamp(1, 900);
    let (identity, kind) = identity_of(principal).unwrap_or((
        Identity::User { account: "000000000000".into(), name: "unknown".into(), path: "/".into() },
        Kind::SessionToken,
    ));
    let (id, cred) = st.issue(identity, ttl, false, kind, false);
    json!({
        "accessToken": {
            "accessKeyId": id,
            "secretAccessKey": cred.secret,
            "sessionToken": cred.token,
        },
        "tokenType": "aws_sigv4",
        "expiresIn": ttl,
        "refreshToken": refresh_token,
    })
}

/// `POST /_sandbox/signin/revoke`: ends every session (a console password change).
pub fn revoke_all(st: &mut State) -> usize {
    st.login.sessions.iter_mut().filter(|s| !s.revoked).map(|s| s.revoked = true).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals() {
        assert!(
            matches!(identity_of("arn:aws:iam::111111111111:user/alice"), Some((Identity::User { name, path, .. }, Kind::SessionToken)) if name == "alice" && path == "/")
        );
        assert!(
            matches!(identity_of("arn:aws:iam::111111111111:user/eng/bob"), Some((Identity::User { path, .. }, _)) if path == "/eng/")
        );
        assert!(matches!(
            identity_of("arn:aws:sts::1:assumed-role/Admin/me"),
            Some((Identity::AssumedRole { .. }, Kind::Role))
        ));
        assert!(identity_of("not-an-arn").is_none());
    }

    /// A JWS over `header` and `payload` signed by `key` (the proof's own jwk in the header).
    fn jws(key: &SigningKey, mut header: Value, payload: Value) -> String {
        let point = key.verifying_key().to_encoded_point(false);
        header["jwk"] = json!({
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()), "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
        });
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(payload.to_string()));
        let sig: Signature = key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }

    #[test]
    fn dpop_checks_each_claim() {
        let key = SigningKey::from_slice(&Sha256::digest(b"test key")).unwrap();
        let htu = "http://127.0.0.1:1/v1/token";
        let header = json!({"typ": "dpop+jwt", "alg": "ES256"});
        let payload = |htm: &str, jti: &str| json!({"htm": htm, "htu": htu, "iat": 1000, "jti": jti});
        let mut seen = std::collections::HashSet::new();
        let mut check = |h: Value, p: Value| verify_dpop(&jws(&key, h, p), htu, 1000, &mut seen);
        let thumb = check(header.clone(), payload("POST", "a")).unwrap();
        assert_eq!(thumb.len(), 43, "a base64url SHA-256");
        assert_eq!(check(header.clone(), payload("GET", "b")).unwrap_err(), "htm is not POST");
        assert_eq!(
            check(json!({"typ": "JWT", "alg": "ES256"}), payload("POST", "c")).unwrap_err(),
            "typ is not dpop+jwt"
        );
        assert_eq!(
            check(json!({"typ": "dpop+jwt", "alg": "none"}), payload("POST", "d")).unwrap_err(),
            "alg is not ES256"
        );
        assert_eq!(check(header.clone(), json!({"htm": "POST", "htu": htu, "iat": 1000})).unwrap_err(), "no jti");
        assert!(check(header, payload("POST", "a")).unwrap_err().contains("used before"));
    }

    #[test]
    fn loopback_redirects() {
        assert!(loopback("http://127.0.0.1:4321/oauth/callback"));
        assert!(!loopback("http://127.0.0.1:4321/other"));
        assert!(!loopback("http://evil.example:4321/oauth/callback"));
    }
}
