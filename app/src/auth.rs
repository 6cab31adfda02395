//! Passwords and the signed-in user kept in the session.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tower_sessions::Session;

use crate::domain::SessionUser;
use crate::store::{Store, StoreError};

/// The session key under which the signed-in user is kept.
pub const SESSION_USER_KEY: &str = "user";
/// When the session ends whatever its activity (Unix seconds): a stolen or forgotten
/// session cannot be kept alive forever by use.
pub const SESSION_DEADLINE_KEY: &str = "ends_at";
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

/// Password hashing takes tens of milliseconds of CPU. On the async workers, a burst of
/// sign-ins would stall every other request and the sync heartbeats with them; on the
/// blocking pool, a few at a time, they only wait for each other.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// `verify_password` off the async workers, at most two at a time.
async fn verify_in_background(password: &str, hash: Option<String>) -> bool {
    let Ok(_permit) = HASHING.acquire().await else {
        return false;
    };
    let password = password.to_string();
    let verified = tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            // Spend the same time as for a known email, so that timing does not tell
            // which addresses have accounts.
            let _ = verify_password(&password, dummy_hash());
            false
        }
    });
    verified.await.unwrap_or(false)
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
    let user = store.user_by_email(&email).await?;
    let verified = verify_in_background(password, user.as_ref().map(|u| u.password_hash.clone())).await;
    match user {
        Some(user) if verified => Ok(SessionUser { id: user.id, email: user.email, role: user.role }),
        _ => Err(AuthError::WrongCredentials),
    }
}

fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no account has this password").unwrap_or_default())
}

/// Starts a signed-in session under a new id, so a session id seen before sign-in is
/// useless. It ends after `lifetime` at the latest, however busy.
pub async fn sign_in(session: &Session, user: &SessionUser, lifetime: std::time::Duration) -> Result<(), AuthError> {
    session.cycle_id().await?;
    session.insert(SESSION_USER_KEY, user).await?;
    let ends_at = unix_now().saturating_add(lifetime.as_secs().try_into().unwrap_or(i64::MAX));
    session.insert(SESSION_DEADLINE_KEY, ends_at).await?;
    Ok(())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs().try_into().unwrap_or(i64::MAX))
}

pub async fn sign_out(session: &Session) -> Result<(), AuthError> {
    session.flush().await?;
    Ok(())
}

/// The signed-in user as the store knows them now, if any. The session only says who
/// signed in: the role is read afresh, so a demoted person loses their rights and a
/// deleted one their session at their next request. A session past its deadline, or
/// one that cannot be read, is ended and counts as signed out.
pub async fn session_user(session: &Session, store: &dyn Store) -> Result<Option<SessionUser>, AuthError> {
    let signed_in = session.get::<SessionUser>(SESSION_USER_KEY).await.ok().flatten();
    let ends_at = session.get::<i64>(SESSION_DEADLINE_KEY).await.ok().flatten();
    let Some(signed_in) = signed_in else {
        return Ok(None);
    };
    let current = match ends_at {
        Some(ends_at) if unix_now() < ends_at => store.user_by_id(signed_in.id).await?,
        _ => None,
    };
    let Some(user) = current else {
        session.flush().await?;
        return Ok(None);
    };
    Ok(Some(SessionUser { id: user.id, email: user.email, role: user.role }))
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

    #[tokio::test]
    async fn hashing_leaves_the_async_worker_free_for_other_requests() {
        let hash = hash_password("correct horse").unwrap();
        let verify = verify_in_background("correct horse", Some(hash));
        tokio::pin!(verify);
        // On this single-threaded runtime, a hash computed in place would finish within
        // the first poll, before anything else could run.
        let first = tokio::select! {
            biased;
            verified = &mut verify => Some(verified),
            () = tokio::task::yield_now() => None,
        };
        assert_eq!(first, None, "the hash ran on the async worker");
        assert!(verify.await);
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
