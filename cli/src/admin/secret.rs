//! `better-auth secret`: a fresh value for `BETTER_AUTH_SECRET`.

/// Prints 256 random bits, base64url encoded, and nothing else.
pub(super) fn run() -> anyhow::Result<()> {
    outln!("{}", better_auth::crypto::generate_token());
    Ok(())
}
