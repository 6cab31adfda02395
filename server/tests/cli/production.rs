//! A production start refuses what only a demo may do, and keeps secrets out of what it
//! prints.

use std::process::{Command, Stdio};
use std::time::Duration;

use super::{server, url_in};

/// `server` with none of the production settings from the environment.
fn bare_server(dir: &std::path::Path) -> Command {
    let mut command = server();
    for name in ["SECRET_KEY", "INTERCOM_CLIENT_ID", "INTERCOM_CLIENT_SECRET", "INTERCOM_BASE_URL"] {
        command.env_remove(name);
    }
    command.current_dir(dir).args(["--database-url", "sqlite://prod.db"]);
    command
}

#[test]
fn serving_without_a_secret_key_stops_and_names_the_setting_leaving_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let output = bare_server(dir.path())
        .args(["serve", "--addr", "127.0.0.1:0", "--intercom-base-url", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SECRET_KEY (--secret-key)") && stderr.contains("openssl rand -hex 32"), "{stderr}");
    assert!(!dir.path().join("data/secret.key").exists(), "no key was made up");
    assert!(!dir.path().join("prod.db").exists(), "no database was created");
}

#[test]
fn serving_without_an_intercom_stops_instead_of_starting_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let key = "ef".repeat(32);
    let output =
        bare_server(dir.path()).args(["serve", "--addr", "127.0.0.1:0", "--secret-key", &key]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("INTERCOM_CLIENT_ID") && stderr.contains("only with --demo"), "{stderr}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("Sandbox"), "no sandbox started");
}

#[test]
fn a_database_password_is_not_printed_when_the_database_cannot_be_opened() {
    let output = server()
        .args([
            "--database-url",
            "postgres://skalin:pa55word-42@127.0.0.1:1/none",
            "user",
            "add",
            "--workspace",
            "acme",
        ])
        .args(["--email", "a@b.co", "--role", "admin"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DATABASE_URL") && stderr.contains("127.0.0.1:1"), "{stderr}");
    assert!(!stderr.contains("pa55word-42"), "{stderr}");
}

#[tokio::test]
async fn the_oauth_code_never_reaches_the_request_logs() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let mut command = bare_server(dir.path());
    command.env("RUST_LOG", "debug").args(["serve", "--addr", "127.0.0.1:0", "--demo"]);
    command.stderr(Stdio::from(std::fs::File::create(&log).unwrap()));
    let child = command.stdout(Stdio::piped()).spawn().unwrap();
    let (running, line) = super::read_line(child, "Skalin is running at");
    let url = url_in(&line);

    let callback = format!("{url}/integrations/intercom/callback?code=SECRET-CODE-4242&state=abc");
    let response = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answered = response.get(&callback).send().await.unwrap();
    assert!(answered.status().is_redirection() || answered.status().is_client_error(), "{}", answered.status());
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(running);

    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(logs.contains("/integrations/intercom/callback"), "the request is logged: {logs}");
    assert!(!logs.contains("SECRET-CODE-4242"), "{logs}");
}
