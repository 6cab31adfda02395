//! Customers whose company Intercom no longer has: found after a complete company walk
//! only, confirmed one by one, and churned (never deleted) below the threshold.

use std::collections::HashSet;

use super::pipeline::{ChurnOutcome, Walk};
use super::Result;
use crate::domain::ChurnEntry;
use crate::integration::CHURN_STAGE;
use crate::intercom::IntercomError;

/// Churn candidates looked up one by one before they count as gone, at most; beyond this
/// the threshold's confirmation is the check.
const MAX_CHURN_LOOKUPS: usize = 200;

impl Walk<'_> {
    /// After a complete walk only: customers from Intercom that it did not see.
    pub(super) async fn churn(&self, seen_in_dry_run: &HashSet<String>) -> Result<Option<ChurnOutcome>> {
        let settings = &self.settings.customers;
        if !settings.churn_enabled {
            return Ok(None);
        }
        let candidates: Vec<ChurnEntry> = if self.dry_run {
            self.store
                .unseen_customers(i64::MAX)
                .await?
                .into_iter()
                .filter(|c| !seen_in_dry_run.contains(&c.intercom_id))
                .collect()
        } else {
            self.store.unseen_customers(self.run_id).await?
        };
        if candidates.is_empty() {
            return Ok(Some(ChurnOutcome::Applied(0)));
        }
        let candidates = self.still_gone(candidates).await?;
        if candidates.is_empty() {
            return Ok(Some(ChurnOutcome::Applied(0)));
        }
        if self.dry_run {
            return Ok(Some(ChurnOutcome::WouldChurn(candidates)));
        }
        let total = self.store.intercom_customer_count().await?;
        if over_threshold(candidates.len() as u64, total, settings.churn_max_percent) {
            return Ok(Some(ChurnOutcome::Waiting(candidates)));
        }
        let ids: Vec<String> = candidates.into_iter().map(|c| c.intercom_id).collect();
        let churned =
            self.store.churn_customers(self.run_id, self.holder, &ids, CHURN_STAGE, crate::store::now()).await?;
        Ok(Some(ChurnOutcome::Applied(churned)))
    }

    /// Whether the scroll lists companies that have no users is UNCONFIRMED: a company
    /// missing from the walk is looked up before it counts as gone. Any error other than
    /// "not found" stops the churn for this run.
    pub(super) async fn still_gone(&self, candidates: Vec<ChurnEntry>) -> Result<Vec<ChurnEntry>> {
        if candidates.len() > MAX_CHURN_LOOKUPS {
            return Ok(candidates);
        }
        let mut gone = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            match self.api.company(&candidate.intercom_id).await {
                Err(IntercomError::NotFound(_)) => gone.push(candidate),
                Ok(_) => tracing::info!(
                    sync.run_id = self.run_id,
                    intercom.id = %candidate.intercom_id,
                    "a company missing from the scroll still exists (no users?): not churned"
                ),
                Err(err) => return Err(err.into()),
            }
        }
        Ok(gone)
    }
}

/// Whether churning `candidates` of `total` customers goes over `max_percent`.
pub fn over_threshold(candidates: u64, total: u64, max_percent: u8) -> bool {
    candidates * 100 > total.max(1) * u64::from(max_percent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn churn_waits_only_above_the_threshold() {
        assert!(!over_threshold(1, 10, 10));
        assert!(over_threshold(2, 10, 10));
        assert!(over_threshold(1, 0, 10));
        assert!(!over_threshold(0, 0, 0));
    }
}
