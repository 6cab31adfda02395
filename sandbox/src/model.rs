//! The workspace's records, stored compactly; JSON is built only when a record is served
//! (see `render.rs`) so that 100k contacts seed quickly.

use serde_json::{Map, Value};

#[derive(Clone, Debug)]
pub struct Admin {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub job_title: String,
    pub team_ids: Vec<i64>,
}

#[derive(Clone, Debug)]
pub struct Tag {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct Segment {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    Contact,
    Company,
}

impl Model {
    pub fn as_str(self) -> &'static str {
        match self {
            Model::Contact => "contact",
            Model::Company => "company",
        }
    }

    pub fn parse(s: &str) -> Option<Model> {
        match s {
            "contact" => Some(Model::Contact),
            "company" => Some(Model::Company),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct DataAttribute {
    /// Only custom attributes carry an id.
    pub id: Option<i64>,
    pub model: Model,
    pub name: String,
    pub full_name: String,
    pub label: String,
    pub description: String,
    pub data_type: String,
    pub options: Vec<String>,
    pub api_writable: bool,
    pub messenger_writable: bool,
    pub custom: bool,
    pub archived: bool,
    pub admin_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct Company {
    pub id: String,
    pub company_id: String,
    pub name: String,
    pub website: Option<String>,
    pub industry: Option<String>,
    pub size: Option<i64>,
    pub plan: Option<Plan>,
    pub monthly_spend: i64,
    pub session_count: i64,
    pub user_count: i64,
    pub remote_created_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_request_at: Option<i64>,
    pub custom_attributes: Map<String, Value>,
    pub tag_ids: Vec<usize>,
    pub segment_ids: Vec<usize>,
    /// Deleted in the UI. The record stays so that contacts' indices keep pointing at the
    /// right companies; every list, lookup and render skips it.
    pub deleted: bool,
}

#[derive(Clone, Debug)]
pub struct Contact {
    pub id: String,
    pub external_id: Option<String>,
    pub role: &'static str,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    /// An image URL, served as `avatar{type, image_url}`.
    pub avatar: Option<String>,
    pub owner_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub signed_up_at: Option<i64>,
    pub last_seen_at: Option<i64>,
    pub last_contacted_at: Option<i64>,
    pub last_replied_at: Option<i64>,
    pub last_email_opened_at: Option<i64>,
    pub last_email_clicked_at: Option<i64>,
    pub unsubscribed_from_emails: bool,
    pub marked_email_as_spam: bool,
    pub has_hard_bounced: bool,
    pub country: Option<&'static str>,
    pub city: Option<&'static str>,
    pub custom_attributes: Map<String, Value>,
    /// Indices into `State::tags`, with the time each tag was applied.
    pub tags: Vec<(usize, i64)>,
    /// Indices into `State::companies`.
    pub companies: Vec<usize>,
    /// Set on contacts that were merged into another one: they leave lists and search.
    pub merged_into: Option<usize>,
    /// When the API last wrote it, for `search_index_delay`; seeded records are indexed.
    pub written_at: Option<std::time::Instant>,
}

#[derive(Clone, Debug)]
pub struct TicketState {
    pub id: String,
    pub category: &'static str,
    pub label: &'static str,
}

#[derive(Clone, Debug)]
pub struct TicketType {
    pub id: i64,
    pub name: &'static str,
    pub description: &'static str,
    pub icon: &'static str,
    pub category: &'static str,
    pub is_internal: bool,
    pub created_at: i64,
}

#[derive(Clone, Debug)]
pub struct Ticket {
    pub id: i64,
    pub ticket_id: i64,
    pub ticket_type: usize,
    pub state: usize,
    pub title: String,
    pub description: Option<String>,
    pub contacts: Vec<usize>,
    pub admin_assignee_id: i64,
    pub team_assignee_id: i64,
    pub open: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub written_at: Option<std::time::Instant>,
}

/// Who started a conversation: one of its contacts, or a teammate.
#[derive(Clone, Copy, Debug)]
pub enum Author {
    /// An index into `State::contacts`.
    Contact(usize),
    /// An index into `State::admins`.
    Admin(usize),
}

#[derive(Clone, Debug)]
pub struct Conversation {
    pub id: i64,
    pub title: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Set while the last reply is the contact's; null once a teammate answered (spec).
    pub waiting_since: Option<i64>,
    pub snoozed_until: Option<i64>,
    /// `open`, `closed` or `snoozed`.
    pub state: &'static str,
    pub read: bool,
    /// The 2.16 levels: `none`, `low`, `medium`, `high`, `urgent`.
    pub priority: &'static str,
    /// 0 when unassigned, as 2.16 serves it.
    pub admin_assignee_id: i64,
    pub team_assignee_id: i64,
    /// Indices into `State::contacts`.
    pub contacts: Vec<usize>,
    pub source_id: i64,
    pub source_type: &'static str,
    pub delivered_as: &'static str,
    pub author: Author,
    pub body: &'static str,
}
