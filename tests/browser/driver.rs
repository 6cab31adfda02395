//! The browser test world: the app on a free port, one chromedriver, and a fresh
//! Chromium profile per scenario.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use skalin_tests::{seed_customers, spawn_app, TestApp};

pub const WAIT: Duration = Duration::from_secs(15);

pub struct World {
    pub app: TestApp,
    chromedriver: Mutex<Option<Child>>,
    driver_url: String,
}

impl World {
    pub async fn start() -> anyhow::Result<Self> {
        for tool in ["chromium", "chromedriver"] {
            if which(tool).is_none() {
                bail!("`{tool}` is not on PATH: install Debian's chromium and chromium-driver (the README's test command does)");
            }
        }
        let pkg = skalin_tests::site_root().join("pkg");
        if !pkg.is_dir() {
            bail!(
                "no built site at {}: run `cargo leptos build` first (the README's test command does)",
                pkg.display()
            );
        }
        let app = spawn_app().await;
        seed_customers(app.store.as_ref(), 30).await;

        let port = free_port()?;
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start chromedriver")?;
        let driver_url = format!("http://127.0.0.1:{port}");
        let world = World { app, chromedriver: Mutex::new(Some(child)), driver_url };
        let deadline = std::time::Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            if std::time::Instant::now() > deadline {
                bail!("chromedriver did not listen on port {port}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(world)
    }

    pub async fn stop(&self) {
        if let Some(mut child) = self.chromedriver.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A new Chromium with its own empty profile; `js` turns JavaScript on or off.
    pub async fn browser(&self, js: bool, name: &str) -> anyhow::Result<Browser> {
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
            .connect(&self.driver_url)
            .await
            .context("open a Chromium session")?;
        Ok(Browser {
            client,
            js,
            name: name.to_string(),
            base_url: self.app.base_url.clone(),
            _profile: Arc::new(profile),
        })
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(mut child) = self.chromedriver.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[derive(Clone)]
pub struct Browser {
    pub client: Client,
    pub js: bool,
    name: String,
    base_url: String,
    _profile: Arc<tempfile::TempDir>,
}

impl Browser {
    /// Opens a page and, with JavaScript on, waits until it is hydrated.
    pub async fn open(&self, path: &str) -> anyhow::Result<()> {
        self.client.goto(&format!("{}{path}", self.base_url)).await?;
        self.ready().await
    }

    /// Waits for the page to be usable: rendered, and hydrated when JavaScript is on.
    pub async fn ready(&self) -> anyhow::Result<()> {
        let selector = if self.js { "body[data-hydrated]" } else { "body" };
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(selector))
            .await
            .with_context(|| format!("the page never became ready ({selector})"))?;
        Ok(())
    }

    pub async fn path(&self) -> anyhow::Result<String> {
        let url = self.client.current_url().await?;
        Ok(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        })
    }

    /// The input that a visible label names, as a screen reader would find it.
    pub async fn field(&self, label: &str) -> anyhow::Result<Element> {
        let xpath = format!("//input[@id=//label[normalize-space()='{label}']/@for]");
        self.client.find(Locator::XPath(&xpath)).await.with_context(|| format!("no field labelled {label:?}"))
    }

    pub async fn fill(&self, label: &str, value: &str) -> anyhow::Result<()> {
        let field = self.control(label).await?;
        field.clear().await?;
        field.send_keys(value).await?;
        Ok(())
    }

    pub async fn click_button(&self, text: &str) -> anyhow::Result<()> {
        let xpath = format!("//button[normalize-space()='{text}']");
        self.client.find(Locator::XPath(&xpath)).await.with_context(|| format!("no button {text:?}"))?.click().await?;
        Ok(())
    }

    pub async fn click_link(&self, text: &str) -> anyhow::Result<()> {
        let xpath = format!("//a[normalize-space()='{text}']");
        self.client.find(Locator::XPath(&xpath)).await.with_context(|| format!("no link {text:?}"))?.click().await?;
        Ok(())
    }

    /// Waits until the page's main heading reads `text`.
    pub async fn wait_for_heading(&self, text: &str) -> anyhow::Result<()> {
        let xpath = format!("//h1[normalize-space()='{text}']");
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(&xpath))
            .await
            .with_context(|| format!("the heading never read {text:?}"))?;
        Ok(())
    }

    /// Waits until some element matching `css` contains `text`, and returns its text.
    pub async fn wait_for_text(&self, css: &str, text: &str) -> anyhow::Result<String> {
        let deadline = std::time::Instant::now() + WAIT;
        let mut last = String::new();
        loop {
            for element in self.client.find_all(Locator::Css(css)).await? {
                last = element.text().await.unwrap_or_default();
                if last.contains(text) {
                    return Ok(last);
                }
            }
            if std::time::Instant::now() > deadline {
                bail!("no {css} ever contained {text:?} (last seen: {last:?})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.client.find(Locator::Css(css)).await.with_context(|| format!("nothing matches {css}"))?.text().await?)
    }

    pub async fn is_hydrated(&self) -> anyhow::Result<bool> {
        Ok(self.client.find_all(Locator::Css("body[data-hydrated]")).await?.len() == 1)
    }

    /// Sets a mark on the current document; it survives client-side navigation only.
    pub async fn mark_document(&self) -> anyhow::Result<()> {
        self.client.execute("window.__skalinMark = 'kept'; return null;", vec![]).await?;
        Ok(())
    }

    pub async fn document_is_marked(&self) -> anyhow::Result<bool> {
        let value = self.client.execute("return window.__skalinMark || null;", vec![]).await?;
        Ok(value == json!("kept"))
    }

    pub async fn save_screenshot(&self) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts");
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::create_dir_all(&dir);
            let path = dir.join(format!("{}.png", self.name));
            if std::fs::write(&path, png).is_ok() {
                eprintln!("screenshot: {}", path.display());
            }
        }
    }

    /// The same browser, talking to another server (a scenario's own app).
    pub fn at(&self, base_url: &str) -> Browser {
        Browser { base_url: base_url.to_string(), ..self.clone() }
    }

    /// The input, select or textarea that a visible label names.
    pub async fn control(&self, label: &str) -> anyhow::Result<Element> {
        let xpath = format!(
            "//*[(self::input or self::select or self::textarea) and @id=//label[normalize-space()='{label}']/@for]"
        );
        self.client.find(Locator::XPath(&xpath)).await.with_context(|| format!("no control labelled {label:?}"))
    }

    /// Clicks the control labelled `label`, scrolled to the middle of the window first
    /// (the sticky save bar covers the bottom edge).
    pub async fn click_control(&self, label: &str) -> anyhow::Result<()> {
        let control = self.control(label).await?;
        let id = control.attr("id").await?.unwrap_or_default();
        let script = "document.getElementById(arguments[0]).scrollIntoView({block: 'center'}); return null;";
        self.client.execute(script, vec![json!(id)]).await?;
        control.click().await?;
        Ok(())
    }

    /// Goes to a page that is not the app's (Intercom's, a callback), without waiting
    /// for hydration.
    pub async fn visit(&self, path: &str) -> anyhow::Result<()> {
        self.client.goto(&format!("{}{path}", self.base_url)).await?;
        Ok(())
    }

    /// Picks the option whose visible text is `text` in the dropdown labelled `label`.
    pub async fn choose(&self, label: &str, text: &str) -> anyhow::Result<()> {
        let select = self.control(label).await?;
        select.select_by_label(text).await.with_context(|| format!("no option {text:?} in {label:?}"))?;
        Ok(())
    }

    /// The value of the control labelled `label` (a select's chosen option value).
    pub async fn value_of(&self, label: &str) -> anyhow::Result<String> {
        Ok(self.control(label).await?.prop("value").await?.unwrap_or_default())
    }

    pub async fn is_checked(&self, label: &str) -> anyhow::Result<bool> {
        Ok(self.control(label).await?.prop("checked").await?.as_deref() == Some("true"))
    }

    pub async fn is_disabled(&self, label: &str) -> anyhow::Result<bool> {
        Ok(self.control(label).await?.prop("disabled").await?.as_deref() == Some("true"))
    }

    /// The option values of the dropdown labelled `label`, in order.
    pub async fn option_values(&self, label: &str) -> anyhow::Result<Vec<String>> {
        let select = self.control(label).await?;
        let mut values = Vec::new();
        for option in select.find_all(Locator::Css("option")).await? {
            values.push(option.attr("value").await?.unwrap_or_default());
        }
        Ok(values)
    }

    /// The option texts of the dropdown labelled `label`, in order.
    pub async fn option_texts(&self, label: &str) -> anyhow::Result<Vec<String>> {
        let select = self.control(label).await?;
        let mut texts = Vec::new();
        for option in select.find_all(Locator::Css("option")).await? {
            texts.push(option.text().await?.trim().to_string());
        }
        Ok(texts)
    }

    pub async fn has_button(&self, text: &str) -> anyhow::Result<bool> {
        let xpath = format!("//button[normalize-space()='{text}']");
        Ok(!self.client.find_all(Locator::XPath(&xpath)).await?.is_empty())
    }

    /// Waits until `check` holds, polling; `what` names it in the failure.
    pub async fn wait_until<F, Fut>(&self, what: &str, mut check: F) -> anyhow::Result<()>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<bool>>,
    {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            if check().await.unwrap_or(false) {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                bail!("timed out waiting until {what}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
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
