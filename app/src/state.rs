use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::config::AppConfig;
use crate::store::Directory;

/// Everything a request handler or server function may need, cloned per request.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// Workspaces, people, and each workspace's store (`Directory::store`).
    pub directory: Arc<dyn Directory>,
    pub config: Arc<AppConfig>,
    pub sync: crate::sync::SyncService,
    /// Writes Intercom's notifications, many to a commit.
    pub webhooks: crate::webhooks::Recorder,
    /// The names of the browser bundle's files, found once at start.
    pub assets: Arc<crate::assets::SiteAssets>,
}
