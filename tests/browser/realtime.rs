//! Real time in real Chromium: what teammates change in Intercom (a company, a contact,
//! a ticket) is on Skalin's pages seconds later without any run, and the settings page
//! says real time is on, where Intercom sends to, and what came today.

use std::sync::Arc;
use std::time::Duration;

use anyhow::ensure;
use fantoccini::Locator;
use leptos::server_fn::ServerFn;
use sandbox::{Sandbox, SandboxConfig, WebhookDelivery, SANDBOX_CLIENT_SECRET, SANDBOX_TOKEN};
use serde_json::json;
use skalin_tests::{spawn_app_with, ADMIN_EMAIL, ADMIN_PASSWORD};

use crate::driver::{Browser, World};
use crate::scenarios::{Outcome, Scenario};
use crate::sync::{every_object, open_as, signed_in, Stage};

macro_rules! realtime_scenarios {
    ($($name:ident: $js_only:expr),* $(,)?) => {
        pub fn all() -> Vec<(&'static str, Scenario)> {
            vec![$((stringify!($name), Scenario { js_only: $js_only, run: |w, b| -> Outcome { Box::pin($name(w, b)) } })),*]
        }
    };
}

realtime_scenarios!(
    intercom_changes_show_on_the_customers_contacts_and_interactions_pages_without_a_run: false,
);

/// An app whose Intercom (a sandbox) notifies it of every change, after a first import.
async fn live_stage() -> anyhow::Result<Stage> {
    let config = SandboxConfig { companies: 20, contacts: 40, tickets: 5, ..SandboxConfig::default() };
    let intercom = Sandbox::spawn(config).await?;
    let flags = [
        "--intercom-base-url",
        intercom.base_url.as_str(),
        "--intercom-client-id",
        "sandbox-client-id",
        "--intercom-client-secret",
        SANDBOX_CLIENT_SECRET,
    ];
    let app = spawn_app_with(&flags).await;
    let admin = signed_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    let connected = admin
        .post(app.url(app::server_fns::ConnectIntercomWithToken::PATH))
        .header("accept", "application/json")
        .form(&[("access_token", SANDBOX_TOKEN), ("zone", "us")])
        .send()
        .await?;
    ensure!(connected.status().is_success(), "connecting failed: {}", connected.text().await?);
    let stage = Stage { app, intercom, admin };
    let mut settings = app::domain::IntegrationSettings::default();
    settings.interactions.import_window = app::domain::ImportWindow::All;
    stage.save(&settings).await?;
    let first = stage.run(every_object()).await?;
    ensure!(first.status.as_str() == "success", "the first import: {first:?}");
    let delivery = WebhookDelivery { every: Duration::from_millis(20), ..WebhookDelivery::default() };
    stage.intercom.sandbox.send_webhooks_to(&stage.app.url("/webhooks/intercom"), SANDBOX_CLIENT_SECRET, delivery);
    Ok(stage)
}

/// Opens `path` again until its main content shows `text` (a reload is what a person
/// without the live card does).
async fn shows_after_reloads(b: &Browser, path: &str, text: &str) -> anyhow::Result<()> {
    b.wait_until(&format!("{path} shows {text:?}"), || async {
        b.open(path).await?;
        Ok(b.client.find(Locator::Css("main")).await?.text().await?.contains(text))
    })
    .await
}

async fn intercom_changes_show_on_the_customers_contacts_and_interactions_pages_without_a_run(
    _: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    let stage = live_stage().await?;
    let sandbox = &stage.intercom.sandbox;
    let b = b.at(&stage.app.base_url);
    open_as(&b, "/customers", "Customers", ADMIN_EMAIL, ADMIN_PASSWORD).await?;

    // Names that sort first, so that they are on the first page of each list.
    let company = sandbox.company_ids()[7].clone();
    ensure!(sandbox.update_company(&company, json!({"name": "AAA Renamed in Intercom"})));
    shows_after_reloads(&b, "/customers", "AAA Renamed in Intercom").await?;

    let person = sandbox.contact_ids()[9].clone();
    ensure!(sandbox.update_contact(&person, json!({"name": "AAA Pat Realtime"})));
    shows_after_reloads(&b, "/contacts", "AAA Pat Realtime").await?;

    let ticket = sandbox.ticket_ids()[0].clone();
    ensure!(sandbox.update_ticket(&ticket, Some("Printer on fire, said Intercom"), None));
    shows_after_reloads(&b, "/interactions", "Printer on fire, said Intercom").await?;

    let runs = stage.app.store.sync_runs(10).await?;
    ensure!(runs.len() == 1, "only the first import ran: {runs:?}");

    b.open("/integrations/intercom").await?;
    b.wait_for_text("[data-testid=realtime-status]", "On").await?;
    let endpoint = b.text("[data-testid=realtime-endpoint]").await?;
    ensure!(endpoint == stage.app.url("/webhooks/intercom"), "the endpoint shown: {endpoint}");
    let counts = b.text("[data-testid=realtime-counts]").await?;
    ensure!(counts.starts_with("Today:") && !counts.contains(" 0 applied"), "the counts: {counts}");
    Ok(())
}
