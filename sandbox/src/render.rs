//! Records as the API serves them, per `Intercom-Version` (docs/intercom.md §8, §10).

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::model::*;
use super::state::State;
use super::version::ApiVersion;

/// Embedded lists on a contact carry at most this many items (docs/intercom.md §8.4).
const EMBEDDED_CAP: usize = 10;

pub fn company(state: &State, c: &Company, v: ApiVersion) -> Value {
    let tags: Vec<Value> = c.tag_ids.iter().filter_map(|&t| state.tags.get(t)).map(tag).collect();
    let segments: Vec<Value> = c
        .segment_ids
        .iter()
        .filter_map(|&s| state.segments.get(s))
        .map(|s| json!({"type": "segment", "id": s.id, "name": s.name}))
        .collect();
    let plan = match &c.plan {
        Some(p) => json!({"type": "plan", "id": p.id, "name": p.name}),
        None => json!({}),
    };
    let mut out = json!({
        "type": "company",
        "company_id": c.company_id,
        "id": c.id,
        "app_id": state.app_id,
        "name": c.name,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "size": c.size,
        "website": c.website,
        "industry": c.industry,
        "monthly_spend": c.monthly_spend,
        "session_count": c.session_count,
        "user_count": c.user_count,
        "tags": {"type": "tag.list", "tags": tags},
        "segments": {"type": "segment.list", "segments": segments},
        "plan": plan,
        "custom_attributes": c.custom_attributes,
    });
    // The schema types these as integers, not nullable: unset, they are left out.
    if let Some(at) = c.remote_created_at {
        out["remote_created_at"] = json!(at);
    }
    if let Some(at) = c.last_request_at {
        out["last_request_at"] = json!(at);
    }
    if v.at_least_2_16() {
        out["notes"] = json!({"type": "note.list", "notes": []});
    }
    out
}

pub fn tag(t: &Tag) -> Value {
    json!({"type": "tag", "id": t.id, "name": t.name})
}

/// A tag as it sits on a contact: when and by whom it was applied.
pub fn applied_tag(state: &State, t: &Tag, applied_at: i64) -> Value {
    let mut out = tag(t);
    out["applied_at"] = applied_at.into();
    out["applied_by"] = json!({"type": "admin", "id": state.admins[0].id.to_string()});
    out
}

pub fn owner_id(owner: Option<i64>, v: ApiVersion) -> Value {
    match owner {
        None => Value::Null,
        Some(id) if v.at_least_2_16() => Value::from(id.to_string()),
        Some(id) => Value::from(id),
    }
}

/// A contact as the API serves it. Written straight to the response, without a `Value`
/// per field: rendering was most of the sandbox's time in a long walk. The fields are in
/// the order of a `serde_json::Map` (sorted), as every other response is.
#[derive(Serialize)]
pub struct ContactJson<'a> {
    android_app_name: (),
    android_app_version: (),
    android_device: (),
    android_last_seen_at: (),
    android_os_version: (),
    android_sdk_version: (),
    avatar: Option<Avatar<'a>>,
    browser: (),
    browser_language: (),
    browser_version: (),
    companies: Embedded<'a>,
    created_at: i64,
    custom_attributes: &'a Map<String, Value>,
    email: Option<&'a str>,
    email_domain: Option<&'a str>,
    enabled_push_messaging: (),
    external_id: Option<&'a str>,
    formatted_phone: Option<&'a str>,
    has_hard_bounced: bool,
    id: &'a str,
    ios_app_name: (),
    ios_app_version: (),
    ios_device: (),
    ios_last_seen_at: (),
    ios_os_version: (),
    ios_sdk_version: (),
    language_override: (),
    last_contacted_at: Option<i64>,
    last_email_clicked_at: Option<i64>,
    last_email_opened_at: Option<i64>,
    last_replied_at: Option<i64>,
    last_seen_at: Option<i64>,
    location: Location,
    marked_email_as_spam: bool,
    name: Option<&'a str>,
    notes: Embedded<'a>,
    opted_in_subscription_types: Embedded<'a>,
    opted_out_subscription_types: Embedded<'a>,
    os: (),
    owner_id: Value,
    phone: Option<&'a str>,
    referrer: (),
    role: &'static str,
    signed_up_at: Option<i64>,
    social_profiles: EmptyList,
    tags: Embedded<'a>,
    #[serde(rename = "type")]
    kind: &'static str,
    unsubscribed_from_emails: bool,
    updated_at: i64,
    utm_campaign: (),
    utm_content: (),
    utm_medium: (),
    utm_source: (),
    utm_term: (),
    workspace_id: &'a str,
}

/// An embedded list on a contact: its first items, and how many there are.
#[derive(Serialize)]
struct Embedded<'a> {
    data: Vec<Reference<'a>>,
    has_more: bool,
    total_count: usize,
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

impl<'a> Embedded<'a> {
    fn new(items: impl Iterator<Item = Reference<'a>>, url: String) -> Self {
        let mut data: Vec<Reference<'a>> = items.collect();
        let total_count = data.len();
        data.truncate(EMBEDDED_CAP);
        Embedded { data, has_more: total_count > EMBEDDED_CAP, total_count, kind: "list", url }
    }
}

#[derive(Serialize)]
struct Reference<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

#[derive(Serialize)]
struct Avatar<'a> {
    image_url: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Location {
    city: Option<&'static str>,
    continent_code: (),
    country: Option<&'static str>,
    country_code: (),
    region: (),
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct EmptyList {
    data: [(); 0],
    #[serde(rename = "type")]
    kind: &'static str,
}

pub fn contact<'a>(state: &'a State, c: &'a Contact, v: ApiVersion) -> ContactJson<'a> {
    let tags = c.tags.iter().filter_map(|(t, _)| state.tags.get(*t)).map(|t| Reference {
        id: &t.id,
        kind: "tag",
        url: format!("/tags/{}", t.id),
    });
    let companies = state.contact_companies(c).map(|i| &state.companies[i]).map(|co| Reference {
        id: &co.id,
        kind: "company",
        url: format!("/companies/{}", co.id),
    });
    let none = || std::iter::empty::<Reference>();
    ContactJson {
        kind: "contact",
        id: &c.id,
        workspace_id: &state.app_id,
        external_id: c.external_id.as_deref(),
        role: c.role,
        email: c.email.as_deref(),
        email_domain: c.email.as_deref().and_then(|e| e.split_once('@')).map(|(_, d)| d),
        phone: c.phone.as_deref(),
        formatted_phone: c.phone.as_deref(),
        name: c.name.as_deref(),
        owner_id: owner_id(c.owner_id, v),
        has_hard_bounced: c.has_hard_bounced,
        marked_email_as_spam: c.marked_email_as_spam,
        unsubscribed_from_emails: c.unsubscribed_from_emails,
        created_at: c.created_at,
        updated_at: c.updated_at,
        signed_up_at: c.signed_up_at,
        last_seen_at: c.last_seen_at,
        last_replied_at: c.last_replied_at,
        last_contacted_at: c.last_contacted_at,
        last_email_opened_at: c.last_email_opened_at,
        last_email_clicked_at: c.last_email_clicked_at,
        custom_attributes: &c.custom_attributes,
        avatar: c.avatar.as_deref().map(|image_url| Avatar { image_url, kind: "avatar" }),
        tags: Embedded::new(tags, format!("/contacts/{}/tags", c.id)),
        notes: Embedded::new(none(), format!("/contacts/{}/notes", c.id)),
        companies: Embedded::new(companies, format!("/contacts/{}/companies", c.id)),
        opted_out_subscription_types: Embedded::new(none(), format!("/contacts/{}/subscriptions", c.id)),
        opted_in_subscription_types: Embedded::new(none(), format!("/contacts/{}/subscriptions", c.id)),
        location: Location {
            city: c.city,
            continent_code: (),
            country: c.country,
            country_code: (),
            region: (),
            kind: "location",
        },
        social_profiles: EmptyList { data: [], kind: "list" },
        // The device and UTM fields: the sandbox has no data for them; they are present
        // and null, as on the live API.
        language_override: (),
        browser: (),
        browser_version: (),
        browser_language: (),
        os: (),
        android_app_name: (),
        android_app_version: (),
        android_device: (),
        android_os_version: (),
        android_sdk_version: (),
        android_last_seen_at: (),
        ios_app_name: (),
        ios_app_version: (),
        ios_device: (),
        ios_os_version: (),
        ios_sdk_version: (),
        ios_last_seen_at: (),
        utm_campaign: (),
        utm_content: (),
        utm_medium: (),
        utm_source: (),
        utm_term: (),
        referrer: (),
        enabled_push_messaging: (),
    }
}

pub fn admin(a: &Admin, v: ApiVersion) -> Value {
    let mut out = json!({
        "type": "admin",
        "id": a.id.to_string(),
        "name": a.name,
        "email": a.email,
        "job_title": a.job_title,
        "away_mode_enabled": false,
        "away_mode_reassign": false,
        "away_status_reason_id": null,
        "has_inbox_seat": true,
        "team_ids": a.team_ids,
        // In the admin list the avatar is an image URL or null; only `/me` nests an object.
        "avatar": null,
        "team_priority_level": {},
    });
    if v.at_least_2_16() {
        out["role"] = json!({"type": "role", "id": "1", "name": "Admin"});
    }
    out
}

pub fn data_attribute(a: &DataAttribute) -> Value {
    let mut out = json!({
        "type": "data_attribute",
        "name": a.name,
        "full_name": a.full_name,
        "label": a.label,
        "description": a.description,
        "data_type": a.data_type,
        "api_writable": a.api_writable,
        "ui_writable": a.custom,
        "messenger_writable": a.messenger_writable,
        "custom": a.custom,
        "archived": a.archived,
        "model": a.model.as_str(),
    });
    if !a.options.is_empty() {
        out["options"] = json!(a.options);
    }
    if let Some(id) = a.id {
        out["id"] = id.into();
        out["admin_id"] = json!(a.admin_id);
        out["created_at"] = a.created_at.into();
        out["updated_at"] = a.updated_at.into();
    }
    out
}

fn ticket_state(s: &TicketState) -> Value {
    json!({"type": "ticket_state", "id": s.id, "category": s.category, "internal_label": s.label, "external_label": s.label})
}

/// A ticket type as embedded in a ticket: without its states.
fn ticket_type_short(state: &State, t: &TicketType) -> Value {
    let attributes = [("_default_title_", "Title", 210), ("_default_description_", "Description", 211)]
        .iter()
        .enumerate()
        .map(|(order, (name, label, id))| {
            json!({
                "type": "ticket_type_attribute", "id": (id + t.id * 10).to_string(), "workspace_id": state.app_id,
                "name": name, "description": label, "data_type": "string", "input_options": {"multiline": order == 1},
                "order": order, "required_to_create": false, "required_to_create_for_contacts": false,
                "visible_on_create": true, "visible_to_contacts": true, "default": true, "ticket_type_id": t.id,
                "archived": false, "created_at": t.created_at, "updated_at": t.created_at,
            })
        })
        .collect::<Vec<_>>();
    let mut out = json!({
        "type": "ticket_type", "id": t.id.to_string(), "name": t.name, "description": t.description, "icon": t.icon,
        "workspace_id": state.app_id, "archived": false, "created_at": t.created_at, "updated_at": t.created_at,
        "is_internal": t.is_internal, "category": t.category,
    });
    // Moved in: `json!` would copy them.
    out["ticket_type_attributes"] = json!({"type": "list"});
    out["ticket_type_attributes"]["data"] = Value::Array(attributes);
    out
}

pub fn ticket_type(state: &State, t: &TicketType) -> Value {
    let mut out = ticket_type_short(state, t);
    out["ticket_states"] =
        json!({"type": "list", "data": state.ticket_states.iter().map(ticket_state).collect::<Vec<_>>()});
    out
}

fn assignee(id: i64, v: ApiVersion) -> Value {
    if v.at_least_2_16() {
        Value::from(id)
    } else {
        Value::from(id.to_string())
    }
}

pub fn ticket(state: &State, t: &Ticket, v: ApiVersion) -> Value {
    let ticket_type = &state.ticket_types[t.ticket_type];
    let contacts: Vec<Value> = t
        .contacts
        .iter()
        .filter_map(|&i| state.contacts.get(i))
        .map(|c| json!({"type": "contact", "id": c.id, "external_id": c.external_id}))
        .collect();
    let st = &state.ticket_states[t.state];
    let mut out = json!({
        "type": "ticket",
        "id": t.id.to_string(),
        "ticket_id": t.ticket_id.to_string(),
        "category": ticket_type.category,
        "ticket_attributes": {"_default_title_": t.title, "_default_description_": t.description},
        "admin_assignee_id": assignee(t.admin_assignee_id, v),
        "team_assignee_id": assignee(t.team_assignee_id, v),
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "open": t.open,
        "snoozed_until": null,
        "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": false},
        "ticket_parts": {"type": "ticket_part.list", "ticket_parts": [
            {"type": "ticket_part", "id": (t.id * 3).to_string(), "part_type": "ticket_state_updated_by_admin",
             "ticket_state": st.category, "previous_ticket_state": "submitted", "created_at": t.updated_at}
        ], "total_count": 1},
        "is_shared": !ticket_type.is_internal,
    });
    // Moved in: `json!` would copy them.
    out["ticket_state"] = ticket_state(st);
    out["ticket_type"] = ticket_type_short(state, ticket_type);
    out["contacts"] = json!({"type": "contact.list"});
    out["contacts"]["contacts"] = Value::Array(contacts);
    if v.at_least_2_16() {
        out["previous_ticket_state_id"] = Value::from(state.ticket_states[0].id.clone());
    }
    out
}
