//! Generated profiles and the marked block each sso-session's profiles live in. Pure functions:
//! names from a template (sanitised, collisions resolved deterministically), and the merge of a
//! new listing into the existing block (added, updated, removed with --prune, unchanged).

use std::collections::{BTreeMap, BTreeSet};

use shared::config::doc::{self, Document, LineKind, ValueError};

/// One account+role as the portal lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Account id.
    pub account_id: String,
    /// Account name.
    pub account_name: String,
    /// Account e-mail.
    pub email: String,
    /// Role (permission set) name.
    pub role_name: String,
}

/// A profile in a block.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// Profile name.
    pub name: String,
    /// Account id.
    pub account_id: String,
    /// Role name.
    pub role_name: String,
    /// Every setting, in the order written.
    pub settings: Vec<(String, String)>,
}

/// The markers around a session's block.
pub fn markers(session: &str) -> (String, String) {
    (format!("# >>> aws-sso-sync sso-session {session} >>>"), format!("# <<< aws-sso-sync sso-session {session} <<<"))
}

/// Template variables.
pub const VARIABLES: [&str; 6] = ["account_id", "account_name", "role_name", "sso_session", "region", "email"];

/// Checks a template: every `{name}` is a known variable.
pub fn check_template(template: &str) -> Result<(), String> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').ok_or_else(|| format!("template `{template}` has an unclosed `{{`"))? + open;
        let var = &rest[open + 1..close];
        if !VARIABLES.contains(&var) {
            return Err(format!(
                "template `{template}` uses `{{{var}}}`; the variables are {}",
                VARIABLES.map(|v| format!("{{{v}}}")).join(", ")
            ));
        }
        rest = &rest[close + 1..];
    }
    Ok(())
}

/// Fills a template.
pub fn render(template: &str, a: &Assignment, session: &str, region: &str) -> String {
    template
        .replace("{account_id}", &a.account_id)
        .replace("{account_name}", &a.account_name)
        .replace("{role_name}", &a.role_name)
        .replace("{sso_session}", session)
        .replace("{region}", region)
        .replace("{email}", &a.email)
}

/// A profile name safe in `[profile NAME]` and on a command line: letters, digits and `._-@+`;
/// anything else becomes `-`, runs of `-` collapse.
pub fn sanitize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() || "._-@+".contains(c) { c } else { '-' };
        if c == '-' && out.ends_with('-') {
            continue;
        }
        out.push(c);
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() { "profile".into() } else { out }
}

/// Entries for a listing: names from the template; a name already `taken` (hand-written or
/// another session's) or generated twice gets `-<account_id>`, then `-2`, `-3`... in the order of
/// (account id, role), so the result never depends on listing order.
pub fn entries(
    listing: &[Assignment],
    template: &str,
    session: &str,
    region: &str,
    output: Option<&str>,
    taken: &BTreeSet<String>,
) -> Vec<Entry> {
    let mut sorted: Vec<&Assignment> = listing.iter().collect();
    sorted.sort_by(|a, b| (&a.account_id, &a.role_name).cmp(&(&b.account_id, &b.role_name)));
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for a in &sorted {
        *counts.entry(sanitize(&render(template, a, session, region))).or_default() += 1;
    }
    let mut out = Vec::new();
    for a in sorted {
        let base = sanitize(&render(template, a, session, region));
        let mut name =
            if counts[&base] > 1 || taken.contains(&base) { format!("{base}-{}", a.account_id) } else { base.clone() };
        let mut n = 2;
        while used.contains(&name) || taken.contains(&name) {
            name = format!("{base}-{}-{n}", a.account_id);
            n += 1;
        }
        used.insert(name.clone());
        let mut settings = vec![
            ("sso_session".to_string(), session.to_string()),
            ("sso_account_id".to_string(), a.account_id.clone()),
            ("sso_role_name".to_string(), a.role_name.clone()),
            ("region".to_string(), region.to_string()),
        ];
        if let Some(o) = output {
            settings.push(("output".into(), o.into()));
        }
        out.push(Entry { name, account_id: a.account_id.clone(), role_name: a.role_name.clone(), settings });
    }
    out
}

/// Checks what of a portal answer is written as a value (`sso_account_id`, `sso_role_name`):
/// names from the portal are data and must read back exactly. (Account names and e-mails only
/// reach profile names through [`sanitize`].)
pub fn check_assignment(a: &Assignment) -> Result<(), ValueError> {
    doc::check_value(&format!("the account id of `{}`", shared::text::clip(&a.account_name)), &a.account_id)?;
    doc::check_value(&format!("the role name in account {}", shared::text::clip(&a.account_id)), &a.role_name)
}

/// Whether a listing looks wrong next to the block it would prune: no accounts at all, or fewer
/// than half of the accounts the block has (a portal outage or a wrong filter, not a reorg).
pub fn suspect_shrink(existing: &[Entry], listing: &[Assignment]) -> bool {
    let before: BTreeSet<&str> = existing.iter().map(|e| e.account_id.as_str()).collect();
    let now: BTreeSet<&str> = listing.iter().map(|a| a.account_id.as_str()).collect();
    !before.is_empty() && (now.is_empty() || now.len() * 2 < before.len())
}

/// The entries of an existing block's text.
pub fn parse_block(text: &str) -> Vec<Entry> {
    let doc = Document::parse(text);
    doc.sections()
        .into_iter()
        .filter_map(|s| {
            let name = s.name.strip_prefix("profile ")?.trim().to_string();
            let settings: Vec<(String, String)> = doc.properties(s.body).into_iter().map(|(k, v, _)| (k, v)).collect();
            let get = |k: &str| settings.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone()).unwrap_or_default();
            Some(Entry { account_id: get("sso_account_id"), role_name: get("sso_role_name"), name, settings })
        })
        .collect()
}

/// What a sync changed in one block.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// New profiles.
    pub added: Vec<String>,
    /// Profiles whose name or settings changed.
    pub updated: Vec<String>,
    /// Profiles removed by --prune.
    pub removed: Vec<String>,
    /// Profiles kept as they were.
    pub unchanged: usize,
    /// Names left alone because a hand-written profile has them.
    pub skipped_hand_written: Vec<String>,
}

/// Merges a fresh listing into an existing block: entries keyed by (account, role); vanished ones
/// stay unless `prune`. Linear in the size of both (hash lookups): a 50,000-profile block merges
/// in milliseconds.
pub fn merge(existing: &[Entry], fresh: Vec<Entry>, prune: bool) -> (Vec<Entry>, Summary) {
    use std::collections::{HashMap, HashSet};
    let mut summary = Summary::default();
    let by_key: HashMap<(&str, &str), &Entry> =
        existing.iter().map(|e| ((e.account_id.as_str(), e.role_name.as_str()), e)).collect();
    let mut out: Vec<Entry> = Vec::with_capacity(fresh.len().max(existing.len()));
    let mut fresh_keys: HashSet<(String, String)> = HashSet::with_capacity(fresh.len());
    let mut names: HashSet<String> = HashSet::with_capacity(fresh.len());
    for e in fresh {
        match by_key.get(&(e.account_id.as_str(), e.role_name.as_str())) {
            Some(old) if **old == e => summary.unchanged += 1,
            Some(_) => summary.updated.push(e.name.clone()),
            None => summary.added.push(e.name.clone()),
        }
        fresh_keys.insert((e.account_id.clone(), e.role_name.clone()));
        names.insert(e.name.clone());
        out.push(e);
    }
    for old in existing {
        if fresh_keys.contains(&(old.account_id.clone(), old.role_name.clone())) {
            continue;
        }
        if prune {
            summary.removed.push(old.name.clone());
        } else if names.insert(old.name.clone()) {
            summary.unchanged += 1;
            out.push(old.clone());
        }
    }
    out.sort_unstable_by(|a, b| a.name.cmp(&b.name).then_with(|| a.cmp(b)));
    (out, summary)
}

/// The block's text: markers, a note, then the profiles sorted by name.
pub fn block_text(session: &str, entries: &[Entry], newline: &str) -> String {
    let (begin, end) = markers(session);
    let mut out = format!(
        "{begin}{newline}# Generated by aws-sso-sync from [sso-session {session}]; changes inside this block are replaced.{newline}"
    );
    for e in entries {
        out.push_str(&format!("[profile {}]{newline}", e.name));
        for (k, v) in &e.settings {
            out.push_str(&format!("{k} = {v}{newline}"));
        }
    }
    out.push_str(&end);
    out.push_str(newline);
    out
}

/// Profile names defined outside every aws-sso-sync block (hand-written), in a config document.
pub fn hand_written_profiles(doc: &Document) -> BTreeSet<String> {
    let mut inside = vec![false; doc.lines().len()];
    let mut in_block = false;
    for (i, l) in doc.lines().iter().enumerate() {
        let t = l.raw().trim();
        if t.starts_with("# >>> aws-sso-sync sso-session ") {
            in_block = true;
        }
        inside[i] = in_block;
        if t.starts_with("# <<< aws-sso-sync sso-session ") {
            in_block = false;
        }
    }
    doc.sections()
        .into_iter()
        .filter(|s| !inside[s.header])
        .filter_map(|s| match doc.lines()[s.header].kind() {
            LineKind::Section { name } if name == "default" => Some("default".to_string()),
            LineKind::Section { name } => name.strip_prefix("profile ").map(|n| n.trim().trim_matches('"').to_string()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(id: &str, name: &str, role: &str) -> Assignment {
        Assignment {
            account_id: id.into(),
            account_name: name.into(),
            email: format!("{name}@x"),
            role_name: role.into(),
        }
    }

    #[test]
    fn names_are_sanitised_and_collisions_deterministic() {
        assert_eq!(sanitize("My Account (prod)/Admin"), "My-Account-prod-Admin");
        assert_eq!(sanitize("]]]"), "profile");
        let listing = vec![a("2", "dev", "Admin"), a("1", "dev", "Admin"), a("3", "ops", "Admin")];
        let taken: BTreeSet<String> = ["ops.Admin".to_string()].into();
        let e = entries(&listing, "{account_name}.{role_name}", "s", "r", None, &taken);
        let names: Vec<_> = e.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, ["dev.Admin-1", "dev.Admin-2", "ops.Admin-3"]);
        let mut rev = listing.clone();
        rev.reverse();
        assert_eq!(
            entries(&rev, "{account_name}.{role_name}", "s", "r", None, &taken),
            e,
            "listing order does not matter"
        );
    }

    #[test]
    fn hostile_portal_values_are_refused_and_shrinks_are_suspect() {
        let mut bad = a("1", "x", "Admin\n[profile evil]\ncredential_process = sh -c id");
        assert!(check_assignment(&bad).is_err());
        bad.role_name = "Admin".into();
        assert!(check_assignment(&bad).is_ok());
        bad.account_id = "1\u{1b}[2J".into();
        assert!(check_assignment(&bad).is_err());
        let old = entries(
            &[a("1", "a", "R"), a("2", "b", "R"), a("3", "c", "R")],
            "{account_id}",
            "s",
            "r",
            None,
            &BTreeSet::new(),
        );
        assert!(suspect_shrink(&old, &[]));
        assert!(suspect_shrink(&old, &[a("1", "a", "R")]));
        assert!(!suspect_shrink(&old, &[a("1", "a", "R"), a("2", "b", "R")]));
        assert!(!suspect_shrink(&[], &[]));
    }

    #[test]
    fn merging_fifty_thousand_profiles_is_linear() {
        // Not a timed test: at this size the old pairwise merge took minutes; this one must
        // simply finish, and agree with a small merge's counts.
        let listing: Vec<Assignment> = (0..10_000)
            .flat_map(|i| (0..5).map(move |r| a(&format!("{i:012}"), &format!("acct{i}"), &format!("Role{r}"))))
            .collect();
        let old = entries(&listing[..40_000], "{account_name}.{role_name}", "s", "r", None, &BTreeSet::new());
        let fresh = entries(&listing[10_000..], "{account_name}.{role_name}", "s", "r", None, &BTreeSet::new());
        let (kept, s) = merge(&old, fresh.clone(), false);
        assert_eq!((s.added.len(), s.unchanged), (10_000, 40_000));
        assert_eq!(kept.len(), 50_000);
        let (pruned, s) = merge(&old, fresh, true);
        assert_eq!((s.removed.len(), pruned.len()), (10_000, 40_000));
    }

    #[test]
    fn templates_are_checked() {
        assert!(check_template("{account_name}.{role_name}").is_ok());
        assert!(check_template("{sso_session}-{account_id}-{email}-{region}").is_ok());
        assert!(check_template("{acount}").unwrap_err().contains("{account_id}"));
        assert!(check_template("{account_id").is_err());
    }

    #[test]
    fn merge_counts_and_prunes() {
        let old = entries(
            &[a("1", "a", "R"), a("2", "b", "R")],
            "{account_name}.{role_name}",
            "s",
            "us-east-1",
            None,
            &BTreeSet::new(),
        );
        let fresh = entries(
            &[a("1", "a", "R"), a("3", "c", "R")],
            "{account_name}.{role_name}",
            "s",
            "eu-west-1",
            None,
            &BTreeSet::new(),
        );
        let (kept, s) = merge(&old, fresh.clone(), false);
        assert_eq!((s.added.len(), s.updated.len(), s.removed.len(), s.unchanged), (1, 1, 0, 1));
        assert_eq!(kept.len(), 3);
        let (pruned, s) = merge(&old, fresh, true);
        assert_eq!(s.removed, ["b.R"]);
        assert_eq!(pruned.len(), 2);
        let text = block_text("s", &pruned, "\n");
        assert_eq!(parse_block(&text), pruned, "a block parses back to its entries");
    }
}
