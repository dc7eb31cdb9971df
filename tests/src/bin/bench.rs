//! `make bench`: side-by-side figures on the local sandbox, written to BENCHMARKS.md and
//! bench/results.json. Every command runs at least `--runs` times (after a warm-up); we report
//! the median, min, max and p90 wall time. No figure here is asserted by a test: speed claims
//! are measured, not hard-coded.
//!
//! Usage: bench [--runs N] [--target-dir DIR]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use e2e::harness::{Home, Sandbox, fixture::*, standard_scenario, venv_bin, workspace_root};
use serde_json::{Value, json};

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
fn time_command(label: &str, runs: usize, mut make: impl FnMut() -> Command) -> Stats {
    let mut samples = Vec::with_capacity(runs);
    for i in 0..=runs {
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
    md.push(row("raw signed request (`curl --aws-sigv4`)", &curl));
    md.push(row("`aws-whoami --help`", &help));
    md.push(format!(
        "\n- aws-whoami is **{speedup:.1}×** faster than `aws sts get-caller-identity` (target: ≥ 30×).\n- aws-whoami takes **{vs_raw:.2}×** the time of a raw signed request from curl (target: ≤ 1.5×).\n- `--help`: **{:.2} ms** median (target: < 5 ms).\n",
        help.median
    ));
    json!({"aws_whoami": stat_json(&ours), "awscli_get_caller_identity": stat_json(&awscli), "curl_raw": stat_json(&curl), "help": stat_json(&help),
        "speedup_vs_awscli": speedup, "ratio_vs_raw": vs_raw})
}

fn binary_sizes(bin: &Path, md: &mut Vec<String>) -> Value {
    md.push("## Binary sizes (release: fat LTO, opt-level s, stripped)\n".into());
    md.push("| binary | MB |\n| --- | --- |".into());
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
    let whoami = bench_whoami(&bin, runs, &mut md);
    let sizes = binary_sizes(&bin, &mut md);
    let results = json!({"machine": machine, "whoami": whoami, "binary_sizes_mb": sizes});
    let root = workspace_root();
    std::fs::create_dir_all(root.join("bench")).expect("mkdir bench");
    std::fs::write(root.join("bench/results.json"), serde_json::to_string_pretty(&results).unwrap() + "\n")
        .expect("write results");
    std::fs::write(root.join("BENCHMARKS.md"), md.join("\n") + "\n").expect("write BENCHMARKS.md");
    println!("{}", md.join("\n"));
}
