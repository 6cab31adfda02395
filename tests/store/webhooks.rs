//! The queue of Intercom's notifications: taken oldest first by one worker at a time,
//! leased so that a killed worker's come back, finished once, and counted per workspace.

use app::store::{Directory, NewWebhookEvent, WebhookOutcome};

async fn notify(directory: &dyn Directory, id: &str, workspace: Option<i64>, received_at: i64) {
    let event = NewWebhookEvent {
        notification_id: id.into(),
        app_id: Some("app".into()),
        workspace_id: workspace,
        topic: "company.updated".into(),
        body: format!("{{\"id\":\"{id}\"}}"),
        received_at,
    };
    assert!(directory.record_webhook(&event).await.unwrap(), "{id} stored");
}

pub async fn notifications_are_taken_oldest_first_once_and_a_lease_that_ran_out_gives_them_back(
    directory: &dyn Directory,
) {
    let ws = directory.create_workspace("A", "a").await.unwrap();
    for n in 0..5 {
        notify(directory, &format!("n{n}"), Some(ws.id), 100 + n).await;
    }
    notify(directory, "unrouted", None, 100).await;

    let first = directory.claim_webhooks(3, 1_000, 1_015).await.unwrap();
    let ids = |events: &[app::store::WebhookEvent]| events.iter().map(|e| e.body.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&first), ["{\"id\":\"n0\"}", "{\"id\":\"n1\"}", "{\"id\":\"n2\"}"]);
    assert!(first.iter().all(|e| e.attempts == 1 && e.workspace_id == ws.id));
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
    let ws = directory.create_workspace("A", "a").await.unwrap();
    let other = directory.create_workspace("B", "b").await.unwrap();
    notify(directory, "n0", Some(ws.id), 1_000).await;
    notify(directory, "n1", Some(ws.id), 1_000).await;
    notify(directory, "elsewhere", Some(other.id), 1_000).await;
    let taken = directory.claim_webhooks(10, 1_000, 1_015).await.unwrap();
    let [n0, n1] = [&taken[0], &taken[1]];
    let failed = WebhookOutcome::Failed { message: "Intercom said 500".into(), retry_at: Some(1_020) };
    let outcomes = [(n0.id, failed), (n1.id, WebhookOutcome::Applied), (taken[2].id, WebhookOutcome::Applied)];
    directory.finish_webhooks(&outcomes, 1_001).await.unwrap();

    let store = directory.store(ws.id);
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
