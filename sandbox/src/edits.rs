//! What teammates do in Intercom's UI, for tests and the demo: edits of companies,
//! contacts, tags, tickets and attributes that did not come through the API, each notified
//! to the webhook endpoint like any other change.

use serde_json::Value;

use super::{default_version, model, render, routes, Sandbox};

impl Sandbox {
    /// Deletes a company as the UI does: gone from lookups (404), lists, the scroll and contacts; false if unknown.
    pub fn delete_company(&self, id: &str) -> bool {
        let mut state = self.lock();
        let Some(index) = state.company_by_id.remove(id) else { return false };
        // Out of both maps, so lookups answer 404 and `POST /companies` with the same
        // company_id makes a new company, as after a real delete.
        let company_id = state.companies[index].company_id.clone();
        if state.company_by_company_id.get(&company_id) == Some(&index) {
            state.company_by_company_id.remove(&company_id);
        }
        state.companies[index].deleted = true;
        state.touch();
        // Deletions carry only what identifies the object (REFERENCE §9).
        state.notify("company.deleted", serde_json::json!({"type": "company", "id": id, "company_id": company_id}));
        true
    }

    /// A UI edit of name, website, industry, size, monthly_spend, custom_attributes (merged, null removes); false and no change if refused.
    pub fn update_company(&self, id: &str, patch: Value) -> bool {
        let Value::Object(body) = patch else { return false };
        let mut state = self.lock();
        let Some(&index) = state.company_by_id.get(id) else { return false };
        let Ok(changes) = routes::companies::changes(&state, &body, routes::companies::UI_FIELDS) else { return false };
        let now = state.now();
        routes::companies::apply(&mut state.companies[index], changes, now);
        state.touch();
        state.notify_company(index, "company.updated");
        true
    }

    /// A UI edit of name, email, phone, external_id, custom_attributes (merged, null removes); false and no change if refused.
    pub fn update_contact(&self, id: &str, patch: Value) -> bool {
        let Value::Object(body) = patch else { return false };
        let mut state = self.lock();
        let Some(index) = state.live_contact_index(id) else { return false };
        routes::contacts::apply_update(&mut state, index, &body, routes::contacts::UI_FIELDS).is_ok()
    }

    /// A teammate tags a live contact by tag name, creating the tag if needed; a tag it already carries changes nothing.
    pub fn tag_contact(&self, contact_id: &str, tag_name: &str) -> bool {
        let mut state = self.lock();
        let Some(index) = state.live_contact_index(contact_id) else { return false };
        let tag = state.tag_named_or_new(tag_name);
        state.attach_tag(index, tag);
        true
    }

    /// A teammate removes a tag, by name, from a live contact; false if either is unknown or the tag was not on it.
    pub fn untag_contact(&self, contact_id: &str, tag_name: &str) -> bool {
        let mut state = self.lock();
        let Some(index) = state.live_contact_index(contact_id) else { return false };
        let Some(tag) = state.tags.iter().position(|t| t.name == tag_name) else { return false };
        state.detach_tag(index, tag).is_some()
    }

    /// A teammate edits a ticket (by its API `id`); not searchable for `search_index_delay`; false if unknown.
    pub fn update_ticket(&self, id: &str, title: Option<&str>, open: Option<bool>) -> bool {
        let mut state = self.lock();
        let Ok(id) = id.parse::<i64>() else { return false };
        let now = state.now();
        let Some(ticket) = state.tickets.iter_mut().find(|t| t.id == id) else { return false };
        if let Some(title) = title {
            ticket.title = title.to_string();
        }
        let state_changed = open.is_some_and(|open| open != ticket.open);
        if let Some(open) = open {
            ticket.open = open;
        }
        ticket.updated_at = now;
        ticket.written_at = Some(std::time::Instant::now());
        let ticket = ticket.clone();
        state.touch();
        if state.webhooks.is_some() {
            let item = render::ticket(&state, &ticket, default_version(&state));
            let topic = if state_changed { "ticket.state.updated" } else { "ticket.attribute.updated" };
            state.notify(topic, item);
        }
        true
    }

    /// A custom attribute appears, as if a teammate created it in the UI.
    pub fn add_data_attribute(&self, model: &str, name: &str, data_type: &str) {
        let mut state = self.lock();
        let Some(model) = model::Model::parse(model) else { return };
        let now = state.now();
        let id = state.next_attribute_id;
        state.next_attribute_id += 1;
        let admin_id = state.admins.first().map(|a| a.id.to_string());
        state.attributes.push(routes::data_attributes::new_custom(
            id,
            model,
            name,
            data_type,
            "",
            vec![],
            admin_id,
            now,
        ));
        state.touch();
    }

    pub fn archive_data_attribute(&self, model: &str, name: &str) {
        let mut state = self.lock();
        let now = state.now();
        for a in state.attributes.iter_mut() {
            if a.custom && a.model.as_str() == model && a.name == name {
                a.archived = true;
                a.updated_at = now;
            }
        }
        state.touch();
    }

    /// A tag appears, as if a teammate created it in the UI.
    pub fn add_tag(&self, name: &str) {
        let mut state = self.lock();
        state.tag_named_or_new(name);
        state.touch();
    }

    /// Teammates at work: `count` random companies and live contacts are edited (their
    /// `updated_at` moves; a company's `monthly_spend` goes up by one), each notified as
    /// its own change.
    pub fn edit_random_records(&self, count: usize) {
        let mut state = self.lock();
        let now = state.now();
        let (mut edited, mut tries) = (0, 0);
        while edited < count && tries < count * 20 + 20 {
            tries += 1;
            if state.misc_rng.chance(0.5) {
                let companies = state.companies.len() as u64;
                let index = state.misc_rng.below(companies.max(1)) as usize;
                if state.companies.get(index).is_none_or(|c| c.deleted) {
                    continue;
                }
                let company = &mut state.companies[index];
                company.monthly_spend += 1;
                company.updated_at = now;
                state.touch();
                state.notify_company(index, "company.updated");
            } else {
                let contacts = state.contacts.len() as u64;
                let index = state.misc_rng.below(contacts.max(1)) as usize;
                if state.contacts.get(index).is_none_or(|c| c.merged_into.is_some()) {
                    continue;
                }
                state.contacts[index].updated_at = now;
                state.contacts[index].written_at = Some(std::time::Instant::now());
                state.touch();
                state.notify_contact(index, "updated");
            }
            edited += 1;
        }
    }

    /// Sets `updated_at`, as a write from elsewhere would, for incremental-read tests.
    pub fn touch_contact(&self, id: &str, at: i64) {
        let mut state = self.lock();
        if let Some(&i) = state.contact_by_id.get(id) {
            state.contacts[i].updated_at = at;
            state.contacts[i].written_at = Some(std::time::Instant::now());
            state.touch();
        }
    }
}
