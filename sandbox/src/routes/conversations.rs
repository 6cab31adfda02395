//! Conversations: search, with its own envelope (docs/intercom.md §6, §8.7, §9).

use axum::body::Bytes;
use axum::extract::State;
use axum::Extension;
use serde_json::{json, Value};

use super::ok;
use crate::conversations::render;
use crate::error::ApiResult;
use crate::params::json_object;
use crate::search::{self, Kind};
use crate::version::ApiVersion;
use crate::Sandbox;

/// `include_monitors` and `include_scorecards` are accepted and change nothing: the
/// sandbox has no monitors or scorecards to add.
pub async fn search(State(sandbox): State<Sandbox>, Extension(v): Extension<ApiVersion>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let mut state = sandbox.lock();
    let request = search::parse(&state, Kind::Conversations, &body, v)?;
    let (rows, pages, total) = search::page(&mut state, Kind::Conversations, &request, v)?;
    let conversations: Vec<Value> = rows.iter().map(|&i| render(&state, &state.conversations[i], v)).collect();
    // Moved in: `json!` would copy every conversation.
    let mut out = json!({"type": "conversation.list", "total_count": total, "pages": pages});
    out["conversations"] = Value::Array(conversations);
    Ok(ok(out))
}
