//! Several independent Intercom workspaces behind one address, as Intercom serves them
//! all from one API host: each call goes to the workspace its bearer token belongs to.
//! OAuth and calls without a known token go to the first workspace, which answers them
//! as a lone sandbox would (a consent page, or 401).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt;

use super::gate::bearer;
use super::Sandbox;

#[derive(Clone)]
pub struct SandboxHub {
    /// Each workspace with its router, built once.
    workspaces: Arc<Vec<(Sandbox, Router)>>,
}

impl SandboxHub {
    /// `workspaces` must not be empty, and each should accept its own tokens
    /// (`Sandbox::set_token`) and have its own seed, hence its own app id.
    pub fn new(workspaces: Vec<Sandbox>) -> Self {
        assert!(!workspaces.is_empty(), "a hub serves at least one workspace");
        let workspaces = workspaces.into_iter().map(|sandbox| (sandbox.clone(), sandbox.router())).collect();
        Self { workspaces: Arc::new(workspaces) }
    }

    pub fn workspace(&self, index: usize) -> Option<&Sandbox> {
        self.workspaces.get(index).map(|(sandbox, _)| sandbox)
    }

    pub fn router(&self) -> Router {
        Router::new().fallback(dispatch).with_state(self.clone())
    }

    /// Serves on 127.0.0.1 on a free port until the returned value is dropped.
    pub async fn spawn(workspaces: Vec<Sandbox>) -> std::io::Result<RunningHub> {
        let hub = SandboxHub::new(workspaces);
        let (base_url, shutdown) = super::serve_locally(hub.router()).await?;
        Ok(RunningHub { hub, base_url, _shutdown: shutdown })
    }
}

async fn dispatch(State(hub): State<SandboxHub>, request: Request) -> Response {
    let token = bearer(request.headers());
    let owner = token.and_then(|token| hub.workspaces.iter().find(|(sandbox, _)| sandbox.accepts_token(&token)));
    let (_, router) = owner.unwrap_or(&hub.workspaces[0]);
    match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
    .into_response()
}

/// A hub served over HTTP; the server stops when this is dropped.
pub struct RunningHub {
    pub hub: SandboxHub,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}
