//! Who the next run would churn, shown before it happens.

use serde::{Deserialize, Serialize};

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
    fn a_preview_over_the_threshold_needs_confirmation() {
        let candidate = ChurnCandidate { external_id: "a".into(), name: "A".into() };
        let preview = ChurnPreview { candidates: vec![candidate; 2], total_customers: 10, max_percent: 10 };
        assert!(preview.needs_confirmation());
        assert!(!ChurnPreview { max_percent: 20, ..preview }.needs_confirmation());
    }
}
