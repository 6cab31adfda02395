//! Intercom's objects as the sync needs them. Fields that vary between API versions or
//! between the spec and real traffic are read tolerantly; `serde_json::Value` stays here.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

pub type CustomAttributes = BTreeMap<String, serde_json::Value>;

/// `owner_id` and the assignee ids are integers in some versions and strings in others.
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// Some objects come as `{}` or `null` where a value is absent.
fn lenient<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> Result<T, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(value.and_then(|v| T::deserialize(v).ok()).unwrap_or_default())
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Me {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub app: Option<Workspace>,
}

/// The workspace ("app") behind a token; `id_code` is its key.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Workspace {
    pub id_code: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Admin {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    Contact,
    Company,
}

impl Model {
    pub fn as_str(self) -> &'static str {
        match self {
            Model::Contact => "contact",
            Model::Company => "company",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DataAttribute {
    /// Only custom attributes have one.
    #[serde(default)]
    pub id: Option<i64>,
    #[serde(default)]
    pub model: Option<String>,
    pub name: String,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub data_type: String,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub api_writable: bool,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub archived: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewDataAttribute {
    pub name: String,
    pub model: Model,
    pub data_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct DataAttributeUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Tag {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Company {
    pub id: String,
    #[serde(default)]
    pub company_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub industry: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub plan: Option<Plan>,
    #[serde(default)]
    pub size: Option<i64>,
    #[serde(default)]
    pub monthly_spend: Option<f64>,
    #[serde(default)]
    pub user_count: Option<i64>,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub updated_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub custom_attributes: CustomAttributes,
    #[serde(default, deserialize_with = "lenient")]
    pub tags: TagList,
    /// Every other field, so that a mapping can name any of Intercom's attributes.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Plan {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct TagList {
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// `POST /companies`: creates or updates by `company_id`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct CompanyUpsert {
    pub company_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_spend: Option<i64>,
    #[serde(skip_serializing_if = "CustomAttributes::is_empty")]
    pub custom_attributes: CustomAttributes,
}

/// `PUT /companies/{id}`: `company_id` cannot change there.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct CompanyUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_spend: Option<i64>,
    #[serde(skip_serializing_if = "CustomAttributes::is_empty")]
    pub custom_attributes: CustomAttributes,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Contact {
    pub id: String,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub owner_id: Option<String>,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub updated_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub custom_attributes: CustomAttributes,
    #[serde(default, deserialize_with = "lenient")]
    pub tags: Embedded,
    #[serde(default, deserialize_with = "lenient")]
    pub companies: Embedded,
    /// Every other field, so that a mapping can name any of Intercom's attributes.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// A list embedded in a contact: at most 10 references; `has_more` means fetch `url`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Embedded {
    #[serde(default)]
    pub data: Vec<Reference>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub total_count: Option<u64>,
    #[serde(default)]
    pub has_more: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Reference {
    pub id: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ContactUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    #[serde(skip_serializing_if = "CustomAttributes::is_empty")]
    pub custom_attributes: CustomAttributes,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Ticket {
    pub id: String,
    #[serde(default)]
    pub ticket_id: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub ticket_attributes: CustomAttributes,
    #[serde(default, deserialize_with = "lenient")]
    pub ticket_state: Option<TicketState>,
    #[serde(default, deserialize_with = "lenient")]
    pub contacts: TicketContacts,
    #[serde(default, deserialize_with = "string_or_number")]
    pub admin_assignee_id: Option<String>,
    #[serde(default)]
    pub open: Option<bool>,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub updated_at: Option<i64>,
}

impl Ticket {
    pub fn title(&self) -> Option<&str> {
        self.ticket_attributes.get("_default_title_").and_then(|v| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct TicketState {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub internal_label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct TicketContacts {
    #[serde(default)]
    pub contacts: Vec<Reference>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TicketType {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub archived: bool,
}

/// What the token exchange answers; `token` and `access_token` carry the same value.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_id_reads_as_a_string_from_either_version() {
        let v216: Contact = serde_json::from_str(r#"{"id":"c","owner_id":"42"}"#).unwrap();
        let v214: Contact = serde_json::from_str(r#"{"id":"c","owner_id":42}"#).unwrap();
        assert_eq!(v216.owner_id.as_deref(), Some("42"));
        assert_eq!(v214.owner_id, v216.owner_id);
    }

    #[test]
    fn an_empty_plan_object_is_no_plan_at_all() {
        let company: Company = serde_json::from_str(r#"{"id":"x","plan":{},"custom_attributes":null}"#).unwrap();
        assert_eq!(company.plan, Some(Plan::default()));
        assert!(company.custom_attributes.is_empty());
    }

    #[test]
    fn a_ticket_title_is_its_default_title_attribute() {
        let ticket: Ticket = serde_json::from_str(
            r#"{"id":"1","admin_assignee_id":0,"ticket_attributes":{"_default_title_":"Printer on fire"}}"#,
        )
        .unwrap();
        assert_eq!(ticket.title(), Some("Printer on fire"));
        assert_eq!(ticket.admin_assignee_id.as_deref(), Some("0"));
    }
}
