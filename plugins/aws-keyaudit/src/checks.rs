//! The checks, in one table: each has a stable id ([`CheckId`]), a severity, a title, a
//! remediation and one function. Key checks see one key of one user; account checks see the
//! account. One finding per key (stable finding id); suppressions with reasons and expiry dates.
//!
//! To add a check: a [`CheckId`] variant (and its `KA-...` name), a row in [`CHECKS`], and its
//! function below; the table is what `run`, the JSON summary, SARIF rules and the README list.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::data::{Account, Key, KeyState, User};
use crate::policy::{self, Analysis, Principal, Source, Verdict};

/// Severity, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// A check's stable id (`KA-...` in every output format and in ignore files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CheckId {
    /// The root user has an access key.
    #[serde(rename = "KA-ROOT-KEY")]
    RootKey,
    /// Active key older than the maximum age.
    #[serde(rename = "KA-ROTATE")]
    Rotate,
    /// Active key unused for too long.
    #[serde(rename = "KA-UNUSED")]
    Unused,
    /// Two active keys.
    #[serde(rename = "KA-TWO-ACTIVE")]
    TwoActive,
    /// Inactive key kept past the maximum age.
    #[serde(rename = "KA-INACTIVE-STALE")]
    InactiveStale,
    /// A console user also has a key.
    #[serde(rename = "KA-PWD-AND-KEY")]
    PwdAndKey,
    /// Key created with the user and never used.
    #[serde(rename = "KA-INITIAL-SETUP")]
    InitialSetup,
    /// No (full) source-network restriction.
    #[serde(rename = "KA-NO-IP-RESTRICTION")]
    NoIpRestriction,
    /// No owner tag.
    #[serde(rename = "KA-NO-OWNER-TAG")]
    NoOwnerTag,
    /// A long-lived key on this machine.
    #[serde(rename = "KA-LOCAL-LONG-LIVED")]
    LocalLongLived,
    /// A long-lived key kept in the key store (`aws-assume keys`).
    #[serde(rename = "KA-LOCAL-STORED")]
    LocalStored,
    /// A service-specific credential that never expires.
    #[serde(rename = "KA-SSC-NO-EXPIRY")]
    SscNoExpiry,
    /// A service-specific credential older than the maximum age.
    #[serde(rename = "KA-SSC-OLD")]
    SscOld,
}

impl CheckId {
    /// The `KA-...` name.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::RootKey => "KA-ROOT-KEY",
            CheckId::Rotate => "KA-ROTATE",
            CheckId::Unused => "KA-UNUSED",
            CheckId::TwoActive => "KA-TWO-ACTIVE",
            CheckId::InactiveStale => "KA-INACTIVE-STALE",
            CheckId::PwdAndKey => "KA-PWD-AND-KEY",
            CheckId::InitialSetup => "KA-INITIAL-SETUP",
            CheckId::NoIpRestriction => "KA-NO-IP-RESTRICTION",
            CheckId::NoOwnerTag => "KA-NO-OWNER-TAG",
            CheckId::LocalLongLived => "KA-LOCAL-LONG-LIVED",
            CheckId::LocalStored => "KA-LOCAL-STORED",
            CheckId::SscNoExpiry => "KA-SSC-NO-EXPIRY",
            CheckId::SscOld => "KA-SSC-OLD",
        }
    }

    /// The id of a `KA-...` name.
    pub fn parse(name: &str) -> Option<CheckId> {
        CHECKS.iter().map(|c| c.id).find(|id| id.as_str() == name)
    }

    /// The check's row in [`CHECKS`].
    pub fn meta(self) -> &'static Check {
        CHECKS.iter().find(|c| c.id == self).unwrap_or(&CHECKS[0])
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finding's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Status {
    /// Reported.
    #[serde(rename = "FAIL")]
    Fail,
    /// Suppressed by the ignore file.
    #[serde(rename = "MUTED")]
    Muted,
}

impl Status {
    /// `FAIL` or `MUTED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fail => "FAIL",
            Status::Muted => "MUTED",
        }
    }
}

/// What a check looks at, and its function.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// The account as a whole.
    Account(fn(&AccountCtx) -> Vec<Finding>),
    /// One key of one user (every key but `--local` ones).
    Key(fn(&KeyCtx) -> Option<Finding>),
}

/// A check's row.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Check {
    /// Stable id.
    pub id: CheckId,
    /// Default severity.
    pub severity: Severity,
    /// One line.
    pub title: &'static str,
    /// What to do.
    pub remediation: &'static str,
    /// What it looks at and how.
    #[serde(skip)]
    pub scope: Scope,
}

/// Every check, in the order their findings are made.
pub const CHECKS: [Check; 13] = [
    Check {
        id: CheckId::RootKey,
        severity: Severity::Critical,
        title: "The root user has an access key",
        remediation: "Delete the root user's access keys; use IAM roles instead.",
        scope: Scope::Account(root_key),
    },
    Check {
        id: CheckId::LocalLongLived,
        severity: Severity::Medium,
        title: "Long-lived access key on this machine",
        remediation: "Replace local keys with SSO (aws-sso-sync) or an MFA-protected role (aws-assume); where a key must stay, move it out of plaintext (aws-assume keys add PROFILE --from-credentials-file) and renew it (aws-assume keys rotate PROFILE).",
        scope: Scope::Account(local_long_lived),
    },
    Check {
        id: CheckId::LocalStored,
        severity: Severity::Info,
        title: "Long-lived access key in the key store on this machine",
        remediation: "Keep it rotated (aws-assume keys rotate PROFILE); better, replace it with SSO or a role.",
        scope: Scope::Account(local_stored),
    },
    Check {
        id: CheckId::InactiveStale,
        severity: Severity::Low,
        title: "Inactive access key kept past the maximum age",
        remediation: "Delete keys that are no longer used.",
        scope: Scope::Key(inactive_stale),
    },
    Check {
        id: CheckId::Rotate,
        severity: Severity::Medium,
        title: "Active access key older than the maximum age",
        remediation: "Create a new key, move its users to it, deactivate and delete the old one.",
        scope: Scope::Key(rotate),
    },
    Check {
        id: CheckId::Unused,
        severity: Severity::Medium,
        title: "Active access key unused (or never used) for too long",
        remediation: "Deactivate the key; delete it if nothing breaks.",
        scope: Scope::Key(unused),
    },
    Check {
        id: CheckId::TwoActive,
        severity: Severity::Medium,
        title: "User has two active access keys",
        remediation: "Finish the rotation: deactivate the older key.",
        scope: Scope::Key(two_active),
    },
    Check {
        id: CheckId::PwdAndKey,
        severity: Severity::Low,
        title: "Console user also has an access key",
        remediation: "Give programs their own IAM user (or a role) and people only a password with MFA.",
        scope: Scope::Key(pwd_and_key),
    },
    Check {
        id: CheckId::InitialSetup,
        severity: Severity::Medium,
        title: "Access key created with the user and never used",
        remediation: "Delete keys created at setup that nobody uses.",
        scope: Scope::Key(initial_setup),
    },
    Check {
        id: CheckId::NoOwnerTag,
        severity: Severity::Low,
        title: "User with an active key has no owner tag",
        remediation: "Tag the user with its owner so someone answers for the key.",
        scope: Scope::Key(no_owner_tag),
    },
    Check {
        id: CheckId::SscNoExpiry,
        severity: Severity::Medium,
        title: "Service-specific credential without an expiry",
        remediation: "Replace it with one created with an age (Bedrock API keys: CredentialAgeDays), or with short-term credentials.",
        scope: Scope::Account(ssc_no_expiry),
    },
    Check {
        id: CheckId::SscOld,
        severity: Severity::Medium,
        title: "Active service-specific credential older than the maximum age",
        remediation: "Create a new credential, move its users to it, then delete the old one.",
        scope: Scope::Account(ssc_old),
    },
    Check {
        id: CheckId::NoIpRestriction,
        severity: Severity::High,
        title: "Access key not (fully) restricted to known source networks",
        remediation: "Attach a Deny with NotIpAddress on aws:SourceIp (and StringNotEquals on aws:SourceVpc) over all actions.",
        scope: Scope::Key(no_ip_restriction),
    },
];

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable id: the same key and check give the same id on every run.
    pub id: String,
    /// Check id.
    pub check: CheckId,
    /// Severity.
    pub severity: Severity,
    /// FAIL, or MUTED when suppressed.
    pub status: Status,
    /// Account id.
    pub account: String,
    /// User name (`<root_account>` for root).
    pub user: String,
    /// User ARN (or, for `--local`, where the key was found).
    pub arn: String,
    /// Access key id.
    pub key: Option<String>,
    /// The check's title.
    pub title: &'static str,
    /// What was found.
    pub detail: String,
    /// IP-restriction analysis (KA-NO-IP-RESTRICTION).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<Analysis>,
    /// The suppression's reason, when muted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed_because: Option<String>,
    /// `--usage`: where the key (for a user-level finding: the user's active keys) was used from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<crate::usage::Usage>,
}

impl Finding {
    /// A FAIL finding of `check` with its default severity.
    pub fn new(check: CheckId, account: &str, user: &User, key: Option<&str>, detail: String) -> Finding {
        use sha1::Digest;
        let id = hex::encode(sha1::Sha1::digest(
            format!("{check}|{account}|{}|{}", user.name, key.unwrap_or("-")).as_bytes(),
        ))[..16]
            .to_string();
        let meta = check.meta();
        Finding {
            id,
            check,
            severity: meta.severity,
            status: Status::Fail,
            account: account.into(),
            user: user.name.clone(),
            arn: user.arn.clone(),
            key: key.map(str::to_string),
            title: meta.title,
            detail,
            analysis: None,
            suppressed_because: None,
            usage: None,
        }
    }
}

/// Thresholds and options of the checks.
#[derive(Debug, Clone)]
pub struct Settings {
    /// KA-ROTATE / KA-INACTIVE-STALE: days.
    pub max_age_days: i64,
    /// KA-UNUSED: days.
    pub max_unused_days: i64,
    /// KA-UNUSED: a key younger than this is not judged unused yet (a fresh rotation); a
    /// never-used key older than this is unused.
    pub grace_days: i64,
    /// KA-NO-OWNER-TAG: tag key (case-insensitive).
    pub owner_tag: String,
    /// IP analysis.
    pub policy: policy::Options,
}

/// What an account check sees.
#[derive(Debug)]
pub struct AccountCtx<'a> {
    /// The account.
    pub acct: &'a Account,
    /// The thresholds.
    pub s: &'a Settings,
    /// Now.
    pub now: OffsetDateTime,
}

/// What a key check sees.
#[derive(Debug)]
pub struct KeyCtx<'a> {
    /// The account.
    pub acct: &'a Account,
    /// The user.
    pub user: &'a User,
    /// The key.
    pub key: &'a Key,
    /// The user's active keys.
    pub active: &'a [&'a Key],
    /// The user's IP analysis (when it has an active key).
    pub analysis: Option<&'a Analysis>,
    /// The thresholds.
    pub s: &'a Settings,
    /// Whole days since the key was created.
    pub age: i64,
    /// Now.
    pub now: OffsetDateTime,
}

impl KeyCtx<'_> {
    fn finding(&self, check: CheckId, detail: String) -> Finding {
        Finding::new(check, &self.acct.id, self.user, Some(&self.key.id), detail)
    }

    fn is_active(&self) -> bool {
        self.key.state == KeyState::Active
    }
}

/// The IP analysis of a user: its policies and boundary from the account's data.
pub fn analyse_user(acct: &Account, u: &User, opts: &policy::Options) -> Analysis {
    let mut sources = Vec::new();
    let mut unknown = Vec::new();
    let mut add = |path: String, name: &str, text: Option<&String>| match text.and_then(|t| policy::decode_document(t))
    {
        Some(document) => sources.push(Source { path, policy: name.to_string(), document }),
        None => unknown.push(name.to_string()),
    };
    for (n, d) in &u.inline {
        add("user inline".into(), n, Some(d));
    }
    for arn in &u.managed {
        add("user managed".into(), arn, acct.policies.get(arn));
    }
    for g in &u.groups {
        if let Some(group) = acct.groups.get(g) {
            for (n, d) in &group.inline {
                add(format!("group {g} inline"), n, Some(d));
            }
            for arn in &group.managed {
                add(format!("group {g} managed"), arn, acct.policies.get(arn));
            }
        }
    }
    if let Some(b) = &u.boundary {
        add("boundary".into(), b, acct.policies.get(b));
    }
    let principal = Principal {
        name: u.name.clone(),
        arn: u.arn.clone(),
        user_id: u.id.clone(),
        account: acct.id.clone(),
        tags: u.tags.clone(),
    };
    policy::analyse(&principal, &sources, &unknown, opts)
}

/// Every finding of one account: the account checks, then each key through the key checks.
pub fn run(acct: &Account, s: &Settings, now: OffsetDateTime) -> Vec<Finding> {
    let mut out = Vec::new();
    let actx = AccountCtx { acct, s, now };
    for c in &CHECKS {
        if let Scope::Account(check) = c.scope {
            out.extend(check(&actx));
        }
    }
    for u in &acct.users {
        let active: Vec<&Key> = u.keys.iter().filter(|k| k.state == KeyState::Active).collect();
        let analysis = (!active.is_empty()).then(|| analyse_user(acct, u, &s.policy));
        // Keys found on this machine (`--local`) have their own account check; their creation
        // date may be unknown, so no age check may read it.
        for k in u.keys.iter().filter(|k| k.state != KeyState::Local) {
            let kctx = KeyCtx {
                acct,
                user: u,
                key: k,
                active: &active,
                analysis: analysis.as_ref(),
                s,
                age: (now - k.created).whole_days(),
                now,
            };
            for c in &CHECKS {
                if let Scope::Key(check) = c.scope {
                    out.extend(check(&kctx));
                }
            }
        }
    }
    out
}

fn root_key(a: &AccountCtx) -> Vec<Finding> {
    if !a.acct.root_keys {
        return Vec::new();
    }
    let root =
        User { name: "<root_account>".into(), arn: format!("arn:aws:iam::{}:root", a.acct.id), ..User::default() };
    vec![Finding::new(CheckId::RootKey, &a.acct.id, &root, None, "the root user has an active access key".into())]
}

fn local_long_lived(a: &AccountCtx) -> Vec<Finding> {
    a.acct
        .users
        .iter()
        .flat_map(|u| u.keys.iter().filter(|k| k.state == KeyState::Local && k.stored.is_none()).map(move |k| (u, k)))
        .map(|(u, k)| {
            let (age, used) = local_age(a, k);
            let hint = match &k.profile {
                Some(p) => format!("; hint: `aws-assume keys add {p} --from-credentials-file` moves it out of plaintext, `aws-assume keys rotate {p}` renews it"),
                None => "; hint: put it in a profile, then `aws-assume keys add PROFILE` keeps it out of plaintext and `aws-assume keys rotate PROFILE` renews it".into(),
            };
            Finding::new(CheckId::LocalLongLived, &a.acct.id, u, Some(&k.id), format!("in {}: {age}, {used}{hint}", u.arn))
        })
        .collect()
}

fn local_age(a: &AccountCtx, k: &Key) -> (String, String) {
    let age = if k.created == OffsetDateTime::UNIX_EPOCH {
        "unknown age".to_string()
    } else {
        format!("created {} days ago", (a.now - k.created).whole_days())
    };
    let used = k
        .last_used
        .map(|t| format!("last used {} days ago", (a.now - t).whole_days()))
        .unwrap_or_else(|| "never used (or not in this account)".into());
    (age, used)
}

/// Keys in the key store: listed with their age, and the rotation command once they are too old.
fn local_stored(a: &AccountCtx) -> Vec<Finding> {
    a.acct
        .users
        .iter()
        .flat_map(|u| u.keys.iter().filter(|k| k.state == KeyState::Local && k.stored.is_some()).map(move |k| (u, k)))
        .map(|(u, k)| {
            let (age, used) = local_age(a, k);
            let old = k.created != OffsetDateTime::UNIX_EPOCH && (a.now - k.created).whole_days() > a.s.max_age_days;
            let hint = match (&k.profile, old) {
                (Some(p), true) => format!("; older than {} days: `aws-assume keys rotate {p}`", a.s.max_age_days),
                _ => String::new(),
            };
            Finding::new(CheckId::LocalStored, &a.acct.id, u, Some(&k.id), format!("in {}: {age}, {used}{hint}", u.arn))
        })
        .collect()
}

/// Every active service-specific credential of the account, with its user.
fn active_sscs<'a>(a: &'a AccountCtx) -> impl Iterator<Item = (&'a User, &'a crate::data::ServiceCredential)> + 'a {
    a.acct
        .users
        .iter()
        .flat_map(|u| u.service_credentials.iter().map(move |c| (u, c)))
        .filter(|(_, c)| c.state == KeyState::Active)
}

fn ssc_no_expiry(a: &AccountCtx) -> Vec<Finding> {
    active_sscs(a)
        .filter(|(_, c)| c.expires.is_none())
        .map(|(u, c)| {
            let detail =
                format!("{} credential created {} days ago never expires", c.service, (a.now - c.created).whole_days());
            Finding::new(CheckId::SscNoExpiry, &a.acct.id, u, Some(&c.id), detail)
        })
        .collect()
}

fn ssc_old(a: &AccountCtx) -> Vec<Finding> {
    active_sscs(a)
        .filter(|(_, c)| (a.now - c.created).whole_days() > a.s.max_age_days)
        .map(|(u, c)| {
            let age = (a.now - c.created).whole_days();
            let detail = format!("{} credential created {age} days ago (max {})", c.service, a.s.max_age_days);
            Finding::new(CheckId::SscOld, &a.acct.id, u, Some(&c.id), detail)
        })
        .collect()
}

fn inactive_stale(k: &KeyCtx) -> Option<Finding> {
    (!k.is_active() && k.age > k.s.max_age_days).then(|| {
        k.finding(
            CheckId::InactiveStale,
            format!(
                "{} key created {} days ago is still present (max {})",
                k.key.state.lower(),
                k.age,
                k.s.max_age_days
            ),
        )
    })
}

fn rotate(k: &KeyCtx) -> Option<Finding> {
    (k.is_active() && k.age > k.s.max_age_days)
        .then(|| k.finding(CheckId::Rotate, format!("created {} days ago (max {})", k.age, k.s.max_age_days)))
}

fn unused(k: &KeyCtx) -> Option<Finding> {
    if !k.is_active() || k.age < k.s.grace_days {
        return None;
    }
    let max = k.s.max_unused_days;
    match k.key.last_used {
        Some(t) if (k.now - t).whole_days() >= max => Some(k.finding(
            CheckId::Unused,
            format!(
                "last used {} days ago{} (max {max})",
                (k.now - t).whole_days(),
                k.key.last_service.as_ref().map(|s| format!(" by {s}")).unwrap_or_default()
            ),
        )),
        None => Some(k.finding(
            CheckId::Unused,
            format!("never used, created {} days ago (grace {} days)", k.age, k.s.grace_days),
        )),
        _ => None,
    }
}

fn two_active(k: &KeyCtx) -> Option<Finding> {
    (k.is_active() && k.active.len() > 1).then(|| {
        let ids = k.active.iter().map(|k| k.id.as_str()).collect::<Vec<_>>().join(", ");
        k.finding(CheckId::TwoActive, format!("{} active keys: {ids}", k.active.len()))
    })
}

fn pwd_and_key(k: &KeyCtx) -> Option<Finding> {
    (k.is_active() && k.user.password)
        .then(|| k.finding(CheckId::PwdAndKey, "the user has a console password and an active key (user-level)".into()))
}

fn initial_setup(k: &KeyCtx) -> Option<Finding> {
    let with_the_user = k.user.created.is_some_and(|c| (k.key.created - c).whole_seconds().abs() <= 60);
    // No grace period here: CIS asks for no keys at user setup at all, however young.
    (k.is_active() && k.user.password && k.key.last_used.is_none() && with_the_user)
        .then(|| k.finding(CheckId::InitialSetup, "created together with the user and never used".into()))
}

fn no_owner_tag(k: &KeyCtx) -> Option<Finding> {
    let tagged = k.user.tags.iter().any(|(t, v)| t.eq_ignore_ascii_case(&k.s.owner_tag) && !v.is_empty());
    (k.is_active() && !tagged)
        .then(|| k.finding(CheckId::NoOwnerTag, format!("no `{}` tag on the user", k.s.owner_tag)))
}

fn no_ip_restriction(k: &KeyCtx) -> Option<Finding> {
    let a = k.analysis.filter(|a| k.is_active() && a.verdict != Verdict::Restricted)?;
    let why = a
        .evidence
        .iter()
        .map(|e| {
            let statement = if e.statement == "-" { String::new() } else { format!(", {}", e.statement) };
            format!("{} ({}{statement}): {}", e.policy, e.path, e.note)
        })
        .collect::<Vec<_>>()
        .join("; ");
    let verdict = serde_json::to_value(a.verdict).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let why = if why.is_empty() { "no policy restricts the source network".to_string() } else { why };
    let mut f = k.finding(CheckId::NoIpRestriction, format!("{verdict} (user-level): {why}"));
    f.severity = match a.verdict {
        Verdict::None => Severity::High,
        Verdict::Weak | Verdict::Partial => Severity::Medium,
        _ => Severity::Low,
    };
    f.analysis = Some(a.clone());
    Some(f)
}

/// A suppression from `--ignore-file`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// Check id.
    pub check: Option<String>,
    /// Account id.
    pub account: Option<String>,
    /// User name.
    pub user: Option<String>,
    /// Access key id.
    pub key: Option<String>,
    /// Why (required).
    pub reason: String,
    /// Last day it applies (YYYY-MM-DD): a TOML date (`expires = 2027-03-31`) or a string.
    #[serde(default, deserialize_with = "date_or_text")]
    pub expires: Option<String>,
}

/// `expires` as TOML writes a date (`2027-03-31`, unquoted) or as a quoted string.
fn date_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum DateOrText {
        Date(toml::value::Datetime),
        Text(String),
    }
    Ok(Option::<DateOrText>::deserialize(d)?.map(|v| match v {
        DateOrText::Date(dt) => dt.to_string(),
        DateOrText::Text(t) => t,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreFile {
    #[serde(default)]
    suppress: Vec<Suppression>,
}

/// Reads an ignore file (TOML, `[[suppress]]` tables).
pub fn read_ignore_file(path: &std::path::Path) -> Result<Vec<Suppression>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let f: IgnoreFile = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    for (i, s) in f.suppress.iter().enumerate() {
        if s.check.is_none() && s.user.is_none() && s.key.is_none() {
            return Err(format!("{}: suppression #{} names no check, user or key", path.display(), i + 1));
        }
        if let Some(c) = &s.check
            && CheckId::parse(c).is_none()
        {
            return Err(format!("{}: suppression #{} names an unknown check {c}", path.display(), i + 1));
        }
        if let Some(e) = &s.expires
            && expiry(e).is_none()
        {
            return Err(format!("{}: suppression #{} has expires = {e}; use YYYY-MM-DD", path.display(), i + 1));
        }
    }
    Ok(f.suppress)
}

#[test]
fn ignore_file_dates_as_toml_dates_or_strings() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ignore.toml");
    std::fs::write(&p, "[[suppress]]\ncheck = \"KA-ROTATE\"\nreason = \"r\"\nexpires = 2027-03-31\n[[suppress]]\nuser = \"u\"\nreason = \"r\"\nexpires = \"2027-04-01\"\n").unwrap();
    let s = read_ignore_file(&p).unwrap();
    assert_eq!(s[0].expires.as_deref(), Some("2027-03-31"));
    assert_eq!(s[1].expires.as_deref(), Some("2027-04-01"));
    std::fs::write(&p, "[[suppress]]\nuser = \"u\"\nreason = \"r\"\nexpires = 2027-03-31T10:00:00Z\n").unwrap();
    assert!(read_ignore_file(&p).unwrap_err().contains("YYYY-MM-DD"));
}

fn expiry(date: &str) -> Option<OffsetDateTime> {
    let d = time::Date::parse(date, &time::macros::format_description!("[year]-[month]-[day]")).ok()?;
    Some(d.with_hms(23, 59, 59).ok()?.assume_utc())
}

/// Applies suppressions; returns the expired ones (which no longer apply).
pub fn suppress(findings: &mut [Finding], rules: &[Suppression], now: OffsetDateTime) -> Vec<Suppression> {
    let (live, expired): (Vec<_>, Vec<_>) =
        rules.iter().cloned().partition(|r| r.expires.as_deref().and_then(expiry).is_none_or(|e| e >= now));
    for f in findings.iter_mut() {
        let hit = live.iter().find(|r| {
            r.check.as_deref().is_none_or(|c| c == f.check.as_str())
                && r.account.as_deref().is_none_or(|a| a == f.account)
                && r.user.as_deref().is_none_or(|u| u == f.user)
                && r.key.as_deref().is_none_or(|k| Some(k) == f.key.as_deref())
        });
        if let Some(r) = hit {
            f.status = Status::Muted;
            f.suppressed_because = Some(r.reason.clone());
        }
    }
    expired
}

#[cfg(test)]
mod threshold_tests {
    //! Each age threshold at a fixed instant: one day under it is clean, one day over is a finding.
    use super::*;
    use crate::data::{Account, Key, User};
    use time::Duration;

    const NOW: OffsetDateTime = time::macros::datetime!(2026-11-28 12:00 UTC);

    fn key(status: &str, age_days: i64, last_used_days: Option<i64>) -> Key {
        Key {
            id: format!("AKIAEXAMPLE{status}{age_days}"),
            state: KeyState::from_iam(status),
            created: NOW - Duration::days(age_days),
            last_used: last_used_days.map(|d| NOW - Duration::days(d)),
            last_service: None,
            last_region: None,
            stored: None,
            profile: None,
        }
    }

    fn checks_for(k: Key) -> Vec<&'static str> {
        let user = User {
            name: "u".into(),
            arn: "arn:aws:iam::1:user/u".into(),
            created: Some(NOW - Duration::days(400)),
            keys: vec![k],
            tags: vec![("owner".into(), "team".into())],
            ..User::default()
        };
        let acct = Account { id: "111111111111".into(), users: vec![user], ..Account::default() };
        let s = Settings {
            max_age_days: 90,
            max_unused_days: 45,
            grace_days: 7,
            owner_tag: "owner".into(),
            policy: policy::Options::default(),
        };
        run(&acct, &s, NOW).into_iter().map(|f| f.check.as_str()).filter(|c| *c != "KA-NO-IP-RESTRICTION").collect()
    }

    #[test]
    fn rotate_at_the_max_age() {
        assert!(checks_for(key("Active", 89, Some(1))).is_empty());
        assert_eq!(checks_for(key("Active", 91, Some(1))), ["KA-ROTATE"]);
    }

    #[test]
    fn unused_at_the_max_unused_days_and_never_used_after_the_grace_period() {
        assert!(checks_for(key("Active", 60, Some(44))).is_empty());
        assert_eq!(checks_for(key("Active", 60, Some(46))), ["KA-UNUSED"]);
        assert!(checks_for(key("Active", 6, None)).is_empty(), "a fresh key is not unused yet");
        assert_eq!(checks_for(key("Active", 8, None)), ["KA-UNUSED"], "never used after the grace period");
    }

    #[test]
    fn inactive_keys_are_stale_after_the_max_age_and_local_keys_are_never_aged() {
        assert!(checks_for(key("Inactive", 89, None)).is_empty());
        assert_eq!(checks_for(key("Inactive", 91, None)), ["KA-INACTIVE-STALE"]);
        let mut local = key("Local", 0, None);
        assert_eq!(local.state, KeyState::Local);
        local.created = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(checks_for(local), ["KA-LOCAL-LONG-LIVED"], "a --local key of unknown age gets no age finding");
    }
}
