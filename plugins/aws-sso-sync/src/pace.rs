//! Client-side pacing for the portal: a shared token bucket whose rate adapts. It starts
//! unlimited (only the concurrency bound applies); on a 429 it goes to 110% of what actually
//! succeeded over the last two seconds (at least 10/s: IdC's limit is about 20 TPS, and the first
//! answers may not be in yet), never up on a throttle; without a throttle for half a second it
//! gains 10%. Offering slightly more than the portal accepts keeps it saturated (a refused
//! request costs the portal nothing and is retried), so a big organisation finishes close to
//! requests ÷ limit, while the offered rate stays within ~10% of the limit. With
//! jittered exponential backoff per retried request, a big organisation finishes without a
//! failure and close to the fastest the portal's limit allows (IdC's is about 20 TPS; its users
//! hit 429 storms with tools that do not pace, peers-and-formats.md §4.1).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng;

/// The shared pacer.
#[derive(Debug)]
pub struct Pacer {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    rate: f64,
    tokens: f64,
    last: Instant,
    recent_ok: VecDeque<Instant>,
    last_throttle: Option<Instant>,
    last_raise: Instant,
    first_ok: Option<Instant>,
    throttled: u64,
}

const WINDOW: Duration = Duration::from_secs(2);
const CALM: Duration = Duration::from_millis(500);

impl Default for Pacer {
    fn default() -> Self {
        Self::new()
    }
}

impl Pacer {
    /// Unlimited until the first throttle.
    pub fn new() -> Self {
        let now = Instant::now();
        Self {
            state: Mutex::new(State {
                rate: f64::INFINITY,
                tokens: 0.0,
                last: now,
                recent_ok: VecDeque::new(),
                last_throttle: None,
                last_raise: now,
                first_ok: None,
                throttled: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a slot.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut s = self.lock();
                if s.rate.is_infinite() {
                    return;
                }
                let now = Instant::now();
                let elapsed = now.duration_since(s.last).as_secs_f64();
                s.last = now;
                s.tokens = (s.tokens + elapsed * s.rate).min(s.rate.max(1.0));
                if s.tokens >= 1.0 {
                    s.tokens -= 1.0;
                    return;
                }
                Duration::from_secs_f64((1.0 - s.tokens) / s.rate)
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// A request succeeded.
    pub fn success(&self) {
        let mut s = self.lock();
        let now = Instant::now();
        s.recent_ok.push_back(now);
        s.first_ok.get_or_insert(now);
        while s.recent_ok.front().is_some_and(|t| now.duration_since(*t) > WINDOW) {
            s.recent_ok.pop_front();
        }
        let calm = s.last_throttle.is_none_or(|t| now.duration_since(t) > CALM);
        if s.rate.is_finite() && calm && now.duration_since(s.last_raise) > CALM {
            s.rate *= 1.1;
            s.last_raise = now;
        }
    }

    /// A request was throttled.
    pub fn throttled(&self) {
        let mut s = self.lock();
        let now = Instant::now();
        while s.recent_ok.front().is_some_and(|t| now.duration_since(*t) > WINDOW) {
            s.recent_ok.pop_front();
        }
        // Successes per second over the window (at least a second of it, so the first answers
        // do not look like a huge rate).
        let span = s.first_ok.map(|f| now.duration_since(f).min(WINDOW)).unwrap_or(WINDOW).max(Duration::from_secs(1));
        let observed = s.recent_ok.len() as f64 / span.as_secs_f64();
        let fresh = s.last_throttle.is_none_or(|t| now.duration_since(t) > Duration::from_millis(250));
        if fresh {
            let target = (observed * 1.1).max(10.0);
            s.rate = if s.rate.is_finite() { s.rate.min(target) } else { target };
            s.tokens = 0.0;
            s.last = now;
        }
        s.last_throttle = Some(now);
        s.last_raise = now;
        s.throttled += 1;
    }

    /// How many throttles were seen.
    pub fn throttle_count(&self) -> u64 {
        self.lock().throttled
    }
}

/// Full-jitter exponential backoff for attempt `n` (0-based): up to 100 ms × 2ⁿ, at most 5 s.
pub fn backoff(n: u32) -> Duration {
    let cap = (100u64 << n.min(6)).min(5000);
    Duration::from_millis(rand::rng().random_range(cap / 4..=cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn throttling_sets_the_rate_from_what_succeeded() {
        let p = Pacer::new();
        for _ in 0..30 {
            p.acquire().await;
            p.success();
        }
        p.throttled();
        assert!((p.lock().rate - 33.0).abs() < 0.5, "110% of what succeeded: {}", p.lock().rate);
        p.lock().last_throttle = Some(Instant::now() - Duration::from_secs(1));
        p.lock().rate = 50.0;
        p.throttled();
        assert!(p.lock().rate < 34.0, "a throttle never raises the rate, and brings it to what works");
        let q = Pacer::new();
        q.throttled();
        assert_eq!(q.lock().rate, 10.0, "never below 10/s on the first throttle");
        let start = Instant::now();
        for _ in 0..5 {
            q.acquire().await;
        }
        assert!(start.elapsed() >= Duration::from_millis(400), "paced at 10/s");
        assert!(backoff(0) <= Duration::from_millis(100) && backoff(10) <= Duration::from_secs(5));
    }
}
