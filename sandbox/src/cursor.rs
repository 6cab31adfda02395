//! Opaque cursors for `starting_after`: base64 of a JSON key, as Intercom's are.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

/// Three bytes that encode to "+/+/": every cursor carries both characters that break a
/// client which forgets to URL-encode it, as the live API's cursors sometimes do.
const PREFIX: [u8; 3] = [0xFB, 0xFF, 0xBF];

pub fn encode(key: &Value) -> String {
    let mut bytes = PREFIX.to_vec();
    bytes.extend_from_slice(key.to_string().as_bytes());
    STANDARD.encode(bytes)
}

pub fn decode(cursor: &str) -> Option<Value> {
    let bytes = STANDARD.decode(cursor.trim()).ok()?;
    let rest = bytes.strip_prefix(&PREFIX[..])?;
    serde_json::from_slice(rest).ok()
}
