//! The Skalin server: configuration, start-up, and the axum router around the Leptos app.

pub mod commands;
pub mod config;
pub mod demo;
mod oauth;
pub mod startup;
pub mod sync_command;
mod web;

pub use startup::Application;
pub use web::page_paths;
