//! The browser test world: the app on a free port, one chromedriver, and a fresh
//! Chromium profile per scenario.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use serde_json::json;
use skalin_tests::chromium::Chromedriver;
use skalin_tests::{seed_customers, spawn_app, TestApp};

pub const WAIT: Duration = Duration::from_secs(15);

pub struct World {
    pub app: TestApp,
    driver: Chromedriver,
}

impl World {
    pub async fn start() -> anyhow::Result<Self> {
        let pkg = skalin_tests::site_root().join("pkg");
        if !pkg.is_dir() {
            bail!(
                "no built site at {}: run `cargo leptos build` first (the README's test command does)",
                pkg.display()
            );
        }
        let driver = Chromedriver::start().await?;
        let app = spawn_app().await;
        seed_customers(app.store.as_ref(), 30).await;
        Ok(World { app, driver })
    }

    pub async fn stop(&self) {
        self.driver.stop();
    }

    /// A new Chromium with its own empty profile; `js` turns JavaScript on or off.
    pub async fn browser(&self, js: bool, name: &str) -> anyhow::Result<Browser> {
        let (client, profile) = self.driver.browser(js).await?;
        Ok(Browser {
            client,
            js,
            name: name.to_string(),
            base_url: self.app.base_url.clone(),
            _profile: Arc::new(profile),
        })
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
