//! Who holds a run: claimed by one worker, beaten while it works, taken over when that
//! worker stops beating; and the check every write to a run starts with, so that a worker
//! that lost its run (it still goes on, unaware) cannot write over the new holder's.

use async_trait::async_trait;

use super::backend::{PostgresStore, SqliteStore};
use super::runs::{RunRow, RUN_COLUMNS};
use super::Result;
use crate::domain::RunTrigger;
use crate::sync_model::ClaimedRun;

/// Who writes to a run. Each write checks it in its own transaction and answers
/// [`StoreError::RunLost`](super::StoreError::RunLost) when it no longer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunHolder<'a> {
    /// The worker that claimed the run: it holds it while the run is running and still
    /// claimed by this name.
    Worker(&'a str),
    /// An admin confirming the churn a run held back: only while the run waits for that,
    /// which no worker holds.
    Admin,
}

/// Locks the run's row for the rest of the transaction if `holder` holds the run, else
/// answers `StoreError::RunLost`. A conditional update rather than a read: it takes
/// PostgreSQL's row lock and SQLite's write lock at once, so a takeover either commits
/// before it (and the check fails) or waits for the whole write to commit.
/// The run must be of `$workspace`: a run id of another workspace is never held.
macro_rules! hold_run {
    ($tx:expr, $workspace:expr, $run_id:expr, $holder:expr) => {{
        let held = match $holder {
            $crate::store::RunHolder::Worker(worker) => sqlx::query(
                "update sync_runs set claimed_by = claimed_by \
                 where id = $1 and workspace_id = $3 and status = 'running' and claimed_by = $2",
            )
            .bind($run_id)
            .bind(worker)
            .bind($workspace),
            $crate::store::RunHolder::Admin => sqlx::query(
                "update sync_runs set claimed_by = claimed_by \
                 where id = $1 and workspace_id = $2 and status = 'awaiting_confirmation' and claimed_by is null",
            )
            .bind($run_id)
            .bind($workspace),
        }
        .execute(&mut *$tx)
        .await?;
        if held.rows_affected() != 1 {
            return Err($crate::store::StoreError::RunLost($run_id));
        }
    }};
}
pub(super) use hold_run;

#[async_trait]
pub trait ClaimStore: Send + Sync + 'static {
    /// Takes this workspace's oldest queued run, or a running one whose worker stopped
    /// beating before `stale_before` or is one of `dead_workers`. Exactly one of several
    /// workers gets each. (`Directory::claim_any_run` takes one of any workspace.)
    async fn claim_run(
        &self,
        worker: &str,
        now: i64,
        stale_before: i64,
        dead_workers: &[String],
    ) -> Result<Option<ClaimedRun>>;
    /// The workers holding a running run, in any workspace.
    async fn running_workers(&self) -> Result<Vec<String>>;
    /// Keeps the claim alive and records the calls so far; `false` if another worker took
    /// the run over.
    async fn heartbeat(&self, run_id: i64, worker: &str, now: i64, calls: [u64; 3]) -> Result<bool>;
}

pub(super) const RUNNING_WORKERS: &str =
    "select distinct claimed_by from sync_runs where status = 'running' and claimed_by is not null";

/// The claim: `$1` the worker, `$2` now, `$3` stale before, then one value per dead
/// worker, then (when `scoped`) the workspace. `row_locks` (PostgreSQL) makes a worker
/// pass over a run another is claiming rather than wait for it and come back empty.
pub(super) fn claim_sql(dead_workers: usize, scoped: bool, row_locks: bool) -> String {
    let dead: Vec<String> = (0..dead_workers).map(|i| format!("${}", i + 4)).collect();
    let dead = if dead.is_empty() { String::new() } else { format!(" or claimed_by in ({})", dead.join(", ")) };
    let workspace = if scoped { format!("workspace_id = ${} and ", dead_workers + 4) } else { String::new() };
    let claimable = format!("{workspace}(status = 'queued' or (status = 'running' and (heartbeat_at < $3{dead})))");
    let lock = if row_locks { " for update skip locked" } else { "" };
    // The condition is repeated outside the subquery: on PostgreSQL a second worker
    // blocked on the same row re-checks it against the first's commit.
    format!(
        "update sync_runs set status = 'running', claimed_by = $1, heartbeat_at = $2, \
             started_at = coalesce(started_at, $2) \
         where id = (select id from sync_runs where {claimable} order by id limit 1{lock}) \
           and ({claimable}) \
         returning {RUN_COLUMNS}"
    )
}

pub(super) fn claimed(row: RunRow, now: i64) -> Result<ClaimedRun> {
    Ok(ClaimedRun {
        id: row.id,
        trigger: RunTrigger::parse(&row.trigger).unwrap_or(RunTrigger::Manual),
        requested_by: row.requested_by.clone(),
        request: row.request()?,
        started_at: row.started_at.unwrap_or(now),
    })
}

// Shares the statements between the two backends, as `impl_store!` does.
macro_rules! impl_claim_store {
    ($store:ty, $row_locks:literal) => {
        #[async_trait]
        impl ClaimStore for $store {
            async fn claim_run(
                &self,
                worker: &str,
                now: i64,
                stale_before: i64,
                dead_workers: &[String],
            ) -> Result<Option<ClaimedRun>> {
                let sql = claim_sql(dead_workers.len(), true, $row_locks);
                let mut query = sqlx::query_as::<_, RunRow>(&sql).bind(worker).bind(now).bind(stale_before);
                for dead in dead_workers {
                    query = query.bind(dead);
                }
                let row = query.bind(self.workspace).fetch_optional(&self.pool).await?;
                row.map(|row| claimed(row, now)).transpose()
            }

            async fn running_workers(&self) -> Result<Vec<String>> {
                Ok(sqlx::query_scalar(RUNNING_WORKERS).fetch_all(&self.pool).await?)
            }

            async fn heartbeat(&self, run_id: i64, worker: &str, now: i64, calls: [u64; 3]) -> Result<bool> {
                let done = sqlx::query(
                    "update sync_runs set heartbeat_at = $1, calls = $2, retries = $3, rate_limit_waits = $4 \
                     where id = $5 and claimed_by = $6 and status = 'running' and workspace_id = $7",
                )
                .bind(now)
                .bind(calls[0] as i64)
                .bind(calls[1] as i64)
                .bind(calls[2] as i64)
                .bind(run_id)
                .bind(worker)
                .bind(self.workspace)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

impl_claim_store!(SqliteStore, false);
impl_claim_store!(PostgresStore, true);
