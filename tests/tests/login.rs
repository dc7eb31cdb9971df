//! `aws login` sessions end to end: `aws-assume login` (loopback and `--remote`) against the
//! sandbox's Sign-In service, the session used by every tool (whoami, a role chain with MFA,
//! --console, keyaudit), refresh (one for twenty parallel callers, the cache rewritten in
//! botocore's format), ended and revoked sessions (exit 3 with the hint), DPoP proofs checked by
//! the emulator, and interop both ways with botocore[crt].

use std::path::PathBuf;

use e2e::emulator::scenario::Scenario;
use e2e::harness::{Home, Moto, Sandbox, Screen, binary, fixture::*, run, standard_scenario, venv_bin};
use serde_json::Value;
use shared::credentials::login::DpopKey;

const ALICE: &str = "arn:aws:iam::111111111111:user/alice";

fn scenario() -> Scenario {
    standard_scenario()
}

/// `aws-assume login --profile P` with a browser that follows the redirects (the sandbox approves).
fn login(home: &Home, sandbox: &Sandbox, profile: &str, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = home.command_with(binary("aws-assume"), sandbox, None);
    cmd.args(["login", "--profile", profile, "--output", "json"]).args(extra).env("BROWSER", "curl -sfL -o /dev/null");
    run(&mut cmd)
}

fn whoami(home: &Home, sandbox: &Sandbox, profile: &str) -> (i32, String, String) {
    let mut cmd = home.command_with(binary("aws-whoami"), sandbox, None);
    cmd.args(["--profile", profile, "--output", "json"]).env("AWS_WHOAMI_DISABLE_ACCOUNT_ALIAS", "true");
    run(&mut cmd)
}

fn session_file(home: &Home, session: &str) -> PathBuf {
    use sha2::Digest;
    home.aws("login/cache").join(format!("{}.json", hex::encode(sha2::Sha256::digest(session.as_bytes()))))
}

fn read(path: &PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Makes the cached credentials look `seconds_left` from expiry (as if time had passed).
fn age(path: &PathBuf, seconds_left: i64) {
    let mut v = read(path);
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds_left);
    v["accessToken"]["expiresAt"] = shared::cache::format_z(t).into();
    std::fs::write(path, shared::cache::pyjson::dumps_unsorted(&v)).unwrap();
}

fn refreshes(sandbox: &Sandbox) -> usize {
    sandbox
        .requests()
        .iter()
        .filter(|e| e.operation == "CreateOAuth2Token" && e.params["grantType"] == "refresh_token" && e.status == 200)
        .count()
}

/// A sandbox and a home whose profile `dev` is signed in as alice; the session file.
fn signed_in() -> (Sandbox, Home, PathBuf) {
    let sandbox = Sandbox::start(scenario());
    let home = Home::new();
    let (code, _, err) = login(&home, &sandbox, "dev", &[]);
    assert_eq!(code, 0, "{err}");
    let path = session_file(&home, ALICE);
    (sandbox, home, path)
}

/// aws-whoami on `dev` fails with exit 3, says `why` and names the fix.
fn assert_login_needed(home: &Home, sandbox: &Sandbox, why: &str) {
    let (code, out, err) = whoami(home, sandbox, "dev");
    assert_eq!(code, 3, "{out}{err}");
    assert!(err.contains(why), "{err}");
    assert!(err.contains("hint: run `aws login --profile dev`"), "{err}");
}

/// Starts `n` copies of a command at once; each must succeed.
fn all_succeed(n: usize, make: impl Fn() -> std::process::Command) {
    let children: Vec<_> = (0..n)
        .map(|_| {
            let mut cmd = make();
            cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn a_login_profile_serves_every_tool() {
    let sandbox = Sandbox::start(scenario());
    let moto = Moto::start();
    let home = Home::new();
    home.config(&format!(
        "# mine\n[profile dev]\nregion = eu-west-1\n\n[profile admin]\nrole_arn = arn:aws:iam::222222222222:role/admin\nsource_profile = dev\nmfa_serial = {ALICE_MFA}\n"
    ));
    let (code, out, err) = login(&home, &sandbox, "dev", &[]);
    assert_eq!(code, 0, "{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["LoginSession"], ALICE);
    // What `aws login` writes: the profile line (region kept: it was set), nothing else touched.
    assert_eq!(
        std::fs::read_to_string(home.aws("config")).unwrap(),
        format!(
            "# mine\n[profile dev]\nregion = eu-west-1\nlogin_session = {ALICE}\n\n[profile admin]\nrole_arn = arn:aws:iam::222222222222:role/admin\nsource_profile = dev\nmfa_serial = {ALICE_MFA}\n"
        )
    );
    let path = session_file(&home, ALICE);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(r#"{"accessToken": {"accessKeyId": "ASIA"#), "botocore's json.dumps: {text}");
    let cached = read(&path);
    assert_eq!(cached["clientId"], "arn:aws:signin:::devtools/same-device");
    assert_eq!(cached["accessToken"]["accountId"], "111111111111");
    assert!(cached["dpopKey"].as_str().unwrap().starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
    assert!(cached["idToken"].as_str().unwrap().split('.').count() == 3);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
    }
    // The PKCE exchange carried a verifier and a DPoP proof.
    let grant = sandbox.requests().into_iter().find(|e| e.operation == "CreateOAuth2Token").unwrap();
    assert_eq!(
        (grant.params["grantType"].as_str(), grant.params["DPoP"].as_str()),
        (Some("authorization_code"), Some("<present>"))
    );

    // aws-whoami: source `login`, the session's expiry.
    let (code, out, err) = whoami(&home, &sandbox, "dev");
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["CredentialSource"], "login");
    assert_eq!(v["Arn"], ALICE);
    assert_eq!(v["Expiration"], cached["accessToken"]["expiresAt"]);
    let mut all = home.command_with(binary("aws-whoami"), &sandbox, None);
    all.args(["--all-profiles", "--output", "json"]).env("AWS_WHOAMI_DISABLE_ACCOUNT_ALIAS", "true");
    let (_, out, err) = run(&mut all);
    let rows: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}\n{err}"));
    let dev = rows.as_array().unwrap().iter().find(|r| r["Profile"] == "dev").unwrap_or_else(|| panic!("{rows}"));
    assert_eq!(dev["CredentialSource"], "login", "{dev}");

    // aws-assume --list names the kind and how long the session has credentials.
    let mut list = home.command_with(binary("aws-assume"), &sandbox, None);
    list.args(["--list", "--output", "json"]);
    let (_, out, err) = run(&mut list);
    let rows: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}{err}"));
    let dev = rows.as_array().unwrap().iter().find(|r| r["Profile"] == "dev").unwrap();
    assert_eq!((dev["Kind"].as_str(), &dev["CachedUntil"]), (Some("login"), &cached["accessToken"]["expiresAt"]));
    // aws-assume exports the session itself, with its expiry.
    let mut export = home.command_with(binary("aws-assume"), &sandbox, None);
    export.args(["dev", "--format", "json"]);
    let (code, out, err) = run(&mut export);
    assert_eq!(code, 0, "{err}");
    let own: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(own["AccessKeyId"], cached["accessToken"]["accessKeyId"]);
    assert_eq!(own["Expiration"], cached["accessToken"]["expiresAt"]);
    // aws-assume: a role with MFA on top of the session, exported and as a console URL.
    let mut assume = home.command_with(binary("aws-assume"), &sandbox, None);
    assume.args(["admin", "--format", "json", "--mfa-code", &sandbox.totp(ALICE_MFA, 0)]);
    let (code, out, err) = run(&mut assume);
    assert_eq!(code, 0, "{err}");
    let creds: Value = serde_json::from_str(&out).unwrap();
    assert!(creds["AccessKeyId"].as_str().unwrap().starts_with("ASIA"), "{creds}");
    let hop = sandbox.requests().into_iter().find(|e| e.operation == "AssumeRole").unwrap();
    assert_eq!(hop.access_key_id.as_deref(), cached["accessToken"]["accessKeyId"].as_str(), "assumed with the session");
    assert_eq!(hop.params["SerialNumber"], ALICE_MFA);
    let mut console = home.command_with(binary("aws-assume"), &sandbox, None);
    console.args(["admin", "--console", "--print"]);
    let (code, out, err) = run(&mut console);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("SigninToken="), "{out}");

    // aws-keyaudit runs as the session (STS at the sandbox, IAM at moto).
    let mut audit = home.command_with(binary("aws-keyaudit"), &sandbox, Some(&moto));
    audit.args(["--profile", "dev", "--output", "json"]);
    let (code, out, err) = run(&mut audit);
    assert!(code == 0 || code == 1, "{code}: {err}");
    serde_json::from_str::<Value>(&out).unwrap_or_else(|_| panic!("{out}"));
    assert!(
        sandbox.requests().iter().any(|e| e.operation == "GetCallerIdentity"
            && e.access_key_id.as_deref() == cached["accessToken"]["accessKeyId"].as_str()),
        "keyaudit identified itself with the session's credentials"
    );
    assert_eq!(refreshes(&sandbox), 0, "fresh credentials need no refresh");

    // A second login finds the session good; logout removes the cache and keeps the profile line.
    let (code, _, err) = login(&home, &sandbox, "dev", &[]);
    assert_eq!(code, 0);
    assert!(err.contains("already signed in"), "{err}");
    let mut logout = home.command_with(binary("aws-assume"), &sandbox, None);
    logout.args(["logout", "--profile", "dev"]);
    assert_eq!(run(&mut logout).0, 0);
    assert!(!path.exists());
    assert!(std::fs::read_to_string(home.aws("config")).unwrap().contains("login_session"));
    assert_login_needed(&home, &sandbox, "no cached session");
}

/// aws-sso-sync writes its profiles beside a login profile (and a role chained from it) without
/// touching them, `--prune` included, and the login profile keeps working.
#[test]
fn aws_sso_sync_leaves_login_profiles_as_they_are() {
    let mut scenario = scenario();
    scenario.sso.auto_approve = true;
    let sandbox = Sandbox::start(scenario);
    let home = Home::new();
    let mine = format!(
        "[profile admin]\nrole_arn = arn:aws:iam::222222222222:role/admin\nsource_profile = dev\nmfa_serial = {ALICE_MFA}\n\n[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n"
    );
    home.config(&mine).sso_token("corp", &sandbox.issue_token(3600));
    assert_eq!(login(&home, &sandbox, "dev", &[]).0, 0);
    let before = std::fs::read_to_string(home.aws("config")).unwrap();
    assert!(before.contains("login_session"));
    let mut sync = home.command_with(binary("aws-sso-sync"), &sandbox, None);
    sync.args(["--sso-session", "corp", "--prune"]);
    let (code, _, err) = run(&mut sync);
    assert_eq!(code, 0, "{err}");
    let after = std::fs::read_to_string(home.aws("config")).unwrap();
    assert!(after.starts_with(&before), "our lines are kept byte for byte:\n{after}");
    assert!(after.len() > before.len() && after.contains("sso_role_name"), "{after}");
    assert_eq!(whoami(&home, &sandbox, "dev").0, 0);
}

#[test]
fn a_refresh_rewrites_the_cache_once_for_twenty_parallel_callers() {
    let (sandbox, home, path) = signed_in();
    let before = read(&path);
    age(&path, 60);
    all_succeed(20, || {
        let mut cmd = home.command_with(binary("aws-whoami"), &sandbox, None);
        cmd.args(["--profile", "dev", "--output", "json"]).env("AWS_WHOAMI_DISABLE_ACCOUNT_ALIAS", "true");
        cmd
    });
    assert_eq!(refreshes(&sandbox), 1, "single flight across processes");
    let after = read(&path);
    assert_ne!(after["accessToken"]["accessKeyId"], before["accessToken"]["accessKeyId"]);
    assert_ne!(after["refreshToken"], before["refreshToken"], "the refresh token rotated");
    assert_eq!(after["idToken"], before["idToken"], "the idToken is kept");
    assert_eq!(after["dpopKey"], before["dpopKey"]);
    assert_eq!(after["accessToken"]["accountId"], "111111111111");
    let left = shared::cache::parse_timestamp(after["accessToken"]["expiresAt"].as_str().unwrap()).unwrap()
        - time::OffsetDateTime::now_utc();
    assert!(left > time::Duration::minutes(14), "{left}");
    assert!(std::fs::read_to_string(&path).unwrap().starts_with(r#"{"accessToken": {"accessKeyId": ""#));

    // Server errors are retried with fresh proofs; throttling that outlasts the retries is a
    // service problem (exit 4), not a reason to sign in again.
    let only_token = |f: serde_json::Value| {
        let mut f = f;
        f["operations"] = serde_json::json!(["CreateOAuth2Token"]);
        serde_json::from_value(f).unwrap()
    };
    sandbox.set_faults(only_token(serde_json::json!({"fail_first": 2})));
    age(&path, -1);
    let mut cmd = home.command_with(binary("aws-whoami"), &sandbox, None);
    cmd.args(["--profile", "dev", "--output", "json"])
        .env("AWS_WHOAMI_DISABLE_ACCOUNT_ALIAS", "true")
        .env("AWS_MAX_ATTEMPTS", "3");
    let (code, _, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert_eq!(refreshes(&sandbox), 2);
    // One request per ~17 minutes: the first refresh takes the bucket's only token.
    sandbox.set_faults(only_token(serde_json::json!({"rate_limit": 0.001})));
    age(&path, -1);
    assert_eq!(whoami(&home, &sandbox, "dev").0, 0);
    age(&path, -1);
    let (code, _, err) = whoami(&home, &sandbox, "dev");
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("TooManyRequestsError"), "{err}");
}

#[test]
fn an_ended_or_revoked_session_exits_3_with_the_hint() {
    let (sandbox, home, path) = signed_in();
    // 13 hours later: the credentials have expired and the session may not be refreshed.
    age(&path, -60);
    sandbox.emulator.lock().clock_offset += 13 * 3600;
    assert_login_needed(&home, &sandbox, "TOKEN_EXPIRED");
    assert_login_needed(&home, &sandbox, "the `aws login` session of the profile `dev`");
    sandbox.emulator.lock().clock_offset = 0;

    // A password change ends it too; with minutes left the credentials serve, with a warning.
    assert_eq!(login(&home, &sandbox, "dev", &["--force"]).0, 0);
    assert_eq!(e2e::emulator::login::revoke_all(&mut sandbox.emulator.lock()), 2, "both sign-ins end");
    age(&path, 200);
    let (code, _, err) = whoami(&home, &sandbox, "dev");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning: could not refresh") && err.contains("USER_CREDENTIALS_CHANGED"), "{err}");
    age(&path, 10);
    assert_login_needed(&home, &sandbox, "password changed or the session was revoked");

    // A half-written cache file is a miss that says so, not a crash.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    assert_login_needed(&home, &sandbox, "not readable JSON");
}

#[test]
fn dpop_proofs_are_verified_and_a_refused_one_is_reported() {
    let (sandbox, home, path) = signed_in();
    let cached = read(&path);
    let key = DpopKey::from_pem(cached["dpopKey"].as_str().unwrap()).unwrap();
    let url = format!("{}/v1/token", sandbox.url);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let body = serde_json::json!({
        "clientId": cached["clientId"], "grantType": "refresh_token", "refreshToken": cached["refreshToken"],
    });
    let post = |proof: &str| {
        let resp = reqwest::blocking::Client::new()
            .post(&url)
            .header("content-type", "application/json")
            .header("DPoP", proof)
            .body(body.to_string())
            .send()
            .unwrap();
        let kind = resp.headers().get("x-amzn-errortype").map(|v| v.to_str().unwrap().to_string());
        (resp.status().as_u16(), kind, resp.json::<Value>().unwrap())
    };
    let good = key.proof(&url, now, "jti-0");
    // Tampered: the payload changed after signing (another jti), the signature kept.
    let tampered = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let parts: Vec<&str> = good.split('.').collect();
        let mut payload: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        payload["jti"] = "jti-forged".into();
        format!("{}.{}.{}", parts[0], b64.encode(payload.to_string()), parts[2])
    };
    let other = DpopKey::generate();
    for (proof, why) in [
        (tampered.as_str(), "the signature does not verify"),
        (&key.proof("http://elsewhere.example/v1/token", now, "jti-1"), "htu is not"),
        (&key.proof(&url, now - 3600, "jti-2"), "iat is more than five minutes away"),
        (&other.proof(&url, now, "jti-3"), "not the one the session was granted to"),
        ("not-a-jwt", "three parts"),
    ] {
        let (status, kind, v) = post(proof);
        assert_eq!(
            (status, kind.as_deref(), v["error"].as_str()),
            (400, Some("ValidationException"), Some("INVALID_REQUEST"))
        );
        assert!(v["message"].as_str().unwrap().contains(why), "{why}: {v}");
    }
    let (status, _, v) = post(&good);
    assert_eq!(status, 200, "{v}");
    let (status, _, v) = post(&good);
    assert_eq!(status, 400);
    assert!(v["message"].as_str().unwrap().contains("jti was used before"), "{v}");

    // Our tool with a key the session is not bound to: refused, reported clearly, exit 3.
    let mut v = read(&path);
    v["dpopKey"] = other.to_pem().expose().into();
    v["refreshToken"] = serde_json::json!(sandbox.emulator.lock().login.sessions[0].refresh_token.clone());
    std::fs::write(&path, v.to_string()).unwrap();
    age(&path, -1);
    assert_login_needed(&home, &sandbox, "invalid DPoP proof: its key is not the one the session was granted to");
}

#[test]
fn remote_login_reads_the_pasted_code() {
    let sandbox = Sandbox::start(scenario());
    let home = Home::new();
    let mut cmd = home.command_with(binary("aws-assume"), &sandbox, None);
    cmd.args(["login", "--remote", "--profile", "ssh"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut screen = Screen::new(child.stderr.take().unwrap());
    screen.wait_for("/v1/authorize?", 1);
    let shown = screen.finish_partial();
    let url = shown.split_whitespace().find(|w| w.contains("/v1/authorize?")).unwrap().to_string();
    assert!(url.contains("client_id=arn%3Aaws%3Asignin%3A%3A%3Adevtools%2Fcross-device"), "{url}");
    // "Another device": a browser that follows the redirect to the confirmation page.
    let page = reqwest::blocking::get(&url).unwrap().text().unwrap();
    let blob = page.split("<pre id=\"verification-code\">").nth(1).and_then(|r| r.split("</pre>").next()).unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(format!("{blob}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", screen.finish());
    let cached = read(&session_file(&home, ALICE));
    assert_eq!(cached["clientId"], "arn:aws:signin:::devtools/cross-device");
    let config = std::fs::read_to_string(home.aws("config")).unwrap();
    assert_eq!(config, format!("[profile ssh]\nlogin_session = {ALICE}\nregion = us-east-1\n"));
    assert_eq!(whoami(&home, &sandbox, "ssh").0, 0);

    // A code of another sign-in is refused.
    let mut cmd = home.command_with(binary("aws-assume"), &sandbox, None);
    cmd.args(["login", "--remote", "--profile", "other"]).stdin(std::process::Stdio::piped());
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(format!("{blob}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("belongs to another sign-in"));

    // Nobody pastes anything: the wait ends at --timeout, even with stdin held open.
    let mut cmd = home.command_with(binary("aws-assume"), &sandbox, None);
    cmd.args(["login", "--remote", "--profile", "idle", "--timeout", "1s"]).stdin(std::process::Stdio::piped());
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let started = std::time::Instant::now();
    let mut child = cmd.spawn().unwrap();
    let stdin = child.stdin.take();
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no code within 1 seconds"));
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
}

#[test]
fn parallel_logins_for_one_profile_open_one_browser_tab() {
    let sandbox = Sandbox::start(scenario());
    let home = Home::new();
    all_succeed(5, || {
        let mut cmd = home.command_with(binary("aws-assume"), &sandbox, None);
        cmd.args(["login", "--profile", "dev"]).env("BROWSER", "curl -sfL -o /dev/null");
        cmd
    });
    assert_eq!(sandbox.count("Authorize"), 1, "one sign-in; the others found its session");
    assert_eq!(std::fs::read_to_string(home.aws("config")).unwrap().matches("login_session").count(), 1);
}

#[test]
fn a_profile_with_other_credentials_is_refused() {
    let sandbox = Sandbox::start(scenario());
    let home = Home::new();
    home.config("[profile k]\ncredential_process = /bin/false\n");
    let (code, _, err) = login(&home, &sandbox, "k", &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already has credential process credentials"), "{err}");
    assert_eq!(sandbox.count("Authorize"), 0);
}

/// botocore[crt] and we share one session: each refreshes, the other goes on from it.
#[test]
fn botocore_and_our_tools_share_and_refresh_one_session() {
    let (sandbox, home, path) = signed_in();
    let botocore = |home: &Home| {
        let mut py = home.command_with(venv_bin("python"), &sandbox, None);
        py.args([
            "-c",
            "import botocore.session, json\nc = botocore.session.Session(profile='dev').get_credentials()\nf = c.get_frozen_credentials()\nprint(json.dumps({'method': c.method, 'key': f.access_key}))",
        ]);
        let (code, out, err) = run(&mut py);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<Value>(&out).unwrap()
    };
    // botocore reads what we wrote.
    let v = botocore(&home);
    assert_eq!(v["method"], "login");
    assert_eq!(v["key"], read(&path)["accessToken"]["accessKeyId"]);
    // botocore refreshes (its DPoP proof accepted by the emulator) and writes the cache ...
    age(&path, 60);
    let v = botocore(&home);
    assert_eq!(refreshes(&sandbox), 1);
    let by_botocore = read(&path);
    assert_eq!(v["key"], by_botocore["accessToken"]["accessKeyId"]);
    // ... which we resolve without refreshing,
    let (code, out, err) = whoami(&home, &sandbox, "dev");
    assert_eq!(code, 0, "{err}");
    assert_eq!(refreshes(&sandbox), 1);
    let who: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(who["CredentialSource"], "login");
    // and refresh again from botocore's rotated refresh token; botocore then uses ours.
    age(&path, 60);
    assert_eq!(whoami(&home, &sandbox, "dev").0, 0);
    assert_eq!(refreshes(&sandbox), 2);
    let by_us = read(&path);
    assert_ne!(by_us["refreshToken"], by_botocore["refreshToken"]);
    assert_eq!(botocore(&home)["key"], by_us["accessToken"]["accessKeyId"]);
    assert_eq!(refreshes(&sandbox), 2);
    // And once more by botocore, from the refresh token we rotated.
    age(&path, 60);
    botocore(&home);
    assert_eq!(refreshes(&sandbox), 3);
}
