//! `aws-assume`: Assume roles (source_profile chains, MFA) and export the credentials every way people use them.
//!
//! Skeleton: the command line parses; the tool itself lands with its own issue.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

/// Assume roles (source_profile chains, MFA) and export the credentials every way people use them.
#[derive(Debug, Parser)]
#[command(name = "aws-assume", version, about)]
pub struct Cli {}

/// The clap command (for completions and man pages).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Runs the tool with `args` and returns its exit code.
pub fn main_impl(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    match Cli::try_parse_from(args) {
        Ok(_) => {
            eprintln!("error: aws-assume is not implemented yet");
            ExitCode::from(2)
        }
        Err(e) => {
            let _ = e.print();
            ExitCode::from(if e.use_stderr() { 2 } else { 0 })
        }
    }
}
