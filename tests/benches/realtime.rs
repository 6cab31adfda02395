//! Real time, measured on one server process over real HTTP, on SQLite and PostgreSQL:
//!
//! - latency: from a change in the sandbox Intercom (its own webhooks, at least once, not
//!   always in order) to the row updated in Skalin, over `--changes` changes (p50, p95, max);
//! - throughput: `--events` signed notifications posted side by side (`--senders`), as
//!   acknowledged per second, and per second until every one is applied.
//!
//! `cargo bench -p skalin-tests --bench realtime -- [--changes N] [--events N]
//!  [--senders N] [--backend sqlite|postgres|both]`
//!
//! Defaults: 1,000 changes, 20,000 events, 32 senders, both backends.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::domain::RunRequest;
use leptos::server_fn::ServerFn;
use sandbox::{Sandbox, SandboxConfig, WebhookDelivery, SANDBOX_CLIENT_SECRET, SANDBOX_TOKEN};
use serde_json::json;
use skalin_tests::*;

struct Args {
    changes: usize,
    events: usize,
    senders: usize,
    backends: Vec<&'static str>,
}

fn args() -> Args {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| raw.iter().position(|a| a == flag).and_then(|i| raw.get(i + 1)).cloned();
    let number = |flag: &str, default: usize| value(flag).and_then(|v| v.parse().ok()).unwrap_or(default);
    let backends = match value("--backend").as_deref() {
        Some("sqlite") => vec!["sqlite"],
        Some("postgres") => vec!["postgres"],
        _ => vec!["sqlite", "postgres"],
    };
    Args {
        changes: number("--changes", 1_000),
        events: number("--events", 20_000),
        senders: number("--senders", 32),
        backends,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The app on `url`, connected to the sandbox, with a first import done.
async fn connected_app(url: &str, sandbox_url: &str) -> anyhow::Result<TestApp> {
    let flags = [
        "--intercom-base-url",
        sandbox_url,
        "--intercom-client-id",
        "sandbox-client-id",
        "--intercom-client-secret",
        SANDBOX_CLIENT_SECRET,
    ];
    let app = spawn_app_on(url, &flags).await;
    let admin = signed_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let connected = admin
        .post(app.url(app::server_fns::ConnectIntercomWithToken::PATH))
        .header("accept", "application/json")
        .form(&[("access_token", SANDBOX_TOKEN), ("zone", "us")])
        .send()
        .await?;
    anyhow::ensure!(connected.status().is_success(), "connecting: {}", connected.text().await?);
    let engine = app.directory.store(app.workspace.id);
    let started = admin
        .post(app.url(app::server_fns::StartSync::PATH))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(json!({ "request": RunRequest { objects: vec![], walk: None, dry_run: false } }).to_string())
        .send()
        .await?;
    anyhow::ensure!(started.status().is_success(), "starting the import: {}", started.text().await?);
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let runs = engine.sync_runs(1).await?;
        if runs.first().is_some_and(|r| !r.status.is_active()) {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "the first import never ended");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(app)
}

/// The database the app writes, read directly to see rows change.
enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Pool {
    async fn open(url: &str) -> anyhow::Result<Self> {
        Ok(if url.starts_with("sqlite:") {
            Pool::Sqlite(sqlx::SqlitePool::connect(url).await?)
        } else {
            Pool::Postgres(sqlx::PgPool::connect(url).await?)
        })
    }
}

async fn names_like(pool: &Pool, pattern: &str) -> anyhow::Result<Vec<(String,)>> {
    const SQL: &str = "select name from customers where name like $1";
    Ok(match pool {
        Pool::Sqlite(p) => sqlx::query_as(SQL).bind(pattern).fetch_all(p).await?,
        Pool::Postgres(p) => sqlx::query_as(SQL).bind(pattern).fetch_all(p).await?,
    })
}

/// Notifications not yet applied, counted from the queue's own index: the settings card's
/// counts read every row of the day, which would weigh on what is measured.
async fn waiting(pool: &Pool) -> anyhow::Result<i64> {
    const SQL: &str = "select count(*) from webhook_events where status in ('pending', 'applying')";
    Ok(match pool {
        Pool::Sqlite(p) => sqlx::query_scalar(SQL).fetch_one(p).await?,
        Pool::Postgres(p) => sqlx::query_scalar(SQL).fetch_one(p).await?,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args();
    let config = SandboxConfig { companies: 2_000, contacts: 2_000, tickets: 0, ..SandboxConfig::default() };
    let sb = Sandbox::spawn(config).await?;
    println!(
        "real time: {} changes for latency, {} events by {} senders for throughput",
        args.changes, args.events, args.senders
    );

    for backend in &args.backends {
        let sqlite = fresh_sqlite();
        let postgres = match *backend {
            "postgres" => match fresh_postgres("realtime bench").await {
                Some(db) => Some(db),
                None => continue,
            },
            _ => None,
        };
        let url = postgres.as_ref().map_or(sqlite.url.clone(), |db| db.url.clone());
        let app = connected_app(&url, &sb.base_url).await?;
        println!("\n== {backend} ==");

        // Latency: the sandbox's own webhooks, a change every few milliseconds.
        let delivery = WebhookDelivery { every: Duration::from_millis(10), ..WebhookDelivery::default() };
        sb.sandbox.send_webhooks_to(&app.url("/webhooks/intercom"), SANDBOX_CLIENT_SECRET, delivery);
        let ids = sb.sandbox.company_ids();
        let pool = Pool::open(&url).await?;
        let mut changed_at: HashMap<String, Instant> = HashMap::new();
        let mut seen_at: HashMap<String, Instant> = HashMap::new();
        let started = Instant::now();
        let mut next = 0usize;
        while seen_at.len() < args.changes {
            // One change every 5 ms, watched for meanwhile.
            if next < args.changes && started.elapsed() >= Duration::from_millis(5 * next as u64) {
                let marker = format!("Latency {backend} {next}");
                anyhow::ensure!(sb.sandbox.update_company(&ids[next % ids.len()], json!({ "name": marker })));
                changed_at.insert(marker, Instant::now());
                next += 1;
            }
            let names = names_like(&pool, &format!("Latency {backend} %")).await?;
            let now = Instant::now();
            for (name,) in names {
                seen_at.entry(name).or_insert(now);
            }
            // A name overwritten by the next change of the same company before it was
            // seen can never be: each company is changed once in a row of `ids.len()`.
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(300),
                "changes never arrived: {} of {}",
                seen_at.len(),
                args.changes
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let mut latencies: Vec<Duration> = seen_at
            .iter()
            .filter_map(|(name, seen)| changed_at.get(name).map(|c| seen.saturating_duration_since(*c)))
            .collect();
        latencies.sort();
        println!(
            "latency       {} changes: p50 {:.0?}, p95 {:.0?}, max {:.0?} (goal: p95 under 1 s)",
            latencies.len(),
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.95),
            latencies.last().copied().unwrap_or_default()
        );

        // Throughput: notifications posted as fast as the endpoint takes them.
        let app_id = sb.sandbox.app_id();
        let companies: Vec<serde_json::Value> = ids.iter().filter_map(|id| sb.sandbox.company_json(id)).collect();
        let bodies: Vec<String> = (0..args.events)
            .map(|n| {
                let mut company = companies[n % companies.len()].clone();
                company["name"] = json!(format!("Throughput {backend} {n}"));
                company["updated_at"] = json!(company["updated_at"].as_i64().unwrap_or(0) + 10_000 + n as i64);
                json!({
                    "type": "notification_event", "id": format!("notif_bench_{backend}_{n}"), "topic": "company.updated",
                    "app_id": app_id, "created_at": 1, "data": {"type": "notification_event_data", "item": company}
                })
                .to_string()
            })
            .collect();
        let bodies = Arc::new(bodies);
        let endpoint = app.url("/webhooks/intercom");
        let client = reqwest::Client::new();
        let started = Instant::now();
        let mut senders = tokio::task::JoinSet::new();
        for s in 0..args.senders {
            let (bodies, endpoint, client, senders_n) =
                (bodies.clone(), endpoint.clone(), client.clone(), args.senders);
            senders.spawn(async move {
                let mut refused = 0u64;
                for body in bodies.iter().skip(s).step_by(senders_n) {
                    let signature = app::webhooks::sign(SANDBOX_CLIENT_SECRET.as_bytes(), body.as_bytes());
                    let response =
                        client.post(&endpoint).header("x-hub-signature", signature).body(body.clone()).send().await;
                    if !response.is_ok_and(|r| r.status().is_success()) {
                        refused += 1;
                    }
                }
                refused
            });
        }
        let mut refused = 0;
        while let Some(r) = senders.join_next().await {
            refused += r?;
        }
        let acknowledged = started.elapsed();
        while waiting(&pool).await? > 0 {
            anyhow::ensure!(started.elapsed() < Duration::from_secs(600), "the events were never all applied");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let applied = started.elapsed();
        let counts = app.store.webhook_counts(0).await?;
        println!(
            "throughput    {} events acknowledged in {acknowledged:.2?} = {:.0} events/s ({refused} refused); all applied in {applied:.2?} = {:.0} events/s ({} applied, {} ignored, {} failed in all)",
            args.events,
            args.events as f64 / acknowledged.as_secs_f64(),
            args.events as f64 / applied.as_secs_f64(),
            counts.counts.applied,
            counts.counts.ignored,
            counts.counts.failed
        );
        drop(app);
        if let Some(db) = postgres {
            drop_postgres(db).await;
        }
    }
    Ok(())
}
