//! Database URLs with their password hidden, for messages and logs.

/// A database URL with its password replaced by `***`, for messages and logs.
///
/// S57: whatever characters the password holds. A well-formed URL (special
/// characters percent-encoded) is read with the `url` crate. Otherwise the
/// user info is taken to end at the *last* `@`, since a raw password may hold
/// `@`, `#`, `/` or `?`, each of which would end it for a URL parser: when the
/// text is ambiguous, more is hidden rather than less.
///
/// ```
/// use better_auth::store::redact_url;
/// assert_eq!(redact_url("postgres://app:hunter2@db:5432/app"), "postgres://app:***@db:5432/app");
/// assert_eq!(redact_url("postgres://app:pa#ss@db/app"), "postgres://app:***@db/app");
/// assert_eq!(redact_url("postgres://app:p/w?x@db/app"), "postgres://app:***@db/app");
/// assert_eq!(redact_url("sqlite://auth.db"), "sqlite://auth.db");
/// ```
#[doc(hidden)]
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some(at) = rest.rfind('@') else {
        // No user info, so no password (a `password=` query parameter is the
        // caller's to hide).
        return url.to_owned();
    };
    // The parser's reading counts only when it finds a password: it reads
    // `app:12#x@db` as host `app`, port 12 and a fragment, which would leave
    // the password in plain sight.
    if let Ok(mut parsed) = url::Url::parse(url) {
        if parsed.password().is_some() && parsed.set_password(Some("***")).is_ok() {
            return parsed.to_string();
        }
    }
    let (userinfo, host) = (&rest[..at], &rest[at + 1..]);
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}
