//! Which accounts and roles become profiles. Globs (`*`, `?`, `[...]`, case-insensitive, through
//! `globset`) on the account (its id or its name) and on the role name:
//! `--include-account`, `--exclude-account`, `--include-role`, `--exclude-role`, each repeatable.
//! An assignment is kept when it matches some include of each kind given (none given: all) and
//! no exclude. Filters can be stored in the `[sso-session]` section
//! (`aws_sso_sync_include_accounts = prod-*, 1234*`, ...) so a plain `aws-sso-sync` keeps them;
//! filters on the command line replace the stored ones for that run.
//!
//! Every profile in `~/.aws/config` costs every `aws` command parse time (about +0.4 s per call at
//! 10,000 profiles, measured with awscli v1): filters keep the file to the accounts people use.

use globset::{Glob, GlobBuilder, GlobMatcher};
use shared::config::SsoSession;

use crate::profiles::Assignment;

/// The config keys filters are stored under, and their flags.
pub const KEYS: [(&str, &str); 4] = [
    ("aws_sso_sync_include_accounts", "--include-account"),
    ("aws_sso_sync_exclude_accounts", "--exclude-account"),
    ("aws_sso_sync_include_roles", "--include-role"),
    ("aws_sso_sync_exclude_roles", "--exclude-role"),
];

/// The filter patterns, as given (flags or config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patterns {
    /// Accounts (id or name) to keep.
    pub include_accounts: Vec<String>,
    /// Accounts (id or name) to drop.
    pub exclude_accounts: Vec<String>,
    /// Role names to keep.
    pub include_roles: Vec<String>,
    /// Role names to drop.
    pub exclude_roles: Vec<String>,
}

impl Patterns {
    /// No pattern at all.
    pub fn is_empty(&self) -> bool {
        self.lists().iter().all(|l| l.is_empty())
    }

    fn lists(&self) -> [&Vec<String>; 4] {
        [&self.include_accounts, &self.exclude_accounts, &self.include_roles, &self.exclude_roles]
    }

    /// The patterns stored in an `[sso-session]` section.
    pub fn stored(s: &SsoSession) -> Patterns {
        let list = |k: &str| -> Vec<String> {
            s.get(k)
                .map(|v| v.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect())
                .unwrap_or_default()
        };
        Patterns {
            include_accounts: list(KEYS[0].0),
            exclude_accounts: list(KEYS[1].0),
            include_roles: list(KEYS[2].0),
            exclude_roles: list(KEYS[3].0),
        }
    }

    /// (config key, value) pairs to store; an empty list stores nothing (the key is removed).
    pub fn to_settings(&self) -> Vec<(&'static str, String)> {
        KEYS.iter().zip(self.lists()).map(|((k, _), l)| (*k, l.join(","))).collect()
    }

    /// Human-readable, for summaries: `--include-account prod-* --exclude-role Admin*`.
    pub fn describe(&self) -> String {
        KEYS.iter()
            .zip(self.lists())
            .flat_map(|((_, flag), l)| l.iter().map(move |p| format!("{flag} {p}")))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn matcher(pattern: &str) -> Result<GlobMatcher, String> {
    GlobBuilder::new(pattern)
        .case_insensitive(true)
        .literal_separator(false)
        .build()
        .map(|g: Glob| g.compile_matcher())
        .map_err(|e| format!("`{}` is not a valid pattern: {e}", shared::text::clip(pattern)))
}

/// Compiled patterns.
#[derive(Debug)]
pub struct Filter {
    include_accounts: Vec<GlobMatcher>,
    exclude_accounts: Vec<GlobMatcher>,
    include_roles: Vec<GlobMatcher>,
    exclude_roles: Vec<GlobMatcher>,
}

impl Filter {
    /// Compiles the patterns (a bad one is a usage error naming it).
    pub fn new(p: &Patterns) -> Result<Filter, String> {
        let all = |l: &Vec<String>| l.iter().map(|x| matcher(x)).collect::<Result<Vec<_>, _>>();
        Ok(Filter {
            include_accounts: all(&p.include_accounts)?,
            exclude_accounts: all(&p.exclude_accounts)?,
            include_roles: all(&p.include_roles)?,
            exclude_roles: all(&p.exclude_roles)?,
        })
    }

    /// Whether an assignment becomes a profile.
    pub fn keeps(&self, a: &Assignment) -> bool {
        let account = |m: &GlobMatcher| m.is_match(&a.account_id) || m.is_match(&a.account_name);
        let role = |m: &GlobMatcher| m.is_match(&a.role_name);
        (self.include_accounts.is_empty() || self.include_accounts.iter().any(account))
            && (self.include_roles.is_empty() || self.include_roles.iter().any(role))
            && !self.exclude_accounts.iter().any(account)
            && !self.exclude_roles.iter().any(role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(id: &str, name: &str, role: &str) -> Assignment {
        Assignment { account_id: id.into(), account_name: name.into(), email: String::new(), role_name: role.into() }
    }

    #[test]
    fn includes_and_excludes_on_accounts_and_roles() {
        let listing = [
            a("111111111111", "prod-eu", "Admin"),
            a("111111111111", "prod-eu", "ReadOnly"),
            a("222222222222", "dev", "Admin"),
            a("333333333333", "Prod-US", "ReadOnly"),
        ];
        let kept = |p: Patterns| {
            let f = Filter::new(&p).unwrap();
            listing
                .iter()
                .filter(|x| f.keeps(x))
                .map(|x| format!("{}/{}", x.account_name, x.role_name))
                .collect::<Vec<_>>()
        };
        assert_eq!(kept(Patterns::default()).len(), 4);
        assert_eq!(
            kept(Patterns { include_accounts: vec!["prod-*".into()], ..Patterns::default() }),
            ["prod-eu/Admin", "prod-eu/ReadOnly", "Prod-US/ReadOnly"],
            "account names, case-insensitive"
        );
        assert_eq!(kept(Patterns { include_accounts: vec!["2222*".into()], ..Patterns::default() }), ["dev/Admin"]);
        assert_eq!(
            kept(Patterns {
                include_accounts: vec!["prod-*".into()],
                exclude_roles: vec!["admin".into()],
                ..Patterns::default()
            }),
            ["prod-eu/ReadOnly", "Prod-US/ReadOnly"]
        );
        assert_eq!(
            kept(Patterns {
                include_roles: vec!["Read*".into()],
                exclude_accounts: vec!["3*".into()],
                ..Patterns::default()
            }),
            ["prod-eu/ReadOnly"]
        );
        assert!(Filter::new(&Patterns { include_roles: vec!["[".into()], ..Patterns::default() }).is_err());
    }

    #[test]
    fn stored_patterns_round_trip() {
        let p = Patterns {
            include_accounts: vec!["prod-*".into(), "1234*".into()],
            exclude_roles: vec!["Admin*".into()],
            ..Patterns::default()
        };
        let settings = p.to_settings();
        assert_eq!(settings[0], ("aws_sso_sync_include_accounts", "prod-*,1234*".to_string()));
        assert_eq!(settings[1].1, "");
        assert_eq!(p.describe(), "--include-account prod-* --include-account 1234* --exclude-role Admin*");
    }
}
