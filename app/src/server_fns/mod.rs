//! The thin API the pages call. Each function authorizes, then calls plain modules.

mod intercom;
mod records;
mod session;
mod settings;

pub use intercom::*;
pub use records::*;
pub use session::*;
pub use settings::*;

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
        user.ok_or_else(|| refuse(axum::http::StatusCode::UNAUTHORIZED, AppError::SignInRequired))
    }

    /// The signed-in admin: members see the settings but cannot change them.
    pub async fn require_admin() -> Result<SessionUser, AppError> {
        let user = require_user().await?;
        if user.role.can_edit_settings() {
            Ok(user)
        } else {
            Err(refuse(
                axum::http::StatusCode::FORBIDDEN,
                AppError::Forbidden("Only admins can change the Intercom integration; ask an admin.".into()),
            ))
        }
    }

    /// Answers with the status that says why (not a bare 500).
    fn refuse(status: axum::http::StatusCode, error: AppError) -> AppError {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
        error
    }

    pub fn integration() -> Result<crate::integration::Integration, AppError> {
        let state = app_state()?;
        Ok(crate::integration::Integration::new(state.store, state.config))
    }
}
