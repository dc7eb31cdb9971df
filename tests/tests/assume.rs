//! aws-assume end to end, against the sandbox's STS that really checks MFA codes.

use std::path::PathBuf;
use std::process::Stdio;

use e2e::harness::{Home, Sandbox, binary, files_with_modes, fixture::*, run, standard_scenario, venv_bin};
use serde_json::Value;

const CREDS: &str = "[alice]\naws_access_key_id = AKIAEXAMPLEALICE0001\naws_secret_access_key = example/alice/secret/000000000000000000000\n";

/// A home whose config chains alice → admin (MFA) → deployer → prod auditor, plus other roles,
/// and an `mfa_process` that fetches a fresh code from the sandbox and counts its calls.
struct World {
    sandbox: Sandbox,
    home: Home,
    counter: PathBuf,
}

impl World {
    fn new() -> Self {
        Self::with(standard_scenario())
    }

    fn with(scenario: e2e::emulator::scenario::Scenario) -> Self {
        let sandbox = Sandbox::start(scenario);
        let home = Home::new();
        let counter = home.path().join("mfa-calls");
        let script = home.path().join("mfa.sh");
        // Offsets 0, +1, -1 give three distinct codes that are all valid right now.
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nn=$(cat {c} 2>/dev/null | wc -l)\necho \"args:$#\" >> {c}\nset -- 0 1 -1\nshift $((n % 3))\ncurl -sf \"{url}/_sandbox/totp?serial=$AWS_MFA_SERIAL&offset=$1\" | sed 's/.*\"code\":\"\\([0-9]*\\)\".*/\\1/'\n",
                c = counter.display(),
                url = sandbox.url
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        home.credentials(CREDS).config(&format!(
            "[profile admin]\nrole_arn = arn:aws:iam::222222222222:role/admin\nsource_profile = alice\nmfa_serial = {ALICE_MFA}\nmfa_process = {s}\nregion = eu-west-1\n\
             [profile deployer]\nrole_arn = arn:aws:iam::222222222222:role/deployer\nsource_profile = admin\n\
             [profile auditor]\nrole_arn = arn:aws:iam::333333333333:role/auditor\nsource_profile = deployer\nrole_session_name = audit\n\
             [profile prod-admin]\nrole_arn = arn:aws:iam::333333333333:role/admin\nsource_profile = alice\nmfa_serial = {ALICE_MFA}\nmfa_process = {s}\n\
             [profile vendor]\nrole_arn = arn:aws:iam::333333333333:role/vendor\nsource_profile = alice\nmfa_serial = {ALICE_MFA}\nmfa_process = {s}\nexternal_id = example-external-id\n\
             [profile ro]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = alice\n\
             [profile long]\nrole_arn = arn:aws:iam::222222222222:role/deployer\nsource_profile = admin\nduration_seconds = 7200\n",
            s = script.display()
        ));
        Self { sandbox, home, counter }
    }

    fn assume(&self, args: &[&str]) -> (i32, String, String) {
        let mut cmd = self.home.command_with(binary("aws-assume"), &self.sandbox, None);
        cmd.args(args);
        run(&mut cmd)
    }

    fn mfa_calls(&self) -> usize {
        std::fs::read_to_string(&self.counter).map(|s| s.lines().count()).unwrap_or(0)
    }

    fn cache_files(&self) -> Vec<PathBuf> {
        files_with_modes(&self.home.path().join(".aws/cli/cache"))
            .into_iter()
            .map(|(p, _)| p)
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect()
    }
}

fn process_json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[test]
fn three_hop_chain_with_mfa_then_cache_with_no_prompt_and_no_call() {
    let w = World::new();
    let (code, out, err) = w.assume(&["auditor", "--format", "process"]);
    assert_eq!(code, 0, "{err}");
    let v = process_json(&out);
    assert_eq!(v["Version"], 1);
    assert!(v["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    assert!(v["Expiration"].as_str().unwrap().ends_with('Z'));
    assert_eq!(v["AccountId"], "333333333333");
    assert_eq!(w.mfa_calls(), 1);
    assert_eq!(
        std::fs::read_to_string(&w.counter).unwrap().trim(),
        "args:0",
        "mfa_process gets the serial in its environment, nothing in argv"
    );
    assert_eq!(w.sandbox.count("GetSessionToken"), 1, "one MFA session...");
    assert_eq!(w.sandbox.count("AssumeRole"), 3, "...then three hops without codes");
    assert!(
        w.sandbox
            .requests()
            .iter()
            .filter(|r| r.operation == "AssumeRole")
            .all(|r| !r.params.contains_key("TokenCode"))
    );
    assert!(!err.contains(ALICE_SECRET) && !err.contains(v["SecretAccessKey"].as_str().unwrap()), "{err}");
    // Second run: nothing asked, nothing called.
    w.sandbox.clear_requests();
    let (code, out2, _) = w.assume(&["auditor", "--format", "process"]);
    assert_eq!(code, 0);
    assert_eq!(process_json(&out2)["AccessKeyId"], v["AccessKeyId"]);
    assert_eq!(w.mfa_calls(), 1);
    assert!(w.sandbox.requests().is_empty(), "{:?}", w.sandbox.requests());
    // --refresh assumes again (the MFA session is still good: no new code).
    let (code, out3, _) = w.assume(&["auditor", "--format", "process", "--refresh"]);
    assert_eq!(code, 0);
    assert_ne!(process_json(&out3)["AccessKeyId"], v["AccessKeyId"]);
    assert_eq!(w.sandbox.count("AssumeRole"), 3);
    assert_eq!(w.mfa_calls(), 1);
}

#[test]
fn three_roles_with_one_mfa_serial_cost_one_prompt() {
    let w = World::new();
    for p in ["admin", "prod-admin", "vendor"] {
        let (code, _, err) = w.assume(&[p, "--format", "json"]);
        assert_eq!(code, 0, "{p}: {err}");
    }
    assert_eq!(w.mfa_calls(), 1);
    assert_eq!(w.sandbox.count("GetSessionToken"), 1);
    assert_eq!(w.sandbox.count("AssumeRole"), 3);
    // Without the MFA session, each role asks.
    let w = World::new();
    for p in ["admin", "prod-admin", "vendor"] {
        let (code, _, err) = w.assume(&[p, "--format", "json", "--no-mfa-session"]);
        assert_eq!(code, 0, "{p}: {err}");
    }
    assert_eq!(w.mfa_calls(), 3);
    assert_eq!(w.sandbox.count("GetSessionToken"), 0);
}

#[test]
fn a_wrong_code_is_exit_3_and_caches_nothing() {
    let w = World::new();
    let good = w.sandbox.totp(ALICE_MFA, 0);
    let wrong = if good == "123456" { "654321" } else { "123456" };
    let (code, out, err) = w.assume(&["admin", "--mfa-code", wrong, "--format", "process"]);
    assert_eq!(code, 3, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("MultiFactorAuthentication failed"), "{err}");
    assert!(w.cache_files().is_empty(), "{:?}", w.cache_files());
    let (code, _, err) = w.assume(&["admin", "--mfa-code", "12ab"]);
    assert_eq!(code, 2, "checked before any call: {err}");
    assert_eq!(w.sandbox.count("GetSessionToken"), 1);
}

#[test]
fn the_prompt_uses_the_terminal_even_when_output_is_captured() {
    let w = World::new();
    // No mfa_process for this profile: it must prompt on /dev/tty. `script` gives it a terminal
    // while stdout and stderr go to files, as under credential_process.
    let cfg = std::fs::read_to_string(w.home.aws("config")).unwrap();
    w.home.config(&format!("{cfg}[profile tty]\nrole_arn = arn:aws:iam::222222222222:role/admin\nsource_profile = alice\nmfa_serial = {ALICE_MFA}\n"));
    let out = w.home.path().join("out.json");
    let errf = w.home.path().join("err.txt");
    let code = w.sandbox.totp(ALICE_MFA, 0);
    let inner =
        format!("{} tty --format process > {} 2> {}", binary("aws-assume").display(), out.display(), errf.display());
    let mut cmd = w.home.command_with("script", &w.sandbox, None);
    cmd.args(["-qec", &inner, "/dev/null"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut screen = e2e::harness::Screen::new(child.stdout.take().unwrap());
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        // Type only once the prompt is on the screen (no timing guesses).
        let prompt = format!("Enter MFA code for {ALICE_MFA}");
        screen.wait_for(&prompt, 1);
        stdin.write_all(b"12345\n").unwrap();
        screen.wait_for("try again", 1);
        screen.wait_for(&prompt, 2);
        stdin.write_all(format!("{code}\n").as_bytes()).unwrap();
    }
    child.wait().unwrap();
    let screen = screen.finish();
    assert!(screen.contains("Enter MFA code for arn:aws:iam::111111111111:mfa/alice"), "{screen}");
    assert!(screen.contains("6 digits; try again"), "{screen}");
    let v = process_json(&std::fs::read_to_string(&out).unwrap());
    assert!(v["AccessKeyId"].as_str().unwrap().starts_with("ASIA"), "{v}");
    assert_eq!(w.sandbox.count("GetSessionToken"), 1, "the short code never reached AWS");
}

#[test]
fn awscli_uses_aws_assume_as_credential_process() {
    let w = World::new();
    let cfg = std::fs::read_to_string(w.home.aws("config")).unwrap();
    w.home.config(&format!(
        "{cfg}[profile via-process]\ncredential_process = {} auditor --format process\n",
        binary("aws-assume").display()
    ));
    let mut cmd = w.home.command_with(venv_bin("aws"), &w.sandbox, None);
    cmd.args(["sts", "get-caller-identity", "--profile", "via-process", "--output", "text", "--query", "Arn"])
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", w.home.aws("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", w.home.aws("credentials"));
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "arn:aws:sts::333333333333:assumed-role/auditor/audit");
}

#[test]
fn the_aws_cli_cache_is_reused_and_ours_is_the_aws_cli_format() {
    let w = World::new();
    // botocore (the AWS CLI's code) assumes `ro` and caches it...
    let script = "import os, botocore.session\nfrom botocore.credentials import JSONFileCache\ns = botocore.session.Session(profile='ro')\ns.get_component('credential_provider').get_provider('assume-role').cache = JSONFileCache(os.path.expanduser('~/.aws/cli/cache'))\nprint(s.get_credentials().get_frozen_credentials().access_key)";
    let mut py = w.home.command_with(venv_bin("python"), &w.sandbox, None);
    py.args(["-c", script])
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", w.home.aws("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", w.home.aws("credentials"));
    let (code, botocore_key, err) = run(&mut py);
    assert_eq!(code, 0, "{err}");
    assert_eq!(w.sandbox.count("AssumeRole"), 1);
    // ...and we serve the same credentials from that file.
    let (code, out, err) = w.assume(&["ro", "--format", "process"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(process_json(&out)["AccessKeyId"], botocore_key.trim());
    assert_eq!(w.sandbox.count("AssumeRole"), 1);
}

#[test]
fn exec_passes_exit_status_and_environment() {
    let w = World::new();
    let (code, out, err) = w.assume(&[
        "ro",
        "--",
        "sh",
        "-c",
        "echo \"$AWS_ACCESS_KEY_ID|${AWS_PROFILE-unset}|$AWS_ASSUME_PROFILE\"; exit 42",
    ]);
    assert_eq!(code, 42, "{err}");
    let parts: Vec<&str> = out.trim().split('|').collect();
    assert!(parts[0].starts_with("ASIA"), "{out}");
    assert_eq!(&parts[1..], ["unset", "ro"]);
    let (code, _, err) = w.assume(&["ro", "--", "/nonexistent/program"]);
    assert_eq!(code, 127, "{err}");
    // AWS_PROFILE set by the caller does not leak into the command.
    let mut cmd = w.home.command_with(binary("aws-assume"), &w.sandbox, None);
    cmd.args(["ro", "--", "sh", "-c", "echo ${AWS_PROFILE-unset}"]).env("AWS_PROFILE", "admin");
    let (code, out, _) = run(&mut cmd);
    assert_eq!((code, out.trim()), (0, "unset"));
}

#[test]
fn chained_durations_are_clamped_with_a_warning() {
    let w = World::new();
    let (code, _, err) = w.assume(&["long", "--format", "process"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("chained role") && err.contains("3600"), "{err}");
    let calls: Vec<_> = w.sandbox.requests().into_iter().filter(|r| r.operation == "AssumeRole").collect();
    assert_eq!(calls[1].params["DurationSeconds"], "3600");
}

#[test]
fn twenty_parallel_callers_single_flight() {
    let w = World::new();
    let spawn_all = |profile: &str| {
        let children: Vec<_> = (0..20)
            .map(|_| {
                let mut cmd = w.home.command_with(binary("aws-assume"), &w.sandbox, None);
                cmd.args([profile, "--format", "process"]).stdout(Stdio::piped()).stderr(Stdio::piped());
                cmd.spawn().unwrap()
            })
            .collect();
        let outs: Vec<_> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
        for o in &outs {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        outs.iter()
            .map(|o| process_json(&String::from_utf8_lossy(&o.stdout))["AccessKeyId"].as_str().unwrap().to_string())
            .collect::<std::collections::BTreeSet<_>>()
    };
    // No cache, MFA needed: one prompt, one MFA session, one AssumeRole, one answer for all.
    let keys = spawn_all("admin");
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(w.mfa_calls(), 1);
    assert_eq!(w.sandbox.count("GetSessionToken"), 1);
    assert_eq!(w.sandbox.count("AssumeRole"), 1);
    // Warm cache: zero calls.
    w.sandbox.clear_requests();
    assert_eq!(spawn_all("admin").len(), 1);
    assert!(w.sandbox.requests().is_empty());
}

#[test]
fn shell_output_is_safe_with_hostile_values() {
    let w = World::new();
    let pwned = w.home.path().join("pwned");
    // A credential_process is free to print anything; every value must come out quoted.
    let hostile = format!("AKIA'; touch {p}; echo '$(touch {p})`touch {p}`\\\"", p = pwned.display());
    let proc = w.home.path().join("hostile.sh");
    let json = serde_json::json!({"Version": 1, "AccessKeyId": hostile, "SecretAccessKey": "s'\"$HOME", "SessionToken": "t;`id`"});
    std::fs::write(&proc, format!("#!/bin/sh\ncat <<'EOF'\n{json}\nEOF\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&proc, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = std::fs::read_to_string(w.home.aws("config")).unwrap();
    w.home.config(&format!("{cfg}[profile hostile]\ncredential_process = {}\n", proc.display()));
    for format in ["env", "dotenv"] {
        let (code, out, err) = w.assume(&["hostile", "--format", format]);
        assert_eq!(code, 0, "{err}");
        let script = if format == "env" {
            format!("{out}\nprintf '%s|%s|%s' \"$AWS_ACCESS_KEY_ID\" \"$AWS_SECRET_ACCESS_KEY\" \"$AWS_SESSION_TOKEN\"")
        } else {
            format!(
                "set -a\n. /dev/stdin <<'EOF'\n{out}\nEOF\nprintf '%s|%s|%s' \"$AWS_ACCESS_KEY_ID\" \"$AWS_SECRET_ACCESS_KEY\" \"$AWS_SESSION_TOKEN\""
            )
        };
        let mut sh = w.home.command("bash");
        sh.args(["-c", &script]);
        let (code, values, err) = run(&mut sh);
        assert_eq!(code, 0, "{format}: {err}");
        assert_eq!(values, format!("{hostile}|s'\"$HOME|t;`id`"), "{format}");
        assert!(!pwned.exists(), "{format}: a value ran as code");
    }
    // A hostile region never gets that far: it is a configuration error naming the line.
    w.home.config(&format!("{cfg}[profile badregion]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = alice\nregion = us-east-1'; touch {}\n", pwned.display()));
    let (code, _, err) = w.assume(&["badregion", "--format", "env"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("region = us-east-1'") && err.contains("config:"), "{err}");
}

#[test]
fn init_gives_a_working_assume_function_and_completion() {
    let w = World::new();
    let bin_dir = binary("aws-assume").parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let script = "eval \"$(aws-assume init bash)\"\nassume ro 2>/dev/null\necho \"$AWS_ACCESS_KEY_ID ${AWS_PROFILE-unset}\"\n_assume_complete_test() { COMP_WORDS=(assume r); COMP_CWORD=1; _assume_complete; echo \"${COMPREPLY[*]}\"; }\n_assume_complete_test";
    let mut cmd = w.home.command_with("bash", &w.sandbox, None);
    cmd.args(["-c", script]).env("PATH", path).env("AWS_PROFILE", "admin");
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("ASIA") && lines[0].ends_with(" unset"), "{out}");
    assert_eq!(lines[1], "ro");
    for shell in ["zsh", "fish", "powershell"] {
        let (code, out, _) = w.assume(&["init", shell]);
        assert_eq!(code, 0);
        assert!(out.contains("aws-assume --profile-names"), "{shell}");
    }
    assert_eq!(w.assume(&["init", "tcsh"]).0, 2);
}

#[test]
fn ad_hoc_role_list_and_clear_cache() {
    let w = World::new();
    let (code, out, err) = w.assume(&[
        "--role-arn",
        "arn:aws:iam::333333333333:role/vendor",
        "--source-profile",
        "alice",
        "--external-id",
        "example-external-id",
        "--role-session-name",
        "adhoc",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v = process_json(&out);
    assert_eq!(v["Arn"], "arn:aws:sts::333333333333:assumed-role/vendor/adhoc");
    assert_eq!(w.assume(&["ro", "--format", "process"]).0, 0);
    let (code, out, _) = w.assume(&["--list", "--output", "json"]);
    assert_eq!(code, 0);
    let rows: Value = serde_json::from_str(&out).unwrap();
    let row = |p: &str| rows.as_array().unwrap().iter().find(|r| r["Profile"] == p).unwrap().clone();
    assert_eq!(row("auditor")["Chain"], "alice → admin → deployer → auditor");
    assert_eq!(row("auditor")["Mfa"], true);
    assert_eq!(row("alice")["Kind"], "keys");
    assert!(row("ro")["CachedUntil"].as_str().is_some());
    assert_eq!(row("admin")["CachedUntil"], Value::Null);
    let before = w.cache_files().len();
    let (code, _, err) = w.assume(&["--clear-cache", "ro"]);
    assert_eq!(code, 0);
    assert!(err.contains("removed 1 cached session"), "{err}");
    assert_eq!(w.cache_files().len(), before - 1);
    let (code, _, _) = w.assume(&["--clear-cache"]);
    assert_eq!(code, 0);
    assert!(w.cache_files().is_empty());
}

#[test]
fn console_sign_in_urls_follow_the_federation_rules() {
    let w = World::new();
    let console = |args: &[&str]| {
        let mut cmd = w.home.command_with(binary("aws-assume"), &w.sandbox, None);
        cmd.args(args).env("AWS_ASSUME_FEDERATION_URL", format!("{}/federation", w.sandbox.url));
        run(&mut cmd)
    };
    // A role assumed with long-term keys: SessionDuration is allowed and sent.
    let (code, url, err) = console(&["ro", "--console", "--print", "--duration", "3600"]);
    assert_eq!(code, 0, "{err}");
    let url = url.trim();
    assert!(
        url.starts_with(&format!(
            "{}/federation?Action=login&Issuer=aws-assume&Destination=https%3A%2F%2Fus-east-1.console.aws.amazon.com",
            w.sandbox.url
        )),
        "{url}"
    );
    let signin = w.sandbox.requests().into_iter().find(|r| r.operation == "GetSigninToken").unwrap();
    assert_eq!(signin.params["SessionDuration"], "3600");
    let resp = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(url)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 302, "the sign-in token is accepted");
    // An IAM user: GetFederationToken first (the endpoint refuses long-term keys).
    w.sandbox.clear_requests();
    let (code, _, err) = console(&["alice", "--console", "--print"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(w.sandbox.count("GetFederationToken"), 1);
    // A chained role: no SessionDuration (AWS refuses it there).
    let (code, _, err) = console(&["auditor", "--console", "--print", "--duration", "3600"]);
    assert_eq!(code, 0, "{err}");
    let last = w.sandbox.requests().into_iter().rfind(|r| r.operation == "GetSigninToken").unwrap();
    assert!(!last.params.contains_key("SessionDuration"), "{:?}", last.params);
    // No secret on stdout besides the URL's one-time token.
    let (_, url, _) = console(&["ro", "--console", "--print"]);
    assert!(!url.contains(ALICE_SECRET));
}

#[test]
fn exports_carry_a_prompt_marker_for_the_profile_and_its_expiry() {
    let w = World::new();
    let (code, out, err) = w.assume(&["ro", "--format", "env"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("export AWS_ASSUME_PROFILE='ro'\n"), "{out}");
    let exp = out.lines().find_map(|l| l.strip_prefix("export AWS_ASSUME_EXPIRATION='")).expect("expiry exported");
    assert!(exp.ends_with("Z'") && exp.len() == "2026-01-01T00:00:00Z'".len(), "{exp}");
    let (code, out, _) = w.assume(&["ro", "--format", "fish"]);
    assert_eq!(code, 0);
    assert!(out.contains("set -gx AWS_ASSUME_PROFILE 'ro'"), "{out}");
    // Not aws-vault's variable: its nested-session guard must not fire inside our shells.
    assert!(!out.contains("AWS_VAULT"));
}

/// The child's side of `--server`: no keys in its environment, an endpoint that refuses requests
/// without the token, and credentials that keep working across several expiries.
const SERVER_CHILD: &str = r#"
import os, sys, time, urllib.request, urllib.error
import boto3
assert 'AWS_ACCESS_KEY_ID' not in os.environ and 'AWS_PROFILE' not in os.environ, sorted(os.environ)
uri = os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI']
print('URI', uri, flush=True)
try:
    urllib.request.urlopen(uri, timeout=5)
    print('UNAUTHENTICATED ANSWERED')
except urllib.error.HTTPError as e:
    print('UNAUTHENTICATED', e.code)
sts = boto3.client('sts', endpoint_url=os.environ['AWS_ENDPOINT_URL_STS'], region_name='us-east-1')
keys = set()
for i in range(4):
    arn = sts.get_caller_identity()['Arn']
    keys.add(sts._request_signer._credentials.get_frozen_credentials().access_key)
    print('ARN', arn, flush=True)
    time.sleep(3.5)
print('KEYS', len(keys))
sys.exit(3)
"#;

#[test]
fn server_keeps_a_long_command_working_across_expiries_with_one_mfa_prompt() {
    let mut scenario = standard_scenario();
    scenario.sts.role_credentials_seconds = Some(3);
    let w = World::with(scenario);
    let mut cmd = w.home.command_with(binary("aws-assume"), &w.sandbox, None);
    cmd.args(["admin", "--server", "--"]).arg(e2e::harness::venv_bin("python")).args(["-c", SERVER_CHILD]);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 3, "the command's exit status is ours: {out}\n{err}");
    assert!(out.contains("UNAUTHENTICATED 403"), "{out}");
    assert_eq!(out.matches("ARN arn:aws:sts::222222222222:assumed-role/admin/").count(), 4, "{out}\n{err}");
    let keys: usize = out.lines().find_map(|l| l.strip_prefix("KEYS ")).unwrap().parse().unwrap();
    assert!(keys >= 4, "four calls over three expiries used {keys} different keys: {out}");
    assert_eq!(w.mfa_calls(), 1, "one MFA code for the whole run");
    assert_eq!(w.sandbox.count("GetSessionToken"), 1);
    assert!(w.sandbox.count("AssumeRole") >= 5, "each expiry refreshed the role");
    // The endpoint ended with the command.
    let uri = out.lines().find_map(|l| l.strip_prefix("URI ")).unwrap();
    let addr = uri.trim_start_matches("http://").split('/').next().unwrap();
    assert!(std::net::TcpStream::connect(addr).is_err(), "{addr} still listens");
}

#[test]
fn a_killed_server_leaves_nothing_listening() {
    let w = World::new();
    let mut cmd = w.home.command_with(binary("aws-assume"), &w.sandbox, None);
    // The command says where the endpoint is and its own pid, then lets go of our pipes.
    let script = "echo \"$AWS_CONTAINER_CREDENTIALS_FULL_URI $$\"; exec sleep 30 >/dev/null 2>&1";
    cmd.args(["ro", "--server", "--", "sh", "-c", script]).stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    let (uri, grandchild) = line.trim().split_once(' ').unwrap();
    let addr = uri.trim_start_matches("http://").split('/').next().unwrap().to_string();
    assert!(std::net::TcpStream::connect(&addr).is_ok(), "the endpoint listens while the command runs");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(std::net::TcpStream::connect(&addr).is_err(), "{addr} still listens after the parent was killed");
    let _ = std::process::Command::new("kill").arg(grandchild).status();
}

/// Runs `aws-assume ARGS --format env > out` under a pseudo-terminal (`script`), typing `keys`
/// once the picker is on the screen; returns (exit code, what was exported, the screen).
fn picker(w: &World, args: &str, keys: &[&str]) -> (i32, String, String) {
    let out = w.home.path().join("picked.env");
    let _ = std::fs::remove_file(&out);
    let inner = format!("{} {args} --format env > {}", binary("aws-assume").display(), out.display());
    let mut cmd = w.home.command_with("script", &w.sandbox, None);
    cmd.args(["-qec", &inner, "/dev/null"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut screen = e2e::harness::Screen::new(child.stdout.take().unwrap());
    let mut stdin = child.stdin.take().unwrap();
    screen.wait_for("Profile (type to filter", 1);
    for k in keys {
        use std::io::Write;
        stdin.write_all(k.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    // Keep the terminal open until the tool is done with it.
    let status = child.wait().unwrap();
    drop(stdin);
    (status.code().unwrap_or(-1), std::fs::read_to_string(&out).unwrap_or_default(), screen.finish())
}

#[test]
fn the_picker_filters_selects_and_cancels_on_a_terminal() {
    let w = World::new();
    // Typing filters, Enter assumes the match.
    let (code, exported, screen) = picker(&w, "", &["alic", "\r"]);
    assert_eq!(code, 0, "{screen}");
    assert!(exported.contains("export AWS_ASSUME_PROFILE='alice'"), "{exported}\n{screen}");
    assert!(screen.contains("deployer") && screen.contains("222222222222"), "every profile with its account: {screen}");
    // The most recently used comes first next time: Enter alone picks it.
    let (code, exported, _) = picker(&w, "--pick", &["\r"]);
    assert_eq!(code, 0);
    assert!(exported.contains("AWS_ASSUME_PROFILE='alice'"), "{exported}");
    // Esc cancels: exit 130 and nothing exported.
    let (code, exported, screen) = picker(&w, "", &["\x1b"]);
    assert_eq!(code, 130, "{screen}");
    assert!(exported.is_empty(), "{exported}");
    // Without a terminal nothing is asked: the default profile, as before.
    let (code, _, err) = w.assume(&["--format", "env"]);
    assert_ne!(code, 130, "{err}");
    assert!(!err.contains("type to filter"), "{err}");
}

/// The AWS CLI's `export-credentials` format names beside ours: `env-no-export` evaluates in any
/// POSIX shell, `windows-cmd` prints `set "K=V"` lines and refuses what cmd.exe would expand.
#[test]
fn the_aws_cli_export_format_names() {
    let w = World::new();
    let (code, out, err) = w.assume(&["ro", "--format", "env-no-export"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().any(|l| l.starts_with("AWS_ACCESS_KEY_ID='ASIA")) && !out.contains("export "), "{out}");
    let (code, shown, _) =
        run(std::process::Command::new("sh").args(["-c", &format!("{out}\nprintf %s \"$AWS_ACCESS_KEY_ID\"")]));
    assert_eq!(code, 0);
    assert!(shown.starts_with("ASIA"), "{shown}");
    let (code, out, err) = w.assume(&["ro", "--format", "windows-cmd"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().any(|l| l.starts_with("set \"AWS_ACCESS_KEY_ID=ASIA") && l.ends_with('"')), "{out}");
    assert!(out.lines().any(|l| l == "set AWS_PROFILE="), "{out}");
    let cfg = std::fs::read_to_string(w.home.aws("config")).unwrap();
    w.home.config(&format!(
        "{cfg}[profile ro%PATH%]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = alice\n"
    ));
    let (code, out, err) = w.assume(&["ro%PATH%", "--format", "windows-cmd"]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty() && err.contains("cmd.exe would expand"), "{err}");
}
