//! Spends Intercom's rate budget without tripping it, across every task that uses the
//! same token: the budget is read from `X-RateLimit-*` and kept per token, process-wide.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const PROBE_WAIT: Duration = Duration::from_millis(20);
/// Waited past a window's reset, so that a call lands after the refill.
const REFILL_SLACK: Duration = Duration::from_millis(100);

/// The budget of one token against one Intercom host.
#[derive(Debug, Default)]
pub struct RateBudget {
    state: Mutex<Window>,
    waits: AtomicU64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Window {
    limit: Option<u32>,
    remaining: Option<u32>,
    /// Unix seconds at which the window refills, as the server said.
    reset_at: Option<u64>,
    /// Calls sent and not yet answered: they will spend budget the headers don't show yet.
    in_flight: u32,
}

/// How long to wait before the next call, from what is known of the window; `now_ms` in
/// Unix milliseconds, so that a wait ends at the refill and not up to a second after it
/// (a tenth of each window lost, at full speed).
fn wait_needed(w: &Window, now_ms: u64) -> Option<Duration> {
    // Until a first answer tells the budget, one call at a time: a burst into a window
    // someone else already spent would bring one 429 per call.
    let Some(remaining) = w.remaining else {
        return (w.in_flight > 0).then_some(PROBE_WAIT);
    };
    if remaining > w.in_flight {
        return None;
    }
    let reset_at = w.reset_at?;
    // The window is 10 seconds; a reset further away than that is clock skew.
    let ms = (reset_at * 1_000).saturating_sub(now_ms).min(10_000);
    Some(Duration::from_millis(ms) + REFILL_SLACK)
}

impl RateBudget {
    /// The budget shared by every client of this token on this host.
    pub fn shared(base_url: &str, token_fingerprint: u64) -> Arc<RateBudget> {
        type Budgets = Mutex<HashMap<(String, u64), Arc<RateBudget>>>;
        static BUDGETS: OnceLock<Budgets> = OnceLock::new();
        let mut budgets = BUDGETS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        budgets.entry((base_url.to_string(), token_fingerprint)).or_default().clone()
    }

    /// Waits until a call fits in the window, then counts it as in flight.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut w = self.state.lock().unwrap_or_else(|e| e.into_inner());
                match wait_needed(&w, unix_now_ms()) {
                    None => {
                        w.in_flight += 1;
                        return;
                    }
                    Some(wait) => {
                        // Once the window has refilled, the next answer will tell the truth.
                        if w.reset_at.is_some_and(|r| r <= unix_now()) {
                            w.remaining = w.limit;
                        }
                        wait
                    }
                }
            };
            if wait != PROBE_WAIT {
                self.waits.fetch_add(1, Ordering::Relaxed);
            }
            tracing::debug!(wait_ms = wait.as_millis() as u64, "waiting for the Intercom rate window");
            tokio::time::sleep(wait).await;
            let mut w = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if w.reset_at.is_some_and(|r| r <= unix_now()) {
                w.remaining = w.limit;
            }
        }
    }

    /// Records an answer: the headers it carried, if any, and that the call is done.
    pub fn release(&self, limit: Option<u32>, remaining: Option<u32>, reset_at: Option<u64>) {
        let mut w = self.state.lock().unwrap_or_else(|e| e.into_inner());
        w.in_flight = w.in_flight.saturating_sub(1);
        if let Some(limit) = limit {
            w.limit = Some(limit);
        }
        if let Some(reset_at) = reset_at {
            // Answers can arrive out of order: a later window's figures win.
            if w.reset_at.is_none_or(|old| reset_at >= old) {
                let same_window = w.reset_at == Some(reset_at);
                w.reset_at = Some(reset_at);
                if let Some(remaining) = remaining {
                    w.remaining =
                        Some(if same_window { w.remaining.map_or(remaining, |r| r.min(remaining)) } else { remaining });
                }
            }
        } else if let Some(remaining) = remaining {
            w.remaining = Some(remaining);
        }
    }

    /// Marks the window as spent until `reset_at` (after a 429).
    pub fn exhausted(&self, reset_at: Option<u64>) {
        let mut w = self.state.lock().unwrap_or_else(|e| e.into_inner());
        w.remaining = Some(0);
        if let Some(reset_at) = reset_at {
            w.reset_at = Some(reset_at);
        }
    }

    /// How many times a call waited for the window (shown as progress).
    pub fn waits(&self) -> u64 {
        self.waits.load(Ordering::Relaxed)
    }
}

pub(crate) fn unix_now() -> u64 {
    unix_now_ms() / 1_000
}

fn unix_now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(remaining: u32, in_flight: u32, reset_at: u64) -> Window {
        Window { limit: Some(100), remaining: Some(remaining), reset_at: Some(reset_at), in_flight }
    }

    #[test]
    fn a_call_goes_at_once_while_the_window_has_room() {
        assert_eq!(wait_needed(&window(5, 4, 1_000), 995_000), None);
    }

    #[test]
    fn calls_in_flight_count_against_the_window() {
        assert_eq!(wait_needed(&window(5, 5, 1_000), 995_000), Some(Duration::from_millis(5_100)));
    }

    #[test]
    fn a_spent_window_is_waited_for_to_the_millisecond_not_the_second() {
        assert_eq!(wait_needed(&window(0, 0, 1_000), 999_900), Some(Duration::from_millis(200)));
    }

    #[test]
    fn an_unknown_window_lets_one_call_probe_it() {
        assert_eq!(wait_needed(&Window::default(), 0), None);
        assert_eq!(wait_needed(&Window { in_flight: 1, ..Window::default() }, 0), Some(PROBE_WAIT));
    }

    #[test]
    fn a_reset_beyond_one_window_is_treated_as_clock_skew() {
        assert_eq!(wait_needed(&window(0, 0, 10_000), 0), Some(Duration::from_millis(10_100)));
    }

    #[test]
    fn answers_from_an_older_window_do_not_overwrite_a_newer_one() {
        let budget = RateBudget::default();
        budget.release(Some(100), Some(50), Some(2_000));
        budget.release(Some(100), Some(90), Some(1_990));
        let w = *budget.state.lock().unwrap();
        assert_eq!((w.remaining, w.reset_at), (Some(50), Some(2_000)));
    }

    #[test]
    fn within_one_window_the_lowest_remaining_wins() {
        let budget = RateBudget::default();
        budget.release(Some(100), Some(40), Some(2_000));
        budget.release(Some(100), Some(45), Some(2_000));
        assert_eq!(budget.state.lock().unwrap().remaining, Some(40));
    }

    #[test]
    fn clients_of_one_token_share_one_budget() {
        let a = RateBudget::shared("http://x", 7);
        let b = RateBudget::shared("http://x", 7);
        let c = RateBudget::shared("http://x", 8);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }
}
