//! The sandbox proven with clients nobody here wrote: boto3 and awscli v1 (PyPI, pinned in
//! tests/sandbox/requirements.txt) against the emulator and against moto.

use std::time::{Duration, Instant};

use e2e::emulator::faults::Faults;
use e2e::harness::{Home, Moto, Sandbox, fixture::*, run, standard_scenario, venv_bin};
use serde_json::{Value, json};

/// Runs a Python snippet with boto3 pointed at the sandbox; the snippet prints one JSON value.
fn py(sandbox: &Sandbox, moto: Option<&Moto>, script: &str) -> Value {
    let home = Home::new();
    let prelude = "import json, boto3, botocore\nfrom botocore.config import Config\n";
    let mut cmd = home.command_with(venv_bin("python"), sandbox, moto);
    cmd.arg("-c").arg(format!("{prelude}{script}")).env("AWS_DEFAULT_REGION", "us-east-1");
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "python failed:\n{err}\n{out}");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{err}"))
}

/// A boto3 client factory snippet for alice's keys (optionally with a session).
const CLIENTS: &str = r#"
def sts(key, secret, token=None, **kw):
    return boto3.client("sts", aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token, config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, **kw))
def err(fn):
    try:
        fn()
        return None
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"] + ": " + e.response["Error"]["Message"]
"#;

/// The device-code login with boto3's sso-oidc client; prints the token.
const DEVICE_LOGIN: &str = r#"
oidc = boto3.client("sso-oidc", config=Config(retries={"max_attempts": 1}))
reg = oidc.register_client(clientName="boto3-test", clientType="public", scopes=["sso:account:access"])
dev = oidc.start_device_authorization(clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL)
"#;

#[test]
fn boto3_device_login_lists_every_account_and_role_and_gets_role_credentials() {
    let mut scenario = standard_scenario();
    scenario.sso.auto_approve = true;
    let sandbox = Sandbox::start(scenario);
    let script = format!(
        "START_URL = {START_URL:?}\n{DEVICE_LOGIN}{}",
        r#"
tok = oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType="urn:ietf:params:oauth:grant-type:device_code", deviceCode=dev["deviceCode"])
sso = boto3.client("sso", config=Config(retries={"max_attempts": 1}))
accounts = [a for page in sso.get_paginator("list_accounts").paginate(accessToken=tok["accessToken"], PaginationConfig={"PageSize": 1}) for a in page["accountList"]]
roles = {a["accountId"]: sorted(r["roleName"] for page in sso.get_paginator("list_account_roles").paginate(accessToken=tok["accessToken"], accountId=a["accountId"], PaginationConfig={"PageSize": 1}) for r in page["roleList"]) for a in accounts}
creds = sso.get_role_credentials(accessToken=tok["accessToken"], accountId="222222222222", roleName="ReadOnly")["roleCredentials"]
who = boto3.client("sts", aws_access_key_id=creds["accessKeyId"], aws_secret_access_key=creds["secretAccessKey"], aws_session_token=creds["sessionToken"]).get_caller_identity()
try:
    sso.list_accounts(accessToken="not-a-token")
    bad = None
except sso.exceptions.UnauthorizedException as e:
    bad = e.response["Error"]["Code"]
print(json.dumps({"token": tok, "dev": dev, "accounts": accounts, "roles": roles, "exp": creds["expiration"], "arn": who["Arn"], "bad": bad}))
"#
    );
    let v = py(&sandbox, None, &script);
    assert_eq!(v["token"]["tokenType"], "Bearer");
    assert!(v["token"]["refreshToken"].as_str().unwrap().starts_with("aor"), "scopes give a refresh token");
    assert!(v["dev"]["verificationUriComplete"].as_str().unwrap().contains(v["dev"]["userCode"].as_str().unwrap()));
    let ids: Vec<&str> = v["accounts"].as_array().unwrap().iter().map(|a| a["accountId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["111111111111", "222222222222", "333333333333", "444444444444"]);
    assert_eq!(v["accounts"][1]["accountName"], "dev");
    assert_eq!(v["accounts"][1]["emailAddress"], "aws-dev@example.com");
    assert_eq!(v["roles"]["333333333333"], json!(["Billing_Admin", "ReadOnly"]));
    let arn = v["arn"].as_str().unwrap();
    assert!(arn.starts_with("arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_ReadOnly_"), "{arn}");
    assert!(arn.ends_with("/alice@example.com"), "{arn}");
    let exp_ms = v["exp"].as_i64().unwrap();
    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    assert!((exp_ms - now_ms - 3_600_000).abs() < 60_000, "expiration is epoch milliseconds an hour ahead");
    assert_eq!(v["bad"], "UnauthorizedException");
    // Pagination was exercised: one ListAccounts call per account (+1 for the bad token).
    assert_eq!(sandbox.count("ListAccounts"), 5);
    assert!(sandbox.requests().iter().any(|r| r.operation == "ListAccounts" && r.params.contains_key("next_token")));
}

#[test]
fn device_code_is_pending_until_approved_and_slow_down_on_fast_polling() {
    let sandbox = Sandbox::start(standard_scenario());
    let script = format!(
        "START_URL = {START_URL:?}\n{DEVICE_LOGIN}{}",
        r#"
import time, urllib.request
def poll():
    try:
        oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType="urn:ietf:params:oauth:grant-type:device_code", deviceCode=dev["deviceCode"])
        return "ok"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
first = poll()
second = poll()
time.sleep(1.1)
third = poll()
# the person approves on the verification page
body = ("user_code=" + dev["userCode"] + "&decision=approve").encode()
urllib.request.urlopen(urllib.request.Request(dev["verificationUri"] + "/decide", data=body)).read()
fourth = poll()
fifth = poll()
print(json.dumps([first, second, third, fourth, fifth]))
"#
    );
    let v = py(&sandbox, None, &script);
    assert_eq!(
        v,
        json!([
            "AuthorizationPendingException",
            "SlowDownException",
            "AuthorizationPendingException",
            "ok",
            "InvalidGrantException"
        ])
    );
}

#[test]
fn pkce_authorization_code_and_refresh_token_grants() {
    let mut scenario = standard_scenario();
    scenario.sso.auto_approve = true;
    let sandbox = Sandbox::start(scenario);
    let script = r#"
import base64, hashlib, secrets, urllib.parse, http.client
oidc = boto3.client("sso-oidc", config=Config(retries={"max_attempts": 1}))
reg = oidc.register_client(clientName="botocore-client-test", clientType="public", scopes=["sso:account:access"],
    grantTypes=["authorization_code", "refresh_token"], redirectUris=["http://127.0.0.1/oauth/callback"], issuerUrl="https://d-0000000000.awsapps.com/start")
verifier = secrets.token_urlsafe(64)
challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
redirect = "http://127.0.0.1:54321/oauth/callback"
q = urllib.parse.urlencode({"response_type": "code", "client_id": reg["clientId"], "redirect_uri": redirect, "state": "st-1",
    "code_challenge_method": "S256", "scopes": "sso:account:access", "code_challenge": challenge})
u = urllib.parse.urlparse(reg["authorizationEndpoint"])
c = http.client.HTTPConnection(u.hostname, u.port)
c.request("GET", u.path + "?" + q)
r = c.getresponse()
loc = urllib.parse.urlparse(r.getheader("Location"))
got = urllib.parse.parse_qs(loc.query)
def token(**kw):
    try:
        return oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"], **kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
wrong = token(grantType="authorization_code", code=got["code"][0], redirectUri=redirect, codeVerifier="x" * 50)
tok = token(grantType="authorization_code", code=got["code"][0], redirectUri=redirect, codeVerifier=verifier)
again = token(grantType="authorization_code", code=got["code"][0], redirectUri=redirect, codeVerifier=verifier)
refreshed = token(grantType="refresh_token", refreshToken=tok["refreshToken"])
old_refresh = token(grantType="refresh_token", refreshToken=tok["refreshToken"])
sso = boto3.client("sso")
n = len(sso.list_accounts(accessToken=refreshed["accessToken"])["accountList"])
print(json.dumps({"status": r.status, "redirect": loc.scheme + "://" + loc.netloc + loc.path, "state": got["state"][0],
    "wrong": wrong, "ok": tok["tokenType"], "again": again, "refreshed": refreshed["accessToken"] != tok["accessToken"],
    "old_refresh": old_refresh, "accounts": n}))
"#;
    let v = py(&sandbox, None, script);
    assert_eq!(v["status"], 302);
    assert_eq!(v["redirect"], "http://127.0.0.1:54321/oauth/callback");
    assert_eq!(v["state"], "st-1");
    assert_eq!(v["wrong"], "InvalidGrantException", "a wrong code_verifier is refused");
    assert_eq!(v["ok"], "Bearer");
    assert_eq!(v["again"], "InvalidGrantException", "a code works once");
    assert_eq!(v["refreshed"], true);
    assert_eq!(v["old_refresh"], "InvalidGrantException", "refresh tokens rotate");
    assert_eq!(v["accounts"], 4);
}

#[test]
fn boto3_assume_role_checks_mfa_codes_trust_and_durations() {
    let mut scenario = standard_scenario();
    scenario.sts.reject_reused_codes = true;
    let sandbox = Sandbox::start(scenario);
    let (c0, c1) = (sandbox.totp(ALICE_MFA, 0), sandbox.totp(ALICE_MFA, 1));
    let wrong = if c0 == "000000" { "111111" } else { "000000" };
    let script = format!(
        "{CLIENTS}\nKEY, SECRET, MFA = {ALICE_KEY:?}, {ALICE_SECRET:?}, {ALICE_MFA:?}\nC0, C1, WRONG = {c0:?}, {c1:?}, {wrong:?}\n{}",
        r#"
alice = sts(KEY, SECRET)
admin = "arn:aws:iam::222222222222:role/admin"
out = {}
out["me"] = alice.get_caller_identity()["Arn"]
out["no_mfa"] = err(lambda: alice.assume_role(RoleArn=admin, RoleSessionName="ss"))
out["wrong"] = err(lambda: alice.assume_role(RoleArn=admin, RoleSessionName="ss", SerialNumber=MFA, TokenCode=WRONG))
out["short"] = err(lambda: sts(KEY, SECRET, parameter_validation=False).assume_role(RoleArn=admin, RoleSessionName="ss", SerialNumber=MFA, TokenCode="12345"))
r = alice.assume_role(RoleArn=admin, RoleSessionName="alice-admin", SerialNumber=MFA, TokenCode=C0, DurationSeconds=7200)
out["reused"] = err(lambda: alice.assume_role(RoleArn=admin, RoleSessionName="ss", SerialNumber=MFA, TokenCode=C0))
c = r["Credentials"]
out["assumed"] = r["AssumedRoleUser"]["Arn"]
import time
out["ttl"] = int(c["Expiration"].timestamp() - time.time())
admin_s = sts(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
out["admin_who"] = admin_s.get_caller_identity()["Arn"]
deployer = "arn:aws:iam::222222222222:role/deployer"
out["chain_long"] = err(lambda: admin_s.assume_role(RoleArn=deployer, RoleSessionName="dd", DurationSeconds=7200))
d = admin_s.assume_role(RoleArn=deployer, RoleSessionName="dd", DurationSeconds=3600)["Credentials"]
dep_s = sts(d["AccessKeyId"], d["SecretAccessKey"], d["SessionToken"])
a = dep_s.assume_role(RoleArn="arn:aws:iam::333333333333:role/auditor", RoleSessionName="audit")["Credentials"]
out["third_hop"] = sts(a["AccessKeyId"], a["SecretAccessKey"], a["SessionToken"]).get_caller_identity()["Arn"]
out["not_trusted"] = err(lambda: alice.assume_role(RoleArn=deployer, RoleSessionName="ss"))
out["too_short"] = err(lambda: sts(KEY, SECRET, parameter_validation=False).assume_role(RoleArn="arn:aws:iam::222222222222:role/readonly", RoleSessionName="ss", DurationSeconds=100))
out["over_max"] = err(lambda: alice.assume_role(RoleArn="arn:aws:iam::222222222222:role/readonly", RoleSessionName="ss", DurationSeconds=7200))
out["no_role"] = err(lambda: alice.assume_role(RoleArn="arn:aws:iam::222222222222:role/nope", RoleSessionName="ss"))
out["ext_missing"] = err(lambda: alice.assume_role(RoleArn="arn:aws:iam::333333333333:role/vendor", RoleSessionName="ss"))
out["ext_ok"] = alice.assume_role(RoleArn="arn:aws:iam::333333333333:role/vendor", RoleSessionName="ss", ExternalId="example-external-id")["AssumedRoleUser"]["Arn"]
out["bad_secret"] = err(lambda: sts(KEY, "wrong-secret").get_caller_identity())
out["bad_key"] = err(lambda: sts("AKIAEXAMPLEUNKNOWN01", SECRET).get_caller_identity())
out["bad_token"] = err(lambda: sts(c["AccessKeyId"], c["SecretAccessKey"], "forged").get_caller_identity())
# GetSessionToken with MFA, then a role that requires MFA, without another code
g = alice.get_session_token(SerialNumber=MFA, TokenCode=C1)["Credentials"]
out["gst_akid"] = g["AccessKeyId"][:4]
gs = sts(g["AccessKeyId"], g["SecretAccessKey"], g["SessionToken"])
out["gst_who"] = gs.get_caller_identity()["Arn"]
out["gst_then_admin"] = gs.assume_role(RoleArn="arn:aws:iam::333333333333:role/admin", RoleSessionName="pp", DurationSeconds=43200)["AssumedRoleUser"]["Arn"]
out["gst_from_session"] = err(lambda: gs.get_session_token())
out["gft_from_session"] = err(lambda: gs.get_federation_token(Name="x1"))
f = alice.get_federation_token(Name="alice-console", DurationSeconds=3600)
out["fed"] = [f["FederatedUser"]["Arn"], f["FederatedUser"]["FederatedUserId"]]
print(json.dumps(out))
"#
    );
    let v = py(&sandbox, None, &script);
    let starts = |k: &str, p: &str| assert!(v[k].as_str().unwrap_or("").starts_with(p), "{k}: {}", v[k]);
    assert_eq!(v["me"], "arn:aws:iam::111111111111:user/alice");
    starts(
        "no_mfa",
        "AccessDenied: User: arn:aws:iam::111111111111:user/alice is not authorized to perform: sts:AssumeRole",
    );
    starts("wrong", "AccessDenied: MultiFactorAuthentication failed");
    starts("short", "ValidationError");
    starts("reused", "AccessDenied: MultiFactorAuthentication failed");
    assert_eq!(v["assumed"], "arn:aws:sts::222222222222:assumed-role/admin/alice-admin");
    let ttl = v["ttl"].as_i64().unwrap();
    assert!((7100..=7200).contains(&ttl), "DurationSeconds honoured: {ttl}");
    assert_eq!(v["admin_who"], "arn:aws:sts::222222222222:assumed-role/admin/alice-admin");
    starts(
        "chain_long",
        "ValidationError: The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining",
    );
    assert_eq!(v["third_hop"], "arn:aws:sts::333333333333:assumed-role/auditor/audit");
    starts("not_trusted", "AccessDenied");
    starts("too_short", "ValidationError");
    starts("over_max", "ValidationError: The requested DurationSeconds exceeds the MaxSessionDuration");
    starts("no_role", "AccessDenied");
    starts("ext_missing", "AccessDenied");
    assert_eq!(v["ext_ok"], "arn:aws:sts::333333333333:assumed-role/vendor/ss");
    starts("bad_secret", "SignatureDoesNotMatch");
    starts("bad_key", "InvalidClientTokenId");
    starts("bad_token", "InvalidClientTokenId");
    assert_eq!(v["gst_akid"], "ASIA");
    assert_eq!(v["gst_who"], "arn:aws:iam::111111111111:user/alice");
    assert_eq!(v["gst_then_admin"], "arn:aws:sts::333333333333:assumed-role/admin/pp");
    starts("gst_from_session", "AccessDenied: Cannot call GetSessionToken with session credentials");
    starts("gft_from_session", "AccessDenied: Cannot call GetFederationToken with session credentials");
    assert_eq!(
        v["fed"],
        json!(["arn:aws:sts::111111111111:federated-user/alice-console", "111111111111:alice-console"])
    );
}

#[test]
fn web_identity_root_and_console_federation() {
    let sandbox = Sandbox::start(standard_scenario());
    let script = format!(
        "{CLIENTS}\nKEY, SECRET = {ALICE_KEY:?}, {ALICE_SECRET:?}\n{}",
        r#"
import base64, time, urllib.parse, urllib.request
b64 = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
jwt = lambda claims: b64({"alg": "RS256"}) + "." + b64(claims) + ".c2ln"
anon = boto3.client("sts", aws_access_key_id="x", aws_secret_access_key="y")
out = {}
r = anon.assume_role_with_web_identity(RoleArn="arn:aws:iam::333333333333:role/ci", RoleSessionName="gha",
    WebIdentityToken=jwt({"iss": "https://token.actions.githubusercontent.com", "sub": "repo:o/r:ref:refs/heads/main", "aud": "sts.amazonaws.com", "exp": int(time.time()) + 300}))
out["wi"] = [r["AssumedRoleUser"]["Arn"], r["SubjectFromWebIdentityToken"], r["Provider"], r["Audience"]]
out["wi_expired"] = err(lambda: anon.assume_role_with_web_identity(RoleArn="arn:aws:iam::333333333333:role/ci", RoleSessionName="gha",
    WebIdentityToken=jwt({"iss": "https://token.actions.githubusercontent.com", "sub": "s", "exp": 1})))
out["wi_untrusted"] = err(lambda: anon.assume_role_with_web_identity(RoleArn="arn:aws:iam::333333333333:role/admin", RoleSessionName="gha",
    WebIdentityToken=jwt({"iss": "https://token.actions.githubusercontent.com", "sub": "s"})))
out["wi_garbage"] = err(lambda: anon.assume_role_with_web_identity(RoleArn="arn:aws:iam::333333333333:role/ci", RoleSessionName="gha", WebIdentityToken="not-a-jwt"))
root = sts("AKIAEXAMPLEROOT11111", "example/root/secret/0000000000000000000000").get_caller_identity()
out["root"] = [root["Arn"], root["UserId"]]
alice = sts(KEY, SECRET)
base = boto3.client("sts").meta.endpoint_url
def signin(creds, duration=None):
    q = {"Action": "getSigninToken", "Session": json.dumps({"sessionId": creds["AccessKeyId"], "sessionKey": creds["SecretAccessKey"], "sessionToken": creds["SessionToken"]})}
    if duration: q["SessionDuration"] = str(duration)
    try:
        return json.loads(urllib.request.urlopen(base + "/federation?" + urllib.parse.urlencode(q)).read())["SigninToken"][:4] and "token"
    except urllib.error.HTTPError as e:
        return e.code
role = alice.assume_role(RoleArn="arn:aws:iam::222222222222:role/readonly", RoleSessionName="cc")["Credentials"]
out["console_role"] = signin(role, 43200)
out["console_fed"] = signin(alice.get_federation_token(Name="fed")["Credentials"])
out["console_fed_duration"] = signin(alice.get_federation_token(Name="fed")["Credentials"], 3600)
out["console_gst"] = signin(alice.get_session_token()["Credentials"])
print(json.dumps(out))
"#
    );
    let v = py(&sandbox, None, &script);
    assert_eq!(
        v["wi"],
        json!([
            "arn:aws:sts::333333333333:assumed-role/ci/gha",
            "repo:o/r:ref:refs/heads/main",
            "https://token.actions.githubusercontent.com",
            "sts.amazonaws.com"
        ])
    );
    assert!(v["wi_expired"].as_str().unwrap().starts_with("ExpiredTokenException"), "{}", v["wi_expired"]);
    assert!(v["wi_untrusted"].as_str().unwrap().starts_with("AccessDenied"));
    assert!(v["wi_garbage"].as_str().unwrap().starts_with("InvalidIdentityToken"));
    assert_eq!(v["root"], json!(["arn:aws:iam::111111111111:root", "111111111111"]));
    assert_eq!(v["console_role"], "token");
    assert_eq!(v["console_fed"], "token");
    assert_eq!(v["console_fed_duration"], 400);
    assert_eq!(v["console_gst"], 400);
}

#[test]
fn awscli_v1_lists_accounts_gets_role_credentials_and_assumes_with_mfa() {
    let mut scenario = standard_scenario();
    scenario.sso.auto_approve = true;
    let sandbox = Sandbox::start(scenario);
    // A token, as `aws sso login` would have cached it (awscli v1 has no login command).
    let token = {
        let mut st = sandbox.emulator.lock();
        let exp = st.now() + 3600;
        st.access_tokens
            .insert("aoa-cli-test-token".into(), e2e::emulator::state::Token { client_id: "c".into(), expires: exp });
        "aoa-cli-test-token"
    };
    let home = Home::new();
    home.credentials(&format!("[alice]\naws_access_key_id = {ALICE_KEY}\naws_secret_access_key = {ALICE_SECRET}\n"));
    let aws = |args: &[&str]| {
        let mut cmd = home.command_with(venv_bin("aws"), &sandbox, None);
        cmd.args(args)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_SHARED_CREDENTIALS_FILE", home.aws("credentials"));
        run(&mut cmd)
    };
    let (code, out, err) =
        aws(&["sso", "list-accounts", "--access-token", token, "--page-size", "1", "--output", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["accountList"].as_array().unwrap().len(), 4, "the CLI followed nextToken across 4 pages");
    let (code, out, err) = aws(&[
        "sso",
        "list-account-roles",
        "--access-token",
        token,
        "--account-id",
        "333333333333",
        "--output",
        "text",
        "--query",
        "roleList[].roleName",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.split_whitespace().collect::<Vec<_>>(), ["ReadOnly", "Billing_Admin"]);
    let (code, out, err) = aws(&[
        "sso",
        "get-role-credentials",
        "--access-token",
        token,
        "--account-id",
        "444444444444",
        "--role-name",
        "AdministratorAccess",
    ]);
    assert_eq!(code, 0, "{err}");
    let creds: Value = serde_json::from_str(&out).unwrap();
    assert!(creds["roleCredentials"]["accessKeyId"].as_str().unwrap().starts_with("ASIA"));
    let (code, _, err) = aws(&["sso", "list-accounts", "--access-token", "expired-or-bogus"]);
    assert_ne!(code, 0);
    assert!(err.contains("UnauthorizedException"), "{err}");

    let admin = "arn:aws:iam::222222222222:role/admin";
    let code_now = sandbox.totp(ALICE_MFA, 0);
    let wrong = if code_now == "123456" { "654321" } else { "123456" };
    let (code, _, err) = aws(&[
        "sts",
        "assume-role",
        "--profile",
        "alice",
        "--role-arn",
        admin,
        "--role-session-name",
        "cli",
        "--serial-number",
        ALICE_MFA,
        "--token-code",
        wrong,
    ]);
    assert_ne!(code, 0, "a wrong MFA code is refused");
    assert!(err.contains("AccessDenied") && err.contains("MultiFactorAuthentication failed"), "{err}");
    let (code, out, err) = aws(&[
        "sts",
        "assume-role",
        "--profile",
        "alice",
        "--role-arn",
        admin,
        "--role-session-name",
        "cli",
        "--serial-number",
        ALICE_MFA,
        "--token-code",
        &code_now,
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["AssumedRoleUser"]["Arn"], "arn:aws:sts::222222222222:assumed-role/admin/cli");
    // ...and the CLI's own role profile with source_profile reaches a role without MFA.
    home.config("[profile ro]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = alice\n");
    let mut cmd = home.command_with(venv_bin("aws"), &sandbox, None);
    cmd.args(["sts", "get-caller-identity", "--profile", "ro", "--output", "text", "--query", "Arn"])
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", home.aws("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.aws("credentials"));
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert!(out.trim().starts_with("arn:aws:sts::222222222222:assumed-role/readonly/"), "{out}");
    let log = sandbox.requests();
    assert!(log.iter().any(|r| r.operation == "AssumeRole"
        && r.params.get("TokenCode").and_then(|t| t.as_str()) == Some(code_now.as_str())));
}

#[test]
fn faults_throttle_above_the_rate_and_add_latency() {
    let sandbox = Sandbox::start(standard_scenario());
    sandbox.set_faults(Faults {
        rate_limit: Some(5.0),
        burst: Some(5.0),
        operations: vec!["GetCallerIdentity".into()],
        ..Faults::default()
    });
    let script = format!(
        "{CLIENTS}\nKEY, SECRET = {ALICE_KEY:?}, {ALICE_SECRET:?}\n{}",
        r#"
alice = sts(KEY, SECRET)
codes = [err(alice.get_caller_identity) for _ in range(15)]
print(json.dumps(codes))
"#
    );
    let v = py(&sandbox, None, &script);
    let throttled = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c.as_str().is_some_and(|c| c.starts_with("Throttling: Rate exceeded")))
        .count();
    let ok = v.as_array().unwrap().iter().filter(|c| c.is_null()).count();
    assert!(throttled >= 5, "above 5 requests/s most calls are throttled: {v}");
    assert!(ok >= 5, "the burst goes through: {v}");
    assert_eq!(
        sandbox.requests().iter().filter(|r| r.status == 400 && r.error.as_deref() == Some("Throttling")).count(),
        throttled
    );

    // The portal throttles with 429 TooManyRequestsException.
    sandbox.set_faults(Faults { rate_limit: Some(2.0), ..Faults::default() });
    let client = reqwest::blocking::Client::new();
    let statuses: Vec<(u16, String)> = (0..6)
        .map(|_| {
            let r = client
                .get(format!("{}/assignment/accounts", sandbox.url))
                .header("x-amz-sso_bearer_token", "t")
                .send()
                .unwrap();
            (
                r.status().as_u16(),
                r.headers().get("x-amzn-errortype").map(|h| h.to_str().unwrap().to_string()).unwrap_or_default(),
            )
        })
        .collect();
    assert!(statuses.contains(&(429, "TooManyRequestsException".into())), "{statuses:?}");

    // Latency: every answer waits at least the configured time (a lower bound, not a speed claim).
    sandbox.set_faults(Faults { latency_ms: 300, ..Faults::default() });
    let start = Instant::now();
    let r = client.get(format!("{}/assignment/accounts", sandbox.url)).send().unwrap();
    assert_eq!(r.status(), 401);
    assert!(start.elapsed() >= Duration::from_millis(300));
}

#[test]
fn faults_5xx_retry_truncation_and_timeouts() {
    let sandbox = Sandbox::start(standard_scenario());
    sandbox.set_faults(Faults { fail_first: 2, ..Faults::default() });
    let script = format!(
        "{CLIENTS}\nKEY, SECRET = {ALICE_KEY:?}, {ALICE_SECRET:?}\n{}",
        r#"
alice = boto3.client("sts", aws_access_key_id=KEY, aws_secret_access_key=SECRET, config=Config(retries={"max_attempts": 3, "mode": "standard"}))
print(json.dumps(alice.get_caller_identity()["Arn"]))
"#
    );
    assert_eq!(py(&sandbox, None, &script), "arn:aws:iam::111111111111:user/alice");
    let statuses: Vec<u16> = sandbox.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 500, 200], "two injected 500s, then the retry succeeds");

    sandbox.set_faults(Faults { truncate_rate: 1.0, ..Faults::default() });
    let client = reqwest::blocking::Client::new();
    let r = client.get(format!("{}/assignment/accounts", sandbox.url)).send().expect("the head arrives");
    assert_eq!(r.content_length(), Some(r#"{"message":"Session token not found or invalid"}"#.len() as u64));
    assert!(r.bytes().is_err(), "a truncated body fails to read");

    sandbox.set_faults(Faults { timeout_rate: 1.0, timeout_ms: Some(3000), ..Faults::default() });
    let quick = reqwest::blocking::Client::builder().timeout(Duration::from_millis(500)).build().unwrap();
    let e = quick.get(format!("{}/assignment/accounts", sandbox.url)).send().unwrap_err();
    assert!(e.is_timeout(), "{e}");
}

#[test]
fn moto_backdating_ages_keys_in_list_access_keys_and_the_credential_report() {
    let sandbox = Sandbox::start(standard_scenario());
    let moto = Moto::start();
    let script = r#"
import csv, io, time, datetime, urllib.request
iam = boto3.client("iam", aws_access_key_id="testing", aws_secret_access_key="testing")
iam.create_user(UserName="old-robot")
key = iam.create_access_key(UserName="old-robot")["AccessKey"]["AccessKeyId"]
base = iam.meta.endpoint_url
req = urllib.request.Request(base + "/_sandbox/backdate", data=json.dumps({"user": "old-robot", "key_index": 0, "days": 200, "last_used_days": 120, "service": "s3"}).encode(), headers={"Content-Type": "application/json"})
urllib.request.urlopen(req).read()
created = iam.list_access_keys(UserName="old-robot")["AccessKeyMetadata"][0]["CreateDate"]
last = iam.get_access_key_last_used(AccessKeyId=key)["AccessKeyLastUsed"]
iam.generate_credential_report()
while iam.generate_credential_report()["State"] != "COMPLETE":
    time.sleep(0.1)
rows = list(csv.DictReader(io.StringIO(iam.get_credential_report()["Content"].decode())))
row = [r for r in rows if r["user"] == "old-robot"][0]
now = datetime.datetime.now(datetime.timezone.utc)
age = lambda d: (now - d).days
print(json.dumps({"created_days": age(created), "last_used_days": age(last["LastUsedDate"]), "service": last["ServiceName"],
    "report_rotated_days": age(datetime.datetime.fromisoformat(row["access_key_1_last_rotated"].replace("Z", "+00:00"))), "active": row["access_key_1_active"]}))
"#;
    let v = py(&sandbox, Some(&moto), script);
    assert_eq!(v["created_days"], 200);
    assert_eq!(v["last_used_days"], 120);
    assert_eq!(v["service"], "s3");
    assert_eq!(v["report_rotated_days"], 200);
    assert_eq!(v["active"], "true");
}

#[test]
fn the_aws_sandbox_binary_starts_and_answers() {
    let home = Home::new();
    let mut child = home
        .command(env!("CARGO_BIN_EXE_aws-sandbox"))
        .args(["--scenario", e2e::harness::workspace_root().join("tests/sandbox/scenario.json").to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.strip_prefix("export AWS_ENDPOINT_URL_STS=").expect("prints the endpoint exports").to_string();
    let health: Value = reqwest::blocking::get(format!("{url}/_sandbox/health")).unwrap().json().unwrap();
    assert_eq!(health["ok"], true);
    let totp: Value =
        reqwest::blocking::get(format!("{url}/_sandbox/totp?serial={ALICE_MFA}")).unwrap().json().unwrap();
    assert_eq!(totp["code"].as_str().unwrap().len(), 6);
    child.kill().unwrap();
    let _ = child.wait();

    let (code, _, err) = run(home.command(env!("CARGO_BIN_EXE_aws-sandbox")).args(["--scenario", "/nonexistent.json"]));
    assert_eq!(code, 2);
    assert!(err.contains("cannot read scenario /nonexistent.json"), "{err}");
}
