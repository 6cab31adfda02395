//! A big full walk cut into ranges of creation times, read side by side.
//!
//! A cursor has one page in flight at a time; a search can be cut into disjoint parts by
//! `created_at`, which never changes. Ticket dates are matched to the second, and whether
//! `<` includes its bound is UNCONFIRMED: each range keeps only the tickets it owns.
//!
//! `GET /contacts` has one cursor too, and contact search is cut the same way by days,
//! with more care: contact date filters match whole days in the workspace's time zone
//! (docs/intercom.md §9 Search), or seconds in the other reading: a bound at a local
//! midnight `m` asked as `> m - 1` and `< m` selects the same contacts under both. When the zone is unknown the query is widened by a margin and
//! each range keeps only the contacts it owns, so none is read into two ranges' counts.

use serde::{Deserialize, Serialize};

use crate::intercom::Search;

const DAY: i64 = 86_400;
/// Wider than any zone's offset plus a daylight-saving shift.
const UNKNOWN_ZONE_MARGIN: i64 = 2 * DAY;

/// One range of creation times and where its reading stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// Contacts created at or after this; none for the first range.
    pub from: Option<i64>,
    /// Contacts created before this; none for the last range.
    pub to: Option<i64>,
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub end: bool,
}

impl Range {
    pub fn contact_search(&self, margin: i64) -> Search {
        Search::contacts_created_between(self.from.map(|f| f - 1 - margin), self.to.map(|t| t + margin))
    }

    /// Tickets of this range, none created before `window_start`.
    pub fn ticket_search(&self, window_start: i64) -> Search {
        Search::tickets_created_between(self.from.unwrap_or(window_start).max(window_start), self.to)
    }

    /// Whether a record belongs to this range; one without a creation time belongs to
    /// the first.
    pub fn owns(&self, created_at: Option<i64>) -> bool {
        match created_at {
            None => self.from.is_none(),
            Some(at) => self.from.is_none_or(|f| at >= f) && self.to.is_none_or(|t| at < t),
        }
    }
}

/// How a walk is cut: the ranges, and how far each query is widened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub ranges: Vec<Range>,
    pub margin: i64,
}

/// Cuts the seconds from `oldest` to `now` into `count` ranges of equal length.
pub fn plan_seconds(oldest: i64, now: i64, count: usize) -> Vec<Range> {
    let span = (now - oldest).max(0) + 1;
    let count = (count.max(1) as i64).min(span);
    let mut ranges = Vec::with_capacity(count as usize);
    let mut from = None;
    for i in 1..=count {
        let to = (i < count).then(|| oldest + i * span / count);
        ranges.push(Range { from, to, after: None, end: false });
        from = to;
    }
    ranges
}

/// Cuts the days from the oldest contact's to today's into at most `count` ranges of
/// whole days, their bounds at midnights in `zone` (an IANA name, as `GET /me` gives it).
pub fn plan(oldest: i64, now: i64, count: usize, zone: Option<&str>) -> Plan {
    let tz = zone.and_then(|z| jiff::tz::TimeZone::get(z).ok());
    let margin = if tz.is_some() { 0 } else { UNKNOWN_ZONE_MARGIN };
    let tz = tz.unwrap_or(jiff::tz::TimeZone::UTC);
    let day_of = |at: i64| jiff::Timestamp::from_second(at).ok().map(|t| t.to_zoned(tz.clone()).date());
    let midnight = |date: jiff::civil::Date| date.to_zoned(tz.clone()).ok().map(|z| z.timestamp().as_second());
    let whole = || Plan { ranges: vec![Range { from: None, to: None, after: None, end: false }], margin };

    let (Some(first), Some(last)) = (day_of(oldest), day_of(now.max(oldest))) else { return whole() };
    let days = (last - first).get_days().max(0) as i64 + 1;
    let count = (count.max(1) as i64).min(days);
    let mut bounds = Vec::with_capacity(count as usize - 1);
    for i in 1..count {
        let offset = jiff::Span::new().days(i * days / count);
        match first.checked_add(offset).ok().and_then(midnight) {
            Some(m) => bounds.push(m),
            None => return whole(),
        }
    }
    let mut ranges = Vec::with_capacity(bounds.len() + 1);
    let mut from = None;
    for to in bounds.into_iter().map(Some).chain([None]) {
        ranges.push(Range { from, to, after: None, end: false });
        from = to;
    }
    Plan { ranges, margin }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PARIS_2024_01_01: i64 = 1_704_063_600; // 2024-01-01 00:00 in Paris (23:00 UTC the day before)

    #[test]
    fn ranges_meet_at_local_midnights_and_leave_no_gap() {
        let plan = plan(PARIS_2024_01_01 + 3_600, PARIS_2024_01_01 + 9 * DAY + 60, 5, Some("Europe/Paris"));
        assert_eq!(plan.margin, 0);
        assert_eq!(plan.ranges.len(), 5);
        assert_eq!(plan.ranges[0].from, None);
        assert_eq!(plan.ranges[4].to, None);
        for pair in plan.ranges.windows(2) {
            assert_eq!(pair[0].to, pair[1].from);
            assert_eq!((pair[0].to.unwrap() - PARIS_2024_01_01) % DAY, 0, "a Paris midnight in winter");
        }
        assert_eq!(plan.ranges[1].from, Some(PARIS_2024_01_01 + 2 * DAY));
    }

    #[test]
    fn a_walk_within_one_day_is_one_range() {
        let plan = plan(PARIS_2024_01_01 + 60, PARIS_2024_01_01 + 600, 16, Some("Europe/Paris"));
        assert_eq!(plan.ranges, vec![Range { from: None, to: None, after: None, end: false }]);
    }

    #[test]
    fn a_range_across_the_spring_change_still_ends_at_midnight() {
        // 2024-03-31: clocks go forward in Paris, and midnight moves to 22:00 UTC.
        let march_30 = 1_711_753_200;
        let plan = plan(march_30, march_30 + 3 * DAY, 4, Some("Europe/Paris"));
        assert_eq!(plan.ranges[2].from, Some(march_30 + 2 * DAY - 3_600));
    }

    #[test]
    fn ticket_ranges_are_equal_spans_of_seconds_that_meet() {
        let ranges = plan_seconds(1_000, 1_999, 4);
        let bounds: Vec<(Option<i64>, Option<i64>)> = ranges.iter().map(|r| (r.from, r.to)).collect();
        assert_eq!(
            bounds,
            vec![(None, Some(1_250)), (Some(1_250), Some(1_500)), (Some(1_500), Some(1_750)), (Some(1_750), None)]
        );
        assert_eq!(plan_seconds(5, 5, 8).len(), 1, "one second cannot be cut");
    }

    #[test]
    fn a_ticket_range_asks_from_its_start_but_never_before_the_import_window() {
        let first = Range { from: None, to: Some(2_000), after: None, end: false };
        let query = &first.ticket_search(1_000).body(None)["query"];
        assert_eq!(
            query,
            &json!({"operator": "AND", "value": [
                {"field": "created_at", "operator": ">=", "value": 1_000},
                {"field": "created_at", "operator": "<", "value": 2_000}]})
        );
        let last = Range { from: Some(2_000), to: None, after: None, end: false };
        assert_eq!(
            last.ticket_search(1_000).body(None)["query"],
            json!({"field": "created_at", "operator": ">=", "value": 2_000})
        );
    }

    #[test]
    fn each_contact_belongs_to_exactly_one_range() {
        let plan = plan(PARIS_2024_01_01, PARIS_2024_01_01 + 30 * DAY, 7, Some("Europe/Paris"));
        for at in [
            None,
            Some(0),
            Some(PARIS_2024_01_01),
            Some(PARIS_2024_01_01 + 4 * DAY - 1),
            Some(PARIS_2024_01_01 + 4 * DAY),
            Some(i64::MAX),
        ] {
            assert_eq!(plan.ranges.iter().filter(|r| r.owns(at)).count(), 1, "created at {at:?}");
        }
    }

    #[test]
    fn a_known_zone_asks_exactly_from_the_day_before_midnight_to_midnight() {
        let range = Range { from: Some(PARIS_2024_01_01), to: Some(PARIS_2024_01_01 + DAY), after: None, end: false };
        let query = &range.contact_search(0).body(None)["query"];
        assert_eq!(
            query,
            &json!({"operator": "AND", "value": [
                {"field": "created_at", "operator": ">", "value": PARIS_2024_01_01 - 1},
                {"field": "created_at", "operator": "<", "value": PARIS_2024_01_01 + DAY}]})
        );
    }

    #[test]
    fn an_unknown_zone_widens_the_query_by_two_days() {
        let plan = plan(PARIS_2024_01_01, PARIS_2024_01_01 + 30 * DAY, 3, Some("Mars/Olympus_Mons"));
        assert_eq!(plan.margin, 2 * DAY);
        let second = &plan.ranges[1];
        let query = &second.contact_search(plan.margin).body(None)["query"];
        assert_eq!(query["value"][0]["value"], json!(second.from.unwrap() - 1 - 2 * DAY));
        assert_eq!(query["value"][1]["value"], json!(second.to.unwrap() + 2 * DAY));
    }
}
