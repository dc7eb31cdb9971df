//! SSO OIDC (`sso-oidc`, rest-json, signing name `sso-oauth`): RegisterClient, StartDeviceAuthorization,
//! CreateToken with the device_code, refresh_token and authorization_code (PKCE S256) grants, and the
//! browser side: the `/authorize` endpoint with its loopback redirect and the `/device` verification
//! page. A person approves on those pages; tests approve with `POST /_sandbox/approve`, or the
//! scenario's `sso.auto_approve` approves at once.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Query, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::Response;
use base64::Engine;
use bytes::Bytes;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::state::{Authorization, Client, DeviceAuth, State, Token, random_string, random_token};
use super::{Emulator, Reply, Service};

/// The device-code grant type.
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// An OIDC error: the type in `x-amzn-ErrorType`, `{"error","error_description"}` body.
pub fn error(status: StatusCode, kind: &str, code: &str, description: &str) -> Reply {
    let mut reply = Reply::json(status, &json!({ "error": code, "error_description": description }));
    reply.headers.push((header::HeaderName::from_static("x-amzn-errortype"), kind.into()));
    reply.error = Some(kind.into());
    reply
}

fn bad_request(kind: &str, code: &str, description: &str) -> Reply {
    error(StatusCode::BAD_REQUEST, kind, code, description)
}

fn invalid_request(description: &str) -> Reply {
    bad_request("InvalidRequestException", "invalid_request", description)
}

fn invalid_client(description: &str) -> Reply {
    error(StatusCode::UNAUTHORIZED, "InvalidClientException", "invalid_client", description)
}

fn invalid_grant(description: &str) -> Reply {
    bad_request("InvalidGrantException", "invalid_grant", description)
}

fn json_body(body: &Bytes) -> Result<Value, Reply> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| invalid_request("The request body must be a JSON object"))
}

fn string_list(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// The logged form of a JSON body (values as strings, secrets redacted by the logger).
fn params(v: &Value) -> serde_json::Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// `http://127.0.0.1:1234/oauth/callback` without its port, for RFC 8252 loopback matching.
fn loopback_without_port(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("http://")?;
    let (authority, path) = rest.split_once('/').map(|(a, p)| (a, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let host = if let Some(v6) = authority.strip_prefix('[') {
        format!("[{}]", v6.split_once(']')?.0)
    } else {
        authority.split(':').next()?.to_string()
    };
    matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]").then(|| format!("http://{host}{path}"))
}

fn client_of<'a>(st: &'a State, body: &Value) -> Result<(String, &'a Client), Reply> {
    let id = body["clientId"].as_str().ok_or_else(|| invalid_request("clientId is required"))?;
    let secret = body["clientSecret"].as_str().ok_or_else(|| invalid_request("clientSecret is required"))?;
    let client = st.clients.get(id).filter(|c| c.secret == secret).ok_or_else(|| invalid_client("Invalid client"))?;
    if client.expires <= st.now() {
        return Err(invalid_client("The client registration has expired"));
    }
    Ok((id.to_string(), client))
}

/// `POST /client/register`
pub async fn register_client(AxState(emu): AxState<Emulator>, body: Bytes) -> Response {
    let parsed = json_body(&body);
    let logged = parsed.as_ref().map(params).unwrap_or_default();
    let base = emu.base_url();
    emu.clone()
        .call(Service::Oidc, "RegisterClient", logged, None, move |st| {
            register(st, parsed, &base).unwrap_or_else(|e| e)
        })
        .await
}

fn register(st: &mut State, body: Result<Value, Reply>, base: &str) -> Result<Reply, Reply> {
    let body = body?;
    let name = body["clientName"].as_str().ok_or_else(|| invalid_request("clientName is required"))?;
    if name.is_empty() {
        return Err(invalid_request("clientName must not be empty"));
    }
    match body["clientType"].as_str() {
        Some("public") => {}
        Some(other) => {
            return Err(bad_request(
                "InvalidClientMetadataException",
                "invalid_client_metadata",
                &format!("Unsupported clientType {other}"),
            ));
        }
        None => return Err(invalid_request("clientType is required")),
    }
    let scopes = string_list(&body["scopes"]);
    if let Some(bad) = scopes.iter().find(|s| {
        !(s.starts_with("sso:") || s.starts_with("codewhisperer:") || s.starts_with("aws:") || *s == "openid")
    }) {
        return Err(bad_request("InvalidScopeException", "invalid_scope", &format!("Invalid scope: {bad}")));
    }
    let grant_types = string_list(&body["grantTypes"]);
    if let Some(bad) =
        grant_types.iter().find(|g| !["authorization_code", "refresh_token", DEVICE_GRANT].contains(&g.as_str()))
    {
        return Err(bad_request(
            "UnsupportedGrantTypeException",
            "unsupported_grant_type",
            &format!("Unsupported grant type {bad}"),
        ));
    }
    let redirect_uris = string_list(&body["redirectUris"]);
    if grant_types.iter().any(|g| g == "authorization_code") {
        if redirect_uris.is_empty() {
            return Err(bad_request(
                "InvalidRedirectUriException",
                "invalid_redirect_uri",
                "redirectUris are required for the authorization_code grant",
            ));
        }
        if let Some(bad) = redirect_uris.iter().find(|u| loopback_without_port(u).is_none()) {
            return Err(bad_request(
                "InvalidRedirectUriException",
                "invalid_redirect_uri",
                &format!("Redirect URI {bad} is not a loopback address"),
            ));
        }
    }
    let now = st.now();
    let expires = now + st.scenario.sso.registration_ttl as i64;
    let client_id = random_token(22);
    let secret = format!("eyJraWQiOiJrZXktc2FuZGJveCJ9.{}", random_token(200));
    st.clients.insert(
        client_id.clone(),
        Client { secret: secret.clone(), scopes, grant_types: grant_types.clone(), redirect_uris, expires },
    );
    let mut out = json!({
        "clientId": client_id,
        "clientSecret": secret,
        "clientIdIssuedAt": now,
        "clientSecretExpiresAt": expires,
    });
    if grant_types.iter().any(|g| g == "authorization_code") {
        out["authorizationEndpoint"] = json!(format!("{base}/authorize"));
        out["tokenEndpoint"] = json!(format!("{base}/token"));
    }
    Ok(Reply::json(StatusCode::OK, &out))
}

/// `POST /device_authorization`
pub async fn start_device_authorization(AxState(emu): AxState<Emulator>, body: Bytes) -> Response {
    let parsed = json_body(&body);
    let logged = parsed.as_ref().map(params).unwrap_or_default();
    let base = emu.base_url();
    emu.clone()
        .call(Service::Oidc, "StartDeviceAuthorization", logged, None, move |st| {
            start_device(st, parsed, &base).unwrap_or_else(|e| e)
        })
        .await
}

fn same_start_url(a: &str, b: &str) -> bool {
    a.trim_end_matches(['/', '#']) == b.trim_end_matches(['/', '#'])
}

fn start_device(st: &mut State, body: Result<Value, Reply>, base: &str) -> Result<Reply, Reply> {
    let body = body?;
    let (client_id, client) = client_of(st, &body)?;
    if !client.grant_types.is_empty() && !client.grant_types.iter().any(|g| g == DEVICE_GRANT) {
        return Err(bad_request(
            "UnauthorizedClientException",
            "unauthorized_client",
            "The client is not registered for the device code grant",
        ));
    }
    let start_url = body["startUrl"].as_str().ok_or_else(|| invalid_request("startUrl is required"))?;
    if !same_start_url(start_url, &st.scenario.sso.start_url) {
        return Err(invalid_request(&format!("Invalid start URL {start_url}")));
    }
    let device_code = random_token(60);
    let user_code =
        format!("{}-{}", random_string(4, b"BCDFGHJKLMNPQRSTVWXZ"), random_string(4, b"BCDFGHJKLMNPQRSTVWXZ"));
    let sso = &st.scenario.sso;
    let (ttl, interval, auto) = (sso.device_code_ttl, sso.interval, sso.auto_approve);
    st.devices.insert(
        device_code.clone(),
        DeviceAuth {
            client_id,
            user_code: user_code.clone(),
            expires: st.now() + ttl as i64,
            interval,
            decision: auto.then_some(true),
            last_poll_ms: None,
        },
    );
    Ok(Reply::json(
        StatusCode::OK,
        &json!({
            "deviceCode": device_code,
            "userCode": user_code,
            "verificationUri": format!("{base}/device"),
            "verificationUriComplete": format!("{base}/device?user_code={user_code}"),
            "expiresIn": ttl,
            "interval": interval,
        }),
    ))
}

/// `POST /token`
pub async fn create_token(AxState(emu): AxState<Emulator>, body: Bytes) -> Response {
    let parsed = json_body(&body);
    let logged = parsed.as_ref().map(params).unwrap_or_default();
    emu.clone()
        .call(Service::Oidc, "CreateToken", logged, None, move |st| token(st, parsed).unwrap_or_else(|e| e))
        .await
}

fn token(st: &mut State, body: Result<Value, Reply>) -> Result<Reply, Reply> {
    let body = body?;
    let (client_id, client) = client_of(st, &body)?;
    let client = client.clone();
    let grant = body["grantType"].as_str().ok_or_else(|| invalid_request("grantType is required"))?;
    let grant_allowed = |g: &str| client.grant_types.is_empty() || client.grant_types.iter().any(|x| x == g);
    match grant {
        DEVICE_GRANT => {
            if !grant_allowed(DEVICE_GRANT) && !client.grant_types.is_empty() {
                return Err(bad_request(
                    "UnauthorizedClientException",
                    "unauthorized_client",
                    "The client is not registered for the device code grant",
                ));
            }
            let code = body["deviceCode"].as_str().ok_or_else(|| invalid_request("deviceCode is required"))?;
            let now_ms = st.now_ms();
            let now = st.now();
            let device = st
                .devices
                .get_mut(code)
                .filter(|d| d.client_id == client_id)
                .ok_or_else(|| invalid_grant("Invalid device code provided"))?;
            if device.expires <= now {
                return Err(bad_request("ExpiredTokenException", "expired_token", "Device code has expired"));
            }
            match device.decision {
                Some(true) => {
                    st.devices.remove(code);
                }
                Some(false) => {
                    return Err(bad_request("AccessDeniedException", "access_denied", "The user denied the request"));
                }
                None => {
                    let too_fast =
                        device.last_poll_ms.is_some_and(|last| now_ms - last < i128::from(device.interval) * 1000);
                    device.last_poll_ms = Some(now_ms);
                    if too_fast {
                        return Err(bad_request("SlowDownException", "slow_down", "Client is polling too fast"));
                    }
                    return Err(bad_request(
                        "AuthorizationPendingException",
                        "authorization_pending",
                        "Authorization is still pending",
                    ));
                }
            }
        }
        "refresh_token" => {
            let rt = body["refreshToken"].as_str().ok_or_else(|| invalid_request("refreshToken is required"))?;
            if st.refresh_tokens.get(rt) != Some(&client_id) {
                return Err(invalid_grant("Invalid refresh token provided"));
            }
            st.refresh_tokens.remove(rt);
        }
        "authorization_code" => {
            if !client.grant_types.iter().any(|g| g == "authorization_code") {
                return Err(bad_request(
                    "UnauthorizedClientException",
                    "unauthorized_client",
                    "The client is not registered for the authorization_code grant",
                ));
            }
            let code = body["code"].as_str().ok_or_else(|| invalid_request("code is required"))?;
            let redirect = body["redirectUri"].as_str().ok_or_else(|| invalid_request("redirectUri is required"))?;
            let verifier = body["codeVerifier"].as_str().ok_or_else(|| invalid_request("codeVerifier is required"))?;
            let now = st.now();
            let authz = st
                .authorizations
                .values_mut()
                .find(|a| a.code.as_deref() == Some(code) && a.client_id == client_id)
                .ok_or_else(|| invalid_grant("Invalid authorization code provided"))?;
            if authz.code_used || authz.expires <= now {
                return Err(invalid_grant("Authorization code has expired or was already used"));
            }
            if authz.redirect_uri != redirect {
                return Err(invalid_grant("redirectUri does not match the authorization request"));
            }
            let challenge =
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if challenge != authz.code_challenge {
                return Err(invalid_grant("Code verifier does not match the code challenge"));
            }
            authz.code_used = true;
        }
        other => {
            return Err(bad_request(
                "UnsupportedGrantTypeException",
                "unsupported_grant_type",
                &format!("Unsupported grant type {other}"),
            ));
        }
    }
    if grant != "authorization_code" && !grant_allowed(grant) {
        return Err(bad_request(
            "UnauthorizedClientException",
            "unauthorized_client",
            &format!("The client is not registered for the {grant} grant"),
        ));
    }
    let access = format!("aoa{}", random_token(100));
    let ttl = st.scenario.sso.access_token_ttl;
    let expires = st.now() + ttl as i64;
    st.access_tokens.insert(access.clone(), Token { client_id: client_id.clone(), expires });
    let mut out = json!({ "accessToken": access, "tokenType": "Bearer", "expiresIn": ttl });
    if !client.scopes.is_empty() {
        let refresh = format!("aor{}", random_token(100));
        st.refresh_tokens.insert(refresh.clone(), client_id);
        out["refreshToken"] = json!(refresh);
    }
    Ok(Reply::json(StatusCode::OK, &out))
}

// ---------------------------------------------------------------------------------------------
// the browser side

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"
    )
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let q: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    format!("{uri}{}{q}", if uri.contains('?') { '&' } else { '?' })
}

/// Where the browser goes once a request is decided, or the waiting page.
fn authorization_outcome(st: &mut State, id: &str) -> Reply {
    let Some(a) = st.authorizations.get_mut(id) else {
        return error_page(StatusCode::NOT_FOUND, "Unknown authorization request");
    };
    match a.decision {
        Some(true) => {
            let code = a.code.get_or_insert_with(|| random_token(40)).clone();
            Reply::redirect(with_query(&a.redirect_uri, &[("code", &code), ("state", &a.state)]))
        }
        Some(false) => Reply::redirect(with_query(&a.redirect_uri, &[("error", "access_denied"), ("state", &a.state)])),
        None => Reply::html(page(
            "Allow the AWS CLI to access your data?",
            &format!(
                "<meta http-equiv=\"refresh\" content=\"1;url=/authorize/wait?id={id}\">\
                 <p>Scopes: {}</p>\
                 <form method=\"post\" action=\"/authorize/decide\"><input type=\"hidden\" name=\"id\" value=\"{id}\">\
                 <button name=\"decision\" value=\"approve\">Allow access</button> <button name=\"decision\" value=\"deny\">Deny</button></form>",
                html_escape(&a.scopes.join(", "))
            ),
        )),
    }
}

fn error_page(status: StatusCode, message: &str) -> Reply {
    let mut r = Reply::html(page("Error", &format!("<p>{}</p>", html_escape(message))));
    r.status = status;
    r.error = Some(message.into());
    r
}

/// `GET /authorize?response_type=code&client_id&redirect_uri&state&code_challenge&code_challenge_method=S256&scopes`
pub async fn authorize(AxState(emu): AxState<Emulator>, Query(q): Query<HashMap<String, String>>) -> Response {
    let logged = super::to_params(q.iter().filter(|(k, _)| *k != "code_challenge"));
    emu.clone()
        .call(Service::Oidc, "Authorize", logged, None, move |st| {
            let get = |k: &str| q.get(k).cloned().unwrap_or_default();
            let client_id = get("client_id");
            let Some(client) = st.clients.get(&client_id).cloned() else {
                return error_page(StatusCode::BAD_REQUEST, "Unknown client_id");
            };
            let redirect = get("redirect_uri");
            let registered = loopback_without_port(&redirect)
                .is_some_and(|r| client.redirect_uris.iter().any(|u| loopback_without_port(u).as_deref() == Some(&r)));
            if !registered {
                return error_page(StatusCode::BAD_REQUEST, "redirect_uri is not registered for this client");
            }
            let state = get("state");
            let fail = |e: &str| Reply::redirect(with_query(&redirect, &[("error", e), ("state", &state)]));
            if get("response_type") != "code" {
                return fail("unsupported_response_type");
            }
            if get("code_challenge_method") != "S256" || get("code_challenge").is_empty() {
                return fail("invalid_request");
            }
            let id = random_token(24);
            let auto = st.scenario.sso.auto_approve;
            let expires = st.now() + 600;
            st.authorizations.insert(
                id.clone(),
                Authorization {
                    client_id,
                    redirect_uri: redirect.clone(),
                    state: state.clone(),
                    code_challenge: get("code_challenge"),
                    scopes: get("scopes").split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_string).collect(),
                    decision: auto.then_some(true),
                    code: None,
                    expires,
                    code_used: false,
                },
            );
            authorization_outcome(st, &id)
        })
        .await
}

/// `GET /authorize/wait?id=`: the waiting page polls here until someone decides.
pub async fn authorize_wait(AxState(emu): AxState<Emulator>, Query(q): Query<HashMap<String, String>>) -> Response {
    let id = q.get("id").cloned().unwrap_or_default();
    let reply = authorization_outcome(&mut emu.lock(), &id);
    reply.into_response(false)
}

/// `POST /authorize/decide` (form: id, decision=approve|deny)
pub async fn authorize_decide(AxState(emu): AxState<Emulator>, Form(f): Form<HashMap<String, String>>) -> Response {
    let id = f.get("id").cloned().unwrap_or_default();
    let mut st = emu.lock();
    if let Some(a) = st.authorizations.get_mut(&id) {
        a.decision = Some(f.get("decision").map(String::as_str) == Some("approve"));
    }
    authorization_outcome(&mut st, &id).into_response(false)
}

/// `GET /device?user_code=`: the verification page.
pub async fn device_page(Query(q): Query<HashMap<String, String>>) -> Response {
    let code = html_escape(q.get("user_code").map(String::as_str).unwrap_or(""));
    Reply::html(page(
        "Authorize request",
        &format!(
            "<form method=\"post\" action=\"/device/decide\"><label>Code <input name=\"user_code\" value=\"{code}\"></label>\
             <button name=\"decision\" value=\"approve\">Confirm and continue</button> <button name=\"decision\" value=\"deny\">Deny</button></form>"
        ),
    ))
    .into_response(false)
}

/// `POST /device/decide` (form: user_code, decision=approve|deny)
pub async fn device_decide(AxState(emu): AxState<Emulator>, Form(f): Form<HashMap<String, String>>) -> Response {
    let code = f.get("user_code").cloned().unwrap_or_default();
    let approve = f.get("decision").map(String::as_str) == Some("approve");
    let decided = decide_devices(&mut emu.lock(), Some(&code), approve);
    let reply = if decided == 0 {
        error_page(StatusCode::NOT_FOUND, "Unknown or expired code")
    } else if approve {
        Reply::html(page("Request approved", "<p>You can close this window and return to your terminal.</p>"))
    } else {
        Reply::html(page("Request denied", "<p>The request was denied.</p>"))
    };
    reply.into_response(false)
}

/// Decides pending device codes (all of them when `user_code` is None); returns how many.
pub fn decide_devices(st: &mut State, user_code: Option<&str>, approve: bool) -> usize {
    let now = st.now();
    let mut n = 0;
    for d in st.devices.values_mut() {
        if d.decision.is_none() && d.expires > now && user_code.is_none_or(|c| c.eq_ignore_ascii_case(&d.user_code)) {
            d.decision = Some(approve);
            n += 1;
        }
    }
    n
}

/// Decides pending authorization-code requests (all when `state` is None); returns how many.
pub fn decide_authorizations(st: &mut State, state: Option<&str>, approve: bool) -> usize {
    let mut n = 0;
    for a in st.authorizations.values_mut() {
        if a.decision.is_none() && state.is_none_or(|s| s == a.state) {
            a.decision = Some(approve);
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_matching_ignores_port() {
        assert_eq!(
            loopback_without_port("http://127.0.0.1:5123/oauth/callback").as_deref(),
            Some("http://127.0.0.1/oauth/callback")
        );
        assert_eq!(
            loopback_without_port("http://127.0.0.1/oauth/callback").as_deref(),
            Some("http://127.0.0.1/oauth/callback")
        );
        assert_eq!(loopback_without_port("http://[::1]:80/cb").as_deref(), Some("http://[::1]/cb"));
        assert_eq!(loopback_without_port("https://127.0.0.1/cb"), None);
        assert_eq!(loopback_without_port("http://evil.example/cb"), None);
    }
}
