//! Authenticator secrets at rest: ChaCha20-Poly1305 under a key derived from
//! the app's secret, so a copy of the database alone does not give an
//! attacker the codes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use better_auth::{AuthContext, Error, Result};
use rand::RngCore;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use sha2::{Digest, Sha256};

/// What the key is derived for; a new label would be a new key.
const KEY_LABEL: &str = "better-auth two-factor secret key v1";

/// The instance's key: SHA-256 of the HMAC of [`KEY_LABEL`] under the app's
/// secret (the context signs with that HMAC).
fn key(ctx: &AuthContext) -> LessSafeKey {
    let derived = Sha256::digest(ctx.sign(KEY_LABEL).as_bytes());
    LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &derived).expect("a 32-byte key"))
}

/// `nonce || ciphertext || tag`, base64url.
pub(crate) fn seal(ctx: &AuthContext, plain: &[u8]) -> String {
    let mut nonce = [0u8; NONCE_LEN];
    rand::thread_rng().fill_bytes(&mut nonce);
    let mut sealed = plain.to_vec();
    key(ctx)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::empty(),
            &mut sealed,
        )
        .expect("ChaCha20-Poly1305 seals any length used here");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    URL_SAFE_NO_PAD.encode(out)
}

/// The plaintext of [`seal`]'s output; an error when it was sealed under
/// another secret or altered.
pub(crate) fn open(ctx: &AuthContext, sealed: &str) -> Result<Vec<u8>> {
    let unreadable = || {
        Error::Internal(
            "a two-factor secret cannot be decrypted: was the app's secret changed?".into(),
        )
    };
    let mut bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| unreadable())?;
    if bytes.len() < NONCE_LEN {
        return Err(unreadable());
    }
    let nonce = Nonce::try_assume_unique_for_key(&bytes[..NONCE_LEN]).map_err(|_| unreadable())?;
    let plain = key(ctx)
        .open_in_place(nonce, Aad::empty(), &mut bytes[NONCE_LEN..])
        .map_err(|_| unreadable())?;
    Ok(plain.to_vec())
}
