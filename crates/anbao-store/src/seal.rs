//! Sealing of personal and secret fields at rest (phone, e-mail, TOTP
//! secrets) with ChaCha20-Poly1305 under a key kept outside the database,
//! in the secrets file. A database dump alone does not reveal them.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    #[error("field key must be 64 hex characters (32 bytes)")]
    BadKey,
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value does not open with this key (wrong secrets file?)")]
    WrongKey,
}

const PREFIX: &str = "v1:";

#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    pub fn from_hex(key_hex: &str) -> Result<Sealer, SealError> {
        let bytes = hex::decode(key_hex.trim()).map_err(|_| SealError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SealError::BadKey);
        }
        Ok(Sealer { cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)) })
    }

    /// A new random key, hex-encoded, for a new secrets file.
    pub fn generate_key_hex() -> String {
        crate::random_hex(32)
    }

    /// Seals `plain`; the empty string stays empty so "not set" is visible.
    pub fn seal(&self, plain: &str) -> Result<String, SealError> {
        if plain.is_empty() {
            return Ok(String::new());
        }
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self.cipher.encrypt(Nonce::from_slice(&nonce), plain.as_bytes()).map_err(|_| SealError::Malformed)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("{PREFIX}{}", hex::encode(out)))
    }

    pub fn open(&self, sealed: &str) -> Result<String, SealError> {
        if sealed.is_empty() {
            return Ok(String::new());
        }
        let body = sealed.strip_prefix(PREFIX).ok_or(SealError::Malformed)?;
        let bytes = hex::decode(body).map_err(|_| SealError::Malformed)?;
        if bytes.len() < 12 + 16 {
            return Err(SealError::Malformed);
        }
        let (nonce, ct) = bytes.split_at(12);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), ct).map_err(|_| SealError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| SealError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_and_hides_the_value() {
        let s = Sealer::from_hex(&Sealer::generate_key_hex()).expect("key");
        let sealed = s.seal("13800138000").expect("seal");
        assert!(!sealed.contains("13800138000"));
        assert_ne!(sealed, s.seal("13800138000").expect("seal"), "nonce must differ");
        assert_eq!(s.open(&sealed).expect("open"), "13800138000");
        assert_eq!(s.seal("").expect("seal"), "");
    }

    #[test]
    fn wrong_key_and_garbage_are_errors() {
        let a = Sealer::from_hex(&Sealer::generate_key_hex()).expect("key");
        let b = Sealer::from_hex(&Sealer::generate_key_hex()).expect("key");
        let sealed = a.seal("x").expect("seal");
        assert!(matches!(b.open(&sealed), Err(SealError::WrongKey)));
        assert!(matches!(a.open("v1:zz"), Err(SealError::Malformed)));
        assert!(matches!(a.open("v1:00"), Err(SealError::Malformed)));
        assert!(matches!(Sealer::from_hex("abcd"), Err(SealError::BadKey)));
    }
}
