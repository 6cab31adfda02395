//! The sync engine: runs that move records between Intercom and Skalin.
//!
//! A run is a row (`sync_runs`) with a status. Any process may queue one; workers claim
//! them with a row-level condition so each runs once, beat while they work, and take over
//! a run whose worker stopped beating. Each page of records is written with its
//! checkpoint, so a run taken over goes on where the data is. Knows nothing of Leptos.

mod error;
mod input;
pub mod mapping;
pub mod output;
mod ranges;
mod source;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

pub use error::{Result, SyncError};
pub use input::over_threshold;
pub use source::IntercomApi;

use crate::domain::{
    DataType, IntegrationSettings, ObjectReport, ObjectStatus, RunDetail, RunRequest, RunStatus, RunTrigger,
    ScheduleSettings, ScheduleState, SyncMode, SyncObject, SyncRun, WalkKind,
};
use crate::integration::{Integration, CHURN_STAGE};
use crate::store::{ClaimedRun, NewRun, Store};
use input::{ChurnOutcome, Walk, WalkEnd};

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Names this process in `claimed_by`.
    pub worker: String,
    pub heartbeat_every: Duration,
    /// A run whose worker has not beaten for this long is taken over.
    pub stale_after: Duration,
    /// Incremental runs turn into a full walk when the last one is older than this.
    pub full_every: Duration,
    /// How often an idle worker looks for queued or scheduled runs.
    pub poll_every: Duration,
    pub range_reads: RangeReads,
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
            worker: format!("{}-{}", hostname(), std::process::id()),
            heartbeat_every: Duration::from_secs(5),
            stale_after: Duration::from_secs(60),
            full_every: Duration::from_secs(24 * 3600),
            poll_every: Duration::from_secs(2),
            range_reads: RangeReads::default(),
        }
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "skalin".into())
}

/// What one call of [`SyncEngine::run_once`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Ran (or took over and finished) this run.
    Worked(i64),
    Idle,
}

/// Shared by the web server, the scheduler and the command line.
#[derive(Clone)]
pub struct SyncEngine {
    store: Arc<dyn Store>,
    integration: Integration,
    config: Arc<EngineConfig>,
    wake: Arc<Notify>,
}

impl SyncEngine {
    pub fn new(store: Arc<dyn Store>, integration: Integration, config: EngineConfig) -> Self {
        Self { store, integration, config: Arc::new(config), wake: Arc::new(Notify::new()) }
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
        if let Some(active) = self.store.active_run().await? {
            return Ok((active, false));
        }
        let run = NewRun {
            trigger,
            requested_by: who.to_string(),
            request,
            schedule_slot: None,
            queued_at: crate::store::now(),
        };
        let id = self
            .store
            .enqueue_run(&run)
            .await?
            .ok_or_else(|| SyncError::NotAllowed("the run was not queued".into()))?;
        tracing::info!(sync.run_id = id, sync.trigger = trigger.as_str(), user = who, "sync run queued");
        self.wake.notify_one();
        Ok((id, true))
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

    /// Claims one queued (or abandoned) run and runs it to its end.
    pub async fn run_once(&self) -> Result<Outcome> {
        let now = crate::store::now();
        let stale_before = now - self.config.stale_after.as_secs() as i64;
        let Some(run) = self.store.claim_run(&self.config.worker, now, stale_before).await? else {
            return Ok(Outcome::Idle);
        };
        tracing::info!(sync.run_id = run.id, sync.worker = %self.config.worker, "sync run claimed");
        self.execute(&run).await;
        Ok(Outcome::Worked(run.id))
    }

    /// Runs queued and scheduled runs until `shutdown` resolves.
    pub async fn run_forever(self, shutdown: impl std::future::Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            if let Err(err) = self.enqueue_due(crate::store::now()).await {
                tracing::warn!(error = %err, "could not check the sync schedule");
            }
            let outcome = match self.run_once().await {
                Ok(outcome) => outcome,
                Err(err) => {
                    tracing::error!(error = %err, "the sync worker could not claim a run");
                    Outcome::Idle
                }
            };
            if outcome == Outcome::Idle {
                tokio::select! {
                    _ = &mut shutdown => return,
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(self.config.poll_every) => {}
                }
            }
        }
    }

    async fn execute(&self, run: &ClaimedRun) {
        let api: Arc<dyn IntercomApi> = match self.integration.client().await {
            Ok(client) => Arc::new(client),
            Err(err) => {
                let err = SyncError::from(err);
                self.fail(run.id, &err).await;
                return;
            }
        };
        let work = self.work(run, api.clone());
        let beat = async {
            loop {
                tokio::time::sleep(self.config.heartbeat_every).await;
                if !self.beat(run.id, api.as_ref()).await {
                    return;
                }
            }
        };
        tokio::select! {
            result = work => {
                self.beat(run.id, api.as_ref()).await;
                if let Err(err) = result {
                    self.fail(run.id, &err).await;
                }
            }
            _ = beat => tracing::warn!(sync.run_id = run.id, "another worker took this sync run over; stopping here"),
        }
    }

    async fn beat(&self, run_id: i64, api: &dyn IntercomApi) -> bool {
        let stats = api.stats();
        let calls = [stats.calls, stats.retries, stats.rate_limit_waits];
        match self.store.heartbeat(run_id, &self.config.worker, crate::store::now(), calls).await {
            Ok(held) => held,
            Err(err) => {
                tracing::warn!(sync.run_id = run_id, error = %err, "could not record the sync run's heartbeat");
                true
            }
        }
    }

    async fn fail(&self, run_id: i64, err: &SyncError) {
        tracing::error!(sync.run_id = run_id, error = %err, "sync run failed");
        if let Err(store_err) =
            self.store.finish_run(run_id, RunStatus::Failed, Some(&err.to_string()), crate::store::now()).await
        {
            tracing::error!(sync.run_id = run_id, error = %store_err, "could not record the failed sync run");
        }
    }

    async fn work(&self, run: &ClaimedRun, api: Arc<dyn IntercomApi>) -> Result<()> {
        let settings = self.integration.current_settings().await?;
        let plan = self.plan(&run.request, &settings).await?;
        self.store.plan_objects(run.id, &plan).await?;
        let company_types = if output::customer_writables(&settings).is_empty() {
            HashMap::new()
        } else {
            api.data_attributes(crate::intercom::Model::Company)
                .await?
                .into_iter()
                .map(|a| (a.full_name.clone().unwrap_or_else(|| a.name.clone()), DataType::parse(&a.data_type)))
                .collect()
        };
        let walk = Walk {
            store: self.store.as_ref(),
            api: api.as_ref(),
            settings: &settings,
            run_id: run.id,
            started_at: run.started_at,
            dry_run: run.request.dry_run,
            company_types,
            range_reads: self.config.range_reads,
        };
        let mut seen_in_dry_run = HashSet::new();
        let mut fatal: Option<String> = None;
        let mut checkpoints = self.store.checkpoints(run.id).await?;
        // Customers first: contacts link to them, interactions to contacts.
        checkpoints.sort_by_key(|c| SyncObject::ALL.iter().position(|o| *o == c.object));
        for checkpoint in checkpoints {
            let object = checkpoint.object;
            if !matches!(checkpoint.status, ObjectStatus::Pending | ObjectStatus::Running) {
                continue;
            }
            if let Some(message) = &fatal {
                self.store.finish_object(run.id, object, ObjectStatus::Failed, Some(message), None).await?;
                continue;
            }
            self.store.set_object_status(run.id, object, ObjectStatus::Running, None, None).await?;
            let ended = match object {
                SyncObject::Customers => walk.customers(&mut seen_in_dry_run).await,
                SyncObject::Contacts => walk.contacts(checkpoint.walk, settings.customers.mode.reads()).await,
                SyncObject::Interactions => walk.interactions(checkpoint.walk).await,
            };
            match ended {
                Ok(WalkEnd::Complete { cursor, churn }) => {
                    let cursor = (!run.request.dry_run).then_some(cursor);
                    match churn {
                        Some(ChurnOutcome::Waiting(entries)) => {
                            let message = format!(
                                "{} customers are no longer in Intercom: more than the {} % threshold. An admin must confirm before they are churned.",
                                entries.len(),
                                settings.customers.churn_max_percent
                            );
                            self.store
                                .set_object_status(
                                    run.id,
                                    object,
                                    ObjectStatus::AwaitingConfirmation,
                                    Some(&message),
                                    Some(&entries),
                                )
                                .await?;
                            if let Some(cursor) = cursor {
                                self.store
                                    .finish_object(
                                        run.id,
                                        object,
                                        ObjectStatus::AwaitingConfirmation,
                                        None,
                                        Some(cursor),
                                    )
                                    .await?;
                            }
                        }
                        Some(ChurnOutcome::WouldChurn(entries)) => {
                            self.store
                                .set_object_status(run.id, object, ObjectStatus::Done, None, Some(&entries))
                                .await?;
                            self.store.finish_object(run.id, object, ObjectStatus::Done, None, None).await?;
                        }
                        Some(ChurnOutcome::Applied(n)) if n > 0 => {
                            let message =
                                format!("{n} customers no longer in Intercom were set to stage {CHURN_STAGE}.");
                            self.store
                                .finish_object(run.id, object, ObjectStatus::Done, Some(&message), cursor)
                                .await?;
                        }
                        Some(ChurnOutcome::Applied(_)) | None => {
                            self.store.finish_object(run.id, object, ObjectStatus::Done, None, cursor).await?;
                        }
                    }
                }
                Err(err) => {
                    let message = err.to_string();
                    tracing::warn!(sync.run_id = run.id, sync.object = object.as_str(), error = %message, "a sync object failed");
                    if let SyncError::Intercom(e) = &err {
                        if e.needs_reconnect() {
                            self.store.mark_intercom_reconnect_needed().await?;
                            fatal = Some(SyncError::ReconnectNeeded.to_string());
                        }
                    }
                    self.store.finish_object(run.id, object, ObjectStatus::Failed, Some(&message), None).await?;
                }
            }
        }
        // The last count of calls, while the claim still holds (a finished run takes no beats).
        self.beat(run.id, api.as_ref()).await;
        let report = self.store.sync_run(run.id).await?.ok_or(SyncError::UnknownRun(run.id))?;
        let status = final_status(&report.objects);
        self.store.finish_run(run.id, status, fatal.as_deref(), crate::store::now()).await?;
        tracing::info!(sync.run_id = run.id, sync.status = status.as_str(), "sync run ended");
        Ok(())
    }

    /// Which objects the run covers and how: those that read, in the request, in order.
    async fn plan(
        &self,
        request: &RunRequest,
        settings: &IntegrationSettings,
    ) -> Result<Vec<(SyncObject, WalkKind, ObjectStatus)>> {
        let mut plan = Vec::new();
        for object in SyncObject::ALL {
            if !request.objects.is_empty() && !request.objects.contains(&object) {
                continue;
            }
            let mode = match object {
                SyncObject::Customers => settings.customers.mode,
                SyncObject::Contacts => settings.contacts.mode,
                SyncObject::Interactions => settings.interactions.mode,
            };
            let walk = match (object, request.walk) {
                (SyncObject::Customers, _) => WalkKind::Full,
                (_, Some(walk)) => walk,
                (_, None) => {
                    let cursor = self.store.sync_cursor(object).await?;
                    let due = cursor
                        .full_at
                        .is_none_or(|at| crate::store::now() - at >= self.config.full_every.as_secs() as i64);
                    if cursor.updated_since.is_none() || due {
                        WalkKind::Full
                    } else {
                        WalkKind::Incremental
                    }
                }
            };
            let status = if mode == SyncMode::Disabled { ObjectStatus::Skipped } else { ObjectStatus::Pending };
            plan.push((object, walk, status));
        }
        Ok(plan)
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
        let churned = self.store.churn_customers(run_id, &ids, CHURN_STAGE, crate::store::now()).await?;
        let message = format!("Churn of {churned} customers confirmed by {who}.");
        self.store.finish_object(run_id, SyncObject::Customers, ObjectStatus::Done, Some(&message), None).await?;
        let run = self.store.sync_run(run_id).await?.ok_or(SyncError::UnknownRun(run_id))?;
        let status = final_status(&run.objects);
        self.store.finish_run(run_id, status, run.message.as_deref(), crate::store::now()).await?;
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
    use crate::domain::Counts;

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
