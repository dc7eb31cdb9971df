//! The AWS CLI's caches, read and written exactly as the AWS CLI v2 does (file names, hashes,
//! JSON fields, timestamp formats; peers-and-formats.md §3), so one login serves `aws`, the SDKs
//! and these tools:
//! - [`sso`]: `~/.aws/sso/cache/<sha1>.json` tokens and client registrations;
//! - [`cli`]: `~/.aws/cli/cache/<sha1>.json` role credentials (assume-role, web identity, SSO);
//! - [`login`]: `~/.aws/login/cache/<sha256>.json` sessions of `aws login`.
//!
//! Files are 0600 in 0700 folders, written atomically under a lock; a corrupt or oversized file,
//! or any file in a folder that others can write to or that we do not own, is a miss, never a
//! crash and never trusted.

pub mod cli;
pub mod login;
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

/// The largest cache file we read; anything larger is not ours (a token or a set of role
/// credentials is a few KiB).
pub const MAX_CACHE_FILE: u64 = 1024 * 1024;

/// Whether the folder a cache file sits in (and the folder above it) can be trusted: owned by us
/// and writable by nobody else. Otherwise another user could plant a file that decides who we
/// are. Says why not, once per folder, on stderr, with the fix.
fn trusted(path: &Path) -> bool {
    let Some(dir) = path.parent() else { return true };
    let problem =
        crate::fsutil::untrusted(dir, false).or_else(|| dir.parent().and_then(|p| crate::fsutil::untrusted(p, true)));
    let Some((bad, why)) = problem else { return true };
    static WARNED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    if let Ok(mut w) = WARNED.lock()
        && !w.contains(&bad)
    {
        w.push(bad.clone());
        eprintln!(
            "warning: not using the cache in {}: {why}\nhint: run `chmod 700 {}` (and make sure you own it) to trust it again",
            bad.display(),
            bad.display()
        );
    }
    false
}

/// Reads a JSON cache file; a missing, unreadable, oversized or corrupt file, or one in a folder
/// others can write to, is None (a miss).
pub fn read_json(path: &Path) -> Option<serde_json::Value> {
    use std::io::Read;
    if !trusted(path) {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    if crate::fsutil::foreign(&file.metadata().ok()?) {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_CACHE_FILE + 1).read_to_end(&mut bytes).ok()?;
    if bytes.len() as u64 > MAX_CACHE_FILE {
        return None;
    }
    serde_json::from_slice::<serde_json::Value>(&bytes).ok().filter(serde_json::Value::is_object)
}

/// Writes a JSON cache file: 0600, in a 0700 folder, atomically. Nothing is written into a folder
/// that is not trusted (see `read_json`).
pub fn write_json(path: &Path, value: &serde_json::Value) -> std::io::Result<()> {
    if path.parent().is_some_and(Path::exists) && !trusted(path) {
        return Ok(());
    }
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

#[cfg(all(test, unix))]
mod trust_tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_cache_folder_others_can_write_is_not_trusted() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("cache");
        let f = dir.join("x.json");
        write_json(&f, &serde_json::json!({"a": 1})).unwrap();
        assert!(read_json(&f).is_some());
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(read_json(&f).is_none(), "a planted file in a 0777 folder is a miss");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o770)).unwrap();
        assert!(read_json(&f).is_some(), "group-writable by our own group (umask 002) is fine");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        write_json(&f, &serde_json::json!({"a": 2})).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(read_json(&f).unwrap()["a"], 1, "nothing is written into an untrusted folder");
        std::fs::write(&f, vec![b' '; (MAX_CACHE_FILE + 10) as usize]).unwrap();
        assert!(read_json(&f).is_none(), "an oversized file is a miss");
    }
}
