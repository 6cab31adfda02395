//! From Intercom's objects to Skalin's records, by the saved mappings. Pure: no I/O.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::domain::{ContactSettings, CustomerSettings, Mapping, RoleSource, INTERCOM_ID};
use crate::intercom::{Company, Contact, Ticket};
use crate::sync_model::{StoredContact, StoredCustomer, StoredInteraction};

/// An Intercom field by its data-attribute key: `website`, `plan.name`,
/// `custom_attributes.Tier`, `location.city`…
pub trait Fields {
    fn field(&self, key: &str) -> Option<Value>;
}

fn path<'a>(value: &'a Value, rest: &str) -> Option<&'a Value> {
    rest.split('.').try_fold(value, |v, part| v.get(part))
}

fn custom(attributes: &crate::intercom::CustomAttributes, key: &str) -> Option<Value> {
    key.strip_prefix("custom_attributes.").and_then(|name| attributes.get(name).cloned())
}

fn other(attribute: impl FnOnce(&str) -> Option<Value>, key: &str) -> Option<Value> {
    let (head, rest) = key.split_once('.').map_or((key, None), |(h, r)| (h, Some(r)));
    let value = attribute(head)?;
    match rest {
        None => Some(value),
        Some(rest) => path(&value, rest).cloned(),
    }
}

impl Fields for Company {
    fn field(&self, key: &str) -> Option<Value> {
        match key {
            "id" => Some(Value::from(self.id.clone())),
            "company_id" => self.company_id.clone().map(Value::from),
            "name" => self.name.clone().map(Value::from),
            "website" => self.website.clone().map(Value::from),
            "industry" => self.industry.clone().map(Value::from),
            "size" => self.size.map(Value::from),
            "monthly_spend" => self.monthly_spend.map(Value::from),
            "user_count" => self.user_count.map(Value::from),
            "created_at" => self.created_at.map(Value::from),
            "updated_at" => self.updated_at.map(Value::from),
            "plan.name" => self.plan.as_ref().and_then(|p| p.name.clone()).map(Value::from),
            "plan.id" => self.plan.as_ref().and_then(|p| p.id.clone()).map(Value::from),
            k if k.starts_with("custom_attributes.") => custom(&self.custom_attributes, k),
            k => other(|name| self.other(name), k),
        }
    }
}

impl Fields for Contact {
    fn field(&self, key: &str) -> Option<Value> {
        match key {
            "id" => Some(Value::from(self.id.clone())),
            "external_id" => self.external_id.clone().map(Value::from),
            "role" => self.role.clone().map(Value::from),
            "email" => self.email.clone().map(Value::from),
            "name" => self.name.clone().map(Value::from),
            "owner_id" => self.owner_id.clone().map(Value::from),
            "created_at" => self.created_at.map(Value::from),
            "updated_at" => self.updated_at.map(Value::from),
            k if k.starts_with("custom_attributes.") => custom(&self.custom_attributes, k),
            k => other(|name| self.other(name), k),
        }
    }
}

/// A field's value as Skalin stores it: text, with nothing for null or blank.
pub fn text(value: Option<Value>) -> Option<String> {
    let s = match value? {
        Value::Null => return None,
        Value::String(s) => s.trim().to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        other => other.to_string(),
    };
    (!s.is_empty()).then_some(s)
}

/// Whether a yes/no field says yes (a boolean, or text such as "true" or "yes").
pub fn truthy(value: Option<Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "yes" | "1" | "y"),
        _ => false,
    }
}

/// `https://www.Acme.com:443/pricing` → `acme.com`: a website as a customer's domain.
pub fn domain(value: &str) -> Option<String> {
    let s = value.trim();
    let s = s.split_once("://").map_or(s, |(_, rest)| rest);
    let s = s.split(['/', '?', '#']).next().unwrap_or_default();
    let s = s.rsplit_once('@').map_or(s, |(_, host)| host);
    let s = s.split(':').next().unwrap_or_default();
    let s = s.trim_end_matches('.').to_ascii_lowercase();
    let s = s.strip_prefix("www.").unwrap_or(&s).to_string();
    (!s.is_empty()).then_some(s)
}

/// Why a record cannot be written, in words an admin can act on.
pub type Refusal = String;

/// The customer an Intercom company becomes, on top of the row Skalin has (if any).
/// Unmapped fields keep Skalin's value: they belong to Skalin.
pub fn customer(
    company: &Company,
    settings: &CustomerSettings,
    existing: Option<&StoredCustomer>,
    run_id: i64,
) -> Result<StoredCustomer, Refusal> {
    let key = settings.field_of(Mapping::CustomerId).unwrap_or(INTERCOM_ID);
    let external_id = text(company.field(key))
        .ok_or_else(|| format!("The company has no value in \"{key}\", the field mapped to the customer ID."))?;
    let mapped = |mapping: Mapping| settings.field_of(mapping).map(|k| text(company.field(k)));
    let name = company
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| company.company_id.clone())
        .unwrap_or_else(|| company.id.clone());
    let mut row = existing.cloned().unwrap_or(StoredCustomer {
        id: 0,
        external_id: String::new(),
        intercom_id: None,
        name: String::new(),
        domain: None,
        csm_owner: None,
        stage: None,
        profile: None,
        health_score: None,
        csm_pulse: None,
        intercom_updated_at: None,
        synced_run: None,
        churned_at: None,
    });
    row.external_id = external_id;
    row.intercom_id = Some(company.id.clone());
    row.name = name;
    // Every mapping is named here, so that a new one cannot be forgotten by the sync.
    for mapping in Mapping::ALL {
        match mapping {
            Mapping::CustomerDomain => {
                if let Some(value) = mapped(mapping) {
                    row.domain = value.as_deref().and_then(domain);
                }
            }
            Mapping::CsmOwner => {
                if let Some(value) = mapped(mapping) {
                    row.csm_owner = value;
                }
            }
            Mapping::CustomerStage => match mapped(mapping) {
                Some(value) => row.stage = value,
                // Back in Intercom after a churn, with no stage mapped: no longer churned.
                None if row.churned_at.is_some() => row.stage = None,
                None => {}
            },
            Mapping::CustomerProfile => {
                if let Some(value) = mapped(mapping) {
                    row.profile = value;
                }
            }
            // The customer ID is read above; the others are the contacts' mappings.
            Mapping::CustomerId
            | Mapping::ContactId
            | Mapping::Champion
            | Mapping::Sponsor
            | Mapping::KeyUser
            | Mapping::EndUser => {}
        }
    }
    row.churned_at = None;
    row.intercom_updated_at = company.updated_at;
    row.synced_run = Some(run_id);
    Ok(row)
}

/// The tag names a contact carries, as far as the embedded list shows.
pub fn tag_names<'a>(contact: &Contact, tags_by_id: &'a HashMap<String, String>) -> HashSet<&'a str> {
    contact.tags.data.iter().filter_map(|t| tags_by_id.get(&t.id).map(String::as_str)).collect()
}

/// The strongest role a contact has by the mappings; `None` when no role is mapped at all.
pub fn role(contact: &Contact, settings: &ContactSettings, tags: &HashSet<&str>) -> Option<Option<String>> {
    let sources = role_sources(settings);
    if sources.iter().all(|(_, s)| s.is_none()) {
        return None;
    }
    let found = sources.iter().find(|(_, source)| match source {
        Some(RoleSource::Field(key)) => truthy(contact.field(key)),
        Some(RoleSource::Tag(name)) => tags.contains(name.as_str()),
        None => false,
    });
    Some(found.map(|(role, _)| role.to_string()))
}

/// Each Skalin role with where it is read from, strongest first: a contact that is both
/// gets the first.
pub fn role_sources(settings: &ContactSettings) -> Vec<(&'static str, Option<&RoleSource>)> {
    Mapping::ALL.into_iter().filter_map(|mapping| Some((mapping.role_name()?, settings.role(mapping)))).collect()
}

/// Whether the embedded tags (at most 10) may hide a stronger role than they show.
pub fn needs_all_tags(contact: &Contact, settings: &ContactSettings, role: &Option<Option<String>>) -> bool {
    if !contact.tags.has_more {
        return false;
    }
    let sources = role_sources(settings);
    let rank = |role: &str| sources.iter().position(|(r, _)| *r == role);
    let strongest_tag_role = sources.iter().find(|(_, s)| matches!(s, Some(RoleSource::Tag(_)))).map(|(r, _)| *r);
    match (strongest_tag_role, role) {
        (None, _) => false,
        (Some(best), Some(Some(found))) => rank(best) < rank(found),
        (Some(_), _) => true,
    }
}

/// The contact a Intercom contact becomes. `customer_id` is the Skalin customer of its
/// first known company; `role` comes from [`role`].
pub fn contact(
    source: &Contact,
    settings: &ContactSettings,
    existing: Option<&StoredContact>,
    customer_id: Option<i64>,
    role: Option<Option<String>>,
    run_id: i64,
) -> Result<StoredContact, Refusal> {
    let key = settings.field_of(Mapping::ContactId).unwrap_or(INTERCOM_ID);
    let external_id = text(source.field(key))
        .ok_or_else(|| format!("The contact has no value in \"{key}\", the field mapped to the contact ID."))?;
    let name = source
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| source.email.clone())
        .unwrap_or_else(|| source.id.clone());
    let mut row = existing.cloned().unwrap_or(StoredContact {
        id: 0,
        external_id: String::new(),
        intercom_id: None,
        name: String::new(),
        email: None,
        customer_id: None,
        role_tag: None,
        intercom_updated_at: None,
        synced_run: None,
    });
    row.external_id = external_id;
    row.intercom_id = Some(source.id.clone());
    row.name = name;
    row.email = source.email.clone().filter(|e| !e.trim().is_empty());
    row.customer_id = customer_id;
    if let Some(role) = role {
        row.role_tag = role;
    }
    row.intercom_updated_at = source.updated_at;
    row.synced_run = Some(run_id);
    Ok(row)
}

/// The interaction a ticket becomes, linked to its first contact and that contact's customer.
pub fn interaction(
    ticket: &Ticket,
    existing: Option<&StoredInteraction>,
    contact: Option<(i64, Option<i64>)>,
    run_id: i64,
) -> StoredInteraction {
    let title = ticket
        .title()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("Ticket {}", ticket.ticket_id.as_deref().unwrap_or(&ticket.id)));
    let state = ticket.ticket_state.as_ref().and_then(|s| s.internal_label.clone().or_else(|| s.category.clone()));
    StoredInteraction {
        id: existing.map_or(0, |e| e.id),
        intercom_id: Some(ticket.id.clone()),
        title,
        state,
        contact_id: contact.map(|c| c.0),
        customer_id: contact.and_then(|c| c.1),
        created_at: ticket.created_at.or(existing.map(|e| e.created_at)).unwrap_or_default(),
        intercom_updated_at: ticket.updated_at,
        synced_run: Some(run_id),
    }
}

/// Whether two versions of a row differ in anything a user sees (not the bookkeeping).
pub fn customer_changed(a: &StoredCustomer, b: &StoredCustomer) -> bool {
    (
        &a.external_id,
        &a.intercom_id,
        &a.name,
        &a.domain,
        &a.csm_owner,
        &a.stage,
        &a.profile,
        a.churned_at,
        a.health_score,
        &a.csm_pulse,
    ) != (
        &b.external_id,
        &b.intercom_id,
        &b.name,
        &b.domain,
        &b.csm_owner,
        &b.stage,
        &b.profile,
        b.churned_at,
        b.health_score,
        &b.csm_pulse,
    )
}

pub fn contact_changed(a: &StoredContact, b: &StoredContact) -> bool {
    (&a.external_id, &a.intercom_id, &a.name, &a.email, a.customer_id, &a.role_tag)
        != (&b.external_id, &b.intercom_id, &b.name, &b.email, b.customer_id, &b.role_tag)
}

pub fn interaction_changed(a: &StoredInteraction, b: &StoredInteraction) -> bool {
    (&a.intercom_id, &a.title, &a.state, a.contact_id, a.customer_id, a.created_at)
        != (&b.intercom_id, &b.title, &b.state, b.contact_id, b.customer_id, b.created_at)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::IntegrationSettings;

    fn company(json: Value) -> Company {
        serde_json::from_value(json).unwrap()
    }

    fn contact_json(json: Value) -> Contact {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_website_becomes_a_bare_domain() {
        assert_eq!(domain("https://www.Acme.com:443/pricing?x=1").as_deref(), Some("acme.com"));
        assert_eq!(domain("acme.io").as_deref(), Some("acme.io"));
        assert_eq!(domain("  "), None);
    }

    #[test]
    fn fields_are_read_by_their_data_attribute_keys() {
        let c = company(json!({
            "id": "c1", "company_id": "cmp-1", "plan": {"name": "Pro"},
            "custom_attributes": {"Tier": "Gold", "Health Score": 80},
            "last_request_at": 1700000000, "segments": {"segments": []}
        }));
        assert_eq!(text(c.field("plan.name")).as_deref(), Some("Pro"));
        assert_eq!(text(c.field("custom_attributes.Tier")).as_deref(), Some("Gold"));
        assert_eq!(text(c.field("custom_attributes.Health Score")).as_deref(), Some("80"));
        assert_eq!(text(c.field("last_request_at")).as_deref(), Some("1700000000"));
        assert_eq!(text(c.field("custom_attributes.Missing")), None);
    }

    #[test]
    fn a_customer_takes_its_id_from_the_mapped_field_and_keeps_unmapped_values() {
        let mut settings = IntegrationSettings::default().customers;
        settings.id_field = Some("company_id".into());
        settings.stage_field = Some("custom_attributes.Tier".into());
        let existing = StoredCustomer {
            id: 7,
            external_id: "old".into(),
            intercom_id: Some("c1".into()),
            name: "Old".into(),
            domain: None,
            csm_owner: Some("Skalin's own".into()),
            stage: None,
            profile: None,
            health_score: None,
            csm_pulse: None,
            intercom_updated_at: None,
            synced_run: None,
            churned_at: None,
        };
        let c = company(json!({"id": "c1", "company_id": "cmp-1", "name": "Acme", "website": "https://acme.com",
                               "custom_attributes": {"Tier": "Gold"}}));
        let row = customer(&c, &settings, Some(&existing), 3).unwrap();
        assert_eq!(row.id, 7);
        assert_eq!(row.external_id, "cmp-1");
        assert_eq!(row.domain.as_deref(), Some("acme.com"));
        assert_eq!(row.stage.as_deref(), Some("Gold"));
        assert_eq!(row.csm_owner.as_deref(), Some("Skalin's own"));
        assert_eq!(row.synced_run, Some(3));
    }

    #[test]
    fn every_mapped_company_field_fills_its_column() {
        let mut settings = IntegrationSettings::default();
        let mapped = [
            (Mapping::CustomerDomain, "Web"),
            (Mapping::CsmOwner, "Owner"),
            (Mapping::CustomerStage, "Stage"),
            (Mapping::CustomerProfile, "Profile"),
        ];
        for (mapping, name) in mapped {
            settings.set_field(mapping, Some(format!("custom_attributes.{name}")));
        }
        let c = company(json!({"id": "c1", "custom_attributes":
            {"Web": "https://www.acme.com/", "Owner": "ada@acme.com", "Stage": "Onboarding", "Profile": "SMB"}}));
        let row = customer(&c, &settings.customers, None, 1).unwrap();
        let columns = [row.domain, row.csm_owner, row.stage, row.profile];
        assert_eq!(columns.map(|c| c.unwrap_or_default()), ["acme.com", "ada@acme.com", "Onboarding", "SMB"]);
    }

    #[test]
    fn roles_are_read_strongest_first_as_the_table_lists_them() {
        let mut settings = IntegrationSettings::default().contacts;
        settings.end_user = Some(RoleSource::Tag("User".into()));
        let sources = role_sources(&settings);
        let names: Vec<_> = sources.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, crate::domain::CONTACT_ROLES);
        assert_eq!(sources[3].1, Some(&RoleSource::Tag("User".into())));
        assert!(sources[..3].iter().all(|(_, source)| source.is_none()));
    }

    #[test]
    fn a_company_without_the_mapped_id_is_refused_with_the_field_named() {
        let mut settings = IntegrationSettings::default().customers;
        settings.id_field = Some("company_id".into());
        let refusal = customer(&company(json!({"id": "c1"})), &settings, None, 1).unwrap_err();
        assert!(refusal.contains("\"company_id\""), "{refusal}");
    }

    #[test]
    fn a_churned_customer_back_in_intercom_is_no_longer_churned() {
        let settings = IntegrationSettings::default().customers;
        let mut existing = customer(&company(json!({"id": "c1", "name": "A"})), &settings, None, 1).unwrap();
        existing.stage = Some("churn".into());
        existing.churned_at = Some(5);
        let row = customer(&company(json!({"id": "c1", "name": "A"})), &settings, Some(&existing), 2).unwrap();
        assert_eq!((row.stage, row.churned_at), (None, None));
    }

    #[test]
    fn the_strongest_mapped_role_wins_from_fields_and_tags() {
        let mut settings = IntegrationSettings::default().contacts;
        settings.champion = Some(RoleSource::Tag("Champion".into()));
        settings.key_user = Some(RoleSource::Field("custom_attributes.Is Admin".into()));
        let c = contact_json(json!({"id": "p1", "custom_attributes": {"Is Admin": true}}));
        let none = HashSet::new();
        assert_eq!(role(&c, &settings, &none), Some(Some("Key user".into())));
        let champion: HashSet<&str> = ["Champion"].into();
        assert_eq!(role(&c, &settings, &champion), Some(Some("Champion".into())));
        let plain = contact_json(json!({"id": "p2"}));
        assert_eq!(role(&plain, &settings, &none), Some(None));
        assert_eq!(role(&plain, &IntegrationSettings::default().contacts, &none), None);
    }

    #[test]
    fn more_tags_are_fetched_only_when_they_could_change_the_role() {
        let mut settings = IntegrationSettings::default().contacts;
        settings.sponsor = Some(RoleSource::Tag("Sponsor".into()));
        let many = contact_json(json!({"id": "p", "tags": {"data": [], "has_more": true}}));
        let few = contact_json(json!({"id": "p", "tags": {"data": [], "has_more": false}}));
        assert!(needs_all_tags(&many, &settings, &Some(None)));
        assert!(!needs_all_tags(&few, &settings, &Some(None)));
        assert!(!needs_all_tags(&many, &settings, &Some(Some("Sponsor".into()))));
    }
}
