//! The thin API the pages call. Each function authorizes, then calls plain modules.

mod intercom;
mod records;
mod session;
mod settings;
mod sync;

pub use intercom::*;
pub use records::*;
pub use session::*;
pub use settings::*;
pub use sync::*;

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
        let user = crate::auth::session_user(&session).await;
        user.ok_or_else(|| answered(AppError::SignInRequired))
    }

    /// The signed-in admin: members see the settings but cannot change them.
    pub async fn require_admin() -> Result<SessionUser, AppError> {
        let user = require_user().await?;
        if user.role.can_edit_settings() {
            Ok(user)
        } else {
            Err(answered(AppError::Forbidden("Only admins can change the Intercom integration; ask an admin.".into())))
        }
    }

    /// Sets the HTTP status that says why a call failed, so that nothing but a real
    /// server fault answers 500.
    pub fn answered(error: AppError) -> AppError {
        use axum::http::StatusCode;
        let status = match &error {
            AppError::SignInRequired => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Invalid(_) => StatusCode::BAD_REQUEST,
            AppError::Rejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Intercom(_) | AppError::Transport(_) => StatusCode::BAD_GATEWAY,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
        error
    }

    /// `answered` for a whole result.
    pub fn answer<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        result.map_err(answered)
    }

    pub fn sync_engine() -> Result<crate::sync::SyncEngine, AppError> {
        Ok(app_state()?.sync)
    }

    pub fn integration() -> Result<crate::integration::Integration, AppError> {
        let state = app_state()?;
        Ok(crate::integration::Integration::new(state.store, state.config))
    }
}
