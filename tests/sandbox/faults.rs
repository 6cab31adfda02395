//! Injected faults (docs/intercom.md §5, §7): gateway-style 5xx before any handler, in a
//! configurable mix, that consume nothing.

use std::collections::BTreeMap;

use super::gate::rate_limit_headers;
use super::*;

/// The statuses and error codes of `calls` calls to `GET /tags`, counted.
async fn faults_seen(sb: &RunningSandbox, calls: usize) -> BTreeMap<(u16, String), usize> {
    let mut seen = BTreeMap::new();
    for _ in 0..calls {
        let response = api(sb).get("/tags").await;
        assert!(rate_limit_headers(&response).iter().all(Option::is_some), "an injected fault is authenticated");
        let (status, code, _) = error_code(response).await;
        *seen.entry((status.as_u16(), code)).or_default() += 1;
    }
    seen
}

#[tokio::test]
async fn injected_faults_are_500_502_and_503_in_about_equal_parts_by_default() {
    let sb = sandbox(small()).await;
    sb.sandbox.set_fault_rate(1.0);
    let seen = faults_seen(&sb, 150).await;
    let statuses: Vec<(u16, &str)> = seen.keys().map(|(s, c)| (*s, c.as_str())).collect();
    assert_eq!(statuses, vec![(500, "server_error"), (502, "server_error"), (503, "service_unavailable")]);
    assert!(seen.values().all(|&n| n >= 30), "about a third each: {seen:?}");
    assert_eq!(sb.sandbox.stats().faults_injected, 150);
}

#[tokio::test]
async fn the_injected_statuses_are_the_ones_configured() {
    let sb = sandbox(SandboxConfig { fault_rate: 1.0, fault_statuses: vec![503, 504], ..small() }).await;
    let seen = faults_seen(&sb, 40).await;
    let statuses: Vec<u16> = seen.keys().map(|(s, _)| *s).collect();
    assert_eq!(statuses, vec![503, 504]);
    sb.sandbox.set_fault_statuses(&[502]);
    let seen = faults_seen(&sb, 20).await;
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![((502, "server_error".to_string()), 20)]);
}

#[tokio::test]
async fn the_same_seed_injects_the_same_faults_on_the_same_calls() {
    let config = || SandboxConfig { seed: 9, fault_rate: 0.4, ..small() };
    let (a, b) = (sandbox(config()).await, sandbox(config()).await);
    let mut answers = (vec![], vec![]);
    for _ in 0..40 {
        answers.0.push(api(&a).get("/tags").await.status());
        answers.1.push(api(&b).get("/tags").await.status());
    }
    assert_eq!(answers.0, answers.1);
    assert!(answers.0.iter().any(|s| s.is_server_error()) && answers.0.contains(&StatusCode::OK), "{:?}", answers.0);
}

/// The scroll's pages in storage order: companies with or without users, 100 a page.
fn scroll_page_ids(sb: &RunningSandbox, page: usize) -> Vec<String> {
    sb.sandbox.company_ids().into_iter().skip(page * 100).take(100).collect()
}

#[tokio::test]
async fn a_gateway_fault_on_a_scroll_page_leaves_the_scroll_alive_and_the_retry_gets_the_same_page() {
    for status in [500, 502, 503] {
        let sb = sandbox(small()).await;
        let api = api(&sb);
        let first = body(api.get("/companies/scroll").await).await;
        let param = first["scroll_param"].as_str().unwrap().to_string();
        let next = format!("/companies/scroll?scroll_param={param}");
        sb.sandbox.set_fault_statuses(&[status]);
        sb.sandbox.set_fault_rate(1.0);
        assert_eq!(api.get(&next).await.status().as_u16(), status);
        sb.sandbox.set_fault_rate(0.0);
        let retried = body(api.get(&next).await).await;
        assert_eq!(retried["scroll_param"], param.as_str(), "after a {status}");
        assert_eq!(ids_of(&retried, "data"), scroll_page_ids(&sb, 1), "after a {status}, the page it did not serve");
    }
}
