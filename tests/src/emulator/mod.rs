//! The project's AWS emulator: `sso` (portal), `sso-oidc`, STS with real MFA checks, the console
//! federation endpoint and the Sign-In service of `aws login`, on one loopback port; plus `/_sandbox/*` control endpoints for tests.
//!
//! Every AWS request goes through [`Emulator::call`], which applies the injected faults, computes
//! the answer under the state lock, and appends the request to the log tests read.

pub mod control;
pub mod faults;
pub mod iam;
pub mod login;
pub mod oidc;
pub mod scenario;
pub mod signin;
pub mod sso;
pub mod state;
pub mod sts;

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{any, get, post};
use bytes::Bytes;

use faults::Fault;
use scenario::Scenario;
use state::{LogEntry, State};

/// A running (or ready to run) emulator. Cheap to clone.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    base_url: OnceLock<String>,
}

/// The AWS service a request is for: decides the error wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// awsQuery, XML.
    Sts,
    /// rest-json, `{"message"}` errors.
    Sso,
    /// rest-json, `{"error","error_description"}` errors.
    Oidc,
    /// The console federation endpoint (plain JSON / redirects).
    Signin,
    /// The Sign-In service of `aws login` (rest-json, `{"error","message"}` errors).
    Login,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::Sts => "sts",
            Service::Sso => "sso",
            Service::Oidc => "sso-oidc",
            Service::Signin => "signin",
            Service::Login => "signin-oauth",
        }
    }

    fn throttled(self) -> Reply {
        match self {
            Service::Sts => sts::error(StatusCode::BAD_REQUEST, "Throttling", "Rate exceeded"),
            Service::Sso | Service::Signin => {
                sso::error(StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsException", "Too many requests")
            }
            Service::Login => {
                login::error(StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsError", "server_error", "Too many requests")
            }
            Service::Oidc => oidc::error(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequestsException",
                "too_many_requests",
                "Too many requests",
            ),
        }
    }

    fn server_error(self) -> Reply {
        match self {
            Service::Sts => sts::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                "The request processing has failed because of an unknown error, exception or failure.",
            ),
            Service::Sso | Service::Signin => {
                sso::error(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerException", "An internal error occurred")
            }
            Service::Login => login::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerException",
                "server_error",
                "An internal error occurred",
            ),
            Service::Oidc => oidc::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerException",
                "server_error",
                "An internal error occurred",
            ),
        }
    }
}

/// An answer before it becomes an HTTP response.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Extra headers.
    pub headers: Vec<(HeaderName, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// The error code, for the request log.
    pub error: Option<String>,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: StatusCode, value: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![(header::CONTENT_TYPE, "application/json".into())],
            body: serde_json::to_vec(value).expect("JSON values serialize"),
            error: None,
        }
    }

    /// An HTML page.
    pub fn html(body: String) -> Self {
        Self {
            status: StatusCode::OK,
            headers: vec![(header::CONTENT_TYPE, "text/html; charset=utf-8".into())],
            body: body.into_bytes(),
            error: None,
        }
    }

    /// A 302 redirect.
    pub fn redirect(location: String) -> Self {
        Self { status: StatusCode::FOUND, headers: vec![(header::LOCATION, location)], body: Vec::new(), error: None }
    }

    fn into_response(self, truncate: bool) -> Response {
        let len = self.body.len();
        let mut builder =
            Response::builder().status(self.status).header("x-amzn-requestid", uuid::Uuid::new_v4().to_string());
        for (name, value) in self.headers {
            builder =
                builder.header(name, HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("invalid")));
        }
        let body = if truncate && len > 1 {
            // Announce the whole body, send half, then fail the stream: hyper closes the
            // connection and the client sees a short read, as with a proxy dying mid-answer.
            builder = builder.header(header::CONTENT_LENGTH, len);
            // The pause lets hyper flush the head and the first half before the stream fails.
            use futures_util::StreamExt;
            let half = Bytes::from(self.body[..len / 2].to_vec());
            let first = futures_util::stream::iter([Ok::<Bytes, std::io::Error>(half)]);
            let fail = futures_util::stream::once(async {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                Err::<Bytes, std::io::Error>(std::io::Error::other("truncated by the sandbox"))
            });
            Body::from_stream(first.chain(fail))
        } else {
            Body::from(self.body)
        };
        builder.body(body).expect("valid response parts")
    }
}

/// A response that never completes: the connection is dropped without an answer.
fn dropped_connection() -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![Err(std::io::Error::other("dropped by the sandbox"))];
    Response::builder()
        .header(header::CONTENT_LENGTH, 100)
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .expect("valid response parts")
}

impl Emulator {
    /// An emulator with the scenario's state.
    pub fn new(scenario: Scenario) -> Self {
        Self { inner: Arc::new(Inner { state: Mutex::new(State::new(scenario)), base_url: OnceLock::new() }) }
    }

    /// The state, locked. A panic in a handler never poisons it for the rest of the run.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The URL the emulator is reachable at (set by [`Emulator::serve`]).
    pub fn base_url(&self) -> String {
        self.inner.base_url.get().cloned().unwrap_or_else(|| "http://127.0.0.1".into())
    }

    /// The router of every endpoint.
    pub fn router(&self) -> Router {
        Router::new()
            // STS (awsQuery: POST form or GET query on /)
            .route("/", any(sts::handle))
            // IAM Identity Center portal
            .route("/assignment/accounts", get(sso::list_accounts))
            .route("/assignment/roles", get(sso::list_account_roles))
            .route("/federation/credentials", get(sso::get_role_credentials))
            .route("/logout", post(sso::logout))
            // SSO OIDC
            .route("/client/register", post(oidc::register_client))
            .route("/device_authorization", post(oidc::start_device_authorization))
            .route("/token", post(oidc::create_token))
            .route("/authorize", get(oidc::authorize))
            .route("/authorize/wait", get(oidc::authorize_wait))
            .route("/authorize/decide", post(oidc::authorize_decide))
            .route("/device", get(oidc::device_page))
            .route("/device/decide", post(oidc::device_decide))
            // console federation endpoint
            .route("/federation", get(signin::federation))
            // the Sign-In service of `aws login`
            .route("/v1/authorize", get(login::authorize))
            .route("/v1/token", post(login::token))
            .route("/v1/sessions/confirmation", get(login::confirmation))
            // control
            .nest("/_sandbox", control::router())
            .with_state(self.clone())
    }

    /// Serves on `listener` until the process ends.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        let addr = listener.local_addr()?;
        let _ = self.inner.base_url.set(format!("http://{addr}"));
        axum::serve(listener, self.router()).await
    }

    /// Runs one AWS request: faults, then `answer` under the lock, then the log.
    pub async fn call(
        &self,
        service: Service,
        operation: &str,
        params: serde_json::Map<String, serde_json::Value>,
        access_key_id: Option<String>,
        answer: impl FnOnce(&mut State) -> Reply,
    ) -> Response {
        let (latency, fault) = {
            let mut st = self.lock();
            (st.faults.latency(operation), st.faults.decide(operation))
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let reply = match fault {
            Fault::Throttle => service.throttled(),
            Fault::ServerError => service.server_error(),
            Fault::Timeout(hold) => {
                self.log(service, operation, params, access_key_id, 0, Some("Timeout".into()));
                tokio::time::sleep(hold).await;
                return dropped_connection();
            }
            Fault::None | Fault::Truncate => answer(&mut self.lock()),
        };
        let error = reply.error.clone().or_else(|| (fault == Fault::Truncate).then(|| "Truncated".into()));
        self.log(service, operation, params, access_key_id, reply.status.as_u16(), error);
        reply.into_response(fault == Fault::Truncate)
    }

    fn log(
        &self,
        service: Service,
        operation: &str,
        mut params: serde_json::Map<String, serde_json::Value>,
        access_key_id: Option<String>,
        status: u16,
        error: Option<String>,
    ) {
        for secret in
            ["clientSecret", "codeVerifier", "refreshToken", "WebIdentityToken", "Session", "code", "deviceCode"]
        {
            if params.contains_key(secret) {
                params.insert(secret.into(), "<redacted>".into());
            }
        }
        let mut st = self.lock();
        let entry = LogEntry {
            seq: st.log.len() as u64 + 1,
            service: service.name().into(),
            operation: operation.into(),
            params,
            status,
            access_key_id,
            error,
            unix_ms: st.now_ms(),
        };
        st.log.push(entry);
    }
}

/// A string map as a JSON object (for the request log).
pub fn to_params<'a>(
    pairs: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> serde_json::Map<String, serde_json::Value> {
    pairs.into_iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect()
}

/// A unix time as ISO 8601 `2026-01-01T00:00:00Z` (STS's and the AWS CLI's format).
pub fn iso8601(unix: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")).expect("formats")
}
