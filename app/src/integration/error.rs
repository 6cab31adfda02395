use crate::domain::FieldError;
use crate::intercom::IntercomError;
use crate::secrets::SecretError;
use crate::store::StoreError;

pub type Result<T, E = IntegrationError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    #[error("Intercom is not connected")]
    NotConnected,
    /// Intercom answered 401: the connection is marked "Reconnect needed".
    #[error("Intercom refused the saved access token")]
    ReconnectNeeded,
    /// A token offered to connect was refused by `GET /me`.
    #[error("Intercom refused this access token: {0}")]
    TokenRefused(IntercomError),
    #[error("Intercom cannot be reached: {0}")]
    Unreachable(IntercomError),
    /// The Intercom workspace (named) is connected to another Skalin workspace: webhooks
    /// are routed by it, so it may be connected to one only.
    #[error("{0} is already connected to another Skalin workspace")]
    ConnectedElsewhere(String),
    #[error("OAuth is not configured on this server")]
    OAuthNotConfigured,
    /// The settings break a rule; each problem is under its control's key.
    #[error("{} setting(s) need attention", .0.len())]
    Rejected(Vec<FieldError>),
    #[error("the settings file cannot be read: {0}")]
    BadImport(String),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IntegrationError {
    pub(crate) fn rejected(key: &str, message: impl Into<String>) -> Self {
        IntegrationError::Rejected(vec![FieldError { key: key.to_string(), message: message.into() }])
    }
}
