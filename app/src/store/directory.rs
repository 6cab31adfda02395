//! The deployment as a whole: its workspaces, the people who sign in and their role in
//! each, the queue of runs every workspace shares, and a store per workspace, which is
//! the only way to a workspace's data.

use std::sync::Arc;

use async_trait::async_trait;

use super::backend::{PostgresDirectory, PostgresStore, SqliteDirectory, SqliteStore};
use super::claims::{claim_sql, claimed, RUNNING_WORKERS};
use super::runs::RunRow;
use super::sql::unique_violation;
use super::{now, Result, Store, StoreError, UserRecord};
use crate::domain::{Membership, Role, Workspace};
use crate::sync_model::ClaimedRun;

#[async_trait]
pub trait Directory: super::WebhookQueue + Send + Sync + 'static {
    /// Which backend this is, for logs and start-up messages.
    fn backend_name(&self) -> &'static str;
    /// The store of one workspace: it reads and writes that workspace's data only.
    fn store(&self, workspace: i64) -> Arc<dyn Store>;

    /// `Conflict` when the slug is taken.
    async fn create_workspace(&self, name: &str, slug: &str) -> Result<Workspace>;
    /// Every workspace, by name.
    async fn workspaces(&self) -> Result<Vec<Workspace>>;
    async fn workspace_by_slug(&self, slug: &str) -> Result<Option<Workspace>>;

    async fn create_user(&self, email: &str, password_hash: &str) -> Result<UserRecord>;
    /// Creates the user or resets its password (used for the demo accounts).
    async fn upsert_user(&self, email: &str, password_hash: &str) -> Result<UserRecord>;
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>>;
    async fn user_by_id(&self, id: i64) -> Result<Option<UserRecord>>;

    /// Makes the user a member of the workspace with this role, or changes their role.
    async fn set_membership(&self, workspace: i64, user: i64, role: Role) -> Result<()>;
    /// The workspaces the user belongs to, by name.
    async fn memberships(&self, user: i64) -> Result<Vec<Membership>>;

    /// The workers holding a running run, in any workspace.
    async fn running_workers(&self) -> Result<Vec<String>>;
    /// Claims the oldest claimable run of any workspace (see `ClaimStore::claim_run`),
    /// with the workspace it belongs to.
    async fn claim_any_run(
        &self,
        worker: &str,
        now: i64,
        stale_before: i64,
        dead_workers: &[String],
    ) -> Result<Option<(i64, ClaimedRun)>>;
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    password_hash: String,
}

impl From<UserRow> for UserRecord {
    fn from(row: UserRow) -> Self {
        UserRecord { id: row.id, email: row.email, password_hash: row.password_hash }
    }
}

#[derive(sqlx::FromRow)]
struct WorkspaceRow {
    id: i64,
    name: String,
    slug: String,
}

impl From<WorkspaceRow> for Workspace {
    fn from(row: WorkspaceRow) -> Self {
        Workspace { id: row.id, name: row.name, slug: row.slug }
    }
}

#[derive(sqlx::FromRow)]
struct MembershipRow {
    id: i64,
    name: String,
    slug: String,
    role: String,
}

impl TryFrom<MembershipRow> for Membership {
    type Error = StoreError;

    fn try_from(row: MembershipRow) -> Result<Self> {
        let role = row.role.parse::<Role>().map_err(StoreError::Corrupt)?;
        Ok(Membership { workspace: Workspace { id: row.id, name: row.name, slug: row.slug }, role })
    }
}

const USER_COLUMNS: &str = "id, email, password_hash";

// Shares the statements between the two backends, as `impl_store!` does.
macro_rules! impl_directory {
    ($directory:ty, $store:ident, $name:literal, $row_locks:literal) => {
        #[async_trait]
        impl Directory for $directory {
            fn backend_name(&self) -> &'static str {
                $name
            }

            fn store(&self, workspace: i64) -> Arc<dyn Store> {
                Arc::new($store { pool: self.pool.clone(), workspace })
            }

            async fn create_workspace(&self, name: &str, slug: &str) -> Result<Workspace> {
                sqlx::query_as::<_, WorkspaceRow>(
                    "insert into workspaces (name, slug, created_at) values ($1, $2, $3) returning id, name, slug",
                )
                .bind(name)
                .bind(slug)
                .bind(now())
                .fetch_one(&self.pool)
                .await
                .map(Into::into)
                .map_err(|e| unique_violation(e, || format!("a workspace with the slug `{slug}`")))
            }

            async fn workspaces(&self) -> Result<Vec<Workspace>> {
                let rows = sqlx::query_as::<_, WorkspaceRow>("select id, name, slug from workspaces order by name, id")
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn workspace_by_slug(&self, slug: &str) -> Result<Option<Workspace>> {
                let row = sqlx::query_as::<_, WorkspaceRow>("select id, name, slug from workspaces where slug = $1")
                    .bind(slug)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(Into::into))
            }

            async fn create_user(&self, email: &str, password_hash: &str) -> Result<UserRecord> {
                let sql = format!(
                    "insert into users (email, password_hash, created_at) values ($1, $2, $3) returning {USER_COLUMNS}"
                );
                sqlx::query_as::<_, UserRow>(&sql)
                    .bind(email)
                    .bind(password_hash)
                    .bind(now())
                    .fetch_one(&self.pool)
                    .await
                    .map(Into::into)
                    .map_err(|e| unique_violation(e, || format!("a user with the email {email}")))
            }

            async fn upsert_user(&self, email: &str, password_hash: &str) -> Result<UserRecord> {
                let sql = format!(
                    "insert into users (email, password_hash, created_at) values ($1, $2, $3) \
                     on conflict (email) do update set password_hash = excluded.password_hash \
                     returning {USER_COLUMNS}"
                );
                Ok(sqlx::query_as::<_, UserRow>(&sql)
                    .bind(email)
                    .bind(password_hash)
                    .bind(now())
                    .fetch_one(&self.pool)
                    .await?
                    .into())
            }

            async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
                let sql = format!("select {USER_COLUMNS} from users where email = $1");
                let row = sqlx::query_as::<_, UserRow>(&sql).bind(email).fetch_optional(&self.pool).await?;
                Ok(row.map(Into::into))
            }

            async fn user_by_id(&self, id: i64) -> Result<Option<UserRecord>> {
                let sql = format!("select {USER_COLUMNS} from users where id = $1");
                let row = sqlx::query_as::<_, UserRow>(&sql).bind(id).fetch_optional(&self.pool).await?;
                Ok(row.map(Into::into))
            }

            async fn set_membership(&self, workspace: i64, user: i64, role: Role) -> Result<()> {
                sqlx::query(
                    "insert into memberships (workspace_id, user_id, role) values ($1, $2, $3) \
                     on conflict (workspace_id, user_id) do update set role = excluded.role",
                )
                .bind(workspace)
                .bind(user)
                .bind(role.as_str())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn memberships(&self, user: i64) -> Result<Vec<Membership>> {
                sqlx::query_as::<_, MembershipRow>(
                    "select w.id, w.name, w.slug, m.role from memberships m \
                     join workspaces w on w.id = m.workspace_id \
                     where m.user_id = $1 order by w.name, w.id",
                )
                .bind(user)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(TryInto::try_into)
                .collect()
            }

            async fn running_workers(&self) -> Result<Vec<String>> {
                Ok(sqlx::query_scalar(RUNNING_WORKERS).fetch_all(&self.pool).await?)
            }

            async fn claim_any_run(
                &self,
                worker: &str,
                now: i64,
                stale_before: i64,
                dead_workers: &[String],
            ) -> Result<Option<(i64, ClaimedRun)>> {
                let sql = claim_sql(dead_workers.len(), false, $row_locks);
                let mut query = sqlx::query_as::<_, RunRow>(&sql).bind(worker).bind(now).bind(stale_before);
                for dead in dead_workers {
                    query = query.bind(dead);
                }
                let row = query.fetch_optional(&self.pool).await?;
                row.map(|row| Ok((row.workspace_id, claimed(row, now)?))).transpose()
            }
        }
    };
}

impl_directory!(SqliteDirectory, SqliteStore, "SQLite", false);
impl_directory!(PostgresDirectory, PostgresStore, "PostgreSQL", true);
