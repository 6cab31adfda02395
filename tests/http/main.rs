//! The real router over HTTP: sign-in, the gate in front of pages, sessions, server
//! functions, and pages rendered on the server.

mod assets;
mod attacks;
mod webhooks;
mod workspaces;

use leptos::server_fn::ServerFn;
use reqwest::{redirect, Client, Response, StatusCode};
use skalin_tests::*;

fn browser_like_client() -> Client {
    Client::builder().cookie_store(true).redirect(redirect::Policy::none()).build().unwrap()
}

fn location(response: &Response) -> &str {
    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("")
}

async fn sign_in(app: &TestApp, client: &Client, email: &str, password: &str) -> Response {
    client
        .post(app.url("/auth/signin"))
        .form(&[("email", email), ("password", password), ("next", "")])
        .send()
        .await
        .unwrap()
}

/// The `list_customers` server function, called as the hydrated page calls it.
async fn call_list_customers(app: &TestApp, client: &Client) -> Response {
    client
        .post(app.url(app::server_fns::ListCustomers::PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body("page=1")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_page_asked_for_while_signed_out_redirects_to_sign_in_and_back() {
    let app = spawn_app().await;
    let client = browser_like_client();
    let response = client.get(app.url("/customers?page=2")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/signin?next=%2Fcustomers%3Fpage%3D2");
}

#[tokio::test]
async fn the_sign_in_page_renders_without_a_session() {
    let app = spawn_app().await;
    let body = browser_like_client().get(app.url("/signin")).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("Sign in to Skalin"), "{body}");
    assert!(body.contains(r#"<label for="email">Email</label>"#), "{body}");
}

#[tokio::test]
async fn signing_in_sets_an_http_only_same_site_lax_session_cookie_and_follows_next() {
    let app = spawn_app().await;
    let client = browser_like_client();
    let response = client
        .post(app.url("/auth/signin"))
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", "/contacts")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/contacts");
    let session_cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("skalin_session="))
        .expect("a session cookie");
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(session_cookie.contains("SameSite=Lax"), "{session_cookie}");
    assert!(!session_cookie.contains("Secure"), "plain http must not ask for Secure: {session_cookie}");
}

#[tokio::test]
async fn cookies_are_secure_when_the_public_url_is_https() {
    let app = spawn_app_with(&["--public-url", "https://skalin.example.com"]).await;
    let response = sign_in(&app, &browser_like_client(), ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    assert!(!cookies.is_empty());
    assert!(cookies.iter().all(|c| c.contains("Secure")), "{cookies:?}");
}

#[tokio::test]
async fn a_wrong_password_returns_to_sign_in_with_the_email_kept_and_a_message() {
    let app = spawn_app().await;
    let client = browser_like_client();
    let response = sign_in(&app, &client, ADMIN_EMAIL, "not-the-password").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = location(&response).to_string();
    assert_eq!(to, "/signin?error=credentials&email=ada%40example.com");
    let page = client.get(app.url(&to)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Wrong email or password"), "{page}");
    assert!(page.contains(r#"value="ada@example.com""#), "the email is kept: {page}");
    let still_out = client.get(app.url("/customers")).send().await.unwrap();
    assert_eq!(still_out.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_unknown_email_gets_the_same_answer_as_a_wrong_password() {
    let app = spawn_app().await;
    let response = sign_in(&app, &browser_like_client(), "nobody@example.com", "whatever-it-is").await;
    assert!(location(&response).starts_with("/signin?error=credentials"));
}

#[tokio::test]
async fn a_signed_in_member_reads_every_page_rendered_on_the_server() {
    let app = spawn_app().await;
    let client = browser_like_client();
    sign_in(&app, &client, MEMBER_EMAIL, MEMBER_PASSWORD).await;
    for (path, heading) in [
        ("/", "Welcome to Skalin"),
        ("/integrations/intercom", "Intercom"),
        ("/customers", "Customers"),
        ("/contacts", "Contacts"),
        ("/interactions", "Interactions"),
    ] {
        let response = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let body = without_markers(&response.text().await.unwrap());
        assert!(body.contains(&format!("<h1>{heading}</h1>")), "{path}: {body}");
        assert!(body.contains(MEMBER_EMAIL), "{path} shows who is signed in");
        assert!(!body.contains("Loading…"), "{path} is sent whole, readable without JavaScript");
    }
}

#[tokio::test]
async fn empty_lists_say_so_and_point_to_the_integration() {
    let app = spawn_app().await;
    let client = browser_like_client();
    sign_in(&app, &client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = client.get(app.url("/contacts")).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("No contacts yet"), "{body}");
    assert!(body.contains("Not connected") || body.contains("/integrations/intercom"));
}

#[tokio::test]
async fn the_second_page_of_customers_starts_after_the_first() {
    let app = spawn_app().await;
    seed_customers(app.store.as_ref(), 30).await;
    let client = browser_like_client();
    sign_in(&app, &client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let first = client.get(app.url("/customers")).send().await.unwrap().text().await.unwrap();
    assert!(first.contains("Customer 025") && !first.contains("Customer 026"));
    assert!(first.contains("1–25 of 30 customers"), "{first}");
    assert!(first.contains(r#"href="/customers?page=2""#));
    let second = client.get(app.url("/customers?page=2")).send().await.unwrap().text().await.unwrap();
    assert!(second.contains("Customer 026") && second.contains("Customer 030"));
    assert!(!second.contains("Customer 025"));
    assert!(second.contains("Page 2 of 2"), "{second}");
}

#[tokio::test]
async fn the_intercom_page_shows_that_nothing_is_connected_yet() {
    let app = spawn_app().await;
    let client = browser_like_client();
    sign_in(&app, &client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = client.get(app.url("/integrations/intercom")).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("Not connected"), "{body}");
}

#[tokio::test]
async fn an_expired_session_sends_back_to_sign_in_with_a_note() {
    let app = spawn_app().await;
    let client = browser_like_client();
    sign_in(&app, &client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(client.get(app.url("/customers")).send().await.unwrap().status(), StatusCode::OK);

    // The server forgets every session, as it does when they time out.
    let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
    sqlx::query("delete from tower_sessions").execute(&pool).await.unwrap();

    let response = client.get(app.url("/customers")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = location(&response).to_string();
    assert_eq!(to, "/signin?next=%2Fcustomers&expired=1");
    let page = client.get(app.url(&to)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Your session has expired"), "{page}");
}

#[tokio::test]
async fn a_session_ends_after_the_idle_time() {
    let app = spawn_app_with(&["--session-idle-minutes", "1"]).await;
    let response = sign_in(&app, &browser_like_client(), ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("skalin_session="))
        .unwrap();
    assert!(cookie.contains("Max-Age=60") || cookie.contains("Expires="), "{cookie}");
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = spawn_app().await;
    let client = browser_like_client();
    sign_in(&app, &client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let response = client.post(app.url("/auth/signout")).send().await.unwrap();
    assert_eq!(location(&response), "/signin?signed_out=1");
    let page = client.get(app.url("/signin?signed_out=1")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("You have signed out"));
    let after = client.get(app.url("/customers")).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert!(!location(&after).contains("expired"), "signing out is not an expiry");
}

#[tokio::test]
async fn a_server_function_called_without_a_session_answers_sign_in_required() {
    let app = spawn_app().await;
    let response = call_list_customers(&app, &browser_like_client()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body = response.text().await.unwrap();
    assert!(body.contains("SignInRequired"), "{body}");
}

#[tokio::test]
async fn a_server_function_answers_a_signed_in_user_with_data() {
    let app = spawn_app().await;
    seed_customers(app.store.as_ref(), 3).await;
    let client = browser_like_client();
    sign_in(&app, &client, MEMBER_EMAIL, MEMBER_PASSWORD).await;
    let response = call_list_customers(&app, &client).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page: serde_json::Value = response.json().await.unwrap();
    assert_eq!(page["total"], 3);
    assert_eq!(page["items"][0]["name"], "Customer 001");
}

#[tokio::test]
async fn an_unknown_page_is_not_found() {
    let app = spawn_app().await;
    let client = browser_like_client();
    sign_in(&app, &client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let response = client.get(app.url("/no-such-page")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn the_same_app_runs_on_postgresql() {
    let Some(db) = fresh_postgres("the_same_app_runs_on_postgresql").await else { return };
    let app = spawn_app_on(&db.url, &[]).await;
    seed_customers(app.store.as_ref(), 2).await;
    let client = browser_like_client();
    sign_in(&app, &client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = client.get(app.url("/customers")).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("Customer 002"), "{body}");
    drop(app);
    drop_postgres(db).await;
}
