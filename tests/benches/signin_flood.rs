//! `/healthz` while a flood of sign-ins with random emails hashes passwords: how much
//! slower other requests get. Issue 13 saw ~0.4 s with 64 sign-ins when hashing ran on
//! the async workers.
//!
//! `cargo bench -p skalin-tests --bench signin_flood -- [--sign-ins N]` (default 64)

use std::sync::Arc;
use std::time::{Duration, Instant};

use skalin_tests::{browser_like_client, spawn_app, TestApp};

async fn health_latencies(app: &TestApp, samples: usize) -> Vec<Duration> {
    let client = reqwest::Client::new();
    let mut latencies = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        let response = client.get(app.url("/healthz")).send().await.expect("/healthz answers");
        assert!(response.status().is_success());
        latencies.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    latencies.sort();
    latencies
}

fn describe(latencies: &[Duration]) -> (f64, f64) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(latencies[latencies.len() / 2]), ms(*latencies.last().unwrap_or(&Duration::ZERO)))
}

fn main() -> anyhow::Result<()> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let sign_ins = raw
        .iter()
        .position(|a| a == "--sign-ins")
        .and_then(|i| raw.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(64usize);
    // Two workers, as on the 2-core machines the issue was measured on.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        let app = Arc::new(spawn_app().await);
        let (idle_median, idle_max) = describe(&health_latencies(&app, 30).await);

        let started = Instant::now();
        let flood: Vec<_> = (0..sign_ins)
            .map(|n| {
                let app = app.clone();
                tokio::spawn(async move {
                    let email = format!("flood{n}-{}@example.com", rand::random::<u32>());
                    let form = [("email", email.as_str()), ("password", "guess-guess"), ("next", "")];
                    let _ = browser_like_client().post(app.url("/auth/signin")).form(&form).send().await;
                })
            })
            .collect();
        let during = health_latencies(&app, 30).await;
        for task in flood {
            task.await?;
        }
        let flood_seconds = started.elapsed().as_secs_f64();
        let (median, max) = describe(&during);
        println!("/healthz idle:   median {idle_median:.1} ms, max {idle_max:.1} ms (30 calls)");
        println!("/healthz during {sign_ins} concurrent sign-ins: median {median:.1} ms, max {max:.1} ms (30 calls)");
        println!(
            "the flood took {flood_seconds:.2} s; median ratio during/idle {:.1}",
            median / idle_median.max(0.001)
        );
        anyhow::Ok(())
    })
}
