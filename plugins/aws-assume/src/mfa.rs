//! MFA codes: `--mfa-code`, the profile's `mfa_process` (e.g. a YubiKey OATH reader), or a prompt
//! on the terminal itself (/dev/tty), so it works when stdout and stderr are captured, as under
//! credential_process. A code that is not 6 digits is asked again before any call.

use std::io::{BufRead, BufReader, Write};
use std::sync::Mutex;

use shared::config::AwsFiles;
use shared::credentials::MfaProvider;
use shared::error::{CredentialError, Error};

/// Whether `code` looks like a TOTP code.
pub fn valid_code(code: &str) -> bool {
    code.len() == 6 && code.chars().all(|c| c.is_ascii_digit())
}

/// Codes for the chain.
pub struct Prompt {
    flag: Mutex<Option<String>>,
    processes: Vec<(String, String)>,
}

impl Prompt {
    /// `--mfa-code` (used for the first ask), and every profile's `mfa_process` in the files.
    pub fn new(flag: Option<String>, files: &AwsFiles, target: &str) -> Self {
        let mut processes = Vec::new();
        for name in files.profile_names() {
            if let Ok(p) = files.profile(&name)
                && let Some(cmd) = p.get("mfa_process")
            {
                processes.push((name, cmd.to_string()));
            }
        }
        // The target profile's mfa_process also serves hops defined by other profiles.
        if let Some(pos) = processes.iter().position(|(n, _)| n == target) {
            let t = processes.remove(pos);
            processes.push(("*".into(), t.1));
        }
        Self { flag: Mutex::new(flag), processes }
    }

    fn process_for(&self, profile: &str) -> Option<&str> {
        self.processes
            .iter()
            .find(|(n, _)| n == profile)
            .or_else(|| self.processes.iter().find(|(n, _)| n == "*"))
            .map(|(_, c)| c.as_str())
    }
}

fn fail(profile: &str, message: String) -> Error {
    CredentialError::Rejected {
        operation: "reading the MFA code".into(),
        arn: None,
        code: "MfaCode".into(),
        message,
        command: Some(format!("aws-assume {profile} --mfa-code CODE")),
    }
    .into()
}

impl MfaProvider for Prompt {
    fn code(&self, serial: &str, profile: &str) -> Result<String, Error> {
        if let Some(code) = self.flag.lock().ok().and_then(|mut f| f.take()) {
            return Ok(code);
        }
        if let Some(cmd) = self.process_for(profile) {
            let argv = shlex::split(cmd)
                .filter(|a| !a.is_empty())
                .ok_or_else(|| fail(profile, format!("mfa_process `{cmd}` cannot be split into words")))?;
            let out = std::process::Command::new(&argv[0])
                .args(&argv[1..])
                .env("AWS_MFA_SERIAL", serial)
                .stderr(std::process::Stdio::inherit())
                .output()
                .map_err(|e| fail(profile, format!("mfa_process `{}` could not be started: {e}", argv[0])))?;
            let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !out.status.success() || !valid_code(&code) {
                return Err(fail(profile, format!("mfa_process `{}` did not print a 6-digit code", argv[0])));
            }
            return Ok(code);
        }
        let tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").map_err(|e| {
            fail(profile, format!("no terminal to ask for the MFA code of {serial} ({e}); pass --mfa-code or set mfa_process in the profile"))
        })?;
        let mut reader = BufReader::new(tty.try_clone().map_err(|e| fail(profile, e.to_string()))?);
        let mut writer = tty;
        for _ in 0..3 {
            let _ = write!(writer, "Enter MFA code for {serial}: ");
            let _ = writer.flush();
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let code = line.trim();
            if valid_code(code) {
                return Ok(code.to_string());
            }
            let _ = writeln!(writer, "An MFA code is 6 digits; try again.");
        }
        Err(fail(profile, format!("no valid MFA code was entered for {serial}")))
    }
}
