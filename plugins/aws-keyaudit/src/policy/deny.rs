//! The deny pass: Deny statements that restrict the source network. One such statement over all
//! actions and resources restricts the key; several intersect. Clauses that also narrow the deny
//! make it PARTIAL, `Null ... = false` opens a bypass (WEAK), set qualifiers or a positive
//! `IpAddress` in a Deny are BROKEN. It does not look at Allow statements (`allow`).

use ipnet::IpNet;
use serde_json::Value;

use super::conditions::{Clause, IP_KEYS, VPC_KEYS, clauses, is_false, is_principal_key, principal_clause};
use super::document::{glob, label, statements, strings};
use super::network::{intersect, parse_net};
use super::{Evidence, Options, Principal, Source, Verdict, describe};

/// The source networks a policy leaves allowed: address ranges and VPC / VPC endpoint ids.
pub(super) type Allowed = (Vec<IpNet>, Vec<String>);

/// A Deny's contribution.
pub(super) enum DenyResult {
    /// Not a network deny.
    NotNetwork,
    /// Covers everything: the allowed set.
    Full(Vec<IpNet>, Vec<String>),
    /// Covers part of the traffic (why).
    Partial(String),
    /// Can be bypassed (why).
    Weak(String),
    /// Cannot work as written (why).
    Broken(String),
}

fn is_network(c: &Clause) -> bool {
    (IP_KEYS.contains(&c.key.as_str()) || VPC_KEYS.contains(&c.key.as_str())) && !c.op.eq_ignore_ascii_case("null")
}

/// The set a network deny leaves allowed, or why it is not a network deny or cannot work.
fn network_set(cs: &[Clause]) -> Result<Allowed, DenyResult> {
    let broken = |why: String| Err(DenyResult::Broken(why));
    let (mut ips, mut vpcs) = (Vec::new(), Vec::new());
    let mut problem = None;
    let mut network = false;
    for c in cs.iter().filter(|c| is_network(c)) {
        let op = c.op.to_lowercase();
        network = true;
        let verdict = if let Some(q) = &c.qualifier {
            broken(format!("{q}:{} on {} (set qualifiers do not apply to a single-valued key)", c.op, c.key))
        } else if IP_KEYS.contains(&c.key.as_str()) && op == "notipaddress" {
            c.values.iter().try_for_each(|v| match parse_net(v) {
                Some(n) => {
                    ips.push(n);
                    Ok(())
                }
                None => broken(format!("`{v}` in {} is not an address or range", c.key)),
            })
        } else if IP_KEYS.contains(&c.key.as_str()) && op == "ipaddress" {
            broken(format!("IpAddress on {} inside a Deny denies the listed ranges instead of everything else", c.key))
        } else if IP_KEYS.contains(&c.key.as_str()) {
            broken(format!("{} is not an IP operator for {}", c.op, c.key))
        } else if matches!(op.as_str(), "stringnotequals" | "stringnotlike" | "stringnotequalsignorecase") {
            vpcs.extend(c.values.iter().cloned());
            Ok(())
        } else {
            broken(format!("{} on {} inside a Deny does not restrict to the VPC", c.op, c.key))
        };
        if let Err(e) = verdict {
            problem = Some(e);
        }
    }
    match (network, problem) {
        (false, _) => Err(DenyResult::NotNetwork),
        (true, Some(p)) => Err(p),
        (true, None) => Ok((ips, vpcs)),
    }
}

/// A clause beside the network one: it narrows the deny (PARTIAL) or opens a bypass (WEAK).
/// Clauses that only pick this principal, AWS-service calls or `CalledVia` narrow nothing.
fn narrowed(cs: &[Clause], p: &Principal) -> Option<DenyResult> {
    for c in cs.iter().filter(|c| !is_network(c)) {
        let op = c.op.to_lowercase();
        let service_exemption = (c.key == "aws:viaawsservice" || c.key == "aws:principalisawsservice")
            && op == "bool"
            && is_false(&c.values);
        if (is_principal_key(&c.key) && principal_clause(c, p) != Some(false))
            || service_exemption
            || c.key.starts_with("aws:calledvia")
        {
            continue;
        }
        if op == "null" && IP_KEYS.contains(&c.key.as_str()) && is_false(&c.values) {
            return Some(DenyResult::Weak(
                "`Null aws:SourceIp = false`: requests through a VPC endpoint carry no aws:SourceIp and are not denied"
                    .into(),
            ));
        }
        if op == "null" && is_false(&c.values) {
            return Some(DenyResult::Weak(format!(
                "`Null {} = false`: requests without {} are not denied",
                c.key, c.key
            )));
        }
        return Some(DenyResult::Partial(format!(
            "the deny also requires `{} {}`, so it covers only part of the traffic",
            c.op, c.key
        )));
    }
    None
}

/// Actions a key could use, outside the allowed ranges, to mint credentials or rewrite its own
/// policy: a NotAction that excludes any of them makes the deny WEAK.
const ESCAPES: [&str; 9] = [
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:GetSessionToken",
    "sts:GetFederationToken",
    "iam:CreateAccessKey",
    "iam:PutUserPolicy",
    "iam:AttachUserPolicy",
    "iam:DeleteUserPolicy",
    "iam:UpdateAccessKey",
];

/// The deny must cover every action and every resource.
fn coverage(stmt: &Value, opts: &Options) -> Option<DenyResult> {
    if let Some(na) = stmt.get("NotAction") {
        let excluded = strings(na);
        if let Some(bad) = ESCAPES.iter().find(|a| excluded.iter().any(|e| glob(e, a, true))) {
            return Some(DenyResult::Weak(format!(
                "NotAction excludes {bad}: outside the allowed ranges the key can still mint credentials or rewrite its own policy"
            )));
        }
        if !excluded.iter().all(|e| opts.benign_not_actions.iter().any(|b| b.eq_ignore_ascii_case(e))) {
            return Some(DenyResult::Partial(format!("NotAction excludes {} from the deny", excluded.join(", "))));
        }
    } else {
        let actions = strings(stmt.get("Action").unwrap_or(&Value::Null));
        if !actions.iter().any(|a| a == "*") {
            return Some(DenyResult::Partial(format!("the deny covers only {}", actions.join(", "))));
        }
    }
    if stmt.get("NotResource").is_some() {
        return Some(DenyResult::Partial("the deny uses NotResource".into()));
    }
    let resources = strings(stmt.get("Resource").unwrap_or(&Value::Null));
    (!resources.iter().any(|r| r == "*"))
        .then(|| DenyResult::Partial(format!("the deny covers only the resources {}", resources.join(", "))))
}

/// What one Deny statement does for this principal's keys.
pub(super) fn deny(stmt: &Value, p: &Principal, opts: &Options) -> DenyResult {
    let cs = clauses(stmt);
    // Does the statement apply to this user at all?
    if cs.iter().filter(|c| is_principal_key(&c.key)).any(|c| principal_clause(c, p) == Some(false)) {
        return DenyResult::NotNetwork;
    }
    let (ips, vpcs) = match network_set(&cs) {
        Ok(set) => set,
        Err(r) => return r,
    };
    narrowed(&cs, p).or_else(|| coverage(stmt, opts)).unwrap_or(DenyResult::Full(ips, vpcs))
}

/// The deny pass over identity policies and the boundary: the set the full denies leave allowed
/// (their intersection; None when there is no full deny), and the worst verdict of the others.
pub(super) fn deny_pass(
    principal: &Principal,
    sources: &[Source],
    opts: &Options,
    evidence: &mut Vec<Evidence>,
) -> (Option<Allowed>, Verdict) {
    let mut full: Vec<Allowed> = Vec::new();
    let mut worst = Verdict::Restricted;
    for s in sources {
        for (i, stmt) in statements(&s.document).iter().enumerate() {
            if stmt.get("Effect").and_then(Value::as_str).is_none_or(|e| !e.eq_ignore_ascii_case("deny")) {
                continue;
            }
            let (why, verdict) = match deny(stmt, principal, opts) {
                DenyResult::NotNetwork => continue,
                DenyResult::Full(ips, vpcs) => {
                    let why = format!("denies everything outside {}", describe(&ips, &vpcs));
                    full.push((ips, vpcs));
                    (why, Verdict::Restricted)
                }
                DenyResult::Partial(why) => (why, Verdict::Partial),
                DenyResult::Weak(why) => (why, Verdict::Weak),
                DenyResult::Broken(why) => (why, Verdict::Broken),
            };
            evidence.push(Evidence::of(s, &label(stmt, i), why));
            worst = worst.max(verdict);
        }
    }
    let allowed = full.split_first().map(|(first, rest)| {
        let (mut ips, mut vpcs) = (IpNet::aggregate(&first.0), first.1.clone());
        for (i2, v2) in rest {
            ips = intersect(&ips, &IpNet::aggregate(i2));
            vpcs.retain(|v| v2.contains(v));
        }
        (ips, vpcs)
    });
    (allowed, worst)
}
