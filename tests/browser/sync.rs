//! Integrations → Intercom → Sync runs in real Chromium: Sync now, the live progress, the
//! history, its chart and a run's detail, and the schedule on the settings page. Each
//! scenario has its own app and sandbox Intercom, so that runs cannot leak between them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use app::domain::{format_timestamp, IntegrationSettings, RunDetail, RunRequest, SyncObject, SyncRun};
use app::server_fns::{ConnectIntercomWithToken, GetSyncRun, SaveIntegrationSettings, StartSync, StartedRun};
use fantoccini::Locator;
use leptos::server_fn::ServerFn;
use reqwest::{Client, StatusCode};
use sandbox::{RunningSandbox, Sandbox, SandboxConfig, SANDBOX_TOKEN};
use serde_json::json;
use skalin_tests::{spawn_app_with, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_EMAIL, MEMBER_PASSWORD};

use crate::driver::{Browser, World};
use crate::scenarios::{sign_in, Outcome, Scenario};

const PAGE: &str = "/integrations/intercom/sync";
const SETTINGS_PAGE: &str = "/integrations/intercom";
/// Longer than the browser's wait: a run reads the whole sandbox.
const RUN_WAIT: Duration = Duration::from_secs(60);

macro_rules! sync_scenarios {
    ($($name:ident: $js_only:expr),* $(,)?) => {
        pub fn all() -> Vec<(&'static str, Scenario)> {
            vec![$((stringify!($name), Scenario { js_only: $js_only, run: |w, b| -> Outcome { Box::pin($name(w, b)) } })),*]
        }
    };
}

sync_scenarios!(
    sync_now_shows_the_run_live_then_in_the_history_and_the_chart: true,
    a_member_follows_the_runs_and_their_failed_records_but_cannot_start_one: false,
    a_churn_held_back_by_the_threshold_is_confirmed_from_the_runs_detail: true,
    the_schedule_is_saved_and_read_back_after_a_reload: true,
    the_sync_runs_page_says_when_the_next_scheduled_run_starts: false,
    a_run_started_elsewhere_shows_live_then_in_the_history_without_a_reload: true,
);

/// An app connected to one sandbox, and the admin's session that connected it.
pub(crate) struct Stage {
    pub app: TestApp,
    pub intercom: RunningSandbox,
    pub admin: Client,
}

pub(crate) async fn stage() -> anyhow::Result<Stage> {
    stage_with(small_workspace()).await
}

fn small_workspace() -> SandboxConfig {
    SandboxConfig { companies: 20, contacts: 40, tickets: 5, ..SandboxConfig::default() }
}

async fn stage_with(config: SandboxConfig) -> anyhow::Result<Stage> {
    let intercom = Sandbox::spawn(config).await?;
    let app = spawn_app_with(&["--intercom-base-url", &intercom.base_url]).await;
    let admin = signed_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    let response = admin
        .post(app.url(ConnectIntercomWithToken::PATH))
        .header("accept", "application/json")
        .form(&[("access_token", SANDBOX_TOKEN), ("zone", "us")])
        .send()
        .await?;
    ensure!(response.status().is_success(), "connecting failed: {}", response.text().await?);
    Ok(Stage { app, intercom, admin })
}

pub(crate) async fn signed_in(app: &TestApp, email: &str, password: &str) -> anyhow::Result<Client> {
    let client = Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build()?;
    client.post(app.url("/auth/signin")).form(&[("email", email), ("password", password), ("next", "")]).send().await?;
    Ok(client)
}

impl Stage {
    pub async fn save(&self, settings: &IntegrationSettings) -> anyhow::Result<()> {
        let response = self
            .admin
            .post(self.app.url(SaveIntegrationSettings::PATH))
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(json!({ "settings": settings }).to_string())
            .send()
            .await?;
        ensure!(response.status().is_success(), "saving the settings failed: {}", response.text().await?);
        Ok(())
    }

    /// Starts a run as the admin's page does, and waits until the server's worker ends it.
    pub async fn run(&self, request: RunRequest) -> anyhow::Result<SyncRun> {
        let started = self.start(request).await?;
        self.until_ended(started.id).await
    }

    /// Queues a run from the admin's session, as another browser would.
    async fn start(&self, request: RunRequest) -> anyhow::Result<SyncRun> {
        let response = start_sync(&self.app, &self.admin, &request).await?;
        ensure!(response.status().is_success(), "start_sync failed: {}", response.text().await?);
        let started: StartedRun = response.json().await?;
        ensure!(!started.already_running, "a run was already going: {:?}", started.run);
        Ok(started.run)
    }

    async fn until_ended(&self, id: i64) -> anyhow::Result<SyncRun> {
        let deadline = Instant::now() + RUN_WAIT;
        loop {
            let detail: RunDetail = self
                .admin
                .post(self.app.url(GetSyncRun::PATH))
                .header("accept", "application/json")
                .form(&[("id", id.to_string())])
                .send()
                .await?
                .json()
                .await?;
            if !detail.run.status.is_active() {
                return Ok(detail.run);
            }
            if Instant::now() > deadline {
                bail!("run {id} never ended: {:?}", detail.run);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

async fn start_sync(app: &TestApp, client: &Client, request: &RunRequest) -> anyhow::Result<reqwest::Response> {
    Ok(client
        .post(app.url(StartSync::PATH))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(json!({ "request": request }).to_string())
        .send()
        .await?)
}

pub(crate) fn every_object() -> RunRequest {
    RunRequest { objects: vec![], walk: None, dry_run: false }
}

pub(crate) async fn open_as(b: &Browser, path: &str, heading: &str, email: &str, password: &str) -> anyhow::Result<()> {
    b.open(path).await?;
    sign_in(b, email, password).await?;
    b.wait_for_heading(heading).await?;
    b.ready().await
}

async fn count(b: &Browser, css: &str) -> anyhow::Result<usize> {
    Ok(b.client.find_all(Locator::Css(css)).await?.len())
}

/// A count of one object in one history row, e.g. the customers created by run 1.
async fn history_count(b: &Browser, run_id: i64, object: &str, what: &str) -> anyhow::Result<u64> {
    let css = format!("tr[data-run-id='{run_id}'] [data-object='{object}'] [data-count='{what}']");
    let text = b.text(&css).await?;
    text.trim().parse().with_context(|| format!("{css} reads {text:?}"))
}

async fn sync_now_shows_the_run_live_then_in_the_history_and_the_chart(
    _: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    let stage = stage().await?;
    let b = b.at(&stage.app.base_url);
    open_as(&b, PAGE, "Sync runs", ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    ensure!(count(&b, "[data-testid=no-runs]").await? == 1, "a fresh workspace has no runs");
    ensure!(count(&b, "#sync-chart").await? == 0, "a chart without runs");
    ensure!(b.option_texts("Objects").await? == ["All", "Customers", "Contacts", "Interactions"]);
    ensure!(!b.is_checked("Full reconciliation").await? && !b.is_checked("Dry run (write nothing)").await?);

    b.click_button("Sync now").await?;
    b.wait_for_text("#sync-progress h2", "Run 1").await?;
    b.wait_for_text("[data-testid=sync-notice]", "Run 1 is queued").await?;
    let ended = b.wait_for_text("#sync-progress[data-status=success] h2", "Run 1 ended").await;
    ended.with_context(|| format!("the run did not end in success: {:?}", stage.intercom.sandbox.stats()))?;
    let panel = b.text("#sync-progress").await?;
    ensure!(panel.contains("Customers: Done") && panel.contains("Contacts: Done"), "{panel}");

    // The history was read again when the run ended.
    b.wait_for_text("tr[data-run-id='1'][data-status=success]", "Success").await?;
    let row = b.text("tr[data-run-id='1']").await?;
    ensure!(row.contains("Sync now") && row.contains(ADMIN_EMAIL), "{row}");
    let companies = stage.intercom.sandbox.companies_json().len() as u64;
    let contacts = stage.intercom.sandbox.contacts_json().len() as u64;
    ensure!(history_count(&b, 1, "customers", "created").await? == companies, "customers created ≠ {companies}: {row}");
    ensure!(history_count(&b, 1, "contacts", "created").await? == contacts, "contacts created ≠ {contacts}: {row}");
    ensure!(history_count(&b, 1, "customers", "failed").await? == 0);
    ensure!(count(&b, "tr[data-run-id='1'][data-dry-run=true]").await? == 0, "marked as a dry run");

    ensure!(count(&b, "#sync-chart .chart-run").await? == 1, "the chart has not one run");
    let summary = b.client.find(Locator::Css("#sync-chart")).await?.attr("aria-label").await?.unwrap_or_default();
    ensure!(summary.starts_with("1 run,") && summary.contains("records changed"), "chart summary: {summary:?}");
    ensure!(stage.app.store.list_customers(app::domain::PageRequest::new(Some(1), Some(5))).await?.total == companies);
    Ok(())
}

async fn a_member_follows_the_runs_and_their_failed_records_but_cannot_start_one(
    _: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    let stage = stage().await?;
    // Companies without this attribute cannot be matched: failed records to list.
    let mut settings = IntegrationSettings::default();
    settings.customers.id_field = Some("custom_attributes.Sales Region".into());
    stage.save(&settings).await?;
    let run = stage.run(RunRequest { objects: vec![SyncObject::Customers], walk: None, dry_run: false }).await?;
    let failed = run.totals().failed;
    ensure!(failed > 0, "the sandbox has no company without a Sales Region: {run:?}");
    let dry = stage.run(RunRequest { objects: vec![SyncObject::Customers], walk: None, dry_run: true }).await?;

    let member = signed_in(&stage.app, MEMBER_EMAIL, MEMBER_PASSWORD).await?;
    let forged = start_sync(&stage.app, &member, &every_object()).await?;
    ensure!(forged.status() == StatusCode::FORBIDDEN, "a member's start_sync answered {}", forged.status());

    let b = b.at(&stage.app.base_url);
    open_as(&b, PAGE, "Sync runs", MEMBER_EMAIL, MEMBER_PASSWORD).await?;
    ensure!(b.text("[data-testid=read-only]").await?.contains("only admins can start one"));
    ensure!(count(&b, "#sync-now").await? == 0 && !b.has_button("Sync now").await?, "a member sees Sync now");
    let row_css = format!("tr[data-run-id='{}']", run.id);
    let row = b.text(&row_css).await?;
    ensure!(row.contains(ADMIN_EMAIL) && !row.contains("Dry run"), "{row}");
    ensure!(count(&b, &format!("{row_css}[data-status={}]", run.status.as_str())).await? == 1, "{row}");
    ensure!(history_count(&b, run.id, "customers", "failed").await? == failed);
    ensure!(
        count(&b, &format!("tr[data-run-id='{}'][data-dry-run=true] [data-testid=dry-run]", dry.id)).await? == 1,
        "the dry run is not marked"
    );
    ensure!(count(&b, "#sync-chart .chart-run").await? == 2);

    b.click_link(&format!("Details of run {}", run.id)).await?;
    let failures = b.wait_for_text("#run-detail [data-testid=run-failures]", "Sales Region").await?;
    ensure!(failures.lines().count() as u64 > failed, "{failures}");
    ensure!(b.path().await?.starts_with(&format!("{PAGE}?run={}", run.id)), "at {}", b.path().await?);
    ensure!(!b.has_button("Confirm churn").await?);
    Ok(())
}

async fn a_churn_held_back_by_the_threshold_is_confirmed_from_the_runs_detail(
    _: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    let stage = stage().await?;
    let mut settings = IntegrationSettings::default();
    settings.customers.churn_enabled = true;
    settings.customers.churn_max_percent = 10;
    stage.save(&settings).await?;
    stage.run(every_object()).await?;
    let gone: Vec<String> = stage.intercom.sandbox.company_ids().into_iter().take(3).collect();
    for id in &gone {
        stage.intercom.sandbox.delete_company(id);
    }
    let held = stage.run(every_object()).await?;
    ensure!(held.status.as_str() == "awaiting_confirmation", "{held:?}");

    let b = b.at(&stage.app.base_url);
    open_as(&b, PAGE, "Sync runs", ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    ensure!(b.text(&format!("tr[data-run-id='{}']", held.id)).await?.contains("Waiting for confirmation"));
    b.click_link(&format!("Details of run {}", held.id)).await?;
    let listed =
        b.wait_for_text("#run-detail [data-testid=churn-confirmation]", "wait for an admin's confirmation").await?;
    ensure!(listed.contains("3 customers"), "{listed}");
    b.click_button("Confirm churn").await?;
    b.wait_for_text(&format!("#run-detail[data-run-id='{}'][data-status=success]", held.id), "Success").await?;
    b.wait_for_text(&format!("tr[data-run-id='{}'][data-status=success]", held.id), "Success").await?;
    ensure!(history_count(&b, held.id, "customers", "churned").await? == 3);
    Ok(())
}

async fn the_schedule_is_saved_and_read_back_after_a_reload(_: Arc<World>, b: Browser) -> anyhow::Result<()> {
    let stage = stage().await?;
    let b = b.at(&stage.app.base_url);
    open_as(&b, SETTINGS_PAGE, "Intercom", ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    let offered = b.option_texts("Schedule").await?;
    let expected = [
        "Off",
        "Every 15 minutes",
        "Every 30 minutes",
        "Every 1 hour",
        "Every 3 hours",
        "Every 12 hours",
        "Every 1 day",
    ];
    ensure!(offered == expected, "{offered:?}");
    ensure!(b.value_of("Schedule").await?.is_empty(), "the schedule is not off at first");
    b.choose("Schedule", "Every 3 hours").await?;
    b.wait_for_text("[data-testid=unsaved-changes]", "Unsaved changes").await?;
    b.click_button("Save").await?;
    b.wait_for_text("[data-testid=save-notice]", "Settings saved.").await?;

    b.open(SETTINGS_PAGE).await?;
    ensure!(b.value_of("Schedule").await? == "180", "read back as {:?}", b.value_of("Schedule").await?);
    b.click_link("Sync runs").await?;
    b.wait_for_heading("Sync runs").await?;
    Ok(())
}

async fn the_sync_runs_page_says_when_the_next_scheduled_run_starts(_: Arc<World>, b: Browser) -> anyhow::Result<()> {
    let stage = stage().await?;
    let b = b.at(&stage.app.base_url);
    open_as(&b, PAGE, "Sync runs", MEMBER_EMAIL, MEMBER_PASSWORD).await?;
    let off = b.wait_for_text("[data-testid=schedule]", "No schedule").await?;
    ensure!(off.contains("Sync now"), "{off:?}");

    let mut settings = IntegrationSettings::default();
    settings.schedule.every_minutes = Some(180);
    stage.save(&settings).await?;
    b.open(PAGE).await?;
    let on = b.wait_for_text("[data-testid=schedule]", "Scheduled: Every 3 hours.").await?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
    let next = format_timestamp((now / 10_800 + 1) * 10_800);
    ensure!(on.contains(&format!("The next run starts at {next}.")), "{on:?} (expected {next})");
    Ok(())
}

async fn a_run_started_elsewhere_shows_live_then_in_the_history_without_a_reload(
    _: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    // The run makes four calls: slow answers keep it going across a few of the page's looks.
    let stage = stage_with(SandboxConfig { latency: Duration::from_secs(2), ..small_workspace() }).await?;
    let b = b.at(&stage.app.base_url);
    open_as(&b, PAGE, "Sync runs", MEMBER_EMAIL, MEMBER_PASSWORD).await?;
    ensure!(count(&b, "[data-testid=no-runs]").await? == 1, "a fresh workspace has no runs");
    ensure!(count(&b, "#sync-progress").await? == 0, "a run is shown before any started");
    b.mark_document().await?;

    let run = stage.start(every_object()).await?;
    let progress = format!("#sync-progress[data-run-id='{}']", run.id);
    let live = b.wait_for_text(&format!("{progress} h2"), &format!("Run {}: ", run.id)).await?;
    ensure!(live.ends_with("Queued") || live.ends_with("Running"), "the run is not shown going: {live:?}");

    let ended = stage.until_ended(run.id).await?;
    ensure!(ended.status.as_str() == "success", "the run did not succeed: {ended:?}");
    b.wait_for_text(&format!("{progress}[data-status=success] h2"), &format!("Run {} ended", run.id)).await?;
    b.wait_for_text(&format!("tr[data-run-id='{}'][data-status=success]", run.id), "Success").await?;
    let companies = stage.intercom.sandbox.companies_json().len() as u64;
    ensure!(history_count(&b, run.id, "customers", "created").await? == companies, "customers created ≠ {companies}");
    ensure!(count(&b, "#sync-chart .chart-run").await? == 1, "the chart has not one run");
    ensure!(b.document_is_marked().await?, "the page was reloaded");
    Ok(())
}
