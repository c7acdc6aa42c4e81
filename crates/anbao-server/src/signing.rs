//! The Ed25519 key that signs outbound incident reports, and the check of
//! inbound signatures (R8.5, S1). The key is a PKCS#8 file generated on
//! first use with mode 0600; it is linked into place atomically, so two
//! processes sharing the data directory end up with the same key. The
//! signature covers the sending time and the exact bytes of the request
//! body ([`signed_message`]), so a captured request cannot be replayed
//! later; the scheme is in `docs/incident-reports.md`.

use std::path::Path;

use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

/// Header naming the signing key (`anbao_model::report::key_id_of`).
pub const KEY_ID_HEADER: &str = "x-anbao-key-id";
/// Header carrying the detached Ed25519 signature of [`signed_message`], hex.
pub const SIGNATURE_HEADER: &str = "x-anbao-signature";
/// Header carrying the sending time, Unix seconds (decimal), also signed.
pub const TIMESTAMP_HEADER: &str = "x-anbao-timestamp";

/// What the signature covers: the timestamp header's text, a line feed,
/// then the body bytes exactly as sent.
pub fn signed_message(timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(timestamp.len() + 1 + body.len());
    m.extend_from_slice(timestamp.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(body);
    m
}

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("no report signing key is configured")]
    NotConfigured,
    #[error("report signing key {path}: {reason}")]
    Key { path: String, reason: String },
}

/// This instance's report signing key.
pub struct SigningKey {
    pair: Ed25519KeyPair,
    /// 64 hex digits.
    pub public_key: String,
    pub key_id: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.key_id)
    }
}

impl SigningKey {
    /// Reads the key at `path`, generating it first when there is none.
    pub fn load_or_create(path: &Path) -> Result<SigningKey, SigningError> {
        let bad = |reason: String| SigningError::Key { path: path.display().to_string(), reason };
        let pkcs8 = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path).map_err(|e| bad(e.to_string()))?,
            Err(e) => return Err(bad(e.to_string())),
        };
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|e| bad(format!("not an Ed25519 PKCS#8 key: {e}")))?;
        let public = pair.public_key().as_ref().to_vec();
        Ok(SigningKey { pair, public_key: hex::encode(&public), key_id: anbao_model::report::key_id_of(&public) })
    }

    /// The detached signature of `message`, hex.
    pub fn sign(&self, message: &[u8]) -> String {
        hex::encode(self.pair.sign(message).as_ref())
    }

    /// The signature header of `body` sent at `unix_seconds`:
    /// (timestamp header text, signature).
    pub fn sign_at(&self, unix_seconds: i64, body: &[u8]) -> (String, String) {
        let stamp = unix_seconds.to_string();
        let sig = self.sign(&signed_message(&stamp, body));
        (stamp, sig)
    }
}

/// Writes a new key to a private temporary file, then links it to `path`;
/// if another process got there first, its key wins and is read back.
fn create(path: &Path) -> std::io::Result<Vec<u8>> {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|_| std::io::Error::other("the system random generator failed"))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp)?;
        f.write_all(pkcs8.as_ref())?;
        f.sync_all()?;
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(pkcs8.as_ref().to_vec()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read(path),
        Err(e) => Err(e),
    }
}

/// Whether `signature_hex` is `public_key_hex`'s signature of `body`.
pub fn verify(public_key_hex: &str, body: &[u8], signature_hex: &str) -> bool {
    let (Ok(key), Ok(sig)) = (hex::decode(public_key_hex), hex::decode(signature_hex.trim())) else {
        return false;
    };
    UnparsedPublicKey::new(&ED25519, key).verify(body, &sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_created_private_once_and_its_signatures_verify() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/report-signing.key");
        let k = SigningKey::load_or_create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let again = SigningKey::load_or_create(&path).unwrap();
        assert_eq!((again.public_key.as_str(), again.key_id.as_str()), (k.public_key.as_str(), k.key_id.as_str()));
        assert_eq!(k.public_key.len(), 64);
        let sig = k.sign(b"{\"a\":1}");
        assert!(verify(&k.public_key, b"{\"a\":1}", &sig));
        assert!(!verify(&k.public_key, b"{\"a\":2}", &sig), "another body");
        assert!(!verify(&k.public_key, b"{\"a\":1}", &sig.replace('a', "b")), "another signature");
        assert!(!verify(&k.public_key, b"{\"a\":1}", "zz"), "not hex");
        let (stamp, sig_at) = k.sign_at(1_764_061_200, b"{}");
        assert_eq!(stamp, "1764061200");
        assert!(verify(&k.public_key, b"1764061200\n{}", &sig_at), "time and body are signed together");
        assert!(!verify(&k.public_key, b"1764061201\n{}", &sig_at), "another time");
        let other = SigningKey::load_or_create(&dir.path().join("other.key")).unwrap();
        assert!(!verify(&other.public_key, b"{\"a\":1}", &sig), "another key");
        std::fs::write(dir.path().join("junk.key"), b"junk").unwrap();
        assert!(SigningKey::load_or_create(&dir.path().join("junk.key")).is_err());
    }
}
