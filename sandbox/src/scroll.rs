//! The companies scroll (docs/intercom.md §7): one open scroll per workspace, pages of
//! 100, the same `scroll_param` on every page, an empty page at the end, then the param is
//! gone.

use std::time::Instant;

use axum::http::StatusCode;

use super::error::ApiError;
use super::faults::{self, ScrollFault};
use super::state::State;

pub const PAGE: usize = 100;

pub struct Scroll {
    pub param: String,
    pub next: usize,
    pub pages_served: usize,
    pub fail_after: Option<usize>,
    last_used: Instant,
    last_used_clock: i64,
}

impl Scroll {
    fn idle(&self, state: &State) -> bool {
        let timeout = state.config.scroll_idle_timeout;
        self.last_used.elapsed() >= timeout || (state.now() - self.last_used_clock) >= timeout.as_secs().max(1) as i64
    }
}

/// One page: the indices of the companies on it and the param to send back.
pub fn page(state: &mut State, param: Option<&str>) -> Result<(Vec<usize>, String), ApiError> {
    if let Some(open) = &state.scroll {
        if open.idle(state) {
            state.scroll = None;
        }
    }
    let opening = param.is_none();
    let mut scroll = match (param, state.scroll.take()) {
        (None, Some(open)) => {
            state.scroll = Some(open);
            return Err(ApiError::bad_request("scroll already exists for this workspace").with_code("scroll_exists"));
        }
        (None, None) => Scroll {
            param: state.misc_rng.uuid(),
            next: 0,
            pages_served: 0,
            fail_after: match state.scroll_fail_after.take() {
                Some(pages) if state.scroll_fail_repeat > 0 => {
                    state.scroll_fail_repeat -= 1;
                    state.scroll_fail_after = Some(pages);
                    Some(pages)
                }
                other => other,
            },
            last_used: Instant::now(),
            last_used_clock: state.now(),
        },
        (Some(p), Some(open)) if open.param == p => open,
        (Some(_), other) => {
            state.scroll = other;
            return Err(ApiError::not_found("scroll parameter not found"));
        }
    };
    if let Some(fault) = state.scroll_page_fault.filter(|f| scroll.pages_served >= f.after_pages) {
        state.scroll_page_fault = None;
        state.stats.faults_injected += 1;
        // Kept, an opening call leaves no scroll: its param never reached the client.
        if fault.effect == ScrollFault::KeepsScroll && !opening {
            state.scroll = Some(scroll);
        }
        return Err(faults::server_error(fault.status));
    }
    if scroll.fail_after == Some(scroll.pages_served) {
        state.stats.faults_injected += 1;
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Request failed due to an internal network error. Please restart the scroll operation.",
        ));
    }
    let include_empty = state.scroll_includes_companies_without_users;
    let mut rows = Vec::with_capacity(PAGE);
    let mut i = scroll.next;
    while i < state.companies.len() && rows.len() < PAGE {
        let company = &state.companies[i];
        if !company.deleted && (include_empty || company.user_count > 0) {
            rows.push(i);
        }
        i += 1;
    }
    scroll.next = i;
    scroll.pages_served += 1;
    scroll.last_used = Instant::now();
    scroll.last_used_clock = state.now();
    let param = scroll.param.clone();
    // The empty page ends the scroll: its param expires with it.
    if !rows.is_empty() {
        state.scroll = Some(scroll);
    }
    Ok((rows, param))
}
