//! Skalin's own data, on SQLite or PostgreSQL behind one interface.
//!
//! Both backends run the same SQL (lower-case, `$n` placeholders, integer timestamps;
//! generated lists through sqlx's `QueryBuilder`, which writes each backend's own);
//! only the migrations differ, one folder per backend under `migrations/`. The statements
//! are shared through one macro per module, stamped out for each backend's pool.

mod backend;
mod claims;
mod directory;
mod failures;
mod listings;
mod outbox;
mod page;
mod records;
mod runs;
mod sessions;
mod sql;
mod webhooks;

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::{IntercomConnection, SettingsChange, Zone};

pub use crate::secrets::EncryptedToken;
pub use backend::{PostgresDirectory, PostgresStore, SqliteDirectory, SqliteStore};
pub use claims::{ClaimStore, RunHolder};
pub use directory::Directory;
pub use failures::FailureStore;
pub use listings::ListingStore;
pub use outbox::OutboxStore;
pub use page::PageStore;
pub use records::RecordStore;
pub use runs::RunStore;
pub use sessions::SessionBackend;
pub use webhooks::{
    NewWebhookEvent, Recorded, WebhookCounts, WebhookEvent, WebhookOutcome, WebhookQueue, WebhookStore,
};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database URL must start with sqlite:// or postgres:// (got `{0}`)")]
    UnsupportedUrl(String),
    #[error("could not open the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("could not migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0} already exists")]
    Conflict(String),
    /// The writer no longer holds the run: another worker took it over, or it ended (for
    /// an admin: it no longer waits for confirmation). Nothing was written.
    #[error("sync run {0} is no longer held by this writer: another worker took it over or it ended")]
    RunLost(i64),
    #[error("the database holds a value it cannot read: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// A user as the store keeps it, password hash included: never sent to the browser.
/// Roles are per workspace (`Directory::memberships`).
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
}

/// Without the hash: a hash in a log is a password to crack offline.
impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord").field("id", &self.id).field("email", &self.email).finish_non_exhaustive()
    }
}

/// A freshly authorized Intercom connection; saving it replaces any previous one.
#[derive(Debug, Clone, PartialEq)]
pub struct NewIntercomConnection {
    pub zone: Zone,
    pub token: EncryptedToken,
    pub workspace_name: Option<String>,
    pub app_id: Option<String>,
    /// The region `GET /me` reported, if it said one.
    pub detected_zone: Option<Zone>,
    pub connected_by: String,
    /// Unix seconds.
    pub connected_at: i64,
}

/// The integration settings as saved: one JSON document, and who saved it when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSettings {
    pub document: String,
    pub updated_at: i64,
    pub updated_by: String,
}

/// Everything one workspace keeps: the Intercom connection and settings here; the records
/// as the pages list them (`ListingStore`); and what the sync engine reads and writes, in
/// the traits named after what they store (runs and their claims, records, pages, outbox,
/// failures).
#[async_trait]
pub trait Store:
    ListingStore
    + RunStore
    + ClaimStore
    + RecordStore
    + PageStore
    + OutboxStore
    + FailureStore
    + WebhookStore
    + Send
    + Sync
    + 'static
{
    /// The workspace whose data this store reads and writes, and only that.
    fn workspace(&self) -> i64;

    /// The connection as the settings page shows it; never the token.
    async fn intercom_connection(&self) -> Result<Option<IntercomConnection>>;
    /// Replaces the connection, whatever it was, with this one (reconnect no longer needed).
    async fn save_intercom_connection(&self, connection: &NewIntercomConnection) -> Result<()>;
    /// The zone and encrypted token to call Intercom with; `None` when not connected.
    async fn intercom_token(&self) -> Result<Option<(Zone, EncryptedToken)>>;
    /// Forgets the connection and its token; `true` if there was one.
    async fn delete_intercom_connection(&self) -> Result<bool>;
    /// Intercom refused the token: an admin has to connect again.
    async fn mark_intercom_reconnect_needed(&self) -> Result<()>;
    /// Moves the connection to another region; `false` if not connected.
    async fn set_intercom_zone(&self, zone: Zone) -> Result<bool>;

    async fn integration_settings(&self) -> Result<Option<StoredSettings>>;
    /// Saves the whole settings document and records the change, both or neither.
    async fn save_integration_settings(&self, document: &str, change: &SettingsChange) -> Result<()>;
    /// Records a change that is not a settings save (connect, disconnect, zone).
    async fn record_settings_change(&self, change: &SettingsChange) -> Result<()>;
    /// The latest `limit` changes, newest first.
    async fn settings_history(&self, limit: u32) -> Result<Vec<SettingsChange>>;
}

/// An open database: its directory (workspaces, people, a store per workspace), and the
/// session store on the same pool.
pub struct Database {
    pub directory: Arc<dyn Directory>,
    pub sessions: SessionBackend,
}

/// Opens the database named by `url`, creating a SQLite file (and its folder) if missing,
/// and runs this backend's migrations, those of the session store included.
pub async fn open(url: &str) -> Result<Database> {
    if url.starts_with("sqlite:") {
        let directory = SqliteDirectory::open(url).await?;
        let sessions = SessionBackend::sqlite(directory.pool().clone()).await?;
        Ok(Database { directory: Arc::new(directory), sessions })
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let directory = PostgresDirectory::open(url).await?;
        let sessions = SessionBackend::postgres(directory.pool().clone()).await?;
        Ok(Database { directory: Arc::new(directory), sessions })
    } else {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}
