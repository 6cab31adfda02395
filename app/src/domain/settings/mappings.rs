//! The mappings: which Intercom field (or tag) each Skalin field is read from and
//! written to.

use serde::{Deserialize, Serialize};

use super::{DataType, FieldModel, IntegrationSettings};

/// Where a contact's Champion / Sponsor / Key user / End user flag comes from: a boolean
/// contact field, or an Intercom tag (by name, so that a set-up copies between workspaces).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleSource {
    Field(String),
    Tag(String),
}

impl RoleSource {
    /// The value of a dropdown option: `field:<full name>` or `tag:<name>`.
    pub fn to_option_value(&self) -> String {
        match self {
            RoleSource::Field(name) => format!("field:{name}"),
            RoleSource::Tag(name) => format!("tag:{name}"),
        }
    }

    pub fn from_option_value(value: &str) -> Option<Self> {
        if let Some(name) = value.strip_prefix("field:") {
            Some(RoleSource::Field(name.to_string()))
        } else {
            value.strip_prefix("tag:").map(|name| RoleSource::Tag(name.to_string()))
        }
    }
}

/// Each dropdown of the page, with the field types it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mapping {
    CustomerId,
    CustomerDomain,
    CsmOwner,
    CustomerStage,
    CustomerProfile,
    ContactId,
    Champion,
    Sponsor,
    KeyUser,
    EndUser,
}

impl Mapping {
    pub const ROLES: [Mapping; 4] = [Mapping::Champion, Mapping::Sponsor, Mapping::KeyUser, Mapping::EndUser];

    /// The visible label, which is also how tests and screen readers find the control.
    pub fn label(self) -> &'static str {
        match self {
            Mapping::CustomerId => "Customer ID",
            Mapping::CustomerDomain => "Customer domain",
            Mapping::CsmOwner => "CSM owner",
            Mapping::CustomerStage => "Customer stage",
            Mapping::CustomerProfile => "Customer profile",
            Mapping::ContactId => "Contact ID",
            Mapping::Champion => "Champion",
            Mapping::Sponsor => "Sponsor",
            Mapping::KeyUser => "Key user",
            Mapping::EndUser => "End user",
        }
    }

    /// The settings key its errors are reported under.
    pub fn key(self) -> &'static str {
        match self {
            Mapping::CustomerId => "customers.id_field",
            Mapping::CustomerDomain => "customers.domain_field",
            Mapping::CsmOwner => "customers.csm_owner_field",
            Mapping::CustomerStage => "customers.stage_field",
            Mapping::CustomerProfile => "customers.profile_field",
            Mapping::ContactId => "contacts.id_field",
            Mapping::Champion => "contacts.champion",
            Mapping::Sponsor => "contacts.sponsor",
            Mapping::KeyUser => "contacts.key_user",
            Mapping::EndUser => "contacts.end_user",
        }
    }

    pub fn model(self) -> FieldModel {
        match self {
            Mapping::CustomerId
            | Mapping::CustomerDomain
            | Mapping::CsmOwner
            | Mapping::CustomerStage
            | Mapping::CustomerProfile => FieldModel::Company,
            _ => FieldModel::Contact,
        }
    }

    pub fn is_id(self) -> bool {
        matches!(self, Mapping::CustomerId | Mapping::ContactId)
    }

    /// Ids may be numbers; owners are admin ids or emails; roles are yes/no flags.
    pub fn accepts(self, data_type: DataType) -> bool {
        use DataType::*;
        match self {
            Mapping::CustomerId | Mapping::ContactId | Mapping::CsmOwner => matches!(data_type, String | Integer),
            Mapping::CustomerDomain | Mapping::CustomerStage | Mapping::CustomerProfile => data_type == String,
            Mapping::Champion | Mapping::Sponsor | Mapping::KeyUser | Mapping::EndUser => data_type == Boolean,
        }
    }

    pub fn accepted_types(self) -> &'static str {
        match self {
            Mapping::CustomerId | Mapping::ContactId | Mapping::CsmOwner => "text or integer",
            Mapping::CustomerDomain | Mapping::CustomerStage | Mapping::CustomerProfile => "text",
            _ => "yes/no",
        }
    }
}

impl IntegrationSettings {
    /// The field a mapping points at (roles mapped to a tag have none).
    pub fn field_of(&self, mapping: Mapping) -> Option<&str> {
        fn role(r: &Option<RoleSource>) -> Option<&str> {
            match r {
                Some(RoleSource::Field(f)) => Some(f.as_str()),
                _ => None,
            }
        }
        let c = &self.customers;
        match mapping {
            Mapping::CustomerId => c.id_field.as_deref(),
            Mapping::CustomerDomain => c.domain_field.as_deref(),
            Mapping::CsmOwner => c.csm_owner_field.as_deref(),
            Mapping::CustomerStage => c.stage_field.as_deref(),
            Mapping::CustomerProfile => c.profile_field.as_deref(),
            Mapping::ContactId => self.contacts.id_field.as_deref(),
            Mapping::Champion => role(&self.contacts.champion),
            Mapping::Sponsor => role(&self.contacts.sponsor),
            Mapping::KeyUser => role(&self.contacts.key_user),
            Mapping::EndUser => role(&self.contacts.end_user),
        }
    }

    pub fn role(&self, mapping: Mapping) -> Option<&RoleSource> {
        match mapping {
            Mapping::Champion => self.contacts.champion.as_ref(),
            Mapping::Sponsor => self.contacts.sponsor.as_ref(),
            Mapping::KeyUser => self.contacts.key_user.as_ref(),
            Mapping::EndUser => self.contacts.end_user.as_ref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_sources_round_trip_through_option_values() {
        for source in [RoleSource::Field("custom_attributes.Is Admin".into()), RoleSource::Tag("Key user".into())] {
            assert_eq!(RoleSource::from_option_value(&source.to_option_value()), Some(source));
        }
        assert_eq!(RoleSource::from_option_value("nonsense"), None);
    }
}
