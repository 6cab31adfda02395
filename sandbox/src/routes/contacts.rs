//! Contacts: the cursor list, search, lookups with the merged-contact rules of each
//! version, updates, and the contact's companies and tags (docs/intercom.md §6, §8.4,
//! §10).

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Map, Value};

use super::data_attributes::checked_custom_attributes;
use super::{base_url, ok, List};
use crate::error::{ApiError, ApiResult};
use crate::model::{Contact, Model};
use crate::params::{json_object, page_params, Query};
use crate::search::{self, Kind};
use crate::state::State as Workspace;
use crate::version::ApiVersion;
use crate::{cursor, render, Sandbox};

const MAX_PER_PAGE: i64 = 150;

pub async fn list(
    State(sandbox): State<Sandbox>,
    Extension(v): Extension<ApiVersion>,
    RawQuery(q): RawQuery,
) -> ApiResult {
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
    let data: Vec<_> = rows.iter().map(|&i| render::contact(&state, &state.contacts[i], v)).collect();
    Ok(ok(List::new(data, pages, state.live_contacts)))
}

pub async fn search(State(sandbox): State<Sandbox>, Extension(v): Extension<ApiVersion>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let mut state = sandbox.lock();
    let request = search::parse(&state, Kind::Contacts, &body, v)?;
    let (rows, pages, total) = search::page(&mut state, Kind::Contacts, &request, v)?;
    let data: Vec<_> = rows.iter().map(|&i| render::contact(&state, &state.contacts[i], v)).collect();
    Ok(ok(List::new(data, pages, total)))
}

/// The live contact behind an id, or the error each version gives for a merged one.
// A ready response (with its Link header) is the natural error here; it is built once per request.
#[expect(clippy::result_large_err, reason = "the error is the finished answer the route returns as it is")]
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

pub async fn show(
    State(sandbox): State<Sandbox>,
    Extension(v): Extension<ApiVersion>,
    Path(id): Path<String>,
) -> Response {
    let state = sandbox.lock();
    match live_contact(&state, &id, v) {
        Ok(i) => ok(render::contact(&state, &state.contacts[i], v)),
        Err(response) => response,
    }
}

const UPDATE_FIELDS: &[&str] = &[
    "role",
    "external_id",
    "email",
    "email_verified",
    "phone",
    "name",
    "avatar",
    "signed_up_at",
    "last_seen_at",
    "owner_id",
    "unsubscribed_from_emails",
    "custom_attributes",
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
        Value::String(s) => s
            .parse()
            .map(Some)
            .map_err(|_| ApiError::parameter_invalid(format!("{key} must be an integer")).with_field(key)),
        v => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| ApiError::parameter_invalid(format!("{key} must be an integer")).with_field(key)),
    }
}

/// What `Sandbox::update_contact` lets a teammate edit.
pub const UI_FIELDS: &[&str] = &["name", "email", "phone", "external_id", "custom_attributes"];

/// Checks the whole body and writes it onto `contact`, a copy: on an error the caller
/// drops the copy, so a bad field halfway through leaves the stored contact as it was.
fn write_fields(
    state: &Workspace,
    contact: &mut Contact,
    body: &Map<String, Value>,
    allowed: &[&str],
) -> Result<(), ApiError> {
    if let Some(bad) = body.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!("bad '{bad}' parameter")));
    }
    // The spec: email_verified "must be supplied together with an email in the same request".
    if body.contains_key("email_verified") && !body.contains_key("email") {
        return Err(ApiError::parameter_invalid("email_verified must be sent with email").with_field("email_verified"));
    }
    let custom = match body.get("custom_attributes") {
        None => vec![],
        Some(value) => checked_custom_attributes(state, Model::Contact, value)?,
    };
    for (key, value) in body {
        match key.as_str() {
            "role" => match value.as_str() {
                Some(role @ ("user" | "lead")) => contact.role = if role == "user" { "user" } else { "lead" },
                _ => return Err(ApiError::parameter_invalid("role must be user or lead").with_field("role")),
            },
            "external_id" => contact.external_id = opt_string(value, key)?,
            "email" => contact.email = opt_string(value, key)?,
            "phone" => contact.phone = opt_string(value, key)?,
            "name" => contact.name = opt_string(value, key)?,
            "avatar" => contact.avatar = opt_string(value, key)?,
            "signed_up_at" => contact.signed_up_at = opt_int(value, key)?,
            "last_seen_at" => contact.last_seen_at = opt_int(value, key)?,
            // A string in 2.16 and an integer before; either is read.
            "owner_id" => {
                let owner = opt_int(value, key)?;
                if owner.is_some_and(|o| !state.admins.iter().any(|a| a.id == o)) {
                    return Err(ApiError::parameter_invalid("owner_id is not a teammate of this workspace")
                        .with_field("owner_id"));
                }
                contact.owner_id = owner;
            }
            "unsubscribed_from_emails" => {
                contact.unsubscribed_from_emails = value.as_bool().unwrap_or(contact.unsubscribed_from_emails)
            }
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
    Ok(())
}

/// Writes a checked body onto a stored contact; nothing is written if any field is refused.
pub fn apply_update(
    state: &mut Workspace,
    index: usize,
    body: &Map<String, Value>,
    allowed: &[&str],
) -> Result<(), ApiError> {
    let mut contact = state.contacts[index].clone();
    write_fields(state, &mut contact, body, allowed)?;
    contact.updated_at = state.now();
    contact.written_at = Some(Instant::now());
    state.contacts[index] = contact;
    state.touch();
    state.notify_contact(index, "updated");
    Ok(())
}

/// A contact as `POST /contacts` starts it: a user with nothing known, as in the spec's example.
fn blank_contact(now: i64) -> Contact {
    Contact {
        id: String::new(),
        external_id: None,
        role: "user",
        email: None,
        phone: None,
        name: None,
        avatar: None,
        owner_id: None,
        created_at: now,
        updated_at: now,
        signed_up_at: None,
        last_seen_at: None,
        last_contacted_at: None,
        last_replied_at: None,
        last_email_opened_at: None,
        last_email_clicked_at: None,
        unsubscribed_from_emails: false,
        marked_email_as_spam: false,
        has_hard_bounced: false,
        country: None,
        city: None,
        custom_attributes: Map::new(),
        tags: vec![],
        companies: vec![],
        merged_into: None,
        written_at: None,
    }
}

/// The spec's create and update bodies take the same fields.
const CREATE_FIELDS: &[&str] = UPDATE_FIELDS;

pub async fn create(State(sandbox): State<Sandbox>, Extension(v): Extension<ApiVersion>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    if let Some(bad) = body.keys().find(|k| !CREATE_FIELDS.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!("bad '{bad}' parameter")));
    }
    // The spec's anyOf asks for one of the three. UNCONFIRMED: the live message.
    if !["email", "external_id", "role"].iter().any(|k| body.get(*k).is_some_and(|v| !v.is_null())) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "parameter_not_found",
            "email, external_id or role not specified",
        ));
    }
    let mut state = sandbox.lock();
    let now = state.now();
    let mut contact = blank_contact(now);
    write_fields(&state, &mut contact, &body, CREATE_FIELDS)?;
    // Clients parse the id out of this message to adopt the existing contact, so it is kept verbatim.
    if let Some(existing) = state.duplicate_of(&contact) {
        let message = format!("A contact matching those details already exists with id={}", existing.id);
        return Err(ApiError::new(StatusCode::CONFLICT, "conflict", message));
    }
    contact.id = state.next_contact_id(now);
    contact.written_at = Some(Instant::now());
    let index = state.add_contact(contact);
    Ok(ok(render::contact(&state, &state.contacts[index], v)))
}

pub async fn update(
    State(sandbox): State<Sandbox>,
    Extension(v): Extension<ApiVersion>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let body = match json_object(&body) {
        Ok(body) => body,
        Err(e) => return e.into_response(),
    };
    // A bad field is a 400 whether or not the contact exists.
    if let Some(bad) = body.keys().find(|k| !UPDATE_FIELDS.contains(&k.as_str())) {
        return ApiError::bad_request(format!("bad '{bad}' parameter")).into_response();
    }
    let mut state = sandbox.lock();
    let index = match live_contact(&state, &id, v) {
        Ok(i) => i,
        Err(response) => return response,
    };
    match apply_update(&mut state, index, &body, UPDATE_FIELDS) {
        Ok(()) => ok(render::contact(&state, &state.contacts[index], v)),
        Err(e) => e.into_response(),
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
    let all: Vec<usize> = state.contact_companies(&state.contacts[index]).collect();
    let start = (((page - 1) * per_page) as usize).min(all.len());
    let end = (start + per_page as usize).min(all.len());
    let data: Vec<Value> = all[start..end].iter().map(|&c| render::company(&state, &state.companies[c], v)).collect();
    let next = (end < all.len())
        .then(|| format!("{}/contacts/{id}/companies?per_page={per_page}&page={}", base_url(&headers), page + 1));
    let total_pages = all.len().div_ceil(per_page as usize);
    let mut out = json!({
        "type": "list",
        "pages": {"type": "pages", "next": next, "page": page, "per_page": per_page, "total_pages": total_pages},
        "total_count": all.len(),
    });
    out[state.contact_companies_key] = Value::Array(data);
    ok(out)
}

/// The live API's cap on a contact's companies (spec, `attachContactToACompany`).
const MAX_COMPANIES_PER_CONTACT: usize = 1_000;

pub async fn attach_company(
    State(sandbox): State<Sandbox>,
    Extension(v): Extension<ApiVersion>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let body = match json_object(&body) {
        Ok(body) => body,
        Err(e) => return e.into_response(),
    };
    let mut state = sandbox.lock();
    let index = match live_contact(&state, &id, v) {
        Ok(i) => i,
        Err(response) => return response,
    };
    let Some(company_id) = id_param(&body) else {
        return ApiError::new(StatusCode::BAD_REQUEST, "parameter_not_found", "company not specified").into_response();
    };
    // Deleted companies are out of `company_by_id`, so they are not found either.
    let Some(&company) = state.company_by_id.get(&company_id) else {
        return ApiError::company_not_found().into_response();
    };
    let attached = state.contacts[index].companies.contains(&company);
    if !attached && state.contact_companies(&state.contacts[index]).count() >= MAX_COMPANIES_PER_CONTACT {
        let message = format!("Contact has reached the maximum of {MAX_COMPANIES_PER_CONTACT} company associations");
        return ApiError::new(StatusCode::BAD_REQUEST, "contact_company_limit_exceeded", message).into_response();
    }
    state.attach_company(index, company);
    ok(render::company(&state, &state.companies[company], v))
}

pub async fn tags(
    State(sandbox): State<Sandbox>,
    Extension(v): Extension<ApiVersion>,
    Path(id): Path<String>,
) -> Response {
    let state = sandbox.lock();
    let index = match live_contact(&state, &id, v) {
        Ok(i) => i,
        Err(response) => return response,
    };
    let data: Vec<Value> = state.contacts[index]
        .tags
        .iter()
        .filter_map(|(t, at)| state.tags.get(*t).map(|tag| render::applied_tag(&state, tag, *at)))
        .collect();
    ok(json!({"type": "list", "data": data}))
}

fn tag_not_found() -> ApiError {
    ApiError::not_found("Resource Not Found")
}

/// The spec's examples send the tag id as a string or as a number; both are read.
fn id_param(body: &Map<String, Value>) -> Option<String> {
    match body.get("id")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub async fn attach_tag(
    State(sandbox): State<Sandbox>,
    Extension(v): Extension<ApiVersion>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let body = match json_object(&body) {
        Ok(body) => body,
        Err(e) => return e.into_response(),
    };
    let mut state = sandbox.lock();
    let index = match live_contact(&state, &id, v) {
        Ok(i) => i,
        Err(response) => return response,
    };
    let Some(tag_id) = id_param(&body) else {
        return ApiError::new(StatusCode::BAD_REQUEST, "parameter_not_found", "id not specified")
            .with_field("id")
            .into_response();
    };
    let Some(tag) = state.tags.iter().position(|t| t.id == tag_id) else { return tag_not_found().into_response() };
    let applied_at = state.attach_tag(index, tag);
    ok(render::applied_tag(&state, &state.tags[tag], applied_at))
}

pub async fn detach_tag(
    State(sandbox): State<Sandbox>,
    Extension(v): Extension<ApiVersion>,
    Path((id, tag_id)): Path<(String, String)>,
) -> Response {
    let mut state = sandbox.lock();
    let index = match live_contact(&state, &id, v) {
        Ok(i) => i,
        Err(response) => return response,
    };
    let Some(tag) = state.tags.iter().position(|t| t.id == tag_id) else { return tag_not_found().into_response() };
    // UNCONFIRMED: removing a tag the contact does not carry; the spec's only other 404 is
    // the unknown tag, so it is read as that.
    match state.detach_tag(index, tag) {
        Some(applied_at) => ok(render::applied_tag(&state, &state.tags[tag], applied_at)),
        None => tag_not_found().into_response(),
    }
}
