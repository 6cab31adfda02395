//! The Sync runs page's history: one row per run, and the detail of the run picked
//! (counts per object, failed records, churn held back for confirmation).

use leptos::prelude::*;

use crate::domain::{
    format_timestamp, Counts, ObjectReport, ObjectStatus, RunDetail, RunStatus, SyncFailure, SyncObject, SyncRun,
};
use crate::server_fns::confirm_churn;

use super::sync::{format_duration, now, object_status_label, records_read, walk_label, SYNC_PATH};

#[component]
pub(super) fn RunHistory(runs: Signal<Vec<SyncRun>>, selected: Memo<Option<i64>>) -> impl IntoView {
    move || {
        let list = runs.get();
        if list.is_empty() {
            return view! { <p class="hint" data-testid="no-runs">"No runs yet."</p> }.into_any();
        }
        let now = now();
        view! {
            <table class="records runs" data-testid="run-history">
                <thead>
                    <tr>
                        <th scope="col">"Run"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Trigger"</th>
                        <th scope="col">"Who"</th>
                        <th scope="col">"Started"</th>
                        <th scope="col">"Duration"</th>
                        <th scope="col">"Records"</th>
                        <th scope="col"><span class="visually-hidden">"Detail"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|run| view! { <RunRow run now selected /> }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    }
}

#[component]
fn RunRow(run: SyncRun, now: i64, selected: Memo<Option<i64>>) -> impl IntoView {
    let id = run.id;
    let duration = run.duration(now).map(format_duration).unwrap_or_else(|| "—".into());
    let started = run.started_at.map(format_timestamp).unwrap_or_else(|| "not yet".into());
    view! {
        <tr data-run-id=id data-status=run.status.as_str() data-dry-run=run.dry_run.to_string()
            class:selected=move || selected.get() == Some(id)>
            <td data-label="Run">{id}</td>
            <td data-label="Status">
                <span class=format!("run-status run-status-{}", run.status.as_str())>{run.status.label()}</span>
                {run.dry_run.then(|| view! { " "<span class="badge" data-testid="dry-run">"Dry run"</span> })}
            </td>
            <td data-label="Trigger">{run.trigger.label()}</td>
            <td data-label="Who">{run.requested_by}</td>
            <td data-label="Started">{started}</td>
            <td data-label="Duration">{duration}</td>
            <td data-label="Records" class="records-cell"><ObjectCounts objects=run.objects /></td>
            <td><a href=format!("{SYNC_PATH}?run={id}#run-detail")>"Details"<span class="visually-hidden">{format!(" of run {id}")}</span></a></td>
        </tr>
    }
}

/// Each object's counts on a line; skipped objects say so instead of a row of zeros.
#[component]
fn ObjectCounts(objects: Vec<ObjectReport>) -> impl IntoView {
    view! {
        <ul class="object-counts">
            {objects.into_iter().map(|o| {
                let counts = (o.status != ObjectStatus::Skipped).then(|| view! { <CountList counts=o.counts /> });
                view! {
                    <li data-object=o.object.as_str()>
                        <span class="object-name">{o.object.label()}</span>" "
                        {counts.map(|c| c.into_any()).unwrap_or_else(|| view! { <span class="hint">"skipped"</span> }.into_any())}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

#[component]
fn CountList(counts: Counts) -> impl IntoView {
    let Counts { created, updated, unchanged, churned, failed } = counts;
    [("created", created), ("updated", updated), ("unchanged", unchanged), ("churned", churned), ("failed", failed)]
        .into_iter()
        .map(|(what, n)| {
            view! {
                <span class="count" class:zero={n == 0} class:count-failed={what == "failed" && n > 0}>
                    <span data-count=what>{n}</span>" "{what}
                </span>
            }
        })
        .collect_view()
}

/// One run in full: its objects, the records it could not write, and a churn that
/// waits for an admin.
#[component]
pub(super) fn RunDetailCard(detail: RunDetail, can_edit: bool, on_change: Callback<()>) -> impl IntoView {
    let RunDetail { run, failures } = detail;
    let id = run.id;
    let confirm = Action::new(move |_: &()| confirm_churn(id));
    Effect::new(move |_| {
        if let Some(Ok(_)) = confirm.value().get() {
            on_change.run(());
        }
    });
    let waiting = run.status == RunStatus::AwaitingConfirmation;
    let churn: Vec<_> =
        run.objects.iter().filter(|o| o.object == SyncObject::Customers).flat_map(|o| o.churn.clone()).collect();
    let summary = format!(
        "{} · {} · by {} · {}",
        run.status.label(),
        run.trigger.label(),
        run.requested_by,
        run.started_at.map(format_timestamp).unwrap_or_else(|| "not started yet".into())
    );

    view! {
        <section id="run-detail" class="card run-detail" aria-labelledby="run-detail-heading" data-run-id=id data-status=run.status.as_str()>
            <h2 id="run-detail-heading">{format!("Run {id}")}</h2>
            <p>{summary}{run.dry_run.then_some(" · dry run: nothing was written")}</p>
            {run.message.clone().map(|m| view! { <p class="notice notice-warn">{m}</p> })}
            <h3>"Objects"</h3>
            <ul class="object-reports">
                {run.objects.iter().cloned().map(|o| view! {
                    <li data-object=o.object.as_str() data-status=o.status.as_str()>
                        <strong>{o.object.label()}</strong>": "{object_status_label(o.status)}
                        {(o.status != ObjectStatus::Skipped).then(|| format!(", {}: {} read.", walk_label(o.walk), records_read(o.done, o.expected)))}
                        {o.message.map(|m| view! { <span class="object-message">" "{m}</span> })}
                    </li>
                }).collect_view()}
            </ul>
            {(!churn.is_empty()).then(|| {
                let intro = if waiting {
                    format!("{} customers are no longer in Intercom and wait for an admin's confirmation before they are churned:", churn.len())
                } else {
                    format!("{} customers no longer in Intercom would be churned:", churn.len())
                };
                view! {
                    <div class="churn-confirmation" data-testid="churn-confirmation">
                        <p>{intro}</p>
                        <ul>
                            {churn.into_iter().map(|c| view! { <li>{format!("{} ({})", c.name, c.external_id)}</li> }).collect_view()}
                        </ul>
                        {(waiting && can_edit).then(|| view! {
                            <button type="button" class="danger" disabled=move || confirm.pending().get()
                                on:click=move |_| { confirm.dispatch(()); }>
                                "Confirm churn"
                            </button>
                        })}
                        {(waiting && !can_edit).then(|| view! { <p class="hint">"Only an admin can confirm it."</p> })}
                        {move || confirm.value().get().and_then(Result::err).map(|e| view! {
                            <p class="field-error" role="alert">{e.to_string()}</p>
                        })}
                    </div>
                }
            })}
            {view! { <Failures failures /> }.into_any()}
            <p><a href=SYNC_PATH>"Close"</a></p>
        </section>
    }
}

#[component]
fn Failures(failures: Vec<SyncFailure>) -> impl IntoView {
    if failures.is_empty() {
        return view! { <h3>"Failed records"</h3><p class="hint" data-testid="no-failures">"No failed records."</p> }
            .into_any();
    }
    view! {
        <h3>"Failed records"</h3>
        <table class="records failures" data-testid="run-failures">
            <thead>
                <tr>
                    <th scope="col">"Object"</th>
                    <th scope="col">"Intercom id"</th>
                    <th scope="col">"What went wrong"</th>
                    <th scope="col">"Intercom request id"</th>
                </tr>
            </thead>
            <tbody>
                {failures.into_iter().map(|f| view! {
                    <tr>
                        <td data-label="Object">{f.object.label()}</td>
                        <td data-label="Intercom id"><code>{f.intercom_id}</code></td>
                        <td data-label="What went wrong">{f.message}</td>
                        <td data-label="Intercom request id">{f.request_id.map(|r| view! { <code>{r}</code> }.into_any()).unwrap_or_else(|| "—".into_any())}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
