//! Secret values and AWS credentials. A [`Secret`] never shows itself in `Debug` or `Display`
//! (so it cannot leak into logs or error messages by accident) and is zeroed when dropped; the
//! only way to the value is [`Secret::expose`], which call sites that really print or send it use.

use time::OffsetDateTime;
use zeroize::Zeroize;

/// A secret string: masked when formatted, zeroed on drop.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The value, for the few places that must send or print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// Written as the plain string: only cache files (0600) and the credential formats the user asked
/// for serialize a secret; logs and errors use `Debug`/`Display`, which mask it.
impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

impl From<&str> for Secret {
    fn from(v: &str) -> Self {
        Secret::new(v)
    }
}

impl From<String> for Secret {
    fn from(v: String) -> Self {
        Secret(v)
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("****")
    }
}

/// A set of AWS credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `AKIA...` / `ASIA...` (not secret: AWS logs it in CloudTrail).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Secret,
    /// The session token of temporary credentials.
    pub session_token: Option<Secret>,
    /// When they stop working (None: long-term keys).
    pub expiration: Option<OffsetDateTime>,
    /// The account, when the source says.
    pub account_id: Option<String>,
}

impl Credentials {
    /// Long-term or temporary credentials without expiry.
    pub fn new(access_key_id: impl Into<String>, secret: impl Into<String>, token: Option<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: Secret::new(secret),
            session_token: token.map(Secret::new),
            expiration: None,
            account_id: None,
        }
    }

    /// Whether at least `margin` of validity is left at `now`.
    pub fn valid_for(&self, now: OffsetDateTime, margin: time::Duration) -> bool {
        self.expiration.is_none_or(|e| e - now > margin)
    }

    /// As the SDK's credentials type.
    pub fn to_sdk(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.expose().to_string(),
            self.session_token.as_ref().map(|t| t.expose().to_string()),
            self.expiration.map(std::time::SystemTime::from),
            "aws-companion",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked() {
        let c = Credentials::new("AKIAEXAMPLE", "very-secret", Some("tok-secret".into()));
        let shown = format!("{c:?} {}", c.secret_access_key);
        assert!(!shown.contains("very-secret") && !shown.contains("tok-secret"), "{shown}");
        assert_eq!(c.secret_access_key.expose(), "very-secret");
    }
}
