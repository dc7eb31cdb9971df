//! The AWS CLI's caches, read and written exactly as the AWS CLI v2 does (file names, hashes,
//! JSON fields, timestamp formats; peers-and-formats.md §3), so one login serves `aws`, the SDKs
//! and these tools:
//! - [`sso`]: `~/.aws/sso/cache/<sha1>.json` tokens and client registrations;
//! - [`cli`]: `~/.aws/cli/cache/<sha1>.json` role credentials (assume-role, web identity, SSO).
//!
//! Files are 0600 in 0700 folders, written atomically under a lock; a corrupt file is a miss,
//! never a crash.

pub mod cli;
pub mod pyjson;
pub mod sso;

use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::os::Env;

/// `~/.aws/sso/cache`
pub fn sso_cache_dir(env: &Env) -> PathBuf {
    env.home().unwrap_or_default().join(".aws").join("sso").join("cache")
}

/// `~/.aws/cli/cache`
pub fn cli_cache_dir(env: &Env) -> PathBuf {
    env.home().unwrap_or_default().join(".aws").join("cli").join("cache")
}

/// lower-case hex SHA-1 (the AWS CLI's cache file names).
pub fn sha1_hex(text: &str) -> String {
    use sha1::{Digest, Sha1};
    hex::encode(Sha1::digest(text.as_bytes()))
}

/// Parses the timestamps found in AWS CLI caches and credential_process output:
/// `2026-01-01T13:00:00Z`, `...UTC` (botocore's JSONFileCache), `+00:00`, fractional seconds.
pub fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    let t = text.trim();
    let normalized = if let Some(base) = t.strip_suffix("UTC") {
        format!("{}Z", base.trim_end())
    } else if t.len() == 19 {
        format!("{t}Z")
    } else {
        t.to_string()
    };
    OffsetDateTime::parse(&normalized, &Rfc3339).ok().map(|d| d.to_offset(time::UtcOffset::UTC))
}

/// `2026-01-01T13:00:00Z` (seconds precision, UTC).
pub fn format_z(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `2026-01-01T13:00:00UTC`: botocore's JSONFileCache format for assume-role credentials.
pub fn format_utc(t: OffsetDateTime) -> String {
    let z = format_z(t);
    format!("{}UTC", &z[..z.len() - 1])
}

/// Reads a JSON cache file; a missing, unreadable or corrupt file is None.
pub fn read_json(path: &Path) -> Option<serde_json::Value> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes).ok().filter(serde_json::Value::is_object)
}

/// Writes a JSON cache file: 0600, in a 0700 folder, atomically.
pub fn write_json(path: &Path, value: &serde_json::Value) -> std::io::Result<()> {
    let text = serde_json::to_string(value).map_err(std::io::Error::other)?;
    crate::fsutil::atomic_write(path, text.as_bytes(), Some(0o600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let t = parse_timestamp("2026-01-01T13:00:00Z").unwrap();
        assert_eq!(parse_timestamp("2026-01-01T13:00:00UTC"), Some(t));
        assert_eq!(parse_timestamp("2026-01-01T13:00:00+00:00"), Some(t));
        assert_eq!(parse_timestamp("2026-01-01T14:00:00+01:00"), Some(t));
        assert_eq!(parse_timestamp("2026-01-01T13:00:00"), Some(t));
        assert!(parse_timestamp("2026-01-01T13:00:00.123Z").is_some());
        assert!(parse_timestamp("tomorrow").is_none());
        assert_eq!(format_z(t), "2026-01-01T13:00:00Z");
        assert_eq!(format_utc(t), "2026-01-01T13:00:00UTC");
    }

    #[test]
    fn sha1_matches_the_aws_cli_examples() {
        assert_eq!(sha1_hex("my-sso"), "0ad374308c5a4e22f723adf10145eafad7c4031c");
        assert_eq!(sha1_hex("https://example.awsapps.com/start"), "e8be5486177c5b5392bd9aa76563515b29358e6e");
    }
}
