//! aws-whoami end to end against the sandbox: every credential source, the AWS CLI's caches in
//! both directions, every failure mode with its exit code and hint, and --all-profiles.

use e2e::harness::{Home, Moto, Sandbox, binary, files_with_modes, fixture::*, run, standard_scenario, venv_bin};
use serde_json::Value;

const ALICE_CREDS: &str = "[alice]\naws_access_key_id = AKIAEXAMPLEALICE0001\naws_secret_access_key = example/alice/secret/000000000000000000000\n";

fn whoami(
    home: &Home,
    sandbox: &Sandbox,
    moto: Option<&Moto>,
    args: &[&str],
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let mut cmd = home.command_with(binary("aws-whoami"), sandbox, moto);
    cmd.args(args);
    if moto.is_none() {
        cmd.env("AWS_WHOAMI_DISABLE_ACCOUNT_ALIAS", "true");
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let (code, out, err) = run(&mut cmd);
    for secret in [ALICE_SECRET, BOB_SECRET] {
        assert!(!out.contains(secret) && !err.contains(secret), "a secret leaked:\n{out}\n{err}");
    }
    (code, out, err)
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[test]
fn static_keys_from_a_profile_with_aliases_from_iam() {
    let sandbox = Sandbox::start(standard_scenario());
    let moto = Moto::start();
    // moto keeps IAM per account; unknown keys map to its default account, where we add an alias.
    let mut py = Home::new().command_with(venv_bin("python"), &sandbox, Some(&moto));
    py.args(["-c", "import boto3; boto3.client('iam', aws_access_key_id='x', aws_secret_access_key='y', region_name='us-east-1').create_account_alias(AccountAlias='example-identity')"]);
    assert_eq!(run(&mut py).0, 0);
    let home = Home::new();
    home.credentials(ALICE_CREDS).config("[profile alice]\nregion = eu-west-1\n");
    let (code, out, err) = whoami(&home, &sandbox, Some(&moto), &["--profile", "alice", "--output", "json"], &[]);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["Account"], "111111111111");
    assert_eq!(v["AccountAliases"], serde_json::json!(["example-identity"]));
    assert_eq!(v["Arn"], "arn:aws:iam::111111111111:user/alice");
    assert_eq!(v["Type"], "user");
    assert_eq!(v["Name"], "alice");
    assert_eq!(v["Region"], "eu-west-1");
    assert_eq!(v["Profile"], "alice");
    assert_eq!(v["CredentialSource"], "shared-credentials");
    assert_eq!(v["Expiration"], Value::Null);
    // --no-alias (and the environment switch) skip IAM entirely.
    let (code, out, _) =
        whoami(&home, &sandbox, Some(&moto), &["--profile", "alice", "--output", "json", "--no-alias"], &[]);
    assert_eq!(code, 0);
    assert_eq!(json(&out)["AccountAliases"], serde_json::json!([]));
    // The Python aws-whoami's list form: matching the account skips the lookup.
    let (_, out, _) = whoami(
        &home,
        &sandbox,
        Some(&moto),
        &["--profile", "alice", "--output", "json"],
        &[("AWS_WHOAMI_DISABLE_ACCOUNT_ALIAS", "1111")],
    );
    assert_eq!(json(&out)["AccountAliases"], serde_json::json!([]));
    let (_, out, _) = whoami(
        &home,
        &sandbox,
        Some(&moto),
        &["--profile", "alice", "--output", "text"],
        &[("AWS_WHOAMI_DISABLE_ACCOUNT_ALIAS", "9999")],
    );
    assert!(out.starts_with("111111111111\texample-identity\tarn:aws:iam::111111111111:user/alice\t"), "{out}");
    // AWS_PROFILE selects it as well, and the table names everything.
    let (code, out, _) = whoami(&home, &sandbox, Some(&moto), &["--output", "table"], &[("AWS_PROFILE", "alice")]);
    assert_eq!(code, 0);
    for want in ["111111111111", "example-identity", "user: alice", "shared-credentials", "eu-west-1"] {
        assert!(out.contains(want), "{want} in\n{out}");
    }
}

#[test]
fn two_hop_role_chain_is_cached_in_the_aws_cli_format_and_botocore_reuses_it() {
    let sandbox = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.credentials(ALICE_CREDS).config(
        "[profile ro]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = alice\n\
         [profile reader]\nrole_arn = arn:aws:iam::333333333333:role/reader\nsource_profile = ro\nrole_session_name = me\n",
    );
    let (code, out, err) = whoami(&home, &sandbox, None, &["--profile", "reader", "--output", "json"], &[]);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["Arn"], "arn:aws:sts::333333333333:assumed-role/reader/me");
    assert_eq!(v["Type"], "assumed-role");
    assert_eq!(v["RoleSessionName"], "me");
    assert_eq!(v["CredentialSource"], "assume-role");
    assert!(v["Expiration"].as_str().unwrap().ends_with('Z'));
    assert_eq!(sandbox.count("AssumeRole"), 2);
    // Both hops are cached, 0600 in a 0700 folder, under botocore's names.
    let cache = home.path().join(".aws/cli/cache");
    let files = files_with_modes(&cache);
    assert_eq!(files.iter().filter(|(p, _)| p.extension().is_some_and(|e| e == "json")).count(), 2, "{files:?}");
    assert!(files.iter().all(|(_, m)| *m == 0o600), "{files:?}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777, 0o700);
    // A second run makes no STS call but GetCallerIdentity.
    sandbox.clear_requests();
    let (code, _, _) = whoami(&home, &sandbox, None, &["--profile", "reader", "--output", "json"], &[]);
    assert_eq!(code, 0);
    assert_eq!(sandbox.count("AssumeRole"), 0);
    assert_eq!(sandbox.count("GetCallerIdentity"), 1);
    // botocore, with the AWS CLI's cache, reuses our session for `ro` (no AssumeRole).
    sandbox.clear_requests();
    let script = "import os, botocore.session\nfrom botocore.credentials import JSONFileCache\ns = botocore.session.Session(profile='ro')\ns.get_component('credential_provider').get_provider('assume-role').cache = JSONFileCache(os.path.expanduser('~/.aws/cli/cache'))\nprint(s.create_client('sts', region_name='us-east-1').get_caller_identity()['Arn'])";
    let mut py = home.command_with(venv_bin("python"), &sandbox, None);
    py.args(["-c", script])
        .env("AWS_CONFIG_FILE", home.aws("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.aws("credentials"));
    let (code, out, err) = run(&mut py);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("arn:aws:sts::222222222222:assumed-role/readonly/botocore-session-"), "{out}");
    assert_eq!(sandbox.count("AssumeRole"), 0, "botocore found our cache file");
}

#[test]
fn mfa_hop_needs_aws_assume_unless_the_aws_cli_cached_the_session() {
    let sandbox = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.credentials(ALICE_CREDS).config(&format!(
        "[profile admin]\nrole_arn = arn:aws:iam::222222222222:role/admin\nsource_profile = alice\nmfa_serial = {ALICE_MFA}\n\
         [profile deployer]\nrole_arn = arn:aws:iam::222222222222:role/deployer\nsource_profile = admin\n"
    ));
    let (code, _, err) = whoami(&home, &sandbox, None, &["--profile", "deployer"], &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("the profile `admin` needs an MFA code for arn:aws:iam::111111111111:mfa/alice"), "{err}");
    assert!(err.contains("hint: run `aws-assume deployer`"), "{err}");
    assert_eq!(sandbox.count("AssumeRole"), 0, "no call without a code");
    // The AWS CLI's own assume-role provider (botocore, MFA prompt answered) caches the session...
    let code_now = sandbox.totp(ALICE_MFA, 0);
    let script = format!(
        "import os, botocore.session\nfrom botocore.credentials import JSONFileCache\ns = botocore.session.Session(profile='admin')\np = s.get_component('credential_provider').get_provider('assume-role')\np.cache = JSONFileCache(os.path.expanduser('~/.aws/cli/cache'))\np._prompter = lambda prompt: '{code_now}'\nprint(s.get_credentials().get_frozen_credentials().access_key[:4])"
    );
    let mut py = home.command_with(venv_bin("python"), &sandbox, None);
    py.args(["-c", &script])
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", home.aws("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.aws("credentials"));
    let (code, out, err) = run(&mut py);
    assert_eq!((code, out.trim()), (0, "ASIA"), "{err}");
    // ...and we use it: no prompt, one AssumeRole for the second hop only.
    sandbox.clear_requests();
    let (code, out, err) = whoami(&home, &sandbox, None, &["--profile", "deployer", "--output", "json"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(json(&out)["Arn"].as_str().unwrap().starts_with("arn:aws:sts::222222222222:assumed-role/deployer/"));
    let calls: Vec<_> = sandbox.requests().into_iter().filter(|r| r.operation == "AssumeRole").collect();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].params["RoleArn"].as_str().unwrap().ends_with("role/deployer"));
}

fn sso_config(session: &str) -> String {
    format!(
        "[profile dev-ro]\nsso_session = {session}\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\nregion = us-east-2\n\
         [sso-session {session}]\nsso_start_url = {START_URL}\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n"
    )
}

fn write_token(home: &Home, key: &str, body: Value) -> std::path::PathBuf {
    use sha1::Digest;
    let name = hex::encode(sha1::Sha1::digest(key.as_bytes()));
    let dir = home.path().join(".aws/sso/cache");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string(&body).unwrap()).unwrap();
    path
}

fn iso(offset_secs: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_secs);
    t.format(&time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")).unwrap()
}

#[test]
fn sso_profile_uses_the_aws_cli_token_cache_and_refreshes_it() {
    let sandbox = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.config(&sso_config("corp"));
    // No token: exit 3, the login command in the hint.
    let (code, _, err) = whoami(&home, &sandbox, None, &["--profile", "dev-ro"], &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("hint: run `aws-sso-sync login --sso-session corp`"), "{err}");
    // A token as the AWS CLI writes it.
    let token = sandbox.issue_token(3600);
    write_token(
        &home,
        "corp",
        serde_json::json!({"startUrl": START_URL, "region": "us-east-1", "accessToken": token, "expiresAt": iso(3600)}),
    );
    let (code, out, err) = whoami(&home, &sandbox, None, &["--profile", "dev-ro", "--output", "json"], &[]);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["SSOPermissionSet"], "ReadOnly");
    assert_eq!(v["RoleSessionName"], "alice@example.com");
    assert_eq!(v["CredentialSource"], "sso");
    assert_eq!(v["Region"], "us-east-2");
    // Role credentials cached as the AWS CLI does (ProviderType sso, botocore's compact-JSON key).
    let expected_name = {
        use sha1::Digest;
        hex::encode(sha1::Sha1::digest(br#"{"accountId":"222222222222","roleName":"ReadOnly","sessionName":"corp"}"#))
    };
    let cached = home.path().join(format!(".aws/cli/cache/{expected_name}.json"));
    let c: Value = serde_json::from_str(&std::fs::read_to_string(&cached).unwrap()).unwrap();
    assert_eq!(c["ProviderType"], "sso");
    assert!(c["Credentials"]["Expiration"].as_str().unwrap().ends_with('Z'));
    sandbox.clear_requests();
    assert_eq!(whoami(&home, &sandbox, None, &["--profile", "dev-ro"], &[]).0, 0);
    assert_eq!(sandbox.count("GetRoleCredentials"), 0, "served from the cache");

    // A token with 5 minutes left and a refresh token is refreshed and written back.
    std::fs::remove_file(&cached).unwrap();
    let (client, secret, refresh) = sandbox.refreshable_client();
    let path = write_token(
        &home,
        "corp",
        serde_json::json!({"startUrl": START_URL, "region": "us-east-1", "accessToken": sandbox.issue_token(300), "expiresAt": iso(300),
            "clientId": client, "clientSecret": secret, "registrationExpiresAt": iso(86_000), "refreshToken": refresh, "receivedAt": "kept"}),
    );
    sandbox.clear_requests();
    let (code, _, err) = whoami(&home, &sandbox, None, &["--profile", "dev-ro"], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(sandbox.count("CreateToken"), 1);
    let t: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_ne!(t["refreshToken"], refresh, "the rotated refresh token is saved");
    assert_eq!(t["receivedAt"], "kept", "unknown fields are kept");
    let exp = shared::cache::parse_timestamp(t["expiresAt"].as_str().unwrap()).unwrap();
    assert!(exp - time::OffsetDateTime::now_utc() > time::Duration::hours(7));

    // Expired, not refreshable: exit 3 and the login hint.
    std::fs::remove_file(&cached).ok();
    for f in files_with_modes(&home.path().join(".aws/cli/cache")) {
        std::fs::remove_file(f.0).unwrap();
    }
    write_token(
        &home,
        "corp",
        serde_json::json!({"startUrl": START_URL, "region": "us-east-1", "accessToken": "gone", "expiresAt": iso(-60)}),
    );
    let (code, _, err) = whoami(&home, &sandbox, None, &["--profile", "dev-ro"], &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("expired") && err.contains("aws-sso-sync login --sso-session corp"), "{err}");
}

#[test]
fn legacy_sso_profile_hint_names_aws_sso_login() {
    let sandbox = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.config(&format!("[profile legacy]\nsso_start_url = {START_URL}\nsso_region = us-east-1\nsso_account_id = 444444444444\nsso_role_name = AdministratorAccess\n"));
    let (code, _, err) = whoami(&home, &sandbox, None, &["--profile", "legacy"], &[]);
    assert_eq!(code, 3);
    assert!(err.contains("hint: run `aws sso login --profile legacy`"), "{err}");
    write_token(
        &home,
        START_URL,
        serde_json::json!({"startUrl": START_URL, "region": "us-east-1", "accessToken": sandbox.issue_token(3600), "expiresAt": iso(3600)}),
    );
    let (code, out, err) = whoami(&home, &sandbox, None, &["--profile", "legacy", "--output", "json"], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["Account"], "444444444444");
}

#[test]
fn credential_process_and_its_failures() {
    let sandbox = Sandbox::start(standard_scenario());
    let home = Home::new();
    let script = home.path().join("creds.sh");
    std::fs::write(&script, format!("#!/bin/sh\nif [ \"$1\" = fail ]; then echo 'token expired, run login' >&2; exit 7; fi\nif [ \"$1\" = junk ]; then echo 'Enter MFA code:'; exit 0; fi\necho '{{\"Version\": 1, \"AccessKeyId\": \"{ALICE_KEY}\", \"SecretAccessKey\": \"{ALICE_SECRET}\"}}'\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let s = script.display();
    home.config(&format!("[profile proc]\ncredential_process = {s} ok\n[profile bad]\ncredential_process = {s} fail\n[profile junk]\ncredential_process = {s} junk\n"));
    let (code, out, err) = whoami(&home, &sandbox, None, &["--profile", "proc", "--output", "json"], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["CredentialSource"], "process");
    assert_eq!(json(&out)["Arn"], "arn:aws:iam::111111111111:user/alice");
    let (code, _, err) = whoami(&home, &sandbox, None, &["--profile", "bad"], &[]);
    assert_eq!(code, 3);
    assert!(err.contains("failed with exit code 7: token expired, run login"), "{err}");
    let (code, _, err) = whoami(&home, &sandbox, None, &["--profile", "junk"], &[]);
    assert_eq!(code, 3);
    assert!(err.contains("not JSON"), "{err}");
}

#[test]
fn failure_modes_have_their_exit_codes_and_hints() {
    let sandbox = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.credentials(ALICE_CREDS).config(
        "[profile a]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = b\n\
         [profile b]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = a\n\
         [profile broken]\nregion = us-east-1\nthis is not a setting\n\
         [profile ghost-source]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = nobody\n",
    );
    /// (arguments, environment, exit code, error text, hint text)
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], i32, &'a str, &'a str);
    let cases: &[Case] = &[
        (
            &["--profile", "nope"],
            &[],
            2,
            "the profile `nope` was not found",
            "known profiles: a, b, broken, ghost-source, alice",
        ),
        (&[], &[("AWS_PROFILE", "nope")], 2, "the profile `nope` was not found", "aws configure --profile nope"),
        (&["--profile", "a"], &[], 2, "source_profile references form a loop: a → b → a", "hint:"),
        (&["--profile", "broken"], &[], 2, "config:9: in [profile broken]: not `key = value`", "fix or remove line 9"),
        (&["--profile", "ghost-source"], &[], 2, "no profile `nobody` exists", "add a [profile nobody] section"),
        (&[], &[], 3, "no AWS credentials found", "aws configure"),
        (
            &[],
            &[
                ("AWS_ACCESS_KEY_ID", ALICE_KEY),
                ("AWS_SECRET_ACCESS_KEY", ALICE_SECRET),
                ("AWS_SESSION_TOKEN", "x"),
                ("AWS_CREDENTIAL_EXPIRATION", "2020-01-01T00:00:00Z"),
            ],
            3,
            "expired at 2020-01-01T00:00:00Z",
            "aws-assume",
        ),
        (
            &[],
            &[("AWS_ACCESS_KEY_ID", ALICE_KEY), ("AWS_SECRET_ACCESS_KEY", "wrong")],
            3,
            "SignatureDoesNotMatch",
            "unset AWS_ACCESS_KEY_ID",
        ),
        (
            &["--profile", "alice"],
            &[("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")],
            4,
            "sts:GetCallerIdentity failed: could not connect",
            "hint:",
        ),
        (&["--bogus-flag"], &[], 2, "unexpected argument '--bogus-flag'", ""),
    ];
    for (args, env, want_code, want_err, want_hint) in cases {
        let (code, out, err) = whoami(&home, &sandbox, None, args, env);
        assert_eq!(code, *want_code, "{args:?} {env:?}: {err}");
        assert!(err.contains(want_err), "{args:?}: {err}");
        assert!(err.contains(want_hint), "{args:?}: {err}");
        assert!(out.is_empty(), "errors go to stderr only: {out}");
        assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    }
    // --profile beats environment keys; AWS_PROFILE does not (the AWS CLI's rule).
    let env = [("AWS_ACCESS_KEY_ID", BOB_KEY), ("AWS_SECRET_ACCESS_KEY", BOB_SECRET)];
    let (_, out, _) = whoami(&home, &sandbox, None, &["--profile", "alice", "--output", "json"], &env);
    assert_eq!(json(&out)["Name"], "alice");
    let (_, out, _) = whoami(&home, &sandbox, None, &["--output", "json"], &[env[0], env[1], ("AWS_PROFILE", "alice")]);
    assert_eq!(json(&out)["Name"], "bob");
    assert_eq!(json(&out)["CredentialSource"], "env");
}

#[test]
fn all_profiles_reports_each_profile_and_never_prompts() {
    let sandbox = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.credentials(ALICE_CREDS).config(&format!(
        "[profile ro]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = alice\n\
         [profile admin]\nrole_arn = arn:aws:iam::222222222222:role/admin\nsource_profile = alice\nmfa_serial = {ALICE_MFA}\n\
         [profile loop]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = loop\n\
         [profile empty]\nregion = us-east-1\n{}",
        sso_config("corp")
    ));
    let (code, out, err) = whoami(&home, &sandbox, None, &["--all-profiles", "--output", "json"], &[]);
    assert_eq!(code, 1, "some profiles failed: {err}");
    let rows = json(&out);
    let row = |p: &str| {
        rows.as_array().unwrap().iter().find(|r| r["Profile"] == p).cloned().unwrap_or_else(|| panic!("no row {p}"))
    };
    assert_eq!(rows.as_array().unwrap().len(), 6);
    assert_eq!(row("alice")["Ok"], true);
    assert_eq!(row("ro")["Arn"].as_str().unwrap().split('/').nth(1), Some("readonly"));
    assert_eq!(row("admin")["ExitCode"], 3);
    assert!(row("admin")["Error"].as_str().unwrap().contains("aws-assume admin"));
    assert_eq!(row("loop")["ExitCode"], 2);
    assert_eq!(row("empty")["ExitCode"], 3);
    assert!(row("dev-ro")["Error"].as_str().unwrap().contains("aws-sso-sync login --sso-session corp"));
    assert!(err.contains("4 of 6 profiles failed"), "{err}");
    // The table shows one line per profile.
    let (_, out, _) = whoami(&home, &sandbox, None, &["--all-profiles", "--output", "table"], &[]);
    for p in ["alice", "ro", "admin", "loop", "empty", "dev-ro"] {
        assert!(out.contains(p), "{p} in\n{out}");
    }
}

#[test]
fn container_web_identity_and_credential_source() {
    let sandbox = Sandbox::start(standard_scenario());
    let home = Home::new();
    let container = [
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", format!("{}/_sandbox/container-credentials", sandbox.url)),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "sandbox-container-token".to_string()),
    ];
    let env: Vec<(&str, &str)> = container.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (code, out, err) = whoami(&home, &sandbox, None, &["--output", "json"], &env);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["CredentialSource"], "container");
    assert_eq!(json(&out)["Arn"], "arn:aws:iam::111111111111:user/alice");
    // credential_source = EcsContainer: the container's credentials assume the role.
    home.config(
        "[profile from-ecs]\nrole_arn = arn:aws:iam::222222222222:role/readonly\ncredential_source = EcsContainer\n",
    );
    let (code, out, err) = whoami(&home, &sandbox, None, &["--profile", "from-ecs", "--output", "json"], &env);
    assert_eq!(code, 0, "{err}");
    assert!(json(&out)["Arn"].as_str().unwrap().starts_with("arn:aws:sts::222222222222:assumed-role/readonly/"));
    // Web identity from the environment and from a profile.
    let b64 = |v: serde_json::Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let token = format!(
        "{}.{}.c2ln",
        b64(serde_json::json!({"alg": "RS256"})),
        b64(
            serde_json::json!({"iss": "https://token.actions.githubusercontent.com", "sub": "repo:o/r", "aud": "sts.amazonaws.com"})
        )
    );
    let token_file = home.path().join("token");
    std::fs::write(&token_file, &token).unwrap();
    let tf = token_file.to_str().unwrap();
    let (code, out, err) = whoami(
        &home,
        &sandbox,
        None,
        &["--output", "json"],
        &[
            ("AWS_WEB_IDENTITY_TOKEN_FILE", tf),
            ("AWS_ROLE_ARN", "arn:aws:iam::333333333333:role/ci"),
            ("AWS_ROLE_SESSION_NAME", "gha"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["Arn"], "arn:aws:sts::333333333333:assumed-role/ci/gha");
    assert_eq!(json(&out)["CredentialSource"], "web-identity");
    home.config(&format!("[profile wi]\nrole_arn = arn:aws:iam::333333333333:role/ci\nweb_identity_token_file = {tf}\nrole_session_name = ci-run\n"));
    let (code, out, err) = whoami(&home, &sandbox, None, &["--profile", "wi", "--output", "json"], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["Arn"], "arn:aws:sts::333333333333:assumed-role/ci/ci-run");
    // A missing token file is a clear exit 3.
    home.config(
        "[profile wi]\nrole_arn = arn:aws:iam::333333333333:role/ci\nweb_identity_token_file = /nonexistent/token\n",
    );
    let (code, _, err) = whoami(&home, &sandbox, None, &["--profile", "wi"], &[]);
    assert_eq!(code, 3);
    assert!(err.contains("cannot read the web identity token file /nonexistent/token"), "{err}");
}
