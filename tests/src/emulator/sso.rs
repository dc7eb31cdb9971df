//! The IAM Identity Center portal (`sso`, rest-json, signing name `awsssoportal`): ListAccounts,
//! ListAccountRoles (paginated with `max_result` / `next_token`), GetRoleCredentials and Logout,
//! authorised by the `x-amz-sso_bearer_token` header.

use std::collections::HashMap;

use axum::extract::{Query, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use serde_json::json;

use super::state::{Identity, Kind, State};
use super::{Emulator, Reply, Service, to_params};

/// A rest-json error as the portal sends it: the type in `x-amzn-ErrorType`, `{"message"}` body.
pub fn error(status: StatusCode, kind: &str, message: &str) -> Reply {
    let mut reply = Reply::json(status, &json!({ "message": message }));
    reply.headers.push((header::HeaderName::from_static("x-amzn-errortype"), kind.into()));
    reply.error = Some(kind.into());
    reply
}

fn unauthorized() -> Reply {
    error(StatusCode::UNAUTHORIZED, "UnauthorizedException", "Session token not found or invalid")
}

fn invalid(message: &str) -> Reply {
    error(StatusCode::BAD_REQUEST, "InvalidRequestException", message)
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers.get("x-amz-sso_bearer_token").and_then(|v| v.to_str().ok()).map(str::to_string)
}

fn check_token(st: &State, token: Option<&str>) -> Result<(), Reply> {
    let token = token.ok_or_else(unauthorized)?;
    match st.access_tokens.get(token) {
        Some(t) if t.expires > st.now() => Ok(()),
        _ => Err(unauthorized()),
    }
}

/// Page `items` with an opaque next token (base64 of the offset), as the portal does.
fn page<T: Clone>(
    items: &[T],
    q: &HashMap<String, String>,
    page_size: usize,
) -> Result<(Vec<T>, Option<String>), Reply> {
    let max = match q.get("max_result") {
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|m| (1..=100).contains(m))
            .ok_or_else(|| invalid("max_result must be between 1 and 100"))?,
        None => page_size,
    };
    let start = match q.get("next_token") {
        Some(t) => base64::engine::general_purpose::STANDARD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse::<usize>().ok()))
            .filter(|n| *n <= items.len())
            .ok_or_else(|| invalid("Invalid next token"))?,
        None => 0,
    };
    let end = (start + max).min(items.len());
    let next = (end < items.len()).then(|| base64::engine::general_purpose::STANDARD.encode(format!("offset:{end}")));
    Ok((items[start..end].to_vec(), next))
}

/// `GET /assignment/accounts`
pub async fn list_accounts(
    AxState(emu): AxState<Emulator>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let token = bearer(&headers);
    emu.clone()
        .call(Service::Sso, "ListAccounts", to_params(&q), None, move |st| {
            if let Err(e) = check_token(st, token.as_deref()) {
                return e;
            }
            let accounts: Vec<_> = st.accounts.iter().filter(|a| !a.permission_sets.is_empty()).cloned().collect();
            match page(&accounts, &q, st.scenario.sso.page_size) {
                Ok((items, next)) => Reply::json(
                    StatusCode::OK,
                    &json!({
                        "nextToken": next,
                        "accountList": items.iter().map(|a| json!({
                            "accountId": a.id, "accountName": a.name, "emailAddress": a.email
                        })).collect::<Vec<_>>(),
                    }),
                ),
                Err(e) => e,
            }
        })
        .await
}

/// `GET /assignment/roles?account_id=`
pub async fn list_account_roles(
    AxState(emu): AxState<Emulator>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let token = bearer(&headers);
    emu.clone()
        .call(Service::Sso, "ListAccountRoles", to_params(&q), None, move |st| {
            if let Err(e) = check_token(st, token.as_deref()) {
                return e;
            }
            let Some(account_id) = q.get("account_id") else { return invalid("account_id is required") };
            let Some(roles) = st.sso_roles(account_id).filter(|r| !r.is_empty()) else {
                return error(StatusCode::NOT_FOUND, "ResourceNotFoundException", "Account not found or no access");
            };
            match page(&roles, &q, st.scenario.sso.page_size) {
                Ok((items, next)) => Reply::json(
                    StatusCode::OK,
                    &json!({
                        "nextToken": next,
                        "roleList": items.iter().map(|r| json!({"roleName": r, "accountId": account_id})).collect::<Vec<_>>(),
                    }),
                ),
                Err(e) => e,
            }
        })
        .await
}

/// `GET /federation/credentials?account_id=&role_name=`
pub async fn get_role_credentials(
    AxState(emu): AxState<Emulator>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let token = bearer(&headers);
    emu.clone()
        .call(Service::Sso, "GetRoleCredentials", to_params(&q), None, move |st| {
            if let Err(e) = check_token(st, token.as_deref()) {
                return e;
            }
            let (Some(account_id), Some(role_name)) = (q.get("account_id"), q.get("role_name")) else {
                return invalid("account_id and role_name are required");
            };
            let assigned = st.sso_roles(account_id).is_some_and(|r| r.contains(role_name));
            if !assigned {
                return error(StatusCode::FORBIDDEN, "ForbiddenException", "No access");
            }
            let identity = Identity::AssumedRole {
                account: account_id.clone(),
                role: State::sso_role_name(account_id, role_name),
                session: st.scenario.sso.user.clone(),
            };
            let ttl = st.scenario.sso.role_credentials_ttl;
            let (id, cred) = st.issue(identity, ttl, false, Kind::Role, false);
            Reply::json(
                StatusCode::OK,
                &json!({"roleCredentials": {
                    "accessKeyId": id,
                    "secretAccessKey": cred.secret,
                    "sessionToken": cred.token,
                    "expiration": cred.expires.unwrap_or(0) * 1000,
                }}),
            )
        })
        .await
}

/// `POST /logout`: the token stops working.
pub async fn logout(AxState(emu): AxState<Emulator>, headers: HeaderMap) -> Response {
    let token = bearer(&headers);
    emu.clone()
        .call(Service::Sso, "Logout", serde_json::Map::new(), None, move |st| {
            if let Err(e) = check_token(st, token.as_deref()) {
                return e;
            }
            if let Some(t) = token {
                st.access_tokens.remove(&t);
            }
            Reply { status: StatusCode::OK, headers: vec![], body: vec![], error: None }
        })
        .await
}
