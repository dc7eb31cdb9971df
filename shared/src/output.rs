//! Output: commands return data; this module writes it to stdout as a table (comfy-table),
//! JSON or text, like the AWS CLI's `--output`. Colour only on a terminal and without NO_COLOR.

use std::io::{IsTerminal, Write};

use comfy_table::{ContentArrangement, Table, presets};
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
    serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::other)?;
    writeln!(out)
}

/// A table with a header row.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    t.set_header(headers.to_vec());
    for r in rows {
        t.add_row(r.clone());
    }
    t.to_string()
}

/// A two-column key/value table.
pub fn kv_table(rows: &[(String, String)]) -> String {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    for (k, v) in rows {
        t.add_row(vec![k.clone(), v.clone()]);
    }
    t.to_string()
}

/// Writes text to stdout with a trailing newline.
pub fn print_text(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// A text-format record: values joined by tabs (empty for missing), as the AWS CLI's text output.
pub fn text_line(values: &[String]) -> String {
    values.iter().map(|v| v.replace(['\t', '\n'], " ")).collect::<Vec<_>>().join("\t")
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
