use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::config::AppConfig;
use crate::store::Store;

/// Everything a request handler or server function may need, cloned per request.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Arc<dyn Store>,
    pub config: Arc<AppConfig>,
    pub sync: crate::sync::SyncEngine,
    /// The names of the browser bundle's files, found once at start.
    pub assets: Arc<crate::assets::SiteAssets>,
}
