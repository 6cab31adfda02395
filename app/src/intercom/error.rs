use serde::Deserialize;

pub type Result<T, E = IntercomError> = std::result::Result<T, E>;

/// One entry of Intercom's `error.list`, with the request it came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiError {
    pub code: String,
    pub message: Option<String>,
    pub field: Option<String>,
    pub request_id: Option<String>,
    /// Named by a 403 when the token lacks a permission (docs 2.17: `data.required_permissions`).
    pub required_permissions: Vec<String>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message.as_deref().unwrap_or(&self.code))?;
        if let Some(field) = &self.field {
            write!(f, " (field {field})")?;
        }
        if self.message.is_some() {
            write!(f, " [{}]", self.code)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, ", request {id}")?;
        }
        Ok(())
    }
}

// Intercom's error details are boxed: every call returns this in its `Result`, and the
// rare failure should not make each success carry its weight.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IntercomError {
    /// 401: the token was revoked or is wrong; the connection must be made again.
    #[error("Intercom refused the access token; reconnect the integration: {0}")]
    Unauthorized(Box<ApiError>),
    /// 403: the app lacks a permission.
    #[error("Intercom denied access{}: {error}", missing(.error))]
    Forbidden { error: Box<ApiError> },
    #[error("not found in Intercom: {0}")]
    NotFound(Box<ApiError>),
    /// 410: a merged contact; `canonical` is the id that replaced it (from `Link`).
    #[error("gone from Intercom (merged into {canonical:?}): {error}")]
    Gone { error: Box<ApiError>, canonical: Option<String> },
    /// 400, 409, 422…: the request was refused as it stands.
    #[error("Intercom refused the request (HTTP {status}): {error}")]
    Invalid { status: u16, error: Box<ApiError> },
    #[error("Intercom's rate limit was still exceeded after waiting: {0}")]
    RateLimited(Box<ApiError>),
    #[error("Intercom failed (HTTP {status}) and kept failing after retries: {error}")]
    Server { status: u16, error: Box<ApiError> },
    #[error("could not reach Intercom: {0}")]
    Transport(String),
    /// A success status whose body did not read as expected.
    #[error("Intercom answered HTTP {status} with a body that could not be read ({message}){}", request(.request_id))]
    Decode { status: u16, message: String, request_id: Option<String> },
    /// The body passed `limit` bytes and was not read further.
    #[error("Intercom's answer (HTTP {status}) was larger than {} MiB, so it was not read", .limit / (1024 * 1024))]
    TooLarge { status: u16, limit: usize },
    #[error("another company scroll is open for this workspace and did not end in time; try again in a minute")]
    ScrollBusy,
    #[error("the company scroll could not be completed: {0}")]
    ScrollIncomplete(String),
    #[error("invalid Intercom request: {0}")]
    Config(String),
}

fn missing(error: &ApiError) -> String {
    if error.required_permissions.is_empty() {
        String::new()
    } else {
        format!(" (missing permission: {})", error.required_permissions.join(", "))
    }
}

fn request(id: &Option<String>) -> String {
    id.as_ref().map(|id| format!(", request {id}")).unwrap_or_default()
}

impl IntercomError {
    /// The `request_id` Intercom gave, to quote to its support.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Unauthorized(e) | Self::NotFound(e) | Self::RateLimited(e) => e.request_id.as_deref(),
            Self::Forbidden { error }
            | Self::Gone { error, .. }
            | Self::Invalid { error, .. }
            | Self::Server { error, .. } => error.request_id.as_deref(),
            Self::Decode { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    pub fn needs_reconnect(&self) -> bool {
        matches!(self, Self::Unauthorized(_))
    }

    /// A 409 to a contact creation names the contact that already has those details:
    /// "A contact matching those details already exists with id=…".
    pub fn existing_contact_id(&self) -> Option<&str> {
        let Self::Invalid { status: 409, error } = self else { return None };
        let (_, rest) = error.message.as_deref()?.split_once("id=")?;
        let id = rest.split(|c: char| !c.is_ascii_alphanumeric()).next()?;
        (!id.is_empty()).then_some(id)
    }

    /// The first error code, where Intercom gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Unauthorized(e) | Self::NotFound(e) | Self::RateLimited(e) => Some(&e.code),
            Self::Forbidden { error }
            | Self::Gone { error, .. }
            | Self::Invalid { error, .. }
            | Self::Server { error, .. } => Some(&error.code),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct ErrorList {
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

#[derive(Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    data: Option<serde_json::Value>,
}

/// Reads an error body; a body that is not an `error.list` still yields a usable error.
pub(crate) fn decode_error(status: u16, body: &[u8], header_request_id: Option<String>) -> ApiError {
    match serde_json::from_slice::<ErrorList>(body) {
        Ok(list) => {
            let first = list.errors.into_iter().next();
            let required_permissions = first
                .as_ref()
                .and_then(|e| e.data.as_ref())
                .and_then(|d| d.get("required_permissions"))
                .and_then(|p| p.as_array())
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            let (code, message, field) = match first {
                Some(e) => (e.code.unwrap_or_else(|| format!("http_{status}")), e.message, e.field),
                None => (format!("http_{status}"), None, None),
            };
            ApiError { code, message, field, request_id: list.request_id.or(header_request_id), required_permissions }
        }
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            ApiError {
                code: format!("http_{status}"),
                message: (!text.is_empty()).then(|| text.chars().take(200).collect()),
                field: None,
                request_id: header_request_id,
                required_permissions: Vec::new(),
            }
        }
    }
}

/// The typed error for a final (non-retried) failure status.
pub(crate) fn error_for_status(status: u16, error: ApiError, link: Option<&str>) -> IntercomError {
    let error = Box::new(error);
    match status {
        401 => IntercomError::Unauthorized(error),
        403 => IntercomError::Forbidden { error },
        404 => IntercomError::NotFound(error),
        410 => IntercomError::Gone { error, canonical: link.and_then(canonical_from_link) },
        429 => IntercomError::RateLimited(error),
        500..=599 => IntercomError::Server { status, error },
        _ => IntercomError::Invalid { status, error },
    }
}

/// `</contacts/abc>; rel="canonical"` → `abc`.
fn canonical_from_link(link: &str) -> Option<String> {
    link.split(',')
        .find(|part| part.contains("rel=\"canonical\"") || part.contains("rel=canonical"))
        .and_then(|part| part.split_once('<'))
        .and_then(|(_, rest)| rest.split_once('>'))
        .and_then(|(url, _)| url.rsplit('/').next())
        .filter(|id| !id.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_on_creating_a_contact_names_the_contact_that_exists() {
        let error = |status, message: &str| IntercomError::Invalid {
            status,
            error: Box::new(ApiError {
                code: "conflict".into(),
                message: Some(message.into()),
                field: None,
                request_id: None,
                required_permissions: vec![],
            }),
        };
        let conflict = error(409, "A contact matching those details already exists with id=6762f0dd1bb69f9f2193bb83");
        assert_eq!(conflict.existing_contact_id(), Some("6762f0dd1bb69f9f2193bb83"));
        assert_eq!(error(400, "already exists with id=abc").existing_contact_id(), None);
        assert_eq!(error(409, "Something else").existing_contact_id(), None);
    }

    #[test]
    fn an_error_list_keeps_code_message_field_and_request_id() {
        let body = br#"{"type":"error.list","request_id":"req-1","errors":[{"code":"parameter_invalid","message":"Bad","field":"email"}]}"#;
        let e = decode_error(400, body, None);
        assert_eq!(e.code, "parameter_invalid");
        assert_eq!(e.message.as_deref(), Some("Bad"));
        assert_eq!(e.field.as_deref(), Some("email"));
        assert_eq!(e.request_id.as_deref(), Some("req-1"));
    }

    #[test]
    fn a_forbidden_error_names_the_missing_permission() {
        let body = br#"{"type":"error.list","request_id":null,"errors":[{"code":"action_forbidden","message":"no","data":{"required_permissions":["Read tickets"]}}]}"#;
        let err = error_for_status(403, decode_error(403, body, Some("hdr".into())), None);
        assert!(err.to_string().contains("missing permission: Read tickets"), "{err}");
        assert_eq!(err.request_id(), Some("hdr"));
    }

    #[test]
    fn a_body_that_is_not_an_error_list_still_makes_an_error() {
        let e = decode_error(502, b"<html>Bad Gateway</html>", None);
        assert_eq!(e.code, "http_502");
        assert_eq!(e.message.as_deref(), Some("<html>Bad Gateway</html>"));
    }

    #[test]
    fn a_401_asks_for_a_reconnection() {
        let err = error_for_status(401, ApiError { code: "unauthorized".into(), ..Default::default() }, None);
        assert!(err.needs_reconnect());
    }

    #[test]
    fn a_410_names_the_canonical_contact_from_the_link_header() {
        let err = error_for_status(410, ApiError::default(), Some(r#"</contacts/abc123>; rel="canonical""#));
        assert!(matches!(err, IntercomError::Gone { canonical: Some(ref id), .. } if id == "abc123"), "{err:?}");
    }
}
