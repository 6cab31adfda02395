//! The OAuth dance (docs/intercom.md §2): a consent page, a redirect with `code` and
//! `state`, and `POST /auth/eagle/token`, which mints tokens that the API then accepts.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use super::error::ApiError;
use super::params::Query;
use super::state::OauthCode;
use super::{Sandbox, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET};

/// Codes expire after about five minutes.
const CODE_LIFETIME: i64 = 300;

pub fn router() -> Router<Sandbox> {
    Router::new().route("/oauth", get(consent_page).post(consent_answer)).route("/auth/eagle/token", post(token))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn check_redirect(redirect_uri: Option<&str>) -> Result<url::Url, ApiError> {
    let raw = redirect_uri
        .ok_or_else(|| ApiError::parameter_invalid("redirect_uri is required").with_field("redirect_uri"))?;
    let url = url::Url::parse(raw)
        .map_err(|_| ApiError::parameter_invalid("redirect_uri is not a valid URL").with_field("redirect_uri"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ApiError::parameter_invalid("redirect_uri must be http or https").with_field("redirect_uri"));
    }
    Ok(url)
}

fn check_client(client_id: Option<&str>) -> Result<(), ApiError> {
    if client_id == Some(SANDBOX_CLIENT_ID) {
        Ok(())
    } else {
        Err(ApiError::parameter_invalid("Unknown client_id").with_field("client_id"))
    }
}

async fn consent_page(RawQuery(q): RawQuery) -> Response {
    let query = Query::parse(q.as_deref());
    if let Err(e) =
        check_client(query.get("client_id")).and_then(|_| check_redirect(query.get("redirect_uri")).map(|_| ()))
    {
        return e.into_response();
    }
    let field = |name: &str| {
        format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">", escape(query.get(name).unwrap_or("")))
    };
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Authorize Skalin</title></head><body>\
         <h1>Authorize Skalin to access Skalin Sandbox</h1>\
         <p>Skalin will be able to read your users, companies and tickets.</p>\
         <form method=\"post\" action=\"/oauth\">{}{}{}\
         <button type=\"submit\" name=\"decision\" value=\"authorize\">Authorize</button> \
         <button type=\"submit\" name=\"decision\" value=\"cancel\">Cancel</button>\
         </form></body></html>",
        field("client_id"),
        field("redirect_uri"),
        field("state"),
    );
    Html(page).into_response()
}

async fn consent_answer(State(sandbox): State<Sandbox>, body: Bytes) -> Response {
    let form = Query::parse(std::str::from_utf8(&body).ok());
    if let Err(e) = check_client(form.get("client_id")) {
        return e.into_response();
    }
    let mut target = match check_redirect(form.get("redirect_uri")) {
        Ok(url) => url,
        Err(e) => return e.into_response(),
    };
    let state_param = form.get("state").unwrap_or("").to_string();
    if form.get("decision") == Some("authorize") {
        let mut state = sandbox.lock();
        let code = state.misc_rng.uuid().replace('-', "");
        let issued_at = state.now();
        state.oauth_codes.insert(code.clone(), OauthCode { issued_at, used: false });
        target.query_pairs_mut().append_pair("code", &code).append_pair("state", &state_param);
    } else {
        target.query_pairs_mut().append_pair("error", "access_denied").append_pair("state", &state_param);
    }
    (StatusCode::SEE_OTHER, [(header::LOCATION, target.to_string())]).into_response()
}

async fn token(State(sandbox): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let field = |name: &str| -> Option<String> {
        if is_json {
            serde_json::from_slice::<Value>(&body).ok()?.get(name)?.as_str().map(str::to_string)
        } else {
            Query::parse(std::str::from_utf8(&body).ok()).get(name).map(str::to_string)
        }
    };
    if field("client_id").as_deref() != Some(SANDBOX_CLIENT_ID)
        || field("client_secret").as_deref() != Some(SANDBOX_CLIENT_SECRET)
    {
        return ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "Invalid client_id or client_secret")
            .into_response();
    }
    let Some(code) = field("code") else {
        return ApiError::new(StatusCode::BAD_REQUEST, "parameter_not_found", "code is required")
            .with_field("code")
            .into_response();
    };
    let mut state = sandbox.lock();
    let now = state.now();
    let valid = match state.oauth_codes.get_mut(&code) {
        Some(entry) if !entry.used && now - entry.issued_at <= CODE_LIFETIME => {
            entry.used = true;
            true
        }
        _ => false,
    };
    if !valid {
        return ApiError::parameter_invalid("The authorization code is invalid, expired or already used")
            .with_field("code")
            .into_response();
    }
    let token = STANDARD.encode(format!("tok:{}:{}", state.misc_rng.uuid(), state.misc_rng.next_u64()));
    state.tokens.insert(token.clone());
    Json(json!({"token": token, "access_token": token, "token_type": "Bearer"})).into_response()
}
