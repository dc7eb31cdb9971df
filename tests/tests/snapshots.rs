//! Snapshots (insta) of what people read: every binary's `--help` and subcommand help, the
//! tables and JSON shapes, and the error and hint texts the README's troubleshooting table
//! lists. A redactor replaces what changes from run to run (account ids, key ids, timestamps,
//! durations, ports, temporary paths, the git revision). `cargo insta review` (or
//! `INSTA_UPDATE=always make test`, then `git diff`) updates them; see CONTRIBUTING.md.

use e2e::harness::{Home, Sandbox, binary, run, standard_scenario};

const ALICE_CREDS: &str = "[alice]\naws_access_key_id = AKIAEXAMPLEALICE0001\naws_secret_access_key = example/alice/secret/000000000000000000000\n";

/// The redactor: every run-dependent value becomes a stable placeholder.
fn settings(home: Option<&Home>) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("snapshots");
    s.set_prepend_module_to_snapshot(false);
    if let Some(h) = home {
        let p = h.path().to_string_lossy().into_owned();
        s.add_filter(&regex_escape(&p), "[HOME]");
    }
    s.add_filter(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|UTC|[+-]\d{2}:\d{2})", "[TIME]");
    s.add_filter(
        r"\b(in|expired) \d+h \d+m( ago)?|\b(in|expired) \d+m( ago)?|\b(in|expired) \d+s( ago)?",
        "[DURATION]",
    );
    s.add_filter(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b", "[KEY]");
    s.add_filter(r"botocore-session-\d+", "botocore-session-[N]");
    s.add_filter(r"\bARO[A-Z0-9]{10,}\b", "[ROLE-ID]");
    s.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    s.add_filter(r"\(pid \d+\)", "(pid [PID])");
    s.add_filter(r"\b\d+\.\d ms\b", "[MS]");
    s.add_filter(r"\d+\.\d+\.\d+ \([0-9a-f]{7,}(-dirty)?\)|\d+\.\d+\.\d+ \(unknown\)", "[VERSION]");
    s
}

fn regex_escape(text: &str) -> String {
    text.chars().map(|c| if "\\.+*?()|[]{}^$".contains(c) { format!("\\{c}") } else { c.to_string() }).collect()
}

fn help(bin: &str, args: &[&str]) -> String {
    let home = Home::new();
    let mut cmd = home.command(binary(bin));
    cmd.args(args);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{bin} {args:?}: {err}");
    out
}

#[test]
fn help_texts() {
    let cases: &[(&str, &[&str])] = &[
        ("aws-whoami", &["--help"]),
        ("aws-assume", &["--help"]),
        ("aws-assume", &["init", "--help"]),
        ("aws-sso-sync", &["--help"]),
        ("aws-sso-sync", &["sync", "--help"]),
        ("aws-sso-sync", &["login", "--help"]),
        ("aws-sso-sync", &["logout", "--help"]),
        ("aws-sso-sync", &["status", "--help"]),
        ("aws-sso-sync", &["export", "--help"]),
        ("aws-sso-sync", &["session", "add", "--help"]),
        ("aws-keyaudit", &["--help"]),
        ("aws-keyaudit", &["restrict", "--help"]),
    ];
    let s = settings(None);
    for (bin, args) in cases {
        let name = format!(
            "help-{bin}-{}",
            args.iter().filter(|a| !a.starts_with('-')).cloned().collect::<Vec<_>>().join("-")
        );
        let name = name.trim_end_matches('-').to_string();
        s.bind(|| insta::assert_snapshot!(name, help(bin, args)));
    }
}

#[test]
fn whoami_table_and_json_shapes() {
    let sb = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.credentials(ALICE_CREDS)
        .config("[profile ro]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = alice\n");
    let s = settings(Some(&home));
    for (name, args) in [
        ("whoami-table", vec!["--profile", "ro", "--no-alias", "--output", "table"]),
        ("whoami-json", vec!["--profile", "ro", "--no-alias", "--output", "json"]),
        ("whoami-text", vec!["--profile", "ro", "--no-alias", "--output", "text"]),
        ("whoami-all-profiles-table", vec!["--all-profiles", "--no-alias", "--output", "table"]),
    ] {
        let mut cmd = home.command_with(binary("aws-whoami"), &sb, None);
        cmd.args(&args);
        let (code, out, err) = run(&mut cmd);
        assert_eq!(code, 0, "{args:?}: {err}");
        s.bind(|| insta::assert_snapshot!(name, out));
    }
    let mut cmd = home.command_with(binary("aws-assume"), &sb, None);
    cmd.args(["--list", "--output", "table"]);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    s.bind(|| insta::assert_snapshot!("assume-list-table", out));
}

/// The errors and hints the README's troubleshooting table explains, as people see them.
#[test]
fn error_and_hint_texts() {
    let sb = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.credentials(ALICE_CREDS).config(
        "[profile a]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = b\n\
         [profile b]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = a\n\
         [profile broken]\nregion = us-east-1\nthis is not a setting\n\
         [profile orphan]\nrole_arn = arn:aws:iam::222222222222:role/readonly\n\
         [profile mfa]\nrole_arn = arn:aws:iam::222222222222:role/admin\nsource_profile = alice\nmfa_serial = arn:aws:iam::111111111111:mfa/alice\n\
         [profile env-source]\nrole_arn = arn:aws:iam::222222222222:role/readonly\ncredential_source = Environment\n\
         [profile sso]\nsso_session = corp\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\n\
         [sso-session corp]\nsso_start_url = https://d-0000000000.awsapps.com/start\nsso_region = us-east-1\n",
    );
    /// (snapshot name, binary, arguments, environment)
    type Case<'a> = (&'a str, &'a str, &'a [&'a str], &'a [(&'a str, &'a str)]);
    let cases: &[Case] = &[
        ("error-profile-not-found", "aws-whoami", &["--profile", "nope"], &[]),
        ("error-source-profile-loop", "aws-whoami", &["--profile", "a"], &[]),
        ("error-malformed-line", "aws-whoami", &["--profile", "broken"], &[]),
        ("error-role-without-source", "aws-whoami", &["--profile", "orphan"], &[]),
        ("error-mfa-needed", "aws-whoami", &["--profile", "mfa"], &[]),
        ("error-credential-source-empty", "aws-whoami", &["--profile", "env-source"], &[]),
        ("error-sso-not-logged-in", "aws-whoami", &["--profile", "sso"], &[]),
        (
            "error-keys-refused",
            "aws-whoami",
            &[],
            &[("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEALICE0001"), ("AWS_SECRET_ACCESS_KEY", "wrong")],
        ),
        (
            "error-could-not-connect",
            "aws-whoami",
            &["--profile", "alice"],
            &[("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")],
        ),
        ("error-bad-seconds", "aws-whoami", &["--cli-read-timeout", "inf"], &[]),
        ("error-bad-duration", "aws-assume", &["alice", "--duration", "999999999999999d"], &[]),
        (
            "error-key-store-unavailable",
            "aws-assume",
            &["keys", "add", "alice", "--from-credentials-file"],
            &[("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")],
        ),
        (
            "error-key-not-stored",
            "aws-assume",
            &["keys", "credential-process", "alice"],
            &[("AWS_COMPANIONS_KEY_STORE", "file"), ("AWS_COMPANIONS_KEY_STORE_PASSPHRASE", "p")],
        ),
    ];
    let s = settings(Some(&home));
    for (name, bin, args, env) in cases {
        let mut cmd = home.command_with(binary(bin), &sb, None);
        cmd.args(args.iter()).envs(env.iter().copied());
        if *bin == "aws-whoami" {
            cmd.arg("--no-alias");
        }
        let (code, _, err) = run(&mut cmd);
        s.bind(|| insta::assert_snapshot!(*name, format!("exit {code}\n{err}")));
    }
}

/// The write path's and the files' own errors (read-only, not a file, a refused value, a BOM, a
/// failing credential_process) as people see them.
#[test]
fn file_and_value_error_texts() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::start(standard_scenario());
    let home = Home::new();
    let s = settings(Some(&home));
    let add = [
        "session",
        "add",
        "corp",
        "--start-url",
        "https://d-0000000000.awsapps.com/start",
        "--sso-region",
        "us-east-1",
    ];
    let ro = home.aws("config");
    std::fs::write(&ro, "# mine\n").unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).unwrap();
    /// (snapshot name, arguments, environment)
    type Case<'a> = (&'a str, Vec<&'a str>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        ("error-read-only-config", add.to_vec(), vec![]),
        ("error-config-not-a-file", add.to_vec(), vec![("AWS_CONFIG_FILE", "/dev/null")]),
        (
            "error-value-refused",
            vec!["session", "add", "corp\n[x]", "--start-url", "https://x", "--sso-region", "us-east-1"],
            vec![],
        ),
    ];
    for (name, args, env) in cases {
        let mut cmd = home.command_with(binary("aws-sso-sync"), &sb, None);
        cmd.args(&args).envs(env);
        let (code, _, err) = run(&mut cmd);
        s.bind(|| insta::assert_snapshot!(name, format!("exit {code}\n{err}")));
    }
    home.credentials(&format!("\u{feff}{ALICE_CREDS}"));
    let mut cmd = home.command_with(binary("aws-whoami"), &sb, None);
    cmd.args(["--profile", "alice", "--no-alias"]);
    let (code, _, err) = run(&mut cmd);
    s.bind(|| insta::assert_snapshot!("error-bom", format!("exit {code}\n{err}")));
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o600)).unwrap();
    home.credentials("").config("[profile proc]\ncredential_process = sh -c 'echo denied >&2; exit 7'\n");
    let mut cmd = home.command_with(binary("aws-whoami"), &sb, None);
    cmd.args(["--profile", "proc", "--no-alias"]);
    let (code, _, err) = run(&mut cmd);
    s.bind(|| insta::assert_snapshot!("error-credential-process-failed", format!("exit {code}\n{err}")));
}

/// `aws-whoami --explain`: no network needed (no sandbox), every kind of chain, and the JSON form.
#[test]
fn explain_texts() {
    let home = Home::new();
    home.credentials(ALICE_CREDS).config(
        "[profile admin]\nrole_arn = arn:aws:iam::222222222222:role/admin\nsource_profile = alice\nmfa_serial = arn:aws:iam::111111111111:mfa/alice\n\
         [profile deployer]\nrole_arn = arn:aws:iam::222222222222:role/deployer\nsource_profile = admin\nduration_seconds = 3600\n\
         [profile auditor]\nrole_arn = arn:aws:iam::333333333333:role/auditor\nsource_profile = deployer\nrole_session_name = me\n\
         [profile dev]\nsso_session = corp\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\nregion = eu-west-1\n\
         [sso-session corp]\nsso_start_url = https://d-0000000000.awsapps.com/start\nsso_region = us-east-1\n\
         [profile a]\nrole_arn = arn:aws:iam::222222222222:role/a\nsource_profile = b\n\
         [profile b]\nrole_arn = arn:aws:iam::222222222222:role/b\nsource_profile = a\n\
         [profile orphan]\nrole_arn = arn:aws:iam::222222222222:role/x\nsource_profile = nobody\n",
    );
    let s = settings(Some(&home));
    for (name, profile, format) in [
        ("explain-static-keys", "alice", "table"),
        ("explain-three-hops-with-mfa", "auditor", "table"),
        ("explain-sso", "dev", "table"),
        ("explain-loop", "a", "table"),
        ("explain-missing-source-profile", "orphan", "table"),
        ("explain-json", "auditor", "json"),
    ] {
        let mut cmd = home.command(binary("aws-whoami"));
        cmd.args(["--explain", "--profile", profile, "--output", format]);
        let (code, out, err) = run(&mut cmd);
        s.bind(|| insta::assert_snapshot!(name, format!("exit {code}\n{out}{err}")));
    }
}
