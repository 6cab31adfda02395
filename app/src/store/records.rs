//! The records the sync engine reconciles, as it looks them up (by Intercom id, customer or
//! contact ID, row id) and links them; and churn, which only ever sets a stage.

use async_trait::async_trait;

use super::backend::{PostgresStore, SqliteStore};
use sqlx::QueryBuilder;

use super::claims::{hold_run, RunHolder};
use super::sql::{push_list, CHUNK};
use super::Result;
use crate::domain::ChurnEntry;
use crate::sync_model::{StoredContact, StoredCustomer, StoredInteraction};

#[async_trait]
pub trait RecordStore: Send + Sync + 'static {
    async fn customers_by_keys(&self, intercom_ids: &[String], external_ids: &[String]) -> Result<Vec<StoredCustomer>>;
    async fn contacts_by_keys(&self, intercom_ids: &[String], external_ids: &[String]) -> Result<Vec<StoredContact>>;
    async fn interactions_by_intercom_ids(&self, intercom_ids: &[String]) -> Result<Vec<StoredInteraction>>;
    /// `(Intercom company id, customer id)` for the customers with these Intercom ids:
    /// what linking a page of contacts needs, without the rest of the rows.
    async fn customer_links(&self, intercom_ids: &[String]) -> Result<Vec<(String, i64)>>;
    /// `(Intercom contact id, contact id, its customer id)`, for linking tickets.
    async fn contact_links(&self, intercom_ids: &[String]) -> Result<Vec<(String, i64, Option<i64>)>>;
    /// Customers from Intercom, not churned, that run `run_id` has not read.
    async fn unseen_customers(&self, run_id: i64) -> Result<Vec<ChurnEntry>>;
    /// Customers that came from Intercom and are not churned.
    async fn intercom_customer_count(&self) -> Result<u64>;
    /// Sets stage = `stage` on these customers unless a later run read them; returns how
    /// many changed. The count goes to the run's customers object in the same transaction.
    /// Churns one customer outside a run (its company deleted, as a notification said);
    /// `false` when it was churned already or is not Skalin's.
    async fn churn_customer(&self, intercom_id: &str, stage: &str, now: i64) -> Result<bool>;
    /// Customers churned since `since`, by runs or notifications.
    async fn churned_since(&self, since: i64) -> Result<u64>;
    async fn churn_customers(
        &self,
        run_id: i64,
        holder: RunHolder<'_>,
        intercom_ids: &[String],
        stage: &str,
        now: i64,
    ) -> Result<u64>;
    async fn customers_by_ids(&self, ids: &[i64]) -> Result<Vec<StoredCustomer>>;
    async fn contacts_by_ids(&self, ids: &[i64]) -> Result<Vec<StoredContact>>;
    /// Customers Intercom does not know yet (no Intercom id), for creating companies.
    async fn customers_without_intercom(&self, limit: u32) -> Result<Vec<StoredCustomer>>;
    /// Contacts Intercom does not know yet (no Intercom id), for creating contacts.
    async fn contacts_without_intercom(&self, limit: u32) -> Result<Vec<StoredContact>>;
}

const CUSTOMER_COLUMNS: &str = "id, external_id, intercom_id, name, domain, csm_owner, stage, profile, \
     health_score, csm_pulse, intercom_updated_at, synced_run, churned_at";
const CONTACT_COLUMNS: &str =
    "id, external_id, intercom_id, name, email, customer_id, role_tag, intercom_updated_at, synced_run";
const INTERACTION_COLUMNS: &str =
    "id, intercom_id, title, state, contact_id, customer_id, created_at, intercom_updated_at, synced_run";

// Shares the statements between the two backends, as `impl_store!` does.
macro_rules! impl_record_store {
    ($store:ty, $db:ty) => {
        #[async_trait]
        impl RecordStore for $store {
            async fn customers_by_keys(
                &self,
                intercom_ids: &[String],
                external_ids: &[String],
            ) -> Result<Vec<StoredCustomer>> {
                let mut out = Vec::new();
                for chunk in intercom_ids.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new(format!(
                        "select {CUSTOMER_COLUMNS} from customers where workspace_id = "
                    ));
                    query.push_bind(self.workspace).push(" and intercom_id in ");
                    push_list(&mut query, chunk);
                    out.extend(query.build_query_as::<StoredCustomer>().fetch_all(&self.pool).await?);
                }
                for chunk in external_ids.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new(format!(
                        "select {CUSTOMER_COLUMNS} from customers where workspace_id = "
                    ));
                    query.push_bind(self.workspace).push(" and external_id in ");
                    push_list(&mut query, chunk);
                    out.extend(query.build_query_as::<StoredCustomer>().fetch_all(&self.pool).await?);
                }
                out.sort_by_key(|c| c.id);
                out.dedup_by_key(|c| c.id);
                Ok(out)
            }

            async fn contacts_by_keys(
                &self,
                intercom_ids: &[String],
                external_ids: &[String],
            ) -> Result<Vec<StoredContact>> {
                let mut out = Vec::new();
                for (column, ids) in [("intercom_id", intercom_ids), ("external_id", external_ids)] {
                    for chunk in ids.chunks(CHUNK) {
                        let mut query = QueryBuilder::<$db>::new(format!(
                            "select {CONTACT_COLUMNS} from contacts where workspace_id = "
                        ));
                        query.push_bind(self.workspace).push(format!(" and {column} in "));
                        push_list(&mut query, chunk);
                        out.extend(query.build_query_as::<StoredContact>().fetch_all(&self.pool).await?);
                    }
                }
                out.sort_by_key(|c| c.id);
                out.dedup_by_key(|c| c.id);
                Ok(out)
            }

            async fn interactions_by_intercom_ids(&self, intercom_ids: &[String]) -> Result<Vec<StoredInteraction>> {
                let mut out = Vec::new();
                for chunk in intercom_ids.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new(format!(
                        "select {INTERACTION_COLUMNS} from interactions where workspace_id = "
                    ));
                    query.push_bind(self.workspace).push(" and intercom_id in ");
                    push_list(&mut query, chunk);
                    out.extend(query.build_query_as::<StoredInteraction>().fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn customer_links(&self, intercom_ids: &[String]) -> Result<Vec<(String, i64)>> {
                let mut out = Vec::new();
                for chunk in intercom_ids.chunks(CHUNK) {
                    let mut query =
                        QueryBuilder::<$db>::new("select intercom_id, id from customers where workspace_id = ");
                    query.push_bind(self.workspace).push(" and intercom_id in ");
                    push_list(&mut query, chunk);
                    out.extend(query.build_query_as::<(String, i64)>().fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn contact_links(&self, intercom_ids: &[String]) -> Result<Vec<(String, i64, Option<i64>)>> {
                let mut out = Vec::new();
                for chunk in intercom_ids.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new(
                        "select intercom_id, id, customer_id from contacts where workspace_id = ",
                    );
                    query.push_bind(self.workspace).push(" and intercom_id in ");
                    push_list(&mut query, chunk);
                    out.extend(query.build_query_as::<(String, i64, Option<i64>)>().fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn unseen_customers(&self, run_id: i64) -> Result<Vec<ChurnEntry>> {
                let rows: Vec<(String, String, String)> = sqlx::query_as(
                    "select intercom_id, external_id, name from customers \
                     where intercom_id is not null and churned_at is null \
                       and (synced_run is null or synced_run < $1) and workspace_id = $2 \
                     order by name, id",
                )
                .bind(run_id)
                .bind(self.workspace)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(intercom_id, external_id, name)| ChurnEntry { intercom_id, external_id, name })
                    .collect())
            }

            async fn intercom_customer_count(&self) -> Result<u64> {
                let n: i64 = sqlx::query_scalar(
                    "select count(*) from customers \
                     where intercom_id is not null and churned_at is null and workspace_id = $1",
                )
                .bind(self.workspace)
                .fetch_one(&self.pool)
                .await?;
                Ok(n.max(0) as u64)
            }

            async fn churn_customers(
                &self,
                run_id: i64,
                holder: RunHolder<'_>,
                intercom_ids: &[String],
                stage: &str,
                now: i64,
            ) -> Result<u64> {
                let mut tx = self.pool.begin().await?;
                hold_run!(tx, self.workspace, run_id, holder);
                let mut churned = 0u64;
                for chunk in intercom_ids.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new("update customers set stage = ");
                    query
                        .push_bind(stage)
                        .push(", churned_at = ")
                        .push_bind(now)
                        .push(", updated_at = ")
                        .push_bind(now);
                    query.push(" where churned_at is null and (synced_run is null or synced_run < ").push_bind(run_id);
                    query.push(") and workspace_id = ").push_bind(self.workspace);
                    query.push(" and intercom_id in ");
                    push_list(&mut query, chunk);
                    churned += query.build().execute(&mut *tx).await?.rows_affected();
                }
                sqlx::query(
                    "update sync_run_objects set churned = churned + $1 where run_id = $2 and object = 'customers'",
                )
                .bind(churned as i64)
                .bind(run_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(churned)
            }

            async fn churn_customer(&self, intercom_id: &str, stage: &str, now: i64) -> Result<bool> {
                let done = sqlx::query(
                    "update customers set stage = $1, churned_at = $2, updated_at = $2 \
                     where intercom_id = $3 and churned_at is null and workspace_id = $4",
                )
                .bind(stage)
                .bind(now)
                .bind(intercom_id)
                .bind(self.workspace)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn churned_since(&self, since: i64) -> Result<u64> {
                let n: i64 = sqlx::query_scalar(
                    "select count(*) from customers where churned_at >= $1 and workspace_id = $2",
                )
                .bind(since)
                .bind(self.workspace)
                .fetch_one(&self.pool)
                .await?;
                Ok(n.max(0) as u64)
            }

            async fn customers_by_ids(&self, ids: &[i64]) -> Result<Vec<StoredCustomer>> {
                let mut out = Vec::new();
                for chunk in ids.chunks(CHUNK) {
                    let mut query =
                        QueryBuilder::<$db>::new(format!("select {CUSTOMER_COLUMNS} from customers where workspace_id = "));
                    query.push_bind(self.workspace).push(" and id in ");
                    push_list(&mut query, chunk);
                    out.extend(query.build_query_as::<StoredCustomer>().fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn contacts_by_ids(&self, ids: &[i64]) -> Result<Vec<StoredContact>> {
                let mut out = Vec::new();
                for chunk in ids.chunks(CHUNK) {
                    let mut query =
                        QueryBuilder::<$db>::new(format!("select {CONTACT_COLUMNS} from contacts where workspace_id = "));
                    query.push_bind(self.workspace).push(" and id in ");
                    push_list(&mut query, chunk);
                    out.extend(query.build_query_as::<StoredContact>().fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn customers_without_intercom(&self, limit: u32) -> Result<Vec<StoredCustomer>> {
                let sql =
                    format!("select {CUSTOMER_COLUMNS} from customers where intercom_id is null and workspace_id = $2 order by id limit $1");
                let query = sqlx::query_as::<_, StoredCustomer>(&sql).bind(i64::from(limit)).bind(self.workspace);
                Ok(query.fetch_all(&self.pool).await?)
            }

            async fn contacts_without_intercom(&self, limit: u32) -> Result<Vec<StoredContact>> {
                let sql =
                    format!("select {CONTACT_COLUMNS} from contacts where intercom_id is null and workspace_id = $2 order by id limit $1");
                let query = sqlx::query_as::<_, StoredContact>(&sql).bind(i64::from(limit)).bind(self.workspace);
                Ok(query.fetch_all(&self.pool).await?)
            }
        }
    };
}

impl_record_store!(SqliteStore, sqlx::Sqlite);
impl_record_store!(PostgresStore, sqlx::Postgres);
