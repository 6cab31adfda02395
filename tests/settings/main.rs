//! Integrations → Intercom over real HTTP: the server functions of the settings page and
//! the Connect me (OAuth) routes, against the sandbox Intercom. Each test starts its own
//! sandbox(es) and app.

use std::collections::BTreeSet;
use std::path::Path;

use app::domain::{
    ChurnPreview, IntegrationSettings, IntercomConnection, IntercomFields, NewCustomer, RoleSource, SettingsSnapshot,
    SyncMode, Zone,
};
use app::error::AppError;
use app::integration::{SettingsExport, EXPORT_FORMAT, OAUTH_CALLBACK_PATH};
use app::server_fns::{
    ChangeIntercomZone, ConnectIntercomWithToken, DisconnectIntercom, ExportIntegrationSettings,
    GetIntegrationSettings, GetIntercomConnection, GetIntercomFields, ImportIntegrationSettings, PreviewChurn,
    SaveIntegrationSettings,
};
use reqwest::{redirect, Client, StatusCode};
use sandbox::{RunningSandbox, Sandbox, SandboxConfig, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_TOKEN};
use serde_json::{json, Value};
use skalin_tests::*;
use url::Url;

const HEALTHSCORE: &str = "Skalin Healthscore";
const CSM_PULSE: &str = "Skalin CSM Pulse";

// ---------------------------------------------------------------------------------------
// Set-up
// ---------------------------------------------------------------------------------------

async fn sandbox(region: &str) -> RunningSandbox {
    let config =
        SandboxConfig { companies: 20, contacts: 50, tickets: 5, region: region.into(), ..SandboxConfig::default() };
    Sandbox::spawn(config).await.expect("start the sandbox")
}

/// The app with every region's Intercom calls (and OAuth) sent to `sb`.
async fn app_on(sb: &RunningSandbox) -> TestApp {
    spawn_app_with(&["--intercom-base-url", &sb.base_url]).await
}

/// As `app_on`, with the sandbox's OAuth client, so that Connect me works.
async fn oauth_app_on(sb: &RunningSandbox) -> TestApp {
    spawn_app_with(&[
        "--intercom-base-url",
        &sb.base_url,
        "--intercom-client-id",
        SANDBOX_CLIENT_ID,
        "--intercom-client-secret",
        SANDBOX_CLIENT_SECRET,
    ])
    .await
}

async fn admin(app: &TestApp) -> Client {
    signed_in(app, ADMIN_EMAIL, ADMIN_PASSWORD).await
}

async fn member(app: &TestApp) -> Client {
    signed_in(app, MEMBER_EMAIL, MEMBER_PASSWORD).await
}

// ---------------------------------------------------------------------------------------
// Server functions, called as the hydrated page calls them
// ---------------------------------------------------------------------------------------

async fn connect(app: &TestApp, client: &Client, token: &str, zone: &str) -> Answer {
    call_form::<ConnectIntercomWithToken>(
        app,
        client,
        "connect_intercom_with_token",
        &[("access_token", token), ("zone", zone)],
    )
    .await
}

async fn disconnect(app: &TestApp, client: &Client) -> Answer {
    call_form::<DisconnectIntercom>(app, client, "disconnect_intercom", &[]).await
}

async fn change_zone(app: &TestApp, client: &Client, zone: &str) -> Answer {
    call_form::<ChangeIntercomZone>(app, client, "change_intercom_zone", &[("zone", zone)]).await
}

async fn connection(app: &TestApp, client: &Client) -> Answer {
    call_form::<GetIntercomConnection>(app, client, "get_intercom_connection", &[]).await
}

async fn fields(app: &TestApp, client: &Client) -> Answer {
    call_form::<GetIntercomFields>(app, client, "get_intercom_fields", &[]).await
}

async fn snapshot(app: &TestApp, client: &Client) -> Answer {
    call_form::<GetIntegrationSettings>(app, client, "get_integration_settings", &[]).await
}

async fn save(app: &TestApp, client: &Client, settings: &IntegrationSettings) -> Answer {
    call_json::<SaveIntegrationSettings>(app, client, "save_integration_settings", json!({ "settings": settings }))
        .await
}

async fn export(app: &TestApp, client: &Client) -> Answer {
    call_form::<ExportIntegrationSettings>(app, client, "export_integration_settings", &[]).await
}

async fn import(app: &TestApp, client: &Client, file: &str) -> Answer {
    call_json::<ImportIntegrationSettings>(app, client, "import_integration_settings", json!({ "json": file })).await
}

async fn preview_churn(app: &TestApp, client: &Client, max_percent: u8) -> Answer {
    let max = max_percent.to_string();
    call_form::<PreviewChurn>(app, client, "preview_churn", &[("max_percent", &max)]).await
}

/// Connects the sandbox's always-valid token as the admin.
async fn connected_admin(app: &TestApp, zone: &str) -> Client {
    let client = admin(app).await;
    let _: IntercomConnection = connect(app, &client, SANDBOX_TOKEN, zone).await.ok();
    client
}

/// A valid set-up that differs from the suggested one.
fn tier_and_champion() -> IntegrationSettings {
    let mut settings = IntegrationSettings::default();
    settings.customers.stage_field = Some("custom_attributes.Tier".into());
    settings.contacts.champion = Some(RoleSource::Tag("Champion".into()));
    settings
}

// ---------------------------------------------------------------------------------------
// The sandbox seen from outside the app
// ---------------------------------------------------------------------------------------

/// The sandbox's own `GET /data_attributes?model=…` (archived ones left out).
async fn sandbox_attributes(sb: &RunningSandbox, model: &str) -> Vec<Value> {
    let response = Client::new()
        .get(sb.url(&format!("/data_attributes?model={model}")))
        .bearer_auth(SANDBOX_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["data"].as_array().cloned().expect("a list of data attributes")
}

/// A fresh token minted through the sandbox's OAuth, unlike any fixed string.
async fn mint_token(sb: &RunningSandbox) -> String {
    let http = Client::builder().redirect(redirect::Policy::none()).build().unwrap();
    let answer = http
        .post(sb.url("/oauth"))
        .form(&[
            ("client_id", SANDBOX_CLIENT_ID),
            ("redirect_uri", "http://localhost/back"),
            ("state", "mint"),
            ("decision", "authorize"),
        ])
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_redirection(), "{}", answer.status());
    let back = Url::parse(&location(&answer)).unwrap();
    let code = query_param(&back, "code").expect("a code");
    let token: Value = http
        .post(sb.url("/auth/eagle/token"))
        .form(&[("code", code.as_str()), ("client_id", SANDBOX_CLIENT_ID), ("client_secret", SANDBOX_CLIENT_SECRET)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["access_token"].as_str().expect("an access token").to_string()
}

fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn sqlite_folder(app: &TestApp) -> &Path {
    let file = app.database_url.strip_prefix("sqlite://").expect("a SQLite test database");
    Path::new(file).parent().expect("the database's folder")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------------------------------
// Connecting with a token, zones
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn connecting_with_a_pasted_token_checks_it_with_get_me_shows_the_workspace_and_never_returns_the_token() {
    let sb = sandbox("US").await;
    let app = app_on(&sb).await;
    let token = mint_token(&sb).await;
    let client = admin(&app).await;

    let answer = connect(&app, &client, &token, "us").await;
    let connected: IntercomConnection = answer.ok();
    assert!(!answer.body.contains(&token), "the connect answer holds the token: {}", answer.body);
    assert_eq!(sb.sandbox.stats().calls_to("GET /me"), 1, "the token is checked with GET /me");
    assert_eq!(connected.workspace_name.as_deref(), Some("Skalin Sandbox"));
    let app_id = connected.app_id.clone().expect("the workspace's app id");
    assert!(app_id.starts_with("sbx"), "{app_id}");
    assert_eq!(connected.connected_by.as_deref(), Some(ADMIN_EMAIL));
    assert!(!connected.needs_reconnect);

    let read_back = connection(&app, &client).await;
    assert!(!read_back.body.contains(&token), "get_intercom_connection holds the token: {}", read_back.body);
    assert_eq!(read_back.ok::<Option<IntercomConnection>>(), Some(connected));

    let page = client.get(app.url("/integrations/intercom")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Skalin Sandbox"), "the page names the workspace: {html}");
    assert!(html.contains(&app_id), "the page shows the app id: {html}");
    assert!(html.contains(ADMIN_EMAIL), "the page says who connected it");
    assert!(!html.contains(&token), "the page holds the token");

    let (_, encrypted) = app.store.intercom_token().await.unwrap().expect("a saved token");
    assert!(!encrypted.ciphertext.is_empty());
    assert!(!contains(&encrypted.ciphertext, token.as_bytes()), "the token is stored in clear");
    for entry in std::fs::read_dir(sqlite_folder(&app)).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(!contains(&bytes, token.as_bytes()), "{} holds the token in clear", path.display());
    }
}

#[tokio::test]
async fn a_refused_token_answers_422_under_access_token_and_saves_nothing() {
    let sb = sandbox("US").await;
    let app = app_on(&sb).await;
    let client = admin(&app).await;

    let rejected = connect(&app, &client, "not-a-token", "us").await.rejected();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0].0, "access_token");
    assert!(rejected[0].1.contains("refused"), "{}", rejected[0].1);
    assert_eq!(sb.sandbox.stats().calls_to("GET /me"), 1, "the token was tried with GET /me");

    assert_eq!(app.store.intercom_connection().await.unwrap(), None);
    assert!(app.store.intercom_token().await.unwrap().is_none());
    assert!(app.store.settings_history(10).await.unwrap().is_empty(), "no history line for a refused token");
    assert_eq!(connection(&app, &client).await.ok::<Option<IntercomConnection>>(), None);
}

#[tokio::test]
async fn the_zone_decides_which_intercom_host_is_called() {
    let us = sandbox("US").await;
    let eu = sandbox("EU").await;
    let app = spawn_app_with(&["--intercom-base-url-us", &us.base_url, "--intercom-base-url-eu", &eu.base_url]).await;
    let client = admin(&app).await;

    let connected: IntercomConnection = connect(&app, &client, SANDBOX_TOKEN, "eu").await.ok();
    assert_eq!(eu.sandbox.stats().calls_to("GET /me"), 1);
    assert_eq!(us.sandbox.stats().total_calls, 0, "the US host is not called for an EU workspace");
    assert_eq!(connected.zone, Zone::Eu);
    assert_eq!(connected.detected_zone, Some(Zone::Eu));

    eu.sandbox.reset_stats();
    let moved: IntercomConnection = change_zone(&app, &client, "us").await.ok();
    assert_eq!(moved.zone, Zone::Us);
    assert_eq!(moved.detected_zone, Some(Zone::Eu));

    let _: IntercomFields = fields(&app, &client).await.ok();
    assert!(us.sandbox.stats().calls_to("GET /data_attributes") >= 1, "{:?}", us.sandbox.stats());
    assert_eq!(eu.sandbox.stats().total_calls, 0, "the EU host is no longer called: {:?}", eu.sandbox.stats());

    let saved = app.store.intercom_connection().await.unwrap().expect("still connected");
    assert_eq!((saved.zone, saved.detected_zone), (Zone::Us, Some(Zone::Eu)));

    let html = client.get(app.url("/integrations/intercom")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(r#"data-testid="zone-warning""#), "the page warns of the mismatch: {html}");
    assert!(html.contains("hosted in EU"), "{html}");
}

#[tokio::test]
async fn the_workspace_region_reported_by_get_me_wins_over_the_zone_chosen() {
    let sb = sandbox("EU").await;
    let app = app_on(&sb).await;
    let client = admin(&app).await;

    let connected: IntercomConnection = connect(&app, &client, SANDBOX_TOKEN, "us").await.ok();
    assert_eq!(connected.zone, Zone::Eu);
    assert_eq!(connected.detected_zone, Some(Zone::Eu));
    let saved = app.store.intercom_connection().await.unwrap().expect("connected");
    assert_eq!(saved.zone, Zone::Eu);
    assert_eq!(app.store.intercom_token().await.unwrap().map(|(zone, _)| zone), Some(Zone::Eu));
}

// ---------------------------------------------------------------------------------------
// Who may change what
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_member_cannot_change_anything_but_can_read_the_settings_and_the_fields() {
    let sb = sandbox("US").await;
    let app = app_on(&sb).await;
    let admin = connected_admin(&app, "us").await;
    let _: SettingsSnapshot = save(&app, &admin, &IntegrationSettings::default()).await.ok();
    let connection_before = app.store.intercom_connection().await.unwrap();
    let settings_before = app.store.integration_settings().await.unwrap();
    let history_before = app.store.settings_history(100).await.unwrap();

    let member = member(&app).await;
    sb.sandbox.reset_stats();
    let mut changed = tier_and_champion();
    changed.data_transfer.upload_scores = true;
    let export = SettingsExport { format: EXPORT_FORMAT.into(), settings: changed.clone() };
    let attempts = [
        connect(&app, &member, SANDBOX_TOKEN, "eu").await,
        disconnect(&app, &member).await,
        change_zone(&app, &member, "eu").await,
        save(&app, &member, &changed).await,
        import(&app, &member, &serde_json::to_string(&export).unwrap()).await,
    ];
    for attempt in &attempts {
        match attempt.err(StatusCode::FORBIDDEN) {
            AppError::Forbidden(message) => assert!(message.contains("admin"), "{}: {message}", attempt.what),
            other => panic!("{}: expected Forbidden, got {other:?}", attempt.what),
        }
    }
    let stats = sb.sandbox.stats();
    assert_eq!(stats.calls_to("GET /me") + stats.calls_to("POST /data_attributes"), 0, "{stats:?}");

    assert_eq!(app.store.intercom_connection().await.unwrap(), connection_before);
    assert_eq!(app.store.integration_settings().await.unwrap(), settings_before);
    assert_eq!(app.store.settings_history(100).await.unwrap(), history_before);

    let seen: SettingsSnapshot = snapshot(&app, &member).await.ok();
    assert_eq!(seen.settings, IntegrationSettings::default());
    let live: IntercomFields = fields(&app, &member).await.ok();
    assert!(live.company.iter().any(|f| f.key == "custom_attributes.Tier"));
}

#[tokio::test]
async fn a_forged_request_without_a_session_is_refused_and_saves_nothing() {
    let sb = sandbox("US").await;
    let app = app_on(&sb).await;
    let stranger = browser_like_client();

    for attempt in
        [save(&app, &stranger, &tier_and_champion()).await, connect(&app, &stranger, SANDBOX_TOKEN, "us").await]
    {
        assert_eq!(attempt.err(StatusCode::UNAUTHORIZED), AppError::SignInRequired, "{}", attempt.what);
    }
    assert_eq!(sb.sandbox.stats().total_calls, 0, "Intercom is not called for a stranger");
    assert_eq!(app.store.intercom_connection().await.unwrap(), None);
    assert_eq!(app.store.integration_settings().await.unwrap(), None);
    assert!(app.store.settings_history(10).await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// Saving
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn saving_rejects_each_bad_field_with_its_own_message_and_saves_nothing() {
    let sb = sandbox("US").await;
    let app = app_on(&sb).await;
    let client = connected_admin(&app, "us").await;

    let mut bad = IntegrationSettings::default();
    bad.interactions.mode = SyncMode::TwoWays;
    bad.customers.stage_field = Some("custom_attributes.Does Not Exist".into());
    bad.customers.domain_field = Some("size".into());
    let rejected = save(&app, &client, &bad).await.rejected();

    let keys: BTreeSet<&str> = rejected.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["interactions.mode", "customers.stage_field", "customers.domain_field"]),
        "{rejected:?}"
    );
    assert_eq!(rejected.len(), 3, "one message per field: {rejected:?}");
    let message = |key: &str| rejected.iter().find(|(k, _)| k == key).map(|(_, m)| m.clone()).unwrap();
    assert!(message("interactions.mode").contains("Two-ways"), "{}", message("interactions.mode"));
    assert!(
        message("customers.stage_field").contains("custom_attributes.Does Not Exist"),
        "{}",
        message("customers.stage_field")
    );
    let domain = message("customers.domain_field");
    assert!(domain.contains("Company size") && domain.contains("integer"), "{domain}");

    assert_eq!(app.store.integration_settings().await.unwrap(), None);
    let history = app.store.settings_history(10).await.unwrap();
    assert!(history.iter().all(|h| h.summary.iter().all(|s| !s.contains("Customer stage"))), "{history:?}");
}

#[tokio::test]
async fn valid_settings_are_saved_reloaded_as_saved_and_recorded_in_the_history() {
    let sb = sandbox("US").await;
    let app = app_on(&sb).await;
    let client = connected_admin(&app, "us").await;

    let settings = tier_and_champion();
    let saved: SettingsSnapshot = save(&app, &client, &settings).await.ok();
    assert_eq!(saved.settings, settings);
    assert_eq!(saved.saved_by.as_deref(), Some(ADMIN_EMAIL));

    let reloaded: SettingsSnapshot = snapshot(&app, &client).await.ok();
    assert_eq!(reloaded.settings, settings);
    assert!(reloaded.saved_at.is_some());
    let newest = reloaded.history.first().expect("a history line");
    assert_eq!(newest.changed_by, ADMIN_EMAIL);
    assert!(
        newest.summary.iter().any(|s| s.contains("Customer stage") && s.contains("custom_attributes.Tier")),
        "{newest:?}"
    );
    assert!(newest.summary.iter().any(|s| s.contains("Champion")), "{newest:?}");
    assert_eq!(app.store.settings_history(1).await.unwrap().first(), Some(newest));
}

#[tokio::test]
async fn turning_on_score_upload_creates_the_two_company_attributes_once() {
    let sb = sandbox("US").await;
    let app = app_on(&sb).await;
    let client = connected_admin(&app, "us").await;
    let before: IntercomFields = fields(&app, &client).await.ok();
    assert!(!before.company.iter().any(|f| f.key.contains("Skalin")), "a fresh workspace has no score attributes");

    let mut settings = IntegrationSettings::default();
    settings.data_transfer.upload_scores = true;
    sb.sandbox.reset_stats();
    let _: SettingsSnapshot = save(&app, &client, &settings).await.ok();
    assert_eq!(sb.sandbox.stats().calls_to("POST /data_attributes"), 2);

    let company = sandbox_attributes(&sb, "company").await;
    let type_of = |name: &str| {
        let found: Vec<_> = company.iter().filter(|a| a["name"] == name).collect();
        assert_eq!(found.len(), 1, "{name} exists once: {found:?}");
        found[0]["data_type"].as_str().unwrap().to_string()
    };
    assert_eq!(type_of(HEALTHSCORE), "integer");
    assert_eq!(type_of(CSM_PULSE), "string");
    let contact = sandbox_attributes(&sb, "contact").await;
    assert!(!contact.iter().any(|a| a["name"] == HEALTHSCORE || a["name"] == CSM_PULSE), "company attributes only");

    sb.sandbox.reset_stats();
    let again: SettingsSnapshot = save(&app, &client, &settings).await.ok();
    assert_eq!(again.settings, settings);
    assert_eq!(sb.sandbox.stats().calls_to("POST /data_attributes"), 0, "existing attributes are reused");

    let after: IntercomFields = fields(&app, &client).await.ok();
    assert_eq!(after.custom_attributes_used, before.custom_attributes_used + 2);
    assert!(after.company.iter().any(|f| f.key == format!("custom_attributes.{HEALTHSCORE}")));
    assert!(after.company.iter().any(|f| f.key == format!("custom_attributes.{CSM_PULSE}")));
}

#[tokio::test]
async fn a_score_attribute_of_another_type_is_reported_plainly_and_nothing_is_created_or_saved() {
    let sb = sandbox("US").await;
    sb.sandbox.add_data_attribute("company", HEALTHSCORE, "string");
    let app = app_on(&sb).await;
    let client = connected_admin(&app, "us").await;

    let mut settings = IntegrationSettings::default();
    settings.data_transfer.upload_scores = true;
    let rejected = save(&app, &client, &settings).await.rejected();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    let (key, message) = &rejected[0];
    assert_eq!(key, "data_transfer.upload_scores");
    assert!(message.contains(HEALTHSCORE), "{message}");
    assert!(message.contains("type text") && message.contains("type integer"), "names both types: {message}");

    assert_eq!(sb.sandbox.stats().calls_to("POST /data_attributes"), 0);
    assert_eq!(app.store.integration_settings().await.unwrap(), None);
    assert!(!sandbox_attributes(&sb, "company").await.iter().any(|a| a["name"] == CSM_PULSE), "nothing half-created");
}

#[tokio::test]
async fn a_401_from_intercom_marks_the_connection_reconnect_needed() {
    let sb = sandbox("US").await;
    let app = app_on(&sb).await;
    let client = connected_admin(&app, "us").await;
    assert!(!connection(&app, &client).await.ok::<Option<IntercomConnection>>().unwrap().needs_reconnect);

    sb.sandbox.revoke_tokens();
    match fields(&app, &client).await.err(StatusCode::BAD_GATEWAY) {
        AppError::Intercom(message) => assert!(message.contains("Reconnect needed"), "{message}"),
        other => panic!("expected an Intercom error, got {other:?}"),
    }
    let now: IntercomConnection = connection(&app, &client).await.ok::<Option<_>>().expect("still connected");
    assert!(now.needs_reconnect);

    let html = client.get(app.url("/integrations/intercom")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Reconnect needed"), "{html}");

    // Connecting again with a working token clears the mark.
    let token = mint_token(&sb).await;
    let again: IntercomConnection = connect(&app, &client, &token, "us").await.ok();
    assert!(!again.needs_reconnect);
    let _: IntercomFields = fields(&app, &client).await.ok();
    assert!(!app.store.intercom_connection().await.unwrap().expect("connected").needs_reconnect);
}

// ---------------------------------------------------------------------------------------
// Export and import
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn export_then_import_round_trips_and_bad_files_are_refused_with_a_clear_message() {
    let sb = sandbox("US").await;
    let app = app_on(&sb).await;
    let client = connected_admin(&app, "us").await;

    let first = tier_and_champion();
    let _: SettingsSnapshot = save(&app, &client, &first).await.ok();
    let file: String = export(&app, &client).await.ok();
    let parsed: SettingsExport = serde_json::from_str(&file).expect("the export is a settings file");
    assert_eq!(parsed, SettingsExport { format: EXPORT_FORMAT.into(), settings: first.clone() });

    let mut second = IntegrationSettings::default();
    second.interactions.import_window = app::domain::ImportWindow::All;
    let _: SettingsSnapshot = save(&app, &client, &second).await.ok();
    let imported: SettingsSnapshot = import(&app, &client, &file).await.ok();
    assert_eq!(imported.settings, first);
    assert_eq!(snapshot(&app, &client).await.ok::<SettingsSnapshot>().settings, first);

    let stored = app.store.integration_settings().await.unwrap();
    let history = app.store.settings_history(100).await.unwrap();

    match import(&app, &client, "not json").await.err(StatusCode::BAD_REQUEST) {
        AppError::Invalid(message) => assert!(message.contains("settings file cannot be read"), "{message}"),
        other => panic!("expected Invalid, got {other:?}"),
    }

    let wrong_format = json!({ "format": "someone.else/v9", "settings": first }).to_string();
    match import(&app, &client, &wrong_format).await.err(StatusCode::BAD_REQUEST) {
        AppError::Invalid(message) => {
            assert!(message.contains("someone.else/v9") && message.contains(EXPORT_FORMAT), "{message}")
        }
        other => panic!("expected Invalid, got {other:?}"),
    }

    let mut breaking = first.clone();
    breaking.interactions.mode = SyncMode::TwoWays;
    let breaking = serde_json::to_string(&SettingsExport { format: EXPORT_FORMAT.into(), settings: breaking }).unwrap();
    let rejected = import(&app, &client, &breaking).await.rejected();
    assert_eq!(rejected.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["interactions.mode"]);

    assert_eq!(app.store.integration_settings().await.unwrap(), stored, "no bad file changed the settings");
    assert_eq!(app.store.settings_history(100).await.unwrap(), history, "no bad file left a history line");
}

// ---------------------------------------------------------------------------------------
// Churn
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_churn_preview_lists_the_skalin_customers_no_longer_in_intercom() {
    let sb = sandbox("US").await;
    let app = app_on(&sb).await;
    let client = connected_admin(&app, "us").await;

    let live = sb.sandbox.company_ids();
    let customer = |n: usize, intercom_id: Option<String>| NewCustomer {
        external_id: format!("cust-{n}"),
        intercom_id,
        name: format!("Customer {n}"),
        domain: None,
        stage: Some("active".into()),
    };
    let customers = [
        customer(1, Some(live[0].clone())),
        customer(2, Some(live[1].clone())),
        customer(3, Some(live[2].clone())),
        customer(4, Some("gone-from-intercom-1".into())),
        customer(5, Some("gone-from-intercom-2".into())),
        customer(6, None),
    ];
    for c in &customers {
        app.store.insert_customer(c).await.unwrap();
    }

    let preview: ChurnPreview = preview_churn(&app, &client, 10).await.ok();
    let listed: BTreeSet<&str> = preview.candidates.iter().map(|c| c.external_id.as_str()).collect();
    assert_eq!(listed, BTreeSet::from(["cust-4", "cust-5"]), "{preview:?}");
    assert_eq!(preview.candidates.len(), 2);
    assert_eq!(preview.total_customers, 6);
    assert_eq!(preview.max_percent, 10);
    assert!((preview.percent() - 100.0 / 3.0).abs() < 0.01, "{}", preview.percent());
    assert!(preview.needs_confirmation(), "33 % is over the 10 % threshold");
}

// ---------------------------------------------------------------------------------------
// Connect me (OAuth)
// ---------------------------------------------------------------------------------------

/// `GET /integrations/intercom/connect`: a 303 to the sandbox's consent page.
async fn start_connect_me(app: &TestApp, sb: &RunningSandbox, client: &Client, zone: &str) -> Url {
    let response = client.get(app.url(&format!("/integrations/intercom/connect?zone={zone}"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let consent = Url::parse(&location(&response)).expect("an absolute consent URL");
    assert!(consent.as_str().starts_with(&sb.url("/oauth?")), "{consent}");
    assert_eq!(query_param(&consent, "client_id").as_deref(), Some(SANDBOX_CLIENT_ID));
    assert_eq!(query_param(&consent, "redirect_uri"), Some(app.url(OAUTH_CALLBACK_PATH)));
    assert!(query_param(&consent, "state").is_some_and(|s| s.len() >= 32), "{consent}");
    consent
}

/// Answers the sandbox's consent form; returns where it sends the browser back to.
async fn answer_consent(app: &TestApp, sb: &RunningSandbox, client: &Client, consent: &Url, decision: &str) -> Url {
    let page = client.get(consent.as_str()).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains(r#"value="authorize""#));
    let field = |name: &str| query_param(consent, name).unwrap_or_default();
    let response = client
        .post(sb.url("/oauth"))
        .form(&[
            ("client_id", field("client_id")),
            ("redirect_uri", field("redirect_uri")),
            ("state", field("state")),
            ("decision", decision.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let back = Url::parse(&location(&response)).expect("an absolute callback URL");
    assert!(back.as_str().starts_with(&app.url(OAUTH_CALLBACK_PATH)), "{back}");
    assert_eq!(query_param(&back, "state"), query_param(consent, "state"));
    back
}

#[tokio::test]
async fn connect_me_goes_through_intercoms_consent_and_back_to_a_connected_workspace() {
    let sb = sandbox("EU").await;
    let app = oauth_app_on(&sb).await;
    let client = admin(&app).await;

    let consent = start_connect_me(&app, &sb, &client, "eu").await;
    let back = answer_consent(&app, &sb, &client, &consent, "authorize").await;
    assert!(query_param(&back, "code").is_some_and(|c| !c.is_empty()), "{back}");

    let response = client.get(back.as_str()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("Intercom connected"));

    let connected = app.store.intercom_connection().await.unwrap().expect("connected");
    assert_eq!(connected.zone, Zone::Eu);
    assert_eq!(connected.workspace_name.as_deref(), Some("Skalin Sandbox"));
    assert_eq!(connected.connected_by.as_deref(), Some(ADMIN_EMAIL));
    assert_eq!(sb.sandbox.stats().calls_to("GET /me"), 1);
    let _: IntercomFields = fields(&app, &client).await.ok();

    // The state is good for one answer only.
    let replay = client.get(back.as_str()).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
}

/// Connect me connects the workspace it was started in, even if its admin looks at
/// another by the time Intercom answers; one who is no longer that workspace's admin
/// connects nothing.
#[tokio::test]
async fn connect_me_connects_the_workspace_it_was_started_in() {
    let sb = sandbox("US").await;
    let app = oauth_app_on(&sb).await;
    let globex = test_workspace(app.directory.as_ref(), "Globex", "globex").await;
    add_member(app.directory.as_ref(), &globex, ADMIN_EMAIL, ADMIN_PASSWORD, app::domain::Role::Admin).await;
    let client = admin(&app).await;

    let consent = start_connect_me(&app, &sb, &client, "us").await;
    let back = answer_consent(&app, &sb, &client, &consent, "authorize").await;
    let switched = client
        .post(app.url("/auth/workspace"))
        .form(&[("workspace", globex.id.to_string()), ("next", "/".to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status(), StatusCode::SEE_OTHER);
    let response = client.get(back.as_str()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(app.store.intercom_connection().await.unwrap().is_some(), "Acme, where Connect me started, is connected");
    assert!(app.directory.store(globex.id).intercom_connection().await.unwrap().is_none(), "Globex is not");

    // Started in Globex by its admin, who is then made a member: nothing is connected.
    app.store.delete_intercom_connection().await.unwrap();
    let consent = start_connect_me(&app, &sb, &client, "us").await;
    let back = answer_consent(&app, &sb, &client, &consent, "authorize").await;
    add_member(app.directory.as_ref(), &globex, ADMIN_EMAIL, ADMIN_PASSWORD, app::domain::Role::Member).await;
    let response = client.get(back.as_str()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(app.directory.store(globex.id).intercom_connection().await.unwrap().is_none());
}

#[tokio::test]
async fn a_tampered_oauth_state_is_refused_and_nothing_is_saved() {
    let sb = sandbox("EU").await;
    let app = oauth_app_on(&sb).await;
    let client = admin(&app).await;

    let consent = start_connect_me(&app, &sb, &client, "eu").await;
    let back = answer_consent(&app, &sb, &client, &consent, "authorize").await;
    let mut tampered = back.clone();
    let pairs: Vec<(String, String)> = back
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" { format!("{v}0") } else { v.into_owned() };
            (k.into_owned(), v)
        })
        .collect();
    tampered.query_pairs_mut().clear().extend_pairs(pairs);

    let response = client.get(tampered.as_str()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("does not match this session"));
    assert_eq!(app.store.intercom_connection().await.unwrap(), None);
    assert_eq!(sb.sandbox.stats().calls_to("GET /me"), 0);
}

#[tokio::test]
async fn an_oauth_callback_with_no_connect_me_started_in_this_session_is_refused() {
    let sb = sandbox("EU").await;
    let app = oauth_app_on(&sb).await;
    let starter = admin(&app).await;
    let consent = start_connect_me(&app, &sb, &starter, "eu").await;
    let back = answer_consent(&app, &sb, &starter, &consent, "authorize").await;

    // Another admin's browser, signed in but with no Connect me of its own under way.
    let other = admin(&app).await;
    let response = other.get(back.as_str()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("was not started here"));
    assert_eq!(app.store.intercom_connection().await.unwrap(), None);
    assert_eq!(sb.sandbox.stats().calls_to("GET /me"), 0);
}

#[tokio::test]
async fn a_cancelled_consent_leaves_intercom_not_connected() {
    let sb = sandbox("EU").await;
    let app = oauth_app_on(&sb).await;
    let client = admin(&app).await;

    let consent = start_connect_me(&app, &sb, &client, "eu").await;
    let back = answer_consent(&app, &sb, &client, &consent, "cancel").await;
    assert_eq!(query_param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&back, "code"), None);

    let response = client.get(back.as_str()).send().await.unwrap();
    let page = response.text().await.unwrap();
    assert!(page.contains("Intercom was not connected") && page.contains("cancelled"), "{page}");
    assert_eq!(app.store.intercom_connection().await.unwrap(), None);
    assert_eq!(connection(&app, &client).await.ok::<Option<IntercomConnection>>(), None);
}

#[tokio::test]
async fn a_member_cannot_start_connect_me() {
    let sb = sandbox("EU").await;
    let app = oauth_app_on(&sb).await;
    let client = member(&app).await;

    let response = client.get(app.url("/integrations/intercom/connect?zone=eu")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(location(&response).is_empty(), "no way to the consent page");
    assert!(response.text().await.unwrap().contains("Only admins can connect Intercom"));
    assert_eq!(app.store.intercom_connection().await.unwrap(), None);
}

// ---------------------------------------------------------------------------------------
// The dropdowns' fields
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_dropdown_fields_are_intercoms_live_fields_and_follow_its_changes() {
    let sb = sandbox("US").await;
    let app = app_on(&sb).await;
    let client = connected_admin(&app, "us").await;

    let live_keys = |fields: &IntercomFields| -> BTreeSet<String> {
        fields.company.iter().filter(|f| !f.archived).map(|f| f.key.clone()).collect()
    };
    let sandbox_keys = |attributes: Vec<Value>| -> BTreeSet<String> {
        attributes.iter().map(|a| a["full_name"].as_str().expect("a full_name").to_string()).collect()
    };

    let first: IntercomFields = fields(&app, &client).await.ok();
    assert_eq!(live_keys(&first), sandbox_keys(sandbox_attributes(&sb, "company").await));
    let legacy =
        first.company.iter().find(|f| f.key == "custom_attributes.Legacy Plan").expect("archived fields are listed");
    assert!(legacy.archived);
    assert!(first.tags.iter().any(|t| t.name == "Champion"));

    sb.sandbox.add_data_attribute("company", "Renewal Owner", "string");
    sb.sandbox.archive_data_attribute("company", "Sales Region");
    let second: IntercomFields = fields(&app, &client).await.ok();
    assert_eq!(live_keys(&second), sandbox_keys(sandbox_attributes(&sb, "company").await));
    assert!(second.company.iter().any(|f| f.key == "custom_attributes.Renewal Owner" && !f.archived));
    assert!(!first.company.iter().any(|f| f.key == "custom_attributes.Renewal Owner"));
    let region = second.company.iter().find(|f| f.key == "custom_attributes.Sales Region").expect("still listed");
    assert!(region.archived, "an archived field is flagged archived");
    assert_eq!(second.custom_attributes_used, first.custom_attributes_used, "one added, one archived");
}

// ---------------------------------------------------------------------------------------
// Malformed requests
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_malformed_request_answers_400_invalid_not_a_server_fault() {
    let sb = sandbox("US").await;
    let app = app_on(&sb).await;
    let client = connected_admin(&app, "us").await;

    let unknown_zone = change_zone(&app, &client, "mars").await;
    assert!(matches!(unknown_zone.err(StatusCode::BAD_REQUEST), AppError::Invalid(_)));
    let unknown_field = call_json::<SaveIntegrationSettings>(
        &app,
        &client,
        "save_integration_settings",
        json!({ "settings": { "nope": 1 } }),
    )
    .await;
    assert!(matches!(unknown_field.err(StatusCode::BAD_REQUEST), AppError::Invalid(_)));
    assert_eq!(app.store.integration_settings().await.unwrap(), None);
}
