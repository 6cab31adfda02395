//! Connect me: the browser side of Intercom's OAuth. `connect` remembers a random
//! `state` in the session and sends the admin to the consent page; `callback` accepts
//! the answer only with that same state, in that same session, once.

use app::auth;
use app::csp::CspNonce;
use app::domain::Zone;
use app::error::AppError;
use app::integration::Integration;
use app::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Extension;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

pub const CONNECT_PATH: &str = "/integrations/intercom/connect";
const PENDING_KEY: &str = "intercom.oauth.pending";
/// Intercom's codes live about 5 minutes; a consent left open longer starts again.
const PENDING_TTL_SECONDS: i64 = 15 * 60;
const SETTINGS_PAGE: &str = "/integrations/intercom";

#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    state: String,
    zone: Zone,
    /// The workspace being connected: the one shown when Connect me was pressed, even if
    /// the person looks at another by the time Intercom answers.
    workspace: i64,
    started_at: i64,
}

#[derive(Debug, Deserialize)]
pub struct ConnectQuery {
    zone: Option<String>,
}

pub async fn connect(State(state): State<AppState>, session: Session, Query(query): Query<ConnectQuery>) -> Response {
    let user = match signed_in(&state, &session).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    if !user.role.can_edit_settings() {
        return page(
            &state,
            StatusCode::FORBIDDEN,
            "Only admins can connect Intercom",
            "Ask an admin of your Skalin workspace to connect it.",
        );
    }
    let zone = match query.zone.as_deref().map(Zone::parse) {
        None => Zone::Us,
        Some(Some(zone)) => zone,
        Some(None) => {
            return page(
                &state,
                StatusCode::BAD_REQUEST,
                "Unknown zone",
                "Choose US, EU or Australia, then Connect me again.",
            )
        }
    };
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let nonce: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let integration = Integration::new(state.directory.store(user.workspace.id), state.config.clone());
    let url = match integration.consent_url(zone, &nonce) {
        Ok(url) => url,
        Err(err) => return failure(&state, err.into()),
    };
    let pending = Pending { state: nonce, zone, workspace: user.workspace.id, started_at: now() };
    if let Err(err) = session.insert(PENDING_KEY, &pending).await {
        tracing::error!(error = %err, "could not remember the OAuth state");
        return failure(&state, AppError::Internal);
    }
    Redirect::to(&url).into_response()
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    nonce: Option<Extension<CspNonce>>,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let user = match signed_in(&state, &session).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    // Taken out whatever happens next: a state is good for one answer only.
    let pending: Option<Pending> = session.remove(PENDING_KEY).await.unwrap_or_else(|err| {
        tracing::error!(error = %err, "could not read the OAuth state");
        None
    });
    let Some(pending) = pending.filter(|p| now() - p.started_at <= PENDING_TTL_SECONDS) else {
        return page(
            &state,
            StatusCode::BAD_REQUEST,
            "This Intercom authorization was not started here",
            "No Connect me is waiting in this browser session (or it is more than 15 minutes old). Nothing was saved. Start again with Connect me.",
        );
    };
    if !query.state.as_deref().is_some_and(|s| constant_time_eq(s.as_bytes(), pending.state.as_bytes())) {
        tracing::warn!(user.id = user.id, "OAuth callback with a state that does not match the session: refused");
        return page(
            &state,
            StatusCode::BAD_REQUEST,
            "The Intercom answer does not match this session",
            "The state parameter did not match the one this browser was given, so the answer was refused and nothing was saved. Start again with Connect me.",
        );
    }
    if let Some(error) = query.error {
        let message = if error == "access_denied" {
            "You cancelled on Intercom's page; nothing changed.".to_string()
        } else {
            format!("Intercom answered \"{error}\"; nothing changed.")
        };
        return page(&state, StatusCode::OK, "Intercom was not connected", &message);
    }
    let Some(code) = query.code.filter(|c| !c.is_empty()) else {
        return page(
            &state,
            StatusCode::BAD_REQUEST,
            "Intercom sent no code",
            "Nothing was saved. Start again with Connect me.",
        );
    };
    let still_admin = user.workspaces.iter().any(|m| m.workspace.id == pending.workspace && m.role.can_edit_settings());
    if !still_admin {
        return page(
            &state,
            StatusCode::FORBIDDEN,
            "Only admins can connect Intercom",
            "You are no longer an admin of the workspace this Connect me was started for; nothing was saved.",
        );
    }
    let integration = Integration::new(state.directory.store(pending.workspace), state.config.clone());
    match integration.finish_oauth(&code, pending.zone, &user.email).await {
        Ok(connection) => {
            tracing::info!(user.id = user.id, intercom.app_id = ?connection.app_id, "Intercom connected by OAuth");
            connected(nonce.map(|Extension(nonce)| nonce))
        }
        Err(err) => failure(&state, err.into()),
    }
}

/// Tells the page that opened the popup, then closes; without a popup (or without
/// JavaScript), goes back to the settings page. The script carries the page's nonce, the
/// only inline script the Content Security Policy lets run.
fn connected(nonce: Option<CspNonce>) -> Response {
    let nonce = nonce.map(|n| format!(r#" nonce="{}""#, n.as_str())).unwrap_or_default();
    Html(format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Intercom connected</title>
<meta http-equiv="refresh" content="1;url={SETTINGS_PAGE}?connected=1"></head>
<body><h1>Intercom connected</h1><p><a href="{SETTINGS_PAGE}">Back to the Intercom settings</a></p>
<script{nonce}>if (window.opener && !window.opener.closed) {{ window.opener.postMessage("skalin:intercom-connected", window.location.origin); window.close(); }} else {{ window.location.replace("{SETTINGS_PAGE}?connected=1"); }}</script>
</body></html>"#
    ))
    .into_response()
}

/// Who is signed in, or the answer to give instead: back to sign-in, or a failure.
async fn signed_in(state: &AppState, session: &Session) -> Result<app::domain::SessionUser, Response> {
    match auth::session_user(session, state.directory.as_ref()).await {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(Redirect::to("/signin?next=%2Fintegrations%2Fintercom").into_response()),
        Err(err) => {
            tracing::error!(error = %err, "could not read who is signed in");
            Err(failure(state, AppError::Internal))
        }
    }
}

fn failure(state: &AppState, error: AppError) -> Response {
    let status = match error {
        AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        AppError::Intercom(_) => StatusCode::BAD_GATEWAY,
        _ => StatusCode::BAD_REQUEST,
    };
    page(state, status, "Intercom was not connected", &error.to_string())
}

fn page(state: &AppState, status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title><link rel="stylesheet" href="{css}"></head>
<body><main class="content"><h1>{title}</h1><p data-testid="oauth-message">{message}</p><p><a href="{SETTINGS_PAGE}">Back to the Intercom settings</a></p></main></body></html>"#,
        title = escape(title),
        message = escape(message),
        css = escape(&state.assets.css),
    );
    (status, Html(body)).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}
