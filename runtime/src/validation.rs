//! Input rules shared by the HTTP API and the command line, so both accept
//! and refuse exactly the same emails and passwords.

use crate::config::PasswordPolicy;
use crate::error::{Error, Result};

/// Emails are trimmed, lower-cased (wire-format) and must look like `local@domain.tld`.
pub fn normalize_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
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
pub fn common_password_count() -> usize {
    COMMON_PASSWORDS.lines().count()
}
