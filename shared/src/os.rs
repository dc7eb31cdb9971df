//! The process environment and the clock, injected so that resolution, cache expiry and token
//! refresh are testable without touching the real environment or sleeping. The file system is
//! not abstracted: tests use real temporary directories, which also exercises permissions,
//! renames and locks for real.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use time::OffsetDateTime;

/// A snapshot of environment variables.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// The real process environment (variables that are not UTF-8 are skipped).
    #[allow(clippy::disallowed_methods)] // The one place that reads it.
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// An environment made of these pairs (tests).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Self { vars: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    /// A variable's value; empty values count as unset, as in the AWS CLI.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// Whether a boolean-ish variable is on (`1`, `true`, `yes`, any case).
    pub fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
    }

    /// Sets a variable (tests and callers that layer overrides).
    pub fn set(&mut self, name: &str, value: &str) {
        self.vars.insert(name.into(), value.into());
    }

    /// Removes a variable.
    pub fn remove(&mut self, name: &str) {
        self.vars.remove(name);
    }

    /// The home directory: `HOME` (or `USERPROFILE` on Windows).
    pub fn home(&self) -> Option<PathBuf> {
        self.get("HOME").or_else(|| self.get("USERPROFILE")).map(PathBuf::from)
    }

    /// Expands a leading `~` and `$VAR` / `${VAR}` as the AWS CLI does for file paths.
    pub fn expand_path(&self, path: &str) -> PathBuf {
        let mut out = String::new();
        let mut rest = path;
        if let Some(after) = rest.strip_prefix('~')
            && (after.is_empty() || after.starts_with('/'))
            && let Some(home) = self.home()
        {
            out.push_str(&home.to_string_lossy());
            rest = after;
        }
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c != '$' {
                out.push(c);
                continue;
            }
            let tail = &rest[i + 1..];
            let (name, skip) = if let Some(inner) = tail.strip_prefix('{') {
                match inner.find('}') {
                    Some(end) => (&inner[..end], end + 2),
                    None => ("", 0),
                }
            } else {
                let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tail.len());
                (&tail[..end], end)
            };
            match (name.is_empty(), self.vars.get(name)) {
                (false, Some(v)) => {
                    out.push_str(v);
                    for _ in 0..tail[..skip].chars().count() {
                        chars.next();
                    }
                }
                _ => out.push('$'),
            }
        }
        PathBuf::from(out)
    }

    /// The variables as `OsString` pairs (for child processes).
    pub fn pairs(&self) -> impl Iterator<Item = (OsString, OsString)> + '_ {
        self.vars.iter().map(|(k, v)| (OsString::from(k), OsString::from(v)))
    }
}

/// Whether a browser can be opened here.
pub fn has_display(env: &Env) -> bool {
    env.get("BROWSER").is_some()
        || cfg!(target_os = "macos")
        || cfg!(windows)
        || env.get("DISPLAY").is_some()
        || env.get("WAYLAND_DISPLAY").is_some()
}

/// Opens `url` in a browser: `$BROWSER` (split with shell rules, the URL appended), else
/// xdg-open / open / wslview. Returns false when none could be started.
pub fn open_browser(env: &Env, url: &str) -> bool {
    let argv: Vec<String> = match env.get("BROWSER").and_then(shlex::split) {
        Some(a) if !a.is_empty() => a,
        _ => match ["xdg-open", "open", "wslview"].iter().find_map(|c| which::which(c).ok()) {
            Some(p) => vec![p.to_string_lossy().into_owned()],
            None => return false,
        },
    };
    std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}

/// RFC 3986 percent-encoding of everything but unreserved characters (query values, redirects).
pub fn url_encode(s: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

/// Decodes a form/query value (`+` is a space, `%XX` a byte); None when the bytes are not UTF-8.
/// A `%` not followed by two hex digits is kept as it is.
pub fn url_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8().ok().map(|c| c.into_owned())
}

/// Where time comes from.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // The one place that reads it.
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock stopped at one instant (tests).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_path_like_the_aws_cli() {
        let env = Env::from_pairs([("HOME", "/home/u"), ("X", "xx")]);
        assert_eq!(env.expand_path("~/.aws/config"), PathBuf::from("/home/u/.aws/config"));
        assert_eq!(env.expand_path("$HOME/a/${X}/b"), PathBuf::from("/home/u/a/xx/b"));
        assert_eq!(env.expand_path("/a/$UNSET/b"), PathBuf::from("/a/$UNSET/b"));
        assert_eq!(env.expand_path("~user/x"), PathBuf::from("~user/x"));
    }

    #[test]
    fn url_coding() {
        assert_eq!(url_encode("http://127.0.0.1:5/oauth/callback"), "http%3A%2F%2F127.0.0.1%3A5%2Foauth%2Fcallback");
        assert_eq!(url_decode("a%20b+c%2Fd%zz").as_deref(), Some("a b c/d%zz"));
        assert_eq!(url_decode("%ff"), None);
    }

    #[test]
    fn empty_is_unset_and_flags() {
        let env = Env::from_pairs([("A", ""), ("B", "TRUE"), ("C", "0")]);
        assert_eq!(env.get("A"), None);
        assert!(env.flag("B") && !env.flag("C") && !env.flag("A"));
    }
}
