use std::future::Future;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{de::DeserializeOwned, Serialize};

use crate::components::{ErrorNotice, Pager};
use crate::domain::{format_timestamp, Contact, Customer, Interaction, Page};
use crate::error::AppError;
use crate::server_fns::{list_contacts, list_customers, list_interactions};

#[component]
pub fn CustomersPage() -> impl IntoView {
    view! {
        <RecordList
            title="Customers"
            base="/customers"
            noun="customers"
            empty="No customers yet. They appear here once Intercom is connected and companies have been synchronized."
            headers=&["Name", "Customer ID", "Domain", "Stage", "CSM owner", "Updated"]
            load=list_customers
            cells=|c: &Customer| vec![
                c.name.clone(),
                c.external_id.clone(),
                or_dash(&c.domain),
                or_dash(&c.stage),
                or_dash(&c.csm_owner),
                format_timestamp(c.updated_at),
            ]
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
            headers=&["Name", "Email", "Customer", "Role", "Updated"]
            load=list_contacts
            cells=|c: &Contact| vec![
                c.name.clone(),
                or_dash(&c.email),
                or_dash(&c.customer_name),
                or_dash(&c.role_tag),
                format_timestamp(c.updated_at),
            ]
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
) -> impl IntoView
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: Future<Output = Result<Page<T>, AppError>> + Send + 'static,
{
    let query = use_query_map();
    let page = Memo::new(move |_| {
        query.read().get("page").and_then(|p| p.parse::<u32>().ok()).unwrap_or(1)
    });
    let records = Resource::new(move || page.get(), load);

    view! {
        <Title text=title />
        <h1>{title}</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match records.await {
                    Ok(page) if page.items.is_empty() && page.page == 1 => view! {
                        <div class="empty-state" data-testid="empty-state">
                            <p>{empty}</p>
                            <a href="/integrations/intercom">"Go to Integrations → Intercom"</a>
                        </div>
                    }.into_any(),
                    Ok(page) => {
                        let rows = page.items.iter().map(|item| {
                            let cells = cells(item).into_iter().zip(headers.iter()).map(|(value, label)| {
                                view! { <td data-label=*label>{value}</td> }
                            }).collect_view();
                            view! { <tr>{cells}</tr> }
                        }).collect_view();
                        view! {
                            <table class="records">
                                <thead><tr>{headers.iter().map(|h| view! { <th scope="col">{*h}</th> }).collect_view()}</tr></thead>
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
