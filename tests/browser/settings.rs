//! The Intercom settings page, section by section, in real Chromium. Each scenario has
//! its own app and sandbox Intercom(s), so that connecting and saving in one cannot
//! leak into another.

use std::sync::Arc;

use anyhow::{ensure, Context};
use app::domain::{IntegrationSettings, SyncMode, CONFLICT_RULE};
use fantoccini::Locator;
use leptos::server_fn::ServerFn;
use sandbox::{RunningSandbox, Sandbox, SandboxConfig, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_TOKEN};
use skalin_tests::{spawn_app_with, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_EMAIL, MEMBER_PASSWORD};

use crate::driver::{Browser, World};
use crate::scenarios::{sign_in, Outcome, Scenario};

const PAGE: &str = "/integrations/intercom";

macro_rules! settings_scenarios {
    ($($name:ident: $js_only:expr),* $(,)?) => {
        pub fn all() -> Vec<(&'static str, Scenario)> {
            vec![$((stringify!($name), Scenario { js_only: $js_only, run: |w, b| -> Outcome { Box::pin($name(w, b)) } })),*]
        }
    };
}

settings_scenarios!(
    connect_me_authorizes_on_intercoms_consent_page_and_connects: false,
    a_callback_with_a_wrong_state_is_rejected_and_nothing_is_saved: false,
    a_pasted_token_connects_in_the_chosen_zone_and_calls_go_to_its_host: true,
    disconnect_forgets_the_workspace: true,
    a_revoked_token_turns_the_status_into_reconnect_needed: false,
    each_mode_picker_offers_only_its_valid_modes_and_input_only_is_suggested: false,
    the_dropdowns_list_the_live_intercom_fields_and_follow_a_refresh: true,
    saved_settings_survive_a_reload_and_are_in_the_history: true,
    a_rejected_save_says_why_under_the_field_and_saves_nothing: true,
    leaving_with_unsaved_changes_asks_first: true,
    churn_preview_lists_who_would_be_churned: true,
    uploading_scores_creates_the_two_attributes_and_the_budget_shows_them: true,
    export_then_import_copies_a_set_up: true,
    creating_companies_in_intercom_is_offered_in_writing_modes_and_survives_a_reload: true,
    creating_contacts_in_intercom_is_offered_in_writing_modes_and_survives_a_reload: true,
    a_member_sees_everything_read_only: false,
);

/// An app whose US and Australian calls go to one sandbox and EU calls to another.
struct Stage {
    app: TestApp,
    us: RunningSandbox,
    eu: RunningSandbox,
}

fn small(region: &str) -> SandboxConfig {
    SandboxConfig { companies: 20, contacts: 40, tickets: 5, region: region.into(), ..SandboxConfig::default() }
}

async fn stage() -> anyhow::Result<Stage> {
    let us = Sandbox::spawn(small("US")).await?;
    let eu = Sandbox::spawn(small("EU")).await?;
    let app = spawn_app_with(&[
        "--intercom-base-url-us",
        &us.base_url,
        "--intercom-base-url-au",
        &us.base_url,
        "--intercom-base-url-eu",
        &eu.base_url,
        "--intercom-client-id",
        SANDBOX_CLIENT_ID,
        "--intercom-client-secret",
        SANDBOX_CLIENT_SECRET,
    ])
    .await;
    Ok(Stage { app, us, eu })
}

/// A stage already connected to the US sandbox (through the server function an admin's
/// page calls), for the scenarios about what comes after connecting.
async fn connected_stage() -> anyhow::Result<Stage> {
    let stage = stage().await?;
    let client = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build()?;
    client
        .post(stage.app.url("/auth/signin"))
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", "")])
        .send()
        .await?;
    let response = client
        .post(stage.app.url(app::server_fns::ConnectIntercomWithToken::PATH))
        .header("accept", "application/json")
        .form(&[("access_token", SANDBOX_TOKEN), ("zone", "us")])
        .send()
        .await?;
    ensure!(response.status().is_success(), "connecting failed: {}", response.text().await?);
    Ok(stage)
}

async fn open_settings_as(b: &Browser, email: &str, password: &str) -> anyhow::Result<()> {
    b.open(PAGE).await?;
    sign_in(b, email, password).await?;
    b.wait_for_heading("Intercom").await?;
    b.ready().await
}

async fn status(b: &Browser) -> anyhow::Result<String> {
    b.text("[data-testid=connection-status]").await
}

async fn connect_me_authorizes_on_intercoms_consent_page_and_connects(_: Arc<World>, b: Browser) -> anyhow::Result<()> {
    let stage = stage().await?;
    let b = b.at(&stage.app.base_url);
    open_settings_as(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    ensure!(status(&b).await? == "Not connected");
    b.choose("Zone", "EU").await?;
    let main_window = b.client.window().await?;
    b.click_button("Connect me").await?;
    if b.js {
        // A popup with Intercom's consent page; this page waits for its answer.
        b.wait_until("the consent popup opens", || async { Ok(b.client.windows().await?.len() == 2) }).await?;
        let popup = b.client.windows().await?.into_iter().find(|w| *w != main_window).context("the popup")?;
        b.client.switch_to_window(popup).await?;
    }
    b.wait_for_heading("Authorize Skalin to access Skalin Sandbox").await?;
    let consent = b.client.current_url().await?;
    ensure!(consent.as_str().starts_with(&stage.eu.base_url), "the EU consent page was expected, got {consent}");
    b.click_button("Authorize").await?;
    if b.js {
        b.wait_until("the popup closes", || async { Ok(b.client.windows().await?.len() == 1) }).await?;
        b.client.switch_to_window(main_window).await?;
    }
    b.wait_for_text("[data-testid=connection-status]", "Connected").await?;
    ensure!(b.path().await?.starts_with(PAGE), "ended at {}", b.path().await?);
    ensure!(b.text("[data-testid=workspace-name]").await? == "Skalin Sandbox");
    ensure!(b.text("[data-testid=saved-zone]").await? == "EU");
    ensure!(stage.eu.sandbox.stats().calls_to("GET /me") >= 1 && stage.us.sandbox.stats().calls_to("GET /me") == 0);
    let html = b.client.source().await?;
    ensure!(!html.contains("tok:") && !html.contains(SANDBOX_TOKEN), "a token reached the page");
    Ok(())
}

async fn a_callback_with_a_wrong_state_is_rejected_and_nothing_is_saved(
    _: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    let stage = stage().await?;
    let b = b.at(&stage.app.base_url);
    open_settings_as(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    // Starting Connect me puts a state in the session; an answer with another is refused.
    b.visit("/integrations/intercom/connect?zone=us").await?;
    b.wait_for_heading("Authorize Skalin to access Skalin Sandbox").await?;
    b.visit("/integrations/intercom/callback?code=forged&state=not-the-one").await?;
    b.wait_for_text("[data-testid=oauth-message]", "did not match").await?;
    b.open(PAGE).await?;
    ensure!(status(&b).await? == "Not connected");
    ensure!(stage.app.store.intercom_connection().await?.is_none());
    Ok(())
}

async fn a_pasted_token_connects_in_the_chosen_zone_and_calls_go_to_its_host(
    _: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    let stage = stage().await?;
    let b = b.at(&stage.app.base_url);
    open_settings_as(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    b.choose("Zone", "EU").await?;
    b.fill("Access token", "not-a-token").await?;
    b.click_button("Connect with token").await?;
    b.wait_for_text("[data-error-for=access_token]", "refused this access token").await?;
    ensure!(status(&b).await? == "Not connected");

    b.fill("Access token", SANDBOX_TOKEN).await?;
    b.click_button("Connect with token").await?;
    b.wait_for_text("[data-testid=connection-status]", "Connected").await?;
    ensure!(b.text("[data-testid=saved-zone]").await? == "EU");
    ensure!(stage.us.sandbox.stats().total_calls == 0, "the US host was called: {:?}", stage.us.sandbox.stats());

    // Another zone: the page warns that Intercom placed the workspace elsewhere, and
    // calls now go to the new zone's host.
    b.choose("Zone", "US").await?;
    b.click_button("Change zone").await?;
    b.wait_for_text("[data-testid=saved-zone]", "US").await?;
    b.wait_for_text("[data-testid=zone-warning]", "hosted in EU").await?;
    stage.us.sandbox.reset_stats();
    b.click_button("Refresh fields").await?;
    b.wait_until("the US host is asked for fields", || async {
        Ok(stage.us.sandbox.stats().calls_to("GET /data_attributes") >= 2)
    })
    .await?;
    Ok(())
}

async fn disconnect_forgets_the_workspace(_: Arc<World>, b: Browser) -> anyhow::Result<()> {
    let stage = connected_stage().await?;
    let b = b.at(&stage.app.base_url);
    open_settings_as(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    ensure!(status(&b).await? == "Connected");
    b.click_button("Disconnect").await?;
    b.client.accept_alert().await.context("the confirmation")?;
    b.wait_for_text("[data-testid=connection-status]", "Not connected").await?;
    ensure!(stage.app.store.intercom_token().await?.is_none(), "the token is still stored");
    Ok(())
}

async fn a_revoked_token_turns_the_status_into_reconnect_needed(_: Arc<World>, b: Browser) -> anyhow::Result<()> {
    let stage = connected_stage().await?;
    stage.us.sandbox.revoke_tokens();
    let b = b.at(&stage.app.base_url);
    open_settings_as(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    // The first page asks Intercom for the fields, gets a 401, and says so.
    b.wait_for_text("[data-testid=fields-status]", "Reconnect needed").await?;
    b.open(PAGE).await?;
    ensure!(status(&b).await? == "Reconnect needed", "status: {}", status(&b).await?);
    ensure!(b.has_button("Reconnect").await?, "no Reconnect button");
    Ok(())
}

const ALL_MODES: [&str; 4] = ["Input only", "Two-ways", "Output only", "Disabled"];

async fn each_mode_picker_offers_only_its_valid_modes_and_input_only_is_suggested(
    _: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    let stage = connected_stage().await?;
    let b = b.at(&stage.app.base_url);
    open_settings_as(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    ensure!(b.option_texts("Customers mode").await? == ALL_MODES);
    ensure!(b.option_texts("Contacts mode").await? == ALL_MODES);
    ensure!(b.option_texts("Interactions mode").await? == ["Input only", "Disabled"]);
    for label in ["Customers mode", "Contacts mode", "Interactions mode"] {
        ensure!(b.value_of(label).await? == "input_only", "{label} is not on Input only");
    }
    ensure!(b.text("[data-testid=first-setup]").await?.contains("suggested first set-up"));
    ensure!(
        b.option_texts("Import tickets from").await?
            == ["Last 30 days", "Last 90 days", "Last 365 days", "All tickets"]
    );
    Ok(())
}

/// The company fields a mapping of text type may use, as the sandbox itself lists them.
async fn live_text_company_fields(sandbox: &RunningSandbox) -> anyhow::Result<Vec<String>> {
    let list: serde_json::Value = reqwest::Client::new()
        .get(sandbox.url("/data_attributes?model=company"))
        .bearer_auth(SANDBOX_TOKEN)
        .send()
        .await?
        .json()
        .await?;
    let mut keys: Vec<String> = list["data"]
        .as_array()
        .context("a data attribute list")?
        .iter()
        .filter(|a| a["data_type"] == "string" && a["archived"] != true && a["full_name"] != "id")
        .filter_map(|a| a["full_name"].as_str().map(String::from))
        .collect();
    keys.sort();
    Ok(keys)
}

async fn offered(b: &Browser, label: &str) -> anyhow::Result<Vec<String>> {
    let mut values: Vec<String> = b.option_values(label).await?.into_iter().filter(|v| !v.is_empty()).collect();
    values.sort();
    Ok(values)
}

async fn the_dropdowns_list_the_live_intercom_fields_and_follow_a_refresh(
    _: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    let stage = connected_stage().await?;
    let b = b.at(&stage.app.base_url);
    open_settings_as(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    let live = live_text_company_fields(&stage.us).await?;
    ensure!(offered(&b, "Customer stage").await? == live, "stage options differ from the sandbox's {live:?}");
    ensure!(!live.iter().any(|k| k.ends_with("Legacy Plan")), "an archived field is offered");
    let texts = b.option_texts("Customer stage").await?;
    ensure!(texts.contains(&"Tier (text)".to_string()), "types are not shown: {texts:?}");
    ensure!(
        b.option_values("Customer ID").await?.contains(&"id".to_string()),
        "Intercom's id is not offered for Customer ID"
    );
    ensure!(b.option_values("Champion").await?.contains(&"tag:Champion".to_string()));

    stage.us.sandbox.add_data_attribute("company", "Renewal Owner", "string");
    stage.us.sandbox.add_tag("Power user");
    ensure!(!offered(&b, "Customer stage").await?.contains(&"custom_attributes.Renewal Owner".to_string()));
    b.click_button("Refresh fields").await?;
    b.wait_until("the new field is offered", || async {
        Ok(offered(&b, "Customer stage").await?.contains(&"custom_attributes.Renewal Owner".to_string()))
    })
    .await?;
    ensure!(offered(&b, "Customer stage").await? == live_text_company_fields(&stage.us).await?);
    ensure!(b.option_values("Sponsor").await?.contains(&"tag:Power user".to_string()));
    Ok(())
}

async fn saved_settings_survive_a_reload_and_are_in_the_history(_: Arc<World>, b: Browser) -> anyhow::Result<()> {
    let stage = connected_stage().await?;
    let b = b.at(&stage.app.base_url);
    open_settings_as(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    ensure!(b.client.find_all(Locator::Css("[data-testid=unsaved-changes]")).await?.is_empty());
    b.choose("Customer stage", "Tier (text)").await?;
    b.choose("Champion", "Champion (tag)").await?;
    b.choose("Import tickets from", "Last 365 days").await?;
    b.click_control("Make customers become churners if they are not found anymore").await?;
    b.fill("Churn threshold (%)", "25").await?;
    b.wait_for_text("[data-testid=unsaved-changes]", "Unsaved changes").await?;
    b.click_button("Save").await?;
    b.wait_for_text("[data-testid=save-notice]", "Settings saved.").await?;
    ensure!(
        b.client.find_all(Locator::Css("[data-testid=unsaved-changes]")).await?.is_empty(),
        "still flagged unsaved"
    );

    b.open(PAGE).await?;
    ensure!(b.value_of("Customer stage").await? == "custom_attributes.Tier");
    ensure!(b.value_of("Champion").await? == "tag:Champion");
    ensure!(b.value_of("Import tickets from").await? == "365_days");
    ensure!(b.is_checked("Make customers become churners if they are not found anymore").await?);
    ensure!(b.value_of("Churn threshold (%)").await? == "25");
    let history = b.text("[data-testid=change-history]").await?;
    ensure!(
        history.contains(ADMIN_EMAIL) && history.contains("Customer stage: Disabled → custom_attributes.Tier"),
        "{history}"
    );
    Ok(())
}

async fn a_rejected_save_says_why_under_the_field_and_saves_nothing(_: Arc<World>, b: Browser) -> anyhow::Result<()> {
    let stage = connected_stage().await?;
    let b = b.at(&stage.app.base_url);
    open_settings_as(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    b.choose("Customers mode", "Two-ways").await?;
    b.choose("Customer stage", "Tier (text)").await?;
    b.click_button("Save").await?;
    b.wait_for_text("[data-error-for='customers.id_field']", "cannot be Intercom's id").await?;
    ensure!(b.text("[data-testid=save-error]").await?.contains("need attention"));
    ensure!(stage.app.store.integration_settings().await?.is_none(), "something was saved");
    b.open(PAGE).await?;
    ensure!(b.value_of("Customers mode").await? == "input_only");
    ensure!(b.value_of("Customer stage").await?.is_empty());
    Ok(())
}

async fn leaving_with_unsaved_changes_asks_first(_: Arc<World>, b: Browser) -> anyhow::Result<()> {
    let stage = connected_stage().await?;
    let b = b.at(&stage.app.base_url);
    open_settings_as(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    b.choose("Customer profile", "Tier (text)").await?;
    b.wait_for_text("[data-testid=unsaved-changes]", "Unsaved changes").await?;
    b.click_link("Customers").await?;
    let question = b.client.get_alert_text().await.context("no question before leaving")?;
    ensure!(question.contains("unsaved changes"), "asked {question:?}");
    b.client.dismiss_alert().await?;
    ensure!(b.path().await? == PAGE, "left anyway, to {}", b.path().await?);
    ensure!(b.value_of("Customer profile").await? == "custom_attributes.Tier", "the change was lost");
    b.click_link("Customers").await?;
    b.client.accept_alert().await?;
    b.wait_for_heading("Customers").await?;
    Ok(())
}

async fn churn_preview_lists_who_would_be_churned(_: Arc<World>, b: Browser) -> anyhow::Result<()> {
    let stage = connected_stage().await?;
    let live = stage.us.sandbox.company_ids();
    let customers = [
        ("kept-1", Some(live[0].clone())),
        ("kept-2", Some(live[1].clone())),
        ("gone-1", Some("0000deadbeef".to_string())),
        ("local", None),
    ];
    for (name, intercom_id) in customers {
        stage
            .app
            .store
            .insert_customer(&app::domain::NewCustomer {
                external_id: name.into(),
                intercom_id,
                name: format!("Customer {name}"),
                domain: None,
                stage: Some("active".into()),
            })
            .await?;
    }
    let b = b.at(&stage.app.base_url);
    open_settings_as(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    b.click_control("Make customers become churners if they are not found anymore").await?;
    b.fill("Churn threshold (%)", "20").await?;
    b.click_button("Preview churn").await?;
    let preview = b.wait_for_text("[data-testid=churn-preview]", "would become churners").await?;
    ensure!(preview.contains("1 of 4 customers") && preview.contains("Customer gone-1 (gone-1)"), "{preview}");
    ensure!(preview.contains("more than 20 %"), "no confirmation warning: {preview}");
    ensure!(!preview.contains("Customer kept-1") && !preview.contains("Customer local"), "{preview}");
    Ok(())
}

async fn uploading_scores_creates_the_two_attributes_and_the_budget_shows_them(
    _: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    let stage = connected_stage().await?;
    let b = b.at(&stage.app.base_url);
    open_settings_as(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    let budget = b.text("[data-testid=attribute-budget]").await?;
    let used: u32 = budget.split_whitespace().next().and_then(|n| n.parse().ok()).context("a count")?;
    ensure!(budget.contains("of 250 custom attributes used"), "{budget}");
    b.click_control("Upload Healthscore and CSM Pulse").await?;
    b.click_button("Save").await?;
    b.wait_for_text("[data-testid=save-notice]", "Settings saved.").await?;
    ensure!(stage.us.sandbox.stats().calls_to("POST /data_attributes") == 2);
    b.click_button("Refresh fields").await?;
    b.wait_for_text("[data-testid=attribute-budget]", &format!("{} of 250", used + 2)).await?;
    ensure!(b.option_texts("Customer stage").await?.contains(&"Skalin CSM Pulse (text)".to_string()));
    Ok(())
}

async fn export_then_import_copies_a_set_up(_: Arc<World>, b: Browser) -> anyhow::Result<()> {
    let stage = connected_stage().await?;
    let b = b.at(&stage.app.base_url);
    open_settings_as(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    b.click_button("Export settings").await?;
    b.wait_until("the export appears", || async {
        Ok(b.value_of("Exported settings (JSON)").await?.contains("skalin.intercom.settings/v1"))
    })
    .await?;
    let mut json: serde_json::Value = serde_json::from_str(&b.value_of("Exported settings (JSON)").await?)?;
    json["settings"]["customers"]["profile_field"] = "custom_attributes.Sales Region".into();
    json["settings"]["interactions"]["import_window"] = "all".into();

    b.fill("Settings to import (JSON)", "{ not json").await?;
    b.click_button("Import settings").await?;
    b.wait_for_text("[data-testid=save-error]", "cannot be read").await?;

    b.fill("Settings to import (JSON)", &json.to_string()).await?;
    b.click_button("Import settings").await?;
    b.wait_for_text("[data-testid=save-notice]", "imported").await?;
    ensure!(b.value_of("Customer profile").await? == "custom_attributes.Sales Region");
    ensure!(b.value_of("Import tickets from").await? == "all");
    b.open(PAGE).await?;
    ensure!(b.value_of("Customer profile").await? == "custom_attributes.Sales Region", "the import was not saved");
    Ok(())
}

const CREATE_COMPANIES: &str = "Create companies in Intercom for customers it does not have";

async fn creating_companies_in_intercom_is_offered_in_writing_modes_and_survives_a_reload(
    _: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    let stage = connected_stage().await?;
    let b = b.at(&stage.app.base_url);
    open_settings_as(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    ensure!(b.is_disabled(CREATE_COMPANIES).await?, "offered while customers are Input only");
    ensure!(
        b.client.find_all(Locator::Css("[data-conflict-rule-for]")).await?.is_empty(),
        "the conflict rule shows outside Two-ways"
    );

    b.choose("Customers mode", "Two-ways").await?;
    let rule = b.wait_for_text("[data-conflict-rule-for='customers.mode']", "most recent change wins").await?;
    ensure!(rule == CONFLICT_RULE, "the rule reads {rule:?}");
    ensure!(!b.is_disabled(CREATE_COMPANIES).await?, "not offered in Two-ways");
    b.choose("Contacts mode", "Two-ways").await?;
    b.wait_for_text("[data-conflict-rule-for='contacts.mode']", "most recent change wins").await?;
    // A writing mode needs a contact ID Skalin can write; contacts are not this story.
    b.choose("Contacts mode", "Disabled").await?;
    b.wait_until("the contacts' rule goes", || async {
        Ok(b.client.find_all(Locator::Css("[data-conflict-rule-for='contacts.mode']")).await?.is_empty())
    })
    .await?;

    b.click_control(CREATE_COMPANIES).await?;
    b.click_button("Save").await?;
    b.wait_for_text("[data-error-for='customers.create_in_intercom']", "company_id").await?;
    ensure!(stage.app.store.integration_settings().await?.is_none(), "something was saved");
    b.choose("Customer ID", "Company ID (text)").await?;
    b.click_button("Save").await?;
    b.wait_for_text("[data-testid=save-notice]", "Settings saved.").await?;

    b.open(PAGE).await?;
    ensure!(b.is_checked(CREATE_COMPANIES).await?, "the choice was not read back");
    ensure!(!b.is_disabled(CREATE_COMPANIES).await?);
    ensure!(b.text("[data-conflict-rule-for='customers.mode']").await? == CONFLICT_RULE);
    let saved = stage.app.store.integration_settings().await?.context("saved settings")?;
    let saved: IntegrationSettings = serde_json::from_str(&saved.document)?;
    ensure!(saved.customers.create_in_intercom && saved.customers.mode == SyncMode::TwoWays, "{saved:?}");
    let history = b.text("[data-testid=change-history]").await?;
    ensure!(history.contains("Create companies in Intercom: off → on"), "{history}");
    Ok(())
}

const CREATE_CONTACTS: &str = "Create contacts in Intercom for contacts it does not have";

async fn creating_contacts_in_intercom_is_offered_in_writing_modes_and_survives_a_reload(
    _: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    let stage = connected_stage().await?;
    let b = b.at(&stage.app.base_url);
    open_settings_as(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    ensure!(b.is_disabled(CREATE_CONTACTS).await?, "offered while contacts are Input only");
    b.choose("Contacts mode", "Output only").await?;
    ensure!(!b.is_disabled(CREATE_CONTACTS).await?, "not offered in Output only");

    b.click_control(CREATE_CONTACTS).await?;
    b.click_button("Save").await?;
    b.wait_for_text("[data-error-for='contacts.create_in_intercom']", "external_id or email").await?;
    ensure!(stage.app.store.integration_settings().await?.is_none(), "something was saved");
    b.choose("Contact ID", "Email (text)").await?;
    b.click_button("Save").await?;
    b.wait_for_text("[data-testid=save-notice]", "Settings saved.").await?;

    b.open(PAGE).await?;
    ensure!(b.is_checked(CREATE_CONTACTS).await?, "the choice was not read back");
    let saved = stage.app.store.integration_settings().await?.context("saved settings")?;
    let saved: IntegrationSettings = serde_json::from_str(&saved.document)?;
    ensure!(saved.contacts.create_in_intercom && saved.contacts.id_field.as_deref() == Some("email"), "{saved:?}");
    let history = b.text("[data-testid=change-history]").await?;
    ensure!(history.contains("Create contacts in Intercom: off → on"), "{history}");
    Ok(())
}

async fn a_member_sees_everything_read_only(_: Arc<World>, b: Browser) -> anyhow::Result<()> {
    let stage = connected_stage().await?;
    let b = b.at(&stage.app.base_url);
    open_settings_as(&b, MEMBER_EMAIL, MEMBER_PASSWORD).await?;
    ensure!(b.text("[data-testid=read-only]").await?.contains("only admins can change them"));
    ensure!(status(&b).await? == "Connected");
    for label in [
        "Customers mode",
        CREATE_COMPANIES,
        "Customer stage",
        "Champion",
        "Interactions mode",
        "Upload Healthscore and CSM Pulse",
        "Churn threshold (%)",
        "Schedule",
    ] {
        ensure!(b.is_disabled(label).await?, "{label} is not disabled");
    }
    for button in ["Save", "Disconnect", "Change zone", "Import settings", "Connect me"] {
        ensure!(!b.has_button(button).await?, "a member sees {button:?}");
    }
    // The options are still there to read.
    ensure!(b.option_texts("Interactions mode").await? == ["Input only", "Disabled"]);
    Ok(())
}
