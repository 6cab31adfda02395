//! What the sync benchmarks share: an engine connected to a sandbox Intercom with the
//! token a user would paste, every ticket imported, ready to queue runs.

use std::sync::Arc;

use app::config::AppConfig;
use app::domain::{ImportWindow, IntegrationSettings, Zone};
use app::integration::Integration;
use app::intercom::IntercomHosts;
use app::secrets::SecretKey;
use app::store::Store;
use app::sync::{EngineConfig, SyncEngine};
use sandbox::SANDBOX_TOKEN;

/// A sync engine on `store`, connected to the sandbox at `base_url`.
pub async fn connected_engine(store: Arc<dyn Store>, base_url: &str) -> anyhow::Result<SyncEngine> {
    let config = AppConfig {
        public_url: "http://localhost".into(),
        secret_key: SecretKey([9; 32]),
        intercom_client_id: None,
        intercom_client_secret: None,
        intercom_hosts: IntercomHosts::single(base_url),
    };
    let integration = Integration::new(store.clone(), Arc::new(config));
    integration.connect_with_token(secrecy::SecretString::from(SANDBOX_TOKEN), Zone::Us, "bench").await?;
    let mut settings = IntegrationSettings::default();
    settings.interactions.import_window = ImportWindow::All;
    integration.save_settings(settings, "bench").await?;
    Ok(SyncEngine::new(store, integration, EngineConfig { worker: "bench".into(), ..EngineConfig::default() }))
}
