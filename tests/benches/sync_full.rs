//! A full sync from the in-process sandbox Intercom into SQLite and PostgreSQL: records
//! per second, calls made against the minimum, and memory, per object.
//!
//! `cargo bench -p skalin-tests --bench sync_full -- [--companies N] [--contacts N]
//!  [--tickets N] [--latency-ms MS] [--backend sqlite|postgres|both] [--sandbox-url URL]`
//!
//! Defaults: 10,000 companies, 100,000 contacts, 10,000 tickets, no latency, both backends.
//! With `--sandbox-url`, the sandbox already runs in its own process (`server sandbox`,
//! see `scripts/bench-memory.sh`) and this process's memory is the engine's alone.

use std::time::{Duration, Instant};

use app::domain::{RunRequest, RunTrigger, SyncObject, WalkKind};
use app::sync::Outcome;
use sandbox::{Sandbox, SandboxConfig};

fn rss_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

struct Args {
    companies: usize,
    contacts: usize,
    tickets: usize,
    latency: Duration,
    backends: Vec<&'static str>,
    sandbox_url: Option<String>,
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
        companies: number("--companies", 10_000),
        contacts: number("--contacts", 100_000),
        tickets: number("--tickets", 10_000),
        latency: Duration::from_millis(number("--latency-ms", 0) as u64),
        backends,
        sandbox_url: value("--sandbox-url"),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args();
    let seeding = Instant::now();
    let config = SandboxConfig {
        companies: args.companies,
        contacts: args.contacts,
        tickets: args.tickets,
        latency: args.latency,
        ..SandboxConfig::default()
    };
    // Kept alive to the end: dropping it stops the sandbox.
    let in_process;
    let base_url = match &args.sandbox_url {
        Some(url) => {
            println!("sandbox: its own process at {url}");
            url.trim_end_matches('/').to_string()
        }
        None => {
            let sandbox = Sandbox::spawn(config).await?;
            let live_contacts = sandbox.sandbox.contact_ids().len();
            println!(
                "sandbox: {} companies, {} contacts ({live_contacts} live), {} tickets seeded in {:.1?}; latency {:?} per call",
                args.companies,
                args.contacts,
                args.tickets,
                seeding.elapsed(),
                args.latency
            );
            in_process = sandbox;
            in_process.base_url.clone()
        }
    };

    for backend in &args.backends {
        let sqlite = skalin_tests::fresh_sqlite();
        let postgres = match *backend {
            "postgres" => match skalin_tests::fresh_postgres("sync_full bench").await {
                Some(db) => Some(db),
                None => continue,
            },
            _ => None,
        };
        let url = postgres.as_ref().map_or(sqlite.url.clone(), |db| db.url.clone());
        let store = skalin_tests::test_store(&url).await;
        let engine = skalin_tests::bench::connected_engine(store.clone(), &base_url).await?;

        println!("\n== {backend} ==");
        let baseline = rss_mib("VmRSS:");
        let mut total_records = 0u64;
        let mut total_calls = 0u64;
        let mut total_minimum = 0u64;
        let mut total_time = Duration::ZERO;
        for object in SyncObject::ALL {
            let request = RunRequest { objects: vec![object], walk: Some(WalkKind::Full), dry_run: false };
            let (id, _) = engine.start(request, RunTrigger::CommandLine, "bench").await?;
            let started = Instant::now();
            let outcome = engine.run_once().await?;
            let elapsed = started.elapsed();
            anyhow::ensure!(outcome == Outcome::Worked(id), "the run was not worked: {outcome:?}");
            let run = store.sync_run(id).await?.expect("the run");
            let report = &run.objects[0];
            let records = report.done;
            // Pages of 100 (scroll, plus its empty last page) or 150 (lists and searches).
            let minimum = match object {
                SyncObject::Customers => records.div_ceil(100) + 1,
                _ => records.div_ceil(150).max(1),
            };
            println!(
                "{:<13} {records:>7} records in {elapsed:>9.2?} = {:>7.0} records/s; {} calls (minimum {minimum}, ratio {:.3}); {:?}, {} created, {} failed",
                object.label(),
                records as f64 / elapsed.as_secs_f64(),
                run.calls,
                run.calls as f64 / minimum as f64,
                run.status,
                report.counts.created,
                report.counts.failed
            );
            total_records += records;
            total_calls += run.calls;
            total_minimum += minimum;
            total_time += elapsed;
        }
        println!(
            "all           {total_records:>7} records in {total_time:>9.2?} = {:>7.0} records/s end to end; {total_calls} calls (minimum {total_minimum}, ratio {:.3})",
            total_records as f64 / total_time.as_secs_f64(),
            total_calls as f64 / total_minimum as f64
        );
        let whose = if args.sandbox_url.is_some() { "the engine alone" } else { "sandbox included" };
        println!(
            "memory: peak RSS {:.0} MiB for the whole process ({whose}); RSS before the sync {baseline:.0} MiB, now {:.0} MiB",
            rss_mib("VmHWM:"),
            rss_mib("VmRSS:")
        );
        drop(engine);
        drop(store);
        if let Some(db) = postgres {
            skalin_tests::drop_postgres(db).await;
        }
    }
    Ok(())
}
