//! The Intercom client against the sandbox Intercom, over real HTTP: every walk returns
//! each record once, whatever the sandbox throws at it.

use std::collections::HashSet;
use std::time::Duration;

use app::intercom::*;
use futures::{StreamExt, TryStreamExt};
use sandbox::{
    RunningSandbox, Sandbox, SandboxConfig, ScrollFault, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_TOKEN,
};
use secrecy::SecretString;

async fn sandbox(companies: usize, contacts: usize, tickets: usize) -> RunningSandbox {
    let config = SandboxConfig { companies, contacts, tickets, ..SandboxConfig::default() };
    Sandbox::spawn(config).await.expect("start the sandbox")
}

/// Short waits: the tests ride out faults without sleeping for real-world durations.
fn quick_policy() -> RetryPolicy {
    RetryPolicy { base: Duration::from_millis(5), cap: Duration::from_millis(50), ..RetryPolicy::default() }
}

fn client_for(sandbox: &RunningSandbox) -> IntercomClient {
    // Each test gets a token of its own, so budgets learned in one test stay there.
    client_with_token(sandbox, SANDBOX_TOKEN)
}

fn client_with_token(sandbox: &RunningSandbox, token: &str) -> IntercomClient {
    IntercomClient::with_base_url(&sandbox.base_url, SecretString::from(token.to_string()))
        .expect("a client")
        .with_retry_policy(quick_policy())
}

fn assert_each_once(ids: Vec<String>, expected: Vec<String>) {
    let unique: HashSet<_> = ids.iter().cloned().collect();
    assert_eq!(unique.len(), ids.len(), "{} records came twice", ids.len() - unique.len());
    let expected: HashSet<_> = expected.into_iter().collect();
    let missing = expected.difference(&unique).count();
    let extra = unique.difference(&expected).count();
    assert!(missing == 0 && extra == 0, "{missing} records missing, {extra} unexpected");
}

async fn all_contact_ids(client: &IntercomClient) -> Vec<String> {
    client.contacts().map_ok(|c| c.id).try_collect().await.expect("walk the contacts")
}

async fn all_company_ids(stream: impl futures::Stream<Item = Result<Company>>) -> Vec<String> {
    stream.map_ok(|c| c.id).try_collect().await.expect("walk the companies")
}

#[tokio::test]
async fn every_contact_is_listed_exactly_once_in_pages_of_150() {
    let sb = sandbox(20, 1_000, 0).await;
    let client = client_for(&sb);
    assert_each_once(all_contact_ids(&client).await, sb.sandbox.contact_ids());
    assert_eq!(sb.sandbox.stats().calls_to("GET /contacts"), 1_000u64.div_ceil(150));
}

#[tokio::test]
async fn the_company_scroll_returns_every_company_exactly_once() {
    let sb = sandbox(350, 400, 0).await;
    sb.sandbox.set_scroll_includes_companies_without_users(true);
    let client = client_for(&sb);
    assert_each_once(all_company_ids(client.scroll_companies()).await, sb.sandbox.company_ids());
}

#[tokio::test]
async fn a_scroll_that_fails_midway_starts_again_and_still_yields_each_company_once() {
    let sb = sandbox(450, 500, 0).await;
    sb.sandbox.set_scroll_includes_companies_without_users(true);
    sb.sandbox.fail_scroll_after_pages(2);
    let client = client_for(&sb);
    assert_each_once(all_company_ids(client.scroll_companies()).await, sb.sandbox.company_ids());
    assert!(sb.sandbox.stats().calls_to("GET /companies/scroll") > 5, "the walk was started again");
}

#[tokio::test]
async fn a_scroll_that_expires_while_read_is_walked_again_without_duplicates() {
    let sb = sandbox(320, 400, 0).await;
    sb.sandbox.set_scroll_includes_companies_without_users(true);
    let client = client_for(&sb);
    let mut stream = Box::pin(client.scroll_companies());
    let mut ids = Vec::new();
    while ids.len() < 150 {
        ids.push(stream.next().await.expect("a company").expect("no error").id);
    }
    sb.sandbox.expire_scrolls();
    while let Some(company) = stream.next().await {
        ids.push(company.expect("no error").id);
    }
    assert_each_once(ids, sb.sandbox.company_ids());
}

#[tokio::test]
async fn a_scroll_opened_elsewhere_is_waited_for_and_then_the_walk_completes() {
    let sb = sandbox(120, 200, 0).await;
    sb.sandbox.set_scroll_includes_companies_without_users(true);
    // Another process holds the workspace's scroll.
    let other =
        reqwest::Client::new().get(sb.url("/companies/scroll")).bearer_auth(SANDBOX_TOKEN).send().await.unwrap();
    assert_eq!(other.status(), 200);

    let client = client_for(&sb);
    let options =
        ScrollOptions { busy_wait: Duration::from_millis(50), busy_attempts: 100, ..ScrollOptions::default() };
    let walk = tokio::spawn({
        let client = client.clone();
        async move { all_company_ids(client.scroll_companies_with(options)).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    sb.sandbox.expire_scrolls();
    assert_each_once(walk.await.unwrap(), sb.sandbox.company_ids());
}

#[tokio::test]
async fn a_scroll_held_elsewhere_for_too_long_is_reported_plainly() {
    let sb = sandbox(10, 10, 0).await;
    reqwest::Client::new().get(sb.url("/companies/scroll")).bearer_auth(SANDBOX_TOKEN).send().await.unwrap();
    let client = client_for(&sb);
    let options = ScrollOptions { busy_wait: Duration::from_millis(10), busy_attempts: 3, ..ScrollOptions::default() };
    let err = client.scroll_companies_with(options).try_collect::<Vec<_>>().await.unwrap_err();
    assert!(matches!(err, IntercomError::ScrollBusy), "{err:?}");
    assert!(err.to_string().contains("another company scroll is open"), "{err}");
}

/// The ids a walk gave and the restarts it told of.
async fn walk_pages(stream: impl futures::Stream<Item = Result<ScrollEvent>>) -> (Vec<String>, Vec<Restarts>) {
    let events: Vec<ScrollEvent> = stream.try_collect().await.expect("walk the companies");
    let mut ids = Vec::new();
    let mut restarts = Vec::new();
    for event in events {
        match event {
            ScrollEvent::Page { companies, .. } => ids.extend(companies.into_iter().map(|c| c.id)),
            ScrollEvent::Restarted(r) => restarts.push(r),
        }
    }
    (ids, restarts)
}

/// A scroll page read by hand, as another process (or a killed run) would have: its param.
async fn open_a_scroll_elsewhere(sb: &RunningSandbox) -> String {
    let page: serde_json::Value = reqwest::Client::new()
        .get(sb.url("/companies/scroll"))
        .bearer_auth(SANDBOX_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["scroll_param"].as_str().expect("a scroll_param").to_string()
}

/// Never waits for another scroll: a test that needs to wait fails at once.
fn never_waits() -> ScrollOptions {
    ScrollOptions { busy_wait: Duration::from_millis(1), busy_attempts: 0, ..ScrollOptions::default() }
}

#[tokio::test]
async fn a_scroll_page_that_fails_is_asked_again_with_the_same_param_instead_of_restarting_the_walk() {
    let sb = sandbox(1_000, 1_000, 0).await;
    sb.sandbox.set_scroll_includes_companies_without_users(true);
    sb.sandbox.set_fault_rate(0.2);
    let client = client_for(&sb);
    let (ids, restarts) = walk_pages(client.scroll_pages_with(None, never_waits())).await;
    assert_each_once(ids, sb.sandbox.company_ids());
    assert!(restarts.is_empty(), "the walk started again: {restarts:?}");
    let stats = sb.sandbox.stats();
    assert!(stats.faults_injected > 0, "some pages failed");
    let pages = 1_000u64.div_ceil(100) + 1;
    assert_eq!(
        stats.calls_to("GET /companies/scroll"),
        pages + stats.faults_injected,
        "each failed page asked once more"
    );
}

#[tokio::test]
async fn a_502_that_keeps_the_scroll_alive_costs_one_more_call_and_no_restart() {
    let sb = sandbox(450, 500, 0).await;
    sb.sandbox.set_scroll_includes_companies_without_users(true);
    sb.sandbox.fail_scroll_page(2, 502, ScrollFault::KeepsScroll);
    let client = client_for(&sb);
    let (ids, restarts) = walk_pages(client.scroll_pages_with(None, never_waits())).await;
    assert_each_once(ids, sb.sandbox.company_ids());
    assert!(restarts.is_empty(), "{restarts:?}");
    assert_eq!(sb.sandbox.stats().calls_to("GET /companies/scroll"), 450u64.div_ceil(100) + 1 + 1);
}

#[tokio::test]
async fn a_503_that_ends_the_scroll_restarts_the_walk_at_once_without_waiting() {
    let sb = sandbox(450, 500, 0).await;
    sb.sandbox.set_scroll_includes_companies_without_users(true);
    sb.sandbox.fail_scroll_page(2, 503, ScrollFault::EndsScroll);
    let client = client_for(&sb);
    let (ids, restarts) = walk_pages(client.scroll_pages_with(None, never_waits())).await;
    assert_each_once(ids, sb.sandbox.company_ids());
    assert_eq!(restarts.len(), 1, "{restarts:?}");
}

#[tokio::test]
async fn a_scroll_left_open_by_an_earlier_walk_is_read_to_its_end_instead_of_waited_out() {
    let sb = sandbox(450, 500, 0).await;
    sb.sandbox.set_scroll_includes_companies_without_users(true);
    let left_open = open_a_scroll_elsewhere(&sb).await;
    let client = client_for(&sb);
    let (ids, restarts) = walk_pages(client.scroll_pages_with(Some(left_open), never_waits())).await;
    assert_each_once(ids, sb.sandbox.company_ids());
    assert!(restarts.is_empty(), "{restarts:?}");
}

#[tokio::test]
async fn a_left_open_scroll_that_has_since_expired_costs_nothing() {
    let sb = sandbox(250, 300, 0).await;
    sb.sandbox.set_scroll_includes_companies_without_users(true);
    let left_open = open_a_scroll_elsewhere(&sb).await;
    sb.sandbox.expire_scrolls();
    sb.sandbox.reset_stats();
    let client = client_for(&sb);
    let (ids, _) = walk_pages(client.scroll_pages_with(Some(left_open), never_waits())).await;
    assert_each_once(ids, sb.sandbox.company_ids());
    assert_eq!(sb.sandbox.stats().calls_to("GET /companies/scroll"), 250u64.div_ceil(100) + 1);
}

#[tokio::test]
async fn a_scroll_that_asks_for_a_restart_starts_again_and_tells_so() {
    let sb = sandbox(450, 500, 0).await;
    sb.sandbox.set_scroll_includes_companies_without_users(true);
    sb.sandbox.fail_scroll_after_pages(2);
    let client = client_for(&sb);
    let (ids, restarts) = walk_pages(client.scroll_pages_with(None, never_waits())).await;
    assert_each_once(ids, sb.sandbox.company_ids());
    assert_eq!(restarts.len(), 1, "{restarts:?}");
    assert_eq!(restarts[0].count, 1);
    assert!(restarts[0].reason.contains("restart the scroll"), "{}", restarts[0].reason);
}

#[tokio::test]
async fn a_scroll_that_never_finishes_gives_up_once_its_time_budget_for_restarts_is_spent() {
    let sb = sandbox(300, 300, 0).await;
    sb.sandbox.set_latency(Duration::from_millis(20));
    sb.sandbox.fail_scrolls_after_pages(1, 10_000);
    let client = client_for(&sb);
    let options = ScrollOptions { restart_budget: Duration::from_millis(300), ..never_waits() };
    let err = client.scroll_pages_with(None, options).try_collect::<Vec<_>>().await.unwrap_err();
    assert!(matches!(err, IntercomError::ScrollIncomplete(_)), "{err:?}");
    assert!(err.to_string().contains("budget for restarts"), "{err}");
    let walks = sb.sandbox.stats().calls_to("GET /companies/scroll") / 2;
    assert!((2..=20).contains(&walks), "{walks} walks in a 300 ms budget of ~40 ms walks");
}

#[tokio::test]
async fn two_scrolls_from_this_process_take_turns_instead_of_killing_each_other() {
    let sb = sandbox(250, 300, 0).await;
    sb.sandbox.set_scroll_includes_companies_without_users(true);
    let client = client_for(&sb);
    let (a, b) = tokio::join!(all_company_ids(client.scroll_companies()), all_company_ids(client.scroll_companies()));
    assert_each_once(a, sb.sandbox.company_ids());
    assert_each_once(b, sb.sandbox.company_ids());
}

#[tokio::test]
async fn with_two_percent_of_calls_failing_every_walk_still_completes() {
    let sb = sandbox(300, 2_000, 0).await;
    sb.sandbox.set_scroll_includes_companies_without_users(true);
    sb.sandbox.set_fault_rate(0.02);
    let client = client_for(&sb);
    assert_each_once(all_contact_ids(&client).await, sb.sandbox.contact_ids());
    assert_each_once(all_company_ids(client.scroll_companies()).await, sb.sandbox.company_ids());
    assert_each_once(all_company_ids(client.list_companies(50)).await, listed_companies(&sb));
}

/// What `POST /companies/list` shows: companies with users only (docs/intercom.md §8.3).
fn listed_companies(sb: &RunningSandbox) -> Vec<String> {
    sb.sandbox
        .company_ids()
        .into_iter()
        .filter(|id| sb.sandbox.company_json(id).and_then(|c| c["user_count"].as_i64()).unwrap_or(0) > 0)
        .collect()
}

#[tokio::test]
async fn a_rate_limit_storm_is_ridden_out_without_a_second_429_in_a_window() {
    let sb = sandbox(30, 600, 0).await;
    sb.sandbox.set_rate_limit(4);
    // Someone else spends this token's window first.
    let http = reqwest::Client::new();
    for _ in 0..5 {
        http.get(sb.url("/me")).bearer_auth(SANDBOX_TOKEN).send().await.unwrap();
    }
    sb.sandbox.reset_stats();
    let client = client_for(&sb);
    let (contacts, tags) = tokio::join!(all_contact_ids(&client), client.tags());
    tags.expect("tags");
    assert_each_once(contacts, sb.sandbox.contact_ids());
    let stats = sb.sandbox.stats();
    assert!(stats.rate_limited <= 1, "{} calls were refused for the rate limit", stats.rate_limited);
    assert!(client.stats().rate_limit_waits >= 1, "the client waited for the window");
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_asks_for_a_reconnection() {
    let sb = sandbox(5, 5, 0).await;
    let client = client_with_token(&sb, "revoked");
    let err = client.me().await.unwrap_err();
    assert!(err.needs_reconnect(), "{err:?}");
    assert_eq!(err.code(), Some("unauthorized"));
}

#[tokio::test]
async fn an_unknown_company_is_not_found_with_intercoms_code_and_request_id() {
    let sb = sandbox(5, 5, 0).await;
    let err = client_for(&sb).company("000000000000000000000000").await.unwrap_err();
    assert!(matches!(err, IntercomError::NotFound(_)), "{err:?}");
    assert_eq!(err.code(), Some("company_not_found"));
    assert!(err.request_id().is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn me_tells_the_workspace_its_region_and_time_zone() {
    let sb = sandbox(5, 5, 0).await;
    let me = client_for(&sb).me().await.unwrap();
    let app = me.app.expect("the workspace");
    assert!(!app.id_code.is_empty());
    assert_eq!(app.region.as_deref().and_then(Region::from_me), Some(Region::Us));
    assert_eq!(app.timezone.as_deref(), Some("Europe/Paris"));
}

#[tokio::test]
async fn an_incremental_contact_search_finds_a_change_made_later_the_same_day() {
    let sb = sandbox(10, 300, 0).await;
    let client = client_for(&sb);
    let now = sb.sandbox.now();
    let cursor = now - 3_600;
    let target = sb.sandbox.contact_ids()[7].clone();
    sb.sandbox.touch_contact(&target, cursor + 60);
    let found: Vec<Contact> =
        client.search_contacts(Search::contacts_updated_since(cursor)).try_collect().await.unwrap();
    assert!(found.iter().any(|c| c.id == target), "the change after the cursor was found");
    let ids: HashSet<_> = found.iter().map(|c| c.id.clone()).collect();
    assert_eq!(ids.len(), found.len(), "no contact twice");
}

#[tokio::test]
async fn a_search_beyond_intercoms_limits_is_refused_before_it_is_sent() {
    let filters = (0..16).map(|i| Query::filter("name", Op::Eq, format!("n{i}"))).collect();
    assert!(matches!(Search::new(Target::Contacts, Query::Or(filters)), Err(QueryError::TooManyFilters(16))));
}

#[tokio::test]
async fn ticket_search_returns_each_ticket_once() {
    let sb = sandbox(20, 100, 90).await;
    let client = client_for(&sb);
    let tickets: Vec<Ticket> =
        client.search_tickets(Search::tickets_created_since(0).per_page(20)).try_collect().await.unwrap();
    let ids: HashSet<_> = tickets.iter().map(|t| t.id.clone()).collect();
    assert_eq!(ids.len(), tickets.len());
    assert_eq!(tickets.len(), 90);
    assert!(tickets.iter().all(|t| t.title().is_some()));
}

#[tokio::test]
async fn company_attributes_list_hides_archived_ones_and_a_new_one_appears() {
    let sb = sandbox(5, 5, 0).await;
    let client = client_for(&sb);
    let before = client.data_attributes(Model::Company, false).await.unwrap();
    assert!(before.iter().all(|a| !a.archived));
    assert!(before.iter().any(|a| a.name == "website" && !a.custom));
    let created = client
        .create_data_attribute(&NewDataAttribute {
            name: "Healthscore".into(),
            model: Model::Company,
            data_type: "integer".into(),
            description: Some("Skalin's health score".into()),
        })
        .await
        .unwrap();
    assert!(created.custom && created.id.is_some());
    let after = client.data_attributes(Model::Company, false).await.unwrap();
    assert!(after.iter().any(|a| a.name == "Healthscore" && a.data_type == "integer"));
}

#[tokio::test]
async fn a_company_written_by_company_id_keeps_its_custom_attributes() {
    let sb = sandbox(5, 5, 0).await;
    let client = client_for(&sb);
    client
        .create_data_attribute(&NewDataAttribute {
            name: "CSM Pulse".into(),
            model: Model::Company,
            data_type: "string".into(),
            description: None,
        })
        .await
        .unwrap();
    let mut custom = CustomAttributes::new();
    custom.insert("CSM Pulse".into(), serde_json::json!("happy"));
    let company = client
        .upsert_company(&CompanyUpsert {
            company_id: "skalin-42".into(),
            name: Some("Acme".into()),
            custom_attributes: custom,
            ..CompanyUpsert::default()
        })
        .await
        .unwrap();
    let stored = sb.sandbox.company_json(&company.id).expect("the company exists");
    assert_eq!(stored["custom_attributes"]["CSM Pulse"], "happy");
    let found = client.company_by_company_id("skalin-42").await.unwrap().expect("found by company_id");
    assert_eq!(found.id, company.id);
}

#[tokio::test]
async fn a_company_lookup_reads_a_single_object_or_a_list() {
    let sb = sandbox(5, 5, 0).await;
    let client = client_for(&sb);
    let some = client.company(&sb.sandbox.company_ids()[0]).await.unwrap();
    let company_id = some.company_id.clone().expect("seeded companies have a company_id");
    assert_eq!(client.company_by_company_id(&company_id).await.unwrap().map(|c| c.id), Some(some.id.clone()));
    sb.sandbox.set_company_lookup_returns_list(true);
    assert_eq!(client.company_by_company_id(&company_id).await.unwrap().map(|c| c.id), Some(some.id));
    assert_eq!(client.company_by_company_id("no-such-company").await.unwrap(), None);
}

#[tokio::test]
async fn a_merged_contact_is_gone_and_names_the_contact_that_replaced_it() {
    let sb = sandbox(5, 200, 0).await;
    let Some(merged) = sb.sandbox.merged_contact_ids().into_iter().next() else {
        panic!("the sandbox seeds merged contacts");
    };
    let err = client_for(&sb).contact(&merged).await.unwrap_err();
    assert!(matches!(err, IntercomError::Gone { canonical: Some(_), .. }), "{err:?}");
}

#[tokio::test]
async fn connecting_through_the_consent_page_yields_a_working_token() {
    let sb = sandbox(5, 5, 0).await;
    let endpoints = OAuthEndpoints::at(&sb.base_url);
    let consent = endpoints.consent_url(SANDBOX_CLIENT_ID, "http://127.0.0.1:9/callback", "state-123");
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = http.get(&consent).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Authorize"), "{page}");

    let form = consent_form_fields(&page);
    let answer = http.post(sb.url("/oauth")).form(&form).send().await.unwrap();
    let location = answer.headers()["location"].to_str().unwrap().to_string();
    let callback = url::Url::parse(&location).unwrap();
    let params: std::collections::HashMap<_, _> = callback.query_pairs().into_owned().collect();
    assert_eq!(params.get("state").map(String::as_str), Some("state-123"));

    let token = endpoints.exchange_code(&params["code"], SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET).await.unwrap();
    let client = IntercomClient::with_base_url(&sb.base_url, token).unwrap();
    assert!(client.me().await.is_ok());
    let reused = endpoints.exchange_code(&params["code"], SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET).await;
    assert!(reused.is_err(), "a code works once");
}

/// The hidden and submit fields of the sandbox's consent form, choosing "Authorize".
fn consent_form_fields(page: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for tag in page.split('<').filter(|t| t.starts_with("input") || t.starts_with("button")) {
        let attr = |name: &str| {
            tag.split(&format!("{name}=\"")).nth(1).and_then(|rest| rest.split('"').next()).map(html_unescape)
        };
        if let (Some(name), Some(value)) = (attr("name"), attr("value")) {
            let is_button = tag.starts_with("button") || attr("type").as_deref() == Some("submit");
            if !is_button || value.to_lowercase().contains("authori") {
                fields.push((name, value));
            }
        }
    }
    fields
}

fn html_unescape(s: &str) -> String {
    s.replace("&amp;", "&").replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">")
}

#[tokio::test]
async fn the_workspace_lists_read_whole_admins_tags_and_ticket_types() {
    let sb = sandbox(5, 20, 10).await;
    let client = client_for(&sb);
    let admins = client.admins().await.unwrap();
    assert!(!admins.is_empty() && admins.iter().all(|a| !a.id.is_empty()));
    let tags: Vec<String> = client.tags().await.unwrap().into_iter().map(|t| t.name).collect();
    for role in ["Champion", "Sponsor", "Key user", "End user"] {
        assert!(tags.iter().any(|t| t == role), "{role} in {tags:?}");
    }
    assert!(!client.ticket_types().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_contact_is_read_updated_and_its_companies_and_tags_listed() {
    let sb = sandbox(40, 200, 0).await;
    let client = client_for(&sb);
    let with_companies = sb
        .sandbox
        .contact_ids()
        .into_iter()
        .find(|id| sb.sandbox.contact_json(id).is_some_and(|c| c["companies"]["total_count"].as_u64().unwrap_or(0) > 0))
        .expect("a contact with companies");
    let contact = client.contact(&with_companies).await.unwrap();
    assert_eq!(contact.id, with_companies);

    let companies: Vec<Company> = client.contact_companies(&contact.id).try_collect().await.unwrap();
    assert_eq!(companies.len() as u64, contact.companies.total_count.unwrap());
    sb.sandbox.set_contact_companies_key_to_companies(true);
    let again: Vec<Company> = client.contact_companies(&contact.id).try_collect().await.unwrap();
    assert_eq!(again.len(), companies.len(), "the `companies` key reads the same");

    let tags = client.contact_tags(&contact.id).await.unwrap();
    assert_eq!(tags.len() as u64, contact.tags.total_count.unwrap_or(0));

    let admin = client.admins().await.unwrap().remove(0);
    let updated = client
        .update_contact(
            &contact.id,
            &ContactUpdate {
                name: Some("Renamed Person".into()),
                owner_id: Some(admin.id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("Renamed Person"));
    assert_eq!(updated.owner_id.as_deref(), Some(admin.id.as_str()));
}

#[tokio::test]
async fn a_company_is_updated_by_its_intercom_id() {
    let sb = sandbox(5, 5, 0).await;
    let client = client_for(&sb);
    let id = sb.sandbox.company_ids()[0].clone();
    let updated = client
        .update_company(&id, &CompanyUpdate { website: Some("https://renamed.example".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(updated.website.as_deref(), Some("https://renamed.example"));
    assert_eq!(sb.sandbox.company_json(&id).unwrap()["website"], "https://renamed.example");
}

#[tokio::test]
async fn a_custom_attribute_is_archived_and_leaves_the_list() {
    let sb = sandbox(5, 5, 0).await;
    let client = client_for(&sb);
    let attribute = client
        .create_data_attribute(&NewDataAttribute {
            name: "Pulse".into(),
            model: Model::Contact,
            data_type: "string".into(),
            description: None,
        })
        .await
        .unwrap();
    client
        .update_data_attribute(
            attribute.id.unwrap(),
            &DataAttributeUpdate { archived: Some(true), ..Default::default() },
        )
        .await
        .unwrap();
    let live = client.data_attributes(Model::Contact, false).await.unwrap();
    assert!(!live.iter().any(|a| a.name == "Pulse"));
    let all = client.data_attributes(Model::Contact, true).await.unwrap();
    assert!(all.iter().any(|a| a.name == "Pulse" && a.archived));
}

#[tokio::test]
async fn a_refused_write_keeps_intercoms_code_and_field() {
    let sb = sandbox(5, 5, 0).await;
    let err = client_for(&sb)
        .create_data_attribute(&NewDataAttribute {
            name: "Bad_Name".into(),
            model: Model::Company,
            data_type: "string".into(),
            description: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, IntercomError::Invalid { status: 400, .. }), "{err:?}");
    assert_eq!(err.code(), Some("parameter_invalid"));
}

#[tokio::test]
async fn a_ticket_is_read_by_its_id() {
    let sb = sandbox(5, 20, 5).await;
    let client = client_for(&sb);
    let first: Vec<Ticket> = client.search_tickets(Search::tickets_created_since(0)).try_collect().await.unwrap();
    let ticket = client.ticket(&first[0].id).await.unwrap();
    assert_eq!(ticket.id, first[0].id);
    assert!(ticket.ticket_state.is_some());
}

#[tokio::test]
async fn a_success_with_an_unreadable_body_is_a_decode_error_not_a_panic() {
    let router = axum::Router::new().route("/me", axum::routing::get(|| async { "<html>maintenance</html>" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = IntercomClient::with_base_url(&base_url, SecretString::from("t")).unwrap();
    let err = client.me().await.unwrap_err();
    assert!(matches!(err, IntercomError::Decode { status: 200, .. }), "{err:?}");
}

/// A stand-in that answers without end must not take the process's memory with it.
#[tokio::test]
async fn an_answer_without_end_is_cut_off_and_said_to_be_too_large() {
    let endless = axum::Router::new().route(
        "/me",
        axum::routing::get(|| async {
            let chunk = bytes_of_spaces();
            let body = futures::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
            ([("content-type", "application/json")], axum::body::Body::from_stream(body))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, endless).await });

    let client = IntercomClient::with_base_url(&url, SecretString::from("t".to_string())).unwrap();
    let err = client.me().await.expect_err("an endless body is refused");
    assert!(matches!(err, IntercomError::TooLarge { status: 200, .. }), "{err:?}");
    assert!(err.to_string().contains("larger than 32 MiB"), "{err}");
}

fn bytes_of_spaces() -> axum::body::Bytes {
    axum::body::Bytes::from(vec![b' '; 1 << 20])
}
