//! `~/.aws/cli/cache`: role credentials, as botocore's `JSONFileCache` writes them for the AWS CLI
//! (peers-and-formats.md §3.2):
//! - AssumeRole / AssumeRoleWithWebIdentity: key `sha1(json.dumps({RoleArn, RoleSessionName?,
//!   ExternalId?, SerialNumber?, DurationSeconds?, Policy?}, sort_keys=True))` (default
//!   separators; RoleSessionName only when configured), content the STS response with
//!   `Expiration` as `%Y-%m-%dT%H:%M:%SUTC`;
//! - SSO role credentials: key `sha1(json.dumps({accountId, roleName, sessionName|startUrl},
//!   sort_keys=True, separators=(",", ":")))`, content `{"ProviderType": "sso", "Credentials":
//!   {..., "Expiration": "%Y-%m-%dT%H:%M:%SZ"}}`;
//! - our GetSessionToken MFA sessions (the AWS CLI has none): `mfa-session-<sha1>.json`, a name
//!   botocore never computes, keyed by the long-term access key and the MFA serial.
//!
//! Reused until less than 15 minutes remain, as the AWS CLI does.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{format_utc, format_z, parse_timestamp, pyjson, read_json, sha1_hex, write_json};
use crate::secret::{Credentials, Secret};

/// Credentials are reused while more than this is left (botocore's DEFAULT_EXPIRY_WINDOW_SECONDS).
pub const EXPIRY_WINDOW: time::Duration = time::Duration::seconds(900);

/// The AssumeRole arguments that make the cache key (from config, not from what was sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssumeRoleKey {
    /// RoleArn.
    pub role_arn: String,
    /// RoleSessionName, only when configured.
    pub role_session_name: Option<String>,
    /// ExternalId.
    pub external_id: Option<String>,
    /// SerialNumber (mfa_serial).
    pub serial_number: Option<String>,
    /// DurationSeconds, only when configured.
    pub duration_seconds: Option<u64>,
}

/// The cache file of an AssumeRole hop.
pub fn assume_role_path(dir: &Path, key: &AssumeRoleKey) -> PathBuf {
    let mut args = serde_json::Map::new();
    args.insert("RoleArn".into(), json!(key.role_arn));
    if let Some(v) = &key.role_session_name {
        args.insert("RoleSessionName".into(), json!(v));
    }
    if let Some(v) = &key.external_id {
        args.insert("ExternalId".into(), json!(v));
    }
    if let Some(v) = &key.serial_number {
        args.insert("SerialNumber".into(), json!(v));
    }
    if let Some(v) = key.duration_seconds {
        args.insert("DurationSeconds".into(), json!(v));
    }
    let name = sha1_hex(&pyjson::dumps(&Value::Object(args), false)).replace([':', '/', '\\'], "_");
    dir.join(format!("{name}.json"))
}

/// The cache file of SSO role credentials.
pub fn sso_role_path(
    dir: &Path,
    account_id: &str,
    role_name: &str,
    session_name: Option<&str>,
    start_url: &str,
) -> PathBuf {
    let args = match session_name {
        Some(s) => json!({"accountId": account_id, "roleName": role_name, "sessionName": s}),
        None => json!({"accountId": account_id, "roleName": role_name, "startUrl": start_url}),
    };
    dir.join(format!("{}.json", sha1_hex(&pyjson::dumps(&args, true))))
}

/// Our GetSessionToken MFA session file for a long-term key and an MFA device.
pub fn mfa_session_path(dir: &Path, access_key_id: &str, serial: &str) -> PathBuf {
    dir.join(format!("mfa-session-{}.json", sha1_hex(&format!("{access_key_id}\n{serial}"))))
}

/// Cached credentials and the principal they are for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cached {
    /// The credentials.
    pub credentials: Credentials,
    /// `AssumedRoleUser.Arn`, when the file has it.
    pub arn: Option<String>,
}

/// Reads any of the three kinds; missing, corrupt or incomplete is None.
pub fn read(path: &Path) -> Option<Cached> {
    parse(&serde_json::to_vec(&read_json(path)?).ok()?)
}

/// Parses a cache file's bytes; corrupt or incomplete is None (fuzzed: never panics).
pub fn parse(bytes: &[u8]) -> Option<Cached> {
    let v: Value = serde_json::from_slice(bytes).ok().filter(Value::is_object)?;
    let c = v.get("Credentials")?;
    let s = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
    let expiration = parse_timestamp(&s("Expiration")?)?;
    Some(Cached {
        credentials: Credentials {
            access_key_id: s("AccessKeyId")?,
            secret_access_key: Secret::new(s("SecretAccessKey")?),
            session_token: s("SessionToken").map(Secret::new),
            expiration: Some(expiration),
            account_id: s("AccountId"),
        },
        arn: v.pointer("/AssumedRoleUser/Arn").and_then(Value::as_str).map(str::to_string),
    })
}

/// Reads credentials still valid for more than [`EXPIRY_WINDOW`] at `now`.
pub fn read_valid(path: &Path, now: OffsetDateTime) -> Option<Cached> {
    read(path).filter(|c| c.credentials.valid_for(now, EXPIRY_WINDOW))
}

fn account_of(arn: &str) -> Option<String> {
    arn.split(':').nth(4).filter(|a| !a.is_empty()).map(str::to_string)
}

/// Writes an AssumeRole (or web identity) result as botocore does.
pub fn write_assume_role(path: &Path, creds: &Credentials, assumed_role_id: &str, arn: &str) -> std::io::Result<()> {
    let expiration = creds.expiration.map(format_utc).unwrap_or_default();
    let mut c = json!({
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": creds.secret_access_key.expose(),
        "SessionToken": creds.session_token.as_ref().map(Secret::expose),
        "Expiration": expiration,
    });
    if let Some(acct) = account_of(arn) {
        c["AccountId"] = json!(acct);
    }
    write_json(
        path,
        &json!({
            "Credentials": c,
            "AssumedRoleUser": {"AssumedRoleId": assumed_role_id, "Arn": arn},
            "ResponseMetadata": {"RequestId": "", "HTTPStatusCode": 200, "HTTPHeaders": {}, "RetryAttempts": 0},
        }),
    )
}

/// Writes SSO role credentials as the AWS CLI does.
pub fn write_sso_role(path: &Path, creds: &Credentials) -> std::io::Result<()> {
    write_json(
        path,
        &json!({
            "ProviderType": "sso",
            "Credentials": {
                "AccessKeyId": creds.access_key_id,
                "SecretAccessKey": creds.secret_access_key.expose(),
                "SessionToken": creds.session_token.as_ref().map(Secret::expose),
                "Expiration": creds.expiration.map(format_z).unwrap_or_default(),
                "AccountId": creds.account_id,
            }
        }),
    )
}

/// Writes an MFA session (GetSessionToken) for a long-term key and serial.
pub fn write_mfa_session(
    path: &Path,
    creds: &Credentials,
    access_key_id: &str,
    serial: &str,
    arn: Option<&str>,
) -> std::io::Result<()> {
    write_json(
        path,
        &json!({
            "ProviderType": "mfa-session",
            "SourceAccessKeyId": access_key_id,
            "SerialNumber": serial,
            "Credentials": {
                "AccessKeyId": creds.access_key_id,
                "SecretAccessKey": creds.secret_access_key.expose(),
                "SessionToken": creds.session_token.as_ref().map(Secret::expose),
                "Expiration": creds.expiration.map(format_z).unwrap_or_default(),
            },
            "AssumedRoleUser": arn.map(|a| json!({"Arn": a})),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_botocore() {
        let dir = Path::new("/c");
        let key = AssumeRoleKey {
            role_arn: "arn:aws:iam::123456789012:role/Admin".into(),
            role_session_name: Some("me".into()),
            serial_number: Some("arn:aws:iam::111111111111:mfa/me".into()),
            duration_seconds: Some(3600),
            external_id: None,
        };
        assert_eq!(assume_role_path(dir, &key), Path::new("/c/890f575f7ab3d77eabb81675c6042293d473466b.json"));
        assert_eq!(
            sso_role_path(dir, "123456789012", "Admin", Some("my-sso"), "ignored"),
            Path::new("/c/c30b99aca80d8f5b3178e353f05b2abcc9a4ccd3.json")
        );
        assert_eq!(
            sso_role_path(dir, "123456789012", "Admin", None, "https://example.awsapps.com/start"),
            Path::new("/c/764b1819cd322a32dff569462ca869a4196b4fc1.json")
        );
    }

    #[test]
    fn round_trip_and_botocore_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        let mut creds = Credentials::new("ASIAX", "sec", Some("tok".into()));
        let exp = parse_timestamp("2030-01-01T00:00:00Z").unwrap();
        creds.expiration = Some(exp);
        write_assume_role(&p, &creds, "AROAX:me", "arn:aws:sts::123456789012:assumed-role/Admin/me").unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.contains(r#""Expiration":"2030-01-01T00:00:00UTC""#) && text.contains(r#""AccountId":"123456789012""#),
            "{text}"
        );
        let back = read(&p).unwrap();
        assert_eq!(back.credentials.expiration, Some(exp));
        assert_eq!(back.arn.as_deref(), Some("arn:aws:sts::123456789012:assumed-role/Admin/me"));
        assert!(read_valid(&p, parse_timestamp("2029-12-31T23:50:00Z").unwrap()).is_none(), "under 15 minutes left");
        assert!(read_valid(&p, parse_timestamp("2029-12-31T23:40:00Z").unwrap()).is_some());
        // A file exactly as botocore writes it (with its ResponseMetadata).
        std::fs::write(&p, r#"{"Credentials": {"AccessKeyId": "ASIAB", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2030-01-01T00:00:00UTC", "AccountId": "1"}, "AssumedRoleUser": {"AssumedRoleId": "AROA:x", "Arn": "arn:aws:sts::1:assumed-role/r/x"}, "ResponseMetadata": {"RequestId": "r", "HTTPStatusCode": 200, "HTTPHeaders": {"x": "y"}, "RetryAttempts": 0}}"#).unwrap();
        assert_eq!(read(&p).unwrap().credentials.access_key_id, "ASIAB");
        std::fs::write(&p, r#"{"Credentials": {"AccessKeyId": "ASIAB"}}"#).unwrap();
        assert!(read(&p).is_none(), "incomplete is a miss");
        std::fs::write(&p, [0xff, 0xfe]).unwrap();
        assert!(read(&p).is_none(), "garbage is a miss");
    }
}

#[cfg(test)]
mod expiry_tests {
    use super::*;

    #[test]
    fn cached_credentials_are_reused_until_fifteen_minutes_remain() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.json");
        let expires = time::macros::datetime!(2026-11-28 13:00 UTC);
        let creds = Credentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Secret::new("s"),
            session_token: Some(Secret::new("t")),
            expiration: Some(expires),
            account_id: None,
        };
        write_assume_role(&p, &creds, "AROA:x", "arn:aws:sts::1:assumed-role/r/x").unwrap();
        assert!(read_valid(&p, expires - time::Duration::minutes(16)).is_some());
        assert!(read_valid(&p, expires - time::Duration::minutes(14)).is_none());
        assert!(read_valid(&p, expires + time::Duration::minutes(1)).is_none());
        assert!(read(&p).is_some(), "an expired file still parses; only its use is refused");
    }
}
