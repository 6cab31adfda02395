//! Intercom's webhook notifications as they arrive (REFERENCE §9): the signature checked
//! on the raw body before anything is read, the notification stored durably (once per
//! notification id, delivery being at least once) for the Skalin workspace connected to
//! its `app_id`, then acknowledged. Applying them is the worker's, behind. Knows nothing
//! of Leptos or HTTP.

mod recorder;
mod signature;

use serde::Deserialize;

pub use recorder::Recorder;
pub use signature::{sign, signature_matches};

use crate::store::{NewWebhookEvent, Recorded};

/// The most a notification's body may weigh; Intercom's are a few kilobytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// No OAuth client secret is configured, so no signature can be checked.
    #[error("webhooks are not set up on this server: it has no Intercom client secret")]
    NotConfigured,
    #[error("the X-Hub-Signature header is missing or does not match the body")]
    BadSignature,
    #[error("the body is not an Intercom notification: {0}")]
    Malformed(String),
    #[error("the notification could not be stored: {0}")]
    NotStored(String),
}

/// What became of a notification, all of them acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// `ping`: nothing to keep.
    Ping,
    /// Stored for the workspace connected to its app, to be applied.
    Stored,
    /// The same notification id was stored before: nothing added.
    Duplicate,
    /// No Skalin workspace is connected to its app: kept and counted, never applied.
    Unrouted,
}

/// The fields of a notification this side reads; `data.item` is read when applied.
#[derive(Debug, Deserialize)]
struct Notification {
    id: String,
    topic: String,
    app_id: Option<String>,
}

/// Checks, stores and routes one notification. `signature` is the `X-Hub-Signature`
/// header; `secret` the OAuth app's client secret.
pub async fn receive(
    recorder: &Recorder,
    secret: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<Receipt, WebhookError> {
    let secret = secret.filter(|s| !s.is_empty()).ok_or(WebhookError::NotConfigured)?;
    if !signature_matches(secret.as_bytes(), body, signature) {
        return Err(WebhookError::BadSignature);
    }
    let text = std::str::from_utf8(body).map_err(|_| WebhookError::Malformed("not UTF-8".into()))?;
    let notification: Notification = serde_json::from_str(text).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    if notification.id.trim().is_empty() || notification.topic.trim().is_empty() {
        return Err(WebhookError::Malformed("no notification id or topic".into()));
    }
    if notification.topic == "ping" {
        return Ok(Receipt::Ping);
    }
    let event = NewWebhookEvent {
        notification_id: notification.id,
        app_id: notification.app_id,
        topic: notification.topic,
        body: text.to_string(),
        received_at: now,
    };
    Ok(match recorder.record(event).await.map_err(WebhookError::NotStored)? {
        Recorded::Duplicate => Receipt::Duplicate,
        Recorded::Routed => Receipt::Stored,
        Recorded::Unrouted => Receipt::Unrouted,
    })
}
