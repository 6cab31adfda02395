//! The deployment's settings, read once at start-up by the server and handed to the
//! modules that need them (the integration, the request state).

use crate::intercom::IntercomHosts;
use crate::secrets::SecretKey;

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
    pub intercom_hosts: IntercomHosts,
}
