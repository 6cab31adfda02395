//! The rules that decide whether a set of choices may be saved.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{
    FieldModel, IntegrationSettings, IntercomFields, Mapping, RoleSource, ScheduleSettings, SyncMode, SyncObject,
    INTERCOM_ID,
};

/// Why one setting cannot be saved, under the key of the control that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub key: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Checks a set of choices against the rules and the live Intercom fields. Every problem
/// is reported, each under its control's key, so the page can show them all at once.
pub fn validate(settings: &IntegrationSettings, fields: &IntercomFields) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut fail = |key: &str, message: String| errors.push(FieldError { key: key.to_string(), message });

    let modes = [
        ("customers.mode", SyncObject::Customers, settings.customers.mode),
        ("contacts.mode", SyncObject::Contacts, settings.contacts.mode),
        ("interactions.mode", SyncObject::Interactions, settings.interactions.mode),
    ];
    for (key, object, mode) in modes {
        if !object.valid_modes().contains(&mode) {
            let valid: Vec<_> = object.valid_modes().iter().map(|m| m.label()).collect();
            fail(key, format!("{} cannot be {}: choose {}.", object.label(), mode.label(), valid.join(" or ")));
        }
    }

    let c = &settings.customers;
    if !(1..=100).contains(&c.churn_max_percent) {
        fail("customers.churn_max_percent", "The churn threshold must be between 1 and 100 %.".to_string());
    }
    if c.churn_enabled && !c.mode.reads() {
        fail(
            "customers.churn_enabled",
            "Churn detection needs customers to be read from Intercom (Input only or Two-ways).".to_string(),
        );
    }
    if settings.contacts.mode != SyncMode::Disabled && c.mode == SyncMode::Disabled {
        fail("contacts.mode", "Contacts belong to customers: enable customers first, or disable contacts.".to_string());
    }
    if c.create_in_intercom && !c.mode.writes() {
        fail(
            "customers.create_in_intercom",
            "Creating companies in Intercom needs customers in Output only or Two-ways.".to_string(),
        );
    }
    if c.create_in_intercom && c.id_field.as_deref() != Some("company_id") {
        fail(
            "customers.create_in_intercom",
            "Creating companies in Intercom needs the customer ID mapped to Intercom's company_id, the only ID Skalin can give a new company.".to_string(),
        );
    }
    let k = &settings.contacts;
    if k.create_in_intercom && !k.mode.writes() {
        fail(
            "contacts.create_in_intercom",
            "Creating contacts in Intercom needs contacts in Output only or Two-ways.".to_string(),
        );
    }
    if k.create_in_intercom && !matches!(k.id_field.as_deref(), Some("external_id" | "email")) {
        fail(
            "contacts.create_in_intercom",
            "Creating contacts in Intercom needs the contact ID mapped to Intercom's external_id or email, the IDs Skalin can give a new contact.".to_string(),
        );
    }
    if let Some(m) = settings.schedule.every_minutes {
        if !(ScheduleSettings::MIN_MINUTES..=ScheduleSettings::MAX_MINUTES).contains(&m) {
            fail(
                "schedule.every_minutes",
                format!(
                    "Runs can be scheduled every {} minutes to once a week ({} minutes).",
                    ScheduleSettings::MIN_MINUTES,
                    ScheduleSettings::MAX_MINUTES
                ),
            );
        }
    }
    if settings.data_transfer.upload_scores && c.mode == SyncMode::Disabled {
        fail("data_transfer.upload_scores", "Uploading scores needs customers to be synchronized.".to_string());
    }

    for mapping in Mapping::ALL.into_iter().filter(|m| m.is_id()) {
        let mode = settings.mode_of(mapping);
        match settings.field_of(mapping) {
            None if mode != SyncMode::Disabled => {
                fail(mapping.key(), format!("{} is needed while {} is {}.", mapping.label(), object_of(mapping).label(), mode.label()));
            }
            Some(INTERCOM_ID) if mode.writes() => fail(
                mapping.key(),
                format!(
                    "{} cannot be Intercom's id in {}: Skalin creates records there and must write their ID. Pick a field Skalin can write.",
                    mapping.label(),
                    mode.label()
                ),
            ),
            _ => {}
        }
    }

    for mapping in Mapping::ALL {
        if let Some(key) = settings.field_of(mapping) {
            match fields.field(mapping.model(), key) {
                None => fail(
                    mapping.key(),
                    format!("{}: Intercom has no field \"{key}\" (it may have been deleted).", mapping.label()),
                ),
                Some(f) if f.archived => {
                    fail(mapping.key(), format!("{}: \"{}\" is archived in Intercom.", mapping.label(), f.label))
                }
                Some(f) if !mapping.accepts(f.data_type) => fail(
                    mapping.key(),
                    format!(
                        "{}: \"{}\" is a {} field; this mapping needs {}.",
                        mapping.label(),
                        f.label,
                        f.data_type.label(),
                        mapping.accepted_types()
                    ),
                ),
                Some(_) => {}
            }
        }
        if let Some(RoleSource::Tag(name)) = settings.role(mapping) {
            if fields.tag(name).is_none() {
                fail(mapping.key(), format!("{}: Intercom has no tag \"{name}\".", mapping.label()));
            }
        }
    }

    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn object_of(mapping: Mapping) -> SyncObject {
    match mapping.model() {
        FieldModel::Company => SyncObject::Customers,
        FieldModel::Contact => SyncObject::Contacts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settings::fields::tests::catalogue;

    fn keys(errors: Result<(), Vec<FieldError>>) -> Vec<String> {
        errors.err().unwrap_or_default().into_iter().map(|e| e.key).collect()
    }

    #[test]
    fn creating_contacts_in_intercom_needs_a_writing_mode_and_an_id_skalin_can_give() {
        let mut s = IntegrationSettings::default();
        s.contacts.create_in_intercom = true;
        s.contacts.id_field = Some("external_id".into());
        assert_eq!(keys(validate(&s, &catalogue())), ["contacts.create_in_intercom"], "Input only does not write");
        s.contacts.mode = SyncMode::TwoWays;
        assert_eq!(validate(&s, &catalogue()), Ok(()));
        s.contacts.id_field = Some(crate::domain::INTERCOM_ID.into());
        let refused = keys(validate(&s, &catalogue()));
        assert!(
            refused.contains(&"contacts.create_in_intercom".to_string()),
            "Intercom's own id cannot be given: {refused:?}"
        );
    }

    #[test]
    fn the_first_set_up_is_valid_as_suggested() {
        assert_eq!(validate(&IntegrationSettings::default(), &catalogue()), Ok(()));
    }

    #[test]
    fn tickets_cannot_be_written_to_intercom() {
        let mut s = IntegrationSettings::default();
        s.interactions.mode = SyncMode::TwoWays;
        assert_eq!(keys(validate(&s, &catalogue())), ["interactions.mode"]);
    }

    #[test]
    fn a_mapping_to_a_missing_archived_or_mistyped_field_is_refused() {
        let mut s = IntegrationSettings::default();
        s.customers.stage_field = Some("custom_attributes.Gone".into());
        s.customers.profile_field = Some("custom_attributes.Legacy".into());
        s.customers.domain_field = Some("size".into());
        assert_eq!(
            keys(validate(&s, &catalogue())),
            ["customers.domain_field", "customers.stage_field", "customers.profile_field"]
        );
    }

    #[test]
    fn an_enabled_object_needs_its_id_mapping() {
        let mut s = IntegrationSettings::default();
        s.customers.id_field = None;
        assert_eq!(keys(validate(&s, &catalogue())), ["customers.id_field"]);
        s.customers.mode = SyncMode::Disabled;
        s.contacts.mode = SyncMode::Disabled;
        assert_eq!(validate(&s, &catalogue()), Ok(()));
    }

    #[test]
    fn writing_to_intercom_needs_an_id_skalin_can_write() {
        let mut s = IntegrationSettings::default();
        s.customers.mode = SyncMode::TwoWays;
        assert_eq!(keys(validate(&s, &catalogue())), ["customers.id_field"]);
        s.customers.id_field = Some("company_id".into());
        assert_eq!(validate(&s, &catalogue()), Ok(()));
    }

    #[test]
    fn roles_take_yes_no_fields_or_existing_tags() {
        let mut s = IntegrationSettings::default();
        s.contacts.champion = Some(RoleSource::Tag("Champion".into()));
        s.contacts.sponsor = Some(RoleSource::Field("custom_attributes.Is Admin".into()));
        assert_eq!(validate(&s, &catalogue()), Ok(()));
        s.contacts.key_user = Some(RoleSource::Tag("Nobody".into()));
        s.contacts.end_user = Some(RoleSource::Field("external_id".into()));
        assert_eq!(keys(validate(&s, &catalogue())), ["contacts.key_user", "contacts.end_user"]);
    }

    #[test]
    fn churn_needs_customers_read_and_a_sane_threshold() {
        let mut s = IntegrationSettings::default();
        s.customers.churn_enabled = true;
        s.customers.churn_max_percent = 0;
        s.customers.mode = SyncMode::OutputOnly;
        s.customers.id_field = Some("company_id".into());
        assert_eq!(keys(validate(&s, &catalogue())), ["customers.churn_max_percent", "customers.churn_enabled"]);
    }
}
