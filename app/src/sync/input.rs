//! Intercom → Skalin: one walk per object, each page written with its checkpoint.

use std::collections::{HashMap, HashSet};

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::mapping::{self, Fields};
use super::output::{self, CompanyWrite, Resolution};
use super::ranges::{self, Range};
use super::source::IntercomApi;
use super::Result;
use crate::domain::{ChurnEntry, DataType, IntegrationSettings, RoleSource, SyncMode, SyncObject, WalkKind};
use crate::integration::CHURN_STAGE;
use crate::intercom::{Company, Contact, ContactCreate, CursorPage, IntercomError, Search, Ticket};
use crate::store::{
    NewFailure, ObjectCheckpoint, PageWrite, PendingEdit, RecordWrite, Store, StoredCustomer, SyncCursor,
};

mod reading;

/// Companies are written in pages of the scroll's size.
const COMPANY_PAGE: usize = 100;
/// Contacts created in Intercom per page written.
const CONTACT_BATCH: usize = 100;
/// Whether ticket search's `>` includes its bound is UNCONFIRMED, and recent writes reach
/// the search index late: incremental ticket reads start this much before the cursor.
const TICKET_OVERLAP: i64 = 3_600;
/// Churn candidates looked up one by one before they count as gone, at most; beyond this
/// the threshold's confirmation is the check.
const MAX_CHURN_LOOKUPS: usize = 200;
/// Failed records retried at the start of each object's walk, at most.
const RETRIES_PER_RUN: u32 = 500;

/// What one object's walk needs; built per run.
pub struct Walk<'a> {
    pub store: &'a dyn Store,
    pub api: &'a dyn IntercomApi,
    pub settings: &'a IntegrationSettings,
    pub run_id: i64,
    pub started_at: i64,
    pub dry_run: bool,
    /// Company attribute types by key, for typing values written to Intercom.
    pub company_types: HashMap<String, DataType>,
    pub range_reads: super::RangeReads,
}

/// How an object's walk ended.
#[derive(Debug)]
pub enum WalkEnd {
    /// Read completely; the next incremental read starts from `cursor`.
    Complete { cursor: SyncCursor, churn: Option<ChurnOutcome> },
}

#[derive(Debug)]
pub enum ChurnOutcome {
    Applied(u64),
    /// Over the threshold: waits for an admin.
    Waiting(Vec<ChurnEntry>),
    /// A dry run: who would be churned.
    WouldChurn(Vec<ChurnEntry>),
}

/// Where a cursor walk stands, as saved with each page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    /// The lower bound the walk's search uses; fixed for the walk so a resumed cursor
    /// belongs to the same query.
    since: Option<i64>,
    after: Option<String>,
    /// The last page was written; only the bookkeeping is left.
    end: bool,
    /// A full walk read in ranges: each keeps its own cursor, and `after` is unused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ranges: Vec<Range>,
    #[serde(default, skip_serializing_if = "is_zero")]
    margin: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl Position {
    fn read(checkpoint: &ObjectCheckpoint) -> Option<Position> {
        checkpoint.cursor.as_deref().and_then(|c| serde_json::from_str(c).ok())
    }

    fn to_cursor(&self) -> Option<Option<String>> {
        Some(serde_json::to_string(self).ok())
    }
}

fn str_set(names: &HashSet<String>) -> HashSet<&str> {
    names.iter().map(String::as_str).collect()
}

fn failure(id: &str, err: &IntercomError) -> NewFailure {
    NewFailure {
        intercom_id: id.to_string(),
        message: err.to_string(),
        request_id: err.request_id().map(str::to_string),
    }
}

fn refusal(id: &str, message: String) -> NewFailure {
    NewFailure { intercom_id: id.to_string(), message, request_id: None }
}

/// What a run needs of the row Skalin already has to count a record once.
#[derive(Clone, Copy)]
struct Seen {
    id: i64,
    synced_run: Option<i64>,
    intercom_updated_at: Option<i64>,
}

impl Walk<'_> {
    /// Counts a record once per run (a walk read again after a restart counts nothing
    /// twice) and writes the whole row when it is new or changed, its Intercom clock when
    /// only that moved, or only the run's mark.
    fn count(
        &self,
        page: &mut PageWrite,
        current: Option<Seen>,
        changed: bool,
        intercom_updated_at: Option<i64>,
        row: RecordWrite,
    ) {
        match current {
            None => {
                page.counts.created += 1;
                page.writes.push(row);
            }
            Some(_) if changed => {
                page.counts.updated += 1;
                page.writes.push(row);
            }
            Some(current) => {
                if current.synced_run != Some(self.run_id) {
                    page.counts.unchanged += 1;
                }
                if current.intercom_updated_at != intercom_updated_at {
                    page.writes.push(row);
                } else {
                    page.seen.push(current.id);
                }
            }
        }
    }

    async fn write(&self, object: SyncObject, mut page: PageWrite) -> Result<()> {
        if self.dry_run {
            page.writes.clear();
            page.seen.clear();
            page.failures.clear();
            page.resolved.clear();
        }
        self.store.apply_page(self.run_id, object, &page).await?;
        Ok(())
    }

    fn next_cursor(&self, checkpoint_max: Option<i64>, walk: WalkKind) -> SyncCursor {
        SyncCursor {
            // Records changed while the walk went on may sit behind it: never past the start.
            updated_since: checkpoint_max.map(|m| m.min(self.started_at)),
            full_at: (walk == WalkKind::Full).then_some(self.started_at),
        }
    }

    async fn checkpoint(&self, object: SyncObject) -> Result<Option<ObjectCheckpoint>> {
        Ok(self.store.checkpoints(self.run_id).await?.into_iter().find(|c| c.object == object))
    }

    // ---- customers ------------------------------------------------------------------

    /// Every company, then churn: the scroll cannot resume, so a resumed run walks again
    /// from the start and `synced_run` keeps it from counting or churning twice.
    pub async fn customers(&self, seen_in_dry_run: &mut HashSet<String>) -> Result<WalkEnd> {
        let expected = self.store.intercom_customer_count().await?;
        let mut stream = self.api.companies();
        let mut batch: Vec<Company> = Vec::with_capacity(COMPANY_PAGE);
        let mut first = true;
        loop {
            let item = stream.next().await;
            let end = item.is_none();
            match item {
                Some(Ok(company)) => batch.push(company),
                Some(Err(err)) => {
                    // What was read is good; only the churn needs the walk complete.
                    if !batch.is_empty() {
                        let page = self.customer_page(std::mem::take(&mut batch), seen_in_dry_run).await?;
                        self.write(SyncObject::Customers, page).await?;
                    }
                    return Err(err.into());
                }
                None => {}
            }
            if batch.len() >= COMPANY_PAGE || (end && !batch.is_empty()) {
                let mut page = self.customer_page(std::mem::take(&mut batch), seen_in_dry_run).await?;
                if first {
                    // Intercom does not count companies; what Skalin had is the estimate.
                    page.expected = (expected > 0).then_some(expected);
                    first = false;
                }
                self.write(SyncObject::Customers, page).await?;
            }
            if end {
                break;
            }
        }
        self.create_companies().await?;
        let max = self.checkpoint(SyncObject::Customers).await?.and_then(|c| c.max_updated_at);
        let churn = self.churn(seen_in_dry_run).await?;
        Ok(WalkEnd::Complete { cursor: self.next_cursor(max, WalkKind::Full), churn })
    }

    async fn customer_page(&self, batch: Vec<Company>, seen_in_dry_run: &mut HashSet<String>) -> Result<PageWrite> {
        let settings = &self.settings.customers;
        let key = settings.id_field.as_deref().unwrap_or(crate::domain::INTERCOM_ID);
        let ids: Vec<String> = batch.iter().map(|c| c.id.clone()).collect();
        let externals: Vec<String> = batch.iter().filter_map(|c| mapping::text(c.field(key))).collect();
        let existing = self.store.customers_by_keys(&ids, &externals).await?;
        let by_intercom: HashMap<&str, _> =
            existing.iter().filter_map(|c| c.intercom_id.as_deref().map(|id| (id, c))).collect();
        let by_external: HashMap<&str, _> = existing.iter().map(|c| (c.external_id.as_str(), c)).collect();
        let writables = output::customer_writables(self.settings);
        let pending =
            self.pending(SyncObject::Customers, existing.iter().map(|c| c.id).collect(), !writables.is_empty()).await?;

        let mut page = PageWrite::default();
        let mut taken: HashSet<String> = HashSet::new();
        let mut in_page: HashSet<&str> = HashSet::new();
        for company in &batch {
            if !in_page.insert(company.id.as_str()) {
                continue;
            }
            page.done += 1;
            page.max_updated_at = page.max_updated_at.max(company.updated_at);
            if self.dry_run && !seen_in_dry_run.insert(company.id.clone()) {
                continue;
            }
            let current = by_intercom.get(company.id.as_str()).copied().or_else(|| {
                let external = mapping::text(company.field(key))?;
                by_external.get(external.as_str()).copied().filter(|c| c.intercom_id.is_none())
            });
            let mapped = if settings.mode == SyncMode::OutputOnly {
                // Output only: Intercom's companies are matched, never imported.
                let Some(current) = current else { continue };
                let mut row = current.clone();
                row.intercom_id = Some(company.id.clone());
                row.intercom_updated_at = company.updated_at;
                row.synced_run = Some(self.run_id);
                Ok(row)
            } else {
                mapping::customer(company, settings, current, self.run_id)
            };
            let mut row = match mapped {
                Ok(row) => row,
                Err(message) => {
                    page.counts.failed += 1;
                    page.failures.push(refusal(&company.id, message));
                    continue;
                }
            };
            let clash = by_external.get(row.external_id.as_str()).filter(|other| other.id != row.id || row.id == 0);
            if let Some(other) = clash {
                page.counts.failed += 1;
                let holder = other
                    .intercom_id
                    .as_deref()
                    .map_or("a customer created in Skalin".to_string(), |id| format!("the Intercom company {id}"));
                page.failures.push(refusal(
                    &company.id,
                    format!("The customer ID \"{}\" is already used by {holder}.", row.external_id),
                ));
                continue;
            }
            if !taken.insert(row.external_id.clone()) {
                page.counts.failed += 1;
                page.failures.push(refusal(
                    &company.id,
                    format!("Two Intercom companies have the customer ID \"{}\".", row.external_id),
                ));
                continue;
            }

            let pushed = match current {
                Some(current) => {
                    match self.push_customer(company, current, &mut row, &writables, &pending, &mut page).await {
                        Ok(pushed) => pushed,
                        Err(failed) => {
                            page.counts.failed += 1;
                            page.failures.push(failed);
                            false
                        }
                    }
                }
                None => false,
            };
            page.resolved.push(company.id.clone());
            let seen = current.map(|c| Seen {
                id: c.id,
                synced_run: c.synced_run,
                intercom_updated_at: c.intercom_updated_at,
            });
            let changed = current.is_some_and(|c| mapping::customer_changed(c, &row)) || pushed;
            let moved = row.intercom_updated_at;
            self.count(&mut page, seen, changed, moved, RecordWrite::Customer(row));
        }
        Ok(page)
    }

    /// Unsent Skalin edits of these records, by record and field.
    async fn pending(
        &self,
        object: SyncObject,
        ids: Vec<i64>,
        wanted: bool,
    ) -> Result<HashMap<(i64, String), PendingEdit>> {
        if !wanted || ids.is_empty() {
            return Ok(HashMap::new());
        }
        let edits = self.store.pending_edits(object, &ids).await?;
        Ok(edits.into_iter().map(|e| ((e.record_id, e.field.clone()), e)).collect())
    }

    /// Settles each writable field of a customer by the rule, and writes Skalin's winners
    /// to Intercom in one call. `Ok(true)` when Intercom was written (or would be, in a
    /// dry run); the settled edits go to `page.sent`.
    async fn push_customer(
        &self,
        company: &Company,
        current: &StoredCustomer,
        row: &mut StoredCustomer,
        writables: &[output::Writable],
        pending: &HashMap<(i64, String), PendingEdit>,
        page: &mut PageWrite,
    ) -> std::result::Result<bool, NewFailure> {
        let mut write = CompanyWrite::default();
        let mut settled = Vec::new();
        let mut sent_on_success = Vec::new();
        for w in writables {
            let skalin = output::customer_value(current, w.field);
            let intercom = mapping::text(company.field(&w.key));
            let edit = pending.get(&(current.id, w.field.to_string()));
            match output::resolve(w.mode, skalin.as_deref(), intercom.as_deref(), edit, company.updated_at) {
                Resolution::Keep => {
                    output::set_customer_value(row, w.field, skalin);
                    settled.extend(edit);
                }
                Resolution::TakeIntercom => {
                    output::set_customer_value(row, w.field, intercom);
                    settled.extend(edit);
                }
                Resolution::PushSkalin => {
                    let value = skalin.clone().unwrap_or_default();
                    output::set_customer_value(row, w.field, skalin);
                    write.set(&w.key, &value, &self.company_types).map_err(|m| refusal(&company.id, m))?;
                    sent_on_success.extend(edit);
                }
            }
        }
        page.sent.extend(settled.into_iter().map(|e| (e.record_id, e.field.clone(), e.changed_at)));
        if write.is_empty() {
            return Ok(false);
        }
        if !self.dry_run {
            let written =
                self.api.update_company(&company.id, &write.update()).await.map_err(|e| failure(&company.id, &e))?;
            row.intercom_updated_at = written.updated_at.or(row.intercom_updated_at);
        }
        page.sent.extend(sent_on_success.into_iter().map(|e| (e.record_id, e.field.clone(), e.changed_at)));
        Ok(true)
    }

    /// Output and Two-ways with the choice on: customers Intercom does not know become
    /// companies there, keyed by their customer ID (`company_id`).
    async fn create_companies(&self) -> Result<()> {
        let settings = &self.settings.customers;
        if !(settings.create_in_intercom && settings.mode.writes()) {
            return Ok(());
        }
        let writables = output::customer_writables(self.settings);
        loop {
            let rows = self.store.customers_without_intercom(COMPANY_PAGE as u32).await?;
            if rows.is_empty() {
                return Ok(());
            }
            let pending = self.pending(SyncObject::Customers, rows.iter().map(|r| r.id).collect(), true).await?;
            let mut page = PageWrite::default();
            let last_batch = self.dry_run || rows.len() < COMPANY_PAGE;
            let mut refused = 0;
            for row in rows {
                let mut write = CompanyWrite { name: Some(row.name.clone()), ..CompanyWrite::default() };
                if settings.domain_field.as_deref() == Some("website") {
                    write.website = row.domain.as_ref().map(|d| format!("https://{d}"));
                }
                let mut refusal_message = None;
                for w in &writables {
                    if let Some(value) = output::customer_value(&row, w.field) {
                        if let Err(message) = write.set(&w.key, &value, &self.company_types) {
                            refusal_message = Some(message);
                        }
                    }
                }
                let key = format!("skalin:{}", row.external_id);
                if let Some(message) = refusal_message {
                    refused += 1;
                    page.counts.failed += 1;
                    page.failures.push(refusal(&key, message));
                    continue;
                }
                page.counts.created += 1;
                if self.dry_run {
                    continue;
                }
                match self.api.upsert_company(&write.upsert(row.external_id.clone())).await {
                    Ok(company) => {
                        let mut created = row.clone();
                        created.intercom_id = Some(company.id.clone());
                        created.intercom_updated_at = company.updated_at;
                        created.synced_run = Some(self.run_id);
                        page.sent.extend(
                            pending
                                .values()
                                .filter(|e| e.record_id == row.id)
                                .map(|e| (e.record_id, e.field.clone(), e.changed_at)),
                        );
                        page.writes.push(RecordWrite::Customer(created));
                    }
                    Err(err) => {
                        refused += 1;
                        page.counts.created -= 1;
                        page.counts.failed += 1;
                        page.failures.push(failure(&key, &err));
                    }
                }
            }
            self.write(SyncObject::Customers, page).await?;
            // Refused customers keep no Intercom id: stop rather than ask for them again.
            if last_batch || refused > 0 {
                return Ok(());
            }
        }
    }

    /// After a complete walk only: customers from Intercom that it did not see.
    async fn churn(&self, seen_in_dry_run: &HashSet<String>) -> Result<Option<ChurnOutcome>> {
        let settings = &self.settings.customers;
        if !settings.churn_enabled {
            return Ok(None);
        }
        let candidates: Vec<ChurnEntry> = if self.dry_run {
            self.store
                .unseen_customers(i64::MAX)
                .await?
                .into_iter()
                .filter(|c| !seen_in_dry_run.contains(&c.intercom_id))
                .collect()
        } else {
            self.store.unseen_customers(self.run_id).await?
        };
        if candidates.is_empty() {
            return Ok(Some(ChurnOutcome::Applied(0)));
        }
        let candidates = self.still_gone(candidates).await?;
        if candidates.is_empty() {
            return Ok(Some(ChurnOutcome::Applied(0)));
        }
        if self.dry_run {
            return Ok(Some(ChurnOutcome::WouldChurn(candidates)));
        }
        let total = self.store.intercom_customer_count().await?;
        if over_threshold(candidates.len() as u64, total, settings.churn_max_percent) {
            return Ok(Some(ChurnOutcome::Waiting(candidates)));
        }
        let ids: Vec<String> = candidates.into_iter().map(|c| c.intercom_id).collect();
        let churned = self.store.churn_customers(self.run_id, &ids, CHURN_STAGE, crate::store::now()).await?;
        Ok(Some(ChurnOutcome::Applied(churned)))
    }

    // ---- contacts -------------------------------------------------------------------

    pub async fn contacts(&self, walk: WalkKind, customers_read: bool) -> Result<WalkEnd> {
        let tags_by_id = self.tag_names().await?;
        self.retry_failed_contacts(&tags_by_id, customers_read).await?;
        let checkpoint = self.checkpoint(SyncObject::Contacts).await?;
        let resumed = checkpoint.as_ref().and_then(Position::read);
        let fresh = resumed.is_none();
        let mut position = match resumed {
            Some(p) => p,
            None => {
                Position { since: self.incremental_since(SyncObject::Contacts, walk).await?, ..Position::default() }
            }
        };
        if !position.end {
            let mut first_page = None;
            if fresh && position.since.is_none() {
                let page = self.api.contacts_page(None).await?;
                match self.split_contacts(&page).await? {
                    Some(split) => position = split,
                    None => first_page = Some(page),
                }
            }
            if position.ranges.is_empty() {
                let search = position.since.map(Search::contacts_updated_since);
                let fetch = |after: Option<String>| {
                    let search = search.clone();
                    async move {
                        match &search {
                            Some(s) => self.api.search_contacts_page(s, after.as_deref()).await,
                            None => self.api.contacts_page(after.as_deref()).await,
                        }
                    }
                };
                let page_of = |items| self.contact_page(items, &tags_by_id, customers_read);
                self.read_in_sequence(SyncObject::Contacts, position, first_page, fetch, page_of).await?;
            } else {
                let margin = position.margin;
                self.read_in_ranges(
                    SyncObject::Contacts,
                    position,
                    |range| range.contact_search(margin),
                    |search, after| async move { self.api.search_contacts_page(&search, after.as_deref()).await },
                    |items| self.contact_page(items, &tags_by_id, customers_read),
                )
                .await?;
            }
        }
        self.push_pending_contacts(&tags_by_id, customers_read).await?;
        self.create_contacts(&tags_by_id).await?;
        let max = self.checkpoint(SyncObject::Contacts).await?.and_then(|c| c.max_updated_at);
        Ok(WalkEnd::Complete { cursor: self.next_cursor(max, walk), churn: None })
    }

    /// A full walk big enough to be cut into ranges gets its plan saved, so that a resumed
    /// run reads the same ranges; `None` keeps the one cursor of `GET /contacts`. The
    /// first page, read to learn the total, is then read again in its range.
    async fn split_contacts(&self, first: &CursorPage<Contact>) -> Result<Option<Position>> {
        let count = self.range_count(first);
        if count < 2 {
            return Ok(None);
        }
        let total = first.total.unwrap_or(0);
        let oldest = Search::contacts_created_between(None, None).per_page(1);
        let Some(oldest) = self.api.search_contacts_page(&oldest, None).await?.items.first().and_then(|c| c.created_at)
        else {
            return Ok(None);
        };
        // Without the zone the ranges are only wider, so any answer but a revoked token will do.
        let zone = match self.api.workspace_time_zone().await {
            Ok(zone) => zone,
            Err(err) if err.needs_reconnect() => return Err(err.into()),
            Err(err) => {
                tracing::warn!(sync.run_id = self.run_id, error = %err, "the workspace's time zone is unknown; contact ranges overlap and keep their own");
                None
            }
        };
        let plan = ranges::plan(oldest, self.started_at.max(crate::store::now()), count, zone.as_deref());
        if plan.ranges.len() < 2 {
            return Ok(None);
        }
        tracing::info!(sync.run_id = self.run_id, ranges = plan.ranges.len(), total, zone = ?zone, "reading contacts in ranges of creation days");
        let position = Position { ranges: plan.ranges, margin: plan.margin, ..Position::default() };
        self.save_plan(SyncObject::Contacts, &position, Some(total)).await?;
        Ok(Some(position))
    }

    /// Contacts edited in Skalin that the walk did not read (an incremental walk reads
    /// only what changed in Intercom): read each and settle it.
    async fn push_pending_contacts(&self, tags_by_id: &HashMap<String, String>, customers_read: bool) -> Result<()> {
        let settings = &self.settings.contacts;
        // With no role mapped there is nothing to write: the edits wait for a mapping.
        let roles_mapped = mapping::role_sources(settings).iter().any(|(_, s)| s.is_some());
        if !settings.mode.writes() || !roles_mapped {
            return Ok(());
        }
        let ids = self.store.pending_record_ids(SyncObject::Contacts, RETRIES_PER_RUN).await?;
        if ids.is_empty() {
            return Ok(());
        }
        let rows = self.store.contacts_by_ids(&ids).await?;
        let mut batch = Vec::new();
        let mut page = PageWrite::default();
        for row in rows {
            let Some(intercom_id) = row.intercom_id else { continue };
            match self.api.contact(&intercom_id).await {
                Ok(contact) => batch.push(contact),
                Err(err) => {
                    page.counts.failed += 1;
                    page.failures.push(failure(&intercom_id, &err));
                }
            }
        }
        let mut settled = self.contact_page(batch, tags_by_id, customers_read).await?;
        settled.done = 0;
        settled.counts.failed += page.counts.failed;
        settled.failures.extend(page.failures);
        self.write(SyncObject::Contacts, settled).await
    }

    /// Output and Two-ways with the choice on: contacts Intercom does not know become users
    /// there, keyed by their contact ID (`external_id`), attached to their customer's
    /// company, with their role.
    async fn create_contacts(&self, tags_by_id: &HashMap<String, String>) -> Result<()> {
        let settings = &self.settings.contacts;
        if !(settings.create_in_intercom && settings.mode.writes()) {
            return Ok(());
        }
        let writes_roles = mapping::role_sources(settings).iter().any(|(_, s)| s.is_some());
        loop {
            let rows = self.store.contacts_without_intercom(CONTACT_BATCH as u32).await?;
            if rows.is_empty() {
                return Ok(());
            }
            let customer_ids: Vec<i64> = rows.iter().filter_map(|r| r.customer_id).collect();
            let companies: HashMap<i64, String> = self
                .store
                .customers_by_ids(&customer_ids)
                .await?
                .into_iter()
                .filter_map(|c| c.intercom_id.map(|i| (c.id, i)))
                .collect();
            let mut page = PageWrite::default();
            let last_batch = self.dry_run || rows.len() < CONTACT_BATCH;
            let mut refused = 0;
            for row in rows {
                let key = format!("skalin:{}", row.external_id);
                if self.dry_run {
                    page.counts.created += 1;
                    continue;
                }
                let company = row.customer_id.and_then(|c| companies.get(&c)).map(String::as_str);
                let created = match self.create_contact(&row, company).await {
                    Ok(contact) => contact,
                    Err(failed) => {
                        refused += 1;
                        page.counts.failed += 1;
                        page.failures.push(NewFailure { intercom_id: key, ..failed });
                        continue;
                    }
                };
                let mut stored = row.clone();
                stored.intercom_id = Some(created.id.clone());
                stored.intercom_updated_at = created.updated_at;
                stored.synced_run = Some(self.run_id);
                if writes_roles && row.role_tag.is_some() {
                    let names = mapping::tag_names(&created, tags_by_id).into_iter().map(str::to_string).collect();
                    let intercom = mapping::role(&created, settings, &str_set(&names)).flatten();
                    let pushed = self
                        .push_role(
                            &created,
                            &row,
                            intercom,
                            &names,
                            tags_by_id,
                            &HashMap::new(),
                            &mut stored,
                            &mut page,
                        )
                        .await;
                    if let Err(failed) = pushed {
                        // Created all the same: the next run settles the role.
                        page.failures.push(NewFailure { intercom_id: created.id.clone(), ..failed });
                        page.counts.failed += 1;
                    }
                }
                page.counts.created += 1;
                page.writes.push(RecordWrite::Contact(stored));
            }
            self.write(SyncObject::Contacts, page).await?;
            // Refused contacts keep no Intercom id: stop rather than ask for them again.
            if last_batch || refused > 0 {
                return Ok(());
            }
        }
    }

    /// Creates one contact, or takes the one Intercom already has under the same contact
    /// ID (a creation whose answer was lost), and attaches its customer's company.
    async fn create_contact(
        &self,
        row: &crate::store::StoredContact,
        company: Option<&str>,
    ) -> std::result::Result<Contact, NewFailure> {
        // The contact ID is the key a later walk finds the contact by.
        let key = self.settings.contacts.id_field.as_deref().unwrap_or_default();
        let keyed_by_email = key == "email";
        let new = ContactCreate {
            role: "user",
            external_id: (!keyed_by_email).then(|| row.external_id.clone()),
            email: if keyed_by_email {
                Some(row.external_id.clone())
            } else {
                row.email.clone().filter(|e| !e.is_empty())
            },
            name: Some(row.name.clone()).filter(|n| !n.is_empty()),
        };
        let contact = match self.api.create_contact(&new).await {
            Ok(contact) => contact,
            Err(err) => {
                let Some(existing) = err.existing_contact_id().map(str::to_string) else {
                    return Err(failure(&row.external_id, &err));
                };
                let contact = self.api.contact(&existing).await.map_err(|e| failure(&row.external_id, &e))?;
                if mapping::text(contact.field(key)).as_deref() != Some(row.external_id.as_str()) {
                    return Err(refusal(
                        &row.external_id,
                        format!("Intercom already has a contact with these details under another ID (Intercom contact {existing})."),
                    ));
                }
                contact
            }
        };
        if let Some(company) = company {
            if !contact.companies.data.iter().any(|c| c.id == company) {
                self.api.attach_contact_company(&contact.id, company).await.map_err(|e| failure(&contact.id, &e))?;
            }
        }
        Ok(contact)
    }

    async fn incremental_since(&self, object: SyncObject, walk: WalkKind) -> Result<Option<i64>> {
        if walk == WalkKind::Full {
            return Ok(None);
        }
        Ok(self.store.sync_cursor(object).await?.updated_since)
    }

    /// Tag ids to names, fetched only when a role is mapped to a tag.
    async fn tag_names(&self) -> Result<HashMap<String, String>> {
        let by_tag =
            mapping::role_sources(&self.settings.contacts).iter().any(|(_, s)| matches!(s, Some(RoleSource::Tag(_))));
        if !by_tag {
            return Ok(HashMap::new());
        }
        Ok(self.api.tags().await?.into_iter().map(|t| (t.id, t.name)).collect())
    }

    async fn retry_failed_contacts(&self, tags_by_id: &HashMap<String, String>, customers_read: bool) -> Result<()> {
        let ids = self.store.open_failures(SyncObject::Contacts, RETRIES_PER_RUN).await?;
        if ids.is_empty() || self.dry_run {
            return Ok(());
        }
        let mut batch = Vec::new();
        let mut gone = Vec::new();
        for id in &ids {
            match self.api.contact(id).await {
                Ok(contact) => batch.push(contact),
                Err(IntercomError::NotFound(_) | IntercomError::Gone { .. }) => gone.push(id.clone()),
                Err(err) => {
                    tracing::warn!(sync.run_id = self.run_id, intercom.id = %id, error = %err, "a failed contact could not be read again; it stays failed")
                }
            }
        }
        let mut page = self.contact_page(batch, tags_by_id, customers_read).await?;
        page.resolved.extend(gone);
        page.done = 0;
        self.write(SyncObject::Contacts, page).await
    }

    async fn contact_page(
        &self,
        batch: Vec<Contact>,
        tags_by_id: &HashMap<String, String>,
        customers_read: bool,
    ) -> Result<PageWrite> {
        let settings = &self.settings.contacts;
        let key = settings.id_field.as_deref().unwrap_or(crate::domain::INTERCOM_ID);
        let ids: Vec<String> = batch.iter().map(|c| c.id.clone()).collect();
        let externals: Vec<String> = batch.iter().filter_map(|c| mapping::text(c.field(key))).collect();
        let existing = self.store.contacts_by_keys(&ids, &externals).await?;
        let by_intercom: HashMap<&str, _> =
            existing.iter().filter_map(|c| c.intercom_id.as_deref().map(|id| (id, c))).collect();
        let by_external: HashMap<&str, _> = existing.iter().map(|c| (c.external_id.as_str(), c)).collect();
        let company_ids: Vec<String> = batch
            .iter()
            .flat_map(|c| c.companies.data.iter().map(|r| r.id.clone()))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut customer_of: HashMap<String, i64> =
            self.store.customer_links(&company_ids).await?.into_iter().collect();

        let writes_roles = settings.mode.writes() && mapping::role_sources(settings).iter().any(|(_, s)| s.is_some());
        let pending = self.pending(SyncObject::Contacts, existing.iter().map(|c| c.id).collect(), writes_roles).await?;

        let mut page = PageWrite::default();
        let mut taken: HashSet<String> = HashSet::new();
        let mut in_page: HashSet<&str> = HashSet::new();
        for contact in &batch {
            if !in_page.insert(contact.id.as_str()) {
                continue;
            }
            page.done += 1;
            page.max_updated_at = page.max_updated_at.max(contact.updated_at);

            let mut customer_id = contact.companies.data.iter().find_map(|r| customer_of.get(&r.id).copied());
            if customer_id.is_none() && contact.companies.has_more && customers_read {
                match self.api.contact_company_ids(&contact.id).await {
                    Ok(all) => {
                        customer_of.extend(self.store.customer_links(&all).await?);
                        customer_id = all.iter().find_map(|id| customer_of.get(id).copied());
                    }
                    Err(err) => {
                        page.counts.failed += 1;
                        page.failures.push(failure(&contact.id, &err));
                        continue;
                    }
                }
            }

            let mut names: HashSet<String> =
                mapping::tag_names(contact, tags_by_id).into_iter().map(str::to_string).collect();
            let mut role = mapping::role(contact, settings, &str_set(&names));
            let current = by_intercom.get(contact.id.as_str()).copied().or_else(|| {
                let external = mapping::text(contact.field(key))?;
                by_external.get(external.as_str()).copied().filter(|c| c.intercom_id.is_none())
            });
            let pushing_role = writes_roles && current.is_some();
            if contact.tags.has_more && (mapping::needs_all_tags(contact, settings, &role) || pushing_role) {
                match self.api.contact_tags(&contact.id).await {
                    Ok(all) => {
                        names = all.into_iter().map(|t| t.name).collect();
                        role = mapping::role(contact, settings, &str_set(&names));
                    }
                    Err(err) => {
                        page.counts.failed += 1;
                        page.failures.push(failure(&contact.id, &err));
                        continue;
                    }
                }
            }

            let mapped = if settings.mode == SyncMode::OutputOnly {
                // Output only: Intercom's contacts are matched, never imported.
                let Some(current) = current else { continue };
                let mut row = current.clone();
                row.intercom_id = Some(contact.id.clone());
                row.intercom_updated_at = contact.updated_at;
                row.synced_run = Some(self.run_id);
                Ok(row)
            } else {
                mapping::contact(contact, settings, current, customer_id, role.clone(), self.run_id)
            };
            let mut row = match mapped {
                Ok(row) => row,
                Err(message) => {
                    page.counts.failed += 1;
                    page.failures.push(refusal(&contact.id, message));
                    continue;
                }
            };
            let clash = by_external.get(row.external_id.as_str()).filter(|other| other.id != row.id || row.id == 0);
            if clash.is_some() || !taken.insert(row.external_id.clone()) {
                page.counts.failed += 1;
                page.failures.push(refusal(
                    &contact.id,
                    format!("The contact ID \"{}\" is already used by another contact.", row.external_id),
                ));
                continue;
            }
            let pushed = match (current, pushing_role) {
                (Some(current), true) => {
                    let intercom = role.clone().flatten();
                    match self
                        .push_role(contact, current, intercom, &names, tags_by_id, &pending, &mut row, &mut page)
                        .await
                    {
                        Ok(pushed) => pushed,
                        Err(failed) => {
                            page.counts.failed += 1;
                            page.failures.push(failed);
                            false
                        }
                    }
                }
                _ => false,
            };
            page.resolved.push(contact.id.clone());
            let seen = current.map(|c| Seen {
                id: c.id,
                synced_run: c.synced_run,
                intercom_updated_at: c.intercom_updated_at,
            });
            let changed = current.is_some_and(|c| mapping::contact_changed(c, &row)) || pushed;
            let moved = row.intercom_updated_at;
            self.count(&mut page, seen, changed, moved, RecordWrite::Contact(row));
        }
        Ok(page)
    }

    /// Settles a contact's role by the rule and, when Skalin's wins, writes it: the role's
    /// tag or yes/no field set, the other roles' cleared.
    #[allow(clippy::too_many_arguments)]
    async fn push_role(
        &self,
        contact: &Contact,
        current: &crate::store::StoredContact,
        intercom: Option<String>,
        tag_names: &HashSet<String>,
        tags_by_id: &HashMap<String, String>,
        pending: &HashMap<(i64, String), PendingEdit>,
        row: &mut crate::store::StoredContact,
        page: &mut PageWrite,
    ) -> std::result::Result<bool, NewFailure> {
        let settings = &self.settings.contacts;
        let edit = pending.get(&(current.id, "role_tag".to_string()));
        let skalin = current.role_tag.clone();
        let settle = |page: &mut PageWrite| {
            if let Some(e) = edit {
                page.sent.push((e.record_id, e.field.clone(), e.changed_at));
            }
        };
        match output::resolve(settings.mode, skalin.as_deref(), intercom.as_deref(), edit, contact.updated_at) {
            Resolution::Keep => {
                row.role_tag = skalin;
                settle(page);
                Ok(false)
            }
            Resolution::TakeIntercom => {
                row.role_tag = intercom;
                settle(page);
                Ok(false)
            }
            Resolution::PushSkalin => {
                row.role_tag = skalin.clone();
                let sources = mapping::role_sources(settings);
                let write = output::role_write(
                    skalin.as_deref(),
                    &sources,
                    |tag| tag_names.contains(tag),
                    |key| mapping::truthy(contact.field(key)),
                )
                .map_err(|m| refusal(&contact.id, m))?;
                if !self.dry_run {
                    let tag_id = |name: &str| {
                        tags_by_id.iter().find(|(_, n)| n.as_str() == name).map(|(id, _)| id.clone()).ok_or_else(|| {
                            refusal(&contact.id, format!("The tag \"{name}\" is no longer in Intercom."))
                        })
                    };
                    for name in &write.add_tags {
                        self.api
                            .tag_contact(&contact.id, &tag_id(name)?)
                            .await
                            .map_err(|e| failure(&contact.id, &e))?;
                    }
                    for name in &write.remove_tags {
                        self.api
                            .untag_contact(&contact.id, &tag_id(name)?)
                            .await
                            .map_err(|e| failure(&contact.id, &e))?;
                    }
                    if let Some(update) = &write.update {
                        self.api.update_contact(&contact.id, update).await.map_err(|e| failure(&contact.id, &e))?;
                    }
                }
                settle(page);
                Ok(true)
            }
        }
    }

    // ---- interactions ---------------------------------------------------------------

    /// Tickets inside the import window: all of them on a full walk, those changed since
    /// the cursor otherwise.
    pub async fn interactions(&self, walk: WalkKind) -> Result<WalkEnd> {
        let window_start = match self.settings.interactions.import_window.days() {
            Some(days) => self.started_at - days * 86_400,
            None => 0,
        };
        self.retry_failed_tickets(window_start).await?;
        let checkpoint = self.checkpoint(SyncObject::Interactions).await?;
        let resumed = checkpoint.as_ref().and_then(Position::read);
        let fresh = resumed.is_none();
        let mut position = match resumed {
            Some(p) => p,
            None => {
                let since = self.incremental_since(SyncObject::Interactions, walk).await?.map(|s| s - TICKET_OVERLAP);
                Position { since, ..Position::default() }
            }
        };
        if !position.end {
            let mut first_page = None;
            if fresh && position.since.is_none() {
                let page = self.api.search_tickets_page(&Search::tickets_created_since(window_start), None).await?;
                match self.split_tickets(&page).await? {
                    Some(split) => position = split,
                    None => first_page = Some(page),
                }
            }
            if position.ranges.is_empty() {
                let search = match position.since {
                    Some(since) => Search::tickets_updated_since(since),
                    None => Search::tickets_created_since(window_start),
                };
                let fetch = |after: Option<String>| {
                    let search = search.clone();
                    async move { self.api.search_tickets_page(&search, after.as_deref()).await }
                };
                let page_of = |items| self.ticket_page(items, window_start);
                self.read_in_sequence(SyncObject::Interactions, position, first_page, fetch, page_of).await?;
            } else {
                self.read_in_ranges(
                    SyncObject::Interactions,
                    position,
                    |range| range.ticket_search(window_start),
                    |search, after| async move { self.api.search_tickets_page(&search, after.as_deref()).await },
                    |items| self.ticket_page(items, window_start),
                )
                .await?;
            }
        }
        let max = self.checkpoint(SyncObject::Interactions).await?.and_then(|c| c.max_updated_at);
        Ok(WalkEnd::Complete { cursor: self.next_cursor(max, walk), churn: None })
    }

    /// A full walk of many tickets is cut into ranges of equal time from the oldest
    /// ticket's creation (the first page is sorted oldest first); the first page is then
    /// read again in its range.
    async fn split_tickets(&self, first: &CursorPage<Ticket>) -> Result<Option<Position>> {
        let count = self.range_count(first);
        let oldest = first.items.first().and_then(|t| t.created_at);
        let Some(oldest) = oldest.filter(|_| count >= 2) else { return Ok(None) };
        let ranges = ranges::plan_seconds(oldest, self.started_at.max(crate::store::now()), count);
        if ranges.len() < 2 {
            return Ok(None);
        }
        tracing::info!(
            sync.run_id = self.run_id,
            ranges = ranges.len(),
            total = first.total,
            "reading tickets in ranges of creation time"
        );
        let position = Position { ranges, ..Position::default() };
        self.save_plan(SyncObject::Interactions, &position, first.total).await?;
        Ok(Some(position))
    }

    async fn retry_failed_tickets(&self, window_start: i64) -> Result<()> {
        let ids = self.store.open_failures(SyncObject::Interactions, RETRIES_PER_RUN).await?;
        if ids.is_empty() || self.dry_run {
            return Ok(());
        }
        let mut batch = Vec::new();
        let mut gone = Vec::new();
        for id in &ids {
            match self.api.ticket(id).await {
                Ok(ticket) => batch.push(ticket),
                Err(IntercomError::NotFound(_)) => gone.push(id.clone()),
                Err(err) => {
                    tracing::warn!(sync.run_id = self.run_id, intercom.id = %id, error = %err, "a failed ticket could not be read again; it stays failed")
                }
            }
        }
        let mut page = self.ticket_page(batch, window_start).await?;
        page.resolved.extend(gone);
        page.done = 0;
        self.write(SyncObject::Interactions, page).await
    }

    async fn ticket_page(&self, batch: Vec<Ticket>, window_start: i64) -> Result<PageWrite> {
        let ids: Vec<String> = batch.iter().map(|t| t.id.clone()).collect();
        let existing = self.store.interactions_by_intercom_ids(&ids).await?;
        let by_intercom: HashMap<&str, _> =
            existing.iter().filter_map(|i| i.intercom_id.as_deref().map(|id| (id, i))).collect();
        let contact_ids: Vec<String> =
            batch.iter().filter_map(|t| t.contacts.contacts.first().map(|r| r.id.clone())).collect();
        let contacts: HashMap<String, (i64, Option<i64>)> = self
            .store
            .contact_links(&contact_ids)
            .await?
            .into_iter()
            .map(|(i, id, customer)| (i, (id, customer)))
            .collect();

        let mut page = PageWrite::default();
        let mut in_page: HashSet<&str> = HashSet::new();
        for ticket in &batch {
            if !in_page.insert(ticket.id.as_str()) {
                continue;
            }
            page.done += 1;
            page.max_updated_at = page.max_updated_at.max(ticket.updated_at);
            page.resolved.push(ticket.id.clone());
            if ticket.created_at.is_some_and(|c| c < window_start) {
                continue;
            }
            let contact = ticket.contacts.contacts.first().and_then(|r| contacts.get(&r.id).copied());
            let current = by_intercom.get(ticket.id.as_str()).copied();
            let row = mapping::interaction(ticket, current, contact, self.run_id);
            let seen = current.map(|c| Seen {
                id: c.id,
                synced_run: c.synced_run,
                intercom_updated_at: c.intercom_updated_at,
            });
            let changed = current.is_some_and(|c| mapping::interaction_changed(c, &row));
            let moved = row.intercom_updated_at;
            self.count(&mut page, seen, changed, moved, RecordWrite::Interaction(row));
        }
        Ok(page)
    }
}

impl Walk<'_> {
    /// Whether the scroll lists companies that have no users is UNCONFIRMED: a company
    /// missing from the walk is looked up before it counts as gone. Any error other than
    /// "not found" stops the churn for this run.
    async fn still_gone(&self, candidates: Vec<ChurnEntry>) -> Result<Vec<ChurnEntry>> {
        if candidates.len() > MAX_CHURN_LOOKUPS {
            return Ok(candidates);
        }
        let mut gone = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            match self.api.company(&candidate.intercom_id).await {
                Err(IntercomError::NotFound(_)) => gone.push(candidate),
                Ok(_) => tracing::info!(
                    sync.run_id = self.run_id,
                    intercom.id = %candidate.intercom_id,
                    "a company missing from the scroll still exists (no users?): not churned"
                ),
                Err(err) => return Err(err.into()),
            }
        }
        Ok(gone)
    }
}

/// Whether churning `candidates` of `total` customers goes over `max_percent`.
pub fn over_threshold(candidates: u64, total: u64, max_percent: u8) -> bool {
    candidates * 100 > total.max(1) * u64::from(max_percent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn churn_waits_only_above_the_threshold() {
        assert!(!over_threshold(1, 10, 10));
        assert!(over_threshold(2, 10, 10));
        assert!(over_threshold(1, 0, 10));
        assert!(!over_threshold(0, 0, 0));
    }

    #[test]
    fn a_position_survives_its_round_trip_through_the_checkpoint() {
        let p = Position { since: Some(5), after: Some("WzE/+".into()), ..Position::default() };
        let checkpoint = ObjectCheckpoint {
            object: SyncObject::Contacts,
            status: crate::domain::ObjectStatus::Running,
            walk: WalkKind::Incremental,
            cursor: p.to_cursor().flatten(),
            done: 0,
            max_updated_at: None,
        };
        assert_eq!(Position::read(&checkpoint), Some(p));
    }
}
