//! `credential_process`: the command is split with shell rules (no shell runs), run with its
//! stderr captured; its stdout must be the botocore contract: `{"Version": 1, "AccessKeyId",
//! "SecretAccessKey", "SessionToken"?, "Expiration"?, "AccountId"?}`. A failure shows the command's
//! own stderr, never its stdout (which may hold a secret).

use super::{Context, Resolved, Source};
use crate::cache::{format_z, parse_timestamp};
use crate::error::{CredentialError, Error};
use crate::secret::{Credentials, Secret};

fn fail(profile: &str, message: String) -> Error {
    CredentialError::Process { profile: profile.into(), message }.into()
}

/// Parses the JSON a credential_process printed (also used by tests and fuzzing).
pub fn parse_output(profile: &str, stdout: &[u8]) -> Result<Credentials, Error> {
    let v: serde_json::Value = serde_json::from_slice(stdout)
        .map_err(|e| fail(profile, format!("printed something that is not JSON ({e})")))?;
    match v.get("Version") {
        Some(serde_json::Value::Number(n)) if n.as_i64() == Some(1) => {}
        Some(other) => {
            let kind = match other {
                serde_json::Value::Number(_) => "another number",
                serde_json::Value::String(_) => "a string",
                _ => "a non-number",
            };
            return Err(fail(profile, format!("printed a Version that is {kind}; only Version 1 is supported")));
        }
        None => return Err(fail(profile, "printed JSON without \"Version\": 1".into())),
    }
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).filter(|x| !x.is_empty()).map(str::to_string);
    let id = s("AccessKeyId").ok_or_else(|| fail(profile, "printed JSON without AccessKeyId".into()))?;
    let secret = s("SecretAccessKey").ok_or_else(|| fail(profile, "printed JSON without SecretAccessKey".into()))?;
    let expiration = match s("Expiration") {
        None => None,
        Some(e) => Some(
            parse_timestamp(&e)
                .ok_or_else(|| fail(profile, format!("printed an Expiration ({} characters) that is not an ISO 8601 time such as 2026-01-01T00:00:00Z; the value is not shown, it may hold anything", e.chars().count())))?,
        ),
    };
    Ok(Credentials {
        access_key_id: id,
        secret_access_key: Secret::new(secret),
        session_token: s("SessionToken").map(Secret::new),
        expiration,
        account_id: s("AccountId"),
    })
}

/// Runs the profile's credential_process.
pub async fn credentials(ctx: &Context<'_>, profile: &str, command: &str) -> Result<Resolved, Error> {
    let argv = shlex::split(command)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| fail(profile, format!("`{command}` cannot be split into words (unbalanced quotes?)")))?;
    let out = tokio::process::Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(std::process::Stdio::inherit())
        .output()
        .await
        .map_err(|e| fail(profile, format!("`{}` could not be started: {e}", argv[0])))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        let code = out.status.code().map(|c| format!("exit code {c}")).unwrap_or_else(|| "a signal".into());
        return Err(fail(
            profile,
            format!(
                "`{}` failed with {code}{}",
                argv[0],
                if stderr.is_empty() { String::new() } else { format!(": {stderr}") }
            ),
        ));
    }
    let creds = parse_output(profile, &out.stdout)?;
    if let Some(e) = creds.expiration
        && e <= ctx.clock.now()
    {
        return Err(CredentialError::Expired {
            source_name: format!("credential_process of `{profile}`"),
            expired: format_z(e),
            command: format!("aws-assume {profile}"),
        }
        .into());
    }
    Ok(Resolved { credentials: creds, source: Source::Process, profile: Some(profile.into()), arn: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_never_echo_what_the_process_printed() {
        let crash =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/fuzz-regressions-process-1.json")).unwrap();
        let e = parse_output("p", &crash).unwrap_err().to_string();
        assert!(!e.contains("secret-value"), "{e}");
    }

    #[test]
    fn contract() {
        let c = parse_output("p", br#"{"Version": 1, "AccessKeyId": "ASIA1", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2030-01-01T00:00:00Z", "AccountId": "1"}"#).unwrap();
        assert_eq!((c.access_key_id.as_str(), c.account_id.as_deref()), ("ASIA1", Some("1")));
        assert!(
            parse_output("p", br#"{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "s"}"#)
                .unwrap()
                .expiration
                .is_none()
        );
        for (bad, why) in [
            (&br#"{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "s"}"#[..], "Version that is another number"),
            (br#"{"AccessKeyId": "A", "SecretAccessKey": "s"}"#, "without \"Version\""),
            (br#"{"Version": 1, "SecretAccessKey": "s"}"#, "without AccessKeyId"),
            (br#"{"Version": 1, "AccessKeyId": "A"}"#, "without SecretAccessKey"),
            (br#"{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "s", "Expiration": "soon"}"#, "not an ISO 8601"),
            (b"Enter MFA code:", "not JSON"),
        ] {
            let e = parse_output("p", bad).unwrap_err().to_string();
            assert!(e.contains(why), "{e}");
            assert!(!e.contains("\"s\""), "no secret in errors: {e}");
        }
    }
}
