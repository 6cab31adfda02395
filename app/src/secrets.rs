//! Intercom access tokens at rest: encrypted with the deployment's secret key.
//!
//! XChaCha20-Poly1305, so that a fresh random 24-byte nonce per encryption is safe, and the
//! ciphertext is authenticated: a changed key or a damaged row fails to decrypt rather than
//! yielding a wrong token. The associated data names what the bytes are, so a ciphertext made
//! for some other purpose with the same key cannot be passed off as an Intercom token.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};

/// 32 bytes that never show up in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(pub [u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

const ASSOCIATED_DATA: &[u8] = b"skalin/intercom-token/v1";
const NONCE_LEN: usize = 24;

/// A token as the database keeps it.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptedToken {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

// Lengths only: even encrypted, the bytes have no business in logs.
impl fmt::Debug for EncryptedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptedToken({} + {} bytes)", self.nonce.len(), self.ciphertext.len())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the stored Intercom token cannot be decrypted with this secret key (was the key changed?)")]
    WrongKeyOrCorrupt,
}

fn cipher(key: &SecretKey) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(Key::from_slice(&key.0))
}

pub fn encrypt_token(key: &SecretKey, token: &SecretString) -> EncryptedToken {
    let nonce: [u8; NONCE_LEN] = rand::random();
    let payload = Payload { msg: token.expose_secret().as_bytes(), aad: ASSOCIATED_DATA };
    let ciphertext = cipher(key)
        .encrypt(XNonce::from_slice(&nonce), payload)
        // Only fails past 256 GiB of plaintext.
        .expect("an Intercom token is small enough to encrypt");
    EncryptedToken { nonce: nonce.to_vec(), ciphertext }
}

pub fn decrypt_token(key: &SecretKey, token: &EncryptedToken) -> Result<SecretString, SecretError> {
    if token.nonce.len() != NONCE_LEN {
        return Err(SecretError::WrongKeyOrCorrupt);
    }
    let payload = Payload { msg: token.ciphertext.as_slice(), aad: ASSOCIATED_DATA };
    let plaintext =
        cipher(key).decrypt(XNonce::from_slice(&token.nonce), payload).map_err(|_| SecretError::WrongKeyOrCorrupt)?;
    let text = String::from_utf8(plaintext).map_err(|_| SecretError::WrongKeyOrCorrupt)?;
    Ok(SecretString::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "dG9rOmFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6";

    fn key(byte: u8) -> SecretKey {
        SecretKey([byte; 32])
    }

    fn token() -> SecretString {
        SecretString::from(TOKEN.to_string())
    }

    #[test]
    fn a_token_decrypts_to_itself() {
        let encrypted = encrypt_token(&key(1), &token());
        let decrypted = decrypt_token(&key(1), &encrypted).unwrap();
        assert_eq!(decrypted.expose_secret(), TOKEN);
        assert_eq!(encrypted.nonce.len(), NONCE_LEN);
    }

    #[test]
    fn two_encryptions_of_the_same_token_differ() {
        let first = encrypt_token(&key(1), &token());
        let second = encrypt_token(&key(1), &token());
        assert_ne!(first.nonce, second.nonce);
        assert_ne!(first.ciphertext, second.ciphertext);
    }

    #[test]
    fn another_key_cannot_decrypt_it() {
        let encrypted = encrypt_token(&key(1), &token());
        let err = decrypt_token(&key(2), &encrypted).unwrap_err();
        assert!(matches!(err, SecretError::WrongKeyOrCorrupt), "{err}");
    }

    #[test]
    fn a_damaged_ciphertext_cannot_be_decrypted() {
        let mut encrypted = encrypt_token(&key(1), &token());
        encrypted.ciphertext[0] ^= 0x01;
        assert!(matches!(decrypt_token(&key(1), &encrypted), Err(SecretError::WrongKeyOrCorrupt)));

        let mut short_nonce = encrypt_token(&key(1), &token());
        short_nonce.nonce.pop();
        assert!(matches!(decrypt_token(&key(1), &short_nonce), Err(SecretError::WrongKeyOrCorrupt)));
    }

    #[test]
    fn the_ciphertext_does_not_contain_the_token() {
        let encrypted = encrypt_token(&key(1), &token());
        let plain = TOKEN.as_bytes();
        assert!(!encrypted.ciphertext.windows(plain.len()).any(|w| w == plain));
        // Nor any recognisable piece of it.
        assert!(!encrypted.ciphertext.windows(8).any(|w| plain.windows(8).any(|p| p == w)));
    }

    #[test]
    fn debug_output_shows_no_bytes() {
        let encrypted = EncryptedToken { nonce: vec![0xAB; 24], ciphertext: vec![0xCD; 10] };
        let shown = format!("{encrypted:?}");
        assert_eq!(shown, "EncryptedToken(24 + 10 bytes)");
    }
}
