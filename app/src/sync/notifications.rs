//! What a stored Intercom notification asks of Skalin, read from its topic and item
//! (REFERENCE §9), and when a failed one is tried again. Pure: no store, no Intercom.

use serde_json::Value;

use crate::intercom::{Company, Contact, Ticket};

/// What applying a notification takes.
#[derive(Debug)]
pub enum Change {
    /// The company as the notification carries it.
    Company(Box<Company>),
    /// Only the id is known, or the item is partial: read the company from Intercom.
    ReadCompany(String),
    /// Its deletion: a churn candidate, confirmed by a 404.
    CompanyDeleted(String),
    Contact(Box<Contact>),
    ReadContact(String),
    Ticket(Box<Ticket>),
    ReadTicket(String),
    /// Acknowledged and left alone, for this reason.
    Ignore(String),
}

impl Change {
    /// The Intercom object the change is about, to keep only the newest of a batch.
    pub fn key(&self) -> Option<(&'static str, &str)> {
        match self {
            Change::Company(c) => Some(("company", c.id.as_str())),
            Change::ReadCompany(id) | Change::CompanyDeleted(id) => Some(("company", id.as_str())),
            Change::Contact(c) => Some(("contact", c.id.as_str())),
            Change::ReadContact(id) => Some(("contact", id.as_str())),
            Change::Ticket(t) => Some(("ticket", t.id.as_str())),
            Change::ReadTicket(id) => Some(("ticket", id.as_str())),
            Change::Ignore(_) => None,
        }
    }

    /// Intercom's `updated_at` of what the notification carries, when it carries it.
    pub fn updated_at(&self) -> Option<i64> {
        match self {
            Change::Company(c) => c.updated_at,
            Change::Contact(c) => c.updated_at,
            Change::Ticket(t) => t.updated_at,
            _ => None,
        }
    }
}

/// Reads a notification's body. A body that is not a notification is ignored with the
/// reason: trying it again would not change it.
pub fn change_of(topic: &str, body: &str) -> Change {
    let item = match serde_json::from_str::<Value>(body) {
        Ok(v) => v.pointer("/data/item").cloned().unwrap_or(Value::Null),
        Err(e) => return Change::Ignore(format!("The notification is not JSON: {e}.")),
    };
    let id = |v: &Value| v.get("id").and_then(id_text);
    let missing = || Change::Ignore(format!("The {topic} notification names no object."));
    match topic {
        "company.created" | "company.updated" => company(&item).unwrap_or_else(missing),
        "company.deleted" => id(&item).map(Change::CompanyDeleted).unwrap_or_else(missing),
        // What the item of an attachment is, is not documented: a contact in it is read
        // again (its companies changed), else the company.
        "company.contact.attached" | "company.contact.detached" => contact_inside(&item)
            .map(Change::ReadContact)
            .or_else(|| id(&item).map(Change::ReadCompany))
            .unwrap_or_else(missing),
        "contact.user.created"
        | "contact.user.updated"
        | "contact.lead.created"
        | "contact.lead.updated"
        | "contact.lead.signed_up"
        | "contact.lead.added_email"
        | "contact.email.updated"
        | "contact.merged"
        | "contact.unarchive" => contact(&item).unwrap_or_else(missing),
        // The tags are what changed: the contact is read again with all of them.
        "contact.user.tag.created"
        | "contact.user.tag.deleted"
        | "contact.lead.tag.created"
        | "contact.lead.tag.deleted" => contact_inside(&item).map(Change::ReadContact).unwrap_or_else(missing),
        "contact.deleted" | "contact.archived" => {
            Change::Ignore("Skalin keeps the contacts Intercom deletes or archives.".into())
        }
        "ticket.created"
        | "ticket.state.updated"
        | "ticket.attribute.updated"
        | "ticket.closed"
        | "ticket.contact.attached"
        | "ticket.contact.detached" => ticket(&item).unwrap_or_else(missing),
        _ => Change::Ignore(format!("Skalin does not use {topic} notifications.")),
    }
}

/// Ids are strings in the API, but a stand-in may send a number.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The whole object when it reads as one (it has its `updated_at`), else its id to read.
fn company(item: &Value) -> Option<Change> {
    whole::<Company>(item, "company")
        .map(|c| Change::Company(Box::new(c)))
        .or_else(|| item.get("id").and_then(id_text).map(Change::ReadCompany))
}

fn contact(item: &Value) -> Option<Change> {
    whole::<Contact>(item, "contact")
        .map(|c| Change::Contact(Box::new(c)))
        .or_else(|| item.get("id").and_then(id_text).map(Change::ReadContact))
}

fn ticket(item: &Value) -> Option<Change> {
    whole::<Ticket>(item, "ticket")
        .map(|t| Change::Ticket(Box::new(t)))
        .or_else(|| item.get("id").and_then(id_text).map(Change::ReadTicket))
}

fn whole<T: serde::de::DeserializeOwned>(item: &Value, kind: &str) -> Option<T> {
    let typed = item.get("type").and_then(Value::as_str).is_none_or(|t| t == kind);
    if !typed || item.get("updated_at").is_none_or(Value::is_null) {
        return None;
    }
    // From text: the records keep their raw JSON, which a `Value` cannot lend them.
    serde_json::from_str(&item.to_string()).ok()
}

/// The contact an item is about: itself, or one it holds (`contact_tag.contact`).
fn contact_inside(item: &Value) -> Option<String> {
    if item.get("type").and_then(Value::as_str) == Some("contact") {
        return item.get("id").and_then(id_text);
    }
    ["contact", "user"].iter().find_map(|k| item.get(*k).and_then(|c| c.get("id")).and_then(id_text))
}

/// Tries before a notification that keeps failing is given up on.
pub const MAX_ATTEMPTS: i64 = 6;

/// When a notification that failed its `attempts`-th try is tried again: 5 s, 20 s,
/// 80 s… at most an hour apart; `None` once it has had `MAX_ATTEMPTS`.
pub fn retry_at(attempts: i64, now: i64) -> Option<i64> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let wait = 5i64.saturating_mul(4i64.saturating_pow(attempts.clamp(1, 20) as u32 - 1)).min(3_600);
    Some(now + wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(item: Value) -> String {
        serde_json::json!({"type": "notification_event", "id": "notif_1", "data": {"item": item}}).to_string()
    }

    #[test]
    fn a_company_update_carries_the_whole_company() {
        let item =
            serde_json::json!({"type": "company", "id": "c1", "company_id": "ACME", "name": "Acme", "updated_at": 7});
        match change_of("company.updated", &body(item)) {
            Change::Company(c) => assert_eq!((c.id.as_str(), c.updated_at), ("c1", Some(7))),
            other => panic!("read as {other:?}"),
        }
    }

    #[test]
    fn a_partial_company_is_read_again_and_a_deleted_one_is_a_churn_candidate() {
        let partial = serde_json::json!({"type": "company", "id": "c1"});
        assert!(matches!(change_of("company.updated", &body(partial.clone())), Change::ReadCompany(id) if id == "c1"));
        assert!(matches!(change_of("company.deleted", &body(partial)), Change::CompanyDeleted(id) if id == "c1"));
    }

    #[test]
    fn a_tag_change_reads_the_contact_it_holds() {
        let item =
            serde_json::json!({"type": "contact_tag", "tag": {"id": "t"}, "contact": {"type": "contact", "id": "p1"}});
        assert!(matches!(change_of("contact.user.tag.created", &body(item)), Change::ReadContact(id) if id == "p1"));
    }

    #[test]
    fn an_attachment_reads_its_contact_when_it_names_one_and_its_company_otherwise() {
        let with_contact = serde_json::json!({"type": "contact", "id": "p1"});
        let company_only = serde_json::json!({"type": "company", "id": "c1"});
        assert!(
            matches!(change_of("company.contact.attached", &body(with_contact)), Change::ReadContact(id) if id == "p1")
        );
        assert!(
            matches!(change_of("company.contact.detached", &body(company_only)), Change::ReadCompany(id) if id == "c1")
        );
    }

    #[test]
    fn other_topics_and_broken_bodies_are_ignored_with_a_reason() {
        assert!(matches!(change_of("conversation.user.created", &body(Value::Null)), Change::Ignore(_)));
        assert!(matches!(change_of("contact.deleted", &body(serde_json::json!({"id": "p1"}))), Change::Ignore(_)));
        assert!(matches!(change_of("company.updated", "{nope"), Change::Ignore(_)));
        assert!(matches!(change_of("company.updated", &body(Value::Null)), Change::Ignore(_)));
    }

    #[test]
    fn failures_wait_longer_each_time_and_are_given_up_after_the_last_try() {
        assert_eq!(retry_at(1, 100), Some(105));
        assert_eq!(retry_at(2, 100), Some(120));
        assert_eq!(retry_at(3, 100), Some(180));
        assert!(retry_at(5, 0).unwrap() <= 3_600);
        assert_eq!(retry_at(MAX_ATTEMPTS, 100), None);
    }
}
