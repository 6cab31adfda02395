//! The settings form: modes, churn, mappings, tickets, data transfer and schedule, edited
//! as one draft and saved (or imported) whole.

use leptos::prelude::*;

use crate::components::FieldMessage;
use crate::domain::{
    FieldModel, ImportWindow, IntegrationSettings, IntercomFields, Mapping, SettingsSnapshot, SyncObject,
    CSM_PULSE_ATTRIBUTE, CUSTOM_ATTRIBUTE_LIMIT, HEALTHSCORE_ATTRIBUTE,
};
use crate::error::AppError;
use crate::server_fns::{get_intercom_fields, import_integration_settings, save_integration_settings};

use super::cards::{ChurnPreviewPanel, FieldsBar, History, TransferCard};
use super::controls::{FieldSelect, LiveFields, ModeSelect, RoleSelect, ScheduleSelect};
use super::sync::SYNC_PATH;

type Draft = RwSignal<IntegrationSettings>;

/// A value of the draft as a signal, and the callback that changes it.
fn bind<T>(
    draft: Draft,
    get: impl Fn(&IntegrationSettings) -> T + Send + Sync + 'static,
    put: impl Fn(&mut IntegrationSettings, T) + Send + Sync + 'static,
) -> (Signal<T>, Callback<T>)
where
    T: Clone + Send + Sync + 'static,
{
    (Signal::derive(move || draft.with(|s| get(s))), Callback::new(move |value| draft.update(|s| put(s, value))))
}

#[component]
pub fn SettingsEditor(
    snapshot: SettingsSnapshot,
    fields: Result<IntercomFields, AppError>,
    can_edit: bool,
) -> impl IntoView {
    let SettingsSnapshot { settings, saved_at, history, .. } = snapshot;
    let baseline = RwSignal::new(settings.clone());
    let draft: Draft = RwSignal::new(settings);
    let history = RwSignal::new(history);
    let first_setup = RwSignal::new(saved_at.is_none());
    let fields: LiveFields = RwSignal::new(fields);
    let error = RwSignal::new(None::<AppError>);
    let notice = RwSignal::new(None::<&'static str>);
    let dirty = Memo::new(move |_| draft.with(|d| baseline.with(|b| d != b)));
    let error_signal: Signal<Option<AppError>> = error.into();
    let disabled = !can_edit;

    let saved = move |result: Result<SettingsSnapshot, AppError>, message: &'static str| match result {
        Ok(snapshot) => {
            baseline.set(snapshot.settings.clone());
            draft.set(snapshot.settings);
            history.set(snapshot.history);
            first_setup.set(false);
            error.set(None);
            notice.set(Some(message));
        }
        Err(e) => {
            notice.set(None);
            error.set(Some(e));
        }
    };
    let save = Action::new(move |settings: &IntegrationSettings| save_integration_settings(settings.clone()));
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            saved(result, "Settings saved.");
        }
    });
    let import = Action::new(move |json: &String| import_integration_settings(json.clone()));
    Effect::new(move |_| {
        if let Some(result) = import.value().get() {
            saved(result, "Settings imported and saved.");
        }
    });
    let refresh = Action::new(move |_: &()| get_intercom_fields());
    Effect::new(move |_| {
        if let Some(result) = refresh.value().get() {
            fields.set(result);
        }
    });
    guard_unsaved_changes(dirty);

    let (customers_mode, set_customers_mode) = bind(draft, |s| s.customers.mode, |s, v| s.customers.mode = v);
    let (contacts_mode, set_contacts_mode) = bind(draft, |s| s.contacts.mode, |s, v| s.contacts.mode = v);
    let (tickets_mode, set_tickets_mode) = bind(draft, |s| s.interactions.mode, |s, v| s.interactions.mode = v);
    let (create, set_create) =
        bind(draft, |s| s.customers.create_in_intercom, |s, v| s.customers.create_in_intercom = v);
    let (create_contacts, set_create_contacts) =
        bind(draft, |s| s.contacts.create_in_intercom, |s, v| s.contacts.create_in_intercom = v);
    let (churn, set_churn) = bind(draft, |s| s.customers.churn_enabled, |s, v| s.customers.churn_enabled = v);
    let (threshold, set_threshold) =
        bind(draft, |s| s.customers.churn_max_percent, |s, v| s.customers.churn_max_percent = v);
    let (upload, set_upload) = bind(draft, |s| s.data_transfer.upload_scores, |s, v| s.data_transfer.upload_scores = v);
    let (window_value, set_window) =
        bind(draft, |s| s.interactions.import_window, |s, v| s.interactions.import_window = v);
    let (schedule, set_schedule) = bind(draft, |s| s.schedule.every_minutes, |s, v| s.schedule.every_minutes = v);
    let suggested = Signal::derive(move || first_setup.get());

    // The dropdowns of one model's mappings, in the table's order: a field each, or for a
    // role a yes/no field or a tag.
    let mappings = move |model: FieldModel| {
        let select = move |mapping: Mapping| {
            if mapping.is_role() {
                let (value, set) = bind(draft, move |s| s.role(mapping).cloned(), move |s, v| s.set_role(mapping, v));
                view! { <RoleSelect mapping value set fields disabled error=error_signal /> }.into_any()
            } else {
                let get = move |s: &IntegrationSettings| s.field_of(mapping).map(str::to_string);
                let (value, set) = bind(draft, get, move |s, v| s.set_field(mapping, v));
                view! { <FieldSelect mapping value set fields disabled error=error_signal /> }.into_any()
            }
        };
        Mapping::ALL.into_iter().filter(|m| m.model() == model).map(select).collect_view()
    };

    view! {
        <form class="settings" on:submit=move |ev| {
            ev.prevent_default();
            if can_edit {
                notice.set(None);
                save.dispatch(draft.get_untracked());
            }
        }>
            {move || first_setup.get().then(|| view! {
                <p class="notice notice-info" data-testid="first-setup">
                    "Nothing is saved yet: this is the suggested first set-up (Input only everywhere). Review it, then Save."
                </p>
            })}
            <FieldsBar fields refresh=Callback::new(move |_| { refresh.dispatch(()); }) refreshing=refresh.pending().into() />

            {view! {
            <section class="card" aria-labelledby="accounts-heading">
                <h2 id="accounts-heading">"Account synchronization"</h2>
                <ModeSelect object=SyncObject::Customers key="customers.mode" label="Customers mode"
                    value=customers_mode set=set_customers_mode disabled suggested error=error_signal />
                <div class="field checkbox">
                    // A box left ticked under a mode that does not write stays enabled, so
                    // that it can be unticked rather than block Save.
                    <input id="customers-create-in-intercom" type="checkbox"
                        disabled=move || disabled || !(customers_mode.get().writes() || create.get())
                        checked=create.get_untracked() prop:checked=move || create.get()
                        on:change=move |ev| set_create.run(event_target_checked(&ev)) />
                    <label for="customers-create-in-intercom">"Create companies in Intercom for customers it does not have"</label>
                    <p class="hint">"Needs Output only or Two-ways, and the Customer ID mapped to company_id: each run creates the missing companies under it."</p>
                    <FieldMessage error=error_signal key="customers.create_in_intercom" />
                </div>
                <div class="field checkbox">
                    <input id="customers-churn" type="checkbox" disabled=disabled
                        checked=churn.get_untracked() prop:checked=move || churn.get()
                        on:change=move |ev| set_churn.run(event_target_checked(&ev)) />
                    <label for="customers-churn">"Make customers become churners if they are not found anymore"</label>
                    <FieldMessage error=error_signal key="customers.churn_enabled" />
                </div>
                <div class="field">
                    <label for="customers-churn-max-percent">"Churn threshold (%)"</label>
                    <input id="customers-churn-max-percent" type="number" min="1" max="100" disabled=disabled
                        value=threshold.get_untracked() prop:value=move || threshold.get().to_string()
                        on:input=move |ev| set_threshold.run(event_target_value(&ev).trim().parse::<u16>().map(|v| v.min(255) as u8).unwrap_or(0)) />
                    <p class="hint">"A run that would churn more than this share of customers waits for an admin's confirmation."</p>
                    <FieldMessage error=error_signal key="customers.churn_max_percent" />
                </div>
                // A preview reads every company in Intercom: admins only, as the server says.
                {can_edit.then(|| view! { <ChurnPreviewPanel threshold /> })}
                <h3>"Mappings"</h3>
                {mappings(FieldModel::Company)}
            </section>
            }.into_any()}

            {view! {
            <section class="card" aria-labelledby="contacts-heading">
                <h2 id="contacts-heading">"Contact synchronization"</h2>
                <ModeSelect object=SyncObject::Contacts key="contacts.mode" label="Contacts mode"
                    value=contacts_mode set=set_contacts_mode disabled suggested error=error_signal />
                <div class="field checkbox">
                    <input id="contacts-create-in-intercom" type="checkbox"
                        disabled=move || disabled || !(contacts_mode.get().writes() || create_contacts.get())
                        checked=create_contacts.get_untracked() prop:checked=move || create_contacts.get()
                        on:change=move |ev| set_create_contacts.run(event_target_checked(&ev)) />
                    <label for="contacts-create-in-intercom">"Create contacts in Intercom for contacts it does not have"</label>
                    <p class="hint">"Needs Output only or Two-ways, and the Contact ID mapped to external_id or email: each run creates the missing contacts as users under it, with their customer's company and role."</p>
                    <FieldMessage error=error_signal key="contacts.create_in_intercom" />
                </div>
                {mappings(FieldModel::Contact)}
            </section>
            }.into_any()}

            {view! {
            <section class="card" aria-labelledby="tickets-heading">
                <h2 id="tickets-heading">"Ticket synchronization"</h2>
                <ModeSelect object=SyncObject::Interactions key="interactions.mode" label="Interactions mode"
                    value=tickets_mode set=set_tickets_mode disabled suggested error=error_signal />
                <div class="field">
                    <label for="interactions-import-window">"Import tickets from"</label>
                    <select id="interactions-import-window" disabled=disabled
                        on:change=move |ev| if let Some(w) = ImportWindow::parse(&event_target_value(&ev)) { set_window.run(w) }>
                        {ImportWindow::ALL.into_iter().map(|w| view! {
                            <option value=w.as_str() selected=move || window_value.get() == w prop:selected=move || window_value.get() == w>
                                {w.label()}
                            </option>
                        }).collect_view()}
                    </select>
                </div>
            </section>
            }.into_any()}

            {view! {
            <section class="card" aria-labelledby="transfer-heading">
                <h2 id="transfer-heading">"Data transfer from Skalin to Intercom"</h2>
                <div class="field checkbox">
                    <input id="data-transfer-upload-scores" type="checkbox" disabled=disabled
                        checked=upload.get_untracked() prop:checked=move || upload.get()
                        on:change=move |ev| set_upload.run(event_target_checked(&ev)) />
                    <label for="data-transfer-upload-scores">"Upload Healthscore and CSM Pulse"</label>
                    <p class="hint">{format!(
                        "On Save, Skalin creates the company attributes \"{}\" ({}) and \"{}\" ({}) in Intercom, or reuses them.",
                        HEALTHSCORE_ATTRIBUTE.0, HEALTHSCORE_ATTRIBUTE.1.label(), CSM_PULSE_ATTRIBUTE.0, CSM_PULSE_ATTRIBUTE.1.label()
                    )}</p>
                    <FieldMessage error=error_signal key="data_transfer.upload_scores" />
                </div>
                <p data-testid="attribute-budget">{move || fields.with(|f| match f {
                    Ok(f) => format!("{} of {CUSTOM_ATTRIBUTE_LIMIT} custom attributes used in Intercom.", f.custom_attributes_used),
                    Err(_) => "Intercom's custom attribute budget is unknown while it cannot be reached.".to_string(),
                })}</p>
            </section>
            }.into_any()}

            {view! {
            <section class="card" aria-labelledby="schedule-heading">
                <h2 id="schedule-heading">"Scheduled sync"</h2>
                <ScheduleSelect value=schedule set=set_schedule disabled error=error_signal />
                <p><a href=SYNC_PATH>"Sync now, and the history of runs"</a></p>
            </section>
            }.into_any()}

            {view! {
            <div class="save-bar">
                {move || dirty.get().then(|| view! { <span class="dirty-flag" data-testid="unsaved-changes">"Unsaved changes"</span> })}
                {move || notice.get().map(|n| view! { <span class="saved-flag" role="status" data-testid="save-notice">{n}</span> })}
                {move || error.get().map(|e| view! { <p class="field-error" role="alert" data-testid="save-error">{e.to_string()}</p> })}
                {can_edit.then(|| view! {
                    <button type="button" class="secondary" disabled=move || !dirty.get()
                        on:click=move |_| { draft.set(baseline.get_untracked()); error.set(None); }>
                        "Discard changes"
                    </button>
                    <button type="submit" disabled=move || save.pending().get()>"Save"</button>
                })}
            </div>
            }.into_any()}
        </form>
        <TransferCard can_edit on_import=Callback::new(move |json: String| { notice.set(None); import.dispatch(json); }) />
        <section class="card" aria-labelledby="history-heading">
            <h2 id="history-heading">"Change history"</h2>
            <History history=history.into() />
        </section>
    }
}

/// Leaving with unsaved changes asks first: closing or reloading the tab (the browser's
/// own prompt) and following a link inside the app (a confirm).
fn guard_unsaved_changes(dirty: Memo<bool>) {
    let is_dirty = move || dirty.try_get_untracked().unwrap_or(false);
    let _ = window_event_listener(leptos::ev::beforeunload, move |ev| {
        if is_dirty() {
            ev.prevent_default();
            ev.set_return_value("You have unsaved changes.");
        }
    });
    // Effects only run in the browser: the listener is installed after hydration.
    Effect::new(move |installed: Option<()>| {
        if installed.is_some() {
            return;
        }
        use leptos::wasm_bindgen::closure::Closure;
        use leptos::wasm_bindgen::JsCast;
        let on_click = Closure::<dyn Fn(web_sys::MouseEvent)>::new(move |ev: web_sys::MouseEvent| {
            if !is_dirty() {
                return;
            }
            let link = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("a[href]").ok().flatten());
            if link.is_some_and(|a| a.get_attribute("download").is_none()) {
                let leave = window()
                    .confirm_with_message("You have unsaved changes. Leave this page without saving?")
                    .unwrap_or(true);
                if !leave {
                    ev.prevent_default();
                    ev.stop_propagation();
                }
            }
        });
        let _ = document().add_event_listener_with_callback_and_bool("click", on_click.as_ref().unchecked_ref(), true);
        // Kept for the page's lifetime; it does nothing once the form is gone.
        on_click.forget();
    });
}
