//! What the command line does besides serving.

use std::sync::Arc;

use app::auth::{hash_password, normalize_email};
use app::domain::{Role, Zone};
use app::integration::{Integration, IntegrationError};
use app::store::{Database, Store, StoreError};

use crate::config::IntercomArgs;

pub const DEMO_ACCOUNTS: [(&str, &str, Role); 2] = [
    ("admin@demo.skalin.io", "skalin-demo-admin", Role::Admin),
    ("member@demo.skalin.io", "skalin-demo-member", Role::Member),
];

/// Creates a user; returns the password, generated when none was given.
pub async fn add_user(store: &dyn Store, email: &str, role: Role, password: Option<String>) -> anyhow::Result<String> {
    let email = normalize_email(email)?;
    let password = password.unwrap_or_else(generate_password);
    let hash = hash_password(&password)?;
    match store.create_user(&email, &hash, role).await {
        Ok(_) => Ok(password),
        Err(StoreError::Conflict(_)) => anyhow::bail!("a user with the email {email} already exists"),
        Err(err) => Err(err.into()),
    }
}

/// Makes sure the demo accounts exist with their published passwords.
pub async fn ensure_demo_accounts(store: &dyn Store) -> anyhow::Result<()> {
    for (email, password, role) in DEMO_ACCOUNTS {
        store.upsert_user(email, &hash_password(password)?, role).await?;
    }
    Ok(())
}

fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// The integration as the command line reaches it: same database, key and hosts as `serve`.
pub fn integration(database: &Database, intercom: &IntercomArgs) -> anyhow::Result<Integration> {
    let config = crate::startup::app_config("http://localhost", intercom, crate::startup::KeySource::ExistingDemoFile)?;
    Ok(Integration::new(database.store.clone(), Arc::new(config)))
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
