//! The sandbox's webhooks, as Intercom sends them: a signed notification per change, at
//! least once, retried once after a failure.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use reqwest::Client;
use sandbox::{Sandbox, SandboxConfig, WebhookDelivery, SANDBOX_TOKEN};
use serde_json::{json, Value};

const SECRET: &str = "client-secret";

/// What an endpoint received: each notification with whether its signature matched.
#[derive(Clone, Default)]
struct Received {
    notifications: Arc<Mutex<Vec<(Value, bool)>>>,
    /// Notification ids whose first delivery is answered 500.
    fail_first: Arc<Mutex<Vec<String>>>,
}

async fn endpoint(State(received): State<Received>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers.get("x-hub-signature").and_then(|v| v.to_str().ok());
    let signed = app::webhooks::signature_matches(SECRET.as_bytes(), &body, signature);
    let notification: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let id = notification["id"].as_str().unwrap_or_default().to_string();
    received.notifications.lock().unwrap().push((notification, signed));
    let mut fail = received.fail_first.lock().unwrap();
    if let Some(i) = fail.iter().position(|f| *f == id) {
        fail.remove(i);
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    StatusCode::OK
}

async fn receiver() -> (String, Received) {
    let received = Received::default();
    let app = axum::Router::new().route("/hook", axum::routing::post(endpoint)).with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

fn quick(duplicate_rate: f64) -> WebhookDelivery {
    WebhookDelivery {
        duplicate_rate,
        shuffle: false,
        retry_after: Duration::from_millis(200),
        every: Duration::from_millis(20),
    }
}

async fn until(received: &Received, count: usize) -> Vec<(Value, bool)> {
    for _ in 0..200 {
        let got = received.notifications.lock().unwrap().clone();
        if got.len() >= count {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    received.notifications.lock().unwrap().clone()
}

fn topics(got: &[(Value, bool)]) -> Vec<String> {
    got.iter().map(|(n, _)| n["topic"].as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn each_change_is_notified_signed_with_the_client_secret() {
    let sb = Sandbox::spawn(SandboxConfig { companies: 3, contacts: 4, tickets: 1, ..SandboxConfig::default() })
        .await
        .unwrap();
    let (url, received) = receiver().await;
    sb.sandbox.send_webhooks_to(&url, SECRET, quick(0.0));

    let client = Client::new();
    let created: Value = client
        .post(sb.url("/companies"))
        .bearer_auth(SANDBOX_TOKEN)
        .json(&json!({"company_id": "new-co", "name": "New Co"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let got = until(&received, 1).await;
    assert_eq!(topics(&got), ["company.created"]);
    let (notification, signed) = &got[0];
    assert!(signed, "the signature matches the body under the client secret");
    assert_eq!(notification["type"], "notification_event");
    assert_eq!(notification["app_id"], sb.sandbox.app_id().as_str());
    assert_eq!(notification["data"]["item"]["id"], created["id"]);
    assert_eq!(notification["data"]["item"]["name"], "New Co");

    let contact = sb.sandbox.contact_ids()[0].clone();
    assert!(sb.sandbox.update_contact(&contact, json!({"name": "Renamed"})));
    assert!(sb.sandbox.tag_contact(&contact, "Champion"));
    let company = created["id"].as_str().unwrap().to_string();
    assert!(sb.sandbox.delete_company(&company));
    let got = until(&received, 4).await;
    let kinds = topics(&got);
    assert_eq!(kinds[1..], ["contact.user.updated", "contact.user.tag.created", "company.deleted"], "{kinds:?}");
    assert_eq!(got[1].0["data"]["item"]["name"], "Renamed");
    assert_eq!(got[2].0["data"]["item"]["tag"]["name"], "Champion");
    let deleted = &got[3].0["data"]["item"];
    assert_eq!((deleted["id"].as_str(), deleted.get("name")), (Some(company.as_str()), None), "ids only");
    assert!(got.iter().all(|(_, signed)| *signed));
    let ids: std::collections::BTreeSet<&str> = got.iter().filter_map(|(n, _)| n["id"].as_str()).collect();
    assert_eq!(ids.len(), 4, "each notification has its own id");
}

#[tokio::test]
async fn a_failed_delivery_is_retried_once_and_some_are_sent_twice() {
    let sb = Sandbox::spawn(SandboxConfig { companies: 2, contacts: 2, tickets: 0, ..SandboxConfig::default() })
        .await
        .unwrap();
    let (url, received) = receiver().await;
    sb.sandbox.send_webhooks_to(&url, SECRET, quick(1.0));
    let first = format!("notif_{}_{:08}", sb.sandbox.app_id(), 1);
    received.fail_first.lock().unwrap().extend([first.clone(), first.clone(), first.clone()]);

    sb.sandbox.edit_random_records(1);
    // Sent twice; each delivery refused once, retried once, then given up on.
    let got = until(&received, 4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got_now = received.notifications.lock().unwrap().clone();
    assert_eq!(got_now.len(), got.len(), "no more than one retry each");
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(got.iter().all(|(n, _)| n["id"] == first.as_str()));
    let attempts: Vec<i64> = got.iter().map(|(n, _)| n["delivery_attempts"].as_i64().unwrap()).collect();
    assert_eq!(attempts.iter().filter(|a| **a == 2).count(), 2, "{attempts:?}");
    let stats = sb.sandbox.stats();
    assert_eq!((stats.webhooks_delivered, stats.webhooks_failed), (1, 1), "{stats:?}");
}
