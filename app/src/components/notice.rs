use leptos::prelude::*;

use crate::error::AppError;

/// Says what went wrong in words a user can act on.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    let sign_in = error.is_sign_in_required();
    view! {
        <div class="notice notice-error" role="alert">
            <p>{error.to_string()}</p>
            {sign_in.then(|| view! { <a class="button" href="/signin?expired=1">"Sign in again"</a> })}
        </div>
    }
}
