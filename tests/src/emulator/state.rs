//! The emulator's mutable state: issued credentials, OIDC clients, device codes, authorizations,
//! tokens, used MFA codes, the request log and the fault generator. One mutex guards it all; every
//! handler holds it only while it computes its answer (never across a sleep).

use std::collections::{HashMap, HashSet};

use rand::Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::faults::FaultState;
use super::scenario::{Account, MfaDevice, Role, Scenario, reserved_sso_role_name};

/// Who a credential stands for, as GetCallerIdentity reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// An account's root user.
    Root { account: String },
    /// An IAM user.
    User { account: String, name: String, path: String },
    /// A role session.
    AssumedRole { account: String, role: String, session: String },
    /// A GetFederationToken session.
    Federated { account: String, name: String },
}

impl Identity {
    /// The account the identity belongs to.
    pub fn account(&self) -> &str {
        match self {
            Identity::Root { account }
            | Identity::User { account, .. }
            | Identity::AssumedRole { account, .. }
            | Identity::Federated { account, .. } => account,
        }
    }

    /// The principal ARN (what GetCallerIdentity returns as Arn).
    pub fn arn(&self) -> String {
        match self {
            Identity::Root { account } => format!("arn:aws:iam::{account}:root"),
            Identity::User { account, name, path } => format!("arn:aws:iam::{account}:user{path}{name}"),
            Identity::AssumedRole { account, role, session } => {
                format!("arn:aws:sts::{account}:assumed-role/{role}/{session}")
            }
            Identity::Federated { account, name } => {
                format!("arn:aws:sts::{account}:federated-user/{name}")
            }
        }
    }

    /// The UserId GetCallerIdentity returns.
    pub fn user_id(&self) -> String {
        match self {
            Identity::Root { account } => account.clone(),
            Identity::User { account, name, .. } => unique_id("AIDA", &format!("{account}/{name}")),
            Identity::AssumedRole { account, role, session } => {
                format!("{}:{session}", role_id(account, role))
            }
            Identity::Federated { account, name } => format!("{account}:{name}"),
        }
    }
}

/// The RoleId (`AROA...`) of a role.
pub fn role_id(account: &str, role: &str) -> String {
    unique_id("AROA", &format!("{account}/{role}"))
}

/// IAM unique ids: a 4-letter prefix and 17 upper-case letters/digits, stable per name.
fn unique_id(prefix: &str, name: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = Sha256::digest(name.as_bytes());
    let tail: String = digest.iter().take(17).map(|b| ALPHABET[(*b % 32) as usize] as char).collect();
    format!("{prefix}{tail}")
}

/// How a credential was issued: decides what it may call (GetSessionToken needs long-term keys,
/// role chaining is capped at one hour, and so on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Long-term user or root keys.
    LongTerm,
    /// GetSessionToken.
    SessionToken,
    /// AssumeRole / AssumeRoleWithWebIdentity / GetRoleCredentials.
    Role,
    /// GetFederationToken.
    Federation,
}

/// A credential the emulator knows.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The secret access key.
    pub secret: String,
    /// The session token (temporary credentials only).
    pub token: Option<String>,
    /// Whose.
    pub identity: Identity,
    /// Unix seconds; None for long-term keys.
    pub expires: Option<i64>,
    /// MFA was used to obtain it (aws:MultiFactorAuthPresent).
    pub mfa: bool,
    /// How it was issued.
    pub kind: Kind,
    /// A role session obtained from another role session (for the 1-hour cap of the next hop,
    /// and console SessionDuration rules).
    pub chained: bool,
}

/// A registered OIDC client.
#[derive(Debug, Clone)]
pub struct Client {
    pub secret: String,
    pub scopes: Vec<String>,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub expires: i64,
}

/// A device authorization.
#[derive(Debug, Clone)]
pub struct DeviceAuth {
    pub client_id: String,
    pub user_code: String,
    pub expires: i64,
    pub interval: u64,
    /// None: pending; Some(true): approved; Some(false): denied.
    pub decision: Option<bool>,
    pub last_poll_ms: Option<i128>,
}

/// An authorization-code request waiting for the user (or issued, once approved).
#[derive(Debug, Clone)]
pub struct Authorization {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: String,
    pub code_challenge: String,
    pub scopes: Vec<String>,
    pub decision: Option<bool>,
    pub code: Option<String>,
    pub expires: i64,
    pub code_used: bool,
}

/// An issued access token.
#[derive(Debug, Clone)]
pub struct Token {
    pub client_id: String,
    pub expires: i64,
}

/// One request, as the tests see it in `GET /_sandbox/requests`.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub seq: u64,
    pub service: String,
    pub operation: String,
    pub params: serde_json::Map<String, serde_json::Value>,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub unix_ms: i128,
}

/// Everything that changes while the emulator runs.
#[derive(Debug)]
pub struct State {
    pub scenario: Scenario,
    pub accounts: Vec<Account>,
    pub credentials: HashMap<String, Credential>,
    pub clients: HashMap<String, Client>,
    pub devices: HashMap<String, DeviceAuth>,
    pub authorizations: HashMap<String, Authorization>,
    pub access_tokens: HashMap<String, Token>,
    pub refresh_tokens: HashMap<String, String>,
    pub signin_tokens: HashMap<String, (String, i64)>,
    pub used_codes: HashSet<(String, u64)>,
    pub log: Vec<LogEntry>,
    pub faults: FaultState,
    /// Seconds added to the real clock (`POST /_sandbox/clock`).
    pub clock_offset: i64,
    /// The Sign-In service's codes and sessions (`aws login`).
    pub login: super::login::LoginState,
}

impl State {
    /// The state a scenario starts with.
    pub fn new(scenario: Scenario) -> Self {
        let mut credentials = HashMap::new();
        for user in &scenario.users {
            for key in &user.access_keys {
                credentials.insert(
                    key.id.clone(),
                    Credential {
                        secret: key.secret.clone(),
                        token: None,
                        identity: Identity::User {
                            account: user.account.clone(),
                            name: user.name.clone(),
                            path: user.path.clone(),
                        },
                        expires: None,
                        mfa: false,
                        kind: Kind::LongTerm,
                        chained: false,
                    },
                );
            }
        }
        let accounts = scenario.all_accounts();
        for account in &accounts {
            for key in &account.root_keys {
                credentials.insert(
                    key.id.clone(),
                    Credential {
                        secret: key.secret.clone(),
                        token: None,
                        identity: Identity::Root { account: account.id.clone() },
                        expires: None,
                        mfa: false,
                        kind: Kind::LongTerm,
                        chained: false,
                    },
                );
            }
        }
        Self {
            faults: FaultState::new(scenario.faults.clone()),
            accounts,
            scenario,
            credentials,
            clients: HashMap::new(),
            devices: HashMap::new(),
            authorizations: HashMap::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            signin_tokens: HashMap::new(),
            used_codes: HashSet::new(),
            log: Vec::new(),
            clock_offset: 0,
            login: Default::default(),
        }
    }

    /// Emulator time, unix seconds.
    pub fn now(&self) -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp() + self.clock_offset
    }

    /// Emulator time, unix milliseconds.
    pub fn now_ms(&self) -> i128 {
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000 + i128::from(self.clock_offset) * 1000
    }

    /// An account by id.
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    /// A role by ARN: a scenario role, or an Identity Center `AWSReservedSSO_` role.
    pub fn role_by_arn(&self, arn: &str) -> Option<(String, Role)> {
        let rest = arn.strip_prefix("arn:aws:iam::")?;
        let (account, rest) = rest.split_once(':')?;
        let path_and_name = rest.strip_prefix("role")?;
        let name = path_and_name.rsplit('/').next()?;
        let acct = self.account(account)?;
        acct.roles
            .iter()
            .find(|r| r.name == name && format!("{}{}", r.path, r.name) == path_and_name)
            .cloned()
            .map(|r| (account.to_string(), r))
    }

    /// The MFA device with this serial, and whether it belongs to `identity`.
    pub fn mfa_device(&self, serial: &str, identity: &Identity) -> Option<(MfaDevice, bool)> {
        for user in &self.scenario.users {
            if let Some(d) = user.mfa_devices.iter().find(|d| d.serial == serial) {
                let owner = matches!(identity, Identity::User { account, name, .. }
                    if *account == user.account && *name == user.name);
                return Some((d.clone(), owner));
            }
        }
        None
    }

    /// Issues temporary credentials and remembers them.
    pub fn issue(
        &mut self,
        identity: Identity,
        duration: u64,
        mfa: bool,
        kind: Kind,
        chained: bool,
    ) -> (String, Credential) {
        let id = format!("ASIA{}", random_string(16, UPPER_DIGITS));
        let cred = Credential {
            secret: random_string(40, ALNUM_SLASH),
            token: Some(format!("IQoJb3JpZ2luX2VjE{}", random_string(300, ALNUM_SLASH))),
            identity,
            expires: Some(self.now() + duration as i64),
            mfa,
            kind,
            chained,
        };
        self.credentials.insert(id.clone(), cred.clone());
        (id, cred)
    }

    /// The roles the portal lists for an account: one per assigned permission set.
    pub fn sso_roles(&self, account_id: &str) -> Option<Vec<String>> {
        self.account(account_id).map(|a| a.permission_sets.clone())
    }

    /// The IAM role behind a permission set.
    pub fn sso_role_name(account_id: &str, permission_set: &str) -> String {
        reserved_sso_role_name(account_id, permission_set)
    }
}

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const ALNUM_SLASH: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A random string over `alphabet`.
pub fn random_string(len: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| alphabet[rng.random_range(0..alphabet.len())] as char).collect()
}

/// A random URL-safe token.
pub fn random_token(len: usize) -> String {
    random_string(len, ALNUM)
}
