//! Injected faults (docs/intercom.md §5, §7): gateway-style 5xx before any handler, in a
//! configurable mix, that consume nothing; and the scroll's own failures, which keep the
//! scroll or end it.

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

fn scroll_path(param: &str) -> String {
    format!("/companies/scroll?scroll_param={param}")
}

#[tokio::test]
async fn a_502_that_keeps_the_scroll_returns_the_same_page_on_retry_and_the_walk_ends_with_every_company_once() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    sb.sandbox.fail_scroll_page(1, 502, ScrollFault::KeepsScroll);
    let first = body(api.get("/companies/scroll").await).await;
    let param = first["scroll_param"].as_str().unwrap().to_string();
    let mut ids = ids_of(&first, "data");
    let (status, code, _) = error_code(api.get(&scroll_path(&param)).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_GATEWAY, "server_error"));
    loop {
        let page = body(api.get(&scroll_path(&param)).await).await;
        assert_eq!(page["scroll_param"], param.as_str(), "the same scroll goes on");
        let data = ids_of(&page, "data");
        if data.is_empty() {
            break;
        }
        ids.extend(data);
    }
    assert_eq!(ids, sb.sandbox.company_ids(), "every company once, in order");
    assert_eq!(sb.sandbox.stats().faults_injected, 1, "the fault fires once");
}

#[tokio::test]
async fn a_503_that_ends_the_scroll_leaves_its_param_not_found_and_a_new_scroll_opens_at_once() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    sb.sandbox.fail_scroll_page(2, 503, ScrollFault::EndsScroll);
    let first = body(api.get("/companies/scroll").await).await;
    let param = first["scroll_param"].as_str().unwrap().to_string();
    assert_eq!(api.get(&scroll_path(&param)).await.status(), StatusCode::OK);
    let (status, code, _) = error_code(api.get(&scroll_path(&param)).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"));
    let (status, code, message) = error_code(api.get(&scroll_path(&param)).await).await;
    assert_eq!(
        (status, code.as_str(), message.as_str()),
        (StatusCode::NOT_FOUND, "not_found", "scroll parameter not found")
    );
    let again = body(api.get("/companies/scroll").await).await;
    assert_ne!(again["scroll_param"], param.as_str(), "a new scroll");
    assert_eq!(ids_of(&again, "data"), sb.sandbox.company_ids()[..100].to_vec(), "from the first page");
}

#[tokio::test]
async fn a_scroll_fault_armed_for_the_first_page_opens_no_scroll_when_it_keeps_it() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    sb.sandbox.fail_scroll_page(0, 503, ScrollFault::KeepsScroll);
    assert_eq!(api.get("/companies/scroll").await.status(), StatusCode::SERVICE_UNAVAILABLE);
    let opened = body(api.get("/companies/scroll").await).await;
    assert_eq!(ids_of(&opened, "data").len(), 100, "no scroll was left open to refuse this one");
}
