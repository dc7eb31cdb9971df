//! Python's `json.dumps(obj, sort_keys=True)` byte for byte (ASCII-only output, `", "` / `": "`
//! separators, or the compact `(",", ":")`), because the AWS CLI names cache files by the SHA-1
//! of exactly that text. serde_json differs in separators and non-ASCII escaping, so this small
//! writer is by hand.

use serde_json::Value;

/// `json.dumps(value, sort_keys=True)` with default (`compact = false`) or compact separators.
pub fn dumps(value: &Value, compact: bool) -> String {
    let mut out = String::new();
    write(&mut out, value, compact, true);
    out
}

/// `json.dumps(value)`: keys in the object's own order (botocore's JSONFileCache, which the
/// `aws login` cache is written with).
pub fn dumps_unsorted(value: &Value) -> String {
    let mut out = String::new();
    write(&mut out, value, false, false);
    out
}

fn write(out: &mut String, value: &Value, compact: bool, sort: bool) {
    let (item, kv) = if compact { (",", ":") } else { (", ", ": ") };
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_str(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(item);
                }
                write(out, v, compact, sort);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            if sort {
                keys.sort();
            }
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(item);
                }
                write_str(out, k);
                out.push_str(kv);
                write(out, &m[k], compact, sort);
            }
            out.push('}');
        }
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn like_python() {
        let v = json!({"b": 1, "a": ["x", true, null], "é": "日本\u{1F600}\"\\\n\u{7f}"});
        assert_eq!(
            dumps(&v, false),
            r#"{"a": ["x", true, null], "b": 1, "\u00e9": "\u65e5\u672c\ud83d\ude00\"\\\n\u007f"}"#
        );
        assert_eq!(dumps(&json!({"b": 1, "a": 2}), true), r#"{"a":2,"b":1}"#);
        assert_eq!(dumps_unsorted(&json!({"b": 1, "a": {"d": 2, "c": 3}})), r#"{"b": 1, "a": {"d": 2, "c": 3}}"#);
    }
}
