//! The rate-limit headers go on every authenticated answer, unknown routes' 404 included,
//! and on no other (docs/intercom.md §5).

use super::*;

pub(crate) fn rate_limit_headers(response: &Response) -> Vec<Option<&str>> {
    ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"]
        .iter()
        .map(|h| response.headers().get(*h).and_then(|v| v.to_str().ok()))
        .collect()
}

#[tokio::test]
async fn an_unknown_route_with_a_valid_token_is_a_404_with_the_rate_limit_headers() {
    let sb = sandbox(small()).await;
    let missing = api(&sb).get("/nothing/here").await;
    let headers = rate_limit_headers(&missing);
    assert!(headers.iter().all(Option::is_some), "{headers:?}");
    assert_eq!(headers[0], Some("1667"));
    let (status, code, _) = error_code(missing).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test]
async fn a_known_route_with_another_method_is_a_404_with_the_rate_limit_headers_counted_once() {
    let sb = sandbox(small()).await;
    let wrong_method = api(&sb).get("/companies/list").await;
    assert_eq!(wrong_method.status(), StatusCode::NOT_FOUND);
    let headers = rate_limit_headers(&wrong_method);
    assert!(headers.iter().all(Option::is_some), "{headers:?}");
    assert_eq!(sb.sandbox.stats().total_calls, 1, "the call went through the gate once");
}

#[tokio::test]
async fn an_unknown_route_without_a_valid_token_is_a_404_without_rate_limit_headers() {
    let sb = sandbox(small()).await;
    for token in [None, Some("not-a-token")] {
        let mut request = Client::new().get(sb.url("/nothing/here"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(rate_limit_headers(&response), vec![None, None, None], "token {token:?}");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "token {token:?}");
    }
}
