//! The page pipeline every walk goes through: a page read from Intercom is mapped and
//! reconciled with Skalin's rows by its object's module (`customers`, `contacts`,
//! `interactions`), which pushes Skalin's winners (`push`); the page is then written here
//! with its checkpoint in one transaction, so a run stopped anywhere resumes where the
//! data is. The readers (`reading`) feed it pages from one cursor or ranges side by side.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::ranges::Range;
use super::source::IntercomApi;
use super::Result;
use crate::domain::{ChurnEntry, DataType, IntegrationSettings, SyncObject, WalkKind};
use crate::intercom::IntercomError;
use crate::store::{RunHolder, Store};
use crate::sync_model::{NewFailure, ObjectCheckpoint, OutboxField, PageWrite, PendingEdit, RecordWrite, SyncCursor};

/// Failed records retried at the start of each object's walk, at most.
pub(super) const RETRIES_PER_RUN: u32 = 500;

/// What one object's walk needs; built per run.
pub struct Walk<'a> {
    pub store: &'a dyn Store,
    pub api: &'a dyn IntercomApi,
    pub settings: &'a IntegrationSettings,
    pub run_id: i64,
    /// This worker: every write to the run is refused once another took it over.
    pub holder: RunHolder<'a>,
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
    /// `note` tells what the walk met on its way (a restarted scroll).
    Complete { cursor: SyncCursor, churn: Option<ChurnOutcome>, note: Option<String> },
}

/// What the churn check after a complete company walk did (see `churn`).
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
pub(super) struct Position {
    /// The lower bound the walk's search uses; fixed for the walk so a resumed cursor
    /// belongs to the same query.
    pub since: Option<i64>,
    pub after: Option<String>,
    /// The last page was written; only the bookkeeping is left.
    pub end: bool,
    /// A full walk read in ranges: each keeps its own cursor, and `after` is unused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub margin: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl Position {
    pub(super) fn read(checkpoint: &ObjectCheckpoint) -> Option<Position> {
        checkpoint.cursor.as_deref().and_then(|c| serde_json::from_str(c).ok())
    }

    pub(super) fn to_cursor(&self) -> Option<Option<String>> {
        Some(serde_json::to_string(self).ok())
    }
}

pub(super) fn str_set(names: &HashSet<String>) -> HashSet<&str> {
    names.iter().map(String::as_str).collect()
}

pub(super) fn failure(id: &str, err: &IntercomError) -> NewFailure {
    NewFailure {
        intercom_id: id.to_string(),
        message: err.to_string(),
        request_id: err.request_id().map(str::to_string),
    }
}

pub(super) fn refusal(id: &str, message: String) -> NewFailure {
    NewFailure { intercom_id: id.to_string(), message, request_id: None }
}

/// What a run needs of the row Skalin already has to count a record once.
#[derive(Clone, Copy)]
pub(super) struct Seen {
    pub id: i64,
    pub synced_run: Option<i64>,
    pub intercom_updated_at: Option<i64>,
}

impl Walk<'_> {
    /// Counts a record once per run (a walk read again after a restart counts nothing
    /// twice) and writes the whole row when it is new or changed, its Intercom clock when
    /// only that moved, or only the run's mark.
    pub(super) fn count(
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

    pub(super) async fn write(&self, object: SyncObject, mut page: PageWrite) -> Result<()> {
        if self.dry_run {
            page.writes.clear();
            page.seen.clear();
            page.failures.clear();
            page.resolved.clear();
        }
        self.store.apply_page(self.run_id, self.holder, object, &page).await?;
        Ok(())
    }

    pub(super) fn next_cursor(&self, checkpoint_max: Option<i64>, walk: WalkKind) -> SyncCursor {
        SyncCursor {
            // Records changed while the walk went on may sit behind it: never past the start.
            updated_since: checkpoint_max.map(|m| m.min(self.started_at)),
            full_at: (walk == WalkKind::Full).then_some(self.started_at),
        }
    }

    pub(super) async fn checkpoint(&self, object: SyncObject) -> Result<Option<ObjectCheckpoint>> {
        Ok(self.store.checkpoints(self.run_id).await?.into_iter().find(|c| c.object == object))
    }

    /// Unsent Skalin edits of these records, by record and field.
    pub(super) async fn pending(
        &self,
        object: SyncObject,
        ids: Vec<i64>,
        wanted: bool,
    ) -> Result<HashMap<(i64, OutboxField), PendingEdit>> {
        if !wanted || ids.is_empty() {
            return Ok(HashMap::new());
        }
        let edits = self.store.pending_edits(object, &ids).await?;
        Ok(edits.into_iter().map(|e| ((e.record_id, e.field), e)).collect())
    }

    pub(super) async fn incremental_since(&self, object: SyncObject, walk: WalkKind) -> Result<Option<i64>> {
        if walk == WalkKind::Full {
            return Ok(None);
        }
        Ok(self.store.sync_cursor(object).await?.updated_since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
