//! Password attempts (S30, S31): the one way a password is checked, under
//! the per-account throttle.

use super::AuthContext;
use crate::crypto;
use crate::error::{Error, Result};

impl AuthContext {
    /// S30, S31: the one way a password is checked. Reserves an attempt for
    /// the account first (refused with 429 while the account is delayed), then
    /// verifies against `stored`, or against a dummy hash when there is none
    /// (S07); a correct password clears the account's attempts.
    ///
    /// Any plugin that takes a password (a second factor, a re-authentication
    /// step) should check it here, so it shares the account's throttle.
    pub async fn check_password_attempt(
        &self,
        account: &str,
        password: &str,
        stored: Option<&str>,
    ) -> Result<crypto::Verified> {
        self.admit_password_attempt(account).await?;
        self.verify_password_attempt(account, password, stored)
            .await
    }

    /// [`AuthContext::check_password_attempt`] for a caller that still has to
    /// look the account up: `lookup` runs only once the attempt is admitted,
    /// and returns what the caller needs (the user, say) with the stored hash.
    /// A throttled account (S30) then costs no database read, so a flood of
    /// guesses at one account is refused without touching the database.
    pub async fn check_password_attempt_with<T, F, Fut>(
        &self,
        account: &str,
        password: &str,
        lookup: F,
    ) -> Result<(crypto::Verified, T)>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(T, Option<String>)>>,
    {
        self.admit_password_attempt(account).await?;
        let (found, stored) = lookup().await?;
        let verified = self
            .verify_password_attempt(account, password, stored.as_deref())
            .await?;
        Ok((verified, found))
    }

    /// S30: reserves one of the account's attempts, or refuses (429).
    async fn admit_password_attempt(&self, account: &str) -> Result<()> {
        let decision = self
            .config
            .rate_limit
            .store
            .reserve_attempt(account, self.now())
            .await?;
        if decision.allowed {
            Ok(())
        } else {
            Err(Error::TooManyRequests {
                retry_after: decision.retry_after,
            })
        }
    }

    /// Checks an admitted attempt against `stored`, or a dummy hash (S07); a
    /// correct password clears the account's attempts.
    async fn verify_password_attempt(
        &self,
        account: &str,
        password: &str,
        stored: Option<&str>,
    ) -> Result<crypto::Verified> {
        let verified = match stored {
            Some(stored) => self.hasher.verify(password, stored).await?,
            None => {
                self.hasher.verify_dummy(password).await?;
                crypto::Verified {
                    ok: false,
                    needs_rehash: false,
                }
            }
        };
        if verified.ok {
            self.config.rate_limit.store.clear_attempts(account).await?;
        }
        Ok(verified)
    }

    /// Forgets an account's failed password attempts (after a reset, S10).
    pub async fn clear_password_attempts(&self, account: &str) -> Result<()> {
        self.config.rate_limit.store.clear_attempts(account).await
    }
}
