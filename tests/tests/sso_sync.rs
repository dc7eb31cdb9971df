//! aws-sso-sync end to end against the project's Identity Center emulator.

use std::path::Path;
use std::process::Stdio;

use e2e::emulator::faults::Faults;
use e2e::harness::{Home, Sandbox, binary, fixture::*, run, standard_scenario, venv_bin, workspace_root};
use serde_json::Value;

fn sandbox() -> Sandbox {
    let mut s = standard_scenario();
    s.sso.auto_approve = true;
    Sandbox::start(s)
}

fn session_section(name: &str) -> String {
    format!(
        "[sso-session {name}]\nsso_start_url = {START_URL}\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n"
    )
}

fn sync(home: &Home, sb: &Sandbox, args: &[&str]) -> (i32, String, String) {
    let mut cmd = home.command_with(binary("aws-sso-sync"), sb, None);
    cmd.args(args).env("BROWSER", "curl -sfL -o /dev/null");
    run(&mut cmd)
}

fn login(home: &Home, sb: &Sandbox, session: &str) {
    let (code, _, err) = sync(home, sb, &["login", "--sso-session", session]);
    assert_eq!(code, 0, "{err}");
}

fn token_file(home: &Home, key: &str) -> std::path::PathBuf {
    use sha1::Digest;
    home.path().join(".aws/sso/cache").join(format!("{}.json", hex::encode(sha1::Sha1::digest(key.as_bytes()))))
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn pkce_login_writes_the_aws_cli_token_and_boto3_uses_a_generated_profile() {
    let sb = sandbox();
    let home = Home::new();
    let (code, _, err) =
        sync(&home, &sb, &["session", "add", "corp", "--start-url", START_URL, "--sso-region", "us-east-1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(read(&home.aws("config")), session_section("corp"));
    let before = std::fs::metadata(home.aws("config")).unwrap().modified().unwrap();
    let (code, _, err) =
        sync(&home, &sb, &["session", "add", "corp", "--start-url", START_URL, "--sso-region", "us-east-1"]);
    assert_eq!(code, 0);
    assert!(err.contains("already up to date"), "{err}");
    assert_eq!(std::fs::metadata(home.aws("config")).unwrap().modified().unwrap(), before, "idempotent");

    login(&home, &sb, "corp");
    assert_eq!(sb.count("Authorize"), 1, "the browser went through /authorize");
    let reg = sb.requests().into_iter().find(|r| r.operation == "RegisterClient").unwrap();
    assert_eq!(reg.params["grantTypes"], serde_json::json!(["authorization_code", "refresh_token"]));
    assert_eq!(reg.params["clientName"], "botocore-client-corp");
    let t: Value = serde_json::from_str(&read(&token_file(&home, "corp"))).unwrap();
    for k in [
        "startUrl",
        "region",
        "accessToken",
        "expiresAt",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
        "refreshToken",
    ] {
        assert!(t[k].is_string(), "{k} in {t}");
    }
    assert!(t["expiresAt"].as_str().unwrap().ends_with('Z') && t["expiresAt"].as_str().unwrap().len() == 20);
    // The registration is cached under botocore's key too.
    let reg_file = home.path().join(".aws/sso/cache").join(format!("{}.json", {
        use sha1::Digest;
        hex::encode(sha1::Sha1::digest(format!("{{\"region\": \"us-east-1\", \"scopes\": [\"sso:account:access\"], \"session_name\": \"corp\", \"startUrl\": \"{START_URL}\", \"tool\": \"botocore\"}}").as_bytes()))
    }));
    let r: Value = serde_json::from_str(&read(&reg_file)).unwrap();
    assert_eq!(r["grantTypes"], serde_json::json!(["authorization_code", "refresh_token"]));

    let (code, _, err) = sync(&home, &sb, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("6 added, 0 updated, 0 removed, 0 unchanged (4 accounts, 6 roles"), "{err}");
    // boto3 (botocore's own SSO provider) resolves a generated profile through our token.
    let script = "import boto3\nprint(boto3.Session(profile_name='prod.Billing_Admin').client('sts').get_caller_identity()['Arn'])";
    let mut py = home.command_with(venv_bin("python"), &sb, None);
    py.args(["-c", script]).env("AWS_CONFIG_FILE", home.aws("config"));
    let (code, out, err) = run(&mut py);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("arn:aws:sts::333333333333:assumed-role/AWSReservedSSO_Billing_Admin_"), "{out}");
    // So does aws-whoami.
    let mut w = home.command_with(binary("aws-whoami"), &sb, None);
    w.args(["--profile", "dev.ReadOnly", "--output", "json", "--no-alias"]);
    let (code, out, err) = run(&mut w);
    assert_eq!(code, 0, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["SSOPermissionSet"], "ReadOnly");
}

#[test]
fn device_code_login_and_legacy_profiles() {
    let sb = sandbox();
    let home = Home::new();
    home.config(&format!("{}[profile legacy]\nsso_start_url = {START_URL}\nsso_region = us-east-1\nsso_account_id = 444444444444\nsso_role_name = AdministratorAccess\n", session_section("corp")));
    let (code, _, err) = sync(&home, &sb, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("/device?user_code="), "{err}");
    assert_eq!(sb.count("StartDeviceAuthorization"), 1);
    let t: Value = serde_json::from_str(&read(&token_file(&home, "corp"))).unwrap();
    assert!(t["refreshToken"].is_string());
    let (code, _, err) = sync(&home, &sb, &["login", "--sso-profile", "legacy", "--no-browser"]);
    assert_eq!(code, 0, "{err}");
    assert!(token_file(&home, START_URL).exists(), "legacy tokens are keyed by start URL");
    let mut w = home.command_with(binary("aws-whoami"), &sb, None);
    w.args(["--profile", "legacy", "--output", "json", "--no-alias"]);
    let (code, out, err) = run(&mut w);
    assert_eq!(code, 0, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["Account"], "444444444444");
    // Already logged in: no new login unless --force.
    sb.clear_requests();
    let (code, _, err) = sync(&home, &sb, &["login", "--sso-session", "corp"]);
    assert_eq!(code, 0);
    assert!(err.contains("already logged in"), "{err}");
    assert!(sb.requests().is_empty());
}

#[test]
fn ten_parallel_logins_open_one_browser_tab() {
    let sb = sandbox();
    let home = Home::new();
    home.config(&session_section("corp"));
    let counter = home.path().join("tabs");
    let browser = home.path().join("browser.sh");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\necho tab >> {}\nexec curl -sfL -o /dev/null \"$1\"\n", counter.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    let children: Vec<_> = (0..10)
        .map(|_| {
            let mut cmd = home.command_with(binary("aws-sso-sync"), &sb, None);
            cmd.args(["login", "--sso-session", "corp"])
                .env("BROWSER", &browser)
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(read(&counter).lines().count(), 1);
    assert_eq!(sb.count("CreateToken"), 1);
}

#[test]
fn corpus_configs_stay_byte_identical_outside_the_block() {
    let sb = sandbox();
    let home = Home::new();
    home.config(&session_section("zzsync"));
    login(&home, &sb, "zzsync");
    let dir = workspace_root().join("shared/tests/data/config");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in files {
        let original = read(&f);
        let sep = if original.is_empty() || original.ends_with('\n') { "" } else { "\n" };
        let prepared = format!("{original}{sep}\n{}", session_section("zzsync"));
        let target = home.path().join("corpus.ini");
        std::fs::write(&target, &prepared).unwrap();
        let (code, _, err) = sync(&home, &sb, &["--config-file", target.to_str().unwrap(), "--sso-session", "zzsync"]);
        assert_eq!(code, 0, "{}: {err}", f.display());
        let after = read(&target);
        assert!(after.starts_with(&prepared), "{}: bytes before the block changed", f.display());
        let block = &after[prepared.len()..];
        assert!(
            block.trim_start_matches(['\r', '\n']).starts_with("# >>> aws-sso-sync sso-session zzsync >>>"),
            "{}",
            f.display()
        );
        assert!(block.trim_end().ends_with("# <<< aws-sso-sync sso-session zzsync <<<"), "{}", f.display());
        // A second run: same bytes, file not rewritten.
        // An mtime far in the past: any rewrite would move it, however coarse the clock.
        let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        std::fs::File::options().write(true).open(&target).unwrap().set_modified(mtime).unwrap();
        let (code, _, err) = sync(&home, &sb, &["--config-file", target.to_str().unwrap(), "--sso-session", "zzsync"]);
        assert_eq!(code, 0);
        assert!(err.contains("already up to date"), "{err}");
        assert_eq!(read(&target), after);
        assert_eq!(std::fs::metadata(&target).unwrap().modified().unwrap(), mtime);
    }
}

#[test]
fn prune_dry_run_hand_written_profiles_and_two_sessions() {
    let sb = sandbox();
    let home = Home::new();
    let hand = "[profile dev.ReadOnly]\n# mine, written by hand\nregion = ap-south-1\n\n";
    home.config(&format!("{hand}{}\n{}", session_section("corp"), session_section("acquired")));
    login(&home, &sb, "corp");
    login(&home, &sb, "acquired");
    let (code, out, err) = sync(&home, &sb, &["--dry-run", "--sso-session", "corp"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("+[profile dev.ReadOnly-222222222222]")
            && out.contains("+# >>> aws-sso-sync sso-session corp >>>"),
        "{out}"
    );
    assert!(!read(&home.aws("config")).contains(">>>"), "dry run writes nothing");
    let (code, out, err) =
        sync(&home, &sb, &["--all", "--output", "json", "--template", "{sso_session}/{account_name}.{role_name}"]);
    assert_eq!(code, 0, "{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary.as_array().unwrap().len(), 2);
    let text = read(&home.aws("config"));
    assert!(text.starts_with(hand), "the hand-written profile is untouched");
    assert!(text.contains("[profile corp-dev.ReadOnly]") && text.contains("[profile acquired-dev.ReadOnly]"));
    // Every profile exactly once.
    let files = shared::config::AwsFiles::from_text(&text, "");
    files.check_file(shared::config::FileKind::Config).unwrap();
    assert_eq!(files.profile_names().len(), 13);
    // The hand-written name is reported when the template would collide with it.
    let (code, _, err) = sync(&home, &sb, &["--sso-session", "corp"]);
    assert_eq!(code, 0);
    assert!(err.contains("kept your own [profile dev.ReadOnly]"), "{err}");
    assert!(read(&home.aws("config")).contains("[profile dev.ReadOnly-222222222222]"));
    // An account vanishes: kept without --prune, removed with it.
    sb.emulator.lock().accounts.retain(|a| a.id != "444444444444");
    let (_, _, err) = sync(&home, &sb, &["--sso-session", "corp"]);
    assert!(err.contains("0 removed"), "{err}");
    assert!(read(&home.aws("config")).contains("[profile sandbox.AdministratorAccess]"));
    let (_, _, err) = sync(&home, &sb, &["--sso-session", "corp", "--prune"]);
    assert!(err.contains("1 removed"), "{err}");
    let text = read(&home.aws("config"));
    assert!(!text.contains("[profile sandbox.AdministratorAccess]"));
    assert!(
        text.contains("[profile acquired-sandbox.AdministratorAccess]"),
        "prune touches only its own session's block"
    );
}

#[test]
fn faults_never_corrupt_the_config() {
    let sb = sandbox();
    let home = Home::new();
    home.config(&session_section("corp"));
    login(&home, &sb, "corp");
    let original = read(&home.aws("config"));
    // Always failing: exit 4, a clear message, the file untouched.
    sb.set_faults(Faults { error_rate: 1.0, operations: vec!["ListAccountRoles".into()], ..Faults::default() });
    let (code, _, err) = sync(&home, &sb, &["--attempts", "3"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("sso:ListAccountRoles failed: gave up after 3 attempts"), "{err}");
    assert_eq!(read(&home.aws("config")), original);
    // 500s, truncated bodies and time-outs some of the time: retried, the result is complete.
    for faults in [
        Faults { error_rate: 0.4, seed: 3, ..Faults::default() },
        Faults { truncate_rate: 0.4, seed: 4, ..Faults::default() },
        Faults { timeout_rate: 0.3, timeout_ms: Some(2000), seed: 5, ..Faults::default() },
    ] {
        sb.set_faults(faults.clone());
        std::fs::write(home.aws("config"), &original).unwrap();
        let (code, _, err) = sync(&home, &sb, &["--request-timeout", "0.3"]);
        assert_eq!(code, 0, "{faults:?}: {err}");
        assert_eq!(read(&home.aws("config")).matches("[profile ").count(), 6, "{faults:?}");
    }
    // A 429 storm: paced and retried, no failure.
    sb.set_faults(Faults { rate_limit: Some(10.0), burst: Some(2.0), ..Faults::default() });
    std::fs::write(home.aws("config"), &original).unwrap();
    let (code, out, err) = sync(&home, &sb, &["--output", "json"]);
    assert_eq!(code, 0, "{err}");
    let s: Value = serde_json::from_str(&out).unwrap();
    assert!(s[0]["Throttled"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(s[0]["Added"].as_array().unwrap().len(), 6);
    // Not logged in: exit 3 with the login command.
    sb.set_faults(Faults::default());
    std::fs::remove_file(token_file(&home, "corp")).unwrap();
    let (code, _, err) = sync(&home, &sb, &[]);
    assert_eq!(code, 3);
    assert!(err.contains("aws-sso-sync login --sso-session corp"), "{err}");
}

#[test]
fn twenty_concurrent_syncs_leave_every_profile_once() {
    let sb = sandbox();
    let home = Home::new();
    home.config(&format!(
        "[default]\nregion = us-east-1\n\n{}\n{}",
        session_section("corp"),
        session_section("acquired")
    ));
    login(&home, &sb, "corp");
    login(&home, &sb, "acquired");
    let children: Vec<_> = (0..20)
        .map(|i| {
            let mut cmd = home.command_with(binary("aws-sso-sync"), &sb, None);
            cmd.args([
                "--sso-session",
                if i % 2 == 0 { "corp" } else { "acquired" },
                "--template",
                "{sso_session}.{account_name}.{role_name}",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let text = read(&home.aws("config"));
    let files = shared::config::AwsFiles::from_text(&text, "");
    files.check_file(shared::config::FileKind::Config).expect("valid, no duplicate section");
    assert_eq!(files.profile_names().len(), 13);
    assert_eq!(text.matches("# >>> aws-sso-sync sso-session").count(), 2);
}

#[test]
fn status_export_and_logout() {
    let sb = sandbox();
    let home = Home::new();
    home.config(&session_section("corp"));
    login(&home, &sb, "corp");
    assert_eq!(sync(&home, &sb, &[]).0, 0);
    let mut w = home.command_with(binary("aws-whoami"), &sb, None);
    w.args(["--profile", "dev.ReadOnly", "--no-alias"]);
    assert_eq!(run(&mut w).0, 0);
    let (code, out, _) = sync(&home, &sb, &["status", "--output", "json"]);
    assert_eq!(code, 0);
    let s: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((s[0]["LoggedIn"].as_bool(), s[0]["CanRefresh"].as_bool()), (Some(true), Some(true)));
    let (code, out, _) = sync(&home, &sb, &["export"]);
    assert_eq!(code, 0);
    assert!(out.contains("[sso-session corp]") && out.contains("[profile prod.ReadOnly]"));
    let token: Value = serde_json::from_str(&read(&token_file(&home, "corp"))).unwrap();
    for secret in ["accessToken", "refreshToken", "clientSecret"] {
        assert!(!out.contains(token[secret].as_str().unwrap()), "{secret} in the export");
    }
    let (code, _, err) = sync(&home, &sb, &["logout"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(sb.count("Logout"), 1);
    assert!(!token_file(&home, "corp").exists());
    let leftovers: Vec<_> = std::fs::read_dir(home.path().join(".aws/cli/cache"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .collect();
    assert!(leftovers.is_empty(), "SSO role credentials removed");
    let (code, out, _) = sync(&home, &sb, &["status", "--output", "json"]);
    assert_eq!(code, 0);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()[0]["LoggedIn"], false);
}

#[test]
fn usage_errors() {
    let sb = sandbox();
    let home = Home::new();
    let (code, _, err) = sync(&home, &sb, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("no [sso-session] section") && err.contains("session add"), "{err}");
    home.config(&session_section("corp"));
    let (code, _, err) = sync(&home, &sb, &["--template", "{acount}"]);
    assert_eq!(code, 2);
    assert!(err.contains("{account_id}"), "{err}");
    let (code, _, err) = sync(&home, &sb, &["--sso-session", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("no [sso-session nope]") && err.contains("it has: corp"), "{err}");
    let (code, _, err) =
        sync(&home, &sb, &["session", "add", "x", "--start-url", "not-a-url", "--sso-region", "us-east-1"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn region_and_output_of_the_generated_profiles() {
    let sb = sandbox();
    let home = Home::new();
    home.config(&session_section("corp"));
    login(&home, &sb, "corp");
    let (code, _, err) = sync(&home, &sb, &["sync", "--region", "eu-west-3", "--profile-output", "json"]);
    assert_eq!(code, 0, "{err}");
    let text = read(&home.aws("config"));
    assert_eq!(text.matches("region = eu-west-3").count(), 6, "{text}");
    assert_eq!(text.matches("output = json").count(), 6);
    let (_, _, err) = sync(&home, &sb, &["sync"]);
    assert!(err.contains("0 added, 6 updated"), "back to the session's region: {err}");
}

#[test]
fn a_host_without_a_display_logs_in_with_the_device_code() {
    let sb = sandbox();
    let home = Home::new();
    home.config(&session_section("corp"));
    // No BROWSER, no DISPLAY: PKCE would need a browser on this host, so the device flow is used.
    let mut cmd = home.command_with(binary("aws-sso-sync"), &sb, None);
    cmd.args(["login", "--sso-session", "corp"]);
    let (code, _, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert_eq!(sb.count("StartDeviceAuthorization"), 1);
    assert_eq!(sb.count("Authorize"), 0);
    assert!(err.contains("confirm the code"), "{err}");
}

#[test]
fn session_add_resolves_vanity_start_urls_like_the_aws_cli() {
    let sb = sandbox();
    let home = Home::new();
    let vanity = |to: &str, head: bool| {
        format!("{}/_sandbox/redirect?to={}{}", sb.url, shared::os::url_encode(to), if head { "&head=405" } else { "" })
    };
    // HEAD refused (405): the GET's redirect names an AWS portal whose host gives the region.
    let portal = "https://ssoins-7223c1a2b3c4d5e6.portal.eu-west-1.app.aws/";
    let url = vanity(portal, true);
    let (code, _, err) = sync(&home, &sb, &["session", "add", "corp", "--start-url", &url]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("resolved to https://ssoins-7223c1a2b3c4d5e6.portal.eu-west-1.app.aws (region eu-west-1)"),
        "{err}"
    );
    assert_eq!(
        read(&home.aws("config")),
        format!(
            "[sso-session corp]\nsso_start_url = {url}\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n"
        )
    );
    // An awsapps.com portal does not name its region: --sso-region decides, and is required.
    let url = vanity(START_URL, false);
    let (code, _, err) = sync(&home, &sb, &["session", "add", "apps", "--start-url", &url]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not name its region: --sso-region is needed"), "{err}");
    let (code, _, err) =
        sync(&home, &sb, &["session", "add", "apps", "--start-url", &url, "--sso-region", "us-east-1"]);
    assert_eq!(code, 0, "{err}");
    // Not AWS's, or more than one redirect away: refused, nothing written.
    let before = read(&home.aws("config"));
    for (url, why) in [
        (vanity("https://phish.example/start", false), "ends at https://phish.example/start"),
        (vanity(&vanity(portal, false), false), "within one redirect"),
        (vanity("http://d-0000000000.awsapps.com/start", false), "which is not https"),
        ("http://sso.example.com/start".to_string(), "must use https"),
    ] {
        let (code, _, err) =
            sync(&home, &sb, &["session", "add", "bad", "--start-url", &url, "--sso-region", "us-east-1"]);
        assert_eq!(code, 2, "{url}: {err}");
        assert!(err.contains(why), "{url}: {err}");
    }
    assert_eq!(read(&home.aws("config")), before);
}
