use std::collections::HashSet;

use crate::domain::{ChurnCandidate, Customer};

/// The stage churned customers get; they are never deleted.
pub const CHURN_STAGE: &str = "churn";

/// Customers Skalin got from Intercom that Intercom no longer has. Customers that never
/// came from Intercom, and those already churned, are left alone.
pub fn churn_candidates<'a>(
    customers: impl IntoIterator<Item = &'a Customer>,
    live_ids: &HashSet<String>,
) -> Vec<ChurnCandidate> {
    customers
        .into_iter()
        .filter(|c| c.stage.as_deref() != Some(CHURN_STAGE))
        .filter(|c| c.intercom_id.as_ref().is_some_and(|id| !live_ids.contains(id)))
        .map(|c| ChurnCandidate { external_id: c.external_id.clone(), name: c.name.clone() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(external_id: &str, intercom_id: Option<&str>, stage: Option<&str>) -> Customer {
        Customer {
            id: 0,
            external_id: external_id.into(),
            intercom_id: intercom_id.map(Into::into),
            name: external_id.to_uppercase(),
            domain: None,
            csm_owner: None,
            stage: stage.map(Into::into),
            profile: None,
            health_score: None,
            csm_pulse: None,
            updated_at: 0,
        }
    }

    #[test]
    fn only_customers_missing_from_intercom_and_not_yet_churned_are_candidates() {
        let customers = [
            customer("kept", Some("ic-1"), Some("active")),
            customer("gone", Some("ic-2"), Some("active")),
            customer("already", Some("ic-3"), Some(CHURN_STAGE)),
            customer("skalin-only", None, None),
        ];
        let live: HashSet<String> = ["ic-1".to_string()].into();
        let names: Vec<_> = churn_candidates(&customers, &live).into_iter().map(|c| c.external_id).collect();
        assert_eq!(names, ["gone"]);
    }
}
