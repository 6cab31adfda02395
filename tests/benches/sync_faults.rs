//! A full sync with a share of Intercom's calls failing (500, 502, 503 mixed), against the
//! same sync without faults: the time ratio, and whether the data came out the same.
//!
//! `cargo bench -p skalin-tests --bench sync_faults -- [--companies N] [--contacts N]
//!  [--tickets N] [--fault-rate R] [--rounds N] [--latency-ms MS]`
//!
//! Defaults: 5,000 companies, 50,000 contacts, 5,000 tickets, 2 % of calls failing,
//! 3 rounds (each a fault-free run, then a faulty one, into fresh SQLite databases); the
//! ratio of the medians is the figure (issue 12's goal: at most 1.5).

use std::time::{Duration, Instant};

use app::domain::{PageRequest, RunRequest, RunStatus, RunTrigger};
use app::store::Store;
use app::sync::Outcome;
use sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

struct Args {
    companies: usize,
    contacts: usize,
    tickets: usize,
    fault_rate: f64,
    rounds: usize,
    latency: Duration,
}

fn args() -> Args {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| raw.iter().position(|a| a == flag).and_then(|i| raw.get(i + 1)).cloned();
    let number = |flag: &str, default: usize| value(flag).and_then(|v| v.parse().ok()).unwrap_or(default);
    Args {
        companies: number("--companies", 5_000),
        contacts: number("--contacts", 50_000),
        tickets: number("--tickets", 5_000),
        fault_rate: value("--fault-rate").and_then(|v| v.parse().ok()).unwrap_or(0.02),
        rounds: number("--rounds", 3).max(1),
        latency: Duration::from_millis(number("--latency-ms", 0) as u64),
    }
}

/// One full sync of every object into a fresh SQLite database: its time, its calls and
/// what Skalin then holds, local ids and clocks left out.
async fn sync_once(base_url: &str) -> anyhow::Result<(Duration, u64, Vec<Value>)> {
    let db = skalin_tests::fresh_sqlite();
    let store = skalin_tests::test_store(&db.url).await;
    let engine = skalin_tests::bench::connected_engine(store.clone(), base_url).await?;
    let request = RunRequest { objects: vec![], walk: None, dry_run: false };
    let (id, _) = engine.start(request, RunTrigger::CommandLine, "bench").await?;
    let started = Instant::now();
    let outcome = engine.run_once().await?;
    let elapsed = started.elapsed();
    anyhow::ensure!(outcome == Outcome::Worked(id), "the run was not worked: {outcome:?}");
    let run = store.sync_run(id).await?.expect("the run");
    anyhow::ensure!(run.status == RunStatus::Success, "the run ended {:?}: {run:#?}", run.status);
    Ok((elapsed, run.calls, holdings(store.as_ref()).await?))
}

async fn holdings(store: &dyn Store) -> anyhow::Result<Vec<Value>> {
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let customers = store.list_customers(PageRequest::new(Some(page), Some(500))).await?;
        let contacts = store.list_contacts(PageRequest::new(Some(page), Some(500))).await?;
        let interactions = store.list_interactions(PageRequest::new(Some(page), Some(500))).await?;
        let before = all.len();
        all.extend(customers.items.iter().map(serde_json::to_value).collect::<Result<Vec<_>, _>>()?);
        all.extend(contacts.items.iter().map(serde_json::to_value).collect::<Result<Vec<_>, _>>()?);
        all.extend(interactions.items.iter().map(serde_json::to_value).collect::<Result<Vec<_>, _>>()?);
        if all.len() == before {
            break;
        }
        page += 1;
    }
    for row in &mut all {
        if let Some(fields) = row.as_object_mut() {
            fields.remove("id");
            fields.remove("updated_at");
        }
    }
    all.sort_by_key(|row| row.to_string());
    Ok(all)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args();
    let config = SandboxConfig {
        companies: args.companies,
        contacts: args.contacts,
        tickets: args.tickets,
        latency: args.latency,
        ..SandboxConfig::default()
    };
    let sb = Sandbox::spawn(config).await?;
    println!(
        "sandbox: {} companies, {} contacts, {} tickets; {:?} latency; {:.1} % of calls failing in the faulty runs",
        args.companies,
        args.contacts,
        args.tickets,
        args.latency,
        args.fault_rate * 100.0
    );
    let mut clean_times = Vec::new();
    let mut faulty_times = Vec::new();
    for round in 1..=args.rounds {
        sb.sandbox.set_fault_rate(0.0);
        let (clean, clean_calls, expected) = sync_once(&sb.base_url).await?;
        sb.sandbox.set_fault_rate(args.fault_rate);
        sb.sandbox.reset_stats();
        let (faulty, faulty_calls, held) = sync_once(&sb.base_url).await?;
        let faults = sb.sandbox.stats().faults_injected;
        let exact = held == expected;
        println!(
            "round {round}: without faults {clean:.2?} ({clean_calls} calls); with {faults} faults {faulty:.2?} ({faulty_calls} calls); ratio {:.2}; {} records, {}",
            faulty.as_secs_f64() / clean.as_secs_f64(),
            held.len(),
            if exact { "the same as without faults" } else { "NOT the same as without faults" }
        );
        anyhow::ensure!(exact, "the faulty run's data differs from the fault-free run's");
        clean_times.push(clean);
        faulty_times.push(faulty);
    }
    let (clean, faulty) = (median(clean_times), median(faulty_times));
    println!(
        "median: without faults {clean:.2?}, with faults {faulty:.2?}: ratio {:.2} (goal: at most 1.5)",
        faulty.as_secs_f64() / clean.as_secs_f64()
    );
    Ok(())
}
