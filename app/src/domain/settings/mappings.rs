//! The mappings: which Intercom field (or tag) each Skalin field is read from and
//! written to. [`Mapping::ALL`] lists them and `Mapping::spec` states each one once, in
//! one exhaustive `match`: its label, its settings key, the Intercom types it accepts and
//! where the settings document keeps it. Validation, the change history, the settings
//! page and the sync engine iterate the list instead of naming each mapping.
//!
//! Adding a mapped field: a variant in `mappings!` below, its arm in `Mapping::spec`, its
//! field in `CustomerSettings` or `ContactSettings` (and its default), and what the sync
//! engine does with it (`sync::mapping`; the compiler points there).

use serde::{Deserialize, Serialize};

use super::{ContactSettings, CustomerSettings, DataType, FieldModel, IntegrationSettings, SyncMode};

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

/// Declares the enum and its `ALL` from one list, so that no variant is left out of the
/// list everything iterates.
macro_rules! mappings {
    ($(#[$meta:meta])* pub enum Mapping { $($variant:ident,)* }) => {
        $(#[$meta])*
        pub enum Mapping {
            $($variant,)*
        }

        impl Mapping {
            /// Every mapping, in the page's order: company ones, then contact ones, roles
            /// strongest first.
            pub const ALL: [Mapping; [$(Mapping::$variant,)*].len()] = [$(Mapping::$variant,)*];
        }
    };
}

mappings! {
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
}

/// The Intercom field types a mapping accepts.
#[derive(Debug, Clone, Copy)]
enum Accepts {
    /// Ids may be numbers; owners are admin ids or emails.
    TextOrInteger,
    Text,
    /// Roles are yes/no flags.
    YesNo,
}

/// Where the settings document keeps a mapping.
#[derive(Clone, Copy)]
enum Slot {
    /// A company attribute.
    Company(fn(&CustomerSettings) -> &Option<String>, fn(&mut CustomerSettings) -> &mut Option<String>),
    /// A contact attribute.
    Contact(fn(&ContactSettings) -> &Option<String>, fn(&mut ContactSettings) -> &mut Option<String>),
    /// A contact role, by the name Skalin gives it: a yes/no contact attribute or a tag.
    Role(
        &'static str,
        fn(&ContactSettings) -> &Option<RoleSource>,
        fn(&mut ContactSettings) -> &mut Option<RoleSource>,
    ),
}

/// One row of the table.
struct Spec {
    /// The visible label, which is also how tests and screen readers find the control.
    label: &'static str,
    /// The settings key its errors are reported under: its path in the settings document.
    key: &'static str,
    accepts: Accepts,
    /// An object's ID: needed while the object syncs; may be Intercom's own id.
    id: bool,
    slot: Slot,
}

impl Mapping {
    /// The table: the one place that names each mapping's label, key, types and field.
    fn spec(self) -> Spec {
        use Accepts::*;
        match self {
            Mapping::CustomerId => Spec {
                label: "Customer ID",
                key: "customers.id_field",
                accepts: TextOrInteger,
                id: true,
                slot: Slot::Company(|c| &c.id_field, |c| &mut c.id_field),
            },
            Mapping::CustomerDomain => Spec {
                label: "Customer domain",
                key: "customers.domain_field",
                accepts: Text,
                id: false,
                slot: Slot::Company(|c| &c.domain_field, |c| &mut c.domain_field),
            },
            Mapping::CsmOwner => Spec {
                label: "CSM owner",
                key: "customers.csm_owner_field",
                accepts: TextOrInteger,
                id: false,
                slot: Slot::Company(|c| &c.csm_owner_field, |c| &mut c.csm_owner_field),
            },
            Mapping::CustomerStage => Spec {
                label: "Customer stage",
                key: "customers.stage_field",
                accepts: Text,
                id: false,
                slot: Slot::Company(|c| &c.stage_field, |c| &mut c.stage_field),
            },
            Mapping::CustomerProfile => Spec {
                label: "Customer profile",
                key: "customers.profile_field",
                accepts: Text,
                id: false,
                slot: Slot::Company(|c| &c.profile_field, |c| &mut c.profile_field),
            },
            Mapping::ContactId => Spec {
                label: "Contact ID",
                key: "contacts.id_field",
                accepts: TextOrInteger,
                id: true,
                slot: Slot::Contact(|c| &c.id_field, |c| &mut c.id_field),
            },
            Mapping::Champion => Spec {
                label: "Champion",
                key: "contacts.champion",
                accepts: YesNo,
                id: false,
                slot: Slot::Role("Champion", |c| &c.champion, |c| &mut c.champion),
            },
            Mapping::Sponsor => Spec {
                label: "Sponsor",
                key: "contacts.sponsor",
                accepts: YesNo,
                id: false,
                slot: Slot::Role("Sponsor", |c| &c.sponsor, |c| &mut c.sponsor),
            },
            Mapping::KeyUser => Spec {
                label: "Key user",
                key: "contacts.key_user",
                accepts: YesNo,
                id: false,
                slot: Slot::Role("Key user", |c| &c.key_user, |c| &mut c.key_user),
            },
            Mapping::EndUser => Spec {
                label: "End user",
                key: "contacts.end_user",
                accepts: YesNo,
                id: false,
                slot: Slot::Role("End user", |c| &c.end_user, |c| &mut c.end_user),
            },
        }
    }

    /// The visible label, which is also how tests and screen readers find the control.
    pub fn label(self) -> &'static str {
        self.spec().label
    }

    /// The settings key its errors are reported under.
    pub fn key(self) -> &'static str {
        self.spec().key
    }

    pub fn model(self) -> FieldModel {
        match self.spec().slot {
            Slot::Company(..) => FieldModel::Company,
            Slot::Contact(..) | Slot::Role(..) => FieldModel::Contact,
        }
    }

    pub fn is_id(self) -> bool {
        self.spec().id
    }

    /// A role: mapped to a yes/no contact field or to a tag ([`IntegrationSettings::role`]).
    pub fn is_role(self) -> bool {
        self.role_name().is_some()
    }

    /// The Skalin role a role mapping sets (one of `CONTACT_ROLES`).
    pub fn role_name(self) -> Option<&'static str> {
        match self.spec().slot {
            Slot::Role(name, ..) => Some(name),
            Slot::Company(..) | Slot::Contact(..) => None,
        }
    }

    /// Ids may be numbers; owners are admin ids or emails; roles are yes/no flags.
    pub fn accepts(self, data_type: DataType) -> bool {
        use DataType::*;
        match self.spec().accepts {
            Accepts::TextOrInteger => matches!(data_type, String | Integer),
            Accepts::Text => data_type == String,
            Accepts::YesNo => data_type == Boolean,
        }
    }

    pub fn accepted_types(self) -> &'static str {
        match self.spec().accepts {
            Accepts::TextOrInteger => "text or integer",
            Accepts::Text => "text",
            Accepts::YesNo => "yes/no",
        }
    }
}

fn role_field(source: &Option<RoleSource>) -> Option<&str> {
    match source {
        Some(RoleSource::Field(f)) => Some(f.as_str()),
        _ => None,
    }
}

impl CustomerSettings {
    /// The company field a mapping points at; `None` for the contacts' mappings.
    pub fn field_of(&self, mapping: Mapping) -> Option<&str> {
        match mapping.spec().slot {
            Slot::Company(get, _) => get(self).as_deref(),
            Slot::Contact(..) | Slot::Role(..) => None,
        }
    }
}

impl ContactSettings {
    /// The contact field a mapping points at (roles mapped to a tag have none); `None` for
    /// the customers' mappings.
    pub fn field_of(&self, mapping: Mapping) -> Option<&str> {
        match mapping.spec().slot {
            Slot::Contact(get, _) => get(self).as_deref(),
            Slot::Role(_, get, _) => role_field(get(self)),
            Slot::Company(..) => None,
        }
    }

    /// Where a role mapping reads its role from; `None` for the other mappings.
    pub fn role(&self, mapping: Mapping) -> Option<&RoleSource> {
        match mapping.spec().slot {
            Slot::Role(_, get, _) => get(self).as_ref(),
            Slot::Company(..) | Slot::Contact(..) => None,
        }
    }
}

impl IntegrationSettings {
    /// The field a mapping points at (roles mapped to a tag have none).
    pub fn field_of(&self, mapping: Mapping) -> Option<&str> {
        match mapping.model() {
            FieldModel::Company => self.customers.field_of(mapping),
            FieldModel::Contact => self.contacts.field_of(mapping),
        }
    }

    /// Where a role mapping reads its role from; `None` for the other mappings.
    pub fn role(&self, mapping: Mapping) -> Option<&RoleSource> {
        self.contacts.role(mapping)
    }

    /// Maps to a field, or to nothing; a role is then read from that yes/no field.
    pub fn set_field(&mut self, mapping: Mapping, field: Option<String>) {
        match mapping.spec().slot {
            Slot::Company(_, get) => *get(&mut self.customers) = field,
            Slot::Contact(_, get) => *get(&mut self.contacts) = field,
            Slot::Role(_, _, get) => *get(&mut self.contacts) = field.map(RoleSource::Field),
        }
    }

    /// Maps a role to a yes/no field, a tag or nothing. The other mappings take no role
    /// and are left as they are.
    pub fn set_role(&mut self, mapping: Mapping, source: Option<RoleSource>) {
        match mapping.spec().slot {
            Slot::Role(_, _, get) => *get(&mut self.contacts) = source,
            Slot::Company(..) | Slot::Contact(..) => {}
        }
    }

    /// The mode of the object a mapping belongs to.
    pub fn mode_of(&self, mapping: Mapping) -> SyncMode {
        match mapping.model() {
            FieldModel::Company => self.customers.mode,
            FieldModel::Contact => self.contacts.mode,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::domain::CONTACT_ROLES;

    #[test]
    fn role_sources_round_trip_through_option_values() {
        for source in [RoleSource::Field("custom_attributes.Is Admin".into()), RoleSource::Tag("Key user".into())] {
            assert_eq!(RoleSource::from_option_value(&source.to_option_value()), Some(source));
        }
        assert_eq!(RoleSource::from_option_value("nonsense"), None);
    }

    fn empty() -> IntegrationSettings {
        let mut s = IntegrationSettings::default();
        for mapping in Mapping::ALL {
            s.set_field(mapping, None);
        }
        s
    }

    #[test]
    fn every_mapping_round_trips_through_its_own_field_and_no_other() {
        for mapping in Mapping::ALL {
            let mut s = empty();
            let key = format!("custom_attributes.{}", mapping.label());
            s.set_field(mapping, Some(key.clone()));
            for other in Mapping::ALL {
                let expected = (other == mapping).then_some(key.as_str());
                assert_eq!(s.field_of(other), expected, "{other:?} after setting {mapping:?}");
            }
            s.set_field(mapping, None);
            assert_eq!(s, empty(), "{mapping:?} unset");
        }
    }

    #[test]
    fn every_role_round_trips_through_fields_and_tags_and_no_other_mapping_takes_one() {
        for mapping in Mapping::ALL {
            let mut s = empty();
            let tag = RoleSource::Tag(mapping.label().to_string());
            s.set_role(mapping, Some(tag.clone()));
            if mapping.is_role() {
                assert_eq!(s.role(mapping), Some(&tag));
                assert_eq!(s.field_of(mapping), None, "a tag is no field");
                s.set_role(mapping, Some(RoleSource::Field("custom_attributes.Flag".into())));
                assert_eq!(s.field_of(mapping), Some("custom_attributes.Flag"));
                assert_eq!(Mapping::ALL.iter().filter(|m| s.role(**m).is_some()).count(), 1);
            } else {
                assert_eq!(s, empty(), "{mapping:?} takes no role");
                assert_eq!(s.role(mapping), None);
            }
        }
    }

    #[test]
    fn each_key_is_the_path_of_its_mapping_in_the_saved_document() {
        for mapping in Mapping::ALL {
            let mut s = empty();
            s.set_field(mapping, Some("custom_attributes.Marker".into()));
            let document = serde_json::to_value(&s).unwrap();
            let at_key = mapping.key().split('.').try_fold(&document, |v, part| v.get(part));
            let expected = if mapping.is_role() {
                serde_json::json!({"field": "custom_attributes.Marker"})
            } else {
                Value::from("custom_attributes.Marker")
            };
            assert_eq!(at_key, Some(&expected), "{mapping:?} under {}", mapping.key());
        }
    }

    #[test]
    fn labels_and_keys_are_unique_and_roles_are_skalins_roles_strongest_first() {
        for (i, a) in Mapping::ALL.iter().enumerate() {
            for b in &Mapping::ALL[i + 1..] {
                assert_ne!(a.label(), b.label());
                assert_ne!(a.key(), b.key());
            }
        }
        let roles: Vec<_> = Mapping::ALL.into_iter().filter_map(Mapping::role_name).collect();
        assert_eq!(roles, CONTACT_ROLES);
        assert_eq!(Mapping::ALL.into_iter().filter(|m| m.is_id()).count(), 2, "one ID per object");
    }

    #[test]
    fn the_page_shows_company_mappings_then_contact_ones() {
        let models: Vec<_> = Mapping::ALL.into_iter().map(Mapping::model).collect();
        let split = models.iter().position(|m| *m == FieldModel::Contact).unwrap();
        assert!(models[..split].iter().all(|m| *m == FieldModel::Company));
        assert!(models[split..].iter().all(|m| *m == FieldModel::Contact));
    }
}
