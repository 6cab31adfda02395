//! A page of a walk written in one transaction: its records inserted or updated, the rows
//! only read marked, its failures and the ones it resolved, the edits Intercom now has,
//! and the object's counts and checkpoint. A run stopped anywhere resumes where the data is.

use async_trait::async_trait;
use sqlx::QueryBuilder;

use super::backend::{PostgresStore, SqliteStore};
use super::claims::{hold_run, RunHolder};
use super::sql::{push_list, CHUNK};
use super::{now, Result};
use crate::domain::SyncObject;
use crate::sync_model::{PageWrite, RecordWrite, StoredContact, StoredCustomer, StoredInteraction};

#[async_trait]
pub trait PageStore: Send + Sync + 'static {
    /// Refused with `StoreError::RunLost`, writing nothing, once `holder` lost the run.
    async fn apply_page(&self, run_id: i64, holder: RunHolder<'_>, object: SyncObject, page: &PageWrite) -> Result<()>;
    /// Writes a page's records outside any run (a notification applied in real time):
    /// no run is marked or counted, a row keeps its `synced_run` when the write has none,
    /// and an update never takes a row back to an older Intercom `updated_at` than it has.
    /// Its failures are the notification's, not written here.
    async fn apply_records(&self, object: SyncObject, page: &PageWrite) -> Result<()>;
}

/// Rows per multi-row insert: 100 × 13 values stays far inside both backends' limits.
const INSERT_ROWS: usize = 100;

// Shares the statements between the two backends, as `impl_store!` does.
macro_rules! impl_page_store {
    ($store:ty, $db:ty) => {
        #[async_trait]
        impl PageStore for $store {
            async fn apply_page(
                &self,
                run_id: i64,
                holder: RunHolder<'_>,
                object: SyncObject,
                page: &PageWrite,
            ) -> Result<()> {
                let now = now();
                let mut tx = self.pool.begin().await?;
                hold_run!(tx, self.workspace, run_id, holder);
                self.write_records(&mut tx, object, page, run_id, false, now).await?;
                let table = match object {
                    SyncObject::Customers => "customers",
                    SyncObject::Contacts => "contacts",
                    SyncObject::Interactions => "interactions",
                };
                for chunk in page.seen.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new(format!("update {table} set synced_run = "));
                    query.push_bind(run_id).push(" where workspace_id = ").push_bind(self.workspace);
                    query.push(" and id in ");
                    push_list(&mut query, chunk);
                    query.build().execute(&mut *tx).await?;
                }
                for failure in &page.failures {
                    sqlx::query(
                        "insert into sync_failures (run_id, object, intercom_id, message, request_id, failed_at, \
                             workspace_id) \
                         values ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(run_id)
                    .bind(object.as_str())
                    .bind(&failure.intercom_id)
                    .bind(&failure.message)
                    .bind(&failure.request_id)
                    .bind(now)
                    .bind(self.workspace)
                    .execute(&mut *tx)
                    .await?;
                }
                let (cursor_set, cursor) = match &page.cursor {
                    Some(c) => (1i64, c.clone()),
                    None => (0i64, None),
                };
                sqlx::query(
                    "update sync_run_objects set \
                         created = created + $1, updated = updated + $2, unchanged = unchanged + $3, \
                         churned = churned + $4, failed = failed + $5, done = done + $6, \
                         cursor = case when $7 = 1 then $8 else cursor end, \
                         max_updated_at = case when max_updated_at is null or max_updated_at < $9 then $9 \
                                               else max_updated_at end, \
                         expected = coalesce($10, expected) \
                     where run_id = $11 and object = $12",
                )
                .bind(page.counts.created as i64)
                .bind(page.counts.updated as i64)
                .bind(page.counts.unchanged as i64)
                .bind(page.counts.churned as i64)
                .bind(page.counts.failed as i64)
                .bind(page.done as i64)
                .bind(cursor_set)
                .bind(cursor)
                .bind(page.max_updated_at)
                .bind(page.expected.map(|e| e as i64))
                .bind(run_id)
                .bind(object.as_str())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn apply_records(&self, object: SyncObject, page: &PageWrite) -> Result<()> {
                let now = now();
                let mut tx = self.pool.begin().await?;
                self.write_records(&mut tx, object, page, 0, true, now).await?;
                tx.commit().await?;
                Ok(())
            }
        }

        impl $store {
            /// The records, the failures they resolved and the edits Intercom now has;
            /// `run_id` 0 is no run (every earlier failure of the record is resolved).
            async fn write_records(
                &self,
                tx: &mut sqlx::Transaction<'static, $db>,
                object: SyncObject,
                page: &PageWrite,
                run_id: i64,
                guarded: bool,
                now: i64,
            ) -> Result<()> {
                let guard = i64::from(guarded);
                // New rows go in a few statements a page rather than one each.
                let new_customers: Vec<&StoredCustomer> = page.writes.iter().filter_map(|w| match w {
                    RecordWrite::Customer(c) if c.id == 0 => Some(c),
                    _ => None,
                }).collect();
                for chunk in new_customers.chunks(INSERT_ROWS) {
                    let mut query = QueryBuilder::<$db>::new(
                        "insert into customers (external_id, intercom_id, name, domain, csm_owner, stage, profile, \
                             intercom_updated_at, synced_run, churned_at, updated_at, health_score, csm_pulse, workspace_id) ",
                    );
                    query.push_values(chunk, |mut row, c| {
                        row.push_bind(&c.external_id)
                            .push_bind(&c.intercom_id)
                            .push_bind(&c.name)
                            .push_bind(&c.domain)
                            .push_bind(&c.csm_owner)
                            .push_bind(&c.stage)
                            .push_bind(&c.profile)
                            .push_bind(c.intercom_updated_at)
                            .push_bind(c.synced_run)
                            .push_bind(c.churned_at)
                            .push_bind(now)
                            .push_bind(c.health_score)
                            .push_bind(&c.csm_pulse)
                            .push_bind(self.workspace);
                    });
                    query.build().execute(&mut **tx).await?;
                }
                let new_contacts: Vec<&StoredContact> = page.writes.iter().filter_map(|w| match w {
                    RecordWrite::Contact(c) if c.id == 0 => Some(c),
                    _ => None,
                }).collect();
                for chunk in new_contacts.chunks(INSERT_ROWS) {
                    let mut query = QueryBuilder::<$db>::new(
                        "insert into contacts (external_id, intercom_id, name, email, customer_id, role_tag, \
                             intercom_updated_at, synced_run, updated_at, workspace_id) ",
                    );
                    query.push_values(chunk, |mut row, c| {
                        row.push_bind(&c.external_id)
                            .push_bind(&c.intercom_id)
                            .push_bind(&c.name)
                            .push_bind(&c.email)
                            .push_bind(c.customer_id)
                            .push_bind(&c.role_tag)
                            .push_bind(c.intercom_updated_at)
                            .push_bind(c.synced_run)
                            .push_bind(now)
                            .push_bind(self.workspace);
                    });
                    query.build().execute(&mut **tx).await?;
                }
                let new_interactions: Vec<&StoredInteraction> = page.writes.iter().filter_map(|w| match w {
                    RecordWrite::Interaction(i) if i.id == 0 => Some(i),
                    _ => None,
                }).collect();
                for chunk in new_interactions.chunks(INSERT_ROWS) {
                    let mut query = QueryBuilder::<$db>::new(
                        "insert into interactions (intercom_id, title, state, contact_id, customer_id, created_at, \
                             intercom_updated_at, synced_run, workspace_id) ",
                    );
                    query.push_values(chunk, |mut row, i| {
                        row.push_bind(&i.intercom_id)
                            .push_bind(&i.title)
                            .push_bind(&i.state)
                            .push_bind(i.contact_id)
                            .push_bind(i.customer_id)
                            .push_bind(i.created_at)
                            .push_bind(i.intercom_updated_at)
                            .push_bind(i.synced_run)
                            .push_bind(self.workspace);
                    });
                    query.build().execute(&mut **tx).await?;
                }
                for write in page.writes.iter().filter(|w| !w.is_new()) {
                    match write {
                        RecordWrite::Customer(c) => {
                            sqlx::query(
                                "update customers set external_id = $1, intercom_id = $2, name = $3, domain = $4, \
                                     csm_owner = $5, stage = $6, profile = $7, intercom_updated_at = $8, \
                                     synced_run = coalesce($9, synced_run), churned_at = $10, updated_at = $11, health_score = $12, \
                                     csm_pulse = $13 \
                                 where id = $14 and workspace_id = $15 \
                                   and ($16 = 0 or intercom_updated_at is null or $8 is null or intercom_updated_at <= $8)",
                            )
                            .bind(&c.external_id)
                            .bind(&c.intercom_id)
                            .bind(&c.name)
                            .bind(&c.domain)
                            .bind(&c.csm_owner)
                            .bind(&c.stage)
                            .bind(&c.profile)
                            .bind(c.intercom_updated_at)
                            .bind(c.synced_run)
                            .bind(c.churned_at)
                            .bind(now)
                            .bind(c.health_score)
                            .bind(&c.csm_pulse)
                            .bind(c.id)
                            .bind(self.workspace)
                            .bind(guard)
                            .execute(&mut **tx)
                            .await?;
                        }
                        RecordWrite::Contact(c) => {
                            sqlx::query(
                                "update contacts set external_id = $1, intercom_id = $2, name = $3, email = $4, \
                                     customer_id = $5, role_tag = $6, intercom_updated_at = $7, synced_run = coalesce($8, synced_run), \
                                     updated_at = $9 \
                                 where id = $10 and workspace_id = $11 \
                                   and ($12 = 0 or intercom_updated_at is null or $7 is null or intercom_updated_at <= $7)",
                            )
                            .bind(&c.external_id)
                            .bind(&c.intercom_id)
                            .bind(&c.name)
                            .bind(&c.email)
                            .bind(c.customer_id)
                            .bind(&c.role_tag)
                            .bind(c.intercom_updated_at)
                            .bind(c.synced_run)
                            .bind(now)
                            .bind(c.id)
                            .bind(self.workspace)
                            .bind(guard)
                            .execute(&mut **tx)
                            .await?;
                        }
                        RecordWrite::Interaction(i) => {
                            sqlx::query(
                                "update interactions set intercom_id = $1, title = $2, state = $3, contact_id = $4, \
                                     customer_id = $5, created_at = $6, intercom_updated_at = $7, synced_run = coalesce($8, synced_run) \
                                 where id = $9 and workspace_id = $10 \
                                   and ($11 = 0 or intercom_updated_at is null or $7 is null or intercom_updated_at <= $7)",
                            )
                            .bind(&i.intercom_id)
                            .bind(&i.title)
                            .bind(&i.state)
                            .bind(i.contact_id)
                            .bind(i.customer_id)
                            .bind(i.created_at)
                            .bind(i.intercom_updated_at)
                            .bind(i.synced_run)
                            .bind(i.id)
                            .bind(self.workspace)
                            .bind(guard)
                            .execute(&mut **tx)
                            .await?;
                        }
                    }
                }
                for chunk in page.resolved.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new("update sync_failures set resolved_at = ");
                    query.push_bind(now).push(" where workspace_id = ").push_bind(self.workspace);
                    query.push(" and object = ").push_bind(object.as_str());
                    query.push(" and resolved_at is null and run_id <> ").push_bind(run_id).push(" and intercom_id in ");
                    push_list(&mut query, chunk);
                    query.build().execute(&mut **tx).await?;
                }
                for (record_id, field, changed_at) in &page.sent {
                    sqlx::query(
                        "delete from sync_outbox \
                         where object = $1 and record_id = $2 and field = $3 and changed_at = $4 and workspace_id = $5",
                    )
                    .bind(object.as_str())
                    .bind(record_id)
                    .bind(field.as_str())
                    .bind(changed_at)
                    .bind(self.workspace)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }
        }
    };
}

impl_page_store!(SqliteStore, sqlx::Sqlite);
impl_page_store!(PostgresStore, sqlx::Postgres);
