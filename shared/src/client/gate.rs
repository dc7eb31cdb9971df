//! A gate in front of the HTTP connector, for audits of many accounts at once:
//! - a global cap on calls in flight, shared by every client of every account (a semaphore), so
//!   200 accounts audited together never open more connections than the cap;
//! - per-account adaptive pacing (additive increase, multiplicative decrease, as TCP): every
//!   retried attempt (the SDK retries throttling and transient errors) halves that account's call
//!   rate, every success raises it a step, so a throttled account slows itself down without
//!   holding back the others, and an account that is never throttled is never paced.
//!
//! Why by hand: the SDK's adaptive retry mode keeps one token bucket per client and collapses its
//! rate for minutes after a few throttles, and it has no cap across clients; tower's limiters do
//! not reach inside the SDK's connector. The connector itself is the SDK's default one (rustls
//! with aws-lc, the proxy from the environment), built as aws-smithy-runtime builds it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::{Builder, ConnectorBuilder, tls};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::sync::Semaphore;

/// The rate a throttled account starts from (calls per second).
const FIRST_RATE: f64 = 20.0;
/// The slowest an account is paced to: with a few of its calls queued, none waits long enough
/// to run into its attempt deadline (the wait is part of the attempt).
const MIN_RATE: f64 = 1.0;
/// Above this rate an account is no longer paced at all.
const FREE_RATE: f64 = 50.0;
/// The rate a success adds (calls per second).
const STEP: f64 = 0.5;

/// One account's pace: a call rate halved by every retried attempt and raised a step by every
/// success (additive increase, multiplicative decrease); unpaced until the first retry and again
/// once it climbs past [`FREE_RATE`].
#[derive(Debug, Default)]
pub struct Pace {
    state: Mutex<PaceState>,
}

#[derive(Debug, Default)]
struct PaceState {
    /// Calls per second; None: unpaced.
    rate: Option<f64>,
    next: Option<tokio::time::Instant>,
    retries: u64,
}

impl Pace {
    /// A pace that stays at `rate` calls per second (a service's documented limit, such as
    /// CloudTrail LookupEvents' 2 per second); unpaced when `rate` is not positive.
    pub fn fixed(rate: f64) -> Pace {
        Pace { state: Mutex::new(PaceState { rate: (rate > 0.0).then_some(rate), ..PaceState::default() }) }
    }

    /// Waits for this call's slot (at once while the account is unpaced).
    pub async fn wait(&self) {
        let slot = {
            let Ok(mut s) = self.state.lock() else { return };
            let Some(rate) = s.rate else { return };
            let now = tokio::time::Instant::now();
            let slot = s.next.map_or(now, |n| n.max(now));
            s.next = Some(slot + Duration::from_secs_f64(1.0 / rate));
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// An attempt is being retried: half the rate.
    pub fn slow_down(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.rate = Some(s.rate.map_or(FIRST_RATE, |r| (r / 2.0).max(MIN_RATE)));
            s.retries += 1;
        }
    }

    /// A call succeeded: a step faster.
    pub fn speed_up(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.rate = s.rate.map(|r| r + STEP).filter(|r| *r <= FREE_RATE);
            if s.rate.is_none() {
                s.next = None;
            }
        }
    }

    /// The spacing between calls now (zero: unpaced).
    pub fn spacing(&self) -> Duration {
        self.state.lock().ok().and_then(|s| s.rate).map_or(Duration::ZERO, |r| Duration::from_secs_f64(1.0 / r))
    }

    /// Retried attempts seen so far.
    pub fn retries(&self) -> u64 {
        self.state.lock().map(|s| s.retries).unwrap_or_default()
    }
}

/// The gate of one account: the global cap (shared) and the account's own pace.
#[derive(Debug, Clone)]
pub struct Gate {
    in_flight: Arc<Semaphore>,
    /// The account's pace (also fed by the call log's retry signal).
    pub pace: Arc<Pace>,
    /// One HTTPS client (connection pool, trust store) for every account.
    inner: SharedHttpClient,
}

impl Gate {
    /// A gate allowing `cap` calls in flight across every account that shares it.
    pub fn new(cap: usize) -> Gate {
        Gate { in_flight: Arc::new(Semaphore::new(cap.max(1))), pace: Arc::default(), inner: default_https_client() }
    }

    /// Another account's gate: the same global cap, its own pace.
    pub fn for_account(&self) -> Gate {
        Gate { in_flight: self.in_flight.clone(), pace: Arc::default(), inner: self.inner.clone() }
    }

    /// The SDK's default HTTPS client behind this gate.
    pub fn http_client(&self) -> SharedHttpClient {
        SharedHttpClient::new(Gated { inner: self.inner.clone(), gate: self.clone() })
    }
}

/// The client aws-smithy-runtime builds by default (`default-https-client`: rustls with aws-lc,
/// the proxy from the environment for current behavior versions).
fn default_https_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(move |settings, components| {
        let mut b =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc));
        b.set_connector_settings(settings.cloned());
        if let Some(c) = components {
            b.set_sleep_impl(c.sleep_impl());
        }
        b.set_proxy_config(Some(ProxyConfig::from_env()));
        b.build()
    })
}

#[derive(Debug)]
struct Gated {
    inner: SharedHttpClient,
    gate: Gate,
}

impl HttpClient for Gated {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(GatedConnector {
            inner: self.inner.http_connector(settings, components),
            gate: self.gate.clone(),
        })
    }
}

#[derive(Debug)]
struct GatedConnector {
    inner: SharedHttpConnector,
    gate: Gate,
}

impl HttpConnector for GatedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (inner, gate) = (self.inner.clone(), self.gate.clone());
        HttpConnectorFuture::new(async move {
            gate.pace.wait().await;
            let _permit = gate.in_flight.acquire().await.map_err(|e| ConnectorError::other(Box::new(e), None))?;
            let response = inner.call(request).await?;
            if response.status().is_success() {
                gate.pace.speed_up();
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn retries_slow_one_account_and_successes_bring_it_back() {
        let gate = Gate::new(8);
        let other = gate.for_account();
        let start = tokio::time::Instant::now();
        for _ in 0..4 {
            gate.pace.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "never throttled: never paced");
        gate.pace.slow_down();
        gate.pace.slow_down();
        assert_eq!(gate.pace.spacing(), Duration::from_millis(100), "20/s, then 10/s");
        let start = tokio::time::Instant::now();
        for _ in 0..3 {
            gate.pace.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::from_millis(200), "slots at 0, 100, 200 ms");
        assert_eq!(other.pace.spacing(), Duration::ZERO, "the other account is not slowed");
        for _ in 0..20 {
            gate.pace.slow_down();
        }
        assert_eq!(gate.pace.spacing(), Duration::from_secs(1), "never slower than 1/s");
        for _ in 0..98 {
            gate.pace.speed_up();
        }
        assert_eq!(gate.pace.spacing(), Duration::from_millis(20), "50/s after 98 successes");
        gate.pace.speed_up();
        assert_eq!(gate.pace.spacing(), Duration::ZERO, "past 50/s: unpaced again");
        assert_eq!(gate.pace.retries(), 22);
    }

    #[tokio::test]
    async fn the_cap_is_shared_by_every_account() {
        let gate = Gate::new(2);
        let other = gate.for_account();
        let a = gate.in_flight.clone().acquire_owned().await.unwrap();
        let _b = other.in_flight.clone().acquire_owned().await.unwrap();
        assert_eq!(gate.in_flight.available_permits(), 0);
        drop(a);
        assert_eq!(other.in_flight.available_permits(), 1);
    }
}
