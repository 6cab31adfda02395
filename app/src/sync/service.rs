//! The sync engine of a whole deployment: the workers of one process, working runs of
//! any workspace side by side (at most one per workspace, which the database holds), and
//! the schedules of every workspace.

use std::sync::Arc;

use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::{EngineConfig, Outcome, Result, SyncEngine};
use crate::config::AppConfig;
use crate::integration::Integration;
use crate::store::Directory;
use crate::sync_model::ClaimedRun;

#[derive(Clone)]
pub struct SyncService {
    pub(super) directory: Arc<dyn Directory>,
    app: Arc<AppConfig>,
    pub(super) config: Arc<EngineConfig>,
    wake: Arc<Notify>,
    /// Woken by the webhook endpoint when it stored a notification (`realtime`).
    pub(super) webhooks_wake: Arc<Notify>,
}

impl SyncService {
    pub fn new(directory: Arc<dyn Directory>, app: Arc<AppConfig>, config: EngineConfig) -> Self {
        Self {
            directory,
            app,
            config: Arc::new(config),
            wake: Arc::new(Notify::new()),
            webhooks_wake: Arc::new(Notify::new()),
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The integration of one workspace: its connection and settings.
    pub fn integration(&self, workspace: i64) -> Integration {
        Integration::new(self.directory.store(workspace), self.app.clone())
    }

    /// The engine of one workspace: its runs, schedule and history. A run it queues wakes
    /// this process's workers.
    pub fn engine(&self, workspace: i64) -> SyncEngine {
        let store = self.directory.store(workspace);
        let integration = Integration::new(store.clone(), self.app.clone());
        SyncEngine::with_wake(store, integration, self.config.clone(), self.wake.clone())
    }

    /// Claims one queued (or abandoned) run of any workspace, oldest first, and runs it to
    /// its end.
    pub async fn run_once(&self) -> Result<Outcome> {
        let Some((workspace, run)) = self.claim().await? else {
            return Ok(Outcome::Idle);
        };
        self.engine(workspace).execute(&run).await;
        Ok(Outcome::Worked(run.id))
    }

    /// The oldest claimable run of any workspace, claimed, with its workspace. A run is
    /// abandoned when its worker stopped beating, or at once when its process is gone
    /// from this host.
    async fn claim(&self) -> Result<Option<(i64, ClaimedRun)>> {
        let running = self.directory.running_workers().await?;
        let (now, stale_before, dead) = super::liveness::takeover_terms(self.config.stale_after, &running);
        let claimed = self.directory.claim_any_run(&self.config.worker, now, stale_before, &dead).await?;
        if let Some((workspace, run)) = &claimed {
            tracing::info!(sync.run_id = run.id, workspace, sync.worker = %self.config.worker, "sync run claimed");
        }
        Ok(claimed)
    }

    /// Queues the due scheduled run of every workspace.
    pub async fn enqueue_due(&self, now: i64) -> Result<()> {
        for workspace in self.directory.workspaces().await? {
            if let Err(err) = self.engine(workspace.id).enqueue_due(now).await {
                tracing::warn!(workspace = %workspace.slug, error = %err, "could not check the sync schedule");
            }
        }
        Ok(())
    }

    /// Works up to `EngineConfig::concurrent_runs` runs at once, of any workspaces, and
    /// queues scheduled ones, until `shutdown` resolves. Runs in hand are dropped at
    /// shutdown; another process (or this one, started again) takes them over.
    pub async fn run_forever(self, shutdown: impl std::future::Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        let slots = self.config.concurrent_runs.max(1);
        let mut running: JoinSet<Result<Outcome>> = JoinSet::new();
        // Every workspace's schedule is read once a poll, not at each run that ends.
        let mut schedules_read: Option<std::time::Instant> = None;
        loop {
            if schedules_read.is_none_or(|at| at.elapsed() >= self.config.poll_every) {
                schedules_read = Some(std::time::Instant::now());
                if let Err(err) = self.enqueue_due(crate::store::now()).await {
                    tracing::warn!(error = %err, "could not read the workspaces' sync schedules");
                }
            }
            // Claim while there are slots and runs to claim.
            let mut idle = false;
            while running.len() < slots && !idle {
                match self.clone().claim_and_spawn(&mut running).await {
                    Ok(claimed) => idle = !claimed,
                    Err(err) => {
                        tracing::error!(error = %err, "the sync worker could not claim a run");
                        idle = true;
                    }
                }
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.wake.notified(), if running.len() < slots => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
                _ = tokio::time::sleep(self.config.poll_every) => {}
            }
        }
    }

    /// `true` when a run was claimed and is now worked in `running`.
    async fn claim_and_spawn(self, running: &mut JoinSet<Result<Outcome>>) -> Result<bool> {
        let Some((workspace, run)) = self.claim().await? else {
            return Ok(false);
        };
        running.spawn(async move {
            self.engine(workspace).execute(&run).await;
            Ok(Outcome::Worked(run.id))
        });
        Ok(true)
    }
}
