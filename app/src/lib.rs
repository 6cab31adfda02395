//! The Skalin web app: pages, components and server functions (Leptos), plus the
//! server-only modules they call (`store`, `auth`), which know nothing of Leptos.

pub mod components;
pub mod domain;
pub mod error;
pub mod pages;
pub mod server_fns;

#[cfg(feature = "ssr")]
pub mod assets;
#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod csp;
#[cfg(feature = "ssr")]
pub mod integration;
#[cfg(feature = "ssr")]
pub mod intercom;
#[cfg(feature = "ssr")]
pub mod secrets;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod sync;
#[cfg(feature = "ssr")]
pub mod sync_model;
#[cfg(feature = "ssr")]
pub mod webhooks;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::components::AppShell;
use crate::pages::{
    ContactsPage, CustomersPage, HomePage, InteractionsPage, IntercomPage, NotFoundPage, SignInPage, SyncPage,
};

/// The HTML document the server renders around the app.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    csp::provide_request_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <assets::HeadAssets options />
                <leptos_meta::MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title formatter=|page: String| if page.is_empty() { "Skalin".to_string() } else { format!("{page} · Skalin") } />
        <Router>
            <Routes fallback=|| view! { <NotFoundPage /> }>
                // Async: each page is sent whole once its data is read, so it reads the
                // same with JavaScript off (out-of-order streaming needs scripts).
                <Route path=path!("/signin") view=SignInPage ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=AppShell ssr=SsrMode::Async>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/integrations/intercom") view=IntercomPage ssr=SsrMode::Async />
                    <Route path=path!("/integrations/intercom/sync") view=SyncPage ssr=SsrMode::Async />
                    <Route path=path!("/customers") view=CustomersPage ssr=SsrMode::Async />
                    <Route path=path!("/contacts") view=ContactsPage ssr=SsrMode::Async />
                    <Route path=path!("/interactions") view=InteractionsPage ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
