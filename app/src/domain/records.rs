use serde::{Deserialize, Serialize};

/// A Skalin customer: an Intercom company once synchronized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: i64,
    pub external_id: String,
    pub intercom_id: Option<String>,
    pub name: String,
    pub domain: Option<String>,
    pub csm_owner: Option<String>,
    pub stage: Option<String>,
    pub profile: Option<String>,
    /// Skalin's score for the customer, 0–100.
    pub health_score: Option<i64>,
    /// The CSM's read of the relationship, in a word or two.
    pub csm_pulse: Option<String>,
    /// Unix seconds.
    pub updated_at: i64,
}

/// What the Customers page lets a user change; every field is written as given (`None`
/// clears it) and each change goes to Intercom on the next run that writes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CustomerEdit {
    pub stage: Option<String>,
    pub csm_owner: Option<String>,
    pub csm_pulse: Option<String>,
    pub health_score: Option<i64>,
}

/// A customer field that users edit in Skalin and the sync engine carries to Intercom.
/// [`CustomerField::as_str`] is its column, the name the outbox stores and the edit form
/// reports errors under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CustomerField {
    Stage,
    CsmOwner,
    CsmPulse,
    HealthScore,
}

impl CustomerField {
    pub const ALL: [CustomerField; 4] =
        [CustomerField::Stage, CustomerField::CsmOwner, CustomerField::CsmPulse, CustomerField::HealthScore];

    pub fn as_str(self) -> &'static str {
        match self {
            CustomerField::Stage => "stage",
            CustomerField::CsmOwner => "csm_owner",
            CustomerField::CsmPulse => "csm_pulse",
            CustomerField::HealthScore => "health_score",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

impl CustomerEdit {
    /// One field's value, as text (the outbox keeps every value as text).
    pub fn value(&self, field: CustomerField) -> Option<String> {
        match field {
            CustomerField::Stage => self.stage.clone(),
            CustomerField::CsmOwner => self.csm_owner.clone(),
            CustomerField::CsmPulse => self.csm_pulse.clone(),
            CustomerField::HealthScore => self.health_score.map(|h| h.to_string()),
        }
    }
}

/// What the Contacts page lets a user change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContactEdit {
    /// One of Champion, Sponsor, Key user, End user, or none.
    pub role_tag: Option<String>,
}

/// The roles a contact can have, strongest first.
pub const CONTACT_ROLES: [&str; 4] = ["Champion", "Sponsor", "Key user", "End user"];

/// Intercom keeps string attributes to 255 characters (help-centre note; UNCONFIRMED for
/// the REST API), so longer values are refused before they reach it.
pub const MAX_TEXT: usize = 255;

fn clean(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

impl CustomerEdit {
    /// Trimmed, blanks as none; each problem under its field's key.
    pub fn checked(&self) -> Result<CustomerEdit, Vec<super::FieldError>> {
        let mut errors = Vec::new();
        let edit = CustomerEdit {
            stage: clean(&self.stage),
            csm_owner: clean(&self.csm_owner),
            csm_pulse: clean(&self.csm_pulse),
            health_score: self.health_score,
        };
        for (field, value) in [
            (CustomerField::Stage, &edit.stage),
            (CustomerField::CsmOwner, &edit.csm_owner),
            (CustomerField::CsmPulse, &edit.csm_pulse),
        ] {
            if value.as_ref().is_some_and(|v| v.chars().count() > MAX_TEXT) {
                errors.push(super::FieldError {
                    key: field.as_str().into(),
                    message: format!("At most {MAX_TEXT} characters."),
                });
            }
        }
        if edit.health_score.is_some_and(|h| !(0..=100).contains(&h)) {
            errors.push(super::FieldError {
                key: CustomerField::HealthScore.as_str().into(),
                message: "The Healthscore goes from 0 to 100.".into(),
            });
        }
        if errors.is_empty() {
            Ok(edit)
        } else {
            Err(errors)
        }
    }
}

impl ContactEdit {
    pub fn checked(&self) -> Result<ContactEdit, Vec<super::FieldError>> {
        let role = clean(&self.role_tag);
        match role {
            Some(r) if !CONTACT_ROLES.contains(&r.as_str()) => Err(vec![super::FieldError {
                key: "role_tag".into(),
                message: format!("The role must be one of {}, or none.", CONTACT_ROLES.join(", ")),
            }]),
            role => Ok(ContactEdit { role_tag: role }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCustomer {
    pub external_id: String,
    pub intercom_id: Option<String>,
    pub name: String,
    pub domain: Option<String>,
    pub stage: Option<String>,
}

/// A person at a customer: an Intercom contact once synchronized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub id: i64,
    pub external_id: String,
    pub intercom_id: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub customer_name: Option<String>,
    pub role_tag: Option<String>,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewContact {
    pub external_id: String,
    pub intercom_id: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub customer_external_id: Option<String>,
}

/// A conversation with a customer: an Intercom ticket once synchronized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    pub id: i64,
    pub intercom_id: Option<String>,
    pub title: String,
    pub state: Option<String>,
    pub contact_email: Option<String>,
    pub customer_name: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewInteraction {
    pub intercom_id: Option<String>,
    pub title: String,
    pub state: Option<String>,
    pub customer_external_id: Option<String>,
    pub created_at: i64,
}

/// Intercom's hosting regions; each has its own API host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Zone {
    Us,
    Eu,
    Au,
}

impl Zone {
    pub fn as_str(self) -> &'static str {
        match self {
            Zone::Us => "us",
            Zone::Eu => "eu",
            Zone::Au => "au",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Zone::Us => "US",
            Zone::Eu => "EU",
            Zone::Au => "Australia",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "us" => Some(Zone::Us),
            "eu" => Some(Zone::Eu),
            "au" | "australia" => Some(Zone::Au),
            _ => None,
        }
    }
}

/// What the settings page shows of the Intercom connection; never the token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntercomConnection {
    pub zone: Zone,
    pub workspace_name: Option<String>,
    pub app_id: Option<String>,
    pub connected_by: Option<String>,
    pub connected_at: i64,
    pub needs_reconnect: bool,
    /// The region `GET /me` reported when the workspace was connected, if it said one.
    pub detected_zone: Option<Zone>,
}

/// Every byte but the unreserved ones (RFC 3986) as `%XX`: for URL paths and data URLs,
/// on the server and in the browser alike.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// "2026-11-24 09:05 UTC", without a date library in the browser bundle.
pub fn format_timestamp(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let secs = unix_seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", secs / 3600, (secs % 3600) / 60)
}

// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_utc_dates() {
        assert_eq!(format_timestamp(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_timestamp(1_795_511_100), "2026-11-24 09:05 UTC");
        assert_eq!(format_timestamp(951_782_400), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn zones_parse_from_their_codes_and_names() {
        assert_eq!(Zone::parse("EU"), Some(Zone::Eu));
        assert_eq!(Zone::parse("australia"), Some(Zone::Au));
        assert_eq!(Zone::parse("asia"), None);
    }

    #[test]
    fn edits_are_trimmed_and_checked_before_they_are_saved() {
        let edit = CustomerEdit {
            stage: Some("  active ".into()),
            csm_owner: Some(" ".into()),
            health_score: Some(80),
            ..Default::default()
        };
        let checked = edit.checked().unwrap();
        assert_eq!((checked.stage.as_deref(), checked.csm_owner), (Some("active"), None));
        let bad = CustomerEdit { health_score: Some(101), csm_pulse: Some("x".repeat(256)), ..Default::default() };
        let keys: Vec<String> = bad.checked().unwrap_err().into_iter().map(|e| e.key).collect();
        assert_eq!(keys, ["csm_pulse", "health_score"]);
        assert!(ContactEdit { role_tag: Some("Boss".into()) }.checked().is_err());
        assert_eq!(
            ContactEdit { role_tag: Some("Sponsor".into()) }.checked().unwrap().role_tag.as_deref(),
            Some("Sponsor")
        );
    }

    #[test]
    fn exported_json_survives_a_data_url() {
        assert_eq!(percent_encode("{\"a\": 1}"), "%7B%22a%22%3A%201%7D");
    }
}
