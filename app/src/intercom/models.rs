//! Intercom's objects as the sync needs them. Fields that vary between API versions or
//! between the spec and real traffic are read tolerantly; `serde_json::Value` stays here.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeOwned, DeserializeSeed, Error as _, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

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
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned + Default>(d: D) -> Result<T, D::Error> {
    // Kept as text, not as a `Value` tree: one copy instead of a node per field.
    let raw = Option::<Box<RawValue>>::deserialize(d)?;
    Ok(raw.and_then(|r| serde_json::from_str(r.get()).ok()).unwrap_or_default())
}

/// A record exactly as Intercom sent it, so that a mapping can name any of its attributes.
/// Kept as text and parsed only for the attribute asked: building every attribute's
/// `Value` on each read cost more than the rest of the sync.
#[derive(Debug, Clone)]
pub struct RawRecord(Box<RawValue>);

impl RawRecord {
    /// A top-level attribute; `None` when the record does not have it.
    pub fn get(&self, name: &str) -> Option<serde_json::Value> {
        let mut de = serde_json::Deserializer::from_str(self.0.get());
        Attribute(name).deserialize(&mut de).ok().flatten()
    }

    /// Reads a record's typed fields with `read` (a `#[serde(remote = "Self")]` derive) and
    /// keeps its text beside them.
    fn read<'de, D: Deserializer<'de>, T>(
        d: D,
        read: impl FnOnce(&mut serde_json::Deserializer<serde_json::de::StrRead<'_>>) -> serde_json::Result<T>,
    ) -> Result<(T, RawRecord), D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        let typed = read(&mut serde_json::Deserializer::from_str(raw.get())).map_err(D::Error::custom)?;
        Ok((typed, RawRecord(raw)))
    }
}

impl Default for RawRecord {
    fn default() -> Self {
        Self(RawValue::from_string("{}".to_string()).expect("an empty object is JSON"))
    }
}

impl PartialEq for RawRecord {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

/// For a record with a `raw: RawRecord` field and a `#[serde(remote = "Self")]` derive of
/// its typed fields (named in `$typed` as in the JSON): deserializes both, and answers any
/// other top-level attribute, so that a mapping can name any of Intercom's attributes.
macro_rules! keeps_raw_text {
    ($record:ty, [$($typed:literal),* $(,)?]) => {
        impl $record {
            /// A top-level attribute the typed fields do not hold.
            pub fn other(&self, name: &str) -> Option<serde_json::Value> {
                if [$($typed),*].contains(&name) {
                    return None;
                }
                self.raw.get(name)
            }
        }

        impl<'de> Deserialize<'de> for $record {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let (mut record, raw) = RawRecord::read(d, |de| <$record>::deserialize(de))?;
                record.raw = raw;
                Ok(record)
            }
        }
    };
}

/// Finds one key of an object, skipping the other values without building them.
struct Attribute<'a>(&'a str);

impl<'de> DeserializeSeed<'de> for Attribute<'_> {
    type Value = Option<serde_json::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Attribute<'_> {
    type Value = Option<serde_json::Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // A repeated key keeps its last value, as a map built from the object would.
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == self.0 {
                found = Some(map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
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
#[serde(remote = "Self")]
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
    #[serde(skip)]
    pub raw: RawRecord,
}

keeps_raw_text!(
    Company,
    [
        "id",
        "company_id",
        "name",
        "website",
        "industry",
        "plan",
        "size",
        "monthly_spend",
        "user_count",
        "created_at",
        "updated_at",
        "custom_attributes",
        "tags"
    ]
);

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
#[serde(remote = "Self")]
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
    #[serde(skip)]
    pub raw: RawRecord,
}

keeps_raw_text!(
    Contact,
    [
        "id",
        "external_id",
        "role",
        "email",
        "name",
        "owner_id",
        "created_at",
        "updated_at",
        "custom_attributes",
        "tags",
        "companies"
    ]
);

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

/// A new contact (`POST /contacts`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactCreate {
    pub role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
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
    fn other_attributes_are_read_from_the_record_but_typed_ones_are_not() {
        let contact: Contact =
            serde_json::from_str(r#"{"id":"c","location":{"city":"Lyon"},"browser":null,"name":"Ann"}"#).unwrap();
        assert_eq!(contact.other("location"), Some(serde_json::json!({"city": "Lyon"})));
        assert_eq!(contact.other("browser"), Some(serde_json::Value::Null));
        assert_eq!(contact.other("missing"), None);
        assert_eq!(contact.other("name"), None);
        assert_eq!(contact.name.as_deref(), Some("Ann"));
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
