use leptos::prelude::*;

use leptos::server_fn::codec::Json;

use crate::domain::{Contact, ContactEdit, Customer, CustomerEdit, Interaction, Page};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use {
    super::context::*,
    crate::domain::PageRequest,
    crate::store::{Store, StoreError},
};

#[server]
pub async fn list_customers(page: u32) -> Result<Page<Customer>, AppError> {
    require_user().await?;
    Ok(app_state()?.store.list_customers(PageRequest::new(Some(page), None)).await?)
}

#[server]
pub async fn list_contacts(page: u32) -> Result<Page<Contact>, AppError> {
    require_user().await?;
    Ok(app_state()?.store.list_contacts(PageRequest::new(Some(page), None)).await?)
}

#[server]
pub async fn list_interactions(page: u32) -> Result<Page<Interaction>, AppError> {
    require_user().await?;
    Ok(app_state()?.store.list_interactions(PageRequest::new(Some(page), None)).await?)
}

/// Saves a customer's stage, CSM owner, CSM Pulse and Healthscore; the next run that
/// writes to Intercom carries the changes there. Admins only. Answers the customer as
/// saved, so that its row shows what the server holds without reading the page again.
#[server(input = Json)]
pub async fn update_customer(id: i64, edit: CustomerEdit) -> Result<Customer, AppError> {
    let admin = require_admin().await?;
    answer(
        async {
            let edit = edit.checked().map_err(AppError::Rejected)?;
            let store = app_state()?.store;
            let now = crate::store::now();
            let missing = || AppError::NotFound(format!("There is no customer {id}."));
            if !store.edit_customer(id, &edit, &admin.email, now).await? {
                return Err(missing());
            }
            saved_customer(store.as_ref(), id, now).await?.ok_or_else(missing)
        }
        .await,
    )
}

/// Saves a contact's role (Champion, Sponsor, Key user, End user or none). Admins only.
/// Answers the contact as saved, as `update_customer` does.
#[server(input = Json)]
pub async fn update_contact(id: i64, edit: ContactEdit) -> Result<Contact, AppError> {
    let admin = require_admin().await?;
    answer(
        async {
            let edit = edit.checked().map_err(AppError::Rejected)?;
            let store = app_state()?.store;
            let now = crate::store::now();
            let missing = || AppError::NotFound(format!("There is no contact {id}."));
            if !store.edit_contact(id, &edit, &admin.email, now).await? {
                return Err(missing());
            }
            saved_contact(store.as_ref(), id, now).await?.ok_or_else(missing)
        }
        .await,
    )
}

// The store reads single records only for the sync engine, without `updated_at`: an edit
// has just set it to `edited_at`.

/// A customer read back after an edit made at `edited_at`.
#[cfg(feature = "ssr")]
async fn saved_customer(store: &dyn Store, id: i64, edited_at: i64) -> Result<Option<Customer>, StoreError> {
    let found = store.customers_by_ids(&[id]).await?.into_iter().next();
    Ok(found.map(|c| Customer {
        id: c.id,
        external_id: c.external_id,
        intercom_id: c.intercom_id,
        name: c.name,
        domain: c.domain,
        csm_owner: c.csm_owner,
        stage: c.stage,
        profile: c.profile,
        health_score: c.health_score,
        csm_pulse: c.csm_pulse,
        updated_at: edited_at,
    }))
}

/// A contact read back after an edit made at `edited_at`, with its customer's name.
#[cfg(feature = "ssr")]
async fn saved_contact(store: &dyn Store, id: i64, edited_at: i64) -> Result<Option<Contact>, StoreError> {
    let Some(contact) = store.contacts_by_ids(&[id]).await?.into_iter().next() else { return Ok(None) };
    let customer_name = match contact.customer_id {
        Some(customer) => store.customers_by_ids(&[customer]).await?.into_iter().next().map(|c| c.name),
        None => None,
    };
    Ok(Some(Contact {
        id: contact.id,
        external_id: contact.external_id,
        intercom_id: contact.intercom_id,
        name: contact.name,
        email: contact.email,
        customer_name,
        role_tag: contact.role_tag,
        updated_at: edited_at,
    }))
}
