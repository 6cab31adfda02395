//! `serve --demo`: two workspaces to look at, with published accounts. One is connected
//! to the demo's own sandbox Intercom and synced at start; the other is empty and not
//! connected; one person belongs to both, with a different role in each.

use app::domain::{Role, RunRequest, RunTrigger, Workspace};
use app::store::Directory;
use app::sync::SyncService;

use crate::commands::add_workspace;

/// Name and slug of each demo workspace; the first is the one connected to Intercom.
pub const DEMO_WORKSPACES: [(&str, &str); 2] = [("Acme (demo)", "acme"), ("Globex (demo)", "globex")];

pub struct DemoAccount {
    pub email: &'static str,
    pub password: &'static str,
    /// Slug and role of each workspace the account belongs to.
    pub memberships: &'static [(&'static str, Role)],
}

pub const DEMO_ACCOUNTS: [DemoAccount; 5] = [
    DemoAccount { email: "admin@demo.skalin.io", password: "skalin-demo-admin", memberships: &[("acme", Role::Admin)] },
    DemoAccount {
        email: "member@demo.skalin.io",
        password: "skalin-demo-member",
        memberships: &[("acme", Role::Member)],
    },
    DemoAccount {
        email: "globex-admin@demo.skalin.io",
        password: "skalin-demo-admin",
        memberships: &[("globex", Role::Admin)],
    },
    DemoAccount {
        email: "globex-member@demo.skalin.io",
        password: "skalin-demo-member",
        memberships: &[("globex", Role::Member)],
    },
    DemoAccount {
        email: "both@demo.skalin.io",
        password: "skalin-demo-both",
        memberships: &[("acme", Role::Member), ("globex", Role::Admin)],
    },
];

/// Makes sure the demo workspaces and accounts exist, with their published passwords and
/// roles; answers the workspaces in `DEMO_WORKSPACES`' order.
pub async fn ensure_demo(directory: &dyn Directory) -> anyhow::Result<Vec<Workspace>> {
    let mut workspaces = Vec::new();
    for (name, slug) in DEMO_WORKSPACES {
        let workspace = match directory.workspace_by_slug(slug).await? {
            Some(workspace) => workspace,
            None => add_workspace(directory, name, Some(slug)).await?,
        };
        workspaces.push(workspace);
    }
    for account in &DEMO_ACCOUNTS {
        let user = directory.upsert_user(account.email, &app::auth::hash_password(account.password)?).await?;
        for (slug, role) in account.memberships {
            let workspace = workspaces.iter().find(|w| w.slug == *slug).expect("a demo workspace");
            directory.set_membership(workspace.id, user.id, *role).await?;
        }
    }
    Ok(workspaces)
}

/// Connects the workspace to the demo's sandbox Intercom with its token, unless it is
/// connected already, and queues a first run so that its pages have data.
pub async fn connect_to_sandbox(sync: &SyncService, workspace: &Workspace, token: &str) -> anyhow::Result<()> {
    let integration = sync.integration(workspace.id);
    if integration.connection().await.map_err(crate::commands::explain)?.is_some() {
        return Ok(());
    }
    crate::commands::connect(&integration, token.to_string(), app::domain::Zone::Us).await?;
    let request = RunRequest { objects: vec![], walk: None, dry_run: false };
    sync.engine(workspace.id)
        .start(request, RunTrigger::Manual, "demo set-up")
        .await
        .map_err(|err| anyhow::anyhow!("could not start the demo's first sync: {err}"))?;
    Ok(())
}

/// The accounts as `serve --demo` prints them at start.
pub fn describe_accounts() -> String {
    let mut out = String::from("Demo accounts (email / password: workspaces):\n");
    for account in &DEMO_ACCOUNTS {
        let places: Vec<String> = account.memberships.iter().map(|(slug, role)| format!("{role} of {slug}")).collect();
        out.push_str(&format!("  {}  /  {}: {}\n", account.email, account.password, places.join(", ")));
    }
    out
}
