use serde::{Deserialize, Serialize};

/// A page of a list as the UI asks for it: 1-based, with a bounded size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    pub page: u32,
    pub per_page: u32,
}

impl PageRequest {
    pub const DEFAULT_PER_PAGE: u32 = 25;
    pub const MAX_PER_PAGE: u32 = 200;

    /// Clamps whatever came from a URL into a request the store can serve.
    pub fn new(page: Option<u32>, per_page: Option<u32>) -> Self {
        Self {
            page: page.unwrap_or(1).max(1),
            per_page: per_page.unwrap_or(Self::DEFAULT_PER_PAGE).clamp(1, Self::MAX_PER_PAGE),
        }
    }

    pub fn offset(self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }

    pub fn limit(self) -> i64 {
        i64::from(self.per_page)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::new(None, None)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
}

impl<T> Page<T> {
    pub fn page_count(&self) -> u32 {
        let per_page = u64::from(self.per_page.max(1));
        (self.total.div_ceil(per_page)).max(1) as u32
    }

    pub fn has_previous(&self) -> bool {
        self.page > 1
    }

    pub fn has_next(&self) -> bool {
        self.page < self.page_count()
    }

    /// 1-based positions of the first and last item shown, for "21–40 of 95".
    pub fn shown_range(&self) -> (u64, u64) {
        let first = u64::from(self.page - 1) * u64::from(self.per_page) + 1;
        let last = first + self.items.len() as u64 - 1;
        (first.min(last + 1), last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_of(len: usize, page: u32, per_page: u32, total: u64) -> Page<u8> {
        Page { items: vec![0; len], page, per_page, total }
    }

    #[test]
    fn a_missing_or_zero_page_means_the_first() {
        assert_eq!(PageRequest::new(None, None).page, 1);
        assert_eq!(PageRequest::new(Some(0), None).page, 1);
    }

    #[test]
    fn page_size_is_clamped_to_what_the_store_serves() {
        assert_eq!(PageRequest::new(None, Some(0)).per_page, 1);
        assert_eq!(PageRequest::new(None, Some(10_000)).per_page, PageRequest::MAX_PER_PAGE);
    }

    #[test]
    fn offset_skips_the_earlier_pages() {
        assert_eq!(PageRequest::new(Some(3), Some(20)).offset(), 40);
    }

    #[test]
    fn an_empty_list_still_has_one_page_and_no_neighbours() {
        let page = page_of(0, 1, 25, 0);
        assert_eq!(page.page_count(), 1);
        assert!(!page.has_previous());
        assert!(!page.has_next());
    }

    #[test]
    fn the_middle_page_has_both_neighbours_and_shows_its_range() {
        let page = page_of(25, 2, 25, 60);
        assert_eq!(page.page_count(), 3);
        assert!(page.has_previous() && page.has_next());
        assert_eq!(page.shown_range(), (26, 50));
    }

    #[test]
    fn the_last_page_has_no_next() {
        let page = page_of(10, 3, 25, 60);
        assert!(!page.has_next());
        assert_eq!(page.shown_range(), (51, 60));
    }
}
