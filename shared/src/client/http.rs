//! One bounded HTTP(S) request for the few endpoints that are not SDK operations (the console
//! federation endpoint, the container credentials endpoint, the Sign-In token endpoint of
//! `aws login`, start URL redirects), on the TLS stack the SDK already links (rustls with aws-lc,
//! the system's roots): a whole HTTP client library would add a second TLS stack. Every request
//! has a deadline (connect, headers and the whole body) and a body cap, and never follows a
//! redirect by itself.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;

/// What a request answered: the status, the headers and the body.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: http::HeaderMap,
    /// The body (at most the cap).
    pub body: Bytes,
}

impl Answer {
    /// A header as text (None when absent or not visible ASCII).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// GETs `url` with `headers`, within `deadline`, reading at most `max_body` bytes. The error is
/// one line for a message (no URL credentials, no header values).
pub async fn get(url: &str, headers: &[(&str, &str)], deadline: Duration, max_body: usize) -> Result<Answer, String> {
    send(http::Method::GET, url, headers, Bytes::new(), deadline, max_body).await
}

/// Sends one request (any method, `body` possibly empty); see [`get`].
pub async fn send(
    method: http::Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Bytes,
    deadline: Duration,
    max_body: usize,
) -> Result<Answer, String> {
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .map_err(|e| format!("no TLS roots: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, http_body_util::Full<Bytes>>(connector);
    let mut request =
        http::Request::builder().method(method).uri(url.parse::<http::Uri>().map_err(|e| format!("not a URL: {e}"))?);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request =
        request.body(http_body_util::Full::new(body)).map_err(|_| "a header value is not valid".to_string())?;
    let fetch = async {
        let resp = client.request(request).await.map_err(|e| crate::text::error_chain(&e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = http_body_util::Limited::new(resp.into_body(), max_body)
            .collect()
            .await
            .map_err(|e| format!("reading the answer: {e}"))?
            .to_bytes();
        Ok::<_, String>(Answer { status, headers, body })
    };
    tokio::time::timeout(deadline, fetch).await.map_err(|_| format!("no answer within {} s", deadline.as_secs_f64()))?
}
