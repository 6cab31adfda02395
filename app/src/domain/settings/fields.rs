//! The Intercom fields the mappings choose from, as `GET /data_attributes` and
//! `GET /tags` describe them.

use serde::{Deserialize, Serialize};

use super::Mapping;

/// The mapping value that means "Intercom's own id" (not a data attribute).
pub const INTERCOM_ID: &str = "id";
/// Intercom's limit on custom data attributes per workspace (archived ones do not count).
pub const CUSTOM_ATTRIBUTE_LIMIT: u32 = 250;
/// The company attributes Skalin creates when uploading scores, with their Intercom type.
pub const HEALTHSCORE_ATTRIBUTE: (&str, DataType) = ("Skalin Healthscore", DataType::Integer);
pub const CSM_PULSE_ATTRIBUTE: (&str, DataType) = ("Skalin CSM Pulse", DataType::String);

/// The data types `GET /data_attributes` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataType {
    String,
    Integer,
    Float,
    Boolean,
    Date,
    /// Anything else Intercom may add; never compatible with a mapping.
    #[serde(other)]
    Other,
}

impl DataType {
    pub fn parse(s: &str) -> Self {
        match s {
            "string" => DataType::String,
            "integer" => DataType::Integer,
            "float" => DataType::Float,
            "boolean" => DataType::Boolean,
            "date" | "datetime" => DataType::Date,
            _ => DataType::Other,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DataType::String => "text",
            DataType::Integer => "integer",
            DataType::Float => "decimal",
            DataType::Boolean => "yes/no",
            DataType::Date => "date",
            DataType::Other => "other",
        }
    }
}

/// One Intercom data attribute, as the dropdowns offer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldOption {
    /// `full_name`: `website`, `plan.name`, `custom_attributes.Tier`; `id` for Intercom's id.
    pub key: String,
    pub label: String,
    pub data_type: DataType,
    pub custom: bool,
    pub archived: bool,
    pub api_writable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagOption {
    pub id: String,
    pub name: String,
}

/// The live Intercom fields the mappings choose from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntercomFields {
    pub company: Vec<FieldOption>,
    pub contact: Vec<FieldOption>,
    pub tags: Vec<TagOption>,
    /// Custom attributes in use across both models (archived ones excluded).
    pub custom_attributes_used: u32,
    pub fetched_at: i64,
}

impl IntercomFields {
    /// Builds the catalogue, adding "Intercom's id" to each model where Intercom does not
    /// list it as an attribute.
    pub fn new(
        mut company: Vec<FieldOption>,
        mut contact: Vec<FieldOption>,
        tags: Vec<TagOption>,
        fetched_at: i64,
    ) -> Self {
        for fields in [&mut company, &mut contact] {
            match fields.iter_mut().find(|f| f.key == INTERCOM_ID) {
                Some(id) => id.label = "Intercom's id".to_string(),
                None => fields.insert(
                    0,
                    FieldOption {
                        key: INTERCOM_ID.to_string(),
                        label: "Intercom's id".to_string(),
                        data_type: DataType::String,
                        custom: false,
                        archived: false,
                        api_writable: false,
                    },
                ),
            }
        }
        let custom_attributes_used =
            company.iter().chain(contact.iter()).filter(|f| f.custom && !f.archived).count() as u32;
        Self { company, contact, tags, custom_attributes_used, fetched_at }
    }

    fn fields(&self, model: FieldModel) -> &[FieldOption] {
        match model {
            FieldModel::Company => &self.company,
            FieldModel::Contact => &self.contact,
        }
    }

    /// The fields a mapping may use: live, type-compatible, standard ones first.
    pub fn options_for(&self, mapping: Mapping) -> Vec<&FieldOption> {
        let mut options: Vec<&FieldOption> = self
            .fields(mapping.model())
            .iter()
            .filter(|f| !f.archived && mapping.accepts(f.data_type))
            .filter(|f| f.key != INTERCOM_ID || mapping.is_id())
            .collect();
        options.sort_by_key(|f| (f.custom, f.key != INTERCOM_ID));
        options
    }

    pub fn field(&self, model: FieldModel, key: &str) -> Option<&FieldOption> {
        self.fields(model).iter().find(|f| f.key == key)
    }

    pub fn tag(&self, name: &str) -> Option<&TagOption> {
        self.tags.iter().find(|t| t.name == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldModel {
    Company,
    Contact,
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn field(key: &str, data_type: DataType, custom: bool) -> FieldOption {
        FieldOption { key: key.into(), label: key.into(), data_type, custom, archived: false, api_writable: true }
    }

    pub(crate) fn catalogue() -> IntercomFields {
        let mut legacy = field("custom_attributes.Legacy", DataType::String, true);
        legacy.archived = true;
        IntercomFields::new(
            vec![
                field("website", DataType::String, false),
                field("company_id", DataType::String, false),
                field("size", DataType::Integer, false),
                field("custom_attributes.Tier", DataType::String, true),
                field("custom_attributes.Strategic", DataType::Boolean, true),
                legacy,
            ],
            vec![
                field("external_id", DataType::String, false),
                field("custom_attributes.Is Admin", DataType::Boolean, true),
            ],
            vec![TagOption { id: "1".into(), name: "Champion".into() }],
            0,
        )
    }

    #[test]
    fn dropdowns_offer_live_compatible_fields_standard_first() {
        let fields = catalogue();
        let stage: Vec<_> = fields.options_for(Mapping::CustomerStage).iter().map(|f| f.key.as_str()).collect();
        assert_eq!(stage, ["website", "company_id", "custom_attributes.Tier"]);
        let id: Vec<_> = fields.options_for(Mapping::CustomerId).iter().map(|f| f.key.as_str()).collect();
        assert_eq!(id, ["id", "website", "company_id", "size", "custom_attributes.Tier"]);
        let champion: Vec<_> = fields.options_for(Mapping::Champion).iter().map(|f| f.key.as_str()).collect();
        assert_eq!(champion, ["custom_attributes.Is Admin"]);
    }

    #[test]
    fn the_budget_counts_live_custom_attributes_of_both_models() {
        assert_eq!(catalogue().custom_attributes_used, 3);
    }
}
