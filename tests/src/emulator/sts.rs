//! STS (awsQuery protocol, XML answers, namespace 2011-06-15): GetCallerIdentity, AssumeRole,
//! GetSessionToken, GetFederationToken and AssumeRoleWithWebIdentity, with the rules moto does not
//! enforce: SigV4 signatures checked against the key's secret, RFC 6238 MFA codes checked (and
//! not reusable), trust policies (principals, MFA, external id), DurationSeconds bounds and the
//! one-hour cap on role chaining, GetSessionToken/GetFederationToken only with long-term keys.
//! Web identity tokens are parsed but not signature-checked (the sandbox has no IdP keys).

use std::collections::BTreeMap;

use axum::extract::State as AxState;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::state::{Credential, Identity, Kind, State};
use super::{Emulator, Reply, Service, iso8601, to_params};
use crate::totp;

const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// The whole request, kept for signature checks.
struct Raw {
    method: Method,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Bytes,
}

/// `ANY /`: every STS action.
pub async fn handle(
    AxState(emu): AxState<Emulator>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    let query = uri.query().unwrap_or("").to_string();
    params.extend(form_urlencoded::parse(query.as_bytes()).into_owned());
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if method == Method::POST && (is_form || !body.is_empty()) {
        params.extend(form_urlencoded::parse(&body).into_owned());
    }
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let action = match target.strip_prefix("AWSOrganizationsV20161128.") {
        Some(op) => format!("organizations:{op}"),
        None => params.get("Action").cloned().unwrap_or_default(),
    };
    let access_key_id = parse_authorization(&headers).ok().map(|a| a.access_key_id);
    let raw = Raw { method, path: uri.path().to_string(), query, headers, body };
    let logged = to_params(params.iter().filter(|(k, _)| *k != "Action" && *k != "Version"));
    let op = action.clone();
    emu.clone().call(Service::Sts, &op, logged, access_key_id, move |st| dispatch(st, &action, &params, &raw)).await
}

fn dispatch(st: &mut State, action: &str, p: &BTreeMap<String, String>, raw: &Raw) -> Reply {
    let result = match action {
        "GetCallerIdentity" => get_caller_identity(st, raw),
        "AssumeRole" => assume_role(st, p, raw),
        "GetSessionToken" => get_session_token(st, p, raw),
        "GetFederationToken" => get_federation_token(st, p, raw),
        "AssumeRoleWithWebIdentity" => assume_role_with_web_identity(st, p),
        // The organisation-audit slice of IAM and Organizations (see `iam`).
        "organizations:ListAccounts" => authenticate(st, raw).map(|_| super::iam::list_accounts(st)),
        a if super::iam::ACTIONS.contains(&a) => authenticate(st, raw).map(|(_, c)| super::iam::dispatch(st, a, &c)),
        "" => Err(error(StatusCode::BAD_REQUEST, "MissingAction", "Missing Action")),
        other => Err(error(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            &format!("Could not find operation {other} for version 2011-06-15"),
        )),
    };
    result.unwrap_or_else(|e| e)
}

/// An awsQuery error document.
pub fn error(status: StatusCode, code: &str, message: &str) -> Reply {
    let kind = if status.is_server_error() { "Receiver" } else { "Sender" };
    let body = format!(
        "<ErrorResponse xmlns=\"{NS}\">\n  <Error>\n    <Type>{kind}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
        xml_escape(code),
        xml_escape(message),
        uuid::Uuid::new_v4()
    );
    Reply {
        status,
        headers: vec![(header::CONTENT_TYPE, "text/xml".into())],
        body: body.into_bytes(),
        error: Some(code.into()),
    }
}

fn ok(action: &str, result: &str) -> Reply {
    ok_in(NS, action, result)
}

/// An awsQuery answer in namespace `ns` (STS's, or IAM's for `iam`).
pub fn ok_in(ns: &str, action: &str, result: &str) -> Reply {
    let body = format!(
        "<{action}Response xmlns=\"{ns}\">\n  <{action}Result>\n{result}  </{action}Result>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</{action}Response>\n",
        uuid::Uuid::new_v4()
    );
    Reply {
        status: StatusCode::OK,
        headers: vec![(header::CONTENT_TYPE, "text/xml".into())],
        body: body.into_bytes(),
        error: None,
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

fn validation(message: &str) -> Reply {
    error(StatusCode::BAD_REQUEST, "ValidationError", message)
}

fn access_denied(message: &str) -> Reply {
    error(StatusCode::FORBIDDEN, "AccessDenied", message)
}

fn credentials_xml(id: &str, c: &Credential) -> String {
    format!(
        "    <Credentials>\n      <AccessKeyId>{id}</AccessKeyId>\n      <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      <Expiration>{}</Expiration>\n    </Credentials>\n",
        xml_escape(&c.secret),
        xml_escape(c.token.as_deref().unwrap_or("")),
        iso8601(c.expires.unwrap_or(0))
    )
}

fn assumed_role_xml(identity: &Identity) -> String {
    format!(
        "    <AssumedRoleUser>\n      <AssumedRoleId>{}</AssumedRoleId>\n      <Arn>{}</Arn>\n    </AssumedRoleUser>\n",
        xml_escape(&identity.user_id()),
        xml_escape(&identity.arn())
    )
}

// ---------------------------------------------------------------------------------------------
// authentication

struct Authorization {
    access_key_id: String,
    date: String,
    region: String,
    service: String,
    signed_headers: Vec<String>,
    signature: String,
}

fn parse_authorization(headers: &HeaderMap) -> Result<Authorization, Reply> {
    let value = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or_else(|| {
        error(StatusCode::FORBIDDEN, "MissingAuthenticationToken", "Request is missing Authentication Token")
    })?;
    let incomplete = || {
        error(
            StatusCode::BAD_REQUEST,
            "IncompleteSignature",
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
        )
    };
    let rest = value.strip_prefix("AWS4-HMAC-SHA256 ").ok_or_else(incomplete)?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=').ok_or_else(incomplete)?;
        match k {
            "Credential" => credential = Some(v.to_string()),
            "SignedHeaders" => signed = Some(v.split(';').map(str::to_string).collect()),
            "Signature" => signature = Some(v.to_string()),
            _ => {}
        }
    }
    let credential = credential.ok_or_else(incomplete)?;
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope[4] != "aws4_request" {
        return Err(incomplete());
    }
    Ok(Authorization {
        access_key_id: scope[0].into(),
        date: scope[1].into(),
        region: scope[2].into(),
        service: scope[3].into(),
        signed_headers: signed.ok_or_else(incomplete)?,
        signature: signature.ok_or_else(incomplete)?,
    })
}

fn uri_encode(s: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The SigV4 signature the request should carry if signed with `secret`.
fn expected_signature(raw: &Raw, auth: &Authorization, secret: &str) -> Option<String> {
    let mut query: Vec<(String, String)> = form_urlencoded::parse(raw.query.as_bytes())
        .into_owned()
        .map(|(k, v)| (uri_encode(&k), uri_encode(&v)))
        .collect();
    query.sort();
    let canonical_query = query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let mut canonical_headers = String::new();
    for name in &auth.signed_headers {
        let values: Vec<String> = raw
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| v.to_str().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let payload_hash = raw
        .headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| hex::encode(Sha256::digest(&raw.body)));
    let canonical_request = format!(
        "{}\n{}\n{canonical_query}\n{canonical_headers}\n{}\n{payload_hash}",
        raw.method,
        if raw.path.is_empty() { "/" } else { &raw.path },
        auth.signed_headers.join(";")
    );
    let amz_date = raw.headers.get("x-amz-date")?.to_str().ok()?;
    let scope = format!("{}/{}/{}/aws4_request", auth.date, auth.region, auth.service);
    let string_to_sign =
        format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex::encode(Sha256::digest(canonical_request.as_bytes())));
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), &auth.date);
    let k_region = hmac(&k_date, &auth.region);
    let k_service = hmac(&k_region, &auth.service);
    let k_signing = hmac(&k_service, "aws4_request");
    Some(hex::encode(hmac(&k_signing, &string_to_sign)))
}

/// Who signed the request; the errors AWS gives for unknown, mismatched, expired or badly
/// signed credentials.
fn authenticate(st: &State, raw: &Raw) -> Result<(String, Credential), Reply> {
    let auth = parse_authorization(&raw.headers)?;
    let invalid = || {
        error(StatusCode::FORBIDDEN, "InvalidClientTokenId", "The security token included in the request is invalid.")
    };
    let cred = st.credentials.get(&auth.access_key_id).cloned().ok_or_else(invalid)?;
    if let Some(token) = &cred.token {
        let sent = raw.headers.get("x-amz-security-token").and_then(|v| v.to_str().ok());
        if sent != Some(token.as_str()) {
            return Err(invalid());
        }
    }
    if st.scenario.sts.verify_signatures
        && expected_signature(raw, &auth, &cred.secret).as_deref() != Some(auth.signature.as_str())
    {
        return Err(error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ));
    }
    if cred.expires.is_some_and(|e| e <= st.now()) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "ExpiredToken",
            "The security token included in the request is expired",
        ));
    }
    Ok((auth.access_key_id, cred))
}

// ---------------------------------------------------------------------------------------------
// parameters

fn required<'a>(p: &'a BTreeMap<String, String>, name: &str, field: &str) -> Result<&'a str, Reply> {
    p.get(name).map(String::as_str).ok_or_else(|| {
        validation(&format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

fn name_param(value: &str, field: &str, min: usize, max: usize) -> Result<(), Reply> {
    let valid_chars = value.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if value.len() < min || value.len() > max || !valid_chars {
        return Err(validation(&format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must have length between {min} and {max} and satisfy regular expression pattern: [\\w+=,.@-]*"
        )));
    }
    Ok(())
}

fn duration(p: &BTreeMap<String, String>, default: u64, max_constraint: u64) -> Result<u64, Reply> {
    let Some(v) = p.get("DurationSeconds") else { return Ok(default) };
    let d: u64 = v.parse().map_err(|_| {
        validation(&format!("Value '{v}' for parameter DurationSeconds is invalid. It must be an integer."))
    })?;
    if d < 900 {
        return Err(validation(&format!(
            "1 validation error detected: Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
        )));
    }
    if d > max_constraint {
        return Err(validation(&format!(
            "1 validation error detected: Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to {max_constraint}"
        )));
    }
    Ok(d)
}

/// Checks an MFA code for `serial` as AWS does: 6 digits, a device the caller owns, the code of
/// the current 30-second step (or one either side), not used before.
fn check_mfa(st: &mut State, p: &BTreeMap<String, String>, identity: &Identity) -> Result<bool, Reply> {
    let (serial, code) = match (p.get("SerialNumber"), p.get("TokenCode")) {
        (None, None) => return Ok(false),
        (Some(_), None) => {
            return Err(access_denied(
                "MultiFactorAuthentication failed, unable to validate MFA code. TokenCode is missing.",
            ));
        }
        (None, Some(_)) => {
            return Err(access_denied("MultiFactorAuthentication failed: TokenCode given without SerialNumber."));
        }
        (Some(s), Some(c)) => (s.clone(), c.clone()),
    };
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(validation(&format!(
            "1 validation error detected: Value '{code}' at 'tokenCode' failed to satisfy constraint: Member must have length less than or equal to 6 and satisfy regular expression pattern: [\\d]*"
        )));
    }
    if serial.len() < 9 || serial.len() > 256 {
        return Err(validation(&format!(
            "1 validation error detected: Value '{serial}' at 'serialNumber' failed to satisfy constraint: Member must have length greater than or equal to 9"
        )));
    }
    let invalid = || access_denied("MultiFactorAuthentication failed with invalid MFA one time pass code. ");
    let Some((device, owner)) = st.mfa_device(&serial, identity) else { return Err(invalid()) };
    if matches!(identity, Identity::User { .. }) && !owner {
        return Err(invalid());
    }
    let seed = totp::decode_seed(&device.seed).ok_or_else(invalid)?;
    let now = u64::try_from(st.now()).unwrap_or(0);
    let step = totp::matching_step(&seed, &code, now, st.scenario.sts.totp_window).ok_or_else(invalid)?;
    if st.scenario.sts.reject_reused_codes && !st.used_codes.insert((serial.clone(), step)) {
        return Err(access_denied(
            "MultiFactorAuthentication failed, unable to validate MFA code: the code was already used.",
        ));
    }
    Ok(true)
}

fn principal_matches(principals: &[String], identity: &Identity) -> bool {
    let account = identity.account();
    principals.iter().any(|p| {
        if p == "*" {
            return true;
        }
        if matches!(identity, Identity::Federated { .. }) {
            return false;
        }
        if p == account || *p == format!("arn:aws:iam::{account}:root") {
            return true;
        }
        match identity {
            Identity::User { .. } => *p == identity.arn(),
            Identity::AssumedRole { role, .. } => {
                p.starts_with(&format!("arn:aws:iam::{account}:role/")) && p.ends_with(&format!("/{role}"))
            }
            _ => false,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// actions

fn get_caller_identity(st: &mut State, raw: &Raw) -> Result<Reply, Reply> {
    let (_, cred) = authenticate(st, raw)?;
    let id = &cred.identity;
    Ok(ok(
        "GetCallerIdentity",
        &format!(
            "    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n",
            xml_escape(&id.arn()),
            xml_escape(&id.user_id()),
            id.account()
        ),
    ))
}

fn assume_role(st: &mut State, p: &BTreeMap<String, String>, raw: &Raw) -> Result<Reply, Reply> {
    let (_, caller) = authenticate(st, raw)?;
    let role_arn = required(p, "RoleArn", "roleArn")?.to_string();
    let session = required(p, "RoleSessionName", "roleSessionName")?.to_string();
    name_param(&session, "roleSessionName", 2, 64)?;
    if let Some(x) = p.get("ExternalId") {
        name_param(x, "externalId", 2, 1224).map_err(|_| validation(&format!("1 validation error detected: Value '{x}' at 'externalId' failed to satisfy constraint: Member must have length greater than or equal to 2")))?;
    }
    let requested = duration(p, 3600, 43200)?;
    let denied = || {
        access_denied(&format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            caller.identity.arn()
        ))
    };
    let (account, role) = st.role_by_arn(&role_arn).ok_or_else(denied)?;
    if !principal_matches(&role.trust.principals, &caller.identity) {
        return Err(denied());
    }
    let mfa_now = check_mfa(st, p, &caller.identity)?;
    let mfa = caller.mfa || mfa_now;
    if role.trust.require_mfa && !mfa {
        return Err(denied());
    }
    if let Some(expected) = &role.trust.external_id
        && p.get("ExternalId") != Some(expected)
    {
        return Err(denied());
    }
    let chained = caller.kind == Kind::Role;
    if chained && requested > 3600 {
        return Err(validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    if requested > role.max_session_duration {
        return Err(validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role."));
    }
    let identity = Identity::AssumedRole { account, role: role.name.clone(), session };
    let lifetime = st.scenario.sts.role_credentials_seconds.unwrap_or(requested);
    let (id, cred) = st.issue(identity.clone(), lifetime, mfa, Kind::Role, chained);
    Ok(ok("AssumeRole", &format!("{}{}", credentials_xml(&id, &cred), assumed_role_xml(&identity))))
}

fn long_term_only(caller: &Credential, action: &str) -> Result<(), Reply> {
    if caller.kind != Kind::LongTerm {
        return Err(access_denied(&format!("Cannot call {action} with session credentials")));
    }
    Ok(())
}

fn get_session_token(st: &mut State, p: &BTreeMap<String, String>, raw: &Raw) -> Result<Reply, Reply> {
    let (_, caller) = authenticate(st, raw)?;
    long_term_only(&caller, "GetSessionToken")?;
    let is_root = matches!(caller.identity, Identity::Root { .. });
    let requested = duration(p, if is_root { 3600 } else { 43200 }, 129_600)?;
    if is_root && requested > 3600 {
        return Err(validation("The requested DurationSeconds exceeds the 1 hour session limit for the root user."));
    }
    let mfa = check_mfa(st, p, &caller.identity)?;
    let (id, cred) = st.issue(caller.identity.clone(), requested, mfa, Kind::SessionToken, false);
    Ok(ok("GetSessionToken", &credentials_xml(&id, &cred)))
}

fn get_federation_token(st: &mut State, p: &BTreeMap<String, String>, raw: &Raw) -> Result<Reply, Reply> {
    let (_, caller) = authenticate(st, raw)?;
    let name = required(p, "Name", "name")?.to_string();
    name_param(&name, "name", 2, 32)?;
    long_term_only(&caller, "GetFederationToken")?;
    let is_root = matches!(caller.identity, Identity::Root { .. });
    let requested = duration(p, if is_root { 3600 } else { 43200 }, 129_600)?;
    if is_root && requested > 3600 {
        return Err(validation("The requested DurationSeconds exceeds the 1 hour session limit for the root user."));
    }
    let identity = Identity::Federated { account: caller.identity.account().to_string(), name };
    let (id, cred) = st.issue(identity.clone(), requested, false, Kind::Federation, false);
    Ok(ok(
        "GetFederationToken",
        &format!(
            "{}    <FederatedUser>\n      <FederatedUserId>{}</FederatedUserId>\n      <Arn>{}</Arn>\n    </FederatedUser>\n",
            credentials_xml(&id, &cred),
            xml_escape(&identity.user_id()),
            xml_escape(&identity.arn())
        ),
    ))
}

fn assume_role_with_web_identity(st: &mut State, p: &BTreeMap<String, String>) -> Result<Reply, Reply> {
    let role_arn = required(p, "RoleArn", "roleArn")?.to_string();
    let session = required(p, "RoleSessionName", "roleSessionName")?.to_string();
    name_param(&session, "roleSessionName", 2, 64)?;
    let token = required(p, "WebIdentityToken", "webIdentityToken")?;
    let requested = duration(p, 3600, 43200)?;
    let bad_token = || error(StatusCode::BAD_REQUEST, "InvalidIdentityToken", "Couldn't parse the web identity token.");
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(bad_token());
    }
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1].trim_end_matches('='))
        .map_err(|_| bad_token())?;
    let claims: serde_json::Value = serde_json::from_slice(&payload).map_err(|_| bad_token())?;
    let issuer = claims["iss"].as_str().ok_or_else(bad_token)?.to_string();
    let subject = claims["sub"].as_str().unwrap_or_default().to_string();
    let audience = match &claims["aud"] {
        serde_json::Value::Array(a) => a.first().and_then(|v| v.as_str()).unwrap_or_default().to_string(),
        v => v.as_str().unwrap_or_default().to_string(),
    };
    if let Some(exp) = claims["exp"].as_i64()
        && exp <= st.now()
    {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "ExpiredTokenException",
            &format!("Token expired: current date/time {} must be before the expiration date/time {}", st.now(), exp),
        ));
    }
    let provider = issuer.trim_start_matches("https://").to_string();
    let denied = || access_denied("Not authorized to perform sts:AssumeRoleWithWebIdentity");
    let (account, role) = st.role_by_arn(&role_arn).ok_or_else(denied)?;
    if !role.trust.web_identity.contains(&provider) {
        return Err(denied());
    }
    if requested > role.max_session_duration {
        return Err(validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role."));
    }
    let identity = Identity::AssumedRole { account, role: role.name.clone(), session };
    let (id, cred) = st.issue(identity.clone(), requested, false, Kind::Role, false);
    Ok(ok(
        "AssumeRoleWithWebIdentity",
        &format!(
            "{}    <SubjectFromWebIdentityToken>{}</SubjectFromWebIdentityToken>\n{}    <Provider>{}</Provider>\n    <Audience>{}</Audience>\n",
            credentials_xml(&id, &cred),
            xml_escape(&subject),
            assumed_role_xml(&identity),
            xml_escape(&issuer),
            xml_escape(&audience)
        ),
    ))
}
