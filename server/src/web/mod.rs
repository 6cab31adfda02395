//! The HTTP surface: the Leptos app and its server functions, sign-in and sign-out form
//! posts, the sign-in gate in front of every page, sessions and request logs.

mod caching;
mod guard;
mod headers;
mod sign_in;
mod throttle;
mod webhooks;

use std::sync::Arc;

use app::state::AppState;
use app::store::SessionBackend;
use app::{auth, shell, App};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use sign_in::{redirect, signin_url, SIGNED_IN_COOKIE};

pub const SESSION_COOKIE: &str = "skalin_session";

/// The settings of the HTTP surface.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// How long a session lasts without a request.
    pub session_idle: time::Duration,
    /// How long a session lasts at most, however busy.
    pub session_lifetime: std::time::Duration,
    /// Behind a reverse proxy, the header it puts the client's address in; its last
    /// entry is the one the proxy added (the ones before come from the client).
    pub client_ip_header: Option<axum::http::HeaderName>,
}

/// The paths of the app's pages, as the router serves them.
pub fn page_paths() -> Vec<String> {
    generate_route_list(App).iter().map(|route| route.path().to_string()).collect()
}

pub fn router(state: AppState, sessions: SessionBackend, settings: WebSettings) -> Router {
    let routes = generate_route_list(App);
    let SecureCookies(secure) = axum::extract::FromRef::from_ref(&state);
    let site = guard::SiteOrigin::from_public_url(&state.config.public_url);
    let session_layer = SessionManagerLayer::new(sessions)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(settings.session_idle));

    Router::new()
        .route("/auth/signin", post(sign_in::sign_in))
        .route("/auth/signout", post(sign_in::sign_out))
        .route("/auth/workspace", post(sign_in::switch_workspace))
        .route("/healthz", get(|| async { "ok" }))
        .route(crate::oauth::CONNECT_PATH, get(crate::oauth::connect))
        .route(app::integration::OAUTH_CALLBACK_PATH, get(crate::oauth::callback))
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(state.clone(), require_sign_in))
        .layer(middleware::from_fn(undecodable_arguments_are_bad_requests))
        .layer(session_layer)
        .layer(middleware::from_fn(guard::server_functions_take_their_own_encoding))
        .layer(middleware::from_fn_with_state(site, guard::same_site_writes_only))
        .layer(middleware::from_fn_with_state(headers::Https(secure), headers::protective_headers))
        .layer(Extension(Arc::new(throttle::Throttle::default())))
        .layer(Extension(sign_in::SessionLifetime(settings.session_lifetime)))
        .layer(Extension(sign_in::ClientIpHeader(settings.client_ip_header)))
        .layer(Extension(state.assets.clone()))
        .layer(middleware::from_fn(caching::cache_headers))
        // Pages, server functions' answers and unbuilt assets; the release bundle is
        // compressed at build time and sent as it is (see `caching`). The fastest level:
        // answers are small, and the default one cost 15 % of the list calls' throughput
        // under wrk on 2 cores (scripts/bench-web.sh).
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
        // Intercom's notifications pass none of the layers above: no session, page or
        // cache rule applies to them, and each costs time on the busiest route.
        .route(
            webhooks::WEBHOOK_PATH,
            post(webhooks::intercom).layer(DefaultBodyLimit::max(app::webhooks::MAX_BODY_BYTES)),
        )
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The request's span, with its path and never its query: the OAuth callback's query
/// holds the authorization `code`, which must not reach the logs.
fn request_span(request: &Request) -> tracing::Span {
    tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
}

/// Whether cookies carry `Secure`: a router state of its own so handlers can read it.
#[derive(Clone, Copy)]
pub struct SecureCookies(pub bool);

impl axum::extract::FromRef<AppState> for SecureCookies {
    fn from_ref(state: &AppState) -> Self {
        SecureCookies(state.config.public_url.starts_with("https://"))
    }
}

/// Pages need a signed-in user; assets, sign-in and the server functions (which answer
/// `SignInRequired` themselves, as data the page can show) do not.
async fn require_sign_in(State(state): State<AppState>, session: Session, request: Request, next: Next) -> Response {
    if is_public(request.uri().path()) {
        return next.run(request).await;
    }
    match auth::session_user(&session, state.directory.as_ref()).await {
        Ok(Some(_)) => return next.run(request).await,
        Ok(None) => {}
        Err(err) => {
            tracing::error!(error = %err, "could not read who is signed in");
            let message = "Skalin cannot read its database just now; try again in a moment.";
            return (StatusCode::SERVICE_UNAVAILABLE, message).into_response();
        }
    }
    let wanted = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut params = vec![("next", wanted)];
    if has_cookie(request.headers(), SIGNED_IN_COOKIE) {
        params.push(("expired", "1"));
    }
    if request.method() != axum::http::Method::GET {
        return (StatusCode::UNAUTHORIZED, "Sign in first.").into_response();
    }
    redirect(&signin_url(&params))
}

/// A server function whose arguments do not decode never runs, so it cannot set its own
/// status; the framework would answer 500 for what is the caller's mistake.
async fn undecodable_arguments_are_bad_requests(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_api || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side; it has been logged.")
            .into_response();
    };
    if matches!(serde_json::from_slice::<app::error::AppError>(&bytes), Ok(app::error::AppError::Invalid(_))) {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

fn is_public(path: &str) -> bool {
    path == "/signin"
        || path == "/healthz"
        || path == "/favicon.ico"
        || path.starts_with("/auth/")
        || path.starts_with("/pkg/")
        || path.starts_with("/api/")
}

fn has_cookie(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .any(|pair| pair.trim().split_once('=').is_some_and(|(k, v)| k == name && !v.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; skalin_signed_in=1"));
        assert!(has_cookie(&headers, SIGNED_IN_COOKIE));
        assert!(!has_cookie(&headers, "skalin"));
    }
}
