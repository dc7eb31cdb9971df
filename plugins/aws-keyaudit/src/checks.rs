//! The checks: each with a stable id and severity, one finding per key (stable finding id), and
//! suppressions with reasons and expiry dates.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::data::{Account, User};
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

/// A check's description.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Check {
    /// Stable id.
    pub id: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line.
    pub title: &'static str,
    /// What to do.
    pub remediation: &'static str,
}

/// Every check.
pub const CHECKS: [Check; 10] = [
    Check {
        id: "KA-ROOT-KEY",
        severity: Severity::Critical,
        title: "The root user has an access key",
        remediation: "Delete the root user's access keys; use IAM roles instead.",
    },
    Check {
        id: "KA-ROTATE",
        severity: Severity::Medium,
        title: "Active access key older than the maximum age",
        remediation: "Create a new key, move its users to it, deactivate and delete the old one.",
    },
    Check {
        id: "KA-UNUSED",
        severity: Severity::Medium,
        title: "Active access key unused (or never used) for too long",
        remediation: "Deactivate the key; delete it if nothing breaks.",
    },
    Check {
        id: "KA-TWO-ACTIVE",
        severity: Severity::Medium,
        title: "User has two active access keys",
        remediation: "Finish the rotation: deactivate the older key.",
    },
    Check {
        id: "KA-INACTIVE-STALE",
        severity: Severity::Low,
        title: "Inactive access key kept past the maximum age",
        remediation: "Delete keys that are no longer used.",
    },
    Check {
        id: "KA-PWD-AND-KEY",
        severity: Severity::Low,
        title: "Console user also has an access key",
        remediation: "Give programs their own IAM user (or a role) and people only a password with MFA.",
    },
    Check {
        id: "KA-INITIAL-SETUP",
        severity: Severity::Medium,
        title: "Access key created with the user and never used",
        remediation: "Delete keys created at setup that nobody uses.",
    },
    Check {
        id: "KA-NO-IP-RESTRICTION",
        severity: Severity::High,
        title: "Access key not (fully) restricted to known source networks",
        remediation: "Attach a Deny with NotIpAddress on aws:SourceIp (and StringNotEquals on aws:SourceVpc) over all actions.",
    },
    Check {
        id: "KA-NO-OWNER-TAG",
        severity: Severity::Low,
        title: "User with an active key has no owner tag",
        remediation: "Tag the user with its owner so someone answers for the key.",
    },
    Check {
        id: "KA-LOCAL-LONG-LIVED",
        severity: Severity::Medium,
        title: "Long-lived access key on this machine",
        remediation: "Replace local keys with SSO (aws-sso-sync) or an MFA-protected role (aws-assume).",
    },
];

/// The description of a check id.
pub fn check(id: &str) -> &'static Check {
    CHECKS.iter().find(|c| c.id == id).expect("known check id")
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable id: the same key and check give the same id on every run.
    pub id: String,
    /// Check id.
    pub check: &'static str,
    /// Severity.
    pub severity: Severity,
    /// FAIL, or MUTED when suppressed.
    pub status: &'static str,
    /// Account id.
    pub account: String,
    /// User name (`<root_account>` for root).
    pub user: String,
    /// User ARN.
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
}

fn finding_id(check: &str, account: &str, user: &str, key: Option<&str>) -> String {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(format!("{check}|{account}|{user}|{}", key.unwrap_or("-")).as_bytes()))[..16]
        .to_string()
}

/// Thresholds and options of the checks.
#[derive(Debug, Clone)]
pub struct Settings {
    /// KA-ROTATE / KA-INACTIVE-STALE: days.
    pub max_age_days: i64,
    /// KA-UNUSED: days.
    pub max_unused_days: i64,
    /// KA-NO-OWNER-TAG: tag key (case-insensitive).
    pub owner_tag: String,
    /// IP analysis.
    pub policy: policy::Options,
}

fn new(
    check_id: &'static str,
    account: &str,
    user: &User,
    key: Option<&str>,
    detail: String,
    severity: Option<Severity>,
) -> Finding {
    let c = check(check_id);
    Finding {
        id: finding_id(check_id, account, &user.name, key),
        check: check_id,
        severity: severity.unwrap_or(c.severity),
        status: "FAIL",
        account: account.into(),
        user: user.name.clone(),
        arn: user.arn.clone(),
        key: key.map(str::to_string),
        title: c.title,
        detail,
        analysis: None,
        suppressed_because: None,
    }
}

/// The IP analysis of a user: its policies and boundary from the account's data.
pub fn analyse_user(acct: &Account, u: &User, opts: &policy::Options) -> Analysis {
    let mut sources = Vec::new();
    let mut unknown = Vec::new();
    let mut add = |path: String, name: &str, text: &str| match policy::decode_document(text) {
        Some(document) => sources.push(Source { path, policy: name.to_string(), document }),
        None => unknown.push(name.to_string()),
    };
    for (n, d) in &u.inline {
        add("user inline".into(), n, d);
    }
    let managed =
        |arn: &String, path: String, add: &mut dyn FnMut(String, &str, &str), unknown: &mut Vec<String>| match acct
            .policies
            .get(arn)
        {
            Some(d) => add(path, arn, d),
            None => unknown.push(arn.clone()),
        };
    let mut unknown2 = Vec::new();
    for arn in &u.managed {
        managed(arn, "user managed".into(), &mut add, &mut unknown2);
    }
    for g in &u.groups {
        if let Some(group) = acct.groups.get(g) {
            for (n, d) in &group.inline {
                add(format!("group {g} inline"), n, d);
            }
            for arn in &group.managed {
                managed(arn, format!("group {g} managed"), &mut add, &mut unknown2);
            }
        }
    }
    if let Some(b) = &u.boundary {
        match acct.policies.get(b) {
            Some(d) => add("boundary".into(), b, d),
            None => unknown2.push(b.clone()),
        }
    }
    unknown.extend(unknown2);
    let principal = Principal {
        name: u.name.clone(),
        arn: u.arn.clone(),
        user_id: u.id.clone(),
        account: acct.id.clone(),
        tags: u.tags.clone(),
    };
    policy::analyse(&principal, &sources, &unknown, opts)
}

fn days(d: time::Duration) -> i64 {
    d.whole_days()
}

/// Every finding of one account.
pub fn run(acct: &Account, s: &Settings, now: OffsetDateTime) -> Vec<Finding> {
    let mut out = Vec::new();
    if acct.root_keys {
        let root =
            User { name: "<root_account>".into(), arn: format!("arn:aws:iam::{}:root", acct.id), ..User::default() };
        out.push(new("KA-ROOT-KEY", &acct.id, &root, None, "the root user has an active access key".into(), None));
    }
    for u in &acct.users {
        let active: Vec<_> = u.keys.iter().filter(|k| k.status == "Active").collect();
        let analysis = (!active.is_empty()).then(|| analyse_user(acct, u, &s.policy));
        for k in &u.keys {
            // Keys found on this machine (`--local`) have their own finding, KA-LOCAL-LONG-LIVED;
            // their creation date may be unknown, so no age check may read it.
            if k.status == "Local" {
                continue;
            }
            let age = days(now - k.created);
            let key = Some(k.id.as_str());
            if k.status != "Active" {
                if age > s.max_age_days {
                    out.push(new(
                        "KA-INACTIVE-STALE",
                        &acct.id,
                        u,
                        key,
                        format!(
                            "{} key created {age} days ago is still present (max {})",
                            k.status.to_lowercase(),
                            s.max_age_days
                        ),
                        None,
                    ));
                }
                continue;
            }
            if age > s.max_age_days {
                out.push(new(
                    "KA-ROTATE",
                    &acct.id,
                    u,
                    key,
                    format!("created {age} days ago (max {})", s.max_age_days),
                    None,
                ));
            }
            match k.last_used {
                Some(t) if days(now - t) >= s.max_unused_days => out.push(new(
                    "KA-UNUSED",
                    &acct.id,
                    u,
                    key,
                    format!(
                        "last used {} days ago{} (max {})",
                        days(now - t),
                        k.last_service.as_ref().map(|s| format!(" by {s}")).unwrap_or_default(),
                        s.max_unused_days
                    ),
                    None,
                )),
                None if age >= s.max_unused_days => out.push(new(
                    "KA-UNUSED",
                    &acct.id,
                    u,
                    key,
                    format!("never used, created {age} days ago (max {})", s.max_unused_days),
                    None,
                )),
                _ => {}
            }
            if active.len() > 1 {
                out.push(new(
                    "KA-TWO-ACTIVE",
                    &acct.id,
                    u,
                    key,
                    format!(
                        "{} active keys: {}",
                        active.len(),
                        active.iter().map(|k| k.id.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                    None,
                ));
            }
            if u.password {
                out.push(new(
                    "KA-PWD-AND-KEY",
                    &acct.id,
                    u,
                    key,
                    "the user has a console password and an active key".into(),
                    None,
                ));
                if k.last_used.is_none() && u.created.is_some_and(|c| (k.created - c).whole_seconds().abs() <= 60) {
                    out.push(new(
                        "KA-INITIAL-SETUP",
                        &acct.id,
                        u,
                        key,
                        "created together with the user and never used".into(),
                        None,
                    ));
                }
            }
            if !u.tags.iter().any(|(t, v)| t.eq_ignore_ascii_case(&s.owner_tag) && !v.is_empty()) {
                out.push(new(
                    "KA-NO-OWNER-TAG",
                    &acct.id,
                    u,
                    key,
                    format!("no `{}` tag on the user", s.owner_tag),
                    None,
                ));
            }
            if let Some(a) = &analysis
                && a.verdict != Verdict::Restricted
            {
                let severity = match a.verdict {
                    Verdict::None => Severity::High,
                    Verdict::Weak | Verdict::Partial => Severity::Medium,
                    _ => Severity::Low,
                };
                let why = a
                    .evidence
                    .iter()
                    .map(|e| {
                        format!(
                            "{} ({}{}): {}",
                            e.policy,
                            e.path,
                            if e.statement == "-" { String::new() } else { format!(", {}", e.statement) },
                            e.note
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                let verdict = serde_json::to_value(a.verdict)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                let mut f = new(
                    "KA-NO-IP-RESTRICTION",
                    &acct.id,
                    u,
                    key,
                    format!(
                        "{verdict}: {}",
                        if why.is_empty() { "no policy restricts the source network".to_string() } else { why }
                    ),
                    Some(severity),
                );
                f.analysis = Some(a.clone());
                out.push(f);
            }
        }
    }
    out
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
            && !CHECKS.iter().any(|k| k.id == c)
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
            r.check.as_deref().is_none_or(|c| c == f.check)
                && r.account.as_deref().is_none_or(|a| a == f.account)
                && r.user.as_deref().is_none_or(|u| u == f.user)
                && r.key.as_deref().is_none_or(|k| Some(k) == f.key.as_deref())
        });
        if let Some(r) = hit {
            f.status = "MUTED";
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
            status: status.into(),
            created: NOW - Duration::days(age_days),
            last_used: last_used_days.map(|d| NOW - Duration::days(d)),
            last_service: None,
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
            owner_tag: "owner".into(),
            policy: policy::Options::default(),
        };
        run(&acct, &s, NOW).into_iter().map(|f| f.check).filter(|c| *c != "KA-NO-IP-RESTRICTION").collect()
    }

    #[test]
    fn rotate_at_the_max_age() {
        assert!(checks_for(key("Active", 89, Some(1))).is_empty());
        assert_eq!(checks_for(key("Active", 91, Some(1))), ["KA-ROTATE"]);
    }

    #[test]
    fn unused_at_the_max_unused_days_and_never_used_from_creation() {
        assert!(checks_for(key("Active", 60, Some(44))).is_empty());
        assert_eq!(checks_for(key("Active", 60, Some(46))), ["KA-UNUSED"]);
        assert!(checks_for(key("Active", 44, None)).is_empty());
        assert_eq!(checks_for(key("Active", 46, None)), ["KA-UNUSED"]);
    }

    #[test]
    fn inactive_keys_are_stale_after_the_max_age_and_local_keys_are_never_aged() {
        assert!(checks_for(key("Inactive", 89, None)).is_empty());
        assert_eq!(checks_for(key("Inactive", 91, None)), ["KA-INACTIVE-STALE"]);
        let mut local = key("Local", 0, None);
        local.created = OffsetDateTime::UNIX_EPOCH;
        assert!(checks_for(local).is_empty(), "a --local key of unknown age gets no age finding");
    }
}
