//! What the integration and browser tests share: databases to test against and the real
//! server, started on a free port.

pub mod bench;
pub mod chromium;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use app::domain::{NewCustomer, Role, Workspace};
use app::store::{Directory, Store};
use server::config::ServeArgs;
use server::Application;
use sqlx::Connection;
use tokio::sync::oneshot;

pub const ADMIN_EMAIL: &str = "ada@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password-1";
pub const MEMBER_EMAIL: &str = "max@example.com";
pub const MEMBER_PASSWORD: &str = "member-password-1";

/// A fresh SQLite file in a temporary folder that lives as long as the value.
pub struct SqliteDb {
    pub url: String,
    _dir: tempfile::TempDir,
}

pub fn fresh_sqlite() -> SqliteDb {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("skalin.db").display());
    SqliteDb { url, _dir: dir }
}

/// A fresh PostgreSQL database, dropped by `drop_postgres`.
pub struct PostgresDb {
    pub url: String,
    name: String,
}

fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Creates a database of its own for one test. Where no PostgreSQL answers, says so
/// loudly and returns `None`, except under `CI=true`, where the suite must run.
pub async fn fresh_postgres(test: &str) -> Option<PostgresDb> {
    let admin_url = postgres_admin_url();
    let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(conn) => conn,
        Err(err) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL is required under CI=true but {admin_url} did not answer: {err}");
            }
            // Straight to the stderr handle: the test harness would swallow `eprintln!`.
            let _ = writeln!(
                std::io::stderr(),
                "\n!!! SKIPPED {test}: no PostgreSQL at {admin_url} ({err}).\n!!! Set TEST_POSTGRES_URL to run the PostgreSQL suite.\n"
            );
            return None;
        }
    };
    let name = format!("skalin_test_{}", rand::random::<u64>());
    sqlx::query(&format!("create database {name}")).execute(&mut admin).await.expect("create a test database");
    let mut url = url::Url::parse(&admin_url).expect("TEST_POSTGRES_URL is a URL");
    url.set_path(&name);
    Some(PostgresDb { url: url.to_string(), name })
}

/// `with (force)` ends the connections still open on it.
pub async fn drop_postgres(db: PostgresDb) {
    if let Ok(mut admin) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
        let _ = sqlx::query(&format!("drop database if exists {} with (force)", db.name)).execute(&mut admin).await;
    }
}

/// Where `cargo leptos build` wrote the site (the WASM bundle and CSS): `target/site`,
/// or `LEPTOS_SITE_ROOT` (relative to the workspace), as for `cargo leptos` and `serve`;
/// the README's test command runs the browser suite against the release site that way.
pub fn site_root() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    if let Some(root) = std::env::var_os("LEPTOS_SITE_ROOT") {
        return workspace.join(root);
    }
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| workspace.join("target"));
    target.join("site")
}

/// A page's HTML without the comments Leptos leaves for hydration (`<!>`, and in debug
/// builds `<!--<Component />-->`), so that tests can look for the markup people see.
pub fn without_markers(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<!") {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = if after.starts_with("<!>") {
            3
        } else if after.starts_with("<!--") {
            after.find("-->").map_or(after.len(), |i| i + 3)
        } else {
            // `<!DOCTYPE html>` is markup, not a marker.
            out.push_str("<!");
            2
        };
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The slug of the workspace `spawn_app` makes, which its admin and member belong to.
pub const WORKSPACE_SLUG: &str = "acme";

/// The real server on a free port, with one workspace (`WORKSPACE_SLUG`) and an admin and
/// a member of it.
pub struct TestApp {
    pub base_url: String,
    /// The workspace's data.
    pub store: Arc<dyn Store>,
    pub workspace: Workspace,
    pub directory: Arc<dyn Directory>,
    pub database_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    _db: Option<SqliteDb>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the server on a fresh SQLite database; `extra` are more `serve` flags.
pub async fn spawn_app_with(extra: &[&str]) -> TestApp {
    let db = fresh_sqlite();
    let url = db.url.clone();
    let mut app = spawn_app_on(&url, extra).await;
    app._db = Some(db);
    app
}

pub async fn spawn_app_on(database_url: &str, extra: &[&str]) -> TestApp {
    let site_root = site_root();
    let site_root = site_root.to_string_lossy();
    let key = "ab".repeat(32);
    let mut args = vec!["--addr", "127.0.0.1:0", "--secret-key", &key];
    if !extra.contains(&"--site-root") {
        args.extend(["--site-root", &site_root]);
    }
    args.extend_from_slice(extra);
    let args = ServeArgs::from_flags(args).expect("valid serve flags");

    let database = app::store::open(database_url).await.expect("open the test database");
    let directory = database.directory.clone();
    let workspace = test_workspace(directory.as_ref(), "Acme", WORKSPACE_SLUG).await;
    for (email, password, role) in
        [(ADMIN_EMAIL, ADMIN_PASSWORD, Role::Admin), (MEMBER_EMAIL, MEMBER_PASSWORD, Role::Member)]
    {
        add_member(directory.as_ref(), &workspace, email, password, role).await;
    }
    let store = directory.store(workspace.id);
    let application = Application::build(&args, database).await.expect("build the app");
    let base_url = format!("http://{}", application.local_addr());
    let (tx, rx) = oneshot::channel();
    tokio::spawn(application.run_until(async {
        let _ = rx.await;
    }));
    TestApp {
        base_url,
        store,
        workspace,
        directory,
        database_url: database_url.to_string(),
        shutdown: Some(tx),
        _db: None,
    }
}

/// The workspace with this slug, created if missing.
pub async fn test_workspace(directory: &dyn Directory, name: &str, slug: &str) -> Workspace {
    match directory.workspace_by_slug(slug).await.expect("read the workspaces") {
        Some(workspace) => workspace,
        None => directory.create_workspace(name, slug).await.expect("create a test workspace"),
    }
}

/// The store of a workspace of its own, made for one test, in the database at `url`.
pub async fn test_store(url: &str) -> Arc<dyn Store> {
    let directory = app::store::open(url).await.expect("open the test database").directory;
    let workspace = test_workspace(directory.as_ref(), "Acme", WORKSPACE_SLUG).await;
    directory.store(workspace.id)
}

/// Makes `email` (created with `password` if new) a member of `workspace` with `role`.
pub async fn add_member(directory: &dyn Directory, workspace: &Workspace, email: &str, password: &str, role: Role) {
    let password = match directory.user_by_email(email).await.expect("read the users") {
        Some(_) => None,
        None => Some(password.to_string()),
    };
    server::commands::add_user(directory, workspace, email, role, password).await.expect("add a test member");
}

/// Adds `count` customers named "Customer 001"… so that lists have pages to walk.
pub async fn seed_customers(store: &dyn Store, count: usize) {
    for n in 1..=count {
        store
            .insert_customer(&NewCustomer {
                external_id: format!("cust-{n:03}"),
                intercom_id: Some(format!("ic-{n:03}")),
                name: format!("Customer {n:03}"),
                domain: Some(format!("customer{n:03}.example.com")),
                stage: Some("active".into()),
            })
            .await
            .expect("insert a customer");
    }
}

// ---------------------------------------------------------------------------------------
// Server functions over HTTP, called as the hydrated pages call them
// ---------------------------------------------------------------------------------------

/// Keeps cookies like a browser, and shows redirects instead of following them.
pub fn browser_like_client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

pub fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

/// A session of `email`, signed in through the sign-in form.
pub async fn signed_in(app: &TestApp, email: &str, password: &str) -> reqwest::Client {
    let client = browser_like_client();
    let response = client
        .post(app.url("/auth/signin"))
        .form(&[("email", email), ("password", password), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER, "signing in as {email}");
    assert!(!location(&response).starts_with("/signin"), "signing in as {email} failed: {}", location(&response));
    client
}

/// A server function's answer: its status and body, read once.
#[derive(Debug)]
pub struct Answer {
    pub what: &'static str,
    pub status: reqwest::StatusCode,
    pub body: String,
}

impl Answer {
    pub fn ok<T: leptos::server_fn::serde::de::DeserializeOwned>(&self) -> T {
        assert_eq!(self.status, reqwest::StatusCode::OK, "{}: {}", self.what, self.body);
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{}: unexpected answer ({e}): {}", self.what, self.body))
    }

    /// The error, after checking the status it came with.
    pub fn err(&self, status: reqwest::StatusCode) -> app::error::AppError {
        assert_eq!(self.status, status, "{}: {}", self.what, self.body);
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{}: not an AppError ({e}): {}", self.what, self.body))
    }

    /// The messages of a `Rejected`, by key.
    pub fn rejected(&self) -> Vec<(String, String)> {
        match self.err(reqwest::StatusCode::UNPROCESSABLE_ENTITY) {
            app::error::AppError::Rejected(errors) => errors.into_iter().map(|e| (e.key, e.message)).collect(),
            other => panic!("{}: expected Rejected, got {other:?}", self.what),
        }
    }
}

async fn read(what: &'static str, response: reqwest::Response) -> Answer {
    let status = response.status();
    let body = response.text().await.unwrap();
    Answer { what, status, body }
}

/// URL-encoded form input, the default of `#[server]`.
pub async fn call_form<F: leptos::server_fn::ServerFn>(
    app: &TestApp,
    client: &reqwest::Client,
    what: &'static str,
    form: &[(&str, &str)],
) -> Answer {
    let response = client.post(app.url(F::PATH)).header("accept", "application/json").form(form).send().await.unwrap();
    read(what, response).await
}

/// JSON input (`#[server(input = Json)]`).
pub async fn call_json<F: leptos::server_fn::ServerFn>(
    app: &TestApp,
    client: &reqwest::Client,
    what: &'static str,
    body: serde_json::Value,
) -> Answer {
    let response = client
        .post(app.url(F::PATH))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    read(what, response).await
}
