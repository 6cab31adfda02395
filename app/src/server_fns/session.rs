use leptos::prelude::*;

use crate::domain::SessionUser;
use crate::error::AppError;

/// Who is signed in, if anyone, and in which workspace.
#[server]
pub async fn get_current_user() -> Result<Option<SessionUser>, AppError> {
    super::context::current_user().await
}
