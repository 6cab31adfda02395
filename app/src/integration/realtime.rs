//! A workspace's real-time updates as its settings page shows them.

use super::{Integration, Result};
use crate::domain::{RealtimeState, WEBHOOK_PATH};

/// Failed notifications the page lists, at most.
const FAILURES_SHOWN: u32 = 20;

impl Integration {
    /// On when the server can check signatures and the workspace is connected to an
    /// Intercom workspace it knows the app id of; today is UTC's.
    pub async fn realtime_state(&self, now: i64) -> Result<RealtimeState> {
        let connection = self.store.intercom_connection().await?;
        let off_because = if self.config.intercom_client_secret.as_deref().is_none_or(str::is_empty) {
            Some("This server has no Intercom client secret, so it cannot check notifications.".to_string())
        } else {
            match &connection {
                None => Some("Intercom is not connected.".to_string()),
                Some(c) if c.app_id.is_none() => {
                    Some("Intercom did not say which workspace this is: connect again.".to_string())
                }
                Some(_) => None,
            }
        };
        let today = now - now.rem_euclid(86_400);
        let counts = self.store.webhook_counts(today).await?;
        let failures = self.store.failed_webhooks(FAILURES_SHOWN).await?;
        Ok(RealtimeState {
            on: off_because.is_none(),
            off_because,
            endpoint_url: format!("{}{WEBHOOK_PATH}", self.config.public_url.trim_end_matches('/')),
            today: counts.counts,
            last: counts.last,
            failures,
        })
    }
}
