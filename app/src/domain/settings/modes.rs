//! Which way each kind of object flows, how far back tickets are read, and when runs
//! start by themselves.

use serde::{Deserialize, Serialize};

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
}
