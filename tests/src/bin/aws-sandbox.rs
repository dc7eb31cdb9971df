//! `aws-sandbox`: the project's local AWS on 127.0.0.1, for people and for the demo.
//!
//! ```text
//! aws-sandbox [--scenario FILE] [--port N] [--auto-approve] [--with-moto]
//! ```
//! Prints one line `AWS_ENDPOINT_URL=http://127.0.0.1:<port>` style exports to stdout once it
//! listens (so `eval "$(aws-sandbox ... &)"` style scripts and the harness can read it), then serves
//! until killed. `--with-moto` also starts moto from the venv for IAM and prints its URL.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use clap::Parser;
use e2e::emulator::Emulator;
use e2e::emulator::scenario::Scenario;

#[derive(Parser)]
#[command(
    version,
    about = "The local AWS sandbox: IAM Identity Center portal, SSO-OIDC and STS with real MFA checks, on 127.0.0.1"
)]
struct Args {
    /// Scenario file (JSON): accounts, users, MFA devices, roles, SSO settings, faults.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Approve every SSO login as soon as it is asked for.
    #[arg(long)]
    auto_approve: bool,
    /// Also start moto (IAM) from the venv (`make venv`).
    #[arg(long)]
    with_moto: bool,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let mut scenario = match &args.scenario {
        Some(path) => match Scenario::from_file(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return std::process::ExitCode::from(2);
            }
        },
        None => Scenario::default(),
    };
    if args.auto_approve {
        scenario.sso.auto_approve = true;
    }
    let mut moto = None;
    if args.with_moto {
        let venv = std::env::var_os("SANDBOX_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| e2e::harness::workspace_root().join(".venv"));
        let child = Command::new(venv.join("bin/python"))
            .arg(e2e::harness::workspace_root().join("tests/sandbox/moto_server.py"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: cannot start moto from {}: {e}\nhint: run `make venv`", venv.display());
                return std::process::ExitCode::from(2);
            }
        };
        let mut line = String::new();
        let _ = BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line);
        let Some(port) = line.trim().strip_prefix("PORT ").map(str::to_string) else {
            eprintln!("error: moto did not start\nhint: run `make venv`");
            return std::process::ExitCode::from(2);
        };
        moto = Some((child, port));
    }
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let mut out = std::io::stdout().lock();
        writeln!(out, "export AWS_ENDPOINT_URL_STS={url}")?;
        writeln!(out, "export AWS_ENDPOINT_URL_SSO={url}")?;
        writeln!(out, "export AWS_ENDPOINT_URL_SSO_OIDC={url}")?;
        if let Some((_, port)) = &moto {
            writeln!(out, "export AWS_ENDPOINT_URL_IAM=http://127.0.0.1:{port}")?;
        }
        writeln!(out, "# aws-sandbox ready")?;
        out.flush()?;
        drop(out);
        Emulator::new(scenario).serve(listener).await
    });
    if let Err(e) = result {
        eprintln!("error: {e}");
        return std::process::ExitCode::from(4);
    }
    std::process::ExitCode::SUCCESS
}
