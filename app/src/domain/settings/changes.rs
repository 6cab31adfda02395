//! The change history's words for what a Save changed.

use super::{IntegrationSettings, Mapping, RoleSource, INTERCOM_ID};

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
    let mapped = |settings: &IntegrationSettings, mapping: Mapping| {
        if mapping.is_role() {
            role(settings.role(mapping))
        } else {
            field(settings.field_of(mapping))
        }
    };
    for mapping in Mapping::ALL {
        diff(mapping.label(), mapped(before, mapping), mapped(after, mapping));
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn every_mapping_changed_is_one_line_under_its_label() {
        let before = IntegrationSettings::default();
        for mapping in Mapping::ALL {
            let mut after = before.clone();
            after.set_field(mapping, Some("custom_attributes.Changed".into()));
            let to = if mapping.is_role() { "field custom_attributes.Changed" } else { "custom_attributes.Changed" };
            let lines = describe_changes(&before, &after);
            assert_eq!(lines.len(), 1, "{mapping:?}: {lines:?}");
            assert!(lines[0].starts_with(&format!("{}: ", mapping.label())), "{mapping:?}: {lines:?}");
            assert!(lines[0].ends_with(&format!(" → {to}")), "{mapping:?}: {lines:?}");
        }
    }
}
