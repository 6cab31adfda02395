//! The real-time card: whether Intercom's notifications keep this workspace current,
//! the endpoint to give the Intercom app, and what became of today's notifications.
//! Read again every few seconds in the browser.

use leptos::prelude::*;

use crate::components::{ErrorNotice, Loaded};
use crate::domain::{format_timestamp, NotificationLine, RealtimeState};
use crate::error::AppError;

/// How often the card reads the counts again, in the browser.
const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(3);

/// `state` is the page's (made with it, so that the page hydrates: see `IntercomPage`).
#[component]
pub fn RealtimeCard(state: Loaded<Result<RealtimeState, AppError>>) -> impl IntoView {
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(move || state.refetch(), REFRESH_EVERY) {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        <section class="card" aria-labelledby="realtime-heading">
            <h2 id="realtime-heading">"Real time"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match state.await {
                        Ok(state) => view! { <Realtime state /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Realtime(state: RealtimeState) -> impl IntoView {
    let RealtimeState { on, off_because, endpoint_url, today, last, failures } = state;
    let status = match (&off_because, on) {
        (_, true) => "On: Intercom's changes arrive within seconds".to_string(),
        (Some(why), false) => format!("Off: {why}"),
        (None, false) => "Off".to_string(),
    };
    let counts = format!(
        "Today: {} received, {} applied, {} ignored, {} failed, {} waiting.",
        today.received, today.applied, today.ignored, today.failed, today.waiting
    );
    view! {
        <p class="status" class:status-off=!on data-testid="realtime-status">{status}</p>
        <dl class="facts">
            <dt>"Webhook URL"</dt>
            <dd><code data-testid="realtime-endpoint">{endpoint_url}</code></dd>
        </dl>
        <p class="hint">"Subscribe the Intercom app's webhooks to this URL (company, contact and ticket topics). The scheduled runs catch whatever never arrives."</p>
        <p data-testid="realtime-counts">{counts}</p>
        <p data-testid="realtime-last">{match last {
            Some(line) => format!("Last: {}", describe(&line)),
            None => "No notification yet.".to_string(),
        }}</p>
        {(!failures.is_empty()).then(|| view! {
            <h3>"Failed notifications"</h3>
            <ul class="failures" data-testid="realtime-failures">
                {failures.iter().map(|line| view! { <li>{describe(line)}</li> }).collect_view()}
            </ul>
        })}
    }
}

fn describe(line: &NotificationLine) -> String {
    let mut text = format!("{} at {}: {}", line.topic, format_timestamp(line.received_at), line.describe());
    if let Some(message) = &line.message {
        text.push_str(&format!(" ({message})"));
    }
    text
}
