//! Real-time updates as a workspace's settings page shows them: whether Intercom's
//! notifications reach Skalin, where to send them, and what became of today's.

use serde::{Deserialize, Serialize};

/// The webhook path every workspace shares: the app's one endpoint.
pub const WEBHOOK_PATH: &str = "/webhooks/intercom";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealtimeState {
    /// Notifications are checked and applied for this workspace.
    pub on: bool,
    /// Why not, when off.
    pub off_because: Option<String>,
    /// The URL to put in the Intercom app's webhook settings.
    pub endpoint_url: String,
    pub today: RealtimeCounts,
    pub last: Option<NotificationLine>,
    /// Failed ones, newest first: waiting for another try, or given up.
    pub failures: Vec<NotificationLine>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealtimeCounts {
    pub received: u64,
    pub applied: u64,
    pub ignored: u64,
    pub failed: u64,
    pub waiting: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationLine {
    pub topic: String,
    /// pending, applying, applied, ignored or failed.
    pub status: String,
    pub received_at: i64,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub message: Option<String>,
}

impl NotificationLine {
    /// The status in words.
    pub fn describe(&self) -> String {
        match (self.status.as_str(), self.next_attempt_at) {
            ("pending" | "applying", Some(_)) if self.message.is_some() => {
                format!("failed {} time(s), will be tried again", self.attempts)
            }
            ("pending" | "applying", _) => "waiting to be applied".into(),
            ("failed", _) => format!("failed {} times, given up", self.attempts),
            (other, _) => other.to_string(),
        }
    }
}
