//! Real time over real HTTP: the sandbox Intercom sends its signed notifications to the
//! app's endpoint as Intercom would (at least once, not always in order), and the app's
//! worker applies them without a run.

use std::time::{Duration, Instant};

use app::domain::{CustomerEdit, IntegrationSettings, RealtimeState, RoleSource, SyncMode};
use app::server_fns::{GetRealtimeState, SaveIntegrationSettings};
use app::store::Store;
use app::sync_model::{StoredContact, StoredCustomer, StoredInteraction};
use app::webhooks::sign;
use reqwest::{Client, StatusCode};
use sandbox::{RunningSandbox, WebhookDelivery, SANDBOX_CLIENT_SECRET};
use serde_json::json;
use skalin_tests::*;

use super::{connected_admin, everything, get_sync_runs, sandbox, start_sync, until_ended};

/// Changes reach Skalin in well under this; the tests wait no longer.
const WAIT: Duration = Duration::from_secs(10);

struct Live {
    sb: RunningSandbox,
    app: TestApp,
    admin: Client,
}

/// The sandbox notifying the app, which holds a first full import.
async fn live(settings: Option<IntegrationSettings>) -> Live {
    let sb = sandbox().await;
    let app = spawn_app_with(&[
        "--intercom-base-url",
        &sb.base_url,
        "--intercom-client-id",
        "sandbox-client-id",
        "--intercom-client-secret",
        SANDBOX_CLIENT_SECRET,
    ])
    .await;
    let admin = connected_admin(&app).await;
    if let Some(settings) = settings {
        save(&app, &admin, &settings).await;
    }
    let started: app::server_fns::StartedRun = start_sync(&app, &admin, &everything()).await.ok();
    let first = until_ended(&app, &admin, started.run.id).await;
    assert_eq!(first.status.as_str(), "success", "the first import: {first:?}");
    let delivery = WebhookDelivery {
        duplicate_rate: 0.3,
        shuffle: true,
        retry_after: Duration::from_millis(200),
        every: Duration::from_millis(20),
    };
    sb.sandbox.send_webhooks_to(&app.url("/webhooks/intercom"), SANDBOX_CLIENT_SECRET, delivery);
    Live { sb, app, admin }
}

async fn save(app: &TestApp, admin: &Client, settings: &IntegrationSettings) {
    let answer = call_json::<SaveIntegrationSettings>(app, admin, "save", json!({ "settings": settings })).await;
    assert_eq!(answer.status, StatusCode::OK, "saving the settings: {}", answer.body);
}

async fn customer(store: &dyn Store, intercom_id: &str) -> Option<StoredCustomer> {
    store.customers_by_keys(&[intercom_id.to_string()], &[]).await.unwrap().into_iter().next()
}

async fn contact(store: &dyn Store, intercom_id: &str) -> Option<StoredContact> {
    store.contacts_by_keys(&[intercom_id.to_string()], &[]).await.unwrap().into_iter().next()
}

async fn interaction(store: &dyn Store, intercom_id: &str) -> Option<StoredInteraction> {
    store.interactions_by_intercom_ids(&[intercom_id.to_string()]).await.unwrap().into_iter().next()
}

/// Waits until `read` gives what `done` accepts, and returns it; panics with the last
/// value after `WAIT`.
async fn until<T: std::fmt::Debug, F: std::future::Future<Output = T>>(
    what: &str,
    mut read: impl FnMut() -> F,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        let value = read().await;
        if done(&value) {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: still {value:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn realtime(app: &TestApp, client: &Client) -> RealtimeState {
    call_form::<GetRealtimeState>(app, client, "get_realtime_state", &[]).await.ok()
}

/// Every notification stored so far has been dealt with (applied, ignored or failed).
async fn settled(live: &Live) -> RealtimeState {
    until(
        "notifications waiting",
        || realtime(&live.app, &live.admin),
        |s| s.today.waiting == 0 && s.today.received > 0,
    )
    .await
}

async fn runs(live: &Live) -> usize {
    get_sync_runs(&live.app, &live.admin, 50).await.ok::<Vec<app::domain::SyncRun>>().len()
}

#[tokio::test]
async fn a_company_a_contact_and_a_ticket_edited_in_intercom_are_in_skalin_within_seconds_without_a_run() {
    let live = live(None).await;
    let store = live.app.store.as_ref();
    let company = live.sb.sandbox.company_ids()[3].clone();
    let person = live.sb.sandbox.contact_ids()[5].clone();
    let ticket = live.sb.sandbox.ticket_ids()[0].clone();

    assert!(live.sb.sandbox.update_company(&company, json!({"name": "Renamed in Intercom"})));
    assert!(live.sb.sandbox.update_contact(&person, json!({"name": "Pat Renamed"})));
    assert!(live.sb.sandbox.update_ticket(&ticket, Some("Printer on fire"), None));

    let c = until(
        "the company",
        || customer(store, &company),
        |c| c.as_ref().is_some_and(|c| c.name == "Renamed in Intercom"),
    )
    .await;
    assert_eq!(c.unwrap().churned_at, None);
    until("the contact", || contact(store, &person), |c| c.as_ref().is_some_and(|c| c.name == "Pat Renamed")).await;
    until("the ticket", || interaction(store, &ticket), |t| t.as_ref().is_some_and(|t| t.title == "Printer on fire"))
        .await;
    assert_eq!(runs(&live).await, 1, "only the first import ran");

    let state = settled(&live).await;
    assert!(state.on, "{state:?}");
    assert_eq!(state.endpoint_url, live.app.url("/webhooks/intercom"));
    assert!(state.today.applied >= 3 && state.today.failed == 0, "{state:?}");
    assert!(state.last.is_some());
}

#[tokio::test]
async fn many_edits_delivered_twice_and_out_of_order_leave_each_record_at_its_newest() {
    let live = live(None).await;
    let store = live.app.store.as_ref();
    let company = live.sb.sandbox.company_ids()[0].clone();
    for n in 1..=20 {
        assert!(live.sb.sandbox.update_company(&company, json!({"name": format!("Name {n}")})));
        // Intercom's clock is in seconds: the last edit is a second after the others.
        if n == 19 {
            tokio::time::sleep(Duration::from_millis(1_100)).await;
        }
    }
    live.sb.sandbox.edit_random_records(50);
    until("the last name", || customer(store, &company), |c| c.as_ref().is_some_and(|c| c.name == "Name 20")).await;
    // Every record Skalin has comes to Intercom's newest clock, and stays there: none
    // goes back to an older notification's.
    let behind = || async {
        let mut behind = Vec::new();
        for id in live.sb.sandbox.company_ids() {
            let Some(row) = customer(store, &id).await else { continue };
            let intercom = live.sb.sandbox.company_json(&id).unwrap()["updated_at"].as_i64();
            if row.intercom_updated_at != intercom {
                behind.push((id, row.intercom_updated_at, intercom));
            }
        }
        behind
    };
    until("companies behind Intercom", behind, Vec::is_empty).await;
    settled(&live).await;
    assert_eq!(behind().await, [], "after every notification was applied");
    assert_eq!(customer(store, &company).await.unwrap().name, "Name 20");
}

#[tokio::test]
async fn an_older_notification_arriving_last_never_wins() {
    let live = live(None).await;
    let store = live.app.store.as_ref();
    let id = live.sb.sandbox.company_ids()[1].clone();
    let company = live.sb.sandbox.company_json(&id).unwrap();
    let at = company["updated_at"].as_i64().unwrap();
    let post = |n: &str, name: &str, updated_at: i64| {
        let mut company = company.clone();
        company["name"] = json!(name);
        company["updated_at"] = json!(updated_at);
        let body = json!({
            "type": "notification_event", "id": n, "topic": "company.updated", "app_id": live.sb.sandbox.app_id(),
            "created_at": updated_at, "data": {"type": "notification_event_data", "item": company}
        })
        .to_string();
        let signature = sign(SANDBOX_CLIENT_SECRET.as_bytes(), body.as_bytes());
        reqwest::Client::new()
            .post(live.app.url("/webhooks/intercom"))
            .header("x-hub-signature", signature)
            .body(body)
            .send()
    };
    assert_eq!(post("notif_newer", "Newer", at + 100).await.unwrap().status(), StatusCode::OK);
    until("the newer name", || customer(store, &id), |c| c.as_ref().is_some_and(|c| c.name == "Newer")).await;
    assert_eq!(post("notif_older", "Older", at + 50).await.unwrap().status(), StatusCode::OK);
    let state = settled(&live).await;
    assert_eq!(customer(store, &id).await.unwrap().name, "Newer");
    assert_eq!(state.today.ignored, 1, "the older one is ignored: {state:?}");
}

#[tokio::test]
async fn a_company_deleted_in_intercom_is_churned_when_churn_is_on_and_never_deleted() {
    let mut settings = IntegrationSettings::default();
    settings.customers.churn_enabled = true;
    settings.customers.churn_max_percent = 50;
    let live = live(Some(settings)).await;
    let store = live.app.store.as_ref();
    let id = live.sb.sandbox.company_ids()[2].clone();
    assert!(live.sb.sandbox.delete_company(&id));
    let churned =
        until("the churn", || customer(store, &id), |c| c.as_ref().is_some_and(|c| c.churned_at.is_some())).await;
    assert_eq!(churned.unwrap().stage.as_deref(), Some(app::integration::CHURN_STAGE));
}

#[tokio::test]
async fn with_churn_off_a_deleted_company_stays_and_the_notification_says_why() {
    let live = live(None).await;
    let id = live.sb.sandbox.company_ids()[2].clone();
    assert!(live.sb.sandbox.delete_company(&id));
    let state = settled(&live).await;
    let row = customer(live.app.store.as_ref(), &id).await.unwrap();
    assert_eq!(row.churned_at, None);
    let last = state.last.unwrap();
    assert_eq!((last.topic.as_str(), last.status.as_str()), ("company.deleted", "ignored"));
    assert!(last.message.unwrap().contains("Churn is off"));
}

#[tokio::test]
async fn an_object_whose_mode_does_not_read_from_intercom_is_left_alone() {
    let mut settings = IntegrationSettings::default();
    settings.interactions.mode = SyncMode::Disabled;
    let live = live(Some(settings)).await;
    let store = live.app.store.as_ref();
    let person = live.sb.sandbox.contact_ids()[0].clone();
    let ticket = live.sb.sandbox.ticket_ids()[0].clone();
    assert!(live.sb.sandbox.update_ticket(&ticket, Some("Not for Skalin"), None));
    assert!(live.sb.sandbox.update_contact(&person, json!({"name": "For Skalin"})));
    until("the contact", || contact(store, &person), |c| c.as_ref().is_some_and(|c| c.name == "For Skalin")).await;
    let state = until(
        "the ticket's notification",
        || realtime(&live.app, &live.admin),
        |s| s.today.waiting == 0 && s.today.ignored >= 1,
    )
    .await;
    assert!(interaction(store, &ticket).await.is_none(), "interactions are disabled");
    assert_eq!(state.today.failed, 0, "{state:?}");
}

#[tokio::test]
async fn in_two_ways_skalin_s_own_write_comes_back_changes_nothing_and_is_not_written_again() {
    let mut settings = IntegrationSettings::default();
    settings.customers.mode = SyncMode::TwoWays;
    settings.customers.id_field = Some("company_id".into());
    settings.customers.stage_field = Some("custom_attributes.Tier".into());
    settings.contacts.mode = SyncMode::Disabled;
    let live = live(Some(settings)).await;
    let store = live.app.store.as_ref();
    let id = live.sb.sandbox.company_ids()[4].clone();
    let row = customer(store, &id).await.unwrap();
    let edit = CustomerEdit { stage: Some("Strategic".into()), ..CustomerEdit::default() };
    store.edit_customer(row.id, &edit, ADMIN_EMAIL, app::store::now()).await.unwrap();

    let started: app::server_fns::StartedRun = start_sync(&live.app, &live.admin, &everything()).await.ok();
    let run = until_ended(&live.app, &live.admin, started.run.id).await;
    assert_eq!(run.status.as_str(), "success", "{run:?}");
    let tier = |sb: &RunningSandbox| sb.sandbox.company_json(&id).unwrap()["custom_attributes"]["Tier"].clone();
    assert_eq!(tier(&live.sb), json!("Strategic"), "the run wrote Skalin's stage");

    let writes = || {
        let stats = live.sb.sandbox.stats();
        stats
            .calls
            .iter()
            .filter(|(route, _)| route.starts_with("PUT") || route.starts_with("POST /companies"))
            .map(|(_, n)| n)
            .sum::<u64>()
    };
    let written = writes();
    let state = settled(&live).await;
    assert!(state.today.received >= 1, "the write came back as a notification: {state:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(writes(), written, "nothing was written to Intercom again");
    let after = customer(store, &id).await.unwrap();
    assert_eq!(after.stage.as_deref(), Some("Strategic"));
    assert_eq!(state.today.failed, 0, "{state:?}");
}

#[tokio::test]
async fn a_tag_put_on_a_contact_in_intercom_gives_it_its_role_and_taking_it_off_takes_the_role_away() {
    let mut settings = IntegrationSettings::default();
    settings.contacts.champion = Some(RoleSource::Tag("Champion".into()));
    let live = live(Some(settings)).await;
    let store = live.app.store.as_ref();
    let person = live.sb.sandbox.contact_ids()[6].clone();
    let role = |c: &Option<StoredContact>| c.as_ref().and_then(|c| c.role_tag.clone());
    assert_eq!(role(&contact(store, &person).await), None);

    assert!(live.sb.sandbox.tag_contact(&person, "Champion"));
    until("the role", || contact(store, &person), |c| role(c).as_deref() == Some("Champion")).await;
    // A second apart: Intercom's clock is in seconds, and Skalin keeps the newest.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert!(live.sb.sandbox.untag_contact(&person, "Champion"));
    until("no role", || contact(store, &person), |c| c.is_some() && role(c).is_none()).await;
    let state = settled(&live).await;
    assert_eq!(state.today.failed, 0, "{state:?}");
}
