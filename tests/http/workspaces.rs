//! Workspaces over real HTTP: a person of one workspace reaches nothing of another, by
//! any server function or page; switching workspace changes what every answer holds;
//! roles are per workspace.

use std::sync::Arc;
use std::time::Duration;

use app::domain::{IntercomConnection, Page, Role, RunDetail, SessionUser, SyncRun, Workspace};
use app::error::AppError;
use app::server_fns::*;
use app::store::Store;
use leptos::server_fn::ServerFn;
use reqwest::{Client, StatusCode};
use sandbox::{RunningSandbox, Sandbox, SandboxConfig, SANDBOX_TOKEN};
use serde_json::json;
use skalin_tests::*;

/// An admin of Globex only.
const BEA: (&str, &str) = ("bea@globex.example", "globex-password-1");
/// A member of Acme and an admin of Globex.
const SAM: (&str, &str) = ("sam@both.example", "both-password-1");

/// Acme (the test app's workspace: 2 customers of its own, not connected) and Globex
/// (connected to a sandbox Intercom and synced by its admin, over HTTP).
struct TwoWorkspaces {
    app: TestApp,
    globex: Workspace,
    in_globex: Arc<dyn Store>,
    globex_run: i64,
    _intercom: RunningSandbox,
}

async fn two_workspaces() -> TwoWorkspaces {
    let config = SandboxConfig { companies: 6, contacts: 12, tickets: 3, ..SandboxConfig::default() };
    let intercom = Sandbox::spawn(config).await.expect("start the sandbox");
    let app = spawn_app_with(&["--intercom-base-url", &intercom.base_url]).await;
    let directory = app.directory.as_ref();
    let globex = test_workspace(directory, "Globex", "globex").await;
    add_member(directory, &globex, BEA.0, BEA.1, Role::Admin).await;
    add_member(directory, &globex, SAM.0, SAM.1, Role::Admin).await;
    add_member(directory, &app.workspace, SAM.0, SAM.1, Role::Member).await;
    seed_customers(app.store.as_ref(), 2).await;

    let bea = signed_in(&app, BEA.0, BEA.1).await;
    let form = [("access_token", SANDBOX_TOKEN), ("zone", "us")];
    call_form::<ConnectIntercomWithToken>(&app, &bea, "connect", &form).await.ok::<IntercomConnection>();
    let started = start_sync(&app, &bea).await.ok::<StartedRun>();
    let run = until_ended(&app, &bea, started.run.id).await;
    assert!(run.objects.iter().any(|o| o.counts.created > 0), "Globex has records: {run:#?}");
    let in_globex = app.directory.store(globex.id);
    TwoWorkspaces { app, globex, in_globex, globex_run: run.id, _intercom: intercom }
}

async fn start_sync(app: &TestApp, client: &Client) -> Answer {
    let request = json!({"request": {"objects": [], "walk": null, "dry_run": false}});
    call_json::<StartSync>(app, client, "start_sync", request).await
}

async fn until_ended(app: &TestApp, client: &Client, id: i64) -> SyncRun {
    for _ in 0..600 {
        let id = id.to_string();
        let detail = call_form::<GetSyncRun>(app, client, "get_sync_run", &[("id", &id)]).await.ok::<RunDetail>();
        if !detail.run.status.is_active() {
            return detail.run;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("run {id} did not end within a minute");
}

/// Everything a workspace holds, to compare before and after.
async fn snapshot(store: &dyn Store) -> String {
    let page = app::domain::PageRequest::new(Some(1), Some(100));
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        store.intercom_connection().await.unwrap(),
        store.integration_settings().await.unwrap(),
        store.settings_history(100).await.unwrap(),
        store.sync_runs(100).await.unwrap(),
        store.list_customers(page).await.unwrap(),
        store.list_contacts(page).await.unwrap(),
        store.list_interactions(page).await.unwrap(),
    )
}

/// Every server function, aimed by an admin of Acme at Globex: at its records, runs and
/// failures by id, and at its settings and connection by doing what the function does.
/// The table is checked against the functions the server registers, so that a new one
/// cannot be left out.
#[tokio::test]
async fn an_admin_of_one_workspace_reaches_nothing_of_another_through_any_server_function() {
    let two = two_workspaces().await;
    let app = &two.app;
    let page = app::domain::PageRequest::new(Some(1), Some(1));
    let globex_customer = two.in_globex.list_customers(page).await.unwrap().items.remove(0);
    let globex_contact = two.in_globex.list_contacts(page).await.unwrap().items.remove(0);
    let globex_names: Vec<String> = two
        .in_globex
        .list_customers(app::domain::PageRequest::new(Some(1), Some(100)))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.name)
        .collect();
    let before = snapshot(two.in_globex.as_ref()).await;
    let ada = signed_in(app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let run = two.globex_run.to_string();
    let not_found = |answer: Answer| {
        assert!(matches!(answer.err(StatusCode::NOT_FOUND), AppError::NotFound(_)), "{answer:?}");
    };
    let none_of_globex = |answer: &Answer| {
        for name in &globex_names {
            assert!(!answer.body.contains(name.as_str()), "{} shows Globex's {name}: {}", answer.what, answer.body);
        }
        assert!(!answer.body.contains("Globex"), "{} names Globex: {}", answer.what, answer.body);
    };
    let mut tried = Vec::new();

    // Globex's records, runs and failures, by id: 404, as for an id that does not exist.
    let edit = json!({"id": globex_customer.id, "edit": {"stage": "churned", "csm_owner": null, "csm_pulse": null, "health_score": null}});
    not_found(call_json::<UpdateCustomer>(app, &ada, "update_customer", edit).await);
    tried.push(UpdateCustomer::PATH);
    let edit = json!({"id": globex_contact.id, "edit": {"role_tag": "Champion"}});
    not_found(call_json::<UpdateContact>(app, &ada, "update_contact", edit).await);
    tried.push(UpdateContact::PATH);
    not_found(call_form::<GetSyncRun>(app, &ada, "get_sync_run", &[("id", &run)]).await);
    tried.push(GetSyncRun::PATH);
    not_found(call_form::<ConfirmChurn>(app, &ada, "confirm_churn", &[("run_id", &run)]).await);
    tried.push(ConfirmChurn::PATH);

    // Lists and reads answer Acme's data only.
    let customers = call_form::<ListCustomers>(app, &ada, "list_customers", &[("page", "1")]).await;
    none_of_globex(&customers);
    assert_eq!(customers.ok::<Page<app::domain::Customer>>().total, 2, "Acme's own two");
    tried.push(ListCustomers::PATH);
    for (path, answer) in [
        (ListContacts::PATH, call_form::<ListContacts>(app, &ada, "list_contacts", &[("page", "1")]).await),
        (ListInteractions::PATH, call_form::<ListInteractions>(app, &ada, "list_interactions", &[("page", "1")]).await),
        (GetSyncRuns::PATH, call_form::<GetSyncRuns>(app, &ada, "get_sync_runs", &[("limit", "50")]).await),
        (GetSyncSchedule::PATH, call_form::<GetSyncSchedule>(app, &ada, "get_sync_schedule", &[]).await),
        (
            GetIntegrationSettings::PATH,
            call_form::<GetIntegrationSettings>(app, &ada, "get_integration_settings", &[]).await,
        ),
        (
            ExportIntegrationSettings::PATH,
            call_form::<ExportIntegrationSettings>(app, &ada, "export_settings", &[]).await,
        ),
    ] {
        none_of_globex(&answer);
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        assert!(!answer.body.contains(&format!("\"id\":{run}")), "{} shows Globex's run: {}", answer.what, answer.body);
        tried.push(path);
    }
    // A notification Intercom sent for Globex is counted in Globex only.
    let globex_app = two.in_globex.intercom_connection().await.unwrap().and_then(|c| c.app_id);
    let notification = app::store::NewWebhookEvent {
        notification_id: "notif_globex".into(),
        app_id: globex_app,
        topic: "company.updated".into(),
        body: "{}".into(),
        received_at: app::store::now(),
    };
    let recorded = app.directory.record_webhook(&notification).await.unwrap();
    assert_eq!(recorded, app::store::Recorded::Routed, "Globex's notification is stored for Globex");
    let realtime = call_form::<GetRealtimeState>(app, &ada, "get_realtime_state", &[]).await;
    let realtime = realtime.ok::<app::domain::RealtimeState>();
    assert_eq!((realtime.today.received, realtime.last), (0, None), "Acme sees none of Globex's notifications");
    tried.push(GetRealtimeState::PATH);
    let connection = call_form::<GetIntercomConnection>(app, &ada, "get_intercom_connection", &[]).await;
    assert_eq!(connection.ok::<Option<IntercomConnection>>(), None, "Acme is not connected, whatever Globex is");
    tried.push(GetIntercomConnection::PATH);
    let user = call_form::<GetCurrentUser>(app, &ada, "get_current_user", &[]).await.ok::<Option<SessionUser>>();
    assert_eq!(user.map(|u| u.workspace.slug), Some(WORKSPACE_SLUG.to_string()));
    tried.push(GetCurrentUser::PATH);

    // What needs Intercom uses Acme's connection, which there is none of: never Globex's.
    for (path, answer) in [
        (GetIntercomFields::PATH, call_form::<GetIntercomFields>(app, &ada, "get_intercom_fields", &[]).await),
        (PreviewChurn::PATH, call_form::<PreviewChurn>(app, &ada, "preview_churn", &[("max_percent", "10")]).await),
        (StartSync::PATH, start_sync(app, &ada).await),
        (ChangeIntercomZone::PATH, call_form::<ChangeIntercomZone>(app, &ada, "change_zone", &[("zone", "eu")]).await),
    ] {
        none_of_globex(&answer);
        assert_ne!(answer.status, StatusCode::OK, "{} went through without Acme's Intercom: {answer:?}", answer.what);
        tried.push(path);
    }
    // Disconnecting Acme, which is not connected, is done at once; Globex stays connected.
    call_form::<DisconnectIntercom>(app, &ada, "disconnect", &[]).await.ok::<()>();
    tried.push(DisconnectIntercom::PATH);
    // Globex's Intercom, offered to Acme: refused, naming the reason.
    let form = [("access_token", SANDBOX_TOKEN), ("zone", "us")];
    let taken = call_form::<ConnectIntercomWithToken>(app, &ada, "connect", &form).await;
    let AppError::Invalid(message) = taken.err(StatusCode::BAD_REQUEST) else { panic!("{taken:?}") };
    assert!(message.contains("already connected to another Skalin workspace"), "{message}");
    tried.push(ConnectIntercomWithToken::PATH);

    // Saving and importing settings change Acme's, and only Acme's.
    let settings = app::domain::IntegrationSettings::default();
    let saved = call_json::<SaveIntegrationSettings>(app, &ada, "save", json!({"settings": settings})).await;
    none_of_globex(&saved);
    tried.push(SaveIntegrationSettings::PATH);
    let file = json!({"format": app::integration::EXPORT_FORMAT, "settings": settings}).to_string();
    let imported = call_json::<ImportIntegrationSettings>(app, &ada, "import", json!({"json": file})).await;
    none_of_globex(&imported);
    tried.push(ImportIntegrationSettings::PATH);

    assert_eq!(snapshot(two.in_globex.as_ref()).await, before, "Globex changed");
    let registered: Vec<&str> = leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path).collect();
    let untried: Vec<&&str> = registered.iter().filter(|path| !tried.contains(path)).collect();
    assert!(untried.is_empty(), "aim these server functions at another workspace too: {untried:?}");
}

/// Every page, for a person of Acme: none shows Globex's name or records, and each says
/// it shows Acme.
#[tokio::test]
async fn no_page_shows_another_workspace() {
    let two = two_workspaces().await;
    let app = &two.app;
    let ada = signed_in(app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let globex_customers =
        two.in_globex.list_customers(app::domain::PageRequest::new(Some(1), Some(100))).await.unwrap().items;
    // Every page the router serves, read from it: a new page cannot be left out.
    let pages: Vec<String> = server::page_paths().into_iter().filter(|p| p != "/signin").collect();
    assert!(pages.len() >= 6, "{pages:?}");
    for path in &pages {
        let response = ada.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let html = without_markers(&response.text().await.unwrap());
        assert_eq!(shown_workspace(&html).as_deref(), Some("Acme"), "{path} does not say which workspace");
        assert!(!html.contains("Globex"), "{path} names Globex");
        for customer in &globex_customers {
            assert!(!html.contains(&customer.name), "{path} shows Globex's {}", customer.name);
        }
    }
}

/// The workspace name the page's top bar shows.
fn shown_workspace(html: &str) -> Option<String> {
    let at = html.find(r#"data-testid="current-workspace""#)?;
    let text = &html[at..];
    let start = text.find('>')? + 1;
    let end = text[start..].find('<')? + start;
    Some(text[start..end].to_string())
}

async fn switch(app: &TestApp, client: &Client, workspace: i64, next: &str) -> reqwest::Response {
    let form = [("workspace", workspace.to_string()), ("next", next.to_string())];
    client.post(app.url("/auth/workspace")).form(&form).send().await.unwrap()
}

async fn customers_total(app: &TestApp, client: &Client) -> u64 {
    call_form::<ListCustomers>(app, client, "list_customers", &[("page", "1")])
        .await
        .ok::<Page<app::domain::Customer>>()
        .total
}

#[tokio::test]
async fn a_person_in_two_workspaces_switches_between_them_with_the_role_of_each() {
    let two = two_workspaces().await;
    let app = &two.app;
    let globex_total =
        two.in_globex.list_customers(app::domain::PageRequest::new(Some(1), Some(1))).await.unwrap().total;
    let sam = signed_in(app, SAM.0, SAM.1).await;
    let me = call_form::<GetCurrentUser>(app, &sam, "me", &[]).await.ok::<Option<SessionUser>>().unwrap();
    assert_eq!((me.workspace.slug.as_str(), me.role), (WORKSPACE_SLUG, Role::Member), "lands in the first by name");
    assert_eq!(me.workspaces.len(), 2);
    assert_eq!(customers_total(app, &sam).await, 2);
    let refused = start_sync(app, &sam).await;
    assert!(matches!(refused.err(StatusCode::FORBIDDEN), AppError::Forbidden(_)), "a member of Acme");

    let switched = switch(app, &sam, two.globex.id, "/customers?page=1").await;
    assert_eq!(switched.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&switched), "/customers?page=1", "back on the same page");
    let me = call_form::<GetCurrentUser>(app, &sam, "me", &[]).await.ok::<Option<SessionUser>>().unwrap();
    assert_eq!((me.workspace.slug.as_str(), me.role), ("globex", Role::Admin));
    assert_eq!(customers_total(app, &sam).await, globex_total);
    let runs = call_form::<GetSyncRuns>(app, &sam, "runs", &[("limit", "10")]).await.ok::<Vec<SyncRun>>();
    assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), [two.globex_run]);
    let started = start_sync(app, &sam).await.ok::<StartedRun>();
    until_ended(app, &sam, started.run.id).await;

    let page = sam.get(app.url("/customers")).send().await.unwrap().text().await.unwrap();
    assert_eq!(shown_workspace(&without_markers(&page)).as_deref(), Some("Globex"));
    switch(app, &sam, app.workspace.id, "/").await;
    assert_eq!(customers_total(app, &sam).await, 2, "back in Acme");
}

#[tokio::test]
async fn switching_to_a_workspace_one_is_not_in_is_a_404_that_changes_nothing() {
    let two = two_workspaces().await;
    let app = &two.app;
    let ada = signed_in(app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for workspace in [two.globex.id, 999_999] {
        let refused = switch(app, &ada, workspace, "/").await;
        assert_eq!(refused.status(), StatusCode::NOT_FOUND, "workspace {workspace}");
    }
    let me = call_form::<GetCurrentUser>(app, &ada, "me", &[]).await.ok::<Option<SessionUser>>().unwrap();
    assert_eq!(me.workspace.id, app.workspace.id);
    assert_eq!(customers_total(app, &ada).await, 2);
    let signed_out = browser_like_client();
    assert_eq!(switch(app, &signed_out, app.workspace.id, "/").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn someone_in_no_workspace_is_told_so_at_sign_in() {
    let app = spawn_app().await;
    let hash = app::auth::hash_password("lonely-password-1").unwrap();
    app.directory.create_user("lone@example.com", &hash).await.unwrap();
    let client = browser_like_client();
    let form = [("email", "lone@example.com"), ("password", "lonely-password-1"), ("next", "")];
    let response = client.post(app.url("/auth/signin")).form(&form).send().await.unwrap();
    assert_eq!(location(&response), "/signin?error=no_workspace");
    let page = client.get(app.url("/signin?error=no_workspace")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("belongs to no Skalin workspace"), "{page}");
    let call = call_form::<ListCustomers>(&app, &client, "list_customers", &[("page", "1")]).await;
    assert!(matches!(call.err(StatusCode::UNAUTHORIZED), AppError::SignInRequired));
}
