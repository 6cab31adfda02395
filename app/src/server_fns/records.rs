use leptos::prelude::*;

use leptos::server_fn::codec::Json;

use crate::domain::{Contact, ContactEdit, Customer, CustomerEdit, Interaction, Page};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use {super::context::*, crate::domain::PageRequest};

#[server]
pub async fn list_customers(page: u32) -> Result<Page<Customer>, AppError> {
    let user = require_user().await?;
    Ok(workspace_store(&user)?.list_customers(PageRequest::new(Some(page), None)).await?)
}

#[server]
pub async fn list_contacts(page: u32) -> Result<Page<Contact>, AppError> {
    let user = require_user().await?;
    Ok(workspace_store(&user)?.list_contacts(PageRequest::new(Some(page), None)).await?)
}

#[server]
pub async fn list_interactions(page: u32) -> Result<Page<Interaction>, AppError> {
    let user = require_user().await?;
    Ok(workspace_store(&user)?.list_interactions(PageRequest::new(Some(page), None)).await?)
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
            let store = workspace_store(&admin)?;
            let missing = || AppError::NotFound(format!("There is no customer {id}."));
            if !store.edit_customer(id, &edit, &admin.email, crate::store::now()).await? {
                return Err(missing());
            }
            store.customer(id).await?.ok_or_else(missing)
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
            let store = workspace_store(&admin)?;
            let missing = || AppError::NotFound(format!("There is no contact {id}."));
            if !store.edit_contact(id, &edit, &admin.email, crate::store::now()).await? {
                return Err(missing());
            }
            store.contact(id).await?.ok_or_else(missing)
        }
        .await,
    )
}
