//! Passwords and the signed-in user kept in the session.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tower_sessions::Session;

use crate::domain::SessionUser;
use crate::store::{Store, StoreError};

/// The session key under which the signed-in user is kept.
pub const SESSION_USER_KEY: &str = "user";
pub const MIN_PASSWORD_LEN: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("wrong email or password")]
    WrongCredentials,
    #[error("the password must have at least {MIN_PASSWORD_LEN} characters")]
    PasswordTooShort,
    #[error("`{0}` is not an email address")]
    InvalidEmail(String),
    #[error("could not hash the password: {0}")]
    Hashing(String),
    #[error("the session store failed: {0}")]
    Session(#[from] tower_sessions::session::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Emails are matched case-insensitively and without surrounding spaces.
pub fn normalize_email(email: &str) -> Result<String, AuthError> {
    let email = email.trim().to_lowercase();
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
    });
    if valid {
        Ok(email)
    } else {
        Err(AuthError::InvalidEmail(email))
    }
}

pub fn hash_password(password: &str) -> Result<String, AuthError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AuthError::PasswordTooShort);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AuthError::Hashing(e.to_string()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Checks an email and password against the store.
pub async fn authenticate(store: &dyn Store, email: &str, password: &str) -> Result<SessionUser, AuthError> {
    let Ok(email) = normalize_email(email) else {
        return Err(AuthError::WrongCredentials);
    };
    match store.user_by_email(&email).await? {
        Some(user) if verify_password(password, &user.password_hash) => {
            Ok(SessionUser { id: user.id, email: user.email, role: user.role })
        }
        Some(_) => Err(AuthError::WrongCredentials),
        None => {
            // Spend the same time as for a known email, so that timing does not tell
            // which addresses have accounts.
            let _ = verify_password(password, dummy_hash());
            Err(AuthError::WrongCredentials)
        }
    }
}

fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no account has this password").unwrap_or_default())
}

/// Starts a signed-in session under a new id, so a session id seen before sign-in is useless.
pub async fn sign_in(session: &Session, user: &SessionUser) -> Result<(), AuthError> {
    session.cycle_id().await?;
    session.insert(SESSION_USER_KEY, user).await?;
    Ok(())
}

pub async fn sign_out(session: &Session) -> Result<(), AuthError> {
    session.flush().await?;
    Ok(())
}

/// The signed-in user, if any. A session that cannot be read counts as signed out.
pub async fn session_user(session: &Session) -> Option<SessionUser> {
    session.get::<SessionUser>(SESSION_USER_KEY).await.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let hash = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct horsE", &hash));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(matches!(hash_password("short"), Err(AuthError::PasswordTooShort)));
    }

    #[test]
    fn a_garbled_hash_never_verifies() {
        assert!(!verify_password("anything", "not-a-hash"));
    }

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(normalize_email("  Ada@Example.COM ").unwrap(), "ada@example.com");
    }

    #[test]
    fn something_without_an_at_sign_is_not_an_email() {
        assert!(matches!(normalize_email("ada.example.com"), Err(AuthError::InvalidEmail(_))));
        assert!(matches!(normalize_email("@example.com"), Err(AuthError::InvalidEmail(_))));
    }
}
