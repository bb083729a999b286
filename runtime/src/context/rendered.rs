//! The `/get-session` answer rendered once per session cache entry, and the
//! slot the entry keeps it in. The session cache holds the slot without
//! looking inside: what an answer looks like is this layer's business.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::request::AuthResponse;

/// Where a session cache entry keeps its rendered `/get-session` body.
pub(crate) type BodySlot = std::sync::Arc<std::sync::OnceLock<Rendered>>;

/// A `200 OK` JSON answer that no cache may store, rendered once and
/// answered many times: `/get-session` keeps one per session cache entry.
#[derive(Clone, Debug)]
pub(crate) struct Rendered {
    headers: HeaderMap,
    body: Bytes,
}

impl Rendered {
    /// The answer with this JSON body: `Content-Type: application/json`,
    /// `Cache-Control: no-store`, `Pragma: no-cache` and its `Content-Length`
    /// (set here, once, instead of by the server for every answer).
    pub(crate) fn json_no_store(body: Bytes) -> Self {
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        Rendered { headers, body }
    }

    /// A response with these headers and body (copies of shared buffers).
    pub(crate) fn response(&self) -> AuthResponse {
        AuthResponse {
            status: StatusCode::OK,
            headers: self.headers.clone(),
            body: self.body.clone(),
        }
    }
}
