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

/// The server's message for one control, under it.
#[component]
pub fn FieldMessage(error: Signal<Option<AppError>>, key: &'static str) -> impl IntoView {
    move || {
        error.get().and_then(|e| e.message_for(key)).map(|message| {
            view! { <p class="field-error" role="alert" data-error-for=key>{message}</p> }
        })
    }
}
