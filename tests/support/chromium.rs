//! Headless Chromium through chromedriver, for the browser tests and the page-timings
//! benchmark: a driver on a free port, and fresh browsers with empty profiles.

use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{bail, Context};
use fantoccini::{Client, ClientBuilder};
use serde_json::json;

/// A running chromedriver, stopped when dropped.
pub struct Chromedriver {
    child: Mutex<Option<Child>>,
    pub url: String,
}

impl Chromedriver {
    pub async fn start() -> anyhow::Result<Self> {
        for tool in ["chromium", "chromedriver"] {
            if which(tool).is_none() {
                bail!("`{tool}` is not on PATH: install Debian's chromium and chromium-driver (the README's test command does)");
            }
        }
        let port = free_port()?;
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start chromedriver")?;
        let driver = Chromedriver { child: Mutex::new(Some(child)), url: format!("http://127.0.0.1:{port}") };
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            if std::time::Instant::now() > deadline {
                bail!("chromedriver did not listen on port {port}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(driver)
    }

    pub fn stop(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A new Chromium with its own empty profile (so nothing is cached); `js` turns
    /// JavaScript on or off. The profile lives as long as the returned folder.
    pub async fn browser(&self, js: bool) -> anyhow::Result<(Client, tempfile::TempDir)> {
        let profile = tempfile::tempdir()?;
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--window-size=1280,900".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if !js {
            args.push("--blink-settings=scriptEnabled=false".into());
        }
        let mut options = json!({ "args": args });
        if !js {
            options["prefs"] = json!({ "profile.managed_default_content_settings.javascript": 2 });
        }
        if let Some(binary) = which("chromium") {
            options["binary"] = json!(binary);
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::rustls()
            .context("a webdriver client")?
            .capabilities(caps)
            .connect(&self.url)
            .await
            .context("open a Chromium session")?;
        Ok((client, profile))
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        self.stop();
    }
}

fn which(tool: &str) -> Option<String> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|p| p.is_file())
            .map(|p| p.to_string_lossy().to_string())
    })
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
