//! Webhook notifications as Intercom sends them (REFERENCE §9): a signed POST to the app's
//! endpoint for each change, at least once (sometimes twice), not always in order, and
//! retried once after a failure; a second failure drops it. Off until a test or the demo
//! names an endpoint (`Sandbox::send_webhooks_to`).

use std::collections::VecDeque;
use std::sync::{Mutex, Weak};
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha1::Sha1;

use super::state::State;

/// How notifications are delivered; the defaults follow Intercom's rules.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// Share of notifications sent twice (delivery is at least once).
    pub duplicate_rate: f64,
    /// Whether a batch of notifications may go out in another order than it happened.
    pub shuffle: bool,
    /// The wait before the one retry of a failed delivery (Intercom: a minute).
    pub retry_after: Duration,
    /// How often queued notifications are sent.
    pub every: Duration,
}

impl Default for Delivery {
    fn default() -> Self {
        Self {
            duplicate_rate: 0.05,
            shuffle: true,
            retry_after: Duration::from_secs(60),
            every: Duration::from_millis(50),
        }
    }
}

pub struct Webhooks {
    url: String,
    secret: String,
    delivery: Delivery,
    queue: VecDeque<Value>,
    sent: u64,
}

impl Webhooks {
    pub fn new(url: &str, secret: &str, delivery: Delivery) -> Self {
        Self { url: url.to_string(), secret: secret.to_string(), delivery, queue: VecDeque::new(), sent: 0 }
    }
}

impl State {
    /// Queues the notification of a change, when webhooks are on: `item` is the object as
    /// the API renders it (only its identifying fields for a `*.deleted` topic).
    pub fn notify(&mut self, topic: &str, item: Value) {
        let now = self.now();
        let app_id = self.app_id.clone();
        let Some(hooks) = self.webhooks.as_mut() else { return };
        hooks.sent += 1;
        let notification = json!({
            "type": "notification_event",
            "id": format!("notif_{app_id}_{:08}", hooks.sent),
            "topic": topic,
            "app_id": app_id,
            "created_at": now,
            "delivery_attempts": 1,
            "first_sent_at": now,
            "data": {"type": "notification_event_data", "item": item},
        });
        hooks.queue.push_back(notification);
    }
}

impl State {
    /// Notifies `topic` for a company, rendered as the API renders it by default.
    pub fn notify_company(&mut self, index: usize, topic: &str) {
        if self.webhooks.is_none() {
            return;
        }
        let item = super::render::company(self, &self.companies[index], super::default_version(self));
        self.notify(topic, item);
    }

    /// Notifies `contact.user.<event>` or `contact.lead.<event>` for a contact.
    pub fn notify_contact(&mut self, index: usize, event: &str) {
        if self.webhooks.is_none() {
            return;
        }
        let contact = &self.contacts[index];
        let kind = if contact.role == "lead" { "lead" } else { "user" };
        let item = super::to_value(super::render::contact(self, contact, super::default_version(self)));
        self.notify(&format!("contact.{kind}.{event}"), item);
    }

    /// Notifies a tag put on (`created`) or taken off (`deleted`) a contact, as a
    /// `contact_tag` object.
    pub fn notify_contact_tag(&mut self, index: usize, tag: usize, event: &str, at: i64) {
        if self.webhooks.is_none() {
            return;
        }
        let contact = &self.contacts[index];
        let kind = if contact.role == "lead" { "lead" } else { "user" };
        let tag = &self.tags[tag];
        let item = json!({
            "type": "contact_tag",
            "created_at": at,
            "tag": {"type": "tag", "id": tag.id, "name": tag.name},
            "contact": super::to_value(super::render::contact(self, contact, super::default_version(self))),
        });
        self.notify(&format!("contact.{kind}.tag.{event}"), item);
    }
}

/// `sha1=<hex>`: the HMAC-SHA1 of the body, keyed with the app's client secret.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha1={hex}")
}

/// Sends what is queued until the sandbox is dropped.
pub async fn deliver(state: Weak<Mutex<State>>) {
    let client = reqwest::Client::new();
    loop {
        let Some(strong) = state.upgrade() else { return };
        let (batch, url, secret, delivery) = {
            let mut state = strong.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let Some(hooks) = state.webhooks.as_mut() else { return };
            let batch: Vec<Value> = hooks.queue.drain(..).collect();
            let (url, secret, delivery) = (hooks.url.clone(), hooks.secret.clone(), hooks.delivery.clone());
            let mut batch = batch;
            if delivery.shuffle && batch.len() > 1 {
                // Neighbours swap now and then: not always in order.
                for i in 1..batch.len() {
                    if state.misc_rng.chance(0.3) {
                        batch.swap(i - 1, i);
                    }
                }
            }
            let mut sent = Vec::new();
            for notification in batch {
                let twice = state.misc_rng.chance(delivery.duplicate_rate);
                if twice {
                    sent.push(notification.clone());
                }
                sent.push(notification);
            }
            (sent, url, secret, delivery)
        };
        drop(strong);
        for notification in batch {
            let (client, url, secret, state) = (client.clone(), url.clone(), secret.clone(), state.clone());
            let retry_after = delivery.retry_after;
            tokio::spawn(async move {
                if post(&client, &url, &secret, &notification).await {
                    count(&state, |stats| stats.webhooks_delivered += 1);
                    return;
                }
                tokio::time::sleep(retry_after).await;
                let mut again = notification;
                again["delivery_attempts"] = json!(2);
                if post(&client, &url, &secret, &again).await {
                    count(&state, |stats| stats.webhooks_delivered += 1);
                } else {
                    count(&state, |stats| stats.webhooks_failed += 1);
                }
            });
        }
        tokio::time::sleep(delivery.every).await;
    }
}

async fn post(client: &reqwest::Client, url: &str, secret: &str, notification: &Value) -> bool {
    let body = notification.to_string();
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-hub-signature", signature(secret, body.as_bytes()))
        .timeout(Duration::from_secs(5))
        .body(body)
        .send()
        .await;
    response.is_ok_and(|r| r.status().is_success())
}

fn count(state: &Weak<Mutex<State>>, change: impl FnOnce(&mut super::SandboxStats)) {
    if let Some(state) = state.upgrade() {
        change(&mut state.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).stats);
    }
}
