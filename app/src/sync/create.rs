//! Skalin → Intercom for records Intercom does not have: companies for customers, users
//! for contacts, when the settings ask for it.

use std::collections::HashMap;

use super::customers::COMPANY_PAGE;
use super::mapping::{self, Fields};
use super::output::{self, CompanyWrite};
use super::pipeline::{failure, refusal, str_set, Walk};
use super::Result;
use crate::domain::SyncObject;
use crate::intercom::{Contact, ContactCreate};
use crate::sync_model::{NewFailure, PageWrite, RecordWrite, StoredContact};

/// Contacts created in Intercom per page written.
const CONTACT_BATCH: usize = 100;

impl Walk<'_> {
    /// Output and Two-ways with the choice on: customers Intercom does not know become
    /// companies there, keyed by their customer ID (`company_id`).
    pub(super) async fn create_companies(&self) -> Result<()> {
        let settings = &self.settings.customers;
        if !(settings.create_in_intercom && settings.mode.writes()) {
            return Ok(());
        }
        let writables = output::customer_writables(self.settings);
        loop {
            let rows = self.store.customers_without_intercom(COMPANY_PAGE as u32).await?;
            if rows.is_empty() {
                return Ok(());
            }
            let pending = self.pending(SyncObject::Customers, rows.iter().map(|r| r.id).collect(), true).await?;
            let mut page = PageWrite::default();
            let last_batch = self.dry_run || rows.len() < COMPANY_PAGE;
            let mut refused = 0;
            for row in rows {
                let mut write = CompanyWrite { name: Some(row.name.clone()), ..CompanyWrite::default() };
                if settings.domain_field.as_deref() == Some("website") {
                    write.website = row.domain.as_ref().map(|d| format!("https://{d}"));
                }
                let mut refusal_message = None;
                for w in &writables {
                    if let Some(value) = output::customer_value(&row, w.field) {
                        if let Err(message) = write.set(&w.key, &value, &self.company_types) {
                            refusal_message = Some(message);
                        }
                    }
                }
                let key = format!("skalin:{}", row.external_id);
                if let Some(message) = refusal_message {
                    refused += 1;
                    page.counts.failed += 1;
                    page.failures.push(refusal(&key, message));
                    continue;
                }
                page.counts.created += 1;
                if self.dry_run {
                    continue;
                }
                match self.api.upsert_company(&write.upsert(row.external_id.clone())).await {
                    Ok(company) => {
                        let mut created = row.clone();
                        created.intercom_id = Some(company.id.clone());
                        created.intercom_updated_at = company.updated_at;
                        created.synced_run = Some(self.run_id);
                        page.sent.extend(
                            pending
                                .values()
                                .filter(|e| e.record_id == row.id)
                                .map(|e| (e.record_id, e.field, e.changed_at)),
                        );
                        page.writes.push(RecordWrite::Customer(created));
                    }
                    Err(err) => {
                        refused += 1;
                        page.counts.created -= 1;
                        page.counts.failed += 1;
                        page.failures.push(failure(&key, &err));
                    }
                }
            }
            self.write(SyncObject::Customers, page).await?;
            // Refused customers keep no Intercom id: stop rather than ask for them again.
            if last_batch || refused > 0 {
                return Ok(());
            }
        }
    }

    /// Output and Two-ways with the choice on: contacts Intercom does not know become users
    /// there, keyed by their contact ID (`external_id`), attached to their customer's
    /// company, with their role.
    pub(super) async fn create_contacts(&self, tags_by_id: &HashMap<String, String>) -> Result<()> {
        let settings = &self.settings.contacts;
        if !(settings.create_in_intercom && settings.mode.writes()) {
            return Ok(());
        }
        let writes_roles = mapping::role_sources(settings).iter().any(|(_, s)| s.is_some());
        loop {
            let rows = self.store.contacts_without_intercom(CONTACT_BATCH as u32).await?;
            if rows.is_empty() {
                return Ok(());
            }
            let customer_ids: Vec<i64> = rows.iter().filter_map(|r| r.customer_id).collect();
            let companies: HashMap<i64, String> = self
                .store
                .customers_by_ids(&customer_ids)
                .await?
                .into_iter()
                .filter_map(|c| c.intercom_id.map(|i| (c.id, i)))
                .collect();
            let mut page = PageWrite::default();
            let last_batch = self.dry_run || rows.len() < CONTACT_BATCH;
            let mut refused = 0;
            for row in rows {
                let key = format!("skalin:{}", row.external_id);
                if self.dry_run {
                    page.counts.created += 1;
                    continue;
                }
                let company = row.customer_id.and_then(|c| companies.get(&c)).map(String::as_str);
                let created = match self.create_contact(&row, company).await {
                    Ok(contact) => contact,
                    Err(failed) => {
                        refused += 1;
                        page.counts.failed += 1;
                        page.failures.push(NewFailure { intercom_id: key, ..failed });
                        continue;
                    }
                };
                let mut stored = row.clone();
                stored.intercom_id = Some(created.id.clone());
                stored.intercom_updated_at = created.updated_at;
                stored.synced_run = Some(self.run_id);
                if writes_roles && row.role_tag.is_some() {
                    let names = mapping::tag_names(&created, tags_by_id).into_iter().map(str::to_string).collect();
                    let intercom = mapping::role(&created, settings, &str_set(&names)).flatten();
                    let pushed = self
                        .push_role(
                            &created,
                            &row,
                            intercom,
                            &names,
                            tags_by_id,
                            &HashMap::new(),
                            &mut stored,
                            &mut page,
                        )
                        .await;
                    if let Err(failed) = pushed {
                        // Created all the same: the next run settles the role.
                        page.failures.push(NewFailure { intercom_id: created.id.clone(), ..failed });
                        page.counts.failed += 1;
                    }
                }
                page.counts.created += 1;
                page.writes.push(RecordWrite::Contact(stored));
            }
            self.write(SyncObject::Contacts, page).await?;
            // Refused contacts keep no Intercom id: stop rather than ask for them again.
            if last_batch || refused > 0 {
                return Ok(());
            }
        }
    }

    /// Creates one contact, or takes the one Intercom already has under the same contact
    /// ID (a creation whose answer was lost), and attaches its customer's company.
    pub(super) async fn create_contact(
        &self,
        row: &StoredContact,
        company: Option<&str>,
    ) -> std::result::Result<Contact, NewFailure> {
        // The contact ID is the key a later walk finds the contact by.
        let key = self.settings.contacts.id_field.as_deref().unwrap_or_default();
        let keyed_by_email = key == "email";
        let new = ContactCreate {
            role: "user",
            external_id: (!keyed_by_email).then(|| row.external_id.clone()),
            email: if keyed_by_email {
                Some(row.external_id.clone())
            } else {
                row.email.clone().filter(|e| !e.is_empty())
            },
            name: Some(row.name.clone()).filter(|n| !n.is_empty()),
        };
        let contact = match self.api.create_contact(&new).await {
            Ok(contact) => contact,
            Err(err) => {
                let Some(existing) = err.existing_contact_id().map(str::to_string) else {
                    return Err(failure(&row.external_id, &err));
                };
                let contact = self.api.contact(&existing).await.map_err(|e| failure(&row.external_id, &e))?;
                if mapping::text(contact.field(key)).as_deref() != Some(row.external_id.as_str()) {
                    return Err(refusal(
                        &row.external_id,
                        format!("Intercom already has a contact with these details under another ID (Intercom contact {existing})."),
                    ));
                }
                contact
            }
        };
        if let Some(company) = company {
            if !contact.companies.data.iter().any(|c| c.id == company) {
                self.api.attach_contact_company(&contact.id, company).await.map_err(|e| failure(&contact.id, &e))?;
            }
        }
        Ok(contact)
    }
}
