use std::future::Future;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{de::DeserializeOwned, Serialize};

use crate::components::{CurrentUser, ErrorNotice, FieldMessage, Pager};
use crate::domain::{
    format_timestamp, Contact, ContactEdit, Customer, CustomerEdit, FieldError, Interaction, Page, CONTACT_ROLES,
};
use crate::error::AppError;
use crate::server_fns::{list_contacts, list_customers, list_interactions, update_contact, update_customer};

#[component]
pub fn CustomersPage() -> impl IntoView {
    view! {
        <RecordList
            title="Customers"
            base="/customers"
            noun="customers"
            empty="No customers yet. They appear here once Intercom is connected and companies have been synchronized."
            headers=&["Name", "Customer ID", "Domain", "Stage", "CSM owner", "Healthscore", "CSM Pulse", "Updated"]
            load=list_customers
            cells=|c: &Customer| vec![
                c.name.clone(),
                c.external_id.clone(),
                or_dash(&c.domain),
                or_dash(&c.stage),
                or_dash(&c.csm_owner),
                c.health_score.map(|h| h.to_string()).unwrap_or_else(|| "—".to_string()),
                or_dash(&c.csm_pulse),
                format_timestamp(c.updated_at),
            ]
            row=customer_row
            controls_column="Edit"
        />
    }
}

#[component]
pub fn ContactsPage() -> impl IntoView {
    view! {
        <RecordList
            title="Contacts"
            base="/contacts"
            noun="contacts"
            empty="No contacts yet. They appear here once Intercom is connected and contacts have been synchronized."
            headers=&["Name", "Email", "Customer", ROLE, "Updated"]
            load=list_contacts
            cells=|c: &Contact| vec![
                c.name.clone(),
                or_dash(&c.email),
                or_dash(&c.customer_name),
                or_dash(&c.role_tag),
                format_timestamp(c.updated_at),
            ]
            row=contact_row
        />
    }
}

#[component]
pub fn InteractionsPage() -> impl IntoView {
    view! {
        <RecordList
            title="Interactions"
            base="/interactions"
            noun="interactions"
            empty="No interactions yet. Intercom tickets appear here once ticket synchronization is on."
            headers=&["Title", "State", "Customer", "Contact", "Created"]
            load=list_interactions
            cells=|i: &Interaction| vec![
                i.title.clone(),
                or_dash(&i.state),
                or_dash(&i.customer_name),
                or_dash(&i.contact_email),
                format_timestamp(i.created_at),
            ]
        />
    }
}

fn or_dash(value: &Option<String>) -> String {
    value.clone().filter(|v| !v.is_empty()).unwrap_or_else(|| "—".to_string())
}

/// What a page's own row drawing needs besides its record.
#[derive(Clone, Copy)]
struct RowContext {
    headers: &'static [&'static str],
    /// Every column, the controls' included: what a form under a row spans.
    columns: usize,
    /// Admins change records; members only read them (and the server refuses them).
    can_edit: bool,
    /// The record whose form is open, one at a time.
    open: RwSignal<Option<i64>>,
}

/// Draws one record's row (or rows) with its cells as text, adding what an admin may change.
type RowView<T> = fn(T, fn(&T) -> Vec<String>, RowContext) -> AnyView;

fn text_cells(headers: &'static [&'static str], values: Signal<Vec<String>>) -> impl IntoView {
    headers.iter().enumerate().map(|(i, label)| text_cell(label, values, i)).collect_view()
}

/// One column's text, redrawn when the row's record changes.
fn text_cell(label: &'static str, values: Signal<Vec<String>>, column: usize) -> impl IntoView {
    view! { <td data-label=label>{move || values.with(|v| v.get(column).cloned())}</td> }
}

/// The record a row shows, replaced by what the server answers to a save, and its cells.
fn saved_record<T: Send + Sync + 'static>(
    record: T,
    cells: fn(&T) -> Vec<String>,
) -> (RwSignal<T>, Signal<Vec<String>>) {
    let record = RwSignal::new(record);
    (record, Memo::new(move |_| record.with(cells)).into())
}

/// A titled, paged table of records read through a server function.
#[component]
fn RecordList<T, Fut>(
    title: &'static str,
    base: &'static str,
    noun: &'static str,
    empty: &'static str,
    headers: &'static [&'static str],
    load: fn(u32) -> Fut,
    cells: fn(&T) -> Vec<String>,
    /// The page's own rows; by default, the cells as text.
    #[prop(optional)]
    row: Option<RowView<T>>,
    /// A last column, for admins, holding each row's controls; named for screen readers.
    #[prop(optional)]
    controls_column: Option<&'static str>,
) -> impl IntoView
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: Future<Output = Result<Page<T>, AppError>> + Send + 'static,
{
    let user = expect_context::<CurrentUser>().0;
    let query = use_query_map();
    let page = Memo::new(move |_| query.read().get("page").and_then(|p| p.parse::<u32>().ok()).unwrap_or(1));
    let records = crate::components::load(move || page.get(), load);
    let open = RwSignal::new(None::<i64>);

    view! {
        <Title text=title />
        <h1>{title}</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let can_edit = matches!(user.await, Ok(Some(u)) if u.role.can_edit_settings());
                match records.await {
                    Ok(page) if page.items.is_empty() && page.page == 1 => view! {
                        <div class="empty-state" data-testid="empty-state">
                            <p>{empty}</p>
                            <a href="/integrations/intercom">"Go to Integrations → Intercom"</a>
                        </div>
                    }.into_any(),
                    Ok(page) => {
                        let controls = controls_column.filter(|_| can_edit);
                        let context = RowContext { headers, columns: headers.len() + usize::from(controls.is_some()), can_edit, open };
                        let rows = page.items.iter().map(|item| match row {
                            Some(row) => row(item.clone(), cells, context),
                            None => view! { <tr>{text_cells(headers, Signal::stored(cells(item)))}</tr> }.into_any(),
                        }).collect_view();
                        view! {
                            <table class="records">
                                <thead><tr>
                                    {headers.iter().map(|h| view! { <th scope="col">{*h}</th> }).collect_view()}
                                    {controls.map(|name| view! { <th scope="col"><span class="visually-hidden">{name}</span></th> })}
                                </tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                            <Pager page base noun />
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn customer_row(customer: Customer, cells: fn(&Customer) -> Vec<String>, row: RowContext) -> AnyView {
    let id = customer.id;
    let label = format!("Edit {}", customer.name);
    let (record, values) = saved_record(customer, cells);
    if !row.can_edit {
        return view! { <tr data-customer-id=id>{text_cells(row.headers, values)}</tr> }.into_any();
    }
    let is_open = move || row.open.get() == Some(id);
    let cells = text_cells(row.headers, values).into_any();
    let on_saved = Callback::new(move |saved: Customer| {
        record.set(saved);
        row.open.set(None);
    });
    let editor = move || {
        is_open().then(|| {
            view! {
                <tr class="row-editor" data-editor-for=id>
                    <td colspan=row.columns><CustomerForm customer=record.get_untracked() row on_saved /></td>
                </tr>
            }
            .into_any()
        })
    };
    view! {
        <tr data-customer-id=id class:editing=is_open>
            {cells}
            <td class="row-controls">
                <button type="button" class="secondary" aria-label=label aria-expanded=move || is_open().to_string()
                    on:click=move |_| row.open.update(|open| *open = if *open == Some(id) { None } else { Some(id) })>
                    "Edit"
                </button>
            </td>
        </tr>
        {editor}
    }
    .into_any()
}

fn not_a_whole_number() -> AppError {
    AppError::Rejected(vec![FieldError {
        key: "health_score".into(),
        message: "The Healthscore is a whole number from 0 to 100.".into(),
    }])
}

/// A customer's stage, CSM owner, CSM Pulse and Healthscore, saved together. The next run
/// that writes to Intercom carries the changes there.
#[component]
fn CustomerForm(customer: Customer, row: RowContext, on_saved: Callback<Customer>) -> impl IntoView {
    let id = customer.id;
    let stage = RwSignal::new(customer.stage.unwrap_or_default());
    let csm_owner = RwSignal::new(customer.csm_owner.unwrap_or_default());
    let csm_pulse = RwSignal::new(customer.csm_pulse.unwrap_or_default());
    let health_score = RwSignal::new(customer.health_score.map(|h| h.to_string()).unwrap_or_default());
    // A number input reads as empty while it holds what is not a number: without this,
    // a typo would clear the Healthscore.
    let unreadable = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let first = NodeRef::<leptos::html::Input>::new();

    let save = Action::new(move |edit: &CustomerEdit| update_customer(id, edit.clone()));
    Effect::new(move |_| match save.value().get() {
        Some(Ok(saved)) => on_saved.run(saved),
        Some(Err(e)) => error.set(Some(e)),
        None => {}
    });
    Effect::new(move |_| {
        if let Some(input) = first.get() {
            let _ = input.focus();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = health_score.get_untracked();
        let score = match text.trim() {
            "" if unreadable.get_untracked() => Err(not_a_whole_number()),
            "" => Ok(None),
            t => t.parse::<i64>().map(Some).map_err(|_| not_a_whole_number()),
        };
        match score {
            Ok(health_score) => {
                error.set(None);
                save.dispatch(CustomerEdit {
                    stage: Some(stage.get_untracked()),
                    csm_owner: Some(csm_owner.get_untracked()),
                    csm_pulse: Some(csm_pulse.get_untracked()),
                    health_score,
                });
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let error_signal: Signal<Option<AppError>> = error.into();
    let text_field =
        move |key: &'static str, label: &'static str, value: RwSignal<String>, node: NodeRef<leptos::html::Input>| {
            let field_id = format!("customer-{id}-{key}");
            view! {
                <div class="field">
                    <label for=field_id.clone()>{label}</label>
                    <input id=field_id name=key type="text" node_ref=node prop:value=move || value.get()
                        on:input=move |ev| value.set(event_target_value(&ev)) />
                    <FieldMessage error=error_signal key />
                </div>
            }
        };
    let score_id = format!("customer-{id}-health_score");

    // The server checks every field and answers for each (the Healthscore's range too),
    // as the settings page does: the browser's own validation bubbles would say less.
    view! {
        <form class="record-form" novalidate on:submit=submit aria-label=format!("Edit {}", customer.name)>
            <div class="record-form-fields">
                {text_field("stage", "Stage", stage, first)}
                {text_field("csm_owner", "CSM owner", csm_owner, NodeRef::new())}
                {text_field("csm_pulse", "CSM Pulse", csm_pulse, NodeRef::new())}
                <div class="field">
                    <label for=score_id.clone()>"Healthscore"</label>
                    <input id=score_id name="health_score" type="number" min="0" max="100" step="1" inputmode="numeric"
                        prop:value=move || health_score.get()
                        on:input=move |ev| {
                            let input = event_target::<web_sys::HtmlInputElement>(&ev);
                            unreadable.set(input.value().is_empty() && !input.check_validity());
                            health_score.set(input.value());
                        } />
                    <FieldMessage error=error_signal key="health_score" />
                </div>
            </div>
            <div class="record-form-actions">
                <button type="submit" disabled=move || save.pending().get()>"Save"</button>
                <button type="button" class="secondary" on:click=move |_| row.open.set(None)>"Cancel"</button>
                {move || error.get().filter(|e| !matches!(e, AppError::Rejected(_))).map(|e| view! {
                    <p class="field-error" role="alert" data-testid="edit-error">{e.to_string()}</p>
                })}
            </div>
        </form>
    }
}

const ROLE: &str = "Role";

fn contact_row(contact: Contact, cells: fn(&Contact) -> Vec<String>, row: RowContext) -> AnyView {
    let id = contact.id;
    let (record, values) = saved_record(contact, cells);
    if !row.can_edit {
        return view! { <tr data-contact-id=id>{text_cells(row.headers, values)}</tr> }.into_any();
    }
    let on_saved = Callback::new(move |saved: Contact| record.set(saved));
    // The picker is drawn once, not from the record: redrawing it on a save would drop
    // its "Saved" and the keyboard focus.
    let cells = row
        .headers
        .iter()
        .enumerate()
        .map(|(i, label)| {
            if *label == ROLE {
                view! { <td data-label=*label><RolePicker contact=record.get_untracked() on_saved /></td> }.into_any()
            } else {
                text_cell(label, values, i).into_any()
            }
        })
        .collect_view();
    view! { <tr data-contact-id=id>{cells}</tr> }.into_any()
}

/// An admin's choice of a contact's role, saved by its own button rather than on change:
/// the arrow keys alone change a select, and that should not write to Intercom.
#[component]
fn RolePicker(contact: Contact, on_saved: Callback<Contact>) -> impl IntoView {
    let Contact { id, name, role_tag, .. } = contact;
    let saved = RwSignal::new(role_tag.unwrap_or_default());
    let chosen = RwSignal::new(saved.get_untracked());
    let save = Action::new(move |role: &String| {
        let edit = ContactEdit { role_tag: Some(role.clone()).filter(|r| !r.is_empty()) };
        update_contact(id, edit)
    });
    Effect::new(move |_| {
        if let Some(Ok(contact)) = save.value().get() {
            saved.set(contact.role_tag.clone().unwrap_or_default());
            on_saved.run(contact);
        }
    });
    let select_id = format!("contact-{id}-role");
    // A role Skalin does not offer (from an older import) stays shown rather than being
    // silently replaced; saving it is refused with the reason.
    let unknown = Some(saved.get_untracked()).filter(|r| !r.is_empty() && !CONTACT_ROLES.contains(&r.as_str()));
    let option = move |value: String, text: String| {
        let v = value.clone();
        let is_chosen = move || chosen.get() == v;
        view! { <option value=value selected=is_chosen.clone() prop:selected=is_chosen>{text}</option> }
    };
    let failure = move || {
        save.value().get().and_then(Result::err).map(|e| e.message_for("role_tag").unwrap_or_else(|| e.to_string()))
    };

    view! {
        <div class="role-picker">
            <label class="visually-hidden" for=select_id.clone()>{format!("Role of {name}")}</label>
            <select id=select_id name="role_tag" on:change=move |ev| chosen.set(event_target_value(&ev))>
                {option(String::new(), "None".to_string())}
                {CONTACT_ROLES.iter().map(|r| option(r.to_string(), r.to_string())).collect_view()}
                {unknown.map(|r| option(r.clone(), format!("{r} (not a Skalin role)")))}
            </select>
            <button type="button" class="secondary" aria-label=format!("Save the role of {name}")
                disabled=move || chosen.get() == saved.get() || save.pending().get()
                on:click=move |_| { save.dispatch(chosen.get_untracked()); }>
                "Save"
            </button>
            {move || (matches!(save.value().get(), Some(Ok(_))) && chosen.get() == saved.get()).then(|| view! {
                <span class="saved-flag" role="status">"Saved"</span>
            })}
        </div>
        {move || failure().map(|message| view! { <p class="field-error" role="alert" data-error-for="role_tag">{message}</p> })}
    }
}
