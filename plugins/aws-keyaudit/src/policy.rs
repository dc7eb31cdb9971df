//! Does a network restriction really cover a user's access keys? A static evaluation of the
//! user's identity policies (inline, attached, its groups'), and permissions boundary, following
//! keyaudit-research.md §5.3:
//! - Deny statements with `NotIpAddress[IfExists]` on `aws:SourceIp` / `aws:VpcSourceIp`, or
//!   `StringNotEquals|StringNotLike[IfExists]` on `aws:SourceVpc` / `aws:SourceVpce`, over all
//!   actions and resources, restrict the key; several such denies intersect; clauses that also
//!   limit the deny (other request keys) make it PARTIAL, `Null aws:SourceIp = false` makes it
//!   WEAK (a VPC-endpoint bypass), set qualifiers or a positive `IpAddress` in a Deny are broken;
//! - without such a deny, every Allow (identity or boundary) must carry a positive network
//!   condition (`IfExists` there fails open: WEAK);
//! - the final allowed ranges must be sane: `0.0.0.0/0`, `::/0` or half the IPv4 space is NONE,
//!   more than `max_addresses` addresses (or IPv6 shorter than /48) is WEAK, only private ranges
//!   with no VPC clause is BROKEN (aws:SourceIp never carries private addresses).
//!
//! Condition keys match case-insensitively, values may be scalars or lists, booleans strings or
//! JSON booleans. Policy documents arrive URL-encoded (as IAM returns them) or plain.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;
use serde_json::Value;

/// The verdict on one user's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    /// A full network restriction with sane ranges.
    Restricted,
    /// A restriction covering only part of the traffic or actions.
    Partial,
    /// A restriction that can be bypassed or is too broad.
    Weak,
    /// No effective restriction.
    None,
    /// A restriction that cannot work as written (the key is unusable, or it is misconfigured).
    Broken,
}

/// Where a policy is attached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// `user inline`, `user managed`, `group g inline`, `group g managed`, `boundary`.
    pub path: String,
    /// Policy name or ARN.
    pub policy: String,
    /// The document (decoded JSON).
    #[serde(skip)]
    pub document: Value,
}

/// Why a verdict was reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Attachment path.
    pub path: String,
    /// Policy name or ARN.
    pub policy: String,
    /// Statement `Sid`, or its index.
    pub statement: String,
    /// What it shows.
    pub note: String,
}

/// The analysis of one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Analysis {
    /// The verdict.
    pub verdict: Verdict,
    /// The allowed source ranges (CIDRs) and VPCs, when a restriction exists.
    pub allowed_cidrs: Vec<String>,
    /// Allowed VPCs / VPC endpoints.
    pub allowed_vpcs: Vec<String>,
    /// The reasons.
    pub evidence: Vec<Evidence>,
}

/// Who the user is (for principal-scoped conditions).
#[derive(Debug, Clone, Default)]
pub struct Principal {
    /// User name.
    pub name: String,
    /// User ARN.
    pub arn: String,
    /// User id (AIDA...).
    pub user_id: String,
    /// Account id.
    pub account: String,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

/// Options.
#[derive(Debug, Clone)]
pub struct Options {
    /// More addresses than this in the allowed set is WEAK.
    pub max_addresses: u128,
    /// When set, the allowed set must lie inside these ranges.
    pub allowed_cidrs: Vec<IpNet>,
    /// NotAction entries that do not weaken a deny (data-plane actions AWS's perimeter excludes).
    pub benign_not_actions: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_addresses: 65_536,
            allowed_cidrs: Vec::new(),
            benign_not_actions: [
                "es:ES*",
                "dax:*",
                "neptune-db:*",
                "kafka-cluster:*",
                "elasticfilesystem:client*",
                "rds-db:connect",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// Decodes a policy document as IAM returns it (URL-encoded JSON), or plain JSON.
pub fn decode_document(text: &str) -> Option<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Some(v);
    }
    let decoded = shared::os::url_decode(text)?;
    serde_json::from_str(&decoded).ok()
}

fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Null => vec![],
        other => vec![other.clone()],
    }
}

fn strings(v: &Value) -> Vec<String> {
    as_list(v)
        .iter()
        .filter_map(|x| match x {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect()
}

/// IAM's `*` / `?` wildcard match, case-insensitive for action names.
pub fn glob(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if case_insensitive {
        (pattern.to_lowercase().chars().collect(), text.to_lowercase().chars().collect())
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    let (mut pi, mut ti, mut star, mut mark) = (0usize, 0usize, None, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Parses an address or range leniently: a bare address is /32 or /128, host bits are dropped.
pub fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    if let Ok(n) = s.parse::<IpNet>() {
        return Some(n.trunc());
    }
    s.parse::<IpAddr>().ok().map(IpNet::from)
}

fn size(n: &IpNet) -> u128 {
    match n {
        IpNet::V4(v) => 1u128 << (32 - v.prefix_len()),
        IpNet::V6(v) => {
            let bits = 128 - u32::from(v.prefix_len());
            if bits >= 128 { u128::MAX } else { 1u128 << bits }
        }
    }
}

fn intersect(a: &[IpNet], b: &[IpNet]) -> Vec<IpNet> {
    let mut out = Vec::new();
    for x in a {
        for y in b {
            if x.contains(y) {
                out.push(*y);
            } else if y.contains(x) {
                out.push(*x);
            }
        }
    }
    IpNet::aggregate(&out)
}

fn is_private(n: &IpNet) -> bool {
    const PRIVATE: [&str; 10] = [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
        "0.0.0.0/8",
    ];
    PRIVATE.iter().filter_map(|p| p.parse::<IpNet>().ok()).any(|p| p.contains(n))
}

/// One condition clause: `[ForAllValues:|ForAnyValue:]Operator[IfExists]` on a key.
#[derive(Debug, Clone)]
struct Clause {
    qualifier: Option<String>,
    op: String,
    if_exists: bool,
    key: String,
    values: Vec<String>,
}

fn clauses(stmt: &Value) -> Vec<Clause> {
    let mut out = Vec::new();
    let Some(cond) = stmt.get("Condition").and_then(Value::as_object) else { return out };
    for (op_full, keys) in cond {
        let (qualifier, rest) = match op_full.split_once(':') {
            Some((q, r)) if q.eq_ignore_ascii_case("ForAllValues") || q.eq_ignore_ascii_case("ForAnyValue") => {
                (Some(q.to_string()), r.to_string())
            }
            _ => (None, op_full.clone()),
        };
        let (op, if_exists) = match rest.strip_suffix("IfExists") {
            Some(o) => (o.to_string(), true),
            None => (rest.clone(), false),
        };
        if let Some(keys) = keys.as_object() {
            for (k, v) in keys {
                out.push(Clause {
                    qualifier: qualifier.clone(),
                    op: op.clone(),
                    if_exists,
                    key: k.to_lowercase(),
                    values: strings(v),
                });
            }
        }
    }
    out
}

const IP_KEYS: [&str; 2] = ["aws:sourceip", "aws:vpcsourceip"];
const VPC_KEYS: [&str; 2] = ["aws:sourcevpc", "aws:sourcevpce"];
const PRINCIPAL_KEYS: [&str; 6] = [
    "aws:username",
    "aws:principalarn",
    "aws:userid",
    "aws:principaltype",
    "aws:principalaccount",
    "aws:principaltag/",
];

fn is_principal_key(k: &str) -> bool {
    PRINCIPAL_KEYS.iter().any(|p| if p.ends_with('/') { k.starts_with(p) } else { k == *p })
}

/// Evaluates a principal-scoped clause for the user: Some(true/false), None when unknown.
fn principal_clause(c: &Clause, p: &Principal) -> Option<bool> {
    let value: Option<String> = match c.key.as_str() {
        "aws:username" => Some(p.name.clone()),
        "aws:principalarn" => Some(p.arn.clone()),
        "aws:userid" => Some(p.user_id.clone()),
        "aws:principaltype" => Some("User".into()),
        "aws:principalaccount" => Some(p.account.clone()),
        k => k.strip_prefix("aws:principaltag/").map(|t| {
            p.tags.iter().find(|(tk, _)| tk.eq_ignore_ascii_case(t)).map(|(_, v)| v.clone()).unwrap_or_default()
        }),
    };
    let v = value?;
    let op = c.op.to_lowercase();
    let (negated, like, ci) = match op.as_str() {
        "stringequals" | "arnequals" => (false, false, false),
        "stringequalsignorecase" => (false, false, true),
        "stringlike" | "arnlike" => (false, true, false),
        "stringnotequals" | "arnnotequals" => (true, false, false),
        "stringnotequalsignorecase" => (true, false, true),
        "stringnotlike" | "arnnotlike" => (true, true, false),
        _ => return None,
    };
    let any = c.values.iter().any(|pat| {
        if like {
            glob(pat, &v, ci)
        } else if ci {
            pat.eq_ignore_ascii_case(&v)
        } else {
            *pat == v
        }
    });
    Some(if negated { !any } else { any })
}

fn is_true(values: &[String]) -> bool {
    values.iter().any(|v| v.eq_ignore_ascii_case("true"))
}
fn is_false(values: &[String]) -> bool {
    values.iter().any(|v| v.eq_ignore_ascii_case("false"))
}

fn statements(doc: &Value) -> Vec<Value> {
    as_list(doc.get("Statement").unwrap_or(&Value::Null))
}

fn label(stmt: &Value, i: usize) -> String {
    stmt.get("Sid")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("#{}", i + 1))
}

/// A Deny's contribution.
enum DenyResult {
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

fn deny(stmt: &Value, p: &Principal, opts: &Options) -> DenyResult {
    let cs = clauses(stmt);
    // Does the statement apply to this user at all?
    for c in cs.iter().filter(|c| is_principal_key(&c.key)) {
        if principal_clause(c, p) == Some(false) {
            return DenyResult::NotNetwork;
        }
    }
    let mut ips: Vec<IpNet> = Vec::new();
    let mut vpcs: Vec<String> = Vec::new();
    let mut network = false;
    let mut problem: Option<DenyResult> = None;
    let is_network = |c: &Clause| {
        (IP_KEYS.contains(&c.key.as_str()) || VPC_KEYS.contains(&c.key.as_str())) && !c.op.eq_ignore_ascii_case("null")
    };
    for c in cs.iter().filter(|c| is_network(c)) {
        let op = c.op.to_lowercase();
        network = true;
        if let Some(q) = &c.qualifier {
            problem = Some(DenyResult::Broken(format!(
                "{q}:{} on {} (set qualifiers do not apply to a single-valued key)",
                c.op, c.key
            )));
        } else if IP_KEYS.contains(&c.key.as_str()) {
            if op == "notipaddress" {
                for v in &c.values {
                    match parse_net(v) {
                        Some(n) => ips.push(n),
                        None => {
                            problem = Some(DenyResult::Broken(format!("`{v}` in {} is not an address or range", c.key)))
                        }
                    }
                }
            } else if op == "ipaddress" {
                problem = Some(DenyResult::Broken(format!(
                    "IpAddress on {} inside a Deny denies the listed ranges instead of everything else",
                    c.key
                )));
            } else {
                problem = Some(DenyResult::Broken(format!("{} is not an IP operator for {}", c.op, c.key)));
            }
        } else if op == "stringnotequals" || op == "stringnotlike" || op == "stringnotequalsignorecase" {
            vpcs.extend(c.values.iter().cloned());
        } else {
            problem =
                Some(DenyResult::Broken(format!("{} on {} inside a Deny does not restrict to the VPC", c.op, c.key)));
        }
    }
    if !network {
        return DenyResult::NotNetwork;
    }
    if let Some(p) = problem {
        return p;
    }
    // The other clauses narrow the deny.
    for c in cs.iter().filter(|c| !is_network(c)) {
        let op = c.op.to_lowercase();
        if is_principal_key(&c.key) && principal_clause(c, p) != Some(false) {
            continue;
        }
        if (c.key == "aws:viaawsservice" || c.key == "aws:principalisawsservice") && op == "bool" && is_false(&c.values)
        {
            continue;
        }
        if c.key.starts_with("aws:calledvia") {
            continue;
        }
        if op == "null" && IP_KEYS.contains(&c.key.as_str()) && is_false(&c.values) {
            return DenyResult::Weak(
                "`Null aws:SourceIp = false`: requests through a VPC endpoint carry no aws:SourceIp and are not denied"
                    .into(),
            );
        }
        if op == "null" && is_false(&c.values) {
            return DenyResult::Weak(format!("`Null {} = false`: requests without {} are not denied", c.key, c.key));
        }
        return DenyResult::Partial(format!(
            "the deny also requires `{} {}`, so it covers only part of the traffic",
            c.op, c.key
        ));
    }
    // Actions and resources.
    if let Some(na) = stmt.get("NotAction") {
        let excluded = strings(na);
        let escapes = [
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
        if let Some(bad) = escapes.iter().find(|a| excluded.iter().any(|e| glob(e, a, true))) {
            return DenyResult::Weak(format!(
                "NotAction excludes {bad}: outside the allowed ranges the key can still mint credentials or rewrite its own policy"
            ));
        }
        if !excluded.iter().all(|e| opts.benign_not_actions.iter().any(|b| b.eq_ignore_ascii_case(e))) {
            return DenyResult::Partial(format!("NotAction excludes {} from the deny", excluded.join(", ")));
        }
    } else {
        let actions = strings(stmt.get("Action").unwrap_or(&Value::Null));
        if !actions.iter().any(|a| a == "*") {
            return DenyResult::Partial(format!("the deny covers only {}", actions.join(", ")));
        }
    }
    if stmt.get("NotResource").is_some() {
        return DenyResult::Partial("the deny uses NotResource".into());
    }
    let resources = strings(stmt.get("Resource").unwrap_or(&Value::Null));
    if !resources.iter().any(|r| r == "*") {
        return DenyResult::Partial(format!("the deny covers only the resources {}", resources.join(", ")));
    }
    DenyResult::Full(ips, vpcs)
}

/// An Allow's network clause: Some((ips, vpcs, if_exists)) when positive; None when unconditioned.
fn allow_network(stmt: &Value) -> Option<(Vec<IpNet>, Vec<String>, bool)> {
    let cs = clauses(stmt);
    let mut ips = Vec::new();
    let mut vpcs = Vec::new();
    let mut if_exists = false;
    let mut found = false;
    for c in &cs {
        let op = c.op.to_lowercase();
        if IP_KEYS.contains(&c.key.as_str()) && op == "ipaddress" {
            found = true;
            if_exists |= c.if_exists || c.qualifier.is_some();
            ips.extend(c.values.iter().filter_map(|v| parse_net(v)));
        } else if VPC_KEYS.contains(&c.key.as_str()) && (op == "stringequals" || op == "stringlike") {
            found = true;
            if_exists |= c.if_exists || c.qualifier.is_some();
            vpcs.extend(c.values.iter().cloned());
        } else if c.key == "aws:viaawsservice" && op == "bool" && is_true(&c.values) {
            found = true;
        }
    }
    found.then_some((ips, vpcs, if_exists))
}

/// Analyses one user's policies. `sources` are the identity policies and the boundary
/// (path `boundary`); `unknown` names attached policies whose documents were not available.
pub fn analyse(principal: &Principal, sources: &[Source], unknown: &[String], opts: &Options) -> Analysis {
    let mut evidence = Vec::new();
    let ev = |s: &Source, stmt: &str, note: String| Evidence {
        path: s.path.clone(),
        policy: s.policy.clone(),
        statement: stmt.to_string(),
        note,
    };
    // Deny pass over identity policies and the boundary.
    let mut full: Vec<(Vec<IpNet>, Vec<String>)> = Vec::new();
    let mut worst = Verdict::Restricted;
    for s in sources {
        for (i, stmt) in statements(&s.document).iter().enumerate() {
            if stmt.get("Effect").and_then(Value::as_str).is_none_or(|e| !e.eq_ignore_ascii_case("deny")) {
                continue;
            }
            match deny(stmt, principal, opts) {
                DenyResult::NotNetwork => {}
                DenyResult::Full(ips, vpcs) => {
                    evidence.push(ev(
                        s,
                        &label(stmt, i),
                        format!("denies everything outside {}", describe(&ips, &vpcs)),
                    ));
                    full.push((ips, vpcs));
                }
                DenyResult::Partial(why) => {
                    evidence.push(ev(s, &label(stmt, i), why));
                    worst = worst.max(Verdict::Partial);
                }
                DenyResult::Weak(why) => {
                    evidence.push(ev(s, &label(stmt, i), why));
                    worst = worst.max(Verdict::Weak);
                }
                DenyResult::Broken(why) => {
                    evidence.push(ev(s, &label(stmt, i), why));
                    worst = worst.max(Verdict::Broken);
                }
            }
        }
    }
    if let Some((first, rest)) = full.split_first() {
        let (mut ips, mut vpcs) = (IpNet::aggregate(&first.0), first.1.clone());
        for (i2, v2) in rest {
            ips = intersect(&ips, &IpNet::aggregate(i2));
            vpcs.retain(|v| v2.contains(v));
        }
        // A full deny restricts the key; other (broken or partial) denies beside it add nothing.
        let verdict = sanity(&ips, &vpcs, opts, &mut evidence);
        return finish(verdict, ips, vpcs, evidence);
    }
    // Allow pass: every Allow (identity, and boundary if any) must carry a network clause.
    let identity: Vec<&Source> = sources.iter().filter(|s| s.path != "boundary").collect();
    let boundary: Vec<&Source> = sources.iter().filter(|s| s.path == "boundary").collect();
    let check_allows = |set: &[&Source],
                        evidence: &mut Vec<Evidence>|
     -> (bool, bool, usize, Vec<IpNet>, Vec<String>) {
        let (mut all, mut weak, mut n) = (true, false, 0);
        let (mut ips, mut vpcs) = (Vec::new(), Vec::new());
        for s in set {
            for (i, stmt) in statements(&s.document).iter().enumerate() {
                if stmt.get("Effect").and_then(Value::as_str).is_none_or(|e| !e.eq_ignore_ascii_case("allow")) {
                    continue;
                }
                n += 1;
                match allow_network(stmt) {
                    Some((ip, vpc, if_exists)) => {
                        if if_exists {
                            weak = true;
                            evidence.push(ev(s, &label(stmt, i), "the Allow's network condition uses IfExists: requests through any VPC endpoint carry no aws:SourceIp and are allowed".into()));
                        }
                        ips.extend(ip);
                        vpcs.extend(vpc);
                    }
                    None => {
                        all = false;
                        evidence.push(ev(s, &label(stmt, i), "an Allow with no network condition".into()));
                    }
                }
            }
        }
        (all && n > 0, weak, n, ips, vpcs)
    };
    let mut bev = Vec::new();
    let (b_all, b_weak, b_n, b_ips, b_vpcs) = check_allows(&boundary, &mut bev);
    let mut iev = Vec::new();
    let (i_all, i_weak, i_n, i_ips, i_vpcs) = check_allows(&identity, &mut iev);
    let unknown_allows = !unknown.is_empty();
    for u in unknown {
        iev.push(Evidence {
            path: "managed".into(),
            policy: u.clone(),
            statement: "-".into(),
            note: "attached policy whose document was not returned; counted as an unconditioned Allow".into(),
        });
    }
    if !boundary.is_empty() && b_all {
        evidence.extend(bev);
        let ips = IpNet::aggregate(&b_ips);
        let v = sanity(&ips, &b_vpcs, opts, &mut evidence);
        return finish(if b_weak { v.max(Verdict::Weak) } else { v }, ips, b_vpcs, evidence);
    }
    if i_all && !unknown_allows {
        evidence.extend(iev);
        let ips = IpNet::aggregate(&i_ips);
        let v = sanity(&ips, &i_vpcs, opts, &mut evidence);
        return finish(if i_weak { v.max(Verdict::Weak) } else { v }, ips, i_vpcs, evidence);
    }
    evidence.extend(bev);
    let restricted_some = !i_ips.is_empty() || !i_vpcs.is_empty() || !b_ips.is_empty();
    evidence.extend(iev);
    let verdict = if restricted_some {
        Verdict::Partial
    } else if worst > Verdict::Restricted {
        worst
    } else {
        if i_n + b_n == 0 && !unknown_allows {
            evidence.push(Evidence {
                path: "-".into(),
                policy: "-".into(),
                statement: "-".into(),
                note: "no policy allows anything, and none restricts the source network".into(),
            });
        }
        Verdict::None
    };
    finish(verdict.max(worst.min(Verdict::Weak)), Vec::new(), Vec::new(), evidence)
}

fn finish(verdict: Verdict, ips: Vec<IpNet>, vpcs: Vec<String>, evidence: Vec<Evidence>) -> Analysis {
    Analysis { verdict, allowed_cidrs: ips.iter().map(ToString::to_string).collect(), allowed_vpcs: vpcs, evidence }
}

fn describe(ips: &[IpNet], vpcs: &[String]) -> String {
    let mut parts: Vec<String> = ips.iter().map(ToString::to_string).collect();
    parts.extend(vpcs.iter().cloned());
    if parts.is_empty() { "nothing".into() } else { parts.join(", ") }
}

/// Sanity of a final allowed set.
fn sanity(ips: &[IpNet], vpcs: &[String], opts: &Options, evidence: &mut Vec<Evidence>) -> Verdict {
    let note = |e: &mut Vec<Evidence>, n: String| {
        e.push(Evidence { path: "-".into(), policy: "-".into(), statement: "-".into(), note: n })
    };
    if ips.is_empty() && vpcs.is_empty() {
        note(evidence, "the denies leave no source allowed: the key cannot be used".into());
        return Verdict::Broken;
    }
    let v4: u128 = ips.iter().filter(|n| matches!(n, IpNet::V4(_))).map(size).sum();
    if ips.iter().any(|n| n.prefix_len() == 0) || v4 >= 1u128 << 31 {
        note(evidence, format!("the allowed ranges {} cover (nearly) every address", describe(ips, &[])));
        return Verdict::None;
    }
    if !ips.is_empty() && vpcs.is_empty() && ips.iter().all(is_private) {
        note(
            evidence,
            format!(
                "only private ranges are allowed ({}); aws:SourceIp never carries private addresses, so the key cannot be used",
                describe(ips, &[])
            ),
        );
        return Verdict::Broken;
    }
    let mut verdict = Verdict::Restricted;
    if v4 > opts.max_addresses {
        note(evidence, format!("the allowed IPv4 ranges cover {v4} addresses (more than {})", opts.max_addresses));
        verdict = Verdict::Weak;
    }
    if let Some(n) = ips.iter().find(|n| matches!(n, IpNet::V6(_)) && n.prefix_len() < 48) {
        note(evidence, format!("the IPv6 range {n} is broader than /48"));
        verdict = Verdict::Weak;
    }
    if !opts.allowed_cidrs.is_empty()
        && let Some(n) = ips.iter().find(|n| !opts.allowed_cidrs.iter().any(|a| a.contains(*n)))
    {
        note(evidence, format!("{n} is outside the --allowed-cidr ranges"));
        verdict = Verdict::Weak;
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Principal {
        Principal {
            name: "ci".into(),
            arn: "arn:aws:iam::123456789012:user/ci".into(),
            user_id: "AIDA1".into(),
            account: "123456789012".into(),
            tags: vec![],
        }
    }

    fn one(path: &str, doc: Value) -> Vec<Source> {
        vec![Source { path: path.into(), policy: "p".into(), document: doc }]
    }

    fn verdict(sources: &[Source]) -> Verdict {
        analyse(&user(), sources, &[], &Options::default()).verdict
    }

    fn aws_deny_ip(extra: Value) -> Value {
        let mut cond = json!({"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}});
        if let Value::Object(m) = extra {
            for (k, v) in m {
                cond[k] = v;
            }
        }
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": cond}
        ]})
    }

    #[test]
    fn the_aws_example_with_and_without_via_aws_service() {
        let a = analyse(&user(), &one("user inline", aws_deny_ip(json!({}))), &[], &Options::default());
        assert_eq!(a.verdict, Verdict::Restricted);
        assert_eq!(a.allowed_cidrs, ["192.0.2.0/24", "203.0.113.0/24"]);
        assert_eq!(
            verdict(&one("group g inline", aws_deny_ip(json!({"Bool": {"aws:ViaAWSService": "false"}})))),
            Verdict::Restricted
        );
        assert_eq!(
            verdict(&one("g", aws_deny_ip(json!({"Bool": {"aws:ViaAWSService": false}})))),
            Verdict::Restricted,
            "JSON booleans too"
        );
    }

    #[test]
    fn weakened_and_partial_denies() {
        assert_eq!(verdict(&one("u", aws_deny_ip(json!({"Null": {"aws:SourceIp": "false"}})))), Verdict::Weak);
        assert_eq!(
            verdict(&one("u", aws_deny_ip(json!({"StringEquals": {"aws:RequestedRegion": "us-east-1"}})))),
            Verdict::Partial
        );
        let not_action = json!({"Statement": [{"Effect": "Deny", "NotAction": ["sts:*"], "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}]});
        let a = analyse(&user(), &one("u", not_action), &[], &Options::default());
        assert_eq!(a.verdict, Verdict::Weak);
        assert!(a.evidence[0].note.contains("sts:AssumeRole"), "{:?}", a.evidence);
        let some_actions = json!({"Statement": {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}});
        assert_eq!(verdict(&one("u", some_actions)), Verdict::Partial);
    }

    #[test]
    fn data_perimeter_pattern() {
        let scp_like = json!({"Statement": [{"Sid": "Perimeter", "Effect": "Deny", "NotAction": ["es:ES*", "dax:*"], "Resource": "*", "Condition": {
            "NotIpAddressIfExists": {"aws:SourceIp": ["198.51.100.0/24"]},
            "StringNotEqualsIfExists": {"aws:SourceVpc": ["vpc-12345678"]},
            "ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::*:user/*"]},
            "BoolIfExists": {"aws:ViaAWSService": "false"}
        }}]});
        let a = analyse(&user(), &one("user managed", scp_like), &[], &Options::default());
        assert_eq!(a.verdict, Verdict::Restricted, "{:?}", a.evidence);
        assert_eq!(
            (a.allowed_cidrs.as_slice(), a.allowed_vpcs.as_slice()),
            (&["198.51.100.0/24".to_string()][..], &["vpc-12345678".to_string()][..])
        );
        // A deny scoped to other principals does not apply to this user.
        let other = json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "198.51.100.0/24"}, "StringEquals": {"aws:username": "someone-else"}}}]});
        assert_eq!(verdict(&one("u", other)), Verdict::None);
    }

    #[test]
    fn two_denies_intersect() {
        let d = |cidr: &str| json!({"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": cidr}}});
        let disjoint = json!({"Statement": [d("192.0.2.0/24"), d("203.0.113.0/24")]});
        assert_eq!(verdict(&one("u", disjoint)), Verdict::Broken);
        let nested = json!({"Statement": [d("192.0.2.0/23"), d("192.0.2.0/24")]});
        let a = analyse(&user(), &one("u", nested), &[], &Options::default());
        assert_eq!((a.verdict, a.allowed_cidrs), (Verdict::Restricted, vec!["192.0.2.0/24".to_string()]));
    }

    #[test]
    fn odd_ranges() {
        let deny = |v: Value| json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": v}}}]});
        assert_eq!(
            verdict(&one("u", deny(json!("192.0.2.7")))),
            Verdict::Restricted,
            "a scalar string, a bare address"
        );
        assert_eq!(verdict(&one("u", deny(json!(["0.0.0.0/1", "128.0.0.0/1"])))), Verdict::None);
        assert_eq!(verdict(&one("u", deny(json!("::/0")))), Verdict::None);
        assert_eq!(
            verdict(&one("u", deny(json!("10.0.0.0/8")))),
            Verdict::Broken,
            "private ranges never match aws:SourceIp"
        );
        assert_eq!(verdict(&one("u", deny(json!("100.0.0.0/12")))), Verdict::Weak, "over 65 536 addresses");
        assert_eq!(verdict(&one("u", deny(json!("2001:db8::/32")))), Verdict::Weak);
        assert_eq!(verdict(&one("u", deny(json!("192.0.2.5/24")))), Verdict::Restricted, "host bits are tolerated");
        assert_eq!(verdict(&one("u", deny(json!("not-an-ip")))), Verdict::Broken);
        let opts = Options { allowed_cidrs: vec!["192.0.2.0/24".parse().unwrap()], ..Options::default() };
        assert_eq!(analyse(&user(), &one("u", deny(json!("198.51.100.0/24"))), &[], &opts).verdict, Verdict::Weak);
    }

    #[test]
    fn set_qualifiers_and_positive_operators_in_a_deny_are_broken() {
        let q = json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"ForAnyValue:NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}]});
        assert_eq!(verdict(&one("u", q)), Verdict::Broken);
        let pos = json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}]});
        assert_eq!(verdict(&one("u", pos)), Verdict::Broken);
    }

    #[test]
    fn allow_only_restrictions() {
        let allow = |op: &str| json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {op: {"aws:SourceIp": "192.0.2.0/24"}}}]});
        assert_eq!(verdict(&one("u", allow("IpAddress"))), Verdict::Restricted);
        assert_eq!(verdict(&one("u", allow("IpAddressIfExists"))), Verdict::Weak);
        let mut mixed = one("u", allow("IpAddress"));
        mixed.push(Source {
            path: "user managed".into(),
            policy: "ReadOnly".into(),
            document: json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        });
        assert_eq!(verdict(&mixed), Verdict::Partial);
        // A boundary that restricts is enough: effective permissions are the intersection.
        mixed.push(Source { path: "boundary".into(), policy: "b".into(), document: allow("IpAddress") });
        assert_eq!(verdict(&mixed), Verdict::Restricted);
        // An attached policy we could not read counts as unconditioned.
        assert_eq!(
            analyse(
                &user(),
                &one("u", allow("IpAddress")),
                &["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
                &Options::default()
            )
            .verdict,
            Verdict::Partial
        );
        assert_eq!(verdict(&[]), Verdict::None);
    }

    #[test]
    fn odd_documents_never_panic() {
        for doc in [
            json!({}),
            json!({"Statement": "x"}),
            json!({"Statement": [{"Effect": "Deny"}]}),
            json!({"Statement": [{"Effect": "Deny", "Condition": {"NotIpAddress": "x"}}]}),
            json!({"Statement": [{"Effect": "Deny", "NotAction": "iam:*", "Condition": {"notipaddress": {"AWS:SOURCEIP": ["192.0.2.0/24"]}}}]}),
            json!(null),
            json!([1, 2]),
        ] {
            let _ = verdict(&one("u", doc));
        }
        assert_eq!(decode_document("%7B%22Version%22%3A%222012-10-17%22%7D"), Some(json!({"Version": "2012-10-17"})));
        assert_eq!(decode_document("{\"a\": 1}"), Some(json!({"a": 1})));
        assert_eq!(decode_document("%zz"), None);
        assert!(
            glob("arn:aws:iam::*:user/*", "arn:aws:iam::1:user/x", false)
                && !glob("s3:*", "ec2:Run", true)
                && glob("STS:Assume*", "sts:AssumeRole", true)
        );
    }
}
