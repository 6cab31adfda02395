//! Protective headers on every answer, and a Content Security Policy on every page.
//!
//! Leptos writes inline scripts (the hydration start, resolved resources). Rather than
//! allowing every inline script, each page gets a fresh nonce: it is put in the request
//! for the shell to hand to Leptos (`app::csp`), and the policy names it.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use app::csp::CspNonce;

/// Whether the site is served over https, which makes HSTS meaningful.
#[derive(Debug, Clone, Copy)]
pub struct Https(pub bool);

/// The policy of a page whose inline scripts carry `nonce`. WebAssembly needs
/// `wasm-unsafe-eval` to be compiled; styles stay `'self'` (the app sets no inline style).
pub fn content_security_policy(nonce: &str) -> String {
    [
        "default-src 'self'".to_string(),
        format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        "style-src 'self'".to_string(),
        "img-src 'self' data:".to_string(),
        "connect-src 'self'".to_string(),
        "object-src 'none'".to_string(),
        "base-uri 'self'".to_string(),
        "frame-ancestors 'none'".to_string(),
    ]
    .join("; ")
}

pub async fn protective_headers(State(https): State<Https>, mut request: Request, next: Next) -> Response {
    let nonce = CspNonce::generate();
    request.extensions_mut().insert(nonce.clone());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    // For browsers that predate `frame-ancestors`.
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if https.0 {
        // Without `includeSubDomains`: other sites under the same domain are not ours to bind.
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    let is_page =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    let policy = if is_page {
        content_security_policy(nonce.as_str())
    } else {
        // Nothing but pages runs scripts; anything else opened as a page runs none.
        "default-src 'none'; frame-ancestors 'none'".to_string()
    };
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_names_its_nonce_and_forbids_framing() {
        let policy = content_security_policy("abc123");
        assert!(policy.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
    }
}
