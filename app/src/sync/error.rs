use crate::integration::IntegrationError;
use crate::intercom::IntercomError;
use crate::store::StoreError;

pub type Result<T, E = SyncError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("Intercom is not connected: connect it on the settings page first")]
    NotConnected,
    #[error("Intercom refused the saved access token; an admin must reconnect the integration")]
    ReconnectNeeded,
    #[error("{0}")]
    Intercom(#[from] IntercomError),
    #[error("no sync run {0}")]
    UnknownRun(i64),
    /// The run is not in a state that allows this (e.g. confirming churn twice).
    #[error("{0}")]
    NotAllowed(String),
    #[error(transparent)]
    Integration(IntegrationError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    /// Another worker took the run over (or it ended) while this one worked it: not a
    /// failure of the run, which is the new holder's to record.
    pub fn is_run_lost(&self) -> bool {
        matches!(self, SyncError::Store(StoreError::RunLost(_)))
    }
}

impl From<IntegrationError> for SyncError {
    fn from(err: IntegrationError) -> Self {
        match err {
            IntegrationError::NotConnected => SyncError::NotConnected,
            IntegrationError::ReconnectNeeded => SyncError::ReconnectNeeded,
            IntegrationError::Unreachable(e) => SyncError::Intercom(e),
            IntegrationError::Store(e) => SyncError::Store(e),
            other => SyncError::Integration(other),
        }
    }
}
