//! Intercom contacts → contacts: read incrementally or in full (in ranges when many), each
//! page linked to its customers, given its role, reconciled, pushed and written with its
//! checkpoint; then the edits the walk did not meet, and the creations.

use std::collections::{HashMap, HashSet};

use super::mapping::{self, Fields};
use super::pipeline::{failure, refusal, str_set, Position, Seen, Walk, WalkEnd, RETRIES_PER_RUN};
use super::ranges;
use super::Result;
use crate::domain::{RoleSource, SyncMode, SyncObject, WalkKind};
use crate::intercom::{Contact, CursorPage, IntercomError, Search};
use crate::sync_model::{PageWrite, RecordWrite};

impl Walk<'_> {
    pub(super) async fn contacts(&self, walk: WalkKind, customers_read: bool) -> Result<WalkEnd> {
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
        Ok(WalkEnd::Complete { cursor: self.next_cursor(max, walk), churn: None, note: None })
    }

    /// A full walk big enough to be cut into ranges gets its plan saved, so that a resumed
    /// run reads the same ranges; `None` keeps the one cursor of `GET /contacts`. The
    /// first page, read to learn the total, is then read again in its range.
    pub(super) async fn split_contacts(&self, first: &CursorPage<Contact>) -> Result<Option<Position>> {
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
    pub(super) async fn push_pending_contacts(
        &self,
        tags_by_id: &HashMap<String, String>,
        customers_read: bool,
    ) -> Result<()> {
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

    /// Tag ids to names, fetched only when a role is mapped to a tag.
    pub(super) async fn tag_names(&self) -> Result<HashMap<String, String>> {
        let by_tag =
            mapping::role_sources(&self.settings.contacts).iter().any(|(_, s)| matches!(s, Some(RoleSource::Tag(_))));
        if !by_tag {
            return Ok(HashMap::new());
        }
        Ok(self.api.tags().await?.into_iter().map(|t| (t.id, t.name)).collect())
    }

    pub(super) async fn retry_failed_contacts(
        &self,
        tags_by_id: &HashMap<String, String>,
        customers_read: bool,
    ) -> Result<()> {
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

    pub(super) async fn contact_page(
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
}
