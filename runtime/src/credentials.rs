//! A memo of checked session credentials.
//!
//! Every authenticated request carries its session token signed:
//! `<token>.<base64 HMAC-SHA256(secret, token)>`, as the session cookie or a
//! bearer value. Reading a session takes two hashes of it: the signature check
//! and the token's digest, the key the database and the session cache use.
//! Both are pure functions of the value and the instance's secret, so their
//! result never goes stale: this memo keeps them per signed value, and a
//! request presenting a value seen before skips the base64 decoding, both
//! hashes and the token's copy.
//!
//! - Only values whose signature checked out are kept: a forged or garbled
//!   value is checked (and refused) every time, and cannot fill the memo.
//! - Nothing here says whether a session is live: that is still read from
//!   the session cache or the database on every request, so a revoked
//!   session is refused exactly as without the memo.
//! - Memory is bounded: at most `capacity` values; when it is full, the memo
//!   starts over. A request never waits for the memo: when another request is
//!   writing it, the value is simply not remembered this time.
//! - Lookups hash the presented value with foldhash, seeded at random for
//!   each map, so a client cannot aim its values at one bucket; and only
//!   values the server signed are ever stored.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::crypto;

/// Signed values remembered at most (about 300 bytes each).
pub(crate) const DEFAULT_CAPACITY: usize = 10_000;

/// A session token as presented by a client, and its digest.
#[derive(Debug)]
pub(crate) struct Credential {
    /// The raw token.
    pub(crate) token: Box<str>,
    /// Its hex SHA-256 digest (S11), the key of its session row.
    pub(crate) digest: Box<str>,
}

impl Credential {
    /// The credential for a raw token (computes its digest).
    pub(crate) fn new(token: &str) -> Self {
        Credential {
            digest: crypto::token_digest(token).into_boxed_str(),
            token: token.into(),
        }
    }
}

/// Signed values whose signature checked out, with their token and digest.
#[derive(Debug)]
pub(crate) struct CredentialMemo {
    capacity: usize,
    entries: RwLock<HashMap<Box<str>, Arc<Credential>, foldhash::fast::RandomState>>,
}

impl CredentialMemo {
    /// An empty memo holding at most `capacity` values.
    pub(crate) fn new(capacity: usize) -> Self {
        CredentialMemo {
            capacity: capacity.max(1),
            entries: RwLock::new(HashMap::default()),
        }
    }

    /// The credential inside `signed` when its signature is valid: from the
    /// memo, or checked now (and remembered).
    pub(crate) fn check(
        &self,
        signer: &crypto::TokenSigner,
        signed: &str,
    ) -> Option<Arc<Credential>> {
        if let Some(found) = self
            .entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(signed)
        {
            return Some(found.clone());
        }
        let credential = Arc::new(Credential::new(signer.verify(signed)?));
        // Never wait for the lock: a busy memo only means a later request
        // checks this value again.
        if let Ok(mut entries) = self.entries.try_write() {
            if entries.len() >= self.capacity {
                entries.clear();
            }
            entries.insert(signed.into(), credential.clone());
        }
        Some(credential)
    }

    /// How many values are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a-test-secret-that-is-long-enough-0123456789";

    #[test]
    fn a_valid_value_gives_its_token_and_digest_and_is_remembered() {
        let signer = crypto::TokenSigner::new(SECRET);
        let memo = CredentialMemo::new(10);
        let signed = signer.sign("tok-1");
        for _ in 0..3 {
            let credential = memo.check(&signer, &signed).expect("valid signature");
            assert_eq!(&*credential.token, "tok-1");
            assert_eq!(&*credential.digest, crypto::token_digest("tok-1"));
        }
        assert_eq!(memo.len(), 1);
    }

    #[test]
    fn forged_values_are_refused_every_time_and_never_remembered() {
        let signer = crypto::TokenSigner::new(SECRET);
        let other = crypto::TokenSigner::new("another-secret-that-is-long-enough-01234");
        let memo = CredentialMemo::new(10);
        let forged = other.sign("tok-1");
        let tampered = format!("tok-2{}", &signer.sign("tok-1")[5..]);
        for value in [forged.as_str(), tampered.as_str(), "tok-1", "tok-1.", "."] {
            assert!(memo.check(&signer, value).is_none(), "{value}");
            assert!(memo.check(&signer, value).is_none(), "{value}, twice");
        }
        assert_eq!(memo.len(), 0);
        // A value refused before is still refused once a valid one is remembered.
        assert!(memo.check(&signer, &signer.sign("tok-1")).is_some());
        assert!(memo.check(&signer, &forged).is_none());
    }

    #[test]
    fn a_full_memo_starts_over() {
        let signer = crypto::TokenSigner::new(SECRET);
        let memo = CredentialMemo::new(3);
        for i in 0..7 {
            let token = format!("tok-{i}");
            let credential = memo.check(&signer, &signer.sign(&token)).expect("valid");
            assert_eq!(&*credential.token, token);
            assert!(memo.len() <= 3);
        }
    }
}
