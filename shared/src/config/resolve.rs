//! A profile turned into a plan: one base credential source plus the role hops assumed from it,
//! following the AWS CLI's (botocore's) rules:
//! - a profile with `role_arn` (and no `web_identity_token_file`) is a hop; its credentials come
//!   from `source_profile` or `credential_source` (exactly one of them);
//! - a source profile with static keys gives those keys (its own `role_arn` is then ignored: the
//!   "source_profile = itself" pattern); with `role_arn` and no keys it is another hop; otherwise
//!   its own non-role source (web identity, SSO, process) is used;
//! - without `role_arn`: web identity, then SSO, then credentials-file keys, then
//!   `credential_process`, then config-file keys;
//! - a `source_profile` loop is an error naming the cycle (a profile may name itself only when it
//!   has static keys).

use std::path::PathBuf;

use super::model::{AwsFiles, FileKind, Profile};
use crate::error::ConfigError;
use crate::os::Env;

/// `credential_source` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSourceKind {
    /// `Environment`: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
    Environment,
    /// `Ec2InstanceMetadata`: IMDS.
    Ec2InstanceMetadata,
    /// `EcsContainer`: the container credentials endpoint.
    EcsContainer,
}

/// Where the first credentials of a plan come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// Static keys in a profile.
    StaticKeys {
        /// The profile holding them.
        profile: String,
        /// Which file.
        file: FileKind,
        /// `aws_access_key_id`
        access_key_id: String,
        /// `aws_secret_access_key`
        secret_access_key: crate::secret::Secret,
        /// `aws_session_token`
        session_token: Option<crate::secret::Secret>,
    },
    /// IAM Identity Center.
    Sso {
        /// The profile.
        profile: String,
        /// `sso_session`, when the profile uses one (else legacy `sso_start_url`).
        session: Option<String>,
        /// Start URL.
        start_url: String,
        /// Region of the Identity Center instance.
        sso_region: String,
        /// `sso_account_id`
        account_id: String,
        /// `sso_role_name`
        role_name: String,
        /// `sso_registration_scopes` of the session.
        scopes: Vec<String>,
    },
    /// An `aws login` session.
    Login {
        /// The profile.
        profile: String,
        /// `login_session`: the principal ARN the session was signed in as.
        session: String,
    },
    /// `credential_process`.
    Process {
        /// The profile.
        profile: String,
        /// The command line.
        command: String,
    },
    /// `web_identity_token_file` + `role_arn`.
    WebIdentity {
        /// The profile.
        profile: String,
        /// The role.
        role_arn: String,
        /// The token file.
        token_file: PathBuf,
        /// `role_session_name`
        session_name: Option<String>,
    },
    /// `credential_source`.
    CredentialSource {
        /// The profile.
        profile: String,
        /// Which.
        source: CredentialSourceKind,
    },
    /// Whatever a whole profile resolves to, or, without one, the default chain (environment,
    /// AWS_PROFILE, `default`, container, IMDS): the base of an ad hoc role
    /// (`aws-assume --role-arn ARN [--source-profile P]`), resolved when the plan runs.
    Chain {
        /// The profile, or None for the default chain.
        source_profile: Option<String>,
        /// How it is shown: the profile name, or `default chain`.
        label: String,
    },
}

impl Base {
    /// The profile the base comes from.
    pub fn profile(&self) -> &str {
        match self {
            Base::StaticKeys { profile, .. }
            | Base::Sso { profile, .. }
            | Base::Process { profile, .. }
            | Base::Login { profile, .. }
            | Base::WebIdentity { profile, .. }
            | Base::CredentialSource { profile, .. } => profile,
            Base::Chain { label, .. } => label,
        }
    }

    /// A short word for the kind: keys, sso, login, process, web-identity, credential-source.
    pub fn kind(&self) -> &'static str {
        match self {
            Base::StaticKeys { .. } => "keys",
            Base::Sso { .. } => "sso",
            Base::Process { .. } => "process",
            Base::Login { .. } => "login",
            Base::WebIdentity { .. } => "web-identity",
            Base::CredentialSource { .. } => "credential-source",
            Base::Chain { .. } => "chain",
        }
    }
}

/// One AssumeRole hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// The profile that defines it.
    pub profile: String,
    /// `role_arn`
    pub role_arn: String,
    /// `mfa_serial`
    pub mfa_serial: Option<String>,
    /// `external_id`
    pub external_id: Option<String>,
    /// `role_session_name`
    pub role_session_name: Option<String>,
    /// `duration_seconds`
    pub duration_seconds: Option<u64>,
    /// `mfa_process`: a command printing the MFA code (aws-assume).
    pub mfa_process: Option<String>,
}

/// A profile's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The profile the plan is for.
    pub profile: String,
    /// The first credentials.
    pub base: Base,
    /// Roles assumed in order, the first from the base.
    pub hops: Vec<Hop>,
}

impl Plan {
    /// `a → b → c`: the profiles from the base to the target.
    pub fn chain(&self) -> Vec<String> {
        let mut out = vec![self.base.profile().to_string()];
        for h in &self.hops {
            if out.last() != Some(&h.profile) {
                out.push(h.profile.clone());
            }
        }
        out
    }

    /// Whether any hop asks for MFA.
    pub fn needs_mfa(&self) -> bool {
        self.hops.iter().any(|h| h.mfa_serial.is_some())
    }
}

fn invalid(files: &AwsFiles, p: &Profile, key: Option<&str>, message: String, fix: Option<String>) -> ConfigError {
    let file = key.and_then(|k| p.file(k)).unwrap_or(if p.config_section.is_some() {
        FileKind::Config
    } else {
        FileKind::Credentials
    });
    let path = match file {
        FileKind::Config => files.config_path.clone(),
        FileKind::Credentials => files.credentials_path.clone(),
    };
    let line = key.and_then(|k| p.line(k)).or(match file {
        FileKind::Config => p.config_section,
        FileKind::Credentials => p.credentials_section,
    });
    ConfigError::InvalidProfile { profile: p.name.clone(), path, line, message, fix }
}

fn static_keys(files: &AwsFiles, p: &Profile, file: FileKind) -> Result<Option<Base>, ConfigError> {
    let in_file = |k: &str| p.get(k).filter(|_| p.file(k) == Some(file));
    match (in_file("aws_access_key_id"), in_file("aws_secret_access_key")) {
        (Some(id), Some(secret)) => Ok(Some(Base::StaticKeys {
            profile: p.name.clone(),
            file,
            access_key_id: id.into(),
            secret_access_key: secret.into(),
            session_token: p.get("aws_session_token").map(crate::secret::Secret::new),
        })),
        (Some(_), None) | (None, Some(_)) => {
            let (has, missing) = if in_file("aws_access_key_id").is_some() {
                ("aws_access_key_id", "aws_secret_access_key")
            } else {
                ("aws_secret_access_key", "aws_access_key_id")
            };
            Err(invalid(
                files,
                p,
                Some(has),
                format!("has {has} but no {missing}"),
                Some(format!("run `aws configure --profile {}` to set both keys", p.name)),
            ))
        }
        (None, None) => Ok(None),
    }
}

fn has_static_keys(p: &Profile) -> bool {
    p.get("aws_access_key_id").is_some() && p.get("aws_secret_access_key").is_some()
}

fn is_role(p: &Profile) -> bool {
    p.get("role_arn").is_some() && p.get("web_identity_token_file").is_none()
}

fn hop(files: &AwsFiles, p: &Profile) -> Result<Hop, ConfigError> {
    let duration_seconds = match p.get("duration_seconds") {
        None => None,
        Some(d) => Some(d.trim().parse::<u64>().map_err(|_| {
            invalid(
                files,
                p,
                Some("duration_seconds"),
                format!("has duration_seconds = {d}, which is not a whole number of seconds"),
                Some("use a number between 900 and 43200".into()),
            )
        })?),
    };
    let role_arn = p.get("role_arn").unwrap_or_default().to_string();
    if !role_arn.starts_with("arn:") || role_arn.split(':').count() < 6 {
        return Err(invalid(
            files,
            p,
            Some("role_arn"),
            format!("has role_arn = {role_arn}, which is not a role ARN"),
            Some("use the form arn:aws:iam::123456789012:role/NAME".into()),
        ));
    }
    Ok(Hop {
        profile: p.name.clone(),
        role_arn,
        mfa_serial: p.get("mfa_serial").map(str::to_string),
        external_id: p.get("external_id").map(str::to_string),
        role_session_name: p.get("role_session_name").map(str::to_string),
        duration_seconds,
        mfa_process: p.get("mfa_process").map(str::to_string),
    })
}

/// The non-role source of a profile: web identity, SSO, credentials-file keys, `aws login`,
/// process, config-file keys (botocore's order).
fn base_of(files: &AwsFiles, env: &Env, p: &Profile) -> Result<Option<Base>, ConfigError> {
    if let (Some(token_file), Some(role_arn)) = (p.get("web_identity_token_file"), p.get("role_arn")) {
        return Ok(Some(Base::WebIdentity {
            profile: p.name.clone(),
            role_arn: role_arn.into(),
            token_file: env.expand_path(token_file),
            session_name: p.get("role_session_name").map(str::to_string),
        }));
    }
    if p.get("sso_session").is_some() || p.get("sso_start_url").is_some() {
        return sso(files, p).map(Some);
    }
    if let Some(b) = static_keys(files, p, FileKind::Credentials)? {
        return Ok(Some(b));
    }
    if let Some(session) = p.get("login_session").map(str::trim).filter(|s| !s.is_empty()) {
        return Ok(Some(Base::Login { profile: p.name.clone(), session: session.into() }));
    }
    if let Some(command) = p.get("credential_process") {
        return Ok(Some(Base::Process { profile: p.name.clone(), command: command.into() }));
    }
    static_keys(files, p, FileKind::Config)
}

fn sso(files: &AwsFiles, p: &Profile) -> Result<Base, ConfigError> {
    let (session, start_url, sso_region, scopes) = if let Some(name) = p.get("sso_session") {
        let s = files.sso_session(name)?.ok_or_else(|| ConfigError::SsoSessionNotFound {
            profile: p.name.clone(),
            session: name.into(),
            path: files.config_path.clone(),
        })?;
        let start = s.get("sso_start_url").ok_or_else(|| ConfigError::InvalidProfile {
            profile: p.name.clone(),
            path: files.config_path.clone(),
            line: Some(s.line),
            message: format!("uses [sso-session {name}], which has no sso_start_url"),
            fix: Some(format!("run `aws-sso-sync session add {name} --start-url URL --region REGION`")),
        })?;
        let region = s.get("sso_region").ok_or_else(|| ConfigError::InvalidProfile {
            profile: p.name.clone(),
            path: files.config_path.clone(),
            line: Some(s.line),
            message: format!("uses [sso-session {name}], which has no sso_region"),
            fix: Some(format!("add sso_region to [sso-session {name}]")),
        })?;
        // botocore refuses a profile whose own sso_start_url/sso_region contradict the session.
        for (key, want) in [("sso_start_url", start), ("sso_region", region)] {
            if let Some(own) = p.get(key)
                && own != want
            {
                return Err(invalid(
                    files,
                    p,
                    Some(key),
                    format!("has {key} = {own}, but [sso-session {name}] says {want}"),
                    Some(format!("remove {key} from the profile; the session's value is used")),
                ));
            }
        }
        let scopes = s
            .get("sso_registration_scopes")
            .map(|v| v.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect())
            .unwrap_or_default();
        (Some(name.to_string()), start.to_string(), region.to_string(), scopes)
    } else {
        let start = p.get("sso_start_url").unwrap_or_default();
        let region = p.get("sso_region").ok_or_else(|| {
            invalid(
                files,
                p,
                Some("sso_start_url"),
                "has sso_start_url but no sso_region".into(),
                Some(format!("run `aws configure sso --profile {}`", p.name)),
            )
        })?;
        (None, start.to_string(), region.to_string(), Vec::new())
    };
    let missing: Vec<&str> = ["sso_account_id", "sso_role_name"].into_iter().filter(|k| p.get(k).is_none()).collect();
    if !missing.is_empty() {
        return Err(invalid(
            files,
            p,
            None,
            format!("is an SSO profile without {}", missing.join(" and ")),
            Some("run `aws-sso-sync` to write complete SSO profiles".into()),
        ));
    }
    Ok(Base::Sso {
        profile: p.name.clone(),
        session,
        start_url,
        sso_region,
        account_id: p.get("sso_account_id").unwrap_or_default().into(),
        role_name: p.get("sso_role_name").unwrap_or_default().into(),
        scopes,
    })
}

fn credential_source(files: &AwsFiles, p: &Profile, value: &str) -> Result<CredentialSourceKind, ConfigError> {
    match value {
        "Environment" => Ok(CredentialSourceKind::Environment),
        "Ec2InstanceMetadata" => Ok(CredentialSourceKind::Ec2InstanceMetadata),
        "EcsContainer" => Ok(CredentialSourceKind::EcsContainer),
        other => Err(invalid(
            files,
            p,
            Some("credential_source"),
            format!("has credential_source = {other}"),
            Some("use Environment, Ec2InstanceMetadata or EcsContainer".into()),
        )),
    }
}

/// The plan of `profile`, or None when the profile exists but has no credential settings at all.
pub fn plan(files: &AwsFiles, env: &Env, profile: &str) -> Result<Option<Plan>, ConfigError> {
    let mut visited = Vec::new();
    plan_inner(files, env, profile, &mut visited)
}

/// The longest source_profile chain we follow. Real chains are two to four hops; AWS's own limit
/// is far below this, and a deeper one (a generated or hostile config) must end in an error, not
/// in a stack overflow.
pub const MAX_CHAIN: usize = 64;

fn plan_inner(files: &AwsFiles, env: &Env, name: &str, visited: &mut Vec<String>) -> Result<Option<Plan>, ConfigError> {
    let p = files.profile(name)?;
    if visited.len() >= MAX_CHAIN {
        return Err(invalid(
            files,
            &p,
            Some("source_profile"),
            format!("ends a source_profile chain of more than {MAX_CHAIN} profiles (from `{}`)", visited[0]),
            Some("shorten the chain: point source_profile at the profile with the credentials".into()),
        ));
    }
    visited.push(name.to_string());
    if !is_role(&p) {
        return Ok(base_of(files, env, &p)?.map(|base| Plan { profile: name.into(), base, hops: vec![] }));
    }
    let this_hop = hop(files, &p)?;
    match (p.get("source_profile"), p.get("credential_source")) {
        (Some(_), Some(_)) => Err(invalid(
            files,
            &p,
            Some("credential_source"),
            "has both source_profile and credential_source".into(),
            Some("keep only one of them".into()),
        )),
        (None, None) => Err(invalid(
            files,
            &p,
            Some("role_arn"),
            "has role_arn but neither source_profile nor credential_source".into(),
            Some("add source_profile = PROFILE (the credentials to assume the role with)".into()),
        )),
        (None, Some(cs)) => {
            let source = credential_source(files, &p, cs)?;
            Ok(Some(Plan {
                profile: name.into(),
                base: Base::CredentialSource { profile: name.into(), source },
                hops: vec![this_hop],
            }))
        }
        (Some(src), None) => {
            if src == name {
                if has_static_keys(&p) {
                    let base =
                        static_keys(files, &p, FileKind::Credentials)?.or(static_keys(files, &p, FileKind::Config)?);
                    let base = base.expect("has_static_keys");
                    return Ok(Some(Plan { profile: name.into(), base, hops: vec![this_hop] }));
                }
                return Err(ConfigError::SourceProfileLoop { cycle: vec![name.into(), name.into()] });
            }
            if let Some(at) = visited.iter().position(|v| v == src) {
                let mut cycle = visited[at..].to_vec();
                cycle.push(src.to_string());
                return Err(ConfigError::SourceProfileLoop { cycle });
            }
            if !files.has_profile(src) {
                return Err(ConfigError::SourceProfileNotFound { profile: name.into(), source_profile: src.into() });
            }
            let sp = files.profile(src)?;
            let mut plan = if has_static_keys(&sp) {
                let base =
                    static_keys(files, &sp, FileKind::Credentials)?.or(static_keys(files, &sp, FileKind::Config)?);
                Plan { profile: name.into(), base: base.expect("has_static_keys"), hops: vec![] }
            } else if is_role(&sp) {
                plan_inner(files, env, src, visited)?.expect("a role profile always has a plan")
            } else {
                let base = base_of(files, env, &sp)?.ok_or_else(|| {
                    invalid(
                        files,
                        &sp,
                        None,
                        "has no credentials (no keys, SSO, login_session, credential_process or role)".into(),
                        Some(format!("run `aws configure --profile {src}`")),
                    )
                })?;
                Plan { profile: name.into(), base, hops: vec![] }
            };
            plan.profile = name.into();
            plan.hops.push(this_hop);
            Ok(Some(plan))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(config: &str, creds: &str, profile: &str) -> Result<Option<Plan>, ConfigError> {
        plan(&AwsFiles::from_text(config, creds), &Env::from_pairs([("HOME", "/h")]), profile)
    }

    #[test]
    fn three_hop_chain_with_mfa_on_the_first() {
        let config = "[profile base]\nregion = us-east-1\n\
            [profile a]\nrole_arn = arn:aws:iam::222222222222:role/admin\nsource_profile = base\nmfa_serial = arn:aws:iam::111111111111:mfa/alice\nduration_seconds = 7200\n\
            [profile b]\nrole_arn = arn:aws:iam::222222222222:role/deployer\nsource_profile = a\n\
            [profile c]\nrole_arn = arn:aws:iam::333333333333:role/auditor\nsource_profile = b\nrole_session_name = me\n";
        let p =
            plan_of(config, "[base]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n", "c").unwrap().unwrap();
        assert!(matches!(&p.base, Base::StaticKeys { profile, file: FileKind::Credentials, .. } if profile == "base"));
        assert_eq!(p.hops.iter().map(|h| h.profile.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(p.hops[0].mfa_serial.as_deref(), Some("arn:aws:iam::111111111111:mfa/alice"));
        assert_eq!(p.hops[0].duration_seconds, Some(7200));
        assert_eq!(p.hops[2].role_session_name.as_deref(), Some("me"));
        assert_eq!(p.chain(), ["base", "a", "b", "c"]);
        assert!(p.needs_mfa());
    }

    #[test]
    fn source_profile_with_keys_ignores_its_own_role_and_self_reference_works() {
        let config = "[profile k]\nrole_arn = arn:aws:iam::1:role/ignored\naws_access_key_id = A\naws_secret_access_key = S\n\
            [profile t]\nrole_arn = arn:aws:iam::2:role/t\nsource_profile = k\n\
            [profile self]\nrole_arn = arn:aws:iam::3:role/s\nsource_profile = self\naws_access_key_id = A\naws_secret_access_key = S\n";
        let p = plan_of(config, "", "t").unwrap().unwrap();
        assert_eq!(p.hops.len(), 1);
        assert!(matches!(p.base, Base::StaticKeys { file: FileKind::Config, .. }));
        let p = plan_of(config, "", "self").unwrap().unwrap();
        assert_eq!(p.hops[0].role_arn, "arn:aws:iam::3:role/s");
    }

    #[test]
    fn very_long_chains_end_in_an_error_not_a_stack_overflow() {
        let mut config = String::from("[profile p0]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s\n");
        for i in 1..5000 {
            config
                .push_str(&format!("[profile p{i}]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = p{}\n", i - 1));
        }
        let e = plan_of(&config, "", "p4999").unwrap_err();
        assert!(e.to_string().contains("more than 64 profiles"), "{e}");
        assert!(plan_of(&config, "", "p60").is_ok());
    }

    #[test]
    fn loops_are_named() {
        let config = "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = c\n[profile c]\nrole_arn = arn:aws:iam::1:role/c\nsource_profile = a\n[profile me]\nrole_arn = arn:aws:iam::1:role/m\nsource_profile = me\n";
        let e = plan_of(config, "", "a").unwrap_err();
        assert_eq!(e.to_string(), "source_profile references form a loop: a → b → c → a");
        let e = plan_of(config, "", "me").unwrap_err();
        assert_eq!(e.to_string(), "source_profile references form a loop: me → me");
    }

    #[test]
    fn precedence_without_role() {
        let config =
            "[profile x]\ncredential_process = /bin/creds\naws_access_key_id = CFG\naws_secret_access_key = S\n";
        let p = plan_of(config, "", "x").unwrap().unwrap();
        assert!(matches!(p.base, Base::Process { .. }), "process before config-file keys");
        let p = plan_of(config, "[x]\naws_access_key_id = CRED\naws_secret_access_key = S\n", "x").unwrap().unwrap();
        assert!(
            matches!(p.base, Base::StaticKeys { file: FileKind::Credentials, .. }),
            "credentials-file keys before process"
        );
        let p = plan_of("[profile w]\nrole_arn = arn:aws:iam::1:role/w\nweb_identity_token_file = ~/tok\n", "", "w")
            .unwrap()
            .unwrap();
        assert!(matches!(&p.base, Base::WebIdentity { token_file, .. } if token_file == &PathBuf::from("/h/tok")));
        assert!(p.hops.is_empty());
        assert_eq!(plan_of("[profile empty]\nregion = x\n", "", "empty").unwrap(), None);
        // botocore: credentials-file keys, then `aws login`, then credential_process.
        let login = "[profile l]\nlogin_session = arn:aws:iam::1:user/a\ncredential_process = /bin/creds\n";
        let p = plan_of(login, "", "l").unwrap().unwrap();
        assert_eq!(p.base, Base::Login { profile: "l".into(), session: "arn:aws:iam::1:user/a".into() });
        let p = plan_of(login, "[l]\naws_access_key_id = CRED\naws_secret_access_key = S\n", "l").unwrap().unwrap();
        assert!(matches!(p.base, Base::StaticKeys { .. }));
        let chained = "[profile l]\nlogin_session = arn:aws:iam::1:user/a\n[profile r]\nrole_arn = arn:aws:iam::2:role/r\nsource_profile = l\n";
        let p = plan_of(chained, "", "r").unwrap().unwrap();
        assert!(matches!(p.base, Base::Login { .. }));
        assert_eq!(p.chain(), ["l", "r"]);
    }

    #[test]
    fn sso_profiles() {
        let config = "[profile s]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n\
            [sso-session corp]\nsso_start_url = https://x/start\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n\
            [profile legacy]\nsso_start_url = https://y/start\nsso_region = us-east-1\nsso_account_id = 2\nsso_role_name = R\n\
            [profile bad]\nsso_session = corp\nsso_account_id = 1\n\
            [profile gone]\nsso_session = nope\nsso_account_id = 1\nsso_role_name = R\n\
            [profile clash]\nsso_session = corp\nsso_region = us-west-2\nsso_account_id = 1\nsso_role_name = R\n";
        let p = plan_of(config, "", "s").unwrap().unwrap();
        assert_eq!(
            p.base,
            Base::Sso {
                profile: "s".into(),
                session: Some("corp".into()),
                start_url: "https://x/start".into(),
                sso_region: "eu-west-1".into(),
                account_id: "1".into(),
                role_name: "R".into(),
                scopes: vec!["sso:account:access".into()]
            }
        );
        assert!(matches!(plan_of(config, "", "legacy").unwrap().unwrap().base, Base::Sso { session: None, .. }));
        assert!(plan_of(config, "", "bad").unwrap_err().to_string().contains("without sso_role_name"));
        assert!(matches!(plan_of(config, "", "gone").unwrap_err(), ConfigError::SsoSessionNotFound { .. }));
        assert!(plan_of(config, "", "clash").unwrap_err().to_string().contains("sso_region = us-west-2"));
    }

    #[test]
    fn invalid_role_profiles() {
        let e = plan_of("[profile r]\nrole_arn = arn:aws:iam::1:role/r\n", "", "r").unwrap_err();
        assert!(e.to_string().contains("neither source_profile nor credential_source"), "{e}");
        assert!(e.to_string().contains("config:2"), "{e}");
        let e = plan_of(
            "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = x\ncredential_source = Environment\n",
            "",
            "r",
        )
        .unwrap_err();
        assert!(e.to_string().contains("both source_profile and credential_source"));
        let e = plan_of("[profile r]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Laptop\n", "", "r")
            .unwrap_err();
        assert!(e.to_string().contains("credential_source = Laptop"));
        let e =
            plan_of("[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = ghost\n", "", "r").unwrap_err();
        assert!(matches!(e, ConfigError::SourceProfileNotFound { .. }));
        let e = plan_of("[profile r]\nrole_arn = not-an-arn\nsource_profile = r\n", "", "r").unwrap_err();
        assert!(e.to_string().contains("not a role ARN"));
        let e = plan_of("[profile k]\naws_access_key_id = A\n", "", "k").unwrap_err();
        assert!(e.to_string().contains("has aws_access_key_id but no aws_secret_access_key"));
        let p = plan_of(
            "[profile r]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Ec2InstanceMetadata\n",
            "",
            "r",
        )
        .unwrap()
        .unwrap();
        assert!(matches!(p.base, Base::CredentialSource { source: CredentialSourceKind::Ec2InstanceMetadata, .. }));
    }
}
