//! Trust at the edges: what a hostile or unlucky user meets. Planted profiles, code in
//! completions, untrusted caches, links and device nodes, racing writers, suspect listings,
//! hostile servers, terminal and spreadsheet injection, bad numbers and bad files. Each case
//! asserts the promised outcome and that every wait ends within its documented bound.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use e2e::emulator::scenario::Scenario;
use e2e::harness::{Home, Sandbox, binary, fixture::*, run, standard_scenario};
use e2e::misbehave::{HOSTILE_MESSAGE, Misbehaving, Mode};

const ALICE_CREDS: &str = "[alice]\naws_access_key_id = AKIAEXAMPLEALICE0001\naws_secret_access_key = example/alice/secret/000000000000000000000\n";

fn session_section() -> String {
    format!("[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n")
}

/// A cached, valid token for sso-session `corp`, so a sync needs no browser.
fn logged_in(home: &Home, sb: &Sandbox) {
    home.sso_token("corp", &sb.issue_token(3600));
}

fn tool(home: &Home, sb: &Sandbox, name: &str, args: &[&str]) -> (i32, String, String) {
    let mut cmd = home.command_with(binary(name), sb, None);
    cmd.args(args);
    run(&mut cmd)
}

fn no_raw_escapes(text: &str) {
    assert!(
        !text.chars().any(|c| matches!(c, '\u{1b}' | '\u{7}' | '\u{9b}' | '\u{202e}' | '\r')),
        "raw control characters reached the terminal: {text:?}"
    );
}

fn hostile_portal() -> Sandbox {
    let mut s: Scenario = standard_scenario();
    s.accounts[1]
        .permission_sets
        .push("Admin\n[profile planted]\ncredential_process = sh -c 'touch /tmp/pwned'".into());
    s.accounts[1].permission_sets.push("Ops\u{1b}[2J".into());
    Sandbox::start(s)
}

#[test]
fn a_hostile_portal_plants_nothing() {
    let sb = hostile_portal();
    let home = Home::new();
    home.config(&session_section());
    logged_in(&home, &sb);
    let (code, _, err) = tool(&home, &sb, "aws-sso-sync", &[]);
    assert_eq!(code, 0, "{err}");
    let config = std::fs::read_to_string(home.aws("config")).unwrap();
    assert!(!config.contains("planted") && !config.contains("credential_process"), "{config}");
    assert!(!config.contains('\u{1b}'), "{config:?}");
    assert!(config.contains("sso_role_name = AdministratorAccess"), "the honest roles are written: {config}");
    assert!(err.contains("skipped one role") && err.matches("skipped one role").count() == 2, "{err}");
    no_raw_escapes(&err);
    // What the AWS CLI would read: no profile named `planted`.
    let files = shared::config::AwsFiles::load_from(home.aws("config"), home.aws("credentials")).unwrap();
    assert!(!files.has_profile("planted"));
}

#[test]
fn session_add_refuses_values_that_would_not_read_back() {
    let sb = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.config("# mine\n");
    for args in [
        vec!["session", "add", "x\n[profile evil]", "--start-url", START_URL, "--sso-region", "us-east-1"],
        vec![
            "session",
            "add",
            "corp",
            "--start-url",
            "https://x\ncredential_process = id",
            "--sso-region",
            "us-east-1",
        ],
        vec!["session", "add", "corp", "--start-url", START_URL, "--sso-region", "us-east-1\n[x]"],
        vec!["session", "add", "corp", "--start-url", START_URL, "--sso-region", "us-east-1", "--scopes", "a\rb"],
    ] {
        let (code, _, err) = tool(&home, &sb, "aws-sso-sync", &args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("hint:"), "{err}");
        no_raw_escapes(&err);
    }
    assert_eq!(std::fs::read_to_string(home.aws("config")).unwrap(), "# mine\n");
}

#[test]
fn links_are_kept_and_non_files_and_read_only_files_are_refused() {
    let sb = Sandbox::start(standard_scenario());
    let home = Home::new();
    let dotfiles = home.path().join("dotfiles");
    std::fs::create_dir(&dotfiles).unwrap();
    std::fs::write(dotfiles.join("aws-config"), format!("# from my dotfiles\n{}", session_section())).unwrap();
    std::os::unix::fs::symlink("../dotfiles/aws-config", home.aws("config")).unwrap();
    let hard = home.path().join("hard-link-to-config");
    std::fs::hard_link(dotfiles.join("aws-config"), &hard).unwrap();
    logged_in(&home, &sb);
    let (code, _, err) = tool(&home, &sb, "aws-sso-sync", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::symlink_metadata(home.aws("config")).unwrap().file_type().is_symlink(), "the link stays a link");
    let real = std::fs::read_to_string(dotfiles.join("aws-config")).unwrap();
    assert!(real.starts_with("# from my dotfiles\n") && real.contains("[profile dev.ReadOnly]"), "{real}");
    assert_eq!(std::fs::read_to_string(&hard).unwrap(), real, "the hard link sees the same text");
    let backup = home.aws("config.aws-companions.bak");
    assert_eq!(std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777, 0o600);

    // A device node as the config file: refused, still a device.
    let mut cmd = home.command_with(binary("aws-sso-sync"), &sb, None);
    cmd.args(["session", "add", "x", "--start-url", START_URL, "--sso-region", "us-east-1"])
        .env("AWS_CONFIG_FILE", "/dev/null");
    let (code, _, err) = run(&mut cmd);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file") || err.contains("a device"), "{err}");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());

    // A read-only config (even for root): refused with a hint, untouched; --dry-run still works.
    let ro = home.path().join("ro-config");
    std::fs::write(&ro, session_section()).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).unwrap();
    let mut cmd = home.command_with(binary("aws-sso-sync"), &sb, None);
    cmd.env("AWS_CONFIG_FILE", &ro);
    let (code, _, err) = run(&mut cmd);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("read-only") && err.contains("chmod u+w"), "{err}");
    assert_eq!(std::fs::read_to_string(&ro).unwrap(), session_section());
    std::fs::remove_file(home.path().join("ro-config.lock")).unwrap();
    let mut cmd = home.command_with(binary("aws-sso-sync"), &sb, None);
    cmd.env("AWS_CONFIG_FILE", &ro).arg("--dry-run");
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("+[profile dev.ReadOnly]"), "{out}");
    assert!(!home.path().join("ro-config.lock").exists(), "a dry run takes no write lock");
}

#[test]
fn twenty_syncs_racing_an_appender_lose_no_hand_written_profile() {
    let sb = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.config(&session_section());
    logged_in(&home, &sb);
    let config = home.aws("config");
    let appender = {
        let config = config.clone();
        std::thread::spawn(move || {
            for i in 0..400 {
                let mut f = std::fs::OpenOptions::new().append(true).open(&config).unwrap();
                f.write_all(format!("\n[profile hand-{i}]\nregion = us-east-1\n").as_bytes()).unwrap();
                drop(f);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let children: Vec<_> = (0..20)
        .map(|_| {
            let mut cmd = home.command_with(binary("aws-sso-sync"), &sb, None);
            cmd.arg("-q").stdout(Stdio::null()).stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    appender.join().unwrap();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let text = std::fs::read_to_string(&config).unwrap();
    let lost: Vec<usize> = (0..400).filter(|i| !text.contains(&format!("[profile hand-{i}]\n"))).collect();
    assert!(lost.is_empty(), "{} of 400 hand-written profiles lost: {lost:?}", lost.len());
    assert_eq!(text.matches("# >>> aws-sso-sync sso-session corp >>>").count(), 1, "one block");
    let leftovers: Vec<_> = std::fs::read_dir(home.path().join(".aws"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("aws-companions-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[test]
fn an_empty_or_shrunken_listing_prunes_nothing_without_allow_empty() {
    let sb = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.config(&session_section());
    logged_in(&home, &sb);
    assert_eq!(tool(&home, &sb, "aws-sso-sync", &[]).0, 0);
    let before = std::fs::read_to_string(home.aws("config")).unwrap();
    let generated = before.matches("[profile ").count();
    assert!(generated >= 4, "{before}");
    sb.emulator.lock().accounts.clear();
    let (code, _, err) = tool(&home, &sb, "aws-sso-sync", &["--prune"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("nothing was removed") && err.contains("--allow-empty"), "{err}");
    assert_eq!(std::fs::read_to_string(home.aws("config")).unwrap(), before);
    let (code, _, err) = tool(&home, &sb, "aws-sso-sync", &["--prune", "--allow-empty"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(home.aws("config")).unwrap().matches("[profile ").count(), 0);
}

#[test]
fn completion_treats_profile_names_as_data() {
    let home = Home::new();
    let marker = home.path().join("pwned");
    let evil = format!("$(touch {})", marker.display());
    let evil2 = format!("`touch {}`", marker.display());
    home.credentials(&format!(
        "[{evil}]\naws_access_key_id = AKIAEXAMPLE000000001\naws_secret_access_key = s\n[{evil2}]\naws_access_key_id = AKIAEXAMPLE000000002\naws_secret_access_key = s\n[plain]\naws_access_key_id = AKIAEXAMPLE000000003\naws_secret_access_key = s\n"
    ));
    let bin_dir = binary("aws-assume").parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let script = r#"eval "$(aws-assume init bash)"
for cur in '' '$' 'pl'; do COMP_WORDS=(assume "$cur"); COMP_CWORD=1; _assume_complete; printf '%s\n' "${COMPREPLY[@]}"; done"#;
    let mut cmd = home.command("bash");
    cmd.env("PATH", &path).args(["-c", script]);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert!(!marker.exists(), "completion ran code from a profile name");
    assert!(out.contains("plain") && out.contains("\\$\\(touch"), "names are offered quoted: {out}");
    // clap's dynamic completion offers only shell-safe names.
    let mut cmd = home.command(binary("aws-whoami"));
    cmd.env("COMPLETE", "bash").env("_CLAP_COMPLETE_INDEX", "2").args(["--", "aws-whoami", "--profile", ""]);
    let (_, out, _) = run(&mut cmd);
    assert!(out.contains("plain") && !out.contains("touch"), "{out:?}");
    if which_zsh() {
        let mut cmd = home.command("zsh");
        cmd.env("PATH", &path).args([
            "-f",
            "-c",
            r#"eval "$(aws-assume init zsh)"; print -l -- ${(f)"$(command aws-assume --profile-names)"}"#,
        ]);
        let _ = run(&mut cmd);
        assert!(!marker.exists());
    }
}

fn which_zsh() -> bool {
    Command::new("zsh").arg("-fc").arg("true").output().is_ok_and(|o| o.status.success())
}

#[test]
fn an_untrusted_cache_folder_is_not_used() {
    let sb = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.credentials(ALICE_CREDS)
        .config("[profile ro]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = alice\n");
    assert_eq!(tool(&home, &sb, "aws-whoami", &["--profile", "ro", "--no-alias"]).0, 0);
    let cache = home.path().join(".aws/cli/cache");
    // Another user "plants" credentials: every cached file now names keys the emulator rejects.
    for e in std::fs::read_dir(&cache).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "json") {
            let text = std::fs::read_to_string(&p)
                .unwrap()
                .replace("\"AccessKeyId\": \"ASIA", "\"AccessKeyId\": \"ASIAPLANTED");
            std::fs::write(&p, text).unwrap();
        }
    }
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (code, out, err) = tool(&home, &sb, "aws-whoami", &["--profile", "ro", "--no-alias", "--output", "json"]);
    assert_eq!(code, 0, "the planted cache was used: {err}");
    assert!(out.contains("assumed-role/readonly"), "{out}");
    assert!(err.contains("not using the cache") && err.contains("chmod 700"), "{err}");
}

#[test]
fn bad_numbers_regions_chains_and_files_are_usage_errors() {
    let sb = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.credentials(ALICE_CREDS);
    for (bin, args) in [
        ("aws-whoami", vec!["--profile", "alice", "--cli-read-timeout", "1e20"]),
        ("aws-whoami", vec!["--profile", "alice", "--cli-read-timeout", "inf"]),
        ("aws-whoami", vec!["--profile", "alice", "--cli-connect-timeout", "NaN"]),
        ("aws-whoami", vec!["--profile", "alice", "--region", "us-east-1\u{1b}[2J"]),
        ("aws-whoami", vec!["--profile", "alice", "--region", "../../etc"]),
        ("aws-assume", vec!["alice", "--duration", "999999999999999d"]),
        ("aws-assume", vec!["alice", "--mfa-session-duration", "99999999999999999999999"]),
        ("aws-sso-sync", vec!["--concurrency", "0"]),
        ("aws-sso-sync", vec!["--request-timeout", "-1"]),
    ] {
        let (code, _, err) = tool(&home, &sb, bin, &args);
        assert_eq!(code, 2, "{bin} {args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        no_raw_escapes(&err);
    }
    // A 5,000-hop source_profile chain: a clear error, no stack overflow.
    let mut config = String::new();
    for i in 1..5000 {
        let src = if i == 1 { "alice".to_string() } else { format!("p{}", i - 1) };
        config.push_str(&format!(
            "[profile p{i}]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = {src}\n"
        ));
    }
    home.config(&config);
    let (code, _, err) = tool(&home, &sb, "aws-whoami", &["--profile", "p4999"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("more than 64 profiles") && err.contains("hint:"), "{err}");
    home.config("");
    // A BOM or an unclosed header in the credentials file: refused with file:line, as botocore does.
    for text in [format!("\u{feff}{ALICE_CREDS}"), ALICE_CREDS.replace("[alice]", "[alice")] {
        home.credentials(&text);
        let (code, _, err) = tool(&home, &sb, "aws-whoami", &["--profile", "alice"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("credentials:1:") && err.contains("hint:"), "{err}");
    }
    // A profile name with escape sequences is shown escaped.
    home.credentials(ALICE_CREDS);
    let (code, _, err) = tool(&home, &sb, "aws-whoami", &["--profile", "x\u{1b}]0;pwned\u{7}\nhint: fake"]);
    assert_eq!(code, 2);
    no_raw_escapes(&err);
    assert_eq!(err.lines().filter(|l| l.starts_with("hint:")).count(), 1, "no forged hint line: {err}");
}

#[test]
fn a_lock_held_elsewhere_is_announced_and_bounded() {
    let sb = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.config("# mine\n");
    let wait = shared::fsutil::LockWait {
        purpose: "a test holding the lock".into(),
        limit: Duration::from_secs(5),
        announce: false,
    };
    let held = shared::fsutil::FileLock::acquire(&home.aws("config"), &wait).unwrap();
    let mut cmd = home.command_with(binary("aws-sso-sync"), &sb, None);
    cmd.args(["session", "add", "corp", "--start-url", START_URL, "--sso-region", "us-east-1"])
        .env("AWS_COMPANIONS_LOCK_TIMEOUT", "3");
    let started = Instant::now();
    let (code, _, err) = run(&mut cmd);
    let took = started.elapsed();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("waiting for") && err.contains(&format!("pid {}", std::process::id())), "{err}");
    assert!(err.contains("a test holding the lock") && err.contains("gave up after 3 s"), "{err}");
    assert!(took >= Duration::from_secs(3) && took < Duration::from_secs(10), "{took:?}");
    drop(held);
    let (code, _, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn misbehaving_endpoints_end_within_their_deadline() {
    let sb = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.credentials(ALICE_CREDS);
    for mode in
        [Mode::Silent, Mode::Trickle, Mode::Huge, Mode::HugeChunked, Mode::Html, Mode::EmptyJson, Mode::HostileError]
    {
        let server = Misbehaving::start(mode);
        let mut cmd = home.command_with(binary("aws-whoami"), &sb, None);
        cmd.args(["--profile", "alice", "--no-alias", "--cli-read-timeout", "2", "--cli-connect-timeout", "1"])
            .env("AWS_ENDPOINT_URL_STS", &server.url);
        let started = Instant::now();
        let (code, out, err) = run(&mut cmd);
        let took = started.elapsed();
        // One attempt: 1 s connect + 2 s read is the documented per-attempt deadline.
        assert!(took < Duration::from_secs(8), "{mode:?} took {took:?}");
        let want = if mode == Mode::HostileError { 3 } else { 4 };
        assert_eq!(code, want, "{mode:?}: {err}");
        assert!(out.is_empty(), "{mode:?}: {out}");
        assert!(err.contains("hint:"), "{mode:?}: {err}");
        no_raw_escapes(&err);
        if mode == Mode::HostileError {
            assert!(
                err.contains("\\u{9b}2J") && err.contains("\\u{202e}"),
                "the server's message is shown escaped: {err}"
            );
            assert!(!err.contains(HOSTILE_MESSAGE));
            assert_eq!(err.lines().filter(|l| l.starts_with("hint:")).count(), 1, "no forged hint: {err}");
        }
    }
    // aws-keyaudit against an IAM endpoint that never answers: bounded by its deadline too.
    let server = Misbehaving::start(Mode::Silent);
    let mut cmd = home.command_with(binary("aws-keyaudit"), &sb, None);
    cmd.args(["--profile", "alice", "--cli-read-timeout", "1", "--cli-connect-timeout", "1", "--output", "json"])
        .env("AWS_ENDPOINT_URL_IAM", &server.url);
    let started = Instant::now();
    let (code, _, err) = run(&mut cmd);
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    assert_eq!(code, 4, "{err}");
}

#[test]
fn an_empty_device_authorization_is_a_service_error() {
    let sb = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.config(&session_section());
    let server = Misbehaving::start(Mode::EmptyDeviceAuthorization);
    let mut cmd = home.command_with(binary("aws-sso-sync"), &sb, None);
    cmd.args(["login", "--use-device-code", "--timeout", "20"]).env("AWS_ENDPOINT_URL_SSO_OIDC", &server.url);
    let started = Instant::now();
    let (code, _, err) = run(&mut cmd);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("StartDeviceAuthorization") && err.contains("deviceCode"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let home = Home::new();
    let mut config = String::new();
    for i in 0..3000 {
        config.push_str(&format!("[profile p{i}]\nregion = us-east-1\n"));
    }
    home.config(&config);
    let mut cmd = home.command(binary("aws-assume"));
    cmd.arg("--profile-names").stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    // JSON too (written through serde, whose error must keep the closed pipe's kind).
    let mut cmd = home.command(binary("aws-whoami"));
    cmd.args(["--explain", "--profile", "p1", "--output", "json"]).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_token_the_portal_refuses_is_called_revoked() {
    let sb = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.config(&format!(
        "{}\n[profile dev]\nsso_session = corp\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\nregion = us-east-1\n",
        session_section()
    ));
    // A token that has not expired by its own date, but the portal never issued (or revoked) it.
    home.sso_token("corp", "aoa-revoked-token");
    let (code, _, err) = tool(&home, &sb, "aws-whoami", &["--profile", "dev", "--no-alias"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("was refused: it was revoked"), "{err}");
    assert!(!err.contains("expired at"), "{err}");
    assert!(err.contains("hint: run `aws-sso-sync login --sso-session corp`"), "{err}");
}

#[test]
fn filters_include_exclude_store_and_prune() {
    let sb = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.config(&session_section());
    logged_in(&home, &sb);
    let profiles = || -> Vec<String> {
        let text = std::fs::read_to_string(home.aws("config")).unwrap();
        text.lines()
            .filter_map(|l| l.strip_prefix("[profile ").and_then(|n| n.strip_suffix(']')))
            .map(String::from)
            .collect()
    };
    // Include: only matching accounts (by name, case-insensitive), counted in the dry run.
    let (code, out, err) = tool(&home, &sb, "aws-sso-sync", &["--include-account", "PROD", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("filters --include-account PROD keep 2 of"), "{err}");
    assert!(out.contains("+[profile prod.ReadOnly]") && !out.contains("dev."), "{out}");
    // Exclude: a role pattern.
    let (code, _, err) = tool(&home, &sb, "aws-sso-sync", &["--exclude-role", "*admin*"]);
    assert_eq!(code, 0, "{err}");
    let all = profiles();
    assert!(!all.is_empty() && all.iter().all(|p| !p.to_lowercase().contains("admin")), "{all:?}");
    // Stored in the [sso-session]: a plain run keeps applying it; without --prune nothing goes.
    let (code, _, err) = tool(&home, &sb, "aws-sso-sync", &["--include-account", "222222222222", "--save-filters"]);
    assert_eq!(code, 0, "{err}");
    let config = std::fs::read_to_string(home.aws("config")).unwrap();
    assert!(config.contains("aws_sso_sync_include_accounts = 222222222222"), "{config}");
    let now = profiles();
    assert!(all.iter().all(|p| now.contains(p)), "a narrower filter removes nothing without --prune: {now:?}");
    let (code, _, err) = tool(&home, &sb, "aws-sso-sync", &["--prune"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("filters --include-account 222222222222"), "the stored filter applies: {err}");
    assert!(!err.contains("suspect"), "a narrow filter is not a suspect listing: {err}");
    let left = profiles();
    assert!(!left.is_empty() && left.iter().all(|p| p.starts_with("dev.")), "{left:?}");
    // Clearing the stored filters brings everything back.
    let (code, _, err) = tool(&home, &sb, "aws-sso-sync", &["--save-filters"]);
    assert_eq!(code, 0, "{err}");
    assert!(!std::fs::read_to_string(home.aws("config")).unwrap().contains("aws_sso_sync_include"));
    assert!(profiles().len() > left.len());
    // A bad glob is a usage error before any portal call.
    let (code, _, err) = tool(&home, &sb, "aws-sso-sync", &["--include-role", "[oops"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a valid pattern") && err.contains("hint:"), "{err}");
}
