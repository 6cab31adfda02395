//! End-to-end tests in real headless Chromium, each scenario twice where it matters:
//! with JavaScript off (the server-rendered pages) and on (hydrated by the WASM bundle).

mod driver;
mod realtime;
mod records;
mod scenarios;
mod settings;
mod sync;
mod workspaces;

use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    // Both rustls back-ends are compiled in (reqwest and sqlx pick different ones), so
    // the webdriver client needs one named for it.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let runtime = Arc::new(tokio::runtime::Runtime::new().expect("a tokio runtime"));
    let world = match runtime.block_on(driver::World::start()) {
        Ok(world) => Arc::new(world),
        Err(err) => {
            eprintln!("could not start the browser test world: {err:#}");
            std::process::exit(1);
        }
    };

    let mut trials = Vec::new();
    for (name, scenario) in scenarios::all()
        .into_iter()
        .chain(settings::all())
        .chain(sync::all())
        .chain(records::all())
        .chain(workspaces::all())
        .chain(realtime::all())
    {
        for js in [false, true] {
            if scenario.js_only && !js {
                continue;
            }
            let world = world.clone();
            let runtime = runtime.clone();
            let run = scenario.run;
            let name = format!("{name}_{}", if js { "hydrated" } else { "without_javascript" });
            trials.push(Trial::test(name.clone(), move || {
                runtime.block_on(async {
                    let browser = world.browser(js, &name).await.map_err(|e| Failed::from(format!("{e:#}")))?;
                    let outcome = run(world.clone(), browser.clone()).await;
                    if outcome.is_err() {
                        browser.save_screenshot().await;
                    }
                    browser.close().await;
                    outcome.map_err(|e| Failed::from(format!("{e:#}")))
                })
            }));
        }
    }

    let mut args = args;
    args.test_threads = Some(1);
    let conclusion = libtest_mimic::run(&args, trials);
    runtime.block_on(world.stop());
    conclusion.exit();
}
