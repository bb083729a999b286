//! The device cookie (S55): marks a browser that signed in to an account,
//! so the per-account throttle keys its password attempts apart.

use std::time::Duration;

use http::{HeaderMap, header};

use super::AuthContext;
use super::cookies::with_cookie_value;
use crate::crypto;
use crate::request::AuthResponse;

/// The suffix of the device cookie (`better-auth.device`, S55).
const DEVICE_COOKIE: &str = "device";
/// How long a browser stays known to an account (S55).
const DEVICE_COOKIE_MAX_AGE: Duration = Duration::from_secs(365 * 24 * 3600);

/// What a device cookie says about the account it signed in to: a digest of
/// the account, so the cookie names no address.
fn device_tag(account: &str) -> String {
    crypto::token_digest(&format!("device-cookie:{account}"))[..32].to_owned()
}

impl AuthContext {
    /// The key of the per-account throttle (S30) for a password check of
    /// `account` from a client: the account itself, shared by every client
    /// without a history with it, or (S55) the account and the client's
    /// device when the request carries this account's signed device cookie,
    /// so other clients' failures do not hold back a browser that signed in
    /// to the account before.
    pub fn password_attempt_key(&self, headers: &HeaderMap, account: &str) -> String {
        with_cookie_value(headers, &self.cookie_name(DEVICE_COOKIE), |value| {
            let (device, tag) = self.signer.verify(value)?.split_once(':')?;
            (tag == device_tag(account) && !device.is_empty())
                .then(|| format!("{account} device:{device}"))
        })
        .unwrap_or_else(|| account.to_owned())
    }

    /// S55: adds the device cookie that marks this browser as one that
    /// signed in to `account`: a random device id and a digest of the
    /// account, signed with the secret (HMAC-SHA256), HttpOnly, SameSite=Lax,
    /// Secure on https, kept for a year. Set it after a correct password.
    pub fn with_device_cookie(&self, response: AuthResponse, account: &str) -> AuthResponse {
        let value = self.signer.sign(&format!(
            "{}:{}",
            crypto::generate_id(),
            device_tag(account)
        ));
        let name = self.cookie_name(DEVICE_COOKIE);
        response.header(
            header::SET_COOKIE,
            &self.cookie_line(&name, &value, Some(DEVICE_COOKIE_MAX_AGE.as_secs())),
        )
    }
}
