//! Outgoing requests to providers: bounded in time and size, no redirects
//! followed, every failure a [`FetchError`] (never a panic, never a 500).

use std::time::Duration;

use serde::de::DeserializeOwned;

/// Largest provider answer read (discovery documents, JWKS, tokens, profiles).
const MAX_BODY: usize = 1024 * 1024;

/// An HTTP client for provider requests: rustls, 5 s to connect, 10 s per
/// request, redirects never followed (a token or user endpoint that redirects
/// is misconfigured or compromised; its answer is refused, as Better Auth does).
///
/// # Panics
/// When the TLS backend cannot be set up (rustls with bundled root
/// certificates needs nothing from the system, so in practice never).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("better-auth-rs/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client for sign-in providers (rustls) could not be built")
}

/// Why a provider request gave no usable answer.
#[derive(Debug)]
pub(crate) enum FetchError {
    /// No answer: refused, timed out, TLS failed.
    Unreachable(String),
    /// An answer with an unexpected status; the body's OAuth `error` if it had one.
    Status(u16, Option<String>),
    /// A 2xx answer that is not the JSON expected, or too large.
    Garbage(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Unreachable(e) => write!(f, "unreachable: {e}"),
            FetchError::Status(s, Some(e)) => write!(f, "answered {s} ({e})"),
            FetchError::Status(s, None) => write!(f, "answered {s}"),
            FetchError::Garbage(e) => write!(f, "unexpected answer: {e}"),
        }
    }
}

/// Sends a request and parses a 2xx JSON answer of at most 1 MiB.
pub(crate) async fn json<T: DeserializeOwned>(
    request: reqwest::RequestBuilder,
) -> Result<T, FetchError> {
    let response = request
        .header(http::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| FetchError::Unreachable(without_url(e)))?;
    let status = response.status();
    let body = read_capped(response).await?;
    if !status.is_success() {
        let error = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(short));
        return Err(FetchError::Status(status.as_u16(), error));
    }
    serde_json::from_slice(&body)
        .map_err(|e| FetchError::Garbage(format!("not the JSON expected: {e}")))
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, FetchError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY as u64)
    {
        return Err(FetchError::Garbage("answer larger than 1 MiB".into()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| FetchError::Unreachable(without_url(e)))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(FetchError::Garbage("answer larger than 1 MiB".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// reqwest's message without the URL (which may carry a code in its query).
fn without_url(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_redirect() {
        "redirected"
    } else {
        "request failed"
    };
    let host = error
        .url()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    format!("{kind} ({host})")
}

/// A provider-supplied string, bounded for logs and redirects.
pub(crate) fn short(text: &str) -> String {
    text.chars().take(200).collect()
}
