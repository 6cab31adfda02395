//! The Intercom integration settings: what an admin chooses on the settings page, the
//! Intercom fields those choices refer to, and the pure rules that decide whether a set
//! of choices may be saved. Shared by the server, the browser and the command line.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How Two-ways settles a field both sides changed, as the settings page states it.
pub const CONFLICT_RULE: &str = "When a field changed on both sides since the last run, the most recent change wins, field by field. An empty value never overwrites a filled one.";

/// The mapping value that means "Intercom's own id" (not a data attribute).
pub const INTERCOM_ID: &str = "id";
/// Intercom's limit on custom data attributes per workspace (archived ones do not count).
pub const CUSTOM_ATTRIBUTE_LIMIT: u32 = 250;
/// The company attributes Skalin creates when uploading scores, with their Intercom type.
pub const HEALTHSCORE_ATTRIBUTE: (&str, DataType) = ("Skalin Healthscore", DataType::Integer);
pub const CSM_PULSE_ATTRIBUTE: (&str, DataType) = ("Skalin CSM Pulse", DataType::String);

/// Which way data flows for one kind of object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    InputOnly,
    TwoWays,
    OutputOnly,
    Disabled,
}

impl SyncMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncMode::InputOnly => "input_only",
            SyncMode::TwoWays => "two_ways",
            SyncMode::OutputOnly => "output_only",
            SyncMode::Disabled => "disabled",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SyncMode::InputOnly => "Input only",
            SyncMode::TwoWays => "Two-ways",
            SyncMode::OutputOnly => "Output only",
            SyncMode::Disabled => "Disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [SyncMode::InputOnly, SyncMode::TwoWays, SyncMode::OutputOnly, SyncMode::Disabled]
            .into_iter()
            .find(|m| m.as_str() == s)
    }

    /// Reads from Intercom into Skalin.
    pub fn reads(self) -> bool {
        matches!(self, SyncMode::InputOnly | SyncMode::TwoWays)
    }

    /// Writes from Skalin into Intercom.
    pub fn writes(self) -> bool {
        matches!(self, SyncMode::OutputOnly | SyncMode::TwoWays)
    }
}

/// The three kinds of object the integration moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncObject {
    Customers,
    Contacts,
    Interactions,
}

impl SyncObject {
    /// Tickets are only ever read: Skalin has nothing to write back to them.
    pub fn valid_modes(self) -> &'static [SyncMode] {
        match self {
            SyncObject::Customers | SyncObject::Contacts => {
                &[SyncMode::InputOnly, SyncMode::TwoWays, SyncMode::OutputOnly, SyncMode::Disabled]
            }
            SyncObject::Interactions => &[SyncMode::InputOnly, SyncMode::Disabled],
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SyncObject::Customers => "Customers",
            SyncObject::Contacts => "Contacts",
            SyncObject::Interactions => "Interactions",
        }
    }
}

/// How far back the ticket import reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportWindow {
    #[serde(rename = "30_days")]
    Days30,
    #[serde(rename = "90_days")]
    Days90,
    #[serde(rename = "365_days")]
    Days365,
    #[serde(rename = "all")]
    All,
}

impl ImportWindow {
    pub const ALL: [ImportWindow; 4] =
        [ImportWindow::Days30, ImportWindow::Days90, ImportWindow::Days365, ImportWindow::All];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportWindow::Days30 => "30_days",
            ImportWindow::Days90 => "90_days",
            ImportWindow::Days365 => "365_days",
            ImportWindow::All => "all",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ImportWindow::Days30 => "Last 30 days",
            ImportWindow::Days90 => "Last 90 days",
            ImportWindow::Days365 => "Last 365 days",
            ImportWindow::All => "All tickets",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.as_str() == s)
    }

    pub fn days(self) -> Option<i64> {
        match self {
            ImportWindow::Days30 => Some(30),
            ImportWindow::Days90 => Some(90),
            ImportWindow::Days365 => Some(365),
            ImportWindow::All => None,
        }
    }
}

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

/// When runs start by themselves.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSettings {
    /// Minutes between scheduled runs; `None`: only *Sync now* and the command line.
    pub every_minutes: Option<u32>,
}

impl ScheduleSettings {
    /// The intervals the page offers, in minutes.
    pub const CHOICES: [u32; 6] = [15, 30, 60, 180, 720, 1440];
    pub const MIN_MINUTES: u32 = 5;
    pub const MAX_MINUTES: u32 = 10_080;

    /// When the slot after the one `now` is in starts: runs are queued once per slot of
    /// the interval, counted from the Unix epoch (so every process agrees).
    pub fn next_slot(&self, now: i64) -> Option<i64> {
        let period = i64::from(self.every_minutes.filter(|m| *m > 0)?) * 60;
        Some((now.div_euclid(period) + 1) * period)
    }

    pub fn label(&self) -> String {
        match self.every_minutes {
            None => "Off".to_string(),
            Some(m) if m % 1440 == 0 => format!("Every {} day{}", m / 1440, if m == 1440 { "" } else { "s" }),
            Some(m) if m % 60 == 0 => format!("Every {} hour{}", m / 60, if m == 60 { "" } else { "s" }),
            Some(m) => format!("Every {m} minutes"),
        }
    }
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

    let required = [(Mapping::CustomerId, c.mode), (Mapping::ContactId, settings.contacts.mode)];
    for (mapping, mode) in required {
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

    let mappings = [
        Mapping::CustomerId,
        Mapping::CustomerDomain,
        Mapping::CsmOwner,
        Mapping::CustomerStage,
        Mapping::CustomerProfile,
        Mapping::ContactId,
        Mapping::Champion,
        Mapping::Sponsor,
        Mapping::KeyUser,
        Mapping::EndUser,
    ];
    for mapping in mappings {
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

/// One line per changed setting, in words, for the change history.
pub fn describe_changes(before: &IntegrationSettings, after: &IntegrationSettings) -> Vec<String> {
    let mut out = Vec::new();
    let mut diff = |what: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{what}: {a} → {b}"));
        }
    };
    let field = |f: Option<&str>| {
        f.map(|f| if f == INTERCOM_ID { "Intercom's id".to_string() } else { f.to_string() })
            .unwrap_or_else(|| "Disabled".to_string())
    };
    let role = |r: Option<&RoleSource>| match r {
        None => "Disabled".to_string(),
        Some(RoleSource::Field(f)) => format!("field {f}"),
        Some(RoleSource::Tag(t)) => format!("tag {t}"),
    };
    let on_off = |b: bool| if b { "on" } else { "off" }.to_string();

    diff("Customers mode", before.customers.mode.label().into(), after.customers.mode.label().into());
    diff("Contacts mode", before.contacts.mode.label().into(), after.contacts.mode.label().into());
    diff("Interactions mode", before.interactions.mode.label().into(), after.interactions.mode.label().into());
    diff("Churn", on_off(before.customers.churn_enabled), on_off(after.customers.churn_enabled));
    diff(
        "Churn threshold",
        format!("{} %", before.customers.churn_max_percent),
        format!("{} %", after.customers.churn_max_percent),
    );
    for mapping in [
        Mapping::CustomerId,
        Mapping::CustomerDomain,
        Mapping::CsmOwner,
        Mapping::CustomerStage,
        Mapping::CustomerProfile,
        Mapping::ContactId,
    ] {
        diff(mapping.label(), field(before.field_of(mapping)), field(after.field_of(mapping)));
    }
    for mapping in Mapping::ROLES {
        diff(mapping.label(), role(before.role(mapping)), role(after.role(mapping)));
    }
    diff(
        "Ticket import",
        before.interactions.import_window.label().into(),
        after.interactions.import_window.label().into(),
    );
    diff(
        "Upload Healthscore and CSM Pulse",
        on_off(before.data_transfer.upload_scores),
        on_off(after.data_transfer.upload_scores),
    );
    diff("Schedule", before.schedule.label(), after.schedule.label());
    diff(
        "Create companies in Intercom",
        on_off(before.customers.create_in_intercom),
        on_off(after.customers.create_in_intercom),
    );
    diff(
        "Create contacts in Intercom",
        on_off(before.contacts.create_in_intercom),
        on_off(after.contacts.create_in_intercom),
    );
    out
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

/// Customers that would be churned by the next run, shown before it happens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChurnPreview {
    pub candidates: Vec<ChurnCandidate>,
    pub total_customers: usize,
    pub max_percent: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChurnCandidate {
    pub external_id: String,
    pub name: String,
}

impl ChurnPreview {
    pub fn percent(&self) -> f64 {
        if self.total_customers == 0 {
            0.0
        } else {
            self.candidates.len() as f64 * 100.0 / self.total_customers as f64
        }
    }

    /// Over the threshold, the run churns nobody until an admin confirms.
    pub fn needs_confirmation(&self) -> bool {
        self.percent() > f64::from(self.max_percent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_scheduled_slot_starts_at_the_next_multiple_of_the_interval() {
        let every_3_hours = ScheduleSettings { every_minutes: Some(180) };
        assert_eq!(every_3_hours.next_slot(0), Some(10_800));
        assert_eq!(every_3_hours.next_slot(10_799), Some(10_800));
        assert_eq!(every_3_hours.next_slot(10_800), Some(21_600), "a slot that just began is this one");
        assert_eq!(ScheduleSettings { every_minutes: None }.next_slot(5), None);
        assert_eq!(ScheduleSettings { every_minutes: Some(0) }.next_slot(5), None);
    }

    fn field(key: &str, data_type: DataType, custom: bool) -> FieldOption {
        FieldOption { key: key.into(), label: key.into(), data_type, custom, archived: false, api_writable: true }
    }

    fn catalogue() -> IntercomFields {
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

    #[test]
    fn changes_are_described_one_line_each() {
        let before = IntegrationSettings::default();
        let mut after = before.clone();
        after.customers.stage_field = Some("custom_attributes.Tier".into());
        after.contacts.champion = Some(RoleSource::Tag("Champion".into()));
        assert_eq!(
            describe_changes(&before, &after),
            ["Customer stage: Disabled → custom_attributes.Tier", "Champion: Disabled → tag Champion"]
        );
    }

    #[test]
    fn role_sources_round_trip_through_option_values() {
        for source in [RoleSource::Field("custom_attributes.Is Admin".into()), RoleSource::Tag("Key user".into())] {
            assert_eq!(RoleSource::from_option_value(&source.to_option_value()), Some(source));
        }
        assert_eq!(RoleSource::from_option_value("nonsense"), None);
    }

    #[test]
    fn a_preview_over_the_threshold_needs_confirmation() {
        let candidate = ChurnCandidate { external_id: "a".into(), name: "A".into() };
        let preview = ChurnPreview { candidates: vec![candidate; 2], total_customers: 10, max_percent: 10 };
        assert!(preview.needs_confirmation());
        assert!(!ChurnPreview { max_percent: 20, ..preview }.needs_confirmation());
    }
}
