//! `~/.aws/sso/cache`: SSO access tokens and OIDC client registrations, as the AWS CLI v2 writes
//! them (peers-and-formats.md §3.1):
//! - token file: `sha1(sso_session name)` (or `sha1(start URL)` for legacy profiles) + `.json`,
//!   fields `startUrl, region, accessToken, expiresAt, clientId, clientSecret,
//!   registrationExpiresAt, refreshToken`, timestamps `%Y-%m-%dT%H:%M:%SZ`;
//! - registration file: `sha1(json.dumps({"tool": "botocore", "startUrl", "region", "scopes",
//!   "session_name"}, sort_keys=True))` + `.json`, fields `clientId, clientSecret, expiresAt,
//!   scopes, grantTypes`.
//!
//! Unknown fields of a token file are kept when we rewrite it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::{format_z, parse_timestamp, pyjson, read_json, sha1_hex, write_json};
use crate::secret::Secret;

/// A cached SSO token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SsoToken {
    /// The start URL it was issued for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_url: Option<String>,
    /// The Identity Center region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The bearer token.
    pub access_token: Secret,
    /// `%Y-%m-%dT%H:%M:%SZ`
    pub expires_at: String,
    /// The OIDC client (refresh needs it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The OIDC client secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    /// When the client registration expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_expires_at: Option<String>,
    /// The refresh token, issued when the registration had scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// Fields other tools wrote (`receivedAt`, ...), kept as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SsoToken {
    /// When the access token expires (None if the field is unreadable).
    pub fn expires(&self) -> Option<OffsetDateTime> {
        parse_timestamp(&self.expires_at)
    }

    /// Whether it can be refreshed at `now`: refresh token, client and an unexpired registration.
    pub fn refreshable(&self, now: OffsetDateTime) -> bool {
        self.refresh_token.is_some()
            && self.client_id.is_some()
            && self.client_secret.is_some()
            && self.registration_expires_at.as_deref().and_then(parse_timestamp).is_some_and(|r| r > now)
    }
}

/// The token file name key: the session name, or the start URL for legacy profiles.
pub fn token_path(dir: &Path, session_or_start_url: &str) -> PathBuf {
    dir.join(format!("{}.json", sha1_hex(session_or_start_url)))
}

/// Reads a token; a missing or corrupt file (or one without accessToken/expiresAt) is None.
pub fn read_token(path: &Path) -> Option<SsoToken> {
    serde_json::from_value(read_json(path)?).ok()
}

/// Parses a token file's bytes; corrupt or incomplete is None (fuzzed: never panics).
pub fn parse_token(bytes: &[u8]) -> Option<SsoToken> {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .filter(serde_json::Value::is_object)
        .and_then(|v| serde_json::from_value(v).ok())
}

/// Writes a token atomically, 0600.
pub fn write_token(path: &Path, token: &SsoToken) -> std::io::Result<()> {
    write_json(path, &serde_json::to_value(token).map_err(std::io::Error::other)?)
}

/// A cached client registration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: Secret,
    /// `%Y-%m-%dT%H:%M:%SZ`
    pub expires_at: String,
    /// Registered scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Registered grant types (PKCE registrations only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
}

/// The registration file of an sso-session (botocore's `_registration_cache_key`).
pub fn registration_path(dir: &Path, start_url: &str, region: &str, scopes: &[String], session_name: &str) -> PathBuf {
    let args = json!({
        "tool": "botocore",
        "startUrl": start_url,
        "region": region,
        "scopes": scopes,
        "session_name": session_name,
    });
    dir.join(format!("{}.json", sha1_hex(&pyjson::dumps(&args, false))))
}

/// Reads a registration; missing or corrupt is None.
pub fn read_registration(path: &Path) -> Option<Registration> {
    serde_json::from_value(read_json(path)?).ok()
}

/// Writes a registration atomically, 0600.
pub fn write_registration(path: &Path, reg: &Registration) -> std::io::Result<()> {
    write_json(path, &serde_json::to_value(reg).map_err(std::io::Error::other)?)
}

/// A token as the AWS CLI writes it after a login or refresh.
#[allow(clippy::too_many_arguments)]
pub fn new_token(
    start_url: &str,
    region: &str,
    access_token: &str,
    expires_at: OffsetDateTime,
    reg: Option<&Registration>,
    refresh_token: Option<&str>,
) -> SsoToken {
    SsoToken {
        start_url: Some(start_url.into()),
        region: Some(region.into()),
        access_token: access_token.into(),
        expires_at: format_z(expires_at),
        client_id: reg.map(|r| r.client_id.clone()),
        client_secret: reg.map(|r| r.client_secret.clone()),
        registration_expires_at: reg.map(|r| r.expires_at.clone()),
        refresh_token: refresh_token.map(Secret::new),
        extra: Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_match_the_aws_cli() {
        let dir = Path::new("/c");
        assert_eq!(token_path(dir, "my-sso"), Path::new("/c/0ad374308c5a4e22f723adf10145eafad7c4031c.json"));
        let reg = registration_path(
            dir,
            "https://example.awsapps.com/start",
            "us-east-1",
            &["sso:account:access".into()],
            "my-sso",
        );
        assert_eq!(reg, Path::new("/c/e83b78ff73aa2ebd41812af5abcc466dca567738.json"));
    }

    #[test]
    fn tokens_round_trip_keeping_unknown_fields_and_corrupt_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.json");
        std::fs::write(&p, r#"{"startUrl":"u","region":"r","accessToken":"a","expiresAt":"2026-01-01T00:00:00Z","receivedAt":"2025-12-31T16:00:00Z"}"#).unwrap();
        let t = read_token(&p).unwrap();
        assert!(!t.refreshable(OffsetDateTime::UNIX_EPOCH));
        write_token(&p, &t).unwrap();
        let back: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        assert_eq!(back["receivedAt"], "2025-12-31T16:00:00Z");
        std::fs::write(&p, "{not json").unwrap();
        assert!(read_token(&p).is_none());
        std::fs::write(&p, r#"{"accessToken":"a"}"#).unwrap();
        assert!(read_token(&p).is_none(), "expiresAt is required");
    }
}
