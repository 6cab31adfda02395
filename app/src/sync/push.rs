//! Skalin → Intercom within a walk: each writable field settled by the conflict rule, and
//! Skalin's winners written to the record Intercom just gave.

use std::collections::{HashMap, HashSet};

use super::mapping::{self, Fields};
use super::output::{self, CompanyWrite, Resolution};
use super::pipeline::{failure, refusal, Walk};
use crate::intercom::{Company, Contact};
use crate::sync_model::{NewFailure, OutboxField, PageWrite, PendingEdit, StoredContact, StoredCustomer};

impl Walk<'_> {
    /// Settles each writable field of a customer by the rule, and writes Skalin's winners
    /// to Intercom in one call. `Ok(true)` when Intercom was written (or would be, in a
    /// dry run); the settled edits go to `page.sent`.
    pub(super) async fn push_customer(
        &self,
        company: &Company,
        current: &StoredCustomer,
        row: &mut StoredCustomer,
        writables: &[output::Writable],
        pending: &HashMap<(i64, OutboxField), PendingEdit>,
        page: &mut PageWrite,
    ) -> std::result::Result<bool, NewFailure> {
        let mut write = CompanyWrite::default();
        let mut settled = Vec::new();
        let mut sent_on_success = Vec::new();
        for w in writables {
            let skalin = output::customer_value(current, w.field);
            let intercom = mapping::text(company.field(&w.key));
            let edit = pending.get(&(current.id, OutboxField::Customer(w.field)));
            match output::resolve(w.mode, skalin.as_deref(), intercom.as_deref(), edit, company.updated_at) {
                Resolution::Keep => {
                    output::set_customer_value(row, w.field, skalin);
                    settled.extend(edit);
                }
                Resolution::TakeIntercom => {
                    output::set_customer_value(row, w.field, intercom);
                    settled.extend(edit);
                }
                Resolution::PushSkalin => {
                    let value = skalin.clone().unwrap_or_default();
                    output::set_customer_value(row, w.field, skalin);
                    write.set(&w.key, &value, &self.company_types).map_err(|m| refusal(&company.id, m))?;
                    sent_on_success.extend(edit);
                }
            }
        }
        page.sent.extend(settled.into_iter().map(|e| (e.record_id, e.field, e.changed_at)));
        if write.is_empty() {
            return Ok(false);
        }
        if !self.dry_run {
            let written =
                self.api.update_company(&company.id, &write.update()).await.map_err(|e| failure(&company.id, &e))?;
            row.intercom_updated_at = written.updated_at.or(row.intercom_updated_at);
        }
        page.sent.extend(sent_on_success.into_iter().map(|e| (e.record_id, e.field, e.changed_at)));
        Ok(true)
    }

    /// Settles a contact's role by the rule and, when Skalin's wins, writes it: the role's
    /// tag or yes/no field set, the other roles' cleared.
    #[expect(
        clippy::too_many_arguments,
        reason = "the contact's three states (Intercom's, last synced, being written) and the page's lookups, each read once"
    )]
    pub(super) async fn push_role(
        &self,
        contact: &Contact,
        current: &StoredContact,
        intercom: Option<String>,
        tag_names: &HashSet<String>,
        tags_by_id: &HashMap<String, String>,
        pending: &HashMap<(i64, OutboxField), PendingEdit>,
        row: &mut StoredContact,
        page: &mut PageWrite,
    ) -> std::result::Result<bool, NewFailure> {
        let settings = &self.settings.contacts;
        let edit = pending.get(&(current.id, OutboxField::ContactRole));
        let skalin = current.role_tag.clone();
        let settle = |page: &mut PageWrite| {
            if let Some(e) = edit {
                page.sent.push((e.record_id, e.field, e.changed_at));
            }
        };
        match output::resolve(settings.mode, skalin.as_deref(), intercom.as_deref(), edit, contact.updated_at) {
            Resolution::Keep => {
                row.role_tag = skalin;
                settle(page);
                Ok(false)
            }
            Resolution::TakeIntercom => {
                row.role_tag = intercom;
                settle(page);
                Ok(false)
            }
            Resolution::PushSkalin => {
                row.role_tag = skalin.clone();
                let sources = mapping::role_sources(settings);
                let write = output::role_write(
                    skalin.as_deref(),
                    &sources,
                    |tag| tag_names.contains(tag),
                    |key| mapping::truthy(contact.field(key)),
                )
                .map_err(|m| refusal(&contact.id, m))?;
                if !self.dry_run {
                    let tag_id = |name: &str| {
                        tags_by_id.iter().find(|(_, n)| n.as_str() == name).map(|(id, _)| id.clone()).ok_or_else(|| {
                            refusal(&contact.id, format!("The tag \"{name}\" is no longer in Intercom."))
                        })
                    };
                    for name in &write.add_tags {
                        self.api
                            .tag_contact(&contact.id, &tag_id(name)?)
                            .await
                            .map_err(|e| failure(&contact.id, &e))?;
                    }
                    for name in &write.remove_tags {
                        self.api
                            .untag_contact(&contact.id, &tag_id(name)?)
                            .await
                            .map_err(|e| failure(&contact.id, &e))?;
                    }
                    if let Some(update) = &write.update {
                        self.api.update_contact(&contact.id, update).await.map_err(|e| failure(&contact.id, &e))?;
                    }
                }
                settle(page);
                Ok(true)
            }
        }
    }
}
