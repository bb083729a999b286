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
    Ok(())
}
