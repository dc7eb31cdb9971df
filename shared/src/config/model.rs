//! Both AWS files read as the AWS CLI (botocore) reads them:
//! - config file sections: `[default]`, `[profile NAME]`, `[sso-session NAME]`, `[services NAME]`,
//!   names split with shell rules (`[profile "my name"]`), as botocore's `_parse_section` does; of
//!   `[default]` and `[profile default]` the later in the file wins, whole;
//! - credentials file sections are profile names verbatim (`[default]`, `[dev]`);
//! - a profile's settings are the config file's, overridden key by key by the credentials file's.
//!
//! The AWS CLI refuses a whole file with a duplicate section, a duplicate key or a malformed line;
//! we report those (file and line) only when they are in a section that is actually used.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::doc::{Document, LineKind, SectionRef};
use crate::env_vars;
use crate::error::ConfigError;
use crate::os::Env;

/// Which of the two files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    /// `~/.aws/config`
    Config,
    /// `~/.aws/credentials`
    Credentials,
}

/// One setting and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The value (a nested block's value starts with `\n`).
    pub value: String,
    /// The file.
    pub file: FileKind,
    /// 1-based line number.
    pub line: usize,
}

/// A profile: the merged settings of its config and credentials sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The profile name.
    pub name: String,
    /// Settings by lower-cased key.
    pub settings: BTreeMap<String, Setting>,
    /// The config file section (path and header line), if any.
    pub config_section: Option<usize>,
    /// The credentials file section header line, if any.
    pub credentials_section: Option<usize>,
}

impl Profile {
    /// A setting's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(|s| s.value.as_str()).filter(|v| !v.is_empty())
    }

    /// A setting's line number.
    pub fn line(&self, key: &str) -> Option<usize> {
        self.settings.get(key).map(|s| s.line)
    }

    /// A setting's file.
    pub fn file(&self, key: &str) -> Option<FileKind> {
        self.settings.get(key).map(|s| s.file)
    }
}

/// An `[sso-session NAME]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSession {
    /// The session name.
    pub name: String,
    /// Its settings.
    pub settings: BTreeMap<String, Setting>,
    /// Header line.
    pub line: usize,
}

impl SsoSession {
    /// A setting's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(|s| s.value.as_str()).filter(|v| !v.is_empty())
    }
}

/// The config and credentials files, loaded.
#[derive(Debug, Clone)]
pub struct AwsFiles {
    /// Path of the config file (it may not exist).
    pub config_path: PathBuf,
    /// Path of the credentials file (it may not exist).
    pub credentials_path: PathBuf,
    /// The config file, when it exists.
    pub config: Option<Document>,
    /// The credentials file, when it exists.
    pub credentials: Option<Document>,
    /// Sections by name, built once on first use: lookups stay O(1) in a 10,000-profile file.
    index: std::sync::OnceLock<Index>,
}

/// Where each named section is, per file.
#[derive(Debug, Clone, Default)]
struct Index {
    /// Config profiles (the later of duplicates / `[default]` vs `[profile default]`), in order.
    profiles: std::collections::HashMap<String, SectionRef>,
    profile_order: Vec<String>,
    sessions: std::collections::HashMap<String, SectionRef>,
    session_order: Vec<String>,
    services: std::collections::HashMap<String, SectionRef>,
    credentials: std::collections::HashMap<String, SectionRef>,
    credential_order: Vec<String>,
    /// Header lines of every raw section name, per file (to report duplicates).
    config_headers: std::collections::HashMap<String, Vec<usize>>,
    credential_headers: std::collections::HashMap<String, Vec<usize>>,
}

impl Index {
    fn build(config: Option<&Document>, credentials: Option<&Document>) -> Self {
        let mut ix = Index::default();
        for s in config.map(Document::sections).unwrap_or_default() {
            ix.config_headers.entry(s.name.clone()).or_default().push(s.header);
            match classify(&s.name) {
                ConfigSection::Profile(n) => {
                    if ix.profiles.insert(n.clone(), s).is_none() {
                        ix.profile_order.push(n);
                    }
                }
                ConfigSection::SsoSession(n) => {
                    if ix.sessions.insert(n.clone(), s).is_none() {
                        ix.session_order.push(n);
                    }
                }
                ConfigSection::Services(n) => {
                    ix.services.insert(n, s);
                }
                ConfigSection::Other => {}
            }
        }
        for s in credentials.map(Document::sections).unwrap_or_default() {
            ix.credential_headers.entry(s.name.clone()).or_default().push(s.header);
            let n = s.name.clone();
            if ix.credentials.insert(n.clone(), s).is_none() {
                ix.credential_order.push(n);
            }
        }
        ix
    }
}

/// Where the files are: AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE, else `~/.aws/`.
pub fn default_paths(env: &Env) -> (PathBuf, PathBuf) {
    let home = env.home().unwrap_or_else(|| PathBuf::from("."));
    let config = env
        .get(env_vars::AWS_CONFIG_FILE)
        .map(|p| env.expand_path(p))
        .unwrap_or_else(|| home.join(".aws").join("config"));
    let credentials = env
        .get(env_vars::AWS_SHARED_CREDENTIALS_FILE)
        .map(|p| env.expand_path(p))
        .unwrap_or_else(|| home.join(".aws").join("credentials"));
    (config, credentials)
}

/// Reads a file as a document; a missing file is None.
pub fn read_document(path: &Path) -> Result<Option<Document>, ConfigError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => {
            return Err(ConfigError::Read { path: path.into(), source: e });
        }
        Err(e) => return Err(ConfigError::Read { path: path.into(), source: e }),
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Some(Document::parse(&text))),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
            Err(ConfigError::NotUtf8 { path: path.into(), line })
        }
    }
}

/// botocore parses a whole file before using any of it, and refuses it (ConfigParseError) for a
/// byte-order mark, an unclosed `[default`, or a setting before the first section: lines that
/// hide whole profiles. Reading on would silently find no profile there ("no credentials"), so
/// these are refused wherever they are, naming the line. (Other malformed lines are reported when
/// the section holding them is used; see `check_section`.)
fn refuse_hiding_lines(doc: &Document, path: &Path) -> Result<(), ConfigError> {
    let first_header =
        doc.lines().iter().position(|l| matches!(l.kind(), LineKind::Section { .. })).unwrap_or(doc.lines().len());
    for (i, l) in doc.lines().iter().enumerate() {
        let hides = i < first_header || l.raw().trim_start().starts_with('[');
        if let LineKind::Malformed { reason } = l.kind()
            && hides
        {
            let message = if i == 0 && l.raw().starts_with('\u{feff}') {
                "the file starts with a byte-order mark (BOM), which the AWS CLI refuses too".to_string()
            } else if l.raw().trim_start().starts_with('[') {
                format!("an unclosed or empty [section] header; the AWS CLI refuses the whole file ({reason})")
            } else {
                format!("{reason}; the AWS CLI refuses the whole file")
            };
            return Err(ConfigError::Parse { path: path.into(), line: i + 1, message });
        }
    }
    Ok(())
}

/// botocore's `_parse_section`: `profile x` → `x` when the name splits into exactly two words.
fn typed_name(section: &str, prefix: &str) -> Option<String> {
    if !section.starts_with(prefix) {
        return None;
    }
    let parts = shlex::split(section)?;
    (parts.len() == 2).then(|| parts[1].clone())
}

/// What a config-file section is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ConfigSection {
    Profile(String),
    SsoSession(String),
    Services(String),
    Other,
}

fn classify(name: &str) -> ConfigSection {
    if name.starts_with("profile") {
        typed_name(name, "profile").map(ConfigSection::Profile).unwrap_or(ConfigSection::Other)
    } else if name.starts_with("sso-session") {
        typed_name(name, "sso-session").map(ConfigSection::SsoSession).unwrap_or(ConfigSection::Other)
    } else if name.starts_with("services") {
        typed_name(name, "services").map(ConfigSection::Services).unwrap_or(ConfigSection::Other)
    } else if name == "default" {
        ConfigSection::Profile("default".into())
    } else {
        ConfigSection::Other
    }
}

impl AwsFiles {
    /// Loads both files from the paths the environment names.
    pub fn load(env: &Env) -> Result<Self, ConfigError> {
        let (config_path, credentials_path) = default_paths(env);
        Self::load_from(config_path, credentials_path)
    }

    /// Loads both files from these paths.
    pub fn load_from(config_path: PathBuf, credentials_path: PathBuf) -> Result<Self, ConfigError> {
        let config = read_document(&config_path)?;
        let credentials = read_document(&credentials_path)?;

        Ok(Self { config_path, credentials_path, config, credentials, index: std::sync::OnceLock::new() })
    }

    /// Files from text (tests).
    pub fn from_text(config: &str, credentials: &str) -> Self {
        Self {
            config_path: PathBuf::from("config"),
            credentials_path: PathBuf::from("credentials"),
            config: Some(Document::parse(config)),
            credentials: Some(Document::parse(credentials)),
            index: std::sync::OnceLock::new(),
        }
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| Index::build(self.config.as_ref(), self.credentials.as_ref()))
    }

    fn path(&self, kind: FileKind) -> &Path {
        match kind {
            FileKind::Config => &self.config_path,
            FileKind::Credentials => &self.credentials_path,
        }
    }

    /// The config-file section that defines profile `name` (the later of `[default]` /
    /// `[profile default]`, or of duplicates).
    fn config_profile_section(&self, name: &str) -> Option<SectionRef> {
        self.index().profiles.get(name).cloned()
    }

    fn credentials_section(&self, name: &str) -> Option<SectionRef> {
        self.index().credentials.get(name).cloned()
    }

    /// Checks a used section the way the AWS CLI checks the whole file: duplicate headers,
    /// duplicate keys, malformed lines.
    fn check_section(&self, kind: FileKind, s: &SectionRef) -> Result<(), ConfigError> {
        let doc = match kind {
            FileKind::Config => self.config.as_ref(),
            FileKind::Credentials => self.credentials.as_ref(),
        }
        .expect("a section comes from a loaded file");
        let path = self.path(kind).to_path_buf();
        let headers = match kind {
            FileKind::Config => &self.index().config_headers,
            FileKind::Credentials => &self.index().credential_headers,
        };
        if let Some(first) = headers.get(&s.name).and_then(|h| h.iter().find(|h| **h != s.header)) {
            let (a, b) = (first.min(&s.header) + 1, first.max(&s.header) + 1);
            return Err(ConfigError::Parse {
                path,
                line: b,
                message: format!("[{}] is defined twice (lines {a} and {b}); the AWS CLI refuses such a file", s.name),
            });
        }
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for i in s.body.clone() {
            match doc.lines()[i].kind() {
                LineKind::Malformed { reason } => {
                    return Err(ConfigError::Parse {
                        path,
                        line: i + 1,
                        message: format!("in [{}]: {reason}", s.name),
                    });
                }
                LineKind::Property { key, .. } => {
                    if let Some(first) = seen.insert(key, i + 1) {
                        return Err(ConfigError::Parse {
                            path,
                            line: i + 1,
                            message: format!(
                                "`{key}` is set twice in [{}] (lines {first} and {}); the AWS CLI refuses such a file",
                                s.name,
                                i + 1
                            ),
                        });
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn settings_of(doc: &Document, s: &SectionRef, kind: FileKind) -> BTreeMap<String, Setting> {
        doc.properties(s.body.clone())
            .into_iter()
            .map(|(k, value, i)| (k, Setting { value, file: kind, line: i + 1 }))
            .collect()
    }

    /// Whether a profile of this name exists in either file.
    pub fn has_profile(&self, name: &str) -> bool {
        self.config_profile_section(name).is_some() || self.credentials_section(name).is_some()
    }

    /// Every profile name: config-file order first, then credentials-only profiles.
    pub fn profile_names(&self) -> Vec<String> {
        let ix = self.index();
        let mut out = ix.profile_order.clone();
        out.extend(ix.credential_order.iter().filter(|n| !ix.profiles.contains_key(*n)).cloned());
        out
    }

    /// Every sso-session name, in file order.
    pub fn sso_session_names(&self) -> Vec<String> {
        self.index().session_order.clone()
    }

    /// A profile, merged from both files, with its sections checked.
    pub fn profile(&self, name: &str) -> Result<Profile, ConfigError> {
        let cfg = self.config_profile_section(name);
        let cred = self.credentials_section(name);
        if cfg.is_none() && cred.is_none() {
            return Err(ConfigError::ProfileNotFound {
                profile: name.into(),
                config: self.config_path.clone(),
                credentials: self.credentials_path.clone(),
                available: self.profile_names(),
            });
        }
        let mut settings = BTreeMap::new();
        if let (Some(s), Some(doc)) = (&cfg, &self.config) {
            self.check_section(FileKind::Config, s)?;
            settings.extend(Self::settings_of(doc, s, FileKind::Config));
        }
        if let (Some(s), Some(doc)) = (&cred, &self.credentials) {
            self.check_section(FileKind::Credentials, s)?;
            settings.extend(Self::settings_of(doc, s, FileKind::Credentials));
        }
        Ok(Profile {
            name: name.into(),
            settings,
            config_section: cfg.map(|s| s.header + 1),
            credentials_section: cred.map(|s| s.header + 1),
        })
    }

    /// An `[sso-session NAME]` section.
    pub fn sso_session(&self, name: &str) -> Result<Option<SsoSession>, ConfigError> {
        let Some(doc) = &self.config else { return Ok(None) };
        let Some(s) = self.index().sessions.get(name).cloned() else {
            return Ok(None);
        };
        self.check_section(FileKind::Config, &s)?;
        Ok(Some(SsoSession {
            name: name.into(),
            settings: Self::settings_of(doc, &s, FileKind::Config),
            line: s.header + 1,
        }))
    }

    /// A `[services NAME]` section: service id (lower-case, e.g. `sts`) → its nested settings.
    pub fn services(&self, name: &str) -> Result<BTreeMap<String, BTreeMap<String, String>>, ConfigError> {
        let Some(doc) = &self.config else { return Ok(BTreeMap::new()) };
        let Some(s) = self.index().services.get(name).cloned() else {
            return Ok(BTreeMap::new());
        };
        self.check_section(FileKind::Config, &s)?;
        Ok(doc.properties(s.body).into_iter().map(|(k, v, _)| (k, parse_nested(&v))).collect())
    }
}

impl AwsFiles {
    /// Refuses, with file and line, what botocore refuses and what would otherwise hide profiles:
    /// a BOM, an unclosed section header, settings before the first section (in either file).
    /// Every tool that resolves credentials calls it first.
    pub fn check_hiding_lines(&self) -> Result<(), ConfigError> {
        for (doc, path) in [(&self.config, &self.config_path), (&self.credentials, &self.credentials_path)] {
            if let Some(d) = doc {
                refuse_hiding_lines(d, path)?;
            }
        }
        Ok(())
    }

    /// Checks a whole file as the AWS CLI does before using any of it: a setting before the first
    /// section, a malformed line, a duplicate section or key anywhere is an error.
    pub fn check_file(&self, kind: FileKind) -> Result<(), ConfigError> {
        let Some(doc) = (match kind {
            FileKind::Config => self.config.as_ref(),
            FileKind::Credentials => self.credentials.as_ref(),
        }) else {
            return Ok(());
        };
        let first_header =
            doc.lines().iter().position(|l| matches!(l.kind(), LineKind::Section { .. })).unwrap_or(doc.lines().len());
        for (i, l) in doc.lines()[..first_header].iter().enumerate() {
            if let LineKind::Malformed { reason } = l.kind() {
                return Err(ConfigError::Parse {
                    path: self.path(kind).to_path_buf(),
                    line: i + 1,
                    message: reason.clone(),
                });
            }
        }
        for s in doc.sections() {
            self.check_section(kind, &s)?;
        }
        Ok(())
    }

    /// The config file as botocore's `build_profile_map` sees it: `{"profiles", "sso_sessions",
    /// "services"}`, values as strings or (nested blocks) objects. Used to prove compatibility
    /// against botocore itself.
    pub fn botocore_view(&self, kind: FileKind) -> Result<serde_json::Value, ConfigError> {
        use serde_json::{Map, Value};
        self.check_file(kind)?;
        let mut profiles = Map::new();
        let mut sessions = Map::new();
        let mut services = Map::new();
        let doc = match kind {
            FileKind::Config => self.config.as_ref(),
            FileKind::Credentials => self.credentials.as_ref(),
        };
        for s in doc.map(|d| d.sections()).unwrap_or_default() {
            let d = doc.expect("sections come from the document");
            let values: Map<String, Value> = d
                .properties(s.body.clone())
                .into_iter()
                .map(|(k, v, _)| {
                    let value = if v.starts_with('\n') {
                        Value::Object(parse_nested(&v).into_iter().map(|(a, b)| (a, Value::String(b))).collect())
                    } else {
                        Value::String(v)
                    };
                    (k, value)
                })
                .collect();
            if kind == FileKind::Credentials {
                profiles.insert(s.name.clone(), Value::Object(values));
                continue;
            }
            match classify(&s.name) {
                ConfigSection::Profile(n) => {
                    profiles.insert(n, Value::Object(values));
                }
                ConfigSection::SsoSession(n) => {
                    sessions.insert(n, Value::Object(values));
                }
                ConfigSection::Services(n) => {
                    services.insert(n, Value::Object(values));
                }
                ConfigSection::Other => {}
            }
        }
        Ok(serde_json::json!({"profiles": profiles, "sso_sessions": sessions, "services": services}))
    }
}

/// botocore's `_parse_nested`: the lines of a nested block as `key = value` pairs.
pub fn parse_nested(value: &str) -> BTreeMap<String, String> {
    value
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.trim().to_string(), v.trim().to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_names_like_botocore() {
        assert_eq!(classify("profile dev"), ConfigSection::Profile("dev".into()));
        assert_eq!(classify("profile \"my profile\""), ConfigSection::Profile("my profile".into()));
        assert_eq!(classify("profile   spaced"), ConfigSection::Profile("spaced".into()));
        assert_eq!(classify("profiledev"), ConfigSection::Other);
        assert_eq!(classify("profile a b"), ConfigSection::Other);
        assert_eq!(classify("default"), ConfigSection::Profile("default".into()));
        assert_eq!(classify("sso-session corp"), ConfigSection::SsoSession("corp".into()));
        assert_eq!(classify("services local"), ConfigSection::Services("local".into()));
        assert_eq!(classify("preview"), ConfigSection::Other);
    }

    #[test]
    fn credentials_override_config_key_by_key() {
        let files = AwsFiles::from_text(
            "[profile dev]\nregion = eu-west-1\naws_access_key_id = FROMCONFIG\n",
            "[dev]\naws_access_key_id = FROMCREDS\naws_secret_access_key = s\n[profile x]\nregion = r\n",
        );
        let p = files.profile("dev").unwrap();
        assert_eq!(p.get("aws_access_key_id"), Some("FROMCREDS"));
        assert_eq!(p.file("aws_access_key_id"), Some(FileKind::Credentials));
        assert_eq!(p.get("region"), Some("eu-west-1"));
        assert_eq!(files.profile("profile x").unwrap().get("region"), Some("r"), "credentials sections are verbatim");
        assert_eq!(files.profile_names(), ["dev", "profile x"]);
    }

    #[test]
    fn later_of_default_and_profile_default_wins_whole() {
        let files = AwsFiles::from_text("[profile default]\nregion = a\noutput = json\n[default]\nregion = b\n", "");
        let p = files.profile("default").unwrap();
        assert_eq!(p.get("region"), Some("b"));
        assert_eq!(p.get("output"), None);
    }

    #[test]
    fn problems_in_used_sections_name_the_line() {
        let files =
            AwsFiles::from_text("[profile a]\nx = 1\nx = 2\n[profile b]\njunk\n[profile c]\nok = 1\n[profile c]\n", "");
        let e = files.profile("a").unwrap_err().to_string();
        assert!(e.contains("config:3") && e.contains("`x` is set twice"), "{e}");
        let e = files.profile("b").unwrap_err().to_string();
        assert!(e.contains("config:5"), "{e}");
        let e = files.profile("c").unwrap_err().to_string();
        assert!(e.contains("defined twice (lines 6 and 8)"), "{e}");
        let e = files.profile("nope").unwrap_err();
        assert!(matches!(e, ConfigError::ProfileNotFound { .. }));
    }

    #[test]
    fn sso_sessions_and_services() {
        let files = AwsFiles::from_text(
            "[sso-session corp]\nsso_start_url = https://x/start\nsso_region = us-east-1\n[services local]\nsts =\n  endpoint_url = http://127.0.0.1:1\n",
            "",
        );
        assert_eq!(files.sso_session("corp").unwrap().unwrap().get("sso_region"), Some("us-east-1"));
        assert!(files.sso_session("nope").unwrap().is_none());
        assert_eq!(files.services("local").unwrap()["sts"]["endpoint_url"], "http://127.0.0.1:1");
        assert_eq!(files.sso_session_names(), ["corp"]);
    }
}
