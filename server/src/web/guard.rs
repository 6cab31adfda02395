//! Requests that change something must come from this site's own pages: a page elsewhere
//! must not be able to drive a signed-in browser (cross-site request forgery). `SameSite`
//! cookies alone do not hold against a sibling subdomain, an old browser or plain http.
//!
//! The rule follows the browsers' own signals: `Sec-Fetch-Site` where the browser sends
//! it, else `Origin`. A request with neither comes from no browser that could carry a
//! victim's cookies cross-site (every browser that lacks `Sec-Fetch-Site` sends `Origin`
//! on cross-origin POSTs), so command-line clients keep working.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// This site's origin (`scheme://host[:port]`), from the public URL.
#[derive(Debug, Clone)]
pub struct SiteOrigin(pub String);

impl SiteOrigin {
    pub fn from_public_url(public_url: &str) -> Self {
        let origin = url::Url::parse(public_url)
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_else(|_| public_url.trim_end_matches('/').to_string());
        Self(origin)
    }
}

/// Why a request is refused as cross-site, or `None` when it may go on.
pub fn cross_site(method: &Method, headers: &HeaderMap, site: &SiteOrigin) -> Option<&'static str> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(fetch_site) = value("sec-fetch-site") {
        // `none`: typed in or bookmarked by the user, never a page's doing.
        return match fetch_site {
            "same-origin" | "none" => None,
            _ => Some("it came from another site"),
        };
    }
    let origin = value(header::ORIGIN.as_str())?;
    if origin.eq_ignore_ascii_case(&site.0) {
        return None;
    }
    // Reached under another name than the public URL (`localhost` for `127.0.0.1`):
    // the host the browser asked for is this server, whatever the scheme.
    let host = value(header::HOST.as_str());
    let origin_host = origin.split_once("://").map(|(_, host)| host);
    match (origin_host, host) {
        (Some(origin_host), Some(host)) if origin_host.eq_ignore_ascii_case(host) => None,
        _ => Some("its Origin is not this site"),
    }
}

pub async fn same_site_writes_only(State(site): State<SiteOrigin>, request: Request, next: Next) -> Response {
    match cross_site(request.method(), request.headers(), &site) {
        None => next.run(request).await,
        Some(reason) => {
            let origin = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::warn!(path = %request.uri().path(), origin, reason, "refused a cross-site request");
            let message = format!(
                "Refused: this request would change something, but {reason}. Use Skalin's own pages at {}.",
                site.0
            );
            (StatusCode::FORBIDDEN, message).into_response()
        }
    }
}

/// A server function decodes its body as its own encoding, whatever the request says. A
/// JSON function reached with `text/plain` or a form body is what a cross-site form
/// sends, never the app: such calls are refused before they run.
pub async fn server_functions_take_their_own_encoding(request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(expected) = app::server_fns::input_content_type(request.uri().path()) else {
        return next.run(request).await;
    };
    let sent = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media_type = sent.split(';').next().unwrap_or("").trim();
    if media_type.eq_ignore_ascii_case(expected) {
        return next.run(request).await;
    }
    let sent = if media_type.is_empty() { "no content type" } else { media_type };
    let message = format!("This call takes {expected}, not {sent}.");
    (StatusCode::UNSUPPORTED_MEDIA_TYPE, message).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn site() -> SiteOrigin {
        SiteOrigin::from_public_url("https://skalin.example.com/")
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn the_public_url_gives_the_origin() {
        assert_eq!(site().0, "https://skalin.example.com");
        assert_eq!(SiteOrigin::from_public_url("http://127.0.0.1:3000").0, "http://127.0.0.1:3000");
    }

    #[test]
    fn reading_is_never_refused() {
        let evil = headers(&[("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")]);
        assert_eq!(cross_site(&Method::GET, &evil, &site()), None);
    }

    #[test]
    fn the_fetch_metadata_decides_when_the_browser_sends_it() {
        for (fetch_site, refused) in
            [("same-origin", false), ("none", false), ("same-site", true), ("cross-site", true)]
        {
            let mut sent = headers(&[("origin", "https://skalin.example.com")]);
            sent.insert("sec-fetch-site", HeaderValue::from_str(fetch_site).unwrap());
            assert_eq!(cross_site(&Method::POST, &sent, &site()).is_some(), refused, "{fetch_site}");
        }
    }

    #[test]
    fn without_fetch_metadata_the_origin_must_be_this_site() {
        let post = |pairs| cross_site(&Method::POST, &headers(pairs), &site());
        assert_eq!(post(&[("origin", "https://skalin.example.com")]), None);
        assert!(post(&[("origin", "https://evil.example")]).is_some());
        assert!(post(&[("origin", "https://app.skalin.example.com")]).is_some(), "a sibling subdomain");
        assert!(post(&[("origin", "null")]).is_some(), "a sandboxed frame or a data: page");
        assert!(post(&[("origin", "http://skalin.example.com.evil.example")]).is_some());
    }

    #[test]
    fn the_host_the_browser_asked_for_counts_as_this_site() {
        let sent = headers(&[("origin", "http://localhost:3000"), ("host", "localhost:3000")]);
        assert_eq!(cross_site(&Method::POST, &sent, &site()), None);
        let sent = headers(&[("origin", "http://evil.example"), ("host", "localhost:3000")]);
        assert!(cross_site(&Method::POST, &sent, &site()).is_some());
    }

    #[test]
    fn a_client_that_is_no_browser_sends_neither_and_goes_on() {
        assert_eq!(cross_site(&Method::POST, &HeaderMap::new(), &site()), None);
    }
}
