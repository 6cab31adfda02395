use leptos::prelude::*;

use crate::domain::IntercomConnection;
use crate::error::AppError;

/// The Intercom connection as the settings page shows it (never the token).
#[server]
pub async fn get_intercom_connection() -> Result<Option<IntercomConnection>, AppError> {
    let user = super::context::require_user().await?;
    Ok(super::context::workspace_store(&user)?.intercom_connection().await?)
}
