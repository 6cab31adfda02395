//! Intercom tickets → interactions, within the import window: read incrementally or in
//! full (in ranges of creation time when many), linked to their first contact and its
//! customer, and written page by page with the checkpoint.

use std::collections::{HashMap, HashSet};

use super::mapping;
use super::pipeline::{Position, Seen, Walk, WalkEnd, RETRIES_PER_RUN};
use super::ranges;
use super::Result;
use crate::domain::{SyncObject, WalkKind};
use crate::intercom::{CursorPage, IntercomError, Search, Ticket};
use crate::sync_model::{PageWrite, RecordWrite};

/// Whether ticket search's `>` includes its bound is UNCONFIRMED, and recent writes reach
/// the search index late: incremental ticket reads start this much before the cursor.
const TICKET_OVERLAP: i64 = 3_600;

impl Walk<'_> {
    /// Tickets inside the import window: all of them on a full walk, those changed since
    /// the cursor otherwise.
    pub(super) async fn interactions(&self, walk: WalkKind) -> Result<WalkEnd> {
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
        Ok(WalkEnd::Complete { cursor: self.next_cursor(max, walk), churn: None, note: None })
    }

    /// A full walk of many tickets is cut into ranges of equal time from the oldest
    /// ticket's creation (the first page is sorted oldest first); the first page is then
    /// read again in its range.
    pub(super) async fn split_tickets(&self, first: &CursorPage<Ticket>) -> Result<Option<Position>> {
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

    pub(super) async fn retry_failed_tickets(&self, window_start: i64) -> Result<()> {
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

    pub(super) async fn ticket_page(&self, batch: Vec<Ticket>, window_start: i64) -> Result<PageWrite> {
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
