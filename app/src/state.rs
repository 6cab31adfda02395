use std::fmt;
use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::store::Store;

/// Everything a request handler or server function may need, cloned per request.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Arc<dyn Store>,
    pub config: Arc<AppConfig>,
    pub sync: crate::sync::SyncEngine,
}

/// Settings read once at start-up.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Where users reach the app; OAuth redirects and secure cookies derive from it.
    pub public_url: String,
    /// Encrypts Intercom tokens at rest.
    pub secret_key: SecretKey,
    pub intercom_client_id: Option<String>,
    pub intercom_client_secret: Option<String>,
    /// Where each region's calls go (Intercom's hosts unless configured otherwise).
    pub intercom_hosts: crate::intercom::IntercomHosts,
}

/// 32 bytes that never show up in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(pub [u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}
