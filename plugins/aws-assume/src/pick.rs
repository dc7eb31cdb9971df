//! The profile picker: `aws-assume` (or `assume`) with no profile on a terminal, or `--pick`.
//! A fuzzy finder (dialoguer's `FuzzySelect`, drawn on stderr, keys read from the terminal, so it
//! works inside `assume`, whose stdout is captured) over every profile: name, account, role, kind
//! and whether a cached session is still valid, the most recently used first. Typing filters,
//! arrows move, Enter picks, Esc cancels (exit 130, nothing printed).
//!
//! It owns the list and the recently-used record (`~/.aws/cli/aws-assume-recent.json`,
//! written like every cache: 0600, atomic, only in a trusted folder); assuming is `lib.rs`'s.

use shared::app::App;
use shared::cache::{self, cli as cli_cache};
use shared::config::Base;
use shared::credentials::{self, Selection};
use shared::error::Error;

/// How many recently used profiles are remembered.
const RECENT: usize = 50;

/// Beside the AWS CLI's caches, not among them: `--clear-cache` leaves it alone.
fn recent_path(app: &App) -> std::path::PathBuf {
    let cache = cache::cli_cache_dir(&app.env);
    cache.parent().unwrap_or(&cache).join("aws-assume-recent.json")
}

/// The recently used profiles, most recent first.
pub fn recent(app: &App) -> Vec<String> {
    cache::read_json(&recent_path(app))
        .and_then(|v| v.get("Profiles").cloned())
        .and_then(|p| serde_json::from_value::<Vec<String>>(p).ok())
        .unwrap_or_default()
}

/// Records `profile` as the most recently used (best effort: a cache problem never fails a run).
pub fn remember(app: &App, profile: &str) {
    let mut list = recent(app);
    list.retain(|p| p != profile);
    list.insert(0, profile.to_string());
    list.truncate(RECENT);
    let _ = cache::write_json(&recent_path(app), &serde_json::json!({ "Profiles": list }));
}

/// `names` with the recently used first (in their recent order), the rest in file order.
pub fn ordered(names: Vec<String>, recent: &[String]) -> Vec<String> {
    let mut out: Vec<String> = recent.iter().filter(|r| names.contains(r)).cloned().collect();
    out.extend(names.into_iter().filter(|n| !recent.contains(n)));
    out
}

/// One line of the list: name, account, role, kind, cached session.
fn line(app: &App, name: &str, width: usize) -> String {
    let ctx = app.context(&app.settings, None);
    let sel = Selection { name: name.to_string(), explicit: true, from_env: false };
    let clean = |s: &str| shared::text::clean(s).into_owned();
    let (account, role, kind, cached) = match credentials::plan_for(&ctx, &sel) {
        Ok(Some(plan)) => {
            let (account, role) = match (plan.hops.last(), &plan.base) {
                (Some(h), _) => {
                    let mut parts = h.role_arn.splitn(6, ':');
                    let account = parts.nth(4).unwrap_or_default().to_string();
                    let role = h.role_arn.rsplit('/').next().unwrap_or_default().to_string();
                    (account, role)
                }
                (None, Base::Sso { account_id, role_name, .. }) => (account_id.clone(), role_name.clone()),
                _ => (String::new(), String::new()),
            };
            let kind = if plan.hops.is_empty() { plan.base.kind() } else { "role" };
            let until = crate::cache_files(&ctx, &plan)
                .first()
                .and_then(|p| cli_cache::read_valid(p, app.clock.now()))
                .and_then(|c| c.credentials.expiration)
                .map(|e| format!("cached until {}", cache::format_z(e)))
                .unwrap_or_default();
            (account, role, kind, until)
        }
        Ok(None) => (String::new(), String::new(), "none", String::new()),
        Err(_) => (String::new(), String::new(), "invalid", String::new()),
    };
    format!("{:<width$}  {account:<12}  {:<24}  {kind:<17}  {cached}", clean(name), clean(&role))
}

/// Opens the picker; Some(profile), or None when cancelled.
pub fn pick(app: &App) -> Result<Option<String>, Error> {
    let names = ordered(app.files.profile_names(), &recent(app));
    if names.is_empty() {
        return Err(Error::usage(
            format!("no profiles in {} or {}", app.files.config_path.display(), app.files.credentials_path.display()),
            Some("run `aws configure --profile NAME` or `aws-sso-sync` to create profiles".into()),
        ));
    }
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0).min(40);
    let items: Vec<String> = names.iter().map(|n| line(app, n, width)).collect();
    let chosen = dialoguer::FuzzySelect::new()
        .with_prompt("Profile (type to filter, Enter to assume, Esc to cancel)")
        .items(&items)
        .default(0)
        .max_length(15)
        .interact_on_opt(&dialoguer::console::Term::stderr())
        .map_err(|e| Error::Io { context: "reading the terminal".into(), source: std::io::Error::other(e) })?;
    Ok(chosen.map(|i| names[i].clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recently_used_come_first_in_their_order() {
        let names = ["a", "b", "c", "d"].map(String::from).to_vec();
        let recent = ["c", "gone", "a"].map(String::from);
        assert_eq!(ordered(names, &recent), ["c", "a", "b", "d"]);
    }
}
