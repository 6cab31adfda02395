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
        let user = current_user().await?;
        user.ok_or_else(|| answered(AppError::SignInRequired))
    }

    /// Who is signed in, in which workspace, with their role there as it is now.
    pub async fn current_user() -> Result<Option<SessionUser>, AppError> {
        let session = session().await?;
        let directory = app_state()?.directory;
        crate::auth::session_user(&session, directory.as_ref()).await.map_err(|err| {
            tracing::error!(error = %err, "could not read who is signed in");
            answered(AppError::Internal)
        })
    }

    /// The signed-in admin of the workspace they look at: members see the settings but
    /// cannot change them.
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

    // The way to a workspace's data goes through the signed-in person, whose session
    // names the workspace and whose membership of it `current_user` has just checked:
    // never through a workspace the browser sends.

    /// The data of the workspace `user` is looking at.
    pub fn workspace_store(user: &SessionUser) -> Result<std::sync::Arc<dyn crate::store::Store>, AppError> {
        Ok(app_state()?.directory.store(user.workspace.id))
    }

    pub fn sync_engine(user: &SessionUser) -> Result<crate::sync::SyncEngine, AppError> {
        Ok(app_state()?.sync.engine(user.workspace.id))
    }

    pub fn integration(user: &SessionUser) -> Result<crate::integration::Integration, AppError> {
        let state = app_state()?;
        Ok(crate::integration::Integration::new(state.directory.store(user.workspace.id), state.config))
    }
}

/// The content type each server function decodes its body as, by path. The server
/// refuses a call sent as anything else (a cross-site form cannot send JSON).
#[cfg(feature = "ssr")]
pub fn input_content_type(path: &str) -> Option<&'static str> {
    // Asked on every POST: the table is built once.
    static BY_PATH: std::sync::OnceLock<std::collections::HashMap<&'static str, &'static str>> =
        std::sync::OnceLock::new();
    BY_PATH.get_or_init(|| input_content_types().into_iter().collect()).get(path).copied()
}

/// Every server function with its input's content type, read from its declared protocol,
/// so that a function's encoding cannot be listed wrong. A test checks that no
/// registered function is missing.
#[cfg(feature = "ssr")]
pub fn input_content_types() -> Vec<(&'static str, &'static str)> {
    use leptos::server_fn::{ContentType, Http, ServerFn};
    fn input<F, I, O>() -> (&'static str, &'static str)
    where
        F: ServerFn<Protocol = Http<I, O>>,
        I: ContentType,
    {
        (F::PATH, I::CONTENT_TYPE)
    }
    vec![
        input::<GetIntercomConnection, _, _>(),
        input::<GetRealtimeState, _, _>(),
        input::<ListCustomers, _, _>(),
        input::<ListContacts, _, _>(),
        input::<ListInteractions, _, _>(),
        input::<UpdateCustomer, _, _>(),
        input::<UpdateContact, _, _>(),
        input::<GetCurrentUser, _, _>(),
        input::<ConnectIntercomWithToken, _, _>(),
        input::<DisconnectIntercom, _, _>(),
        input::<ChangeIntercomZone, _, _>(),
        input::<GetIntercomFields, _, _>(),
        input::<GetIntegrationSettings, _, _>(),
        input::<SaveIntegrationSettings, _, _>(),
        input::<PreviewChurn, _, _>(),
        input::<ExportIntegrationSettings, _, _>(),
        input::<ImportIntegrationSettings, _, _>(),
        input::<StartSync, _, _>(),
        input::<GetSyncRuns, _, _>(),
        input::<GetSyncSchedule, _, _>(),
        input::<GetSyncRun, _, _>(),
        input::<ConfirmChurn, _, _>(),
    ]
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn every_registered_server_function_has_its_content_type_listed() {
        let listed: Vec<&str> = super::input_content_types().into_iter().map(|(path, _)| path).collect();
        let registered: Vec<&str> =
            leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path).filter(|p| !listed.contains(p)).collect();
        assert!(registered.is_empty(), "add these to `input_content_types`: {registered:?}");
    }

    #[test]
    fn json_functions_are_known_as_json_and_the_others_as_forms() {
        let types = super::input_content_types();
        let of = |path: &str| types.iter().find(|(p, _)| *p == path).map(|(_, t)| *t);
        assert_eq!(of(<super::StartSync as leptos::server_fn::ServerFn>::PATH), Some("application/json"));
        assert_eq!(
            of(<super::ChangeIntercomZone as leptos::server_fn::ServerFn>::PATH),
            Some("application/x-www-form-urlencoded")
        );
    }
}
