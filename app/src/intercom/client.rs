//! The HTTP core: one `send` that authenticates, versions, paces, retries and decodes.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, LINK};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::body::{read_capped, BodyError, MAX_BODY_BYTES};
use super::error::{decode_error, error_for_status, IntercomError, Result};
use super::rate_limit::{unix_now, RateBudget};
use super::retry::{Attempt, Decision, RetryPolicy};
use super::scroll::ScrollOptions;

/// The API version every call pins (docs/intercom.md §3: always send it).
pub const INTERCOM_VERSION: &str = "2.16";

/// Intercom's hosting regions, each with its own REST host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Us,
    Eu,
    Au,
}

impl Region {
    pub fn base_url(self) -> &'static str {
        match self {
            Region::Us => "https://api.intercom.io",
            Region::Eu => "https://api.eu.intercom.io",
            Region::Au => "https://api.au.intercom.io",
        }
    }

    /// Where the OAuth consent page lives (the AU host is UNCONFIRMED in Intercom's docs).
    pub fn authorize_url(self) -> &'static str {
        match self {
            Region::Us => "https://app.intercom.com/oauth",
            Region::Eu => "https://app.eu.intercom.com/oauth",
            Region::Au => "https://app.au.intercom.com/oauth",
        }
    }

    /// `GET /me` says `app.region` as "US", "EU" or "AU".
    pub fn from_me(region: &str) -> Option<Self> {
        match region.trim().to_ascii_uppercase().as_str() {
            "US" => Some(Region::Us),
            "EU" | "EUROPE" => Some(Region::Eu),
            "AU" | "AUSTRALIA" => Some(Region::Au),
            _ => None,
        }
    }
}

/// A client for one workspace's token. Cheap to clone; clones share counters and budget.
#[derive(Clone)]
pub struct IntercomClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    token: SecretString,
    version: String,
    budget: Arc<RateBudget>,
    policy: RetryPolicy,
    scroll: ScrollOptions,
    calls: AtomicU64,
    retries: AtomicU64,
}

/// What a run of calls cost, for progress bars and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallStats {
    pub calls: u64,
    pub retries: u64,
    pub rate_limit_waits: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<serde_json::Value>,
    /// Off for calls that must not be repeated as they are (a scroll page after a 500).
    pub retry_server_errors: bool,
}

impl Request {
    pub fn get(path: impl Into<String>) -> Self {
        Self { method: Method::GET, path: path.into(), query: Vec::new(), body: None, retry_server_errors: true }
    }

    pub fn with_method(method: Method, path: impl Into<String>, body: impl Serialize) -> Result<Self> {
        let body = serde_json::to_value(body).map_err(|e| IntercomError::Config(e.to_string()))?;
        Ok(Self { method, path: path.into(), query: Vec::new(), body: Some(body), retry_server_errors: true })
    }

    pub fn query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_string(), value.to_string()));
        self
    }
}

impl IntercomClient {
    pub fn new(region: Region, token: SecretString) -> Result<Self> {
        Self::with_base_url(region.base_url(), token)
    }

    /// For the sandbox, tests and other Intercom-compatible servers: from server
    /// configuration only, never from user input.
    pub fn with_base_url(base_url: &str, token: SecretString) -> Result<Self> {
        let parsed =
            url::Url::parse(base_url).map_err(|e| IntercomError::Config(format!("base URL {base_url}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(IntercomError::Config(format!("base URL {base_url} is not http(s)")));
        }
        let base_url = base_url.trim_end_matches('/').to_string();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("skalin-intercom/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| IntercomError::Config(e.to_string()))?;
        let budget = RateBudget::shared(&base_url, fingerprint(token.expose_secret()));
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base_url,
                token,
                version: INTERCOM_VERSION.to_string(),
                budget,
                policy: RetryPolicy::default(),
                scroll: ScrollOptions::default(),
                calls: AtomicU64::new(0),
                retries: AtomicU64::new(0),
            }),
        })
    }

    /// The same token with other retry settings (tests shorten the waits).
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> Self {
        self.rebuilt(policy, self.inner.scroll)
    }

    /// The same token with other settings for the company scroll.
    pub fn with_scroll_options(&self, scroll: ScrollOptions) -> Self {
        self.rebuilt(self.inner.policy, scroll)
    }

    /// Shares the rate budget (one per token and host), not the call counters.
    fn rebuilt(&self, policy: RetryPolicy, scroll: ScrollOptions) -> Self {
        let i = &self.inner;
        Self {
            inner: Arc::new(Inner {
                http: i.http.clone(),
                base_url: i.base_url.clone(),
                token: i.token.clone(),
                version: i.version.clone(),
                budget: i.budget.clone(),
                policy,
                scroll,
                calls: AtomicU64::new(0),
                retries: AtomicU64::new(0),
            }),
        }
    }

    pub(crate) fn retry_policy(&self) -> RetryPolicy {
        self.inner.policy
    }

    pub(crate) fn scroll_options(&self) -> ScrollOptions {
        self.inner.scroll
    }

    /// A call asked again by a caller that decides its own retries (the scroll).
    pub(crate) fn count_retry(&self) {
        self.inner.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    pub fn stats(&self) -> CallStats {
        CallStats {
            calls: self.inner.calls.load(Ordering::Relaxed),
            retries: self.inner.retries.load(Ordering::Relaxed),
            rate_limit_waits: self.inner.budget.waits(),
        }
    }

    /// A key for this workspace's scroll lock: one host, one token.
    pub(crate) fn workspace_key(&self) -> (String, u64) {
        (self.inner.base_url.clone(), fingerprint(self.inner.token.expose_secret()))
    }

    pub(crate) async fn send<T: DeserializeOwned>(&self, request: Request) -> Result<T> {
        let inner = &self.inner;
        let url = format!("{}{}", inner.base_url, request.path);
        let mut attempt = 0u32;
        loop {
            inner.budget.acquire().await;
            inner.calls.fetch_add(1, Ordering::Relaxed);
            let mut builder = inner
                .http
                .request(request.method.clone(), &url)
                .bearer_auth(inner.token.expose_secret())
                .header("Intercom-Version", &inner.version)
                .header(ACCEPT, "application/json");
            if !request.query.is_empty() {
                builder = builder.query(&request.query);
            }
            if let Some(body) = &request.body {
                builder = builder.json(body);
            }

            let outcome = match builder.send().await {
                Err(err) => {
                    inner.budget.release(None, None, None);
                    Err((if err.is_timeout() { Attempt::Timeout } else { Attempt::Connect }, err.to_string()))
                }
                Ok(response) => {
                    let headers = response.headers().clone();
                    let read =
                        |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).map(str::to_string);
                    let limit = read("x-ratelimit-limit").and_then(|v| v.parse().ok());
                    let remaining = read("x-ratelimit-remaining").and_then(|v| v.parse().ok());
                    let reset_at: Option<u64> = read("x-ratelimit-reset").and_then(|v| v.parse().ok());
                    inner.budget.release(limit, remaining, reset_at);
                    let status = response.status().as_u16();
                    let header_request_id = read("x-request-id");
                    let link = read(LINK.as_str());
                    match read_capped(response, MAX_BODY_BYTES).await {
                        Err(too_large @ BodyError::TooLarge) => return Err(too_large.into_error(status)),
                        Err(BodyError::Transport(err)) => {
                            Err((if err.is_timeout() { Attempt::Timeout } else { Attempt::Connect }, err.to_string()))
                        }
                        Ok(bytes) if (200..300).contains(&status) => {
                            return serde_json::from_slice::<T>(&bytes).map_err(|e| IntercomError::Decode {
                                status,
                                message: e.to_string(),
                                request_id: header_request_id,
                            });
                        }
                        Ok(bytes) => {
                            if status == 429 {
                                inner.budget.exhausted(reset_at);
                            }
                            let reset_in = reset_at.map(|r| Duration::from_secs(r.saturating_sub(unix_now())));
                            let error = decode_error(status, &bytes, header_request_id);
                            let retryable = request.retry_server_errors || status < 500;
                            let decision = if retryable {
                                inner.policy.decide(Attempt::Status { code: status, reset_in }, attempt, rand::random())
                            } else {
                                Decision::Stop
                            };
                            match decision {
                                Decision::Stop => return Err(error_for_status(status, error, link.as_deref())),
                                Decision::RetryAfter(wait) => {
                                    tracing::debug!(status, code = %error.code, wait_ms = wait.as_millis() as u64, path = %request.path, "retrying an Intercom call");
                                    Ok(wait)
                                }
                            }
                        }
                    }
                }
            };

            let wait = match outcome {
                Ok(wait) => wait,
                Err((kind, message)) => match inner.policy.decide(kind, attempt, rand::random()) {
                    Decision::RetryAfter(wait) if request.retry_server_errors => wait,
                    _ => return Err(IntercomError::Transport(message)),
                },
            };
            inner.retries.fetch_add(1, Ordering::Relaxed);
            attempt += 1;
            tokio::time::sleep(wait).await;
        }
    }
}

fn fingerprint(token: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    token.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_region_has_its_own_host() {
        assert_eq!(Region::Us.base_url(), "https://api.intercom.io");
        assert_eq!(Region::Eu.base_url(), "https://api.eu.intercom.io");
        assert_eq!(Region::Au.base_url(), "https://api.au.intercom.io");
    }

    #[test]
    fn the_region_of_me_reads_whatever_its_case() {
        assert_eq!(Region::from_me("eu"), Some(Region::Eu));
        assert_eq!(Region::from_me("US"), Some(Region::Us));
        assert_eq!(Region::from_me("Mars"), None);
    }

    #[test]
    fn a_base_url_must_be_http() {
        let token = SecretString::from("t");
        assert!(IntercomClient::with_base_url("ftp://x", token.clone()).is_err());
        assert!(IntercomClient::with_base_url("http://127.0.0.1:9/", token).is_ok());
    }
}
