//! Policy documents as IAM returns them: decoding (URL-encoded or plain JSON), statements and
//! their labels, scalar-or-list values, and IAM's `*`/`?` wildcard match. Nothing here judges a
//! statement.

use serde_json::Value;

/// Decodes a policy document as IAM returns it (URL-encoded JSON), or plain JSON.
pub fn decode_document(text: &str) -> Option<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Some(v);
    }
    let decoded = shared::os::url_decode(text)?;
    serde_json::from_str(&decoded).ok()
}

pub(super) fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Null => vec![],
        other => vec![other.clone()],
    }
}

pub(super) fn strings(v: &Value) -> Vec<String> {
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

pub(super) fn statements(doc: &Value) -> Vec<Value> {
    as_list(doc.get("Statement").unwrap_or(&Value::Null))
}

pub(super) fn label(stmt: &Value, i: usize) -> String {
    stmt.get("Sid")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("#{}", i + 1))
}
