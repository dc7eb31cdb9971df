//! Shell and AWS CLI integration: completions (current, and completing the user's profiles), man
//! pages, install/uninstall with the alias block, `aws whoami` through the AWS CLI's alias, and
//! `--version` with the git revision.

use e2e::harness::{Home, Sandbox, binary, fixture::*, run, standard_scenario, venv_bin, workspace_root};

const BINS: [&str; 4] = ["aws-whoami", "aws-assume", "aws-sso-sync", "aws-keyaudit"];

fn dev_tasks() -> std::path::PathBuf {
    binary("dev-tasks")
}

#[test]
fn checked_in_completions_are_current() {
    let home = Home::new();
    for bin in BINS {
        for (shell, file) in [
            ("bash", format!("{bin}.bash")),
            ("zsh", format!("_{bin}")),
            ("fish", format!("{bin}.fish")),
            ("powershell", format!("{bin}.ps1")),
            ("elvish", format!("{bin}.elv")),
        ] {
            let mut cmd = home.command(binary(bin));
            cmd.env("COMPLETE", shell);
            let (code, out, err) = run(&mut cmd);
            assert_eq!(code, 0, "{err}");
            let checked_in =
                std::fs::read_to_string(workspace_root().join("completions").join(&file)).unwrap_or_default();
            assert!(out == checked_in, "completions/{file} is stale: run `make completions`");
        }
    }
}

#[test]
fn profiles_and_sso_sessions_complete_from_the_users_config() {
    let home = Home::new();
    home.config("[profile alpha]\nregion = us-east-1\n[profile beta]\nregion = us-east-1\n[sso-session corp]\nsso_start_url = https://x/start\nsso_region = us-east-1\n");
    let complete = |bin: &str, words: &[&str]| {
        let mut cmd = home.command(binary(bin));
        cmd.env("COMPLETE", "fish").arg("--").arg(bin).args(words);
        let (code, out, err) = run(&mut cmd);
        assert_eq!(code, 0, "{err}");
        out.lines().map(|l| l.split('\t').next().unwrap().to_string()).collect::<Vec<_>>()
    };
    let first = complete("aws-assume", &[""]);
    assert!(first.contains(&"alpha".to_string()) && first.contains(&"beta".to_string()), "{first:?}");
    assert_eq!(complete("aws-whoami", &["--profile", ""]), ["alpha", "beta"]);
    assert_eq!(complete("aws-keyaudit", &["--profile", "a"]), ["alpha"]);
    assert_eq!(complete("aws-sso-sync", &["login", "--sso-session", ""]), ["corp"]);
}

#[test]
fn install_and_uninstall_touch_only_their_own_files_and_aliases() {
    let home = Home::new();
    let prefix = home.path().join("prefix");
    let alias = home.aws("cli/alias");
    std::fs::create_dir_all(alias.parent().unwrap()).unwrap();
    let mine =
        "# my aliases\n[toplevel]\nhello = !echo hi\nwhoami = !echo mine\n\n[command ec2]\nlist = describe-instances\n";
    std::fs::write(&alias, mine).unwrap();
    let bins = binary("aws-whoami").parent().unwrap().to_path_buf();
    let install = || {
        let mut cmd = home.command(dev_tasks());
        cmd.arg("install").arg(&prefix).arg(&bins).arg(&alias);
        run(&mut cmd)
    };
    let (code, out, err) = install();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("installed") && err.contains("kept your own `whoami` alias"), "{out}{err}");
    for bin in BINS {
        assert!(prefix.join("bin").join(bin).exists());
        assert!(prefix.join(format!("share/bash-completion/completions/{bin}")).exists());
        assert!(prefix.join(format!("share/zsh/site-functions/_{bin}")).exists());
        assert!(prefix.join(format!("share/fish/vendor_completions.d/{bin}.fish")).exists());
        let man = std::fs::read_to_string(prefix.join(format!("share/man/man1/{bin}.1"))).unwrap();
        assert!(man.starts_with(".ie") || man.contains(".TH"), "{bin}.1");
    }
    let after = std::fs::read_to_string(&alias).unwrap();
    assert!(after.starts_with("# my aliases\n[toplevel]\nhello = !echo hi\nwhoami = !echo mine\n# >>> aws-companions aliases >>>\nassume = !aws-assume\n"), "{after}");
    assert!(after.ends_with("\n[command ec2]\nlist = describe-instances\n"), "{after}");
    let (code, _, _) = install();
    assert_eq!(code, 0);
    assert_eq!(std::fs::read_to_string(&alias).unwrap(), after, "idempotent");
    let mut cmd = home.command(dev_tasks());
    cmd.arg("uninstall").arg(&prefix).arg(&alias);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("removed"));
    assert_eq!(std::fs::read_to_string(&alias).unwrap(), mine, "exactly our block is gone");
    assert!(!prefix.join("bin/aws-whoami").exists());
}

#[test]
fn aws_whoami_through_the_aws_cli_alias() {
    let sandbox = Sandbox::start(standard_scenario());
    let home = Home::new();
    let alias = home.aws("cli/alias");
    let mut cmd = home.command(dev_tasks());
    cmd.args(["alias", "install"]).arg(&alias);
    assert_eq!(run(&mut cmd).0, 0);
    let bins = binary("aws-whoami").parent().unwrap().to_path_buf();
    let mut aws = home.command_with(venv_bin("aws"), &sandbox, None);
    aws.args(["whoami", "--no-alias", "--output", "json"])
        .env("PATH", format!("{}:{}", bins.display(), std::env::var("PATH").unwrap()))
        .env("AWS_ACCESS_KEY_ID", ALICE_KEY)
        .env("AWS_SECRET_ACCESS_KEY", ALICE_SECRET)
        .env("AWS_DEFAULT_REGION", "us-east-1");
    let (code, out, err) = run(&mut aws);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Arn"], "arn:aws:iam::111111111111:user/alice");
}

#[test]
fn version_names_the_git_revision() {
    let home = Home::new();
    for bin in BINS {
        let (code, out, _) = run(home.command(binary(bin)).arg("--version"));
        assert_eq!(code, 0);
        let rev = out.split('(').nth(1).unwrap_or("").trim_end_matches([')', '\n']).trim_end_matches("-dirty");
        assert!(
            rev == "unknown revision" || (rev.len() == 12 && rev.chars().all(|c| c.is_ascii_hexdigit())),
            "{bin}: {out}"
        );
    }
}

#[test]
fn the_demo_tells_the_whole_story() {
    let home = Home::new();
    let target = binary("aws-whoami").parent().unwrap().parent().unwrap().to_path_buf();
    let mut cmd = home.command("bash");
    cmd.arg(workspace_root().join("tests/sandbox/demo.sh")).env("CARGO_TARGET_DIR", &target);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{out}\n{err}");
    for want in [
        "sso-session corp: 6 added",
        "2 of 9 profiles failed",
        "assumed-role/deployer/",
        "KA-ROTATE",
        "KA-NO-IP-RESTRICTION",
        "(exit 1: findings at or above --fail-on high)",
        "7 findings muted by the ignore file.",
    ] {
        assert!(out.contains(want) || err.contains(want), "the demo should show {want:?}:\n{out}\n{err}");
    }
    assert!(!out.contains("example/alice/secret") && !err.contains("example/alice/secret"));
    assert!(
        !home.path().join(".aws").read_dir().unwrap().any(|e| e.unwrap().file_name() != "config"),
        "the demo used its own HOME"
    );
}
