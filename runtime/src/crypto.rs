//! Password hashing, token generation, digests and cookie signing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// Argon2id memory cost in KiB (OWASP, S04).
pub const ARGON2_M_COST: u32 = 19_456;
/// Argon2id iterations (OWASP, S04).
pub const ARGON2_T_COST: u32 = 2;
/// Argon2id parallelism (OWASP, S04).
pub const ARGON2_P_COST: u32 = 1;

/// A new session or verification token: 256 bits from the OS CSPRNG, base64url (S11, S21).
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new row id: 32 alphanumeric characters, like Better Auth's.
pub fn generate_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = OsRng;
    (0..32)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Hex SHA-256 of a token: what the database stores instead of the token (S11).
pub fn token_digest(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(byte & 0x0f)]));
    }
    out
}

fn mac(secret: &str) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length")
}

/// `<token>.<base64 HMAC-SHA256(secret, token)>`: the cookie value and bearer form.
pub fn sign_token(secret: &str, token: &str) -> String {
    let mut m = mac(secret);
    m.update(token.as_bytes());
    format!("{token}.{}", STANDARD.encode(m.finalize().into_bytes()))
}

/// The token inside a signed value when the signature is valid (constant-time check).
pub fn verify_signed<'a>(secret: &str, value: &'a str) -> Option<&'a str> {
    let (token, signature) = value.rsplit_once('.')?;
    let signature = STANDARD.decode(signature).ok()?;
    let mut m = mac(secret);
    m.update(token.as_bytes());
    m.verify_slice(&signature).ok()?;
    Some(token)
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The password matches.
    pub ok: bool,
    /// The stored hash uses other parameters or another algorithm and should be
    /// replaced by a fresh Argon2id hash now that the password is known.
    pub needs_rehash: bool,
}

/// Argon2id hashing off the async workers (S04), at most one job per core at a
/// time so a burst of sign-ins queues instead of starving everything else.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    verifications: Arc<AtomicU64>,
    dummy_hash: Arc<String>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").finish_non_exhaustive()
    }
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(ARGON2_M_COST, ARGON2_T_COST, ARGON2_P_COST, None)
        .expect("OWASP Argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
}

fn verify_blocking(password: &str, stored: &str) -> Verified {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verified {
            ok: false,
            needs_rehash: false,
        };
    };
    let ok = argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    let current = parsed.algorithm.as_str() == "argon2id"
        && parsed.params.get_decimal("m") == Some(ARGON2_M_COST)
        && parsed.params.get_decimal("t") == Some(ARGON2_T_COST)
        && parsed.params.get_decimal("p") == Some(ARGON2_P_COST);
    Verified {
        ok,
        needs_rehash: ok && !current,
    }
}

impl PasswordHasher {
    /// A hasher allowing as many concurrent hashes as the machine has cores.
    pub fn new() -> Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        // The dummy hash makes unknown-email sign-ins cost one verification (S07).
        let dummy = hash_blocking(&generate_token())?;
        Ok(PasswordHasher {
            permits: Arc::new(Semaphore::new(cores)),
            verifications: Arc::new(AtomicU64::new(0)),
            dummy_hash: Arc::new(dummy),
        })
    }

    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Internal("password hasher closed".into()))?;
        tokio::task::spawn_blocking(job)
            .await
            .map_err(|e| Error::Internal(format!("password hashing task failed: {e}")))
    }

    /// Hashes a password into an Argon2id PHC string.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = password.to_owned();
        self.run(move || hash_blocking(&password)).await?
    }

    /// Checks a password against a stored PHC string.
    pub async fn verify(&self, password: &str, stored: &str) -> Result<Verified> {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let password = password.to_owned();
        let stored = stored.to_owned();
        self.run(move || verify_blocking(&password, &stored)).await
    }

    /// Spends one verification on a throwaway hash, so that an unknown email
    /// takes as long as a wrong password (S07). Always "no match".
    pub async fn verify_dummy(&self, password: &str) -> Result<()> {
        let dummy = self.dummy_hash.clone();
        self.verify(password, &dummy).await.map(|_| ())
    }

    /// How many password verifications this hasher has run (diagnostics, S07 tests).
    pub fn verification_count(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }
}
