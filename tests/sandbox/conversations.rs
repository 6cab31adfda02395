//! Conversation search (docs/intercom.md §6, §8.7, §9): its own envelope, cursor pages
//! of 20 by default and 150 at most, and filters on the fields the sandbox keeps.

use super::*;

fn conversations() -> SandboxConfig {
    SandboxConfig { conversations: 45, ..small() }
}

fn page_ids(page: &Value) -> Vec<String> {
    ids_of(page, "conversations")
}

/// Every conversation a query finds, page by page through `pages.next.starting_after`.
async fn found(api: &Api<'_>, query: Value, per_page: u32) -> Vec<String> {
    let mut ids = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let mut pagination = json!({"per_page": per_page});
        if let Some(c) = &cursor {
            pagination["starting_after"] = json!(c);
        }
        let page =
            body(api.post("/conversations/search", json!({"query": query, "pagination": pagination})).await).await;
        assert_eq!(page["type"], "conversation.list", "{page}");
        ids.extend(page_ids(&page));
        match page["pages"]["next"]["starting_after"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return ids,
        }
        assert!(ids.len() <= 1_000, "the walk ends");
    }
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// The ids of the seeded conversations that `keep` selects, sorted.
fn expected(sb: &RunningSandbox, keep: impl Fn(&Value) -> bool) -> Vec<String> {
    sorted(
        sb.sandbox.conversations_json().iter().filter(|c| keep(c)).map(|c| c["id"].as_str().unwrap().into()).collect(),
    )
}

#[tokio::test]
async fn conversation_search_pages_through_every_conversation_exactly_once() {
    let sb = sandbox(conversations()).await;
    let api = api(&sb);
    let first = body(api.post("/conversations/search", search("created_at", ">", json!(0))).await).await;
    assert_eq!(first["total_count"], 45);
    assert_eq!(page_ids(&first).len(), 20, "20 a page by default");
    assert_eq!(first["pages"]["per_page"], 20);
    let ids = found(&api, json!({"field": "created_at", "operator": ">", "value": 0}), 7).await;
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len(), "no conversation twice");
    assert_eq!(sorted(ids), sorted(sb.sandbox.conversation_ids()));
}

#[tokio::test]
async fn conversation_search_filters_by_updated_at_to_the_second() {
    let sb = sandbox(conversations()).await;
    let api = api(&sb);
    let mut stamps: Vec<i64> =
        sb.sandbox.conversations_json().iter().map(|c| c["updated_at"].as_i64().unwrap()).collect();
    stamps.sort();
    let middle = stamps[stamps.len() / 2];
    let updated = |c: &Value| c["updated_at"].as_i64().unwrap();
    let filter = |op: &str| json!({"field": "updated_at", "operator": op, "value": middle});
    let exact = found(&api, filter("="), 150).await;
    assert_eq!(sorted(exact), expected(&sb, |c| updated(c) == middle));
    // "Greater (or equal)" and "lower (or equal)", as for tickets, unless the knob says otherwise.
    let after = found(&api, filter(">"), 150).await;
    assert_eq!(sorted(after), expected(&sb, |c| updated(c) >= middle));
    let before = found(&api, filter("<"), 150).await;
    assert_eq!(sorted(before), expected(&sb, |c| updated(c) <= middle));
    sb.sandbox.set_ticket_search_gt_inclusive(false);
    let after = found(&api, filter(">"), 150).await;
    assert_eq!(sorted(after), expected(&sb, |c| updated(c) > middle));
}

#[tokio::test]
async fn conversation_search_filters_by_state_open_contact_and_assignee() {
    let sb = sandbox(conversations()).await;
    let api = api(&sb);
    let all = sb.sandbox.conversations_json();
    for state in ["open", "closed", "snoozed"] {
        let hits = found(&api, json!({"field": "state", "operator": "=", "value": state}), 150).await;
        assert_eq!(sorted(hits), expected(&sb, |c| c["state"] == state), "{state}");
    }
    let closed = found(&api, json!({"field": "open", "operator": "=", "value": false}), 150).await;
    assert_eq!(sorted(closed), expected(&sb, |c| c["state"] == "closed"), "only closed ones are not open");
    let contact = all[0]["contacts"]["contacts"][0]["id"].as_str().unwrap().to_string();
    let of_contact = found(&api, json!({"field": "contact_ids", "operator": "=", "value": contact}), 150).await;
    assert_eq!(
        sorted(of_contact),
        expected(&sb, |c| c["contacts"]["contacts"].as_array().unwrap().iter().any(|k| k["id"] == contact.as_str()))
    );
    let admin = all.iter().find_map(|c| c["admin_assignee_id"].as_i64().filter(|&a| a != 0)).unwrap();
    let assigned = found(
        &api,
        json!({"operator": "AND", "value": [
        {"field": "admin_assignee_id", "operator": "=", "value": admin},
        {"field": "open", "operator": "=", "value": true}]}),
        150,
    )
    .await;
    assert_eq!(sorted(assigned), expected(&sb, |c| c["admin_assignee_id"] == admin && c["open"] == true));
}

#[tokio::test]
async fn conversation_search_refuses_more_than_150_a_page_and_unknown_fields() {
    let sb = sandbox(conversations()).await;
    let api = api(&sb);
    let too_many = json!({"query": {"field": "open", "operator": "=", "value": true}, "pagination": {"per_page": 151}});
    let (status, code, _) = error_code(api.post("/conversations/search", too_many).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "parameter_invalid"));
    let (status, code, _) =
        error_code(api.post("/conversations/search", search("role", "=", json!("user"))).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "parameter_invalid"));
}

#[tokio::test]
async fn conversation_priority_and_unassigned_ids_follow_the_version() {
    let sb = sandbox(conversations()).await;
    let unassigned = search("admin_assignee_id", "=", json!(0));
    let v2_16 = body(api(&sb).post("/conversations/search", unassigned.clone()).await).await;
    let v2_14 = body(api(&sb).with_version("2.14").post("/conversations/search", unassigned).await).await;
    assert!(!page_ids(&v2_16).is_empty(), "some conversations are unassigned");
    assert!(v2_16["conversations"].as_array().unwrap().iter().all(|c| c["admin_assignee_id"] == 0));
    assert!(v2_14["conversations"].as_array().unwrap().iter().all(|c| c["admin_assignee_id"].is_null()));
    let levels = |page: &Value| -> HashSet<String> {
        page["conversations"].as_array().unwrap().iter().map(|c| c["priority"].as_str().unwrap().to_string()).collect()
    };
    assert!(levels(&v2_16).is_subset(&["none", "low", "medium", "high", "urgent"].map(String::from).into()));
    assert!(levels(&v2_14).is_subset(&["priority", "not_priority"].map(String::from).into()));
}

#[tokio::test]
async fn seeding_conversations_leaves_the_other_records_of_a_seed_as_they_were() {
    let with = Sandbox::new(SandboxConfig { seed: 5, conversations: 80, ..small() });
    let without = Sandbox::new(SandboxConfig { seed: 5, conversations: 0, ..small() });
    assert_eq!(with.conversation_ids().len(), 80);
    assert!(without.conversation_ids().is_empty());
    assert_eq!(with.companies_json(), without.companies_json());
    assert_eq!(with.contacts_json(), without.contacts_json());
    assert_eq!(with.tickets_json(), without.tickets_json());
    let again = Sandbox::new(SandboxConfig { seed: 5, conversations: 80, ..small() });
    assert_eq!(with.conversations_json(), again.conversations_json(), "the same seed, the same conversations");
}
