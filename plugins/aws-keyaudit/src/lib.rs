//! `aws-keyaudit`: Audit IAM access keys: age, last use, two active keys, root keys, source-IP restriction.
//!
//! Skeleton: the command line parses; the tool itself lands with its own issue.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

/// Audit IAM access keys: age, last use, two active keys, root keys, source-IP restriction.
#[derive(Debug, Parser)]
#[command(name = "aws-keyaudit", version, about)]
pub struct Cli {}

/// The clap command (for completions and man pages).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Runs the tool with `args` and returns its exit code.
pub fn main_impl(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    match Cli::try_parse_from(args) {
        Ok(_) => {
            eprintln!("error: aws-keyaudit is not implemented yet");
            ExitCode::from(2)
        }
        Err(e) => {
            let _ = e.print();
            ExitCode::from(if e.use_stderr() { 2 } else { 0 })
        }
    }
}
