//! The company scroll (docs/intercom.md §7): one open scroll per workspace, the same
//! `scroll_param` on every page, an empty page or a 404 at the end, a 500 that asks for a
//! restart, and a 60-second idle expiry.
//!
//! Whether a 502, a 503 or a lost answer ends a scroll is not documented, so both
//! readings are served: the same `scroll_param` is asked again first (it resumes a scroll
//! that is alive), and the walk starts again only when Intercom asks for it or the param
//! is gone. A scroll left open (by an earlier walk or a killed process) that blocks a new
//! one is read to its end, which closes it, instead of being waited out.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use async_stream::try_stream;
use futures::{Stream, StreamExt};
use serde::Deserialize;

use super::client::{IntercomClient, Request};
use super::error::{IntercomError, Result};
use super::models::Company;
use super::retry::{Attempt, Decision, RetryPolicy};

/// Intercom's scroll page size; a shorter page is the last one.
const SCROLL_PAGE: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScrollOptions {
    /// Between tries when another scroll holds the workspace (`scroll_exists`).
    pub busy_wait: Duration,
    /// How many times to wait; by default a little over the 60-second idle expiry.
    pub busy_attempts: u32,
    /// How long the walks thrown away by restarts may take in all before the walk gives
    /// up: a count of restarts would be small for a big workspace and large for a small one.
    pub restart_budget: Duration,
}

impl Default for ScrollOptions {
    fn default() -> Self {
        Self { busy_wait: Duration::from_secs(5), busy_attempts: 14, restart_budget: Duration::from_secs(10 * 60) }
    }
}

/// What a company walk tells as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum ScrollEvent {
    /// Companies not given before in this walk, and the `scroll_param` of the scroll
    /// they came from: saved, it lets a later walk close a scroll this one leaves open.
    Page { companies: Vec<Company>, scroll_param: Option<String> },
    /// The walk starts again from the first page.
    Restarted(Restarts),
}

/// The restarts of a walk so far, against its budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restarts {
    pub count: u32,
    /// Time spent in the walks that were thrown away.
    pub lost: Duration,
    pub budget: Duration,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
struct ScrollPage {
    #[serde(default)]
    data: Vec<Company>,
    #[serde(default)]
    scroll_param: Option<String>,
}

/// Never two scrolls from this process for one workspace: a second would kill the first.
fn workspace_lock(key: (String, u64)) -> Arc<tokio::sync::Mutex<()>> {
    type Locks = Mutex<HashMap<(String, u64), Arc<tokio::sync::Mutex<()>>>>;
    static LOCKS: OnceLock<Locks> = OnceLock::new();
    let mut locks = LOCKS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    locks.entry(key).or_default().clone()
}

/// What a failed scroll call calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The same call again after a wait: the scroll may well be alive.
    Again(Duration),
    /// The scroll cannot go on: start the walk again from the first page.
    Restart,
    /// The param is gone: the end of the scroll, or its expiry.
    Gone,
    /// Another scroll holds the workspace.
    Busy,
    /// Not the scroll's to handle.
    Fail,
}

/// The 500 of docs/intercom.md §7 ("… Please restart the scroll operation."), as opposed
/// to any other 5xx, which says nothing of the scroll.
fn asks_for_restart(error: &IntercomError) -> bool {
    let IntercomError::Server { status: 500, error } = error else { return false };
    let message = error.message.as_deref().unwrap_or_default().to_ascii_lowercase();
    message.contains("restart") && message.contains("scroll")
}

/// Pure: what to do after a failed page call, `attempt` counting the retries of this call.
fn step(error: &IntercomError, has_param: bool, attempt: u32, policy: &RetryPolicy, jitter: f64) -> Step {
    let attempt_kind = match error {
        _ if asks_for_restart(error) && has_param => return Step::Restart,
        IntercomError::Server { status, .. } => Attempt::Status { code: *status, reset_in: None },
        IntercomError::Transport(_) => Attempt::Connect,
        IntercomError::NotFound(_) if has_param => return Step::Gone,
        IntercomError::Invalid { error, .. } if error.code == "scroll_exists" && !has_param => return Step::Busy,
        _ => return Step::Fail,
    };
    match policy.decide(attempt_kind, attempt, jitter) {
        Decision::RetryAfter(wait) => Step::Again(wait),
        Decision::Stop if has_param => Step::Restart,
        Decision::Stop => Step::Fail,
    }
}

/// The companies of a page not given before.
fn fresh(companies: Vec<Company>, seen: &mut HashSet<String>) -> Vec<Company> {
    companies.into_iter().filter(|c| seen.insert(c.id.clone())).collect()
}

enum WalkOutcome {
    /// The walk reached its end.
    Done,
    /// The walk broke off; start again from the first page.
    Restart(String),
}

impl IntercomClient {
    /// Every company, once, through the scroll.
    pub fn scroll_companies(&self) -> impl Stream<Item = Result<Company>> + Send + 'static {
        self.scroll_companies_with(self.scroll_options())
    }

    pub fn scroll_companies_with(
        &self,
        options: ScrollOptions,
    ) -> impl Stream<Item = Result<Company>> + Send + 'static {
        self.scroll_pages_with(None, options).flat_map(|event| {
            let companies: Vec<Result<Company>> = match event {
                Ok(ScrollEvent::Page { companies, .. }) => companies.into_iter().map(Ok).collect(),
                Ok(ScrollEvent::Restarted(_)) => Vec::new(),
                Err(err) => vec![Err(err)],
            };
            futures::stream::iter(companies)
        })
    }

    /// Every company, once, page by page, with the walk's restarts as they happen.
    /// `left_open` is the `scroll_param` of a scroll an earlier walk may have left open.
    pub fn scroll_pages(&self, left_open: Option<String>) -> impl Stream<Item = Result<ScrollEvent>> + Send + 'static {
        self.scroll_pages_with(left_open, self.scroll_options())
    }

    pub fn scroll_pages_with(
        &self,
        left_open: Option<String>,
        options: ScrollOptions,
    ) -> impl Stream<Item = Result<ScrollEvent>> + Send + 'static {
        let client = self.clone();
        let policy = client.retry_policy();
        try_stream! {
            let lock = workspace_lock(client.workspace_key());
            let _held = lock.lock().await;
            let mut seen: HashSet<String> = HashSet::new();
            // A scroll that may still be open; read to its end if it blocks a new one.
            let mut left_open = left_open;
            let mut restarts = Restarts { count: 0, lost: Duration::ZERO, budget: options.restart_budget, reason: String::new() };
            // After an ambiguous 404 (a full page, then "not found"), a restart that finds
            // nothing new proves it was the end rather than an expiry.
            let mut suspect_end = false;
            loop {
                let started = Instant::now();
                let mut param: Option<String> = None;
                let mut last_len: Option<usize> = None;
                let mut busy = 0u32;
                let mut attempt = 0u32;
                let mut new_this_walk = 0usize;
                let outcome = loop {
                    let failed = match client.scroll_page(param.as_deref()).await {
                        Ok(page) => {
                            attempt = 0;
                            if page.data.is_empty() {
                                break WalkOutcome::Done;
                            }
                            last_len = Some(page.data.len());
                            if page.scroll_param.is_some() {
                                param = page.scroll_param;
                            }
                            let companies = fresh(page.data, &mut seen);
                            new_this_walk += companies.len();
                            yield ScrollEvent::Page { companies, scroll_param: param.clone() };
                            if param.is_none() {
                                break WalkOutcome::Restart("a scroll page came without scroll_param".into());
                            }
                            continue;
                        }
                        Err(err) => err,
                    };
                    match step(&failed, param.is_some(), attempt, &policy, rand::random()) {
                        Step::Again(wait) => {
                            attempt += 1;
                            client.count_retry();
                            tracing::debug!(attempt, error = %failed, "asking for the same scroll page again");
                            tokio::time::sleep(wait).await;
                        }
                        Step::Restart => {
                            left_open = param.take();
                            break WalkOutcome::Restart(failed.to_string());
                        }
                        Step::Gone => match last_len {
                            Some(n) if n < SCROLL_PAGE => break WalkOutcome::Done,
                            _ if suspect_end && new_this_walk == 0 => break WalkOutcome::Done,
                            _ => {
                                suspect_end = true;
                                break WalkOutcome::Restart("the scroll expired or ended after a full page".into());
                            }
                        },
                        Step::Busy => {
                            if let Some(open) = left_open.take() {
                                // Most likely our own: reading it to its end closes it.
                                tracing::info!("a company scroll left open blocks a new one; reading it to its end");
                                let mut tries = 0u32;
                                loop {
                                    match client.scroll_page(Some(&open)).await {
                                        Ok(page) if page.data.is_empty() => break,
                                        Ok(page) => {
                                            tries = 0;
                                            let companies = fresh(page.data, &mut seen);
                                            new_this_walk += companies.len();
                                            yield ScrollEvent::Page { companies, scroll_param: Some(open.clone()) };
                                        }
                                        Err(err) => match step(&err, true, tries, &policy, rand::random()) {
                                            Step::Again(wait) => {
                                                tries += 1;
                                                client.count_retry();
                                                tokio::time::sleep(wait).await;
                                            }
                                            _ => break,
                                        },
                                    }
                                }
                                continue;
                            }
                            busy += 1;
                            if busy > options.busy_attempts {
                                Err(IntercomError::ScrollBusy)?;
                            }
                            tracing::warn!(
                                attempt = busy,
                                wait_s = options.busy_wait.as_secs_f32(),
                                "another company scroll is open for this Intercom workspace; waiting for it to end or expire"
                            );
                            tokio::time::sleep(options.busy_wait).await;
                        }
                        Step::Fail => Err(failed)?,
                    }
                };
                match outcome {
                    WalkOutcome::Done => break,
                    WalkOutcome::Restart(why) => {
                        restarts.count += 1;
                        restarts.lost += started.elapsed();
                        restarts.reason = why;
                        if restarts.lost > restarts.budget {
                            Err(IntercomError::ScrollIncomplete(restarts.describe()))?;
                        }
                        tracing::warn!(restart = restarts.count, reason = %restarts.reason, "restarting the company scroll");
                        yield ScrollEvent::Restarted(restarts.clone());
                    }
                }
            }
        }
    }

    async fn scroll_page(&self, param: Option<&str>) -> Result<ScrollPage> {
        let mut request = Request::get("/companies/scroll");
        if let Some(p) = param {
            request = request.query("scroll_param", p);
        }
        // Whether to ask again is the scroll's call (`step`), not the generic retry's.
        request.retry_server_errors = false;
        self.send::<ScrollPage>(request).await
    }
}

impl Restarts {
    /// "restarted 6 times, 10 min 4 s lost of a 10 min budget for restarts; last: …"
    pub fn describe(&self) -> String {
        let restarts = self;
        format!(
            "restarted {} time{}, {} lost of a {} budget for restarts; last: {}",
            restarts.count,
            if restarts.count == 1 { "" } else { "s" },
            human(restarts.lost),
            human(restarts.budget),
            restarts.reason
        )
    }
}

/// Whole seconds, as minutes and seconds past a minute.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 60, s % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intercom::ApiError;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn server(status: u16, message: &str) -> IntercomError {
        let error = ApiError { code: "server_error".into(), message: Some(message.into()), ..ApiError::default() };
        IntercomError::Server { status, error: Box::new(error) }
    }

    fn coded(code: &str) -> Box<ApiError> {
        Box::new(ApiError { code: code.into(), ..ApiError::default() })
    }

    #[test]
    fn the_scroll_failure_table_holds() {
        let policy = RetryPolicy::default();
        let restart = "Request failed due to an internal network error. Please restart the scroll operation.";
        let bare = || server(500, "An unexpected error occurred");
        let not_found = || IntercomError::NotFound(coded("not_found"));
        let busy = || IntercomError::Invalid { status: 400, error: coded("scroll_exists") };
        #[rustfmt::skip]
        let table: Vec<(IntercomError, bool, u32, Step)> = vec![
            // what failed                               has param  attempt  step
            (server(500, restart),                           true,  0, Step::Restart),
            (server(500, restart),                           false, 0, Step::Again(MS(125))),
            (bare(),                                         true,  0, Step::Again(MS(125))),
            (server(502, "Bad Gateway"),                     true,  1, Step::Again(MS(250))),
            (server(503, "Service Unavailable"),             true,  2, Step::Again(MS(500))),
            (IntercomError::Transport("reset".into()),       true,  0, Step::Again(MS(125))),
            (server(503, "Service Unavailable"),             true,  5, Step::Restart),
            (server(503, "Service Unavailable"),             false, 5, Step::Fail),
            (not_found(),                                    true,  0, Step::Gone),
            (not_found(),                                    false, 0, Step::Fail),
            (busy(),                                         false, 0, Step::Busy),
            (busy(),                                         true,  0, Step::Fail),
            (IntercomError::Unauthorized(coded("unauthorized")), true, 0, Step::Fail),
        ];
        for (error, has_param, attempt, expected) in table {
            assert_eq!(step(&error, has_param, attempt, &policy, 0.0), expected, "{error:?} with param {has_param}");
        }
    }

    #[test]
    fn restarts_are_told_against_their_budget() {
        let restarts = Restarts {
            count: 6,
            lost: Duration::from_secs(604),
            budget: Duration::from_secs(600),
            reason: "Intercom failed".into(),
        };
        assert_eq!(
            restarts.describe(),
            "restarted 6 times, 10 min 4 s lost of a 10 min budget for restarts; last: Intercom failed"
        );
        assert_eq!(human(Duration::from_millis(2_900)), "2 s");
    }
}
