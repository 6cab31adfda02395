//! The sync engine's vocabulary, shared with the store that persists it: the runs it
//! claims and checkpoints, the records as it reconciles them, the page it writes in one
//! transaction, the failures it lists, and the outbox of Skalin's edits it carries to
//! Intercom. The engine (`sync`) decides what these hold; the store only writes and reads
//! them, so both import this module and the store never imports the engine.

use crate::domain::{Counts, CustomerField, ObjectStatus, RunRequest, RunTrigger, SyncObject, WalkKind};

// ---- runs -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    pub trigger: RunTrigger,
    pub requested_by: String,
    pub request: RunRequest,
    /// Scheduled runs: the slot they fill; a slot already filled inserts nothing.
    pub schedule_slot: Option<i64>,
    pub queued_at: i64,
}

/// A run a worker holds: what was asked, and where each object stands.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedRun {
    pub id: i64,
    pub trigger: RunTrigger,
    pub requested_by: String,
    pub request: RunRequest,
    pub started_at: i64,
}

/// One object's checkpoint within a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCheckpoint {
    pub object: SyncObject,
    pub status: ObjectStatus,
    pub walk: WalkKind,
    /// Where the walk goes on from; `None` at the start.
    pub cursor: Option<String>,
    pub done: u64,
    pub max_updated_at: Option<i64>,
}

/// Where the next incremental read of an object starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncCursor {
    pub updated_since: Option<i64>,
    pub full_at: Option<i64>,
}

// ---- records --------------------------------------------------------------------------

/// A customer as the engine reconciles it: its synced fields, Intercom's clock, and the
/// run that last read it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredCustomer {
    pub id: i64,
    pub external_id: String,
    pub intercom_id: Option<String>,
    pub name: String,
    pub domain: Option<String>,
    pub csm_owner: Option<String>,
    pub stage: Option<String>,
    pub profile: Option<String>,
    pub health_score: Option<i64>,
    pub csm_pulse: Option<String>,
    pub intercom_updated_at: Option<i64>,
    pub synced_run: Option<i64>,
    pub churned_at: Option<i64>,
}

/// A contact as the engine reconciles it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredContact {
    pub id: i64,
    pub external_id: String,
    pub intercom_id: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub customer_id: Option<i64>,
    pub role_tag: Option<String>,
    pub intercom_updated_at: Option<i64>,
    pub synced_run: Option<i64>,
}

/// An interaction (an Intercom ticket) as the engine reconciles it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredInteraction {
    pub id: i64,
    pub intercom_id: Option<String>,
    pub title: String,
    pub state: Option<String>,
    pub contact_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub created_at: i64,
    pub intercom_updated_at: Option<i64>,
    pub synced_run: Option<i64>,
}

/// A record to write: `id` is the row to update, `None` to insert. The row's fields are
/// written whole, `synced_run` included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordWrite {
    Customer(StoredCustomer),
    Contact(StoredContact),
    Interaction(StoredInteraction),
}

impl RecordWrite {
    /// A row to insert rather than update.
    pub fn is_new(&self) -> bool {
        match self {
            RecordWrite::Customer(c) => c.id == 0,
            RecordWrite::Contact(c) => c.id == 0,
            RecordWrite::Interaction(i) => i.id == 0,
        }
    }
}

// ---- a page ---------------------------------------------------------------------------

/// One page of a walk, as one transaction: the records, the rows only marked as read, the
/// counts, the failures, and the checkpoint to resume from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageWrite {
    pub writes: Vec<RecordWrite>,
    /// Rows read unchanged: only their `synced_run` moves.
    pub seen: Vec<i64>,
    pub counts: Counts,
    pub done: u64,
    pub failures: Vec<NewFailure>,
    /// Intercom ids whose earlier failures this page cleared.
    pub resolved: Vec<String>,
    /// Edits Intercom now has (or overruled): `(record id, field, changed_at)`; an edit
    /// made since keeps its row.
    pub sent: Vec<(i64, OutboxField, i64)>,
    /// The new checkpoint; `None` leaves it as it was.
    pub cursor: Option<Option<String>>,
    pub max_updated_at: Option<i64>,
    pub expected: Option<u64>,
}

// ---- failures -------------------------------------------------------------------------

/// A record the engine could not move, with Intercom's words and `request_id` when it
/// was Intercom that refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFailure {
    pub intercom_id: String,
    pub message: String,
    pub request_id: Option<String>,
}

// ---- the outbox -----------------------------------------------------------------------

/// An edit made in Skalin that Intercom has not received yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEdit {
    pub record_id: i64,
    pub field: OutboxField,
    pub value: Option<String>,
    /// The value before the first unsent edit: what Intercom last agreed with.
    pub base: Option<String>,
    pub changed_at: i64,
}

/// A field the outbox queues for Intercom. [`OutboxField::as_str`] is what `sync_outbox`
/// stores: the record's column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxField {
    Customer(CustomerField),
    /// A contact's role (`role_tag`).
    ContactRole,
}

impl OutboxField {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxField::Customer(field) => field.as_str(),
            OutboxField::ContactRole => "role_tag",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "role_tag" => Some(OutboxField::ContactRole),
            s => CustomerField::parse(s).map(OutboxField::Customer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_fields_read_back_as_stored() {
        let fields = CustomerField::ALL.map(OutboxField::Customer);
        for field in fields.into_iter().chain([OutboxField::ContactRole]) {
            assert_eq!(OutboxField::parse(field.as_str()), Some(field));
        }
        let stored: Vec<&str> = fields.iter().map(|f| f.as_str()).collect();
        assert_eq!(stored, ["stage", "csm_owner", "csm_pulse", "health_score"]);
        assert_eq!(OutboxField::parse("name"), None);
    }
}
