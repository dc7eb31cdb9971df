//! `make bench`: side-by-side figures on the local sandbox, written to BENCHMARKS.md and
//! bench/results.json. Every command runs at least `--runs` times (after a warm-up); we report
//! the median, min, max and p90 wall time. No figure here is asserted by a test: speed claims
//! are measured, not hard-coded.
//!
//! Usage: bench [--runs N] [--peer-runs N] [--sso-accounts N] [--only whoami,assume,login,keys,sso-sync,keyaudit,usage,config,memory,scale,scale-sync,scale-org] [--keyaudit-users N] [--usage-keys N] [--scale-accounts 1000,3000,10000] [--org-accounts 20,50,200] [--target-dir DIR]
//!
//! `scale` (or `scale-sync`, `scale-org`) runs only when named (`make bench-scale`): it takes
//! about twenty minutes.
//!
//! With `--only`, the sections run replace their namesakes in the existing BENCHMARKS.md and
//! bench/results.json; the other sections are kept.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use e2e::harness::{Home, Sandbox, fixture::*, standard_scenario, venv_bin, workspace_root};
use serde_json::{Value, json};

#[derive(Clone)]
struct Stats {
    median: f64,
    min: f64,
    max: f64,
    p90: f64,
    runs: usize,
}

fn stats(mut ms: Vec<f64>) -> Stats {
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = ms.len();
    let median = if n % 2 == 1 { ms[n / 2] } else { (ms[n / 2 - 1] + ms[n / 2]) / 2.0 };
    Stats {
        median,
        min: ms[0],
        max: ms[n - 1],
        p90: ms[((n as f64 * 0.9).ceil() as usize).saturating_sub(1).min(n - 1)],
        runs: n,
    }
}

/// Runs `cmd` `runs` times after one warm-up; every run must succeed.
fn time_command(label: &str, runs: usize, make: impl FnMut() -> Command) -> Stats {
    time_command_warm(label, runs, true, make)
}

/// As [`time_command`]; `warm_up = false` for commands that take minutes.
fn time_command_warm(label: &str, runs: usize, warm_up: bool, mut make: impl FnMut() -> Command) -> Stats {
    let mut samples = Vec::with_capacity(runs);
    for i in usize::from(!warm_up)..=runs {
        let mut cmd = make();
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let start = Instant::now();
        let out = cmd.output().unwrap_or_else(|e| panic!("{label}: cannot run: {e}"));
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        assert!(out.status.success(), "{label} failed: {}", String::from_utf8_lossy(&out.stderr));
        if i > 0 {
            samples.push(ms);
        }
    }
    let s = stats(samples);
    eprintln!(
        "  {label:<58} median {:>8.2} ms  (min {:.2}, p90 {:.2}, max {:.2}, n={})",
        s.median, s.min, s.p90, s.max, s.runs
    );
    s
}

fn stat_json(s: &Stats) -> Value {
    json!({"median_ms": s.median, "min_ms": s.min, "max_ms": s.max, "p90_ms": s.p90, "runs": s.runs})
}

fn row(label: &str, s: &Stats) -> String {
    format!("| {label} | {:.2} | {:.2} | {:.2} | {:.2} |", s.median, s.min, s.p90, s.max)
}

fn version_of(cmd: &mut Command) -> String {
    cmd.output()
        .map(|o| {
            format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)).trim().to_string()
        })
        .unwrap_or_default()
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "os": version_of(Command::new("uname").arg("-srm")),
        "rustc": version_of(Command::new("rustc").arg("--version")),
        "awscli": version_of(Command::new(venv_bin("aws")).arg("--version")),
    })
}

fn bench_whoami(bin: &Path, runs: usize, md: &mut Vec<String>) -> Value {
    eprintln!("aws-whoami vs aws sts get-caller-identity vs a raw signed request (curl)");
    let sandbox = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.credentials(&format!("[default]\naws_access_key_id = {ALICE_KEY}\naws_secret_access_key = {ALICE_SECRET}\n"));
    let whoami = bin.join("aws-whoami");
    let ours = time_command("aws-whoami --no-alias --output json", runs, || {
        let mut c = home.command_with(&whoami, &sandbox, None);
        c.args(["--no-alias", "--output", "json"]);
        c
    });
    let awscli = time_command("aws sts get-caller-identity (awscli v1)", runs, || {
        let mut c = home.command_with(venv_bin("aws"), &sandbox, None);
        c.args(["sts", "get-caller-identity"]).env("AWS_DEFAULT_REGION", "us-east-1");
        c
    });
    let python_whoami = bench_venv_exists("aws-whoami").then(|| {
        time_command("aws-whoami (Python 1.2.0, alias lookup off)", runs, || {
            let mut c = home.command_with(bench_venv("aws-whoami"), &sandbox, None);
            c.env("AWS_WHOAMI_DISABLE_ACCOUNT_ALIAS", "true").env("AWS_DEFAULT_REGION", "us-east-1");
            c
        })
    });
    let curl = time_command("curl --aws-sigv4 (raw signed GetCallerIdentity)", runs, || {
        let mut c = Command::new("curl");
        c.args(["-sf", "--aws-sigv4", "aws:amz:us-east-1:sts", "--user", &format!("{ALICE_KEY}:{ALICE_SECRET}")])
            .args([
                "-H",
                "Content-Type: application/x-www-form-urlencoded",
                "--data",
                "Action=GetCallerIdentity&Version=2011-06-15",
            ])
            .arg(&sandbox.url);
        c
    });
    let help = time_command("aws-whoami --help", runs.max(20), || {
        let mut c = home.command(&whoami);
        c.arg("--help");
        c
    });
    let speedup = awscli.median / ours.median;
    let vs_raw = ours.median / curl.median;
    md.push("## aws-whoami\n".into());
    md.push(
        "GetCallerIdentity against the sandbox's STS on 127.0.0.1, static keys from `~/.aws/credentials`.\n".into(),
    );
    md.push("| command | median ms | min | p90 | max |\n| --- | --- | --- | --- | --- |".into());
    md.push(row("`aws-whoami --no-alias --output json`", &ours));
    md.push(row("`aws sts get-caller-identity` (awscli v1)", &awscli));
    if let Some(p) = &python_whoami {
        md.push(row("Python `aws-whoami` 1.2.0 (alias lookup off)", p));
    }
    md.push(row("raw signed request (`curl --aws-sigv4`)", &curl));
    md.push(row("`aws-whoami --help`", &help));
    md.push(format!(
        "\n- aws-whoami is **{speedup:.1}×** faster than `aws sts get-caller-identity` (target: ≥ 30×).\n- aws-whoami takes **{vs_raw:.2}×** the time of a raw signed request from curl (target: ≤ 1.5×).\n- `--help`: **{:.2} ms** median (target: < 5 ms).\n",
        help.median
    ));
    json!({"aws_whoami": stat_json(&ours), "awscli_get_caller_identity": stat_json(&awscli), "python_aws_whoami": python_whoami.as_ref().map(stat_json), "curl_raw": stat_json(&curl), "help": stat_json(&help),
        "speedup_vs_awscli": speedup, "ratio_vs_raw": vs_raw})
}

fn bench_venv_exists(name: &str) -> bool {
    workspace_root().join(".venv-bench/bin").join(name).exists()
}

fn bench_venv(name: &str) -> PathBuf {
    let p = workspace_root().join(".venv-bench/bin").join(name);
    assert!(p.exists(), "{} is missing: run `make bench-venv`", p.display());
    p
}

fn bench_assume(bin: &Path, runs: usize, md: &mut Vec<String>) -> Value {
    eprintln!("aws-assume (warm cache) vs awsume vs aws-export-credentials");
    let sandbox = Sandbox::start(standard_scenario());
    let home = Home::new();
    home.credentials(&format!("[alice]\naws_access_key_id = {ALICE_KEY}\naws_secret_access_key = {ALICE_SECRET}\n"));
    home.config("[profile ro]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = alice\nregion = us-east-1\n");
    let files = |c: &mut Command| {
        c.env("AWS_CONFIG_FILE", home.aws("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", home.aws("credentials"))
            .env("AWS_DEFAULT_REGION", "us-east-1");
    };
    let mut calls = serde_json::Map::new();
    let measure = |label: &str, calls: &mut serde_json::Map<String, Value>, make: &mut dyn FnMut() -> Command| {
        let before = sandbox.count("AssumeRole");
        let s = time_command(label, runs, make);
        calls.insert(label.into(), json!(sandbox.count("AssumeRole") - before));
        s
    };
    let ours = measure("aws-assume ro --format process", &mut calls, &mut || {
        let mut c = home.command_with(bin.join("aws-assume"), &sandbox, None);
        c.args(["ro", "--format", "process"]);
        c
    });
    // Its --cache-file option crashes with current botocore (Credentials.__new__ arity), so it
    // runs as users run it by default: no cache, one AssumeRole per call.
    let aec = measure("aws-export-credentials --profile ro --json", &mut calls, &mut || {
        let mut c = home.command_with(bench_venv("aws-export-credentials"), &sandbox, None);
        c.args(["--profile", "ro", "--json"]);
        files(&mut c);
        c
    });
    let awsume = measure("awsume ro -s", &mut calls, &mut || {
        let mut c = home.command_with(bench_venv("awsumepy"), &sandbox, None);
        c.args(["ro", "-s"]);
        files(&mut c);
        c
    });
    md.push("## aws-assume\n".into());
    md.push("A role profile (`source_profile` with static keys), warm cache: each tool's own cache already holds the session. `AssumeRole calls` counts STS calls during the measured runs. aws-export-credentials has no working cache with current botocore, so it assumes the role on every call, as its users see it.\n".into());
    md.push(
        "| command | median ms | min | p90 | max | AssumeRole calls |\n| --- | --- | --- | --- | --- | --- |".into(),
    );
    for (label, st) in [
        ("aws-assume ro --format process", &ours),
        ("aws-export-credentials --profile ro --json", &aec),
        ("awsume ro -s", &awsume),
    ] {
        md.push(format!("{} {} |", row(&format!("`{label}`"), st), calls[label]));
    }
    let slowest_peer = aec.median.min(awsume.median);
    md.push(format!("\n- aws-assume: **{:.2} ms** median (target: < 5 ms), **{:.1}×** faster than the faster peer (target: ≥ 30×).\n", ours.median, slowest_peer / ours.median));
    json!({"aws_assume": stat_json(&ours), "aws_export_credentials": stat_json(&aec), "awsume": stat_json(&awsume), "assume_role_calls": calls, "speedup_vs_fastest_peer": slowest_peer / ours.median})
}

/// A sandbox of `count` generated accounts, each with `sets` permission sets, 100 ms per call.
fn generated(count: usize, sets: &[&str]) -> e2e::emulator::scenario::Scenario {
    let mut scenario = standard_scenario();
    scenario.accounts.clear();
    scenario.generate = Some(e2e::emulator::scenario::Generate {
        count,
        first_id: 100_000_000_000,
        name_prefix: "account".into(),
        permission_sets: sets.iter().map(|s| s.to_string()).collect(),
    });
    scenario.faults.latency_ms = 100;
    scenario
}

/// A valid SSO token for the `corp` session (and its start URL) in `home`'s cache, as
/// `aws sso login` leaves it.
fn seed_sso_token(home: &Home, sandbox: &Sandbox) {
    let token = sandbox.issue_token(86_400);
    let expires = (time::OffsetDateTime::now_utc() + time::Duration::hours(24))
        .format(&time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
        .unwrap();
    let body =
        json!({"startUrl": START_URL, "region": "us-east-1", "accessToken": token, "expiresAt": expires}).to_string();
    let cache = home.path().join(".aws/sso/cache");
    std::fs::create_dir_all(&cache).unwrap();
    for key in ["corp", START_URL] {
        use sha1::Digest;
        std::fs::write(cache.join(format!("{}.json", hex::encode(sha1::Sha1::digest(key.as_bytes())))), &body).unwrap();
    }
}

fn bench_sso_sync(
    bin: &Path,
    runs: usize,
    peer_runs: usize,
    peer_throttled: bool,
    accounts: usize,
    md: &mut Vec<String>,
) -> Value {
    eprintln!("aws-sso-sync vs aws-sso-util configure populate: {accounts} accounts x 3 roles, 100 ms latency");
    let sandbox = Sandbox::start(generated(accounts, &["AdministratorAccess", "ReadOnly", "Billing"]));
    let home = Home::new();
    seed_sso_token(&home, &sandbox);
    let session = format!("[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n");
    let ours_cfg = home.aws("config");
    let peer_cfg = home.aws("peer-config");
    let run_ours = |label: &str, n: usize| {
        let before = sandbox.requests().len();
        let st = time_command(label, n, || {
            std::fs::write(&ours_cfg, &session).unwrap();
            let mut c = home.command_with(bin.join("aws-sso-sync"), &sandbox, None);
            c.args(["--sso-session", "corp", "-q"]);
            c
        });
        let calls = (sandbox.requests().len() - before) as f64 / (n + 1) as f64;
        let failed = sandbox.requests()[before..].iter().filter(|r| r.status == 429).count();
        (st, calls, failed)
    };
    let run_peer = |label: &str, n: usize| {
        let before = sandbox.requests().len();
        let st = time_command_warm(label, n, false, || {
            let _ = std::fs::remove_file(&peer_cfg);
            let mut c = home.command_with(bench_venv("aws-sso-util"), &sandbox, None);
            c.args([
                "configure",
                "populate",
                "--sso-start-url",
                START_URL,
                "--sso-region",
                "us-east-1",
                "--region",
                "us-east-1",
            ])
            .env("AWS_CONFIG_FILE", &peer_cfg);
            c
        });
        let calls = (sandbox.requests().len() - before) as f64 / n as f64;
        (st, calls)
    };
    let (ours, our_calls, _) = run_ours("aws-sso-sync (unthrottled)", runs);
    let profiles = std::fs::read_to_string(&ours_cfg).unwrap().matches("[profile ").count();
    let (peer, peer_calls) = run_peer("aws-sso-util configure populate (unthrottled)", peer_runs);
    sandbox.set_faults(e2e::emulator::faults::Faults { latency_ms: 100, rate_limit: Some(20.0), ..Default::default() });
    let (ours_t, our_calls_t, throttled) = run_ours("aws-sso-sync (throttled at 20 requests/s)", peer_runs.max(3));
    // aws-sso-util sends one request at a time (under 10/s at 100 ms latency), so a 20/s limit
    // can only slow it down: its unthrottled time is a lower bound for its throttled one. It is
    // measured throttled too when asked (`--peer-throttled`), at the cost of many minutes.
    let (peer_t, peer_calls_t) = if peer_throttled {
        run_peer("aws-sso-util configure populate (throttled at 20 requests/s)", peer_runs)
    } else {
        (peer.clone(), peer_calls)
    };
    // The lower bound counts the requests a sync needs (the unthrottled count), not the retries.
    let lower_bound = our_calls / 20.0 * 1000.0;
    md.push("## aws-sso-sync\n".into());
    md.push(format!("{accounts} accounts × 3 roles ({profiles} profiles) on the emulator with 100 ms latency per request; both tools start from the same cached token. aws-sso-util runs: {peer_runs}, without warm-up (each takes minutes).\n"));
    md.push(
        "| command | median ms | min | p90 | max | requests per run |\n| --- | --- | --- | --- | --- | --- |".into(),
    );
    md.push(format!("{} {our_calls:.0} |", row("`aws-sso-sync` unthrottled", &ours)));
    md.push(format!("{} {peer_calls:.0} |", row("`aws-sso-util configure populate` unthrottled", &peer)));
    md.push(format!("{} {our_calls_t:.0} |", row("`aws-sso-sync` throttled at 20 req/s", &ours_t)));
    if peer_throttled {
        md.push(format!(
            "{} {peer_calls_t:.0} |",
            row("`aws-sso-util configure populate` throttled at 20 req/s", &peer_t)
        ));
    } else {
        md.push("\naws-sso-util was not run throttled: it sends one request at a time (under 10/s at 100 ms latency), so a 20/s limit can only slow it; its unthrottled time is the lower bound used for the throttled ratio below.".into());
    }
    md.push(format!(
        "\n- Unthrottled: aws-sso-sync is **{:.1}×** faster (target: ≥ 20×).\n- Throttled at 20 requests/s: **{:.2}×** the lower bound of {:.1} s (requests ÷ rate; target: ≤ 1.15×), {} requests answered 429 and retried, 0 failures; **{:.1}×** faster than aws-sso-util (target: ≥ 2×).\n",
        peer.median / ours.median,
        ours_t.median / lower_bound,
        lower_bound / 1000.0,
        throttled,
        peer_t.median / ours_t.median
    ));
    json!({"accounts": accounts, "profiles": profiles, "unthrottled": {"aws_sso_sync": stat_json(&ours), "aws_sso_util": stat_json(&peer), "requests": [our_calls, peer_calls]},
        "throttled_20rps": {"aws_sso_sync": stat_json(&ours_t), "aws_sso_util": stat_json(&peer_t), "requests": [our_calls_t, peer_calls_t], "lower_bound_ms": lower_bound, "ratio_to_lower_bound": ours_t.median / lower_bound}})
}

fn bench_keyaudit(bin: &Path, runs: usize, users: usize, md: &mut Vec<String>) -> Value {
    eprintln!("aws-keyaudit vs the per-user approach: {users} users, half with keys, on moto");
    let sandbox = Sandbox::start(standard_scenario());
    let moto = e2e::harness::Moto::start();
    let home = Home::new();
    let mut py = home.command_with(venv_bin("python"), &sandbox, Some(&moto));
    py.arg(workspace_root().join("tests/sandbox/keyaudit_fixture.py")).args(["bulk", &users.to_string()]);
    assert!(py.status().expect("fixture").success());
    let audit = |c: &mut Command| {
        c.env("AWS_ENDPOINT_URL_STS", &moto.url)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing");
    };
    let ours = time_command("aws-keyaudit --output json", runs, || {
        let mut c = home.command_with(bin.join("aws-keyaudit"), &sandbox, Some(&moto));
        c.args(["--output", "json"]);
        audit(&mut c);
        c
    });
    let mut c = home.command_with(bin.join("aws-keyaudit"), &sandbox, Some(&moto));
    c.args(["--output", "json"]);
    audit(&mut c);
    let out: Value = serde_json::from_slice(&c.output().expect("audit").stdout).expect("JSON");
    let our_calls: u64 = out["calls"].as_object().map(|m| m.values().filter_map(Value::as_u64).sum()).unwrap_or(0);
    let per_user = time_command("per-user approach (boto3: 5-7 calls per user)", runs.clamp(1, 3), || {
        let mut c = home.command_with(venv_bin("python"), &sandbox, Some(&moto));
        c.arg(workspace_root().join("tests/sandbox/per_user_audit.py"));
        audit(&mut c);
        c
    });
    let mut c = home.command_with(venv_bin("python"), &sandbox, Some(&moto));
    c.arg(workspace_root().join("tests/sandbox/per_user_audit.py"));
    audit(&mut c);
    let pu: Value = serde_json::from_slice(&c.output().expect("per-user").stdout).expect("JSON");
    let pu_calls = pu["calls"].as_u64().unwrap_or(0);
    md.push("## aws-keyaudit\n".into());
    md.push(format!("{users} IAM users, every second one with an access key, in moto. The per-user approach lists users, then calls ListAccessKeys, GetAccessKeyLastUsed (per key), ListUserPolicies, ListAttachedUserPolicies, ListGroupsForUser, GetLoginProfile and ListUserTags for every user. Prowler was not run: it cannot be pointed at a local IAM endpoint for all of its checks.\n"));
    md.push("| command | median ms | min | p90 | max | AWS calls |\n| --- | --- | --- | --- | --- | --- |".into());
    md.push(format!("{} {our_calls} |", row("`aws-keyaudit --output json`", &ours)));
    md.push(format!("{} {pu_calls} |", row("per-user approach (boto3)", &per_user)));
    md.push(format!(
        "\n- **{:.1}×** fewer calls than the per-user approach (target: ≥ 10×), **{:.1}×** faster.\n",
        pu_calls as f64 / our_calls.max(1) as f64,
        per_user.median / ours.median
    ));
    json!({"users": users, "aws_keyaudit": stat_json(&ours), "per_user": stat_json(&per_user), "calls": [our_calls, pu_calls]})
}

/// `aws-keyaudit --usage` on `keys` keys under CloudTrail's LookupEvents limit (2 requests per
/// second per account and region, enforced by the sandbox): the lookups' time against the bound
/// the limit sets (requests ÷ rate), with the audit's own time taken out.
fn bench_usage(bin: &Path, keys: usize, md: &mut Vec<String>) -> Value {
    eprintln!("aws-keyaudit --usage: {keys} keys at 2 LookupEvents per second");
    let sandbox = Sandbox::start(standard_scenario());
    let moto = e2e::harness::Moto::start();
    let home = Home::new();
    let mut py = home.command_with(venv_bin("python"), &sandbox, Some(&moto));
    py.arg(workspace_root().join("tests/sandbox/keyaudit_fixture.py")).args(["bulk", &(keys * 2).to_string()]);
    assert!(py.status().expect("fixture").success());
    // Three calls per key from its own address, logged in us-east-1.
    let mut py = home.command_with(venv_bin("python"), &sandbox, Some(&moto));
    py.arg(workspace_root().join("tests/sandbox/keyaudit_fixture.py")).args(["events", "3"]);
    let out = py.output().expect("events");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seeded: Value = serde_json::from_slice(&out.stdout).expect("fixture JSON");
    let with_keys = seeded["keys"].as_u64().unwrap_or(0);
    let run = |usage: bool| {
        let mut c = home.command_with(bin.join("aws-keyaudit"), &sandbox, Some(&moto));
        c.args(["--output", "json"])
            .env("AWS_ENDPOINT_URL_STS", &moto.url)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing");
        if usage {
            c.arg("--usage");
        }
        let start = Instant::now();
        let out = c.output().expect("aws-keyaudit");
        let secs = start.elapsed().as_secs_f64();
        assert!(out.status.code().is_some_and(|c| c <= 1), "{}", String::from_utf8_lossy(&out.stderr));
        (secs, serde_json::from_slice::<Value>(&out.stdout).expect("JSON"))
    };
    let stats = |moto: &e2e::harness::Moto| moto.control("cloudtrail-stats", None);
    let (plain, _) = run(false);
    let before = stats(&moto);
    let (with_usage, doc) = run(true);
    let after = stats(&moto);
    let requests = after["requests"].as_u64().unwrap_or(0) - before["requests"].as_u64().unwrap_or(0);
    let throttled = after["throttled"].as_u64().unwrap_or(0) - before["throttled"].as_u64().unwrap_or(0);
    let summarised = doc["usage"].as_array().map_or(0, Vec::len);
    let events: u64 = doc["usage"].as_array().into_iter().flatten().filter_map(|u| u["events"].as_u64()).sum();
    let lookups = with_usage - plain;
    // The limit's bound: the first call at once, each next one 1/rate later.
    let bound = (requests.saturating_sub(1)) as f64 / 2.0;
    let ratio = lookups / bound.max(0.001);
    eprintln!(
        "  {with_keys} keys: {requests} LookupEvents ({throttled} throttled) in {lookups:.1} s; bound {bound:.1} s: {ratio:.3}×"
    );
    md.push("## aws-keyaudit --usage (CloudTrail event history)\n".into());
    md.push(format!(
        "{with_keys} active keys with 3 calls each in the sandbox's CloudTrail, which enforces LookupEvents' limit of 2 requests per second per account and region (ThrottlingException beyond it). The lookups' time is `--usage` minus the same audit without it.\n"
    ));
    md.push("| keys | LookupEvents requests | throttled | audit without --usage s | with --usage s | lookups s | bound (requests ÷ rate) s | ratio |\n| --- | --- | --- | --- | --- | --- | --- | --- |".into());
    md.push(format!(
        "| {with_keys} | {requests} | {throttled} | {plain:.1} | {with_usage:.1} | {lookups:.1} | {bound:.1} | **{ratio:.3}×** |"
    ));
    md.push(format!(
        "\n- {summarised} keys summarised ({events} events); target: within 1.10× of the bound, no throttling.\n"
    ));
    json!({"keys": with_keys, "requests": requests, "throttled": throttled, "audit_s": plain, "with_usage_s": with_usage, "lookups_s": lookups, "bound_s": bound, "ratio": ratio, "events": events})
}

/// The key store: a `credential_process` answer for a key in the OS keyring (gnome-keyring over
/// D-Bus) and in the encrypted file, and a role profile sourced from the stored key with a warm
/// session cache.
fn bench_keys(bin: &Path, runs: usize, md: &mut Vec<String>) -> Value {
    eprintln!("aws-assume keys: credential_process from the store");
    let sandbox = Sandbox::start(standard_scenario());
    let keyring = e2e::harness::Keyring::start();
    let mut out = serde_json::Map::new();
    let mut rows = Vec::new();
    for backend in ["os", "file"] {
        let home = Home::new();
        home.credentials(&format!("[alice]\naws_access_key_id = {ALICE_KEY}\naws_secret_access_key = {ALICE_SECRET}\n"))
            .config("[profile alice]\nregion = us-east-1\n[profile ro]\nrole_arn = arn:aws:iam::222222222222:role/readonly\nsource_profile = alice\n");
        let cmd = |args: &[&str]| {
            let mut c = home.command_with(bin.join("aws-assume"), &sandbox, None);
            keyring.apply(&mut c);
            c.args(args)
                .env("AWS_COMPANIONS_KEY_STORE", backend)
                .env("AWS_COMPANIONS_KEY_STORE_PASSPHRASE", "bench passphrase");
            c
        };
        let added = cmd(&["keys", "add", "alice", "--from-credentials-file"]).output().expect("keys add");
        assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
        let answer = time_command(&format!("credential_process ({backend})"), runs, || {
            cmd(&["keys", "credential-process", "alice"])
        });
        let warm = time_command(&format!("role from the stored key, warm cache ({backend})"), runs, || {
            cmd(&["ro", "--format", "process"])
        });
        rows.push(row(&format!("`aws-assume keys credential-process` ({backend})"), &answer));
        rows.push(row(
            &format!("role sourced from it, warm cache: `aws-assume ro --format process` ({backend})"),
            &warm,
        ));
        out.insert(
            backend.into(),
            json!({"credential_process": stat_json(&answer), "role_warm_cache": stat_json(&warm)}),
        );
    }
    md.push("## aws-assume keys (the key store)\n".into());
    md.push("A `credential_process` answer for a stored key (`os`: gnome-keyring's Secret Service over a private D-Bus session bus; `file`: the age file, scrypt 2^15), and a role profile sourced from that key with its session already cached (what every later `aws --profile ro` call costs). Targets: the keyring answer under 10 ms median, the warm role under 5 ms.\n".into());
    md.push("| command | median ms | min | p90 | max |\n| --- | --- | --- | --- | --- |".into());
    md.extend(rows);
    md.push(String::new());
    Value::Object(out)
}

/// An `aws login` profile: credentials from a warm session (a cache read), and with a
/// DPoP-signed refresh on every run (the session aged before each), next to botocore[crt]
/// resolving the same profile (the only peer that reads these sessions).
fn bench_login(bin: &Path, runs: usize, md: &mut Vec<String>) -> Value {
    eprintln!("aws login sessions");
    let sandbox = Sandbox::start(standard_scenario());
    let home = Home::new();
    let mut login = home.command_with(bin.join("aws-assume"), &sandbox, None);
    login.args(["login", "--profile", "dev"]).env("BROWSER", "curl -sfL -o /dev/null");
    let out = login.output().expect("aws-assume login");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let session = std::fs::read_dir(home.aws("login/cache"))
        .expect("the login cache")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("a session file");
    let age = || {
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&session).unwrap()).unwrap();
        let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(60);
        v["accessToken"]["expiresAt"] = shared::cache::format_z(soon).into();
        std::fs::write(&session, shared::cache::pyjson::dumps_unsorted(&v)).unwrap();
    };
    let ours = || {
        let mut c = home.command_with(bin.join("aws-assume"), &sandbox, None);
        c.args(["dev", "--format", "process"]);
        c
    };
    let botocore = || {
        let mut c = home.command_with(venv_bin("python"), &sandbox, None);
        c.args(["-c", "import botocore.session; botocore.session.Session(profile='dev').get_credentials().get_frozen_credentials()"]);
        c
    };
    let warm = time_command("aws-assume dev --format process (warm session)", runs, ours);
    let boto_warm = time_command("botocore[crt] (warm session)", runs, botocore);
    let refresh = time_command("aws-assume dev --format process (refresh)", runs, || {
        age();
        ours()
    });
    let boto_refresh = time_command("botocore[crt] (refresh)", runs, || {
        age();
        botocore()
    });
    md.push("## aws login sessions\n".into());
    md.push("A `login_session` profile answered as `credential_process` output: from a warm session (a cache read), and with a DPoP-signed CreateOAuth2Token refresh on every run (the session aged before each run; the sandbox's Sign-In service verifies every proof). botocore 1.44 with awscrt resolves the same profile for comparison; no other peer reads these sessions.\n".into());
    md.push("| command | median ms | min | p90 | max |\n| --- | --- | --- | --- | --- |".into());
    md.push(row("`aws-assume dev --format process`, warm session", &warm));
    md.push(row("botocore[crt] `get_frozen_credentials()`, warm session", &boto_warm));
    md.push(row("`aws-assume dev --format process`, refresh", &refresh));
    md.push(row("botocore[crt] `get_frozen_credentials()`, refresh", &boto_refresh));
    md.push(String::new());
    json!({"warm": stat_json(&warm), "botocore_warm": stat_json(&boto_warm), "refresh": stat_json(&refresh), "botocore_refresh": stat_json(&boto_refresh)})
}

/// Wall time and peak RSS (KiB, through GNU time when the machine has it) of one run, and
/// whether it succeeded.
fn timed_rss(cmd: &Command) -> (f64, Option<u64>, bool) {
    let time = Path::new("/usr/bin/time");
    let mut run = if time.exists() {
        let mut w = Command::new(time);
        w.arg("-f").arg("RSS %M").arg(cmd.get_program()).args(cmd.get_args());
        w
    } else {
        let mut w = Command::new(cmd.get_program());
        w.args(cmd.get_args());
        w
    };
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => run.env(k, v),
            None => run.env_remove(k),
        };
    }
    if let Some(d) = cmd.get_current_dir() {
        run.current_dir(d);
    }
    let start = Instant::now();
    let out = run.stdout(Stdio::null()).stderr(Stdio::piped()).output().expect("run");
    let secs = start.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&out.stderr);
    let rss = err.lines().filter_map(|l| l.strip_prefix("RSS ")).next_back().and_then(|v| v.trim().parse().ok());
    (secs, rss, out.status.success())
}

/// An SVG line plot of `series` (label, points), written beside BENCHMARKS.md.
fn plot(file: &str, title: &str, x_label: &str, y_label: &str, series: &[(&str, Vec<(f64, f64)>)]) {
    use plotters::prelude::*;
    let path = workspace_root().join("bench").join(file);
    let root = SVGBackend::new(&path, (720, 420)).into_drawing_area();
    let _ = root.fill(&WHITE);
    let pts = || series.iter().flat_map(|(_, p)| p.iter());
    let x_max = pts().map(|p| p.0).fold(1.0, f64::max) * 1.05;
    let y_max = pts().map(|p| p.1).fold(0.001, f64::max) * 1.15;
    let Ok(mut chart) = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)
    else {
        return;
    };
    let _ = chart.configure_mesh().x_desc(x_label).y_desc(y_label).draw();
    for (i, (label, points)) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        if let Ok(s) = chart.draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2))) {
            s.label(*label).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        }
        let _ = chart.draw_series(points.iter().map(|p| Circle::new(*p, 4, color.filled())));
    }
    let _ = chart.configure_series_labels().border_style(BLACK).background_style(WHITE.mix(0.8)).draw();
    let _ = root.present();
}

fn scale_sync(bin: &Path, sizes: &[usize], md: &mut Vec<String>) -> Value {
    let mut rows = Vec::new();
    let (mut time_pts, mut per_profile_pts, mut cli_pts) = (Vec::new(), Vec::new(), Vec::new());
    // What the AWS CLI pays per call with no generated profiles: the baseline of the extra cost.
    let empty = Home::new();
    empty.config("[default]\nregion = us-east-1\n");
    let cli_call = |home: &Home| {
        let samples: Vec<f64> = (0..4)
            .map(|_| {
                let mut c = home.command(venv_bin("aws"));
                c.args(["configure", "get", "region", "--profile", "default"]);
                let start = Instant::now();
                let _ = c.stdout(Stdio::null()).stderr(Stdio::null()).status();
                start.elapsed().as_secs_f64() * 1000.0
            })
            .skip(1)
            .collect();
        stats(samples).median
    };
    let base_ms = cli_call(&empty);
    for &n in sizes {
        eprintln!("scale: aws-sso-sync, {n} accounts x 5 roles, throttled at 20 requests/s");
        let mut scenario = generated(n, &["AdministratorAccess", "ReadOnly", "Billing", "PowerUser", "SecurityAudit"]);
        scenario.faults.rate_limit = Some(20.0);
        let sandbox = Sandbox::start(scenario);
        let home = Home::new();
        seed_sso_token(&home, &sandbox);
        let cfg = home.aws("config");
        std::fs::write(&cfg, format!("[default]\nregion = us-east-1\n\n[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n")).unwrap();
        let mut c = home.command_with(bin.join("aws-sso-sync"), &sandbox, None);
        c.args(["--sso-session", "corp", "-q"]);
        let (secs, rss, ok) = timed_rss(&c);
        let log = sandbox.requests();
        let (requests, retried) = (log.len(), log.iter().filter(|r| r.status == 429).count());
        let needed = requests - retried;
        let text = std::fs::read_to_string(&cfg).unwrap_or_default();
        let profiles = text.matches("[profile ").count();
        let bound = needed.saturating_sub(20) as f64 / 20.0;
        let cli_ms = cli_call(&home);
        eprintln!(
            "  {profiles} profiles in {secs:.1} s ({requests} requests, {retried} answered 429), bound {bound:.1} s, RSS {rss:?} KiB; aws CLI call {cli_ms:.0} ms (empty config {base_ms:.0} ms)"
        );
        time_pts.push((n as f64, secs));
        per_profile_pts.push((n as f64, secs * 1000.0 / profiles.max(1) as f64));
        cli_pts.push((n as f64, cli_ms - base_ms));
        rows.push(json!({"accounts": n, "profiles": profiles, "ok": ok, "seconds": secs, "requests": requests, "answered_429": retried,
            "bound_seconds": bound, "ratio_to_bound": secs / bound.max(0.001), "peak_rss_kb": rss, "config_bytes": text.len(),
            "ms_per_profile": secs * 1000.0 / profiles.max(1) as f64, "awscli_call_ms": cli_ms, "awscli_extra_ms": cli_ms - base_ms}));
    }
    md.push(format!("## Scale: aws-sso-sync at 1k, 3k, 10k accounts × 5 roles, throttled at 20 requests/s\n\nThe emulator answers every request after 100 ms and allows 20 requests per second (token bucket, one second of burst; 429 TooManyRequestsException beyond it). The bound is the requests a sync needs (those not answered 429), less the first second's burst, ÷ 20/s. \"AWS CLI +ms\" is what every later `aws` command pays to parse the generated config (awscli v1 `aws configure get region`, median of 3, minus the same on a one-profile config: {base_ms:.0} ms).\n"));
    md.push("| accounts | profiles | time s | requests | answered 429 | bound s | ratio | ms / profile | peak RSS MB | config MB | AWS CLI +ms per call |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |".into());
    for r in &rows {
        md.push(format!(
            "| {} | {} | {:.1} | {} | {} | {:.1} | **{:.3}×** | {:.2} | {} | {:.1} | {:.0} |",
            r["accounts"],
            r["profiles"],
            r["seconds"].as_f64().unwrap_or(0.0),
            r["requests"],
            r["answered_429"],
            r["bound_seconds"].as_f64().unwrap_or(0.0),
            r["ratio_to_bound"].as_f64().unwrap_or(0.0),
            r["ms_per_profile"].as_f64().unwrap_or(0.0),
            r["peak_rss_kb"].as_u64().map(|k| format!("{:.1}", k as f64 / 1024.0)).unwrap_or_else(|| "-".into()),
            r["config_bytes"].as_u64().unwrap_or(0) as f64 / 1_048_576.0,
            r["awscli_extra_ms"].as_f64().unwrap_or(0.0),
        ));
    }
    plot(
        "scale-sync-time.svg",
        "aws-sso-sync, 5 roles per account, 20 requests/s",
        "accounts",
        "seconds",
        &[("sync time", time_pts)],
    );
    plot(
        "scale-sync-per-profile.svg",
        "aws-sso-sync: time per profile",
        "accounts",
        "ms per profile",
        &[("ms per profile", per_profile_pts)],
    );
    plot(
        "scale-awscli-cost.svg",
        "What each later aws command pays for the generated config",
        "accounts (x 5 profiles)",
        "extra ms per aws call",
        &[("awscli v1", cli_pts)],
    );
    md.push("\n![sync time](bench/scale-sync-time.svg) ![time per profile](bench/scale-sync-per-profile.svg) ![AWS CLI cost](bench/scale-awscli-cost.svg)\n\nTargets: 10,000 × 5 within 1.05× of the bound, 0 failures, peak RSS under 150 MB; time per profile flat (±20%) from 1k to 10k. The AWS CLI's cost per call is why `aws-sso-sync` has filters (README: Filters).\n".into());
    json!(rows)
}

fn scale_org(bin: &Path, sizes: &[usize], md: &mut Vec<String>) -> Value {
    let mut rows = Vec::new();
    let (mut time_pts, mut alone_pts) = (Vec::new(), Vec::new());
    for &n in sizes {
        eprintln!("scale: aws-keyaudit --org-role over {n} accounts, 100 ms per call");
        let sandbox = Sandbox::start(e2e::harness::org_scenario(n, 100));
        let home = Home::new();
        home.config("[profile alice]\nregion = us-east-1\n[profile alone]\nrole_arn = arn:aws:iam::200000000000:role/OrganizationAccountAccessRole\nsource_profile = alice\n");
        home.credentials(&format!(
            "[alice]\naws_access_key_id = {ALICE_KEY}\naws_secret_access_key = {ALICE_SECRET}\n"
        ));
        let audit = |args: &[&str]| {
            let mut c = home.command_with(bin.join("aws-keyaudit"), &sandbox, None);
            c.args(args).args(["--output", "json"]).env("AWS_ENDPOINT_URL_ORGANIZATIONS", &sandbox.url);
            c
        };
        let calls_of = |c: &mut Command| -> (u64, usize, usize) {
            let out = c.output().expect("audit");
            let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            let calls = v["calls"].as_object().map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
            let rotate = v["findings"].as_array().map_or(0, |f| f.iter().filter(|f| f["check"] == "KA-ROTATE").count());
            (calls, v["report"]["accounts"].as_array().map_or(0, Vec::len), rotate)
        };
        let (alone_s, _, _) = timed_rss(&audit(&["--profile", "alone"]));
        let (alone_calls, _, _) = calls_of(&mut audit(&["--profile", "alone"]));
        let org = ["--profile", "alice", "--org-role", "OrganizationAccountAccessRole"];
        let (org_s, rss, ok) = timed_rss(&audit(&org));
        let (org_calls, audited, rotate) = calls_of(&mut audit(&org));
        // The organisation audit also lists the accounts and audits the caller's own.
        let per_account = org_calls as f64 / audited.max(1) as f64;
        eprintln!(
            "  {audited} accounts in {org_s:.1} s (alone {alone_s:.1} s: {:.2}x), {per_account:.1} calls per account (alone {alone_calls}), {rotate} KA-ROTATE findings, RSS {rss:?} KiB",
            org_s / alone_s
        );
        time_pts.push((n as f64, org_s));
        alone_pts.push((n as f64, alone_s * 3.0));
        rows.push(json!({"accounts": n, "audited": audited, "ok": ok, "seconds": org_s, "alone_seconds": alone_s, "ratio_to_alone": org_s / alone_s,
            "calls": org_calls, "calls_per_account": per_account, "alone_calls": alone_calls, "peak_rss_kb": rss, "findings_rotate": rotate}));
    }
    md.push("## Scale: aws-keyaudit --org-role over 20, 50, 200 accounts\n\nThe Rust sandbox emulates the organisation (`tests/src/emulator/iam.rs`: ListAccounts, and for every member account its own IAM answers: a user with a 150-day-old key, the credential report, GetAccountAuthorizationDetails, GetAccountSummary, ListAccessKeys, ListServiceSpecificCredentials) and STS with signature checks and OrganizationAccountAccessRole trust; every call is answered after 100 ms. moto could not show this: one Python process spent 6 s of CPU answering a 200-account audit, more than the target allows before any latency. \"Alone\" audits one member through a role profile. Default flags (`--concurrency 128`, `--max-in-flight 256`).\n".into());
    md.push("| accounts | audited (with the caller's) | time s | one alone s | ratio | calls | calls per account | one alone: calls | KA-ROTATE findings | peak RSS MB |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |".into());
    for r in &rows {
        md.push(format!(
            "| {} | {} | {:.1} | {:.1} | **{:.2}×** | {} | {:.1} | {} | {} | {} |",
            r["accounts"],
            r["audited"],
            r["seconds"].as_f64().unwrap_or(0.0),
            r["alone_seconds"].as_f64().unwrap_or(0.0),
            r["ratio_to_alone"].as_f64().unwrap_or(0.0),
            r["calls"],
            r["calls_per_account"].as_f64().unwrap_or(0.0),
            r["alone_calls"],
            r["findings_rotate"],
            r["peak_rss_kb"].as_u64().map(|k| format!("{:.1}", k as f64 / 1024.0)).unwrap_or_else(|| "-".into()),
        ));
    }
    plot(
        "scale-org-audit.svg",
        "aws-keyaudit --org-role, 100 ms per call",
        "accounts",
        "seconds",
        &[("organisation audit", time_pts), ("3 x one account alone", alone_pts)],
    );
    md.push("\n![organisation audit](bench/scale-org-audit.svg)\n\nTarget: 200 accounts in no more than 3× the time of one alone, with the calls per account unchanged (the organisation audit adds ListAccounts and one AssumeRole per member).\n".into());
    json!(rows)
}

/// Parsing and resolving a 10,000-profile config, in process (the tools do exactly this first).
fn bench_big_config(runs: usize, md: &mut Vec<String>) -> Value {
    use shared::config::{AwsFiles, resolve};
    let mut text =
        String::from("[profile base]\naws_access_key_id = AKIAEXAMPLEBIG000001\naws_secret_access_key = example\n\n");
    for i in 0..10_000 {
        text.push_str(&format!("[profile p{i}]\nrole_arn = arn:aws:iam::222222222222:role/r{i}\nsource_profile = {}\nregion = us-east-1\n\n", if i == 0 { "base".to_string() } else { format!("p{}", i - 1) }));
    }
    let env = shared::os::Env::from_pairs([("HOME", "/nonexistent")]);
    let mut samples = Vec::new();
    for i in 0..=runs.max(20) {
        let start = Instant::now();
        let files = AwsFiles::from_text(&text, "");
        let plan = resolve::plan(&files, &env, "p99").expect("plan").expect("a plan");
        let names = files.profile_names().len();
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        assert_eq!((plan.hops.len(), names), (100, 10_001));
        if i > 0 {
            samples.push(ms);
        }
    }
    let s = stats(samples);
    eprintln!("  10,000-profile config parse + resolve a 100-hop chain       median {:>8.2} ms", s.median);
    md.push("## A 10,000-profile config\n".into());
    md.push(format!("Parsing a 10,001-profile config (570 kB) and resolving a 100-hop `source_profile` chain, in process: **{:.2} ms** median (min {:.2}, max {:.2}; target: < 20 ms).\n", s.median, s.min, s.max));
    stat_json(&s)
}

/// Peak memory (max RSS) of one run, through GNU time when the machine has it.
fn peak_rss_kb(cmd: Command) -> Option<u64> {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        return None;
    }
    let mut wrapped = Command::new(time);
    wrapped.arg("-f").arg("%M").arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    let out = wrapped.stdout(Stdio::null()).stderr(Stdio::piped()).output().ok()?;
    String::from_utf8_lossy(&out.stderr).lines().last()?.trim().parse().ok()
}

fn binary_sizes(bin: &Path, md: &mut Vec<String>) -> Value {
    md.push("## Binary sizes (release: fat LTO, opt-level s, stripped)\n".into());
    md.push("| binary | MiB |\n| --- | --- |".into());
    let mut out = serde_json::Map::new();
    for b in ["aws-whoami", "aws-assume", "aws-sso-sync", "aws-keyaudit"] {
        if let Ok(m) = std::fs::metadata(bin.join(b)) {
            let mb = m.len() as f64 / 1_048_576.0;
            md.push(format!("| {b} | {mb:.2} |"));
            out.insert(b.into(), json!(mb));
        }
    }
    md.push(String::new());
    Value::Object(out)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let runs: usize = arg("--runs").and_then(|r| r.parse().ok()).unwrap_or(15).max(10);
    let bin: PathBuf =
        arg("--target-dir").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target/release"));
    let mut md = vec![
        "# Benchmarks\n".to_string(),
        "Written by `make bench` (tests/src/bin/bench.rs) on the local sandbox; wall time of whole processes, as a user sees it, \
         after one warm-up run. Figures vary by machine: the machine and versions are recorded below and in bench/results.json.\n"
            .to_string(),
    ];
    let machine = machine();
    md.push(format!(
        "Machine: {} ({} cores), {}; {}; {}.\n",
        machine["cpu"].as_str().unwrap_or(""),
        machine["cores"],
        machine["os"].as_str().unwrap_or(""),
        machine["rustc"].as_str().unwrap_or(""),
        machine["awscli"].as_str().unwrap_or("")
    ));
    let accounts: usize = arg("--sso-accounts").and_then(|r| r.parse().ok()).unwrap_or(1000);
    let peer_runs: usize = arg("--peer-runs").and_then(|r| r.parse().ok()).unwrap_or(1).max(1);
    let only = arg("--only");
    let want = |name: &str| only.as_deref().is_none_or(|o| o.split(',').any(|x| x == name));
    let mut results = json!({"machine": machine});
    if want("sso-sync") {
        results["sso_sync"] =
            bench_sso_sync(&bin, runs, peer_runs, args.iter().any(|a| a == "--peer-throttled"), accounts, &mut md);
    }
    if want("keyaudit") {
        let users: usize = arg("--keyaudit-users").and_then(|r| r.parse().ok()).unwrap_or(2000);
        results["keyaudit"] = bench_keyaudit(&bin, runs, users, &mut md);
    }
    if want("usage") {
        let keys: usize = arg("--usage-keys").and_then(|r| r.parse().ok()).unwrap_or(200);
        results["usage"] = bench_usage(&bin, keys, &mut md);
    }
    // The scale sections run only when named (`make bench-scale`): the 10,000-account sync alone
    // takes about ten minutes.
    let named = |name: &str| only.as_deref().is_some_and(|o| o.split(',').any(|x| x == name || x == "scale"));
    let list = |name: &str, default: &[usize]| -> Vec<usize> {
        arg(name).map(|v| v.split(',').filter_map(|x| x.parse().ok()).collect()).unwrap_or_else(|| default.to_vec())
    };
    if named("scale-sync") {
        results["scale_sync"] = scale_sync(&bin, &list("--scale-accounts", &[1000, 3000, 10_000]), &mut md);
    }
    if named("scale-org") {
        results["scale_org"] = scale_org(&bin, &list("--org-accounts", &[20, 50, 200]), &mut md);
    }
    if want("keys") {
        results["keys"] = bench_keys(&bin, runs, &mut md);
    }
    if want("whoami") {
        results["whoami"] = bench_whoami(&bin, runs, &mut md);
    }
    if want("login") {
        results["login"] = bench_login(&bin, runs, &mut md);
    }
    if want("assume") {
        results["assume"] = bench_assume(&bin, runs, &mut md);
    }
    if want("config") {
        results["big_config"] = bench_big_config(runs, &mut md);
    }
    if want("memory") {
        let sandbox = Sandbox::start(standard_scenario());
        let home = Home::new();
        home.credentials(&format!(
            "[default]\naws_access_key_id = {ALICE_KEY}\naws_secret_access_key = {ALICE_SECRET}\n"
        ));
        let mut ours = home.command_with(bin.join("aws-whoami"), &sandbox, None);
        ours.args(["--no-alias", "--output", "json"]);
        let mut awscli = home.command_with(venv_bin("aws"), &sandbox, None);
        awscli.args(["sts", "get-caller-identity"]).env("AWS_DEFAULT_REGION", "us-east-1");
        if let (Some(a), Some(b)) = (peak_rss_kb(ours), peak_rss_kb(awscli)) {
            md.push(format!("## Peak memory\n\nGetCallerIdentity: aws-whoami **{:.1} MB** max RSS, `aws sts get-caller-identity` **{:.1} MB**.\n", a as f64 / 1024.0, b as f64 / 1024.0));
            results["peak_rss_kb"] = json!({"aws_whoami": a, "awscli_get_caller_identity": b});
        }
    }
    results["binary_sizes_mb"] = binary_sizes(&bin, &mut md);
    let root = workspace_root();
    std::fs::create_dir_all(root.join("bench")).expect("mkdir bench");
    let mut text = md.join("\n") + "\n";
    if only.is_some() {
        // A partial run keeps the sections and figures it did not measure.
        let old = std::fs::read_to_string(root.join("BENCHMARKS.md")).unwrap_or_default();
        text = merge_sections(&old, &text);
        let old: Value = std::fs::read_to_string(root.join("bench/results.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_else(|| json!({}));
        if let (Value::Object(mut all), Value::Object(new)) = (old, results.clone()) {
            all.remove("scale"); // split into scale_sync and scale_org
            all.extend(new);
            results = Value::Object(all);
        }
    }
    std::fs::write(root.join("bench/results.json"), serde_json::to_string_pretty(&results).unwrap() + "\n")
        .expect("write results");
    std::fs::write(root.join("BENCHMARKS.md"), &text).expect("write BENCHMARKS.md");
    println!("{}", md.join("\n"));
}

/// `old` with each `## ` section of `new` put in place of its namesake (or appended), and the
/// preamble (title, machine) taken from `new`.
fn merge_sections(old: &str, new: &str) -> String {
    fn split(text: &str) -> (String, Vec<(String, String)>) {
        let mut pre = String::new();
        let mut sections: Vec<(String, String)> = Vec::new();
        for line in text.split_inclusive('\n') {
            if line.starts_with("## ") {
                sections.push((line.trim().to_string(), String::new()));
            }
            match sections.last_mut() {
                Some((_, body)) => body.push_str(line),
                None => pre.push_str(line),
            }
        }
        (pre, sections)
    }
    let (_, mut sections) = split(old);
    // Sections that were renamed or split (their successors are written instead).
    const RETIRED: [&str; 1] = ["## Scale"];
    sections.retain(|(t, _)| !RETIRED.contains(&t.as_str()));
    let (pre, fresh) = split(new);
    for (title, body) in fresh {
        match sections.iter_mut().find(|(t, _)| *t == title) {
            Some(s) => s.1 = body,
            None => sections.push((title, body)),
        }
    }
    pre + &sections.into_iter().map(|(_, b)| b).collect::<String>()
}
