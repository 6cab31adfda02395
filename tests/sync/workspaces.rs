//! Fair scheduling: a workspace with a slow, big Intercom holds one of the server's run
//! slots and never the others', whose runs go through beside it, each from its own
//! Intercom. (Two server processes sharing the queue: `server/tests/cli/workspaces.rs`.)

use std::collections::BTreeMap;
use std::time::Duration;

use app::domain::{PageRequest, Role, RunDetail, RunStatus, SyncRun, Workspace};
use app::server_fns::{ConnectIntercomWithToken, GetSyncRun, StartSync, StartedRun};
use app::store::Directory;
use reqwest::Client;
use sandbox::{Sandbox, SandboxConfig, SandboxHub};
use serde_json::json;
use skalin_tests::*;

const WORKSPACES: usize = 8;
const PASSWORD: &str = "workspace-password-1";

fn token(n: usize) -> String {
    format!("token-{n}")
}

/// Workspace 0's Intercom is much bigger and slower than the others': its run outlasts
/// all of theirs when nothing holds them up.
fn intercom(n: usize) -> Sandbox {
    let big = n == 0;
    let config = SandboxConfig {
        seed: 1_000 + n as u64,
        companies: if big { 150 } else { 15 },
        contacts: if big { 900 } else { 40 },
        tickets: 4,
        conversations: 0,
        latency: Duration::from_millis(if big { 200 } else { 40 }),
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::new(config);
    sandbox.set_token(&token(n));
    sandbox
}

async fn admin_of(app: &TestApp, directory: &dyn Directory, n: usize) -> (Workspace, Client) {
    let workspace = test_workspace(directory, &format!("Workspace {n:02}"), &format!("ws-{n:02}")).await;
    let email = format!("admin-{n}@example.com");
    add_member(directory, &workspace, &email, PASSWORD, Role::Admin).await;
    (workspace, signed_in(app, &email, PASSWORD).await)
}

async fn run_of(app: &TestApp, client: &Client, id: i64) -> SyncRun {
    let id = id.to_string();
    call_form::<GetSyncRun>(app, client, "get_sync_run", &[("id", &id)]).await.ok::<RunDetail>().run
}

#[tokio::test]
async fn a_workspace_with_a_big_slow_intercom_does_not_hold_the_others_up() {
    let hub = SandboxHub::spawn((0..WORKSPACES).map(intercom).collect()).await.expect("start the Intercoms");
    let app = spawn_app_with(&["--intercom-base-url", hub.base_url.as_str(), "--sync-concurrency", "4"]).await;
    let directory = app.directory.clone();

    let mut admins = Vec::new();
    for n in 0..WORKSPACES {
        let app = &app;
        let (workspace, client) = admin_of(app, directory.as_ref(), n).await;
        let form = [("access_token", token(n)), ("zone", "us".to_string())];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        call_form::<ConnectIntercomWithToken>(app, &client, "connect", &form).await.ok::<serde_json::Value>();
        admins.push((app, workspace, client));
    }
    let mut runs = Vec::new();
    for (app, _, client) in &admins {
        let request = json!({"request": {"objects": [], "walk": null, "dry_run": false}});
        runs.push(call_json::<StartSync>(app, client, "start_sync", request).await.ok::<StartedRun>().run.id);
    }

    let mut small_ones_done_while_big_ran = false;
    let mut ended_at = BTreeMap::new();
    for _ in 0..1200 {
        for (n, ((app, _, client), id)) in admins.iter().zip(&runs).enumerate() {
            if !ended_at.contains_key(&n) && !run_of(app, client, *id).await.status.is_active() {
                ended_at.insert(n, std::time::Instant::now());
            }
        }
        let small_done = (1..WORKSPACES).all(|n| ended_at.contains_key(&n));
        if small_done && !ended_at.contains_key(&0) {
            small_ones_done_while_big_ran = true;
        }
        if ended_at.len() == WORKSPACES {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ended_at.len(), WORKSPACES, "every run ended within a minute");
    assert!(small_ones_done_while_big_ran, "the small workspaces waited for the big one");

    for (n, ((app, workspace, client), id)) in admins.iter().zip(&runs).enumerate() {
        let run = run_of(app, client, *id).await;
        assert_eq!(run.status, RunStatus::Success, "workspace {n}: {run:#?}");
        let sandbox = hub.hub.workspace(n).unwrap();
        let store = directory.store(workspace.id);
        // Record by record, each workspace holds its own Intercom's companies and contacts.
        let companies: BTreeMap<String, String> = sandbox
            .companies_json()
            .into_iter()
            .map(|c| (c["id"].as_str().unwrap().to_string(), c["name"].as_str().unwrap_or("").to_string()))
            .collect();
        let mut held = BTreeMap::new();
        for page in 1.. {
            let listed = store.list_customers(PageRequest::new(Some(page), Some(100))).await.unwrap();
            let last = listed.items.len() < 100;
            held.extend(listed.items.into_iter().map(|c| (c.intercom_id.unwrap_or_default(), c.name)));
            if last {
                break;
            }
        }
        assert_eq!(held, companies, "workspace {n}'s customers");
        let contacts = store.list_contacts(PageRequest::new(Some(1), Some(1))).await.unwrap().total;
        assert_eq!(contacts as usize, sandbox.contact_ids().len(), "workspace {n}'s contacts");
        // Run once: a run worked twice would have found its records already there.
        let customers = run.objects.iter().find(|o| o.object == app::domain::SyncObject::Customers).unwrap();
        assert_eq!(
            (customers.counts.created as usize, customers.counts.unchanged),
            (companies.len(), 0),
            "workspace {n}: {run:#?}"
        );
    }
}
