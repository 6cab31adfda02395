//! Skalin's edits waiting for Intercom: a user's edit and its queued fields go in
//! together, and a run takes them out as Intercom receives (or overrules) them.

use async_trait::async_trait;
use sqlx::QueryBuilder;

use super::backend::{PostgresStore, SqliteStore};
use super::sql::{corrupt, push_list, CHUNK};
use super::Result;
use crate::domain::{ContactEdit, CustomerEdit, CustomerField, SyncObject};
use crate::sync_model::{OutboxField, PendingEdit};

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
const QUEUE_EDIT: &str =
    "insert into sync_outbox (object, record_id, field, value, base, changed_at, changed_by, workspace_id) \
     values ($1, $2, $3, $4, $5, $6, $7, $8) \
     on conflict (object, record_id, field) do update set \
         value = excluded.value, changed_at = excluded.changed_at, changed_by = excluded.changed_by";

#[derive(sqlx::FromRow)]
struct OutboxRow {
    record_id: i64,
    field: String,
    value: Option<String>,
    base: Option<String>,
    changed_at: i64,
}

impl OutboxRow {
    fn edit(self) -> Result<PendingEdit> {
        let field = OutboxField::parse(&self.field).ok_or_else(|| corrupt("outbox field", &self.field))?;
        Ok(PendingEdit {
            record_id: self.record_id,
            field,
            value: self.value,
            base: self.base,
            changed_at: self.changed_at,
        })
    }
}

// Shares the statements between the two backends, as `impl_store!` does.
macro_rules! impl_outbox_store {
    ($store:ty, $db:ty) => {
        #[async_trait]
        impl OutboxStore for $store {
            async fn edit_customer(&self, id: i64, edit: &CustomerEdit, who: &str, now: i64) -> Result<bool> {
                let mut tx = self.pool.begin().await?;
                let current: Option<(Option<String>, Option<String>, Option<String>, Option<i64>)> = sqlx::query_as(
                    "select stage, csm_owner, csm_pulse, health_score from customers where id = $1 and workspace_id = $2",
                )
                .bind(id)
                .bind(self.workspace)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((stage, csm_owner, csm_pulse, health_score)) = current else { return Ok(false) };
                let current = CustomerEdit { stage, csm_owner, csm_pulse, health_score };
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
                for field in CustomerField::ALL {
                    let (before, after) = (current.value(field), edit.value(field));
                    if before != after {
                        sqlx::query(QUEUE_EDIT)
                            .bind("customers")
                            .bind(id)
                            .bind(OutboxField::Customer(field).as_str())
                            .bind(after.as_deref())
                            .bind(before.as_deref())
                            .bind(now)
                            .bind(who)
                            .bind(self.workspace)
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
                    sqlx::query_as("select role_tag from contacts where id = $1 and workspace_id = $2")
                        .bind(id)
                        .bind(self.workspace)
                        .fetch_optional(&mut *tx)
                        .await?;
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
                        .bind(OutboxField::ContactRole.as_str())
                        .bind(edit.role_tag.as_deref())
                        .bind(before.as_deref())
                        .bind(now)
                        .bind(who)
                        .bind(self.workspace)
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
                        "select record_id, field, value, base, changed_at from sync_outbox where workspace_id = ",
                    );
                    query.push_bind(self.workspace).push(" and object = ");
                    query.push_bind(object.as_str()).push(" and record_id in ");
                    push_list(&mut query, chunk);
                    for row in query.build_query_as::<OutboxRow>().fetch_all(&self.pool).await? {
                        out.push(row.edit()?);
                    }
                }
                Ok(out)
            }

            async fn pending_record_ids(&self, object: SyncObject, limit: u32) -> Result<Vec<i64>> {
                Ok(sqlx::query_scalar(
                    "select record_id from sync_outbox where workspace_id = $3 and object = $1 \
                     group by record_id order by min(changed_at), record_id limit $2",
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

impl_outbox_store!(SqliteStore, sqlx::Sqlite);
impl_outbox_store!(PostgresStore, sqlx::Postgres);
