//! Companies: the page-numbered lists with their 10,000 cap, the scroll, lookups, and
//! create-or-update keyed by `company_id` (docs/intercom.md §6, §7, §8.3).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::Extension;
use serde_json::{json, Map, Value};

use super::data_attributes::checked_custom_attributes;
use super::{ok, page_url, List};
use crate::error::{ApiError, ApiResult};
use crate::model::{Company, Model, Plan};
use crate::params::{json_object, page_params, Query};
use crate::state::State as Workspace;
use crate::version::ApiVersion;
use crate::{render, scroll, Sandbox};

const LIST_CAP: i64 = 10_000;
const MAX_PER_PAGE: i64 = 150;

fn pages(next: Option<Value>, page: i64, per_page: i64, total: usize) -> Value {
    let total_pages = (total as i64 + per_page - 1) / per_page;
    json!({"type": "pages", "next": next, "page": page, "per_page": per_page, "total_pages": total_pages})
}

pub async fn list(
    State(sandbox): State<Sandbox>,
    Extension(v): Extension<ApiVersion>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let query = Query::parse(q.as_deref());
    let (page, per_page) = page_params(&query, 15, MAX_PER_PAGE)?;
    let state = sandbox.lock();
    let lookup = match (query.get("company_id"), query.get("name")) {
        (Some(company_id), _) => Some(state.company_by_company_id.get(company_id).copied()),
        (None, Some(name)) => Some(state.companies.iter().position(|c| !c.deleted && c.name == name)),
        (None, None) => None,
    };
    if let Some(found) = lookup {
        let company = state
            .companies
            .get(found.ok_or_else(ApiError::company_not_found)?)
            .ok_or_else(ApiError::company_not_found)?;
        let json = render::company(&state, company, v);
        if !state.config.company_lookup_returns_list {
            return Ok(ok(json));
        }
        return Ok(ok(json!({"type": "list", "data": [json], "pages": pages(None, 1, per_page, 1), "total_count": 1})));
    }
    let tag = query.get("tag_id").map(|t| state.tags.iter().position(|x| x.id == t));
    let segment = query.get("segment_id").map(|s| state.segments.iter().position(|x| x.id == s));
    let rows: Vec<&Company> = state
        .visible_companies()
        .map(|(_, c)| c)
        .filter(|c| tag.is_none_or(|t| t.is_some_and(|t| c.tag_ids.contains(&t))))
        .filter(|c| segment.is_none_or(|s| s.is_some_and(|s| c.segment_ids.contains(&s))))
        .collect();
    // Past 10,000 companies the pages come back empty (intercom-ruby#274).
    let reachable = rows.len().min(LIST_CAP as usize);
    let start = (((page - 1) * per_page) as usize).min(reachable);
    let end = (start + per_page as usize).min(reachable);
    let data: Vec<Value> = rows[start..end].iter().map(|c| render::company(&state, c, v)).collect();
    // The spec types `next` as the paging object; real traffic has a URL (docs/intercom.md §6).
    let next = (end < reachable).then(|| json!(page_url(&headers, "/companies", q.as_deref(), per_page, page + 1)));
    Ok(ok(List::new(data, pages(next, page, per_page, rows.len()), rows.len())))
}

pub async fn list_by_last_request(
    State(sandbox): State<Sandbox>,
    Extension(v): Extension<ApiVersion>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let query = Query::parse(q.as_deref());
    let (page, per_page) = page_params(&query, 15, MAX_PER_PAGE)?;
    let ascending = match query.get("order") {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(_) => return Err(ApiError::parameter_invalid("order must be asc or desc").with_field("order")),
    };
    if (page - 1) * per_page >= LIST_CAP {
        return Err(ApiError::bad_request("page limit reached, please use scroll API"));
    }
    let state = sandbox.lock();
    let mut rows: Vec<&Company> = state.visible_companies().map(|(_, c)| c).collect();
    rows.sort_by(|a, b| {
        let order = a.last_request_at.cmp(&b.last_request_at).then_with(|| a.id.cmp(&b.id));
        if ascending {
            order
        } else {
            order.reverse()
        }
    });
    let start = (((page - 1) * per_page) as usize).min(rows.len());
    let end = (start + per_page as usize).min(rows.len()).min(LIST_CAP as usize);
    let data: Vec<Value> = rows[start..end].iter().map(|c| render::company(&state, c, v)).collect();
    // The next link is given even when it leads past the cap: the 400 is the live quirk.
    let next =
        (end < rows.len()).then(|| json!(page_url(&headers, "/companies/list", q.as_deref(), per_page, page + 1)));
    Ok(ok(List::new(data, pages(next, page, per_page, rows.len()), rows.len())))
}

pub async fn scroll(
    State(sandbox): State<Sandbox>,
    Extension(v): Extension<ApiVersion>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let query = Query::parse(q.as_deref());
    let mut state = sandbox.lock();
    let (rows, param) = scroll::page(&mut state, query.get("scroll_param"))?;
    let data: Vec<Value> = rows.iter().map(|&i| render::company(&state, &state.companies[i], v)).collect();
    let mut out = json!({"type": "list", "pages": null, "total_count": null, "scroll_param": param});
    out["data"] = Value::Array(data);
    Ok(ok(out))
}

pub async fn show(
    State(sandbox): State<Sandbox>,
    Extension(v): Extension<ApiVersion>,
    Path(id): Path<String>,
) -> ApiResult {
    let state = sandbox.lock();
    let index = *state.company_by_id.get(&id).ok_or_else(ApiError::company_not_found)?;
    Ok(ok(render::company(&state, &state.companies[index], v)))
}

const CREATE_FIELDS: &[&str] = &[
    "name",
    "company_id",
    "plan",
    "size",
    "website",
    "industry",
    "custom_attributes",
    "remote_created_at",
    "update_last_request_at",
    "monthly_spend",
];
const UPDATE_FIELDS: &[&str] = &["name", "plan", "size", "website", "industry", "custom_attributes", "monthly_spend"];
/// What `Sandbox::update_company` lets a teammate edit.
pub const UI_FIELDS: &[&str] = &["name", "size", "website", "industry", "custom_attributes", "monthly_spend"];

/// Validated changes, applied only once the whole body has been checked.
#[derive(Default)]
pub struct Changes {
    name: Option<String>,
    plan: Option<Option<String>>,
    size: Option<Option<i64>>,
    website: Option<Option<String>>,
    industry: Option<Option<String>>,
    monthly_spend: Option<i64>,
    remote_created_at: Option<Option<i64>>,
    touch_last_request: bool,
    custom: Vec<(String, Value)>,
}

fn string_field(body: &Map<String, Value>, key: &str) -> Result<Option<Option<String>>, ApiError> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(ApiError::parameter_invalid(format!("{key} must be a string")).with_field(key)),
    }
}

fn int_field(body: &Map<String, Value>, key: &str) -> Result<Option<Option<i64>>, ApiError> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(v) => v
            .as_f64()
            .map(|f| Some(Some(f as i64)))
            .ok_or_else(|| ApiError::parameter_invalid(format!("{key} must be a number")).with_field(key)),
    }
}

pub fn changes(state: &Workspace, body: &Map<String, Value>, allowed: &[&str]) -> Result<Changes, ApiError> {
    if let Some(bad) = body.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!("bad '{bad}' parameter")));
    }
    Ok(Changes {
        name: string_field(body, "name")?.flatten(),
        plan: string_field(body, "plan")?,
        size: int_field(body, "size")?,
        website: string_field(body, "website")?,
        industry: string_field(body, "industry")?,
        // Floats are truncated and the value is capped at 2^31-1 (docs/intercom.md §8.3).
        monthly_spend: int_field(body, "monthly_spend")?.map(|v| v.unwrap_or(0).clamp(0, i32::MAX as i64)),
        remote_created_at: int_field(body, "remote_created_at")?,
        touch_last_request: body.get("update_last_request_at").and_then(Value::as_bool).unwrap_or(false),
        custom: match body.get("custom_attributes") {
            None => vec![],
            Some(v) => checked_custom_attributes(state, Model::Company, v)?,
        },
    })
}

pub fn apply(company: &mut Company, changes: Changes, now: i64) {
    if let Some(name) = changes.name {
        company.name = name;
    }
    if let Some(plan) = changes.plan {
        company.plan = plan.map(|name| Plan { id: format!("{}", 269_100 + name.len()), name });
    }
    if let Some(size) = changes.size {
        company.size = size;
    }
    if let Some(website) = changes.website {
        company.website = website;
    }
    if let Some(industry) = changes.industry {
        company.industry = industry;
    }
    if let Some(spend) = changes.monthly_spend {
        company.monthly_spend = spend;
    }
    if let Some(at) = changes.remote_created_at {
        company.remote_created_at = at;
    }
    if changes.touch_last_request {
        company.last_request_at = Some(now);
    }
    for (name, value) in changes.custom {
        if value.is_null() {
            company.custom_attributes.remove(&name);
        } else {
            company.custom_attributes.insert(name, value);
        }
    }
    company.updated_at = now;
}

pub async fn upsert(State(sandbox): State<Sandbox>, Extension(v): Extension<ApiVersion>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let company_id = match body.get("company_id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "parameter_not_found",
                "company_id not specified",
            )
            .with_field("company_id"))
        }
    };
    let mut state = sandbox.lock();
    let changes = changes(&state, &body, CREATE_FIELDS)?;
    let now = state.now();
    let created = !state.company_by_company_id.contains_key(&company_id);
    let index = match state.company_by_company_id.get(&company_id) {
        Some(&i) => i,
        None => {
            state.company_counter += 1;
            let id = format!("{:08x}{:016x}", now, state.company_counter);
            state.companies.push(Company {
                id: id.clone(),
                company_id: company_id.clone(),
                name: String::new(),
                website: None,
                industry: None,
                size: None,
                plan: None,
                monthly_spend: 0,
                session_count: 0,
                user_count: 0,
                remote_created_at: None,
                created_at: now,
                updated_at: now,
                last_request_at: None,
                custom_attributes: Map::new(),
                tag_ids: vec![],
                segment_ids: vec![],
                deleted: false,
            });
            let i = state.companies.len() - 1;
            state.company_by_id.insert(id, i);
            state.company_by_company_id.insert(company_id, i);
            i
        }
    };
    apply(&mut state.companies[index], changes, now);
    state.touch();
    state.notify_company(index, if created { "company.created" } else { "company.updated" });
    Ok(ok(render::company(&state, &state.companies[index], v)))
}

pub async fn update(
    State(sandbox): State<Sandbox>,
    Extension(v): Extension<ApiVersion>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = json_object(&body)?;
    let mut state = sandbox.lock();
    let index = *state.company_by_id.get(&id).ok_or_else(ApiError::company_not_found)?;
    let changes = changes(&state, &body, UPDATE_FIELDS)?;
    let now = state.now();
    apply(&mut state.companies[index], changes, now);
    state.touch();
    state.notify_company(index, "company.updated");
    Ok(ok(render::company(&state, &state.companies[index], v)))
}
