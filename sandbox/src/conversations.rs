//! Conversations, for `POST /conversations/search` (docs/intercom.md §6, §8.7, §9): a
//! modest seeded set, rendered per `Intercom-Version`, and the fields search can filter on.

use std::borrow::Cow;

use serde_json::{json, Value};

use super::model::{Admin, Author, Contact, Conversation};
use super::rng::SplitMix64;
use super::search::{Type, Val};
use super::state::State;
use super::version::ApiVersion;
use super::{default_version, Sandbox, SandboxConfig};

const DAY: i64 = 86_400;
/// The team of the seeded admins, as on tickets.
const TEAM: i64 = 814_865;
const OPENERS: &[&str] = &[
    "I need support with the export",
    "How do I add a teammate",
    "The invoice total looks wrong",
    "Can we move our renewal date",
    "The dashboard does not load",
    "Where do I find the API token",
];
const RAISED: &[&str] = &["low", "medium", "high", "urgent"];

/// A stream of its own, so that adding conversations leaves every other seeded record as
/// it was for the same seed.
fn rng(seed: u64) -> SplitMix64 {
    SplitMix64::new(seed ^ 0xC0_4E75_A710_45C0)
}

fn raised(rng: &mut SplitMix64) -> &'static str {
    RAISED[rng.below(RAISED.len() as u64) as usize]
}

pub fn seed(config: &SandboxConfig, anchor: i64, contacts: &[Contact], admins: &[Admin]) -> Vec<Conversation> {
    // `source.author.email` has `format: email`, which refuses the non-ASCII local part
    // of a few seeded contacts (chloé.…); they start no conversations.
    let eligible: Vec<usize> = (0..contacts.len())
        .filter(|&i| contacts[i].merged_into.is_none() && contacts[i].email.as_deref().is_none_or(str::is_ascii))
        .collect();
    if eligible.is_empty() || admins.is_empty() {
        return vec![];
    }
    let mut rng = rng(config.seed);
    (0..config.conversations)
        .map(|i| {
            let created_at = rng.range(anchor - 120 * DAY, anchor - DAY);
            let updated_at = rng.range(created_at, anchor);
            let state = match rng.below(10) {
                0..=5 => "closed",
                6..=8 => "open",
                _ => "snoozed",
            };
            let contact = *rng.pick(&eligible);
            let mut with = vec![contact];
            let second = *rng.pick(&eligible);
            if rng.chance(0.1) && second != contact {
                with.push(second);
            }
            let from_contact = rng.chance(0.8);
            let body = *rng.pick(OPENERS);
            Conversation {
                id: 100_000 + i as i64,
                title: rng.chance(0.4).then(|| format!("{body}?")),
                created_at,
                updated_at,
                waiting_since: (state == "open" && rng.chance(0.6)).then_some(updated_at),
                snoozed_until: (state == "snoozed").then(|| anchor + rng.range(1, 14) * DAY),
                state,
                read: state == "closed" || rng.chance(0.5),
                priority: if rng.chance(0.7) { "none" } else { raised(&mut rng) },
                admin_assignee_id: if rng.chance(0.8) { rng.pick(admins).id } else { 0 },
                team_assignee_id: if rng.chance(0.3) { TEAM } else { 0 },
                contacts: with,
                source_id: 403_918_346 + i as i64,
                source_type: if rng.chance(0.2) { "email" } else { "conversation" },
                delivered_as: if from_contact { "customer_initiated" } else { "admin_initiated" },
                author: if from_contact {
                    Author::Contact(contact)
                } else {
                    Author::Admin(rng.below(admins.len() as u64) as usize)
                },
                body,
            }
        })
        .collect()
}

impl Conversation {
    /// A snoozed conversation is still open: only `closed` is not (spec: `open` "Indicates
    /// whether a conversation is open (true) or closed (false)").
    pub fn open(&self) -> bool {
        self.state != "closed"
    }
}

/// 2.14 and 2.15 know only `priority` and `not_priority` (docs/intercom.md §10).
fn priority(c: &Conversation, v: ApiVersion) -> &'static str {
    match (v.at_least_2_16(), c.priority) {
        (true, level) => level,
        (false, "none") => "not_priority",
        (false, _) => "priority",
    }
}

/// Unassigned is 0 in 2.16 and null before (docs/intercom.md §10).
fn assignee(id: i64, v: ApiVersion) -> Value {
    if id == 0 && !v.at_least_2_16() {
        Value::Null
    } else {
        Value::from(id)
    }
}

fn author(state: &State, c: &Conversation) -> Value {
    match c.author {
        Author::Contact(i) => {
            let contact = &state.contacts[i];
            json!({"type": contact.role, "id": contact.id, "name": contact.name, "email": contact.email})
        }
        Author::Admin(i) => {
            let admin = &state.admins[i];
            json!({"type": "admin", "id": admin.id.to_string(), "name": admin.name, "email": admin.email})
        }
    }
}

/// A conversation as search serves it: the fields of the description's example, the
/// optional ones that the sandbox has nothing for left null or empty as there.
pub fn render(state: &State, c: &Conversation, v: ApiVersion) -> Value {
    let contacts: Vec<Value> = c
        .contacts
        .iter()
        .filter_map(|&i| state.contacts.get(i))
        .map(|k| json!({"type": "contact", "id": k.id, "external_id": k.external_id}))
        .collect();
    let teammates = (c.admin_assignee_id != 0).then(
        || json!({"type": "admin.list", "teammates": [{"type": "admin", "id": c.admin_assignee_id.to_string()}]}),
    );
    let mut out = json!({
        "type": "conversation",
        "id": c.id.to_string(),
        "title": c.title,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "waiting_since": c.waiting_since,
        "snoozed_until": c.snoozed_until,
        "open": c.open(),
        "state": c.state,
        "read": c.read,
        "priority": priority(c, v),
        "admin_assignee_id": assignee(c.admin_assignee_id, v),
        "team_assignee_id": assignee(c.team_assignee_id, v),
        "tags": {"type": "tag.list", "tags": []},
        "source": {
            "type": c.source_type,
            "id": c.source_id.to_string(),
            "delivered_as": c.delivered_as,
            "subject": "",
            "body": format!("<p>{}</p>", c.body),
            "author": author(state, c),
            "attachments": [],
            "url": null,
            "redacted": false,
        },
        "teammates": teammates,
        "first_contact_reply": null,
        "custom_attributes": {},
        "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": false},
        "sla_applied": null,
        "statistics": null,
        "conversation_rating": null,
        "ai_agent": null,
        "ai_agent_participated": false,
    });
    // Moved in: `json!` would copy them.
    out["contacts"] = json!({"type": "contact.list"});
    out["contacts"]["contacts"] = Value::Array(contacts);
    out
}

/// The fields the sandbox searches on, from the description's table (docs/intercom.md §9);
/// `channel_initiated` and the statistics, rating and AI agent fields are not kept, so
/// they are refused.
pub(crate) fn field_type(field: &str) -> Option<Type> {
    Some(match field {
        "created_at" | "updated_at" | "waiting_since" | "snoozed_until" => Type::Second,
        "admin_assignee_id" | "team_assignee_id" => Type::Int,
        "open" | "read" => Type::Bool,
        "id"
        | "state"
        | "priority"
        | "source.type"
        | "source.id"
        | "source.delivered_as"
        | "source.subject"
        | "source.body"
        | "source.author.id"
        | "source.author.type"
        | "source.author.name"
        | "source.author.email"
        | "source.url" => Type::Str,
        "contact_ids" | "teammate_ids" | "tag_ids" => Type::Tag,
        _ => return None,
    })
}

pub(crate) fn value<'a>(state: &'a State, c: &'a Conversation, field: &str, v: ApiVersion) -> Val<'a> {
    let text = |s: &'a str| Val::Str(Cow::Borrowed(s));
    let maybe = |s: Option<&'a str>| s.map_or(Val::Null, text);
    let (author_type, author_id, author_name, author_email) = match c.author {
        Author::Contact(i) => {
            let k = &state.contacts[i];
            (text(k.role), text(&k.id), maybe(k.name.as_deref()), maybe(k.email.as_deref()))
        }
        Author::Admin(i) => {
            let a = &state.admins[i];
            (text("admin"), Val::Str(Cow::Owned(a.id.to_string())), text(&a.name), text(&a.email))
        }
    };
    match field {
        "id" => Val::Str(Cow::Owned(c.id.to_string())),
        "created_at" => Val::Int(c.created_at),
        "updated_at" => Val::Int(c.updated_at),
        "waiting_since" => c.waiting_since.map_or(Val::Null, Val::Int),
        "snoozed_until" => c.snoozed_until.map_or(Val::Null, Val::Int),
        "state" => text(c.state),
        "priority" => text(priority(c, v)),
        "open" => Val::Bool(c.open()),
        "read" => Val::Bool(c.read),
        "admin_assignee_id" => Val::Int(c.admin_assignee_id),
        "team_assignee_id" => Val::Int(c.team_assignee_id),
        "contact_ids" => Val::Many(
            c.contacts.iter().filter_map(|&i| state.contacts.get(i)).map(|k| Cow::Borrowed(k.id.as_str())).collect(),
        ),
        "teammate_ids" => {
            Val::Many(if c.admin_assignee_id == 0 { vec![] } else { vec![Cow::Owned(c.admin_assignee_id.to_string())] })
        }
        "tag_ids" => Val::Many(vec![]),
        "source.type" => text(c.source_type),
        "source.id" => Val::Str(Cow::Owned(c.source_id.to_string())),
        "source.delivered_as" => text(c.delivered_as),
        "source.subject" => text(""),
        // Matched word by word: `=` "support" finds "I need support" (spec).
        "source.body" => Val::Many(
            c.body.split(|ch: char| !ch.is_alphanumeric()).filter(|w| !w.is_empty()).map(Cow::Borrowed).collect(),
        ),
        "source.author.type" => author_type,
        "source.author.id" => author_id,
        "source.author.name" => author_name,
        "source.author.email" => author_email,
        _ => Val::Null,
    }
}

impl Sandbox {
    /// Every conversation, as conversation search serves it in the default version.
    pub fn conversations_json(&self) -> Vec<Value> {
        let state = self.lock();
        let version = default_version(&state);
        state.conversations.iter().map(|c| render(&state, c, version)).collect()
    }

    /// Conversation ids, in storage order.
    pub fn conversation_ids(&self) -> Vec<String> {
        self.lock().conversations.iter().map(|c| c.id.to_string()).collect()
    }
}
