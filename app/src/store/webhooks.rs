//! Intercom's notifications once stored: the queue the real-time worker takes them from
//! (every workspace's, leased so that a worker killed mid-batch loses none), what became
//! of each, and one workspace's view of them for its settings page.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::{FromRow, QueryBuilder};

use super::backend::{PostgresDirectory, PostgresStore, SqliteDirectory, SqliteStore};
use super::sql::{push_list, CHUNK};
use super::Result;
use crate::domain::{NotificationLine, RealtimeCounts};

/// An Intercom notification as it arrived, to be stored before it is acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhookEvent {
    pub notification_id: String,
    /// Routes it to the Skalin workspace connected to this Intercom workspace.
    pub app_id: Option<String>,
    pub topic: String,
    pub body: String,
    pub received_at: i64,
}

/// What storing a notification came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// One with the same notification id was stored before: nothing written.
    Duplicate,
    /// Stored for the workspace connected to its app, waiting to be applied.
    Routed,
    /// Stored, but no workspace is connected to its app: kept, never applied.
    Unrouted,
}

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
    /// Stores each notification once, routed by its `app_id` as it is written (so that a
    /// workspace connected a moment ago gets its notifications), all in one transaction.
    async fn record_webhooks(&self, events: &[NewWebhookEvent]) -> Result<Vec<Recorded>>;
    async fn record_webhook(&self, event: &NewWebhookEvent) -> Result<Recorded> {
        let recorded = self.record_webhooks(std::slice::from_ref(event)).await?;
        Ok(recorded.first().copied().unwrap_or(Recorded::Duplicate))
    }
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

/// Routed ones wait as `pending`, the others are kept as `unrouted`.
const RECORD_SQL: &str = "insert into webhook_events \
         (notification_id, app_id, workspace_id, topic, body, received_at, status) \
     values ($1, $2, (select workspace_id from intercom_connections where app_id = $2), $3, $4, $5, \
         case when exists (select 1 from intercom_connections where app_id = $2) \
              then 'pending' else 'unrouted' end) \
     on conflict (notification_id) do nothing \
     returning status";

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

/// The columns a finished notification is left with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Finish<'a> {
    status: &'static str,
    message: Option<&'a str>,
    next_attempt_at: Option<i64>,
    applied_at: Option<i64>,
}

impl<'a> Finish<'a> {
    fn of(outcome: &'a WebhookOutcome, now: i64) -> Self {
        let (status, message, next_attempt_at, applied_at) = match outcome {
            WebhookOutcome::Applied => ("applied", None, None, Some(now)),
            WebhookOutcome::Ignored(why) => ("ignored", Some(why.as_str()), None, None),
            WebhookOutcome::Failed { message, retry_at: Some(at) } => {
                ("pending", Some(message.as_str()), Some(*at), None)
            }
            WebhookOutcome::Failed { message, retry_at: None } => ("failed", Some(message.as_str()), None, None),
        };
        Finish { status, message, next_attempt_at, applied_at }
    }
}

/// The notifications grouped by what they are left with, in the order first met.
fn by_finish(outcomes: &[(i64, WebhookOutcome)], now: i64) -> Vec<(Finish<'_>, Vec<i64>)> {
    let mut groups: Vec<(Finish<'_>, Vec<i64>)> = Vec::new();
    let mut index: HashMap<Finish<'_>, usize> = HashMap::new();
    for (id, outcome) in outcomes {
        let finish = Finish::of(outcome, now);
        let at = *index.entry(finish).or_insert_with(|| {
            groups.push((finish, Vec::new()));
            groups.len() - 1
        });
        groups[at].1.push(*id);
    }
    groups
}

const LINE_COLUMNS: &str = "topic, status, received_at, attempts, next_attempt_at, message";

macro_rules! impl_webhook_queue {
    ($directory:ty, $db:ty, $row_locks:expr) => {
        #[async_trait]
        impl WebhookQueue for $directory {
            async fn record_webhooks(&self, events: &[NewWebhookEvent]) -> Result<Vec<Recorded>> {
                let mut tx = self.pool.begin().await?;
                let mut recorded = Vec::with_capacity(events.len());
                for event in events {
                    let status: Option<String> = sqlx::query_scalar(RECORD_SQL)
                        .bind(&event.notification_id)
                        .bind(&event.app_id)
                        .bind(&event.topic)
                        .bind(&event.body)
                        .bind(event.received_at)
                        .fetch_optional(&mut *tx)
                        .await?;
                    recorded.push(match status.as_deref() {
                        None => Recorded::Duplicate,
                        Some("unrouted") => Recorded::Unrouted,
                        Some(_) => Recorded::Routed,
                    });
                }
                tx.commit().await?;
                Ok(recorded)
            }

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
                // One statement for each distinct outcome: a batch is mostly "applied".
                for (finish, ids) in by_finish(outcomes, now) {
                    for chunk in ids.chunks(CHUNK) {
                        let mut query = QueryBuilder::<$db>::new("update webhook_events set status = ");
                        query.push_bind(finish.status).push(", message = ").push_bind(finish.message);
                        query.push(", next_attempt_at = ").push_bind(finish.next_attempt_at);
                        query.push(", applied_at = ").push_bind(finish.applied_at).push(" where id in ");
                        push_list(&mut query, chunk);
                        query.build().execute(&mut *tx).await?;
                    }
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

impl_webhook_queue!(SqliteDirectory, sqlx::Sqlite, false);
impl_webhook_queue!(PostgresDirectory, sqlx::Postgres, true);

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_written_as_one_statement_for_each_distinct_outcome() {
        let retry = |message: &str, at| WebhookOutcome::Failed { message: message.into(), retry_at: at };
        let outcomes = [
            (1, WebhookOutcome::Applied),
            (2, WebhookOutcome::Ignored("old".into())),
            (3, WebhookOutcome::Applied),
            (4, retry("500", Some(50))),
            (5, WebhookOutcome::Ignored("old".into())),
            (6, retry("500", None)),
            (7, retry("500", Some(50))),
        ];
        let groups: Vec<(&str, Vec<i64>)> =
            by_finish(&outcomes, 9).into_iter().map(|(f, ids)| (f.status, ids)).collect();
        assert_eq!(
            groups,
            [("applied", vec![1, 3]), ("ignored", vec![2, 5]), ("pending", vec![4, 7]), ("failed", vec![6])]
        );
        let applied = Finish::of(&outcomes[0].1, 9);
        assert_eq!((applied.applied_at, applied.message), (Some(9), None), "applied now, with no message");
        let waiting = Finish::of(&outcomes[3].1, 9);
        assert_eq!((waiting.next_attempt_at, waiting.message), (Some(50), Some("500")), "tried again at its time");
    }
}
