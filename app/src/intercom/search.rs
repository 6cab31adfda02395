//! Search queries for contacts and tickets, built within Intercom's limits
//! (docs/intercom.md §9): at most two levels of nesting, at most 15 filters per group, and
//! for contacts, date fields that take only `=`, `<` and `>` and match whole days in the
//! workspace time zone.

use serde::Serialize;
use serde_json::{json, Value};

pub const MAX_NESTING: usize = 2;
pub const MAX_FILTERS_PER_GROUP: usize = 15;
pub const MAX_PER_PAGE: u32 = 150;
const DAY: i64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    In,
    Nin,
    Gt,
    Lt,
    Ge,
    Le,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::In => "IN",
            Op::Nin => "NIN",
            Op::Gt => ">",
            Op::Lt => "<",
            Op::Ge => ">=",
            Op::Le => "<=",
            Op::Contains => "~",
            Op::NotContains => "!~",
            Op::StartsWith => "^",
            Op::EndsWith => "$",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    Filter { field: String, op: Op, value: Value },
    And(Vec<Query>),
    Or(Vec<Query>),
}

impl Query {
    pub fn filter(field: &str, op: Op, value: impl Into<Value>) -> Self {
        Query::Filter { field: field.to_string(), op, value: value.into() }
    }

    fn to_json(&self) -> Value {
        match self {
            Query::Filter { field, op, value } => json!({ "field": field, "operator": op.as_str(), "value": value }),
            Query::And(children) => {
                json!({ "operator": "AND", "value": children.iter().map(Query::to_json).collect::<Vec<_>>() })
            }
            Query::Or(children) => {
                json!({ "operator": "OR", "value": children.iter().map(Query::to_json).collect::<Vec<_>>() })
            }
        }
    }

    fn depth(&self) -> usize {
        match self {
            Query::Filter { .. } => 0,
            Query::And(c) | Query::Or(c) => 1 + c.iter().map(Query::depth).max().unwrap_or(0),
        }
    }
}

/// Which search: the two take different operators on dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Contacts,
    Tickets,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("a search query may nest groups {MAX_NESTING} levels deep at most (this one: {0})")]
    TooDeep(usize),
    #[error("a search group may hold {MAX_FILTERS_PER_GROUP} filters at most (this one: {0})")]
    TooManyFilters(usize),
    #[error("a group needs at least one filter")]
    EmptyGroup,
    #[error("contact date field `{field}` takes only =, < and > (not {op})")]
    DateOperator { field: String, op: &'static str },
}

/// Contact fields that hold dates, whose filters Intercom matches by day.
fn is_contact_date_field(field: &str) -> bool {
    matches!(
        field,
        "created_at"
            | "signed_up_at"
            | "updated_at"
            | "last_seen_at"
            | "last_contacted_at"
            | "last_replied_at"
            | "last_email_opened_at"
            | "last_email_clicked_at"
    )
}

pub fn validate(query: &Query, target: Target) -> Result<(), QueryError> {
    let depth = query.depth();
    if depth > MAX_NESTING {
        return Err(QueryError::TooDeep(depth));
    }
    check(query, target)
}

fn check(query: &Query, target: Target) -> Result<(), QueryError> {
    match query {
        Query::Filter { field, op, .. } => {
            if target == Target::Contacts && is_contact_date_field(field) && !matches!(op, Op::Eq | Op::Lt | Op::Gt) {
                return Err(QueryError::DateOperator { field: field.clone(), op: op.as_str() });
            }
            Ok(())
        }
        Query::And(children) | Query::Or(children) => {
            if children.is_empty() {
                return Err(QueryError::EmptyGroup);
            }
            if children.len() > MAX_FILTERS_PER_GROUP {
                return Err(QueryError::TooManyFilters(children.len()));
            }
            children.iter().try_for_each(|c| check(c, target))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Ascending,
    Descending,
}

/// A validated search, ready to page through.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub(crate) target: Target,
    query: Query,
    sort: Option<(String, Order)>,
    per_page: u32,
}

impl Search {
    pub fn new(target: Target, query: Query) -> Result<Self, QueryError> {
        validate(&query, target)?;
        Ok(Self { target, query, sort: None, per_page: MAX_PER_PAGE })
    }

    pub fn sort(mut self, field: &str, order: Order) -> Self {
        self.sort = Some((field.to_string(), order));
        self
    }

    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = per_page.clamp(1, MAX_PER_PAGE);
        self
    }

    /// The request body for one page.
    pub fn body(&self, starting_after: Option<&str>) -> Value {
        let mut pagination = json!({ "per_page": self.per_page });
        if let Some(cursor) = starting_after {
            pagination["starting_after"] = json!(cursor);
        }
        let mut body = json!({ "query": self.query.to_json(), "pagination": pagination });
        if let Some((field, order)) = &self.sort {
            body["sort"] = json!({ "field": field, "order": order });
        }
        body
    }

    /// Contacts updated at or after `since` (Unix seconds). Intercom matches contact dates
    /// by whole days in the workspace's time zone, and `>` X starts at the day after X's
    /// day; asking from two days earlier covers every zone (±14 h) and the caller keeps
    /// only what is really at or after `since`.
    pub fn contacts_updated_since(since: i64) -> Self {
        let query = Query::filter("updated_at", Op::Gt, since - 2 * DAY);
        Self::new(Target::Contacts, query).expect("a single date filter is valid").sort("updated_at", Order::Ascending)
    }

    /// Contacts with `after < created_at < before` (either side open), oldest first. The
    /// bounds are matched by day or by second depending on the reading (UNCONFIRMED);
    /// callers pick bounds that give the same contacts under both.
    pub fn contacts_created_between(after: Option<i64>, before: Option<i64>) -> Self {
        let mut filters: Vec<Query> = Vec::with_capacity(2);
        // A search needs a filter: with no lower bound, every contact is after the epoch.
        filters.push(Query::filter("created_at", Op::Gt, after.unwrap_or(0)));
        if let Some(before) = before {
            filters.push(Query::filter("created_at", Op::Lt, before));
        }
        let query = if filters.len() == 1 { filters.remove(0) } else { Query::And(filters) };
        Self::new(Target::Contacts, query)
            .expect("two date filters with > and < are valid")
            .sort("created_at", Order::Ascending)
    }

    /// Tickets updated at or after `since`. Whether ticket `>` is inclusive is
    /// UNCONFIRMED, so ask for `> since OR = since`, as the maintained connectors do.
    pub fn tickets_updated_since(since: i64) -> Self {
        let query =
            Query::Or(vec![Query::filter("updated_at", Op::Gt, since), Query::filter("updated_at", Op::Eq, since)]);
        Self::new(Target::Tickets, query).expect("two filters are valid").sort("updated_at", Order::Ascending)
    }

    /// Tickets created at or after `from` and, with `before`, before it; oldest first.
    pub fn tickets_created_between(from: i64, before: Option<i64>) -> Self {
        let since = Query::filter("created_at", Op::Ge, from);
        let query = match before {
            Some(before) => Query::And(vec![since, Query::filter("created_at", Op::Lt, before)]),
            None => since,
        };
        Self::new(Target::Tickets, query).expect("two filters are valid").sort("created_at", Order::Ascending)
    }

    /// Tickets created at or after `since` (the import window).
    pub fn tickets_created_since(since: i64) -> Self {
        Self::new(Target::Tickets, Query::filter("created_at", Op::Ge, since))
            .expect("a single filter is valid")
            .sort("created_at", Order::Ascending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(n: usize) -> Vec<Query> {
        (0..n).map(|i| Query::filter("name", Op::Eq, format!("n{i}"))).collect()
    }

    #[test]
    fn two_levels_of_nesting_are_allowed_and_three_are_not() {
        let two = Query::And(vec![Query::Or(filters(2)), Query::filter("role", Op::Eq, "user")]);
        assert_eq!(validate(&two, Target::Contacts), Ok(()));
        let three = Query::And(vec![Query::Or(vec![Query::And(filters(2))])]);
        assert_eq!(validate(&three, Target::Contacts), Err(QueryError::TooDeep(3)));
    }

    #[test]
    fn a_group_holds_fifteen_filters_at_most() {
        assert_eq!(validate(&Query::And(filters(15)), Target::Tickets), Ok(()));
        assert_eq!(validate(&Query::Or(filters(16)), Target::Tickets), Err(QueryError::TooManyFilters(16)));
    }

    #[test]
    fn contact_dates_refuse_greater_or_equal_but_ticket_dates_take_it() {
        let ge = Query::filter("updated_at", Op::Ge, 1);
        assert!(matches!(validate(&ge, Target::Contacts), Err(QueryError::DateOperator { .. })));
        assert_eq!(validate(&ge, Target::Tickets), Ok(()));
    }

    #[test]
    fn an_incremental_contact_search_starts_two_days_early() {
        let body = Search::contacts_updated_since(1_000_000).body(None);
        assert_eq!(body["query"], json!({"field": "updated_at", "operator": ">", "value": 1_000_000 - 2 * DAY}));
        assert_eq!(body["sort"], json!({"field": "updated_at", "order": "ascending"}));
        assert_eq!(body["pagination"], json!({"per_page": 150}));
    }

    #[test]
    fn the_cursor_goes_in_the_body() {
        let body = Search::tickets_updated_since(5).per_page(20).body(Some("WzE/+"));
        assert_eq!(body["pagination"], json!({"per_page": 20, "starting_after": "WzE/+"}));
        assert_eq!(body["query"]["operator"], "OR");
    }
}
