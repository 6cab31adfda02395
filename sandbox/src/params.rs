//! Query strings and JSON bodies read by hand, so a malformed one gets Intercom's error
//! envelope instead of axum's plain-text rejection.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::error::ApiError;

pub struct Query(pub HashMap<String, String>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        Query(url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()).into_owned().collect())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| ApiError::parameter_invalid(format!("{key} must be an integer")).with_field(key)),
        }
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::parameter_invalid(format!("{key} must be true or false")).with_field(key)),
        }
    }
}

/// An empty body reads as `{}`; anything that is not a JSON object is refused.
pub fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("Request body must be a JSON object")),
        Err(_) => {
            Err(ApiError::new(axum::http::StatusCode::BAD_REQUEST, "parameter_invalid", "Invalid JSON in request body"))
        }
    }
}

/// `page`/`per_page` for page-numbered lists, clamped like the live API.
pub fn page_params(query: &Query, default_per_page: i64, max_per_page: i64) -> Result<(i64, i64), ApiError> {
    let page = query.int("page")?.unwrap_or(1).max(1);
    let per_page = query.int("per_page")?.unwrap_or(default_per_page).clamp(1, max_per_page);
    Ok((page, per_page))
}
