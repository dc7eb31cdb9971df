//! Injected faults: latency, throttling above a request rate, 5xx errors, time-outs and truncated
//! bodies, optionally limited to some operations. Set from the scenario or at run time with
//! `PUT /_sandbox/faults`.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};

/// What to inject. Rates are probabilities in 0..=1, drawn from a seeded generator, so a run is
/// repeatable; `fail_first` fails the first N matching requests, for retry tests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Delay before every matching response, milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Requests per second allowed (token bucket); above it: 429 TooManyRequestsException
    /// (portal/OIDC) or 400 Throttling (STS).
    #[serde(default)]
    pub rate_limit: Option<f64>,
    /// Bucket size for `rate_limit`; defaults to the rate (one second's worth).
    #[serde(default)]
    pub burst: Option<f64>,
    /// Probability of an HTTP 500 InternalServerError / InternalFailure.
    #[serde(default)]
    pub error_rate: f64,
    /// The first N matching requests get an HTTP 500.
    #[serde(default)]
    pub fail_first: u64,
    /// Probability that the server never answers (holds the connection `timeout_ms`, then drops it).
    #[serde(default)]
    pub timeout_rate: f64,
    /// How long a time-out holds the connection, milliseconds (30 s by default).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Probability that the body is cut in half (Content-Length announces the whole body).
    #[serde(default)]
    pub truncate_rate: f64,
    /// Operations the faults apply to (e.g. `ListAccountRoles`); empty: every operation.
    #[serde(default)]
    pub operations: Vec<String>,
    /// Seed of the fault generator.
    #[serde(default)]
    pub seed: u64,
}

/// The fault to apply to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer normally.
    None,
    /// Answer 429 / Throttling.
    Throttle,
    /// Answer 500.
    ServerError,
    /// Hold the connection, then drop it.
    Timeout(Duration),
    /// Send half of the body.
    Truncate,
}

/// Faults plus their running state.
#[derive(Debug)]
pub struct FaultState {
    /// The configuration.
    pub faults: Faults,
    rng: StdRng,
    tokens: f64,
    last_refill: Instant,
    failed_so_far: u64,
}

impl FaultState {
    /// Starts with a full bucket.
    pub fn new(faults: Faults) -> Self {
        let tokens = faults.burst.or(faults.rate_limit).unwrap_or(0.0).max(1.0);
        Self { rng: StdRng::seed_from_u64(faults.seed), faults, tokens, last_refill: Instant::now(), failed_so_far: 0 }
    }

    /// The delay to add before answering `operation`.
    pub fn latency(&self, operation: &str) -> Duration {
        if self.applies(operation) { Duration::from_millis(self.faults.latency_ms) } else { Duration::ZERO }
    }

    fn applies(&self, operation: &str) -> bool {
        self.faults.operations.is_empty() || self.faults.operations.iter().any(|o| o == operation)
    }

    /// Decides the fault for one request to `operation` (consumes a rate-limit token).
    pub fn decide(&mut self, operation: &str) -> Fault {
        if !self.applies(operation) {
            return Fault::None;
        }
        if let Some(rate) = self.faults.rate_limit.filter(|r| *r > 0.0) {
            let burst = self.faults.burst.unwrap_or(rate).max(1.0);
            let now = Instant::now();
            let elapsed = now.duration_since(self.last_refill).as_secs_f64();
            self.last_refill = now;
            self.tokens = (self.tokens + elapsed * rate).min(burst);
            if self.tokens < 1.0 {
                return Fault::Throttle;
            }
            self.tokens -= 1.0;
        }
        if self.failed_so_far < self.faults.fail_first {
            self.failed_so_far += 1;
            return Fault::ServerError;
        }
        if self.faults.error_rate > 0.0 && self.rng.random::<f64>() < self.faults.error_rate {
            return Fault::ServerError;
        }
        if self.faults.timeout_rate > 0.0 && self.rng.random::<f64>() < self.faults.timeout_rate {
            return Fault::Timeout(Duration::from_millis(self.faults.timeout_ms.unwrap_or(30_000)));
        }
        if self.faults.truncate_rate > 0.0 && self.rng.random::<f64>() < self.faults.truncate_rate {
            return Fault::Truncate;
        }
        Fault::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_throttles_above_burst() {
        let mut s = FaultState::new(Faults { rate_limit: Some(5.0), ..Faults::default() });
        let throttled = (0..20).filter(|_| s.decide("X") == Fault::Throttle).count();
        // 5 tokens in the bucket, a few more may refill while the loop runs.
        assert!((14..=15).contains(&throttled), "throttled {throttled}");
    }

    #[test]
    fn operations_filter_and_fail_first() {
        let mut s =
            FaultState::new(Faults { fail_first: 2, operations: vec!["ListAccounts".into()], ..Faults::default() });
        assert_eq!(s.decide("GetRoleCredentials"), Fault::None);
        assert_eq!(s.decide("ListAccounts"), Fault::ServerError);
        assert_eq!(s.decide("ListAccounts"), Fault::ServerError);
        assert_eq!(s.decide("ListAccounts"), Fault::None);
    }

    #[test]
    fn rates_are_seeded() {
        let f = Faults { error_rate: 0.5, seed: 7, ..Faults::default() };
        let run = |f: &Faults| {
            let mut s = FaultState::new(f.clone());
            (0..50).map(|_| s.decide("X")).collect::<Vec<_>>()
        };
        assert_eq!(run(&f), run(&f));
        assert!(run(&f).contains(&Fault::ServerError) && run(&f).contains(&Fault::None));
    }
}
