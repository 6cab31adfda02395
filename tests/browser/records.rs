//! Customers and Contacts in real Chromium: what admins change in place, what members
//! only read, and an edit's way to Intercom through the next sync run. Each scenario has
//! its own app, so that edits cannot leak into the shared world's lists.

use std::sync::Arc;

use anyhow::{ensure, Context};
use app::domain::{
    format_timestamp, Contact, ContactEdit, Customer, CustomerEdit, IntegrationSettings, NewContact, PageRequest,
    SyncMode,
};
use app::server_fns::UpdateCustomer;
use fantoccini::Locator;
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use serde_json::json;
use skalin_tests::{seed_customers, spawn_app, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_EMAIL, MEMBER_PASSWORD};

use crate::driver::{Browser, World};
use crate::scenarios::{Outcome, Scenario};
use crate::sync::{every_object, open_as, signed_in, stage};

const CUSTOMERS: &str = "/customers";
const CONTACTS: &str = "/contacts";

macro_rules! record_scenarios {
    ($($name:ident: $js_only:expr),* $(,)?) => {
        pub fn all() -> Vec<(&'static str, Scenario)> {
            vec![$((stringify!($name), Scenario { js_only: $js_only, run: |w, b| -> Outcome { Box::pin($name(w, b)) } })),*]
        }
    };
}

record_scenarios!(
    an_admin_edits_a_customer_in_place_and_the_values_survive_a_reload: true,
    a_healthscore_out_of_range_is_refused_under_its_field_and_nothing_is_saved: true,
    an_admin_sets_a_contacts_role_from_the_list: true,
    a_member_reads_customers_and_contacts_without_any_edit_control: false,
    a_stage_edited_in_skalin_reaches_intercom_with_the_next_sync_run: true,
    a_saved_edit_shows_the_records_new_updated_time_without_a_reload: true,
);

/// An app of its own with a few customers and one contact of the first.
async fn seeded_app() -> anyhow::Result<TestApp> {
    let app = spawn_app().await;
    seed_customers(app.store.as_ref(), 3).await;
    app.store
        .insert_contact(&NewContact {
            external_id: "person-1".into(),
            intercom_id: Some("ic-person-1".into()),
            name: "Pat Example".into(),
            email: Some("pat@customer001.example.com".into()),
            customer_external_id: Some("cust-001".into()),
        })
        .await?;
    Ok(app)
}

async fn customer_named(app: &TestApp, name: &str) -> anyhow::Result<Customer> {
    let page = app.store.list_customers(PageRequest::new(Some(1), Some(100))).await?;
    page.items.into_iter().find(|c| c.name == name).with_context(|| format!("no customer {name:?}"))
}

async fn only_contact(app: &TestApp) -> anyhow::Result<Contact> {
    let page = app.store.list_contacts(PageRequest::new(Some(1), Some(10))).await?;
    page.items.into_iter().next().context("no contact")
}

fn cell(row: &str, column: &str) -> String {
    format!("{row} td[data-label='{column}']")
}

async fn count(b: &Browser, css: &str) -> anyhow::Result<usize> {
    Ok(b.client.find_all(Locator::Css(css)).await?.len())
}

/// Opens a customer's form from its row's Edit button.
async fn edit(b: &Browser, customer: &Customer) -> anyhow::Result<()> {
    let row = format!("tr[data-customer-id='{}']", customer.id);
    b.client
        .find(Locator::Css(&format!("{row} button")))
        .await
        .with_context(|| format!("no Edit button in {row}"))?
        .click()
        .await?;
    b.client
        .wait()
        .at_most(crate::driver::WAIT)
        .for_element(Locator::Css(&format!("tr[data-editor-for='{}'] form", customer.id)))
        .await
        .context("the form never opened")?;
    Ok(())
}

async fn an_admin_edits_a_customer_in_place_and_the_values_survive_a_reload(
    _: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    let app = seeded_app().await?;
    let customer = customer_named(&app, "Customer 002").await?;
    let row = format!("tr[data-customer-id='{}']", customer.id);
    let b = b.at(&app.base_url);
    open_as(&b, CUSTOMERS, "Customers", ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    ensure!(b.text(&cell(&row, "Healthscore")).await? == "—", "a fresh customer has a Healthscore");

    // Cancel leaves everything as it was.
    edit(&b, &customer).await?;
    ensure!(b.value_of("Stage").await? == "active", "the form does not start from the saved stage");
    b.fill("Stage", "Abandoned draft").await?;
    b.click_button("Cancel").await?;
    ensure!(count(&b, "tr[data-editor-for]").await? == 0, "Cancel left the form open");
    ensure!(b.text(&cell(&row, "Stage")).await? == "active");

    edit(&b, &customer).await?;
    b.fill("Stage", "Renewal").await?;
    b.fill("CSM owner", "lea@skalin.io").await?;
    b.fill("CSM Pulse", "Happy").await?;
    b.fill("Healthscore", "72").await?;
    b.click_button("Save").await?;
    b.wait_for_text(&cell(&row, "Stage"), "Renewal").await?;
    b.wait_until("the form closes", || async { Ok(count(&b, "tr[data-editor-for]").await? == 0) }).await?;
    ensure!(b.text(&cell(&row, "Healthscore")).await? == "72");

    b.open(CUSTOMERS).await?;
    let shown = [("Stage", "Renewal"), ("CSM owner", "lea@skalin.io"), ("CSM Pulse", "Happy"), ("Healthscore", "72")];
    for (column, value) in shown {
        let text = b.text(&cell(&row, column)).await?;
        ensure!(text == value, "{column} reads {text:?} after a reload, not {value:?}");
    }
    let saved = customer_named(&app, "Customer 002").await?;
    ensure!(saved.stage.as_deref() == Some("Renewal") && saved.health_score == Some(72), "{saved:?}");
    ensure!(customer_named(&app, "Customer 001").await?.stage.as_deref() == Some("active"), "another customer changed");
    Ok(())
}

async fn a_healthscore_out_of_range_is_refused_under_its_field_and_nothing_is_saved(
    _: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    let app = seeded_app().await?;
    let customer = customer_named(&app, "Customer 003").await?;
    let b = b.at(&app.base_url);
    open_as(&b, CUSTOMERS, "Customers", ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    edit(&b, &customer).await?;
    b.fill("Stage", "Expansion").await?;
    b.fill("Healthscore", "150").await?;
    b.click_button("Save").await?;
    let editor = format!("tr[data-editor-for='{}']", customer.id);
    b.wait_for_text(&format!("{editor} [data-error-for=health_score]"), "from 0 to 100").await?;
    ensure!(count(&b, &format!("{editor} [data-error-for=stage]")).await? == 0, "the stage was blamed too");
    ensure!(b.value_of("Healthscore").await? == "150", "the refused value was not kept for correcting");
    let unchanged = customer_named(&app, "Customer 003").await?;
    ensure!(
        unchanged.stage.as_deref() == Some("active") && unchanged.health_score.is_none(),
        "something was saved: {unchanged:?}"
    );

    b.fill("Healthscore", "100").await?;
    b.click_button("Save").await?;
    b.wait_for_text(&cell(&format!("tr[data-customer-id='{}']", customer.id), "Healthscore"), "100").await?;
    ensure!(customer_named(&app, "Customer 003").await?.stage.as_deref() == Some("Expansion"));
    Ok(())
}

async fn an_admin_sets_a_contacts_role_from_the_list(_: Arc<World>, b: Browser) -> anyhow::Result<()> {
    let app = seeded_app().await?;
    let b = b.at(&app.base_url);
    open_as(&b, CONTACTS, "Contacts", ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    let label = "Role of Pat Example";
    ensure!(b.option_texts(label).await? == ["None", "Champion", "Sponsor", "Key user", "End user"]);
    ensure!(b.value_of(label).await?.is_empty(), "a fresh contact has a role");
    b.choose(label, "Sponsor").await?;
    b.click_button("Save").await?;
    b.wait_for_text("tr[data-contact-id] [role=status]", "Saved").await?;

    b.open(CONTACTS).await?;
    ensure!(b.value_of(label).await? == "Sponsor", "the role was not saved");
    let contacts = app.store.list_contacts(PageRequest::new(Some(1), Some(10))).await?;
    ensure!(contacts.items[0].role_tag.as_deref() == Some("Sponsor"), "{:?}", contacts.items[0]);
    Ok(())
}

async fn a_member_reads_customers_and_contacts_without_any_edit_control(
    _: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    let app = seeded_app().await?;
    let customer = customer_named(&app, "Customer 001").await?;
    let contact = app.store.list_contacts(PageRequest::new(Some(1), Some(10))).await?.items.remove(0);
    app.store
        .edit_contact(contact.id, &ContactEdit { role_tag: Some("Champion".into()) }, ADMIN_EMAIL, app::store::now())
        .await?;
    let b = b.at(&app.base_url);

    open_as(&b, CUSTOMERS, "Customers", MEMBER_EMAIL, MEMBER_PASSWORD).await?;
    ensure!(count(&b, "tr[data-customer-id]").await? == 3, "the customers are not listed");
    ensure!(
        count(&b, "table.records button, table.records input, .row-controls, tr[data-editor-for]").await? == 0,
        "a member sees edit controls"
    );
    ensure!(!b.has_button("Edit").await?, "a member sees Edit");

    b.click_link("Contacts").await?;
    b.wait_for_heading("Contacts").await?;
    b.ready().await?;
    let role = b.wait_for_text("tr[data-contact-id] td[data-label=Role]", "Champion").await?;
    ensure!(role == "Champion", "the role reads {role:?}");
    ensure!(count(&b, "table.records select, table.records button").await? == 0, "a member sees the role picker");

    // Without the controls, the server still refuses a member's edit.
    let member = signed_in(&app, MEMBER_EMAIL, MEMBER_PASSWORD).await?;
    let forged = member
        .post(app.url(UpdateCustomer::PATH))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(json!({ "id": customer.id, "edit": { "stage": "Hijacked" } }).to_string())
        .send()
        .await?;
    ensure!(forged.status() == StatusCode::FORBIDDEN, "a member's update_customer answered {}", forged.status());
    ensure!(
        customer_named(&app, "Customer 001").await?.stage.as_deref() == Some("active"),
        "a member's edit was saved"
    );
    Ok(())
}

async fn a_stage_edited_in_skalin_reaches_intercom_with_the_next_sync_run(
    _: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    let stage = stage().await?;
    let mut settings = IntegrationSettings::default();
    settings.customers.mode = SyncMode::TwoWays;
    settings.customers.id_field = Some("company_id".into());
    settings.customers.stage_field = Some("custom_attributes.Tier".into());
    // A writing mode needs a contact ID Skalin can write; contacts are not this story.
    settings.contacts.mode = SyncMode::Disabled;
    stage.save(&settings).await?;
    let first = stage.run(every_object()).await?;
    ensure!(first.status.as_str() == "success", "the first import did not succeed: {first:?}");

    let customers = stage.app.store.list_customers(PageRequest::new(Some(1), Some(5))).await?;
    let customer = customers.items.into_iter().find(|c| c.intercom_id.is_some()).context("no customer imported")?;
    let company = customer.intercom_id.clone().context("an Intercom id")?;
    let tier =
        |sandbox: &sandbox::Sandbox| sandbox.company_json(&company).map(|c| c["custom_attributes"]["Tier"].clone());
    let new_stage = "Strategic account";
    ensure!(tier(&stage.intercom.sandbox) != Some(json!(new_stage)), "the sandbox already has that Tier");

    let b = b.at(&stage.app.base_url);
    open_as(&b, CUSTOMERS, "Customers", ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    edit(&b, &customer).await?;
    b.fill("Stage", new_stage).await?;
    b.click_button("Save").await?;
    b.wait_for_text(&cell(&format!("tr[data-customer-id='{}']", customer.id), "Stage"), new_stage).await?;
    ensure!(tier(&stage.intercom.sandbox) != Some(json!(new_stage)), "Intercom changed before any run");

    b.click_link("Sync runs").await?;
    b.wait_for_heading("Sync runs").await?;
    b.ready().await?;
    b.click_button("Sync now").await?;
    let ended = b.wait_for_text("#sync-progress[data-status=success] h2", "ended").await;
    ended.with_context(|| format!("the run did not end in success: {:?}", stage.intercom.sandbox.stats()))?;
    let written = tier(&stage.intercom.sandbox);
    ensure!(written == Some(json!(new_stage)), "Intercom's Tier of {company} is {written:?}");
    Ok(())
}

async fn a_saved_edit_shows_the_records_new_updated_time_without_a_reload(
    _: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    let app = seeded_app().await?;
    // Edits long ago that changed nothing: an Updated time that no save today can show.
    let long_ago = 1_600_000_000;
    let contact = only_contact(&app).await?;
    app.store.edit_contact(contact.id, &ContactEdit { role_tag: None }, ADMIN_EMAIL, long_ago).await?;
    let customer = customer_named(&app, "Customer 002").await?;
    let unchanged = CustomerEdit { stage: customer.stage.clone(), ..CustomerEdit::default() };
    app.store.edit_customer(customer.id, &unchanged, ADMIN_EMAIL, long_ago).await?;
    let before = format_timestamp(long_ago);
    let b = b.at(&app.base_url);

    open_as(&b, CONTACTS, "Contacts", ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    b.mark_document().await?;
    let updated = cell(&format!("tr[data-contact-id='{}']", contact.id), "Updated");
    ensure!(b.text(&updated).await? == before, "the contact's Updated is not the fixture's");
    b.choose("Role of Pat Example", "Key user").await?;
    b.click_button("Save").await?;
    b.wait_for_text("tr[data-contact-id] [role=status]", "Saved").await?;
    let saved = only_contact(&app).await?;
    ensure!(saved.role_tag.as_deref() == Some("Key user") && saved.updated_at > long_ago, "{saved:?}");
    b.wait_for_text(&updated, &format_timestamp(saved.updated_at)).await?;
    ensure!(b.document_is_marked().await?, "the contacts page was reloaded");

    b.open(CUSTOMERS).await?;
    b.wait_for_heading("Customers").await?;
    b.mark_document().await?;
    let row = format!("tr[data-customer-id='{}']", customer.id);
    ensure!(b.text(&cell(&row, "Updated")).await? == before, "the customer's Updated is not the fixture's");
    edit(&b, &customer).await?;
    b.fill("CSM Pulse", "Worried").await?;
    b.click_button("Save").await?;
    b.wait_for_text(&cell(&row, "CSM Pulse"), "Worried").await?;
    let saved = customer_named(&app, "Customer 002").await?;
    ensure!(saved.updated_at > long_ago, "{saved:?}");
    b.wait_for_text(&cell(&row, "Updated"), &format_timestamp(saved.updated_at)).await?;
    ensure!(b.document_is_marked().await?, "the customers page was reloaded");
    Ok(())
}
