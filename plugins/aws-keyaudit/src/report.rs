//! Outputs: a table grouped by severity, JSON (findings, summary, report metadata), CSV (RFC 4180),
//! SARIF 2.1.0 (code-scanning dashboards) and Markdown.

use serde_json::{Value, json};

use crate::checks::{CHECKS, Finding, Severity, Status};
use crate::usage::{self, KeyUsage};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Grouped by severity (default on a terminal).
    Table,
    /// JSON document (default otherwise).
    Json,
    /// CSV, RFC 4180.
    Csv,
    /// SARIF 2.1.0.
    Sarif,
    /// Markdown.
    Markdown,
    /// Tab-separated values.
    Text,
}

fn sorted(findings: &[Finding]) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = findings.iter().collect();
    v.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.check.as_str().cmp(b.check.as_str()))
            .then(a.account.cmp(&b.account))
            .then(a.user.cmp(&b.user))
            .then(a.key.cmp(&b.key))
    });
    v
}

/// Counts per severity and per check, of FAIL findings.
pub fn summary(findings: &[Finding]) -> Value {
    let mut by_sev = serde_json::Map::new();
    for s in [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info] {
        by_sev.insert(
            s.as_str().into(),
            json!(findings.iter().filter(|f| f.severity == s && f.status == Status::Fail).count()),
        );
    }
    let mut by_check = serde_json::Map::new();
    for c in CHECKS {
        let n = findings.iter().filter(|f| f.check == c.id && f.status == Status::Fail).count();
        if n > 0 {
            by_check.insert(c.id.to_string(), json!(n));
        }
    }
    json!({"findings": findings.iter().filter(|f| f.status == Status::Fail).count(), "muted": findings.iter().filter(|f| f.status == Status::Muted).count(), "by_severity": by_sev, "by_check": by_check})
}

/// The columns of the people-facing forms (table, markdown, text).
pub const COLUMNS: [&str; 6] = ["Severity", "Check", "Account", "User", "Key", "Finding"];

/// [`COLUMNS`], and `Usage` with `--usage`.
pub fn columns(usage: bool) -> Vec<&'static str> {
    let mut c = COLUMNS.to_vec();
    if usage {
        c.push("Usage");
    }
    c
}

/// FAIL findings, most severe first, as rows of [`columns`].
pub fn rows(findings: &[Finding], usage: bool) -> Vec<Vec<String>> {
    sorted(findings)
        .into_iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| {
            let mut row = vec![
                f.severity.as_str().to_string(),
                f.check.to_string(),
                f.account.clone(),
                f.user.clone(),
                f.key.clone().unwrap_or_default(),
                f.detail.clone(),
            ];
            if usage {
                row.push(f.usage.as_ref().map(usage::Usage::line).unwrap_or_else(|| "-".into()));
            }
            row
        })
        .collect()
}

/// The table (FAIL findings; muted ones counted below it), and with `--usage` the usage of every
/// key looked up.
pub fn table(findings: &[Finding], usage: Option<&[KeyUsage]>) -> String {
    let mut rows = rows(findings, usage.is_some());
    for r in &mut rows {
        r[0] = r[0].to_uppercase();
    }
    let muted = findings.iter().filter(|f| f.status == Status::Muted).count();
    let mut out = if rows.is_empty() {
        "No findings.".to_string()
    } else {
        shared::output::table(&columns(usage.is_some()), &rows)
    };
    if muted > 0 {
        out.push_str(&format!("\n{muted} finding{} muted by the ignore file.", if muted == 1 { "" } else { "s" }));
    }
    if let Some(all) = usage {
        out.push_str("\n\nWhere the active keys were used from (CloudTrail event history):\n");
        out.push_str(&if all.is_empty() {
            "No active keys.".to_string()
        } else {
            shared::output::table(&usage::COLUMNS, &usage::rows(all))
        });
    }
    out
}

/// CSV with a header row (the shared writer: RFC 4180, formulas neutralised); with `--usage`
/// a last `usage` column.
pub fn csv(findings: &[Finding], usage: bool) -> Result<String, String> {
    let rows: Vec<Vec<String>> = sorted(findings)
        .into_iter()
        .map(|f| {
            let mut row = vec![
                f.id.clone(),
                f.severity.as_str().to_string(),
                f.check.to_string(),
                f.status.as_str().to_string(),
                f.account.clone(),
                f.user.clone(),
                f.arn.clone(),
                f.key.clone().unwrap_or_default(),
                f.title.to_string(),
                f.detail.clone(),
                f.suppressed_because.clone().unwrap_or_default(),
            ];
            if usage {
                row.push(f.usage.as_ref().map(usage::Usage::line).unwrap_or_default());
            }
            row
        })
        .collect();
    let mut headers = vec![
        "id",
        "severity",
        "check",
        "status",
        "account",
        "user",
        "arn",
        "key",
        "title",
        "detail",
        "suppressed_because",
    ];
    if usage {
        headers.push("usage");
    }
    shared::output::csv(&headers, &rows).map_err(|e| e.to_string())
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// SARIF 2.1.0.
pub fn sarif(findings: &[Finding], version: &str) -> Value {
    let rules: Vec<Value> = CHECKS
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "name": c.id.as_str().split('-').skip(1).map(|w| { let mut cs = w.chars(); cs.next().map(|f| f.to_uppercase().collect::<String>() + &cs.as_str().to_lowercase()).unwrap_or_default() }).collect::<String>(),
                "shortDescription": {"text": c.title},
                "fullDescription": {"text": c.title},
                "help": {"text": c.remediation},
                "defaultConfiguration": {"level": level(c.severity)},
                "properties": {"security-severity": security_severity(c.severity), "tags": ["security", "aws", "iam"]},
            })
        })
        .collect();
    let results: Vec<Value> = sorted(findings)
        .into_iter()
        .map(|f| {
            let mut r = json!({
                "ruleId": f.check,
                "ruleIndex": CHECKS.iter().position(|c| c.id == f.check).unwrap_or(0),
                "level": level(f.severity),
                "message": {"text": format!("{}: {} ({}{})", f.title, f.detail, f.user, f.key.as_ref().map(|k| format!(", {k}")).unwrap_or_default())},
                "locations": [{"logicalLocations": [{"name": f.key.clone().unwrap_or_else(|| f.user.clone()), "fullyQualifiedName": f.arn, "kind": "resource"}]}],
                "partialFingerprints": {"findingId/v1": f.id},
                "properties": {"account": f.account, "user": f.user, "severity": f.severity.as_str()},
            });
            if let Some(u) = &f.usage {
                r["properties"]["usage"] = serde_json::to_value(u).unwrap_or_default();
            }
            if let Some(reason) = &f.suppressed_because {
                r["suppressions"] = json!([{"kind": "external", "justification": reason}]);
            }
            r
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "aws-keyaudit", "version": version, "informationUri": "https://example.invalid/aws-companions", "rules": rules}},
            "results": results,
        }]
    })
}

/// Markdown (the shared table writer: cells cannot break out of their row).
pub fn markdown(findings: &[Finding], accounts: &[Value], usage: Option<&[KeyUsage]>) -> String {
    let mut out = String::from("# aws-keyaudit report\n\n");
    for a in accounts {
        out.push_str(&format!(
            "- Account {}: {} users, {} keys; credential report generated {}\n",
            shared::text::clean(a["id"].as_str().unwrap_or("?")),
            a["users"],
            a["keys"],
            shared::text::clean(a["credential_report_generated"].as_str().unwrap_or("unknown"))
        ));
    }
    out.push('\n');
    out.push_str(&shared::output::markdown(&columns(usage.is_some()), &rows(findings, usage.is_some())));
    if let Some(all) = usage {
        out.push_str("\n## Where the active keys were used from (CloudTrail event history)\n\n");
        out.push_str(&shared::output::markdown(&usage::COLUMNS, &usage::rows(all)));
    }
    out
}
