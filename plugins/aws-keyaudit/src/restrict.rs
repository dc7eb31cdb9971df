//! `aws-keyaudit restrict USER [--cidr C ...] [--vpc V ...] [--vpce E ...] [--from-usage] [--apply]
//! [--managed NAME]`: from a KA-NO-IP-RESTRICTION finding to its fix. It writes the policy that
//! restricts a user's keys to known networks: one Deny of every action and resource when the
//! request comes from outside the given ranges (`NotIpAddress` on `aws:SourceIp`) and outside the
//! given VPCs and VPC endpoints (`StringNotEquals` on `aws:SourceVpc` / `aws:SourceVpce`), except
//! requests AWS services make on the user's behalf (`aws:ViaAWSService` = false). That is exactly
//! the shape the verdict recognises as RESTRICTED, and before anything is attached our own
//! evaluator judges the user's policies with it added: the printed prediction and the later audit
//! cannot disagree.
//!
//! `--from-usage` takes the networks and endpoints from the keys' CloudTrail history (see
//! [`crate::usage`]). Whatever the source, the history of the last `--days` days is replayed
//! against the networks the evaluator says the policy leaves allowed: the dry run (the default)
//! shows which past calls would have been denied, and `--apply` refuses to attach a policy that
//! would have denied any (unless `--force`), then attaches it (inline, or as the managed policy
//! NAME) and re-audits the user.
//!
//! IAM permissions: those of the audit, `cloudtrail:LookupEvents` for the replay and
//! `--from-usage`, plus `iam:PutUserPolicy` (or `iam:CreatePolicy` and `iam:AttachUserPolicy` with
//! `--managed`).

use std::process::ExitCode;

use ipnet::IpNet;
use serde_json::{Value, json};
use shared::app::App;
use shared::credentials;
use shared::error::{Error, exit};

use crate::{Cli, checks, data, policy, usage};

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
    #[arg(long = "vpc", value_name = "VPC", value_parser = |v: &str| vpc_id(v, "vpc-"))]
    vpcs: Vec<String>,
    /// A VPC endpoint the keys may be used through (repeatable), e.g. vpce-0abc123.
    #[arg(long = "vpce", value_name = "VPCE", value_parser = |v: &str| vpc_id(v, "vpce-"))]
    vpces: Vec<String>,
    /// Add the networks and VPC endpoints the keys were used from in the last --days days
    /// (CloudTrail event history).
    #[arg(long)]
    from_usage: bool,
    /// Attach the policy (default: a dry run that only shows it and its effect).
    #[arg(long, conflicts_with = "dry_run")]
    apply: bool,
    /// Only show the policy and what it would have denied (the default; for scripts that say so).
    #[arg(long)]
    dry_run: bool,
    /// With --apply: attach even when past calls would have been denied.
    #[arg(long, requires = "apply")]
    force: bool,
    /// Attach it as a customer-managed policy of this name instead of an inline one.
    #[arg(long, value_name = "NAME", requires = "apply")]
    managed: Option<String>,
    /// The profile whose credentials to use (default: the usual chain).
    #[arg(long, value_name = "PROFILE")]
    profile: Option<String>,
}

/// A VPC (`vpc-`) or endpoint (`vpce-`) id: the prefix and hex digits, nothing else (it goes
/// into a policy).
fn vpc_id(v: &str, prefix: &str) -> Result<String, String> {
    let ok = v
        .strip_prefix(prefix)
        .is_some_and(|h| !h.is_empty() && h.len() <= 17 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok { Ok(v.to_string()) } else { Err(format!("`{}` is not an id like {prefix}0abc123", shared::text::clip(v))) }
}

/// The restriction policy for these networks, VPCs and VPC endpoints.
pub fn document(cidrs: &[IpNet], vpcs: &[String], vpces: &[String]) -> Value {
    let mut condition = serde_json::Map::new();
    if !cidrs.is_empty() {
        let ranges: Vec<String> = IpNet::aggregate(&cidrs.to_vec()).iter().map(ToString::to_string).collect();
        condition.insert("NotIpAddress".into(), json!({ "aws:SourceIp": ranges }));
    }
    let mut not_equals = serde_json::Map::new();
    if !vpcs.is_empty() {
        not_equals.insert("aws:SourceVpc".into(), json!(vpcs));
    }
    if !vpces.is_empty() {
        not_equals.insert("aws:SourceVpce".into(), json!(vpces));
    }
    if !not_equals.is_empty() {
        condition.insert("StringNotEquals".into(), Value::Object(not_equals));
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

/// The user's active keys' history (for `--from-usage` and the replay).
async fn history(
    cli: &Cli,
    app: &App,
    settings: &shared::client::ClientSettings,
    creds: &shared::secret::Credentials,
    user: &data::User,
) -> Result<Vec<usage::Event>, String> {
    let targets: Vec<usage::Target> = user
        .keys
        .iter()
        .filter(|k| k.state == data::KeyState::Active)
        .map(|k| usage::Target::new(&k.id, k.last_region.as_deref(), &cli.usage_regions))
        .collect();
    let bar = crate::progress(cli, true, 0, "reading CloudTrail", "key lookups");
    let found = usage::collect(settings, creds, &targets, &crate::usage_options(cli), app.clock.now(), &bar).await;
    bar.finish_and_clear();
    let mut events = Vec::new();
    for u in found.into_values() {
        if let Some(e) = u.error {
            return Err(e);
        }
        events.extend(u.records);
    }
    Ok(events)
}

/// `--from-usage`: the networks and VPC endpoints of the history, added to the ones named.
fn add_usage(r: &mut RestrictArgs, events: &[usage::Event]) {
    for n in usage::networks(events) {
        if let Some(net) = policy::parse_net(&n.cidr) {
            r.cidrs.push(net);
        }
    }
    for e in events {
        // The id goes into a policy: only well-formed ones (a hostile history cannot inject).
        if let Some(v) = e.vpc_endpoint.as_deref().filter(|v| vpc_id(v, "vpce-").is_ok())
            && !r.vpces.iter().any(|x| x == v)
        {
            r.vpces.push(v.to_string());
        }
    }
}

fn print(out: &Value) -> Result<(), Error> {
    shared::output::print_json(out).map_err(|e| Error::Io { context: "writing the output".into(), source: e })
}

/// `--from-usage`: the history's networks added to the ones named; an error when the history
/// could not be read or is empty.
fn from_usage(
    cli: &Cli,
    r: &mut RestrictArgs,
    user: &data::User,
    events: &Result<Vec<usage::Event>, String>,
) -> Result<(), Error> {
    match events {
        Ok(ev) => add_usage(r, ev),
        Err(e) => {
            return Err(Error::usage(
                format!("the keys' history could not be read, so --from-usage has nothing to build on: {e}"),
                Some("name the networks with --cidr / --vpce, or allow cloudtrail:LookupEvents".into()),
            ));
        }
    }
    if r.cidrs.is_empty() && r.vpces.is_empty() && r.vpcs.is_empty() {
        return Err(Error::usage(
            format!("`{}`'s active keys made no calls in the last {} days", user.name, cli.days),
            Some("look further back with --days 90 or --usage-region REGION, or name --cidr ranges".into()),
        ));
    }
    Ok(())
}

/// A policy our evaluator would not call RESTRICTED: shown, explained, exit 1.
fn not_restricting(quiet: bool, out: &Value, user: &str, predicted: &policy::Analysis) -> Result<ExitCode, Error> {
    print(out)?;
    if !quiet {
        let why: Vec<String> = predicted.evidence.iter().map(|e| e.note.clone()).collect();
        eprintln!("aws-keyaudit: the policy would not restrict `{user}`: {}", shared::text::clean(&why.join("; ")));
        eprintln!("hint: name specific ranges (not 0.0.0.0/0 or private ones) with --cidr, or VPCs with --vpc");
    }
    Ok(ExitCode::from(exit::VERDICT))
}

/// The replay of the history against the networks our evaluator reads out of the policy (not
/// the flags: what it says would be denied is what the audit will call the restriction), into
/// the output's `Replay`.
fn replay_into(
    cli: &Cli,
    out: &mut Value,
    predicted: &policy::Analysis,
    events: &Result<Vec<usage::Event>, String>,
) -> Option<usage::Replay> {
    let replayed = events.as_ref().ok().map(|ev| {
        let nets: Vec<IpNet> = predicted.allowed_cidrs.iter().filter_map(|c| policy::parse_net(c)).collect();
        usage::replay(ev, &nets, &predicted.allowed_vpcs)
    });
    out["Replay"] = match (&replayed, events) {
        (Some(rp), _) => {
            json!({"Days": cli.days, "Events": rp.events, "Allowed": rp.allowed, "WouldBeDenied": rp.would_be_denied, "NotJudged": rp.not_judged, "Denied": rp.denied})
        }
        (None, Err(e)) => json!({"Days": cli.days, "Error": e}),
        (None, Ok(_)) => Value::Null,
    };
    replayed
}

/// Nothing attached (a dry run, or past calls would have been denied): the output and why.
fn not_attached(
    r: &RestrictArgs,
    out: &Value,
    quiet: bool,
    user: &str,
    now: policy::Verdict,
    denied: usize,
) -> Result<ExitCode, Error> {
    print(out)?;
    if !quiet {
        if r.apply {
            eprintln!("aws-keyaudit: not attached: the policy would have denied {denied} of the calls above");
            eprintln!("hint: add the missing ranges (--cidr, --vpce, or --from-usage), or attach anyway with --force");
        } else {
            eprintln!(
                "aws-keyaudit: dry run: nothing attached; this policy takes `{user}` from {} to RESTRICTED (our evaluator)",
                serde_json::to_value(now).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
            );
            eprintln!("hint: run again with --apply to attach it");
        }
    }
    Ok(if denied > 0 { ExitCode::from(exit::VERDICT) } else { ExitCode::SUCCESS })
}

/// Runs `restrict`: the policy, our evaluator's prediction, the replay, then (with `--apply`)
/// the attachment and the re-audit.
pub async fn run(cli: &Cli, app: &App, r: &RestrictArgs) -> Result<ExitCode, Error> {
    if r.cidrs.is_empty() && r.vpcs.is_empty() && r.vpces.is_empty() && !r.from_usage {
        return Err(Error::usage(
            "name the networks the keys may be used from",
            Some("add --cidr RANGE, --vpc VPC_ID or --vpce ENDPOINT_ID (repeatable), or --from-usage".into()),
        ));
    }
    let (settings, creds) =
        crate::resolve(cli, app, &r.profile, &shared::client::gate::Gate::new(cli.max_in_flight)).await?;
    let account = crate::account_of(&settings, &creds).await?;
    let iam = settings.iam(&creds);
    let opts = options(cli);
    let acct = data::collect(&iam, &account, 8).await?;
    let user = find(&acct, &r.user)?;
    let events = history(cli, app, &settings, &creds, user).await;
    let mut r = r.clone();
    if r.from_usage {
        from_usage(cli, &mut r, user, &events)?;
    }
    let doc = document(&r.cidrs, &r.vpcs, &r.vpces);
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
        return not_restricting(quiet, &out, &user.name, &predicted);
    }
    let replayed = replay_into(cli, &mut out, &predicted, &events);
    let denied = replayed.as_ref().map_or(0, |rp| rp.would_be_denied);
    if !quiet {
        say_replay(cli, &user.name, replayed.as_ref(), events.as_ref().err());
    }
    if !r.apply || (denied > 0 && !r.force) {
        return not_attached(&r, &out, quiet, &user.name, now.verdict, denied);
    }
    attach(&iam, &r, &account, &user.name, &doc).await?;
    let after_data = data::collect(&iam, &account, 8).await?;
    let after = verdict_of(&after_data, find(&after_data, &r.user)?, &opts);
    out["Applied"] = json!(true);
    out["Verdict"]["After"] = json!(after.verdict);
    print(&out)?;
    if !quiet {
        eprintln!(
            "aws-keyaudit: attached; `{}` re-audited: {}",
            user.name,
            out["Verdict"]["After"].as_str().unwrap_or("?")
        );
    }
    Ok(if after.verdict == policy::Verdict::Restricted { ExitCode::SUCCESS } else { ExitCode::from(exit::VERDICT) })
}

/// The replay's outcome on stderr.
fn say_replay(cli: &Cli, user: &str, replayed: Option<&usage::Replay>, error: Option<&String>) {
    match (replayed, error) {
        (Some(rp), _) if rp.would_be_denied == 0 => eprintln!(
            "aws-keyaudit: replayed on {} calls of `{user}`'s keys in the last {} days: none would have been denied{}",
            rp.events,
            cli.days,
            if rp.not_judged > 0 {
                format!(" ({} through VPC endpoints not judged)", rp.not_judged)
            } else {
                String::new()
            }
        ),
        (Some(rp), _) => {
            eprintln!(
                "aws-keyaudit: replayed on {} calls of `{user}`'s keys in the last {} days: {} would have been denied:",
                rp.events, cli.days, rp.would_be_denied
            );
            for d in &rp.denied {
                eprintln!(
                    "  {} {} from {}{}",
                    d["time"].as_str().unwrap_or("?"),
                    shared::text::clean(d["call"].as_str().unwrap_or("?")),
                    shared::text::clean(d["source"].as_str().unwrap_or("?")),
                    d["vpc_endpoint"].as_str().map(|v| format!(" via {}", shared::text::clean(v))).unwrap_or_default()
                );
            }
        }
        (None, Some(e)) => eprintln!(
            "aws-keyaudit: warning: the keys' history could not be read, so the policy was not replayed on past calls: {}",
            shared::text::clean(e)
        ),
        (None, None) => {}
    }
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
        let doc = document(
            &["198.51.100.0/24".parse().unwrap(), "198.51.101.0/24".parse().unwrap()],
            &["vpc-0abc".into()],
            &["vpce-0def".into()],
        );
        let c = &doc["Statement"][0]["Condition"];
        assert_eq!(c["NotIpAddress"]["aws:SourceIp"], json!(["198.51.100.0/23"]), "adjacent ranges aggregate");
        assert_eq!(c["StringNotEquals"]["aws:SourceVpc"], json!(["vpc-0abc"]));
        assert_eq!(c["StringNotEquals"]["aws:SourceVpce"], json!(["vpce-0def"]));
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
