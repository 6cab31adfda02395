//! Intercom's notifications once stored: the queue the real-time worker takes them from
//! (every workspace's, leased so that a worker killed mid-batch loses none), what became
//! of each, and one workspace's view of them for its settings page.

use async_trait::async_trait;
use sqlx::FromRow;

use super::backend::{PostgresDirectory, PostgresStore, SqliteDirectory, SqliteStore};
use super::Result;
use crate::domain::{NotificationLine, RealtimeCounts};

/// A stored notification taken from the queue to be applied.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct WebhookEvent {
    pub id: i64,
    pub workspace_id: i64,
    pub topic: String,
    /// The raw body, as signed.
    pub body: String,
    /// Tries so far, this one included.
    pub attempts: i64,
}

/// What applying a notification came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    Applied,
    /// Nothing to do (a topic not handled, a mode that does not read, older than Skalin's
    /// data): the reason is kept.
    Ignored(String),
    /// It could not be applied; tried again at `retry_at`, or never again when `None`.
    Failed {
        message: String,
        retry_at: Option<i64>,
    },
}

/// One workspace's notifications since a moment (the start of today), and the last one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookCounts {
    pub counts: RealtimeCounts,
    pub last: Option<NotificationLine>,
}

#[derive(FromRow)]
struct LineRow {
    topic: String,
    status: String,
    received_at: i64,
    attempts: i64,
    next_attempt_at: Option<i64>,
    message: Option<String>,
}

impl From<LineRow> for NotificationLine {
    fn from(r: LineRow) -> Self {
        NotificationLine {
            topic: r.topic,
            status: r.status,
            received_at: r.received_at,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            message: r.message,
        }
    }
}

/// The queue of every workspace's notifications.
#[async_trait]
pub trait WebhookQueue: Send + Sync + 'static {
    /// Takes up to `limit` notifications due by `now`, oldest first: waiting ones, and
    /// those a worker took before `now` and never finished (it was killed). Each is leased
    /// until `lease_until`.
    async fn claim_webhooks(&self, limit: usize, now: i64, lease_until: i64) -> Result<Vec<WebhookEvent>>;
    /// Records what became of each, in one transaction.
    async fn finish_webhooks(&self, outcomes: &[(i64, WebhookOutcome)], now: i64) -> Result<()>;
}

/// One workspace's notifications.
#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    async fn webhook_counts(&self, since: i64) -> Result<WebhookCounts>;
    /// The notifications that failed, newest first: waiting for another try or given up.
    async fn failed_webhooks(&self, limit: u32) -> Result<Vec<NotificationLine>>;
}

/// Leased and not finished reads as `applying`; a finished one never goes back.
fn claim_sql(row_locks: bool) -> String {
    let lock = if row_locks { " for update skip locked" } else { "" };
    format!(
        "update webhook_events set status = 'applying', attempts = attempts + 1, next_attempt_at = $1 \
         where id in (select id from webhook_events \
             where workspace_id is not null \
               and ((status = 'pending' and (next_attempt_at is null or next_attempt_at <= $2)) \
                    or (status = 'applying' and next_attempt_at <= $2)) \
             order by id limit $3{lock}) \
         returning id, workspace_id, topic, body, attempts"
    )
}

const LINE_COLUMNS: &str = "topic, status, received_at, attempts, next_attempt_at, message";

macro_rules! impl_webhook_queue {
    ($directory:ty, $row_locks:expr) => {
        #[async_trait]
        impl WebhookQueue for $directory {
            async fn claim_webhooks(&self, limit: usize, now: i64, lease_until: i64) -> Result<Vec<WebhookEvent>> {
                let mut events = sqlx::query_as::<_, WebhookEvent>(&claim_sql($row_locks))
                    .bind(lease_until)
                    .bind(now)
                    .bind(limit as i64)
                    .fetch_all(&self.pool)
                    .await?;
                // `returning` follows no order: applied oldest first.
                events.sort_by_key(|e| e.id);
                Ok(events)
            }

            async fn finish_webhooks(&self, outcomes: &[(i64, WebhookOutcome)], now: i64) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                for (id, outcome) in outcomes {
                    let (status, message, next, applied) = match outcome {
                        WebhookOutcome::Applied => ("applied", None, None, Some(now)),
                        WebhookOutcome::Ignored(why) => ("ignored", Some(why.as_str()), None, None),
                        WebhookOutcome::Failed { message, retry_at: Some(at) } => {
                            ("pending", Some(message.as_str()), Some(*at), None)
                        }
                        WebhookOutcome::Failed { message, retry_at: None } => {
                            ("failed", Some(message.as_str()), None, None)
                        }
                    };
                    sqlx::query(
                        "update webhook_events set status = $1, message = $2, next_attempt_at = $3, applied_at = $4 \
                         where id = $5",
                    )
                    .bind(status)
                    .bind(message)
                    .bind(next)
                    .bind(applied)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

impl_webhook_queue!(SqliteDirectory, false);
impl_webhook_queue!(PostgresDirectory, true);

macro_rules! impl_webhook_store {
    ($store:ty) => {
        #[async_trait]
        impl WebhookStore for $store {
            async fn webhook_counts(&self, since: i64) -> Result<WebhookCounts> {
                let (received, applied, ignored, failed, waiting): (i64, i64, i64, i64, i64) = sqlx::query_as(
                    "select count(*), \
                         coalesce(sum(case when status = 'applied' then 1 else 0 end), 0), \
                         coalesce(sum(case when status = 'ignored' then 1 else 0 end), 0), \
                         coalesce(sum(case when status = 'failed' \
                                           or (message is not null and status in ('pending', 'applying')) \
                                           then 1 else 0 end), 0), \
                         coalesce(sum(case when status in ('pending', 'applying') then 1 else 0 end), 0) \
                     from webhook_events where workspace_id = $1 and received_at >= $2",
                )
                .bind(self.workspace)
                .bind(since)
                .fetch_one(&self.pool)
                .await?;
                let last = sqlx::query_as::<_, LineRow>(&format!(
                    "select {LINE_COLUMNS} from webhook_events where workspace_id = $1 order by id desc limit 1"
                ))
                .bind(self.workspace)
                .fetch_optional(&self.pool)
                .await?;
                let n = |v: i64| v.max(0) as u64;
                let counts = RealtimeCounts {
                    received: n(received),
                    applied: n(applied),
                    ignored: n(ignored),
                    failed: n(failed),
                    waiting: n(waiting),
                };
                Ok(WebhookCounts { counts, last: last.map(Into::into) })
            }

            async fn failed_webhooks(&self, limit: u32) -> Result<Vec<NotificationLine>> {
                let rows = sqlx::query_as::<_, LineRow>(&format!(
                    "select {LINE_COLUMNS} from webhook_events \
                     where workspace_id = $1 and message is not null and status in ('failed', 'pending', 'applying') \
                     order by id desc limit $2"
                ))
                .bind(self.workspace)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }
        }
    };
}

impl_webhook_store!(SqliteStore);
impl_webhook_store!(PostgresStore);
