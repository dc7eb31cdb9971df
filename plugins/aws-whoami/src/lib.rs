//! `aws-whoami`: Who am I, in which account, through which profile and credential source, until when.
//!
//! Skeleton: the command line parses; the tool itself lands with its own issue.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

/// Who am I, in which account, through which profile and credential source, until when.
#[derive(Debug, Parser)]
#[command(name = "aws-whoami", version, about)]
pub struct Cli {}

/// The clap command (for completions and man pages).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Runs the tool with `args` and returns its exit code.
pub fn main_impl(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    match Cli::try_parse_from(args) {
        Ok(_) => {
            eprintln!("error: aws-whoami is not implemented yet");
            ExitCode::from(2)
        }
        Err(e) => {
            let _ = e.print();
            ExitCode::from(if e.use_stderr() { 2 } else { 0 })
        }
    }
}
