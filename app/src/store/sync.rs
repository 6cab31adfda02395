//! The sync engine's side of the store: runs and their checkpoints, the records as the
//! engine reconciles them, failures and incremental cursors.
//!
//! Every page of records goes in with its checkpoint in one transaction
//! ([`SyncStore::apply_page`]), so a run stopped anywhere resumes where the data is.

use async_trait::async_trait;

use super::Result;
use crate::domain::{
    ChurnEntry, ContactEdit, Counts, CustomerEdit, ObjectReport, ObjectStatus, RunRequest, RunStatus, RunTrigger,
    SyncFailure, SyncObject, SyncRun, WalkKind,
};

#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    pub trigger: RunTrigger,
    pub requested_by: String,
    pub request: RunRequest,
    /// Scheduled runs: the slot they fill; a slot already filled inserts nothing.
    pub schedule_slot: Option<i64>,
    pub queued_at: i64,
}

/// A run a worker holds: what was asked, and where each object stands.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedRun {
    pub id: i64,
    pub trigger: RunTrigger,
    pub requested_by: String,
    pub request: RunRequest,
    pub started_at: i64,
}

/// One object's checkpoint within a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCheckpoint {
    pub object: SyncObject,
    pub status: ObjectStatus,
    pub walk: WalkKind,
    /// Where the walk goes on from; `None` at the start.
    pub cursor: Option<String>,
    pub done: u64,
    pub max_updated_at: Option<i64>,
}

/// Where the next incremental read of an object starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncCursor {
    pub updated_since: Option<i64>,
    pub full_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredCustomer {
    pub id: i64,
    pub external_id: String,
    pub intercom_id: Option<String>,
    pub name: String,
    pub domain: Option<String>,
    pub csm_owner: Option<String>,
    pub stage: Option<String>,
    pub profile: Option<String>,
    pub health_score: Option<i64>,
    pub csm_pulse: Option<String>,
    pub intercom_updated_at: Option<i64>,
    pub synced_run: Option<i64>,
    pub churned_at: Option<i64>,
}

/// An edit made in Skalin that Intercom has not received yet.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingEdit {
    pub record_id: i64,
    pub field: String,
    pub value: Option<String>,
    /// The value before the first unsent edit: what Intercom last agreed with.
    pub base: Option<String>,
    pub changed_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredContact {
    pub id: i64,
    pub external_id: String,
    pub intercom_id: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub customer_id: Option<i64>,
    pub role_tag: Option<String>,
    pub intercom_updated_at: Option<i64>,
    pub synced_run: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredInteraction {
    pub id: i64,
    pub intercom_id: Option<String>,
    pub title: String,
    pub state: Option<String>,
    pub contact_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub created_at: i64,
    pub intercom_updated_at: Option<i64>,
    pub synced_run: Option<i64>,
}

/// A record to write: `id` is the row to update, `None` to insert. The row's fields are
/// written whole, `synced_run` included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordWrite {
    Customer(StoredCustomer),
    Contact(StoredContact),
    Interaction(StoredInteraction),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFailure {
    pub intercom_id: String,
    pub message: String,
    pub request_id: Option<String>,
}

/// One page of a walk, as one transaction: the records, the rows only marked as read, the
/// counts, the failures, and the checkpoint to resume from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageWrite {
    pub writes: Vec<RecordWrite>,
    /// Rows read unchanged: only their `synced_run` moves.
    pub seen: Vec<i64>,
    pub counts: Counts,
    pub done: u64,
    pub failures: Vec<NewFailure>,
    /// Intercom ids whose earlier failures this page cleared.
    pub resolved: Vec<String>,
    /// Edits Intercom now has (or overruled): `(record id, field, changed_at)`; an edit
    /// made since keeps its row.
    pub sent: Vec<(i64, String, i64)>,
    /// The new checkpoint; `None` leaves it as it was.
    pub cursor: Option<Option<String>>,
    pub max_updated_at: Option<i64>,
    pub expected: Option<u64>,
}

#[async_trait]
pub trait SyncStore: Send + Sync + 'static {
    /// Queues a run; `None` when its schedule slot is already taken.
    async fn enqueue_run(&self, run: &NewRun) -> Result<Option<i64>>;
    /// The queued or running run, if there is one.
    async fn active_run(&self) -> Result<Option<i64>>;
    /// Takes the oldest queued run, or a running one whose worker stopped beating before
    /// `stale_before`. Exactly one of several workers gets each.
    async fn claim_run(&self, worker: &str, now: i64, stale_before: i64) -> Result<Option<ClaimedRun>>;
    /// Keeps the claim alive and records the calls so far; `false` if another worker took
    /// the run over.
    async fn heartbeat(&self, run_id: i64, worker: &str, now: i64, calls: [u64; 3]) -> Result<bool>;
    /// Adds the objects a run covers, keeping those a previous worker already started.
    async fn plan_objects(&self, run_id: i64, objects: &[(SyncObject, WalkKind, ObjectStatus)]) -> Result<()>;
    async fn checkpoints(&self, run_id: i64) -> Result<Vec<ObjectCheckpoint>>;
    async fn set_object_status(
        &self,
        run_id: i64,
        object: SyncObject,
        status: ObjectStatus,
        message: Option<&str>,
        churn: Option<&[ChurnEntry]>,
    ) -> Result<()>;
    async fn apply_page(&self, run_id: i64, object: SyncObject, page: &PageWrite) -> Result<()>;
    /// Ends one object's walk; with `cursor`, the next incremental read starts there.
    async fn finish_object(
        &self,
        run_id: i64,
        object: SyncObject,
        status: ObjectStatus,
        message: Option<&str>,
        cursor: Option<SyncCursor>,
    ) -> Result<()>;
    async fn finish_run(&self, run_id: i64, status: RunStatus, message: Option<&str>, now: i64) -> Result<()>;
    /// Moves a run waiting for confirmation back to the queue.
    async fn requeue_run(&self, run_id: i64) -> Result<bool>;

    async fn sync_run(&self, id: i64) -> Result<Option<SyncRun>>;
    /// The latest runs, newest first.
    async fn sync_runs(&self, limit: u32) -> Result<Vec<SyncRun>>;
    async fn run_failures(&self, run_id: i64, limit: u32) -> Result<Vec<SyncFailure>>;
    /// Intercom ids of records whose last failure is not resolved yet.
    async fn open_failures(&self, object: SyncObject, limit: u32) -> Result<Vec<String>>;
    async fn sync_cursor(&self, object: SyncObject) -> Result<SyncCursor>;

    async fn customers_by_keys(&self, intercom_ids: &[String], external_ids: &[String]) -> Result<Vec<StoredCustomer>>;
    async fn contacts_by_keys(&self, intercom_ids: &[String], external_ids: &[String]) -> Result<Vec<StoredContact>>;
    async fn interactions_by_intercom_ids(&self, intercom_ids: &[String]) -> Result<Vec<StoredInteraction>>;
    /// `(Intercom company id, customer id)` for the customers with these Intercom ids:
    /// what linking a page of contacts needs, without the rest of the rows.
    async fn customer_links(&self, intercom_ids: &[String]) -> Result<Vec<(String, i64)>>;
    /// `(Intercom contact id, contact id, its customer id)`, for linking tickets.
    async fn contact_links(&self, intercom_ids: &[String]) -> Result<Vec<(String, i64, Option<i64>)>>;
    /// Customers from Intercom, not churned, that run `run_id` has not read.
    async fn unseen_customers(&self, run_id: i64) -> Result<Vec<ChurnEntry>>;
    /// Customers that came from Intercom and are not churned.
    async fn intercom_customer_count(&self) -> Result<u64>;
    /// Sets stage = `stage` on these customers unless a later run read them; returns how
    /// many changed. The count goes to the run's customers object in the same transaction.
    async fn churn_customers(&self, run_id: i64, intercom_ids: &[String], stage: &str, now: i64) -> Result<u64>;

    /// Writes a user's edit and queues each changed field for Intercom, both or neither;
    /// `false` when there is no such customer.
    async fn edit_customer(&self, id: i64, edit: &CustomerEdit, who: &str, now: i64) -> Result<bool>;
    async fn edit_contact(&self, id: i64, edit: &ContactEdit, who: &str, now: i64) -> Result<bool>;
    async fn pending_edits(&self, object: SyncObject, record_ids: &[i64]) -> Result<Vec<PendingEdit>>;
    /// Records with unsent edits, oldest edit first.
    async fn pending_record_ids(&self, object: SyncObject, limit: u32) -> Result<Vec<i64>>;
    async fn customers_by_ids(&self, ids: &[i64]) -> Result<Vec<StoredCustomer>>;
    async fn contacts_by_ids(&self, ids: &[i64]) -> Result<Vec<StoredContact>>;
    /// Customers Intercom does not know yet (no Intercom id), for creating companies.
    async fn customers_without_intercom(&self, limit: u32) -> Result<Vec<StoredCustomer>>;
    /// Contacts Intercom does not know yet (no Intercom id), for creating contacts.
    async fn contacts_without_intercom(&self, limit: u32) -> Result<Vec<StoredContact>>;
}

#[derive(sqlx::FromRow)]
pub(super) struct RunRow {
    pub id: i64,
    pub trigger: String,
    pub requested_by: String,
    pub request: String,
    pub status: String,
    pub queued_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub calls: i64,
    pub retries: i64,
    pub rate_limit_waits: i64,
    pub message: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(super) struct ObjectRow {
    pub run_id: i64,
    pub object: String,
    pub status: String,
    pub walk: String,
    pub cursor: Option<String>,
    pub done: i64,
    pub expected: Option<i64>,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub churned: i64,
    pub failed: i64,
    pub max_updated_at: Option<i64>,
    pub message: Option<String>,
    pub churn: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(super) struct FailureRow {
    pub run_id: i64,
    pub object: String,
    pub intercom_id: String,
    pub message: String,
    pub request_id: Option<String>,
    pub failed_at: i64,
    pub resolved_at: Option<i64>,
}

fn corrupt(what: &str, value: &str) -> super::StoreError {
    super::StoreError::Corrupt(format!("unknown {what} `{value}`"))
}

pub(super) fn parse_object(s: &str) -> Result<SyncObject> {
    SyncObject::parse(s).ok_or_else(|| corrupt("sync object", s))
}

impl RunRow {
    pub fn request(&self) -> Result<RunRequest> {
        serde_json::from_str(&self.request).map_err(|e| super::StoreError::Corrupt(format!("run request: {e}")))
    }

    pub fn into_run(self, objects: Vec<ObjectReport>) -> Result<SyncRun> {
        let request = self.request()?;
        Ok(SyncRun {
            id: self.id,
            trigger: RunTrigger::parse(&self.trigger).ok_or_else(|| corrupt("run trigger", &self.trigger))?,
            requested_by: self.requested_by,
            status: RunStatus::parse(&self.status).ok_or_else(|| corrupt("run status", &self.status))?,
            dry_run: request.dry_run,
            queued_at: self.queued_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            calls: self.calls.max(0) as u64,
            retries: self.retries.max(0) as u64,
            rate_limit_waits: self.rate_limit_waits.max(0) as u64,
            message: self.message,
            objects,
        })
    }
}

impl ObjectRow {
    pub fn checkpoint(self) -> Result<ObjectCheckpoint> {
        Ok(ObjectCheckpoint {
            object: parse_object(&self.object)?,
            status: ObjectStatus::parse(&self.status).ok_or_else(|| corrupt("object status", &self.status))?,
            walk: WalkKind::parse(&self.walk).ok_or_else(|| corrupt("walk", &self.walk))?,
            cursor: self.cursor,
            done: self.done.max(0) as u64,
            max_updated_at: self.max_updated_at,
        })
    }

    pub fn report(self) -> Result<ObjectReport> {
        let churn = match &self.churn {
            Some(json) => {
                serde_json::from_str(json).map_err(|e| super::StoreError::Corrupt(format!("churn list: {e}")))?
            }
            None => Vec::new(),
        };
        Ok(ObjectReport {
            object: parse_object(&self.object)?,
            status: ObjectStatus::parse(&self.status).ok_or_else(|| corrupt("object status", &self.status))?,
            walk: WalkKind::parse(&self.walk).ok_or_else(|| corrupt("walk", &self.walk))?,
            counts: Counts {
                created: self.created.max(0) as u64,
                updated: self.updated.max(0) as u64,
                unchanged: self.unchanged.max(0) as u64,
                churned: self.churned.max(0) as u64,
                failed: self.failed.max(0) as u64,
            },
            done: self.done.max(0) as u64,
            expected: self.expected.map(|e| e.max(0) as u64),
            message: self.message,
            churn,
        })
    }
}

impl FailureRow {
    pub fn failure(self) -> Result<SyncFailure> {
        Ok(SyncFailure {
            run_id: self.run_id,
            object: parse_object(&self.object)?,
            intercom_id: self.intercom_id,
            message: self.message,
            request_id: self.request_id,
            failed_at: self.failed_at,
            resolved_at: self.resolved_at,
        })
    }
}

/// Rows per multi-row insert: 100 × 13 values stays far inside both backends' limits.
pub(super) const INSERT_ROWS: usize = 100;

/// `($1, …, $cols), ($cols+1, …)` for `rows` rows, the statement's only values.
pub(super) fn value_rows(style: Placeholders, rows: usize, cols: usize) -> String {
    let row = |r: usize| match style {
        Placeholders::Anonymous => vec!["?"; cols].join(", "),
        Placeholders::Numbered => placeholders(style, r * cols + 1, cols),
    };
    (0..rows).map(|r| format!("({})", row(r))).collect::<Vec<_>>().join(", ")
}

pub(super) fn is_new(write: &RecordWrite) -> bool {
    match write {
        RecordWrite::Customer(c) => c.id == 0,
        RecordWrite::Contact(c) => c.id == 0,
        RecordWrite::Interaction(i) => i.id == 0,
    }
}

/// How a backend's statements mark the values of generated lists.
#[derive(Clone, Copy)]
pub(super) enum Placeholders {
    /// `$from, $from+1, …`
    Numbered,
    /// `?, ?, …` where the list holds all of a statement's values. SQLite finds a named
    /// value (`$n`) by walking the statement's list of names, and sqlx asks for each one:
    /// a 900-value insert took ~400k steps to bind; `?` takes none.
    Anonymous,
}

/// `$from, $from+1, …` for an `in (…)` list of `n` values, or `?`s when the style allows
/// and the list starts at the first value: sqlx counts `?` among `?`s only, so a `?` after
/// a `$1` would take the first value.
pub(super) fn placeholders(style: Placeholders, from: usize, n: usize) -> String {
    match style {
        Placeholders::Anonymous if from == 1 => vec!["?"; n].join(", "),
        _ => (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", "),
    }
}

pub(super) const RUN_COLUMNS: &str = "id, trigger, requested_by, request, status, queued_at, started_at, finished_at, \
     calls, retries, rate_limit_waits, message";
pub(super) const OBJECT_COLUMNS: &str = "run_id, object, status, walk, cursor, done, expected, created, updated, \
     unchanged, churned, failed, max_updated_at, message, churn";
pub(super) const CUSTOMER_COLUMNS: &str = "id, external_id, intercom_id, name, domain, csm_owner, stage, profile, \
     health_score, csm_pulse, intercom_updated_at, synced_run, churned_at";
pub(super) const CONTACT_COLUMNS: &str =
    "id, external_id, intercom_id, name, email, customer_id, role_tag, intercom_updated_at, synced_run";
pub(super) const INTERACTION_COLUMNS: &str =
    "id, intercom_id, title, state, contact_id, customer_id, created_at, intercom_updated_at, synced_run";
/// Queues one field's edit for Intercom. A second edit before a run keeps the first one's
/// base: that is still what Intercom has.
pub(super) const QUEUE_EDIT: &str =
    "insert into sync_outbox (object, record_id, field, value, base, changed_at, changed_by) \
     values ($1, $2, $3, $4, $5, $6, $7) \
     on conflict (object, record_id, field) do update set \
         value = excluded.value, changed_at = excluded.changed_at, changed_by = excluded.changed_by";
/// Keeps `in (…)` lists well inside both backends' limits on bound values.
pub(super) const CHUNK: usize = 500;

// Shares the statements between the two backends, as `impl_store!` does.
macro_rules! impl_sync_store {
    ($store:ty, $placeholders:expr) => {
        #[async_trait]
        impl SyncStore for $store {
            async fn enqueue_run(&self, run: &NewRun) -> Result<Option<i64>> {
                let request = serde_json::to_string(&run.request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let id: Option<i64> = sqlx::query_scalar(
                    "insert into sync_runs (trigger, requested_by, request, status, schedule_slot, queued_at) \
                     values ($1, $2, $3, 'queued', $4, $5) \
                     on conflict (schedule_slot) do nothing returning id",
                )
                .bind(run.trigger.as_str())
                .bind(&run.requested_by)
                .bind(request)
                .bind(run.schedule_slot)
                .bind(run.queued_at)
                .fetch_optional(&self.pool)
                .await?;
                Ok(id)
            }

            async fn active_run(&self) -> Result<Option<i64>> {
                Ok(sqlx::query_scalar(
                    "select id from sync_runs where status in ('queued', 'running') order by id limit 1",
                )
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn claim_run(&self, worker: &str, now: i64, stale_before: i64) -> Result<Option<ClaimedRun>> {
                // The condition is repeated outside the subquery: on PostgreSQL a second
                // worker blocked on the same row re-checks it against the first's commit.
                let sql = format!(
                    "update sync_runs set status = 'running', claimed_by = $1, heartbeat_at = $2, \
                         started_at = coalesce(started_at, $2) \
                     where id = (select id from sync_runs \
                                 where status = 'queued' or (status = 'running' and heartbeat_at < $3) \
                                 order by id limit 1) \
                       and (status = 'queued' or (status = 'running' and heartbeat_at < $3)) \
                     returning {RUN_COLUMNS}"
                );
                let row = sqlx::query_as::<_, RunRow>(&sql)
                    .bind(worker)
                    .bind(now)
                    .bind(stale_before)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|row| {
                    Ok(ClaimedRun {
                        id: row.id,
                        trigger: RunTrigger::parse(&row.trigger).unwrap_or(RunTrigger::Manual),
                        requested_by: row.requested_by.clone(),
                        request: row.request()?,
                        started_at: row.started_at.unwrap_or(now),
                    })
                })
                .transpose()
            }

            async fn heartbeat(&self, run_id: i64, worker: &str, now: i64, calls: [u64; 3]) -> Result<bool> {
                let done = sqlx::query(
                    "update sync_runs set heartbeat_at = $1, calls = $2, retries = $3, rate_limit_waits = $4 \
                     where id = $5 and claimed_by = $6 and status = 'running'",
                )
                .bind(now)
                .bind(calls[0] as i64)
                .bind(calls[1] as i64)
                .bind(calls[2] as i64)
                .bind(run_id)
                .bind(worker)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn plan_objects(&self, run_id: i64, objects: &[(SyncObject, WalkKind, ObjectStatus)]) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                for (object, walk, status) in objects {
                    sqlx::query(
                        "insert into sync_run_objects (run_id, object, status, walk) values ($1, $2, $3, $4) \
                         on conflict (run_id, object) do nothing",
                    )
                    .bind(run_id)
                    .bind(object.as_str())
                    .bind(status.as_str())
                    .bind(walk.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn checkpoints(&self, run_id: i64) -> Result<Vec<ObjectCheckpoint>> {
                let sql = format!("select {OBJECT_COLUMNS} from sync_run_objects where run_id = $1");
                sqlx::query_as::<_, ObjectRow>(&sql)
                    .bind(run_id)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(ObjectRow::checkpoint)
                    .collect()
            }

            async fn set_object_status(
                &self,
                run_id: i64,
                object: SyncObject,
                status: ObjectStatus,
                message: Option<&str>,
                churn: Option<&[ChurnEntry]>,
            ) -> Result<()> {
                let churn = churn
                    .map(serde_json::to_string)
                    .transpose()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                sqlx::query(
                    "update sync_run_objects set status = $1, message = coalesce($2, message), \
                         churn = coalesce($3, churn) \
                     where run_id = $4 and object = $5",
                )
                .bind(status.as_str())
                .bind(message)
                .bind(churn)
                .bind(run_id)
                .bind(object.as_str())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn apply_page(&self, run_id: i64, object: SyncObject, page: &PageWrite) -> Result<()> {
                let now = now();
                let mut tx = self.pool.begin().await?;
                // New rows go in a few statements a page rather than one each.
                let new_customers: Vec<&StoredCustomer> = page.writes.iter().filter_map(|w| match w {
                    RecordWrite::Customer(c) if c.id == 0 => Some(c),
                    _ => None,
                }).collect();
                for chunk in new_customers.chunks(INSERT_ROWS) {
                    let sql = format!(
                        "insert into customers (external_id, intercom_id, name, domain, csm_owner, stage, profile, \
                             intercom_updated_at, synced_run, churned_at, updated_at, health_score, csm_pulse) values {}",
                        value_rows($placeholders, chunk.len(), 13)
                    );
                    let mut query = sqlx::query(&sql);
                    for c in chunk {
                        query = query
                            .bind(&c.external_id)
                            .bind(&c.intercom_id)
                            .bind(&c.name)
                            .bind(&c.domain)
                            .bind(&c.csm_owner)
                            .bind(&c.stage)
                            .bind(&c.profile)
                            .bind(c.intercom_updated_at)
                            .bind(c.synced_run)
                            .bind(c.churned_at)
                            .bind(now)
                            .bind(c.health_score)
                            .bind(&c.csm_pulse);
                    }
                    query.execute(&mut *tx).await?;
                }
                let new_contacts: Vec<&StoredContact> = page.writes.iter().filter_map(|w| match w {
                    RecordWrite::Contact(c) if c.id == 0 => Some(c),
                    _ => None,
                }).collect();
                for chunk in new_contacts.chunks(INSERT_ROWS) {
                    let sql = format!(
                        "insert into contacts (external_id, intercom_id, name, email, customer_id, role_tag, \
                             intercom_updated_at, synced_run, updated_at) values {}",
                        value_rows($placeholders, chunk.len(), 9)
                    );
                    let mut query = sqlx::query(&sql);
                    for c in chunk {
                        query = query
                            .bind(&c.external_id)
                            .bind(&c.intercom_id)
                            .bind(&c.name)
                            .bind(&c.email)
                            .bind(c.customer_id)
                            .bind(&c.role_tag)
                            .bind(c.intercom_updated_at)
                            .bind(c.synced_run)
                            .bind(now);
                    }
                    query.execute(&mut *tx).await?;
                }
                let new_interactions: Vec<&StoredInteraction> = page.writes.iter().filter_map(|w| match w {
                    RecordWrite::Interaction(i) if i.id == 0 => Some(i),
                    _ => None,
                }).collect();
                for chunk in new_interactions.chunks(INSERT_ROWS) {
                    let sql = format!(
                        "insert into interactions (intercom_id, title, state, contact_id, customer_id, created_at, \
                             intercom_updated_at, synced_run) values {}",
                        value_rows($placeholders, chunk.len(), 8)
                    );
                    let mut query = sqlx::query(&sql);
                    for i in chunk {
                        query = query
                            .bind(&i.intercom_id)
                            .bind(&i.title)
                            .bind(&i.state)
                            .bind(i.contact_id)
                            .bind(i.customer_id)
                            .bind(i.created_at)
                            .bind(i.intercom_updated_at)
                            .bind(i.synced_run);
                    }
                    query.execute(&mut *tx).await?;
                }
                for write in page.writes.iter().filter(|w| !is_new(w)) {
                    match write {
                        RecordWrite::Customer(c) => {
                            sqlx::query(
                                "update customers set external_id = $1, intercom_id = $2, name = $3, domain = $4, \
                                     csm_owner = $5, stage = $6, profile = $7, intercom_updated_at = $8, \
                                     synced_run = $9, churned_at = $10, updated_at = $11, health_score = $12, \
                                     csm_pulse = $13 \
                                 where id = $14",
                            )
                            .bind(&c.external_id)
                            .bind(&c.intercom_id)
                            .bind(&c.name)
                            .bind(&c.domain)
                            .bind(&c.csm_owner)
                            .bind(&c.stage)
                            .bind(&c.profile)
                            .bind(c.intercom_updated_at)
                            .bind(c.synced_run)
                            .bind(c.churned_at)
                            .bind(now)
                            .bind(c.health_score)
                            .bind(&c.csm_pulse)
                            .bind(c.id)
                            .execute(&mut *tx)
                            .await?;
                        }
                        RecordWrite::Contact(c) => {
                            sqlx::query(
                                "update contacts set external_id = $1, intercom_id = $2, name = $3, email = $4, \
                                     customer_id = $5, role_tag = $6, intercom_updated_at = $7, synced_run = $8, \
                                     updated_at = $9 \
                                 where id = $10",
                            )
                            .bind(&c.external_id)
                            .bind(&c.intercom_id)
                            .bind(&c.name)
                            .bind(&c.email)
                            .bind(c.customer_id)
                            .bind(&c.role_tag)
                            .bind(c.intercom_updated_at)
                            .bind(c.synced_run)
                            .bind(now)
                            .bind(c.id)
                            .execute(&mut *tx)
                            .await?;
                        }
                        RecordWrite::Interaction(i) => {
                            sqlx::query(
                                "update interactions set intercom_id = $1, title = $2, state = $3, contact_id = $4, \
                                     customer_id = $5, created_at = $6, intercom_updated_at = $7, synced_run = $8 \
                                 where id = $9",
                            )
                            .bind(&i.intercom_id)
                            .bind(&i.title)
                            .bind(&i.state)
                            .bind(i.contact_id)
                            .bind(i.customer_id)
                            .bind(i.created_at)
                            .bind(i.intercom_updated_at)
                            .bind(i.synced_run)
                            .bind(i.id)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                }
                let table = match object {
                    SyncObject::Customers => "customers",
                    SyncObject::Contacts => "contacts",
                    SyncObject::Interactions => "interactions",
                };
                for chunk in page.seen.chunks(CHUNK) {
                    let sql = format!(
                        "update {table} set synced_run = $1 where id in ({})",
                        placeholders($placeholders, 2, chunk.len())
                    );
                    let mut query = sqlx::query(&sql).bind(run_id);
                    for id in chunk {
                        query = query.bind(*id);
                    }
                    query.execute(&mut *tx).await?;
                }
                for failure in &page.failures {
                    sqlx::query(
                        "insert into sync_failures (run_id, object, intercom_id, message, request_id, failed_at) \
                         values ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(run_id)
                    .bind(object.as_str())
                    .bind(&failure.intercom_id)
                    .bind(&failure.message)
                    .bind(&failure.request_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                for chunk in page.resolved.chunks(CHUNK) {
                    let sql = format!(
                        "update sync_failures set resolved_at = $1 \
                         where object = $2 and resolved_at is null and run_id <> $3 and intercom_id in ({})",
                        placeholders($placeholders, 4, chunk.len())
                    );
                    let mut query = sqlx::query(&sql).bind(now).bind(object.as_str()).bind(run_id);
                    for id in chunk {
                        query = query.bind(id);
                    }
                    query.execute(&mut *tx).await?;
                }
                for (record_id, field, changed_at) in &page.sent {
                    sqlx::query(
                        "delete from sync_outbox where object = $1 and record_id = $2 and field = $3 and changed_at = $4",
                    )
                    .bind(object.as_str())
                    .bind(record_id)
                    .bind(field)
                    .bind(changed_at)
                    .execute(&mut *tx)
                    .await?;
                }
                let (cursor_set, cursor) = match &page.cursor {
                    Some(c) => (1i64, c.clone()),
                    None => (0i64, None),
                };
                sqlx::query(
                    "update sync_run_objects set \
                         created = created + $1, updated = updated + $2, unchanged = unchanged + $3, \
                         churned = churned + $4, failed = failed + $5, done = done + $6, \
                         cursor = case when $7 = 1 then $8 else cursor end, \
                         max_updated_at = case when max_updated_at is null or max_updated_at < $9 then $9 \
                                               else max_updated_at end, \
                         expected = coalesce($10, expected) \
                     where run_id = $11 and object = $12",
                )
                .bind(page.counts.created as i64)
                .bind(page.counts.updated as i64)
                .bind(page.counts.unchanged as i64)
                .bind(page.counts.churned as i64)
                .bind(page.counts.failed as i64)
                .bind(page.done as i64)
                .bind(cursor_set)
                .bind(cursor)
                .bind(page.max_updated_at)
                .bind(page.expected.map(|e| e as i64))
                .bind(run_id)
                .bind(object.as_str())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn finish_object(
                &self,
                run_id: i64,
                object: SyncObject,
                status: ObjectStatus,
                message: Option<&str>,
                cursor: Option<SyncCursor>,
            ) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "update sync_run_objects set status = $1, message = coalesce($2, message) \
                     where run_id = $3 and object = $4",
                )
                .bind(status.as_str())
                .bind(message)
                .bind(run_id)
                .bind(object.as_str())
                .execute(&mut *tx)
                .await?;
                if let Some(cursor) = cursor {
                    sqlx::query(
                        "insert into sync_cursors (object, updated_since, full_at) values ($1, $2, $3) \
                         on conflict (object) do update set \
                             updated_since = coalesce(excluded.updated_since, sync_cursors.updated_since), \
                             full_at = coalesce(excluded.full_at, sync_cursors.full_at)",
                    )
                    .bind(object.as_str())
                    .bind(cursor.updated_since)
                    .bind(cursor.full_at)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn finish_run(&self, run_id: i64, status: RunStatus, message: Option<&str>, now: i64) -> Result<()> {
                let finished = (!status.is_active() && status != RunStatus::AwaitingConfirmation).then_some(now);
                sqlx::query(
                    "update sync_runs set status = $1, message = $2, finished_at = $3, claimed_by = null \
                     where id = $4",
                )
                .bind(status.as_str())
                .bind(message)
                .bind(finished)
                .bind(run_id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn requeue_run(&self, run_id: i64) -> Result<bool> {
                let done = sqlx::query(
                    "update sync_runs set status = 'queued' where id = $1 and status = 'awaiting_confirmation'",
                )
                .bind(run_id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn sync_run(&self, id: i64) -> Result<Option<SyncRun>> {
                let sql = format!("select {RUN_COLUMNS} from sync_runs where id = $1");
                let Some(row) = sqlx::query_as::<_, RunRow>(&sql).bind(id).fetch_optional(&self.pool).await? else {
                    return Ok(None);
                };
                let sql = format!("select {OBJECT_COLUMNS} from sync_run_objects where run_id = $1");
                let objects = sqlx::query_as::<_, ObjectRow>(&sql).bind(id).fetch_all(&self.pool).await?;
                let objects = ordered(objects.into_iter().map(ObjectRow::report).collect::<Result<Vec<_>>>()?);
                Ok(Some(row.into_run(objects)?))
            }

            async fn sync_runs(&self, limit: u32) -> Result<Vec<SyncRun>> {
                let sql = format!("select {RUN_COLUMNS} from sync_runs order by id desc limit $1");
                let rows = sqlx::query_as::<_, RunRow>(&sql).bind(i64::from(limit)).fetch_all(&self.pool).await?;
                let Some(oldest) = rows.last().map(|r| r.id) else { return Ok(Vec::new()) };
                let sql = format!("select {OBJECT_COLUMNS} from sync_run_objects where run_id >= $1");
                let mut by_run: std::collections::HashMap<i64, Vec<ObjectReport>> = Default::default();
                for row in sqlx::query_as::<_, ObjectRow>(&sql).bind(oldest).fetch_all(&self.pool).await? {
                    let run_id = row.run_id;
                    by_run.entry(run_id).or_default().push(row.report()?);
                }
                rows.into_iter()
                    .map(|row| {
                        let objects = ordered(by_run.remove(&row.id).unwrap_or_default());
                        row.into_run(objects)
                    })
                    .collect()
            }

            async fn run_failures(&self, run_id: i64, limit: u32) -> Result<Vec<SyncFailure>> {
                sqlx::query_as::<_, FailureRow>(
                    "select run_id, object, intercom_id, message, request_id, failed_at, resolved_at \
                     from sync_failures where run_id = $1 order by id limit $2",
                )
                .bind(run_id)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(FailureRow::failure)
                .collect()
            }

            async fn open_failures(&self, object: SyncObject, limit: u32) -> Result<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "select intercom_id from sync_failures where object = $1 and resolved_at is null \
                     group by intercom_id order by min(id) limit $2",
                )
                .bind(object.as_str())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?)
            }

            async fn sync_cursor(&self, object: SyncObject) -> Result<SyncCursor> {
                let row: Option<(Option<i64>, Option<i64>)> =
                    sqlx::query_as("select updated_since, full_at from sync_cursors where object = $1")
                        .bind(object.as_str())
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(updated_since, full_at)| SyncCursor { updated_since, full_at }).unwrap_or_default())
            }

            async fn customers_by_keys(&self, intercom_ids: &[String], external_ids: &[String]) -> Result<Vec<StoredCustomer>> {
                let mut out = Vec::new();
                for chunk in intercom_ids.chunks(CHUNK) {
                    let sql = format!(
                        "select {CUSTOMER_COLUMNS} from customers where intercom_id in ({})",
                        placeholders($placeholders, 1, chunk.len())
                    );
                    let mut query = sqlx::query_as::<_, StoredCustomer>(&sql);
                    for id in chunk {
                        query = query.bind(id);
                    }
                    out.extend(query.fetch_all(&self.pool).await?);
                }
                for chunk in external_ids.chunks(CHUNK) {
                    let sql = format!(
                        "select {CUSTOMER_COLUMNS} from customers where external_id in ({})",
                        placeholders($placeholders, 1, chunk.len())
                    );
                    let mut query = sqlx::query_as::<_, StoredCustomer>(&sql);
                    for id in chunk {
                        query = query.bind(id);
                    }
                    out.extend(query.fetch_all(&self.pool).await?);
                }
                out.sort_by_key(|c| c.id);
                out.dedup_by_key(|c| c.id);
                Ok(out)
            }

            async fn contacts_by_keys(&self, intercom_ids: &[String], external_ids: &[String]) -> Result<Vec<StoredContact>> {
                let mut out = Vec::new();
                for (column, ids) in [("intercom_id", intercom_ids), ("external_id", external_ids)] {
                    for chunk in ids.chunks(CHUNK) {
                        let sql = format!(
                            "select {CONTACT_COLUMNS} from contacts where {column} in ({})",
                            placeholders($placeholders, 1, chunk.len())
                        );
                        let mut query = sqlx::query_as::<_, StoredContact>(&sql);
                        for id in chunk {
                            query = query.bind(id);
                        }
                        out.extend(query.fetch_all(&self.pool).await?);
                    }
                }
                out.sort_by_key(|c| c.id);
                out.dedup_by_key(|c| c.id);
                Ok(out)
            }

            async fn customer_links(&self, intercom_ids: &[String]) -> Result<Vec<(String, i64)>> {
                let mut out = Vec::new();
                for chunk in intercom_ids.chunks(CHUNK) {
                    let sql = format!(
                        "select intercom_id, id from customers where intercom_id in ({})",
                        placeholders($placeholders, 1, chunk.len())
                    );
                    let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
                    for id in chunk {
                        query = query.bind(id);
                    }
                    out.extend(query.fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn contact_links(&self, intercom_ids: &[String]) -> Result<Vec<(String, i64, Option<i64>)>> {
                let mut out = Vec::new();
                for chunk in intercom_ids.chunks(CHUNK) {
                    let sql = format!(
                        "select intercom_id, id, customer_id from contacts where intercom_id in ({})",
                        placeholders($placeholders, 1, chunk.len())
                    );
                    let mut query = sqlx::query_as::<_, (String, i64, Option<i64>)>(&sql);
                    for id in chunk {
                        query = query.bind(id);
                    }
                    out.extend(query.fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn interactions_by_intercom_ids(&self, intercom_ids: &[String]) -> Result<Vec<StoredInteraction>> {
                let mut out = Vec::new();
                for chunk in intercom_ids.chunks(CHUNK) {
                    let sql = format!(
                        "select {INTERACTION_COLUMNS} from interactions where intercom_id in ({})",
                        placeholders($placeholders, 1, chunk.len())
                    );
                    let mut query = sqlx::query_as::<_, StoredInteraction>(&sql);
                    for id in chunk {
                        query = query.bind(id);
                    }
                    out.extend(query.fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn unseen_customers(&self, run_id: i64) -> Result<Vec<ChurnEntry>> {
                let rows: Vec<(String, String, String)> = sqlx::query_as(
                    "select intercom_id, external_id, name from customers \
                     where intercom_id is not null and churned_at is null \
                       and (synced_run is null or synced_run < $1) \
                     order by name, id",
                )
                .bind(run_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(intercom_id, external_id, name)| ChurnEntry { intercom_id, external_id, name })
                    .collect())
            }

            async fn intercom_customer_count(&self) -> Result<u64> {
                let n: i64 = sqlx::query_scalar(
                    "select count(*) from customers where intercom_id is not null and churned_at is null",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok(n.max(0) as u64)
            }

            async fn churn_customers(&self, run_id: i64, intercom_ids: &[String], stage: &str, now: i64) -> Result<u64> {
                let mut tx = self.pool.begin().await?;
                let mut churned = 0u64;
                for chunk in intercom_ids.chunks(CHUNK) {
                    let sql = format!(
                        "update customers set stage = $1, churned_at = $2, updated_at = $2 \
                         where churned_at is null and (synced_run is null or synced_run < $3) \
                           and intercom_id in ({})",
                        placeholders($placeholders, 4, chunk.len())
                    );
                    let mut query = sqlx::query(&sql).bind(stage).bind(now).bind(run_id);
                    for id in chunk {
                        query = query.bind(id);
                    }
                    churned += query.execute(&mut *tx).await?.rows_affected();
                }
                sqlx::query(
                    "update sync_run_objects set churned = churned + $1 where run_id = $2 and object = 'customers'",
                )
                .bind(churned as i64)
                .bind(run_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(churned)
            }

            async fn edit_customer(&self, id: i64, edit: &CustomerEdit, who: &str, now: i64) -> Result<bool> {
                let mut tx = self.pool.begin().await?;
                let current: Option<(Option<String>, Option<String>, Option<String>, Option<i64>)> = sqlx::query_as(
                    "select stage, csm_owner, csm_pulse, health_score from customers where id = $1",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((stage, csm_owner, csm_pulse, health_score)) = current else { return Ok(false) };
                let changes = [
                    ("stage", stage, edit.stage.clone()),
                    ("csm_owner", csm_owner, edit.csm_owner.clone()),
                    ("csm_pulse", csm_pulse, edit.csm_pulse.clone()),
                    ("health_score", health_score.map(|h| h.to_string()), edit.health_score.map(|h| h.to_string())),
                ];
                sqlx::query(
                    "update customers set stage = $1, csm_owner = $2, csm_pulse = $3, health_score = $4, updated_at = $5 \
                     where id = $6",
                )
                .bind(&edit.stage)
                .bind(&edit.csm_owner)
                .bind(&edit.csm_pulse)
                .bind(edit.health_score)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                for (field, before, after) in changes {
                    if before != after {
                        sqlx::query(QUEUE_EDIT)
                            .bind("customers")
                            .bind(id)
                            .bind(field)
                            .bind(after.as_deref())
                            .bind(before.as_deref())
                            .bind(now)
                            .bind(who)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn edit_contact(&self, id: i64, edit: &ContactEdit, who: &str, now: i64) -> Result<bool> {
                let mut tx = self.pool.begin().await?;
                let current: Option<(Option<String>,)> =
                    sqlx::query_as("select role_tag from contacts where id = $1").bind(id).fetch_optional(&mut *tx).await?;
                let Some((before,)) = current else { return Ok(false) };
                sqlx::query("update contacts set role_tag = $1, updated_at = $2 where id = $3")
                    .bind(&edit.role_tag)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if before != edit.role_tag {
                    sqlx::query(QUEUE_EDIT)
                        .bind("contacts")
                        .bind(id)
                        .bind("role_tag")
                        .bind(edit.role_tag.as_deref())
                        .bind(before.as_deref())
                        .bind(now)
                        .bind(who)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn pending_edits(&self, object: SyncObject, record_ids: &[i64]) -> Result<Vec<PendingEdit>> {
                let mut out = Vec::new();
                for chunk in record_ids.chunks(CHUNK) {
                    let sql = format!(
                        "select record_id, field, value, base, changed_at from sync_outbox \
                         where object = $1 and record_id in ({})",
                        placeholders($placeholders, 2, chunk.len())
                    );
                    let mut query = sqlx::query_as::<_, PendingEdit>(&sql).bind(object.as_str());
                    for id in chunk {
                        query = query.bind(*id);
                    }
                    out.extend(query.fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn pending_record_ids(&self, object: SyncObject, limit: u32) -> Result<Vec<i64>> {
                Ok(sqlx::query_scalar(
                    "select record_id from sync_outbox where object = $1 \
                     group by record_id order by min(changed_at), record_id limit $2",
                )
                .bind(object.as_str())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?)
            }

            async fn customers_by_ids(&self, ids: &[i64]) -> Result<Vec<StoredCustomer>> {
                let mut out = Vec::new();
                for chunk in ids.chunks(CHUNK) {
                    let sql = format!("select {CUSTOMER_COLUMNS} from customers where id in ({})", placeholders($placeholders, 1, chunk.len()));
                    let mut query = sqlx::query_as::<_, StoredCustomer>(&sql);
                    for id in chunk {
                        query = query.bind(*id);
                    }
                    out.extend(query.fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn contacts_by_ids(&self, ids: &[i64]) -> Result<Vec<StoredContact>> {
                let mut out = Vec::new();
                for chunk in ids.chunks(CHUNK) {
                    let sql = format!("select {CONTACT_COLUMNS} from contacts where id in ({})", placeholders($placeholders, 1, chunk.len()));
                    let mut query = sqlx::query_as::<_, StoredContact>(&sql);
                    for id in chunk {
                        query = query.bind(*id);
                    }
                    out.extend(query.fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn customers_without_intercom(&self, limit: u32) -> Result<Vec<StoredCustomer>> {
                let sql = format!("select {CUSTOMER_COLUMNS} from customers where intercom_id is null order by id limit $1");
                Ok(sqlx::query_as::<_, StoredCustomer>(&sql).bind(i64::from(limit)).fetch_all(&self.pool).await?)
            }

            async fn contacts_without_intercom(&self, limit: u32) -> Result<Vec<StoredContact>> {
                let sql = format!("select {CONTACT_COLUMNS} from contacts where intercom_id is null order by id limit $1");
                Ok(sqlx::query_as::<_, StoredContact>(&sql).bind(i64::from(limit)).fetch_all(&self.pool).await?)
            }
        }

    };
}

pub(super) use impl_sync_store;

/// Customers, contacts, interactions: the order runs go in.
pub(super) fn ordered(mut objects: Vec<ObjectReport>) -> Vec<ObjectReport> {
    objects.sort_by_key(|o| SyncObject::ALL.iter().position(|x| *x == o.object));
    objects
}
