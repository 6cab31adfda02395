//! How long browsers may keep what they download. The bundle's files carry a hash of
//! their content in their name, so a name never points at other bytes: they are kept a
//! year without asking again. Anything else (pages, answers, files without a hash) is
//! asked again each time, so an upgrade is seen at the next load.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

const FOREVER: &str = "public, max-age=31536000, immutable";
const ASK_AGAIN: &str = "no-cache";

pub async fn cache_headers(request: Request, next: Next) -> Response {
    let policy = policy_for(request.uri().path());
    let mut response = next.run(request).await;
    let Some(policy) = policy else { return response };
    if matches!(response.status(), StatusCode::OK | StatusCode::NOT_MODIFIED | StatusCode::PARTIAL_CONTENT) {
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
        // The same name is sent as brotli, gzip or plain, by what the browser accepts.
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// The policy of a static file's path, or `None` for what is not a static file (pages and
/// server functions set their own, or none).
fn policy_for(path: &str) -> Option<&'static str> {
    if !path.starts_with("/pkg/") {
        return None;
    }
    Some(if app::assets::is_hashed(path) { FOREVER } else { ASK_AGAIN })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_bundle_files_are_kept_a_year_and_others_asked_again() {
        assert_eq!(policy_for("/pkg/skalin.k3Jd9Qn2LmA0pX7vB1c_eW.wasm"), Some(FOREVER));
        assert_eq!(policy_for("/pkg/skalin.wasm"), Some(ASK_AGAIN));
        assert_eq!(policy_for("/integrations/intercom"), None);
        assert_eq!(policy_for("/api/get_sync_page"), None);
    }
}
