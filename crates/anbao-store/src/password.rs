//! Password hashing with argon2id (OWASP's recommended parameters, the
//! crate's defaults). Hashing is deliberately slow, so it runs on the
//! blocking pool instead of stalling the async workers.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::{Result, StoreError};

pub async fn hash_password(password: &str) -> Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| StoreError::Hash(e.to_string()))?
}

/// Whether `password` matches `stored`. A malformed stored hash never matches.
pub async fn verify_password(password: &str, stored: &str) -> bool {
    let password = password.to_owned();
    let stored = stored.to_owned();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password, verified against when the user does not
/// exist so that unknown names take as long as wrong passwords.
pub(crate) const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$O2e7lDdCMg0Bc6VDPXq5V6rSLKc6iPCiY9N6IOdVpXA";

/// A random 24-character password that passes the password policy for
/// `username` (generated passwords are printed once, for first logins and
/// recovery).
pub fn generate_password(username: &str) -> String {
    loop {
        let candidate = crate::random_hex(12);
        if anbao_model::validate::password(username, &candidate).is_ok() {
            return candidate;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_password("correct horse battery").await.expect("hash");
        let b = hash_password("correct horse battery").await.expect("hash");
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(verify_password("correct horse battery", &a).await);
        assert!(!verify_password("wrong horse battery", &a).await);
        assert!(!verify_password("x", "not a hash").await);
        assert!(!verify_password("x", DUMMY_HASH).await);
    }
}
