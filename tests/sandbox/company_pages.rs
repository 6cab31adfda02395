//! The page-numbered company lists point at their next page with a full URL, as real
//! traffic does (docs/intercom.md §6): `GET /companies` and `POST /companies/list` alike.

use super::*;

/// Follows `pages.next` from `first` with `method` until it is null or missing, checking
/// that each link is a full URL on this sandbox; the ids seen, in order, and the links.
async fn follow_next(
    api: &Api<'_>,
    method: reqwest::Method,
    first: &str,
    body_of: Option<Value>,
) -> (Vec<String>, Vec<String>) {
    let mut ids = vec![];
    let mut links = vec![];
    let mut path = first.to_string();
    loop {
        let mut request = api.req(method.clone(), &path);
        if let Some(b) = &body_of {
            request = request.json(b);
        }
        let page = body(request.send().await.unwrap()).await;
        ids.extend(ids_of(&page, "data"));
        let next = &page["pages"]["next"];
        if next.is_null() {
            return (ids, links);
        }
        let url = next.as_str().unwrap_or_else(|| panic!("pages.next is a URL string, not {next}"));
        path = url
            .strip_prefix(api.sb.base_url.as_str())
            .unwrap_or_else(|| panic!("{url} is a full URL on this sandbox"))
            .to_string();
        links.push(url.to_string());
        assert!(links.len() < 100, "the walk ends");
    }
}

#[tokio::test]
async fn the_company_list_links_its_next_page_by_full_url_until_the_last_page() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let (ids, links) = follow_next(&api, reqwest::Method::GET, "/companies?per_page=20", None).await;
    assert_eq!(links[0], format!("{}/companies?per_page=20&page=2", sb.base_url));
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no company twice");
    let listed = listed_company_ids(&api, reqwest::Method::GET, "/companies").await;
    assert_eq!(unique.len(), listed.len(), "every company with users once");
    assert_eq!(links.len(), listed.len().div_ceil(20) - 1, "one link per page but the last");
}

#[tokio::test]
async fn the_next_company_page_keeps_the_filters_and_the_default_page_size() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let first = body(api.get("/companies?tag_id=7001").await).await;
    assert_eq!(first["pages"]["per_page"], 15, "15 a page by default");
    let next = first["pages"]["next"].as_str().expect("more than one page of companies tagged 7001");
    assert_eq!(next, format!("{}/companies?per_page=15&page=2&tag_id=7001", sb.base_url));
}

#[tokio::test]
async fn both_company_lists_give_their_next_page_the_same_way() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let (ids, links) =
        follow_next(&api, reqwest::Method::POST, "/companies/list?per_page=40&order=asc", Some(json!({}))).await;
    assert_eq!(links[0], format!("{}/companies/list?per_page=40&page=2&order=asc", sb.base_url));
    let listed = listed_company_ids(&api, reqwest::Method::GET, "/companies").await;
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), listed.len());
    assert_eq!(ids.len(), listed.len(), "no company twice");
}
