//! Cookies: the session cookie and its companions, any cookie a plugin sets
//! or reads, and the session credential a request presents (bearer token or
//! signed cookie).

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, header};

use super::AuthContext;
use crate::credentials::Credential;
use crate::request::AuthResponse;

impl AuthContext {
    /// Full name of the session cookie (with `__Secure-` on https).
    pub fn session_cookie_name(&self) -> String {
        self.session_cookie.clone()
    }

    /// The session token a request presents: `Authorization: Bearer` first
    /// (signed `<token>.<signature>` or the raw token), then the signed cookie.
    pub fn token_from_headers(&self, headers: &HeaderMap) -> Option<String> {
        self.credential_from_headers(headers)
            .map(|credential| credential.token.to_string())
    }

    /// [`AuthContext::token_from_headers`] with the token's digest; a signed
    /// value seen before is not checked again (see [`crate::credentials`]).
    pub(crate) fn credential_from_headers(&self, headers: &HeaderMap) -> Option<Arc<Credential>> {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|v| !v.is_empty());
        if let Some(value) = bearer {
            let value = percent_decode(value);
            // A bearer value may also be the raw token itself.
            return Some(
                self.credentials
                    .check(&self.signer, &value)
                    .unwrap_or_else(|| Arc::new(Credential::new(&value))),
            );
        }
        with_cookie_value(headers, &self.session_cookie, |value| {
            self.credentials.check(&self.signer, value)
        })
    }

    /// Adds the session cookie, `set-auth-token` and the header exposing it.
    /// `remember = false` makes a browser-session cookie (no Max-Age) and sets
    /// the `dont_remember` marker cookie.
    pub fn with_session_cookie(
        &self,
        response: AuthResponse,
        token: &str,
        remember: bool,
    ) -> AuthResponse {
        let signed = self.signer.sign(token);
        let max_age = remember.then_some(self.config.session.expires_in.as_secs());
        let mut response = response
            .header(
                header::SET_COOKIE,
                &self.cookie_line(&self.session_cookie_name(), &signed, max_age),
            )
            .header(header::HeaderName::from_static("set-auth-token"), &signed)
            .header(header::ACCESS_CONTROL_EXPOSE_HEADERS, "set-auth-token");
        // S38: a response carrying a session token is never stored by a cache.
        response.headers.insert(
            header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        if !remember {
            let marker = self.signer.sign("true");
            response = response.header(
                header::SET_COOKIE,
                &self.cookie_line(&self.cookie_name("dont_remember"), &marker, None),
            );
        }
        response
    }

    /// Clears the session, session-data and dont-remember cookies (sign-out).
    pub fn with_cleared_cookies(&self, mut response: AuthResponse) -> AuthResponse {
        for name in [
            self.session_cookie_name(),
            self.cookie_name("session_data"),
            self.cookie_name("dont_remember"),
        ] {
            response = response.header(header::SET_COOKIE, &self.cookie_line(&name, "", Some(0)));
        }
        response
    }

    /// True when the request carries the `dont_remember` marker cookie.
    pub fn dont_remember(&self, headers: &HeaderMap) -> bool {
        cookie_value(headers, &self.cookie_name("dont_remember"))
            .is_some_and(|v| self.signer.verify(&v) == Some("true"))
    }

    /// The full name of an auxiliary cookie: the session cookie's prefix
    /// (`better-auth`), a dot and `suffix`, with `__Secure-` on https.
    /// `cookie_name("state")` is `better-auth.state` on http.
    pub fn cookie_name(&self, suffix: &str) -> String {
        let base = self
            .config
            .session
            .cookie_name
            .rsplit_once('.')
            .map_or("better-auth", |(prefix, _)| prefix);
        format!("{}{base}.{suffix}", self.cookie_prefix)
    }

    /// Adds a `Set-Cookie` line to a response: HttpOnly, SameSite=Lax, Path=/,
    /// no Domain, Secure on https (S15); `max_age` `None` makes a
    /// browser-session cookie, zero deletes it. The value is percent-encoded;
    /// sign it with [`AuthContext::sign`] when the browser must not alter it.
    pub fn set_cookie(
        &self,
        response: AuthResponse,
        name: &str,
        value: &str,
        max_age: Option<Duration>,
    ) -> AuthResponse {
        response.header(
            header::SET_COOKIE,
            &self.cookie_line(name, value, max_age.map(|d| d.as_secs())),
        )
    }

    /// The decoded value of a cookie the request carries.
    pub fn request_cookie(&self, headers: &HeaderMap, name: &str) -> Option<String> {
        cookie_value(headers, name)
    }

    /// One `Set-Cookie` line: HttpOnly, SameSite=Lax, Path=/, no Domain, and
    /// Secure on https (S15). The value is percent-encoded.
    pub(super) fn cookie_line(&self, name: &str, value: &str, max_age: Option<u64>) -> String {
        let mut cookie = cookie::Cookie::build((name.to_owned(), value.to_owned()))
            .path("/")
            .http_only(true)
            .same_site(cookie::SameSite::Lax)
            .secure(self.config.is_secure())
            .build();
        if let Some(secs) = max_age {
            cookie.set_max_age(cookie::time::Duration::seconds(secs as i64));
        }
        cookie.encoded().to_string()
    }
}

/// The decoded value of a cookie in the request's `Cookie` headers.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    with_cookie_value(headers, name, |value| Some(value.to_owned()))
}

/// `read` applied to the decoded value of a cookie in the request's `Cookie`
/// headers, without copying it.
pub(super) fn with_cookie_value<T>(
    headers: &HeaderMap,
    name: &str,
    read: impl FnOnce(&str) -> Option<T>,
) -> Option<T> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse_encoded)
        .filter_map(|c| c.ok())
        .find(|c| c.name() == name)
        .and_then(|c| read(c.value()))
}

/// Bearer values sometimes arrive URL-encoded (copied from a cookie).
fn percent_decode(value: &str) -> std::borrow::Cow<'_, str> {
    // Most bearer values carry no escape: skip the decoder (it would return
    // the same text).
    if !value.as_bytes().contains(&b'%') {
        return std::borrow::Cow::Borrowed(value);
    }
    percent_encoding::percent_decode_str(value).decode_utf8_lossy()
}
