use leptos::prelude::*;

use crate::domain::{Contact, Customer, Interaction, Page};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use {super::context::*, crate::domain::PageRequest};

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
