use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::ErrorNotice;
use crate::domain::{format_timestamp, IntercomConnection};
use crate::server_fns::get_intercom_connection;

/// Integrations → Intercom: the settings page. For now, the connection status.
#[component]
pub fn IntercomPage() -> impl IntoView {
    let connection = Resource::new(|| (), |_| get_intercom_connection());
    view! {
        <Title text="Intercom" />
        <p class="breadcrumb">"Integrations"</p>
        <h1>"Intercom"</h1>
        <section class="card" aria-labelledby="connection-heading">
            <h2 id="connection-heading">"Connection"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match connection.await {
                        Ok(connection) => view! { <ConnectionStatus connection /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn ConnectionStatus(connection: Option<IntercomConnection>) -> impl IntoView {
    match connection {
        None => view! {
            <p class="status status-off" data-testid="connection-status">"Not connected"</p>
        }.into_any(),
        Some(c) => {
            let status = if c.needs_reconnect { "Reconnect needed" } else { "Connected" };
            let workspace = c.workspace_name.unwrap_or_else(|| "Intercom workspace".to_string());
            let app_id = c.app_id.map(|id| format!(" (app id {id})")).unwrap_or_default();
            let by = c.connected_by.map(|who| format!(" by {who}")).unwrap_or_default();
            view! {
                <p class="status" class:status-warn=c.needs_reconnect data-testid="connection-status">{status}</p>
                <p>{format!("{workspace}{app_id}, zone {}, connected{by} on {}.", c.zone.label(), format_timestamp(c.connected_at))}</p>
            }.into_any()
        }
    }
}
