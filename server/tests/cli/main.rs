//! The `server` binary as people run it.

mod production;
mod realtime;
mod sync;
mod workspaces;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn server() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command.env_remove("DATABASE_URL").env("RUST_LOG", "warn");
    command
}

/// Starts the binary and returns it with the first stdout line that contains `marker`.
fn start_and_read(mut command: Command, marker: &str) -> (Running, String) {
    let child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("start the server binary");
    read_line(child, marker)
}

/// Keeps a started binary and returns the first stdout line that contains `marker`.
fn read_line(mut child: Child, marker: &str) -> (Running, String) {
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let (tx, rx) = std::sync::mpsc::channel();
    let marker = marker.to_string();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains(&marker) {
                let _ = tx.send(line);
            }
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(60)).expect("the expected line on stdout");
    (running, line)
}

fn url_in(line: &str) -> String {
    line.split_whitespace().find(|w| w.starts_with("http://")).expect("a URL").trim_end_matches(',').to_string()
}

/// A call to a sandbox Intercom with its always-valid token.
async fn sandbox_get(url: &str) -> serde_json::Value {
    let response = reqwest::Client::new().get(url).bearer_auth("sandbox-token").send().await.unwrap();
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_sandbox_command_serves_a_workspace_on_the_port_it_prints() {
    let mut command = server();
    command.args(["sandbox", "--port", "0", "--companies", "12", "--contacts", "30", "--tickets", "3"]);
    let (_running, line) = start_and_read(command, "Sandbox Intercom at");
    let url = url_in(&line);
    let me = sandbox_get(&format!("{url}/me")).await;
    assert_eq!(me["type"], "admin");
}

#[tokio::test]
async fn a_sandbox_in_its_own_process_injects_the_faults_it_is_told_to() {
    let mut command = server();
    command.args(["sandbox", "--port", "0", "--companies", "3", "--contacts", "5", "--tickets", "0"]);
    command.args(["--fault-rate", "1", "--fault-statuses", "503"]);
    let (_running, line) = start_and_read(command, "Sandbox Intercom at");
    let url = url_in(&line);
    let client = reqwest::Client::new();
    for _ in 0..5 {
        let response = client.get(format!("{url}/me")).bearer_auth("sandbox-token").send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    }
}

#[tokio::test]
async fn the_sandbox_serves_several_intercom_workspaces_each_behind_its_own_token() {
    let mut command = server();
    command.args([
        "sandbox",
        "--port",
        "0",
        "--workspaces",
        "3",
        "--companies",
        "4",
        "--contacts",
        "6",
        "--tickets",
        "1",
    ]);
    let (_sandbox, line) = start_and_read(command, "Sandbox Intercom at");
    let url = url_in(&line);
    let client = reqwest::Client::new();
    let mut apps = std::collections::BTreeSet::new();
    for token in ["sandbox-token", "sandbox-token-2", "sandbox-token-3"] {
        let me: serde_json::Value =
            client.get(format!("{url}/me")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
        apps.insert(me["app"]["id_code"].as_str().expect("an app id").to_string());
    }
    assert_eq!(apps.len(), 3, "three workspaces, three app ids: {apps:?}");
    let unknown = client.get(format!("{url}/me")).bearer_auth("sandbox-token-4").send().await.unwrap();
    assert_eq!(unknown.status(), reqwest::StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn serving_without_intercom_credentials_brings_two_demo_workspaces_one_connected_and_synced() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    let mut command = server();
    command.current_dir(dir.path()).args(["serve", "--addr", "127.0.0.1:0", "--demo", "--database-url", &db]);
    let child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("start the server binary");
    let (_running, lines) = read_until(child, "Press Ctrl-C");
    let printed = lines.join("\n");
    for account in [
        "admin@demo.skalin.io  /  skalin-demo-admin: admin of acme",
        "member@demo.skalin.io  /  skalin-demo-member: member of acme",
        "globex-admin@demo.skalin.io  /  skalin-demo-admin: admin of globex",
        "globex-member@demo.skalin.io  /  skalin-demo-member: member of globex",
        "both@demo.skalin.io  /  skalin-demo-both: member of acme, admin of globex",
    ] {
        assert!(printed.contains(account), "{account} is not printed:\n{printed}");
    }
    let intercom = url_in(lines.iter().find(|l| l.starts_with("Intercom: ")).expect("the sandbox's address"));
    let companies = sandbox_get(&format!("{intercom}/companies?per_page=5")).await;
    assert!(companies["total_count"].as_u64().unwrap_or(0) >= 100, "{companies}");

    let list = server().current_dir(dir.path()).args(["--database-url", &db, "workspace", "list"]).output().unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.contains("acme\tAcme (demo)\tIntercom ") && !list.contains("acme\tAcme (demo)\tIntercom not"),
        "{list}"
    );
    assert!(list.contains("globex\tGlobex (demo)\tIntercom not connected"), "{list}");

    // The connected one is synced at start: its pages have data to look at.
    let directory = app::store::open(&db).await.unwrap().directory;
    let acme = directory.workspace_by_slug("acme").await.unwrap().expect("the demo workspace");
    let page = app::domain::PageRequest::new(Some(1), Some(1));
    let mut customers = 0;
    for _ in 0..300 {
        customers = directory.store(acme.id).list_customers(page).await.unwrap().total;
        if customers >= 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(customers >= 100, "the demo's first sync brought {customers} customers");
}

/// Keeps a started binary and returns its stdout lines up to the first containing `marker`.
fn read_until(mut child: Child, marker: &str) -> (Running, Vec<String>) {
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let (tx, rx) = std::sync::mpsc::channel();
    let marker = marker.to_string();
    std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let done = line.contains(&marker);
            lines.push(line);
            if done {
                let _ = tx.send(std::mem::take(&mut lines));
            }
        }
    });
    let lines = rx.recv_timeout(Duration::from_secs(60)).expect("the expected line on stdout");
    (running, lines)
}

#[test]
fn a_bad_setting_stops_start_up_with_a_message_naming_it() {
    let output = server().args(["serve", "--secret-key", "too-short"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--secret-key") && stderr.contains("64 hexadecimal"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_database_that_cannot_be_opened_is_named_without_a_panic() {
    let output = server()
        .args([
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
            "user",
            "add",
            "--workspace",
            "acme",
            "--email",
            "a@b.co",
            "--role",
            "admin",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DATABASE_URL") && !stderr.contains("panicked"), "{stderr}");
}

#[test]
fn people_are_added_to_workspaces_from_the_command_line_with_a_generated_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("users.db").display());
    let run = |args: &[&str]| {
        let output = server().args(["--database-url", &db]).args(args).output().unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (output.status.success(), text(&output.stdout), text(&output.stderr))
    };
    let (ok, stdout, stderr) =
        run(&["user", "add", "--workspace", "acme", "--email", "ada@example.com", "--role", "admin"]);
    assert!(!ok && stderr.contains("no workspace `acme`") && stdout.is_empty(), "{stderr}");

    let (ok, stdout, _) = run(&["workspace", "add", "--name", "Acme Corp"]);
    assert!(ok && stdout.contains("slug: acme-corp"), "{stdout}");
    let (ok, stdout, _) = run(&["workspace", "add", "--name", "Globex", "--slug", "globex"]);
    assert!(ok && stdout.contains("slug: globex"), "{stdout}");
    let (ok, _, stderr) = run(&["workspace", "add", "--name", "Acme Corp"]);
    assert!(!ok && stderr.contains("already exists"), "{stderr}");

    let (ok, stdout, stderr) =
        run(&["user", "add", "--workspace", "acme-corp", "--email", "Ada@Example.com", "--role", "admin"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("Added ada@example.com to acme-corp as admin") && stdout.contains("Password: "),
        "{stdout}"
    );
    let (ok, stdout, stderr) =
        run(&["user", "add", "--workspace", "globex", "--email", "ada@example.com", "--role", "member"]);
    assert!(ok && stdout.contains("to globex as member") && !stdout.contains("Password"), "{stdout}{stderr}");

    let (ok, _, stderr) = run(&["user", "add", "--workspace", "nope", "--email", "bob@example.com", "--role", "admin"]);
    assert!(!ok && stderr.contains("no workspace `nope`") && stderr.contains("acme-corp, globex"), "{stderr}");
    let (ok, _, stderr) = run(&["user", "add", "--email", "bob@example.com", "--role", "admin"]);
    assert!(!ok && stderr.contains("--workspace"), "a missing workspace is never a default: {stderr}");

    let (ok, stdout, _) = run(&["workspace", "list"]);
    assert!(
        ok && stdout.contains("acme-corp\tAcme Corp\tIntercom not connected") && stdout.contains("globex"),
        "{stdout}"
    );
}

/// Runs a command against the database in `dir` and a sandbox at `sandbox`; returns
/// (success, stdout, stderr).
fn run_with(dir: &std::path::Path, sandbox: &str, args: &[&str]) -> (bool, String, String) {
    let (code, stdout, stderr) = exit_of(dir, sandbox, args);
    (code == 0, stdout, stderr)
}

/// `run_with`, answering the exit code (-1 for a process ended by a signal).
fn exit_of(dir: &std::path::Path, sandbox: &str, args: &[&str]) -> (i32, String, String) {
    let db = format!("sqlite://{}", dir.join("cli.db").display());
    // Every command acts on a named workspace: the first call makes it.
    let made = server().current_dir(dir).args(["--database-url", &db, "workspace", "add", "--name", "Acme"]).output();
    assert!(made.is_ok());
    let key = "cd".repeat(32);
    let mut command = server();
    command.current_dir(dir).args(["--database-url", &db]).args(args).args(["--workspace", "acme"]);
    command.args(["--intercom-base-url", sandbox, "--secret-key", &key]);
    let output = command.output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

#[tokio::test]
async fn an_access_token_connects_from_the_command_line_and_settings_go_out_and_back_in() {
    let mut command = server();
    command.args(["sandbox", "--port", "0", "--companies", "12", "--contacts", "30", "--tickets", "3"]);
    let (_sandbox, line) = start_and_read(command, "Sandbox Intercom at");
    let sandbox = url_in(&line);
    let dir = tempfile::tempdir().unwrap();

    let (ok, _, stderr) = run_with(dir.path(), &sandbox, &["connect", "--access-token", "not-a-token", "--zone", "eu"]);
    assert!(!ok && stderr.contains("refused this access token") && !stderr.contains("panicked"), "{stderr}");

    let (ok, stdout, stderr) =
        run_with(dir.path(), &sandbox, &["connect", "--access-token", "sandbox-token", "--zone", "eu"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("Connected Intercom workspace") && stdout.contains("app id"), "{stdout}");

    let exported = dir.path().join("settings.json");
    let (ok, _, stderr) =
        run_with(dir.path(), &sandbox, &["settings", "export", "--output", exported.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&exported).unwrap()).unwrap();
    assert_eq!(json["format"], "skalin.intercom.settings/v1");

    json["settings"]["customers"]["stage_field"] = "custom_attributes.Tier".into();
    std::fs::write(&exported, json.to_string()).unwrap();
    let (ok, stdout, stderr) = run_with(dir.path(), &sandbox, &["settings", "import", exported.to_str().unwrap()]);
    assert!(ok && stdout.contains("Imported and saved"), "{stdout}{stderr}");
    let (_, again, _) = run_with(dir.path(), &sandbox, &["settings", "export"]);
    assert!(again.contains("custom_attributes.Tier"), "{again}");

    json["settings"]["customers"]["stage_field"] = "custom_attributes.Nope".into();
    std::fs::write(&exported, json.to_string()).unwrap();
    let (ok, _, stderr) = run_with(dir.path(), &sandbox, &["settings", "import", exported.to_str().unwrap()]);
    assert!(!ok && stderr.contains("customers.stage_field") && stderr.contains("Nope"), "{stderr}");
    let (_, after, _) = run_with(dir.path(), &sandbox, &["settings", "export"]);
    assert!(after.contains("custom_attributes.Tier"), "a refused import changed the settings: {after}");
}
