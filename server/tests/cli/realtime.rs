//! A `server serve` killed (`kill -9`) right after acknowledging Intercom's notifications
//! loses none: the next process applies every one of them.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{read_until, sandbox_get, server, url_in, Running};

const KEY: &str = "efefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef";
const SECRET: &str = "kill-test-client-secret";
const NOTIFICATIONS: usize = 300;

fn run(args: &[&str]) {
    let output = server().args(args).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(output.status.success(), "{args:?}: {}{}", text(&output.stdout), text(&output.stderr));
}

fn serve(db: &str, sandbox: &str) -> (Running, String) {
    let mut command = server();
    command.args(["--database-url", db, "serve", "--addr", "127.0.0.1:0", "--secret-key", KEY]);
    command.args(["--intercom-base-url", sandbox, "--intercom-client-id", "kill-test"]);
    command.args(["--intercom-client-secret", SECRET]);
    let child = command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let (running, lines) = read_until(child, "Press Ctrl-C");
    let url = lines.iter().find(|l| l.contains("Skalin is running at")).map(|l| url_in(l)).expect("the server's URL");
    (running, url)
}

#[tokio::test]
async fn a_server_killed_between_acknowledging_and_applying_loses_no_notification() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("skalin.db").display());
    let mut command = server();
    command.args(["sandbox", "--port", "0", "--companies", "40", "--contacts", "10", "--tickets", "0"]);
    let child = command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let (_sandbox, lines) = read_until(child, "Sandbox Intercom at");
    let sandbox = url_in(&lines[lines.len() - 1]);
    let common = ["--intercom-base-url", sandbox.as_str(), "--secret-key", KEY];
    run(&["--database-url", &db, "workspace", "add", "--name", "Acme", "--slug", "acme"]);
    let connect = ["--database-url", &db, "connect", "--workspace", "acme", "--access-token", "sandbox-token"];
    run(&[&connect[..], &["--zone", "us"], &common].concat());
    run(&[&["--database-url", &db, "sync", "--workspace", "acme"][..], &common].concat());

    let me = sandbox_get(&format!("{sandbox}/me")).await;
    let app_id = me["app"]["id_code"].as_str().expect("the app id").to_string();
    let scroll = sandbox_get(&format!("{sandbox}/companies/scroll")).await;
    let companies: Vec<serde_json::Value> = scroll["data"].as_array().unwrap().clone();
    assert!(!companies.is_empty());

    let (first, url) = serve(&db, &sandbox);
    let client = reqwest::Client::new();
    let mut expected = std::collections::BTreeMap::new();
    for n in 0..NOTIFICATIONS {
        let mut company = companies[n % companies.len()].clone();
        let name = format!("Renamed {n}");
        company["name"] = json!(name);
        company["updated_at"] = json!(company["updated_at"].as_i64().unwrap() + 1_000 + n as i64);
        expected.insert(company["id"].as_str().unwrap().to_string(), name);
        let body = json!({
            "type": "notification_event", "id": format!("notif_kill_{n}"), "topic": "company.updated",
            "app_id": app_id, "created_at": 1, "data": {"type": "notification_event_data", "item": company}
        })
        .to_string();
        let response = client
            .post(format!("{url}/webhooks/intercom"))
            .header("x-hub-signature", app::webhooks::sign(SECRET.as_bytes(), body.as_bytes()))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "notification {n} acknowledged");
    }
    // SIGKILL, at once after the last acknowledgement: whatever was being applied stops.
    drop(first);

    let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
    let stored: i64 = sqlx::query_scalar("select count(*) from webhook_events").fetch_one(&pool).await.unwrap();
    assert_eq!(stored, NOTIFICATIONS as i64, "every acknowledged notification was stored");

    let (_second, _) = serve(&db, &sandbox);
    // Those the killed process had in hand come back once their lease ends.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let names: Vec<(String, String)> =
            sqlx::query_as("select intercom_id, name from customers where intercom_id is not null")
                .fetch_all(&pool)
                .await
                .unwrap();
        let done = expected.iter().all(|(id, name)| names.iter().any(|(i, n)| i == id && n == name));
        let open: i64 =
            sqlx::query_scalar("select count(*) from webhook_events where status in ('pending', 'applying')")
                .fetch_one(&pool)
                .await
                .unwrap();
        if done && open == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{open} notifications still open; customers: {names:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let applied: i64 = sqlx::query_scalar("select count(*) from webhook_events where status in ('applied', 'ignored')")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(applied, NOTIFICATIONS as i64);
}
