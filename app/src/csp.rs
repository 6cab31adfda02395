//! The nonce that lets a page's own inline scripts run under the Content Security Policy.
//! The server makes one per request and names it in the policy; the shell hands it to
//! Leptos, which puts it on every script it writes.

use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};

/// One request's nonce, kept in the request's extensions.
#[derive(Debug, Clone)]
pub struct CspNonce(String);

impl CspNonce {
    /// 128 random bits, in hex (a subset of what the CSP grammar allows).
    pub fn generate() -> Self {
        let bytes: [u8; 16] = rand::random();
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Gives Leptos the nonce of the request being rendered, when the server made one.
pub fn provide_request_nonce() {
    let nonce =
        use_context::<axum::http::request::Parts>().and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    if let Some(CspNonce(nonce)) = nonce {
        provide_context(Nonce::from_value(nonce));
    }
}
