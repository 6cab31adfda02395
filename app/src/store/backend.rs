//! The two backends, SQLite and PostgreSQL: their pools, opened and migrated, and what
//! they keep for the app itself (users, the Intercom connection, the settings). What
//! they keep for the pages and the sync engine is beside this, one module per kind.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use super::sql::unique_violation;
use super::{EncryptedToken, NewIntercomConnection, Result, Store, StoreError, StoredSettings};
use crate::domain::{IntercomConnection, SettingsChange, Zone};

/// One workspace's data on SQLite: every statement is scoped by `workspace`.
pub struct SqliteStore {
    pub(super) pool: SqlitePool,
    pub(super) workspace: i64,
}

/// The SQLite database as a whole: workspaces, people, and a store per workspace.
#[derive(Clone)]
pub struct SqliteDirectory {
    pub(super) pool: SqlitePool,
}

impl SqliteDirectory {
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(StoreError::Connect)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL syncs at checkpoints rather than at every commit: a crash
            // still cannot corrupt the file, a power cut may lose the last commits. FULL
            // made each page of a sync wait for the disk.
            .synchronous(SqliteSynchronous::Normal)
            // 32 MiB instead of 2: the lookups by Intercom id read the indexes all over.
            .pragma("cache_size", "-32768")
            // Rows cross to the async side through this channel: at the default 50 a
            // lookup of a page's 150 records stopped the worker thread twice.
            .row_buffer_size(256)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if !in_memory {
            if let Some(dir) = options.get_filename().parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).map_err(|e| StoreError::Connect(e.into()))?;
                }
            }
        }
        // An in-memory database exists once per connection: keep exactly one.
        let max = if in_memory { 1 } else { 8 };
        let pool =
            SqlitePoolOptions::new().max_connections(max).connect_with(options).await.map_err(StoreError::Connect)?;
        sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// One workspace's data on PostgreSQL: every statement is scoped by `workspace`.
pub struct PostgresStore {
    pub(super) pool: PgPool,
    pub(super) workspace: i64,
}

/// The PostgreSQL database as a whole: workspaces, people, and a store per workspace.
#[derive(Clone)]
pub struct PostgresDirectory {
    pub(super) pool: PgPool,
}

impl PostgresDirectory {
    pub async fn open(url: &str) -> Result<Self> {
        // Plans follow the data: a statement's plan made while its tables were small (a
        // first sync starts from empty ones) would otherwise be reused by the connection
        // once they are big. A lookup by Intercom id then walked the whole workspace through
        // another index starting with `workspace_id`: 617 records/s instead of thousands.
        let options = PgConnectOptions::from_str(url)
            .map_err(StoreError::Connect)?
            .options([("plan_cache_mode", "force_custom_plan")]);
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(StoreError::Connect)?;
        sqlx::migrate!("../migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[derive(sqlx::FromRow)]
struct ConnectionRow {
    zone: String,
    workspace_name: Option<String>,
    app_id: Option<String>,
    connected_by: Option<String>,
    connected_at: i64,
    needs_reconnect: bool,
    detected_zone: Option<String>,
}

fn parse_zone(zone: &str) -> Result<Zone> {
    Zone::parse(zone).ok_or_else(|| StoreError::Corrupt(format!("unknown zone `{zone}`")))
}

impl TryFrom<ConnectionRow> for IntercomConnection {
    type Error = StoreError;

    fn try_from(row: ConnectionRow) -> Result<Self> {
        Ok(IntercomConnection {
            zone: parse_zone(&row.zone)?,
            workspace_name: row.workspace_name,
            app_id: row.app_id,
            connected_by: row.connected_by,
            connected_at: row.connected_at,
            needs_reconnect: row.needs_reconnect,
            detected_zone: row.detected_zone.as_deref().map(parse_zone).transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    zone: String,
    token_nonce: Option<Vec<u8>>,
    token_ciphertext: Option<Vec<u8>>,
}

impl TokenRow {
    /// `None` when the row has no token (both halves are needed to decrypt one).
    fn into_token(self) -> Result<Option<(Zone, EncryptedToken)>> {
        let zone = parse_zone(&self.zone)?;
        Ok(match (self.token_nonce, self.token_ciphertext) {
            (Some(nonce), Some(ciphertext)) => Some((zone, EncryptedToken { nonce, ciphertext })),
            _ => None,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SettingsRow {
    document: String,
    updated_at: i64,
    updated_by: String,
}

impl From<SettingsRow> for StoredSettings {
    fn from(r: SettingsRow) -> Self {
        StoredSettings { document: r.document, updated_at: r.updated_at, updated_by: r.updated_by }
    }
}

#[derive(sqlx::FromRow)]
struct ChangeRow {
    changed_at: i64,
    changed_by: String,
    summary: String,
}

impl TryFrom<ChangeRow> for SettingsChange {
    type Error = StoreError;

    fn try_from(row: ChangeRow) -> Result<Self> {
        let summary = serde_json::from_str::<Vec<String>>(&row.summary)
            .map_err(|e| StoreError::Corrupt(format!("a settings change summary is not a list of lines: {e}")))?;
        Ok(SettingsChange { changed_at: row.changed_at, changed_by: row.changed_by, summary })
    }
}

/// A change's summary as stored: a JSON array of strings.
fn summary_json(change: &SettingsChange) -> String {
    serde_json::to_string(&change.summary).expect("a list of strings serializes to JSON")
}

const INSERT_SETTINGS_CHANGE: &str =
    "insert into settings_changes (changed_at, changed_by, summary, workspace_id) values ($1, $2, $3, $4)";

// The two backends share every statement; the macro stamps the one implementation out for
// each concrete pool type, which sqlx's generic executor bounds make painful to abstract.
macro_rules! impl_store {
    ($store:ty) => {
        #[async_trait]
        impl Store for $store {
            fn workspace(&self) -> i64 {
                self.workspace
            }

            async fn intercom_connection(&self) -> Result<Option<IntercomConnection>> {
                sqlx::query_as::<_, ConnectionRow>(
                    "select zone, workspace_name, app_id, connected_by, connected_at, needs_reconnect, \
                            detected_zone \
                     from intercom_connections where workspace_id = $1",
                )
                .bind(self.workspace)
                .fetch_optional(&self.pool)
                .await?
                .map(TryInto::try_into)
                .transpose()
            }

            async fn save_intercom_connection(&self, c: &NewIntercomConnection) -> Result<()> {
                sqlx::query(
                    "insert into intercom_connections (workspace_id, zone, token_nonce, token_ciphertext, \
                         workspace_name, app_id, detected_zone, connected_by, connected_at, needs_reconnect) \
                     values ($9, $1, $2, $3, $4, $5, $6, $7, $8, false) \
                     on conflict (workspace_id) do update \
                     set zone = excluded.zone, token_nonce = excluded.token_nonce, \
                         token_ciphertext = excluded.token_ciphertext, \
                         workspace_name = excluded.workspace_name, app_id = excluded.app_id, \
                         detected_zone = excluded.detected_zone, connected_by = excluded.connected_by, \
                         connected_at = excluded.connected_at, needs_reconnect = false",
                )
                .bind(c.zone.as_str())
                .bind(&c.token.nonce)
                .bind(&c.token.ciphertext)
                .bind(&c.workspace_name)
                .bind(&c.app_id)
                .bind(c.detected_zone.map(Zone::as_str))
                .bind(&c.connected_by)
                .bind(c.connected_at)
                .bind(self.workspace)
                .execute(&self.pool)
                .await
                .map_err(|e| {
                    let app = c.app_id.as_deref().unwrap_or("");
                    unique_violation(e, || format!("the Intercom workspace {app}, connected to another workspace"))
                })?;
                Ok(())
            }

            async fn intercom_token(&self) -> Result<Option<(Zone, EncryptedToken)>> {
                let row = sqlx::query_as::<_, TokenRow>(
                    "select zone, token_nonce, token_ciphertext from intercom_connections where workspace_id = $1",
                )
                .bind(self.workspace)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(TokenRow::into_token).transpose()?.flatten())
            }

            async fn delete_intercom_connection(&self) -> Result<bool> {
                let done = sqlx::query("delete from intercom_connections where workspace_id = $1")
                    .bind(self.workspace)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn mark_intercom_reconnect_needed(&self) -> Result<()> {
                sqlx::query("update intercom_connections set needs_reconnect = true where workspace_id = $1")
                    .bind(self.workspace)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn set_intercom_zone(&self, zone: Zone) -> Result<bool> {
                let done = sqlx::query("update intercom_connections set zone = $1 where workspace_id = $2")
                    .bind(zone.as_str())
                    .bind(self.workspace)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn integration_settings(&self) -> Result<Option<StoredSettings>> {
                let row = sqlx::query_as::<_, SettingsRow>(
                    "select document, updated_at, updated_by from integration_settings where workspace_id = $1",
                )
                .bind(self.workspace)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn save_integration_settings(&self, document: &str, change: &SettingsChange) -> Result<()> {
                // Dropped without a commit on any error, the transaction rolls both back.
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "insert into integration_settings (workspace_id, document, updated_at, updated_by) \
                     values ($4, $1, $2, $3) \
                     on conflict (workspace_id) do update \
                     set document = excluded.document, updated_at = excluded.updated_at, \
                         updated_by = excluded.updated_by",
                )
                .bind(document)
                .bind(change.changed_at)
                .bind(&change.changed_by)
                .bind(self.workspace)
                .execute(&mut *tx)
                .await?;
                sqlx::query(INSERT_SETTINGS_CHANGE)
                    .bind(change.changed_at)
                    .bind(&change.changed_by)
                    .bind(summary_json(change))
                    .bind(self.workspace)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn record_settings_change(&self, change: &SettingsChange) -> Result<()> {
                sqlx::query(INSERT_SETTINGS_CHANGE)
                    .bind(change.changed_at)
                    .bind(&change.changed_by)
                    .bind(summary_json(change))
                    .bind(self.workspace)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn settings_history(&self, limit: u32) -> Result<Vec<SettingsChange>> {
                sqlx::query_as::<_, ChangeRow>(
                    "select changed_at, changed_by, summary from settings_changes where workspace_id = $2 \
                     order by changed_at desc, id desc limit $1",
                )
                .bind(i64::from(limit))
                .bind(self.workspace)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(TryInto::try_into)
                .collect()
            }
        }
    };
}

impl_store!(SqliteStore);
impl_store!(PostgresStore);
