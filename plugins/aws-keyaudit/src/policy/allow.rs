//! The allow pass, when no Deny restricts the key: every Allow (identity, and the boundary if
//! there is one) must carry a positive network condition; `IfExists` there fails open (WEAK).
//! Attached policies whose documents were not returned count as unconditioned Allows.

use ipnet::IpNet;
use serde_json::Value;

use super::conditions::{IP_KEYS, VPC_KEYS, clauses, is_true};
use super::document::{label, statements};
use super::network::parse_net;
use super::{Analysis, Evidence, Options, Source, Verdict, finish, sanity};

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

/// What the Allows of one set of policies say about the network.
#[derive(Default)]
struct Allows {
    /// Every Allow has a network condition (and there is at least one).
    all: bool,
    /// One of them uses IfExists.
    weak: bool,
    /// How many Allows.
    count: usize,
    ips: Vec<IpNet>,
    vpcs: Vec<String>,
    evidence: Vec<Evidence>,
}

fn allows(set: &[&Source]) -> Allows {
    let mut a = Allows { all: true, ..Allows::default() };
    for s in set {
        for (i, stmt) in statements(&s.document).iter().enumerate() {
            if stmt.get("Effect").and_then(Value::as_str).is_none_or(|e| !e.eq_ignore_ascii_case("allow")) {
                continue;
            }
            a.count += 1;
            match allow_network(stmt) {
                Some((ip, vpc, if_exists)) => {
                    if if_exists {
                        a.weak = true;
                        a.evidence.push(Evidence::of(s, &label(stmt, i), "the Allow's network condition uses IfExists: requests through any VPC endpoint carry no aws:SourceIp and are allowed".into()));
                    }
                    a.ips.extend(ip);
                    a.vpcs.extend(vpc);
                }
                None => {
                    a.all = false;
                    a.evidence.push(Evidence::of(s, &label(stmt, i), "an Allow with no network condition".into()));
                }
            }
        }
    }
    a.all &= a.count > 0;
    a
}

/// A set whose every Allow is network-conditioned decides the verdict by its allowed set.
fn judged(a: Allows, opts: &Options, mut evidence: Vec<Evidence>) -> Analysis {
    evidence.extend(a.evidence);
    let ips = IpNet::aggregate(&a.ips);
    let v = sanity(&ips, &a.vpcs, opts, &mut evidence);
    finish(if a.weak { v.max(Verdict::Weak) } else { v }, ips, a.vpcs, evidence)
}

/// The allow pass; `worst` is what the deny pass found, `evidence` what it noted.
pub(super) fn allow_pass(
    sources: &[Source],
    unknown: &[String],
    worst: Verdict,
    opts: &Options,
    mut evidence: Vec<Evidence>,
) -> Analysis {
    let identity: Vec<&Source> = sources.iter().filter(|s| s.path != "boundary").collect();
    let boundary: Vec<&Source> = sources.iter().filter(|s| s.path == "boundary").collect();
    let b = allows(&boundary);
    let mut i = allows(&identity);
    for u in unknown {
        i.evidence.push(Evidence {
            path: "managed".into(),
            policy: u.clone(),
            statement: "-".into(),
            note: "attached policy whose document was not returned; counted as an unconditioned Allow".into(),
        });
    }
    if !boundary.is_empty() && b.all {
        return judged(b, opts, evidence);
    }
    if i.all && unknown.is_empty() {
        return judged(i, opts, evidence);
    }
    let restricted_some = !i.ips.is_empty() || !i.vpcs.is_empty() || !b.ips.is_empty();
    let nothing_allowed = i.count + b.count == 0 && unknown.is_empty();
    evidence.extend(b.evidence);
    evidence.extend(i.evidence);
    let verdict = if restricted_some {
        Verdict::Partial
    } else if worst > Verdict::Restricted {
        worst
    } else {
        if nothing_allowed {
            evidence.push(Evidence::note("no policy allows anything, and none restricts the source network".into()));
        }
        Verdict::None
    };
    finish(verdict.max(worst.min(Verdict::Weak)), Vec::new(), Vec::new(), evidence)
}
