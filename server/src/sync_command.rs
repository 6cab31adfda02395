//! `server sync`: one run from the terminal, a progress bar while it goes, its summary
//! at the end. The run is the same as *Sync now*'s and shows in the history.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::Context;
use app::domain::{format_timestamp, RunDetail, RunRequest, RunStatus, RunTrigger, SyncRun, WalkKind};
use app::store::Database;
use app::sync::{EngineConfig, Outcome, SyncEngine};

use crate::commands::{command_line_user, integration, workspace};
use crate::config::SyncArgs;

/// What `server sync --help` says about how it exits; `exit_code` is the same table.
pub const EXIT_CODES: &str = "\
Exit status (for cron jobs and CI steps; the summary is on stdout in every case):
  0  the run succeeded
  1  the command could not run: settings, database, Intercom not connected...
  2  usage error: an unknown flag or a bad value
  3  the run ended partial: some objects or records failed, the rest was written
  4  the run failed
  5  the run waits for an admin to confirm churn (server sync --confirm-churn RUN)
--confirm-churn exits the same way for the run it confirms; --queue exits 0 once the run is queued.";

/// The exit status of a run `server sync` saw end (or confirmed), as `EXIT_CODES` says.
pub fn exit_code(status: RunStatus) -> u8 {
    match status {
        RunStatus::Success => 0,
        RunStatus::Partial => 3,
        RunStatus::Failed => 4,
        RunStatus::AwaitingConfirmation => 5,
        // The command answers only once the run has ended: one still going means it could
        // not follow the run to its end.
        RunStatus::Queued | RunStatus::Running => 1,
    }
}

/// Runs (or follows, or confirms) a run; answers the status it ended with.
pub async fn run(database: &Database, args: SyncArgs) -> anyhow::Result<RunStatus> {
    let workspace = workspace(database.directory.as_ref(), &args.workspace.slug).await?;
    let store = database.directory.store(workspace.id);
    let integration = integration(database, &workspace.slug, &args.intercom).await?;
    let stale_after = Duration::from_secs(args.takeover_after);
    let config = EngineConfig {
        worker: app::sync::worker_id("cli"),
        stale_after,
        heartbeat_every: (stale_after / 6).max(Duration::from_secs(1)),
        scroll: app::intercom::ScrollOptions {
            restart_budget: Duration::from_secs(args.scroll_restart_budget),
            ..app::intercom::ScrollOptions::default()
        },
        ..EngineConfig::default()
    };
    let engine = SyncEngine::new(store, integration, config);
    let who = command_line_user();

    if let Some(run_id) = args.confirm_churn {
        let run = engine.confirm_churn(run_id, &who).await.map_err(explain)?;
        let status = run.status;
        println!("{}", summary(&RunDetail { run, failures: vec![] }));
        return Ok(status);
    }

    let walk = if args.full {
        Some(WalkKind::Full)
    } else if args.incremental {
        Some(WalkKind::Incremental)
    } else {
        None
    };
    let request = RunRequest { objects: args.objects.clone(), walk, dry_run: args.dry_run };
    let (id, new) = engine.start(request, RunTrigger::CommandLine, &who).await.map_err(explain)?;
    if args.queue {
        match new {
            true => println!("Queued run #{id} in {}: the servers' sync workers will run it.", workspace.slug),
            false => println!("Run #{id} is already queued or running in {}.", workspace.slug),
        }
        return Ok(RunStatus::Queued);
    }
    if !new {
        eprintln!("Run #{id} is already going; following it.");
    }

    let follow = follow(&engine, id);
    let work = async {
        // Works the run unless a live worker (a web server's) has it, and takes it over
        // if that worker stops beating.
        loop {
            match engine.run_once().await.map_err(explain)? {
                Outcome::Worked(worked) if worked == id => return anyhow::Ok(()),
                Outcome::Worked(_) => continue,
                Outcome::Idle => {
                    let run = engine.run_detail(id).await.map_err(explain)?.run;
                    if !run.status.is_active() {
                        return anyhow::Ok(());
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    };
    let (worked, detail) = tokio::join!(work, follow);
    worked?;
    let detail = detail?;
    println!("{}", summary(&detail));
    Ok(detail.run.status)
}

fn explain(err: app::sync::SyncError) -> anyhow::Error {
    anyhow::anyhow!(app::error::AppError::from(err).to_string())
}

/// Draws the progress until the run ends; answers the finished run.
async fn follow(engine: &SyncEngine, id: i64) -> anyhow::Result<RunDetail> {
    let terminal = std::io::stderr().is_terminal();
    let mut last_line = std::time::Instant::now();
    loop {
        let detail = engine.run_detail(id).await.map_err(explain).context("could not read the run")?;
        let run = &detail.run;
        if !run.status.is_active() {
            if terminal {
                eprint!("\r{}\r", " ".repeat(100));
            }
            return Ok(detail);
        }
        if terminal {
            eprint!("\r{:<100}", progress_line(run));
            let _ = std::io::stderr().flush();
        } else if last_line.elapsed() >= Duration::from_secs(5) {
            eprintln!("{}", progress_line(run));
            last_line = std::time::Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(if terminal { 200 } else { 500 })).await;
    }
}

/// `[#######.......]  4,200 / 10,300 records · 57 calls · 0 waits`
pub fn progress_line(run: &SyncRun) -> String {
    let done = run.done();
    let bar = match run.expected() {
        Some(expected) if expected > 0 => {
            let filled = ((done.min(expected) * 30) / expected) as usize;
            format!("[{}{}] {done} / {expected} records", "#".repeat(filled), ".".repeat(30 - filled))
        }
        _ => format!("[{}] {done} records", run.status.label()),
    };
    format!("{bar} · {} calls · {} waits for the rate limit", run.calls, run.rate_limit_waits)
}

/// The run as the history page shows it, in plain text.
pub fn summary(detail: &RunDetail) -> String {
    let run = &detail.run;
    let mut out = String::new();
    let duration = run.duration(app::store::now()).map(|d| format!(" in {d} s")).unwrap_or_default();
    let dry = if run.dry_run { " (dry run: nothing was written)" } else { "" };
    out.push_str(&format!(
        "Run #{}: {}{duration}{dry}, {} calls to Intercom, {} waits for the rate limit\n",
        run.id,
        run.status.label(),
        run.calls,
        run.rate_limit_waits
    ));
    for o in &run.objects {
        let c = o.counts;
        out.push_str(&format!(
            "  {:<13} {:<22} created {}, updated {}, unchanged {}, churned {}, failed {}\n",
            o.object.label(),
            format!("{} ({})", o.status.as_str(), o.walk.as_str()),
            c.created,
            c.updated,
            c.unchanged,
            c.churned,
            c.failed
        ));
        if let Some(message) = &o.message {
            out.push_str(&format!("      {message}\n"));
        }
        if !o.churn.is_empty() {
            let verb = if run.dry_run { "would churn" } else { "waiting to churn" };
            out.push_str(&format!("      {verb} {} customers:\n", o.churn.len()));
            for entry in o.churn.iter().take(20) {
                out.push_str(&format!("        {} ({})\n", entry.name, entry.external_id));
            }
            if run.status == RunStatus::AwaitingConfirmation {
                out.push_str(&format!("      Confirm with: server sync --confirm-churn {}\n", run.id));
            }
        }
    }
    if let Some(message) = &run.message {
        out.push_str(&format!("  {message}\n"));
    }
    for f in detail.failures.iter().take(20) {
        let request = f.request_id.as_deref().map(|r| format!(" (request {r})")).unwrap_or_default();
        out.push_str(&format!(
            "  failed {} {} at {}: {}{request}\n",
            f.object.as_str(),
            f.intercom_id,
            format_timestamp(f.failed_at),
            f.message
        ));
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_way_a_run_ends_exits_with_its_own_code() {
        let table = [
            (RunStatus::Success, 0),
            (RunStatus::Partial, 3),
            (RunStatus::Failed, 4),
            (RunStatus::AwaitingConfirmation, 5),
            (RunStatus::Queued, 1),
            (RunStatus::Running, 1),
        ];
        for (status, code) in table {
            assert_eq!(exit_code(status), code, "{status:?}");
        }
    }

    #[test]
    fn the_help_lists_the_code_of_each_way_a_run_ends() {
        for status in [RunStatus::Success, RunStatus::Partial, RunStatus::Failed, RunStatus::AwaitingConfirmation] {
            let code = exit_code(status);
            assert!(EXIT_CODES.lines().any(|l| l.starts_with(&format!("  {code}  "))), "{status:?}: {EXIT_CODES}");
        }
    }
}
