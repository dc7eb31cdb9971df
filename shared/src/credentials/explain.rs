//! `--explain`: how an identity would be reached, before any call is made. The selection (which
//! of `--profile`, AWS_PROFILE, AWS_DEFAULT_PROFILE, `default`, or keys in the environment), each
//! step of the plan with the settings that drive it and the file and line each came from, the
//! caches that would be used with their expiry, and, for a broken profile, the exact error and
//! hint the tools would give. Secrets are masked. No network, no prompt, no write.
//!
//! It owns the explanation's shape (documented in the README as the `--explain` JSON); it does not
//! resolve credentials (that is the chain) or render (that is `output`).

use std::path::Path;

use serde::Serialize;

use super::{Choice, Context, Selection, choose};
use crate::cache::{cli as cli_cache, sso as sso_cache, sso_cache_dir};
use crate::config::{Base, FileKind, Hop, Plan, Profile};
use crate::env_vars;
use crate::error::{Error, Hint};

/// The whole explanation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Explanation {
    /// Which profile, and why that one.
    pub selection: SelectionInfo,
    /// `environment`, `profile` or `default-chain` (web identity, container, instance metadata).
    pub source: &'static str,
    /// The plan's steps, base first.
    pub steps: Vec<Step>,
    /// What the tools would say, for a profile that cannot work.
    pub error: Option<ErrorInfo>,
}

/// The selection.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SelectionInfo {
    /// The profile name.
    pub profile: String,
    /// `--profile`, `AWS_PROFILE`, `AWS_DEFAULT_PROFILE` or `default`.
    pub chosen_by: &'static str,
    /// Keys in the environment, which win unless `--profile` names a profile.
    pub environment_keys: bool,
}

/// One step: the base source or a role hop.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Step {
    /// The profile that defines it.
    pub profile: String,
    /// `keys`, `sso`, `process`, `web-identity`, `credential-source`, `chain` or `assume-role`.
    pub kind: &'static str,
    /// The settings that drive it, with where each came from.
    pub settings: Vec<SettingInfo>,
    /// The caches it would read.
    pub caches: Vec<CacheInfo>,
}

/// One setting.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SettingInfo {
    /// The key.
    pub key: String,
    /// The value (`****` for secrets).
    pub value: String,
    /// `path:line`.
    pub from: String,
}

/// One cache file.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CacheInfo {
    /// What it holds.
    pub what: &'static str,
    /// The file.
    pub path: String,
    /// When what it holds expires (None: no usable file).
    pub expires: Option<String>,
    /// Whether it would be used as it is (valid for more than the refresh window).
    pub usable: bool,
}

/// The error and hint a tool would print, and its exit code.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorInfo {
    /// The message.
    pub message: String,
    /// The `hint:` line.
    pub hint: Option<String>,
    /// The exit code.
    pub exit_code: u8,
}

const SECRET_KEYS: [&str; 2] = ["aws_secret_access_key", "aws_session_token"];

/// Explains how `sel` would be resolved.
pub fn explain(ctx: &Context<'_>, sel: &Selection) -> Explanation {
    let chosen_by = if sel.explicit {
        "--profile"
    } else if sel.from_env && ctx.env.get(env_vars::AWS_PROFILE).is_some() {
        env_vars::AWS_PROFILE
    } else if sel.from_env {
        env_vars::AWS_DEFAULT_PROFILE
    } else {
        "default"
    };
    let selection = SelectionInfo {
        profile: sel.name.clone(),
        chosen_by,
        environment_keys: ctx.env.get(env_vars::AWS_ACCESS_KEY_ID).is_some(),
    };
    let failed = |e: Error| ErrorInfo { message: e.to_string(), hint: e.hint(), exit_code: e.exit_code() };
    match choose(ctx, sel) {
        Ok(Choice::Env(_)) => Explanation { selection, source: "environment", steps: Vec::new(), error: None },
        Ok(Choice::Fallback) => Explanation { selection, source: "default-chain", steps: Vec::new(), error: None },
        Ok(Choice::Plan(plan)) => Explanation { selection, source: "profile", steps: steps(ctx, &plan), error: None },
        Err(e) => {
            // A broken chain still shows the profiles it got through.
            let steps = ctx.files.profile(&sel.name).map(|p| vec![raw_step(ctx, &p)]).unwrap_or_default();
            Explanation { selection, source: "profile", steps, error: Some(failed(e)) }
        }
    }
}

fn where_from(ctx: &Context<'_>, p: &Profile, key: &str) -> String {
    let path = match p.file(key) {
        Some(FileKind::Credentials) => &ctx.files.credentials_path,
        _ => &ctx.files.config_path,
    };
    format!("{}:{}", path.display(), p.line(key).unwrap_or(0))
}

fn settings_of(ctx: &Context<'_>, p: &Profile, keys: &[&str]) -> Vec<SettingInfo> {
    keys.iter()
        .filter_map(|k| {
            let value = p.get(k)?;
            let value = if SECRET_KEYS.contains(k) { "****".to_string() } else { value.to_string() };
            Some(SettingInfo { key: k.to_string(), value, from: where_from(ctx, p, k) })
        })
        .collect()
}

/// Every setting of a profile that cannot be planned (secrets masked).
fn raw_step(ctx: &Context<'_>, p: &Profile) -> Step {
    let keys: Vec<&str> = p.settings.keys().map(String::as_str).collect();
    Step { profile: p.name.clone(), kind: "invalid", settings: settings_of(ctx, p, &keys), caches: Vec::new() }
}

fn cache(what: &'static str, path: &Path, ctx: &Context<'_>) -> CacheInfo {
    let now = ctx.clock.now();
    let (expires, usable) = match cli_cache::read(path) {
        Some(c) => (
            c.credentials.expiration.map(crate::cache::format_z),
            c.credentials.valid_for(now, cli_cache::EXPIRY_WINDOW),
        ),
        None => (None, false),
    };
    CacheInfo { what, path: path.display().to_string(), expires, usable }
}

fn base_step(ctx: &Context<'_>, plan: &Plan) -> Step {
    let name = plan.base.profile().to_string();
    let profile = ctx.files.profile(&name).ok();
    let keys: &[&str] = match &plan.base {
        Base::StaticKeys { .. } => &["aws_access_key_id", "aws_secret_access_key", "aws_session_token"],
        Base::Sso { .. } => &["sso_session", "sso_start_url", "sso_region", "sso_account_id", "sso_role_name"],
        Base::Process { .. } => &["credential_process"],
        Base::Login { .. } => &["login_session", "region"],
        Base::WebIdentity { .. } => &["role_arn", "web_identity_token_file", "role_session_name"],
        Base::CredentialSource { .. } => &["credential_source", "role_arn"],
        Base::Chain { .. } => &[],
    };
    let mut settings = profile.as_ref().map(|p| settings_of(ctx, p, keys)).unwrap_or_default();
    let mut caches = Vec::new();
    if let Base::Sso { session: Some(name), .. } = &plan.base
        && let Ok(Some(session)) = ctx.files.sso_session(name)
    {
        for key in ["sso_start_url", "sso_region", "sso_registration_scopes"] {
            if let Some(v) = session.settings.get(key) {
                settings.push(SettingInfo {
                    key: format!("{key} ([sso-session {name}])"),
                    value: v.value.clone(),
                    from: format!("{}:{}", ctx.files.config_path.display(), v.line),
                });
            }
        }
    }
    if let Base::Sso { session, start_url, account_id, role_name, .. } = &plan.base {
        let token = sso_cache::token_path(&sso_cache_dir(ctx.env), session.as_deref().unwrap_or(start_url));
        let t = sso_cache::read_token(&token);
        caches.push(CacheInfo {
            what: "SSO token",
            path: token.display().to_string(),
            expires: t.as_ref().and_then(|t| t.expires()).map(crate::cache::format_z),
            usable: t
                .as_ref()
                .and_then(|t| t.expires())
                .is_some_and(|e| e - ctx.clock.now() > super::sso::REFRESH_WINDOW),
        });
        let role = cli_cache::sso_role_path(&ctx.cli_cache(), account_id, role_name, session.as_deref(), start_url);
        caches.push(cache("SSO role credentials", &role, ctx));
    }
    if let Base::Login { session, .. } = &plan.base {
        let path = crate::cache::login::token_path(&crate::cache::login::login_cache_dir(ctx.env), session);
        let t = crate::cache::login::read_token(&path).ok();
        caches.push(CacheInfo {
            what: "aws login session",
            path: path.display().to_string(),
            expires: t.as_ref().and_then(|t| t.expires()).map(crate::cache::format_z),
            // Usable while the refresh token may still work: a refresh is one call away.
            usable: t.is_some(),
        });
    }
    Step { profile: name, kind: plan.base.kind(), settings, caches }
}

fn hop_step(ctx: &Context<'_>, plan: &Plan, hop: &Hop) -> Step {
    let keys = [
        "role_arn",
        "source_profile",
        "credential_source",
        "mfa_serial",
        "mfa_process",
        "external_id",
        "role_session_name",
        "duration_seconds",
    ];
    let settings = ctx.files.profile(&hop.profile).map(|p| settings_of(ctx, &p, &keys)).unwrap_or_default();
    let mut caches = Vec::new();
    if let (Some(serial), Base::StaticKeys { access_key_id, session_token: None, .. }) = (&hop.mfa_serial, &plan.base) {
        let path = cli_cache::mfa_session_path(&ctx.cli_cache(), access_key_id, serial);
        caches.push(cache("MFA session (GetSessionToken)", &path, ctx));
    }
    caches.push(cache("role credentials", &super::assume::cache_path(ctx, hop), ctx));
    Step { profile: hop.profile.clone(), kind: "assume-role", settings, caches }
}

fn steps(ctx: &Context<'_>, plan: &Plan) -> Vec<Step> {
    let mut out = vec![base_step(ctx, plan)];
    out.extend(plan.hops.iter().map(|h| hop_step(ctx, plan, h)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AwsFiles;
    use crate::os::Env;

    fn explained(config: &str, credentials: &str, profile: &str, env: &[(&str, &str)]) -> Explanation {
        let env = Env::from_pairs(env.iter().copied().chain([("HOME", "/nonexistent-home")]));
        let world = crate::credentials::TestWorld::new(
            env,
            AwsFiles::from_text(config, credentials),
            time::macros::datetime!(2026-11-28 12:00 UTC),
        );
        let ctx = world.ctx(None);
        let sel = Selection::new((!profile.is_empty()).then_some(profile), &world.env);
        explain(&ctx, &sel)
    }

    #[test]
    fn a_chain_shows_each_step_with_its_lines_and_masks_secrets() {
        let e = explained(
            "[profile admin]\nrole_arn = arn:aws:iam::2:role/admin\nsource_profile = base\nmfa_serial = arn:aws:iam::1:mfa/me\n",
            "[base]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = hush\n",
            "admin",
            &[],
        );
        assert_eq!(e.selection.chosen_by, "--profile");
        assert_eq!(e.steps.len(), 2);
        assert_eq!((e.steps[0].profile.as_str(), e.steps[0].kind), ("base", "keys"));
        let secret = e.steps[0].settings.iter().find(|s| s.key == "aws_secret_access_key").unwrap();
        assert_eq!(secret.value, "****");
        assert_eq!(secret.from, "credentials:3");
        let mfa = e.steps[1].settings.iter().find(|s| s.key == "mfa_serial").unwrap();
        assert_eq!(mfa.from, "config:4");
        assert_eq!(e.steps[1].caches.len(), 2, "the MFA session and the role credentials");
        assert!(!serde_json::to_string(&e).unwrap().contains("hush"));
    }

    #[test]
    fn a_broken_profile_carries_the_tools_error() {
        let e = explained(
            "[profile a]\nrole_arn = arn:aws:iam::2:role/a\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::2:role/b\nsource_profile = a\n",
            "",
            "",
            &[("AWS_PROFILE", "a")],
        );
        assert_eq!(e.selection.chosen_by, "AWS_PROFILE");
        let err = e.error.unwrap();
        assert!(err.message.contains("a → b → a") && err.exit_code == 2, "{err:?}");
        assert_eq!(e.steps[0].kind, "invalid");
    }
}
