//! The search query language of contacts, tickets and conversations (docs/intercom.md §9).
//!
//! A query is compiled once (types and operators checked, contact dates turned into
//! day boundaries in the workspace time zone), then run over the records. The sorted
//! result is cached per query until the next write, so walking 100k contacts page by
//! page is not quadratic.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::conversations;
use super::cursor;
use super::error::ApiError;
use super::model::{Contact, Model, Ticket};
use super::state::State;
use super::version::ApiVersion;

const MAX_FILTERS_PER_GROUP: usize = 15;
const MAX_GROUP_DEPTH: usize = 2;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Contacts,
    Tickets,
    Conversations,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Type {
    Str,
    Int,
    Float,
    Bool,
    /// Contact dates: matched by calendar day, only `=`, `<`, `>`.
    Day,
    /// Ticket dates: matched to the second, every integer operator.
    Second,
    Tag,
}

#[derive(Debug)]
pub enum Val<'a> {
    Null,
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    Many(Vec<Cow<'a, str>>),
}

#[derive(Debug)]
enum Test {
    Eq(Value),
    Ne(Value),
    In(Vec<Value>),
    Nin(Vec<Value>),
    /// Half-open `[lo, hi)` on numbers; either side may be open.
    Range(Option<f64>, Option<f64>),
    Contains(String, bool),
    StartsWith(String),
    EndsWith(String),
}

#[derive(Debug)]
enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Leaf { field: String, test: Test },
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "parameter_invalid", message)
}

fn field_type(state: &State, kind: Kind, field: &str, version: ApiVersion) -> Option<Type> {
    if kind == Kind::Conversations {
        return conversations::field_type(field);
    }
    if let Some(name) = field.strip_prefix("custom_attributes.") {
        if kind != Kind::Contacts {
            return None;
        }
        let attribute = state.custom_attribute(Model::Contact, name)?;
        return Some(match attribute.data_type.as_str() {
            "integer" => Type::Int,
            "float" => Type::Float,
            "boolean" => Type::Bool,
            "date" | "datetime" => Type::Day,
            _ => Type::Str,
        });
    }
    let t = match (kind, field) {
        (Kind::Contacts, "owner_id") if version.at_least_2_16() => Type::Str,
        (Kind::Contacts, "owner_id") => Type::Int,
        (
            Kind::Contacts,
            "created_at"
            | "updated_at"
            | "signed_up_at"
            | "last_seen_at"
            | "last_contacted_at"
            | "last_replied_at"
            | "last_email_opened_at"
            | "last_email_clicked_at"
            | "ios_last_seen_at"
            | "android_last_seen_at",
        ) => Type::Day,
        (Kind::Contacts, "unsubscribed_from_emails" | "marked_email_as_spam" | "has_hard_bounced") => Type::Bool,
        (Kind::Contacts, "tag_id") => Type::Tag,
        (Kind::Contacts, "formatted_phone") if version.at_least_2_16() => Type::Str,
        (
            Kind::Contacts,
            "id"
            | "role"
            | "name"
            | "avatar"
            | "email"
            | "email_domain"
            | "phone"
            | "external_id"
            | "language_override"
            | "browser"
            | "browser_language"
            | "os"
            | "location.country"
            | "location.region"
            | "location.city"
            | "segment_id"
            | "ios_app_version"
            | "ios_device"
            | "ios_app_device"
            | "ios_os_version"
            | "ios_app_name"
            | "ios_sdk_version"
            | "android_app_version"
            | "android_device"
            | "android_app_name"
            | "andoid_sdk_version"
            | "android_sdk_version",
        ) => Type::Str,
        (Kind::Tickets, "created_at" | "updated_at" | "snoozed_until") => Type::Second,
        (Kind::Tickets, "admin_assignee_id" | "team_assignee_id") => Type::Int,
        (Kind::Tickets, "open") => Type::Bool,
        (Kind::Tickets, "id" | "title" | "description" | "category" | "ticket_type_id" | "state") => Type::Str,
        (Kind::Tickets, "contact_ids" | "teammate_ids") => Type::Tag,
        _ => return None,
    };
    Some(t)
}

fn operators(t: Type) -> &'static [&'static str] {
    match t {
        Type::Str => &["=", "!=", "IN", "NIN", "~", "!~", "^", "$"],
        Type::Bool => &["=", "!=", "IN", "NIN"],
        Type::Int | Type::Float | Type::Second => &["=", "!=", "IN", "NIN", "<", ">", "<=", ">="],
        Type::Day => &["=", "<", ">"],
        Type::Tag => &["=", "!="],
    }
}

fn value_fits(t: Type, v: &Value) -> bool {
    match t {
        _ if v.is_null() => true,
        Type::Str | Type::Tag => v.is_string(),
        Type::Int | Type::Day | Type::Second => v.is_i64() || v.is_u64(),
        Type::Float => v.is_number(),
        Type::Bool => v.is_boolean(),
    }
}

struct Compiler<'s> {
    state: &'s State,
    kind: Kind,
    version: ApiVersion,
    tz: jiff::tz::TimeZone,
    gt_inclusive: bool,
    dates_by_second: bool,
}

impl Compiler<'_> {
    fn node(&self, value: &Value, depth: usize) -> Result<Node, ApiError> {
        let Some(object) = value.as_object() else { return Err(invalid("query must be an object")) };
        if object.contains_key("field") {
            return self.leaf(object);
        }
        let operator = object.get("operator").and_then(Value::as_str).unwrap_or("");
        let Some(children) = object.get("value").and_then(Value::as_array) else {
            return Err(invalid("a query group needs an operator and a value array"));
        };
        if depth > MAX_GROUP_DEPTH {
            return Err(invalid(format!("Nesting is limited to {MAX_GROUP_DEPTH} levels")));
        }
        if children.len() > MAX_FILTERS_PER_GROUP {
            return Err(invalid(format!("There can be at most {MAX_FILTERS_PER_GROUP} filters in an AND or OR group")));
        }
        let nodes = children.iter().map(|c| self.node(c, depth + 1)).collect::<Result<Vec<_>, _>>()?;
        match operator {
            "AND" => Ok(Node::And(nodes)),
            "OR" => Ok(Node::Or(nodes)),
            other => Err(invalid(format!("'{other}' is not a valid group operator, use AND or OR"))),
        }
    }

    fn leaf(&self, object: &Map<String, Value>) -> Result<Node, ApiError> {
        let field = object.get("field").and_then(Value::as_str).unwrap_or("").to_string();
        let operator = object.get("operator").and_then(Value::as_str).unwrap_or("");
        let value = object.get("value").cloned().unwrap_or(Value::Null);
        let Some(t) = field_type(self.state, self.kind, &field, self.version) else {
            return Err(invalid(format!("'{field}' is not a searchable field")).with_field(field));
        };
        if !operators(t).contains(&operator) {
            return Err(invalid(format!("Operator '{operator}' is not supported on field '{field}'")).with_field(field));
        }
        let fits = match (&value, operator) {
            (Value::Array(items), "IN" | "NIN") => items.iter().all(|v| value_fits(t, v)),
            (_, "IN" | "NIN") => false,
            (v, _) => value_fits(t, v),
        };
        if !fits {
            return Err(invalid(format!("The value for '{field}' does not match the field's type")).with_field(field));
        }
        let number = value.as_f64();
        let test = match (t, operator) {
            (Type::Day, "<" | ">") if self.dates_by_second => match operator {
                ">" => Test::Range(number.map(next_up), None),
                _ => Test::Range(None, number),
            },
            (Type::Day, _) => self.day_test(operator, value.as_i64())?,
            (_, "=") => Test::Eq(value),
            (_, "!=") => Test::Ne(value),
            (_, "IN") => Test::In(value.as_array().cloned().unwrap_or_default()),
            (_, "NIN") => Test::Nin(value.as_array().cloned().unwrap_or_default()),
            (_, "~") => Test::Contains(lower(&value), true),
            (_, "!~") => Test::Contains(lower(&value), false),
            (_, "^") => Test::StartsWith(lower(&value)),
            (_, "$") => Test::EndsWith(lower(&value)),
            // Conversation search follows ticket search's rules (docs/intercom.md §9).
            (_, ">") => {
                let inclusive = self.kind != Kind::Contacts && self.gt_inclusive;
                Test::Range(number.map(|n| if inclusive { n } else { next_up(n) }), None)
            }
            (_, "<") => {
                let inclusive = self.kind != Kind::Contacts && self.gt_inclusive;
                Test::Range(None, number.map(|n| if inclusive { next_up(n) } else { n }))
            }
            (_, ">=") => Test::Range(number, None),
            (_, "<=") => Test::Range(None, number.map(next_up)),
            _ => return Err(invalid(format!("Operator '{operator}' is not supported"))),
        };
        Ok(Node::Leaf { field, test })
    }

    /// The day rules of 2.7–2.16: `=` the whole day, `>` from the next day's start,
    /// `<` before the day's start, all in the workspace time zone.
    fn day_test(&self, operator: &str, value: Option<i64>) -> Result<Test, ApiError> {
        let Some(at) = value else { return Ok(Test::Eq(Value::Null)) };
        let (start, next) = day_bounds(&self.tz, at).ok_or_else(|| invalid("timestamp out of range"))?;
        Ok(match operator {
            "=" => Test::Range(Some(start as f64), Some(next as f64)),
            ">" => Test::Range(Some(next as f64), None),
            _ => Test::Range(None, Some(start as f64)),
        })
    }
}

fn lower(v: &Value) -> String {
    v.as_str().unwrap_or("").to_lowercase()
}

/// Integers compare as f64 here; "greater than n" on integers is ">= n + 1".
fn next_up(n: f64) -> f64 {
    if n.fract() == 0.0 {
        n + 1.0
    } else {
        f64::from_bits(n.to_bits() + 1)
    }
}

pub fn day_bounds(tz: &jiff::tz::TimeZone, at: i64) -> Option<(i64, i64)> {
    let timestamp = jiff::Timestamp::from_second(at).ok()?;
    let date = timestamp.to_zoned(tz.clone()).date();
    let start = date.to_zoned(tz.clone()).ok()?.timestamp().as_second();
    let next = date.tomorrow().ok()?.to_zoned(tz.clone()).ok()?.timestamp().as_second();
    Some((start, next))
}

pub fn workspace_tz(state: &State) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&state.config.timezone).unwrap_or(jiff::tz::TimeZone::UTC)
}

fn contact_val<'a>(state: &'a State, c: &'a Contact, field: &str, version: ApiVersion) -> Val<'a> {
    let s = |v: &'a Option<String>| v.as_deref().map_or(Val::Null, |s| Val::Str(Cow::Borrowed(s)));
    let i = |v: Option<i64>| v.map_or(Val::Null, Val::Int);
    if let Some(name) = field.strip_prefix("custom_attributes.") {
        return match c.custom_attributes.get(name) {
            Some(Value::String(v)) => Val::Str(Cow::Borrowed(v)),
            Some(Value::Bool(b)) => Val::Bool(*b),
            Some(Value::Number(n)) => n.as_i64().map(Val::Int).unwrap_or(Val::Float(n.as_f64().unwrap_or(0.0))),
            _ => Val::Null,
        };
    }
    match field {
        "id" => Val::Str(Cow::Borrowed(&c.id)),
        "role" => Val::Str(Cow::Borrowed(c.role)),
        "name" => s(&c.name),
        "avatar" => s(&c.avatar),
        "email" => s(&c.email),
        "email_domain" => {
            c.email.as_deref().and_then(|e| e.split_once('@')).map_or(Val::Null, |(_, d)| Val::Str(Cow::Borrowed(d)))
        }
        "phone" | "formatted_phone" => s(&c.phone),
        "external_id" => s(&c.external_id),
        "owner_id" if version.at_least_2_16() => c.owner_id.map_or(Val::Null, |o| Val::Str(Cow::Owned(o.to_string()))),
        "owner_id" => i(c.owner_id),
        "created_at" => Val::Int(c.created_at),
        "updated_at" => Val::Int(c.updated_at),
        "signed_up_at" => i(c.signed_up_at),
        "last_seen_at" => i(c.last_seen_at),
        "last_contacted_at" => i(c.last_contacted_at),
        "last_replied_at" => i(c.last_replied_at),
        "last_email_opened_at" => i(c.last_email_opened_at),
        "last_email_clicked_at" => i(c.last_email_clicked_at),
        "unsubscribed_from_emails" => Val::Bool(c.unsubscribed_from_emails),
        "marked_email_as_spam" => Val::Bool(c.marked_email_as_spam),
        "has_hard_bounced" => Val::Bool(c.has_hard_bounced),
        "location.country" => c.country.map_or(Val::Null, |v| Val::Str(Cow::Borrowed(v))),
        "location.city" => c.city.map_or(Val::Null, |v| Val::Str(Cow::Borrowed(v))),
        "tag_id" => Val::Many(
            c.tags.iter().filter_map(|(t, _)| state.tags.get(*t)).map(|t| Cow::Borrowed(t.id.as_str())).collect(),
        ),
        _ => Val::Null,
    }
}

fn ticket_val<'a>(state: &'a State, t: &'a Ticket, field: &str) -> Val<'a> {
    match field {
        "id" => Val::Str(Cow::Owned(t.id.to_string())),
        "created_at" => Val::Int(t.created_at),
        "updated_at" => Val::Int(t.updated_at),
        "title" => Val::Str(Cow::Borrowed(&t.title)),
        "description" => t.description.as_deref().map_or(Val::Null, |d| Val::Str(Cow::Borrowed(d))),
        // The search terms for the three categories (docs/intercom.md §9).
        "category" => Val::Str(Cow::Borrowed(match state.ticket_types[t.ticket_type].category {
            "Customer" => "request",
            "Back-office" => "task",
            _ => "tracker",
        })),
        "ticket_type_id" => Val::Str(Cow::Owned(state.ticket_types[t.ticket_type].id.to_string())),
        "state" => Val::Str(Cow::Borrowed(state.ticket_states[t.state].category)),
        "open" => Val::Bool(t.open),
        "admin_assignee_id" => Val::Int(t.admin_assignee_id),
        "team_assignee_id" => Val::Int(t.team_assignee_id),
        "contact_ids" => Val::Many(
            t.contacts.iter().filter_map(|&i| state.contacts.get(i)).map(|c| Cow::Borrowed(c.id.as_str())).collect(),
        ),
        "teammate_ids" => {
            Val::Many(if t.admin_assignee_id == 0 { vec![] } else { vec![Cow::Owned(t.admin_assignee_id.to_string())] })
        }
        _ => Val::Null,
    }
}

fn equals(val: &Val, want: &Value) -> bool {
    match (val, want) {
        (Val::Null, Value::Null) => true,
        (Val::Str(s), Value::String(w)) => s.as_ref() == w,
        (Val::Int(i), w) => w.as_f64() == Some(*i as f64),
        (Val::Float(f), w) => w.as_f64() == Some(*f),
        (Val::Bool(b), Value::Bool(w)) => b == w,
        (Val::Many(items), Value::String(w)) => items.iter().any(|i| i.as_ref() == w),
        (Val::Many(items), Value::Null) => items.is_empty(),
        _ => false,
    }
}

fn number(val: &Val) -> Option<f64> {
    match val {
        Val::Int(i) => Some(*i as f64),
        Val::Float(f) => Some(*f),
        _ => None,
    }
}

fn run(test: &Test, val: &Val) -> bool {
    match test {
        Test::Eq(w) => equals(val, w),
        Test::Ne(w) => !equals(val, w),
        Test::In(ws) => ws.iter().any(|w| equals(val, w)),
        Test::Nin(ws) => !ws.iter().any(|w| equals(val, w)),
        Test::Range(lo, hi) => match number(val) {
            Some(n) => lo.is_none_or(|lo| n >= lo) && hi.is_none_or(|hi| n < hi),
            None => false,
        },
        Test::Contains(needle, want) => match val {
            Val::Str(s) => s.to_lowercase().contains(needle.as_str()) == *want,
            _ => !*want,
        },
        Test::StartsWith(p) => matches!(val, Val::Str(s) if s.to_lowercase().starts_with(p.as_str())),
        Test::EndsWith(p) => matches!(val, Val::Str(s) if s.to_lowercase().ends_with(p.as_str())),
    }
}

fn matches(state: &State, kind: Kind, index: usize, node: &Node, version: ApiVersion) -> bool {
    let leaf = |n: &Node| -> bool {
        let Node::Leaf { field, test } = n else { return false };
        match kind {
            Kind::Contacts => run(test, &contact_val(state, &state.contacts[index], field, version)),
            Kind::Tickets => run(test, &ticket_val(state, &state.tickets[index], field)),
            Kind::Conversations => run(test, &conversations::value(state, &state.conversations[index], field, version)),
        }
    };
    walk(node, &leaf)
}

fn walk(node: &Node, leaf: &dyn Fn(&Node) -> bool) -> bool {
    match node {
        Node::And(children) => children.iter().all(|c| walk(c, leaf)),
        Node::Or(children) => children.iter().any(|c| walk(c, leaf)),
        Node::Leaf { .. } => leaf(node),
    }
}

fn sort_key<'a>(state: &'a State, kind: Kind, index: usize, field: &str, version: ApiVersion) -> Val<'a> {
    match kind {
        Kind::Contacts => contact_val(state, &state.contacts[index], field, version),
        Kind::Tickets => ticket_val(state, &state.tickets[index], field),
        Kind::Conversations => conversations::value(state, &state.conversations[index], field, version),
    }
}

/// Nulls sort last whichever the direction.
fn compare(a: &Val, b: &Val) -> Ordering {
    match (a, b) {
        (Val::Null, Val::Null) => Ordering::Equal,
        (Val::Null, _) => Ordering::Greater,
        (_, Val::Null) => Ordering::Less,
        (Val::Str(x), Val::Str(y)) => x.cmp(y),
        (Val::Bool(x), Val::Bool(y)) => x.cmp(y),
        _ => number(a).unwrap_or(0.0).total_cmp(&number(b).unwrap_or(0.0)),
    }
}

pub struct Request {
    pub per_page: usize,
    pub starting_after: Option<String>,
    sort_field: String,
    descending: bool,
    query: Node,
    cache_key: String,
}

/// Reads and checks a search body; the limits differ per endpoint
/// (docs/intercom.md §6, §9).
pub fn parse(state: &State, kind: Kind, body: &Map<String, Value>, version: ApiVersion) -> Result<Request, ApiError> {
    let Some(query) = body.get("query") else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "parameter_not_found", "query parameter is required")
            .with_field("query"));
    };
    let compiler = Compiler {
        state,
        kind,
        version,
        tz: workspace_tz(state),
        gt_inclusive: state.ticket_search_gt_inclusive,
        dates_by_second: state.contact_dates_by_second,
    };
    let node = compiler.node(query, 1)?;

    let default_per_page = if kind == Kind::Contacts { 50 } else { 20 };
    let pagination = body.get("pagination").and_then(Value::as_object);
    let per_page = match pagination.and_then(|p| p.get("per_page")) {
        None | Some(Value::Null) => default_per_page,
        Some(v) => v.as_i64().ok_or_else(|| invalid("per_page must be an integer").with_field("per_page"))?,
    };
    if !(1..=150).contains(&per_page) {
        return Err(invalid("per_page must be between 1 and 150").with_field("per_page"));
    }
    let starting_after = pagination
        .and_then(|p| p.get("starting_after"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);

    let sort = body.get("sort").and_then(Value::as_object);
    let sort_field = sort.and_then(|s| s.get("field")).and_then(Value::as_str).unwrap_or("created_at").to_string();
    let order = sort.and_then(|s| s.get("order")).and_then(Value::as_str).unwrap_or("descending");
    let descending = match order {
        "descending" => true,
        "ascending" => false,
        other if kind == Kind::Contacts => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_sort_order",
                format!("Invalid sort order '{other}'. Must be one of: ascending, descending"),
            ))
        }
        _ => true,
    };
    if field_type(state, kind, &sort_field, version).is_none() {
        return Err(invalid(format!("'{sort_field}' is not a sortable field")).with_field("sort.field"));
    }
    let cache_key = format!(
        "{kind:?}|{version:?}|{}|{:?}|{sort_field}|{descending}|{}",
        state.config.timezone,
        (state.ticket_search_gt_inclusive, state.contact_dates_by_second),
        query
    );
    Ok(Request { per_page: per_page as usize, starting_after, sort_field, descending, query: node, cache_key })
}

fn results(state: &mut State, kind: Kind, request: &Request, version: ApiVersion) -> Arc<Vec<usize>> {
    let cacheable = state.config.search_index_delay.is_zero();
    if cacheable {
        if let Some((generation, hits)) = state.search_cache.get(&request.cache_key) {
            if *generation == state.generation {
                return hits.clone();
            }
        }
    }
    let st: &State = state;
    let mut hits: Vec<usize> = match kind {
        Kind::Contacts => (0..st.contacts.len())
            .filter(|&i| {
                let c = &st.contacts[i];
                c.merged_into.is_none() && st.indexed(c.written_at) && matches(st, kind, i, &request.query, version)
            })
            .collect(),
        Kind::Tickets => (0..st.tickets.len())
            .filter(|&i| st.indexed(st.tickets[i].written_at) && matches(st, kind, i, &request.query, version))
            .collect(),
        // Nothing writes conversations, so none waits for the index.
        Kind::Conversations => {
            (0..st.conversations.len()).filter(|&i| matches(st, kind, i, &request.query, version)).collect()
        }
    };
    let field = request.sort_field.as_str();
    let mut keyed: Vec<(Val, usize)> = hits.iter().map(|&i| (sort_key(st, kind, i, field, version), i)).collect();
    keyed.sort_by(|(ka, ia), (kb, ib)| {
        let by_key = match (ka, kb) {
            (Val::Null, _) | (_, Val::Null) => compare(ka, kb),
            _ if request.descending => compare(kb, ka),
            _ => compare(ka, kb),
        };
        by_key.then(ia.cmp(ib))
    });
    hits = keyed.into_iter().map(|(_, i)| i).collect();
    let hits = Arc::new(hits);
    if cacheable {
        // A handful of live queries at a time is plenty for a sync or a test.
        if state.search_cache.len() > 16 {
            state.search_cache.clear();
        }
        state.search_cache.insert(request.cache_key.clone(), (state.generation, hits.clone()));
    }
    hits
}

fn record_id(state: &State, kind: Kind, index: usize) -> String {
    match kind {
        Kind::Contacts => state.contacts[index].id.clone(),
        Kind::Tickets => state.tickets[index].id.to_string(),
        Kind::Conversations => state.conversations[index].id.to_string(),
    }
}

/// One page of results, with `total_count` and cursor `pages`.
pub fn page(
    state: &mut State,
    kind: Kind,
    request: &Request,
    version: ApiVersion,
) -> Result<(Vec<usize>, Value, usize), ApiError> {
    let hits = results(state, kind, request, version);
    let start = match &request.starting_after {
        None => 0,
        Some(raw) => {
            let key =
                cursor::decode(raw).ok_or_else(|| invalid("starting_after is invalid").with_field("starting_after"))?;
            let offset = key.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
            let last = key.get("id").and_then(Value::as_str).unwrap_or("");
            if offset > 0 && offset <= hits.len() && record_id(state, kind, hits[offset - 1]) == last {
                offset
            } else {
                // The results moved under the cursor: resume after the last id served.
                hits.iter().position(|&i| record_id(state, kind, i) == last).map_or(offset.min(hits.len()), |p| p + 1)
            }
        }
    };
    let end = (start + request.per_page).min(hits.len());
    let rows: Vec<usize> = hits[start.min(end)..end].to_vec();
    let per_page = request.per_page;
    let total_pages = hits.len().div_ceil(per_page).max(1);
    let page = start / per_page + 1;
    let mut pages = json!({"type": "pages", "page": page, "per_page": per_page, "total_pages": total_pages});
    if end < hits.len() {
        if let Some(&last) = rows.last() {
            let key = json!({"offset": end, "id": record_id(state, kind, last)});
            pages["next"] = json!({"page": page + 1, "starting_after": cursor::encode(&key)});
        }
    }
    Ok((rows, pages, hits.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_in_paris_starts_at_local_midnight() {
        let tz = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
        // 2020-01-01 09:00 UTC is 10:00 in Paris: the day starts at 2019-12-31 23:00 UTC.
        let (start, next) = day_bounds(&tz, 1_577_869_200).unwrap();
        assert_eq!(start, 1_577_833_200);
        assert_eq!(next, 1_577_833_200 + 86_400);
    }

    #[test]
    fn a_day_across_a_dst_change_is_23_hours_long() {
        let tz = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
        // 2024-03-31 12:00 UTC: clocks went forward that night in Paris.
        let (start, next) = day_bounds(&tz, 1_711_886_400).unwrap();
        assert_eq!(next - start, 23 * 3_600);
    }
}
