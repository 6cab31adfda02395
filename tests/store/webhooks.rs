//! The queue of Intercom's notifications: taken oldest first by one worker at a time,
//! leased so that a killed worker's come back, finished once, and counted per workspace.

use app::domain::Zone;
use app::secrets::{encrypt_token, SecretKey};
use app::store::{Directory, NewIntercomConnection, NewWebhookEvent, Recorded, WebhookOutcome};
use secrecy::SecretString;

/// A Skalin workspace connected to the Intercom workspace `app_id`.
async fn connected_workspace(directory: &dyn Directory, slug: &str, app_id: &str) -> i64 {
    let workspace = directory.create_workspace(slug, slug).await.unwrap();
    let connection = NewIntercomConnection {
        zone: Zone::Us,
        token: encrypt_token(&SecretKey([7; 32]), &SecretString::from("tok".to_string())),
        workspace_name: None,
        app_id: Some(app_id.into()),
        detected_zone: None,
        connected_by: "ada@example.com".into(),
        connected_at: 1,
    };
    directory.store(workspace.id).save_intercom_connection(&connection).await.unwrap();
    workspace.id
}

async fn notify(directory: &dyn Directory, id: &str, app_id: &str, received_at: i64) -> Recorded {
    let event = NewWebhookEvent {
        notification_id: id.into(),
        app_id: Some(app_id.into()),
        topic: "company.updated".into(),
        body: format!("{{\"id\":\"{id}\"}}"),
        received_at,
    };
    directory.record_webhook(&event).await.unwrap()
}

pub async fn notifications_are_taken_oldest_first_once_and_a_lease_that_ran_out_gives_them_back(
    directory: &dyn Directory,
) {
    let ws = connected_workspace(directory, "a", "app-a").await;
    for n in 0..5 {
        assert_eq!(notify(directory, &format!("n{n}"), "app-a", 100 + n).await, Recorded::Routed);
    }
    assert_eq!(notify(directory, "n0", "app-a", 105).await, Recorded::Duplicate, "delivered twice, stored once");
    assert_eq!(notify(directory, "unrouted", "app-nobody", 100).await, Recorded::Unrouted);

    let first = directory.claim_webhooks(3, 1_000, 1_015).await.unwrap();
    let ids = |events: &[app::store::WebhookEvent]| events.iter().map(|e| e.body.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&first), ["{\"id\":\"n0\"}", "{\"id\":\"n1\"}", "{\"id\":\"n2\"}"]);
    assert!(first.iter().all(|e| e.attempts == 1 && e.workspace_id == ws));
    let second = directory.claim_webhooks(10, 1_000, 1_015).await.unwrap();
    assert_eq!(ids(&second), ["{\"id\":\"n3\"}", "{\"id\":\"n4\"}"], "leased ones and unrouted ones are not taken");
    assert!(directory.claim_webhooks(10, 1_010, 1_025).await.unwrap().is_empty());

    // The worker that took the first three finished two, then was killed.
    let done = [(first[0].id, WebhookOutcome::Applied), (first[1].id, WebhookOutcome::Ignored("old".into()))];
    directory.finish_webhooks(&done, 1_001).await.unwrap();
    let retaken = directory.claim_webhooks(10, 1_016, 1_031).await.unwrap();
    assert_eq!(ids(&retaken), ["{\"id\":\"n2\"}", "{\"id\":\"n3\"}", "{\"id\":\"n4\"}"]);
    assert!(retaken.iter().all(|e| e.attempts == 2));
}

pub async fn a_failed_notification_waits_for_its_retry_and_is_counted_until_it_applies(directory: &dyn Directory) {
    let ws = connected_workspace(directory, "a", "app-a").await;
    connected_workspace(directory, "b", "app-b").await;
    notify(directory, "n0", "app-a", 1_000).await;
    notify(directory, "n1", "app-a", 1_000).await;
    notify(directory, "elsewhere", "app-b", 1_000).await;
    let taken = directory.claim_webhooks(10, 1_000, 1_015).await.unwrap();
    let [n0, n1] = [&taken[0], &taken[1]];
    let failed = WebhookOutcome::Failed { message: "Intercom said 500".into(), retry_at: Some(1_020) };
    let outcomes = [(n0.id, failed), (n1.id, WebhookOutcome::Applied), (taken[2].id, WebhookOutcome::Applied)];
    directory.finish_webhooks(&outcomes, 1_001).await.unwrap();

    let store = directory.store(ws);
    let counts = store.webhook_counts(0).await.unwrap();
    assert_eq!(
        (counts.counts.received, counts.counts.applied, counts.counts.failed, counts.counts.waiting),
        (2, 1, 1, 1),
        "{counts:?}"
    );
    let failures = store.failed_webhooks(10).await.unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].message.as_deref(), Some("Intercom said 500"));
    assert!(directory.claim_webhooks(10, 1_019, 1_034).await.unwrap().is_empty(), "not before its retry");
    let again = directory.claim_webhooks(10, 1_020, 1_035).await.unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 2));

    let given_up = WebhookOutcome::Failed { message: "still 500".into(), retry_at: None };
    directory.finish_webhooks(&[(again[0].id, given_up)], 1_021).await.unwrap();
    assert!(directory.claim_webhooks(10, 9_999, 10_014).await.unwrap().is_empty(), "given up for good");
    let counts = store.webhook_counts(0).await.unwrap();
    assert_eq!((counts.counts.failed, counts.counts.waiting), (1, 0));
    assert_eq!(counts.last.unwrap().status, "applied", "the last one received is n1");
    assert_eq!(store.webhook_counts(1_001).await.unwrap().counts.received, 0, "today's only");
}
