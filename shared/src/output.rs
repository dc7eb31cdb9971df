//! Output: commands return data; this module writes it to stdout as a table (comfy-table),
//! JSON, text, CSV or markdown, like the AWS CLI's `--output`. Colour only on a terminal and
//! without NO_COLOR.
//!
//! Everything here is safe for text from outside: table cells and text records are escaped
//! (`text::clean`), text bound for a terminal is escaped, CSV cells cannot start a formula, and
//! markdown cells cannot break their table. A reader that goes away (`| head`) gives a
//! `BrokenPipe` error that `cli::main` turns into a quiet exit 0.

use std::io::{IsTerminal, Write};

use comfy_table::{ContentArrangement, Table, presets};

use crate::text::clean;
use serde::Serialize;

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people (default on a terminal).
    Table,
    /// JSON (default when stdout is not a terminal).
    Json,
    /// Tab-separated values, one record per line.
    Text,
}

impl Format {
    /// The format asked for, or table on a terminal and JSON otherwise.
    pub fn resolve(asked: Option<Format>) -> Format {
        asked.unwrap_or(if std::io::stdout().is_terminal() { Format::Table } else { Format::Json })
    }
}

/// Whether to use colour on stderr/stdout: a terminal, no NO_COLOR.
pub fn color_enabled(env: &crate::os::Env) -> bool {
    env.get(crate::env_vars::NO_COLOR).is_none() && std::io::stdout().is_terminal()
}

/// Writes JSON (pretty, with a trailing newline).
pub fn print_json(value: &impl Serialize) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    // Keep the kind of a write error (a closed pipe is a quiet exit, see `cli::main`).
    serde_json::to_writer_pretty(&mut out, value)
        .map_err(|e| e.io_error_kind().map_or_else(|| std::io::Error::other(e), std::io::Error::from))?;
    writeln!(out)
}

/// A table with a header row; every cell escaped.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    t.set_header(headers.to_vec());
    for r in rows {
        t.add_row(r.iter().map(|c| clean(c).into_owned()).collect::<Vec<_>>());
    }
    t.to_string()
}

/// A two-column key/value table; every cell escaped.
pub fn kv_table(rows: &[(String, String)]) -> String {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    for (k, v) in rows {
        t.add_row(vec![clean(k).into_owned(), clean(v).into_owned()]);
    }
    t.to_string()
}

/// Writes text to stdout with a trailing newline. On a terminal, control characters other than
/// newlines and tabs are escaped first; into a pipe or file the bytes go as they are (the reader
/// asked for data).
pub fn print_text(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let shown = if std::io::stdout().is_terminal() { clean_for_terminal(text) } else { text.into() };
    out.write_all(shown.as_bytes())?;
    if !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    out.flush()
}

fn clean_for_terminal(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && c != '\t' && crate::text::is_unsafe(c)) {
        return text.into();
    }
    text.split('\n')
        .map(|line| line.split('\t').map(clean).collect::<Vec<_>>().join("\t"))
        .collect::<Vec<_>>()
        .join("\n")
        .into()
}

/// A text-format record: values joined by tabs (empty for missing), as the AWS CLI's text output;
/// each value escaped, so a tab or newline inside one cannot make a new column or record.
pub fn text_line(values: &[String]) -> String {
    values.iter().map(|v| clean(v).into_owned()).collect::<Vec<_>>().join("\t")
}

/// CSV (RFC 4180) with a header row; cells that a spreadsheet would run as a formula are
/// neutralised (`text::csv_safe`).
pub fn csv(headers: &[&str], rows: &[Vec<String>]) -> std::io::Result<String> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(headers).map_err(std::io::Error::other)?;
    for r in rows {
        w.write_record(r.iter().map(|c| crate::text::csv_safe(c).into_owned())).map_err(std::io::Error::other)?;
    }
    String::from_utf8(w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?).map_err(std::io::Error::other)
}

/// A markdown table; cells escaped so that none can end the row or the table (`|`, newlines,
/// control characters).
pub fn markdown(headers: &[&str], rows: &[Vec<String>]) -> String {
    let cell = |c: &str| clean(c).replace('|', "\\|");
    let mut out = format!("| {} |\n|{}\n", headers.join(" | "), " --- |".repeat(headers.len()));
    for r in rows {
        out.push_str(&format!("| {} |\n", r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")));
    }
    out
}

/// How [`render`] writes rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A table for people.
    Table,
    /// The JSON value.
    Json,
    /// Tab-separated records.
    Text,
    /// CSV with a header row.
    Csv,
    /// A markdown table.
    Markdown,
}

impl From<Format> for Style {
    fn from(f: Format) -> Self {
        match f {
            Format::Table => Style::Table,
            Format::Json => Style::Json,
            Format::Text => Style::Text,
        }
    }
}

/// Typed rows, ready for any style: the column names, each row's cells (for table, CSV,
/// markdown and, unless `text` says otherwise, text), and the JSON value scripts get.
#[derive(Debug)]
pub struct Rows<'a, J: Serialize> {
    /// Column names; empty for a two-column key/value table (one record of named fields).
    pub headers: &'a [&'a str],
    /// One entry per row, as many cells as headers (key and value when `headers` is empty).
    pub cells: Vec<Vec<String>>,
    /// What `--output json` prints.
    pub json: &'a J,
    /// The `--output text` records when they differ from the table's (stable columns for
    /// scripts, where the table shows what reads best).
    pub text: Option<Vec<Vec<String>>>,
}

impl<'a, J: Serialize> Rows<'a, J> {
    /// Rows whose text records are the table's cells.
    pub fn new(headers: &'a [&'a str], cells: Vec<Vec<String>>, json: &'a J) -> Self {
        Self { headers, cells, json, text: None }
    }

    /// With text records of their own.
    pub fn with_text(mut self, text: Vec<Vec<String>>) -> Self {
        self.text = Some(text);
        self
    }
}

/// The one renderer: writes `rows` to stdout in `style`.
pub fn render<J: Serialize>(style: Style, rows: &Rows<'_, J>) -> std::io::Result<()> {
    match style {
        Style::Json => print_json(rows.json),
        Style::Table if rows.headers.is_empty() => print_text(&kv_table(
            &rows.cells.iter().map(|r| (r.first().cloned().unwrap_or_default(), r[1..].join(" "))).collect::<Vec<_>>(),
        )),
        Style::Table => print_text(&table(rows.headers, &rows.cells)),
        Style::Text => print_text(
            &rows.text.as_ref().unwrap_or(&rows.cells).iter().map(|r| text_line(r)).collect::<Vec<_>>().join("\n"),
        ),
        Style::Csv => print_text(&csv(rows.headers, &rows.cells)?),
        Style::Markdown => print_text(&markdown(rows.headers, &rows.cells)),
    }
}

/// `in 1h 5m`, `in 4m`, `expired 3m ago`.
pub fn human_duration(d: time::Duration) -> String {
    let secs = d.whole_seconds();
    let a = secs.unsigned_abs();
    let text = if a >= 3600 {
        format!("{}h {}m", a / 3600, (a % 3600) / 60)
    } else if a >= 60 {
        format!("{}m", a / 60)
    } else {
        format!("{a}s")
    };
    if secs >= 0 { format!("in {text}") } else { format!("expired {text} ago") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_style_escapes_outside_text() {
        let rows = vec![vec!["=1+2".to_string(), "a\u{1b}[2J|b\nc".to_string()]];
        let csv = csv(&["user", "detail"], &rows).unwrap();
        assert!(csv.contains("'=1+2"), "{csv}");
        let md = markdown(&["user", "detail"], &rows);
        assert!(md.contains("a\\e[2J\\|b\\nc"), "{md}");
        assert_eq!(md.lines().count(), 3, "one header, one rule, one row: {md}");
        let t = table(&["user", "detail"], &rows);
        assert!(!t.contains('\u{1b}'), "{t}");
        assert_eq!(text_line(&rows[0]), "=1+2\ta\\e[2J|b\\nc");
        assert_eq!(clean_for_terminal("a\tb\nc\u{1b}"), "a\tb\nc\\e");
    }
}
