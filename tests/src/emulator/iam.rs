//! The slice of IAM and Organizations an organisation audit reads, for many accounts at once:
//! moto answers one call at a time in one Python process, which bounds a 200-account audit's speed
//! by moto's CPU rather than by the tool's concurrency. Every account of the scenario is a member
//! of one organisation (`ListAccounts`, awsJson1.1) and holds one IAM user `robot` whose access
//! key is 150 days old: the credential report, GetAccountAuthorizationDetails, GetAccountSummary,
//! ListAccessKeys and ListServiceSpecificCredentials answer that (awsQuery, IAM's XML), for the
//! account of the signed caller. Signatures are checked as for STS.

use axum::http::{StatusCode, header};
use base64::Engine;

use super::state::{Credential, State};
use super::{Reply, iso8601};

const NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// How old every account's key is.
const KEY_AGE_DAYS: i64 = 150;

/// The audit actions this emulator answers.
pub const ACTIONS: [&str; 6] = [
    "GenerateCredentialReport",
    "GetCredentialReport",
    "GetAccountAuthorizationDetails",
    "GetAccountSummary",
    "ListAccessKeys",
    "ListServiceSpecificCredentials",
];

fn ok(action: &str, result: &str) -> Reply {
    super::sts::ok_in(NS, action, result)
}

/// The account's robot user: (name, user id, ARN, key id, created).
fn robot(st: &State, account: &str) -> (String, String, String, String, i64) {
    let created = st.now() - KEY_AGE_DAYS * 86_400;
    (
        "robot".into(),
        format!("AIDA{account}ROBOTUSR"),
        format!("arn:aws:iam::{account}:user/robot"),
        format!("AKIA{account}ROBT"),
        created,
    )
}

/// Answers `action` for the caller's account.
pub fn dispatch(st: &State, action: &str, caller: &Credential) -> Reply {
    let account = caller.identity.account().to_string();
    let (name, user_id, arn, key, created) = robot(st, &account);
    let at = iso8601(created);
    match action {
        "GenerateCredentialReport" => ok(action, "    <State>COMPLETE</State>\n    <Description>ready</Description>\n"),
        "GetCredentialReport" => {
            let csv = format!(
                "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n\
<root_account>,arn:aws:iam::{account}:root,{at},not_supported,no_information,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
{name},{arn},{at},false,N/A,N/A,N/A,false,true,{at},N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
            );
            let content = base64::engine::general_purpose::STANDARD.encode(csv);
            ok(
                action,
                &format!(
                    "    <Content>{content}</Content>\n    <ReportFormat>text/csv</ReportFormat>\n    <GeneratedTime>{}</GeneratedTime>\n",
                    iso8601(st.now())
                ),
            )
        }
        "GetAccountAuthorizationDetails" => ok(
            action,
            &format!(
                "    <UserDetailList>\n      <member>\n        <Path>/</Path>\n        <UserName>{name}</UserName>\n        <UserId>{user_id}</UserId>\n        <Arn>{arn}</Arn>\n        <CreateDate>{at}</CreateDate>\n        <UserPolicyList/>\n        <GroupList/>\n        <AttachedManagedPolicies/>\n        <Tags/>\n      </member>\n    </UserDetailList>\n    <GroupDetailList/>\n    <RoleDetailList/>\n    <Policies/>\n    <IsTruncated>false</IsTruncated>\n"
            ),
        ),
        "GetAccountSummary" => ok(
            action,
            "    <SummaryMap>\n      <entry><key>Users</key><value>1</value></entry>\n      <entry><key>AccessKeysPerUserQuota</key><value>2</value></entry>\n      <entry><key>AccountAccessKeysPresent</key><value>0</value></entry>\n      <entry><key>AccountMFAEnabled</key><value>1</value></entry>\n    </SummaryMap>\n",
        ),
        "ListAccessKeys" => ok(
            action,
            &format!(
                "    <AccessKeyMetadata>\n      <member>\n        <UserName>{name}</UserName>\n        <AccessKeyId>{key}</AccessKeyId>\n        <Status>Active</Status>\n        <CreateDate>{at}</CreateDate>\n      </member>\n    </AccessKeyMetadata>\n    <IsTruncated>false</IsTruncated>\n"
            ),
        ),
        _ => ok(action, "    <ServiceSpecificCredentials/>\n"),
    }
}

/// Organizations `ListAccounts`: every account of the scenario, ACTIVE, in one page.
pub fn list_accounts(st: &State) -> Reply {
    let accounts: Vec<serde_json::Value> = st
        .accounts
        .iter()
        .map(|a| {
            serde_json::json!({
                "Id": a.id, "Arn": format!("arn:aws:organizations::111111111111:account/o-sandbox/{}", a.id),
                "Name": if a.name.is_empty() { a.id.clone() } else { a.name.clone() },
                "Email": format!("{}@example.com", a.id), "Status": "ACTIVE", "State": "ACTIVE",
                "JoinedMethod": "CREATED", "JoinedTimestamp": st.now() - 86_400,
            })
        })
        .collect();
    Reply {
        status: StatusCode::OK,
        headers: vec![(header::CONTENT_TYPE, "application/x-amz-json-1.1".into())],
        body: serde_json::json!({ "Accounts": accounts }).to_string().into_bytes(),
        error: None,
    }
}
