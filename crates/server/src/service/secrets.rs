//! Passwords and tokens: argon2id for what people choose, SHA-256 for the
//! 256-bit random tokens the server makes (they cannot be guessed, so a slow
//! hash would only slow every request).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::principals::TokenHash;
use crate::limits::Claim;
use crate::{Error, Result};

/// Marks Herald tokens so secret scanners and people can recognise them.
const TOKEN_PREFIX: &str = "hrld_";
pub const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_CHARS: usize = 256;

pub fn check_password_policy(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(Error::BadRequest(format!(
            "password must be {MIN_PASSWORD_CHARS}-{MAX_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

/// Hashes on a claimed password thread (argon2id is deliberately slow; see
/// `limits::HashPool`).
pub async fn hash_password(thread: Claim, password: String) -> Result<String> {
    thread
        .run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| Error::Internal(format!("hashing a password: {e}")))
        })
        .await?
}

/// Checks a password against a stored hash. With no hash (unknown user) it still
/// does the work, so response time does not reveal which usernames exist.
pub async fn verify_password(
    thread: Claim,
    password: String,
    hash: Option<String>,
) -> Result<bool> {
    thread
        .run(move || {
            let hash = hash.unwrap_or_else(dummy_hash);
            let parsed = PasswordHash::new(&hash)
                .map_err(|e| Error::Internal(format!("stored password hash is invalid: {e}")))?;
            Ok(Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await?
}

fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(b"not-a-real-password", &salt)
                .expect("hashing a constant")
                .to_string()
        })
        .clone()
}

/// A new random token and the hash to store.
pub fn new_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_token(&token).to_vec();
    (token, hash)
}

pub fn hash_token(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// A password for the first admin when none was configured.
pub fn generate_password() -> String {
    let mut bytes = [0u8; 18];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_only_against_its_own_hash() {
        let pool = crate::limits::HashPool::new(2, Default::default()).unwrap();
        let verify = |password: &str, hash: Option<String>| {
            verify_password(pool.claim(None).unwrap(), password.into(), hash)
        };
        let hash = hash_password(pool.claim(None).unwrap(), "correct horse".into())
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify("correct horse", Some(hash.clone())).await.unwrap());
        assert!(!verify("wrong horse", Some(hash)).await.unwrap());
        assert!(!verify("anything", None).await.unwrap());
    }

    #[test]
    fn tokens_are_random_and_stored_only_as_hashes() {
        let (a, hash_a) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() > 40);
        assert_eq!(hash_token(&a).to_vec(), hash_a);
        assert_ne!(hash_a, a.as_bytes());
    }
}
