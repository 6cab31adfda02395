//! Workspaces in real Chromium: every page says which workspace it shows, and someone in
//! two switches between them from the top bar, with the role they have in each.

use std::sync::Arc;

use anyhow::ensure;
use app::domain::{NewCustomer, Role};
use fantoccini::Locator;
use skalin_tests::{add_member, seed_customers, spawn_app, test_workspace, TestApp};

use crate::driver::{Browser, World};
use crate::scenarios::{Outcome, Scenario};
use crate::sync::open_as;

const SAM: (&str, &str) = ("sam@both.example", "both-password-1");

pub fn all() -> Vec<(&'static str, Scenario)> {
    vec![(
        "a_person_in_two_workspaces_switches_and_every_page_shows_the_chosen_one_with_their_role_there",
        Scenario { js_only: false, run: |w, b| -> Outcome { Box::pin(switching(w, b)) } },
    )]
}

/// Acme (3 customers; Sam a member) and Globex (2 customers of its own; Sam an admin).
async fn two_workspaces() -> anyhow::Result<TestApp> {
    let app = spawn_app().await;
    seed_customers(app.store.as_ref(), 3).await;
    let directory = app.directory.as_ref();
    let globex = test_workspace(directory, "Globex", "globex").await;
    for n in 1..=2 {
        let customer = NewCustomer {
            external_id: format!("gx-{n}"),
            intercom_id: None,
            name: format!("Globex Client {n}"),
            domain: None,
            stage: None,
        };
        directory.store(globex.id).insert_customer(&customer).await?;
    }
    add_member(directory, &app.workspace, SAM.0, SAM.1, Role::Member).await;
    add_member(directory, &globex, SAM.0, SAM.1, Role::Admin).await;
    Ok(app)
}

async fn shown(b: &Browser) -> anyhow::Result<(String, String, Vec<String>)> {
    let workspace = b.text("[data-testid=current-workspace]").await?;
    // Upper-cased by the style sheet.
    let role = b.text("[data-testid=current-role]").await?.to_lowercase();
    let mut names = Vec::new();
    for row in b.client.find_all(Locator::Css("tr[data-customer-id] td[data-label=Name]")).await? {
        names.push(row.text().await?);
    }
    Ok((workspace, role, names))
}

async fn switching(_: Arc<World>, b: Browser) -> anyhow::Result<()> {
    let app = two_workspaces().await?;
    let b = b.at(&app.base_url);
    open_as(&b, "/customers", "Customers", SAM.0, SAM.1).await?;
    let (workspace, role, names) = shown(&b).await?;
    ensure!((workspace.as_str(), role.as_str()) == ("Acme", "member"), "first shown: {workspace} as {role}");
    ensure!(names == ["Customer 001", "Customer 002", "Customer 003"], "Acme's customers: {names:?}");
    ensure!(!b.has_button("Edit").await?, "a member of Acme sees Edit");

    b.choose("Workspace", "Globex (admin)").await?;
    b.click_button("Switch").await?;
    b.wait_for_text("[data-testid=current-workspace]", "Globex").await?;
    b.ready().await?;
    ensure!(b.path().await? == "/customers", "back on {}", b.path().await?);
    let (_, role, names) = shown(&b).await?;
    ensure!(role == "admin", "in Globex Sam is {role}");
    ensure!(names == ["Globex Client 1", "Globex Client 2"], "Globex's customers: {names:?}");
    ensure!(b.has_button("Edit").await?, "an admin of Globex sees no Edit");

    // Every page follows the choice, through the navigation as through a fresh load.
    for (link, heading) in [("Contacts", "Contacts"), ("Sync runs", "Sync runs"), ("Intercom", "Intercom")] {
        b.click_link(link).await?;
        b.wait_for_heading(heading).await?;
        b.ready().await?;
        let workspace = b.text("[data-testid=current-workspace]").await?;
        ensure!(workspace == "Globex", "{link} shows {workspace}");
    }
    b.open("/customers").await?;
    let (workspace, _, names) = shown(&b).await?;
    ensure!(workspace == "Globex" && names.len() == 2, "after a reload: {workspace} {names:?}");

    b.choose("Workspace", "Acme (member)").await?;
    b.click_button("Switch").await?;
    b.wait_for_text("[data-testid=current-workspace]", "Acme").await?;
    b.ready().await?;
    let (_, role, names) = shown(&b).await?;
    ensure!(role == "member" && names.len() == 3, "back in Acme: {role} {names:?}");
    Ok(())
}
