//! Input rules shared by the HTTP API and the command line, so both accept
//! and refuse exactly the same emails and passwords.

use crate::config::PasswordPolicy;
use crate::error::{Error, Result};

/// Emails are trimmed, lower-cased (wire-format) and must look like `local@domain.tld`.
///
/// S53: only ASCII letters are folded. Unicode case mapping would make distinct
/// addresses equal (the Kelvin sign `\u{212A}` lower-cases to `k`, so
/// `\u{212A}ate@x.com` would match `kate@x.com`); with ASCII folding an address
/// whose non-ASCII characters change under case mapping or NFKC never matches
/// another account.
///
/// ```
/// use better_auth::validation::normalize_email;
/// assert_eq!(normalize_email(" Ada@Example.COM ").unwrap(), "ada@example.com");
/// assert_ne!(normalize_email("\u{212A}ate@example.com").unwrap(), "kate@example.com");
/// ```
pub fn normalize_email(email: &str) -> Result<String> {
    let email = email.trim().to_ascii_lowercase();
    let valid = email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || is_bidi_control(c))
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.len() <= 64
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
        });
    if valid {
        Ok(email)
    } else {
        Err(Error::Validation(
            "[body.email] Invalid email address".into(),
        ))
    }
}

/// S56: the bidirectional formatting characters (embeddings, overrides and
/// isolates) that reorder the text around them when it is displayed: a name
/// holding one can make a list of users read as something else.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// S56: a user's name is present, at most 255 characters, and holds no control
/// character (NUL included) and no bidirectional formatting character.
///
/// ```
/// use better_auth::validation::check_name;
/// assert!(check_name("Ada Lovelace").is_ok());
/// assert!(check_name("Ada\0").is_err());
/// assert!(check_name("Ada \u{202E}ecalevol").is_err());
/// ```
pub fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::Validation("[body.name] Name is required".into()));
    }
    if name.chars().count() > 255 {
        return Err(Error::Validation("[body.name] Name is too long".into()));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::Validation(
            "[body.name] Name must not contain control characters".into(),
        ));
    }
    if name.chars().any(is_bidi_control) {
        return Err(Error::Validation(
            "[body.name] Name must not contain bidirectional formatting characters".into(),
        ));
    }
    Ok(())
}

/// S56: an image is an absolute `http` or `https` URL with a host, at most
/// 2048 bytes, without control characters; `None` (no image) is fine.
///
/// ```
/// use better_auth::validation::check_image;
/// assert!(check_image(Some("https://example.com/ada.png")).is_ok());
/// assert!(check_image(None).is_ok());
/// assert!(check_image(Some("javascript:alert(1)")).is_err());
/// ```
pub fn check_image(image: Option<&str>) -> Result<()> {
    let Some(image) = image else {
        return Ok(());
    };
    if image.len() > 2048 {
        return Err(Error::Validation(
            "[body.image] Image URL is too long".into(),
        ));
    }
    let web_url = !image.chars().any(char::is_control)
        && url::Url::parse(image).is_ok_and(|url| {
            matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some_and(|h| !h.is_empty())
        });
    if web_url {
        Ok(())
    } else {
        Err(Error::Validation(
            "[body.image] Image must be an http or https URL".into(),
        ))
    }
}

/// S01/S02: length in code points between the policy bounds; never trimmed or
/// changed. Checked before any hashing.
pub fn check_password(policy: &PasswordPolicy, password: &str) -> Result<()> {
    let mut count = 0usize;
    for _ in password.chars() {
        count += 1;
        if count > policy.max_length {
            return Err(Error::PasswordTooLong);
        }
    }
    if count < policy.min_length {
        return Err(Error::PasswordTooShort);
    }
    if policy.reject_common && is_common_password(password) {
        return Err(Error::PasswordTooCommon);
    }
    Ok(())
}

/// The 19,729 most common passwords (the 20,000-entry list Django ships,
/// from Royce Williams' compilation of breach corpora, lower-cased and
/// de-duplicated), sorted, one per line.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// S03: true when the password (ignoring case) is on the shipped list of
/// common passwords. The list is embedded and indexed on first use.
pub fn is_common_password(password: &str) -> bool {
    static INDEX: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    let index = INDEX.get_or_init(|| COMMON_PASSWORDS.lines().collect());
    index.contains(password.to_lowercase().as_str())
}

/// How many passwords the shipped common-password list holds.
#[doc(hidden)]
pub fn common_password_count() -> usize {
    COMMON_PASSWORDS.lines().count()
}
