//! Intercom's notifications applied behind the endpoint, within a second: taken from the
//! queue in batches, each workspace's through the same mapping, linking and role rules as
//! a run (a batch is a page), never over newer data than it carries, and retried with
//! backoff when they fail. The scheduled runs stay the safety net for what never came.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use super::notifications::{change_of, retry_at, Change};
use super::pipeline::Walk;
use super::{output, IntercomApi, Result, SyncService};
use crate::domain::{DataType, IntegrationSettings, SyncObject};
use crate::integration::CHURN_STAGE;
use crate::intercom::{Company, Contact, IntercomError, Ticket};
use crate::store::{RunHolder, Store, WebhookEvent, WebhookOutcome};
use crate::sync_model::{PageWrite, RecordWrite};

/// Notifications taken at once: a page for each object of each workspace.
const BATCH: usize = 500;
/// A worker killed with notifications in hand leaves them to another after this.
const LEASE: Duration = Duration::from_secs(15);
/// How often an idle worker looks, besides being woken by the endpoint.
const IDLE_POLL: Duration = Duration::from_millis(500);

impl SyncService {
    /// Applies what is due of every workspace's notifications; how many were taken.
    pub async fn apply_notifications(&self) -> Result<usize> {
        let now = crate::store::now();
        let events = self.directory.claim_webhooks(BATCH, now, now + LEASE.as_secs() as i64).await?;
        let taken = events.len();
        let mut by_workspace: HashMap<i64, Vec<WebhookEvent>> = HashMap::new();
        for event in events {
            by_workspace.entry(event.workspace_id).or_default().push(event);
        }
        let batches = by_workspace.into_iter().map(|(workspace, events)| self.apply_workspace(workspace, events));
        let outcomes: Vec<(i64, WebhookOutcome)> =
            futures::future::join_all(batches).await.into_iter().flatten().collect();
        if let Err(err) = self.directory.finish_webhooks(&outcomes, crate::store::now()).await {
            // Their lease runs out and they are applied again: applying twice changes nothing.
            tracing::warn!(error = %err, count = outcomes.len(), "could not record what became of notifications");
        }
        Ok(taken)
    }

    /// The endpoint stored a notification: the worker need not wait for its next look.
    pub fn notification_stored(&self) {
        self.webhooks_wake.notify_one();
    }

    /// Applies notifications as they come until `shutdown` resolves.
    pub async fn apply_notifications_forever(self, shutdown: impl std::future::Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let taken = match self.apply_notifications().await {
                Ok(taken) => taken,
                Err(err) => {
                    tracing::error!(error = %err, "could not take notifications to apply");
                    0
                }
            };
            if taken == BATCH {
                continue;
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.webhooks_wake.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    }

    async fn apply_workspace(&self, workspace: i64, events: Vec<WebhookEvent>) -> Vec<(i64, WebhookOutcome)> {
        let now = crate::store::now();
        let fail_all = |events: &[WebhookEvent], message: String| {
            events
                .iter()
                .map(|e| {
                    (e.id, WebhookOutcome::Failed { message: message.clone(), retry_at: retry_at(e.attempts, now) })
                })
                .collect::<Vec<_>>()
        };
        let integration = self.integration(workspace);
        let settings = match integration.current_settings().await {
            Ok(settings) => settings,
            Err(err) => return fail_all(&events, err.to_string()),
        };
        let api = match integration.client().await {
            Ok(client) => client,
            Err(crate::integration::IntegrationError::NotConnected) => {
                let why = "The workspace is no longer connected to Intercom.".to_string();
                return events.iter().map(|e| (e.id, WebhookOutcome::Ignored(why.clone()))).collect();
            }
            Err(err) => return fail_all(&events, err.to_string()),
        };
        let store = self.directory.store(workspace);
        let applier = Applier { store, api: &api, settings: &settings, worker: &self.config.worker, now };
        match applier.apply(&events).await {
            Ok(outcomes) => outcomes,
            Err(err) => fail_all(&events, err.to_string()),
        }
    }
}

/// One workspace's batch being applied.
struct Applier<'a> {
    store: Arc<dyn Store>,
    api: &'a dyn IntercomApi,
    settings: &'a IntegrationSettings,
    worker: &'a str,
    now: i64,
}

/// The batch's changes of one kind of object, newest per object, with the notifications
/// each answers for.
struct Pending<T> {
    items: Vec<T>,
    events: HashMap<String, Vec<i64>>,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Self { items: Vec::new(), events: HashMap::new() }
    }
}

impl Applier<'_> {
    async fn apply(&self, events: &[WebhookEvent]) -> Result<Vec<(i64, WebhookOutcome)>> {
        let mut outcomes: Vec<(i64, WebhookOutcome)> = Vec::new();
        let attempts: HashMap<i64, i64> = events.iter().map(|e| (e.id, e.attempts)).collect();
        // Only the newest change of an object in the batch is applied; it answers for the others.
        let mut newest: HashMap<(&'static str, String), (i64, Change)> = HashMap::new();
        let mut answered_by: HashMap<i64, i64> = HashMap::new();
        for event in events {
            let change = change_of(&event.topic, &event.body);
            if let Change::Ignore(why) = change {
                outcomes.push((event.id, WebhookOutcome::Ignored(why)));
                continue;
            }
            if let Some(why) = self.not_read(&change) {
                outcomes.push((event.id, WebhookOutcome::Ignored(why)));
                continue;
            }
            let key =
                change.key().map(|(kind, id)| (kind, id.to_string())).expect("only ignored changes have no object");
            match newest.get(&key) {
                Some((kept, old)) if old.updated_at() > change.updated_at() => {
                    answered_by.insert(event.id, *kept);
                }
                Some((kept, _)) => {
                    answered_by.insert(*kept, event.id);
                    newest.insert(key, (event.id, change));
                }
                None => {
                    newest.insert(key, (event.id, change));
                }
            }
        }

        let mut companies: Pending<Company> = Pending::default();
        let mut contacts: Pending<Contact> = Pending::default();
        let mut tickets: Pending<Ticket> = Pending::default();
        let mut results: HashMap<i64, WebhookOutcome> = HashMap::new();
        for (event, change) in newest.into_values() {
            let fetched = match change {
                Change::Company(c) => Ok(Fetched::Company(*c)),
                Change::Contact(c) => Ok(Fetched::Contact(*c)),
                Change::Ticket(t) => Ok(Fetched::Ticket(*t)),
                Change::ReadCompany(id) => self.api.company(&id).await.map(Fetched::Company),
                Change::ReadContact(id) => self.api.contact(&id).await.map(Fetched::Contact),
                Change::ReadTicket(id) => self.api.ticket(&id).await.map(Fetched::Ticket),
                Change::CompanyDeleted(id) => {
                    let outcome = self.company_deleted(&id, attempts[&event]).await?;
                    results.insert(event, outcome);
                    continue;
                }
                Change::Ignore(_) => continue,
            };
            match fetched {
                Ok(Fetched::Company(c)) => companies.add(c.id.clone(), event, c),
                Ok(Fetched::Contact(c)) => contacts.add(c.id.clone(), event, c),
                Ok(Fetched::Ticket(t)) => tickets.add(t.id.clone(), event, t),
                Err(IntercomError::NotFound(_) | IntercomError::Gone { .. }) => {
                    results.insert(event, WebhookOutcome::Ignored("It is no longer in Intercom.".into()));
                }
                Err(err) => {
                    let retry = retry_at(attempts[&event], self.now);
                    results.insert(event, WebhookOutcome::Failed { message: err.to_string(), retry_at: retry });
                }
            }
        }

        self.drop_stale(
            &mut companies,
            &mut results,
            |ids| async move {
                let rows = self.store.customers_by_keys(&ids, &[]).await?;
                Ok(rows.into_iter().filter_map(|r| Some((r.intercom_id?, r.intercom_updated_at))).collect())
            },
            |c| (c.id.as_str(), c.updated_at),
        )
        .await?;
        self.drop_stale(
            &mut contacts,
            &mut results,
            |ids| async move {
                let rows = self.store.contacts_by_keys(&ids, &[]).await?;
                Ok(rows.into_iter().filter_map(|r| Some((r.intercom_id?, r.intercom_updated_at))).collect())
            },
            |c| (c.id.as_str(), c.updated_at),
        )
        .await?;
        self.drop_stale(
            &mut tickets,
            &mut results,
            |ids| async move {
                let rows = self.store.interactions_by_intercom_ids(&ids).await?;
                Ok(rows.into_iter().filter_map(|r| Some((r.intercom_id?, r.intercom_updated_at))).collect())
            },
            |t| (t.id.as_str(), t.updated_at),
        )
        .await?;

        let walk = self.walk(!companies.items.is_empty()).await?;
        if !companies.items.is_empty() {
            let page = walk.customer_page(companies.items.split_off(0), &mut HashSet::new()).await?;
            self.write(SyncObject::Customers, page, &companies.events, &attempts, &mut results).await?;
        }
        if !contacts.items.is_empty() {
            let tags = walk.tag_names().await?;
            let customers_read = self.settings.customers.mode.reads();
            let page = walk.contact_page(contacts.items.split_off(0), &tags, customers_read).await?;
            self.write(SyncObject::Contacts, page, &contacts.events, &attempts, &mut results).await?;
        }
        if !tickets.items.is_empty() {
            let window_start = match self.settings.interactions.import_window.days() {
                Some(days) => self.now - days * 86_400,
                None => 0,
            };
            let page = walk.ticket_page(tickets.items.split_off(0), window_start).await?;
            self.write(SyncObject::Interactions, page, &tickets.events, &attempts, &mut results).await?;
        }

        for (event, kept) in answered_by {
            let outcome = match results.get(&kept) {
                Some(WebhookOutcome::Applied) | None => {
                    WebhookOutcome::Ignored("A newer notification of the same object was applied.".into())
                }
                Some(other) => other.clone(),
            };
            outcomes.push((event, outcome));
        }
        outcomes.extend(results);
        Ok(outcomes)
    }

    /// Leaves out what is older than the row Skalin has (notifications come in any
    /// order): an older one never wins. As old is applied, and changes nothing.
    async fn drop_stale<T, F, Fut>(
        &self,
        pending: &mut Pending<T>,
        results: &mut HashMap<i64, WebhookOutcome>,
        stored: F,
        clock: impl Fn(&T) -> (&str, Option<i64>),
    ) -> Result<()>
    where
        F: FnOnce(Vec<String>) -> Fut,
        Fut: std::future::Future<Output = Result<HashMap<String, Option<i64>>>>,
    {
        if pending.items.is_empty() {
            return Ok(());
        }
        let ids = pending.items.iter().map(|item| clock(item).0.to_string()).collect();
        let stored = stored(ids).await?;
        let mut kept = Vec::with_capacity(pending.items.len());
        for item in pending.items.drain(..) {
            let (id, updated_at) = clock(&item);
            let newer = stored.get(id).copied().flatten().zip(updated_at).is_some_and(|(have, got)| have > got);
            if newer {
                for event in pending.events.remove(id).unwrap_or_default() {
                    let why = "Skalin has newer data for it than this notification carries.".to_string();
                    results.insert(event, WebhookOutcome::Ignored(why));
                }
            } else {
                kept.push(item);
            }
        }
        pending.items = kept;
        Ok(())
    }

    /// Why a change is not applied under the workspace's modes, if it is not.
    fn not_read(&self, change: &Change) -> Option<String> {
        let (mode, what) = match change.key()?.0 {
            "company" => (self.settings.customers.mode, "Customers"),
            "contact" => (self.settings.contacts.mode, "Contacts"),
            _ => (self.settings.interactions.mode, "Interactions"),
        };
        (!mode.reads()).then(|| format!("{what} are not read from Intercom (mode: {}).", mode.label()))
    }

    /// A run's walk, outside any run: run 0, never a dry run.
    async fn walk(&self, with_company_types: bool) -> Result<Walk<'_>> {
        let company_types = if with_company_types && !output::customer_writables(self.settings).is_empty() {
            self.api
                .data_attributes(crate::intercom::Model::Company)
                .await?
                .into_iter()
                .map(|a| (a.full_name.clone().unwrap_or_else(|| a.name.clone()), DataType::parse(&a.data_type)))
                .collect()
        } else {
            HashMap::new()
        };
        Ok(Walk {
            store: self.store.as_ref(),
            api: self.api,
            settings: self.settings,
            run_id: 0,
            holder: RunHolder::Worker(self.worker),
            started_at: self.now,
            dry_run: false,
            company_types,
            range_reads: super::RangeReads::default(),
        })
    }

    /// Writes a page built from notifications: no run marked, and each notification told
    /// whether its object was applied or failed.
    async fn write(
        &self,
        object: SyncObject,
        mut page: PageWrite,
        events: &HashMap<String, Vec<i64>>,
        attempts: &HashMap<i64, i64>,
        results: &mut HashMap<i64, WebhookOutcome>,
    ) -> Result<()> {
        for write in &mut page.writes {
            match write {
                RecordWrite::Customer(c) => c.synced_run = None,
                RecordWrite::Contact(c) => c.synced_run = None,
                RecordWrite::Interaction(i) => i.synced_run = None,
            }
        }
        page.seen.clear();
        let failures = std::mem::take(&mut page.failures);
        self.store.apply_records(object, &page).await?;
        let mut failed: HashMap<&str, &str> = HashMap::new();
        for f in &failures {
            failed.insert(f.intercom_id.as_str(), f.message.as_str());
        }
        for (intercom_id, ids) in events {
            for id in ids {
                let outcome = match failed.get(intercom_id.as_str()) {
                    Some(message) => WebhookOutcome::Failed {
                        message: (*message).to_string(),
                        retry_at: retry_at(attempts[id], self.now),
                    },
                    None => WebhookOutcome::Applied,
                };
                results.insert(*id, outcome);
            }
        }
        Ok(())
    }

    /// A deleted company is churned when the churn option is on, Intercom answers 404 for
    /// it, and the day's churn stays under the threshold (above it, the next run asks an
    /// admin). Never deleted.
    async fn company_deleted(&self, id: &str, attempts: i64) -> Result<WebhookOutcome> {
        let settings = &self.settings.customers;
        if !settings.churn_enabled {
            return Ok(WebhookOutcome::Ignored("Churn is off: the customer stays as it is.".into()));
        }
        match self.api.company(id).await {
            Err(IntercomError::NotFound(_)) => {}
            Ok(_) => return Ok(WebhookOutcome::Ignored("The company is still in Intercom: not churned.".into())),
            Err(err) => {
                return Ok(WebhookOutcome::Failed { message: err.to_string(), retry_at: retry_at(attempts, self.now) })
            }
        }
        let today = self.now - self.now.rem_euclid(86_400);
        let churned_today = self.store.churned_since(today).await?;
        let total = self.store.intercom_customer_count().await? + churned_today;
        if super::over_threshold(churned_today + 1, total, settings.churn_max_percent) {
            return Ok(WebhookOutcome::Ignored(format!(
                "Churning it would go over the {}% threshold today: the next run asks an admin.",
                settings.churn_max_percent
            )));
        }
        Ok(match self.store.churn_customer(id, CHURN_STAGE, self.now).await? {
            true => WebhookOutcome::Applied,
            false => {
                WebhookOutcome::Ignored("No customer of this workspace has that company, or it is churned.".into())
            }
        })
    }
}

enum Fetched {
    Company(Company),
    Contact(Contact),
    Ticket(Ticket),
}

impl<T> Pending<T> {
    fn add(&mut self, id: String, event: i64, item: T) {
        self.events.entry(id).or_default().push(event);
        self.items.push(item);
    }
}
