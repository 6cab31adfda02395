//! Tickets: search (its own envelope), lookup, and the ticket types.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Value};

use super::ok;
use crate::error::{ApiError, ApiResult};
use crate::params::json_object;
use crate::search::{self, Kind};
use crate::version::ApiVersion;
use crate::{render, Sandbox};

pub async fn search(State(sandbox): State<Sandbox>, Extension(v): Extension<ApiVersion>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let mut state = sandbox.lock();
    let request = search::parse(&state, Kind::Tickets, &body, v)?;
    let (rows, pages, total) = search::page(&mut state, Kind::Tickets, &request, v)?;
    let tickets: Vec<Value> = rows.iter().map(|&i| render::ticket(&state, &state.tickets[i], v)).collect();
    // Moved in: `json!` would copy every ticket.
    let mut out = json!({"type": "ticket.list", "total_count": total, "pages": pages});
    out["tickets"] = Value::Array(tickets);
    Ok(ok(out))
}

pub async fn show(
    State(sandbox): State<Sandbox>,
    Extension(v): Extension<ApiVersion>,
    Path(id): Path<String>,
) -> ApiResult {
    let state = sandbox.lock();
    // The code is named by the SDK types only (UNCONFIRMED for this route).
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "ticket_not_found", "Ticket not found");
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let ticket = state.tickets.iter().find(|t| t.id == id).ok_or_else(not_found)?;
    Ok(ok(render::ticket(&state, ticket, v)))
}

pub async fn types(State(sandbox): State<Sandbox>) -> Response {
    let state = sandbox.lock();
    let data: Vec<Value> = state.ticket_types.iter().map(|t| render::ticket_type(&state, t)).collect();
    ok(json!({"type": "list", "data": data}))
}
