//! Intercom's paging styles as streams of records (docs/intercom.md §6). Every stream
//! yields a record once, even where pages overlap or a walk restarts.

use std::collections::HashSet;

use async_stream::try_stream;
use futures::Stream;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::client::{IntercomClient, Request};
use super::error::Result;
use super::models::{Company, Contact, Ticket};

/// Records with an Intercom id, for de-duplication.
pub trait HasId {
    fn id(&self) -> &str;
}

impl HasId for Company {
    fn id(&self) -> &str {
        &self.id
    }
}
impl HasId for Contact {
    fn id(&self) -> &str {
        &self.id
    }
}
impl HasId for Ticket {
    fn id(&self) -> &str {
        &self.id
    }
}

/// One page of any list envelope: `data`, or `tickets` / `companies` where Intercom (or
/// its spec) names the array differently.
#[derive(Debug, Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
pub(crate) struct ListPage<T> {
    #[serde(default, alias = "tickets", alias = "companies", alias = "conversations")]
    pub data: Vec<T>,
    #[serde(default)]
    pub pages: Option<Pages>,
    #[serde(default)]
    pub total_count: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Pages {
    /// `{page, starting_after}` on cursor lists; a URL string on `POST /companies/list`.
    #[serde(default)]
    pub next: Option<Value>,
    #[serde(default)]
    pub total_pages: Option<u64>,
}

impl<T> ListPage<T> {
    pub fn next_cursor(&self) -> Option<String> {
        let next = self.pages.as_ref()?.next.as_ref()?;
        next.get("starting_after").and_then(Value::as_str).filter(|c| !c.is_empty()).map(str::to_string)
    }

    pub fn has_next_page(&self, page: u32) -> bool {
        match self.pages.as_ref() {
            Some(pages) => match &pages.next {
                Some(Value::Null) | None => pages.total_pages.is_some_and(|total| u64::from(page) < total),
                Some(_) => true,
            },
            None => false,
        }
    }
}

/// One page of a cursor walk: its records, the cursor of the next page (none on the last)
/// and the total Intercom reports, where it does.
#[derive(Debug, Clone, PartialEq)]
pub struct CursorPage<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
    pub total: Option<u64>,
}

impl<T> From<ListPage<T>> for CursorPage<T> {
    fn from(page: ListPage<T>) -> Self {
        let next = page.next_cursor();
        CursorPage { items: page.data, next, total: page.total_count }
    }
}

/// Walks a cursor list: `make` builds the request for a cursor (`None` first). Stops when
/// the cursor is missing or comes back a second time.
pub(crate) fn cursor_stream<T, F>(client: IntercomClient, make: F) -> impl Stream<Item = Result<T>> + Send
where
    T: DeserializeOwned + HasId + Send + 'static,
    F: Fn(Option<&str>) -> Request + Send + 'static,
{
    try_stream! {
        let mut cursor: Option<String> = None;
        let mut cursors_seen = HashSet::new();
        let mut ids_seen = HashSet::new();
        loop {
            let page: ListPage<T> = client.send(make(cursor.as_deref())).await?;
            let next = page.next_cursor();
            for item in page.data {
                if ids_seen.insert(item.id().to_string()) {
                    yield item;
                }
            }
            match next {
                Some(next) if cursors_seen.insert(next.clone()) => cursor = Some(next),
                _ => break,
            }
        }
    }
}

/// Walks a page-numbered list from page 1 until a page is empty or says it is the last.
pub(crate) fn numbered_stream<T, F>(client: IntercomClient, make: F) -> impl Stream<Item = Result<T>> + Send
where
    T: DeserializeOwned + HasId + Send + 'static,
    F: Fn(u32) -> Request + Send + 'static,
{
    try_stream! {
        let mut page = 1u32;
        let mut ids_seen = HashSet::new();
        loop {
            let list: ListPage<T> = client.send(make(page)).await?;
            let more = !list.data.is_empty() && list.has_next_page(page);
            for item in list.data {
                if ids_seen.insert(item.id().to_string()) {
                    yield item;
                }
            }
            if !more {
                break;
            }
            page += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(json: &str) -> ListPage<Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_next_cursor_is_read_from_pages_next() {
        let p = page(r#"{"data":[],"pages":{"next":{"page":2,"starting_after":"WzE/+"}}}"#);
        assert_eq!(p.next_cursor().as_deref(), Some("WzE/+"));
    }

    #[test]
    fn a_last_page_has_no_cursor() {
        assert_eq!(page(r#"{"data":[],"pages":{"next":null}}"#).next_cursor(), None);
        assert_eq!(page(r#"{"data":[]}"#).next_cursor(), None);
    }

    #[test]
    fn a_next_url_or_a_higher_total_means_another_numbered_page() {
        assert!(page(r#"{"data":[1],"pages":{"next":"https://x/companies/list?page=2"}}"#).has_next_page(1));
        assert!(page(r#"{"data":[1],"pages":{"next":null,"total_pages":3}}"#).has_next_page(2));
        assert!(!page(r#"{"data":[1],"pages":{"next":null,"total_pages":3}}"#).has_next_page(3));
    }

    #[test]
    fn a_company_list_reads_its_next_page_from_a_url_or_from_the_paging_object() {
        // Real traffic gives a URL, the description a `{page, per_page}` object (docs/intercom.md §6).
        let url = r#"{"type":"list","data":[1],"pages":{"type":"pages","page":1,"per_page":15,"total_pages":2,
                      "next":"https://api.intercom.io/companies?per_page=15&page=2"}}"#;
        let object = r#"{"type":"list","data":[1],"pages":{"type":"pages","page":1,"per_page":15,"total_pages":2,
                         "next":{"page":2,"per_page":15}}}"#;
        assert!(page(url).has_next_page(1));
        assert!(page(object).has_next_page(1));
        let last =
            r#"{"type":"list","data":[1],"pages":{"type":"pages","page":2,"per_page":15,"total_pages":2,"next":null}}"#;
        assert!(!page(last).has_next_page(2));
    }

    #[test]
    fn tickets_and_companies_arrays_read_as_data() {
        assert_eq!(page(r#"{"type":"ticket.list","tickets":[1,2]}"#).data.len(), 2);
        assert_eq!(page(r#"{"companies":[1]}"#).data.len(), 1);
    }
}
