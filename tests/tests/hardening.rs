//! Hardening: faults, kills, races and bad input. Every tool either completes or exits with its
//! documented code and a clear message; no config or cache file is ever left partial.

use std::process::Stdio;
use std::time::Duration;

use e2e::emulator::faults::Faults;
use e2e::harness::{Home, Sandbox, binary, fixture::*, run, standard_scenario};
use serde_json::Value;

const CREDS: &str = "[alice]\naws_access_key_id = AKIAEXAMPLEALICE0001\naws_secret_access_key = example/alice/secret/000000000000000000000\n";

fn whoami(home: &Home, sb: &Sandbox, args: &[&str]) -> (i32, String, String) {
    let mut cmd = home.command_with(binary("aws-whoami"), sb, None);
    cmd.args(args).arg("--no-alias");
    run(&mut cmd)
}

#[test]
fn sts_faults_end_in_exit_4_with_a_clear_message() {
    let sb = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.credentials(CREDS);
    for (faults, want) in [
        (Faults { error_rate: 1.0, ..Faults::default() }, "sts:GetCallerIdentity failed (InternalFailure)"),
        (Faults { truncate_rate: 1.0, ..Faults::default() }, "sts:GetCallerIdentity failed"),
        (Faults { timeout_rate: 1.0, timeout_ms: Some(5000), ..Faults::default() }, "timed out"),
        (Faults { rate_limit: Some(0.001), burst: Some(1.0), ..Faults::default() }, "(Throttling)"),
    ] {
        sb.set_faults(faults.clone());
        // Use up the one-request burst of the throttling case.
        let _ = whoami(&home, &sb, &["--profile", "alice", "--cli-read-timeout", "0.5"]);
        let (code, out, err) = whoami(&home, &sb, &["--profile", "alice", "--cli-read-timeout", "0.5"]);
        assert_eq!(code, 4, "{faults:?}: {err}");
        assert!(out.is_empty());
        assert!(err.contains(want) && err.contains("hint:"), "{faults:?}: {err}");
    }
    // With retries the same faults are ridden out.
    sb.set_faults(Faults { fail_first: 2, ..Faults::default() });
    let mut cmd = home.command_with(binary("aws-whoami"), &sb, None);
    cmd.args(["--profile", "alice", "--no-alias"]).env("AWS_MAX_ATTEMPTS", "3");
    assert_eq!(run(&mut cmd).0, 0);
}

#[test]
fn sigkill_during_a_config_write_never_leaves_a_partial_file() {
    let mut scenario = standard_scenario();
    scenario.accounts.clear();
    scenario.generate = Some(e2e::emulator::scenario::Generate {
        count: 300,
        first_id: 100_000_000_000,
        name_prefix: "acct".into(),
        permission_sets: vec!["Admin".into(), "ReadOnly".into()],
    });
    let sb = Sandbox::start(scenario);
    let home = Home::new();
    let original = format!(
        "# mine\n[default]\nregion = us-east-1\n\n[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"
    );
    home.sso_token("corp", &sb.issue_token(3600));
    let mut complete = None;
    let mut outcomes = (0, 0);
    for i in 0..30u64 {
        home.config(&original);
        let mut cmd = home.command_with(binary("aws-sso-sync"), &sb, None);
        cmd.arg("-q").stdout(Stdio::null()).stderr(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        std::thread::sleep(Duration::from_millis((i * 7919) % 400));
        let _ = child.kill();
        let _ = child.wait();
        let text = std::fs::read_to_string(home.aws("config")).unwrap();
        if text == original {
            outcomes.0 += 1;
            continue;
        }
        let files = shared::config::AwsFiles::from_text(&text, "");
        files.check_file(shared::config::FileKind::Config).unwrap_or_else(|e| panic!("run {i}: a partial config: {e}"));
        assert!(text.starts_with(&original), "run {i}: bytes outside the block changed");
        assert_eq!(files.profile_names().len(), 601, "run {i}: every profile or none");
        complete.get_or_insert(text);
        outcomes.1 += 1;
    }
    assert!(outcomes.0 > 0, "some runs were killed before writing: {outcomes:?}");
    // A temp file a killed run left behind (planted here too, so the case is always there).
    std::fs::write(home.aws(".config.aws-companions-tmp.99999.killedrun"), "half a config").unwrap();
    std::fs::write(home.aws(".config.aws-companions.bak.aws-companions-tmp.99999.killedrun"), "half a backup").unwrap();
    // And an unhurried run writes the whole block, and removes every leftover of ours.
    home.config(&original);
    let mut cmd = home.command_with(binary("aws-sso-sync"), &sb, None);
    cmd.arg("-q");
    assert_eq!(run(&mut cmd).0, 0);
    let leftovers: Vec<_> = std::fs::read_dir(home.path().join(".aws"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("aws-companions-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temp files of killed runs are cleaned: {leftovers:?}");
    let text = std::fs::read_to_string(home.aws("config")).unwrap();
    assert_eq!(shared::config::AwsFiles::from_text(&text, "").profile_names().len(), 601);
    if let Some(c) = complete {
        assert_eq!(c, text, "a run that got to write wrote exactly what a full run writes");
    }
}

#[test]
fn twenty_parallel_whoami_refresh_the_sso_token_once() {
    let sb = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.config(&format!("[profile dev-ro]\nsso_session = corp\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\n[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"));
    let (client, secret, refresh) = sb.refreshable_client();
    let soon = |s: i64| {
        (time::OffsetDateTime::now_utc() + time::Duration::seconds(s))
            .format(&time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
            .unwrap()
    };
    let dir = home.path().join(".aws/sso/cache");
    std::fs::create_dir_all(&dir).unwrap();
    use sha1::Digest;
    std::fs::write(
        dir.join(format!("{}.json", hex::encode(sha1::Sha1::digest(b"corp")))),
        serde_json::json!({"startUrl": START_URL, "region": "us-east-1", "accessToken": sb.issue_token(120), "expiresAt": soon(120),
            "clientId": client, "clientSecret": secret, "registrationExpiresAt": soon(86_000), "refreshToken": refresh}).to_string(),
    )
    .unwrap();
    let children: Vec<_> = (0..20)
        .map(|_| {
            let mut cmd = home.command_with(binary("aws-whoami"), &sb, None);
            cmd.args(["--profile", "dev-ro", "--no-alias", "--output", "json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(sb.count("CreateToken"), 1, "single-flight refresh");
    assert_eq!(sb.count("GetRoleCredentials"), 1, "single-flight role credentials");
}

#[test]
fn bad_input_each_with_its_exit_code_and_message() {
    let sb = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.credentials(CREDS);
    // Non-UTF-8 config: named, with the line.
    std::fs::write(home.aws("config"), b"[profile ok]\nregion = us-east-1\n[profile bad]\nregion = \xff\xfe\n")
        .unwrap();
    let (code, _, err) = whoami(&home, &sb, &["--profile", "alice"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("config: line 4 is not valid UTF-8") && err.contains("hint: re-save"), "{err}");
    // Unknown keys are kept and ignored, as the AWS CLI does.
    home.config("[profile alice]\nregion = us-east-1\nsome_future_setting = 42\ncli_pager =\n[profile badarn]\nrole_arn = admin\nsource_profile = alice\n");
    assert_eq!(whoami(&home, &sb, &["--profile", "alice"]).0, 0);
    let (code, _, err) = whoami(&home, &sb, &["--profile", "badarn"]);
    assert_eq!(code, 2);
    assert!(err.contains("role_arn = admin, which is not a role ARN") && err.contains("config:6"), "{err}");
    // Corrupt cache JSON is a miss, never a crash; the hop is assumed again and the file rewritten.
    home.config("[profile ro]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = alice\n");
    assert_eq!(whoami(&home, &sb, &["--profile", "ro"]).0, 0);
    let cache: Vec<_> = std::fs::read_dir(home.path().join(".aws/cli/cache"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(cache.len(), 1);
    std::fs::write(&cache[0], "{\"Credentials\": {\"AccessKeyId\": ").unwrap();
    sb.clear_requests();
    assert_eq!(whoami(&home, &sb, &["--profile", "ro"]).0, 0);
    assert_eq!(sb.count("AssumeRole"), 1);
    let _: Value = serde_json::from_str(&std::fs::read_to_string(&cache[0]).unwrap()).expect("rewritten whole");
    // A 10,000-profile config still resolves (its speed is measured in `make bench`).
    let mut big = String::new();
    for i in 0..10_000 {
        big.push_str(&format!("[profile p{i}]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = alice\nregion = us-east-1\n\n"));
    }
    home.config(&big);
    let (code, out, err) = whoami(&home, &sb, &["--profile", "p9999", "--output", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("assumed-role/readonly/"));
}

#[test]
fn aws_assume_under_sts_faults_exits_4_and_caches_nothing() {
    let sb = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.credentials(CREDS)
        .config("[profile ro]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = alice\n");
    for faults in [
        Faults { error_rate: 1.0, ..Faults::default() },
        Faults { truncate_rate: 1.0, ..Faults::default() },
        Faults { timeout_rate: 1.0, timeout_ms: Some(3000), ..Faults::default() },
    ] {
        sb.set_faults(faults.clone());
        let mut cmd = home.command_with(binary("aws-assume"), &sb, None);
        cmd.args(["ro", "--format", "process", "--cli-read-timeout", "0.5"]);
        let (code, out, err) = run(&mut cmd);
        assert_eq!(code, 4, "{faults:?}: {err}");
        assert!(out.is_empty() && err.contains("sts:AssumeRole failed") && err.contains("hint:"), "{faults:?}: {err}");
        let cached = std::fs::read_dir(home.path().join(".aws/cli/cache"))
            .map(|d| d.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "json")).count())
            .unwrap_or(0);
        assert_eq!(cached, 0, "{faults:?}");
    }
}
