//! Text that came from outside (config files, server answers, IAM names, lock files) made safe to
//! show: control characters and bidirectional overrides escaped before they reach a terminal or a
//! log line, long values cut, spreadsheet formulas neutralised in CSV cells.
//!
//! It owns only these pure string functions; where the text goes (stdout, stderr, a table) is
//! `output`'s business. Written by hand: the rules are ours (which characters, how they look) and
//! each is a few lines; no crate escapes for terminals and CSV formulas together.

use std::borrow::Cow;

/// Values longer than this are cut by [`clip`] (error messages echo user input and server text).
pub const MAX_ECHO: usize = 512;

/// Whether a character must not reach a terminal raw: C0/C1 controls (ESC, CR, BEL, backspace,
/// NUL...), DEL, and the invisible formatting characters that reorder or hide text (bidi
/// overrides and isolates, zero-width joiners, the BOM: the "Trojan Source" set).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

fn escape_into(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{1b}' => out.push_str("\\e"),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// `text` with every unsafe character (see [`is_unsafe`]) shown as an escape (`\e`, `\n`,
/// `\u{202e}`): what a terminal then shows is exactly what the text holds, and nothing in it can
/// move the cursor, clear the screen or start a new, forged line.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) { escape_into(&mut out, c) } else { out.push(c) }
    }
    Cow::Owned(out)
}

/// As [`clean`], but newlines are kept (a multi-line message of our own whose parts are already
/// clean). Every other unsafe character is escaped.
pub fn clean_keep_newlines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && is_unsafe(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c != '\n' && is_unsafe(c) { escape_into(&mut out, c) } else { out.push(c) }
    }
    Cow::Owned(out)
}

/// [`clean`], then cut to [`MAX_ECHO`] characters with `…(N more)` (for echoing values that may be
/// huge: a server message, a pasted flag).
pub fn clip(text: &str) -> String {
    let cleaned = clean(text);
    let count = cleaned.chars().count();
    if count <= MAX_ECHO {
        return cleaned.into_owned();
    }
    let cut: String = cleaned.chars().take(MAX_ECHO).collect();
    format!("{cut}…({} more characters)", count - MAX_ECHO)
}

/// A CSV cell that a spreadsheet will show as text, never evaluate: a cell starting with `=`,
/// `+`, `-`, `@`, tab or CR gets a leading `'` (OWASP's CSV-injection advice).
pub fn csv_safe(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// An error and its sources on one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_act_on() {
        assert_eq!(clean("plain profile-1"), "plain profile-1");
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
        assert_eq!(clean("a\u{1b}[2Jb"), "a\\e[2Jb");
        assert_eq!(clean("x\nhint: run rm -rf ~"), "x\\nhint: run rm -rf ~");
        assert_eq!(clean("\u{202e}evil"), "\\u{202e}evil");
        assert_eq!(clean("nul\0bel\u{7}del\u{7f}c1\u{9b}"), "nul\\u{0}bel\\u{7}del\\u{7f}c1\\u{9b}");
        assert_eq!(clean_keep_newlines("a\nb\u{1b}"), "a\nb\\e");
        assert_eq!(clean("naïve ☃"), "naïve ☃");
    }

    #[test]
    fn clips_long_values() {
        let long = "x".repeat(MAX_ECHO + 10);
        let c = clip(&long);
        assert!(c.ends_with("…(10 more characters)"), "{c}");
        assert_eq!(clip("short"), "short");
    }

    #[test]
    fn neutralises_formulas() {
        for bad in ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_safe(bad).starts_with('\''), "{bad}");
        }
        assert_eq!(csv_safe("alice"), "alice");
        assert_eq!(csv_safe(""), "");
    }
}
