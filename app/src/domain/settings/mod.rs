//! The Intercom integration settings: what an admin chooses on the settings page, the
//! Intercom fields those choices refer to, and the pure rules that decide whether a set
//! of choices may be saved. Shared by the server, the browser and the command line.
//!
//! By job: `modes` (which way data flows, the schedule), `fields` (Intercom's fields),
//! `mappings` (the table of mappings), `validate` (the rules), `changes` (the change
//! history's words), `churn` (the churn preview).

mod changes;
mod churn;
mod fields;
mod mappings;
mod modes;
mod validate;

pub use changes::*;
pub use churn::*;
pub use fields::*;
pub use mappings::*;
pub use modes::*;
pub use validate::*;

use serde::{Deserialize, Serialize};

/// How Two-ways settles a field both sides changed, as the settings page states it.
pub const CONFLICT_RULE: &str = "When a field changed on both sides since the last run, the most recent change wins, field by field. An empty value never overwrites a filled one.";

/// Everything the admin sets on the page, saved as one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationSettings {
    pub customers: CustomerSettings,
    pub contacts: ContactSettings,
    pub interactions: InteractionSettings,
    pub data_transfer: DataTransferSettings,
    /// Absent from documents saved before runs had a schedule.
    #[serde(default)]
    pub schedule: ScheduleSettings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerSettings {
    pub mode: SyncMode,
    /// Customers no longer found in Intercom get stage = churn (never deleted).
    pub churn_enabled: bool,
    /// A run that would churn more than this share of the customers waits for confirmation.
    pub churn_max_percent: u8,
    /// Output and Two-ways: customers Intercom does not know yet become companies there.
    /// Off by default: an explicit choice.
    #[serde(default)]
    pub create_in_intercom: bool,
    pub id_field: Option<String>,
    pub domain_field: Option<String>,
    pub csm_owner_field: Option<String>,
    pub stage_field: Option<String>,
    pub profile_field: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactSettings {
    pub mode: SyncMode,
    /// Output and Two-ways: contacts Intercom does not know yet become contacts there.
    /// Off by default: an explicit choice.
    #[serde(default)]
    pub create_in_intercom: bool,
    pub id_field: Option<String>,
    pub champion: Option<RoleSource>,
    pub sponsor: Option<RoleSource>,
    pub key_user: Option<RoleSource>,
    pub end_user: Option<RoleSource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InteractionSettings {
    pub mode: SyncMode,
    pub import_window: ImportWindow,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataTransferSettings {
    /// Upload Healthscore and CSM Pulse to two company attributes.
    pub upload_scores: bool,
}

impl Default for IntegrationSettings {
    /// The first set-up: everything read-only from Intercom (the page suggests Input only).
    fn default() -> Self {
        Self {
            customers: CustomerSettings {
                mode: SyncMode::InputOnly,
                churn_enabled: false,
                churn_max_percent: 10,
                create_in_intercom: false,
                id_field: Some(INTERCOM_ID.to_string()),
                domain_field: Some("website".to_string()),
                csm_owner_field: None,
                stage_field: None,
                profile_field: None,
            },
            contacts: ContactSettings {
                mode: SyncMode::InputOnly,
                create_in_intercom: false,
                id_field: Some(INTERCOM_ID.to_string()),
                champion: None,
                sponsor: None,
                key_user: None,
                end_user: None,
            },
            interactions: InteractionSettings { mode: SyncMode::InputOnly, import_window: ImportWindow::Days90 },
            data_transfer: DataTransferSettings { upload_scores: false },
            schedule: ScheduleSettings::default(),
        }
    }
}

/// One saved change: who, when, what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsChange {
    pub changed_at: i64,
    pub changed_by: String,
    pub summary: Vec<String>,
}

/// The settings as saved (or the suggested first set-up), with the change history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsSnapshot {
    pub settings: IntegrationSettings,
    /// None until the first Save: the page then shows the suggested set-up.
    pub saved_at: Option<i64>,
    pub saved_by: Option<String>,
    pub history: Vec<SettingsChange>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The saved and exported document, key for key: existing documents must still load.
    #[test]
    fn the_settings_document_keeps_its_shape() {
        let mut settings = IntegrationSettings::default();
        settings.customers.stage_field = Some("custom_attributes.Tier".into());
        settings.contacts.champion = Some(RoleSource::Tag("Champion".into()));
        settings.contacts.sponsor = Some(RoleSource::Field("custom_attributes.Is Admin".into()));
        let document = json!({
            "customers": {
                "mode": "input_only", "churn_enabled": false, "churn_max_percent": 10, "create_in_intercom": false,
                "id_field": "id", "domain_field": "website", "csm_owner_field": null,
                "stage_field": "custom_attributes.Tier", "profile_field": null
            },
            "contacts": {
                "mode": "input_only", "create_in_intercom": false, "id_field": "id",
                "champion": {"tag": "Champion"}, "sponsor": {"field": "custom_attributes.Is Admin"},
                "key_user": null, "end_user": null
            },
            "interactions": {"mode": "input_only", "import_window": "90_days"},
            "data_transfer": {"upload_scores": false},
            "schedule": {"every_minutes": null}
        });
        assert_eq!(serde_json::to_value(&settings).unwrap(), document);
        let mut older = document.clone();
        for (object, key) in [("customers", "create_in_intercom"), ("contacts", "create_in_intercom")] {
            older[object].as_object_mut().unwrap().remove(key);
        }
        older.as_object_mut().unwrap().remove("schedule");
        assert_eq!(serde_json::from_value::<IntegrationSettings>(older).unwrap(), settings, "documents saved before");
    }
}
