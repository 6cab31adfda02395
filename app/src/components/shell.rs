use leptos::prelude::*;
use leptos_router::components::{Outlet, A};

use crate::components::{load, ErrorNotice, Loaded};
use crate::domain::SessionUser;
use crate::server_fns::get_current_user;

/// The signed-in user, provided to every page inside the shell.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Loaded<Result<Option<SessionUser>, crate::error::AppError>>);

/// Header, navigation and the signed-in user around every page but sign-in.
#[component]
pub fn AppShell() -> impl IntoView {
    let user = load(|| (), |_| get_current_user());
    provide_context(CurrentUser(user));

    view! {
        <header class="topbar">
            <a class="brand" href="/">"Skalin"</a>
            <nav aria-label="Main">
                <ul>
                    <li class="nav-group">
                        <span class="nav-group-label">"Integrations"</span>
                        // Exact: on the sync page only its own link is the current one.
                        <A href="/integrations/intercom" exact=true>"Intercom"</A>
                        <A href="/integrations/intercom/sync">"Sync runs"</A>
                    </li>
                    <li><A href="/customers">"Customers"</A></li>
                    <li><A href="/contacts">"Contacts"</A></li>
                    <li><A href="/interactions">"Interactions"</A></li>
                </ul>
            </nav>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(user)) => view! { <UserMenu user /> }.into_any(),
                        Ok(None) => view! { <a class="button" href="/signin">"Sign in"</a> }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
        </header>
        <main class="content">
            <Outlet />
        </main>
    }
}

#[component]
fn UserMenu(user: SessionUser) -> impl IntoView {
    view! {
        <div class="user-menu">
            <WorkspaceSwitcher user=user.clone() />
            <span class="user-email" data-testid="current-user">{user.email}</span>
            <span class="role-badge" data-testid="current-role">{user.role.as_str()}</span>
            // A plain form: signing out works the same with or without JavaScript.
            <form method="post" action="/auth/signout">
                <button type="submit" class="link-button">"Sign out"</button>
            </form>
        </div>
    }
}

/// Which workspace every page shows, and for someone in several, a plain form to show
/// another: the server checks the membership and sends the browser back to the same page,
/// read afresh in that workspace.
#[component]
fn WorkspaceSwitcher(user: SessionUser) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let next = move || format!("{}{}", location.pathname.get(), location.search.get());
    let current = user.workspace.id;
    let others = user.workspaces.len() > 1;
    view! {
        <span class="workspace-name" data-testid="current-workspace">{user.workspace.name}</span>
        {others.then(|| view! {
            <form method="post" action="/auth/workspace" class="workspace-switcher">
                <input type="hidden" name="next" value=next />
                <label class="visually-hidden" for="workspace-select">"Workspace"</label>
                <select id="workspace-select" name="workspace" data-testid="workspace-select">
                    {user.workspaces.into_iter().map(|m| view! {
                        <option value=m.workspace.id.to_string() selected=m.workspace.id == current>
                            {format!("{} ({})", m.workspace.name, m.role.as_str())}
                        </option>
                    }).collect_view()}
                </select>
                <button type="submit" class="link-button" data-testid="workspace-switch">"Switch"</button>
            </form>
        })}
    }
}
