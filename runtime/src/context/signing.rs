//! Values signed with the instance's secret, as the session cookie is.

use super::AuthContext;

impl AuthContext {
    /// Signs a value with the instance's secret (HMAC-SHA256), as the session
    /// cookie is signed: `<value>.<signature>`. Read it back with
    /// [`AuthContext::verify_signed`].
    pub fn sign(&self, value: &str) -> String {
        self.signer.sign(value)
    }

    /// The value of a string made by [`AuthContext::sign`], or `None` when it
    /// was not signed with this instance's secret or was altered.
    pub fn verify_signed<'a>(&self, signed: &'a str) -> Option<&'a str> {
        self.signer.verify(signed)
    }
}
