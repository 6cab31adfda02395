//! Each test performs an attack on the running app, as an attacker would over HTTP, and
//! fails if the app gives way.

use std::sync::Arc;

use app::server_fns::{ChangeIntercomZone, PreviewChurn, SaveIntegrationSettings, StartSync};
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use skalin_tests::*;

async fn sign_in_with(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
    next: &str,
) -> reqwest::Response {
    client
        .post(app.url("/auth/signin"))
        .form(&[("email", email), ("password", password), ("next", next)])
        .send()
        .await
        .unwrap()
}

// --- Open redirect -----------------------------------------------------------------------

#[tokio::test]
async fn sign_in_never_sends_the_user_to_another_site_whatever_next_holds() {
    let app = spawn_app().await;
    for next in ["/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "//evil.example", "/\\evil.example"] {
        let response = sign_in_with(&app, &browser_like_client(), ADMIN_EMAIL, ADMIN_PASSWORD, next).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(location(&response), "/", "{next:?}");
    }
}

#[tokio::test]
async fn a_refused_sign_in_with_a_line_break_in_next_is_no_server_error() {
    let app = spawn_app().await;
    let response = sign_in_with(&app, &browser_like_client(), ADMIN_EMAIL, "wrong-password", "/\n/evil.example").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/signin?error=credentials"), "{}", location(&response));
    assert!(!location(&response).contains("next="), "{}", location(&response));
}

// --- Password guessing -------------------------------------------------------------------

#[tokio::test]
async fn guessing_one_accounts_password_is_answered_429_after_five_failures() {
    let app = spawn_app().await;
    let client = browser_like_client();
    for attempt in 1..=5 {
        let response = sign_in_with(&app, &client, ADMIN_EMAIL, &format!("guess-{attempt}"), "").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "attempt {attempt} is answered normally");
    }
    let refused = sign_in_with(&app, &client, ADMIN_EMAIL, "guess-6", "").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    let message = refused.text().await.unwrap();
    assert!(message.contains("Too many failed sign-ins") && message.contains("Try again in"), "{message}");

    let right_password = sign_in_with(&app, &client, ADMIN_EMAIL, ADMIN_PASSWORD, "").await;
    assert_eq!(right_password.status(), StatusCode::TOO_MANY_REQUESTS, "a locked account is not even checked");
    let other_account = sign_in_with(&app, &browser_like_client(), MEMBER_EMAIL, MEMBER_PASSWORD, "").await;
    assert_eq!(other_account.status(), StatusCode::SEE_OTHER, "the others are not locked out");
    assert!(!location(&other_account).starts_with("/signin"));
}

#[tokio::test]
async fn guessing_many_accounts_from_one_address_is_answered_429() {
    let app = spawn_app().await;
    let client = browser_like_client();
    for n in 0..20 {
        let response = sign_in_with(&app, &client, &format!("someone{n}@example.com"), "guess", "").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "attempt {n}");
    }
    let refused = sign_in_with(&app, &client, "someone-else@example.com", "guess", "").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn fail_sign_in_from(app: &TestApp, forwarded_for: &str, n: usize) -> StatusCode {
    let form = [("email", format!("someone{n}@example.com")), ("password", "guess".into()), ("next", String::new())];
    let request = browser_like_client().post(app.url("/auth/signin")).header("x-forwarded-for", forwarded_for);
    request.form(&form).send().await.unwrap().status()
}

#[tokio::test]
async fn a_forwarded_address_is_believed_only_when_the_proxy_header_is_configured() {
    let app = spawn_app().await;
    for n in 0..20 {
        // An attacker rotating the header it sends must not escape the address lock.
        assert_eq!(fail_sign_in_from(&app, &format!("198.51.100.{n}"), n).await, StatusCode::SEE_OTHER);
    }
    assert_eq!(fail_sign_in_from(&app, "198.51.100.99", 99).await, StatusCode::TOO_MANY_REQUESTS);

    let behind_proxy = spawn_app_with(&["--client-ip-header", "X-Forwarded-For"]).await;
    for n in 0..20 {
        let status = fail_sign_in_from(&behind_proxy, "203.0.113.7, 198.51.100.1", n).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    assert_eq!(fail_sign_in_from(&behind_proxy, "198.51.100.1", 20).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        fail_sign_in_from(&behind_proxy, "198.51.100.2", 21).await,
        StatusCode::SEE_OTHER,
        "another client behind the same proxy is not locked out"
    );
}

// --- Cross-site requests -----------------------------------------------------------------

async fn change_zone_from(app: &TestApp, client: &reqwest::Client, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = client
        .post(app.url(ChangeIntercomZone::PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("zone=eu");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused_with_403() {
    let app = spawn_app().await;
    let admin = signed_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for headers in [
        vec![("origin", "http://evil.example")],
        vec![("origin", "null")],
        vec![("origin", "http://evil.example"), ("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
    ] {
        let response = change_zone_from(&app, &admin, &headers).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{headers:?}");
        let message = response.text().await.unwrap();
        assert!(
            message.contains("Refused") && message.contains("another site") || message.contains("not this site"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn the_same_call_from_this_sites_pages_goes_through() {
    let app = spawn_app().await;
    let admin = signed_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let origin = app.base_url.clone();
    for headers in
        [vec![("origin", origin.as_str())], vec![("origin", origin.as_str()), ("sec-fetch-site", "same-origin")]]
    {
        let response = change_zone_from(&app, &admin, &headers).await;
        assert_ne!(response.status(), StatusCode::FORBIDDEN, "{headers:?}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("Refused"), "{body}");
    }
}

#[tokio::test]
async fn signing_in_from_another_sites_form_is_refused() {
    let app = spawn_app().await;
    let response = browser_like_client()
        .post(app.url("/auth/signin"))
        .header("origin", "http://evil.example")
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let same_site = browser_like_client()
        .post(app.url("/auth/signin"))
        .header("origin", &app.base_url)
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(same_site.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&same_site), "/");
}

#[tokio::test]
async fn a_json_server_function_reached_with_text_plain_is_refused_and_runs_nothing() {
    let app = spawn_app().await;
    let admin = signed_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = r#"{"request":{"objects":[],"walk":null,"dry_run":false}}"#;
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        let response =
            admin.post(app.url(StartSync::PATH)).header("content-type", content_type).body(body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}");
        assert!(response.text().await.unwrap().contains("This call takes application/json"));
    }
    let response = admin.post(app.url(SaveIntegrationSettings::PATH)).body("{}").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "no content type at all");
    assert_eq!(app.store.active_run().await.unwrap(), None, "no run was queued");
}

#[tokio::test]
async fn a_form_server_function_reached_with_json_is_refused() {
    let app = spawn_app().await;
    let admin = signed_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let response = admin
        .post(app.url(ChangeIntercomZone::PATH))
        .header("content-type", "text/plain")
        .body("zone=eu")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

// --- Protective headers ------------------------------------------------------------------

#[tokio::test]
async fn pages_carry_a_content_security_policy_whose_nonce_is_on_their_scripts() {
    let app = spawn_app().await;
    let response = browser_like_client().get(app.url("/signin")).send().await.unwrap();
    let headers = response.headers().clone();
    let policy = headers["content-security-policy"].to_str().unwrap().to_string();
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("object-src 'none'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce").to_string();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert!(headers.get("strict-transport-security").is_none(), "no HSTS over plain http");

    let page = response.text().await.unwrap();
    let scripts = page.matches("<script").count();
    assert!(scripts > 0, "{page}");
    assert_eq!(page.matches(&format!("nonce=\"{nonce}\"")).count(), scripts, "every script has the nonce: {page}");

    let again = browser_like_client().get(app.url("/signin")).send().await.unwrap();
    let second = again.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert_ne!(second, policy, "a fresh nonce per page");
}

#[tokio::test]
async fn answers_that_are_not_pages_are_protected_too() {
    let app = spawn_app().await;
    let response = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(response.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
}

#[tokio::test]
async fn an_https_deployment_asks_browsers_to_stay_on_https() {
    let app = spawn_app_with(&["--public-url", "https://skalin.example.com"]).await;
    let response = reqwest::get(app.url("/healthz")).await.unwrap();
    let hsts = response.headers()["strict-transport-security"].to_str().unwrap();
    assert!(hsts.starts_with("max-age="), "{hsts}");
}

// --- Rights ------------------------------------------------------------------------------

#[tokio::test]
async fn a_member_cannot_start_a_churn_preview() {
    let app = spawn_app().await;
    let member = signed_in(&app, MEMBER_EMAIL, MEMBER_PASSWORD).await;
    let answer = call_form::<PreviewChurn>(&app, &member, "preview_churn", &[("max_percent", "10")]).await;
    assert!(matches!(answer.err(StatusCode::FORBIDDEN), app::error::AppError::Forbidden(_)), "{answer:?}");
}

#[tokio::test]
async fn a_demoted_admin_loses_their_rights_at_their_next_request() {
    let app = spawn_app().await;
    let admin = signed_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
    sqlx::query("update memberships set role = 'member' where user_id = (select id from users where email = ?)")
        .bind(ADMIN_EMAIL)
        .execute(&pool)
        .await
        .unwrap();

    let answer = call_form::<ChangeIntercomZone>(&app, &admin, "change_intercom_zone", &[("zone", "eu")]).await;
    assert!(matches!(answer.err(StatusCode::FORBIDDEN), app::error::AppError::Forbidden(_)), "{answer:?}");
}

#[tokio::test]
async fn a_deleted_person_is_signed_out_at_their_next_request() {
    let app = spawn_app().await;
    let member = signed_in(&app, MEMBER_EMAIL, MEMBER_PASSWORD).await;
    let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
    for sql in [
        "delete from memberships where user_id = (select id from users where email = ?)",
        "delete from users where email = ?",
    ] {
        sqlx::query(sql).bind(MEMBER_EMAIL).execute(&pool).await.unwrap();
    }

    let page = member.get(app.url("/customers")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert!(location(&page).starts_with("/signin"), "{}", location(&page));
}

#[tokio::test]
async fn expired_sessions_are_deleted_from_the_database() {
    let db = fresh_sqlite();
    {
        let database = app::store::open(&db.url).await.unwrap();
        drop(database);
    }
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    sqlx::query("insert into tower_sessions (id, data, expiry_date) values ('stale', x'80', 1)")
        .execute(&pool)
        .await
        .unwrap();
    let _app = spawn_app_on(&db.url, &[]).await;
    let mut left = 1;
    for _ in 0..100 {
        left = sqlx::query_scalar::<_, i64>("select count(*) from tower_sessions where id = 'stale'")
            .fetch_one(&pool)
            .await
            .unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "the expired session is still there");
}

#[tokio::test]
async fn a_stolen_session_cannot_be_kept_alive_past_its_lifetime() {
    let app = spawn_app().await;
    let directory = app.directory.as_ref();
    let record = directory.user_by_email(ADMIN_EMAIL).await.unwrap().unwrap();
    let session = tower_sessions::Session::new(None, Arc::new(tower_sessions::MemoryStore::default()), None);

    app::auth::sign_in(&session, directory, &record, std::time::Duration::from_secs(3600)).await.unwrap();
    let user = app::auth::session_user(&session, directory).await.unwrap().expect("signed in");
    assert_eq!((user.id, user.workspace.id), (record.id, app.workspace.id));

    app::auth::sign_in(&session, directory, &record, std::time::Duration::ZERO).await.unwrap();
    assert_eq!(app::auth::session_user(&session, directory).await.unwrap(), None, "past its deadline");
}
