//! `--server -- CMD`: credentials that outlive the hour. A credentials endpoint on 127.0.0.1 (a
//! random port) serves the child the container-credentials protocol every AWS SDK already polls
//! (`AWS_CONTAINER_CREDENTIALS_FULL_URI` + `AWS_CONTAINER_AUTHORIZATION_TOKEN`), answering each
//! request from the cache or by refreshing the chain (the MFA session is reused while valid, so no
//! prompt mid-run; when one is unavoidable it goes to the terminal). The child gets no static
//! keys. Requests without the random token are refused. The endpoint lives as long as this process:
//! it stops when CMD exits, and a killed parent leaves nothing listening. CMD's exit status (and a
//! signal that ended it, as 128 + N) is ours; SIGINT, SIGTERM and SIGHUP sent to us are passed on.
//!
//! Built on hyper's HTTP/1 server (one connection at a time: one child asks, and a refresh must
//! not run twice at once). It owns the endpoint and the child; the chain is `shared::credentials`.

use std::convert::Infallible;
use std::ffi::OsString;
use std::process::ExitCode;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use serde_json::json;
use shared::cache;
use shared::config::Plan;
use shared::credentials::{self, Context};
use shared::error::{Error, Hint};

/// Variables the child must not inherit: they would win over the endpoint, or name a profile.
const HIDDEN: [&str; 9] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

fn random_token() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares without leaking, through timing, how much of the token a guess got right.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    r
}

/// One request: the token checked, then credentials from the cache or a refreshed chain.
async fn answer(
    ctx: &Context<'_>,
    plan: &Plan,
    token: &str,
    req: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let given = req.headers().get(hyper::header::AUTHORIZATION).map(|v| v.as_bytes()).unwrap_or_default();
    if !same(given, token.as_bytes()) {
        return reply(
            StatusCode::FORBIDDEN,
            json!({"code": "AccessDenied", "message": "missing or wrong authorization token"}),
        );
    }
    match credentials::run_plan(ctx, plan).await {
        Ok(r) => {
            let c = &r.credentials;
            reply(
                StatusCode::OK,
                json!({
                    "AccessKeyId": c.access_key_id,
                    "SecretAccessKey": c.secret_access_key.expose(),
                    "Token": c.session_token.as_ref().map(|t| t.expose()),
                    "Expiration": c.expiration.map(cache::format_z),
                    "RoleArn": r.arn,
                }),
            )
        }
        Err(e) => {
            eprintln!("aws-assume: --server: {}", shared::text::clean(&e.to_string()));
            if let Some(h) = e.hint() {
                eprintln!("hint: {}", shared::text::clean(&h));
            }
            reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"code": "CredentialsUnavailable", "message": e.to_string()}),
            )
        }
    }
}

/// Runs `command` with the endpoint until it exits.
pub async fn run(
    ctx: &Context<'_>,
    plan: &Plan,
    command: &[OsString],
    region: Option<&str>,
) -> Result<ExitCode, Error> {
    let io = |what: &str| {
        let what = what.to_string();
        move |source| Error::Io { context: what, source }
    };
    let listener =
        tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(io("starting the credentials endpoint"))?;
    let port = listener.local_addr().map_err(io("starting the credentials endpoint"))?.port();
    let token = random_token();
    let mut cmd = tokio::process::Command::new(&command[0]);
    cmd.args(&command[1..]);
    for name in HIDDEN {
        cmd.env_remove(name);
    }
    cmd.env("AWS_CONTAINER_CREDENTIALS_FULL_URI", format!("http://127.0.0.1:{port}/credentials"))
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", &token)
        .env(shared::env_vars::AWS_ASSUME_PROFILE, &plan.profile);
    if let Some(r) = region {
        cmd.env("AWS_REGION", r).env("AWS_DEFAULT_REGION", r);
    }
    let mut child = cmd.spawn().map_err(io(&format!("cannot run {}", command[0].to_string_lossy())))?;
    let mut signals = Signals::new();
    loop {
        tokio::select! {
            status = child.wait() => return Ok(exit_of(status.map_err(io("waiting for the command"))?)),
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let service = hyper::service::service_fn(|req| async { Ok::<_, Infallible>(answer(ctx, plan, &token, req).await) });
                let conn = hyper::server::conn::http1::Builder::new()
                    .keep_alive(false)
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                // One connection at a time, bounded: a client that stalls cannot hold the endpoint.
                let _ = tokio::time::timeout(std::time::Duration::from_secs(120), conn).await;
            }
            Some(sig) = signals.next() => forward(&child, sig),
        }
    }
}

fn exit_of(status: std::process::ExitStatus) -> ExitCode {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return ExitCode::from(128u8.saturating_add(u8::try_from(sig).unwrap_or(0)));
        }
    }
    ExitCode::from(status.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1))
}

/// The signals we pass on to the child.
struct Signals {
    #[cfg(unix)]
    streams: Vec<(rustix::process::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use rustix::process::Signal;
            use tokio::signal::unix::{SignalKind, signal};
            let kinds = [
                (Signal::INT, SignalKind::interrupt()),
                (Signal::TERM, SignalKind::terminate()),
                (Signal::HUP, SignalKind::hangup()),
            ];
            Self { streams: kinds.into_iter().filter_map(|(n, k)| signal(k).ok().map(|s| (n, s))).collect() }
        }
        #[cfg(not(unix))]
        Self {}
    }

    #[cfg(unix)]
    async fn next(&mut self) -> Option<rustix::process::Signal> {
        #[cfg(unix)]
        {
            if self.streams.is_empty() {
                return std::future::pending().await;
            }
            let futures = self.streams.iter_mut().map(|(n, s)| {
                let n = *n;
                Box::pin(async move { s.recv().await.map(|_| n) })
            });
            futures_util::future::select_all(futures).await.0
        }
    }

    #[cfg(not(unix))]
    async fn next(&mut self) -> Option<()> {
        std::future::pending().await
    }
}

#[cfg(unix)]
fn forward(child: &tokio::process::Child, signal: rustix::process::Signal) {
    if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()).and_then(rustix::process::Pid::from_raw) {
        let _ = rustix::process::kill_process(pid, signal);
    }
}

#[cfg(not(unix))]
fn forward(_: &tokio::process::Child, _: ()) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_compared_whole() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(same(a.as_bytes(), a.as_bytes()));
        assert!(!same(a.as_bytes(), b.as_bytes()));
        assert!(!same(a.as_bytes(), &a.as_bytes()[..63]));
        assert!(!same(b"", a.as_bytes()));
    }
}
