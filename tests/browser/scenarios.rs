use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::ensure;
use skalin_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_EMAIL, MEMBER_PASSWORD};

use crate::driver::{Browser, World};

pub type Outcome = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

pub struct Scenario {
    pub js_only: bool,
    pub run: fn(Arc<World>, Browser) -> Outcome,
}

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        pub fn all() -> Vec<(&'static str, Scenario)> {
            vec![$((stringify!($name), Scenario { js_only: false, run: |w, b| Box::pin($name(w, b)) })),*]
        }
    };
}

scenarios!(
    an_admin_signs_in_and_lands_on_the_page_they_asked_for,
    a_member_signs_in_and_is_shown_as_a_member,
    a_wrong_password_is_refused_with_a_message_and_the_email_kept,
    signing_out_returns_to_sign_in_and_locks_the_pages,
    the_navigation_reaches_every_page,
    customers_are_paged,
    an_expired_session_asks_to_sign_in_again_and_returns_to_the_page,
);

pub async fn sign_in(b: &Browser, email: &str, password: &str) -> anyhow::Result<()> {
    b.fill("Email", email).await?;
    b.fill("Password", password).await?;
    b.click_button("Sign in").await?;
    Ok(())
}

/// With JavaScript on, the page must be hydrated; with it off, it must not be.
async fn check_mode(b: &Browser) -> anyhow::Result<()> {
    b.ready().await?;
    let hydrated = b.is_hydrated().await?;
    ensure!(hydrated == b.js, "hydrated = {hydrated}, but JavaScript on = {}", b.js);
    Ok(())
}

async fn an_admin_signs_in_and_lands_on_the_page_they_asked_for(_: Arc<World>, b: Browser) -> anyhow::Result<()> {
    b.open("/contacts").await?;
    b.wait_for_heading("Sign in to Skalin").await?;
    ensure!(b.path().await?.starts_with("/signin?next=%2Fcontacts"), "at {}", b.path().await?);
    sign_in(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    b.wait_for_heading("Contacts").await?;
    check_mode(&b).await?;
    ensure!(b.path().await? == "/contacts", "at {}", b.path().await?);
    ensure!(b.text("[data-testid=current-user]").await? == ADMIN_EMAIL);
    ensure!(b.text("[data-testid=current-role]").await?.eq_ignore_ascii_case("admin"));
    Ok(())
}

async fn a_member_signs_in_and_is_shown_as_a_member(_: Arc<World>, b: Browser) -> anyhow::Result<()> {
    b.open("/signin").await?;
    sign_in(&b, MEMBER_EMAIL, MEMBER_PASSWORD).await?;
    b.wait_for_heading("Welcome to Skalin").await?;
    check_mode(&b).await?;
    ensure!(b.text("[data-testid=current-user]").await? == MEMBER_EMAIL);
    ensure!(b.text("[data-testid=current-role]").await?.eq_ignore_ascii_case("member"));
    Ok(())
}

async fn a_wrong_password_is_refused_with_a_message_and_the_email_kept(
    _: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    b.open("/signin").await?;
    sign_in(&b, ADMIN_EMAIL, "not-my-password").await?;
    b.wait_for_text("[data-testid=signin-notice]", "Wrong email or password").await?;
    check_mode(&b).await?;
    let kept = b.field("Email").await?.prop("value").await?.unwrap_or_default();
    ensure!(kept == ADMIN_EMAIL, "the email field holds {kept:?}");
    b.open("/customers").await?;
    b.wait_for_heading("Sign in to Skalin").await?;
    Ok(())
}

async fn signing_out_returns_to_sign_in_and_locks_the_pages(_: Arc<World>, b: Browser) -> anyhow::Result<()> {
    b.open("/signin").await?;
    sign_in(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    b.wait_for_heading("Welcome to Skalin").await?;
    b.ready().await?;
    b.click_button("Sign out").await?;
    b.wait_for_text("[data-testid=signin-notice]", "You have signed out").await?;
    check_mode(&b).await?;
    b.open("/interactions").await?;
    b.wait_for_heading("Sign in to Skalin").await?;
    Ok(())
}

async fn the_navigation_reaches_every_page(_: Arc<World>, b: Browser) -> anyhow::Result<()> {
    b.open("/signin").await?;
    sign_in(&b, MEMBER_EMAIL, MEMBER_PASSWORD).await?;
    b.wait_for_heading("Welcome to Skalin").await?;
    check_mode(&b).await?;
    if b.js {
        b.mark_document().await?;
    }
    for (link, heading, path) in [
        ("Intercom", "Intercom", "/integrations/intercom"),
        ("Customers", "Customers", "/customers"),
        ("Contacts", "Contacts", "/contacts"),
        ("Interactions", "Interactions", "/interactions"),
    ] {
        b.click_link(link).await?;
        b.wait_for_heading(heading).await?;
        ensure!(b.path().await? == path, "{link} led to {}", b.path().await?);
        if heading == "Intercom" {
            b.wait_for_text("[data-testid=connection-status]", "Not connected").await?;
        }
        if heading == "Contacts" {
            b.wait_for_text("[data-testid=empty-state]", "No contacts yet").await?;
        }
    }
    if b.js {
        ensure!(b.document_is_marked().await?, "a hydrated app navigates without reloading the page");
    }
    check_mode(&b).await
}

async fn customers_are_paged(_: Arc<World>, b: Browser) -> anyhow::Result<()> {
    b.open("/signin?next=%2Fcustomers").await?;
    sign_in(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    b.wait_for_heading("Customers").await?;
    b.ready().await?;
    b.wait_for_text(".pager-summary", "1–25 of 30 customers").await?;
    if b.js {
        b.mark_document().await?;
    }
    b.click_link("Next").await?;
    b.wait_for_text(".pager-summary", "26–30 of 30 customers").await?;
    b.wait_for_text("table.records td", "Customer 026").await?;
    ensure!(b.path().await? == "/customers?page=2");
    if b.js {
        ensure!(b.document_is_marked().await?, "paging in a hydrated app does not reload the page");
    }
    b.click_link("Previous").await?;
    b.wait_for_text(".pager-summary", "1–25 of 30 customers").await?;
    check_mode(&b).await
}

async fn an_expired_session_asks_to_sign_in_again_and_returns_to_the_page(
    w: Arc<World>,
    b: Browser,
) -> anyhow::Result<()> {
    b.open("/signin").await?;
    sign_in(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    b.wait_for_heading("Welcome to Skalin").await?;

    let pool = sqlx::SqlitePool::connect(&w.app.database_url).await?;
    sqlx::query("delete from tower_sessions").execute(&pool).await?;
    pool.close().await;

    b.open("/contacts").await?;
    b.wait_for_text("[data-testid=signin-notice]", "Your session has expired").await?;
    check_mode(&b).await?;
    sign_in(&b, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    b.wait_for_heading("Contacts").await?;
    Ok(())
}
