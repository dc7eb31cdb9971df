//! The console federation endpoint (`https://signin.aws.amazon.com/federation`):
//! `Action=getSigninToken` turns temporary credentials into a sign-in token, `Action=login`
//! redirects to the console. AWS's rules: only role or federation-token sessions (never
//! long-term keys or GetSessionToken sessions), and `SessionDuration` only for a role session
//! obtained with long-term credentials (not a chained one, not a federation token).

use std::collections::HashMap;

use axum::extract::{Query, State as AxState};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::state::{Kind, random_token};
use super::{Emulator, Reply, Service, to_params};

fn bad(message: &str) -> Reply {
    let mut r = Reply::json(StatusCode::BAD_REQUEST, &json!({ "message": message }));
    r.error = Some(message.into());
    r
}

/// `GET /federation?Action=getSigninToken|login`
pub async fn federation(AxState(emu): AxState<Emulator>, Query(q): Query<HashMap<String, String>>) -> Response {
    let action = q.get("Action").cloned().unwrap_or_default();
    let op = if action == "login" { "Login" } else { "GetSigninToken" };
    emu.clone()
        .call(Service::Signin, op, to_params(&q), None, move |st| match action.as_str() {
            "getSigninToken" => {
                let Some(session) = q.get("Session").and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
                else {
                    return bad("Session is required: a JSON object with sessionId, sessionKey and sessionToken");
                };
                let (id, key, token) = (
                    session["sessionId"].as_str().unwrap_or_default(),
                    session["sessionKey"].as_str().unwrap_or_default(),
                    session["sessionToken"].as_str().unwrap_or_default(),
                );
                let now = st.now();
                let Some(cred) =
                    st.credentials.get(id).filter(|c| c.secret == key && c.token.as_deref() == Some(token))
                else {
                    return bad("The credentials in Session are not valid temporary credentials");
                };
                if cred.expires.is_some_and(|e| e <= now) {
                    return bad("The credentials in Session have expired");
                }
                if !matches!(cred.kind, Kind::Role | Kind::Federation) {
                    return bad("Only credentials from AssumeRole* or GetFederationToken can sign in to the console");
                }
                if let Some(d) = q.get("SessionDuration") {
                    let Some(d) = d.parse::<u64>().ok().filter(|d| (900..=43200).contains(d)) else {
                        return bad("SessionDuration must be between 900 and 43200");
                    };
                    let _ = d;
                    if cred.kind != Kind::Role || cred.chained {
                        return bad("SessionDuration is not supported for federation tokens or chained role sessions");
                    }
                }
                let signin = random_token(64);
                st.signin_tokens.insert(signin.clone(), (id.to_string(), now + 900));
                Reply::json(StatusCode::OK, &json!({ "SigninToken": signin }))
            }
            "login" => {
                let now = st.now();
                let valid =
                    q.get("SigninToken").and_then(|t| st.signin_tokens.get(t)).is_some_and(|(_, exp)| *exp > now);
                if !valid {
                    return bad("The sign-in token is missing, invalid or expired");
                }
                let dest = q.get("Destination").cloned().unwrap_or_else(|| "https://console.aws.amazon.com/".into());
                Reply::redirect(dest)
            }
            other => bad(&format!("Unknown Action {other:?}")),
        })
        .await
}
