//! The cards around the settings form: where the dropdowns' fields stand, the churn
//! preview, export and import, and the change history.

use leptos::prelude::*;

use crate::domain::{format_timestamp, percent_encode, ChurnPreview, SettingsChange};
use crate::server_fns::{export_integration_settings, preview_churn};

use super::controls::LiveFields;

#[component]
pub fn FieldsBar(fields: LiveFields, refresh: Callback<()>, refreshing: Signal<bool>) -> impl IntoView {
    view! {
        <div class="fields-bar">
            {move || fields.with(|f| match f {
                Ok(f) => view! {
                    <p data-testid="fields-status">{format!(
                        "Fields from Intercom: {} company, {} contact, {} tags (as of {}).",
                        f.company.iter().filter(|x| !x.archived).count(),
                        f.contact.iter().filter(|x| !x.archived).count(),
                        f.tags.len(),
                        format_timestamp(f.fetched_at)
                    )}</p>
                }.into_any(),
                Err(e) => view! {
                    <p class="notice notice-error" role="alert" data-testid="fields-status">
                        {format!("The dropdowns cannot be filled: {e} The saved values are kept.")}
                    </p>
                }.into_any(),
            })}
            <button type="button" class="secondary" disabled=move || refreshing.get() on:click=move |_| refresh.run(())>
                {move || if refreshing.get() { "Refreshing…" } else { "Refresh fields" }}
            </button>
        </div>
    }
}

#[component]
pub fn ChurnPreviewPanel(threshold: Signal<u8>) -> impl IntoView {
    let preview = Action::new(move |max: &u8| preview_churn(*max));
    view! {
        <div class="churn-preview">
            <button type="button" class="secondary" disabled=move || preview.pending().get()
                on:click=move |_| { preview.dispatch(threshold.get_untracked()); }>
                "Preview churn"
            </button>
            {move || preview.value().get().map(|result| match result {
                Ok(preview) => view! { <ChurnList preview /> }.into_any(),
                Err(e) => view! { <p class="field-error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </div>
    }
}

#[component]
fn ChurnList(preview: ChurnPreview) -> impl IntoView {
    let summary = format!(
        "{} of {} customers ({:.1} %) are no longer in Intercom and would become churners.",
        preview.candidates.len(),
        preview.total_customers,
        preview.percent()
    );
    let warning = preview.needs_confirmation().then(|| {
        format!(
            "That is more than {} %: the run will wait for an admin's confirmation before churning anyone.",
            preview.max_percent
        )
    });
    view! {
        <div data-testid="churn-preview">
            <p>{summary}</p>
            {warning.map(|w| view! { <p class="notice notice-warn">{w}</p> })}
            <ul>
                {preview.candidates.into_iter().map(|c| view! { <li>{format!("{} ({})", c.name, c.external_id)}</li> }).collect_view()}
            </ul>
        </div>
    }
}

#[component]
pub fn TransferCard(can_edit: bool, on_import: Callback<String>) -> impl IntoView {
    let export = Action::new(move |_: &()| export_integration_settings());
    let to_import = RwSignal::new(String::new());
    view! {
        <section class="card" aria-labelledby="transfer-json-heading">
            <h2 id="transfer-json-heading">"Export and import"</h2>
            <p class="hint">"Copy this set-up to another Skalin environment. Imports are checked like Save."</p>
            <button type="button" class="secondary" on:click=move |_| { export.dispatch(()); }>"Export settings"</button>
            {move || export.value().get().map(|result| match result {
                Ok(json) => {
                    let href = format!("data:application/json;charset=utf-8,{}", percent_encode(&json));
                    view! {
                        <div class="field">
                            <label for="settings-export">"Exported settings (JSON)"</label>
                            <textarea id="settings-export" readonly rows="12" prop:value=json.clone()>{json.clone()}</textarea>
                            <a href=href download="skalin-intercom-settings.json">"Download the file"</a>
                        </div>
                    }.into_any()
                }
                Err(e) => view! { <p class="field-error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
            {can_edit.then(|| view! {
                <div class="field">
                    <label for="settings-import">"Settings to import (JSON)"</label>
                    <textarea id="settings-import" rows="8" prop:value=move || to_import.get()
                        on:input=move |ev| to_import.set(event_target_value(&ev))></textarea>
                </div>
                <button type="button" on:click=move |_| on_import.run(to_import.get_untracked())>"Import settings"</button>
            })}
        </section>
    }
}

#[component]
pub fn History(history: Signal<Vec<SettingsChange>>) -> impl IntoView {
    move || {
        let entries = history.get();
        if entries.is_empty() {
            return view! { <p class="hint">"No changes yet."</p> }.into_any();
        }
        view! {
            <ol class="history" data-testid="change-history">
                {entries.into_iter().map(|c| view! {
                    <li>
                        <span class="when">{format_timestamp(c.changed_at)}</span>" "
                        <span class="who">{c.changed_by}</span>": "
                        <span class="what">{c.summary.join("; ")}</span>
                    </li>
                }).collect_view()}
            </ol>
        }
        .into_any()
    }
}
