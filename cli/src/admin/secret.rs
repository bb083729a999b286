//! `better-auth secret`: a fresh value for `BETTER_AUTH_SECRET`.

use super::Failure;

/// Prints 256 random bits, base64url encoded, and nothing else.
pub fn run() -> Result<(), Failure> {
    outln!("{}", better_auth::crypto::generate_token());
    Ok(())
}
