//! The Intercom integration as Skalin runs it: the connection (token encrypted at rest,
//! region), the settings checked against the live Intercom fields, the churn preview.
//! Server functions, HTTP handlers and the command line call it; it knows nothing of Leptos.

mod churn;
mod connection;
mod error;
mod realtime;
mod settings;

use std::sync::Arc;

pub use churn::{churn_candidates, CHURN_STAGE};
pub use connection::OAUTH_CALLBACK_PATH;
pub use error::{IntegrationError, Result};
pub use settings::{SettingsExport, EXPORT_FORMAT};

use crate::config::AppConfig;
use crate::store::Store;

/// The integration's dependencies, explicit so that tests and the CLI build it directly.
#[derive(Clone)]
pub struct Integration {
    store: Arc<dyn Store>,
    config: Arc<AppConfig>,
}

impl Integration {
    pub fn new(store: Arc<dyn Store>, config: Arc<AppConfig>) -> Self {
        Self { store, config }
    }
}
