//! The settings page's API: each function authorizes, then calls `integration`.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::domain::{ChurnPreview, IntegrationSettings, IntercomConnection, IntercomFields, SettingsSnapshot, Zone};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::context::*;

/// Connects a private app by its access token, checked with `GET /me` first.
#[server]
pub async fn connect_intercom_with_token(access_token: String, zone: Zone) -> Result<IntercomConnection, AppError> {
    let admin = require_admin().await?;
    let token = secrecy::SecretString::from(access_token);
    answer(async { Ok(integration(&admin)?.connect_with_token(token, zone, &admin.email).await?) }.await)
}

#[server]
pub async fn disconnect_intercom() -> Result<(), AppError> {
    let admin = require_admin().await?;
    answer(async { Ok(integration(&admin)?.disconnect(&admin.email).await.map(|_| ())?) }.await)
}

#[server]
pub async fn change_intercom_zone(zone: Zone) -> Result<IntercomConnection, AppError> {
    let admin = require_admin().await?;
    answer(async { Ok(integration(&admin)?.change_zone(zone, &admin.email).await?) }.await)
}

/// The live company and contact fields and tags, fetched from Intercom on every call.
#[server]
pub async fn get_intercom_fields() -> Result<IntercomFields, AppError> {
    let user = require_user().await?;
    answer(async { Ok(integration(&user)?.fields().await?) }.await)
}

#[server]
pub async fn get_integration_settings() -> Result<SettingsSnapshot, AppError> {
    let user = require_user().await?;
    answer(async { Ok(integration(&user)?.settings().await?) }.await)
}

/// Saves the whole set-up or nothing, with a message per rejected control.
#[server(input = Json)]
pub async fn save_integration_settings(settings: IntegrationSettings) -> Result<SettingsSnapshot, AppError> {
    let admin = require_admin().await?;
    answer(async { Ok(integration(&admin)?.save_settings(settings, &admin.email).await?) }.await)
}

#[server]
pub async fn preview_churn(max_percent: u8) -> Result<ChurnPreview, AppError> {
    // It walks every company in Intercom (a scroll, of which only one may be open), so a
    // member could otherwise stall the admins' syncs.
    let admin = require_admin().await?;
    answer(async { Ok(integration(&admin)?.preview_churn(max_percent).await?) }.await)
}

/// The saved set-up as the JSON file `Import` (and `server settings import`) read.
#[server]
pub async fn export_integration_settings() -> Result<String, AppError> {
    let user = require_user().await?;
    answer(async { Ok(integration(&user)?.export_settings().await?) }.await)
}

#[server(input = Json)]
pub async fn import_integration_settings(json: String) -> Result<SettingsSnapshot, AppError> {
    let admin = require_admin().await?;
    answer(async { Ok(integration(&admin)?.import_settings(&json, &admin.email).await?) }.await)
}
