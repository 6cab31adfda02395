//! A run's life in a worker: claimed (once, even across processes), beaten while it
//! works, planned object by object, walked, and ended with its status, or failed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::pipeline::{ChurnOutcome, Walk, WalkEnd};
use super::{final_status, output, IntercomApi, Outcome, Result, SyncEngine, SyncError};
use crate::domain::{
    DataType, IntegrationSettings, ObjectStatus, RunRequest, RunStatus, SyncMode, SyncObject, WalkKind,
};
use crate::integration::CHURN_STAGE;
use crate::store::{RunHolder, StoreError};
use crate::sync_model::ClaimedRun;

impl SyncEngine {
    /// Claims one queued (or abandoned) run of this workspace and runs it to its end. A run is abandoned when
    /// its worker stopped beating, or at once when its process is gone from this host.
    pub async fn run_once(&self) -> Result<Outcome> {
        let running = self.store.running_workers().await?;
        let (now, stale_before, dead) = super::liveness::takeover_terms(self.config.stale_after, &running);
        let Some(run) = self.store.claim_run(&self.config.worker, now, stale_before, &dead).await? else {
            return Ok(Outcome::Idle);
        };
        tracing::info!(sync.run_id = run.id, sync.worker = %self.config.worker, "sync run claimed");
        self.execute(&run).await;
        Ok(Outcome::Worked(run.id))
    }

    pub(super) async fn execute(&self, run: &ClaimedRun) {
        let api: Arc<dyn IntercomApi> = match self.integration.client().await {
            Ok(client) => Arc::new(client.with_scroll_options(self.config.scroll)),
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

    fn holder(&self) -> RunHolder<'_> {
        RunHolder::Worker(&self.config.worker)
    }

    /// Records the run failed, unless this worker lost it: then the run is the new
    /// holder's, whose status stands.
    async fn fail(&self, run_id: i64, err: &SyncError) {
        if err.is_run_lost() {
            tracing::warn!(sync.run_id = run_id, "another worker took this sync run over; stopping here");
            return;
        }
        tracing::error!(sync.run_id = run_id, error = %err, "sync run failed");
        let failed = self
            .store
            .finish_run(run_id, self.holder(), RunStatus::Failed, Some(&err.to_string()), crate::store::now())
            .await;
        match failed {
            Ok(()) => {}
            Err(StoreError::RunLost(_)) => tracing::warn!(
                sync.run_id = run_id,
                "another worker took this sync run over before its failure could be recorded; its status stands"
            ),
            Err(store_err) => {
                tracing::error!(sync.run_id = run_id, error = %store_err, "could not record the failed sync run")
            }
        }
    }

    async fn work(&self, run: &ClaimedRun, api: Arc<dyn IntercomApi>) -> Result<()> {
        let settings = self.integration.current_settings().await?;
        let plan = self.plan(&run.request, &settings).await?;
        self.store.plan_objects(run.id, self.holder(), &plan).await?;
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
            holder: self.holder(),
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
                self.store
                    .finish_object(run.id, self.holder(), object, ObjectStatus::Failed, Some(message), None)
                    .await?;
                continue;
            }
            self.store.set_object_status(run.id, self.holder(), object, ObjectStatus::Running, None, None).await?;
            let ended = match object {
                SyncObject::Customers => walk.customers(&mut seen_in_dry_run).await,
                SyncObject::Contacts => walk.contacts(checkpoint.walk, settings.customers.mode.reads()).await,
                SyncObject::Interactions => walk.interactions(checkpoint.walk).await,
            };
            match ended {
                Ok(WalkEnd::Complete { cursor, churn, note }) => {
                    let cursor = (!run.request.dry_run).then_some(cursor);
                    self.complete(run.id, object, cursor, churn, note, settings.customers.churn_max_percent).await?;
                }
                Err(err) if err.is_run_lost() => return Err(err),
                Err(err) => {
                    let message = err.to_string();
                    tracing::warn!(sync.run_id = run.id, sync.object = object.as_str(), error = %message, "a sync object failed");
                    if let SyncError::Intercom(e) = &err {
                        if e.needs_reconnect() {
                            self.store.mark_intercom_reconnect_needed().await?;
                            fatal = Some(SyncError::ReconnectNeeded.to_string());
                        }
                    }
                    let failed = ObjectStatus::Failed;
                    self.store.finish_object(run.id, self.holder(), object, failed, Some(&message), None).await?;
                }
            }
        }
        // The last count of calls, while the claim still holds (a finished run takes no beats).
        self.beat(run.id, api.as_ref()).await;
        let report = self.store.sync_run(run.id).await?.ok_or(SyncError::UnknownRun(run.id))?;
        let status = final_status(&report.objects);
        self.store.finish_run(run.id, self.holder(), status, fatal.as_deref(), crate::store::now()).await?;
        tracing::info!(sync.run_id = run.id, sync.status = status.as_str(), "sync run ended");
        Ok(())
    }

    /// Records a walk read to its end, with what its churn did and what it met on its way.
    async fn complete(
        &self,
        run_id: i64,
        object: SyncObject,
        cursor: Option<crate::sync_model::SyncCursor>,
        churn: Option<ChurnOutcome>,
        note: Option<String>,
        churn_max_percent: u8,
    ) -> Result<()> {
        let holder = self.holder();
        let told = |message: Option<String>| match (message, note.clone()) {
            (Some(message), Some(note)) => Some(format!("{message} {note}")),
            (message, note) => message.or(note),
        };
        match churn {
            Some(ChurnOutcome::Waiting(entries)) => {
                let message = told(Some(format!(
                    "{} customers are no longer in Intercom: more than the {churn_max_percent} % threshold. An admin must confirm before they are churned.",
                    entries.len(),
                )));
                let waiting = ObjectStatus::AwaitingConfirmation;
                self.store
                    .set_object_status(run_id, holder, object, waiting, message.as_deref(), Some(&entries))
                    .await?;
                if let Some(cursor) = cursor {
                    self.store.finish_object(run_id, holder, object, waiting, None, Some(cursor)).await?;
                }
            }
            Some(ChurnOutcome::WouldChurn(entries)) => {
                let message = told(None);
                self.store
                    .set_object_status(run_id, holder, object, ObjectStatus::Done, message.as_deref(), Some(&entries))
                    .await?;
                self.store.finish_object(run_id, holder, object, ObjectStatus::Done, None, None).await?;
            }
            Some(ChurnOutcome::Applied(n)) if n > 0 => {
                let message =
                    told(Some(format!("{n} customers no longer in Intercom were set to stage {CHURN_STAGE}.")));
                self.store
                    .finish_object(run_id, holder, object, ObjectStatus::Done, message.as_deref(), cursor)
                    .await?;
            }
            Some(ChurnOutcome::Applied(_)) | None => {
                let message = told(None);
                self.store
                    .finish_object(run_id, holder, object, ObjectStatus::Done, message.as_deref(), cursor)
                    .await?;
            }
        }
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
}
