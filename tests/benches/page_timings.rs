//! Cold loads of the Intercom settings page and the Sync runs page in headless Chromium:
//! time to first byte, to DOMContentLoaded and to hydrated (the moment the app's event
//! handlers are in place, marked `skalin:hydrated` by the bundle), median of N loads, each
//! in a new browser with an empty cache. The app is connected to a sandbox Intercom and
//! has one finished run, so both pages show what an admin sees.
//!
//! Meant for the release site: `make release`, then
//! `cargo bench -p skalin-tests --bench page_timings -- [--loads N]` (default 10).

use std::time::Duration;

use anyhow::{ensure, Context};
use app::domain::RunDetail;
use app::server_fns::{ConnectIntercomWithToken, GetSyncRun, StartSync, StartedRun};
use fantoccini::cookies::Cookie;
use fantoccini::Locator;
use leptos::server_fn::ServerFn;
use sandbox::{Sandbox, SandboxConfig, SANDBOX_TOKEN};
use serde::Deserialize;
use serde_json::json;
use skalin_tests::chromium::Chromedriver;
use skalin_tests::{call_form, call_json, signed_in, spawn_app_with, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

const PAGES: [(&str, &str); 2] = [("settings", "/integrations/intercom"), ("sync runs", "/integrations/intercom/sync")];

/// What the page's own Performance API says, in milliseconds from the navigation's start.
#[derive(Debug, Deserialize)]
struct Timing {
    ttfb: f64,
    dom_content_loaded: f64,
    hydrated: f64,
    /// Bytes of the WASM bundle on the wire (compressed), and once decoded.
    wasm_transferred: f64,
    wasm_decoded: f64,
}

const MEASURE: &str = r#"
    const nav = performance.getEntriesByType('navigation')[0];
    const hydrated = performance.getEntriesByName('skalin:hydrated')[0];
    const wasm = performance.getEntriesByType('resource').find(r => r.name.endsWith('.wasm'));
    return {
        ttfb: nav.responseStart,
        dom_content_loaded: nav.domContentLoadedEventEnd,
        hydrated: hydrated ? hydrated.startTime : -1,
        wasm_transferred: wasm ? wasm.transferSize : -1,
        wasm_decoded: wasm ? wasm.decodedBodySize : -1,
    };
"#;

fn main() -> anyhow::Result<()> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let loads = raw
        .iter()
        .position(|a| a == "--loads")
        .and_then(|i| raw.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(10usize);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(measure(loads))
}

async fn measure(loads: usize) -> anyhow::Result<()> {
    let site = skalin_tests::site_root();
    let assets = app::assets::SiteAssets::find(&site.join("pkg"), "skalin", "pkg");
    println!("site {} ({})", site.display(), assets.wasm);
    if !app::assets::is_hashed(&assets.wasm) {
        println!("warning: this is not a release site (no hashed bundle); `make release` builds one");
    }
    let intercom =
        Sandbox::spawn(SandboxConfig { companies: 50, contacts: 200, tickets: 20, ..Default::default() }).await?;
    let app = spawn_app_with(&["--intercom-base-url", &intercom.base_url]).await;
    let cookies = prepare(&app).await?;
    let driver = Chromedriver::start().await?;

    for (name, path) in PAGES {
        let mut timings = Vec::with_capacity(loads);
        for _ in 0..loads {
            timings.push(cold_load(&driver, &app, &cookies, path).await?);
        }
        report(name, path, &timings);
    }
    Ok(())
}

/// Connects the app to the sandbox and runs one sync; returns the admin's cookies.
async fn prepare(app: &TestApp) -> anyhow::Result<Vec<(String, String)>> {
    let admin = signed_in(app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let form = [("access_token", SANDBOX_TOKEN), ("zone", "us")];
    call_form::<ConnectIntercomWithToken>(app, &admin, "connect", &form).await.ok::<serde_json::Value>();
    let request = json!({ "request": { "objects": [], "walk": null, "dry_run": false } });
    let started: StartedRun = call_json::<StartSync>(app, &admin, "start a run", request).await.ok();
    for _ in 0..600 {
        let id = started.run.id.to_string();
        let detail: RunDetail = call_form::<GetSyncRun>(app, &admin, "read the run", &[("id", &id)]).await.ok();
        if !detail.run.status.is_active() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A sign-in of its own, to read the cookies a browser would be given.
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?
        .post(app.url("/auth/signin"))
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", "")])
        .send()
        .await?;
    let cookies: Vec<(String, String)> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next()?.split_once('='))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    ensure!(!cookies.is_empty(), "signing in set no cookie");
    Ok(cookies)
}

/// One load in a browser that has never seen the site: the cookies are set on a plain
/// text answer first, so that nothing of the page is cached before it is opened.
async fn cold_load(
    driver: &Chromedriver,
    app: &TestApp,
    cookies: &[(String, String)],
    path: &str,
) -> anyhow::Result<Timing> {
    let (client, _profile) = driver.browser(true).await?;
    client.goto(&app.url("/healthz")).await?;
    for (name, value) in cookies {
        client.add_cookie(Cookie::new(name.clone(), value.clone())).await?;
    }
    client.goto(&app.url(path)).await?;
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("body[data-hydrated]"))
        .await
        .with_context(|| format!("{path} never hydrated"))?;
    let timing = serde_json::from_value(client.execute(MEASURE, vec![]).await?)?;
    client.close().await?;
    Ok(timing)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn report(name: &str, path: &str, timings: &[Timing]) {
    let of = |pick: fn(&Timing) -> f64| median(timings.iter().map(pick).collect());
    println!(
        "{name} page ({path}), median of {} cold loads: first byte {:.0} ms, DOMContentLoaded {:.0} ms, hydrated {:.0} ms; \
         WASM {:.0} KiB on the wire, {:.0} KiB decoded",
        timings.len(),
        of(|t| t.ttfb),
        of(|t| t.dom_content_loaded),
        of(|t| t.hydrated),
        of(|t| t.wasm_transferred) / 1024.0,
        of(|t| t.wasm_decoded) / 1024.0,
    );
}
