//! Password hashes written by Better Auth (TypeScript): scrypt with N=16384,
//! r=16, p=1 and a 64-byte key, over the NFKC-normalised password, stored as
//! `saltHex:keyHex` (the salt is used as its hex text). Users migrating from
//! Better Auth sign in with their old passwords; the runtime then replaces the
//! hash with Argon2id (S04).

use unicode_normalization::UnicodeNormalization;

/// `Some(matches)` when `stored` is a Better Auth scrypt hash, else `None`.
pub(crate) fn verify_better_auth_scrypt(password: &str, stored: &str) -> Option<bool> {
    let (salt, key_hex) = stored.split_once(':')?;
    let is_hex =
        |s: &str| !s.is_empty() && s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if !is_hex(salt) || !is_hex(key_hex) || key_hex.len() != 128 {
        return None;
    }
    let expected: Vec<u8> = (0..key_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&key_hex[i..i + 2], 16))
        .collect::<Result<_, _>>()
        .ok()?;
    // log2(16384) = 14.
    let params = scrypt::Params::new(14, 16, 1, 64).ok()?;
    let normalized: String = password.nfkc().collect();
    let mut derived = [0u8; 64];
    scrypt::scrypt(
        normalized.as_bytes(),
        salt.as_bytes(),
        &params,
        &mut derived,
    )
    .ok()?;
    // Constant-time comparison.
    let diff = derived
        .iter()
        .zip(&expected)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    Some(diff == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors made with Node's `crypto.scryptSync` exactly as Better Auth calls it.
    const ASCII: &str = "fd1c8b15ef7a6d71f00696a9188b90c0:1578ed3f2bee0ee16546626da57f15694b915c0e4a363092a6ee049325b61cd1bbace9350db0d2831f7687d54ef74927643898e70b25c54c404ac6d97c3ff2f6";
    const UNICODE: &str = "fd1c8b15ef7a6d71f00696a9188b90c0:c7be3457e43161ad2d6ac3c9743cfe7e243a4f73d6cbf17033510ed2b661ab410a40f20b50c132b56af442e6624b52f21c1a5d610d1706fa2d452d15005058cc";

    #[test]
    fn verifies_better_auth_scrypt_hashes() {
        assert_eq!(
            verify_better_auth_scrypt("correct horse battery staple", ASCII),
            Some(true)
        );
        assert_eq!(
            verify_better_auth_scrypt("correct horse battery stapler", ASCII),
            Some(false)
        );
        assert_eq!(
            verify_better_auth_scrypt("Ünïcödé passwörd", UNICODE),
            Some(true)
        );
        assert_eq!(
            verify_better_auth_scrypt("x", "$argon2id$v=19$m=19456,t=2,p=1$abc$def"),
            None
        );
    }
}
