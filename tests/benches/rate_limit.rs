//! A full sync under a tight rate limit: the call rate it sustains against the budget,
//! and the 429s it meets after the first window.
//!
//! `cargo bench -p skalin-tests --bench rate_limit -- [--limit PER_10_S] [--companies N]
//!  [--contacts N] [--tickets N]`
//!
//! Defaults: 100 calls per 10-second window, 5,000 companies, 50,000 contacts, 5,000
//! tickets: about 420 calls, four windows and more. Issue 12's goal: at least 90 % of the
//! budget, and no 429 after the first window.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::domain::{RunRequest, RunStatus, RunTrigger};
use app::sync::Outcome;
use sandbox::{Sandbox, SandboxConfig};

fn number(raw: &[String], flag: &str, default: usize) -> usize {
    raw.iter().position(|a| a == flag).and_then(|i| raw.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let limit = number(&raw, "--limit", 100) as u32;
    let config = SandboxConfig {
        companies: number(&raw, "--companies", 5_000),
        contacts: number(&raw, "--contacts", 50_000),
        tickets: number(&raw, "--tickets", 5_000),
        rate_limit_per_window: limit,
        ..SandboxConfig::default()
    };
    let sb = Sandbox::spawn(config.clone()).await?;
    println!(
        "sandbox: {} companies, {} contacts, {} tickets; {limit} calls per 10-second window",
        config.companies, config.contacts, config.tickets
    );

    let db = skalin_tests::fresh_sqlite();
    let store = skalin_tests::test_store(&db.url).await;
    let engine = skalin_tests::bench::connected_engine(store.clone(), &sb.base_url).await?;
    let (id, _) = engine
        .start(RunRequest { objects: vec![], walk: None, dry_run: false }, RunTrigger::CommandLine, "bench")
        .await?;

    // Connecting spent calls of the first window too: the sync starts where a user's would.
    sb.sandbox.reset_stats();
    let started = Instant::now();
    // The calls made so far at each window boundary (the sandbox's windows are aligned
    // to the clock): the sustained rate is read over whole windows only.
    let samples: Arc<std::sync::Mutex<Vec<u64>>> = Arc::default();
    let sampler = {
        let (sandbox, samples) = (sb.sandbox.clone(), samples.clone());
        tokio::spawn(async move {
            loop {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                let next = Duration::from_secs((now.as_secs() / 10 + 1) * 10);
                tokio::time::sleep(next - now).await;
                samples.lock().unwrap_or_else(|e| e.into_inner()).push(sandbox.stats().total_calls);
            }
        })
    };
    let first_window = {
        let sandbox = sb.sandbox.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(10)).await;
            sandbox.stats().rate_limited
        })
    };
    let outcome = engine.run_once().await?;
    let elapsed = started.elapsed();
    let refusals = sb.sandbox.stats().rate_limited;
    let in_first_window = first_window.await?;
    anyhow::ensure!(outcome == Outcome::Worked(id), "the run was not worked: {outcome:?}");
    let run = store.sync_run(id).await?.expect("the run");
    anyhow::ensure!(run.status == RunStatus::Success, "the run ended {:?}", run.status);

    sampler.abort();
    let samples = samples.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let calls = sb.sandbox.stats().total_calls;
    let budget_per_s = f64::from(limit) / 10.0;
    let rate = calls as f64 / elapsed.as_secs_f64();
    println!(
        "{calls} calls in {elapsed:.2?} = {rate:.2} calls/s against a budget of {budget_per_s:.1}/s ({:.1} %, partial windows at both ends included)",
        rate / budget_per_s * 100.0
    );
    println!(
        "429s: {in_first_window} in the first window, {} after it (goal: none); the client waited for the window {} times",
        refusals - in_first_window,
        run.rate_limit_waits
    );
    match (samples.first(), samples.last()) {
        (Some(first), Some(last)) if samples.len() >= 3 => {
            let windows = (samples.len() - 1) as u64;
            println!(
                "sustained, over the {windows} whole windows inside the run: {} calls of {} allowed = {:.1} % of the budget (goal: at least 90 %)",
                last - first,
                windows * u64::from(limit),
                (last - first) as f64 / (windows * u64::from(limit)) as f64 * 100.0
            );
        }
        _ => println!("(fewer than two whole windows inside the run: raise --contacts or lower --limit)"),
    }
    Ok(())
}
