//! The thin API the pages call. Each function authorizes, then calls plain modules.

mod intercom;
mod records;
mod session;

pub use intercom::*;
pub use records::*;
pub use session::*;

#[cfg(feature = "ssr")]
mod context {
    use leptos::prelude::use_context;
    use tower_sessions::Session;

    use crate::domain::SessionUser;
    use crate::error::AppError;
    use crate::state::AppState;

    pub fn app_state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| {
            tracing::error!("a server function ran without the application state in context");
            AppError::Internal
        })
    }

    pub async fn session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>().await.map_err(|err| {
            tracing::error!(error = %err, "a server function ran without a session");
            AppError::Internal
        })
    }

    /// The signed-in user, or `SignInRequired` for a request without a valid session.
    pub async fn require_user() -> Result<SessionUser, AppError> {
        let session = session().await?;
        crate::auth::session_user(&session).await.ok_or(AppError::SignInRequired)
    }
}
