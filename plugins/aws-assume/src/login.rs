//! `aws-assume login` / `logout`: `aws login` for people without AWS CLI v2 2.32+. The same flows
//! as the AWS CLI (authorization code with PKCE and DPoP: the same-device flow with a loopback
//! redirect on 127.0.0.1, or `--remote`, the cross-device flow whose code is pasted back), and
//! the same results: the session cached in `~/.aws/login/cache` in botocore's format and
//! `login_session = <ARN>` in the profile, so `aws`, the SDKs and every tool here use it.
//!
//! Parallel logins for one profile take a lock and the later ones find the session the first one
//! made: one browser tab. `logout` removes the cached session (and leaves the profile line, as
//! `aws logout` does).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;
use sha2::{Digest, Sha256};
use shared::app::App;
use shared::cache::format_z;
use shared::cache::login::{LoginToken, login_cache_dir, read_token, token_path, write_token};
use shared::cli::GlobalArgs;
use shared::config::write;
use shared::credentials::login::{self as signin, CROSS_DEVICE, DpopKey, SAME_DEVICE, TokenError};
use shared::error::{CredentialError, Error};
use shared::fsutil::{FileLock, LockWait};
use shared::os::Env;
use shared::output;

/// `aws-assume login`.
#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// The cross-device flow: print the sign-in URL to open on any device and read back the
    /// code it shows (for SSH sessions and hosts without a browser).
    #[arg(long)]
    remote: bool,
    /// Print the URL instead of opening a browser (same-device flow).
    #[arg(long)]
    no_browser: bool,
    /// Sign in again even when the profile's session is still good.
    #[arg(long)]
    force: bool,
    /// How long to wait for the sign-in, e.g. 10m.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = crate::parse_duration)]
    timeout: u64,
}

/// `aws-assume logout`.
#[derive(Debug, clap::Args)]
pub struct LogoutArgs {
    /// Remove every cached `aws login` session, not only the profile's.
    #[arg(long)]
    all: bool,
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::Io { context, source: e }
}

/// The credential settings `aws login` refuses to add a session beside (they would win over it).
const OTHER_STYLES: [(&str, &str); 6] = [
    ("web_identity_token_file", "web identity"),
    ("sso_role_name", "SSO"),
    ("sso_account_id", "SSO"),
    ("aws_access_key_id", "access key"),
    ("role_arn", "assume role"),
    ("credential_process", "credential process"),
];

fn section(profile: &str) -> String {
    if profile == "default" { "default".into() } else { format!("profile {profile}") }
}

/// Runs `aws-assume login`.
pub async fn login(args: &LoginArgs, global: &GlobalArgs) -> Result<ExitCode, Error> {
    let app = App::without_profile(global, Env::from_process())?;
    let profile = app.selection.name.clone();
    shared::config::doc::check_section_name("profile name", &profile).map_err(Error::from)?;
    let cache_dir = login_cache_dir(&app.env);
    // One sign-in per profile at a time: later callers wait, then find the new session (the
    // files are read after the lock, so they see the profile line the first one wrote).
    let lock_name = cache_dir.join(format!("profile-{}", hex::encode(Sha256::digest(profile.as_bytes()))));
    let mut wait = LockWait::new(format!("signing in the profile `{profile}` with aws login"), &app.env);
    wait.limit = wait.limit.max(Duration::from_secs(args.timeout + 30));
    let _lock = FileLock::acquire_async(lock_name, wait).await?;
    let files = shared::config::AwsFiles::load(&app.env)?;
    let existing = files.has_profile(&profile).then(|| files.profile(&profile)).transpose()?;
    if let Some(p) = &existing
        && let Some((key, style)) = OTHER_STYLES.iter().find(|(k, _)| p.get(k).is_some())
    {
        return Err(Error::usage(
            format!(
                "the profile `{profile}` already has {style} credentials ({key}), which would be used before an `aws login` session"
            ),
            Some(format!("run `aws-assume login --profile NEW-NAME`, or remove {key} from `{profile}` first")),
        ));
    }
    let region_set =
        global.common.region.clone().or_else(|| existing.as_ref().and_then(|p| p.get("region").map(str::to_string)));
    let region = region_set.clone().or_else(|| app.settings.region.clone()).unwrap_or_else(|| "us-east-1".into());
    let now = app.clock.now();
    if !args.force
        && let Some(session) = existing.as_ref().and_then(|p| p.get("login_session"))
        && let Ok(t) = read_token(&token_path(&cache_dir, session))
        && t.expires().is_some_and(|e| e - now > signin::REFRESH_WINDOW)
    {
        if !global.common.quiet {
            eprintln!(
                "aws-assume: the profile `{profile}` is already signed in as {session} (use --force to sign in again)"
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let base = signin::signin_base(&app.settings, &region);
    let key = DpopKey::generate();
    let flow = if args.remote {
        remote(&base, args).await?
    } else {
        same_device(&app.env, &base, args, global.common.quiet).await?
    };
    let input = json!({
        "clientId": flow.client_id,
        "grantType": "authorization_code",
        "code": flow.code,
        "codeVerifier": flow.verifier,
        "redirectUri": flow.redirect_uri,
    });
    let out = signin::create_token(&app.settings, &*app.clock, &base, &key, &input)
        .await
        .map_err(|e| refused(&profile, e))?;
    let id_token = out
        .id_token
        .clone()
        .ok_or_else(|| refused(&profile, TokenError::Failed("the answer has no idToken".into())))?;
    let session = session_of(&id_token)
        .ok_or_else(|| refused(&profile, TokenError::Failed("the idToken's `sub` is not a principal ARN".into())))?;
    let account = session.split(':').nth(4).unwrap_or_default().to_string();
    let expires = app.clock.now() + time::Duration::seconds(out.expires_in);
    let token = LoginToken {
        access_token: shared::cache::login::AccessToken {
            access_key_id: out.access_key_id,
            secret_access_key: out.secret_access_key,
            session_token: out.session_token,
            account_id: Some(account.clone()),
            expires_at: format_z(expires),
            extra: Default::default(),
        },
        token_type: out.token_type.or(Some("aws_sigv4".into())),
        client_id: flow.client_id.into(),
        refresh_token: out.refresh_token,
        id_token: Some(id_token),
        dpop_key: key.to_pem(),
        sign_in_region: None,
        extra: Default::default(),
    };
    let path = token_path(&cache_dir, &session);
    write_token(&path, &token).map_err(io(format!("writing {}", path.display())))?;
    let previous = existing.as_ref().and_then(|p| p.get("login_session")).map(str::to_string);
    write::edit(&app.files.config_path, &app.env, "aws-assume login", |doc| {
        doc.set(&section(&profile), "login_session", &session)?;
        if region_set.is_none() {
            doc.set(&section(&profile), "region", &region)?;
        }
        Ok(())
    })?;
    if !global.common.quiet {
        if let Some(old) = previous.filter(|o| *o != session) {
            eprintln!("aws-assume: the profile `{profile}` used the session {old}; it now uses {session}");
        }
        eprintln!(
            "aws-assume: signed in as {session}; the profile `{profile}` gets credentials from it (refreshed for up to 12 hours)"
        );
    }
    let summary =
        json!({"Profile": profile, "LoginSession": session, "Account": account, "Expiration": format_z(expires)});
    match output::Format::resolve(global.output) {
        output::Format::Json => output::print_json(&summary),
        _ => output::print_text(&format!("{profile}\t{session}\t{}", format_z(expires))),
    }
    .map_err(io("writing the output".into()))?;
    Ok(ExitCode::SUCCESS)
}

fn refused(profile: &str, e: TokenError) -> Error {
    CredentialError::Rejected {
        operation: "aws login (signin:CreateOAuth2Token)".into(),
        arn: None,
        code: "LoginFailed".into(),
        message: e.to_string(),
        command: Some(format!("aws-assume login --profile {profile}")),
    }
    .into()
}

/// The sign-in the browser step gave.
struct Flow {
    client_id: &'static str,
    code: String,
    verifier: String,
    redirect_uri: String,
}

/// PKCE (shared with the SSO login) and a UUID state, as the AWS CLI makes them.
fn pkce() -> (String, String, String) {
    let (verifier, challenge) = shared::client::loopback::pkce_pair();
    (verifier, challenge, uuid::Uuid::new_v4().to_string())
}

fn authorize_url(base: &str, client_id: &str, state: &str, challenge: &str, redirect: &str) -> String {
    let query: Vec<String> = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("state", state),
        ("code_challenge_method", "SHA-256"),
        ("scope", "openid"),
        ("redirect_uri", redirect),
        ("code_challenge", challenge),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={}", shared::os::url_encode(v)))
    .collect();
    format!("{base}/v1/authorize?{}", query.join("&"))
}

async fn same_device(env: &Env, base: &str, args: &LoginArgs, quiet: bool) -> Result<Flow, Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(io("listening on 127.0.0.1 for the sign-in redirect (try --remote)".into()))?;
    let port = listener.local_addr().map_err(io("listening on 127.0.0.1".into()))?.port();
    let redirect = format!("http://127.0.0.1:{port}/oauth/callback");
    let (verifier, challenge, state) = pkce();
    let url = authorize_url(base, SAME_DEVICE, &state, &challenge, &redirect);
    let opened = !args.no_browser && shared::os::has_display(env) && shared::os::open_browser(env, &url);
    if !quiet || !opened {
        eprintln!(
            "aws-assume: {} to sign in:\n  {url}",
            if opened {
                "your browser opened the AWS sign-in page; if it did not, open this URL on this machine"
            } else {
                "open this URL in a browser on this machine"
            }
        );
    }
    let code = tokio::time::timeout(
        Duration::from_secs(args.timeout),
        shared::client::loopback::wait_for_callback(&listener, &state),
    )
    .await
    .map_err(|_| {
        Error::usage(
            format!("no sign-in within {} seconds", args.timeout),
            Some("run `aws-assume login` again, or use --remote on a host without a browser".into()),
        )
    })?
    .map_err(|e| CredentialError::Rejected {
        operation: "aws login".into(),
        arn: None,
        code: "LoginFailed".into(),
        message: e,
        command: Some("aws-assume login".into()),
    })?;
    Ok(Flow { client_id: SAME_DEVICE, code, verifier, redirect_uri: redirect })
}

/// The cross-device flow. The URL is printed even with `-q`: without it there is nothing to do.
async fn remote(base: &str, args: &LoginArgs) -> Result<Flow, Error> {
    let redirect = format!("{base}/v1/sessions/confirmation");
    let (verifier, challenge, state) = pkce();
    let url = authorize_url(base, CROSS_DEVICE, &state, &challenge, &redirect);
    eprintln!("aws-assume: open this URL on any device, sign in, and paste the code it shows:\n  {url}");
    if std::io::stdin().is_terminal() {
        eprint!("Code: ");
    }
    // One line, at most 4 KiB, within the timeout: the pasted code is small, and a stuck or
    // endless stdin must not hold us.
    let line = tokio::time::timeout(Duration::from_secs(args.timeout), tokio::task::spawn_blocking(read_code_line))
        .await
        .map_err(|_| Error::usage(format!("no code within {} seconds", args.timeout), None))?
        .map_err(|e| Error::usage(format!("reading the code: {e}"), None))?
        .map_err(io("reading the code from stdin".into()))?;
    let (code, got_state) = parse_pasted(&line).ok_or_else(|| {
        Error::usage(
            "the pasted text is not a sign-in code (base64 of `state=...&code=...`)",
            Some("copy the whole code the sign-in page shows, then run `aws-assume login --remote` again".into()),
        )
    })?;
    if got_state != state {
        return Err(Error::usage(
            "the pasted code belongs to another sign-in (its state does not match)",
            Some("paste the code of the URL this run printed".into()),
        ));
    }
    Ok(Flow { client_id: CROSS_DEVICE, code, verifier, redirect_uri: redirect })
}

fn read_code_line() -> std::io::Result<String> {
    use std::io::{BufRead, Read};
    let mut line = String::new();
    std::io::stdin().lock().take(4096).read_line(&mut line)?;
    Ok(line.trim().to_string())
}

/// The cross-device code: standard base64 of `state=…&code=…` → (code, state).
pub fn parse_pasted(text: &str) -> Option<(String, String)> {
    let decoded = String::from_utf8(STANDARD.decode(text.trim()).ok()?).ok()?;
    let mut code = None;
    let mut state = None;
    for (k, v) in decoded.split('&').filter_map(|kv| kv.split_once('=')) {
        let v = shared::os::url_decode(v)?;
        match k {
            "code" => code = Some(v),
            "state" => state = Some(v),
            _ => {}
        }
    }
    Some((code.filter(|c| !c.is_empty())?, state?))
}

/// The session of an ID token: its `sub`, if that is a principal ARN of one line.
pub fn session_of(id_token: &str) -> Option<String> {
    let payload = id_token.split('.').nth(1)?;
    let json: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?).ok()?;
    let sub = json.get("sub")?.as_str()?;
    let ok = sub.starts_with("arn:")
        && sub.len() <= 2048
        && sub.split(':').count() >= 6
        && sub.split(':').nth(4).is_some_and(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        && sub.chars().all(|c| c.is_ascii_graphic());
    ok.then(|| sub.to_string())
}

/// Runs `aws-assume logout`.
pub async fn logout(args: &LogoutArgs, global: &GlobalArgs) -> Result<ExitCode, Error> {
    let app = App::without_profile(global, Env::from_process())?;
    let dir = login_cache_dir(&app.env);
    let note = "Credentials already handed out stay valid until they expire (at most 15 minutes).";
    if args.all {
        let mut removed = 0;
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            // Only session files: JSON with accessToken.accessKeyId (the AWS CLI's rule).
            let is_session = path.extension().is_some_and(|x| x == "json")
                && shared::cache::read_json(&path).is_some_and(|v| v["accessToken"]["accessKeyId"].is_string());
            if is_session {
                std::fs::remove_file(&path).map_err(io(format!("removing {}", path.display())))?;
                removed += 1;
            }
        }
        if !global.common.quiet {
            eprintln!(
                "aws-assume: removed {removed} cached `aws login` session{}. {note}",
                if removed == 1 { "" } else { "s" }
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let profile = app.selection.name.clone();
    let session = app
        .files
        .has_profile(&profile)
        .then(|| app.files.profile(&profile))
        .transpose()?
        .and_then(|p| p.get("login_session").map(str::to_string));
    let Some(session) = session else {
        eprintln!("warning: the profile `{profile}` has no login_session; nothing to remove");
        return Ok(ExitCode::SUCCESS);
    };
    let path = token_path(&dir, &session);
    let _lock =
        FileLock::acquire_async(path.clone(), LockWait::new(format!("logging out the profile `{profile}`"), &app.env))
            .await?;
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(format!("removing {}", path.display()))(e)),
    }
    if !global.common.quiet {
        eprintln!("aws-assume: removed the cached `aws login` session of the profile `{profile}` ({session}). {note}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_codes() {
        let blob = STANDARD.encode("state=abc-123&code=XYZ%2B1");
        assert_eq!(parse_pasted(&format!("  {blob}\n")), Some(("XYZ+1".into(), "abc-123".into())));
        assert_eq!(parse_pasted("not base64!"), None);
        assert_eq!(parse_pasted(&STANDARD.encode("state=a")), None);
    }

    #[test]
    fn sessions_from_id_tokens_are_checked_arns() {
        let tok = |sub: &str| format!("h.{}.s", URL_SAFE_NO_PAD.encode(json!({"sub": sub}).to_string()));
        assert_eq!(
            session_of(&tok("arn:aws:iam::111111111111:user/alice")).as_deref(),
            Some("arn:aws:iam::111111111111:user/alice")
        );
        assert_eq!(session_of(&tok("arn:aws:iam::111111111111:user/a\n[profile x]")), None);
        assert_eq!(session_of(&tok("arn:aws:iam::1:user/a")), None);
        assert_eq!(session_of("garbage"), None);
    }
}
