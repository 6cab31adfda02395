//! The HTTP surface: the Leptos app and its server functions, sign-in and sign-out form
//! posts, the sign-in gate in front of every page, sessions and request logs.

use std::sync::Arc;

use app::state::AppState;
use app::store::{SessionBackend, Store};
use app::{auth, shell, App};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use leptos_axum::{generate_route_list, LeptosRoutes};
use serde::Deserialize;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

pub const SESSION_COOKIE: &str = "skalin_session";
/// Outlives the session: when it is there but the session is not, the session expired,
/// and the sign-in page says so instead of greeting a stranger.
pub const SIGNED_IN_COOKIE: &str = "skalin_signed_in";

/// `session_idle`: how long a session lasts without a request.
pub fn router(state: AppState, sessions: SessionBackend, session_idle: time::Duration) -> Router {
    let routes = generate_route_list(App);
    let SecureCookies(secure) = axum::extract::FromRef::from_ref(&state);
    let session_layer = SessionManagerLayer::new(sessions)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(session_idle));

    Router::new()
        .route("/auth/signin", post(sign_in))
        .route("/auth/signout", post(sign_out))
        .route("/healthz", get(|| async { "ok" }))
        .route(crate::oauth::CONNECT_PATH, get(crate::oauth::connect))
        .route(app::integration::OAUTH_CALLBACK_PATH, get(crate::oauth::callback))
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(require_sign_in))
        .layer(middleware::from_fn(undecodable_arguments_are_bad_requests))
        .layer(session_layer)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignInForm {
    email: String,
    password: String,
    next: String,
}

async fn sign_in(
    State(store): State<Arc<dyn Store>>,
    State(secure): State<SecureCookies>,
    session: Session,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = safe_next(&form.next);
    match auth::authenticate(store.as_ref(), &form.email, &form.password).await {
        Ok(user) => match auth::sign_in(&session, &user).await {
            Ok(()) => {
                tracing::info!(user.id = user.id, user.role = %user.role, "signed in");
                let mut response = Redirect::to(next).into_response();
                set_cookie(&mut response, &signed_in_cookie(secure.0));
                response
            }
            Err(err) => {
                tracing::error!(error = %err, "could not start a session");
                Redirect::to(&signin_url(&[("error", "unavailable"), ("next", next)])).into_response()
            }
        },
        Err(auth::AuthError::WrongCredentials) => {
            tracing::info!("sign-in refused: wrong email or password");
            let email = form.email.trim();
            Redirect::to(&signin_url(&[("error", "credentials"), ("email", email), ("next", next)])).into_response()
        }
        Err(err) => {
            tracing::error!(error = %err, "sign-in failed");
            Redirect::to(&signin_url(&[("error", "unavailable"), ("next", next)])).into_response()
        }
    }
}

async fn sign_out(State(secure): State<SecureCookies>, session: Session) -> Response {
    if let Err(err) = auth::sign_out(&session).await {
        tracing::error!(error = %err, "could not end a session");
    }
    let mut response = Redirect::to("/signin?signed_out=1").into_response();
    set_cookie(
        &mut response,
        &format!("{SIGNED_IN_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}", secure_attr(secure.0)),
    );
    response
}

/// Whether cookies carry `Secure`: a router state of its own so handlers can read it.
#[derive(Clone, Copy)]
struct SecureCookies(bool);

impl axum::extract::FromRef<AppState> for SecureCookies {
    fn from_ref(state: &AppState) -> Self {
        SecureCookies(state.config.public_url.starts_with("https://"))
    }
}

fn signed_in_cookie(secure: bool) -> String {
    format!("{SIGNED_IN_COOKIE}=1; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax{}", secure_attr(secure))
}

fn secure_attr(secure: bool) -> &'static str {
    if secure {
        "; Secure"
    } else {
        ""
    }
}

fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Pages need a signed-in user; assets, sign-in and the server functions (which answer
/// `SignInRequired` themselves, as data the page can show) do not.
async fn require_sign_in(session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if is_public(path) || auth::session_user(&session).await.is_some() {
        return next.run(request).await;
    }
    let wanted = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut params = vec![("next", wanted)];
    if has_cookie(request.headers(), SIGNED_IN_COOKIE) {
        params.push(("expired", "1"));
    }
    if request.method() != axum::http::Method::GET {
        return (StatusCode::UNAUTHORIZED, "Sign in first.").into_response();
    }
    Redirect::to(&signin_url(&params)).into_response()
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

/// Only paths on this site: an open redirect through `next` would be a phishing aid.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") && !next.starts_with("/signin") {
        next
    } else {
        "/"
    }
}

fn signin_url(params: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().filter(|(_, v)| !v.is_empty() && *v != "/"))
        .finish();
    if query.is_empty() {
        "/signin".to_string()
    } else {
        format!("/signin?{query}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/customers?page=2"), "/customers?page=2");
        assert_eq!(safe_next("//evil.example/"), "/");
        assert_eq!(safe_next("https://evil.example/"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next(""), "/");
    }

    #[test]
    fn the_sign_in_url_carries_only_meaningful_parameters() {
        assert_eq!(signin_url(&[("next", "/")]), "/signin");
        assert_eq!(
            signin_url(&[("error", "credentials"), ("email", "a+b@c.io"), ("next", "/contacts")]),
            "/signin?error=credentials&email=a%2Bb%40c.io&next=%2Fcontacts"
        );
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; skalin_signed_in=1"));
        assert!(has_cookie(&headers, SIGNED_IN_COOKIE));
        assert!(!has_cookie(&headers, "skalin"));
    }
}
