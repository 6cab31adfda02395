use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Sign-in is a plain form posted to `/auth/signin`: it works the same without JavaScript,
/// and the server answers with a redirect that carries any message back here.
#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read_untracked().get(name);

    let notice = if param("error").as_deref() == Some("credentials") {
        Some(("notice-error", "Wrong email or password. Check both and try again."))
    } else if param("error").as_deref() == Some("no_workspace") {
        Some(("notice-error", "This account belongs to no Skalin workspace yet. Ask an admin of yours to add it."))
    } else if param("error").as_deref() == Some("unavailable") {
        Some(("notice-error", "Signing in is not possible right now. Please try again in a moment."))
    } else if param("expired").is_some() {
        Some(("notice-info", "Your session has expired. Please sign in again."))
    } else if param("signed_out").is_some() {
        Some(("notice-info", "You have signed out."))
    } else {
        None
    };
    let next = param("next").unwrap_or_default();
    let email = param("email").unwrap_or_default();

    view! {
        <Title text="Sign in" />
        <main class="signin">
            <h1>"Sign in to Skalin"</h1>
            {notice.map(|(class, text)| view! {
                <div class=format!("notice {class}") role="alert" data-testid="signin-notice">{text}</div>
            })}
            <form method="post" action="/auth/signin" class="signin-form">
                <input type="hidden" name="next" value=next />
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="username" required value=email />
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required />
                <button type="submit">"Sign in"</button>
            </form>
        </main>
    }
}
