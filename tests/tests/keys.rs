//! `aws-assume keys` end to end: a real Secret Service (gnome-keyring on a private D-Bus bus) and
//! the encrypted file, the AWS CLI and boto3 resolving moved profiles through the written
//! `credential_process`, the one-prompt MFA chain from a stored key, rotation against moto.

use std::process::Command;

use e2e::harness::{Home, Keyring, Moto, Sandbox, binary, fixture::*, run, standard_scenario, venv_bin};
use serde_json::Value;

const OTHER: &str = "[other]\naws_access_key_id = AKIAEXAMPLEOTHER0001\naws_secret_access_key = other/secret\n";

fn credentials() -> String {
    format!(
        "# work keys\n[alice]\naws_access_key_id = {ALICE_KEY}\naws_secret_access_key = {ALICE_SECRET}\nregion_hint = kept # unknown keys stay\n\n{OTHER}"
    )
}

fn config(mfa: &str) -> String {
    format!(
        "# my profiles\n[profile alice]\nregion = eu-west-1\n\n[profile admin]\nrole_arn = arn:aws:iam::222222222222:role/admin\nsource_profile = alice\nmfa_serial = {mfa}\n\
         [profile prod-admin]\nrole_arn = arn:aws:iam::333333333333:role/admin\nsource_profile = alice\nmfa_serial = {mfa}\n\
         [profile vendor]\nrole_arn = arn:aws:iam::333333333333:role/vendor\nsource_profile = alice\nmfa_serial = {mfa}\nexternal_id = example-external-id\n\
         [profile ro]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = alice\n"
    )
}

struct World {
    sandbox: Sandbox,
    home: Home,
    keyring: Option<Keyring>,
    env: Vec<(String, String)>,
}

impl World {
    fn new(keyring: bool, env: &[(&str, &str)]) -> Self {
        let w = World {
            sandbox: Sandbox::start(standard_scenario()),
            home: Home::new(),
            keyring: keyring.then(Keyring::start),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        w.home.credentials(&credentials()).config(&config(ALICE_MFA));
        w
    }

    fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = self.home.command_with(program, &self.sandbox, None);
        if let Some(k) = &self.keyring {
            k.apply(&mut c);
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    fn tool(&self, bin: &str, args: &[&str]) -> (i32, String, String) {
        let mut c = self.cmd(binary(bin));
        c.args(args);
        run(&mut c)
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.home.aws(name)).unwrap_or_default()
    }

    /// Every file under ~/.aws that holds `needle` (backups included).
    fn holding(&self, needle: &str) -> Vec<String> {
        fn walk(dir: &std::path::Path, needle: &str, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, needle, out);
                } else if std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes())) {
                    out.push(p.display().to_string());
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.home.path().join(".aws"), needle, &mut out);
        out
    }

    /// awscli v1 or boto3 resolving `profile` (through credential_process): the caller's ARN.
    fn sdk_arn(&self, profile: &str) -> (String, String) {
        let mut aws = self.cmd(venv_bin("aws"));
        aws.args(["sts", "get-caller-identity", "--profile", profile, "--output", "json"])
            .env("AWS_DEFAULT_REGION", "us-east-1");
        let (code, out, err) = run(&mut aws);
        assert_eq!(code, 0, "aws CLI: {err}");
        let cli = serde_json::from_str::<Value>(&out).unwrap()["Arn"].as_str().unwrap().to_string();
        let mut py = self.cmd(venv_bin("python"));
        py.args([
            "-c",
            &format!("import boto3; print(boto3.Session(profile_name='{profile}', region_name='us-east-1').client('sts').get_caller_identity()['Arn'])"),
        ]);
        let (code, out, err) = run(&mut py);
        assert_eq!(code, 0, "boto3: {err}");
        (cli, out.trim().to_string())
    }
}

/// The moved profile keeps working everywhere; nothing of the key is left in plaintext.
fn moved_profile_works(w: &World) {
    let (code, out, err) = w.tool("aws-assume", &["keys", "add", "alice", "--from-credentials-file"]);
    assert_eq!(code, 0, "{err}");
    let added: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(added["AccessKeyId"], ALICE_KEY);
    assert_eq!(added["User"], "alice");
    // Only the two lines went; every other byte of the credentials file stayed.
    assert_eq!(
        w.file("credentials"),
        format!("# work keys\n[alice]\nregion_hint = kept # unknown keys stay\n\n{OTHER}")
    );
    assert!(w.holding(ALICE_SECRET).is_empty(), "plaintext left in {:?}", w.holding(ALICE_SECRET));
    let cfg = w.file("config");
    assert!(cfg.starts_with("# my profiles\n[profile alice]\nregion = eu-west-1\ncredential_process = "), "{cfg}");
    assert!(cfg.contains("keys credential-process alice\n"), "{cfg}");
    // Our tools, the AWS CLI and boto3; a role sourced from it too.
    let (code, out, err) = w.tool("aws-whoami", &["--profile", "alice", "--output", "json", "--no-alias"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["Arn"], "arn:aws:iam::111111111111:user/alice");
    let (cli, py) = w.sdk_arn("alice");
    assert_eq!(
        (cli.as_str(), py.as_str()),
        ("arn:aws:iam::111111111111:user/alice", "arn:aws:iam::111111111111:user/alice")
    );
    let (cli, py) = w.sdk_arn("ro");
    assert!(
        cli.starts_with("arn:aws:sts::222222222222:assumed-role/readonly/")
            && py.starts_with("arn:aws:sts::222222222222:assumed-role/readonly/"),
        "{cli} {py}"
    );
    // Three MFA roles from the stored key: one code.
    let code0 = w.sandbox.totp(ALICE_MFA, 0);
    for (i, p) in ["admin", "prod-admin", "vendor"].into_iter().enumerate() {
        let mut args = vec![p, "--format", "json"];
        if i == 0 {
            args.extend(["--mfa-code", code0.as_str()]);
        }
        let (code, _, err) = w.tool("aws-assume", &args);
        assert_eq!(code, 0, "{p}: {err}");
    }
    assert_eq!(w.sandbox.count("GetSessionToken"), 1, "one MFA session for three roles");
    // The list: profile, key, backend, user, age; no secret.
    let (code, out, err) = w.tool("aws-assume", &["keys", "list", "--output", "json"]);
    assert_eq!(code, 0, "{err}");
    let list: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["Profile"], "alice");
    assert_eq!(list[0]["AccessKeyId"], ALICE_KEY);
    assert_eq!(list[0]["User"], "alice");
    // Bad input.
    let (code, _, err) = w.tool("aws-assume", &["keys", "add", "alice", "--from-credentials-file"]);
    assert_eq!(code, 2, "duplicate: {err}");
    assert!(err.contains("already has a key") && err.contains("keys rotate alice"), "{err}");
    let (code, _, err) = w.tool("aws-assume", &["keys", "add", "nobody", "--from-credentials-file"]);
    assert_eq!(code, 2, "unknown: {err}");
    let (code, _, err) = w.tool("aws-assume", &["keys", "add", "ro", "--from-credentials-file"]);
    assert_eq!(code, 2, "no keys: {err}");
    assert!(err.contains("no aws_access_key_id"), "{err}");
}

fn removed_with_restore(w: &World) {
    let (code, _, err) = w.tool("aws-assume", &["keys", "remove", "alice", "--restore"]);
    assert_eq!(code, 0, "{err}");
    let creds = w.file("credentials");
    assert!(creds.contains(ALICE_KEY) && creds.contains(ALICE_SECRET), "{creds}");
    assert!(!w.file("config").contains("credential_process"));
    let (code, _, _) = w.tool("aws-assume", &["keys", "credential-process", "alice"]);
    assert_eq!(code, 2, "no longer stored");
    let (code, out, _) = w.tool("aws-whoami", &["--profile", "alice", "--output", "json", "--no-alias"]);
    assert_eq!(code, 0);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["Arn"], "arn:aws:iam::111111111111:user/alice");
}

#[test]
fn keys_move_into_the_os_keyring_and_every_tool_and_sdk_still_resolves() {
    let w = World::new(true, &[]);
    moved_profile_works(&w);
    // The secret is in the Secret Service, under our service name.
    let kr = w.keyring.as_ref().unwrap();
    let out = kr.secret_tool(&["search", "--all", "--unlock", "service", "aws-companions"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains(ALICE_KEY) && text.contains(ALICE_SECRET), "secret-tool: {text}");
    removed_with_restore(&w);
    let out = kr.secret_tool(&["search", "--all", "service", "aws-companions"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains(ALICE_KEY), "removed from the keyring");
}

#[test]
fn keys_move_into_the_encrypted_file_the_same_way() {
    let w = World::new(
        false,
        &[("AWS_COMPANIONS_KEY_STORE", "file"), ("AWS_COMPANIONS_KEY_STORE_PASSPHRASE", "correct horse battery")],
    );
    moved_profile_works(&w);
    let store = w.home.path().join(".aws/aws-companions/keys.age");
    let bytes = std::fs::read(&store).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1"), "an age file");
    // A wrong passphrase: exit 3, the backend named, no secret.
    let mut c = w.cmd(binary("aws-assume"));
    c.args(["keys", "credential-process", "alice"]).env("AWS_COMPANIONS_KEY_STORE_PASSPHRASE", "wrong");
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 3, "{err}");
    assert!(out.is_empty() && err.contains("encrypted file") && err.contains("hint:"), "{err}");
    removed_with_restore(&w);
}

#[test]
fn an_absent_keyring_is_exit_3_naming_the_backend_and_changes_nothing() {
    let w = World::new(false, &[("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")]);
    let before = (w.file("credentials"), w.file("config"));
    let (code, _, err) = w.tool("aws-assume", &["keys", "add", "alice", "--from-credentials-file"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("Secret Service") && err.contains("--key-store file"), "{err}");
    assert_eq!((w.file("credentials"), w.file("config")), before, "nothing changed");
}

/// moto's IAM and STS: a user `deploy` with one key, in the profile `deploy`.
fn rotation_world(env: &[(&str, &str)]) -> (World, Moto, String) {
    let w = World::new(false, env);
    let moto = Moto::start();
    let mut py = w.home.command_with(venv_bin("python"), &w.sandbox, Some(&moto));
    py.env("AWS_ACCESS_KEY_ID", "testing").env("AWS_SECRET_ACCESS_KEY", "testing").env("AWS_DEFAULT_REGION", "us-east-1").args([
        "-c",
        "import boto3, os\niam = boto3.client('iam', endpoint_url=os.environ['AWS_ENDPOINT_URL_IAM'])\niam.create_user(UserName='deploy')\nk = iam.create_access_key(UserName='deploy')['AccessKey']\nprint(k['AccessKeyId'], k['SecretAccessKey'])",
    ]);
    let (code, out, err) = run(&mut py);
    assert_eq!(code, 0, "{err}");
    let (id, secret) = out.trim().split_once(' ').unwrap();
    w.home.credentials(&format!(
        "# keys\n[deploy]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n\n{OTHER}"
    ));
    w.home.config("[profile deploy]\nregion = us-east-1\n");
    (w, moto, id.to_string())
}

fn on_moto(w: &World, moto: &Moto, args: &[&str]) -> (i32, String, String) {
    let mut c = w.cmd(binary("aws-assume"));
    c.args(args).env("AWS_ENDPOINT_URL_IAM", &moto.url).env("AWS_ENDPOINT_URL_STS", &moto.url);
    run(&mut c)
}

fn moto_keys(w: &World, moto: &Moto) -> Vec<String> {
    let mut py = w.home.command_with(venv_bin("python"), &w.sandbox, Some(moto));
    py.env("AWS_ACCESS_KEY_ID", "testing").env("AWS_SECRET_ACCESS_KEY", "testing").env("AWS_DEFAULT_REGION", "us-east-1").args([
        "-c",
        "import boto3, os\niam = boto3.client('iam', endpoint_url=os.environ['AWS_ENDPOINT_URL_IAM'])\nprint(' '.join(sorted(k['AccessKeyId'] for k in iam.list_access_keys(UserName='deploy')['AccessKeyMetadata'])))",
    ]);
    let (code, out, err) = run(&mut py);
    assert_eq!(code, 0, "{err}");
    out.split_whitespace().map(str::to_string).collect()
}

#[test]
fn rotation_replaces_the_stored_key_and_deletes_the_old_one() {
    let (w, moto, old) =
        rotation_world(&[("AWS_COMPANIONS_KEY_STORE", "file"), ("AWS_COMPANIONS_KEY_STORE_PASSPHRASE", "pass phrase")]);
    let (code, _, err) = on_moto(&w, &moto, &["keys", "add", "deploy", "--from-credentials-file"]);
    assert_eq!(code, 0, "{err}");
    // aws-keyaudit --local: the stored key listed with its age, the plaintext one with the fix.
    let mut audit = w.cmd(binary("aws-keyaudit"));
    audit
        .args(["--local", "--output", "json"])
        .env("AWS_ENDPOINT_URL_IAM", &moto.url)
        .env("AWS_ENDPOINT_URL_STS", &moto.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing");
    let (code, out, err) = run(&mut audit);
    assert!(code == 0 || code == 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let local: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"].as_str().unwrap().starts_with("KA-LOCAL"))
        .collect();
    let stored = local.iter().find(|f| f["key"] == old.as_str()).expect("the stored key is listed");
    assert_eq!(stored["check"], "KA-LOCAL-STORED", "{stored}");
    assert!(
        stored["detail"].as_str().unwrap().contains("key store (file) [deploy]")
            && stored["detail"].as_str().unwrap().contains("created 0 days ago"),
        "{stored}"
    );
    let plain = local.iter().find(|f| f["key"] == "AKIAEXAMPLEOTHER0001").expect("the plaintext key is listed");
    assert_eq!(plain["check"], "KA-LOCAL-LONG-LIVED");
    let detail = plain["detail"].as_str().unwrap();
    assert!(
        detail.contains("hint: `aws-assume keys add other --from-credentials-file`")
            && detail.contains("`aws-assume keys rotate other`"),
        "{detail}"
    );
    // A refused CreateAccessKey changes nothing.
    moto.control("faults", Some(serde_json::json!({"deny_actions": ["CreateAccessKey"]})));
    let (code, _, err) = on_moto(&w, &moto, &["keys", "rotate", "deploy"]);
    assert_ne!(code, 0);
    assert!(err.contains("CreateAccessKey") && err.contains("nothing was changed"), "{err}");
    assert_eq!(moto_keys(&w, &moto), std::slice::from_ref(&old));
    moto.control("faults", Some(serde_json::json!({})));
    // Rotated: the old key deleted in IAM, the new one stored and answering.
    let (code, out, err) = on_moto(&w, &moto, &["keys", "rotate", "deploy"]);
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    let new = r["NewAccessKeyId"].as_str().unwrap().to_string();
    assert_eq!((r["OldAccessKeyId"].as_str(), r["OldDeleted"].as_bool()), (Some(old.as_str()), Some(true)));
    assert_eq!(moto_keys(&w, &moto), std::slice::from_ref(&new));
    let (code, out, _) = on_moto(&w, &moto, &["keys", "credential-process", "deploy"]);
    assert_eq!(code, 0);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["AccessKeyId"], new.as_str());
    // Two keys already: the error names the other one; nothing changes.
    let mut py = w.home.command_with(venv_bin("python"), &w.sandbox, Some(&moto));
    py.env("AWS_ACCESS_KEY_ID", "testing").env("AWS_SECRET_ACCESS_KEY", "testing").env("AWS_DEFAULT_REGION", "us-east-1").args([
        "-c",
        "import boto3, os\nprint(boto3.client('iam', endpoint_url=os.environ['AWS_ENDPOINT_URL_IAM']).create_access_key(UserName='deploy')['AccessKey']['AccessKeyId'])",
    ]);
    let (_, second, _) = run(&mut py);
    let second = second.trim().to_string();
    let (code, _, err) = on_moto(&w, &moto, &["keys", "rotate", "deploy"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&second) && err.contains("nothing was changed"), "{err}");
    let mut both = vec![new.clone(), second];
    both.sort();
    assert_eq!(moto_keys(&w, &moto), both);
}

#[test]
fn rotation_of_a_plaintext_key_rewrites_it_in_place() {
    let (w, moto, old) = rotation_world(&[]);
    let (code, out, err) = on_moto(&w, &moto, &["keys", "rotate", "deploy"]);
    assert_eq!(code, 0, "{err}");
    let new = serde_json::from_str::<Value>(&out).unwrap()["NewAccessKeyId"].as_str().unwrap().to_string();
    let creds = w.file("credentials");
    assert!(
        creds.starts_with(&format!("# keys\n[deploy]\naws_access_key_id = {new}\naws_secret_access_key = ")),
        "{creds}"
    );
    assert!(creds.ends_with(&format!("\n\n{OTHER}")) && !creds.contains(&old), "{creds}");
    assert_eq!(moto_keys(&w, &moto), [new]);
}

#[test]
fn rotation_where_iam_requires_mfa_runs_in_the_mfa_session() {
    let (w, moto, old) = rotation_world(&[]);
    w.home.config("[profile deploy]\nregion = us-east-1\n[profile deploy-admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = deploy\nmfa_serial = arn:aws:iam::123456789012:mfa/deploy\n");
    moto.control(
        "faults",
        Some(serde_json::json!({"mfa_actions": ["ListAccessKeys", "CreateAccessKey", "DeleteAccessKey"]})),
    );
    let (code, out, err) = on_moto(&w, &moto, &["keys", "rotate", "deploy", "--mfa-code", "123456"]);
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["OldDeleted"], true, "{r}");
    let new = r["NewAccessKeyId"].as_str().unwrap().to_string();
    moto.control("faults", Some(serde_json::json!({})));
    assert_eq!(moto_keys(&w, &moto), [new], "old {old} deleted through the MFA session");
    // The session was cached where the role chain finds it: one code for both.
    let cached = std::fs::read_dir(w.home.path().join(".aws/cli/cache")).map(|d| d.count()).unwrap_or(0);
    assert!(cached >= 1, "the MFA session is cached");
}

/// Killed at any point of a rotation, the profile still has a key IAM knows.
#[test]
fn a_rotation_killed_midway_leaves_a_working_key() {
    for delay_ms in [150u64, 450, 750, 1050] {
        let (w, moto, _) = rotation_world(&[
            ("AWS_COMPANIONS_KEY_STORE", "file"),
            ("AWS_COMPANIONS_KEY_STORE_PASSPHRASE", "pass phrase"),
        ]);
        let (code, _, err) = on_moto(&w, &moto, &["keys", "add", "deploy", "--from-credentials-file"]);
        assert_eq!(code, 0, "{err}");
        // Every call takes 100 ms, so the kill lands between different steps each time.
        moto.control("faults", Some(serde_json::json!({"latency_ms": 100})));
        let mut c = w.cmd(binary("aws-assume"));
        c.args(["keys", "rotate", "deploy"])
            .env("AWS_ENDPOINT_URL_IAM", &moto.url)
            .env("AWS_ENDPOINT_URL_STS", &moto.url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut child = c.spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        moto.control("faults", Some(serde_json::json!({})));
        let (code, out, err) = on_moto(&w, &moto, &["keys", "credential-process", "deploy"]);
        assert_eq!(code, 0, "after a kill at {delay_ms} ms: {err}");
        let stored = serde_json::from_str::<Value>(&out).unwrap()["AccessKeyId"].as_str().unwrap().to_string();
        assert!(
            moto_keys(&w, &moto).contains(&stored),
            "after a kill at {delay_ms} ms the stored key {stored} is one IAM has"
        );
    }
}
