//! Framework-free request and response types. Plugin handlers take an
//! [`AuthRequest`] and return an [`AuthResponse`]; `integrations::axum`
//! converts to and from Axum's types. Nothing here knows about Axum.

use std::collections::HashMap;
use std::net::IpAddr;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// An incoming request, already routed to a handler.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthRequest {
    /// HTTP method.
    pub method: Method,
    /// Path parameters of the route (`token` in `/reset-password/{token}`).
    pub params: HashMap<String, String>,
    /// Decoded query parameters.
    pub query: HashMap<String, String>,
    /// Request headers.
    pub headers: HeaderMap,
    /// The raw body (at most `AuthConfig::max_body_bytes`; larger bodies never get here).
    pub body: Bytes,
    /// The socket peer address, when the server provides it.
    pub peer: Option<IpAddr>,
    /// The session found for a route marked [`Route::authenticated`](crate::plugins::Route::authenticated)
    /// before its handler ran (S58); [`AuthContext::require_session`](crate::AuthContext::require_session)
    /// answers with it instead of looking it up again.
    pub(crate) session: Option<crate::context::ResolvedSession>,
}

impl AuthRequest {
    /// A request with no body, parameters or headers.
    pub fn new(method: Method) -> Self {
        AuthRequest {
            method,
            params: HashMap::new(),
            query: HashMap::new(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            peer: None,
            session: None,
        }
    }

    /// Parses the JSON body; an empty body reads as `{}`. Any shape error is a
    /// 400 `VALIDATION_ERROR` naming the problem (S25), and so is a body that
    /// is not a JSON object (serde would read an array as a struct's fields in
    /// order: `[null, null]` must not pass for `{}`).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        // Only an absent body reads as `{}`: whitespace alone is not JSON (400).
        let body: &[u8] = if self.body.is_empty() {
            b"{}"
        } else {
            &self.body
        };
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(Error::Validation(
                "Invalid body: expected a JSON object".into(),
            ));
        }
        serde_json::from_slice(body).map_err(|e| Error::Validation(format!("Invalid body: {e}")))
    }

    /// S35: true when the body is empty or declared `application/json` (with
    /// any parameters, like `; charset=utf-8`). A cross-site form can send
    /// `text/plain` or form-encoded bodies without a CORS preflight, never JSON.
    pub fn has_json_body_or_none(&self) -> bool {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return true;
        }
        self.header(header::CONTENT_TYPE).is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
    }

    /// A header as text, when present and valid UTF-8.
    pub fn header(&self, name: impl header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }
}

/// A response produced by a handler.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthResponse {
    /// Status code.
    pub status: StatusCode,
    /// Headers, including any `set-cookie`.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Bytes,
}

impl AuthResponse {
    /// A 200 response with a JSON body.
    pub fn json(value: &impl Serialize) -> Self {
        Self::json_status(StatusCode::OK, value)
    }

    /// A response with the given status and JSON body.
    pub fn json_status(status: StatusCode, value: &impl Serialize) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        AuthResponse {
            status,
            headers,
            body: Bytes::from(body),
        }
    }

    /// A `302 Found` redirect.
    pub fn redirect(location: &str) -> Self {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(location) {
            headers.insert(header::LOCATION, value);
        }
        AuthResponse {
            status: StatusCode::FOUND,
            headers,
            body: Bytes::new(),
        }
    }

    /// The JSON error response for an error (`{"message", "code"}`), with
    /// `Retry-After` for rate limits.
    pub fn error(err: &Error) -> Self {
        let mut response = Self::json_status(err.status(), &err.body());
        if let Error::TooManyRequests { retry_after } | Error::Busy { retry_after } = err {
            response = response.header(header::RETRY_AFTER, &retry_after.to_string());
        }
        response
    }

    /// [`AuthResponse::header`] with a fixed value (not checked nor copied).
    pub(crate) fn static_header(mut self, name: HeaderName, value: &'static str) -> Self {
        self.headers.append(name, HeaderValue::from_static(value));
        self
    }

    /// Adds a header (appending, so several `set-cookie` lines coexist).
    pub fn header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.append(name, value);
        }
        self
    }
}
