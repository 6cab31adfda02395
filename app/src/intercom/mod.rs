//! The Intercom REST client. It knows nothing of Leptos or of Skalin's store: the sync
//! engine and the settings page reach Intercom only through it.

mod api;
mod body;
mod client;
mod error;
mod hosts;
mod models;
mod pagination;
mod rate_limit;
mod retry;
mod scroll;
pub mod search;

pub use api::OAuthEndpoints;
pub use client::{CallStats, IntercomClient, Region, INTERCOM_VERSION};
pub use error::{ApiError, IntercomError, Result};
pub use hosts::IntercomHosts;
pub use models::*;
pub use pagination::CursorPage;
pub use retry::{Attempt, Decision, RetryPolicy};
pub use scroll::{Restarts, ScrollEvent, ScrollOptions};
pub use search::{Op, Order, Query, QueryError, Search, Target};
