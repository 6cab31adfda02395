//! The deployment's settings, read once at start-up by the server and handed to the
//! modules that need them (the integration, the request state).

use crate::intercom::IntercomHosts;
use crate::secrets::SecretKey;

/// Settings read once at start-up.
#[derive(Clone)]
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

/// Without the client secret (the key's own `Debug` hides it too).
impl std::fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppConfig")
            .field("public_url", &self.public_url)
            .field("secret_key", &self.secret_key)
            .field("intercom_client_id", &self.intercom_client_id)
            .field("intercom_client_secret", &self.intercom_client_secret.as_ref().map(|_| "<redacted>"))
            .field("intercom_hosts", &self.intercom_hosts)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_client_secret_and_the_key() {
        let config = AppConfig {
            public_url: "https://skalin.example.com".into(),
            secret_key: SecretKey([7; 32]),
            intercom_client_id: Some("client-id".into()),
            intercom_client_secret: Some("hush-hush".into()),
            intercom_hosts: IntercomHosts::default(),
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hush-hush") && !shown.contains("0707"), "{shown}");
        assert!(shown.contains("client-id"), "{shown}");
    }
}
