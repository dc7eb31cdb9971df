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
//!
//! By concern: [`document`] (decoding, statements), [`conditions`] (clauses and keys),
//! [`network`] (address sets), [`deny`] (the deny pass), [`allow`] (the allow pass); this module
//! holds the types, the order of the passes and the sanity of the final allowed set.

mod allow;
mod conditions;
mod deny;
mod document;
mod network;

use ipnet::IpNet;
use serde::Serialize;
use serde_json::Value;

pub use document::{decode_document, glob};
pub use network::parse_net;
use network::{is_private, size};

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

impl Evidence {
    /// A note about statement `statement` of source `s`.
    fn of(s: &Source, statement: &str, note: String) -> Self {
        Evidence { path: s.path.clone(), policy: s.policy.clone(), statement: statement.to_string(), note }
    }

    /// A note about the whole analysis.
    fn note(note: String) -> Self {
        Evidence { path: "-".into(), policy: "-".into(), statement: "-".into(), note }
    }
}

/// Analyses one user's policies. `sources` are the identity policies and the boundary
/// (path `boundary`); `unknown` names attached policies whose documents were not available.
pub fn analyse(principal: &Principal, sources: &[Source], unknown: &[String], opts: &Options) -> Analysis {
    let mut evidence = Vec::new();
    let (allowed, worst) = deny::deny_pass(principal, sources, opts, &mut evidence);
    if let Some((ips, vpcs)) = allowed {
        // A full deny restricts the key; other (broken or partial) denies beside it add nothing.
        let verdict = sanity(&ips, &vpcs, opts, &mut evidence);
        return finish(verdict, ips, vpcs, evidence);
    }
    allow::allow_pass(sources, unknown, worst, opts, evidence)
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
    let note = |e: &mut Vec<Evidence>, n: String| e.push(Evidence::note(n));
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
