//! Sync runs: start one, follow it, read the history, confirm a held-back churn.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::domain::{RealtimeState, RunDetail, RunRequest, ScheduleState, SyncRun};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::context::*;

/// What *Sync now* answers: the run, and whether it is new or one already going.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StartedRun {
    pub run: SyncRun,
    pub already_running: bool,
}

/// Queues a run for the background worker; admins only.
#[server(input = Json)]
pub async fn start_sync(request: RunRequest) -> Result<StartedRun, AppError> {
    let admin = require_admin().await?;
    answer(
        async {
            let engine = sync_engine(&admin)?;
            let (id, new) = engine.start(request, crate::domain::RunTrigger::Manual, &admin.email).await?;
            let run = engine.run_detail(id).await?.run;
            Ok(StartedRun { run, already_running: !new })
        }
        .await,
    )
}

/// The latest runs, newest first.
#[server]
pub async fn get_sync_runs(limit: u32) -> Result<Vec<SyncRun>, AppError> {
    let user = require_user().await?;
    answer(async { Ok(sync_engine(&user)?.runs(limit.clamp(1, 200)).await?) }.await)
}

/// What the schedule will do next.
#[server]
pub async fn get_sync_schedule() -> Result<ScheduleState, AppError> {
    let user = require_user().await?;
    answer(async { Ok(sync_engine(&user)?.schedule(crate::store::now()).await?) }.await)
}

/// One run with its failed records: what the progress bar and the detail read.
#[server]
pub async fn get_sync_run(id: i64) -> Result<RunDetail, AppError> {
    let user = require_user().await?;
    answer(async { Ok(sync_engine(&user)?.run_detail(id).await?) }.await)
}

/// Churns the customers a run held back because they were over the threshold.
#[server]
pub async fn confirm_churn(run_id: i64) -> Result<SyncRun, AppError> {
    let admin = require_admin().await?;
    answer(async { Ok(sync_engine(&admin)?.confirm_churn(run_id, &admin.email).await?) }.await)
}

/// Whether Intercom's notifications keep this workspace current, and today's.
#[server]
pub async fn get_realtime_state() -> Result<RealtimeState, AppError> {
    let user = require_user().await?;
    answer(async { Ok(integration(&user)?.realtime_state(crate::store::now()).await?) }.await)
}
