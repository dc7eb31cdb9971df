//! `aws-keyaudit restrict USER --cidr C [--vpc V] [--apply] [--managed NAME]`: from a
//! KA-NO-IP-RESTRICTION finding to its fix. It writes the policy that restricts a user's keys to
//! known networks: one Deny of every action and resource when the request comes from outside the
//! given ranges (`NotIpAddress` on `aws:SourceIp`) and outside the given VPCs (`StringNotEquals`
//! on `aws:SourceVpc`), except requests AWS services make on the user's behalf
//! (`aws:ViaAWSService` = false). That is exactly the shape the verdict recognises as RESTRICTED, and
//! before anything is attached our own evaluator judges the user's policies with it added: the
//! printed prediction and the later audit cannot disagree. A dry run is the default; `--apply`
//! attaches it (inline, or as the managed policy NAME) and re-audits the user.
//!
//! IAM permissions: those of the audit, plus `iam:PutUserPolicy` (or `iam:CreatePolicy` and
//! `iam:AttachUserPolicy` with `--managed`).

use std::process::ExitCode;

use ipnet::IpNet;
use serde_json::{Value, json};
use shared::app::App;
use shared::credentials;
use shared::error::{Error, exit};

use crate::{Cli, checks, data, policy};

/// The inline policy's name.
pub const POLICY_NAME: &str = "aws-keyaudit-network-restriction";

/// `restrict`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct RestrictArgs {
    /// The IAM user whose keys to restrict.
    #[arg(value_name = "USER")]
    user: String,
    /// A network the keys may be used from (repeatable), e.g. 198.51.100.0/24.
    #[arg(long = "cidr", value_name = "CIDR", value_parser = crate::parse_cidr)]
    cidrs: Vec<IpNet>,
    /// A VPC the keys may be used from through its endpoints (repeatable), e.g. vpc-0abc123.
    #[arg(long = "vpc", value_name = "VPC")]
    vpcs: Vec<String>,
    /// Attach the policy (default: a dry run that only shows it and its effect).
    #[arg(long)]
    apply: bool,
    /// Attach it as a customer-managed policy of this name instead of an inline one.
    #[arg(long, value_name = "NAME", requires = "apply")]
    managed: Option<String>,
    /// The profile whose credentials to use (default: the usual chain).
    #[arg(long, value_name = "PROFILE")]
    profile: Option<String>,
}

/// The restriction policy for these networks.
pub fn document(cidrs: &[IpNet], vpcs: &[String]) -> Value {
    let mut condition = serde_json::Map::new();
    if !cidrs.is_empty() {
        let ranges: Vec<String> = IpNet::aggregate(&cidrs.to_vec()).iter().map(ToString::to_string).collect();
        condition.insert("NotIpAddress".into(), json!({ "aws:SourceIp": ranges }));
    }
    if !vpcs.is_empty() {
        condition.insert("StringNotEquals".into(), json!({ "aws:SourceVpc": vpcs }));
    }
    condition.insert("Bool".into(), json!({ "aws:ViaAWSService": "false" }));
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyOutsideKnownNetworks",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": condition,
        }]
    })
}

fn verdict_of(acct: &data::Account, user: &data::User, opts: &policy::Options) -> policy::Analysis {
    checks::analyse_user(acct, user, opts)
}

fn options(cli: &Cli) -> policy::Options {
    policy::Options {
        max_addresses: cli.max_allowed_addresses,
        allowed_cidrs: cli.allowed_cidrs.clone(),
        ..policy::Options::default()
    }
}

fn find<'a>(acct: &'a data::Account, name: &str) -> Result<&'a data::User, Error> {
    acct.users.iter().find(|u| u.name == name).ok_or_else(|| {
        Error::usage(
            format!("there is no IAM user `{}` in account {}", shared::text::clip(name), acct.id),
            Some("see the users with keys: `aws-keyaudit --output table`".into()),
        )
    })
}

/// Runs `restrict`.
pub async fn run(cli: &Cli, app: &App, r: &RestrictArgs) -> Result<ExitCode, Error> {
    if r.cidrs.is_empty() && r.vpcs.is_empty() {
        return Err(Error::usage(
            "name the networks the keys may be used from",
            Some("add --cidr RANGE (repeatable) and/or --vpc VPC_ID".into()),
        ));
    }
    for v in &r.vpcs {
        shared::config::doc::check_value("the VPC id", v)?;
    }
    let (settings, creds) = crate::resolve(cli, app, &r.profile).await?;
    let account = crate::account_of(&settings, &creds).await?;
    let iam = settings.iam(&creds);
    let opts = options(cli);
    let acct = data::collect(&iam, &account, 8).await?;
    let user = find(&acct, &r.user)?;
    let doc = document(&r.cidrs, &r.vpcs);
    let now = verdict_of(&acct, user, &opts);
    let mut with = user.clone();
    with.inline.push((POLICY_NAME.into(), doc.to_string()));
    let predicted = verdict_of(&acct, &with, &opts);
    let quiet = cli.common.quiet;
    let mut out = json!({
        "User": user.name, "Account": account, "PolicyName": r.managed.clone().unwrap_or_else(|| POLICY_NAME.into()),
        "Policy": doc, "Verdict": {"Now": now.verdict, "WithPolicy": predicted.verdict}, "Applied": false,
    });
    if predicted.verdict != policy::Verdict::Restricted {
        shared::output::print_json(&out).map_err(|e| Error::Io { context: "writing the output".into(), source: e })?;
        if !quiet {
            let why: Vec<String> = predicted.evidence.iter().map(|e| e.note.clone()).collect();
            eprintln!(
                "aws-keyaudit: the policy would not restrict `{}`: {}",
                user.name,
                shared::text::clean(&why.join("; "))
            );
            eprintln!("hint: name specific ranges (not 0.0.0.0/0 or private ones) with --cidr, or VPCs with --vpc");
        }
        return Ok(ExitCode::from(exit::VERDICT));
    }
    if !r.apply {
        shared::output::print_json(&out).map_err(|e| Error::Io { context: "writing the output".into(), source: e })?;
        if !quiet {
            eprintln!(
                "aws-keyaudit: dry run: nothing attached; this policy takes `{}` from {} to RESTRICTED (our evaluator)",
                user.name,
                serde_json::to_value(now.verdict).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
            );
            eprintln!("hint: run again with --apply to attach it");
        }
        return Ok(ExitCode::SUCCESS);
    }
    attach(&iam, r, &account, &user.name, &doc).await?;
    let after_data = data::collect(&iam, &account, 8).await?;
    let after = verdict_of(&after_data, find(&after_data, &r.user)?, &opts);
    out["Applied"] = json!(true);
    out["Verdict"]["After"] = json!(after.verdict);
    shared::output::print_json(&out).map_err(|e| Error::Io { context: "writing the output".into(), source: e })?;
    if !quiet {
        eprintln!(
            "aws-keyaudit: attached; `{}` re-audited: {}",
            user.name,
            out["Verdict"]["After"].as_str().unwrap_or("?")
        );
    }
    Ok(if after.verdict == policy::Verdict::Restricted { ExitCode::SUCCESS } else { ExitCode::from(exit::VERDICT) })
}

async fn attach(
    iam: &aws_sdk_iam::Client,
    r: &RestrictArgs,
    account: &str,
    user: &str,
    doc: &Value,
) -> Result<(), Error> {
    match &r.managed {
        None => {
            iam.put_user_policy()
                .user_name(user)
                .policy_name(POLICY_NAME)
                .policy_document(doc.to_string())
                .send()
                .await
                .map_err(|e| credentials::sdk_error("iam:PutUserPolicy", Some(user), None, e))?;
        }
        Some(name) => {
            let created = iam
                .create_policy()
                .policy_name(name)
                .policy_document(doc.to_string())
                .description("Denies these keys outside known networks (aws-keyaudit restrict)")
                .send()
                .await
                .map_err(|e| credentials::sdk_error("iam:CreatePolicy", Some(name), None, e))?;
            let arn = created
                .policy()
                .and_then(|p| p.arn())
                .map(str::to_string)
                .unwrap_or_else(|| format!("arn:aws:iam::{account}:policy/{name}"));
            iam.attach_user_policy()
                .user_name(user)
                .policy_arn(&arn)
                .send()
                .await
                .map_err(|e| credentials::sdk_error("iam:AttachUserPolicy", Some(&arn), None, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_is_what_the_verdict_calls_restricted() {
        let doc =
            document(&["198.51.100.0/24".parse().unwrap(), "198.51.101.0/24".parse().unwrap()], &["vpc-0abc".into()]);
        let c = &doc["Statement"][0]["Condition"];
        assert_eq!(c["NotIpAddress"]["aws:SourceIp"], json!(["198.51.100.0/23"]), "adjacent ranges aggregate");
        assert_eq!(c["StringNotEquals"]["aws:SourceVpc"], json!(["vpc-0abc"]));
        assert_eq!(c["Bool"]["aws:ViaAWSService"], "false");
        let principal = policy::Principal {
            name: "u".into(),
            arn: "arn:aws:iam::1:user/u".into(),
            user_id: "AIDA".into(),
            account: "1".into(),
            tags: vec![],
        };
        let src = policy::Source { path: "user inline".into(), policy: POLICY_NAME.into(), document: doc };
        let allow = policy::Source {
            path: "user inline".into(),
            policy: "admin".into(),
            document: json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        };
        let a = policy::analyse(&principal, &[allow, src], &[], &policy::Options::default());
        assert_eq!(a.verdict, policy::Verdict::Restricted, "{a:?}");
    }
}
