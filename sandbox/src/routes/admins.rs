//! `GET /me`, `GET /admins` and `GET /tags`: small, unpaginated workspace lists.

use axum::extract::State;
use axum::response::Response;
use axum::Extension;
use serde_json::json;

use super::ok;
use crate::render;
use crate::version::ApiVersion;
use crate::Sandbox;

pub async fn me(State(sandbox): State<Sandbox>, Extension(v): Extension<ApiVersion>) -> Response {
    let state = sandbox.lock();
    let owner = &state.admins[0];
    let mut out = render::admin(owner, v);
    out["email_verified"] = true.into();
    // `/me` nests the avatar as an object, where the admin list has a URL or null.
    out["avatar"] = json!({"type": "avatar", "image_url": null});
    out["app"] = json!({
        "type": "app",
        "id_code": state.app_id,
        "name": "Skalin Sandbox",
        "created_at": state.app_created_at,
        "secure": false,
        "identity_verification": false,
        "timezone": state.config.timezone,
        "region": state.config.region,
    });
    ok(out)
}

pub async fn list(State(sandbox): State<Sandbox>, Extension(v): Extension<ApiVersion>) -> Response {
    let state = sandbox.lock();
    let admins: Vec<_> = state.admins.iter().map(|a| render::admin(a, v)).collect();
    ok(json!({"type": "admin.list", "admins": admins}))
}

pub async fn tags(State(sandbox): State<Sandbox>) -> Response {
    let state = sandbox.lock();
    let tags: Vec<_> = state.tags.iter().map(render::tag).collect();
    ok(json!({"type": "list", "data": tags}))
}
