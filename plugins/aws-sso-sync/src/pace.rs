//! Client-side pacing for the portal: a shared token bucket whose rate adapts (AIMD). It starts
//! unlimited (only the concurrency bound applies); on the first 429 it drops to what succeeded in
//! the last second (at least 10/s: IdC's limit is about 20 TPS, and the first answers may not be
//! in yet), then loses 15% per further throttle and gains max(1, 5%) per second without one. With
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
    throttled: u64,
}

const WINDOW: Duration = Duration::from_secs(1);

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
        while s.recent_ok.front().is_some_and(|t| now.duration_since(*t) > WINDOW) {
            s.recent_ok.pop_front();
        }
        let calm = s.last_throttle.is_none_or(|t| now.duration_since(t) > WINDOW);
        if s.rate.is_finite() && calm && now.duration_since(s.last_raise) > WINDOW {
            s.rate += (s.rate * 0.05).max(1.0);
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
        let observed = s.recent_ok.len() as f64;
        let fresh = s.last_throttle.is_none_or(|t| now.duration_since(t) > Duration::from_millis(250));
        if fresh {
            s.rate = if s.rate.is_finite() { (s.rate * 0.85).max(1.0) } else { observed.max(10.0) };
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
        assert_eq!(p.lock().rate, 30.0, "what succeeded in the last second");
        p.lock().last_throttle = Some(Instant::now() - Duration::from_secs(1));
        p.throttled();
        assert_eq!(p.lock().rate, 25.5, "15% less on a further throttle");
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
