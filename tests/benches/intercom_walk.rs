//! Walks 100,000 contacts and 10,000 companies from the in-process sandbox Intercom and
//! prints records per second, calls made against the minimum, and peak memory.
//!
//! `cargo bench -p skalin-tests --bench intercom_walk [-- CONTACTS COMPANIES]`

use std::time::Instant;

use app::intercom::IntercomClient;
use futures::TryStreamExt;
use sandbox::{Sandbox, SandboxConfig, SANDBOX_TOKEN};
use secrecy::SecretString;

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let contacts = args.first().copied().unwrap_or(100_000);
    let companies = args.get(1).copied().unwrap_or(10_000);

    let seeding = Instant::now();
    let sandbox = Sandbox::spawn(SandboxConfig { companies, contacts, tickets: 0, ..SandboxConfig::default() }).await?;
    sandbox.sandbox.set_scroll_includes_companies_without_users(true);
    println!(
        "sandbox: {contacts} contacts, {companies} companies seeded in {:.2?}; peak RSS so far {:.0} MiB",
        seeding.elapsed(),
        peak_rss_mib()
    );

    let client = IntercomClient::with_base_url(&sandbox.base_url, SecretString::from(SANDBOX_TOKEN))?;

    let started = Instant::now();
    let walked: usize = client.contacts().try_fold(0usize, |n, _| async move { Ok(n + 1) }).await?;
    let elapsed = started.elapsed();
    let calls = client.stats().calls;
    let minimum = (walked as u64).div_ceil(150);
    println!(
        "contacts:  {walked} in {elapsed:.2?} = {:.0} records/s; {calls} calls (minimum {minimum}, ratio {:.3})",
        walked as f64 / elapsed.as_secs_f64(),
        calls as f64 / minimum.max(1) as f64
    );

    let before = client.stats().calls;
    let started = Instant::now();
    let walked: usize = client.scroll_companies().try_fold(0usize, |n, _| async move { Ok(n + 1) }).await?;
    let elapsed = started.elapsed();
    let calls = client.stats().calls - before;
    // The scroll ends with one empty page after the last partial one.
    let minimum = (walked as u64).div_ceil(100);
    println!(
        "companies: {walked} in {elapsed:.2?} = {:.0} records/s; {calls} calls (minimum {minimum}, ratio {:.3})",
        walked as f64 / elapsed.as_secs_f64(),
        calls as f64 / minimum.max(1) as f64
    );
    println!("peak memory (RSS high-water mark, sandbox included): {:.0} MiB", peak_rss_mib());
    Ok(())
}
