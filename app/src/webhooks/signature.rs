//! `X-Hub-Signature: sha1=<40 lowercase hex>`: the HMAC-SHA1 of the raw body, keyed with
//! the OAuth app's client secret (REFERENCE §9), compared in constant time.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The header's value for `body`, as Intercom sends it.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let digest = mac(secret, body).finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha1={hex}")
}

/// Whether `header` is the signature of `body` under `secret`. Upper-case hex is taken
/// too; anything else (no header, another scheme, a bad length) is not.
pub fn signature_matches(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header.map(str::trim).and_then(|h| h.strip_prefix("sha1=")) else { return false };
    let Some(expected) = decode_hex(hex) else { return false };
    // `verify_slice` compares in constant time.
    mac(secret, body).verify_slice(&expected).is_ok()
}

fn mac(secret: &[u8], body: &[u8]) -> Hmac<Sha1> {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    mac
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 40 || !hex.is_ascii() {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"client-secret";
    const BODY: &[u8] = br#"{"type":"notification_event","id":"notif_1","topic":"ping"}"#;

    #[test]
    fn a_body_signed_with_the_secret_matches() {
        let header = sign(SECRET, BODY);
        assert!(header.starts_with("sha1=") && header.len() == 45, "{header}");
        assert!(signature_matches(SECRET, BODY, Some(&header)));
        assert!(signature_matches(SECRET, BODY, Some(&header.to_uppercase().replace("SHA1=", "sha1="))));
    }

    #[test]
    fn another_body_another_secret_or_no_header_does_not() {
        let header = sign(SECRET, BODY);
        assert!(!signature_matches(SECRET, b"{}", Some(&header)));
        assert!(!signature_matches(b"other-secret", BODY, Some(&header)));
        assert!(!signature_matches(SECRET, BODY, None));
        for bad in ["", "sha1=", "sha256=00", &header[5..], &format!("{header}00"), "sha1=zz"] {
            assert!(!signature_matches(SECRET, BODY, Some(bad)), "{bad}");
        }
    }

    #[test]
    fn the_signature_is_intercoms_hmac_sha1_of_the_raw_body() {
        // RFC 2202, test case 2: HMAC-SHA1("Jefe", "what do ya want for nothing?").
        let header = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(header, "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }
}
