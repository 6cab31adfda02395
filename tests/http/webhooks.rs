//! `POST /webhooks/intercom` over real HTTP: only notifications signed with the app's
//! client secret are taken; each is stored once, for the workspace connected to its app,
//! before it is acknowledged.

use app::domain::Zone;
use app::secrets::{encrypt_token, SecretKey};
use app::store::NewIntercomConnection;
use app::webhooks::sign;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::json;
use skalin_tests::*;

const SECRET: &str = "webhook-client-secret";
const APP_ID: &str = "app-acme";

/// The app with an OAuth client (whose secret signs the webhooks), its workspace
/// connected to the Intercom app `APP_ID`.
async fn app_with_webhooks() -> TestApp {
    // No worker: what is stored stays as the endpoint left it.
    let app = spawn_app_with(&[
        "--intercom-client-id",
        "client-id",
        "--intercom-client-secret",
        SECRET,
        "--sync-worker",
        "false",
    ])
    .await;
    let token = encrypt_token(&SecretKey([1; 32]), &SecretString::from("tok".to_string()));
    let connection = NewIntercomConnection {
        zone: Zone::Us,
        token,
        workspace_name: Some("Acme Intercom".into()),
        app_id: Some(APP_ID.into()),
        detected_zone: None,
        connected_by: ADMIN_EMAIL.into(),
        connected_at: 1,
    };
    app.store.save_intercom_connection(&connection).await.unwrap();
    app
}

fn notification(id: &str, topic: &str, app_id: &str) -> String {
    json!({
        "type": "notification_event", "id": id, "topic": topic, "app_id": app_id,
        "created_at": 1_700_000_000, "delivery_attempts": 1, "first_sent_at": 1_700_000_000,
        "data": {"type": "notification_event_data", "item": {"type": "company", "id": "c-1", "name": "Acme"}}
    })
    .to_string()
}

async fn deliver(app: &TestApp, body: &str, signature: Option<&str>) -> StatusCode {
    let mut request = reqwest::Client::new()
        .post(app.url("/webhooks/intercom"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(signature) = signature {
        request = request.header("x-hub-signature", signature);
    }
    request.send().await.unwrap().status()
}

/// (notification id, workspace, status) of every stored notification, oldest first.
async fn stored(app: &TestApp) -> Vec<(String, Option<i64>, String)> {
    let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
    let rows = sqlx::query_as("select notification_id, workspace_id, status from webhook_events order by id")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows
}

#[tokio::test]
async fn a_signed_notification_is_stored_once_for_the_workspace_of_its_app() {
    let app = app_with_webhooks().await;
    let body = notification("notif_1", "company.updated", APP_ID);
    let signature = sign(SECRET.as_bytes(), body.as_bytes());
    assert_eq!(deliver(&app, &body, Some(&signature)).await, StatusCode::OK);
    assert_eq!(deliver(&app, &body, Some(&signature)).await, StatusCode::OK, "a second delivery is acknowledged");
    assert_eq!(stored(&app).await, [("notif_1".to_string(), Some(app.workspace.id), "pending".to_string())]);
}

#[tokio::test]
async fn a_notification_without_the_right_signature_is_refused_and_nothing_is_stored() {
    let app = app_with_webhooks().await;
    let body = notification("notif_1", "company.updated", APP_ID);
    let other = notification("notif_2", "company.updated", APP_ID);
    let signed = sign(SECRET.as_bytes(), body.as_bytes());
    let cases = [
        ("no signature", body.clone(), None),
        ("another secret", body.clone(), Some(sign(b"not-the-secret", body.as_bytes()))),
        ("another body's signature", other.clone(), Some(signed.clone())),
        ("replayed with another id", body.replace("notif_1", "notif_3"), Some(signed.clone())),
        ("garbage", body.clone(), Some("sha1=nope".to_string())),
    ];
    for (what, body, signature) in cases {
        assert_eq!(deliver(&app, &body, signature.as_deref()).await, StatusCode::UNAUTHORIZED, "{what}");
    }
    assert!(stored(&app).await.is_empty());
}

#[tokio::test]
async fn a_notification_of_an_app_no_workspace_is_connected_to_is_acknowledged_and_kept_aside() {
    let app = app_with_webhooks().await;
    let body = notification("notif_9", "contact.user.updated", "app-gone");
    assert_eq!(deliver(&app, &body, Some(&sign(SECRET.as_bytes(), body.as_bytes()))).await, StatusCode::OK);
    assert_eq!(stored(&app).await, [("notif_9".to_string(), None, "unrouted".to_string())]);
}

#[tokio::test]
async fn ping_is_answered_and_bad_bodies_are_refused_with_a_reason() {
    let app = app_with_webhooks().await;
    let ping = notification("notif_ping", "ping", APP_ID);
    assert_eq!(deliver(&app, &ping, Some(&sign(SECRET.as_bytes(), ping.as_bytes()))).await, StatusCode::OK);
    let not_json = "this is not JSON";
    assert_eq!(
        deliver(&app, not_json, Some(&sign(SECRET.as_bytes(), not_json.as_bytes()))).await,
        StatusCode::BAD_REQUEST
    );
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(app::webhooks::MAX_BODY_BYTES));
    let status = deliver(&app, &huge, Some(&sign(SECRET.as_bytes(), huge.as_bytes()))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(stored(&app).await.is_empty());
}

#[tokio::test]
async fn without_a_client_secret_webhooks_are_refused_as_not_set_up() {
    let app = spawn_app().await;
    let body = notification("notif_1", "company.updated", APP_ID);
    assert_eq!(
        deliver(&app, &body, Some(&sign(SECRET.as_bytes(), body.as_bytes()))).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
}
