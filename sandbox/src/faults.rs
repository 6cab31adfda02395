//! Injected failures, for tests and benchmarks of a sync under faults: gateway-style
//! 5xx answered before any handler, so that nothing is consumed, and the scroll's own
//! failures (docs/intercom.md §4, §5, §7).

use axum::http::StatusCode;

use super::error::ApiError;
use super::state::State;
use super::Sandbox;

/// What a failed scroll page call does to its scroll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScrollFault {
    /// The page was not served: the same `scroll_param` gets it on a retry.
    KeepsScroll,
    /// The scroll is gone: its `scroll_param` gets 404 `not_found` "scroll parameter not
    /// found" from then on, and a new scroll can be opened at once.
    EndsScroll,
}

/// A failure armed with `Sandbox::fail_scroll_page`.
#[derive(Clone, Copy, Debug)]
pub struct ScrollPageFault {
    pub after_pages: usize,
    pub status: u16,
    pub effect: ScrollFault,
}

/// Intercom's envelope for an injected 5xx (docs/intercom.md §4: every 4xx and 5xx body
/// is an `error.list`), with a code from the documented list: `service_unavailable` for
/// a 503, `request_timeout` for a 504, `server_error` for the others (the list has no
/// code of its own for a 502). A status that is not a 5xx is sent as a 500.
pub fn server_error(status: u16) -> ApiError {
    match status {
        502 => ApiError::new(StatusCode::BAD_GATEWAY, "server_error", "Bad Gateway"),
        503 => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable", "Service Unavailable"),
        504 => ApiError::new(StatusCode::GATEWAY_TIMEOUT, "request_timeout", "Gateway Timeout"),
        _ => match StatusCode::from_u16(status) {
            Ok(other) if other.is_server_error() && other != StatusCode::INTERNAL_SERVER_ERROR => {
                ApiError::new(other, "server_error", "Server Error")
            }
            _ => ApiError::server_error("An unexpected error occurred"),
        },
    }
}

/// The answer to a call that `fault_rate` picked: one of `fault_statuses`, in equal parts.
/// Drawn from a stream of its own, so the calls that fail for a seed stay the same
/// whichever statuses are configured.
pub fn injected(state: &mut State) -> ApiError {
    let statuses = &state.config.fault_statuses;
    let status = match statuses.len() {
        0 => 500,
        n => statuses[state.fault_status_rng.below(n as u64) as usize],
    };
    server_error(status)
}

impl Sandbox {
    /// Probability of an injected gateway-style 5xx on any authenticated call.
    pub fn set_fault_rate(&self, rate: f64) {
        self.lock().config.fault_rate = rate;
    }

    /// The statuses injected faults take, in equal parts (default 500, 502 and 503).
    pub fn set_fault_statuses(&self, statuses: &[u16]) {
        self.lock().config.fault_statuses = statuses.to_vec();
    }

    /// The next scroll page call after `after_pages` pages of a walk answers `status`
    /// (a 502 or a 503, say), once; `effect` says whether the scroll survives it. With
    /// 0, the call that would open a scroll fails, and `KeepsScroll` then opens none.
    pub fn fail_scroll_page(&self, after_pages: usize, status: u16, effect: ScrollFault) {
        self.lock().scroll_page_fault = Some(ScrollPageFault { after_pages, status, effect });
    }

    /// The next scroll walk gets one 500 after `pages` pages, and that scroll is closed.
    pub fn fail_scroll_after_pages(&self, pages: usize) {
        self.lock().scroll_fail_after = Some(pages);
    }

    /// The next `walks` scroll walks each get a 500 after `pages` pages: a walk that
    /// cannot be completed however often it starts again.
    pub fn fail_scrolls_after_pages(&self, pages: usize, walks: usize) {
        let mut state = self.lock();
        state.scroll_fail_after = Some(pages);
        state.scroll_fail_repeat = walks.saturating_sub(1);
    }

    /// As if the idle timeout had passed for the open scroll.
    pub fn expire_scrolls(&self) {
        self.lock().scroll = None;
    }
}
