//! Collecting one account's data with few calls: the credential report (generated, then polled
//! with backoff), GetAccountAuthorizationDetails (users, groups, policies with their documents,
//! boundaries, tags), ListAccessKeys only for users the report shows with keys (and users too new
//! for the report), GetAccessKeyLastUsed only where the report cannot say which slot is which
//! key, and GetAccountSummary for root keys. Calls grow with the users that have keys.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::types::{EntityType, ReportStateType, StatusType};
use futures_util::{StreamExt, TryStreamExt};
use shared::cache::parse_timestamp;
use shared::credentials::sdk_error;
use shared::error::Error;
use time::OffsetDateTime;

/// A report key slot: (active, last_rotated, last_used_date, last_used_service, last_used_region).
pub type Slot = (bool, Option<OffsetDateTime>, Option<OffsetDateTime>, Option<String>, Option<String>);

/// One credential-report row (the fields the checks use).
#[derive(Debug, Clone, Default)]
pub struct ReportRow {
    /// `user` (`<root_account>` for root).
    pub user: String,
    /// `arn`.
    pub arn: String,
    /// `user_creation_time`.
    pub created: Option<OffsetDateTime>,
    /// `password_enabled`.
    pub password_enabled: bool,
    /// Slots 1 and 2: (active, last_rotated, last_used_date, last_used_service, last_used_region).
    pub keys: [Slot; 2],
}

/// An access key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// Where a key stands.
pub enum KeyState {
    /// Active in IAM.
    Active,
    /// Inactive in IAM.
    Inactive,
    /// Found on this machine (`--local`), not listed from IAM.
    Local,
    /// A status IAM named that we do not know.
    Other,
}

impl KeyState {
    /// From IAM's status name (`Active`, `Inactive`).
    pub fn from_iam(status: &str) -> Self {
        match status {
            "Active" => KeyState::Active,
            "Inactive" => KeyState::Inactive,
            "Local" => KeyState::Local,
            _ => KeyState::Other,
        }
    }

    /// Lower-case name for messages.
    pub fn lower(self) -> &'static str {
        match self {
            KeyState::Active => "active",
            KeyState::Inactive => "inactive",
            KeyState::Local => "local",
            KeyState::Other => "unknown-status",
        }
    }
}

/// A service-specific credential (CodeCommit or Keyspaces password, Amazon Bedrock API key).
#[derive(Debug, Clone)]
pub struct ServiceCredential {
    /// `ServiceSpecificCredentialId`.
    pub id: String,
    /// `codecommit.amazonaws.com`, `bedrock.amazonaws.com`, ...
    pub service: String,
    /// Active or Inactive.
    pub state: KeyState,
    /// When it was created.
    pub created: OffsetDateTime,
    /// When it expires (Bedrock API keys made with an age; the others never do).
    pub expires: Option<OffsetDateTime>,
}

#[derive(Debug, Clone)]
pub struct Key {
    /// Key id.
    pub id: String,
    /// Active, Inactive, Expired.
    pub state: KeyState,
    /// CreateDate.
    pub created: OffsetDateTime,
    /// Last use, if ever.
    pub last_used: Option<OffsetDateTime>,
    /// Service of the last use.
    pub last_service: Option<String>,
    /// Region of the last use (where CloudTrail event history is looked up).
    pub last_region: Option<String>,
    /// `--local`: the key store backend it is kept in (None: plaintext or IAM-listed).
    pub stored: Option<String>,
    /// `--local`: the profile that uses it.
    pub profile: Option<String>,
}

/// A user with what the checks need.
#[derive(Debug, Clone, Default)]
pub struct User {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// UserId.
    pub id: String,
    /// CreateDate.
    pub created: Option<OffsetDateTime>,
    /// Console password.
    pub password: bool,
    /// Keys.
    pub keys: Vec<Key>,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Inline policies: (name, document text).
    pub inline: Vec<(String, String)>,
    /// Attached managed policy ARNs.
    pub managed: Vec<String>,
    /// Groups.
    pub groups: Vec<String>,
    /// Permissions boundary ARN.
    pub boundary: Option<String>,
    /// Service-specific credentials.
    pub service_credentials: Vec<ServiceCredential>,
}

/// A group's policies.
#[derive(Debug, Clone, Default)]
pub struct Group {
    /// Inline policies: (name, document text).
    pub inline: Vec<(String, String)>,
    /// Attached managed policy ARNs.
    pub managed: Vec<String>,
}

/// Everything about one account.
#[derive(Debug, Clone, Default)]
pub struct Account {
    /// Account id.
    pub id: String,
    /// When the credential report was generated.
    pub report_generated: Option<OffsetDateTime>,
    /// Root has keys (report row or account summary).
    pub root_keys: bool,
    /// Users.
    pub users: Vec<User>,
    /// Groups by name.
    pub groups: BTreeMap<String, Group>,
    /// Managed policies' default version documents by ARN.
    pub policies: BTreeMap<String, String>,
    /// What could not be looked at (shown as warnings).
    pub notes: Vec<String>,
    /// `--usage`: where each active key was used from, by key id.
    pub usage: BTreeMap<String, crate::usage::Usage>,
}

fn dt(d: &aws_sdk_iam::primitives::DateTime) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(d.secs()).ok()
}

fn cell(v: &str) -> Option<&str> {
    (!matches!(v, "" | "N/A" | "no_information" | "not_supported")).then_some(v)
}

/// Parses the credential report CSV with a real CSV parser (user names may contain commas).
pub fn parse_report(csv_bytes: &[u8]) -> Result<Vec<ReportRow>, String> {
    let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(csv_bytes);
    let headers = r.headers().map_err(|e| e.to_string())?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let need = |name: &str| col(name).ok_or_else(|| format!("the credential report has no `{name}` column"));
    let (u, a, c, p) = (need("user")?, need("arn")?, need("user_creation_time")?, need("password_enabled")?);
    let slot = |n: u8| -> Result<[usize; 5], String> {
        Ok([
            need(&format!("access_key_{n}_active"))?,
            need(&format!("access_key_{n}_last_rotated"))?,
            need(&format!("access_key_{n}_last_used_date"))?,
            need(&format!("access_key_{n}_last_used_service"))?,
            need(&format!("access_key_{n}_last_used_region"))?,
        ])
    };
    let (s1, s2) = (slot(1)?, slot(2)?);
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        let g = |i: usize| rec.get(i).unwrap_or("");
        let key = |s: [usize; 5]| {
            (
                g(s[0]).eq_ignore_ascii_case("true"),
                cell(g(s[1])).and_then(parse_timestamp),
                cell(g(s[2])).and_then(parse_timestamp),
                cell(g(s[3])).map(str::to_string),
                cell(g(s[4])).map(str::to_string),
            )
        };
        out.push(ReportRow {
            user: g(u).into(),
            arn: g(a).into(),
            created: cell(g(c)).and_then(parse_timestamp),
            password_enabled: g(p).eq_ignore_ascii_case("true"),
            keys: [key(s1), key(s2)],
        });
    }
    Ok(out)
}

/// The credential report: generate, poll with backoff until COMPLETE, get.
async fn credential_report(iam: &aws_sdk_iam::Client) -> Result<(Vec<ReportRow>, Option<OffsetDateTime>), Error> {
    let mut wait = std::time::Duration::from_millis(200);
    for _ in 0..30 {
        let out = iam
            .generate_credential_report()
            .send()
            .await
            .map_err(|e| sdk_error("iam:GenerateCredentialReport", None, None, e))?;
        if out.state() == Some(&ReportStateType::Complete) {
            break;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(std::time::Duration::from_secs(5));
    }
    let out =
        iam.get_credential_report().send().await.map_err(|e| sdk_error("iam:GetCredentialReport", None, None, e))?;
    let bytes = out.content().map(|b| b.as_ref().to_vec()).unwrap_or_default();
    let rows = parse_report(&bytes).map_err(|e| {
        Error::Service(shared::error::ServiceError {
            operation: "iam:GetCredentialReport".into(),
            code: None,
            message: e,
        })
    })?;
    Ok((rows, out.generated_time().and_then(dt)))
}

/// Collects one account.
pub async fn collect(iam: &aws_sdk_iam::Client, account_id: &str, concurrency: usize) -> Result<Account, Error> {
    let (report, generated) = credential_report(iam).await?;
    let mut acct = Account { id: account_id.into(), report_generated: generated, ..Account::default() };
    authorization_details(iam, &mut acct).await?;
    // Root keys: the report's root row and the account summary.
    if let Some(root) = report.iter().find(|r| r.user == "<root_account>") {
        acct.root_keys |= root.keys.iter().any(|k| k.0);
    }
    let summary =
        iam.get_account_summary().send().await.map_err(|e| sdk_error("iam:GetAccountSummary", None, None, e))?;
    acct.root_keys |= summary
        .summary_map()
        .and_then(|m| m.get(&aws_sdk_iam::types::SummaryKeyType::AccountAccessKeysPresent))
        .is_some_and(|v| *v > 0);
    keys(iam, &mut acct, &report, concurrency).await?;
    service_credentials(iam, &mut acct).await;
    Ok(acct)
}

/// Every user's service-specific credentials in a few calls (ListServiceSpecificCredentials with
/// AllUsers, paginated). Where the call is refused or unknown (an older partition, a narrower
/// policy) the account is still audited: the note says what was not looked at.
async fn service_credentials(iam: &aws_sdk_iam::Client, acct: &mut Account) {
    let mut marker: Option<String> = None;
    let mut found: Vec<(String, ServiceCredential)> = Vec::new();
    loop {
        let page = match iam.list_service_specific_credentials().all_users(true).set_marker(marker.clone()).send().await
        {
            Ok(p) => p,
            Err(e) => {
                acct.notes.push(format!(
                    "service-specific credentials were not checked: {}",
                    sdk_error("iam:ListServiceSpecificCredentials", None, None, e)
                ));
                return;
            }
        };
        for c in page.service_specific_credentials() {
            found.push((
                c.user_name().to_string(),
                ServiceCredential {
                    id: c.service_specific_credential_id().to_string(),
                    service: c.service_name().to_string(),
                    state: KeyState::from_iam(c.status().as_str()),
                    created: dt(c.create_date()).unwrap_or(OffsetDateTime::UNIX_EPOCH),
                    expires: c.expiration_date().and_then(dt),
                },
            ));
        }
        match page.marker().filter(|_| page.is_truncated()) {
            Some(m) => marker = Some(m.to_string()),
            None => break,
        }
    }
    let index: BTreeMap<String, usize> = acct.users.iter().enumerate().map(|(i, u)| (u.name.clone(), i)).collect();
    for (user, c) in found {
        if let Some(&i) = index.get(&user) {
            acct.users[i].service_credentials.push(c);
        }
    }
}

fn inline_policies(list: &[aws_sdk_iam::types::PolicyDetail]) -> Vec<(String, String)> {
    list.iter()
        .map(|p| (p.policy_name().unwrap_or_default().to_string(), p.policy_document().unwrap_or_default().to_string()))
        .collect()
}

fn managed_arns(list: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<String> {
    list.iter().filter_map(|p| p.policy_arn().map(str::to_string)).collect()
}

/// Users, groups and the default versions of the policies attached to them, from one paginated
/// GetAccountAuthorizationDetails.
async fn authorization_details(iam: &aws_sdk_iam::Client, acct: &mut Account) -> Result<(), Error> {
    let mut pages = iam
        .get_account_authorization_details()
        .filter(EntityType::User)
        .filter(EntityType::Group)
        .filter(EntityType::LocalManagedPolicy)
        .into_paginator()
        .send();
    let mut attached: BTreeSet<String> = BTreeSet::new();
    let mut all_policies = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("iam:GetAccountAuthorizationDetails", None, None, e))?;
        for u in page.user_detail_list() {
            let user = User {
                name: u.user_name().unwrap_or_default().into(),
                arn: u.arn().unwrap_or_default().into(),
                id: u.user_id().unwrap_or_default().into(),
                created: u.create_date().and_then(dt),
                inline: inline_policies(u.user_policy_list()),
                managed: managed_arns(u.attached_managed_policies()),
                groups: u.group_list().to_vec(),
                boundary: u.permissions_boundary().and_then(|b| b.permissions_boundary_arn().map(str::to_string)),
                tags: u.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect(),
                ..User::default()
            };
            attached.extend(user.managed.iter().cloned());
            attached.extend(user.boundary.iter().cloned());
            acct.users.push(user);
        }
        for g in page.group_detail_list() {
            let group = Group {
                inline: inline_policies(g.group_policy_list()),
                managed: managed_arns(g.attached_managed_policies()),
            };
            attached.extend(group.managed.iter().cloned());
            acct.groups.insert(g.group_name().unwrap_or_default().into(), group);
        }
        all_policies.extend(page.policies().iter().cloned());
    }
    for p in all_policies {
        let Some(arn) = p.arn().filter(|a| attached.contains(*a)) else { continue };
        let default = p.default_version_id();
        if let Some(v) = p
            .policy_version_list()
            .iter()
            .find(|v| v.is_default_version() || (default.is_some() && v.version_id() == default))
        {
            acct.policies.insert(arn.to_string(), v.document().unwrap_or_default().to_string());
        }
    }
    aws_managed(iam, acct, attached).await;
    Ok(())
}

/// AWS managed policies, by ARN: the same document in every account of a partition, so one run
/// reads each once however many accounts attach it.
static AWS_MANAGED: std::sync::LazyLock<std::sync::Mutex<BTreeMap<String, String>>> =
    std::sync::LazyLock::new(Default::default);

/// The attached AWS managed policies' default documents: GetPolicy + GetPolicyVersion for each
/// one not read yet in this run. GetAccountAuthorizationDetails with `AWSManagedPolicy` would
/// return every AWS managed policy with every version (well over a thousand documents, megabytes
/// per account) to find the few that are attached.
async fn aws_managed(iam: &aws_sdk_iam::Client, acct: &mut Account, attached: BTreeSet<String>) {
    let wanted: Vec<String> =
        attached.into_iter().filter(|a| a.contains(":iam::aws:policy/") && !acct.policies.contains_key(a)).collect();
    let cached = |arn: &str| AWS_MANAGED.lock().ok().and_then(|m| m.get(arn).cloned());
    let missing: Vec<String> = wanted.iter().filter(|a| cached(a).is_none()).cloned().collect();
    let fetched: Vec<(String, Result<String, Error>)> =
        futures_util::stream::iter(missing.into_iter().map(|arn| async move {
            let doc = async {
                let p = iam
                    .get_policy()
                    .policy_arn(&arn)
                    .send()
                    .await
                    .map_err(|e| sdk_error("iam:GetPolicy", Some(&arn), None, e))?;
                let version = p.policy().and_then(|p| p.default_version_id()).unwrap_or("v1").to_string();
                let v = iam
                    .get_policy_version()
                    .policy_arn(&arn)
                    .version_id(&version)
                    .send()
                    .await
                    .map_err(|e| sdk_error("iam:GetPolicyVersion", Some(&arn), None, e))?;
                Ok(v.policy_version().and_then(|v| v.document()).unwrap_or_default().to_string())
            }
            .await;
            (arn, doc)
        }))
        .buffer_unordered(8)
        .collect()
        .await;
    for (arn, doc) in fetched {
        match doc {
            Ok(d) => {
                if let Ok(mut m) = AWS_MANAGED.lock() {
                    m.insert(arn, d);
                }
            }
            Err(e) => acct.notes.push(format!(
                "the AWS managed policy {arn} could not be read, so its statements were not judged: {e}"
            )),
        }
    }
    for arn in wanted {
        if let Some(d) = cached(&arn) {
            acct.policies.insert(arn, d);
        }
    }
}

/// Passwords from the report, and keys only for users the report shows with keys (or does not
/// know yet), listed concurrently.
async fn keys(
    iam: &aws_sdk_iam::Client,
    acct: &mut Account,
    report: &[ReportRow],
    concurrency: usize,
) -> Result<(), Error> {
    let by_name: BTreeMap<String, &ReportRow> = report.iter().map(|r| (r.user.clone(), r)).collect();
    for u in &mut acct.users {
        if let Some(r) = by_name.get(&u.name) {
            u.password = r.password_enabled;
        }
    }
    let need_keys: Vec<usize> = acct
        .users
        .iter()
        .enumerate()
        .filter(|(_, u)| by_name.get(&u.name).is_none_or(|r| r.keys.iter().any(|k| k.0 || k.1.is_some())))
        .map(|(i, _)| i)
        .collect();
    let results: Vec<(usize, Vec<Key>)> = futures_util::stream::iter(need_keys.into_iter().map(|i| {
        let name = acct.users[i].name.clone();
        let row = by_name.get(&name).map(|r| (*r).clone());
        async move { user_keys(iam, &name, row.as_ref()).await.map(|k| (i, k)) }
    }))
    .buffer_unordered(concurrency.max(1))
    .try_collect()
    .await?;
    for (i, keys) in results {
        acct.users[i].keys = keys;
    }
    Ok(())
}

/// A user's keys with their last use: from the report when its slots map to the keys
/// unambiguously (one key, or creation dates that match `last_rotated`), else GetAccessKeyLastUsed.
async fn user_keys(iam: &aws_sdk_iam::Client, user: &str, row: Option<&ReportRow>) -> Result<Vec<Key>, Error> {
    let out = iam
        .list_access_keys()
        .user_name(user)
        .send()
        .await
        .map_err(|e| sdk_error("iam:ListAccessKeys", Some(user), None, e))?;
    let mut keys = Vec::new();
    let listed = out.access_key_metadata();
    for m in listed {
        let state = match m.status() {
            Some(StatusType::Active) => KeyState::Active,
            Some(StatusType::Inactive) => KeyState::Inactive,
            _ => KeyState::Other,
        };
        let created = m.create_date().and_then(dt).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let slot = row.and_then(|r| {
            if listed.len() == 1 {
                return Some(&r.keys[0]);
            }
            let same = |t: Option<OffsetDateTime>| t.is_some_and(|t| (t - created).whole_seconds().abs() <= 1);
            match (same(r.keys[0].1), same(r.keys[1].1)) {
                (true, false) => Some(&r.keys[0]),
                (false, true) => Some(&r.keys[1]),
                _ => None,
            }
        });
        let (last_used, last_service, last_region) = match slot {
            Some(s) => (s.2, s.3.clone(), s.4.clone()),
            None => {
                let id = m.access_key_id().unwrap_or_default();
                let lu = iam
                    .get_access_key_last_used()
                    .access_key_id(id)
                    .send()
                    .await
                    .map_err(|e| sdk_error("iam:GetAccessKeyLastUsed", Some(id), None, e))?;
                let u = lu.access_key_last_used();
                (
                    u.and_then(|x| x.last_used_date()).and_then(dt),
                    u.map(|x| x.service_name().to_string()).filter(|s| s != "N/A"),
                    u.map(|x| x.region().to_string()).filter(|s| s != "N/A"),
                )
            }
        };
        keys.push(Key {
            id: m.access_key_id().unwrap_or_default().into(),
            state,
            created,
            last_used,
            last_service,
            last_region,
            stored: None,
            profile: None,
        });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_parsing_with_quotes_and_placeholders() {
        let csv = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n\
<root_account>,arn:aws:iam::1:root,2020-01-01T00:00:00+00:00,not_supported,no_information,not_supported,not_supported,true,true,2020-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
\"a,b\",\"arn:aws:iam::1:user/a,b\",2021-01-01T00:00:00+00:00,TRUE,N/A,N/A,N/A,false,true,2021-02-01T00:00:00+00:00,2021-03-01T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n";
        let rows = parse_report(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].keys[0].0 && rows[0].keys[0].2.is_none());
        assert_eq!(rows[1].user, "a,b");
        assert!(rows[1].password_enabled);
        assert_eq!(rows[1].keys[0].3.as_deref(), Some("s3"));
        assert_eq!(rows[1].keys[0].4.as_deref(), Some("us-east-1"));
        assert!(parse_report(b"user,arn\nx,y\n").unwrap_err().contains("user_creation_time"));
    }
}
