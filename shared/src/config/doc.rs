//! A lossless, line-based document of an AWS INI file (`~/.aws/config`, `~/.aws/credentials`).
//!
//! Every line keeps its raw text, terminator included, so printing the document gives back the
//! input byte for byte: comments (`#`, `;`), blank lines, CRLF, indentation, nested `s3 =` blocks,
//! unknown keys and malformed lines. Each line is also classified exactly as the AWS CLI's parser
//! (Python's `configparser.RawConfigParser`, as used by botocore) classifies it: full-line comments
//! only (no inline comments), `=` or `:` as delimiter, option names lower-cased, continuation
//! lines indented deeper than their option, section names taken from `[...]`.
//!
//! Written by hand because no INI crate keeps comments and nested blocks and also classifies lines
//! the way botocore does (rust-ini and configparser drop comments and flatten `s3 =` blocks;
//! ini-roundtrip keeps bytes but not botocore's continuation rules); see build-notes.md.
//!
//! Edits touch only the lines they change.

use std::ops::Range;

/// What a line is, to the AWS CLI's parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    /// Empty or whitespace only.
    Blank,
    /// A full-line comment (`#` or `;` after optional whitespace).
    Comment,
    /// `[name]` (anything after the last `]` is ignored, as botocore does).
    Section {
        /// The text between `[` and the last `]`.
        name: String,
    },
    /// `key = value` or `key: value`.
    Property {
        /// The option name, lower-cased.
        key: String,
        /// The value on this line, trimmed.
        value: String,
    },
    /// An indented line continuing the property above (nested `s3 =` blocks are made of these).
    Continuation {
        /// The line, trimmed.
        text: String,
    },
    /// A line the AWS CLI rejects.
    Malformed {
        /// Why.
        reason: String,
    },
}

/// One line: its raw text (with its terminator) and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    raw: String,
    kind: LineKind,
}

impl Line {
    /// The raw text, terminator included.
    pub fn raw(&self) -> &str {
        &self.raw
    }
    /// The classification.
    pub fn kind(&self) -> &LineKind {
        &self.kind
    }
}

/// A parsed INI file that prints back to its input byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    lines: Vec<Line>,
}

/// A section's place in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionRef {
    /// The section name (`profile x`, `default`, `sso-session s`).
    pub name: String,
    /// Index of the header line.
    pub header: usize,
    /// The lines after the header, up to the next header or the end.
    pub body: Range<usize>,
}

/// Python's `str.strip()` on the characters botocore meets in config files.
fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace())
}

/// Splits text into lines that keep their terminators (`\n`, `\r\n`); the last line may have none.
fn split_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            out.push(&text[start..=i]);
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

fn content_of(raw: &str) -> &str {
    let s = raw.strip_suffix('\n').unwrap_or(raw);
    s.strip_suffix('\r').unwrap_or(s)
}

pub use crate::error::ValueError;

/// The longest value we write (the AWS CLI has no limit; ours keeps a hostile portal from
/// bloating the file).
pub const MAX_VALUE_LEN: usize = 4096;

fn refuse(what: &str, value: &str, why: &'static str) -> ValueError {
    ValueError { what: what.to_string(), shown: crate::text::clip(value), why }
}

fn common_checks(what: &str, value: &str) -> Result<(), ValueError> {
    if value.chars().any(crate::text::is_unsafe) {
        return Err(refuse(what, value, "it holds a control character (a newline, escape, NUL or bidi override)"));
    }
    if value.len() > MAX_VALUE_LEN {
        return Err(refuse(what, value, "it is longer than 4096 bytes"));
    }
    if value.contains(">>> aws-sso-sync") || value.contains("<<< aws-sso-sync") {
        return Err(refuse(what, value, "it holds aws-sso-sync's block marker text"));
    }
    Ok(())
}

/// Checks a value for `key = value`: it must read back exactly (no control characters, no white
/// space at either end, which the AWS CLI strips) and hold no marker text.
pub fn check_value(what: &str, value: &str) -> Result<(), ValueError> {
    common_checks(what, value)?;
    if py_strip(value) != value {
        return Err(refuse(what, value, "it starts or ends with white space, which the AWS CLI strips"));
    }
    Ok(())
}

/// Checks an option name: lower-case ASCII letters, digits, `_`, `-`, `.` (the parser lower-cases
/// and splits on `=` and `:`, so anything else reads back differently).
pub fn check_key(key: &str) -> Result<(), ValueError> {
    if key.is_empty()
        || !key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'))
    {
        return Err(refuse("the setting name", key, "use lower-case letters, digits, `_`, `-` or `.`"));
    }
    Ok(())
}

/// Checks the NAME of `[profile NAME]` / `[sso-session NAME]`: one word to botocore's shell-style
/// split (no white space, quotes or backslashes), no brackets, no control characters.
pub fn check_section_name(what: &str, name: &str) -> Result<(), ValueError> {
    common_checks(what, name)?;
    if name.is_empty() {
        return Err(refuse(what, name, "it is empty"));
    }
    if name.chars().any(|c| c.is_whitespace() || matches!(c, '[' | ']' | '"' | '\'' | '\\')) {
        return Err(refuse(what, name, "it holds white space, a bracket, a quote or a backslash"));
    }
    if name.starts_with(['#', ';']) {
        return Err(refuse(what, name, "it starts with a comment character"));
    }
    Ok(())
}

/// Checks a whole section header text (`profile x`, `default`, `sso-session s`).
fn check_header(section: &str) -> Result<(), ValueError> {
    match section.split_once(' ') {
        Some((kind, name)) => {
            check_section_name(&format!("the {kind} name"), name)?;
            check_section_name("the section kind", kind)
        }
        None => check_section_name("the section name", section),
    }
}

impl Document {
    /// Parses text. Never fails: lines the AWS CLI would reject are kept as [`LineKind::Malformed`].
    pub fn parse(text: &str) -> Self {
        let mut lines = Vec::new();
        // configparser's state: are we in a section, after an option, and at which indent.
        let mut in_section = false;
        let mut after_option = false;
        let mut indent_level = 0usize;
        for raw in split_lines(text) {
            let content = content_of(raw);
            let value = py_strip(content);
            let kind = if value.starts_with('#') || value.starts_with(';') {
                LineKind::Comment
            } else if value.is_empty() {
                LineKind::Blank
            } else {
                let indent = content.chars().take_while(|c| c.is_whitespace()).count();
                if in_section && after_option && indent > indent_level {
                    LineKind::Continuation { text: value.to_string() }
                } else {
                    indent_level = indent;
                    if let Some(name) = section_name(value) {
                        in_section = true;
                        after_option = false;
                        LineKind::Section { name: name.to_string() }
                    } else if !in_section {
                        LineKind::Malformed { reason: "a setting before any [section] header".into() }
                    } else if let Some((key, val)) = split_option(value) {
                        if key.is_empty() {
                            LineKind::Malformed { reason: "a line with `=` but no key".into() }
                        } else {
                            after_option = true;
                            LineKind::Property { key: key.to_lowercase(), value: val.to_string() }
                        }
                    } else {
                        LineKind::Malformed { reason: "not `key = value`, a [section] header or a comment".into() }
                    }
                }
            };
            lines.push(Line { raw: raw.to_string(), kind });
        }
        Self { lines }
    }

    /// The lines.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// The text, byte for byte as parsed plus any edits.
    pub fn render(&self) -> String {
        self.lines.iter().map(|l| l.raw.as_str()).collect()
    }

    /// The line terminator the file uses (CRLF if its first terminated line does).
    pub fn newline(&self) -> &'static str {
        match self.lines.iter().find(|l| l.raw.ends_with('\n')) {
            Some(l) if l.raw.ends_with("\r\n") => "\r\n",
            _ => "\n",
        }
    }

    /// Every section, in file order (duplicates included).
    pub fn sections(&self) -> Vec<SectionRef> {
        let headers: Vec<(usize, String)> = self
            .lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| match &l.kind {
                LineKind::Section { name } => Some((i, name.clone())),
                _ => None,
            })
            .collect();
        headers
            .iter()
            .enumerate()
            .map(|(n, (i, name))| {
                let end = headers.get(n + 1).map(|(j, _)| *j).unwrap_or(self.lines.len());
                SectionRef { name: name.clone(), header: *i, body: i + 1..end }
            })
            .collect()
    }

    /// The last section of this name (the one the AWS CLI would fail on if duplicated).
    pub fn section(&self, name: &str) -> Option<SectionRef> {
        self.sections().into_iter().rev().find(|s| s.name == name)
    }

    /// The properties of a section body: (key, full value, line index). A value continued on
    /// indented lines is joined with `\n` (a nested block's value starts with `\n`).
    pub fn properties(&self, body: Range<usize>) -> Vec<(String, String, usize)> {
        let mut out: Vec<(String, String, usize)> = Vec::new();
        for i in body {
            match &self.lines[i].kind {
                LineKind::Property { key, value } => out.push((key.clone(), value.clone(), i)),
                LineKind::Continuation { text } => {
                    if let Some(last) = out.last_mut() {
                        last.1.push('\n');
                        last.1.push_str(text);
                    }
                }
                // configparser keeps blank lines inside a value (trailing ones are trimmed below).
                LineKind::Blank => {
                    if let Some(last) = out.last_mut() {
                        last.1.push('\n');
                    }
                }
                _ => {}
            }
        }
        for p in &mut out {
            p.1 = p.1.trim_end().to_string();
        }
        out
    }

    /// The value of `key` in the last section called `section`.
    pub fn get(&self, section: &str, key: &str) -> Option<String> {
        let s = self.section(section)?;
        self.properties(s.body).into_iter().find(|(k, _, _)| k == key).map(|(_, v, _)| v)
    }

    /// The continuation lines that belong to the property at `at`: every Continuation up to the
    /// next property or section, even past blank, comment or malformed lines (configparser keeps
    /// appending to the last option through those).
    fn continuations(&self, at: usize) -> Vec<usize> {
        let mut out = Vec::new();
        for i in at + 1..self.lines.len() {
            match self.lines[i].kind {
                LineKind::Continuation { .. } => out.push(i),
                LineKind::Property { .. } | LineKind::Section { .. } => break,
                _ => {}
            }
        }
        out
    }

    /// Removes the property at `at`'s continuation lines, then replaces (or removes) its line.
    fn replace_property(&mut self, at: usize, line: Option<Line>) {
        for i in self.continuations(at).into_iter().rev() {
            self.lines.remove(i);
        }
        match line {
            Some(l) => self.lines[at] = l,
            None => {
                self.lines.remove(at);
            }
        }
    }

    /// Where new properties of a section go: after its last line that is not blank or a comment.
    /// Never before an indented line: configparser would read that line as a continuation of the
    /// new property (found by fuzzing).
    fn insertion_point(&self, s: &SectionRef) -> usize {
        let mut at = s.header + 1;
        for i in s.body.clone() {
            if !matches!(self.lines[i].kind, LineKind::Blank | LineKind::Comment) {
                at = i + 1;
            }
        }
        at
    }

    fn make_line(&self, text: &str) -> Line {
        let raw = format!("{text}{}", self.newline());
        // Classified inside a section, where a new line always lands.
        let kind = Document::parse(&format!("[s]\n{raw}")).lines.pop().map(|l| l.kind).unwrap_or(LineKind::Blank);
        Line { raw, kind }
    }

    /// Makes sure the last line ends with a terminator before appending.
    fn terminate_last_line(&mut self) {
        let nl = self.newline();
        if let Some(last) = self.lines.last_mut()
            && !last.raw.ends_with('\n')
        {
            last.raw.push_str(nl);
        }
    }

    /// Sets `key = value` in the last section `section`, creating the section at the end of the
    /// file if needed. An existing key keeps its line (and position); only its value changes.
    ///
    /// The section name, key and value are checked first (see [`check_value`]); after the edit the
    /// value is read back, and an edit that would not read back is undone and refused.
    pub fn set(&mut self, section: &str, key: &str, value: &str) -> Result<(), ValueError> {
        check_header(section)?;
        check_key(key)?;
        check_value(&format!("the value of {key}"), value)?;
        let before = self.lines.clone();
        self.set_unchecked(section, key, value);
        if self.get(section, key).as_deref() != Some(value) {
            self.lines = before;
            return Err(refuse(&format!("the value of {key}"), value, "it would not read back the same"));
        }
        Ok(())
    }

    fn set_unchecked(&mut self, section: &str, key: &str, value: &str) {
        let Some(s) = self.section(section) else {
            self.push_section(section, &[(key, value)]);
            return;
        };
        let existing = self.properties(s.body.clone()).into_iter().find(|(k, _, _)| k == key);
        match existing {
            Some((_, old, at)) if old == value => {
                let _ = at;
            }
            Some((_, _, at)) => {
                let raw = &self.lines[at].raw;
                let content = content_of(raw);
                let indent: String = content.chars().take_while(|c| c.is_whitespace()).collect();
                let delim = content.find(['=', ':']).unwrap_or(content.len());
                let key_text = content[..delim].trim_end().to_string();
                let delim_char = content[delim..].chars().next().unwrap_or('=');
                let terminator = &raw[content.len()..];
                let text = format!("{key_text} {delim_char} {value}");
                let text = if text.starts_with(&indent) { text } else { format!("{indent}{text}") };
                let line = Line {
                    raw: format!("{text}{}", if terminator.is_empty() { "" } else { terminator }),
                    kind: LineKind::Property { key: key.to_string(), value: value.to_string() },
                };
                self.replace_property(at, Some(line));
            }
            None => {
                let at = self.insertion_point(&s);
                if at == self.lines.len() {
                    self.terminate_last_line();
                }
                // If the next significant line is indented (an indented header or a line that
                // follows no option), a new unindented key would swallow it as a continuation;
                // indenting the key like it keeps that line what it was (found by fuzzing).
                let indent: String = self.lines[at..]
                    .iter()
                    .find(|l| !matches!(l.kind, LineKind::Blank | LineKind::Comment))
                    .map(|l| content_of(&l.raw).chars().take_while(|c| c.is_whitespace()).collect())
                    .unwrap_or_default();
                let line = self.make_line(&format!("{indent}{key} = {value}"));
                self.lines.insert(at, line);
            }
        }
    }

    /// Removes `key` (and its continuation lines) from the last section `section`.
    pub fn remove_key(&mut self, section: &str, key: &str) -> bool {
        let Some(s) = self.section(section) else { return false };
        let Some((_, _, at)) = self.properties(s.body).into_iter().find(|(k, _, _)| k == key) else {
            return false;
        };
        self.replace_property(at, None);
        true
    }

    /// Appends a section with properties at the end, separated by a blank line; every name and
    /// value is checked first and read back after.
    pub fn append_section(&mut self, section: &str, props: &[(&str, &str)]) -> Result<(), ValueError> {
        check_header(section)?;
        for (k, v) in props {
            check_key(k)?;
            check_value(&format!("the value of {k}"), v)?;
        }
        let before = self.lines.clone();
        self.push_section(section, props);
        let back = self.section(section).map(|s| self.properties(s.body)).unwrap_or_default();
        let same = back.len() == props.len() && back.iter().zip(props).all(|((k, v, _), (pk, pv))| k == pk && v == pv);
        if !same {
            self.lines = before;
            return Err(refuse("the section", section, "it would not read back the same"));
        }
        Ok(())
    }

    fn push_section(&mut self, section: &str, props: &[(&str, &str)]) {
        self.terminate_last_line();
        if self.lines.last().is_some_and(|l| l.kind != LineKind::Blank) {
            let blank = self.make_line("");
            self.lines.push(blank);
        }
        let header = self.make_line(&format!("[{section}]"));
        self.lines.push(header);
        for (k, v) in props {
            let line = self.make_line(&format!("{k} = {v}"));
            self.lines.push(line);
        }
    }

    /// The lines between a line that is exactly `begin` and the next line that is exactly `end`
    /// (markers included), trimmed of whitespace when compared.
    pub fn block(&self, begin: &str, end: &str) -> Option<Range<usize>> {
        let start = self.lines.iter().position(|l| py_strip(content_of(&l.raw)) == begin)?;
        let stop = self.lines[start..].iter().position(|l| py_strip(content_of(&l.raw)) == end)? + start;
        Some(start..stop + 1)
    }

    /// The marked-block edit: replaces the block from the line `begin` to the line `end`
    /// (markers included) with `text`, or appends `text` at the end of the file (after a blank
    /// line) when there is no such block. `text` must be the whole block, markers included; an
    /// empty `text` removes the block.
    pub fn replace_block(&mut self, begin: &str, end: &str, text: &str) {
        if let Some(r) = self.block(begin, end) {
            self.replace_lines(r, text);
            return;
        }
        if text.is_empty() {
            return;
        }
        let nl = self.newline();
        let mut raw = self.render();
        if !raw.is_empty() && !raw.ends_with('\n') {
            raw.push_str(nl);
        }
        if !raw.is_empty() && !raw.ends_with(&format!("{nl}{nl}")) {
            raw.push_str(nl);
        }
        raw.push_str(text);
        *self = Document::parse(&raw);
    }

    /// Replaces the lines of `range` with `text` (parsed in context afterwards).
    pub fn replace_lines(&mut self, range: Range<usize>, text: &str) {
        let mut raw: String = self.lines[..range.start].iter().map(|l| l.raw.as_str()).collect();
        raw.push_str(text);
        raw.extend(self.lines[range.end..].iter().map(|l| l.raw.as_str()));
        *self = Document::parse(&raw);
    }
}

/// `[name]` → `name`, as configparser's `\[(?P<header>.+)\]` matches the stripped line: the name
/// runs to the *last* `]`, and anything after it is ignored.
fn section_name(stripped: &str) -> Option<&str> {
    let rest = stripped.strip_prefix('[')?;
    let end = rest.rfind(']')?;
    let name = &rest[..end];
    (!name.is_empty()).then_some(name)
}

/// configparser's `(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$`: the first `=` or `:`.
fn split_option(stripped: &str) -> Option<(&str, &str)> {
    let at = stripped.find(['=', ':'])?;
    Some((py_strip(&stripped[..at]), py_strip(&stripped[at + 1..])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<LineKind> {
        Document::parse(text).lines.into_iter().map(|l| l.kind).collect()
    }

    #[test]
    fn classifies_like_configparser() {
        let text = "# c\n[default]\nregion = us-east-1\nS3 =\n  max_concurrent_requests = 10\n\n  addressing_style = path\n; x\n[profile a] # trailing\nrole_arn: arn:aws:iam::1:role/r\nbogus line\n  [profile not-a-section]\n=novalue\n";
        let k = kinds(text);
        assert_eq!(k[0], LineKind::Comment);
        assert_eq!(k[1], LineKind::Section { name: "default".into() });
        assert_eq!(k[2], LineKind::Property { key: "region".into(), value: "us-east-1".into() });
        assert_eq!(k[3], LineKind::Property { key: "s3".into(), value: "".into() });
        assert!(matches!(k[4], LineKind::Continuation { .. }));
        assert_eq!(k[5], LineKind::Blank);
        assert!(matches!(k[6], LineKind::Continuation { .. }), "blank lines do not end a value");
        assert_eq!(k[8], LineKind::Section { name: "profile a".into() });
        assert_eq!(k[9], LineKind::Property { key: "role_arn".into(), value: "arn:aws:iam::1:role/r".into() });
        assert!(matches!(k[10], LineKind::Malformed { .. }));
        assert!(matches!(k[11], LineKind::Continuation { .. }), "an indented header after an option continues it");
        assert!(matches!(k[12], LineKind::Malformed { .. }));
        let doc = Document::parse(text);
        assert_eq!(doc.get("default", "s3").unwrap(), "\nmax_concurrent_requests = 10\n\naddressing_style = path");
        assert_eq!(doc.render(), text);
    }

    #[test]
    fn no_inline_comments_and_first_delimiter() {
        let doc = Document::parse("[p]\nregion = us-east-1 # eu\nurl=http://x:1/a=b\n");
        assert_eq!(doc.get("p", "region").unwrap(), "us-east-1 # eu");
        assert_eq!(doc.get("p", "url").unwrap(), "http://x:1/a=b");
    }

    #[test]
    fn settings_before_any_section_are_malformed() {
        assert!(matches!(kinds("region = x\n[default]\n")[0], LineKind::Malformed { .. }));
    }

    #[test]
    fn set_keeps_everything_else() {
        let text = "# top\r\n[profile a]\r\nregion = us-east-1  \r\n# keep\r\n\r\n[profile b]\r\nx=1";
        let mut doc = Document::parse(text);
        doc.set("profile a", "region", "eu-west-1").unwrap();
        doc.set("profile a", "output", "json").unwrap();
        doc.set("profile b", "y", "2").unwrap();
        doc.set("profile c", "z", "3").unwrap();
        assert_eq!(
            doc.render(),
            "# top\r\n[profile a]\r\nregion = eu-west-1\r\noutput = json\r\n# keep\r\n\r\n[profile b]\r\nx=1\r\ny = 2\r\n\r\n[profile c]\r\nz = 3\r\n"
        );
        assert!(doc.remove_key("profile a", "output"));
        assert!(!doc.remove_key("profile a", "output"));
        assert_eq!(doc.get("profile c", "z").as_deref(), Some("3"));
    }

    #[test]
    fn a_new_key_never_swallows_an_indented_line() {
        // Found by fuzzing: inserting right after the header put the new key before an indented
        // line, which then read as its continuation.
        let mut doc = Document::parse("[profile fuzz]\n  max_bandwidth 456\n# c\n\n[next]\n");
        doc.set("profile fuzz", "region", "us-east-1").unwrap();
        assert_eq!(Document::parse(&doc.render()).get("profile fuzz", "region").as_deref(), Some("us-east-1"));
        assert_eq!(doc.render(), "[profile fuzz]\n  max_bandwidth 456\nregion = us-east-1\n# c\n\n[next]\n");
        let crash =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/fuzz-regressions-ini-1.ini"))
                .unwrap();
        let mut doc = Document::parse(&crash);
        doc.set("profile fuzz", "region", "us-east-1").unwrap();
        assert_eq!(Document::parse(&doc.render()).get("profile fuzz", "region").as_deref(), Some("us-east-1"));
    }

    #[test]
    fn set_replaces_a_nested_block_whole() {
        let mut doc = Document::parse("[default]\ns3 =\n  a = 1\n  b = 2\nregion = x\n");
        doc.set("default", "s3", "v").unwrap();
        assert_eq!(doc.render(), "[default]\ns3 = v\nregion = x\n");
    }

    #[test]
    fn blocks_between_markers() {
        let mut doc = Document::parse("[a]\nx = 1\n# BEGIN gen\n[profile g]\ny = 2\n# END gen\n# after\n");
        let r = doc.block("# BEGIN gen", "# END gen").unwrap();
        assert_eq!(r, 2..6);
        doc.replace_lines(r, "# BEGIN gen\n[profile h]\nz = 3\n# END gen\n");
        assert_eq!(doc.render(), "[a]\nx = 1\n# BEGIN gen\n[profile h]\nz = 3\n# END gen\n# after\n");
        assert_eq!(doc.get("profile h", "z").as_deref(), Some("3"));
    }
    #[test]
    fn hostile_names_and_values_are_refused_and_nothing_changes() {
        let text = "[profile a]\nregion = us-east-1\n";
        let mut doc = Document::parse(text);
        for (section, key, value) in [
            ("profile a", "credential_process", "x\n[profile evil]\ncredential_process = sh -c id"),
            ("profile a", "sso_role_name", "Admin\r"),
            ("profile a", "sso_role_name", "Admin\u{1b}[2J"),
            ("profile a", "sso_role_name", " padded"),
            ("profile a", "sso_role_name", "# >>> aws-sso-sync sso-session x >>>"),
            ("profile a b", "region", "x"),
            ("profile a]", "region", "x"),
            ("profile \"q\"", "region", "x"),
            ("profile a", "Region", "x"),
            ("profile a", "re=gion", "x"),
            ("profile a", "region", &"x".repeat(MAX_VALUE_LEN + 1)),
        ] {
            assert!(doc.set(section, key, value).is_err(), "{section:?} {key:?} {value:?}");
            assert!(doc.append_section(section, &[(key, value)]).is_err(), "{section:?} {key:?} {value:?}");
        }
        assert_eq!(doc.render(), text, "a refused edit changes nothing");
        doc.set("profile a", "role_arn", "arn:aws:iam::1:role/x=y:z # not a comment").unwrap();
        assert_eq!(doc.get("profile a", "role_arn").as_deref(), Some("arn:aws:iam::1:role/x=y:z # not a comment"));
    }

    #[test]
    fn replace_block_replaces_appends_and_removes() {
        let mut doc = Document::parse("[a]\nx = 1");
        doc.replace_block("# B", "# E", "# B\n[profile g]\ny = 2\n# E\n");
        assert_eq!(doc.render(), "[a]\nx = 1\n\n# B\n[profile g]\ny = 2\n# E\n");
        doc.replace_block("# B", "# E", "# B\n# E\n");
        assert_eq!(doc.render(), "[a]\nx = 1\n\n# B\n# E\n");
        doc.replace_block("# B", "# E", "");
        assert_eq!(doc.render(), "[a]\nx = 1\n\n");
    }
}
