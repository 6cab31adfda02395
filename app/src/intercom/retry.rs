//! When to try a call again, and after how long: a pure function, tested as a table.

use std::time::Duration;

/// What happened to one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// An HTTP status; `reset_in` is what `X-RateLimit-Reset` leaves of the window.
    Status {
        code: u16,
        reset_in: Option<Duration>,
    },
    /// No answer in time, or the connection failed: the call may not have happened.
    Timeout,
    Connect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Stop,
    RetryAfter(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts after the first for 5xx, timeouts and connection failures.
    pub max_retries: u32,
    /// Attempts after the first for 429s: waiting for the window costs nothing but time.
    pub max_rate_limited: u32,
    pub base: Duration,
    pub cap: Duration,
    /// Waited on a 429 that carries no usable reset: one window.
    pub window: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 5,
            max_rate_limited: 20,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(30),
            window: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// `attempt` counts from 0 for the first retry; `jitter` is uniform in [0, 1).
    pub fn decide(&self, outcome: Attempt, attempt: u32, jitter: f64) -> Decision {
        match outcome {
            Attempt::Status { code: 429, reset_in } => {
                if attempt >= self.max_rate_limited {
                    return Decision::Stop;
                }
                // Intercom sends no Retry-After: the window's reset says when to come back.
                // A little slack keeps us from landing a hair before the refill.
                let wait = reset_in.map(|d| d.min(self.window)).unwrap_or(self.window);
                Decision::RetryAfter(wait + Duration::from_millis(50 + (jitter * 200.0) as u64))
            }
            Attempt::Status { code: 500 | 502 | 503 | 504, .. } | Attempt::Timeout | Attempt::Connect => {
                if attempt >= self.max_retries {
                    return Decision::Stop;
                }
                Decision::RetryAfter(self.backoff(attempt, jitter))
            }
            Attempt::Status { .. } => Decision::Stop,
        }
    }

    /// Exponential, capped, with "equal jitter": half fixed, half random, so retries from
    /// several tasks spread out but never collapse to zero.
    fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = self.base.saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX));
        let capped = exp.min(self.cap);
        let half = capped / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Attempt::*;
    use Decision::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn the_retry_table_holds() {
        let policy = RetryPolicy::default();
        let status = |code| Status { code, reset_in: None };
        #[rustfmt::skip]
        let table: &[(Attempt, u32, f64, Decision)] = &[
            // what happened                                   attempt jitter  decision
            (status(200),                                          0, 0.0, Stop),
            (status(400),                                          0, 0.5, Stop),
            (status(401),                                          0, 0.5, Stop),
            (status(403),                                          0, 0.5, Stop),
            (status(404),                                          0, 0.5, Stop),
            (status(422),                                          0, 0.5, Stop),
            (status(500),                                          0, 0.0, RetryAfter(MS(125))),
            (status(500),                                          0, 1.0, RetryAfter(MS(250))),
            (status(502),                                          1, 0.0, RetryAfter(MS(250))),
            (status(503),                                          2, 0.0, RetryAfter(MS(500))),
            (Timeout,                                              3, 0.0, RetryAfter(MS(1000))),
            (Connect,                                              4, 0.0, RetryAfter(MS(2000))),
            (status(504),                                          5, 0.0, Stop),
            (Status { code: 429, reset_in: Some(MS(3000)) },       0, 0.0, RetryAfter(MS(3050))),
            (Status { code: 429, reset_in: Some(MS(0)) },          7, 1.0, RetryAfter(MS(250))),
            (Status { code: 429, reset_in: Some(Duration::from_secs(3600)) }, 0, 0.0, RetryAfter(MS(10_050))),
            (Status { code: 429, reset_in: None },                 0, 0.0, RetryAfter(MS(10_050))),
            (Status { code: 429, reset_in: None },                20, 0.0, Stop),
        ];
        for &(outcome, attempt, jitter, expected) in table {
            assert_eq!(policy.decide(outcome, attempt, jitter), expected, "{outcome:?} at attempt {attempt}");
        }
    }

    #[test]
    fn backoff_never_exceeds_the_cap() {
        let policy = RetryPolicy { max_retries: 100, ..RetryPolicy::default() };
        for attempt in 0..100 {
            match policy.decide(Attempt::Timeout, attempt, 0.999) {
                Decision::RetryAfter(d) => assert!(d <= policy.cap, "{d:?} at {attempt}"),
                Decision::Stop => panic!("stopped at {attempt}"),
            }
        }
    }
}
