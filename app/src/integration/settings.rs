use std::collections::HashSet;

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use super::churn::churn_candidates;
use super::{Integration, IntegrationError, Result};
use crate::domain::{
    describe_changes, validate, ChurnPreview, DataType, FieldOption, IntegrationSettings, IntercomFields, PageRequest,
    SettingsChange, SettingsSnapshot, TagOption, CSM_PULSE_ATTRIBUTE, CUSTOM_ATTRIBUTE_LIMIT, HEALTHSCORE_ATTRIBUTE,
};
use crate::intercom::{DataAttribute, Model, NewDataAttribute};

/// Names the export format, so that an import knows what it is reading.
pub const EXPORT_FORMAT: &str = "skalin.intercom.settings/v1";
const HISTORY_SHOWN: u32 = 20;
const UPLOAD_KEY: &str = "data_transfer.upload_scores";

/// The file `Export` writes and `Import` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsExport {
    pub format: String,
    pub settings: IntegrationSettings,
}

impl Integration {
    /// The live company and contact fields (archived ones included, marked) and the tags.
    pub async fn fields(&self) -> Result<IntercomFields> {
        let client = self.client().await?;
        let company = self.checked(client.data_attributes(Model::Company, true).await).await?;
        let contact = self.checked(client.data_attributes(Model::Contact, true).await).await?;
        let tags = self.checked(client.tags().await).await?;
        let tags = tags.into_iter().map(|t| TagOption { id: t.id, name: t.name }).collect();
        Ok(IntercomFields::new(
            company.into_iter().map(field_option).collect(),
            contact.into_iter().map(field_option).collect(),
            tags,
            crate::store::now(),
        ))
    }

    pub async fn settings(&self) -> Result<SettingsSnapshot> {
        let stored = self.store.integration_settings().await?;
        let history = self.store.settings_history(HISTORY_SHOWN).await?;
        let Some(stored) = stored else {
            return Ok(SettingsSnapshot {
                settings: IntegrationSettings::default(),
                saved_at: None,
                saved_by: None,
                history,
            });
        };
        let settings = parse_settings(&stored.document)?;
        Ok(SettingsSnapshot { settings, saved_at: Some(stored.updated_at), saved_by: Some(stored.updated_by), history })
    }

    /// The settings in force, without the page's history: what a sync run reads.
    pub async fn current_settings(&self) -> Result<IntegrationSettings> {
        match self.store.integration_settings().await? {
            Some(stored) => parse_settings(&stored.document),
            None => Ok(IntegrationSettings::default()),
        }
    }

    /// Validates against the live fields, creates the score attributes when uploading is
    /// on, then saves the whole document and its history line at once. On any failure
    /// nothing is saved.
    pub async fn save_settings(&self, settings: IntegrationSettings, who: &str) -> Result<SettingsSnapshot> {
        let fields = self.fields().await?;
        validate(&settings, &fields).map_err(IntegrationError::Rejected)?;
        if settings.data_transfer.upload_scores {
            self.ensure_score_attributes(&fields).await?;
        }
        let before = self.settings().await?;
        let mut summary = describe_changes(&before.settings, &settings);
        if before.saved_at.is_none() {
            summary.insert(0, "First set-up saved".to_string());
        } else if summary.is_empty() {
            summary.push("Saved with no changes".to_string());
        }
        let document = serde_json::to_string(&settings).map_err(|err| IntegrationError::BadImport(err.to_string()))?;
        let change = SettingsChange { changed_at: crate::store::now(), changed_by: who.to_string(), summary };
        self.store.save_integration_settings(&document, &change).await?;
        self.settings().await
    }

    pub async fn export_settings(&self) -> Result<String> {
        let export = SettingsExport { format: EXPORT_FORMAT.to_string(), settings: self.settings().await?.settings };
        serde_json::to_string_pretty(&export).map_err(|err| IntegrationError::BadImport(err.to_string()))
    }

    /// Reads an export and saves it exactly as Save would, rules and all.
    pub async fn import_settings(&self, json: &str, who: &str) -> Result<SettingsSnapshot> {
        let export: SettingsExport =
            serde_json::from_str(json).map_err(|err| IntegrationError::BadImport(err.to_string()))?;
        if export.format != EXPORT_FORMAT {
            return Err(IntegrationError::BadImport(format!(
                "it says format \"{}\"; this Skalin reads \"{EXPORT_FORMAT}\"",
                export.format
            )));
        }
        self.save_settings(export.settings, who).await
    }

    /// Reuses the Healthscore and CSM Pulse company attributes when they exist with the
    /// right type, creates the missing ones, and refuses plainly on a clash.
    async fn ensure_score_attributes(&self, fields: &IntercomFields) -> Result<()> {
        let mut missing = Vec::new();
        for (name, data_type) in [HEALTHSCORE_ATTRIBUTE, CSM_PULSE_ATTRIBUTE] {
            let key = format!("custom_attributes.{name}");
            if fields.contact.iter().any(|f| f.key == key) {
                return Err(IntegrationError::rejected(
                    UPLOAD_KEY,
                    format!("Intercom already has a contact attribute named \"{name}\"; names are shared by companies and contacts. Rename it in Intercom, then try again."),
                ));
            }
            match fields.company.iter().find(|f| f.key == key) {
                Some(f) if f.archived => {
                    return Err(IntegrationError::rejected(
                        UPLOAD_KEY,
                        format!("The company attribute \"{name}\" is archived in Intercom. Unarchive it there, then try again."),
                    ))
                }
                Some(f) if f.data_type != data_type => {
                    return Err(IntegrationError::rejected(
                        UPLOAD_KEY,
                        format!(
                            "Intercom already has a company attribute \"{name}\" of type {}; Skalin needs type {}. Rename or archive it in Intercom, then try again.",
                            f.data_type.label(),
                            data_type.label()
                        ),
                    ))
                }
                Some(_) => {}
                None => missing.push((name, data_type)),
            }
        }
        let room = CUSTOM_ATTRIBUTE_LIMIT.saturating_sub(fields.custom_attributes_used) as usize;
        if missing.len() > room {
            return Err(IntegrationError::rejected(
                UPLOAD_KEY,
                format!(
                    "Intercom's budget of {CUSTOM_ATTRIBUTE_LIMIT} custom attributes is used up ({} used); {} more are needed. Archive unused attributes in Intercom first.",
                    fields.custom_attributes_used,
                    missing.len()
                ),
            ));
        }
        let client = self.client().await?;
        for (name, data_type) in missing {
            let attribute = NewDataAttribute {
                name: name.to_string(),
                model: Model::Company,
                data_type: intercom_type(data_type).to_string(),
                description: Some("Written by Skalin".to_string()),
            };
            match client.create_data_attribute(&attribute).await {
                Ok(_) => tracing::info!(intercom.attribute = name, "created the company attribute for score uploads"),
                Err(crate::intercom::IntercomError::Invalid { error, .. }) => {
                    return Err(IntegrationError::rejected(
                        UPLOAD_KEY,
                        format!("Intercom refused to create \"{name}\": {error}"),
                    ))
                }
                Err(err) => return self.checked(Err(err)).await,
            }
        }
        Ok(())
    }

    /// Who the next run would churn: Skalin customers that came from Intercom and are no
    /// longer among Intercom's companies.
    pub async fn preview_churn(&self, max_percent: u8) -> Result<ChurnPreview> {
        let client = self.client().await?;
        let live: HashSet<String> =
            self.checked(client.scroll_companies().map_ok(|c| c.id).try_collect().await).await?;
        let mut customers = Vec::new();
        let mut page = 1;
        loop {
            let batch =
                self.store.list_customers(PageRequest::new(Some(page), Some(PageRequest::MAX_PER_PAGE))).await?;
            let more = batch.has_next();
            customers.extend(batch.items);
            if !more {
                break;
            }
            page += 1;
        }
        let candidates = churn_candidates(&customers, &live);
        Ok(ChurnPreview { candidates, total_customers: customers.len(), max_percent })
    }
}

fn parse_settings(document: &str) -> Result<IntegrationSettings> {
    serde_json::from_str(document).map_err(|err| {
        crate::store::StoreError::Corrupt(format!("the saved integration settings do not read: {err}")).into()
    })
}

fn field_option(attribute: DataAttribute) -> FieldOption {
    let key = attribute.full_name.clone().unwrap_or_else(|| attribute.name.clone());
    FieldOption {
        label: attribute.label.clone().filter(|l| !l.is_empty()).unwrap_or_else(|| attribute.name.clone()),
        data_type: DataType::parse(&attribute.data_type),
        custom: attribute.custom,
        archived: attribute.archived,
        api_writable: attribute.api_writable,
        key,
    }
}

fn intercom_type(data_type: DataType) -> &'static str {
    match data_type {
        DataType::Integer => "integer",
        DataType::Float => "float",
        DataType::Boolean => "boolean",
        DataType::Date => "date",
        DataType::String | DataType::Other => "string",
    }
}
