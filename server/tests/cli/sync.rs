//! `server sync`: runs from the terminal, how they exit, and a run taken over after its
//! process was killed.

use std::process::Stdio;
use std::time::Duration;

use sandbox::{Sandbox, SandboxConfig};

use super::{exit_of, run_with, sandbox_get, server, start_and_read, url_in};

/// Connects the database in `dir` to the sandbox and maps customers by `company_id`.
fn connect_and_map(dir: &std::path::Path, sandbox: &str) {
    connect_and_set(dir, sandbox, |_| {});
}

/// `connect_and_map`, with more settings changed by `edit` (on the exported JSON).
fn connect_and_set(dir: &std::path::Path, sandbox: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let (ok, _, stderr) = run_with(dir, sandbox, &["connect", "--access-token", "sandbox-token", "--zone", "us"]);
    assert!(ok, "{stderr}");
    let exported = dir.join("settings.json");
    let (ok, _, stderr) = run_with(dir, sandbox, &["settings", "export", "--output", exported.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&exported).unwrap()).unwrap();
    json["settings"]["customers"]["id_field"] = "company_id".into();
    edit(&mut json);
    std::fs::write(&exported, json.to_string()).unwrap();
    let (ok, _, stderr) = run_with(dir, sandbox, &["settings", "import", exported.to_str().unwrap()]);
    assert!(ok, "{stderr}");
}

fn line_of<'a>(summary: &'a str, object: &str) -> &'a str {
    summary
        .lines()
        .find(|l| l.trim_start().starts_with(object))
        .unwrap_or_else(|| panic!("no {object} line in {summary}"))
}

#[tokio::test]
async fn a_sync_runs_from_the_command_line_and_ends_with_its_summary() {
    let mut command = server();
    command.args(["sandbox", "--port", "0", "--companies", "12", "--contacts", "40", "--tickets", "4"]);
    let (_sandbox, line) = start_and_read(command, "Sandbox Intercom at");
    let sandbox = url_in(&line);
    let dir = tempfile::tempdir().unwrap();
    connect_and_map(dir.path(), &sandbox);

    let (ok, stdout, stderr) = run_with(dir.path(), &sandbox, &["sync", "--object", "customers", "--dry-run"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("Run #1: Success") && stdout.contains("dry run"), "{stdout}");
    assert!(line_of(&stdout, "Customers").contains("created 12"), "{stdout}");

    let (code, stdout, stderr) = exit_of(dir.path(), &sandbox, &["sync"]);
    assert_eq!(code, 0, "a run that succeeds exits with 0: {stderr}");
    assert!(stdout.contains("Run #2: Success"), "{stdout}");
    assert!(line_of(&stdout, "Customers").contains("created 12"), "{stdout}");
    assert!(
        line_of(&stdout, "Contacts").contains("created 40") || line_of(&stdout, "Contacts").contains("created 3"),
        "{stdout}"
    );

    let (ok, stdout, _) = run_with(dir.path(), &sandbox, &["sync", "--object", "customers"]);
    assert!(ok && line_of(&stdout, "Customers").contains("created 0, updated 0, unchanged 12"), "{stdout}");

    let (code, _, stderr) = exit_of(dir.path(), &sandbox, &["sync", "--object", "deals"]);
    assert_eq!(code, 2, "a usage error exits with 2: {stderr}");
    assert!(stderr.contains("deals") && stderr.contains("customers, contacts or interactions"), "{stderr}");
}

#[test]
fn a_run_queued_from_the_command_line_waits_for_a_worker_and_the_next_sync_follows_it() {
    let mut command = server();
    command.args(["sandbox", "--port", "0", "--companies", "5", "--contacts", "8", "--tickets", "1"]);
    let (_sandbox, line) = start_and_read(command, "Sandbox Intercom at");
    let sandbox = url_in(&line);
    let dir = tempfile::tempdir().unwrap();
    connect_and_map(dir.path(), &sandbox);

    let (code, stdout, stderr) = exit_of(dir.path(), &sandbox, &["sync", "--queue"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Queued run #1 in acme"), "{stdout}");
    let (_, stdout, _) = exit_of(dir.path(), &sandbox, &["sync", "--queue"]);
    assert!(stdout.contains("Run #1 is already queued or running"), "{stdout}");

    let (code, stdout, stderr) = exit_of(dir.path(), &sandbox, &["sync"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("Run #1 is already going; following it.") && stdout.contains("Run #1: Success"),
        "{stdout}"
    );
}

#[test]
fn the_sync_help_lists_its_exit_codes() {
    let output = server().args(["sync", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{help}");
    for line in ["0  the run succeeded", "3  the run ended partial", "4  the run failed", "5  the run waits for"] {
        assert!(help.contains(line), "no `{line}` in {help}");
    }
}

#[test]
fn a_sync_without_intercom_connected_exits_with_1_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = exit_of(dir.path(), "http://127.0.0.1:9", &["sync"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("not connected") && !stderr.contains("panicked"), "{stderr}");
}

/// A sandbox in this process, so that a test can break it between runs. The tests that
/// use it run on a multi-threaded runtime: their blocking waits for the binary must not
/// stop the sandbox from answering it.
async fn sandbox_here(companies: usize) -> sandbox::RunningSandbox {
    let config = SandboxConfig { companies, contacts: 40, tickets: 4, ..SandboxConfig::default() };
    Sandbox::spawn(config).await.expect("start a sandbox")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_that_ends_partial_exits_with_3_and_prints_its_summary() {
    let intercom = sandbox_here(250).await;
    let dir = tempfile::tempdir().unwrap();
    connect_and_map(dir.path(), &intercom.base_url);
    // The company scroll can never finish; contacts and tickets can.
    intercom.sandbox.fail_scrolls_after_pages(1, 1_000_000);

    let (code, stdout, stderr) = exit_of(dir.path(), &intercom.base_url, &["sync", "--scroll-restart-budget", "1"]);
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(stdout.contains("Run #1: Partial"), "{stdout}");
    assert!(line_of(&stdout, "Customers").contains("failed (full)"), "{stdout}");
    assert!(line_of(&stdout, "Contacts").contains("done ("), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_that_fails_exits_with_4_and_prints_its_summary() {
    let intercom = sandbox_here(12).await;
    let dir = tempfile::tempdir().unwrap();
    connect_and_map(dir.path(), &intercom.base_url);
    intercom.sandbox.revoke_tokens();

    let (code, stdout, stderr) = exit_of(dir.path(), &intercom.base_url, &["sync"]);
    assert_eq!(code, 4, "{stdout}{stderr}");
    assert!(stdout.contains("Run #1: Failed") && stdout.contains("reconnect"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_that_holds_churn_back_exits_with_5_until_an_admin_confirms_it() {
    let intercom = sandbox_here(12).await;
    let dir = tempfile::tempdir().unwrap();
    connect_and_set(dir.path(), &intercom.base_url, |json| {
        json["settings"]["customers"]["churn_enabled"] = true.into();
    });
    let (code, _, stderr) = exit_of(dir.path(), &intercom.base_url, &["sync"]);
    assert_eq!(code, 0, "{stderr}");
    // A quarter of the companies, over the default 10 % threshold.
    for id in intercom.sandbox.company_ids().into_iter().take(3) {
        assert!(intercom.sandbox.delete_company(&id));
    }

    let (code, stdout, stderr) = exit_of(dir.path(), &intercom.base_url, &["sync"]);
    assert_eq!(code, 5, "{stdout}{stderr}");
    assert!(stdout.contains("Run #2: Waiting for confirmation"), "{stdout}");
    assert!(stdout.contains("server sync --confirm-churn 2"), "{stdout}");

    let (code, stdout, stderr) = exit_of(dir.path(), &intercom.base_url, &["sync", "--confirm-churn", "2"]);
    assert_eq!(code, 0, "the confirmed run succeeded: {stdout}{stderr}");
    assert!(line_of(&stdout, "Customers").contains("churned 3"), "{stdout}");
}

#[tokio::test]
async fn a_sync_killed_midway_is_taken_over_by_the_next_one_and_ends_complete() {
    let mut command = server();
    command.args([
        "sandbox",
        "--port",
        "0",
        "--companies",
        "40",
        "--contacts",
        "3000",
        "--tickets",
        "10",
        "--latency-ms",
        "100",
    ]);
    let (_sandbox, line) = start_and_read(command, "Sandbox Intercom at");
    let sandbox = url_in(&line);
    let dir = tempfile::tempdir().unwrap();
    connect_and_map(dir.path(), &sandbox);

    let db = format!("sqlite://{}", dir.path().join("cli.db").display());
    let key = "cd".repeat(32);
    let mut first = server()
        .current_dir(dir.path())
        .args([
            "--database-url",
            &db,
            "sync",
            "--workspace",
            "acme",
            "--intercom-base-url",
            &sandbox,
            "--secret-key",
            &key,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once some contacts are in: mid-walk, with a checkpoint behind it.
    let directory = app::store::open(&db).await.unwrap().directory;
    let acme = directory.workspace_by_slug("acme").await.unwrap().expect("the workspace");
    let store = directory.store(acme.id);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let run = store.sync_run(1).await.unwrap();
        let contacts = run
            .as_ref()
            .and_then(|r| r.objects.iter().find(|o| o.object == app::domain::SyncObject::Contacts))
            .map_or(0, |o| o.done);
        if contacts >= 300 {
            assert!(run.unwrap().status.is_active(), "the run ended before it could be killed");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the first sync never got to the contacts");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill().expect("kill the first sync");
    let _ = first.wait();

    // The first process is gone from this host: its run is taken over at once, long
    // before its heartbeat is 60 s old.
    let started = std::time::Instant::now();
    let (ok, stdout, stderr) = run_with(dir.path(), &sandbox, &["sync"]);
    assert!(ok, "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(45), "taken over after {:?}", started.elapsed());
    assert!(stderr.contains("Run #1 is already going"), "the killed run is the one finished: {stderr}");
    assert!(stdout.contains("Run #1: Success"), "{stdout}");

    let listed = sandbox_get(&format!("{sandbox}/contacts?per_page=1")).await;
    let in_intercom = listed["total_count"].as_u64().unwrap();
    let in_skalin = store.list_contacts(app::domain::PageRequest::new(Some(1), Some(1))).await.unwrap().total;
    assert_eq!(in_skalin, in_intercom, "every contact once, none lost, none twice");
    assert!(
        line_of(&stdout, "Contacts").contains(&format!("created {in_intercom}")),
        "each contact counted once: {stdout}"
    );
}
