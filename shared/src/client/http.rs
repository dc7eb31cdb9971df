//! One bounded HTTP(S) GET for the few endpoints that are not AWS service APIs (the console
//! federation endpoint, the container credentials endpoint), on the TLS stack the SDK already
//! links (rustls with aws-lc, the system's roots): a whole HTTP client library would add a second
//! TLS stack. Every GET has a deadline (connect, headers and the whole body) and a body cap.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;

/// What a GET answered: the status and the body.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body (at most the cap).
    pub body: Bytes,
}

/// GETs `url` with `headers`, within `deadline`, reading at most `max_body` bytes. The error is
/// one line for a message (no URL credentials, no header values).
pub async fn get(url: &str, headers: &[(&str, &str)], deadline: Duration, max_body: usize) -> Result<Answer, String> {
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .map_err(|e| format!("no TLS roots: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, http_body_util::Empty<Bytes>>(connector);
    let mut request = http::Request::get(url.parse::<http::Uri>().map_err(|e| format!("not a URL: {e}"))?);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request = request.body(http_body_util::Empty::new()).map_err(|_| "a header value is not valid".to_string())?;
    let fetch = async {
        let resp = client.request(request).await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let body = http_body_util::Limited::new(resp.into_body(), max_body)
            .collect()
            .await
            .map_err(|e| format!("reading the answer: {e}"))?
            .to_bytes();
        Ok::<_, String>(Answer { status, body })
    };
    tokio::time::timeout(deadline, fetch).await.map_err(|_| format!("no answer within {} s", deadline.as_secs_f64()))?
}
