//! The sync engine: runs that move records between Intercom and Skalin.
//!
//! A run is a row (`sync_runs`) with a status. Any process may queue one; workers claim
//! them with a row-level condition so each runs once, beat while they work, and take over
//! a run whose worker stopped beating. Each page of records is written with its
//! checkpoint, so a run taken over goes on where the data is. Knows nothing of Leptos.
//!
//! - `worker`: a run's life (claim, beat, plan, walk each object, end or fail);
//! - `pipeline`: the page pipeline every walk goes through, read by `reading` (one cursor,
//!   or `ranges` side by side);
//! - `customers`, `contacts`, `interactions`: what each object does with its pages;
//! - `push`, `create`, `churn`: Skalin's values written to Intercom, records created there,
//!   customers churned; `output` holds the conflict rule and the writes, `mapping` the
//!   settings' mappings;
//! - `source`: the one seam to Intercom; `liveness`: which workers' processes are gone.

mod churn;
mod contacts;
mod create;
mod customers;
mod error;
mod interactions;
mod liveness;
pub mod mapping;
mod notifications;
pub mod output;
mod pipeline;
mod push;
mod ranges;
mod reading;
mod realtime;
mod service;
mod source;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

pub use churn::over_threshold;
pub use error::{Result, SyncError};
pub use liveness::worker_id;
pub use service::SyncService;
pub use source::IntercomApi;

use crate::domain::{
    ObjectReport, ObjectStatus, RunDetail, RunRequest, RunStatus, RunTrigger, ScheduleSettings, ScheduleState,
    SyncObject, SyncRun,
};
use crate::integration::{Integration, CHURN_STAGE};
use crate::store::{RunHolder, Store, StoreError};
use crate::sync_model::NewRun;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Names this process in `claimed_by`: `liveness::worker_id`, so that a run whose
    /// process died on this host is taken over at once.
    pub worker: String,
    pub heartbeat_every: Duration,
    /// A run whose worker has not beaten for this long is taken over (at once when its
    /// process is gone from this host).
    pub stale_after: Duration,
    /// Incremental runs turn into a full walk when the last one is older than this.
    pub full_every: Duration,
    /// How often an idle worker looks for queued or scheduled runs.
    pub poll_every: Duration,
    /// Runs of different workspaces one process works at once (`SyncService`).
    pub concurrent_runs: usize,
    pub range_reads: RangeReads,
    /// The company scroll's waits and its time budget for restarts.
    pub scroll: crate::intercom::ScrollOptions,
}

/// How a big full walk of contacts or tickets is read side by side (see `ranges`).
#[derive(Debug, Clone, Copy)]
pub struct RangeReads {
    /// Pages read at once, within the rate budget the client keeps.
    pub concurrency: usize,
    /// A range holds at least this many pages, so that its last, partial page stays a
    /// small share of its calls.
    pub pages_per_range: u64,
    pub max_ranges: usize,
}

impl Default for RangeReads {
    fn default() -> Self {
        Self { concurrency: 8, pages_per_range: 20, max_ranges: 16 }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            worker: worker_id("worker"),
            heartbeat_every: Duration::from_secs(5),
            stale_after: Duration::from_secs(60),
            full_every: Duration::from_secs(24 * 3600),
            poll_every: Duration::from_secs(2),
            // Runs mostly wait for Intercom: a few share 2 cores well.
            concurrent_runs: 4,
            range_reads: RangeReads::default(),
            scroll: crate::intercom::ScrollOptions::default(),
        }
    }
}

/// What one call of [`SyncEngine::run_once`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Ran (or took over and finished) this run.
    Worked(i64),
    Idle,
}

/// One workspace's sync: its runs, schedule and history. `SyncService` makes one per
/// workspace for the web server and its workers; tests and the command line may too.
#[derive(Clone)]
pub struct SyncEngine {
    store: Arc<dyn Store>,
    integration: Integration,
    config: Arc<EngineConfig>,
    wake: Arc<Notify>,
}

impl SyncEngine {
    pub fn new(store: Arc<dyn Store>, integration: Integration, config: EngineConfig) -> Self {
        Self::with_wake(store, integration, Arc::new(config), Arc::new(Notify::new()))
    }

    /// An engine whose queued runs wake the workers waiting on `wake` (`SyncService`'s).
    pub(super) fn with_wake(
        store: Arc<dyn Store>,
        integration: Integration,
        config: Arc<EngineConfig>,
        wake: Arc<Notify>,
    ) -> Self {
        Self { store, integration, config, wake }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Queues a run, or answers the one already queued or running (`false`): two runs
    /// never go side by side.
    pub async fn start(&self, request: RunRequest, trigger: RunTrigger, who: &str) -> Result<(i64, bool)> {
        if self.integration.connection().await?.is_none() {
            return Err(SyncError::NotConnected);
        }
        let run = NewRun {
            trigger,
            requested_by: who.to_string(),
            request,
            schedule_slot: None,
            queued_at: crate::store::now(),
        };
        // The database refuses a second active run; the one it kept may end before it is
        // read, and then this request may queue its own.
        for _ in 0..3 {
            if let Some(id) = self.store.enqueue_run(&run).await? {
                tracing::info!(sync.run_id = id, sync.trigger = trigger.as_str(), user = who, "sync run queued");
                self.wake.notify_one();
                return Ok((id, true));
            }
            if let Some(active) = self.store.active_run().await? {
                return Ok((active, false));
            }
        }
        Err(SyncError::NotAllowed("the run was not queued".into()))
    }

    /// Queues the scheduled run of the current slot, once across every process.
    pub async fn enqueue_due(&self, now: i64) -> Result<Option<i64>> {
        let (schedule, paused) = self.schedule_in_force().await?;
        let Some(minutes) = schedule.every_minutes.filter(|m| *m > 0) else { return Ok(None) };
        if paused.is_some() {
            return Ok(None);
        }
        if self.store.active_run().await?.is_some() {
            return Ok(None);
        }
        let slot = now / (i64::from(minutes) * 60);
        let run = NewRun {
            trigger: RunTrigger::Schedule,
            requested_by: "schedule".into(),
            request: RunRequest { objects: vec![], walk: None, dry_run: false },
            schedule_slot: Some(slot),
            queued_at: now,
        };
        let id = self.store.enqueue_run(&run).await?;
        if let Some(id) = id {
            tracing::info!(sync.run_id = id, sync.slot = slot, "scheduled sync run queued");
        }
        Ok(id)
    }

    /// Applies the churn a run held back, on an admin's word.
    pub async fn confirm_churn(&self, run_id: i64, who: &str) -> Result<SyncRun> {
        let run = self.store.sync_run(run_id).await?.ok_or(SyncError::UnknownRun(run_id))?;
        let customers = run
            .objects
            .iter()
            .find(|o| o.object == SyncObject::Customers && o.status == ObjectStatus::AwaitingConfirmation)
            .ok_or_else(|| SyncError::NotAllowed("This run has no churn waiting for confirmation.".into()))?;
        let later = self.store.sync_runs(50).await?.into_iter().any(|r| {
            r.id > run_id
                && !r.dry_run
                && r.objects.iter().any(|o| o.object == SyncObject::Customers && o.status == ObjectStatus::Done)
        });
        if later {
            return Err(SyncError::NotAllowed(
                "A later run has read Intercom's companies again; its own churn check replaces this one.".into(),
            ));
        }
        let ids: Vec<String> = customers.churn.iter().map(|c| c.intercom_id.clone()).collect();
        let admin = RunHolder::Admin;
        let churned = self
            .store
            .churn_customers(run_id, admin, &ids, CHURN_STAGE, crate::store::now())
            .await
            .map_err(no_longer_waiting)?;
        let message = format!("Churn of {churned} customers confirmed by {who}.");
        let done = ObjectStatus::Done;
        self.store
            .finish_object(run_id, admin, SyncObject::Customers, done, Some(&message), None)
            .await
            .map_err(no_longer_waiting)?;
        let run = self.store.sync_run(run_id).await?.ok_or(SyncError::UnknownRun(run_id))?;
        let status = final_status(&run.objects);
        self.store
            .finish_run(run_id, admin, status, run.message.as_deref(), crate::store::now())
            .await
            .map_err(no_longer_waiting)?;
        tracing::info!(sync.run_id = run_id, sync.churned = churned, user = who, "churn confirmed");
        self.store.sync_run(run_id).await?.ok_or(SyncError::UnknownRun(run_id))
    }

    pub async fn run_detail(&self, run_id: i64) -> Result<RunDetail> {
        let run = self.store.sync_run(run_id).await?.ok_or(SyncError::UnknownRun(run_id))?;
        let failures = self.store.run_failures(run_id, 200).await?;
        Ok(RunDetail { run, failures })
    }

    pub async fn runs(&self, limit: u32) -> Result<Vec<SyncRun>> {
        Ok(self.store.sync_runs(limit).await?)
    }

    /// What the schedule will do next, or why `enqueue_due` skips its slots.
    pub async fn schedule(&self, now: i64) -> Result<ScheduleState> {
        let (schedule, paused) = self.schedule_in_force().await?;
        let Some(next_at) = schedule.next_slot(now) else { return Ok(ScheduleState::Off) };
        let label = schedule.label();
        Ok(match paused {
            Some(reason) => ScheduleState::Paused { label, reason: reason.to_string() },
            None => ScheduleState::On { label, next_at },
        })
    }

    /// The saved schedule and, when the connection keeps any run from starting, why.
    async fn schedule_in_force(&self) -> Result<(ScheduleSettings, Option<&'static str>)> {
        let schedule = self.integration.current_settings().await?.schedule;
        // With no schedule there is nothing to pause: the worker's poll reads no more.
        if schedule.every_minutes.is_none_or(|m| m == 0) {
            return Ok((schedule, None));
        }
        let paused = match self.store.intercom_connection().await? {
            None => Some("Intercom is not connected."),
            Some(c) if c.needs_reconnect => Some("Intercom refused the token: reconnect on the settings page."),
            Some(_) => None,
        };
        Ok((schedule, paused))
    }
}

/// A confirmation that lost a race: to another admin's, or to the worker that still
/// holds the run (it waits for confirmation only once its worker ended it).
fn no_longer_waiting(err: StoreError) -> SyncError {
    match err {
        StoreError::RunLost(_) => SyncError::NotAllowed("This run no longer waits for confirmation.".into()),
        other => other.into(),
    }
}

/// A run's status from its objects': waiting if churn waits, failed if every object that
/// ran failed, partial if some did or some records failed, success otherwise.
pub fn final_status(objects: &[ObjectReport]) -> RunStatus {
    let ran: Vec<&ObjectReport> = objects.iter().filter(|o| o.status != ObjectStatus::Skipped).collect();
    if ran.iter().any(|o| o.status == ObjectStatus::AwaitingConfirmation) {
        return RunStatus::AwaitingConfirmation;
    }
    let failed = ran.iter().filter(|o| o.status == ObjectStatus::Failed).count();
    if failed > 0 && failed == ran.len() {
        RunStatus::Failed
    } else if failed > 0 || ran.iter().any(|o| o.counts.failed > 0) {
        RunStatus::Partial
    } else {
        RunStatus::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Counts, WalkKind};

    fn object(status: ObjectStatus, failed: u64) -> ObjectReport {
        ObjectReport {
            object: SyncObject::Contacts,
            status,
            walk: WalkKind::Full,
            counts: Counts { failed, ..Counts::default() },
            done: 0,
            expected: None,
            message: None,
            churn: vec![],
        }
    }

    #[test]
    fn a_run_succeeds_only_when_every_object_and_record_did() {
        use ObjectStatus::*;
        assert_eq!(final_status(&[object(Done, 0), object(Skipped, 0)]), RunStatus::Success);
        assert_eq!(final_status(&[object(Done, 2)]), RunStatus::Partial);
        assert_eq!(final_status(&[object(Done, 0), object(Failed, 0)]), RunStatus::Partial);
        assert_eq!(final_status(&[object(Failed, 0), object(Skipped, 0)]), RunStatus::Failed);
        assert_eq!(
            final_status(&[object(AwaitingConfirmation, 0), object(Failed, 0)]),
            RunStatus::AwaitingConfirmation
        );
    }
}
