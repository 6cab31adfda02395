//! The browser entry point: hydrates the server-rendered page.

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Tells browser tests (and curious people) that the page is now interactive, and
    // when: the page-timings benchmark reads the mark.
    let Some(window) = web_sys::window() else { return };
    if let Some(body) = window.document().and_then(|d| d.body()) {
        let _ = body.dataset().set("hydrated", "true");
    }
    if let Some(performance) = window.performance() {
        let _ = performance.mark("skalin:hydrated");
    }
}
