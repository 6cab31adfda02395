//! The one seam between the sync engine and Intercom. The real client implements it; so
//! may any stand-in, though tests prefer a fake server (the sandbox) to a fake trait.

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};

use crate::intercom::{
    CallStats, Company, CompanyUpdate, CompanyUpsert, Contact, ContactCreate, ContactUpdate, CursorPage, DataAttribute,
    IntercomClient, Model, Result, ScrollEvent, Search, Tag, Ticket,
};

#[async_trait]
pub trait IntercomApi: Send + Sync {
    /// Calls made so far through this handle, for progress and benchmarks.
    fn stats(&self) -> CallStats;
    async fn tags(&self) -> Result<Vec<Tag>>;
    /// The workspace's time zone (an IANA name), where contact search draws its days.
    async fn workspace_time_zone(&self) -> Result<Option<String>>;
    /// Every company once, page by page: a complete walk or an error, never a silent
    /// partial one. `left_open` names a scroll an earlier walk may have left open.
    fn company_pages(&self, left_open: Option<String>) -> BoxStream<'static, Result<ScrollEvent>>;
    async fn contacts_page(&self, starting_after: Option<&str>) -> Result<CursorPage<Contact>>;
    async fn search_contacts_page(&self, search: &Search, starting_after: Option<&str>) -> Result<CursorPage<Contact>>;
    async fn search_tickets_page(&self, search: &Search, starting_after: Option<&str>) -> Result<CursorPage<Ticket>>;
    async fn contact(&self, id: &str) -> Result<Contact>;
    async fn contact_tags(&self, id: &str) -> Result<Vec<Tag>>;
    /// Every company id of a contact, past the 10 the contact embeds.
    async fn contact_company_ids(&self, id: &str) -> Result<Vec<String>>;
    async fn ticket(&self, id: &str) -> Result<Ticket>;
    async fn company(&self, id: &str) -> Result<Company>;
    async fn data_attributes(&self, model: Model) -> Result<Vec<DataAttribute>>;
    async fn update_company(&self, id: &str, update: &CompanyUpdate) -> Result<Company>;
    /// Creates (or updates) the company with this `company_id`.
    async fn upsert_company(&self, company: &CompanyUpsert) -> Result<Company>;
    async fn update_contact(&self, id: &str, update: &ContactUpdate) -> Result<Contact>;
    async fn create_contact(&self, contact: &ContactCreate) -> Result<Contact>;
    /// Attaches the company with this Intercom id to the contact.
    async fn attach_contact_company(&self, id: &str, company_id: &str) -> Result<()>;
    async fn tag_contact(&self, id: &str, tag_id: &str) -> Result<()>;
    async fn untag_contact(&self, id: &str, tag_id: &str) -> Result<()>;
}

#[async_trait]
impl IntercomApi for IntercomClient {
    fn stats(&self) -> CallStats {
        IntercomClient::stats(self)
    }

    async fn tags(&self) -> Result<Vec<Tag>> {
        IntercomClient::tags(self).await
    }

    async fn workspace_time_zone(&self) -> Result<Option<String>> {
        Ok(self.me().await?.app.and_then(|a| a.timezone))
    }

    fn company_pages(&self, left_open: Option<String>) -> BoxStream<'static, Result<ScrollEvent>> {
        self.scroll_pages(left_open).boxed()
    }

    async fn contacts_page(&self, starting_after: Option<&str>) -> Result<CursorPage<Contact>> {
        IntercomClient::contacts_page(self, starting_after).await
    }

    async fn search_contacts_page(&self, search: &Search, starting_after: Option<&str>) -> Result<CursorPage<Contact>> {
        IntercomClient::search_contacts_page(self, search, starting_after).await
    }

    async fn search_tickets_page(&self, search: &Search, starting_after: Option<&str>) -> Result<CursorPage<Ticket>> {
        IntercomClient::search_tickets_page(self, search, starting_after).await
    }

    async fn contact(&self, id: &str) -> Result<Contact> {
        IntercomClient::contact(self, id).await
    }

    async fn contact_tags(&self, id: &str) -> Result<Vec<Tag>> {
        IntercomClient::contact_tags(self, id).await
    }

    async fn contact_company_ids(&self, id: &str) -> Result<Vec<String>> {
        self.contact_companies(id).map_ok(|c| c.id).try_collect().await
    }

    async fn ticket(&self, id: &str) -> Result<Ticket> {
        IntercomClient::ticket(self, id).await
    }

    async fn company(&self, id: &str) -> Result<Company> {
        IntercomClient::company(self, id).await
    }

    async fn data_attributes(&self, model: Model) -> Result<Vec<DataAttribute>> {
        IntercomClient::data_attributes(self, model, false).await
    }

    async fn update_company(&self, id: &str, update: &CompanyUpdate) -> Result<Company> {
        IntercomClient::update_company(self, id, update).await
    }

    async fn upsert_company(&self, company: &CompanyUpsert) -> Result<Company> {
        IntercomClient::upsert_company(self, company).await
    }

    async fn update_contact(&self, id: &str, update: &ContactUpdate) -> Result<Contact> {
        IntercomClient::update_contact(self, id, update).await
    }

    async fn create_contact(&self, contact: &ContactCreate) -> Result<Contact> {
        IntercomClient::create_contact(self, contact).await
    }

    async fn attach_contact_company(&self, id: &str, company_id: &str) -> Result<()> {
        IntercomClient::attach_contact_company(self, id, company_id).await.map(|_| ())
    }

    async fn tag_contact(&self, id: &str, tag_id: &str) -> Result<()> {
        IntercomClient::tag_contact(self, id, tag_id).await.map(|_| ())
    }

    async fn untag_contact(&self, id: &str, tag_id: &str) -> Result<()> {
        IntercomClient::untag_contact(self, id, tag_id).await.map(|_| ())
    }
}
