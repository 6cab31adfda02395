//! Sync runs as rows: queued (one active at a time), checkpointed object by object,
//! finished; and each object's cursor for the next incremental read. Who holds a run is
//! `claims`'s: every write here names its writer and is refused once it no longer holds.

use async_trait::async_trait;

use super::backend::{PostgresStore, SqliteStore};
use super::claims::{hold_run, RunHolder};
use super::sql::{corrupt, parse_object};
use super::{Result, StoreError};
use crate::domain::{
    ChurnEntry, Counts, ObjectReport, ObjectStatus, RunRequest, RunStatus, RunTrigger, SyncObject, SyncRun, WalkKind,
};
use crate::sync_model::{NewRun, ObjectCheckpoint, SyncCursor};

#[async_trait]
pub trait RunStore: Send + Sync + 'static {
    /// Queues a run; `None` when another run is active (queued or running) or its schedule
    /// slot is already taken. The database holds the one-active-run rule, so of two
    /// requests racing exactly one queues its run.
    async fn enqueue_run(&self, run: &NewRun) -> Result<Option<i64>>;
    /// The queued or running run, if there is one.
    async fn active_run(&self) -> Result<Option<i64>>;
    /// Adds the objects a run covers, keeping those a previous worker already started.
    async fn plan_objects(
        &self,
        run_id: i64,
        holder: RunHolder<'_>,
        objects: &[(SyncObject, WalkKind, ObjectStatus)],
    ) -> Result<()>;
    async fn checkpoints(&self, run_id: i64) -> Result<Vec<ObjectCheckpoint>>;
    async fn set_object_status(
        &self,
        run_id: i64,
        holder: RunHolder<'_>,
        object: SyncObject,
        status: ObjectStatus,
        message: Option<&str>,
        churn: Option<&[ChurnEntry]>,
    ) -> Result<()>;
    /// Ends one object's walk; with `cursor`, the next incremental read starts there.
    async fn finish_object(
        &self,
        run_id: i64,
        holder: RunHolder<'_>,
        object: SyncObject,
        status: ObjectStatus,
        message: Option<&str>,
        cursor: Option<SyncCursor>,
    ) -> Result<()>;
    /// Ends the run (or sets it waiting for confirmation) and releases its claim.
    async fn finish_run(
        &self,
        run_id: i64,
        holder: RunHolder<'_>,
        status: RunStatus,
        message: Option<&str>,
        now: i64,
    ) -> Result<()>;
    /// Moves a run waiting for confirmation back to the queue; `false` if it does not wait
    /// or another run is active.
    async fn requeue_run(&self, run_id: i64) -> Result<bool>;
    async fn sync_run(&self, id: i64) -> Result<Option<SyncRun>>;
    /// The latest runs, newest first.
    async fn sync_runs(&self, limit: u32) -> Result<Vec<SyncRun>>;
    async fn sync_cursor(&self, object: SyncObject) -> Result<SyncCursor>;
}

pub(super) const RUN_COLUMNS: &str =
    "id, workspace_id, trigger, requested_by, request, status, queued_at, started_at, finished_at, \
     calls, retries, rate_limit_waits, message";

const OBJECT_COLUMNS: &str = "run_id, object, status, walk, cursor, done, expected, created, updated, \
     unchanged, churned, failed, max_updated_at, message, churn";

#[derive(sqlx::FromRow)]
pub(super) struct RunRow {
    pub id: i64,
    pub workspace_id: i64,
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
struct ObjectRow {
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

impl RunRow {
    pub fn request(&self) -> Result<RunRequest> {
        serde_json::from_str(&self.request).map_err(|e| StoreError::Corrupt(format!("run request: {e}")))
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
            Some(json) => serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("churn list: {e}")))?,
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

/// Customers, contacts, interactions: the order runs go in.
fn ordered(mut objects: Vec<ObjectReport>) -> Vec<ObjectReport> {
    objects.sort_by_key(|o| SyncObject::ALL.iter().position(|x| *x == o.object));
    objects
}

// Shares the statements between the two backends, as `impl_store!` does.
macro_rules! impl_run_store {
    ($store:ty) => {
        #[async_trait]
        impl RunStore for $store {
            async fn enqueue_run(&self, run: &NewRun) -> Result<Option<i64>> {
                let request = serde_json::to_string(&run.request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                // No conflict target: both the schedule slot's unique index and the one
                // active run's make the insert do nothing, and answer no id.
                let id: Option<i64> = sqlx::query_scalar(
                    "insert into sync_runs (trigger, requested_by, request, status, schedule_slot, queued_at, \
                         workspace_id) \
                     values ($1, $2, $3, 'queued', $4, $5, $6) \
                     on conflict do nothing returning id",
                )
                .bind(run.trigger.as_str())
                .bind(&run.requested_by)
                .bind(request)
                .bind(run.schedule_slot)
                .bind(run.queued_at)
                .bind(self.workspace)
                .fetch_optional(&self.pool)
                .await?;
                Ok(id)
            }

            async fn active_run(&self) -> Result<Option<i64>> {
                Ok(sqlx::query_scalar(
                    "select id from sync_runs where workspace_id = $1 and status in ('queued', 'running') \
                     order by id limit 1",
                )
                .bind(self.workspace)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn plan_objects(
                &self,
                run_id: i64,
                holder: RunHolder<'_>,
                objects: &[(SyncObject, WalkKind, ObjectStatus)],
            ) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                hold_run!(tx, self.workspace, run_id, holder);
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
                let sql = format!(
                    "select {OBJECT_COLUMNS} from sync_run_objects \
                     where run_id = (select id from sync_runs where id = $1 and workspace_id = $2)"
                );
                sqlx::query_as::<_, ObjectRow>(&sql)
                    .bind(run_id)
                    .bind(self.workspace)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(ObjectRow::checkpoint)
                    .collect()
            }

            async fn set_object_status(
                &self,
                run_id: i64,
                holder: RunHolder<'_>,
                object: SyncObject,
                status: ObjectStatus,
                message: Option<&str>,
                churn: Option<&[ChurnEntry]>,
            ) -> Result<()> {
                let churn =
                    churn.map(serde_json::to_string).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let mut tx = self.pool.begin().await?;
                hold_run!(tx, self.workspace, run_id, holder);
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
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn finish_object(
                &self,
                run_id: i64,
                holder: RunHolder<'_>,
                object: SyncObject,
                status: ObjectStatus,
                message: Option<&str>,
                cursor: Option<SyncCursor>,
            ) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                hold_run!(tx, self.workspace, run_id, holder);
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
                        "insert into sync_cursors (workspace_id, object, updated_since, full_at) \
                         values ($4, $1, $2, $3) \
                         on conflict (workspace_id, object) do update set \
                             updated_since = coalesce(excluded.updated_since, sync_cursors.updated_since), \
                             full_at = coalesce(excluded.full_at, sync_cursors.full_at)",
                    )
                    .bind(object.as_str())
                    .bind(cursor.updated_since)
                    .bind(cursor.full_at)
                    .bind(self.workspace)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn finish_run(
                &self,
                run_id: i64,
                holder: RunHolder<'_>,
                status: RunStatus,
                message: Option<&str>,
                now: i64,
            ) -> Result<()> {
                let finished = (!status.is_active() && status != RunStatus::AwaitingConfirmation).then_some(now);
                let mut tx = self.pool.begin().await?;
                hold_run!(tx, self.workspace, run_id, holder);
                sqlx::query(
                    "update sync_runs set status = $1, message = $2, finished_at = $3, claimed_by = null \
                     where id = $4",
                )
                .bind(status.as_str())
                .bind(message)
                .bind(finished)
                .bind(run_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn requeue_run(&self, run_id: i64) -> Result<bool> {
                let done = sqlx::query(
                    "update sync_runs set status = 'queued' \
                     where id = $1 and workspace_id = $2 and status = 'awaiting_confirmation'",
                )
                .bind(run_id)
                .bind(self.workspace)
                .execute(&self.pool)
                .await;
                match done {
                    Ok(done) => Ok(done.rows_affected() == 1),
                    // The one-active-run index: another run is queued or running.
                    Err(err) if err.as_database_error().is_some_and(|db| db.is_unique_violation()) => Ok(false),
                    Err(err) => Err(err.into()),
                }
            }

            async fn sync_run(&self, id: i64) -> Result<Option<SyncRun>> {
                let sql = format!("select {RUN_COLUMNS} from sync_runs where id = $1 and workspace_id = $2");
                let row = sqlx::query_as::<_, RunRow>(&sql).bind(id).bind(self.workspace);
                let Some(row) = row.fetch_optional(&self.pool).await? else {
                    return Ok(None);
                };
                let sql = format!("select {OBJECT_COLUMNS} from sync_run_objects where run_id = $1");
                let objects = sqlx::query_as::<_, ObjectRow>(&sql).bind(id).fetch_all(&self.pool).await?;
                let objects = ordered(objects.into_iter().map(ObjectRow::report).collect::<Result<Vec<_>>>()?);
                Ok(Some(row.into_run(objects)?))
            }

            async fn sync_runs(&self, limit: u32) -> Result<Vec<SyncRun>> {
                let sql =
                    format!("select {RUN_COLUMNS} from sync_runs where workspace_id = $2 order by id desc limit $1");
                let rows = sqlx::query_as::<_, RunRow>(&sql).bind(i64::from(limit)).bind(self.workspace);
                let rows = rows.fetch_all(&self.pool).await?;
                let Some(oldest) = rows.last().map(|r| r.id) else { return Ok(Vec::new()) };
                let sql = format!(
                    "select {OBJECT_COLUMNS} from sync_run_objects \
                     where run_id in (select id from sync_runs where workspace_id = $2 and id >= $1)"
                );
                let mut by_run: std::collections::HashMap<i64, Vec<ObjectReport>> = Default::default();
                let objects = sqlx::query_as::<_, ObjectRow>(&sql).bind(oldest).bind(self.workspace);
                for row in objects.fetch_all(&self.pool).await? {
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

            async fn sync_cursor(&self, object: SyncObject) -> Result<SyncCursor> {
                let row: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
                    "select updated_since, full_at from sync_cursors where object = $1 and workspace_id = $2",
                )
                .bind(object.as_str())
                .bind(self.workspace)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(updated_since, full_at)| SyncCursor { updated_since, full_at }).unwrap_or_default())
            }
        }
    };
}

impl_run_store!(SqliteStore);
impl_run_store!(PostgresStore);
