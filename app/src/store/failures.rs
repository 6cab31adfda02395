//! Records a run could not move, listed per run and retried by the next until resolved.

use async_trait::async_trait;

use super::backend::{PostgresStore, SqliteStore};
use super::sql::parse_object;
use super::Result;
use crate::domain::{SyncFailure, SyncObject};

#[async_trait]
pub trait FailureStore: Send + Sync + 'static {
    async fn run_failures(&self, run_id: i64, limit: u32) -> Result<Vec<SyncFailure>>;
    /// Intercom ids of records whose last failure is not resolved yet.
    async fn open_failures(&self, object: SyncObject, limit: u32) -> Result<Vec<String>>;
}

#[derive(sqlx::FromRow)]
struct FailureRow {
    pub run_id: i64,
    pub object: String,
    pub intercom_id: String,
    pub message: String,
    pub request_id: Option<String>,
    pub failed_at: i64,
    pub resolved_at: Option<i64>,
}

impl FailureRow {
    pub fn failure(self) -> Result<SyncFailure> {
        Ok(SyncFailure {
            run_id: self.run_id,
            object: parse_object(&self.object)?,
            intercom_id: self.intercom_id,
            message: self.message,
            request_id: self.request_id,
            failed_at: self.failed_at,
            resolved_at: self.resolved_at,
        })
    }
}

// Shares the statements between the two backends, as `impl_store!` does.
macro_rules! impl_failure_store {
    ($store:ty) => {
        #[async_trait]
        impl FailureStore for $store {
            async fn run_failures(&self, run_id: i64, limit: u32) -> Result<Vec<SyncFailure>> {
                sqlx::query_as::<_, FailureRow>(
                    "select run_id, object, intercom_id, message, request_id, failed_at, resolved_at \
                     from sync_failures where run_id = $1 and workspace_id = $3 order by id limit $2",
                )
                .bind(run_id)
                .bind(i64::from(limit))
                .bind(self.workspace)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(FailureRow::failure)
                .collect()
            }

            async fn open_failures(&self, object: SyncObject, limit: u32) -> Result<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "select intercom_id from sync_failures \
                     where workspace_id = $3 and object = $1 and resolved_at is null \
                     group by intercom_id order by min(id) limit $2",
                )
                .bind(object.as_str())
                .bind(i64::from(limit))
                .bind(self.workspace)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}

impl_failure_store!(SqliteStore);
impl_failure_store!(PostgresStore);
