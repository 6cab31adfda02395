//! Integrations → Intercom: the connection, then every setting of the sync. Admins edit;
//! members see the same page with every control disabled (the server refuses them too).

mod cards;
mod connection;
mod controls;
mod editor;
mod realtime;
mod sync;
mod sync_chart;
mod sync_history;

pub use sync::{SyncPage, SYNC_PATH};

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{load, CurrentUser, ErrorNotice, Loaded};
use crate::domain::{IntercomFields, SettingsSnapshot};
use crate::error::AppError;
use crate::server_fns::{get_integration_settings, get_intercom_connection, get_intercom_fields, get_realtime_state};

use connection::ConnectionCard;
use editor::SettingsEditor;
use realtime::RealtimeCard;

#[component]
pub fn IntercomPage() -> impl IntoView {
    let connection = load(|| (), |_| get_intercom_connection());
    // Created with the page, not inside the suspended view that shows them: resources
    // made while a view resolves are numbered in the order things resolve, which the
    // server and the hydrating browser need not share (the page would then not hydrate).
    let snapshot = load(|| (), |_| get_integration_settings());
    let realtime = load(|| (), |_| get_realtime_state());
    // Asked only once connected: without a connection the call fails, and its failure
    // would become the status of the whole page.
    let fields = load(
        || (),
        |_| async move {
            match get_intercom_connection().await? {
                Some(_) => get_intercom_fields().await,
                None => Err(AppError::NotFound("Intercom is not connected.".into())),
            }
        },
    );
    let user = expect_context::<CurrentUser>().0;
    // A new connection brings its own settings and fields.
    let reload = move || {
        connection.refetch();
        snapshot.refetch();
        fields.refetch();
        realtime.refetch();
    };
    let on_change = Callback::new(move |_| reload());
    // Installed once per page, not per render of the connection card, which re-renders
    // on every refetch: the popup's callback page says when Intercom is connected.
    let _ = window_event_listener(leptos::ev::message, move |ev| {
        let same_origin = ev.origin() == window().location().origin().unwrap_or_default();
        if same_origin && ev.data().as_string().as_deref() == Some(connection::CONNECTED_MESSAGE) {
            reload();
        }
    });

    view! {
        <Title text="Intercom" />
        <p class="breadcrumb">"Integrations"</p>
        <div class="page-title">
            <h1>"Intercom"</h1>
            <a href=SYNC_PATH>"Sync runs"</a>
        </div>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let can_edit = matches!(user.await, Ok(Some(u)) if u.role.can_edit_settings());
                match connection.await {
                    Ok(connection) => {
                        let connected = connection.is_some();
                        view! {
                            {(!can_edit).then(|| view! {
                                <p class="notice notice-info" data-testid="read-only">
                                    "You can see these settings; only admins can change them."
                                </p>
                            })}
                            <ConnectionCard connection can_edit on_change />
                            {if connected {
                                view! { <Settings can_edit snapshot fields /> <RealtimeCard state=realtime /> }.into_any()
                            } else {
                                view! {
                                    <p class="empty-state">"Connect Intercom to choose what is synchronized."</p>
                                }.into_any()
                            }}
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Loads the saved settings and the live Intercom fields together, so the dropdowns
/// render with their options in the first HTML.
#[component]
fn Settings(
    can_edit: bool,
    snapshot: Loaded<Result<SettingsSnapshot, AppError>>,
    fields: Loaded<Result<IntercomFields, AppError>>,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the settings…"</p> }>
            {move || Suspend::new(async move {
                let fields = fields.await;
                match snapshot.await {
                    Ok(snapshot) => view! { <SettingsEditor snapshot fields can_edit /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
