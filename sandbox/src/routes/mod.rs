//! The API's routes; every one of them goes through `gate` first.

pub mod admins;
pub mod companies;
pub mod contacts;
pub mod conversations;
pub mod data_attributes;
pub mod tickets;

use axum::handler::Handler;
use axum::http::HeaderMap;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

use super::error::ApiError;
use super::gate::{gate, gate_unknown_route};
use super::{oauth, Sandbox};

pub fn router(sandbox: Sandbox) -> Router {
    let api = Router::new()
        .route("/me", get(admins::me))
        .route("/admins", get(admins::list))
        .route("/tags", get(admins::tags))
        .route("/data_attributes", get(data_attributes::list).post(data_attributes::create))
        .route("/data_attributes/{id}", put(data_attributes::update))
        .route("/companies", get(companies::list).post(companies::upsert))
        .route("/companies/scroll", get(companies::scroll))
        .route("/companies/list", post(companies::list_by_last_request))
        .route("/companies/{id}", get(companies::show).put(companies::update))
        .route("/contacts", get(contacts::list).post(contacts::create))
        .route("/contacts/search", post(contacts::search))
        .route("/contacts/{id}", get(contacts::show).put(contacts::update))
        .route("/contacts/{id}/companies", get(contacts::companies).post(contacts::attach_company))
        .route("/contacts/{id}/tags", get(contacts::tags).post(contacts::attach_tag))
        .route("/contacts/{id}/tags/{tag_id}", delete(contacts::detach_tag))
        .route("/conversations/search", post(conversations::search))
        .route("/tickets/search", post(tickets::search))
        .route("/tickets/{id}", get(tickets::show))
        .route("/ticket_types", get(tickets::types))
        .route_layer(from_fn_with_state(sandbox.clone(), gate));
    let unknown = not_found.layer(from_fn_with_state(sandbox.clone(), gate_unknown_route));
    Router::new()
        .merge(api)
        .merge(oauth::router())
        .fallback(unknown.clone())
        // A GET on a POST-only URL such as /companies/list is a 404 on the live API.
        .method_not_allowed_fallback(unknown)
        .with_state(sandbox)
}

async fn not_found() -> Response {
    ApiError::not_found("Resource Not Found").into_response()
}

pub fn ok(value: impl Serialize) -> Response {
    Json(value).into_response()
}

/// A list of records with its paging. The records are written as they are: `json!` would
/// copy each into a new `Value` first. Keys in `Value`'s (sorted) order, as everywhere.
#[derive(Serialize)]
pub struct List<T> {
    pub data: Vec<T>,
    pub pages: Value,
    pub total_count: usize,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

impl<T> List<T> {
    pub fn new(data: Vec<T>, pages: Value, total_count: usize) -> Self {
        List { data, pages, total_count, kind: "list" }
    }
}

/// Full next-page URLs point back at this sandbox, never at the real API.
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// Page `page` of the page-numbered list at `path`, as the full URL the company lists
/// put in `pages.next` (docs/intercom.md §6): `per_page` and `page` first, as in real
/// traffic, then the request's other parameters.
pub fn page_url(headers: &HeaderMap, path: &str, raw_query: Option<&str>, per_page: i64, page: i64) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("per_page", &per_page.to_string()).append_pair("page", &page.to_string());
    for (key, value) in url::form_urlencoded::parse(raw_query.unwrap_or("").as_bytes()) {
        if key != "page" && key != "per_page" {
            query.append_pair(&key, &value);
        }
    }
    format!("{}{path}?{}", base_url(headers), query.finish())
}
