//! The sandbox Intercom over HTTP: it must behave like the live API described in
//! docs/intercom.md, quirks included.

mod company_pages;
mod conversations;
mod faults;
mod gate;
mod hub;
mod webhooks;

use std::collections::HashSet;
use std::time::Duration;

use reqwest::{redirect, Client, Response, StatusCode};
use sandbox::*;
use serde_json::{json, Value};

fn small() -> SandboxConfig {
    SandboxConfig { companies: 250, contacts: 400, tickets: 60, ..SandboxConfig::default() }
}

async fn sandbox(config: SandboxConfig) -> RunningSandbox {
    Sandbox::spawn(config).await.expect("the sandbox starts")
}

struct Api<'a> {
    sb: &'a RunningSandbox,
    client: Client,
    token: String,
    version: Option<&'a str>,
}

fn api(sb: &RunningSandbox) -> Api<'_> {
    Api { sb, client: Client::new(), token: SANDBOX_TOKEN.into(), version: None }
}

impl Api<'_> {
    fn with_version(mut self, v: &'static str) -> Self {
        self.version = Some(v);
        self
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self
            .client
            .request(method, self.sb.url(path))
            .bearer_auth(&self.token)
            .header("Accept", "application/json");
        if let Some(v) = self.version {
            r = r.header("Intercom-Version", v);
        }
        r
    }

    async fn get(&self, path: &str) -> Response {
        self.req(reqwest::Method::GET, path).send().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> Response {
        self.req(reqwest::Method::POST, path).json(&body).send().await.unwrap()
    }

    async fn put(&self, path: &str, body: Value) -> Response {
        self.req(reqwest::Method::PUT, path).json(&body).send().await.unwrap()
    }
}

async fn body(response: Response) -> Value {
    response.json().await.unwrap()
}

async fn error_code(response: Response) -> (StatusCode, String, String) {
    let status = response.status();
    let v = body(response).await;
    assert_eq!(v["type"], "error.list");
    assert!(v["request_id"].is_string());
    (
        status,
        v["errors"][0]["code"].as_str().unwrap_or("").into(),
        v["errors"][0]["message"].as_str().unwrap_or("").into(),
    )
}

fn search(field: &str, op: &str, value: Value) -> Value {
    json!({"query": {"field": field, "operator": op, "value": value}})
}

#[tokio::test]
async fn a_missing_token_is_401_without_rate_limit_headers() {
    let sb = sandbox(small()).await;
    let response = Client::new().get(sb.url("/me")).send().await.unwrap();
    assert!(response.headers().get("x-ratelimit-limit").is_none());
    assert_eq!(
        error_code(response).await,
        (StatusCode::UNAUTHORIZED, "unauthorized".into(), "Access Token Invalid".into())
    );
    let response = Client::new().get(sb.url("/me")).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().get("x-ratelimit-remaining").is_none());
}

#[tokio::test]
async fn me_names_the_workspace_time_zone_and_region() {
    let sb = sandbox(SandboxConfig { region: "EU".into(), timezone: "Europe/Paris".into(), ..small() }).await;
    let me = body(api(&sb).get("/me").await).await;
    assert_eq!(me["type"], "admin");
    assert_eq!(me["app"]["timezone"], "Europe/Paris");
    assert_eq!(me["app"]["region"], "EU");
    assert!(me["app"]["id_code"].is_string());
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_the_three_headers() {
    let sb = sandbox(SandboxConfig { rate_limit_per_window: 3, ..small() }).await;
    let api = api(&sb);
    let first = api.get("/admins").await;
    assert_eq!(first.headers()["x-ratelimit-limit"], "3");
    assert_eq!(first.headers()["x-ratelimit-remaining"], "2");
    let reset: i64 = first.headers()["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
    assert_eq!(reset % 10, 0, "windows are aligned to 10 seconds");
    assert!(reset > sb.sandbox.now() - 1 && reset <= sb.sandbox.now() + 10);
    // Three calls could straddle a window boundary; keep calling until one is refused.
    let mut refused = None;
    for _ in 0..10 {
        let r = api.get("/admins").await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(r);
            break;
        }
    }
    let refused = refused.expect("a 429 within ten calls");
    assert_eq!(refused.headers()["x-ratelimit-remaining"], "0");
    assert!(refused.headers().get("x-ratelimit-reset").is_some());
    let (_, code, message) = error_code(refused).await;
    assert_eq!(code, "rate_limit_exceeded");
    assert_eq!(message, "Exceeded rate limit of 3 in 10_seconds");
    assert!(sb.sandbox.stats().rate_limited >= 1);
}

#[tokio::test]
async fn an_unknown_route_is_a_404_error_list() {
    let sb = sandbox(small()).await;
    let (status, code, _) = error_code(api(&sb).get("/nothing/here").await).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    // The next link of /companies/list must be followed with POST: GET is a 404.
    assert_eq!(api(&sb).get("/companies/list").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_scroll_returns_every_company_once_with_the_same_param_on_every_page() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let mut seen = HashSet::new();
    let mut param: Option<String> = None;
    let mut sizes = vec![];
    loop {
        let path = match &param {
            None => "/companies/scroll".to_string(),
            Some(p) => format!("/companies/scroll?scroll_param={p}"),
        };
        let page = body(api.get(&path).await).await;
        assert_eq!(page["type"], "list");
        assert!(page["pages"].is_null() && page["total_count"].is_null());
        let p = page["scroll_param"].as_str().unwrap().to_string();
        if let Some(previous) = &param {
            assert_eq!(previous, &p, "the same scroll_param comes back on every page");
        }
        param = Some(p);
        let data = page["data"].as_array().unwrap();
        sizes.push(data.len());
        if data.is_empty() {
            break;
        }
        for company in data {
            assert!(seen.insert(company["id"].as_str().unwrap().to_string()), "no company twice");
        }
    }
    assert_eq!(sizes, vec![100, 100, 50, 0]);
    assert_eq!(seen.len(), 250);
    let (status, code, message) =
        error_code(api.get(&format!("/companies/scroll?scroll_param={}", param.unwrap())).await).await;
    assert_eq!(
        (status, code.as_str(), message.as_str()),
        (StatusCode::NOT_FOUND, "not_found", "scroll parameter not found")
    );
}

#[tokio::test]
async fn a_second_scroll_is_refused_while_one_is_open() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    assert_eq!(api.get("/companies/scroll").await.status(), StatusCode::OK);
    let (status, code, message) = error_code(api.get("/companies/scroll").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code, "scroll_exists");
    assert_eq!(message, "scroll already exists for this workspace");
}

#[tokio::test]
async fn an_expired_scroll_param_is_not_found() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let first = body(api.get("/companies/scroll").await).await;
    let param = first["scroll_param"].as_str().unwrap().to_string();
    sb.sandbox.expire_scrolls();
    let (status, code, _) = error_code(api.get(&format!("/companies/scroll?scroll_param={param}")).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    // An idle minute on the sandbox clock does the same, and frees the workspace for a new scroll.
    let second = body(api.get("/companies/scroll").await).await;
    let param = second["scroll_param"].as_str().unwrap().to_string();
    sb.sandbox.set_now(sb.sandbox.now() + 61);
    assert_eq!(api.get(&format!("/companies/scroll?scroll_param={param}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(api.get("/companies/scroll").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_failed_scroll_page_is_a_500_and_the_scroll_can_be_restarted() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    sb.sandbox.fail_scroll_after_pages(1);
    let first = body(api.get("/companies/scroll").await).await;
    let param = first["scroll_param"].as_str().unwrap();
    let (status, _, message) = error_code(api.get(&format!("/companies/scroll?scroll_param={param}")).await).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(message, "Request failed due to an internal network error. Please restart the scroll operation.");
    let restart = body(api.get("/companies/scroll").await).await;
    assert_eq!(restart["data"].as_array().unwrap().len(), 100);
}

#[tokio::test]
async fn contacts_are_listed_ten_by_default_and_at_most_150() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let page = body(api.get("/contacts").await).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 10);
    assert_eq!(page["pages"]["per_page"], 10);
    let page = body(api.get("/contacts?per_page=500").await).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 150);
}

#[tokio::test]
async fn the_contact_cursor_walks_every_live_contact_once_and_leaves_merged_ones_out() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let mut seen = HashSet::new();
    let mut after: Option<String> = None;
    let mut saw_url_unsafe_cursor = false;
    loop {
        let mut req = api.req(reqwest::Method::GET, "/contacts").query(&[("per_page", "150")]);
        if let Some(a) = &after {
            req = req.query(&[("starting_after", a.as_str())]);
        }
        let page = body(req.send().await.unwrap()).await;
        for c in page["data"].as_array().unwrap() {
            assert!(seen.insert(c["id"].as_str().unwrap().to_string()));
        }
        match page["pages"]["next"]["starting_after"].as_str() {
            Some(next) => {
                saw_url_unsafe_cursor |= next.contains('/') && next.contains('+');
                after = Some(next.to_string());
            }
            None => break,
        }
    }
    assert!(saw_url_unsafe_cursor, "cursors carry / and + like the live ones");
    let live: HashSet<String> = sb.sandbox.contact_ids().into_iter().collect();
    assert_eq!(seen, live);
    let merged = sb.sandbox.merged_contact_ids();
    assert_eq!(merged.len(), 3);
    assert!(merged.iter().all(|m| !seen.contains(m)));
}

#[tokio::test]
async fn a_merged_contact_is_410_with_a_link_in_2_16_and_404_before() {
    let sb = sandbox(small()).await;
    let merged = sb.sandbox.merged_contact_ids()[0].clone();
    let gone = api(&sb).with_version("2.16").get(&format!("/contacts/{merged}")).await;
    let link = gone.headers()["link"].to_str().unwrap().to_string();
    assert!(link.starts_with("</contacts/") && link.ends_with("rel=\"canonical\""), "{link}");
    assert_eq!(error_code(gone).await.1, "contact_merged");
    let old = api(&sb).with_version("2.14").get(&format!("/contacts/{merged}")).await;
    assert_eq!(error_code(old).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn owner_id_is_a_string_in_2_16_and_an_integer_in_2_14() {
    let sb = sandbox(small()).await;
    let newer = body(api(&sb).with_version("2.16").get("/contacts?per_page=150").await).await;
    let owned = newer["data"].as_array().unwrap().iter().find(|c| !c["owner_id"].is_null()).unwrap().clone();
    assert!(owned["owner_id"].is_string());
    let id = owned["id"].as_str().unwrap();
    let older = body(api(&sb).with_version("2.14").get(&format!("/contacts/{id}")).await).await;
    assert!(older["owner_id"].is_i64());
    assert_eq!(older["owner_id"].as_i64().unwrap().to_string(), owned["owner_id"].as_str().unwrap());
    // Without the header, the app's default version (2.16) applies.
    let default = body(api(&sb).get(&format!("/contacts/{id}")).await).await;
    assert!(default["owner_id"].is_string());
}

#[tokio::test]
async fn ticket_assignees_are_integers_in_2_16_and_strings_before() {
    let sb = sandbox(small()).await;
    let newer = body(api(&sb).with_version("2.16").get("/tickets/631").await).await;
    assert!(newer["admin_assignee_id"].is_i64() && newer["team_assignee_id"].is_i64());
    let older = body(api(&sb).with_version("2.15").get("/tickets/631").await).await;
    assert!(older["admin_assignee_id"].is_string());
    assert_eq!(newer["ticket_attributes"]["_default_title_"], older["ticket_attributes"]["_default_title_"]);
}

#[tokio::test]
async fn conversation_attributes_are_refused_in_2_16_only() {
    let sb = sandbox(small()).await;
    let (status, code, _) =
        error_code(api(&sb).with_version("2.16").get("/data_attributes?model=conversation").await).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "parameter_invalid"));
    assert_eq!(api(&sb).with_version("2.14").get("/data_attributes?model=conversation").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn archived_attributes_are_listed_only_when_asked_for() {
    let sb = sandbox(small()).await;
    let names = |v: &Value| {
        v["data"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let active = body(api(&sb).get("/data_attributes?model=company").await).await;
    assert!(!names(&active).contains(&"Legacy Plan".to_string()));
    assert!(active["data"].as_array().unwrap().iter().any(|a| a["custom"] == false && a["full_name"] == "plan.name"));
    let all = body(api(&sb).get("/data_attributes?model=company&include_archived=true").await).await;
    assert!(names(&all).contains(&"Legacy Plan".to_string()));
}

#[tokio::test]
async fn custom_attribute_names_are_unique_across_models() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let created =
        api.post("/data_attributes", json!({"name": "Mithril Shirt", "model": "company", "data_type": "string"})).await;
    assert_eq!(created.status(), StatusCode::OK);
    let created = body(created).await;
    assert_eq!(created["full_name"], "custom_attributes.Mithril Shirt");
    assert!(created["id"].is_i64());
    let clash =
        api.post("/data_attributes", json!({"name": "Mithril Shirt", "model": "contact", "data_type": "string"})).await;
    let (status, code, message) = error_code(clash).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "parameter_invalid"));
    assert_eq!(
        message,
        "You already have 'Mithril Shirt' in your company data. To save this as new people data, use a different name."
    );
}

#[tokio::test]
async fn data_attribute_names_types_and_options_are_checked() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let bad_name =
        api.post("/data_attributes", json!({"name": "a.b", "model": "contact", "data_type": "string"})).await;
    assert_eq!(
        error_code(bad_name).await.2,
        "Your name for this attribute must only contain alphanumeric characters, currency symbols, and hyphens"
    );
    let bad_type =
        api.post("/data_attributes", json!({"name": "Size €", "model": "contact", "data_type": "text"})).await;
    assert_eq!(error_code(bad_type).await.2, "Data Type isn't an option");
    let one_option = api
        .post(
            "/data_attributes",
            json!({"name": "Colour", "model": "contact", "data_type": "options", "options": [{"value": "red"}]}),
        )
        .await;
    assert_eq!(one_option.status(), StatusCode::BAD_REQUEST);
    let bad_model =
        api.post("/data_attributes", json!({"name": "Colour", "model": "ticket", "data_type": "string"})).await;
    assert_eq!(error_code(bad_model).await.2, "The Data Attribute model field must be either contact or company");
}

#[tokio::test]
async fn a_data_attribute_can_be_archived_but_not_retyped() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let created = body(
        api.post("/data_attributes", json!({"name": "Plan Tier", "model": "contact", "data_type": "string"})).await,
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    let retyped = api.put(&format!("/data_attributes/{id}"), json!({"data_type": "integer"})).await;
    assert_eq!(retyped.status(), StatusCode::BAD_REQUEST);
    let archived = body(api.put(&format!("/data_attributes/{id}"), json!({"archived": true})).await).await;
    assert_eq!(archived["archived"], true);
    let (status, code, _) = error_code(api.put("/data_attributes/999999", json!({"archived": true})).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "field_not_found"));
}

#[tokio::test]
async fn the_250_attribute_budget_is_enforced() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let mut created = vec![];
    let mut refused = None;
    for i in 0..260 {
        let r = api
            .post(
                "/data_attributes",
                json!({"name": format!("Budget {i}"), "model": "company", "data_type": "integer"}),
            )
            .await;
        if r.status() == StatusCode::OK {
            created.push(body(r).await["id"].as_i64().unwrap());
        } else {
            refused = Some(r);
            break;
        }
    }
    let refused = refused.expect("the budget runs out");
    assert_eq!(error_code(refused).await.0, StatusCode::BAD_REQUEST);
    let all = body(api.get("/data_attributes").await).await;
    let active_custom = all["data"].as_array().unwrap().iter().filter(|a| a["custom"] == true).count();
    assert_eq!(active_custom, 250);
    // Archiving one frees room for another.
    api.put(&format!("/data_attributes/{}", created[0]), json!({"archived": true})).await;
    let again =
        api.post("/data_attributes", json!({"name": "Budget again", "model": "company", "data_type": "integer"})).await;
    assert_eq!(again.status(), StatusCode::OK);
}

#[tokio::test]
async fn writes_to_company_custom_attributes_persist() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let created = api
        .post(
            "/companies",
            json!({"company_id": "new-1", "name": "Newco", "custom_attributes": {"Health Score": 77, "Tier": "Gold"}}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let created = body(created).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(id.len(), 24);
    let again =
        body(api.post("/companies", json!({"company_id": "new-1", "custom_attributes": {"Health Score": 12}})).await)
            .await;
    assert_eq!(again["id"], created["id"], "create-or-update is keyed by company_id");
    let fetched = body(api.get(&format!("/companies/{id}")).await).await;
    assert_eq!(fetched["custom_attributes"]["Health Score"], 12);
    assert_eq!(fetched["custom_attributes"]["Tier"], "Gold");
    assert_eq!(sb.sandbox.company_json(id).unwrap()["custom_attributes"]["Health Score"], 12);
    let updated =
        body(api.put(&format!("/companies/{id}"), json!({"custom_attributes": {"Strategic": true}})).await).await;
    assert_eq!(updated["custom_attributes"]["Strategic"], true);
}

#[tokio::test]
async fn bad_company_writes_get_intercom_errors() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let (status, code, message) = error_code(api.post("/companies", json!({"company_id": "x", "test": 1})).await).await;
    assert_eq!(
        (status, code.as_str(), message.as_str()),
        (StatusCode::BAD_REQUEST, "bad_request", "bad 'test' parameter")
    );
    let unknown = api.post("/companies", json!({"company_id": "x", "custom_attributes": {"Nope": 1}})).await;
    assert_eq!(error_code(unknown).await.1, "parameter_invalid");
    let id = sb.sandbox.company_ids()[0].clone();
    let renamed = api.put(&format!("/companies/{id}"), json!({"company_id": "other"})).await;
    assert_eq!(renamed.status(), StatusCode::BAD_REQUEST);
    let (status, code, _) = error_code(api.get("/companies/000000000000000000000000").await).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "company_not_found"));
    let garbage = api
        .req(reqwest::Method::POST, "/companies")
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(garbage).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_company_lookup_by_company_id_is_one_company_or_a_list_by_knob() {
    let sb = sandbox(small()).await;
    let one = body(api(&sb).get("/companies?company_id=cmp-00001").await).await;
    assert_eq!(one["type"], "company");
    sb.sandbox.set_company_lookup_returns_list(true);
    let list = body(api(&sb).get("/companies?company_id=cmp-00001").await).await;
    assert_eq!(list["type"], "list");
    assert_eq!(list["data"][0]["company_id"], "cmp-00001");
    let (status, code, _) = error_code(api(&sb).get("/companies?company_id=missing").await).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "company_not_found"));
}

#[tokio::test]
async fn the_company_list_stops_at_ten_thousand() {
    let sb =
        sandbox(SandboxConfig { companies: 10_600, contacts: 40_000, tickets: 0, ..SandboxConfig::default() }).await;
    let api = api(&sb);
    let first = api.post("/companies/list?per_page=150&page=1", json!({})).await;
    let first = body(first).await;
    let total = first["total_count"].as_u64().unwrap();
    assert!(total > 10_000, "enough companies with users: {total}");
    let next = first["pages"]["next"].as_str().unwrap();
    assert!(next.starts_with(&sb.base_url) && next.contains("/companies/list?per_page=150&page=2"), "{next}");
    let last = body(api.post("/companies/list?per_page=100&page=100", json!({})).await).await;
    assert_eq!(last["data"].as_array().unwrap().len(), 100);
    let (status, code, message) = error_code(api.post("/companies/list?per_page=100&page=101", json!({})).await).await;
    assert_eq!(
        (status, code.as_str(), message.as_str()),
        (StatusCode::BAD_REQUEST, "bad_request", "page limit reached, please use scroll API")
    );
    let beyond = body(api.get("/companies?per_page=100&page=101").await).await;
    assert_eq!(beyond["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn companies_without_users_are_left_out_of_company_lists() {
    let sb = sandbox(SandboxConfig { companies: 300, contacts: 30, tickets: 0, ..SandboxConfig::default() }).await;
    let page = body(api(&sb).get("/companies?per_page=150").await).await;
    assert!(page["data"].as_array().unwrap().iter().all(|c| c["user_count"].as_i64().unwrap() > 0));
    assert!((page["total_count"].as_u64().unwrap() as usize) < 300);
    assert_eq!(page["pages"]["per_page"], 150);
}

#[tokio::test]
async fn contact_search_by_updated_at_matches_whole_days_in_the_workspace_time_zone() {
    let sb = sandbox(SandboxConfig { timezone: "Europe/Paris".into(), ..small() }).await;
    let api = api(&sb);
    let ids = sb.sandbox.contact_ids();
    // 2020-01-01 10:00 Paris, 2020-01-01 00:30 Paris (= 2019-12-31 23:30 UTC), 2020-01-02 00:10 Paris.
    sb.sandbox.touch_contact(&ids[0], 1_577_869_200);
    sb.sandbox.touch_contact(&ids[1], 1_577_835_000);
    sb.sandbox.touch_contact(&ids[2], 1_577_920_200);
    let found = |v: Value| -> HashSet<String> {
        v["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
    };
    let noon = 1_577_880_000; // 2020-01-01 13:00 Paris
    let same_day = found(body(api.post("/contacts/search", search("updated_at", "=", json!(noon))).await).await);
    assert_eq!(same_day, [ids[0].clone(), ids[1].clone()].into_iter().collect());
    let early_2020 = json!({"field": "updated_at", "operator": "<", "value": 1_578_500_000});
    let next_days = json!({"query": {"operator": "AND", "value": [{"field": "updated_at", "operator": ">", "value": noon}, early_2020]}});
    let after = found(body(api.post("/contacts/search", next_days).await).await);
    assert_eq!(after, [ids[2].clone()].into_iter().collect(), "> starts at the next day");
    let before = found(body(api.post("/contacts/search", search("updated_at", "<", json!(noon))).await).await);
    assert!(!before.contains(&ids[0]) && !before.contains(&ids[1]), "< stops at the start of the day");
    let bad = api.post("/contacts/search", search("updated_at", ">=", json!(noon))).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn contact_search_pages_with_a_body_cursor_and_sorts() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let query = json!({"query": {"operator": "AND", "value": [{"field": "updated_at", "operator": ">", "value": 0}]},
                       "sort": {"field": "updated_at", "order": "ascending"}, "pagination": {"per_page": 150}});
    let mut seen = vec![];
    let mut body_json = query.clone();
    loop {
        let page = body(api.post("/contacts/search", body_json.clone()).await).await;
        assert_eq!(page["total_count"].as_u64().unwrap() as usize, sb.sandbox.contact_ids().len());
        for c in page["data"].as_array().unwrap() {
            seen.push((c["updated_at"].as_i64().unwrap(), c["id"].as_str().unwrap().to_string()));
        }
        match page["pages"]["next"]["starting_after"].as_str() {
            Some(after) => body_json["pagination"]["starting_after"] = json!(after),
            None => break,
        }
    }
    assert_eq!(seen.len(), sb.sandbox.contact_ids().len());
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "ascending by updated_at");
    let default = body(api.post("/contacts/search", search("role", "=", json!("user"))).await).await;
    assert_eq!(default["data"].as_array().unwrap().len(), 50, "50 per page by default");
    let (status, code, _) =
        error_code(api.post("/contacts/search", json!({"query": {"field": "role", "operator": "=", "value": "user"}, "sort": {"field": "updated_at", "order": "desc"}})).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "invalid_sort_order"));
}

#[tokio::test]
async fn nesting_deeper_than_two_levels_is_refused() {
    let sb = sandbox(small()).await;
    let leaf = json!({"field": "role", "operator": "=", "value": "user"});
    let two = json!({"query": {"operator": "AND", "value": [{"operator": "OR", "value": [leaf, leaf]}, leaf]}});
    assert_eq!(api(&sb).post("/contacts/search", two).await.status(), StatusCode::OK);
    let three = json!({"query": {"operator": "AND", "value": [{"operator": "OR", "value": [{"operator": "AND", "value": [leaf]}]}]}});
    assert_eq!(error_code(api(&sb).post("/contacts/search", three).await).await.0, StatusCode::BAD_REQUEST);
    let sixteen = json!({"query": {"operator": "OR", "value": vec![leaf.clone(); 16]}});
    assert_eq!(error_code(api(&sb).post("/contacts/search", sixteen).await).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn search_checks_operators_and_value_types_per_field() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    assert_eq!(
        api.post("/contacts/search", search("role", ">", json!("user"))).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        api.post("/contacts/search", search("created_at", "=", json!("yesterday"))).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        api.post("/contacts/search", search("tag_id", "IN", json!(["7001"]))).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(api.post("/contacts/search", json!({})).await.status(), StatusCode::BAD_REQUEST);
    let champions = body(api.post("/contacts/search", search("tag_id", "=", json!("7001"))).await).await;
    assert!(champions["total_count"].as_u64().unwrap() > 0);
    let by_custom = body(api.post("/contacts/search", search("custom_attributes.Seats", ">=", json!(25))).await).await;
    assert!(by_custom["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["custom_attributes"]["Seats"].as_i64().unwrap() >= 25));
}

#[tokio::test]
async fn recently_written_contacts_are_not_searchable_yet() {
    let sb = sandbox(SandboxConfig { search_index_delay: Duration::from_secs(300), ..small() }).await;
    let id = sb.sandbox.contact_ids()[5].clone();
    let email = body(api(&sb).get(&format!("/contacts/{id}")).await).await["email"].as_str().unwrap().to_string();
    api(&sb).put(&format!("/contacts/{id}"), json!({"name": "Renamed"})).await;
    let hits = body(api(&sb).post("/contacts/search", search("email", "=", json!(email))).await).await;
    assert_eq!(hits["total_count"], 0);
    sb.sandbox.set_search_index_delay(Duration::ZERO);
    let hits = body(api(&sb).post("/contacts/search", search("email", "=", json!(email))).await).await;
    assert_eq!(hits["total_count"], 1);
}

#[tokio::test]
async fn contact_updates_persist_custom_attributes_and_move_updated_at() {
    let sb = sandbox(small()).await;
    let id = sb.sandbox.contact_ids()[0].clone();
    sb.sandbox.touch_contact(&id, 1_000);
    let updated =
        body(api(&sb).put(&format!("/contacts/{id}"), json!({"custom_attributes": {"Seats": 99}})).await).await;
    assert_eq!(updated["custom_attributes"]["Seats"], 99);
    assert!(updated["updated_at"].as_i64().unwrap() > 1_000);
    assert_eq!(sb.sandbox.contact_json(&id).unwrap()["custom_attributes"]["Seats"], 99);
}

#[tokio::test]
async fn embedded_lists_on_a_contact_stop_at_ten_items() {
    let sb = sandbox(small()).await;
    // Seeding gives every 97th contact (from the 14th) more than ten tags and companies.
    let contacts = body(api(&sb).get("/contacts?per_page=150").await).await;
    let crowded = contacts["data"].as_array().unwrap().iter().find(|c| c["tags"]["has_more"] == true).cloned().unwrap();
    assert_eq!(crowded["tags"]["data"].as_array().unwrap().len(), 10);
    assert!(crowded["tags"]["total_count"].as_u64().unwrap() > 10);
    let id = crowded["id"].as_str().unwrap();
    assert_eq!(crowded["tags"]["url"], format!("/contacts/{id}/tags"));
    let tags = body(api(&sb).get(&format!("/contacts/{id}/tags")).await).await;
    assert!(tags["data"].as_array().unwrap().len() > 10);
    let companies = body(api(&sb).get(&format!("/contacts/{id}/companies")).await).await;
    assert!(companies["data"].as_array().unwrap().len() > 10);
    assert_eq!(companies["pages"]["per_page"], 50);
}

#[tokio::test]
async fn ticket_search_uses_its_own_envelope_and_filters_to_the_second() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let ticket = body(api.get("/tickets/640").await).await;
    let created = ticket["created_at"].as_i64().unwrap();
    let exact = body(api.post("/tickets/search", search("created_at", "=", json!(created))).await).await;
    assert_eq!(exact["type"], "ticket.list");
    assert!(exact["tickets"].as_array().unwrap().iter().any(|t| t["id"] == "640"));
    assert!(exact["tickets"].as_array().unwrap().iter().all(|t| t["created_at"] == created));
    let at_least = body(api.post("/tickets/search", search("created_at", ">=", json!(created))).await).await;
    assert!(at_least["tickets"].as_array().unwrap().len() <= 20, "20 per page by default");
    let types = body(api.get("/ticket_types").await).await;
    assert_eq!(types["type"], "list");
    assert!(types["data"][0]["ticket_states"]["data"].as_array().unwrap().len() >= 4);
}

#[tokio::test]
async fn injected_faults_are_counted() {
    let sb = sandbox(small()).await;
    sb.sandbox.set_fault_statuses(&[500]);
    sb.sandbox.set_fault_rate(1.0);
    let (status, code, _) = error_code(api(&sb).get("/admins").await).await;
    assert_eq!((status, code.as_str()), (StatusCode::INTERNAL_SERVER_ERROR, "server_error"));
    sb.sandbox.set_fault_rate(0.0);
    assert_eq!(api(&sb).get("/admins").await.status(), StatusCode::OK);
    let stats = sb.sandbox.stats();
    assert_eq!(stats.faults_injected, 1);
    assert_eq!(stats.calls_to("GET /admins"), 2);
    sb.sandbox.reset_stats();
    assert_eq!(sb.sandbox.stats().total_calls, 0);
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let sb = sandbox(small()).await;
    sb.sandbox.set_latency(Duration::from_millis(200));
    let started = std::time::Instant::now();
    api(&sb).get("/tags").await;
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn the_tags_include_the_relationship_roles() {
    let sb = sandbox(small()).await;
    let tags = body(api(&sb).get("/tags").await).await;
    let names: Vec<&str> = tags["data"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for role in ["Champion", "Sponsor", "Key user", "End user"] {
        assert!(names.contains(&role), "{role}");
    }
    let admins = body(api(&sb).get("/admins").await).await;
    assert_eq!(admins["type"], "admin.list");
    assert_eq!(admins["admins"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_workspace() {
    let a = Sandbox::new(SandboxConfig { seed: 7, ..small() });
    let b = Sandbox::new(SandboxConfig { seed: 7, ..small() });
    let c = Sandbox::new(SandboxConfig { seed: 8, ..small() });
    assert_eq!(a.contact_ids(), b.contact_ids());
    assert_eq!(a.company_ids(), b.company_ids());
    let id = a.contact_ids()[17].clone();
    assert_eq!(a.contact_json(&id).unwrap().to_string(), b.contact_json(&id).unwrap().to_string());
    let company = a.company_ids()[3].clone();
    assert_eq!(a.company_json(&company).unwrap().to_string(), b.company_json(&company).unwrap().to_string());
    assert_ne!(a.contact_ids(), c.contact_ids());
}

#[tokio::test]
async fn seeding_a_hundred_thousand_contacts_is_quick() {
    let started = std::time::Instant::now();
    let sb = Sandbox::new(SandboxConfig {
        companies: 10_000,
        contacts: 100_000,
        tickets: 1_000,
        ..SandboxConfig::default()
    });
    assert_eq!(sb.contact_ids().len(), 100_000 - 3);
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[tokio::test]
async fn oauth_consent_redirects_with_code_and_state_and_the_code_buys_a_token() {
    let sb = sandbox(small()).await;
    let client = Client::builder().redirect(redirect::Policy::none()).build().unwrap();
    let page = client
        .get(sb.url("/oauth"))
        .query(&[("client_id", SANDBOX_CLIENT_ID), ("redirect_uri", "http://localhost:9/callback"), ("state", "xyz")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Authorize Skalin to access"));
    let consent = client
        .post(sb.url("/oauth"))
        .form(&[
            ("client_id", SANDBOX_CLIENT_ID),
            ("redirect_uri", "http://localhost:9/callback"),
            ("state", "xyz"),
            ("decision", "authorize"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), StatusCode::SEE_OTHER);
    let location = url::Url::parse(consent.headers()["location"].to_str().unwrap()).unwrap();
    let pairs: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(pairs["state"], "xyz");
    let code = pairs["code"].clone();
    let exchange = |code: String, secret: &'static str| {
        client
            .post(sb.url("/auth/eagle/token"))
            .form(&[("code", code.as_str()), ("client_id", SANDBOX_CLIENT_ID), ("client_secret", secret)])
            .send()
    };
    let bad_secret = exchange(code.clone(), "wrong").await.unwrap();
    assert_eq!(error_code(bad_secret).await.0, StatusCode::UNAUTHORIZED);
    let token = body(exchange(code.clone(), SANDBOX_CLIENT_SECRET).await.unwrap()).await;
    assert_eq!(token["token"], token["access_token"]);
    assert_eq!(token["token_type"], "Bearer");
    assert!(token.get("refresh_token").is_none());
    let reused = exchange(code, SANDBOX_CLIENT_SECRET).await.unwrap();
    assert_eq!(error_code(reused).await.0, StatusCode::BAD_REQUEST);
    let me = Client::new().get(sb.url("/me")).bearer_auth(token["token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_oauth_cancel_redirects_with_access_denied_and_old_codes_expire() {
    let sb = sandbox(small()).await;
    let client = Client::builder().redirect(redirect::Policy::none()).build().unwrap();
    let answer = |decision: &'static str| {
        client
            .post(sb.url("/oauth"))
            .form(&[
                ("client_id", SANDBOX_CLIENT_ID),
                ("redirect_uri", "https://app.example/cb?x=1"),
                ("state", "s1"),
                ("decision", decision),
            ])
            .send()
    };
    let cancel = answer("cancel").await.unwrap();
    assert_eq!(cancel.headers()["location"], "https://app.example/cb?x=1&error=access_denied&state=s1");
    let consent = answer("authorize").await.unwrap();
    let location = url::Url::parse(consent.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.to_string();
    sb.sandbox.set_now(sb.sandbox.now() + 301);
    let late = client
        .post(sb.url("/auth/eagle/token"))
        .json(&json!({"code": code, "client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(late).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_added_data_attribute_shows_up_in_the_list() {
    let sb = sandbox(small()).await;
    sb.sandbox.add_data_attribute("contact", "Favourite Colour", "string");
    let list = body(api(&sb).get("/data_attributes?model=contact").await).await;
    assert!(list["data"].as_array().unwrap().iter().any(|a| a["name"] == "Favourite Colour" && a["custom"] == true));
    sb.sandbox.archive_data_attribute("contact", "Favourite Colour");
    let list = body(api(&sb).get("/data_attributes?model=contact").await).await;
    assert!(!list["data"].as_array().unwrap().iter().any(|a| a["name"] == "Favourite Colour"));
}

async fn scroll_company_ids(api: &Api<'_>) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut param: Option<String> = None;
    loop {
        let path = match &param {
            None => "/companies/scroll".to_string(),
            Some(p) => format!("/companies/scroll?scroll_param={p}"),
        };
        let page = body(api.get(&path).await).await;
        param = Some(page["scroll_param"].as_str().unwrap().to_string());
        let data = page["data"].as_array().unwrap();
        if data.is_empty() {
            return seen;
        }
        seen.extend(data.iter().map(|c| c["id"].as_str().unwrap().to_string()));
    }
}

async fn listed_company_ids(api: &Api<'_>, method: reqwest::Method, path: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    for page in 1.. {
        let page =
            body(api.req(method.clone(), &format!("{path}?per_page=150&page={page}")).send().await.unwrap()).await;
        let data = page["data"].as_array().unwrap();
        if data.is_empty() {
            return seen;
        }
        seen.extend(data.iter().map(|c| c["id"].as_str().unwrap().to_string()));
    }
    unreachable!()
}

fn ids_of(list: &Value, key: &str) -> Vec<String> {
    list[key].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

/// A live contact that belongs to at least one company, and that company's id.
fn contact_with_a_company(sb: &RunningSandbox) -> (String, String) {
    sb.sandbox
        .contact_ids()
        .into_iter()
        .find_map(|c| sb.sandbox.contact_company_ids(&c).first().cloned().map(|co| (c, co)))
        .expect("a contact with a company")
}

#[tokio::test]
async fn a_deleted_company_leaves_lookups_lists_the_scroll_and_its_contacts() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let (contact, id) = contact_with_a_company(&sb);
    let company_id = body(api.get(&format!("/companies/{id}")).await).await["company_id"].as_str().unwrap().to_string();
    assert!(scroll_company_ids(&api).await.contains(&id));
    assert!(listed_company_ids(&api, reqwest::Method::GET, "/companies").await.contains(&id));
    let stats_before = sb.sandbox.stats();

    assert!(sb.sandbox.delete_company(&id));
    assert!(!sb.sandbox.delete_company(&id), "a company is deleted once");
    assert_eq!(sb.sandbox.stats(), stats_before, "deleting is not an API call");

    let (status, code, message) = error_code(api.get(&format!("/companies/{id}")).await).await;
    assert_eq!(
        (status, code.as_str(), message.as_str()),
        (StatusCode::NOT_FOUND, "company_not_found", "Company Not Found")
    );
    let (status, code, _) = error_code(api.get(&format!("/companies?company_id={company_id}")).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "company_not_found"));
    assert_eq!(api.put(&format!("/companies/{id}"), json!({"name": "Ghost"})).await.status(), StatusCode::NOT_FOUND);
    assert!(!scroll_company_ids(&api).await.contains(&id));
    assert!(!listed_company_ids(&api, reqwest::Method::GET, "/companies").await.contains(&id));
    assert!(!listed_company_ids(&api, reqwest::Method::POST, "/companies/list").await.contains(&id));

    let embedded = body(api.get(&format!("/contacts/{contact}")).await).await;
    assert!(!ids_of(&embedded["companies"], "data").contains(&id));
    let companies = body(api.get(&format!("/contacts/{contact}/companies")).await).await;
    assert!(!ids_of(&companies, "data").contains(&id));
    assert_eq!(companies["total_count"].as_u64().unwrap() as usize, ids_of(&companies, "data").len());

    assert!(!sb.sandbox.company_ids().contains(&id));
    assert!(sb.sandbox.company_json(&id).is_none());
    assert!(!sb.sandbox.contact_company_ids(&contact).contains(&id));
    assert!(sb.sandbox.companies_json().iter().all(|c| c["id"] != id.as_str()));
    // The company_id is free again: upserting it makes a new company.
    let again = body(api.post("/companies", json!({"company_id": company_id, "name": "Reborn"})).await).await;
    assert_ne!(again["id"], id.as_str());
    assert_eq!(again["company_id"], company_id.as_str());
}

#[tokio::test]
async fn a_storm_of_429s_refuses_exactly_that_many_calls_with_the_rate_limit_headers() {
    let sb = sandbox(SandboxConfig { rate_limit_per_window: 500, ..small() }).await;
    let api = api(&sb);
    sb.sandbox.storm_429(3);
    // Calls with bad credentials are refused before the rate limit and do not use up the storm.
    let stranger = Client::new().get(sb.url("/admins")).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
    for _ in 0..3 {
        let refused = api.get("/admins").await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.headers()["x-ratelimit-limit"], "500");
        assert_eq!(refused.headers()["x-ratelimit-remaining"], "0");
        let reset: i64 = refused.headers()["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
        let now = sb.sandbox.now();
        assert!(reset >= now && reset <= now + 2, "reset {reset} is about a second away from {now}");
        let (_, code, message) = error_code(refused).await;
        assert_eq!(code, "rate_limit_exceeded");
        assert_eq!(message, "Exceeded rate limit of 500 in 10_seconds");
    }
    let fourth = api.get("/admins").await;
    assert_eq!(fourth.status(), StatusCode::OK);
    assert_eq!(fourth.headers()["x-ratelimit-remaining"], "499", "the storm did not spend the window");
    assert_eq!(sb.sandbox.stats().rate_limited, 3);
}

#[tokio::test]
async fn a_tag_added_through_the_api_shows_in_the_contact_tags_and_can_be_removed() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let id = sb.sandbox.contact_ids()[3].clone();
    sb.sandbox.touch_contact(&id, 1_000);
    let carried: HashSet<String> =
        ids_of(&body(api.get(&format!("/contacts/{id}/tags")).await).await, "data").into_iter().collect();
    let workspace_tags = body(api.get("/tags").await).await;
    let tag = workspace_tags["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| !carried.contains(t["id"].as_str().unwrap()))
        .unwrap()
        .clone();
    let tag_id = tag["id"].as_str().unwrap();

    let added = api.post(&format!("/contacts/{id}/tags"), json!({"id": tag_id})).await;
    assert_eq!(added.status(), StatusCode::OK);
    let added = body(added).await;
    assert_eq!(
        (added["type"].as_str(), added["id"].as_str(), &added["name"]),
        (Some("tag"), Some(tag_id), &tag["name"])
    );
    assert!(added["applied_at"].as_i64().unwrap() >= sb.sandbox.now() - 2);
    assert_eq!(added["applied_by"]["type"], "admin");
    let listed = body(api.get(&format!("/contacts/{id}/tags")).await).await;
    assert!(ids_of(&listed, "data").iter().any(|t| t == tag_id));
    let contact = body(api.get(&format!("/contacts/{id}")).await).await;
    assert!(contact["updated_at"].as_i64().unwrap() > 1_000, "tagging is a write to the contact");
    assert!(sb.sandbox.contact_tag_names(&id).contains(&tag["name"].as_str().unwrap().to_string()));

    sb.sandbox.touch_contact(&id, 1_000);
    let removed = api.req(reqwest::Method::DELETE, &format!("/contacts/{id}/tags/{tag_id}")).send().await.unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    let removed = body(removed).await;
    assert_eq!((removed["type"].as_str(), removed["id"].as_str()), (Some("tag"), Some(tag_id)));
    assert_eq!(removed["applied_at"], added["applied_at"]);
    let listed = body(api.get(&format!("/contacts/{id}/tags")).await).await;
    assert!(!ids_of(&listed, "data").iter().any(|t| t == tag_id));
    assert!(body(api.get(&format!("/contacts/{id}")).await).await["updated_at"].as_i64().unwrap() > 1_000);
}

#[tokio::test]
async fn tagging_an_unknown_contact_or_with_an_unknown_tag_is_a_404() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let id = sb.sandbox.contact_ids()[0].clone();
    let not_found = |message: &str| (StatusCode::NOT_FOUND, "not_found".to_string(), message.to_string());
    let nobody = api.post("/contacts/000000000000000000000000/tags", json!({"id": "7001"})).await;
    assert_eq!(error_code(nobody).await, not_found("User Not Found"));
    // The spec's examples send the tag id as a number too.
    let no_tag = api.post(&format!("/contacts/{id}/tags"), json!({"id": 123})).await;
    assert_eq!(error_code(no_tag).await, not_found("Resource Not Found"));
    let nobody = api.req(reqwest::Method::DELETE, "/contacts/000000000000000000000000/tags/7001").send().await.unwrap();
    assert_eq!(error_code(nobody).await, not_found("User Not Found"));
    let no_tag = api.req(reqwest::Method::DELETE, &format!("/contacts/{id}/tags/123")).send().await.unwrap();
    assert_eq!(error_code(no_tag).await, not_found("Resource Not Found"));
}

#[tokio::test]
async fn update_contact_moves_updated_at_to_now_and_search_sees_it_only_after_the_index_delay() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let id = sb.sandbox.contact_ids()[7].clone();
    sb.sandbox.set_now(1_900_000_000);
    sb.sandbox.set_search_index_delay(Duration::from_millis(1_500));
    assert!(sb.sandbox.update_contact(
        &id,
        json!({"name": "Zora Quartz", "phone": null, "external_id": "ext-zq", "custom_attributes": {"Seats": 7, "Department": null}})
    ));
    let contact = body(api.get(&format!("/contacts/{id}")).await).await;
    assert_eq!(contact["name"], "Zora Quartz");
    assert!(contact["phone"].is_null());
    assert_eq!(contact["external_id"], "ext-zq");
    assert_eq!(contact["custom_attributes"]["Seats"], 7);
    assert!(contact["custom_attributes"].get("Department").is_none());
    assert!(contact["custom_attributes"].get("Job Title").is_some(), "custom attributes are merged, not replaced");
    let updated_at = contact["updated_at"].as_i64().unwrap();
    assert!((1_900_000_000..1_900_000_005).contains(&updated_at), "{updated_at}");

    let by_name = search("name", "=", json!("Zora Quartz"));
    assert_eq!(body(api.post("/contacts/search", by_name.clone()).await).await["total_count"], 0);
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    assert_eq!(ids_of(&body(api.post("/contacts/search", by_name).await).await, "data"), vec![id.clone()]);

    assert!(!sb.sandbox.update_contact(&id, json!({"role": "lead"})), "role is not a field the UI knob edits");
    assert!(!sb.sandbox.update_contact(&id, json!({"custom_attributes": {"No Such Attribute": 1}})));
    assert!(!sb.sandbox.update_contact("000000000000000000000000", json!({"name": "x"})));
    assert_eq!(sb.sandbox.contact_json(&id).unwrap()["name"], "Zora Quartz", "a refused patch changes nothing");
}

#[tokio::test]
async fn a_refused_contact_update_changes_nothing() {
    let sb = sandbox(small()).await;
    let id = sb.sandbox.contact_ids()[2].clone();
    let before = sb.sandbox.contact_json(&id).unwrap();
    let refused = api(&sb).put(&format!("/contacts/{id}"), json!({"name": "Half Written", "role": "admin"})).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(sb.sandbox.contact_json(&id).unwrap(), before);
}

#[tokio::test]
async fn update_company_edits_fields_and_merges_custom_attributes() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let id = sb.sandbox.company_ids()[4].clone();
    sb.sandbox.set_now(1_900_000_000);
    let patch = json!({"name": "Renamed Co", "website": null, "industry": "Space", "size": 12, "monthly_spend": 99.9,
                       "custom_attributes": {"Tier": "Gold", "Sales Region": null}});
    assert!(sb.sandbox.update_company(&id, patch));
    let company = body(api.get(&format!("/companies/{id}")).await).await;
    assert_eq!(company["name"], "Renamed Co");
    assert!(company["website"].is_null());
    assert_eq!(
        (company["industry"].as_str(), company["size"].as_i64(), company["monthly_spend"].as_i64()),
        (Some("Space"), Some(12), Some(99))
    );
    assert_eq!(company["custom_attributes"]["Tier"], "Gold");
    assert!(company["custom_attributes"].get("Sales Region").is_none());
    assert!(company["custom_attributes"].get("Health Score").is_some(), "custom attributes are merged, not replaced");
    assert!((1_900_000_000..1_900_000_005).contains(&company["updated_at"].as_i64().unwrap()));

    assert!(!sb.sandbox.update_company(&id, json!({"company_id": "other"})), "company_id cannot change");
    assert!(!sb.sandbox.update_company(&id, json!({"name": "Never", "size": "big"})));
    assert!(!sb.sandbox.update_company("000000000000000000000000", json!({"name": "x"})));
    assert_eq!(sb.sandbox.company_json(&id).unwrap()["name"], "Renamed Co", "a refused patch changes nothing");
}

#[tokio::test]
async fn api_writes_to_companies_and_contacts_move_updated_at_to_the_sandbox_clock() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    sb.sandbox.set_now(1_900_000_000);
    let around_now = |v: &Value| (1_900_000_000..1_900_000_005).contains(&v["updated_at"].as_i64().unwrap());
    let company = sb.sandbox.company_ids()[1].clone();
    assert!(around_now(&body(api.put(&format!("/companies/{company}"), json!({"industry": "Robots"})).await).await));
    let contact = sb.sandbox.contact_ids()[1].clone();
    assert!(around_now(&body(api.put(&format!("/contacts/{contact}"), json!({"name": "New Name"})).await).await));
    let created = body(api.post("/companies", json!({"company_id": "brand-new-42", "name": "Brand New"})).await).await;
    let created_id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created_id.len(), 24);
    assert!(around_now(&created));
    assert_eq!(sb.sandbox.company_ids().iter().filter(|c| **c == created_id).count(), 1, "a fresh id");
    assert_eq!(sb.sandbox.company_ids().len(), 251);
}

#[tokio::test]
async fn tag_contact_by_name_creates_the_tag_and_untag_contact_removes_it() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let id = sb.sandbox.contact_ids()[9].clone();
    sb.sandbox.touch_contact(&id, 1_000);
    assert!(sb.sandbox.tag_contact(&id, "Brand New Tag"));
    assert!(sb.sandbox.tag_contact(&id, "Brand New Tag"), "tagging twice is fine");
    let tags = body(api.get("/tags").await).await;
    assert_eq!(tags["data"].as_array().unwrap().iter().filter(|t| t["name"] == "Brand New Tag").count(), 1);
    let names = sb.sandbox.contact_tag_names(&id);
    assert!(names.contains(&"Brand New Tag".to_string()));
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "sorted");
    let listed = body(api.get(&format!("/contacts/{id}/tags")).await).await;
    assert!(listed["data"].as_array().unwrap().iter().any(|t| t["name"] == "Brand New Tag"));
    assert!(sb.sandbox.contact_json(&id).unwrap()["updated_at"].as_i64().unwrap() > 1_000);

    sb.sandbox.touch_contact(&id, 1_000);
    assert!(sb.sandbox.untag_contact(&id, "Brand New Tag"));
    assert!(!sb.sandbox.untag_contact(&id, "Brand New Tag"), "it is no longer there");
    assert!(!sb.sandbox.untag_contact(&id, "No Such Tag"));
    assert!(!sb.sandbox.contact_tag_names(&id).contains(&"Brand New Tag".to_string()));
    assert!(sb.sandbox.contact_json(&id).unwrap()["updated_at"].as_i64().unwrap() > 1_000);
    assert!(!sb.sandbox.tag_contact("000000000000000000000000", "Brand New Tag"));
}

#[tokio::test]
async fn update_ticket_changes_title_and_open_and_moves_updated_at() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let ids = sb.sandbox.ticket_ids();
    assert_eq!(ids.len(), 60);
    let id = ids[5].clone();
    sb.sandbox.set_now(1_900_000_000);
    assert!(sb.sandbox.update_ticket(&id, Some("Printer on fire"), Some(false)));
    let ticket = body(api.get(&format!("/tickets/{id}")).await).await;
    assert_eq!(ticket["ticket_attributes"]["_default_title_"], "Printer on fire");
    assert_eq!(ticket["open"], false);
    assert!((1_900_000_000..1_900_000_005).contains(&ticket["updated_at"].as_i64().unwrap()));
    assert!(sb.sandbox.update_ticket(&id, None, Some(true)));
    let ticket = body(api.get(&format!("/tickets/{id}")).await).await;
    assert_eq!(
        (ticket["ticket_attributes"]["_default_title_"].as_str(), ticket["open"].as_bool()),
        (Some("Printer on fire"), Some(true))
    );
    assert!(!sb.sandbox.update_ticket("999999", Some("x"), None));
    assert!(!sb.sandbox.update_ticket("not-a-number", None, None));
}

#[tokio::test]
async fn the_read_back_helpers_match_what_the_api_serves_record_by_record() {
    let sb = sandbox(SandboxConfig { companies: 120, contacts: 300, tickets: 15, ..SandboxConfig::default() }).await;
    let api = api(&sb);
    let companies = sb.sandbox.companies_json();
    assert_eq!(companies.len(), 120, "companies without users too");
    assert!(companies.iter().any(|c| c["user_count"] == 0));
    for company in companies.iter().take(5) {
        let served = body(api.get(&format!("/companies/{}", company["id"].as_str().unwrap())).await).await;
        assert_eq!(&served, company);
    }
    let contacts = sb.sandbox.contacts_json();
    assert_eq!(
        contacts.iter().map(|c| c["id"].as_str().unwrap().to_string()).collect::<Vec<_>>(),
        sb.sandbox.contact_ids()
    );
    let served = body(api.get(&format!("/contacts/{}", contacts[0]["id"].as_str().unwrap())).await).await;
    assert_eq!(served, contacts[0]);
    let tickets = sb.sandbox.tickets_json();
    assert_eq!(
        tickets.iter().map(|t| t["id"].as_str().unwrap().to_string()).collect::<Vec<_>>(),
        sb.sandbox.ticket_ids()
    );
    let served = body(api.get(&format!("/tickets/{}", tickets[3]["id"].as_str().unwrap())).await).await;
    assert_eq!(served, tickets[3]);

    // A contact whose embedded lists are capped still reads back in full.
    let crowded = contacts.iter().find(|c| c["tags"]["has_more"] == true).unwrap();
    let id = crowded["id"].as_str().unwrap();
    let names = sb.sandbox.contact_tag_names(id);
    assert_eq!(names.len() as u64, crowded["tags"]["total_count"].as_u64().unwrap());
    assert!(names.len() > 10 && names.windows(2).all(|w| w[0] <= w[1]));
    let listed = body(api.get(&format!("/contacts/{id}/companies")).await).await;
    assert_eq!(sb.sandbox.contact_company_ids(id), ids_of(&listed, "data"), "the contact's own order");
    assert!(sb.sandbox.contact_tag_names("000000000000000000000000").is_empty());
}

#[tokio::test]
async fn a_created_contact_is_found_by_id_in_the_list_and_in_search_after_the_index_delay() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    sb.sandbox.set_now(1_900_000_000);
    sb.sandbox.set_search_index_delay(Duration::from_millis(1_500));
    let before = sb.sandbox.contact_ids();
    let posted = json!({"external_id": "new-001", "email": "nina.new@example.com", "name": "Nina New", "phone": "+33612345678",
                        "avatar": "https://example.com/nina.png", "signed_up_at": 1_899_000_000, "owner_id": "991267701",
                        "unsubscribed_from_emails": true, "custom_attributes": {"Seats": 3}});
    let created = api.post("/contacts", posted).await;
    assert_eq!(created.status(), StatusCode::OK);
    let created = body(created).await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 24, "shaped like the seeded ids");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(!before.contains(&id));
    assert_eq!(
        (created["type"].as_str(), created["role"].as_str(), created["external_id"].as_str()),
        (Some("contact"), Some("user"), Some("new-001"))
    );
    assert_eq!(
        (created["email"].as_str(), created["email_domain"].as_str()),
        (Some("nina.new@example.com"), Some("example.com"))
    );
    assert_eq!(created["avatar"], json!({"type": "avatar", "image_url": "https://example.com/nina.png"}));
    assert_eq!(
        (created["owner_id"].as_str(), created["signed_up_at"].as_i64()),
        (Some("991267701"), Some(1_899_000_000))
    );
    assert_eq!(created["unsubscribed_from_emails"], true);
    assert_eq!(created["custom_attributes"], json!({"Seats": 3}));
    assert!((1_900_000_000..1_900_000_005).contains(&created["created_at"].as_i64().unwrap()));
    assert_eq!(created["updated_at"], created["created_at"]);
    assert_eq!(
        (created["companies"]["total_count"].as_u64(), created["tags"]["total_count"].as_u64()),
        (Some(0), Some(0))
    );

    assert_eq!(
        body(api.get(&format!("/contacts/{id}")).await).await,
        created,
        "served as GET /contacts/{{id}} serves it"
    );
    assert_eq!(sb.sandbox.contact_json(&id).unwrap(), created);
    assert_eq!(sb.sandbox.contact_by_external_id("new-001").unwrap(), created);
    assert_eq!(sb.sandbox.contact_ids(), [before.clone(), vec![id.clone()]].concat(), "stored last, in id order");
    assert_eq!(sb.sandbox.contacts_json().last().unwrap(), &created);

    let mut listed = vec![];
    let mut after: Option<String> = None;
    loop {
        let mut req = api.req(reqwest::Method::GET, "/contacts").query(&[("per_page", "150")]);
        if let Some(a) = &after {
            req = req.query(&[("starting_after", a.as_str())]);
        }
        let page = body(req.send().await.unwrap()).await;
        assert_eq!(page["total_count"].as_u64().unwrap() as usize, before.len() + 1);
        listed.extend(ids_of(&page, "data"));
        match page["pages"]["next"]["starting_after"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(listed.last(), Some(&id), "the cursor walk reaches the new contact");

    let by_external_id = search("external_id", "=", json!("new-001"));
    assert_eq!(
        body(api.post("/contacts/search", by_external_id.clone()).await).await["total_count"],
        0,
        "not indexed yet"
    );
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    assert_eq!(ids_of(&body(api.post("/contacts/search", by_external_id).await).await, "data"), vec![id.clone()]);

    let lead = body(api.post("/contacts", json!({"role": "lead"})).await).await;
    assert_eq!((lead["role"].as_str(), lead["email"].is_null()), (Some("lead"), true));
    assert!(lead["id"].as_str().unwrap() > id.as_str(), "ids keep growing");
    assert_eq!(sb.sandbox.stats().calls_to("POST /contacts"), 2);
}

#[tokio::test]
async fn creating_a_contact_twice_is_a_409_naming_the_existing_id() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let live_before = sb.sandbox.contact_ids().len();
    let conflict = |id: &str| {
        (
            StatusCode::CONFLICT,
            "conflict".to_string(),
            format!("A contact matching those details already exists with id={id}"),
        )
    };
    let first = body(api.post("/contacts", json!({"external_id": "dup-1", "email": "dup@example.com"})).await).await;
    let first_id = first["id"].as_str().unwrap();

    let same_external_id = api.post("/contacts", json!({"external_id": "dup-1", "email": "other@example.com"})).await;
    assert_eq!(error_code(same_external_id).await, conflict(first_id));
    let same_user_email = api.post("/contacts", json!({"email": "dup@example.com"})).await;
    assert_eq!(error_code(same_user_email).await, conflict(first_id));

    let seeded =
        sb.sandbox.contacts_json().into_iter().find(|c| c["role"] == "user" && c["external_id"].is_string()).unwrap();
    let seeded_id = seeded["id"].as_str().unwrap();
    let same_seeded_email = api.post("/contacts", json!({"email": seeded["email"]})).await;
    assert_eq!(error_code(same_seeded_email).await, conflict(seeded_id));
    let same_seeded_external_id =
        api.post("/contacts", json!({"external_id": seeded["external_id"], "role": "lead"})).await;
    assert_eq!(error_code(same_seeded_external_id).await, conflict(seeded_id));

    assert_eq!(sb.sandbox.contact_ids().len(), live_before + 1, "only the first one was created");
    let lead = api.post("/contacts", json!({"role": "lead", "email": "dup@example.com"})).await;
    assert_eq!(lead.status(), StatusCode::OK, "a lead may share a user's email");
}

#[tokio::test]
async fn a_contact_without_email_external_id_or_role_is_refused() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let live_before = sb.sandbox.contact_ids();
    for refused in [json!({"name": "Nobody"}), json!({}), json!({"email": null, "phone": "+33600000000"})] {
        let (status, code, message) = error_code(api.post("/contacts", refused.clone()).await).await;
        assert_eq!(
            (status, code.as_str(), message.as_str()),
            (StatusCode::BAD_REQUEST, "parameter_not_found", "email, external_id or role not specified"),
            "{refused}"
        );
    }
    let (status, code, _) = error_code(
        api.post("/contacts", json!({"email": "x@example.com", "custom_attributes": {"No Such Attribute": 1}})).await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{code}");
    let (status, code, _) = error_code(api.post("/contacts", json!({"role": "admin"})).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "parameter_invalid"));
    let (status, code, _) =
        error_code(api.post("/contacts", json!({"email": "x@example.com", "favourite_colour": "blue"})).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "bad_request"));
    assert_eq!(sb.sandbox.contact_ids(), live_before, "nothing was created");
    assert!(sb.sandbox.contact_by_external_id("nobody").is_none());
}

#[tokio::test]
async fn a_contact_attached_to_a_company_lists_it_and_the_company_counts_one_more_user() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let contact =
        body(api.post("/contacts", json!({"external_id": "joiner"})).await).await["id"].as_str().unwrap().to_string();
    let (_, company) = contact_with_a_company(&sb);
    let users_before = sb.sandbox.company_json(&company).unwrap()["user_count"].as_i64().unwrap();
    sb.sandbox.touch_contact(&contact, 1_000);

    let attached = api.post(&format!("/contacts/{contact}/companies"), json!({"id": company})).await;
    assert_eq!(attached.status(), StatusCode::OK);
    let attached = body(attached).await;
    assert_eq!(attached["user_count"].as_i64().unwrap(), users_before + 1);
    assert_eq!(
        attached,
        body(api.get(&format!("/companies/{company}")).await).await,
        "served as GET /companies/{{id}} serves it"
    );

    let embedded = body(api.get(&format!("/contacts/{contact}")).await).await;
    assert_eq!(ids_of(&embedded["companies"], "data"), vec![company.clone()]);
    assert!(embedded["updated_at"].as_i64().unwrap() > 1_000, "attaching is a write to the contact");
    let listed = body(api.get(&format!("/contacts/{contact}/companies")).await).await;
    assert_eq!(ids_of(&listed, "data"), vec![company.clone()]);
    assert_eq!(sb.sandbox.contact_company_ids(&contact), vec![company.clone()]);

    let again = body(api.post(&format!("/contacts/{contact}/companies"), json!({"id": company})).await).await;
    assert_eq!(again["user_count"].as_i64().unwrap(), users_before + 1, "attaching twice counts once");
    assert_eq!(sb.sandbox.contact_company_ids(&contact).len(), 1);
    assert_eq!(sb.sandbox.stats().calls_to("POST /contacts/{id}/companies"), 2);
}

#[tokio::test]
async fn attaching_an_unknown_company_or_to_an_unknown_contact_is_a_404() {
    let sb = sandbox(small()).await;
    let api = api(&sb);
    let (contact, company) = contact_with_a_company(&sb);
    let company_not_found = (StatusCode::NOT_FOUND, "company_not_found".to_string(), "Company Not Found".to_string());
    let unknown = api.post(&format!("/contacts/{contact}/companies"), json!({"id": "123"})).await;
    assert_eq!(error_code(unknown).await, company_not_found);
    assert!(sb.sandbox.delete_company(&company));
    let deleted = api.post(&format!("/contacts/{contact}/companies"), json!({"id": company})).await;
    assert_eq!(error_code(deleted).await, company_not_found);
    let nobody =
        api.post("/contacts/000000000000000000000000/companies", json!({"id": sb.sandbox.company_ids()[0]})).await;
    assert_eq!(error_code(nobody).await, (StatusCode::NOT_FOUND, "not_found".into(), "User Not Found".into()));
    let unspecified = api.post(&format!("/contacts/{contact}/companies"), json!({})).await;
    assert_eq!(
        error_code(unspecified).await,
        (StatusCode::BAD_REQUEST, "parameter_not_found".into(), "company not specified".into())
    );
}
