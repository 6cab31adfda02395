//! Integrations → Intercom → Sync runs: start a run, follow it, and read what past runs
//! did. Everyone signed in reads; only admins start runs and confirm a held-back churn.

use std::time::Duration;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::{load, CurrentUser, ErrorNotice};
use crate::domain::{
    format_timestamp, ObjectStatus, RunDetail, RunRequest, ScheduleState, SyncObject, SyncRun, WalkKind,
};
use crate::error::AppError;
use crate::server_fns::{get_sync_run, get_sync_runs, get_sync_schedule, start_sync, StartedRun};

use super::sync_chart::RunChart;
use super::sync_history::{RunDetailCard, RunHistory};

pub const SYNC_PATH: &str = "/integrations/intercom/sync";
const HISTORY_LIMIT: u32 = 50;
const POLL_EVERY: Duration = Duration::from_secs(1);
/// How often the page looks for a run started elsewhere while it follows none.
const WATCH_EVERY: Duration = Duration::from_secs(3);

#[component]
pub fn SyncPage() -> impl IntoView {
    let user = expect_context::<CurrentUser>().0;
    let runs = load(|| (), |_| get_sync_runs(HISTORY_LIMIT));
    let schedule = load(|| (), |_| get_sync_schedule());
    let query = use_query_map();
    // A link, not a click handler, opens a run's detail: it works without JavaScript too.
    let selected = Memo::new(move |_| query.read().get("run").and_then(|r| r.parse::<i64>().ok()));

    view! {
        <Title text="Sync runs" />
        <p class="breadcrumb">"Integrations → Intercom"</p>
        <div class="page-title">
            <h1>"Sync runs"</h1>
            <a href="/integrations/intercom">"Intercom settings"</a>
        </div>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match schedule.await {
                    Ok(state) => view! { <ScheduleNote state /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let can_edit = matches!(user.await, Ok(Some(u)) if u.role.can_edit_settings());
                match runs.await {
                    Ok(runs) => view! { <SyncBoard runs can_edit selected /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// When runs start by themselves, or why they will not.
#[component]
fn ScheduleNote(state: ScheduleState) -> impl IntoView {
    let text = match state {
        ScheduleState::Off => "No schedule: runs start with Sync now or `server sync`. ".to_string(),
        ScheduleState::On { label, next_at } => {
            format!("Scheduled: {label}. The next run starts at {}. ", format_timestamp(next_at))
        }
        ScheduleState::Paused { label, reason } => format!("Scheduled {label}, but paused: {reason} "),
    };
    view! {
        <p class="schedule-note" data-testid="schedule">
            {text}
            <a href="/integrations/intercom">"Change the schedule"</a>
        </p>
    }
}

/// The page once the history is read. It keeps the history in a signal rather than a
/// resource, so that refreshing it neither blanks the page nor resets the form.
#[component]
fn SyncBoard(runs: Vec<SyncRun>, can_edit: bool, selected: Memo<Option<i64>>) -> impl IntoView {
    let live = RwSignal::new(runs.first().filter(|r| r.status.is_active()).cloned());
    let runs = RwSignal::new(runs);
    let detail = load(
        move || selected.get(),
        |id| async move {
            match id {
                Some(id) => get_sync_run(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let reload = Action::new(|_: &()| get_sync_runs(HISTORY_LIMIT));
    Effect::new(move |_| {
        if let Some(Ok(list)) = reload.value().get() {
            // The worker records a run's last calls just after ending it: the history,
            // read after the end, has them when the last poll did not.
            live.update(|followed| {
                if let Some(run) = followed.as_mut() {
                    if let Some(fresh) = list.iter().find(|r| r.id == run.id) {
                        *run = fresh.clone();
                    }
                }
            });
            runs.set(list);
            if selected.get_untracked().is_some() {
                detail.refetch();
            }
        }
    });
    let refresh = Callback::new(move |_| {
        reload.dispatch(());
    });
    let on_started = Callback::new(move |run: SyncRun| {
        runs.update(|list| {
            if !list.iter().any(|r| r.id == run.id) {
                list.insert(0, run.clone());
            }
        });
        live.set(Some(run));
    });
    let poll_error = follow_live_run(live, refresh);
    watch_for_runs(live, runs, on_started, refresh);

    view! {
        {if can_edit {
            view! { <SyncNowForm on_started /> }.into_any()
        } else {
            view! {
                <p class="notice notice-info" data-testid="read-only">
                    "You can follow the runs here; only admins can start one."
                </p>
            }.into_any()
        }}
        {move || live.get().map(|run| view! { <LiveProgress run error=poll_error /> })}
        {view! {
            <section class="card" aria-labelledby="chart-heading">
                <h2 id="chart-heading">"Runs over time"</h2>
                <RunChart runs=runs.into() />
            </section>
        }.into_any()}
        {view! {
            <section class="card" aria-labelledby="history-heading">
                <h2 id="history-heading">"History"</h2>
                <RunHistory runs=runs.into() selected />
            </section>
        }.into_any()}
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(Some(detail)) => view! {
                        <RunDetailCard detail can_edit on_change=refresh />
                    }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Polls the followed run every second while it is queued or running, in the browser
/// only (effects do not run on the server), and calls `on_end` once it ends.
fn follow_live_run(live: RwSignal<Option<SyncRun>>, on_end: Callback<()>) -> Signal<Option<AppError>> {
    let poll = Action::new(|id: &i64| get_sync_run(*id));
    let error = RwSignal::new(None::<AppError>);
    Effect::new(move |_| match poll.value().get() {
        Some(Ok(RunDetail { run, .. })) => {
            let ended = !run.status.is_active();
            error.set(None);
            live.set(Some(run));
            if ended {
                on_end.run(());
            }
        }
        Some(Err(e)) => error.set(Some(e)),
        None => {}
    });
    let following = Memo::new(move |_| live.with(|run| run.as_ref().filter(|r| r.status.is_active()).map(|r| r.id)));
    Effect::new(move |_| {
        let Some(id) = following.get() else { return };
        let tick = move || {
            // A slow answer is not asked for again before it arrives.
            if !poll.pending().get_untracked() {
                poll.dispatch(id);
            }
        };
        if let Ok(handle) = set_interval_with_handle(tick, POLL_EVERY) {
            on_cleanup(move || handle.clear());
        }
    });
    error.into()
}

/// Looks for runs started elsewhere (the schedule, `server sync`, another admin) while no
/// run is followed, in the browser only: an active one is followed as if started here,
/// and one that began and ended between two looks reads the history again.
fn watch_for_runs(
    live: RwSignal<Option<SyncRun>>,
    runs: RwSignal<Vec<SyncRun>>,
    on_found: Callback<SyncRun>,
    on_missed: Callback<()>,
) {
    let look = Action::new(|_: &()| get_sync_runs(1));
    let idle = Memo::new(move |_| live.with(|run| run.as_ref().is_none_or(|r| !r.status.is_active())));
    Effect::new(move |_| {
        // A failed look is left to the next one; a look answered after a run started here
        // would only bring an older state back.
        let Some(Ok(newest)) = look.value().get() else { return };
        let Some(run) = newest.into_iter().next().filter(|_| idle.get_untracked()) else { return };
        if run.status.is_active() {
            on_found.run(run);
        } else if !runs.with_untracked(|list| list.iter().any(|r| r.id == run.id && r.status == run.status)) {
            on_missed.run(());
        }
    });
    Effect::new(move |_| {
        if !idle.get() {
            return;
        }
        let tick = move || {
            if !look.pending().get_untracked() {
                look.dispatch(());
            }
        };
        if let Ok(handle) = set_interval_with_handle(tick, WATCH_EVERY) {
            on_cleanup(move || handle.clear());
        }
    });
}

/// Seconds since the Unix epoch, by the clock of wherever this runs.
pub(super) fn now() -> i64 {
    #[cfg(target_arch = "wasm32")]
    {
        (web_sys::js_sys::Date::now() / 1000.0) as i64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default()
    }
}

/// "12 s", "3 min 05 s", "2 h 07 min": as precise as a run's length deserves.
pub fn format_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

pub(super) fn object_status_label(status: ObjectStatus) -> &'static str {
    match status {
        ObjectStatus::Pending => "Waiting",
        ObjectStatus::Running => "Running",
        ObjectStatus::Done => "Done",
        ObjectStatus::AwaitingConfirmation => "Waiting for confirmation",
        ObjectStatus::Failed => "Failed",
        ObjectStatus::Skipped => "Skipped (mode off)",
    }
}

pub(super) fn walk_label(walk: WalkKind) -> &'static str {
    match walk {
        WalkKind::Incremental => "changes since the last run",
        WalkKind::Full => "full reconciliation",
    }
}

/// "120 of 300 records" when Intercom said how many there are, "120 records" otherwise.
/// Intercom's totals can lag behind what a walk finds; the count read is never hidden.
pub(super) fn records_read(done: u64, expected: Option<u64>) -> String {
    match expected.map(|e| e.max(done)) {
        Some(expected) => format!("{done} of {expected} records"),
        None => format!("{done} records"),
    }
}

const OBJECT_CHOICES: [(&str, &str); 4] =
    [("all", "All"), ("customers", "Customers"), ("contacts", "Contacts"), ("interactions", "Interactions")];

/// *Sync now*: which objects, how far to read, and whether to write anything.
#[component]
fn SyncNowForm(on_started: Callback<SyncRun>) -> impl IntoView {
    let objects = RwSignal::new("all".to_string());
    let full = RwSignal::new(false);
    let dry_run = RwSignal::new(false);
    let start = Action::new(|request: &RunRequest| start_sync(request.clone()));
    Effect::new(move |_| {
        if let Some(Ok(StartedRun { run, .. })) = start.value().get() {
            on_started.run(run);
        }
    });
    let request = move || RunRequest {
        objects: SyncObject::parse(&objects.get_untracked()).into_iter().collect(),
        walk: full.get_untracked().then_some(WalkKind::Full),
        dry_run: dry_run.get_untracked(),
    };

    view! {
        <form id="sync-now" class="card sync-now" aria-labelledby="sync-now-heading" on:submit=move |ev| {
            ev.prevent_default();
            start.dispatch(request());
        }>
            <h2 id="sync-now-heading">"Sync now"</h2>
            <div class="sync-now-controls">
                <div class="field">
                    <label for="sync-objects">"Objects"</label>
                    <select id="sync-objects" on:change=move |ev| objects.set(event_target_value(&ev))>
                        {OBJECT_CHOICES.into_iter().map(|(value, label)| view! {
                            <option value=value selected=move || objects.get() == value prop:selected=move || objects.get() == value>{label}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field checkbox">
                    <input id="sync-full" type="checkbox" prop:checked=move || full.get()
                        on:change=move |ev| full.set(event_target_checked(&ev)) />
                    <label for="sync-full">"Full reconciliation"</label>
                </div>
                <div class="field checkbox">
                    <input id="sync-dry-run" type="checkbox" prop:checked=move || dry_run.get()
                        on:change=move |ev| dry_run.set(event_target_checked(&ev)) />
                    <label for="sync-dry-run">"Dry run (write nothing)"</label>
                </div>
                <button type="submit" disabled=move || start.pending().get()>"Sync now"</button>
            </div>
            <p class="hint">
                "Without full reconciliation, a run reads only what changed since the last one (and everything once a day)."
            </p>
            {move || start.value().get().map(|answer| match answer {
                Ok(StartedRun { run, already_running: true }) => view! {
                    <p class="notice notice-info" role="status" data-testid="sync-notice">
                        {format!("A run is already going (run {}); it is followed below. Start another once it ends.", run.id)}
                    </p>
                }.into_any(),
                Ok(StartedRun { run, already_running: false }) => view! {
                    <p class="notice notice-info" role="status" data-testid="sync-notice">
                        {format!("Run {} is queued; it starts within a few seconds.", run.id)}
                    </p>
                }.into_any(),
                Err(e) => view! { <p class="notice notice-error" role="alert" data-testid="sync-error">{e.to_string()}</p> }.into_any(),
            })}
        </form>
    }
}

/// Where the followed run stands, refreshed by the poll; its last state stays shown
/// once it has ended, so that the outcome is not missed.
#[component]
fn LiveProgress(run: SyncRun, error: Signal<Option<AppError>>) -> impl IntoView {
    let active = run.status.is_active();
    let done = run.done();
    let expected = run.expected();
    let heading = if active {
        format!("Run {}: {}", run.id, run.status.label())
    } else {
        format!("Run {} ended: {}", run.id, run.status.label())
    };
    let elapsed = run.duration(now()).map(format_duration).unwrap_or_else(|| "not started yet".into());
    let progress = match expected {
        Some(max) => {
            view! { <progress max=max.max(1) value=done.min(max)>{format!("{done} / {max}")}</progress> }.into_any()
        }
        None if active => view! { <progress>"in progress"</progress> }.into_any(),
        None => ().into_any(),
    };
    view! {
        <section id="sync-progress" class="card sync-progress" aria-labelledby="sync-progress-heading" aria-live="polite"
            data-run-id=run.id data-status=run.status.as_str()>
            <h2 id="sync-progress-heading">{heading}</h2>
            {run.dry_run.then(|| view! { <p class="badge">"Dry run: nothing is written"</p> })}
            {progress}
            <dl class="facts">
                <dt>"Records read"</dt><dd data-testid="progress-records">{records_read(done, expected)}</dd>
                <dt>"Time"</dt><dd>{elapsed}</dd>
                <dt>"Intercom calls"</dt><dd data-testid="progress-calls">{run.calls}</dd>
                <dt>"Retries"</dt><dd>{run.retries}</dd>
                <dt>"Waits for the rate limit"</dt><dd>{run.rate_limit_waits}</dd>
            </dl>
            <ul class="object-progress">
                {run.objects.into_iter().map(|o| view! {
                    <li data-object=o.object.as_str() data-status=o.status.as_str()>
                        <strong>{o.object.label()}</strong>": "{object_status_label(o.status)}
                        {(o.status != ObjectStatus::Skipped).then(|| format!(" · {}", records_read(o.done, o.expected)))}
                        {o.message.map(|m| view! { <span class="hint">" "{m}</span> })}
                    </li>
                }).collect_view()}
            </ul>
            {run.message.map(|m| view! { <p class="notice notice-warn">{m}</p> })}
            {move || error.get().map(|e| view! {
                <p class="field-error" role="alert">{format!("The progress cannot be read right now: {e}")}</p>
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_precisely_as_they_deserve() {
        let cases = [
            (-3, "0 s"),
            (0, "0 s"),
            (59, "59 s"),
            (60, "1 min 00 s"),
            (185, "3 min 05 s"),
            (3_600, "1 h 00 min"),
            (7_625, "2 h 07 min"),
        ];
        for (seconds, text) in cases {
            assert_eq!(format_duration(seconds), text, "{seconds} s");
        }
    }

    #[test]
    fn records_read_name_the_total_only_when_intercom_gave_one() {
        assert_eq!(records_read(120, Some(300)), "120 of 300 records");
        assert_eq!(records_read(7, None), "7 records");
        assert_eq!(records_read(20, Some(0)), "20 of 20 records");
    }

    #[test]
    fn the_object_choice_all_asks_for_every_object() {
        let objects: Vec<Vec<SyncObject>> =
            OBJECT_CHOICES.iter().map(|(value, _)| SyncObject::parse(value).into_iter().collect()).collect();
        assert_eq!(
            objects,
            [vec![], vec![SyncObject::Customers], vec![SyncObject::Contacts], vec![SyncObject::Interactions]]
        );
    }
}
