//! What the command line does besides serving.

use std::sync::Arc;

use app::auth::{hash_password, normalize_email};
use app::domain::{slugify, Role, Workspace, Zone};
use app::integration::{Integration, IntegrationError};
use app::store::{Database, Directory, StoreError};

use crate::config::IntercomArgs;

/// The workspace a command names by its slug; an unknown one is an error listing those
/// that exist.
pub async fn workspace(directory: &dyn Directory, slug: &str) -> anyhow::Result<Workspace> {
    if let Some(workspace) = directory.workspace_by_slug(slug.trim()).await? {
        return Ok(workspace);
    }
    let known: Vec<String> = directory.workspaces().await?.into_iter().map(|w| w.slug).collect();
    if known.is_empty() {
        anyhow::bail!("there is no workspace `{slug}`: this deployment has none yet (server workspace add --name …)")
    }
    anyhow::bail!("there is no workspace `{slug}`; the workspaces are: {}", known.join(", "))
}

/// Creates a workspace named `name`, its slug made from the name unless given.
pub async fn add_workspace(directory: &dyn Directory, name: &str, slug: Option<&str>) -> anyhow::Result<Workspace> {
    let name = name.trim();
    if name.is_empty() {
        anyhow::bail!("a workspace needs a name (--name)");
    }
    let slug = match slug {
        Some(slug) => {
            let slug = slug.trim();
            if slug.is_empty() || slugify(slug) != slug {
                anyhow::bail!(
                    "`{slug}` is not a slug: use lower-case letters, digits and single dashes, as in acme-corp"
                );
            }
            slug.to_string()
        }
        None => slugify(name),
    };
    if slug.is_empty() {
        anyhow::bail!("`{name}` has no letter or digit to make a slug of: give one with --slug");
    }
    match directory.create_workspace(name, &slug).await {
        Ok(workspace) => Ok(workspace),
        Err(StoreError::Conflict(_)) => anyhow::bail!("a workspace with the slug `{slug}` already exists"),
        Err(err) => Err(err.into()),
    }
}

/// Adds a person to a workspace with a role, creating their account when it is new.
/// Returns the password when an account was created (generated when none was given);
/// an existing account keeps its password, and giving one for it is an error.
pub async fn add_user(
    directory: &dyn Directory,
    workspace: &Workspace,
    email: &str,
    role: Role,
    password: Option<String>,
) -> anyhow::Result<Option<String>> {
    let email = normalize_email(email)?;
    let (user, password) = match directory.user_by_email(&email).await? {
        Some(_) if password.is_some() => {
            anyhow::bail!("{email} already has an account: it keeps its password (leave --password out)")
        }
        Some(user) => (user, None),
        None => {
            let password = password.unwrap_or_else(generate_password);
            let hash = hash_password(&password)?;
            let user = match directory.create_user(&email, &hash).await {
                Ok(user) => user,
                Err(StoreError::Conflict(_)) => anyhow::bail!("a user with the email {email} already exists"),
                Err(err) => return Err(err.into()),
            };
            (user, Some(password))
        }
    };
    directory.set_membership(workspace.id, user.id, role).await?;
    Ok(password)
}

fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// A workspace's integration as the command line reaches it: same database, key and
/// hosts as `serve`.
pub async fn integration(database: &Database, slug: &str, intercom: &IntercomArgs) -> anyhow::Result<Integration> {
    let workspace = workspace(database.directory.as_ref(), slug).await?;
    let config = crate::startup::app_config("http://localhost", intercom, crate::startup::KeySource::ExistingDemoFile)?;
    Ok(Integration::new(database.directory.store(workspace.id), Arc::new(config)))
}

/// Who the change history names for a command-line change.
pub fn command_line_user() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "someone".to_string());
    format!("{user} (command line)")
}

/// Connects with an access token; returns what to tell the person.
pub async fn connect(integration: &Integration, token: String, zone: Zone) -> anyhow::Result<String> {
    let connection = integration
        .connect_with_token(secrecy::SecretString::from(token), zone, &command_line_user())
        .await
        .map_err(explain)?;
    let mut message = format!(
        "Connected Intercom workspace {} (app id {}), zone {}.",
        connection.workspace_name.as_deref().unwrap_or("(unnamed)"),
        connection.app_id.as_deref().unwrap_or("unknown"),
        connection.zone.label()
    );
    if connection.zone != zone {
        message.push_str(&format!(" Intercom says the workspace is hosted there, not in {}.", zone.label()));
    }
    Ok(message)
}

/// The integration's errors in the words the settings page uses, one line per setting.
pub fn explain(err: IntegrationError) -> anyhow::Error {
    match err {
        IntegrationError::Rejected(errors) => {
            let lines: Vec<String> = errors.iter().map(|e| format!("  {}: {}", e.key, e.message)).collect();
            anyhow::anyhow!("the settings were not saved:\n{}", lines.join("\n"))
        }
        other => anyhow::anyhow!(app::error::AppError::from(other).to_string()),
    }
}
