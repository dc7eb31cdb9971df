//! `/_sandbox/*`: what tests, the demo and a person use to drive the sandbox. Not AWS; never logged
//! in the request log and never subject to faults.
//!
//! | endpoint | does |
//! | --- | --- |
//! | `GET health` | `{"ok":true}` |
//! | `GET scenario` | the scenario in force |
//! | `POST reset` | back to the scenario's state (credentials, tokens, log, faults, clock) |
//! | `GET requests` / `DELETE requests` | the request log / clear it |
//! | `GET faults` / `PUT faults` | the injected faults (JSON `Faults`) |
//! | `POST approve` / `POST deny` | `{"user_code"?, "state"?}`: decide pending logins (all when empty) |
//! | `GET totp?serial=ARN[&offset=N]` | the current code of a virtual MFA device (N steps later) |
//! | `POST clock` | `{"advance_seconds": N}`: move the emulator's clock |
//! | `POST expire-tokens` | every SSO access token expires now |
//! | `GET container-credentials` | an ECS-style credentials endpoint (`Authorization: sandbox-container-token`): session credentials of the first scenario user |

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::Emulator;
use super::faults::{FaultState, Faults};
use super::oidc::{decide_authorizations, decide_devices};
use super::state::State;
use crate::totp;

/// The control routes.
pub fn router() -> Router<Emulator> {
    Router::new()
        .route(
            "/health",
            get(|| async {
                Json(json!({"ok": true, "services": ["sts", "sso", "sso-oidc", "signin", "signin-oauth"]}))
            }),
        )
        .route("/scenario", get(scenario))
        .route("/reset", post(reset))
        .route("/requests", get(requests).delete(clear_requests))
        .route("/faults", get(get_faults).put(put_faults))
        .route("/approve", post(approve))
        .route("/deny", post(deny))
        .route("/totp", get(totp_code))
        .route("/clock", post(clock))
        .route("/expire-tokens", post(expire_tokens))
        .route("/signin/revoke", post(revoke_signin))
        .route("/redirect", axum::routing::any(redirect))
        .route("/container-credentials", get(container_credentials))
}

async fn scenario(AxState(emu): AxState<Emulator>) -> Response {
    Json(serde_json::to_value(&emu.lock().scenario).unwrap_or_default()).into_response()
}

async fn reset(AxState(emu): AxState<Emulator>) -> Response {
    let mut st = emu.lock();
    let scenario = st.scenario.clone();
    *st = State::new(scenario);
    Json(json!({"ok": true})).into_response()
}

async fn requests(AxState(emu): AxState<Emulator>) -> Response {
    Json(serde_json::to_value(&emu.lock().log).unwrap_or_default()).into_response()
}

async fn clear_requests(AxState(emu): AxState<Emulator>) -> Response {
    emu.lock().log.clear();
    Json(json!({"ok": true})).into_response()
}

async fn get_faults(AxState(emu): AxState<Emulator>) -> Response {
    Json(serde_json::to_value(&emu.lock().faults.faults).unwrap_or_default()).into_response()
}

async fn put_faults(AxState(emu): AxState<Emulator>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) => {
            emu.lock().faults = FaultState::new(f);
            Json(json!({"ok": true})).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({"error": e.to_string()}))).into_response(),
    }
}

#[derive(Deserialize, Default)]
struct Decision {
    user_code: Option<String>,
    state: Option<String>,
}

fn decide(emu: &Emulator, body: &[u8], approve: bool) -> Response {
    let d: Decision = if body.is_empty() {
        Decision::default()
    } else {
        match serde_json::from_slice(body) {
            Ok(d) => d,
            Err(e) => return (StatusCode::BAD_REQUEST, Json(json!({"error": e.to_string()}))).into_response(),
        }
    };
    let mut st = emu.lock();
    let devices = if d.state.is_some() { 0 } else { decide_devices(&mut st, d.user_code.as_deref(), approve) };
    let authorizations =
        if d.user_code.is_some() { 0 } else { decide_authorizations(&mut st, d.state.as_deref(), approve) };
    Json(json!({"devices": devices, "authorizations": authorizations})).into_response()
}

async fn approve(AxState(emu): AxState<Emulator>, body: axum::body::Bytes) -> Response {
    decide(&emu, &body, true)
}

async fn deny(AxState(emu): AxState<Emulator>, body: axum::body::Bytes) -> Response {
    decide(&emu, &body, false)
}

async fn totp_code(AxState(emu): AxState<Emulator>, Query(q): Query<HashMap<String, String>>) -> Response {
    let st = emu.lock();
    let serial = q.get("serial").cloned().unwrap_or_default();
    let offset: i64 = q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let device = st.scenario.users.iter().flat_map(|u| u.mfa_devices.iter()).find(|d| d.serial == serial);
    let Some(device) = device else {
        return (StatusCode::NOT_FOUND, Json(json!({"error": format!("no MFA device {serial}")}))).into_response();
    };
    let at = st.now() + offset * totp::STEP_SECONDS as i64;
    match totp::code_at(&device.seed, u64::try_from(at).unwrap_or(0)) {
        Some(code) => Json(json!({"serial": serial, "code": code})).into_response(),
        None => (StatusCode::BAD_REQUEST, Json(json!({"error": "the device seed is not base32"}))).into_response(),
    }
}

#[derive(Deserialize)]
struct Clock {
    advance_seconds: i64,
}

async fn clock(AxState(emu): AxState<Emulator>, Json(c): Json<Clock>) -> Response {
    let mut st = emu.lock();
    st.clock_offset += c.advance_seconds;
    Json(json!({"offset_seconds": st.clock_offset, "now": st.now()})).into_response()
}

async fn expire_tokens(AxState(emu): AxState<Emulator>) -> Response {
    let mut st = emu.lock();
    let now = st.now();
    let n = st.access_tokens.len();
    for t in st.access_tokens.values_mut() {
        t.expires = now;
    }
    Json(json!({"expired": n})).into_response()
}

async fn container_credentials(AxState(emu): AxState<Emulator>, headers: axum::http::HeaderMap) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("sandbox-container-token") {
        return (StatusCode::UNAUTHORIZED, Json(json!({"message": "bad authorization token"}))).into_response();
    }
    let mut st = emu.lock();
    let Some(user) = st.scenario.users.first().cloned() else {
        return (StatusCode::NOT_FOUND, Json(json!({"message": "the scenario has no user"}))).into_response();
    };
    let identity = super::state::Identity::User { account: user.account, name: user.name, path: user.path };
    let (id, cred) = st.issue(identity, 3600, false, super::state::Kind::SessionToken, false);
    Json(json!({"AccessKeyId": id, "SecretAccessKey": cred.secret, "Token": cred.token, "Expiration": super::iso8601(cred.expires.unwrap_or(0))})).into_response()
}

/// `POST /_sandbox/signin/revoke`: ends every `aws login` session (as a password change does).
async fn revoke_signin(AxState(emu): AxState<Emulator>) -> Json<serde_json::Value> {
    let n = super::login::revoke_all(&mut emu.lock());
    Json(json!({ "revoked": n }))
}

/// `GET|HEAD /_sandbox/redirect?to=URL[&head=STATUS]`: a vanity start URL. Answers 302 to `to`;
/// with `head`, a HEAD request gets that status instead (405: the client must fall back to GET).
async fn redirect(method: axum::http::Method, Query(q): Query<HashMap<String, String>>) -> Response {
    if method == axum::http::Method::HEAD
        && let Some(status) =
            q.get("head").and_then(|s| s.parse::<u16>().ok()).and_then(|s| StatusCode::from_u16(s).ok())
    {
        return status.into_response();
    }
    match q.get("to") {
        Some(to) => (StatusCode::FOUND, [(axum::http::header::LOCATION, to.clone())]).into_response(),
        None => (StatusCode::OK, "no redirect").into_response(),
    }
}
