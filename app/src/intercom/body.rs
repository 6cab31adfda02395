//! Answers are read with a ceiling: a server that sends without end (a fault, or a
//! stand-in that is not Intercom) must not take the process's memory with it.

/// Far above any page Intercom sends (150 contacts with their attributes are a few MB).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

pub enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

impl BodyError {
    /// The error of a call whose answer (with `status`) could not be read.
    pub fn into_error(self, status: u16) -> super::error::IntercomError {
        match self {
            Self::TooLarge => super::error::IntercomError::TooLarge { status, limit: MAX_BODY_BYTES },
            Self::Transport(err) => super::error::IntercomError::Transport(err.to_string()),
        }
    }
}

/// The whole body, or `TooLarge` as soon as it passes `limit` (before reading, when the
/// length is announced).
pub async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
