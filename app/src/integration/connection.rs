use secrecy::{ExposeSecret, SecretString};

use super::{Integration, IntegrationError, Result};
use crate::domain::{IntercomConnection, SettingsChange, Zone};
use crate::intercom::{IntercomClient, IntercomError, Region};
use crate::secrets::{decrypt_token, encrypt_token};
use crate::store::{NewIntercomConnection, StoreError};

/// Where Intercom sends the browser back after the consent page.
pub const OAUTH_CALLBACK_PATH: &str = "/integrations/intercom/callback";

impl Integration {
    pub async fn connection(&self) -> Result<Option<IntercomConnection>> {
        Ok(self.store.intercom_connection().await?)
    }

    /// A client for the saved workspace, on its zone's host.
    pub async fn client(&self) -> Result<IntercomClient> {
        let (zone, encrypted) = self.store.intercom_token().await?.ok_or(IntegrationError::NotConnected)?;
        let token = decrypt_token(&self.config.secret_key, &encrypted)?;
        self.client_for(zone, token)
    }

    fn client_for(&self, zone: Zone, token: SecretString) -> Result<IntercomClient> {
        let base = self.config.intercom_hosts.api_base(Region::from(zone));
        IntercomClient::with_base_url(&base, token).map_err(IntegrationError::Unreachable)
    }

    /// Maps an Intercom answer, turning a 401 into "Reconnect needed" for everyone.
    pub(crate) async fn checked<T>(&self, result: crate::intercom::Result<T>) -> Result<T> {
        match result {
            Ok(value) => Ok(value),
            Err(IntercomError::Unauthorized(error)) => {
                tracing::warn!(intercom.error = %error, "Intercom refused the saved token: the connection needs a reconnect");
                self.store.mark_intercom_reconnect_needed().await?;
                Err(IntegrationError::ReconnectNeeded)
            }
            Err(err) => Err(IntegrationError::Unreachable(err)),
        }
    }

    /// Checks a private app's access token with `GET /me`, then saves it encrypted. The
    /// zone is the workspace's own region when Intercom says it, else the one chosen.
    pub async fn connect_with_token(&self, token: SecretString, zone: Zone, who: &str) -> Result<IntercomConnection> {
        let token = SecretString::from(token.expose_secret().trim().to_string());
        if token.expose_secret().is_empty() {
            return Err(IntegrationError::rejected(
                "access_token",
                "Paste the access token from Intercom's Developer Hub.",
            ));
        }
        let me = match self.client_for(zone, token.clone())?.me().await {
            Ok(me) => me,
            Err(err @ (IntercomError::Unauthorized(_) | IntercomError::Forbidden { .. })) => {
                return Err(IntegrationError::TokenRefused(err))
            }
            Err(err) => return Err(IntegrationError::Unreachable(err)),
        };
        let app = me.app.as_ref();
        let detected_zone = app.and_then(|a| a.region.as_deref()).and_then(Region::from_me).map(Zone::from);
        let connection = NewIntercomConnection {
            zone: detected_zone.unwrap_or(zone),
            token: encrypt_token(&self.config.secret_key, &token),
            workspace_name: app.and_then(|a| a.name.clone()),
            app_id: app.map(|a| a.id_code.clone()),
            detected_zone,
            connected_by: who.to_string(),
            connected_at: crate::store::now(),
        };
        let workspace = connection.workspace_name.clone().unwrap_or_else(|| "an Intercom workspace".into());
        match self.store.save_intercom_connection(&connection).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(IntegrationError::ConnectedElsewhere(workspace)),
            Err(err) => return Err(err.into()),
        }
        self.record(who, format!("Connected {workspace} (zone {})", connection.zone.label())).await?;
        self.connection().await?.ok_or(IntegrationError::NotConnected)
    }

    /// The consent page to send an admin to; `state` must come back to the callback.
    pub fn consent_url(&self, zone: Zone, state: &str) -> Result<String> {
        let client_id = self.config.intercom_client_id.as_deref().ok_or(IntegrationError::OAuthNotConfigured)?;
        let redirect_uri = format!("{}{OAUTH_CALLBACK_PATH}", self.config.public_url);
        Ok(self.config.intercom_hosts.oauth(Region::from(zone)).consent_url(client_id, &redirect_uri, state))
    }

    /// Trades the callback's code for a token, then connects with it.
    pub async fn finish_oauth(&self, code: &str, zone: Zone, who: &str) -> Result<IntercomConnection> {
        let (Some(client_id), Some(secret)) = (&self.config.intercom_client_id, &self.config.intercom_client_secret)
        else {
            return Err(IntegrationError::OAuthNotConfigured);
        };
        let token =
            self.config.intercom_hosts.oauth(Region::from(zone)).exchange_code(code, client_id, secret).await.map_err(
                |err| match err {
                    IntercomError::Transport(_) | IntercomError::Server { .. } => IntegrationError::Unreachable(err),
                    other => IntegrationError::TokenRefused(other),
                },
            )?;
        self.connect_with_token(token, zone, who).await
    }

    /// Forgets the token; the settings stay for the next connection.
    pub async fn disconnect(&self, who: &str) -> Result<bool> {
        let removed = self.store.delete_intercom_connection().await?;
        if removed {
            self.record(who, "Disconnected Intercom".to_string()).await?;
        }
        Ok(removed)
    }

    pub async fn change_zone(&self, zone: Zone, who: &str) -> Result<IntercomConnection> {
        let before = self.connection().await?.ok_or(IntegrationError::NotConnected)?;
        if before.zone != zone {
            self.store.set_intercom_zone(zone).await?;
            self.record(who, format!("Zone: {} → {}", before.zone.label(), zone.label())).await?;
        }
        self.connection().await?.ok_or(IntegrationError::NotConnected)
    }

    async fn record(&self, who: &str, what: String) -> Result<()> {
        let change =
            SettingsChange { changed_at: crate::store::now(), changed_by: who.to_string(), summary: vec![what] };
        Ok(self.store.record_settings_change(&change).await?)
    }
}

// Users pick a zone (the domain's word, shared with the browser); the client speaks of
// regions. The two meet here, so that the Intercom client knows nothing of the domain.
impl From<Zone> for Region {
    fn from(zone: Zone) -> Self {
        match zone {
            Zone::Us => Region::Us,
            Zone::Eu => Region::Eu,
            Zone::Au => Region::Au,
        }
    }
}

impl From<Region> for Zone {
    fn from(region: Region) -> Self {
        match region {
            Region::Us => Zone::Us,
            Region::Eu => Zone::Eu,
            Region::Au => Zone::Au,
        }
    }
}
