use leptos::prelude::*;

use crate::components::FieldMessage;
use crate::domain::{format_timestamp, IntercomConnection, Zone};
use crate::error::AppError;
use crate::server_fns::{change_intercom_zone, connect_intercom_with_token, disconnect_intercom};

const CONNECT_PATH: &str = "/integrations/intercom/connect";
/// What the OAuth callback page posts to the window that opened it.
pub const CONNECTED_MESSAGE: &str = "skalin:intercom-connected";
const ZONES: [Zone; 3] = [Zone::Us, Zone::Eu, Zone::Au];

#[component]
pub fn ConnectionCard(
    connection: Option<IntercomConnection>,
    can_edit: bool,
    on_change: Callback<()>,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="connection-heading">
            <h2 id="connection-heading">"Connection"</h2>
            {match connection {
                None => view! { <NotConnected can_edit on_change /> }.into_any(),
                Some(connection) => view! { <Connected connection can_edit on_change /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn NotConnected(can_edit: bool, on_change: Callback<()>) -> impl IntoView {
    let zone = RwSignal::new(Zone::Us);
    let token = RwSignal::new(String::new());
    let connect = Action::new(move |(token, zone): &(String, Zone)| connect_intercom_with_token(token.clone(), *zone));
    Effect::new(move |_| {
        if let Some(Ok(_)) = connect.value().get() {
            on_change.run(());
        }
    });
    let error = move || connect.value().get().and_then(Result::err);

    view! {
        <p class="status status-off" data-testid="connection-status">"Not connected"</p>
        {can_edit.then(|| view! {
            <ConnectForm zone_picker=true zone button="Connect me" />
            <div class="token-connect">
                <h3>"Private app? Paste its access token"</h3>
                <div class="field">
                    <label for="intercom-token">"Access token"</label>
                    <input id="intercom-token" type="password" autocomplete="off"
                        prop:value=move || token.get()
                        on:input=move |ev| token.set(event_target_value(&ev)) />
                    <FieldMessage error=Signal::derive(error) key="access_token" />
                </div>
                <button type="button" disabled=move || connect.pending().get()
                    on:click=move |_| { connect.dispatch((token.get_untracked(), zone.get_untracked())); }>
                    "Connect with token"
                </button>
                {move || error().filter(|e| e.message_for("access_token").is_none()).map(|e| view! {
                    <p class="field-error" role="alert">{e.to_string()}</p>
                })}
            </div>
        })}
    }
}

/// A plain GET form to the server's OAuth start: with JavaScript it opens Intercom's
/// consent page in a popup (or goes there when popups are blocked); without, it just goes.
#[component]
fn ConnectForm(zone_picker: bool, zone: RwSignal<Zone>, button: &'static str) -> impl IntoView {
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let url = format!("{CONNECT_PATH}?zone={}", zone.get_untracked().as_str());
        let window = window();
        match window.open_with_url_and_target_and_features(&url, "skalin-intercom-oauth", "popup,width=640,height=760")
        {
            Ok(Some(_)) => {}
            _ => {
                let _ = window.location().assign(&url);
            }
        }
    };
    view! {
        <form class="connect-form" method="get" action=CONNECT_PATH on:submit=on_submit>
            {if zone_picker {
                view! { <ZoneSelect id="intercom-zone" name="zone" zone /> }.into_any()
            } else {
                view! { <input type="hidden" name="zone" value=move || zone.get().as_str() /> }.into_any()
            }}
            <button type="submit">{button}</button>
        </form>
    }
}

#[component]
fn ZoneSelect(
    id: &'static str,
    #[prop(optional)] name: Option<&'static str>,
    zone: RwSignal<Zone>,
    #[prop(optional)] disabled: bool,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>"Zone"</label>
            <select id=id name=name disabled=disabled
                on:change=move |ev| if let Some(z) = Zone::parse(&event_target_value(&ev)) { zone.set(z) }>
                {ZONES.into_iter().map(|z| view! {
                    <option value=z.as_str() selected=move || zone.get() == z prop:selected=move || zone.get() == z>
                        {z.label()}
                    </option>
                }).collect_view()}
            </select>
        </div>
    }
}

#[component]
fn Connected(connection: IntercomConnection, can_edit: bool, on_change: Callback<()>) -> impl IntoView {
    let IntercomConnection {
        zone: saved_zone,
        workspace_name,
        app_id,
        connected_by,
        connected_at,
        needs_reconnect,
        detected_zone,
    } = connection;
    let zone = RwSignal::new(saved_zone);
    let disconnect = Action::new(move |_: &()| disconnect_intercom());
    let change_zone = Action::new(move |zone: &Zone| change_intercom_zone(*zone));
    Effect::new(move |_| {
        if matches!(disconnect.value().get(), Some(Ok(_))) || matches!(change_zone.value().get(), Some(Ok(_))) {
            on_change.run(());
        }
    });
    let failure = move || -> Option<AppError> {
        disconnect.value().get().and_then(Result::err).or_else(|| change_zone.value().get().and_then(Result::err))
    };
    let status = if needs_reconnect { "Reconnect needed" } else { "Connected" };
    let workspace = workspace_name.unwrap_or_else(|| "Intercom workspace".to_string());
    let mismatch = detected_zone.filter(|d| *d != saved_zone);

    view! {
        <p class="status" class:status-warn=needs_reconnect data-testid="connection-status">{status}</p>
        <dl class="facts" data-testid="connection-details">
            <dt>"Workspace"</dt><dd data-testid="workspace-name">{workspace}</dd>
            <dt>"App id"</dt><dd data-testid="workspace-app-id">{app_id.unwrap_or_default()}</dd>
            <dt>"Connected by"</dt><dd>{connected_by.unwrap_or_else(|| "unknown".into())}</dd>
            <dt>"Connected on"</dt><dd>{format_timestamp(connected_at)}</dd>
            <dt>"Zone"</dt><dd data-testid="saved-zone">{saved_zone.label()}</dd>
        </dl>
        {needs_reconnect.then(|| view! {
            <p class="notice notice-error" role="alert">
                "Intercom refused the saved access token (it was revoked, or the app uninstalled). Reconnect to resume the sync."
            </p>
        })}
        {mismatch.map(|detected| view! {
            <p class="notice notice-warn" role="alert" data-testid="zone-warning">
                {format!(
                    "Intercom says this workspace is hosted in {}, but calls go to the {} host. Choose {} unless you know better.",
                    detected.label(), saved_zone.label(), detected.label()
                )}
            </p>
        })}
        {can_edit.then(|| view! {
            <div class="actions">
                {needs_reconnect.then(|| view! { <ConnectForm zone_picker=false zone button="Reconnect" /> })}
                <div class="inline-field">
                    <ZoneSelect id="intercom-zone" zone />
                    <button type="button" disabled=move || zone.get() == saved_zone || change_zone.pending().get()
                        on:click=move |_| { change_zone.dispatch(zone.get_untracked()); }>
                        "Change zone"
                    </button>
                </div>
                <button type="button" class="danger" disabled=move || disconnect.pending().get()
                    on:click=move |_| {
                        let sure = window().confirm_with_message("Disconnect Intercom? The sync stops until someone connects again.").unwrap_or(true);
                        if sure { disconnect.dispatch(()); }
                    }>
                    "Disconnect"
                </button>
            </div>
        })}
        {move || failure().map(|error| view! { <p class="field-error" role="alert">{error.to_string()}</p> })}
    }
}
