//! Companies → customers: the scroll read in pages, each page mapped, reconciled with
//! Skalin's rows, pushed where Skalin's values win, and written with its checkpoint.

use std::collections::{HashMap, HashSet};

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::mapping::{self, Fields};
use super::output;
use super::pipeline::{refusal, Seen, Walk, WalkEnd};
use super::Result;
use crate::domain::{ObjectStatus, SyncMode, SyncObject, WalkKind};
use crate::intercom::{Company, Restarts, ScrollEvent};
use crate::sync_model::{PageWrite, RecordWrite};

/// Companies are created in Intercom in batches of the scroll's page size.
pub(super) const COMPANY_PAGE: usize = 100;

/// Where a company walk stands, as saved with its pages: the scroll's own position
/// lives in Intercom, so only its `scroll_param` is worth keeping.
#[derive(Debug, Default, Serialize, Deserialize)]
struct ScrollPosition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scroll_param: Option<String>,
}

impl Walk<'_> {
    /// Every company, then churn. A resumed run walks again from the start (the scroll's
    /// position cannot be trusted past the last written page) and `synced_run` keeps it
    /// from counting or churning twice; the scroll the stopped run left open is read to
    /// its end rather than waited out.
    pub(super) async fn customers(&self, seen_in_dry_run: &mut HashSet<String>) -> Result<WalkEnd> {
        let expected = self.store.intercom_customer_count().await?;
        let left_open = self
            .checkpoint(SyncObject::Customers)
            .await?
            .and_then(|c| c.cursor)
            .and_then(|c| serde_json::from_str::<ScrollPosition>(&c).ok())
            .and_then(|p| p.scroll_param);
        let mut saved = left_open.clone();
        let mut stream = self.api.company_pages(left_open);
        let mut first = true;
        let mut restarts: Option<Restarts> = None;
        while let Some(event) = stream.next().await {
            let (companies, scroll_param) = match event? {
                ScrollEvent::Page { companies, scroll_param } => (companies, scroll_param),
                ScrollEvent::Restarted(r) => {
                    let message = format!("The company scroll is starting again: {}.", r.describe());
                    self.store
                        .set_object_status(
                            self.run_id,
                            self.holder,
                            SyncObject::Customers,
                            ObjectStatus::Running,
                            Some(&message),
                            None,
                        )
                        .await?;
                    restarts = Some(r);
                    continue;
                }
            };
            if scroll_param.is_some() && scroll_param != saved {
                // Saved before the page is worked on, so that a process killed now leaves a
                // scroll the next run can close, not one it must wait a minute for.
                let position = ScrollPosition { scroll_param: scroll_param.clone() };
                let cursor = PageWrite { cursor: Some(serde_json::to_string(&position).ok()), ..PageWrite::default() };
                self.store.apply_page(self.run_id, self.holder, SyncObject::Customers, &cursor).await?;
                saved = scroll_param;
            }
            if companies.is_empty() {
                continue;
            }
            let mut page = self.customer_page(companies, seen_in_dry_run).await?;
            if first {
                // Intercom does not count companies; what Skalin had is the estimate.
                page.expected = (expected > 0).then_some(expected);
                first = false;
            }
            self.write(SyncObject::Customers, page).await?;
        }
        self.create_companies().await?;
        let max = self.checkpoint(SyncObject::Customers).await?.and_then(|c| c.max_updated_at);
        let churn = self.churn(seen_in_dry_run).await?;
        let note = restarts.map(|r| format!("The company scroll was {}.", r.describe()));
        Ok(WalkEnd::Complete { cursor: self.next_cursor(max, WalkKind::Full), churn, note })
    }

    pub(super) async fn customer_page(
        &self,
        batch: Vec<Company>,
        seen_in_dry_run: &mut HashSet<String>,
    ) -> Result<PageWrite> {
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
}
