//! A flow that fails is sent to its error URL with `?error=<code>` (and an
//! `error_description`), never to a 500.

use better_auth::{AuthResponse, Error};
use http::StatusCode;

/// A failed flow: where to send the browser, and why.
pub(super) struct Failure {
    url: String,
    pub(super) code: String,
    pub(super) description: Option<String>,
}

impl Failure {
    pub(super) fn new(url: &str, code: &str) -> Self {
        Failure {
            url: url.to_owned(),
            code: code.to_owned(),
            description: None,
        }
    }

    pub(super) fn describe(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// A database or internal error while finishing: logged, named, never a 500 (S45).
    pub(super) fn internal(url: &str, err: &Error) -> Self {
        tracing::error!(error = %err, "social sign-in callback failed");
        let code = if err.status() == StatusCode::SERVICE_UNAVAILABLE {
            "service_unavailable"
        } else {
            "internal_server_error"
        };
        Failure::new(url, code)
    }

    pub(super) fn response(&self) -> AuthResponse {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("error", &self.code);
        if let Some(description) = &self.description {
            query.append_pair("error_description", description);
        }
        AuthResponse::redirect(&append_query(&self.url, &query.finish()))
    }
}

/// `url` with `query` appended (before any fragment).
fn append_query(url: &str, query: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let separator = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{separator}{query}");
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// An error code from the provider's redirect, reduced to what a code can be.
pub(super) fn clean_code(code: &str) -> String {
    let code: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(64)
        .collect();
    if code.is_empty() {
        "oauth_error".into()
    } else {
        code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_append_before_the_fragment() {
        assert_eq!(append_query("/login", "error=x"), "/login?error=x");
        assert_eq!(
            append_query("/login?a=1#top", "error=x"),
            "/login?a=1&error=x#top"
        );
    }

    #[test]
    fn provider_error_codes_are_reduced_to_safe_characters() {
        assert_eq!(clean_code("access_denied"), "access_denied");
        assert_eq!(clean_code("<script>"), "script");
        assert_eq!(clean_code("\"&"), "oauth_error");
    }
}
