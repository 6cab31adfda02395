//! Twenty workspaces, each connected to its own Intercom (`server sandbox --workspaces`),
//! a run of each queued at once (`server sync --queue`), worked by two `server serve`
//! processes sharing one PostgreSQL database.

use std::collections::BTreeSet;
use std::time::Duration;

use sqlx::Connection;

use super::{read_until, server, url_in, Running};

const WORKSPACES: usize = 20;
const KEY: &str = "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";

fn token(n: usize) -> String {
    if n == 1 {
        "sandbox-token".to_string()
    } else {
        format!("sandbox-token-{n}")
    }
}

/// A database of its own on the local PostgreSQL; `None` (said loudly) where none
/// answers, except under `CI=true`, where the test must run.
async fn fresh_postgres() -> Option<(String, String)> {
    let admin =
        std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut conn = match sqlx::PgConnection::connect(&admin).await {
        Ok(conn) => conn,
        Err(err) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("PostgreSQL is required under CI: {err}"),
        Err(err) => {
            eprintln!("SKIPPED: no PostgreSQL at {admin} ({err})");
            return None;
        }
    };
    let name = format!("skalin_cli_ws_{}", std::process::id());
    sqlx::query(&format!("drop database if exists {name} with (force)")).execute(&mut conn).await.unwrap();
    sqlx::query(&format!("create database {name}")).execute(&mut conn).await.unwrap();
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    Some((admin, url))
}

/// Runs a command to its end; panics with its output when it fails.
fn run(args: &[&str]) -> String {
    let output = server().args(args).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(output.status.success(), "{args:?}: {}{}", text(&output.stdout), text(&output.stderr));
    text(&output.stdout)
}

fn serve(db: &str, sandbox: &str) -> Running {
    let mut command = server();
    command.args(["--database-url", db, "serve", "--addr", "127.0.0.1:0", "--sync-concurrency", "4"]);
    command.args(["--intercom-base-url", sandbox, "--secret-key", KEY]);
    let child = command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null()).spawn().unwrap();
    read_until(child, "Press Ctrl-C").0
}

#[tokio::test]
async fn twenty_workspaces_are_synced_side_by_side_by_two_server_processes_each_from_its_own_intercom() {
    let Some((admin, db)) = fresh_postgres().await else { return };
    let mut command = server();
    command.args(["sandbox", "--port", "0", "--workspaces", "20", "--companies", "12", "--contacts", "30"]);
    command.args(["--tickets", "2", "--conversations", "0", "--latency-ms", "40"]);
    let child = command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let (_sandbox, lines) = read_until(child, "Sandbox Intercom at");
    let sandbox = url_in(&lines[lines.len() - 1]);

    for n in 1..=WORKSPACES {
        let slug = format!("ws-{n:02}");
        run(&["--database-url", &db, "workspace", "add", "--name", &format!("Workspace {n:02}"), "--slug", &slug]);
        let common = ["--intercom-base-url", sandbox.as_str(), "--secret-key", KEY];
        let token = token(n);
        let connect =
            ["--database-url", &db, "connect", "--workspace", &slug, "--access-token", &token, "--zone", "us"];
        run(&[&connect[..], &common].concat());
        run(&[&["--database-url", &db, "sync", "--workspace", &slug, "--queue"][..], &common].concat());
    }

    let pool = sqlx::PgPool::connect(&db).await.unwrap();
    let (first, second) = (serve(&db, &sandbox), serve(&db, &sandbox));
    let (mut most_running, mut workers) = (0i64, BTreeSet::new());
    for _ in 0..3000 {
        let running: Vec<(Option<String>,)> =
            sqlx::query_as("select claimed_by from sync_runs where status = 'running'").fetch_all(&pool).await.unwrap();
        most_running = most_running.max(running.len() as i64);
        workers.extend(running.into_iter().filter_map(|(w,)| w));
        let active: i64 = sqlx::query_scalar("select count(*) from sync_runs where status in ('queued', 'running')")
            .fetch_one(&pool)
            .await
            .unwrap();
        if active == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop((first, second));

    let statuses: Vec<(String, i64)> =
        sqlx::query_as("select status, count(*) from sync_runs group by status").fetch_all(&pool).await.unwrap();
    assert_eq!(statuses, [("success".to_string(), WORKSPACES as i64)], "every run ended well");
    let pids: BTreeSet<&str> = workers.iter().filter_map(|w| w.split(':').nth(2)).collect();
    assert_eq!(pids.len(), 2, "both processes worked runs: {workers:?}");
    assert!((5..=8).contains(&most_running), "4 runs at most per process, both at once: {most_running}");

    // Each workspace holds its own Intercom's companies, each of them once: a run worked
    // twice, or written into another workspace, would show here.
    let client = reqwest::Client::new();
    for n in 1..=WORKSPACES {
        // The scroll, as the sync reads them: the list leaves out companies without users.
        let page: serde_json::Value = client
            .get(format!("{sandbox}/companies/scroll"))
            .bearer_auth(token(n))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let in_intercom: BTreeSet<(String, String)> = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["id"].as_str().unwrap().to_string(), c["name"].as_str().unwrap_or("").to_string()))
            .collect();
        assert_eq!(in_intercom.len(), 12);
        let slug = format!("ws-{n:02}");
        let held: Vec<(String, String)> = sqlx::query_as(
            "select c.intercom_id, c.name from customers c join workspaces w on w.id = c.workspace_id \
             where w.slug = $1",
        )
        .bind(&slug)
        .fetch_all(&pool)
        .await
        .unwrap();
        let held_set: BTreeSet<(String, String)> = held.iter().cloned().collect();
        assert_eq!(held.len(), held_set.len(), "{slug} holds a company twice");
        assert_eq!(held_set, in_intercom, "{slug}'s customers");
        let created: i64 = sqlx::query_scalar(
            "select o.created from sync_run_objects o join sync_runs r on r.id = o.run_id \
             join workspaces w on w.id = r.workspace_id where w.slug = $1 and o.object = 'customers'",
        )
        .bind(&slug)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(created as usize, in_intercom.len(), "{slug}'s run created each company once");
    }
    pool.close().await;
    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
        let name = db.rsplit('/').next().unwrap();
        let _ = sqlx::query(&format!("drop database if exists {name} with (force)")).execute(&mut conn).await;
    }
}
