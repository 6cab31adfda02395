//! What the command line does besides serving.

use app::auth::{hash_password, normalize_email};
use app::domain::Role;
use app::store::{Store, StoreError};

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
