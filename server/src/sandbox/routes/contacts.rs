//! Contacts: the cursor list, search, lookups with the merged-contact rules of each
//! version, updates, and the contact's companies and tags (REFERENCE §6, §7, §10).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Value};

use super::data_attributes::checked_custom_attributes;
use super::{base_url, ok};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::model::Model;
use crate::sandbox::params::{json_object, page_params, Query};
use crate::sandbox::search::{self, Kind};
use crate::sandbox::state::State as Workspace;
use crate::sandbox::version::ApiVersion;
use crate::sandbox::{cursor, render, Sandbox};

const MAX_PER_PAGE: i64 = 150;

pub async fn list(State(sandbox): State<Sandbox>, Extension(v): Extension<ApiVersion>, RawQuery(q): RawQuery) -> ApiResult {
    let query = Query::parse(q.as_deref());
    let per_page = query.int("per_page")?.unwrap_or(10).clamp(1, MAX_PER_PAGE) as usize;
    let state = sandbox.lock();
    let (start, page) = match query.get("starting_after") {
        None => (0, 1),
        Some(raw) => {
            let bad = || ApiError::parameter_invalid("starting_after is invalid").with_field("starting_after");
            let key = cursor::decode(raw).ok_or_else(bad)?;
            let last = key.get("id").and_then(Value::as_str).ok_or_else(bad)?;
            let page = key.get("page").and_then(Value::as_u64).unwrap_or(1) + 1;
            // Ids grow with creation and contacts are stored in id order.
            (state.contacts.partition_point(|c| c.id.as_str() <= last), page as usize)
        }
    };
    let mut rows = Vec::with_capacity(per_page);
    let mut i = start;
    while i < state.contacts.len() && rows.len() < per_page {
        if state.contacts[i].merged_into.is_none() {
            rows.push(i);
        }
        i += 1;
    }
    let more = state.contacts[i.min(state.contacts.len())..].iter().any(|c| c.merged_into.is_none());
    let total_pages = state.live_contacts.div_ceil(per_page).max(1);
    let mut pages = json!({"type": "pages", "page": page, "per_page": per_page, "total_pages": total_pages});
    if let (true, Some(&last)) = (more, rows.last()) {
        let key = json!({"id": state.contacts[last].id, "page": page});
        pages["next"] = json!({"page": page + 1, "starting_after": cursor::encode(&key)});
    }
    let data: Vec<Value> = rows.iter().map(|&i| render::contact(&state, &state.contacts[i], v)).collect();
    Ok(ok(json!({"type": "list", "data": data, "total_count": state.live_contacts, "pages": pages})))
}

pub async fn search(State(sandbox): State<Sandbox>, Extension(v): Extension<ApiVersion>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let mut state = sandbox.lock();
    let request = search::parse(&state, Kind::Contacts, &body, v)?;
    let (rows, pages, total) = search::page(&mut state, Kind::Contacts, &request, v)?;
    let data: Vec<Value> = rows.iter().map(|&i| render::contact(&state, &state.contacts[i], v)).collect();
    Ok(ok(json!({"type": "list", "data": data, "total_count": total, "pages": pages})))
}

/// The live contact behind an id, or the error each version gives for a merged one.
// A ready response (with its Link header) is the natural error here; it is built once per request.
#[allow(clippy::result_large_err)]
fn live_contact(state: &Workspace, id: &str, v: ApiVersion) -> Result<usize, Response> {
    let index = *state.contact_by_id.get(id).ok_or_else(|| ApiError::user_not_found().into_response())?;
    let Some(mut target) = state.contacts[index].merged_into else { return Ok(index) };
    if !v.at_least_2_16() {
        return Err(ApiError::user_not_found().into_response());
    }
    // The Link header resolves chains of up to three merges.
    for _ in 0..2 {
        match state.contacts[target].merged_into {
            Some(next) => target = next,
            None => break,
        }
    }
    let error = ApiError::new(StatusCode::GONE, "contact_merged", "This contact was merged into another contact");
    let mut response = error.into_response();
    let link = format!("</contacts/{}>; rel=\"canonical\"", state.contacts[target].id);
    if let Ok(value) = HeaderValue::from_str(&link) {
        response.headers_mut().insert("link", value);
    }
    Err(response)
}

pub async fn show(State(sandbox): State<Sandbox>, Extension(v): Extension<ApiVersion>, Path(id): Path<String>) -> Response {
    let state = sandbox.lock();
    match live_contact(&state, &id, v) {
        Ok(i) => ok(render::contact(&state, &state.contacts[i], v)),
        Err(response) => response,
    }
}

const UPDATE_FIELDS: &[&str] = &[
    "role", "external_id", "email", "email_verified", "phone", "name", "avatar", "signed_up_at", "last_seen_at",
    "owner_id", "unsubscribed_from_emails", "custom_attributes",
];

fn opt_string(value: &Value, key: &str) -> Result<Option<String>, ApiError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(ApiError::parameter_invalid(format!("{key} must be a string")).with_field(key)),
    }
}

fn opt_int(value: &Value, key: &str) -> Result<Option<i64>, ApiError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => s.parse().map(Some).map_err(|_| ApiError::parameter_invalid(format!("{key} must be an integer")).with_field(key)),
        v => v.as_i64().map(Some).ok_or_else(|| ApiError::parameter_invalid(format!("{key} must be an integer")).with_field(key)),
    }
}

#[allow(clippy::result_large_err)]
pub async fn update(
    State(sandbox): State<Sandbox>,
    Extension(v): Extension<ApiVersion>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let result = (|| -> Result<Value, Response> {
        let body = json_object(&body).map_err(IntoResponse::into_response)?;
        if let Some(bad) = body.keys().find(|k| !UPDATE_FIELDS.contains(&k.as_str())) {
            return Err(ApiError::bad_request(format!("bad '{bad}' parameter")).into_response());
        }
        let mut state = sandbox.lock();
        let index = live_contact(&state, &id, v)?;
        let custom = match body.get("custom_attributes") {
            None => vec![],
            Some(value) => checked_custom_attributes(&state, Model::Contact, value).map_err(IntoResponse::into_response)?,
        };
        let now = state.now();
        let admin_ids: Vec<i64> = state.admins.iter().map(|a| a.id).collect();
        let contact = &mut state.contacts[index];
        let err = |e: ApiError| e.into_response();
        for (key, value) in &body {
            match key.as_str() {
                "role" => match value.as_str() {
                    Some(role @ ("user" | "lead")) => contact.role = if role == "user" { "user" } else { "lead" },
                    _ => return Err(err(ApiError::parameter_invalid("role must be user or lead").with_field("role"))),
                },
                "external_id" => contact.external_id = opt_string(value, key).map_err(err)?,
                "email" => contact.email = opt_string(value, key).map_err(err)?,
                "phone" => contact.phone = opt_string(value, key).map_err(err)?,
                "name" => contact.name = opt_string(value, key).map_err(err)?,
                "signed_up_at" => contact.signed_up_at = opt_int(value, key).map_err(err)?,
                "last_seen_at" => contact.last_seen_at = opt_int(value, key).map_err(err)?,
                // A string in 2.16 and an integer before; either is read.
                "owner_id" => {
                    let owner = opt_int(value, key).map_err(err)?;
                    if owner.is_some_and(|o| !admin_ids.contains(&o)) {
                        return Err(err(ApiError::parameter_invalid("owner_id is not a teammate of this workspace").with_field("owner_id")));
                    }
                    contact.owner_id = owner;
                }
                "unsubscribed_from_emails" => contact.unsubscribed_from_emails = value.as_bool().unwrap_or(contact.unsubscribed_from_emails),
                _ => {}
            }
        }
        for (name, value) in custom {
            if value.is_null() {
                contact.custom_attributes.remove(&name);
            } else {
                contact.custom_attributes.insert(name, value);
            }
        }
        contact.updated_at = now;
        contact.written_at = Some(std::time::Instant::now());
        state.touch();
        Ok(render::contact(&state, &state.contacts[index], v))
    })();
    match result {
        Ok(value) => ok(value),
        Err(response) => response,
    }
}

pub async fn companies(
    State(sandbox): State<Sandbox>,
    Extension(v): Extension<ApiVersion>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let query = Query::parse(q.as_deref());
    let (page, per_page) = match page_params(&query, 50, MAX_PER_PAGE) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let state = sandbox.lock();
    let index = match live_contact(&state, &id, v) {
        Ok(i) => i,
        Err(response) => return response,
    };
    let all = &state.contacts[index].companies;
    let start = (((page - 1) * per_page) as usize).min(all.len());
    let end = (start + per_page as usize).min(all.len());
    let data: Vec<Value> = all[start..end].iter().map(|&c| render::company(&state, &state.companies[c], v)).collect();
    let next = (end < all.len()).then(|| format!("{}/contacts/{id}/companies?per_page={per_page}&page={}", base_url(&headers), page + 1));
    let total_pages = all.len().div_ceil(per_page as usize);
    let mut out = json!({
        "type": "list",
        "pages": {"type": "pages", "next": next, "page": page, "per_page": per_page, "total_pages": total_pages},
        "total_count": all.len(),
    });
    out[state.contact_companies_key] = Value::Array(data);
    ok(out)
}

pub async fn tags(State(sandbox): State<Sandbox>, Extension(v): Extension<ApiVersion>, Path(id): Path<String>) -> Response {
    let state = sandbox.lock();
    let index = match live_contact(&state, &id, v) {
        Ok(i) => i,
        Err(response) => return response,
    };
    let owner = state.admins[0].id.to_string();
    let data: Vec<Value> = state.contacts[index]
        .tags
        .iter()
        .filter_map(|(t, at)| state.tags.get(*t).map(|tag| (tag, at)))
        .map(|(tag, at)| json!({"type": "tag", "id": tag.id, "name": tag.name, "applied_at": at, "applied_by": {"type": "admin", "id": owner}}))
        .collect();
    ok(json!({"type": "list", "data": data}))
}
