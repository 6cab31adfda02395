//! Skalin's edits waiting for Intercom: a user's edit and its queued fields go in
//! together, and a run takes them out as Intercom receives (or overrules) them.

use async_trait::async_trait;
use sqlx::QueryBuilder;

use super::backend::{PostgresStore, SqliteStore};
use super::sql::{push_list, CHUNK};
use super::Result;
use crate::domain::{ContactEdit, CustomerEdit, SyncObject};
use crate::sync_model::PendingEdit;

#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Writes a user's edit and queues each changed field for Intercom, both or neither;
    /// `false` when there is no such customer.
    async fn edit_customer(&self, id: i64, edit: &CustomerEdit, who: &str, now: i64) -> Result<bool>;
    async fn edit_contact(&self, id: i64, edit: &ContactEdit, who: &str, now: i64) -> Result<bool>;
    async fn pending_edits(&self, object: SyncObject, record_ids: &[i64]) -> Result<Vec<PendingEdit>>;
    /// Records with unsent edits, oldest edit first.
    async fn pending_record_ids(&self, object: SyncObject, limit: u32) -> Result<Vec<i64>>;
}

/// Queues one field's edit for Intercom. A second edit before a run keeps the first one's
/// base: that is still what Intercom has.
const QUEUE_EDIT: &str = "insert into sync_outbox (object, record_id, field, value, base, changed_at, changed_by) \
     values ($1, $2, $3, $4, $5, $6, $7) \
     on conflict (object, record_id, field) do update set \
         value = excluded.value, changed_at = excluded.changed_at, changed_by = excluded.changed_by";

// Shares the statements between the two backends, as `impl_store!` does.
macro_rules! impl_outbox_store {
    ($store:ty, $db:ty) => {
        #[async_trait]
        impl OutboxStore for $store {
            async fn edit_customer(&self, id: i64, edit: &CustomerEdit, who: &str, now: i64) -> Result<bool> {
                let mut tx = self.pool.begin().await?;
                let current: Option<(Option<String>, Option<String>, Option<String>, Option<i64>)> = sqlx::query_as(
                    "select stage, csm_owner, csm_pulse, health_score from customers where id = $1",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((stage, csm_owner, csm_pulse, health_score)) = current else { return Ok(false) };
                let changes = [
                    ("stage", stage, edit.stage.clone()),
                    ("csm_owner", csm_owner, edit.csm_owner.clone()),
                    ("csm_pulse", csm_pulse, edit.csm_pulse.clone()),
                    ("health_score", health_score.map(|h| h.to_string()), edit.health_score.map(|h| h.to_string())),
                ];
                sqlx::query(
                    "update customers set stage = $1, csm_owner = $2, csm_pulse = $3, health_score = $4, updated_at = $5 \
                     where id = $6",
                )
                .bind(&edit.stage)
                .bind(&edit.csm_owner)
                .bind(&edit.csm_pulse)
                .bind(edit.health_score)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                for (field, before, after) in changes {
                    if before != after {
                        sqlx::query(QUEUE_EDIT)
                            .bind("customers")
                            .bind(id)
                            .bind(field)
                            .bind(after.as_deref())
                            .bind(before.as_deref())
                            .bind(now)
                            .bind(who)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn edit_contact(&self, id: i64, edit: &ContactEdit, who: &str, now: i64) -> Result<bool> {
                let mut tx = self.pool.begin().await?;
                let current: Option<(Option<String>,)> =
                    sqlx::query_as("select role_tag from contacts where id = $1").bind(id).fetch_optional(&mut *tx).await?;
                let Some((before,)) = current else { return Ok(false) };
                sqlx::query("update contacts set role_tag = $1, updated_at = $2 where id = $3")
                    .bind(&edit.role_tag)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if before != edit.role_tag {
                    sqlx::query(QUEUE_EDIT)
                        .bind("contacts")
                        .bind(id)
                        .bind("role_tag")
                        .bind(edit.role_tag.as_deref())
                        .bind(before.as_deref())
                        .bind(now)
                        .bind(who)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn pending_edits(&self, object: SyncObject, record_ids: &[i64]) -> Result<Vec<PendingEdit>> {
                let mut out = Vec::new();
                for chunk in record_ids.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new(
                        "select record_id, field, value, base, changed_at from sync_outbox where object = ",
                    );
                    query.push_bind(object.as_str()).push(" and record_id in ");
                    push_list(&mut query, chunk);
                    out.extend(query.build_query_as::<PendingEdit>().fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn pending_record_ids(&self, object: SyncObject, limit: u32) -> Result<Vec<i64>> {
                Ok(sqlx::query_scalar(
                    "select record_id from sync_outbox where object = $1 \
                     group by record_id order by min(changed_at), record_id limit $2",
                )
                .bind(object.as_str())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}

impl_outbox_store!(SqliteStore, sqlx::Sqlite);
impl_outbox_store!(PostgresStore, sqlx::Postgres);
