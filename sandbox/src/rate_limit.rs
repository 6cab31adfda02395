//! Per-token budgets over 10-second windows aligned to the sandbox clock
//! (docs/intercom.md §5).

use axum::http::{HeaderMap, HeaderValue, StatusCode};

use super::error::ApiError;
use super::state::State;

pub const WINDOW: i64 = 10;

pub struct Budget {
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds when the window refills.
    pub reset: i64,
    pub exceeded: bool,
}

pub fn spend(state: &mut State, token: &str) -> Budget {
    let limit = state.config.rate_limit_per_window;
    let window_start = state.now().div_euclid(WINDOW) * WINDOW;
    let entry = state.windows.entry(token.to_string()).or_insert((window_start, 0));
    if entry.0 != window_start {
        *entry = (window_start, 0);
    }
    let exceeded = entry.1 >= limit;
    if !exceeded {
        entry.1 += 1;
    }
    Budget { limit, remaining: limit.saturating_sub(entry.1), reset: window_start + WINDOW, exceeded }
}

/// A refusal from `Sandbox::storm_429`: the window's limit, nothing left, a refill in one
/// second. The window itself is not spent, as an exceeded one is not.
pub fn storm(state: &State) -> Budget {
    Budget { limit: state.config.rate_limit_per_window, remaining: 0, reset: state.now() + 1, exceeded: true }
}

impl Budget {
    pub fn write(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(if self.exceeded { 0 } else { self.remaining }));
        headers.insert("x-ratelimit-reset", HeaderValue::from(self.reset));
    }

    pub fn error(&self) -> ApiError {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_exceeded",
            format!("Exceeded rate limit of {} in 10_seconds", self.limit),
        )
    }
}
