//! How a walk reads its pages: one cursor, or ranges read side by side; either way each
//! page is written with its checkpoint.

use std::collections::HashSet;
use std::future::Future;

use async_stream::try_stream;
use futures::{Stream, StreamExt};

use super::pipeline::{Position, Walk};
use super::ranges::Range;
use crate::domain::SyncObject;
use crate::intercom::{Contact, CursorPage, IntercomError, Search, Ticket};
use crate::sync::Result;
use crate::sync_model::PageWrite;

/// Records that know when they were created: what walks are cut into ranges by.
pub(super) trait Created {
    fn created_at(&self) -> Option<i64>;
}

impl Created for Contact {
    fn created_at(&self) -> Option<i64> {
        self.created_at
    }
}

impl Created for Ticket {
    fn created_at(&self) -> Option<i64> {
        self.created_at
    }
}

/// Pages of a cursor walk from `start`, ending when the cursor runs out or repeats.
/// `first`, when given, is the page at `start`, already read.
pub(super) fn cursor_pages<'a, T, F, Fut>(
    start: Option<String>,
    first: Option<CursorPage<T>>,
    fetch: F,
) -> impl Stream<Item = crate::intercom::Result<CursorPage<T>>> + 'a
where
    T: 'a,
    F: Fn(Option<String>) -> Fut + 'a,
    Fut: Future<Output = crate::intercom::Result<CursorPage<T>>> + 'a,
{
    try_stream! {
        let mut cursor = start;
        let mut first = first;
        let mut seen = HashSet::new();
        loop {
            let page = match first.take() {
                Some(page) => page,
                None => fetch(cursor.clone()).await?,
            };
            let next = page.next.clone().filter(|n| seen.insert(n.clone()));
            let last = next.is_none();
            yield CursorPage { next: next.clone(), ..page };
            if last {
                break;
            }
            cursor = next;
        }
    }
}

impl Walk<'_> {
    /// How many ranges a walk whose first page is `first` is worth cutting into; below 2,
    /// one cursor reads it.
    pub(super) fn range_count<T>(&self, first: &CursorPage<T>) -> usize {
        let reads = self.range_reads;
        if first.next.is_none() {
            return 1;
        }
        let total = first.total.unwrap_or(0);
        let count = total / (reads.pages_per_range.max(1) * crate::intercom::search::MAX_PER_PAGE as u64);
        (count as usize).min(reads.max_ranges)
    }

    /// Saves the plan of a walk in ranges before its first page, so that a resumed run
    /// reads the same ranges.
    pub(super) async fn save_plan(&self, object: SyncObject, position: &Position, total: Option<u64>) -> Result<()> {
        let saved = PageWrite { cursor: position.to_cursor(), expected: total, ..PageWrite::default() };
        self.store.apply_page(self.run_id, self.holder, object, &saved).await?;
        Ok(())
    }

    /// Reads one cursor from `position`, writing each page with its checkpoint while the
    /// next is read. A saved cursor Intercom no longer knows is read again from the start.
    pub(super) async fn read_in_sequence<T, F, Fut, P, PFut>(
        &self,
        object: SyncObject,
        position: Position,
        first_page: Option<CursorPage<T>>,
        fetch: F,
        page_of: P,
    ) -> Result<()>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: Future<Output = crate::intercom::Result<CursorPage<T>>>,
        P: Fn(Vec<T>) -> PFut,
        PFut: Future<Output = Result<PageWrite>>,
    {
        let since = position.since;
        let mut start = position.after;
        let mut first_page = first_page;
        loop {
            let mut pages = std::pin::pin!(cursor_pages(start.clone(), first_page.take(), &fetch));
            let mut first = true;
            let mut upcoming = pages.next().await;
            while let Some(page) = upcoming {
                let page = match page {
                    Err(IntercomError::NotFound(_) | IntercomError::Invalid { .. }) if first && start.is_some() => {
                        break
                    }
                    other => other?,
                };
                first = false;
                let next = page.next.clone();
                let written = async {
                    let mut write = page_of(page.items).await?;
                    write.expected = page.total;
                    write.cursor =
                        Position { since, after: next.clone(), end: next.is_none(), ..Position::default() }.to_cursor();
                    self.write(object, write).await
                };
                let (written, following) = futures::join!(written, pages.next());
                written?;
                upcoming = following;
            }
            if !(first && start.is_some()) {
                return Ok(());
            }
            tracing::warn!(
                sync.run_id = self.run_id,
                object = object.as_str(),
                "the saved cursor was refused; reading from the start"
            );
            start = None;
            let restart = Position { since, ..Position::default() };
            self.store
                .apply_page(
                    self.run_id,
                    self.holder,
                    object,
                    &PageWrite { cursor: restart.to_cursor(), ..PageWrite::default() },
                )
                .await?;
        }
    }

    /// Reads the unfinished ranges of `plan`, `concurrency` pages at a time, and writes
    /// each page as it comes with the checkpoint of every range. One writer keeps the
    /// pages' transactions apart; readers wait for it when it falls behind.
    pub(super) async fn read_in_ranges<T, Q, F, Fut, P, PFut>(
        &self,
        object: SyncObject,
        plan: Position,
        search: Q,
        fetch: F,
        page_of: P,
    ) -> Result<()>
    where
        T: Created,
        Q: Fn(&Range) -> Search,
        F: Fn(Search, Option<String>) -> Fut,
        Fut: Future<Output = crate::intercom::Result<CursorPage<T>>>,
        P: Fn(Vec<T>) -> PFut,
        PFut: Future<Output = Result<PageWrite>>,
    {
        let concurrency = self.range_reads.concurrency.max(1);
        let (tx, mut rx) =
            futures::channel::mpsc::channel::<(usize, crate::intercom::Result<CursorPage<T>>)>(concurrency);
        let open: Vec<(usize, Search, Option<String>)> = plan
            .ranges
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.end)
            .map(|(i, r)| (i, search(r), r.after.clone()))
            .collect();
        let fetch = &fetch;
        let readers = async move {
            futures::stream::iter(open)
                .for_each_concurrent(concurrency, |(index, search, after)| {
                    let tx = tx.clone();
                    async move { self.read_range(object, index, search, after, fetch, tx).await }
                })
                .await;
        };
        let writer = async move {
            let mut plan = plan;
            while let Some((index, page)) = rx.next().await {
                let page = page?;
                let range = &plan.ranges[index];
                let items: Vec<T> = page.items.into_iter().filter(|item| range.owns(item.created_at())).collect();
                let mut write = page_of(items).await?;
                plan.ranges[index].end = page.next.is_none();
                plan.ranges[index].after = page.next;
                plan.end = plan.ranges.iter().all(|r| r.end);
                write.cursor = plan.to_cursor();
                self.write(object, write).await?;
            }
            Ok(())
        };
        // The writer drops its receiver when it stops, which stops the readers too.
        let (written, ()) = futures::join!(writer, readers);
        written
    }

    /// Sends each page of one range, its error included, until the range ends or the
    /// writer stops listening.
    async fn read_range<T, F, Fut>(
        &self,
        object: SyncObject,
        index: usize,
        search: Search,
        after: Option<String>,
        fetch: &F,
        mut tx: futures::channel::mpsc::Sender<(usize, crate::intercom::Result<CursorPage<T>>)>,
    ) where
        F: Fn(Search, Option<String>) -> Fut,
        Fut: Future<Output = crate::intercom::Result<CursorPage<T>>>,
    {
        use futures::SinkExt;
        let fetch_page = |after: Option<String>| fetch(search.clone(), after);
        let mut start = after;
        loop {
            let mut pages = std::pin::pin!(cursor_pages(start.clone(), None, &fetch_page));
            let mut first = true;
            while let Some(page) = pages.next().await {
                if first
                    && start.is_some()
                    && matches!(page, Err(IntercomError::NotFound(_) | IntercomError::Invalid { .. }))
                {
                    break;
                }
                first = false;
                let failed = page.is_err();
                if tx.send((index, page)).await.is_err() || failed {
                    return;
                }
            }
            if first && start.is_some() {
                // A saved cursor Intercom no longer knows: this range again from its start.
                tracing::warn!(
                    sync.run_id = self.run_id,
                    object = object.as_str(),
                    range = index,
                    "a saved cursor was refused; reading its range again"
                );
                start = None;
                continue;
            }
            return;
        }
    }
}
