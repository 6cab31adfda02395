//! Records as the API serves them, per `Intercom-Version` (REFERENCE §7, §10, §11).

use serde_json::{json, Value};

use super::model::*;
use super::state::State;
use super::version::ApiVersion;

/// Embedded lists on a contact carry at most this many items (REFERENCE §7).
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

fn embedded(items: Vec<Value>, url: String) -> Value {
    let total = items.len();
    let data: Vec<Value> = items.into_iter().take(EMBEDDED_CAP).collect();
    json!({"type": "list", "data": data, "url": url, "total_count": total, "has_more": total > EMBEDDED_CAP})
}

pub fn owner_id(owner: Option<i64>, v: ApiVersion) -> Value {
    match owner {
        None => Value::Null,
        Some(id) if v.at_least_2_16() => Value::from(id.to_string()),
        Some(id) => Value::from(id),
    }
}

pub fn contact(state: &State, c: &Contact, v: ApiVersion) -> Value {
    let tags = c
        .tags
        .iter()
        .filter_map(|(t, _)| state.tags.get(*t))
        .map(|t| json!({"type": "tag", "id": t.id, "url": format!("/tags/{}", t.id)}))
        .collect();
    let companies = state
        .contact_companies(c)
        .map(|i| &state.companies[i])
        .map(|co| json!({"type": "company", "id": co.id, "url": format!("/companies/{}", co.id)}))
        .collect();
    let email_domain = c.email.as_deref().and_then(|e| e.split_once('@')).map(|(_, d)| d.to_string());
    let mut out = json!({
        "type": "contact",
        "id": c.id,
        "workspace_id": state.app_id,
        "external_id": c.external_id,
        "role": c.role,
        "email": c.email,
        "email_domain": email_domain,
        "phone": c.phone,
        "formatted_phone": c.phone,
        "name": c.name,
        "owner_id": owner_id(c.owner_id, v),
        "has_hard_bounced": c.has_hard_bounced,
        "marked_email_as_spam": c.marked_email_as_spam,
        "unsubscribed_from_emails": c.unsubscribed_from_emails,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "signed_up_at": c.signed_up_at,
        "last_seen_at": c.last_seen_at,
        "last_replied_at": c.last_replied_at,
        "last_contacted_at": c.last_contacted_at,
        "last_email_opened_at": c.last_email_opened_at,
        "last_email_clicked_at": c.last_email_clicked_at,
        "custom_attributes": c.custom_attributes,
        "avatar": null,
        "tags": embedded(tags, format!("/contacts/{}/tags", c.id)),
        "notes": embedded(vec![], format!("/contacts/{}/notes", c.id)),
        "companies": embedded(companies, format!("/contacts/{}/companies", c.id)),
        "opted_out_subscription_types": embedded(vec![], format!("/contacts/{}/subscriptions", c.id)),
        "opted_in_subscription_types": embedded(vec![], format!("/contacts/{}/subscriptions", c.id)),
        "location": {"type": "location", "country": c.country, "region": null, "city": c.city, "country_code": null, "continent_code": null},
        "social_profiles": {"type": "list", "data": []},
    });
    for key in DEVICE_AND_UTM_FIELDS {
        out[*key] = Value::Null;
    }
    out
}

/// Fields the sandbox has no data for; they are present and null, as on the live API.
const DEVICE_AND_UTM_FIELDS: &[&str] = &[
    "language_override", "browser", "browser_version", "browser_language", "os", "android_app_name",
    "android_app_version", "android_device", "android_os_version", "android_sdk_version", "android_last_seen_at",
    "ios_app_name", "ios_app_version", "ios_device", "ios_os_version", "ios_sdk_version", "ios_last_seen_at",
    "utm_campaign", "utm_content", "utm_medium", "utm_source", "utm_term", "referrer", "enabled_push_messaging",
];

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

pub fn ticket_type(state: &State, t: &TicketType) -> Value {
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
    json!({
        "type": "ticket_type", "id": t.id.to_string(), "name": t.name, "description": t.description, "icon": t.icon,
        "workspace_id": state.app_id, "archived": false, "created_at": t.created_at, "updated_at": t.created_at,
        "is_internal": t.is_internal, "category": t.category,
        "ticket_type_attributes": {"type": "list", "data": attributes},
        "ticket_states": {"type": "list", "data": state.ticket_states.iter().map(ticket_state).collect::<Vec<_>>()},
    })
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
        "ticket_state": ticket_state(st),
        "ticket_type": ticket_type_json_short(state, ticket_type),
        "contacts": {"type": "contact.list", "contacts": contacts},
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
    if v.at_least_2_16() {
        out["previous_ticket_state_id"] = Value::from(state.ticket_states[0].id.clone());
    }
    out
}

fn ticket_type_json_short(state: &State, t: &TicketType) -> Value {
    let mut full = ticket_type(state, t);
    if let Some(obj) = full.as_object_mut() {
        obj.remove("ticket_states");
    }
    full
}
