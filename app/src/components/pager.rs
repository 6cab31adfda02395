use leptos::prelude::*;

use crate::domain::Page;

/// Previous / next links for a paged list. Plain links: they work without JavaScript,
/// and the router turns them into client-side navigations once hydrated.
#[component]
pub fn Pager<T: 'static>(page: Page<T>, base: &'static str, noun: &'static str) -> impl IntoView {
    let (first, last) = page.shown_range();
    let summary = format!("{first}–{last} of {} {noun}", page.total);
    let position = format!("Page {} of {}", page.page, page.page_count());
    let previous = page.has_previous().then(|| format!("{base}?page={}", page.page - 1));
    let next = page.has_next().then(|| format!("{base}?page={}", page.page + 1));

    view! {
        <nav class="pager" aria-label="Pagination">
            <span class="pager-summary">{summary}</span>
            <span class="pager-position">{position}</span>
            {previous.map(|href| view! { <a href=href rel="prev">"Previous"</a> })}
            {next.map(|href| view! { <a href=href rel="next">"Next"</a> })}
        </nav>
    }
}
