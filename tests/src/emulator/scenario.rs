//! The scenario file: the accounts, users, MFA devices, roles, trust rules, Identity Center set-up
//! and faults one sandbox run starts with. JSON, so tests build scenarios with `serde_json::json!`
//! and humans can read `tests/sandbox/demo-scenario.json`.

use serde::{Deserialize, Serialize};

use super::faults::Faults;

/// Everything the emulator starts with; `POST /_sandbox/reset` returns to it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// AWS accounts: their IAM roles and the Identity Center permission sets assigned in them.
    #[serde(default)]
    pub accounts: Vec<Account>,
    /// Accounts generated in bulk (for benchmarks: 1000 accounts x 3 permission sets).
    #[serde(default)]
    pub generate: Option<Generate>,
    /// IAM users with long-term access keys and virtual MFA devices.
    #[serde(default)]
    pub users: Vec<User>,
    /// The IAM Identity Center instance (portal + OIDC).
    #[serde(default)]
    pub sso: Sso,
    /// The Sign-In service of `aws login`.
    #[serde(default)]
    pub signin: Signin,
    /// STS behaviour switches.
    #[serde(default)]
    pub sts: Sts,
    /// Faults injected from the start (latency, throttling, 5xx, time-outs, truncated bodies).
    #[serde(default)]
    pub faults: Faults,
}

/// One AWS account.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// 12-digit account id.
    pub id: String,
    /// The account name shown by the portal.
    #[serde(default)]
    pub name: String,
    /// The account's e-mail address shown by the portal.
    #[serde(default)]
    pub email: String,
    /// Account aliases (informational: IAM itself is moto's).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// IAM roles that can be assumed with STS.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Identity Center permission sets assigned to the portal user in this account. Each becomes
    /// a role `AWSReservedSSO_<set>_<16 hex>` in the account.
    #[serde(default)]
    pub permission_sets: Vec<String>,
    /// Long-term access keys of the account's root user.
    #[serde(default)]
    pub root_keys: Vec<AccessKey>,
}

/// Bulk-generated accounts: `count` accounts `<prefix>-0001`.. with ids from `first_id` up,
/// each with the same permission sets.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generate {
    /// How many accounts.
    pub count: usize,
    /// The account id of the first one; the rest count up.
    #[serde(default = "default_first_id")]
    pub first_id: u64,
    /// Account name prefix.
    #[serde(default = "default_prefix")]
    pub name_prefix: String,
    /// Permission sets in every generated account.
    #[serde(default)]
    pub permission_sets: Vec<String>,
}

fn default_first_id() -> u64 {
    100_000_000_000
}
fn default_prefix() -> String {
    "account".into()
}

/// An IAM role.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// Role name.
    pub name: String,
    /// Role path, `/` by default.
    #[serde(default = "default_path")]
    pub path: String,
    /// MaxSessionDuration in seconds (3600..=43200; 3600 by default, as in IAM).
    #[serde(default = "default_max_session")]
    pub max_session_duration: u64,
    /// The trust policy, reduced to what STS decisions need.
    #[serde(default)]
    pub trust: Trust,
}

fn default_path() -> String {
    "/".into()
}
fn default_max_session() -> u64 {
    3600
}

/// Who may assume a role, and on what conditions.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trust {
    /// Principals allowed: `"*"`, an account id, `arn:aws:iam::<acct>:root`, a user ARN or a
    /// role ARN (sessions of that role).
    #[serde(default)]
    pub principals: Vec<String>,
    /// `Bool: {aws:MultiFactorAuthPresent: true}` in the trust policy.
    #[serde(default)]
    pub require_mfa: bool,
    /// `StringEquals: {sts:ExternalId: ...}` in the trust policy.
    #[serde(default)]
    pub external_id: Option<String>,
    /// OIDC issuers (host/path, as IAM names OIDC providers) for AssumeRoleWithWebIdentity.
    #[serde(default)]
    pub web_identity: Vec<String>,
}

/// An IAM user.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The account the user lives in.
    pub account: String,
    /// User name.
    pub name: String,
    /// User path, `/` by default.
    #[serde(default = "default_path")]
    pub path: String,
    /// Long-term access keys.
    #[serde(default)]
    pub access_keys: Vec<AccessKey>,
    /// Virtual MFA devices.
    #[serde(default)]
    pub mfa_devices: Vec<MfaDevice>,
}

/// A long-term access key pair.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKey {
    /// `AKIA...`
    pub id: String,
    /// The secret access key.
    pub secret: String,
}

/// A virtual MFA device.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaDevice {
    /// `arn:aws:iam::<acct>:mfa/<name>`
    pub serial: String,
    /// The base32 seed (what the QR code carries).
    pub seed: String,
}

/// The Identity Center instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sso {
    /// The start URL logins must name.
    #[serde(default = "default_start_url")]
    pub start_url: String,
    /// The user signing in to the portal (the role session name of portal credentials).
    #[serde(default = "default_sso_user")]
    pub user: String,
    /// Approve device codes and authorizations as soon as they are asked for.
    #[serde(default)]
    pub auto_approve: bool,
    /// Access token lifetime, seconds.
    #[serde(default = "default_token_ttl")]
    pub access_token_ttl: u64,
    /// Client registration lifetime, seconds.
    #[serde(default = "default_registration_ttl")]
    pub registration_ttl: u64,
    /// Device code lifetime, seconds.
    #[serde(default = "default_device_ttl")]
    pub device_code_ttl: u64,
    /// Polling interval the device authorization asks for, seconds.
    #[serde(default = "default_interval")]
    pub interval: u64,
    /// Lifetime of role credentials from GetRoleCredentials, seconds.
    #[serde(default = "default_role_ttl")]
    pub role_credentials_ttl: u64,
    /// Default and maximum page size of ListAccounts / ListAccountRoles.
    #[serde(default = "default_page")]
    pub page_size: usize,
}

/// The Sign-In service of `aws login`: who signs in, and how long things last.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signin {
    /// The console principal (an IAM user or assumed-role ARN); default: the first user.
    #[serde(default)]
    pub principal: Option<String>,
    /// The user approves the sign-in (false: denies it).
    #[serde(default = "default_true")]
    pub approve: bool,
    /// Lifetime of the credentials each grant gives, seconds (AWS: 900, the most allowed).
    #[serde(default = "default_login_credentials_ttl")]
    pub credentials_ttl: u64,
    /// How long a session can be refreshed, seconds (AWS: 12 hours).
    #[serde(default = "default_login_session_ttl")]
    pub session_ttl: u64,
    /// Lifetime of an authorization code, seconds.
    #[serde(default = "default_login_code_ttl")]
    pub code_ttl: u64,
}

impl Default for Signin {
    fn default() -> Self {
        Self {
            principal: None,
            approve: true,
            credentials_ttl: default_login_credentials_ttl(),
            session_ttl: default_login_session_ttl(),
            code_ttl: default_login_code_ttl(),
        }
    }
}

fn default_true() -> bool {
    true
}
fn default_login_credentials_ttl() -> u64 {
    900
}
fn default_login_session_ttl() -> u64 {
    43_200
}
fn default_login_code_ttl() -> u64 {
    300
}

fn default_start_url() -> String {
    "https://d-0000000000.awsapps.com/start".into()
}
fn default_sso_user() -> String {
    "alice@example.com".into()
}
fn default_token_ttl() -> u64 {
    28_800
}
fn default_registration_ttl() -> u64 {
    7_776_000
}
fn default_device_ttl() -> u64 {
    600
}
fn default_interval() -> u64 {
    1
}
fn default_role_ttl() -> u64 {
    3600
}
fn default_page() -> usize {
    20
}

impl Default for Sso {
    fn default() -> Self {
        serde_json::from_str("{}").expect("every field has a default")
    }
}

/// STS switches.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sts {
    /// Check SigV4 signatures against the secret of the signing key (as AWS does).
    #[serde(default = "yes")]
    pub verify_signatures: bool,
    /// Reject a TOTP code already accepted for the same device (as AWS does).
    #[serde(default = "yes")]
    pub reject_reused_codes: bool,
    /// TOTP steps accepted either side of now.
    #[serde(default = "one")]
    pub totp_window: u64,
    /// Issue AssumeRole credentials that expire after this many seconds, whatever was asked for
    /// (so tests see role credentials expire and refresh; MFA sessions are not shortened).
    #[serde(default)]
    pub role_credentials_seconds: Option<u64>,
}

fn yes() -> bool {
    true
}
fn one() -> u64 {
    1
}

impl Default for Sts {
    fn default() -> Self {
        serde_json::from_str("{}").expect("every field has a default")
    }
}

impl Scenario {
    /// Reads a scenario file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read scenario {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("scenario {}: {e}", path.display()))
    }

    /// All accounts, the generated ones included.
    pub fn all_accounts(&self) -> Vec<Account> {
        let mut out = self.accounts.clone();
        if let Some(g) = &self.generate {
            for i in 0..g.count {
                out.push(Account {
                    id: format!("{:012}", g.first_id + i as u64),
                    name: format!("{}-{:04}", g.name_prefix, i + 1),
                    email: format!("{}-{:04}@example.com", g.name_prefix, i + 1),
                    permission_sets: g.permission_sets.clone(),
                    ..Account::default()
                });
            }
        }
        out
    }
}

/// The IAM role name Identity Center creates for a permission set in an account:
/// `AWSReservedSSO_<set>_<16 hex>`, the hex stable per account and set.
pub fn reserved_sso_role_name(account_id: &str, permission_set: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{account_id}/{permission_set}"));
    format!("AWSReservedSSO_{permission_set}_{}", &hex::encode(digest)[..16])
}
