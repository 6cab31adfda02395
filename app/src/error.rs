//! The one error type the UI sees. Every module's error is mapped here once; internal
//! causes are logged on the server and reach the browser only as a generic message.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Your session has expired. Please sign in again.")]
    SignInRequired,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// Settings that break a rule, each message under its control's key.
    #[error("Some settings need attention: {}", summary(.0))]
    Rejected(Vec<crate::domain::FieldError>),
    /// Intercom could not be reached, or refused the saved token.
    #[error("{0}")]
    Intercom(String),
    #[error("Something went wrong on our side; it has been logged. Please try again.")]
    Internal,
    #[error("Could not reach the Skalin server: {0}")]
    Transport(String),
}

fn summary(errors: &[crate::domain::FieldError]) -> String {
    errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" ")
}

impl AppError {
    /// The message for one control, if the error names it.
    pub fn message_for(&self, key: &str) -> Option<String> {
        match self {
            AppError::Rejected(errors) => errors.iter().find(|e| e.key == key).map(|e| e.message.clone()),
            _ => None,
        }
    }

    pub fn is_sign_in_required(&self) -> bool {
        matches!(self, AppError::SignInRequired)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(message) | ServerFnErrorErr::Response(message) => AppError::Transport(message),
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::Deserialization(message) => AppError::Invalid(message),
            other => AppError::Transport(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::store::StoreError> for AppError {
    fn from(err: crate::store::StoreError) -> Self {
        tracing::error!(error = %err, "store call failed");
        AppError::Internal
    }
}

#[cfg(feature = "ssr")]
impl From<crate::integration::IntegrationError> for AppError {
    fn from(err: crate::integration::IntegrationError) -> Self {
        use crate::integration::IntegrationError as E;
        match err {
            E::NotConnected => {
                AppError::Invalid("Intercom is not connected yet: use Connect me, or paste an access token.".into())
            }
            E::ReconnectNeeded => AppError::Intercom(
                "Intercom refused the saved access token (Reconnect needed): connect Intercom again.".into(),
            ),
            E::TokenRefused(cause) => AppError::Rejected(vec![crate::domain::FieldError {
                key: "access_token".into(),
                message: format!("Intercom refused this access token: {cause}"),
            }]),
            E::Unreachable(cause) => {
                tracing::warn!(error = %cause, "Intercom call failed");
                AppError::Intercom(format!("Intercom cannot be reached right now ({cause}). Try again in a moment."))
            }
            E::ConnectedElsewhere(workspace) => AppError::Invalid(format!(
                "The Intercom workspace {workspace} is already connected to another Skalin workspace. An Intercom \
                 workspace can be connected to one Skalin workspace at a time (Intercom's notifications are routed \
                 by it): disconnect it there first."
            )),
            E::OAuthNotConfigured => AppError::Invalid(
                "Intercom OAuth is not configured on this server (no client id): paste an access token instead.".into(),
            ),
            E::Rejected(errors) => AppError::Rejected(errors),
            E::BadImport(message) => AppError::Invalid(format!("The settings file cannot be read: {message}")),
            E::Secret(cause) => {
                tracing::error!(error = %cause, "the saved Intercom token cannot be decrypted");
                AppError::Intercom(
                    "The saved Intercom token cannot be read with this server's secret key: connect Intercom again."
                        .into(),
                )
            }
            E::Store(cause) => cause.into(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::sync::SyncError> for AppError {
    fn from(err: crate::sync::SyncError) -> Self {
        use crate::sync::SyncError as E;
        match err {
            E::NotConnected => {
                AppError::Invalid("Intercom is not connected yet: connect it on the settings page first.".into())
            }
            E::ReconnectNeeded => AppError::Intercom(
                "Intercom refused the saved access token (Reconnect needed): connect Intercom again.".into(),
            ),
            E::Intercom(cause) => {
                tracing::warn!(error = %cause, "Intercom call failed");
                AppError::Intercom(format!("Intercom cannot be reached right now ({cause}). Try again in a moment."))
            }
            E::UnknownRun(id) => AppError::NotFound(format!("There is no sync run {id}.")),
            E::NotAllowed(message) => AppError::Invalid(message),
            E::Integration(cause) => cause.into(),
            E::Store(cause) => cause.into(),
        }
    }
}
