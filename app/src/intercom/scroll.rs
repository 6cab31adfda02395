//! The company scroll (docs/intercom.md §7): one open scroll per workspace, the same
//! `scroll_param` on every page, an empty page or a 404 at the end, a 500 that can only
//! be answered by starting again, and a 60-second idle expiry.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_stream::try_stream;
use futures::Stream;
use serde::Deserialize;

use super::client::{IntercomClient, Request};
use super::error::{IntercomError, Result};
use super::models::Company;

/// Intercom's scroll page size; a shorter page is the last one.
const SCROLL_PAGE: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScrollOptions {
    /// Between tries when another scroll holds the workspace (`scroll_exists`).
    pub busy_wait: Duration,
    /// How many times to wait; by default a little over the 60-second idle expiry.
    pub busy_attempts: u32,
    /// Walks started again after a 500, a lost connection or an expired scroll.
    pub max_restarts: u32,
}

impl Default for ScrollOptions {
    fn default() -> Self {
        Self { busy_wait: Duration::from_secs(5), busy_attempts: 14, max_restarts: 5 }
    }
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

enum PageOutcome {
    /// The walk reached its end.
    Done,
    /// The walk broke off; start again from the first page.
    Restart(String),
}

impl IntercomClient {
    /// Every company, once, through the scroll.
    pub fn scroll_companies(&self) -> impl Stream<Item = Result<Company>> + Send + 'static {
        self.scroll_companies_with(ScrollOptions::default())
    }

    pub fn scroll_companies_with(
        &self,
        options: ScrollOptions,
    ) -> impl Stream<Item = Result<Company>> + Send + 'static {
        let client = self.clone();
        try_stream! {
            let lock = workspace_lock(client.workspace_key());
            let _held = lock.lock().await;
            let mut seen: HashSet<String> = HashSet::new();
            let mut restarts = 0u32;
            // After an ambiguous 404 (a full page, then "not found"), a restart that finds
            // nothing new proves it was the end rather than an expiry.
            let mut suspect_end = false;
            loop {
                let mut param: Option<String> = None;
                let mut last_len: Option<usize> = None;
                let mut busy = 0u32;
                let mut new_this_walk = 0usize;
                let outcome = loop {
                    let mut request = Request::get("/companies/scroll");
                    if let Some(p) = &param {
                        request = request.query("scroll_param", p);
                    }
                    request.retry_server_errors = false;
                    match client.send::<ScrollPage>(request).await {
                        Ok(page) => {
                            if page.data.is_empty() {
                                break PageOutcome::Done;
                            }
                            last_len = Some(page.data.len());
                            if page.scroll_param.is_some() {
                                param = page.scroll_param;
                            }
                            for company in page.data {
                                if seen.insert(company.id.clone()) {
                                    new_this_walk += 1;
                                    yield company;
                                }
                            }
                            if param.is_none() {
                                break PageOutcome::Restart("a scroll page came without scroll_param".into());
                            }
                        }
                        Err(IntercomError::NotFound(_)) if param.is_some() => match last_len {
                            Some(n) if n < SCROLL_PAGE => break PageOutcome::Done,
                            _ if suspect_end && new_this_walk == 0 => break PageOutcome::Done,
                            _ => {
                                suspect_end = true;
                                break PageOutcome::Restart("the scroll expired or ended after a full page".into());
                            }
                        },
                        Err(IntercomError::Invalid { ref error, .. }) if error.code == "scroll_exists" && param.is_none() => {
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
                        Err(err @ (IntercomError::Server { .. } | IntercomError::Transport(_))) => {
                            break PageOutcome::Restart(err.to_string());
                        }
                        Err(err) => Err(err)?,
                    }
                };
                match outcome {
                    PageOutcome::Done => break,
                    PageOutcome::Restart(why) => {
                        restarts += 1;
                        if restarts > options.max_restarts {
                            Err(IntercomError::ScrollIncomplete(why.clone()))?;
                        }
                        tracing::warn!(restart = restarts, reason = %why, "restarting the company scroll");
                    }
                }
            }
        }
    }
}
