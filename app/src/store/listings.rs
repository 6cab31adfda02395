//! Customers, contacts and interactions as Skalin's pages list and show them, and as the
//! demo and the tests add them by hand.

use async_trait::async_trait;

use super::backend::{PostgresStore, SqliteStore};
use super::sql::unique_violation;
use super::{now, Result};
use crate::domain::{Contact, Customer, Interaction, NewContact, NewCustomer, NewInteraction, Page, PageRequest};

#[async_trait]
pub trait ListingStore: Send + Sync + 'static {
    async fn insert_customer(&self, customer: &NewCustomer) -> Result<i64>;
    async fn insert_contact(&self, contact: &NewContact) -> Result<i64>;
    async fn insert_interaction(&self, interaction: &NewInteraction) -> Result<i64>;
    async fn list_customers(&self, page: PageRequest) -> Result<Page<Customer>>;
    async fn list_contacts(&self, page: PageRequest) -> Result<Page<Contact>>;
    /// One customer as the Customers page shows it.
    async fn customer(&self, id: i64) -> Result<Option<Customer>>;
    /// One contact as the Contacts page shows it.
    async fn contact(&self, id: i64) -> Result<Option<Contact>>;
    async fn list_interactions(&self, page: PageRequest) -> Result<Page<Interaction>>;
}

fn page_of<T>(items: Vec<T>, request: PageRequest, total: i64) -> Page<T> {
    Page { items, page: request.page, per_page: request.per_page, total: total.max(0) as u64 }
}

#[derive(sqlx::FromRow)]
struct CustomerRow {
    id: i64,
    external_id: String,
    intercom_id: Option<String>,
    name: String,
    domain: Option<String>,
    csm_owner: Option<String>,
    stage: Option<String>,
    profile: Option<String>,
    health_score: Option<i64>,
    csm_pulse: Option<String>,
    updated_at: i64,
}

impl From<CustomerRow> for Customer {
    fn from(r: CustomerRow) -> Self {
        Customer {
            id: r.id,
            external_id: r.external_id,
            intercom_id: r.intercom_id,
            name: r.name,
            domain: r.domain,
            csm_owner: r.csm_owner,
            stage: r.stage,
            profile: r.profile,
            health_score: r.health_score,
            csm_pulse: r.csm_pulse,
            updated_at: r.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct ContactRow {
    id: i64,
    external_id: String,
    intercom_id: Option<String>,
    name: String,
    email: Option<String>,
    customer_name: Option<String>,
    role_tag: Option<String>,
    updated_at: i64,
}

impl From<ContactRow> for Contact {
    fn from(r: ContactRow) -> Self {
        Contact {
            id: r.id,
            external_id: r.external_id,
            intercom_id: r.intercom_id,
            name: r.name,
            email: r.email,
            customer_name: r.customer_name,
            role_tag: r.role_tag,
            updated_at: r.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct InteractionRow {
    id: i64,
    intercom_id: Option<String>,
    title: String,
    state: Option<String>,
    contact_email: Option<String>,
    customer_name: Option<String>,
    created_at: i64,
}

impl From<InteractionRow> for Interaction {
    fn from(r: InteractionRow) -> Self {
        Interaction {
            id: r.id,
            intercom_id: r.intercom_id,
            title: r.title,
            state: r.state,
            contact_email: r.contact_email,
            customer_name: r.customer_name,
            created_at: r.created_at,
        }
    }
}

// Shares the statements between the two backends, as `impl_store!` does.
macro_rules! impl_listing_store {
    ($store:ty) => {
        #[async_trait]
        impl ListingStore for $store {
            async fn insert_customer(&self, c: &NewCustomer) -> Result<i64> {
                sqlx::query_scalar(
                    "insert into customers (external_id, intercom_id, name, domain, stage, updated_at, workspace_id) \
                     values ($1, $2, $3, $4, $5, $6, $7) returning id",
                )
                .bind(&c.external_id)
                .bind(&c.intercom_id)
                .bind(&c.name)
                .bind(&c.domain)
                .bind(&c.stage)
                .bind(now())
                .bind(self.workspace)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| unique_violation(e, || format!("a customer with the ID {}", c.external_id)))
            }

            async fn insert_contact(&self, c: &NewContact) -> Result<i64> {
                sqlx::query_scalar(
                    "insert into contacts (external_id, intercom_id, name, email, customer_id, updated_at, \
                         workspace_id) \
                     values ($1, $2, $3, $4, \
                         (select id from customers where external_id = $5 and workspace_id = $7), $6, $7) \
                     returning id",
                )
                .bind(&c.external_id)
                .bind(&c.intercom_id)
                .bind(&c.name)
                .bind(&c.email)
                .bind(&c.customer_external_id)
                .bind(now())
                .bind(self.workspace)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| unique_violation(e, || format!("a contact with the ID {}", c.external_id)))
            }

            async fn insert_interaction(&self, i: &NewInteraction) -> Result<i64> {
                sqlx::query_scalar(
                    "insert into interactions (intercom_id, title, state, customer_id, created_at, workspace_id) \
                     values ($1, $2, $3, (select id from customers where external_id = $4 and workspace_id = $6), \
                         $5, $6) \
                     returning id",
                )
                .bind(&i.intercom_id)
                .bind(&i.title)
                .bind(&i.state)
                .bind(&i.customer_external_id)
                .bind(i.created_at)
                .bind(self.workspace)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| unique_violation(e, || "an interaction with that Intercom id".to_string()))
            }

            async fn list_customers(&self, page: PageRequest) -> Result<Page<Customer>> {
                let total: i64 = sqlx::query_scalar("select count(*) from customers where workspace_id = $1")
                    .bind(self.workspace)
                    .fetch_one(&self.pool)
                    .await?;
                let items = sqlx::query_as::<_, CustomerRow>(
                    "select id, external_id, intercom_id, name, domain, csm_owner, stage, profile, health_score, \
                         csm_pulse, updated_at \
                     from customers where workspace_id = $3 order by lower(name), id limit $1 offset $2",
                )
                .bind(page.limit())
                .bind(page.offset())
                .bind(self.workspace)
                .fetch_all(&self.pool)
                .await?;
                Ok(page_of(items.into_iter().map(Into::into).collect(), page, total))
            }

            async fn list_contacts(&self, page: PageRequest) -> Result<Page<Contact>> {
                let total: i64 = sqlx::query_scalar("select count(*) from contacts where workspace_id = $1")
                    .bind(self.workspace)
                    .fetch_one(&self.pool)
                    .await?;
                let items = sqlx::query_as::<_, ContactRow>(
                    "select c.id, c.external_id, c.intercom_id, c.name, c.email, \
                            cu.name as customer_name, c.role_tag, c.updated_at \
                     from contacts c left join customers cu on cu.id = c.customer_id \
                     where c.workspace_id = $3 \
                     order by lower(c.name), c.id limit $1 offset $2",
                )
                .bind(page.limit())
                .bind(page.offset())
                .bind(self.workspace)
                .fetch_all(&self.pool)
                .await?;
                Ok(page_of(items.into_iter().map(Into::into).collect(), page, total))
            }

            async fn customer(&self, id: i64) -> Result<Option<Customer>> {
                let row = sqlx::query_as::<_, CustomerRow>(
                    "select id, external_id, intercom_id, name, domain, csm_owner, stage, profile, health_score, \
                         csm_pulse, updated_at \
                     from customers where id = $1 and workspace_id = $2",
                )
                .bind(id)
                .bind(self.workspace)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn contact(&self, id: i64) -> Result<Option<Contact>> {
                let row = sqlx::query_as::<_, ContactRow>(
                    "select c.id, c.external_id, c.intercom_id, c.name, c.email, \
                            cu.name as customer_name, c.role_tag, c.updated_at \
                     from contacts c left join customers cu on cu.id = c.customer_id \
                     where c.id = $1 and c.workspace_id = $2",
                )
                .bind(id)
                .bind(self.workspace)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn list_interactions(&self, page: PageRequest) -> Result<Page<Interaction>> {
                let total: i64 = sqlx::query_scalar("select count(*) from interactions where workspace_id = $1")
                    .bind(self.workspace)
                    .fetch_one(&self.pool)
                    .await?;
                let items = sqlx::query_as::<_, InteractionRow>(
                    "select i.id, i.intercom_id, i.title, i.state, ct.email as contact_email, \
                            cu.name as customer_name, i.created_at \
                     from interactions i \
                     left join contacts ct on ct.id = i.contact_id \
                     left join customers cu on cu.id = i.customer_id \
                     where i.workspace_id = $3 \
                     order by i.created_at desc, i.id desc limit $1 offset $2",
                )
                .bind(page.limit())
                .bind(page.offset())
                .bind(self.workspace)
                .fetch_all(&self.pool)
                .await?;
                Ok(page_of(items.into_iter().map(Into::into).collect(), page, total))
            }
        }
    };
}

impl_listing_store!(SqliteStore);
impl_listing_store!(PostgresStore);
