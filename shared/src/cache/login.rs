//! `~/.aws/login/cache`: the sessions of `aws login` (AWS CLI 2.32+), as botocore reads and writes
//! them (aws-2026-update.md):
//! - folder: `$AWS_LOGIN_CACHE_DIRECTORY`, else `~/.aws/login/cache`;
//! - file: `<hex sha256(login_session)>.json`;
//! - JSON (botocore's `json.dumps`, keys in this order): `accessToken{accessKeyId,
//!   secretAccessKey, sessionToken, accountId, expiresAt "%Y-%m-%dT%H:%M:%SZ"}`, `tokenType`,
//!   `clientId`, `refreshToken`, `idToken`, `dpopKey` (PEM), and optionally `signInRegion`.
//!
//! Unknown fields are kept when we rewrite a file. The AWS CLI's bundled botocore rewrites the
//! file in place, so a half-written file is a miss here (it says why), never a crash.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{parse_timestamp, pyjson, read_json};
use crate::os::Env;
use crate::secret::Secret;

/// The folder: `$AWS_LOGIN_CACHE_DIRECTORY` (with `~` and `$VARS` expanded, as botocore does), else
/// `~/.aws/login/cache`.
pub fn login_cache_dir(env: &Env) -> PathBuf {
    match env.get("AWS_LOGIN_CACHE_DIRECTORY").filter(|d| !d.is_empty()) {
        Some(dir) => env.expand_path(dir),
        None => env.home().unwrap_or_default().join(".aws").join("login").join("cache"),
    }
}

/// The cache file of a session: `<hex sha256(login_session)>.json`.
pub fn token_path(dir: &Path, login_session: &str) -> PathBuf {
    dir.join(format!("{}.json", hex::encode(Sha256::digest(login_session.as_bytes()))))
}

/// The temporary credentials of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessToken {
    /// `ASIA...`
    pub access_key_id: String,
    /// The secret key.
    pub secret_access_key: Secret,
    /// The session token.
    pub session_token: Secret,
    /// The account (botocore needs it to refresh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// `%Y-%m-%dT%H:%M:%SZ`
    pub expires_at: String,
    /// Fields other tools wrote.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One cached `aws login` session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginToken {
    /// The current credentials.
    pub access_token: AccessToken,
    /// `aws_sigv4`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// `arn:aws:signin:::devtools/same-device` or `.../cross-device`.
    pub client_id: String,
    /// Rotates on every refresh.
    pub refresh_token: Secret,
    /// The OpenID token of the sign-in (its `sub` is the session); kept across refreshes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// The P-256 key the refresh token is bound to (PEM).
    pub dpop_key: Secret,
    /// The region the session was granted in (refreshes must go there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_region: Option<String>,
    /// Fields other tools wrote, kept as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl LoginToken {
    /// When the credentials expire (None if the field is unreadable).
    pub fn expires(&self) -> Option<OffsetDateTime> {
        parse_timestamp(&self.access_token.expires_at)
    }
}

/// Why a cache file gave no session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// No file.
    Missing,
    /// Not JSON (half-written, corrupt), too large, or in a folder others can write to.
    Unreadable,
    /// JSON without the fields a session needs.
    Incomplete(Vec<&'static str>),
}

impl std::fmt::Display for Miss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Miss::Missing => write!(f, "no cached session (not logged in, or logged out)"),
            Miss::Unreadable => write!(f, "its cache file is not readable JSON (half-written or corrupt)"),
            Miss::Incomplete(fields) => write!(f, "its cache file lacks {}", fields.join(", ")),
        }
    }
}

/// The fields botocore requires (its `_REQUIRED_TOKEN_FIELDS`), and the credential fields in them.
const REQUIRED: [&str; 4] = ["accessToken", "refreshToken", "dpopKey", "clientId"];

/// Reads a session.
pub fn read_token(path: &Path) -> Result<LoginToken, Miss> {
    if !path.exists() {
        return Err(Miss::Missing);
    }
    parse(read_json(path).ok_or(Miss::Unreadable)?)
}

/// Parses a session file's JSON (fuzz-safe: never panics).
pub fn parse(value: Value) -> Result<LoginToken, Miss> {
    let missing: Vec<&'static str> = REQUIRED.into_iter().filter(|k| value.get(*k).is_none()).collect();
    if !missing.is_empty() {
        return Err(Miss::Incomplete(missing));
    }
    serde_json::from_value(value).map_err(|_| {
        Miss::Incomplete(vec!["accessToken.accessKeyId/secretAccessKey/sessionToken/expiresAt (as strings)"])
    })
}

/// The file's text: botocore's `json.dumps` (`", "` and `": "`, ASCII, keys in field order).
pub fn to_text(token: &LoginToken) -> String {
    pyjson::dumps_unsorted(&serde_json::to_value(token).expect("a login token serializes"))
}

/// Writes a session: 0600 in a 0700 folder, atomically (temp file + rename).
pub fn write_token(path: &Path, token: &LoginToken) -> std::io::Result<()> {
    if path.parent().is_some_and(Path::exists) && !super::trusted(path) {
        return Err(std::io::Error::other(format!("{} is writable by others", path.display())));
    }
    crate::fsutil::atomic_write(path, to_text(token).as_bytes(), Some(0o600))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: &str = "arn:aws:sts::012345678910:assumed-role/Admin/admin";

    fn sample() -> Value {
        serde_json::json!({
            "accessToken": {
                "accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "s", "sessionToken": "t",
                "accountId": "012345678910", "expiresAt": "2026-11-28T12:15:00Z"
            },
            "tokenType": "aws_sigv4",
            "clientId": "arn:aws:signin:::devtools/same-device",
            "refreshToken": "r",
            "idToken": "h.p.s",
            "dpopKey": "-----BEGIN EC PRIVATE KEY-----\nAA==\n-----END EC PRIVATE KEY-----\n",
            "futureField": [1, 2]
        })
    }

    #[test]
    fn file_name_is_the_sha256_of_the_session() {
        // The file name in botocore's and the AWS SDKs' shared login test cases for this session.
        let p = token_path(Path::new("/c"), SESSION);
        assert_eq!(p, Path::new("/c/4b0ba8f99f075c0633e122fd73346ce203a3faf18ea0310eb2d29df1bab2e255.json"));
    }

    #[test]
    fn the_folder_follows_aws_login_cache_directory() {
        let env = Env::from_pairs([("HOME", "/h")]);
        assert_eq!(login_cache_dir(&env), Path::new("/h/.aws/login/cache"));
        let env = Env::from_pairs([("HOME", "/h"), ("AWS_LOGIN_CACHE_DIRECTORY", "~/elsewhere")]);
        assert_eq!(login_cache_dir(&env), Path::new("/h/elsewhere"));
    }

    #[test]
    fn round_trip_keeps_botocores_order_format_and_unknown_fields() {
        let t = parse(sample()).unwrap();
        assert_eq!(t.access_token.account_id.as_deref(), Some("012345678910"));
        let text = to_text(&t);
        assert!(
            text.starts_with(
                r#"{"accessToken": {"accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "s", "sessionToken": "t", "accountId": "012345678910", "expiresAt": "2026-11-28T12:15:00Z"}, "tokenType": "aws_sigv4", "clientId": "#
            ),
            "{text}"
        );
        assert!(text.ends_with(r#""futureField": [1, 2]}"#), "{text}");
        assert_eq!(parse(serde_json::from_str(&text).unwrap()).unwrap(), t);
    }

    #[test]
    fn incomplete_and_broken_files_are_misses_that_say_why() {
        let mut v = sample();
        v.as_object_mut().unwrap().remove("refreshToken");
        v.as_object_mut().unwrap().remove("dpopKey");
        assert_eq!(parse(v).unwrap_err(), Miss::Incomplete(vec!["refreshToken", "dpopKey"]));
        let mut v = sample();
        v["accessToken"]["expiresAt"] = Value::from(5);
        assert!(matches!(parse(v), Err(Miss::Incomplete(_))));
        let dir = tempfile::tempdir().unwrap();
        let path = token_path(dir.path(), SESSION);
        assert_eq!(read_token(&path).unwrap_err(), Miss::Missing);
        let full = to_text(&parse(sample()).unwrap());
        std::fs::write(&path, &full[..full.len() / 2]).unwrap();
        assert_eq!(read_token(&path).unwrap_err(), Miss::Unreadable, "a half-written file is a miss");
        write_token(&path, &parse(sample()).unwrap()).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), full);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
