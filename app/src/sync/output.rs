//! Skalin → Intercom: which side's value a field keeps, and the writes that carry
//! Skalin's values to the mapped Intercom fields. The decisions are pure functions.

use std::collections::HashMap;

use serde_json::Value;

use crate::domain::{
    CustomerField, CustomerSettings, DataType, IntegrationSettings, RoleSource, SyncMode, CSM_PULSE_ATTRIBUTE,
    HEALTHSCORE_ATTRIBUTE,
};
use crate::intercom::{CompanyUpdate, CompanyUpsert, ContactUpdate, CustomAttributes};
use crate::sync_model::{PendingEdit, StoredCustomer};

/// What a run does with one field of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Both sides agree.
    Keep,
    /// Intercom's value goes into Skalin.
    TakeIntercom,
    /// Skalin's value goes to Intercom.
    PushSkalin,
}

/// The conflict rule ([`crate::domain::CONFLICT_RULE`]): in Two-ways, when both sides
/// changed a field since the last run the later change wins; an empty value never
/// overwrites a filled one. `pending` is Skalin's unsent edit, if any, with the value
/// Intercom had when it was made; `intercom_updated_at` is when Intercom last changed the
/// record (Intercom keeps no per-field times, so the record's time stands for each field).
pub fn resolve(
    mode: SyncMode,
    skalin: Option<&str>,
    intercom: Option<&str>,
    pending: Option<&PendingEdit>,
    intercom_updated_at: Option<i64>,
) -> Resolution {
    if skalin == intercom {
        return Resolution::Keep;
    }
    match mode {
        SyncMode::Disabled => Resolution::Keep,
        SyncMode::InputOnly => Resolution::TakeIntercom,
        SyncMode::OutputOnly => {
            if skalin.is_some() {
                Resolution::PushSkalin
            } else {
                Resolution::Keep
            }
        }
        SyncMode::TwoWays => match pending {
            Some(edit) => {
                let intercom_changed_too = intercom != edit.base.as_deref();
                let intercom_later = intercom_updated_at.is_some_and(|at| at > edit.changed_at);
                if intercom.is_some() && (skalin.is_none() || (intercom_changed_too && intercom_later)) {
                    Resolution::TakeIntercom
                } else {
                    Resolution::PushSkalin
                }
            }
            None if intercom.is_some() => Resolution::TakeIntercom,
            None => Resolution::PushSkalin,
        },
    }
}

/// A Skalin field that may be written to an Intercom field, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writable {
    /// The Skalin field, as the outbox queues it.
    pub field: CustomerField,
    /// The Intercom data-attribute key.
    pub key: String,
    pub mode: SyncMode,
}

/// The customer fields a run may write, and under which mode: stage and CSM owner follow
/// the customers' mode; the scores are only ever pushed, when the upload is on.
pub fn customer_writables(settings: &IntegrationSettings) -> Vec<Writable> {
    let c: &CustomerSettings = &settings.customers;
    let mut out = Vec::new();
    if c.mode.writes() {
        if let Some(key) = &c.stage_field {
            out.push(Writable { field: CustomerField::Stage, key: key.clone(), mode: c.mode });
        }
        if let Some(key) = &c.csm_owner_field {
            out.push(Writable { field: CustomerField::CsmOwner, key: key.clone(), mode: c.mode });
        }
    }
    if settings.data_transfer.upload_scores && c.mode != SyncMode::Disabled {
        out.push(Writable {
            field: CustomerField::HealthScore,
            key: format!("custom_attributes.{}", HEALTHSCORE_ATTRIBUTE.0),
            mode: SyncMode::OutputOnly,
        });
        out.push(Writable {
            field: CustomerField::CsmPulse,
            key: format!("custom_attributes.{}", CSM_PULSE_ATTRIBUTE.0),
            mode: SyncMode::OutputOnly,
        });
    }
    out
}

pub fn customer_value(c: &StoredCustomer, field: CustomerField) -> Option<String> {
    match field {
        CustomerField::Stage => c.stage.clone(),
        CustomerField::CsmOwner => c.csm_owner.clone(),
        CustomerField::CsmPulse => c.csm_pulse.clone(),
        CustomerField::HealthScore => c.health_score.map(|h| h.to_string()),
    }
}

pub fn set_customer_value(c: &mut StoredCustomer, field: CustomerField, value: Option<String>) {
    match field {
        CustomerField::Stage => c.stage = value,
        CustomerField::CsmOwner => c.csm_owner = value,
        CustomerField::CsmPulse => c.csm_pulse = value,
        CustomerField::HealthScore => c.health_score = value.and_then(|v| v.parse().ok()),
    }
}

/// Skalin's text as the Intercom attribute's type.
pub fn typed(value: &str, data_type: DataType) -> Result<Value, String> {
    let bad = || format!("\"{value}\" is not a valid {} for Intercom", data_type.label().to_lowercase());
    Ok(match data_type {
        DataType::Integer | DataType::Date => Value::from(value.trim().parse::<i64>().map_err(|_| bad())?),
        DataType::Float => Value::from(value.trim().parse::<f64>().map_err(|_| bad())?),
        DataType::Boolean => match value.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Value::Bool(true),
            "false" | "no" | "0" => Value::Bool(false),
            _ => return Err(bad()),
        },
        DataType::String | DataType::Other => Value::from(value),
    })
}

/// The company fields Intercom lets an app write, besides custom attributes.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CompanyWrite {
    pub name: Option<String>,
    pub website: Option<String>,
    pub industry: Option<String>,
    pub size: Option<i64>,
    pub monthly_spend: Option<i64>,
    pub custom_attributes: CustomAttributes,
}

impl CompanyWrite {
    pub fn is_empty(&self) -> bool {
        *self == CompanyWrite::default()
    }

    /// Adds one field; refuses a field Intercom does not let an app write.
    pub fn set(&mut self, key: &str, value: &str, types: &HashMap<String, DataType>) -> Result<(), String> {
        let data_type = types.get(key).copied().unwrap_or(DataType::String);
        match key {
            "name" => self.name = Some(value.to_string()),
            "website" => self.website = Some(value.to_string()),
            "industry" => self.industry = Some(value.to_string()),
            "size" => self.size = typed(value, DataType::Integer)?.as_i64(),
            "monthly_spend" => self.monthly_spend = typed(value, DataType::Float)?.as_f64().map(|f| f as i64),
            k => match k.strip_prefix("custom_attributes.") {
                Some(name) => {
                    self.custom_attributes.insert(name.to_string(), typed(value, data_type)?);
                }
                None => return Err(format!("Intercom does not let apps write the company field \"{k}\".")),
            },
        }
        Ok(())
    }

    pub fn update(self) -> CompanyUpdate {
        CompanyUpdate {
            name: self.name,
            website: self.website,
            industry: self.industry,
            size: self.size,
            monthly_spend: self.monthly_spend,
            custom_attributes: self.custom_attributes,
        }
    }

    pub fn upsert(self, company_id: String) -> CompanyUpsert {
        CompanyUpsert {
            company_id,
            name: self.name,
            website: self.website,
            industry: self.industry,
            size: self.size,
            monthly_spend: self.monthly_spend,
            custom_attributes: self.custom_attributes,
        }
    }
}

/// What writing a contact's role takes: tags to add and remove (by name), and yes/no
/// fields to set.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RoleWrite {
    pub add_tags: Vec<String>,
    pub remove_tags: Vec<String>,
    pub update: Option<ContactUpdate>,
}

/// The writes that give a contact exactly `role` among the mapped roles: its source set,
/// the other roles' sources cleared.
pub fn role_write(
    role: Option<&str>,
    sources: &[(&'static str, Option<&RoleSource>)],
    has_tag: impl Fn(&str) -> bool,
    field_is_set: impl Fn(&str) -> bool,
) -> Result<RoleWrite, String> {
    let mut out = RoleWrite::default();
    let mut attributes = CustomAttributes::new();
    for (name, source) in sources {
        let want = role == Some(*name);
        match source {
            Some(RoleSource::Tag(tag)) => {
                if want && !has_tag(tag) {
                    out.add_tags.push(tag.clone());
                } else if !want && has_tag(tag) {
                    out.remove_tags.push(tag.clone());
                }
            }
            Some(RoleSource::Field(key)) if want != field_is_set(key) => {
                let attribute = key
                    .strip_prefix("custom_attributes.")
                    .ok_or_else(|| format!("Intercom does not let apps write the contact field \"{key}\"."))?;
                attributes.insert(attribute.to_string(), Value::Bool(want));
            }
            Some(RoleSource::Field(_)) | None => {}
        }
    }
    if !attributes.is_empty() {
        out.update = Some(ContactUpdate { custom_attributes: attributes, ..ContactUpdate::default() });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(base: Option<&str>, changed_at: i64) -> PendingEdit {
        let field = crate::sync_model::OutboxField::Customer(CustomerField::Stage);
        PendingEdit { record_id: 1, field, value: None, base: base.map(Into::into), changed_at }
    }

    #[test]
    fn each_mode_settles_a_difference_its_own_way() {
        use Resolution::*;
        use SyncMode::*;
        let cases = [
            (InputOnly, Some("a"), Some("b"), None, TakeIntercom),
            (OutputOnly, Some("a"), Some("b"), None, PushSkalin),
            (OutputOnly, None, Some("b"), None, Keep),
            (Disabled, Some("a"), Some("b"), None, Keep),
            (TwoWays, Some("a"), Some("a"), None, Keep),
            // Only Intercom changed since the last run.
            (TwoWays, Some("a"), Some("b"), None, TakeIntercom),
            // Only Skalin changed: Intercom still has the edit's base.
            (TwoWays, Some("new"), Some("old"), Some(edit(Some("old"), 100)), PushSkalin),
        ];
        for (mode, skalin, intercom, pending, expected) in cases {
            assert_eq!(
                resolve(mode, skalin, intercom, pending.as_ref(), Some(200)),
                expected,
                "{mode:?} {skalin:?} {intercom:?}"
            );
        }
    }

    #[test]
    fn when_both_sides_changed_the_later_change_wins() {
        let skalin_edit = edit(Some("old"), 100);
        assert_eq!(
            resolve(SyncMode::TwoWays, Some("sk"), Some("ic"), Some(&skalin_edit), Some(150)),
            Resolution::TakeIntercom
        );
        assert_eq!(
            resolve(SyncMode::TwoWays, Some("sk"), Some("ic"), Some(&skalin_edit), Some(50)),
            Resolution::PushSkalin
        );
    }

    #[test]
    fn an_empty_value_never_overwrites_a_filled_one() {
        // Skalin cleared the field after Intercom's last change: Intercom's value stays.
        let cleared = edit(Some("old"), 300);
        assert_eq!(resolve(SyncMode::TwoWays, None, Some("old"), Some(&cleared), Some(100)), Resolution::TakeIntercom);
        // Intercom cleared it, Skalin has a value: Skalin's goes back.
        assert_eq!(resolve(SyncMode::TwoWays, Some("kept"), None, None, Some(100)), Resolution::PushSkalin);
        let later_empty = edit(Some("old"), 100);
        assert_eq!(resolve(SyncMode::TwoWays, Some("sk"), None, Some(&later_empty), Some(900)), Resolution::PushSkalin);
    }

    #[test]
    fn values_are_typed_for_the_intercom_attribute() {
        assert_eq!(typed("80", DataType::Integer), Ok(Value::from(80)));
        assert_eq!(typed("yes", DataType::Boolean), Ok(Value::Bool(true)));
        assert!(typed("eighty", DataType::Integer).unwrap_err().contains("eighty"));
    }

    #[test]
    fn only_writable_company_fields_are_written() {
        let mut write = CompanyWrite::default();
        let types = HashMap::from([("custom_attributes.Tier".to_string(), DataType::String)]);
        write.set("custom_attributes.Tier", "Gold", &types).unwrap();
        write.set("industry", "SaaS", &types).unwrap();
        assert!(write.set("plan.name", "Pro", &types).unwrap_err().contains("plan.name"));
        let update = write.update();
        assert_eq!(update.custom_attributes["Tier"], Value::from("Gold"));
        assert_eq!(update.industry.as_deref(), Some("SaaS"));
    }

    #[test]
    fn a_role_is_written_by_setting_its_source_and_clearing_the_others() {
        let champion = RoleSource::Tag("Champion".into());
        let key_user = RoleSource::Field("custom_attributes.Is Admin".into());
        let sources =
            [("Champion", Some(&champion)), ("Sponsor", None), ("Key user", Some(&key_user)), ("End user", None)];
        let write = role_write(Some("Champion"), &sources, |_| false, |_| true).unwrap();
        assert_eq!(write.add_tags, vec!["Champion".to_string()]);
        assert_eq!(write.update.unwrap().custom_attributes["Is Admin"], Value::Bool(false));
        let none = role_write(None, &sources, |t| t == "Champion", |_| false).unwrap();
        assert_eq!((none.remove_tags, none.update), (vec!["Champion".to_string()], None));
    }
}
