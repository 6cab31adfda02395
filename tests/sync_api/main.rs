//! The sync runs' server functions over real HTTP, as the Sync runs page calls them:
//! who may start a run or confirm a churn, and who may read the history. Each test starts
//! its own sandbox and app; the app's own worker runs what is queued.

use std::time::{Duration, Instant};

use app::domain::{RunDetail, RunRequest, RunStatus, SyncObject, SyncRun};
use app::error::AppError;
use app::server_fns::{ConfirmChurn, ConnectIntercomWithToken, GetSyncRun, GetSyncRuns, StartSync, StartedRun};
use reqwest::{Client, StatusCode};
use sandbox::{RunningSandbox, Sandbox, SandboxConfig, SANDBOX_TOKEN};
use serde_json::json;
use skalin_tests::*;

// ---------------------------------------------------------------------------------------
// Set-up
// ---------------------------------------------------------------------------------------

async fn sandbox() -> RunningSandbox {
    let config = SandboxConfig { companies: 20, contacts: 40, tickets: 5, ..SandboxConfig::default() };
    Sandbox::spawn(config).await.expect("start the sandbox")
}

async fn app_on(sb: &RunningSandbox) -> TestApp {
    spawn_app_with(&["--intercom-base-url", &sb.base_url]).await
}

/// The admin's session, with the sandbox's token connected.
async fn connected_admin(app: &TestApp) -> Client {
    let client = signed_in(app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let answer = call_form::<ConnectIntercomWithToken>(
        app,
        &client,
        "connect_intercom_with_token",
        &[("access_token", SANDBOX_TOKEN), ("zone", "us")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "connecting: {}", answer.body);
    client
}

// ---------------------------------------------------------------------------------------
// Server functions, called as the hydrated page calls them
// ---------------------------------------------------------------------------------------

async fn start_sync(app: &TestApp, client: &Client, request: &RunRequest) -> Answer {
    call_json::<StartSync>(app, client, "start_sync", json!({ "request": request })).await
}

async fn get_sync_runs(app: &TestApp, client: &Client, limit: u32) -> Answer {
    let limit = limit.to_string();
    call_form::<GetSyncRuns>(app, client, "get_sync_runs", &[("limit", &limit)]).await
}

async fn get_sync_run(app: &TestApp, client: &Client, id: i64) -> Answer {
    let id = id.to_string();
    call_form::<GetSyncRun>(app, client, "get_sync_run", &[("id", &id)]).await
}

async fn confirm_churn(app: &TestApp, client: &Client, run_id: i64) -> Answer {
    let run_id = run_id.to_string();
    call_form::<ConfirmChurn>(app, client, "confirm_churn", &[("run_id", &run_id)]).await
}

fn everything() -> RunRequest {
    RunRequest { objects: vec![], walk: None, dry_run: false }
}

/// Polls the run as the progress panel does, until the worker has ended it.
async fn until_ended(app: &TestApp, client: &Client, id: i64) -> SyncRun {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let detail: RunDetail = get_sync_run(app, client, id).await.ok();
        if !detail.run.status.is_active() {
            return detail.run;
        }
        assert!(Instant::now() < deadline, "run {id} never ended: {:?}", detail.run);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn assert_forbidden(answer: &Answer) {
    match answer.err(StatusCode::FORBIDDEN) {
        AppError::Forbidden(message) => assert!(message.contains("admin"), "{}: {message}", answer.what),
        other => panic!("{}: expected Forbidden, got {other:?}", answer.what),
    }
}

// ---------------------------------------------------------------------------------------
// Who may do what
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_member_is_refused_starting_a_run_and_confirming_a_churn_with_403() {
    let sb = sandbox().await;
    let app = app_on(&sb).await;
    let admin = connected_admin(&app).await;
    let run: StartedRun = start_sync(&app, &admin, &everything()).await.ok();
    until_ended(&app, &admin, run.run.id).await;

    let member = signed_in(&app, MEMBER_EMAIL, MEMBER_PASSWORD).await;
    sb.sandbox.reset_stats();
    assert_forbidden(&start_sync(&app, &member, &everything()).await);
    assert_forbidden(&confirm_churn(&app, &member, run.run.id).await);
    let runs: Vec<SyncRun> = get_sync_runs(&app, &admin, 50).await.ok();
    assert_eq!(runs.len(), 1, "a member's request queued a run: {runs:?}");
    assert_eq!(sb.sandbox.stats().total_calls, 0, "Intercom was called for a member");
}

#[tokio::test]
async fn a_request_without_a_session_answers_401_for_every_sync_function() {
    let sb = sandbox().await;
    let app = app_on(&sb).await;
    let admin = connected_admin(&app).await;
    let stranger = browser_like_client();

    for attempt in [
        start_sync(&app, &stranger, &everything()).await,
        get_sync_runs(&app, &stranger, 50).await,
        get_sync_run(&app, &stranger, 1).await,
        confirm_churn(&app, &stranger, 1).await,
    ] {
        assert_eq!(attempt.err(StatusCode::UNAUTHORIZED), AppError::SignInRequired, "{}", attempt.what);
    }
    let runs: Vec<SyncRun> = get_sync_runs(&app, &admin, 50).await.ok();
    assert!(runs.is_empty(), "a stranger's request queued a run: {runs:?}");
}

#[tokio::test]
async fn a_member_reads_the_history_and_each_run_an_admin_started() {
    let sb = sandbox().await;
    let app = app_on(&sb).await;
    let admin = connected_admin(&app).await;
    let first: StartedRun = start_sync(&app, &admin, &everything()).await.ok();
    assert!(!first.already_running);
    until_ended(&app, &admin, first.run.id).await;
    let request = RunRequest { objects: vec![SyncObject::Customers], walk: None, dry_run: true };
    let second: StartedRun = start_sync(&app, &admin, &request).await.ok();
    let ended = until_ended(&app, &admin, second.run.id).await;

    let member = signed_in(&app, MEMBER_EMAIL, MEMBER_PASSWORD).await;
    let runs: Vec<SyncRun> = get_sync_runs(&app, &member, 50).await.ok();
    let ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
    assert_eq!(ids, [second.run.id, first.run.id], "newest first");
    assert_eq!(runs[0], ended);
    assert!(runs[0].dry_run && !runs[1].dry_run);
    assert_eq!(runs[1].status, RunStatus::Success, "{:?}", runs[1]);
    assert_eq!(runs[1].requested_by, ADMIN_EMAIL);
    let customers = runs[1].objects.iter().find(|o| o.object == SyncObject::Customers).expect("customers were synced");
    assert_eq!(customers.counts.created as usize, sb.sandbox.companies_json().len());

    let limited: Vec<SyncRun> = get_sync_runs(&app, &member, 1).await.ok();
    assert_eq!(limited.iter().map(|r| r.id).collect::<Vec<_>>(), [second.run.id]);
    let detail: RunDetail = get_sync_run(&app, &member, first.run.id).await.ok();
    assert_eq!(detail.run.id, first.run.id);
    assert!(detail.failures.is_empty(), "{:?}", detail.failures);
    match get_sync_run(&app, &member, 999).await.err(StatusCode::NOT_FOUND) {
        AppError::NotFound(message) => assert!(message.contains("999"), "{message}"),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[tokio::test]
async fn sync_now_before_intercom_is_connected_says_to_connect_it_first_and_queues_nothing() {
    let sb = sandbox().await;
    let app = app_on(&sb).await;
    let admin = signed_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    match start_sync(&app, &admin, &everything()).await.err(StatusCode::BAD_REQUEST) {
        AppError::Invalid(message) => assert!(message.contains("not connected"), "{message}"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    let runs: Vec<SyncRun> = get_sync_runs(&app, &admin, 50).await.ok();
    assert!(runs.is_empty(), "{runs:?}");
}

#[tokio::test]
async fn confirming_a_run_with_no_churn_waiting_is_refused_plainly() {
    let sb = sandbox().await;
    let app = app_on(&sb).await;
    let admin = connected_admin(&app).await;
    let run: StartedRun = start_sync(&app, &admin, &everything()).await.ok();
    until_ended(&app, &admin, run.run.id).await;
    match confirm_churn(&app, &admin, run.run.id).await.err(StatusCode::BAD_REQUEST) {
        AppError::Invalid(message) => assert!(message.contains("no churn waiting"), "{message}"),
        other => panic!("expected Invalid, got {other:?}"),
    }
}
mod realtime;
