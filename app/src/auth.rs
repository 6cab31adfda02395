//! Passwords and the signed-in user kept in the session.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tower_sessions::Session;

use crate::domain::{Membership, SessionUser};
use crate::store::{Directory, StoreError, UserRecord};

/// The session key under which the signed-in user's id is kept.
pub const SESSION_USER_KEY: &str = "user_id";
/// The session key of the workspace the person is looking at. It is only ever set to one
/// they belong to, and their membership is checked again at every request.
pub const SESSION_WORKSPACE_KEY: &str = "workspace_id";
/// When the session ends whatever its activity (Unix seconds): a stolen or forgotten
/// session cannot be kept alive forever by use.
pub const SESSION_DEADLINE_KEY: &str = "ends_at";
pub const MIN_PASSWORD_LEN: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("wrong email or password")]
    WrongCredentials,
    #[error("this account belongs to no Skalin workspace yet: ask an admin of yours to add it")]
    NoWorkspace,
    #[error("you do not belong to that workspace")]
    NotAMember,
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

/// Checks an email and password against the directory.
pub async fn authenticate(directory: &dyn Directory, email: &str, password: &str) -> Result<UserRecord, AuthError> {
    let Ok(email) = normalize_email(email) else {
        return Err(AuthError::WrongCredentials);
    };
    let user = directory.user_by_email(&email).await?;
    let verified = verify_in_background(password, user.as_ref().map(|u| u.password_hash.clone())).await;
    match user {
        Some(user) if verified => Ok(user),
        _ => Err(AuthError::WrongCredentials),
    }
}

fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no account has this password").unwrap_or_default())
}

/// Starts a signed-in session under a new id, so a session id seen before sign-in is
/// useless, in the person's first workspace. It ends after `lifetime` at the latest,
/// however busy. `NoWorkspace` (and no session) for someone who belongs to none.
pub async fn sign_in(
    session: &Session,
    directory: &dyn Directory,
    user: &UserRecord,
    lifetime: std::time::Duration,
) -> Result<Membership, AuthError> {
    let first = directory.memberships(user.id).await?.into_iter().next().ok_or(AuthError::NoWorkspace)?;
    session.cycle_id().await?;
    session.insert(SESSION_USER_KEY, user.id).await?;
    session.insert(SESSION_WORKSPACE_KEY, first.workspace.id).await?;
    let ends_at = unix_now().saturating_add(lifetime.as_secs().try_into().unwrap_or(i64::MAX));
    session.insert(SESSION_DEADLINE_KEY, ends_at).await?;
    Ok(first)
}

/// Shows another of the person's workspaces from now on; `NotAMember` (and nothing
/// changed) for a workspace they do not belong to.
pub async fn switch_workspace(
    session: &Session,
    directory: &dyn Directory,
    user_id: i64,
    workspace: i64,
) -> Result<Membership, AuthError> {
    let membership = directory.memberships(user_id).await?.into_iter().find(|m| m.workspace.id == workspace);
    let membership = membership.ok_or(AuthError::NotAMember)?;
    session.insert(SESSION_WORKSPACE_KEY, workspace).await?;
    Ok(membership)
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

/// The signed-in user as the directory knows them now, in the workspace they look at, if
/// any. The session only says who signed in and which workspace they chose: memberships
/// and roles are read afresh, so a demoted person loses their rights, one removed from
/// the workspace falls back to another of theirs, and a deleted one (or one left in no
/// workspace) loses the session, at their next request. A session past its deadline,
/// or one that cannot be read, is ended and counts as signed out.
pub async fn session_user(session: &Session, directory: &dyn Directory) -> Result<Option<SessionUser>, AuthError> {
    let signed_in = session.get::<i64>(SESSION_USER_KEY).await.ok().flatten();
    let ends_at = session.get::<i64>(SESSION_DEADLINE_KEY).await.ok().flatten();
    let chosen = session.get::<i64>(SESSION_WORKSPACE_KEY).await.ok().flatten();
    let Some(signed_in) = signed_in else {
        return Ok(None);
    };
    let current = match ends_at {
        Some(ends_at) if unix_now() < ends_at => directory.user_by_id(signed_in).await?,
        _ => None,
    };
    let memberships = match &current {
        Some(user) => directory.memberships(user.id).await?,
        None => Vec::new(),
    };
    let here = memberships.iter().find(|m| Some(m.workspace.id) == chosen).or(memberships.first()).cloned();
    let (Some(user), Some(here)) = (current, here) else {
        session.flush().await?;
        return Ok(None);
    };
    if chosen != Some(here.workspace.id) {
        session.insert(SESSION_WORKSPACE_KEY, here.workspace.id).await?;
    }
    Ok(Some(SessionUser {
        id: user.id,
        email: user.email,
        role: here.role,
        workspace: here.workspace,
        workspaces: memberships,
    }))
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
