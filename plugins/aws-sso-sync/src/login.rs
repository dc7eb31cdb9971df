//! OIDC login to IAM Identity Center, as the AWS CLI v2 does it, writing the AWS CLI's caches:
//! - authorization code with PKCE and a loopback redirect (default for sso-sessions since CLI
//!   2.22): the browser signs in, the portal redirects to `http://127.0.0.1:<port>/oauth/callback`;
//! - device code (`--use-device-code`, legacy profiles, hosts without a display, or when the
//!   loopback listener cannot be used): the user confirms a code on the verification page.
//!
//! The client is registered with scopes (default `sso:account:access`) so a refresh token comes
//! back; registration and token are cached exactly as the AWS CLI caches them. The whole login
//! runs under a lock on the token file: ten parallel logins open one browser tab and all succeed.

use std::time::Duration;

use shared::cache::sso::{
    Registration, new_token, read_registration, read_token, registration_path, token_path, write_registration,
    write_token,
};
use shared::cache::{format_z, parse_timestamp, sso_cache_dir};
use shared::client::ClientSettings;
use shared::credentials::sdk_error;
use shared::error::{CredentialError, Error};
use shared::fsutil::{FileLock, LockWait};
use shared::os::Env;
use shared::secret::Secret;
use time::OffsetDateTime;

/// What to log in to.
#[derive(Debug, Clone)]
pub struct Target {
    /// The sso-session (None: a legacy profile's start URL).
    pub session: Option<String>,
    /// Start URL.
    pub start_url: String,
    /// Identity Center region.
    pub region: String,
    /// Registration scopes.
    pub scopes: Vec<String>,
    /// The legacy profile logged in for (`--sso-profile`), if any.
    pub profile: Option<String>,
    /// The AWS portal a vanity start URL resolves to (None: the start URL is the portal). The
    /// OIDC calls name the portal; the caches stay keyed by the configured URL, as the AWS CLI's.
    pub portal_url: Option<String>,
}

impl Target {
    /// The URL the OIDC calls name: the resolved portal, else the start URL.
    pub fn portal(&self) -> &str {
        self.portal_url.as_deref().unwrap_or(&self.start_url)
    }

    fn label(&self) -> String {
        self.session.as_ref().map(|s| format!("sso-session `{s}`")).unwrap_or_else(|| self.start_url.clone())
    }
    /// The command that logs in to this target again.
    pub fn command(&self) -> String {
        match &self.session {
            Some(s) => format!("aws-sso-sync login --sso-session {s}"),
            None => format!("aws-sso-sync login --sso-profile {}", self.profile.as_deref().unwrap_or("PROFILE")),
        }
    }
}

/// How to log in.
#[derive(Debug, Clone)]
pub struct Options {
    /// Print the URL instead of opening a browser.
    pub no_browser: bool,
    /// Use the device-code flow.
    pub device_code: bool,
    /// Log in even if a valid token is cached.
    pub force: bool,
    /// How long to wait for the user.
    pub timeout: Duration,
    /// Quiet.
    pub quiet: bool,
    /// Where time comes from (the App's clock).
    pub clock: std::sync::Arc<dyn shared::os::Clock>,
}

/// The result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    /// sso-session or start URL.
    pub target: String,
    /// Token expiry.
    pub expires_at: String,
    /// True when a valid cached token made the login unnecessary.
    pub already_logged_in: bool,
    /// `pkce` or `device-code` (None when already logged in).
    pub flow: Option<&'static str>,
}

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const REFRESH_WINDOW: time::Duration = time::Duration::minutes(15);

fn denied(target: &Target, message: String) -> Error {
    CredentialError::Rejected {
        operation: "SSO login".into(),
        arn: Some(target.start_url.clone()),
        code: "LoginFailed".into(),
        message,
        command: Some(target.command()),
    }
    .into()
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::Io { context, source: e }
}

pub use shared::os::has_display;

/// Logs in (or finds a valid token), under the token file's lock.
pub async fn login(env: &Env, settings: &ClientSettings, target: &Target, opts: &Options) -> Result<Outcome, Error> {
    let dir = sso_cache_dir(env);
    let path = token_path(&dir, target.session.as_deref().unwrap_or(&target.start_url));
    // Parallel logins wait for the first one's sign-in (one browser tab), for as long as a
    // sign-in may take.
    let mut wait = LockWait::new(format!("signing in to {}", target.label()), env);
    wait.limit = wait.limit.max(opts.timeout + Duration::from_secs(30));
    let _lock = FileLock::acquire_async(path.clone(), wait).await?;
    let now = opts.clock.now();
    if !opts.force
        && let Some(t) = read_token(&path)
        && let Some(exp) = t.expires()
        && exp - now > REFRESH_WINDOW
    {
        return Ok(Outcome { target: target.label(), expires_at: format_z(exp), already_logged_in: true, flow: None });
    }
    // A vanity start URL is resolved (as the AWS CLI does at each login) to the portal the OIDC
    // service knows.
    let resolved;
    let target = match crate::vanity::resolve(&target.start_url, Some(&target.region)).await? {
        r if r.followed && target.portal_url.is_none() => {
            resolved = Target { portal_url: Some(r.url), ..target.clone() };
            &resolved
        }
        _ => target,
    };
    let oidc = settings.ssooidc(&target.region);
    let pkce = target.session.is_some() && !opts.device_code && (opts.no_browser || has_display(env));
    let (flow, token) = if pkce {
        match pkce_login(env, settings, &oidc, target, opts).await {
            Ok(t) => ("pkce", t),
            Err(LoopbackUnavailable(why)) => {
                if !opts.quiet {
                    eprintln!("aws-sso-sync: the loopback redirect cannot be used ({why}); using the device code flow");
                }
                ("device-code", device_login(env, &oidc, target, opts).await?)
            }
            Err(Failed(e)) => return Err(e),
        }
    } else {
        ("device-code", device_login(env, &oidc, target, opts).await?)
    };
    let (reg, access, expires_in, refresh) = token;
    let expires = now + time::Duration::seconds(i64::from(expires_in));
    write_token(
        &path,
        &new_token(
            &target.start_url,
            &target.region,
            access.expose(),
            expires,
            Some(&reg),
            refresh.as_ref().map(Secret::expose),
        ),
    )
    .map_err(io(format!("writing {}", path.display())))?;
    Ok(Outcome { target: target.label(), expires_at: format_z(expires), already_logged_in: false, flow: Some(flow) })
}

/// A new login: the registration, the access token, its lifetime in seconds, the refresh token.
type Token = (Registration, Secret, i32, Option<Secret>);

/// A cached registration that fits (unexpired, same grant kind), or a new one, cached.
async fn registration(
    oidc: &aws_sdk_ssooidc::Client,
    target: &Target,
    pkce: bool,
    redirect: Option<&str>,
    env: &Env,
    now: OffsetDateTime,
) -> Result<Registration, Error> {
    let dir = sso_cache_dir(env);
    let path = match &target.session {
        Some(s) => registration_path(&dir, &target.start_url, &target.region, &target.scopes, s),
        None => dir.join(format!("botocore-client-id-{}.json", target.region)),
    };
    if let Some(r) = read_registration(&path)
        && parse_timestamp(&r.expires_at).is_some_and(|e| e - now > time::Duration::minutes(15))
        && r.grant_types.as_ref().is_some_and(|g| g.iter().any(|x| x == "authorization_code")) == pkce
    {
        return Ok(r);
    }
    let name = match &target.session {
        Some(s) => format!("botocore-client-{s}"),
        None => format!("botocore-client-{}", now.unix_timestamp()),
    };
    let mut req = oidc
        .register_client()
        .client_name(name)
        .client_type("public")
        .set_scopes(Some(target.scopes.clone()).filter(|s| !s.is_empty()));
    if pkce {
        req = req
            .grant_types("authorization_code")
            .grant_types("refresh_token")
            .redirect_uris(redirect.unwrap_or("http://127.0.0.1/oauth/callback"))
            .issuer_url(target.portal());
    }
    let out = req.send().await.map_err(|e| sdk_error("sso-oidc:RegisterClient", Some(&target.start_url), None, e))?;
    let reg = Registration {
        client_id: out.client_id().unwrap_or_default().into(),
        client_secret: out.client_secret().unwrap_or_default().into(),
        expires_at: format_z(OffsetDateTime::from_unix_timestamp(out.client_secret_expires_at()).unwrap_or(now)),
        scopes: Some(target.scopes.clone()).filter(|s| !s.is_empty()),
        grant_types: pkce.then(|| vec!["authorization_code".into(), "refresh_token".into()]),
    };
    write_registration(&path, &reg).map_err(io(format!("writing {}", path.display())))?;
    Ok(reg)
}

enum PkceError {
    LoopbackUnavailable(String),
    Failed(Error),
}
use PkceError::{Failed, LoopbackUnavailable};

async fn pkce_login(
    env: &Env,
    settings: &ClientSettings,
    oidc: &aws_sdk_ssooidc::Client,
    target: &Target,
    opts: &Options,
) -> Result<Token, PkceError> {
    let listener =
        tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| LoopbackUnavailable(e.to_string()))?;
    let port = listener.local_addr().map_err(|e| LoopbackUnavailable(e.to_string()))?.port();
    let redirect = format!("http://127.0.0.1:{port}/oauth/callback");
    let reg = registration(oidc, target, true, Some("http://127.0.0.1/oauth/callback"), env, opts.clock.now())
        .await
        .map_err(Failed)?;
    let (verifier, challenge) = shared::client::loopback::pkce_pair();
    let state = uuid::Uuid::new_v4().to_string();
    let base = settings
        .endpoint("SSO_OIDC")
        .map(|u| u.trim_end_matches('/').to_string())
        .unwrap_or_else(|| format!("https://oidc.{}.amazonaws.com", target.region));
    let query: String = [
        ("response_type", "code"),
        ("client_id", reg.client_id.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("state", state.as_str()),
        ("code_challenge_method", "S256"),
        ("scopes", &target.scopes.join(",")),
        ("code_challenge", challenge.as_str()),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={}", shared::os::url_encode(v)))
    .collect::<Vec<_>>()
    .join("&");
    let url = format!("{base}/authorize?{query}");
    let opened = !opts.no_browser && shared::os::open_browser(env, &url);
    if !opts.quiet {
        if opened {
            eprintln!(
                "aws-sso-sync: signing in to {} in your browser. If no page opened, visit:\n  {url}",
                target.label()
            );
        } else {
            eprintln!(
                "aws-sso-sync: to sign in to {}, open this URL in a browser on this machine:\n  {url}",
                target.label()
            );
        }
    }
    let code = tokio::time::timeout(opts.timeout, shared::client::loopback::wait_for_callback(&listener, &state))
        .await
        .map_err(|_| Failed(denied(target, format!("no sign-in within {} seconds", opts.timeout.as_secs()))))?
        .map_err(|e| Failed(denied(target, e)))?;
    let out = oidc
        .create_token()
        .client_id(&reg.client_id)
        .client_secret(reg.client_secret.expose())
        .grant_type("authorization_code")
        .code(code)
        .redirect_uri(&redirect)
        .code_verifier(&verifier)
        .send()
        .await
        .map_err(|e| Failed(sdk_error("sso-oidc:CreateToken", Some(&target.start_url), Some(target.command()), e)))?;
    Ok((
        reg,
        Secret::new(out.access_token().unwrap_or_default()),
        out.expires_in(),
        out.refresh_token().map(Secret::new),
    ))
}

async fn device_login(
    env: &Env,
    oidc: &aws_sdk_ssooidc::Client,
    target: &Target,
    opts: &Options,
) -> Result<Token, Error> {
    let reg = registration(oidc, target, false, None, env, opts.clock.now()).await?;
    let start = oidc
        .start_device_authorization()
        .client_id(&reg.client_id)
        .client_secret(reg.client_secret.expose())
        .start_url(target.portal())
        .send()
        .await
        .map_err(|e| {
            sdk_error("sso-oidc:StartDeviceAuthorization", Some(&target.start_url), Some(target.command()), e)
        })?;
    // A device authorization without its code, page or user code cannot be completed: say so
    // (exit 4) instead of polling with nothing. The page must be a web address; the browser is
    // never handed anything else.
    let url = start.verification_uri_complete().or(start.verification_uri()).unwrap_or_default().to_string();
    let missing: Vec<&str> = [
        ("deviceCode", start.device_code().is_none_or(str::is_empty)),
        ("verificationUri", !(url.starts_with("https://") || url.starts_with("http://"))),
        ("userCode", start.user_code().is_none_or(str::is_empty)),
    ]
    .into_iter()
    .filter_map(|(k, bad)| bad.then_some(k))
    .collect();
    if !missing.is_empty() {
        return Err(Error::Service(shared::error::ServiceError {
            operation: "sso-oidc:StartDeviceAuthorization".into(),
            code: None,
            message: format!("the answer has no usable {} for {}", missing.join(", "), target.start_url),
        }));
    }
    let opened = !opts.no_browser && has_display(env) && shared::os::open_browser(env, &url);
    if !opts.quiet {
        eprintln!(
            "aws-sso-sync: to sign in to {}, {} {}\n  and confirm the code: {}",
            shared::text::clean(&target.label()),
            if opened { "confirm in the browser page that opened, or visit" } else { "visit" },
            shared::text::clip(&url),
            shared::text::clip(start.user_code().unwrap_or_default())
        );
    }
    // The server's polling interval, kept within 1..=30 s so a hostile answer cannot stall us.
    let mut interval = Duration::from_secs(u64::try_from(start.interval()).unwrap_or(5).clamp(1, 30));
    let deadline = tokio::time::Instant::now()
        + opts.timeout.min(Duration::from_secs(u64::try_from(start.expires_in()).unwrap_or(600).max(1)));
    loop {
        tokio::time::sleep(interval).await;
        if tokio::time::Instant::now() > deadline {
            return Err(denied(target, "the device code expired before it was confirmed".into()));
        }
        let res = oidc
            .create_token()
            .client_id(&reg.client_id)
            .client_secret(reg.client_secret.expose())
            .grant_type(DEVICE_GRANT)
            .device_code(start.device_code().unwrap_or_default())
            .send()
            .await;
        match res {
            Ok(out) => {
                return Ok((
                    reg,
                    Secret::new(out.access_token().unwrap_or_default()),
                    out.expires_in(),
                    out.refresh_token().map(Secret::new),
                ));
            }
            Err(e) => match e.as_service_error() {
                Some(s) if s.is_authorization_pending_exception() => {}
                Some(s) if s.is_slow_down_exception() => {
                    interval = (interval + Duration::from_secs(5)).min(Duration::from_secs(30))
                }
                Some(s) if s.is_expired_token_exception() => {
                    return Err(denied(target, "the device code expired before it was confirmed".into()));
                }
                Some(s) if s.is_access_denied_exception() => {
                    return Err(denied(target, "the sign-in was denied".into()));
                }
                _ => return Err(sdk_error("sso-oidc:CreateToken", Some(&target.start_url), Some(target.command()), e)),
            },
        }
    }
}
