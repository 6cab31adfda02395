//! The sign-in and sign-out form posts: they work without JavaScript, throttle password
//! guessing, and send the person back only to a page of this site.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use app::auth;
use app::store::Directory;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use serde::Deserialize;
use tower_sessions::Session;

use super::throttle::{describe_wait, Throttle};
use super::SecureCookies;

pub const SIGNED_IN_COOKIE: &str = "skalin_signed_in";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignInForm {
    email: String,
    password: String,
    next: String,
}

#[derive(Debug, Clone, Copy)]
pub struct SessionLifetime(pub std::time::Duration);

/// The header a trusted reverse proxy puts the client's address in, if any.
#[derive(Debug, Clone)]
pub struct ClientIpHeader(pub Option<HeaderName>);

/// The address the request came from: the connection's peer, or behind a proxy the last
/// entry of its header. Unspecified when neither is known.
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
        let header = parts.extensions.get::<ClientIpHeader>().and_then(|h| h.0.clone());
        let forwarded =
            header.and_then(|name| last_address(parts.headers.get_all(name).iter().next_back()?.to_str().ok()?));
        Ok(Self(forwarded.or(peer).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}

/// The last address of a list such as `X-Forwarded-For: client, proxy1`.
fn last_address(value: &str) -> Option<IpAddr> {
    value.rsplit(',').next()?.trim().parse().ok()
}

pub async fn sign_in(
    State(directory): State<Arc<dyn Directory>>,
    State(secure): State<SecureCookies>,
    Extension(throttle): Extension<Arc<Throttle>>,
    Extension(SessionLifetime(lifetime)): Extension<SessionLifetime>,
    ClientAddr(client): ClientAddr,
    session: Session,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = safe_next(&form.next);
    let account = auth::normalize_email(&form.email).unwrap_or_else(|_| form.email.trim().to_lowercase());
    if let Err(wait) = throttle.check(&account, client, Instant::now()) {
        tracing::warn!(%client, account, "sign-in refused: too many failed attempts");
        return too_many_attempts(wait);
    }
    match auth::authenticate(directory.as_ref(), &form.email, &form.password).await {
        Ok(user) => match auth::sign_in(&session, directory.as_ref(), &user, lifetime).await {
            Ok(here) => {
                throttle.succeeded(&account);
                tracing::info!(user.id = user.id, workspace = %here.workspace.slug, role = %here.role, %client, "signed in");
                let mut response = redirect(next);
                set_cookie(&mut response, &signed_in_cookie(secure.0));
                response
            }
            Err(auth::AuthError::NoWorkspace) => {
                // The password was right: not a failed attempt for the throttle.
                tracing::warn!(user.id = user.id, %client, "sign-in refused: the account belongs to no workspace");
                redirect(&signin_url(&[("error", "no_workspace"), ("next", next)]))
            }
            Err(err) => {
                tracing::error!(error = %err, "could not start a session");
                redirect(&signin_url(&[("error", "unavailable"), ("next", next)]))
            }
        },
        Err(auth::AuthError::WrongCredentials) => {
            throttle.failed(&account, client, Instant::now());
            tracing::warn!(%client, account, "sign-in refused: wrong email or password");
            let email = form.email.trim();
            redirect(&signin_url(&[("error", "credentials"), ("email", email), ("next", next)]))
        }
        Err(err) => {
            tracing::error!(error = %err, "sign-in failed");
            redirect(&signin_url(&[("error", "unavailable"), ("next", next)]))
        }
    }
}

fn too_many_attempts(wait: std::time::Duration) -> Response {
    let message = format!(
        "Too many failed sign-ins for this account or from this address. Try again in {}.",
        describe_wait(wait)
    );
    let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = (StatusCode::TOO_MANY_REQUESTS, message).into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

pub async fn sign_out(State(secure): State<SecureCookies>, session: Session) -> Response {
    if let Err(err) = auth::sign_out(&session).await {
        tracing::error!(error = %err, "could not end a session");
    }
    let mut response = redirect("/signin?signed_out=1");
    set_cookie(
        &mut response,
        &format!("{SIGNED_IN_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}", secure_attr(secure.0)),
    );
    response
}

#[derive(Debug, Deserialize)]
pub struct SwitchForm {
    workspace: i64,
    #[serde(default)]
    next: String,
}

/// The workspace switcher's form post: shows another of the person's workspaces from now
/// on, back on the page they were on. A workspace they do not belong to answers 404,
/// whether it exists or not, and changes nothing.
pub async fn switch_workspace(
    State(directory): State<Arc<dyn Directory>>,
    session: Session,
    Form(form): Form<SwitchForm>,
) -> Response {
    let user = match auth::session_user(&session, directory.as_ref()).await {
        Ok(Some(user)) => user,
        Ok(None) => return (StatusCode::UNAUTHORIZED, "Sign in first.").into_response(),
        Err(err) => {
            tracing::error!(error = %err, "could not read who is signed in");
            return (StatusCode::SERVICE_UNAVAILABLE, "Skalin cannot read its database just now.").into_response();
        }
    };
    match auth::switch_workspace(&session, directory.as_ref(), user.id, form.workspace).await {
        Ok(here) => {
            tracing::info!(user.id = user.id, workspace = %here.workspace.slug, "switched workspace");
            redirect(safe_next(&form.next))
        }
        Err(auth::AuthError::NotAMember) => (StatusCode::NOT_FOUND, "There is no such workspace.").into_response(),
        Err(err) => {
            tracing::error!(error = %err, "could not switch workspace");
            (StatusCode::SERVICE_UNAVAILABLE, "Switching workspace is not possible right now.").into_response()
        }
    }
}

/// A 303 to `location`. axum's `Redirect` panics on a value that is no header; every
/// location here is built from checked parts, and a bad one goes home instead.
pub fn redirect(location: &str) -> Response {
    let value = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response()
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

/// Only paths on this site: an open redirect through `next` would be a phishing aid.
/// Browsers drop tabs and line breaks from a `Location` and read `\` as `/`, so
/// `/<TAB>/evil.example` would land on `//evil.example`: anything but visible ASCII is
/// refused outright, as the gate only ever sends an encoded path here.
pub fn safe_next(next: &str) -> &str {
    let plain = next.bytes().all(|b| b.is_ascii_graphic()) && !next.contains('\\');
    let on_this_site = next.starts_with('/') && !next.starts_with("//");
    if plain && on_this_site && !next.starts_with("/signin") {
        next
    } else {
        "/"
    }
}

pub fn signin_url(params: &[(&str, &str)]) -> String {
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
    fn next_with_characters_browsers_drop_goes_home() {
        for next in ["/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/ /evil.example", "/\u{0}x"] {
            assert_eq!(safe_next(next), "/", "{next:?}");
        }
        assert_eq!(safe_next("/caf\u{e9}"), "/", "the gate sends paths percent-encoded");
        assert_eq!(safe_next("/a\\b"), "/");
    }

    #[test]
    fn a_location_that_is_no_header_value_goes_home_instead_of_failing() {
        let response = redirect("/a\nb");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()[header::LOCATION], "/");
    }

    #[test]
    fn behind_a_proxy_the_address_it_added_counts() {
        assert_eq!(last_address("203.0.113.9, 10.0.0.2"), Some("10.0.0.2".parse().unwrap()));
        assert_eq!(last_address("2001:db8::1"), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(last_address("unknown"), None);
    }

    #[test]
    fn the_sign_in_url_carries_only_meaningful_parameters() {
        assert_eq!(signin_url(&[("next", "/")]), "/signin");
        assert_eq!(
            signin_url(&[("error", "credentials"), ("email", "a+b@c.io"), ("next", "/contacts")]),
            "/signin?error=credentials&email=a%2Bb%40c.io&next=%2Fcontacts"
        );
    }
}
