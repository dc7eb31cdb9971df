//! Condition clauses: `[ForAllValues:|ForAnyValue:]Operator[IfExists]` on a key, split out of a
//! statement; the network and principal keys; evaluating a principal-scoped clause for a user.

use serde_json::Value;

use super::Principal;
use super::document::{glob, strings};

/// One condition clause: `[ForAllValues:|ForAnyValue:]Operator[IfExists]` on a key.
#[derive(Debug, Clone)]
pub(super) struct Clause {
    pub(super) qualifier: Option<String>,
    pub(super) op: String,
    pub(super) if_exists: bool,
    pub(super) key: String,
    pub(super) values: Vec<String>,
}

pub(super) fn clauses(stmt: &Value) -> Vec<Clause> {
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

pub(super) const IP_KEYS: [&str; 2] = ["aws:sourceip", "aws:vpcsourceip"];
pub(super) const VPC_KEYS: [&str; 2] = ["aws:sourcevpc", "aws:sourcevpce"];
pub(super) const PRINCIPAL_KEYS: [&str; 6] = [
    "aws:username",
    "aws:principalarn",
    "aws:userid",
    "aws:principaltype",
    "aws:principalaccount",
    "aws:principaltag/",
];

pub(super) fn is_principal_key(k: &str) -> bool {
    PRINCIPAL_KEYS.iter().any(|p| if p.ends_with('/') { k.starts_with(p) } else { k == *p })
}

/// Evaluates a principal-scoped clause for the user: Some(true/false), None when unknown.
pub(super) fn principal_clause(c: &Clause, p: &Principal) -> Option<bool> {
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

pub(super) fn is_true(values: &[String]) -> bool {
    values.iter().any(|v| v.eq_ignore_ascii_case("true"))
}
pub(super) fn is_false(values: &[String]) -> bool {
    values.iter().any(|v| v.eq_ignore_ascii_case("false"))
}
