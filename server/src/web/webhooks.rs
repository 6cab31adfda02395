//! `POST /webhooks/intercom`: Intercom's notifications, checked, stored and acknowledged
//! well within Intercom's 5 seconds; the worker applies them behind (`app::webhooks`).

use app::state::AppState;
use app::webhooks::{receive, Receipt, WebhookError};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

pub use app::domain::WEBHOOK_PATH;

pub async fn intercom(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let signature = headers.get("x-hub-signature").and_then(|v| v.to_str().ok());
    let secret = state.config.intercom_client_secret.as_deref();
    let now = app::store::now();
    match receive(&state.webhooks, secret, signature, &body, now).await {
        Ok(receipt) => {
            if receipt == Receipt::Stored {
                state.sync.notification_stored();
            }
            if receipt == Receipt::Unrouted {
                tracing::info!(
                    "webhook for an Intercom workspace no Skalin workspace is connected to: kept, not applied"
                );
            }
            (StatusCode::OK, "ok").into_response()
        }
        Err(err @ WebhookError::NotConfigured) => {
            tracing::warn!(error = %err, "webhook refused");
            (StatusCode::SERVICE_UNAVAILABLE, err.to_string()).into_response()
        }
        Err(err @ WebhookError::BadSignature) => {
            tracing::warn!(error = %err, "webhook refused");
            (StatusCode::UNAUTHORIZED, err.to_string()).into_response()
        }
        Err(err @ WebhookError::Malformed(_)) => {
            tracing::warn!(error = %err, "webhook refused");
            (StatusCode::BAD_REQUEST, err.to_string()).into_response()
        }
        // Not acknowledged: Intercom delivers it again a minute later.
        Err(err @ WebhookError::NotStored(_)) => {
            tracing::error!(error = %err, "could not store a webhook");
            (StatusCode::SERVICE_UNAVAILABLE, "the notification could not be stored; deliver it again").into_response()
        }
    }
}
