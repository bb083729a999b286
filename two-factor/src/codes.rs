//! The codes: authenticator (TOTP) secrets, URIs and verification, and
//! backup codes (shown once, stored as digests).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rand::Rng;
use rand::distributions::Alphanumeric;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

/// RFC 6238 as authenticator apps expect it: SHA-1, 6 digits, 30 s.
const DIGITS: usize = 6;
const PERIOD: u64 = 30;

/// How many backup codes are made, and their length (`xxxxx-xxxxx`).
const BACKUP_CODES: usize = 10;
const BACKUP_CODE_LEN: usize = 10;

/// A new authenticator secret: 20 random bytes (160 bits, RFC 4226's advice).
pub(crate) fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    rand::thread_rng().fill(&mut secret[..]);
    secret
}

fn totp(secret: &[u8]) -> TOTP {
    // `new_unchecked`: secrets we make are 160 bits; one adopted from a
    // Better Auth database may be shorter and must still work.
    TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 1, PERIOD, secret.to_vec())
}

/// What JavaScript's `encodeURIComponent` leaves as is (the URI is written
/// as Better Auth writes it).
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// The `otpauth://` URI an authenticator app scans (as a QR code).
pub(crate) fn totp_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    let encoded = Secret::Raw(secret.to_vec()).to_encoded().to_string();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("secret", encoded.trim_end_matches('='))
        .append_pair("issuer", issuer)
        .append_pair("digits", &DIGITS.to_string())
        .append_pair("period", &PERIOD.to_string())
        .finish();
    format!(
        "otpauth://totp/{}:{}?{query}",
        utf8_percent_encode(issuer, URI_COMPONENT),
        utf8_percent_encode(account, URI_COMPONENT)
    )
}

/// The time step (`unix time / 30`) whose code `code` is, among the current
/// one and its two neighbours (clock drift), compared in constant time.
pub(crate) fn matching_step(secret: &[u8], code: &str, unix_time: u64) -> Option<i64> {
    let totp = totp(secret);
    let now = unix_time / PERIOD;
    let mut found = None;
    for step in [now.saturating_sub(1), now, now + 1] {
        let expected = totp.generate(step * PERIOD);
        if bool::from(expected.as_bytes().ct_eq(code.trim().as_bytes())) {
            found = Some(step as i64);
        }
    }
    found
}

/// A new 6-digit code to send by email.
pub(crate) fn new_otp() -> String {
    format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32))
}

/// Ten new backup codes, `xxxxx-xxxxx` from letters and digits.
pub(crate) fn new_backup_codes() -> Vec<String> {
    (0..BACKUP_CODES)
        .map(|_| {
            let code: String = rand::thread_rng()
                .sample_iter(&Alphanumeric)
                .take(BACKUP_CODE_LEN)
                .map(char::from)
                .collect();
            format!("{}-{}", &code[..5], &code[5..])
        })
        .collect()
}

/// What is stored for a backup code: the runtime's token digest (SHA-256, hex)
/// of the code as typed, spaces trimmed. The codes carry 59 bits of randomness
/// each and are single-use, so a fast hash suffices.
pub(crate) fn digest(code: &str) -> String {
    better_auth::store::token_digest(code.trim())
}

/// The stored digests without the one `code` matches, or `None` when it
/// matches none (each digest compared in constant time).
pub(crate) fn use_backup_code(stored: &[String], code: &str) -> Option<Vec<String>> {
    let digest = digest(code);
    let mut used = false;
    let rest = stored
        .iter()
        .filter(|candidate| {
            let same = bool::from(candidate.as_bytes().ct_eq(digest.as_bytes()));
            used |= same;
            !same
        })
        .cloned()
        .collect();
    used.then_some(rest)
}
