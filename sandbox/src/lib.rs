//! A fake of the Intercom REST API, quirks included, for tests and the demo.
//!
//! It follows `docs/intercom.md` and the 2.16 OpenAPI description, not what any client
//! expects. Where a point is UNCONFIRMED (docs/intercom.md §13) the documented default is
//! the behaviour and the other reading is a knob on [`Sandbox`] or [`SandboxConfig`].

mod conversations;
mod cursor;
mod edits;
mod error;
mod faults;
mod gate;
mod hub;
mod model;
mod oauth;
mod params;
mod rate_limit;
mod render;
mod rng;
mod routes;
mod scroll;
mod search;
mod seed;
mod state;
mod version;
mod webhooks;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

pub use faults::ScrollFault;
pub use hub::{RunningHub, SandboxHub};
pub use state::SandboxStats;
use state::State;
use version::ApiVersion;
pub use webhooks::{signature as webhook_signature, Delivery as WebhookDelivery};

/// Always valid; OAuth exchanges mint more tokens.
pub const SANDBOX_TOKEN: &str = "sandbox-token";
pub const SANDBOX_CLIENT_ID: &str = "sandbox-client-id";
pub const SANDBOX_CLIENT_SECRET: &str = "sandbox-client-secret";

#[derive(Clone, Debug)]
pub struct SandboxConfig {
    pub companies: usize,
    pub contacts: usize,
    pub tickets: usize,
    /// For conversation search; seeded apart, so that the other records of a seed do not
    /// depend on how many there are.
    pub conversations: usize,
    /// Same seed, same workspace, byte for byte (on the same UTC day: timestamps are
    /// spread backwards from the day the sandbox starts).
    pub seed: u64,
    /// `X-RateLimit-Limit`, per token and per 10-second window.
    pub rate_limit_per_window: u32,
    /// Added to every API response.
    pub latency: Duration,
    /// Probability of an injected gateway-style 5xx on any authenticated call, before its
    /// handler (so nothing is consumed), drawn from the seed.
    pub fault_rate: f64,
    /// The statuses of injected faults, in equal parts; a status that is not a 5xx is sent
    /// as a 500.
    pub fault_statuses: Vec<u16>,
    /// Contacts and tickets written less than this long ago are not in search results yet.
    pub search_index_delay: Duration,
    pub scroll_idle_timeout: Duration,
    /// Workspace time zone, e.g. "Europe/Paris": the day boundary of contact search.
    pub timezone: String,
    /// "US" | "EU" | "AU", as `GET /me` reports it in `app.region`.
    pub region: String,
    /// The app's version, used when a request has no `Intercom-Version` header.
    pub default_version: String,
    /// UNCONFIRMED: `GET /companies?company_id=` answers one company (false) or a list (true).
    pub company_lookup_returns_list: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            companies: 300,
            contacts: 3_000,
            tickets: 200,
            conversations: 200,
            seed: 42,
            // 10,000 a minute spread over six 10-second windows (docs/intercom.md §5).
            rate_limit_per_window: 1_667,
            latency: Duration::ZERO,
            fault_rate: 0.0,
            fault_statuses: vec![500, 502, 503],
            search_index_delay: Duration::ZERO,
            scroll_idle_timeout: Duration::from_secs(60),
            timezone: "Europe/Paris".into(),
            region: "US".into(),
            default_version: "2.16".into(),
            company_lookup_returns_list: false,
        }
    }
}

#[derive(Clone)]
pub struct Sandbox {
    state: Arc<Mutex<State>>,
}

impl Sandbox {
    pub fn new(config: SandboxConfig) -> Self {
        Self { state: Arc::new(Mutex::new(seed::seed(config))) }
    }

    /// The whole API and the OAuth pages, state applied.
    pub fn router(&self) -> axum::Router {
        routes::router(self.clone())
    }

    /// Serves on 127.0.0.1 on a free port until the returned value is dropped.
    pub async fn spawn(config: SandboxConfig) -> std::io::Result<RunningSandbox> {
        let sandbox = Sandbox::new(config);
        let (base_url, shutdown) = serve_locally(sandbox.router()).await?;
        Ok(RunningSandbox { sandbox, base_url, _shutdown: shutdown })
    }

    /// A poisoned lock only means a handler panicked; the data is still usable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn set_latency(&self, d: Duration) {
        self.lock().config.latency = d;
    }

    pub fn set_rate_limit(&self, per_window: u32) {
        self.lock().config.rate_limit_per_window = per_window;
    }

    pub fn set_search_index_delay(&self, d: Duration) {
        self.lock().config.search_index_delay = d;
    }

    pub fn set_default_version(&self, version: &str) {
        self.lock().config.default_version = version.to_string();
    }

    pub fn set_company_lookup_returns_list(&self, list: bool) {
        self.lock().config.company_lookup_returns_list = list;
    }

    /// UNCONFIRMED whether the scroll includes companies without users; default: it does.
    pub fn set_scroll_includes_companies_without_users(&self, include: bool) {
        self.lock().scroll_includes_companies_without_users = include;
    }

    /// UNCONFIRMED key of `GET /contacts/{id}/companies`: "data" (spec example, default)
    /// or "companies" (spec schema and SDK overrides).
    pub fn set_contact_companies_key_to_companies(&self, companies: bool) {
        self.lock().contact_companies_key = if companies { "companies" } else { "data" };
    }

    /// UNCONFIRMED whether ticket search's `>`/`<` include the bound; the docs say
    /// "greater (or equal)", so the default is inclusive. Conversation search, which the
    /// docs describe the same way, follows it.
    pub fn set_ticket_search_gt_inclusive(&self, inclusive: bool) {
        self.lock().ticket_search_gt_inclusive = inclusive;
    }

    /// UNCONFIRMED whether contact date filters match whole days in the workspace's zone
    /// (2.7–2.16 docs, the default) or exact seconds (the Preview docs, an Airbyte claim).
    pub fn set_contact_dates_by_second(&self, by_second: bool) {
        self.lock().contact_dates_by_second = by_second;
    }

    pub fn stats(&self) -> SandboxStats {
        self.lock().stats.clone()
    }

    pub fn reset_stats(&self) {
        self.lock().stats = SandboxStats::default();
    }

    /// As `GET /companies/{id}` would return it in the default version.
    pub fn company_json(&self, id: &str) -> Option<Value> {
        let state = self.lock();
        let version = default_version(&state);
        let index = *state.company_by_id.get(id)?;
        Some(render::company(&state, &state.companies[index], version))
    }

    pub fn contact_json(&self, id: &str) -> Option<Value> {
        let state = self.lock();
        let version = default_version(&state);
        let index = *state.contact_by_id.get(id)?;
        let contact = &state.contacts[index];
        contact.merged_into.is_none().then(|| to_value(render::contact(&state, contact, version)))
    }

    /// The live contact with this external_id, as `GET /contacts/{id}` serves it in the default version.
    pub fn contact_by_external_id(&self, external_id: &str) -> Option<Value> {
        let state = self.lock();
        let version = default_version(&state);
        let contact =
            state.contacts.iter().find(|c| c.merged_into.is_none() && c.external_id.as_deref() == Some(external_id))?;
        Some(to_value(render::contact(&state, contact, version)))
    }

    /// Ids of the companies (deleted ones left out) and live contacts, in storage order, for tests.
    pub fn company_ids(&self) -> Vec<String> {
        self.lock().companies.iter().filter(|c| !c.deleted).map(|c| c.id.clone()).collect()
    }

    pub fn contact_ids(&self) -> Vec<String> {
        self.lock().contacts.iter().filter(|c| c.merged_into.is_none()).map(|c| c.id.clone()).collect()
    }

    /// Ids of contacts that were merged away.
    pub fn merged_contact_ids(&self) -> Vec<String> {
        self.lock().contacts.iter().filter(|c| c.merged_into.is_some()).map(|c| c.id.clone()).collect()
    }

    /// Every company that is not deleted, users or not, as `GET /companies/{id}` serves it in the default version.
    pub fn companies_json(&self) -> Vec<Value> {
        let state = self.lock();
        let version = default_version(&state);
        state.companies.iter().filter(|c| !c.deleted).map(|c| render::company(&state, c, version)).collect()
    }

    /// Every live (not merged) contact, as `GET /contacts/{id}` serves it in the default version.
    pub fn contacts_json(&self) -> Vec<Value> {
        let state = self.lock();
        let version = default_version(&state);
        state
            .contacts
            .iter()
            .filter(|c| c.merged_into.is_none())
            .map(|c| to_value(render::contact(&state, c, version)))
            .collect()
    }

    /// Every ticket, as `GET /tickets/{id}` serves it in the default version.
    pub fn tickets_json(&self) -> Vec<Value> {
        let state = self.lock();
        let version = default_version(&state);
        state.tickets.iter().map(|t| render::ticket(&state, t, version)).collect()
    }

    /// Ticket ids (the API `id`, not the Inbox `ticket_id`), in storage order.
    pub fn ticket_ids(&self) -> Vec<String> {
        self.lock().tickets.iter().map(|t| t.id.to_string()).collect()
    }

    /// Names of every tag on a live contact, sorted, not capped at the embedded 10; empty if unknown.
    pub fn contact_tag_names(&self, id: &str) -> Vec<String> {
        let state = self.lock();
        let Some(index) = state.live_contact_index(id) else { return vec![] };
        let mut names: Vec<String> =
            state.contacts[index].tags.iter().filter_map(|(t, _)| state.tags.get(*t)).map(|t| t.name.clone()).collect();
        names.sort();
        names
    }

    /// Ids of every non-deleted company of a live contact, in the contact's order; empty if unknown.
    pub fn contact_company_ids(&self, id: &str) -> Vec<String> {
        let state = self.lock();
        let Some(index) = state.live_contact_index(id) else { return vec![] };
        state.contact_companies(&state.contacts[index]).map(|i| state.companies[i].id.clone()).collect()
    }

    /// The next `calls` authenticated calls answer 429 `rate_limit_exceeded`, as an exceeded window does.
    pub fn storm_429(&self, calls: u32) {
        self.lock().storm_429 = calls;
    }

    /// From now on, every change (API writes and the UI edits below) is notified to `url`,
    /// signed with `secret` (the OAuth app's client secret), as `delivery` says. Needs a
    /// tokio runtime; sending stops when the sandbox is dropped.
    pub fn send_webhooks_to(&self, url: &str, secret: &str, delivery: WebhookDelivery) {
        self.lock().webhooks = Some(webhooks::Webhooks::new(url, secret, delivery));
        tokio::spawn(webhooks::deliver(std::sync::Arc::downgrade(&self.state)));
    }

    /// This workspace accepts `token` and no other (OAuth still mints more), so that
    /// several workspaces behind one `SandboxHub` each have their own.
    pub fn set_token(&self, token: &str) {
        let mut state = self.lock();
        state.tokens.clear();
        state.tokens.insert(token.to_string());
    }

    /// Whether a call with this bearer token is this workspace's.
    pub fn accepts_token(&self, token: &str) -> bool {
        self.lock().tokens.contains(token)
    }

    /// The workspace's app id, as `GET /me` reports it in `app.id_code`.
    pub fn app_id(&self) -> String {
        self.lock().app_id.clone()
    }

    /// Every token stops working, as when the app is uninstalled: calls answer 401.
    pub fn revoke_tokens(&self) {
        self.lock().tokens.clear();
    }

    /// The sandbox clock, Unix seconds; it ticks with real time from wherever it was set.
    pub fn now(&self) -> i64 {
        self.lock().now()
    }

    pub fn set_now(&self, now: i64) {
        let mut state = self.lock();
        state.clock_offset = now - state::real_now();
    }
}

fn default_version(state: &State) -> ApiVersion {
    ApiVersion::parse(&state.config.default_version).unwrap_or(ApiVersion::V2_16)
}

/// A sandbox served over HTTP; the server stops when this is dropped.
pub struct RunningSandbox {
    pub sandbox: Sandbox,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl RunningSandbox {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

/// Serves `app` on 127.0.0.1 on a free port until the returned sender is dropped;
/// answers its `http://127.0.0.1:PORT`.
pub(crate) async fn serve_locally(app: axum::Router) -> std::io::Result<(String, tokio::sync::oneshot::Sender<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok((base_url, tx))
}

/// A rendered record as the tests' `Value`; every rendered record is plain JSON.
fn to_value(record: impl serde::Serialize) -> Value {
    serde_json::to_value(record).expect("a rendered record is JSON")
}
