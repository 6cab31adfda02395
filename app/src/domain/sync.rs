//! Sync runs as the history page, the progress bar and the command line show them.

use serde::{Deserialize, Serialize};

use super::settings::SyncObject;

impl SyncObject {
    pub const ALL: [SyncObject; 3] = [SyncObject::Customers, SyncObject::Contacts, SyncObject::Interactions];

    pub fn as_str(self) -> &'static str {
        match self {
            SyncObject::Customers => "customers",
            SyncObject::Contacts => "contacts",
            SyncObject::Interactions => "interactions",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "customers" | "companies" => Some(SyncObject::Customers),
            "contacts" => Some(SyncObject::Contacts),
            "interactions" | "tickets" => Some(SyncObject::Interactions),
            _ => None,
        }
    }
}

/// Where a run stands. A run ends `Success` only when every object it covered did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    Running,
    /// Churn went over the threshold: the run waits for an admin to confirm it.
    AwaitingConfirmation,
    Success,
    /// Some records or some objects failed; the rest was written.
    Partial,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::AwaitingConfirmation => "awaiting_confirmation",
            RunStatus::Success => "success",
            RunStatus::Partial => "partial",
            RunStatus::Failed => "failed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RunStatus::Queued => "Queued",
            RunStatus::Running => "Running",
            RunStatus::AwaitingConfirmation => "Waiting for confirmation",
            RunStatus::Success => "Success",
            RunStatus::Partial => "Partial",
            RunStatus::Failed => "Failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            RunStatus::Queued,
            RunStatus::Running,
            RunStatus::AwaitingConfirmation,
            RunStatus::Success,
            RunStatus::Partial,
            RunStatus::Failed,
        ]
        .into_iter()
        .find(|s2| s2.as_str() == s)
    }

    /// Still going, or able to go on: another run must not start beside it.
    pub fn is_active(self) -> bool {
        matches!(self, RunStatus::Queued | RunStatus::Running)
    }
}

/// Who or what asked for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunTrigger {
    Manual,
    Schedule,
    CommandLine,
}

impl RunTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            RunTrigger::Manual => "manual",
            RunTrigger::Schedule => "schedule",
            RunTrigger::CommandLine => "command_line",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RunTrigger::Manual => "Sync now",
            RunTrigger::Schedule => "Schedule",
            RunTrigger::CommandLine => "Command line",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [RunTrigger::Manual, RunTrigger::Schedule, RunTrigger::CommandLine].into_iter().find(|t| t.as_str() == s)
    }
}

/// How much of Intercom a run reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WalkKind {
    /// Only what changed since the last run, where the API allows it.
    Incremental,
    /// Everything: catches what incremental reads miss.
    Full,
}

impl WalkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WalkKind::Incremental => "incremental",
            WalkKind::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "incremental" => Some(WalkKind::Incremental),
            "full" => Some(WalkKind::Full),
            _ => None,
        }
    }
}

/// What a user asks for with *Sync now* or `server sync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRequest {
    /// Empty means every object whose mode reads or writes.
    pub objects: Vec<SyncObject>,
    /// `None`: incremental, with a full walk when one is due.
    pub walk: Option<WalkKind>,
    /// Compute what would change, write nothing.
    pub dry_run: bool,
}

/// Records by outcome, for one object of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub churned: u64,
    pub failed: u64,
}

impl Counts {
    pub fn changed(&self) -> u64 {
        self.created + self.updated + self.churned
    }

    pub fn add(&mut self, other: &Counts) {
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.churned += other.churned;
        self.failed += other.failed;
    }
}

/// Where one object of a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectStatus {
    Pending,
    Running,
    Done,
    AwaitingConfirmation,
    Failed,
    Skipped,
}

impl ObjectStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectStatus::Pending => "pending",
            ObjectStatus::Running => "running",
            ObjectStatus::Done => "done",
            ObjectStatus::AwaitingConfirmation => "awaiting_confirmation",
            ObjectStatus::Failed => "failed",
            ObjectStatus::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ObjectStatus::Pending,
            ObjectStatus::Running,
            ObjectStatus::Done,
            ObjectStatus::AwaitingConfirmation,
            ObjectStatus::Failed,
            ObjectStatus::Skipped,
        ]
        .into_iter()
        .find(|s2| s2.as_str() == s)
    }
}

/// One object of one run: its counts, progress and what stopped it, if anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectReport {
    pub object: SyncObject,
    pub status: ObjectStatus,
    pub walk: WalkKind,
    pub counts: Counts,
    /// Records read so far, and how many Intercom said there are (when it says).
    pub done: u64,
    pub expected: Option<u64>,
    pub message: Option<String>,
    /// Customers this run would churn, when churn waits for confirmation or in a dry run.
    pub churn: Vec<ChurnEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChurnEntry {
    pub intercom_id: String,
    pub external_id: String,
    pub name: String,
}

/// A run as the history lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRun {
    pub id: i64,
    pub trigger: RunTrigger,
    pub requested_by: String,
    pub status: RunStatus,
    pub dry_run: bool,
    pub queued_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// Intercom calls made, retries among them, and waits for the rate limit.
    pub calls: u64,
    pub retries: u64,
    pub rate_limit_waits: u64,
    pub message: Option<String>,
    pub objects: Vec<ObjectReport>,
}

impl SyncRun {
    pub fn totals(&self) -> Counts {
        let mut total = Counts::default();
        for o in &self.objects {
            total.add(&o.counts);
        }
        total
    }

    /// Seconds from start to end (to now, `now`, while running).
    pub fn duration(&self, now: i64) -> Option<i64> {
        let start = self.started_at?;
        Some(self.finished_at.unwrap_or(now).saturating_sub(start).max(0))
    }

    pub fn done(&self) -> u64 {
        self.objects.iter().map(|o| o.done).sum()
    }

    /// The sum of the expected counts, when every object running or done has one.
    pub fn expected(&self) -> Option<u64> {
        self.objects
            .iter()
            .filter(|o| o.status != ObjectStatus::Skipped)
            .map(|o| o.expected.map(|e| e.max(o.done)))
            .sum()
    }
}

/// A record a run could not write, with what Intercom or Skalin said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncFailure {
    pub run_id: i64,
    pub object: SyncObject,
    pub intercom_id: String,
    pub message: String,
    pub request_id: Option<String>,
    pub failed_at: i64,
    pub resolved_at: Option<i64>,
}

/// What the schedule will do, as the Sync runs page states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScheduleState {
    Off,
    /// Runs are queued every `label`; the next slot starts at `next_at`.
    On {
        label: String,
        next_at: i64,
    },
    /// A schedule is set but nothing will start until the connection is mended.
    Paused {
        label: String,
        reason: String,
    },
}

/// A run and its failed records, for the history page's detail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    pub run: SyncRun,
    pub failures: Vec<SyncFailure>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(object: SyncObject, done: u64, expected: Option<u64>, status: ObjectStatus) -> ObjectReport {
        ObjectReport {
            object,
            status,
            walk: WalkKind::Full,
            counts: Counts { created: done, ..Counts::default() },
            done,
            expected,
            message: None,
            churn: vec![],
        }
    }

    #[test]
    fn a_run_expects_the_sum_of_its_objects_only_when_each_says() {
        let mut run = SyncRun {
            id: 1,
            trigger: RunTrigger::Manual,
            requested_by: "a".into(),
            status: RunStatus::Running,
            dry_run: false,
            queued_at: 0,
            started_at: Some(10),
            finished_at: None,
            calls: 0,
            retries: 0,
            rate_limit_waits: 0,
            message: None,
            objects: vec![
                report(SyncObject::Customers, 5, Some(4), ObjectStatus::Done),
                report(SyncObject::Contacts, 3, Some(10), ObjectStatus::Running),
                report(SyncObject::Interactions, 0, None, ObjectStatus::Skipped),
            ],
        };
        assert_eq!(run.expected(), Some(15));
        assert_eq!(run.done(), 8);
        assert_eq!(run.totals().created, 8);
        assert_eq!(run.duration(25), Some(15));
        run.objects[1].expected = None;
        assert_eq!(run.expected(), None);
    }

    #[test]
    fn objects_parse_from_intercom_names_too() {
        assert_eq!(SyncObject::parse("companies"), Some(SyncObject::Customers));
        assert_eq!(SyncObject::parse("Tickets"), Some(SyncObject::Interactions));
        assert_eq!(SyncObject::parse("deals"), None);
    }
}
