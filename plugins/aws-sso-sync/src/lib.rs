//! `aws-sso-sync`: Log in to IAM Identity Center and keep every account and role as a profile in ~/.aws/config.
//!
//! Skeleton: the command line parses; the tool itself lands with its own issue.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

/// Log in to IAM Identity Center and keep every account and role as a profile in ~/.aws/config.
#[derive(Debug, Parser)]
#[command(name = "aws-sso-sync", version, about)]
pub struct Cli {}

/// The clap command (for completions and man pages).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Runs the tool with `args` and returns its exit code.
pub fn main_impl(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    match Cli::try_parse_from(args) {
        Ok(_) => {
            eprintln!("error: aws-sso-sync is not implemented yet");
            ExitCode::from(2)
        }
        Err(e) => {
            let _ = e.print();
            ExitCode::from(if e.use_stderr() { 2 } else { 0 })
        }
    }
}
