//! Single-use tokens: issued for a purpose, stored as a digest in the
//! `verification` table, used up once.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::AuthContext;
use crate::crypto;
use crate::error::{Error, Result};
use crate::store::{self, Database};

impl AuthContext {
    /// Stores a single-use token for `purpose` proving `value` (a user id, an
    /// email address, a JSON document), valid for `lifetime`, and returns the
    /// raw token to hand out (in a link, a cookie). Only its digest is stored
    /// (S21), in the `verification` table as `<purpose>:<digest>`.
    ///
    /// ```no_run
    /// # async fn f(ctx: &better_auth::AuthContext) -> better_auth::Result<()> {
    /// use std::time::Duration;
    ///
    /// let token = ctx.issue_token("magic-link", "user@example.com", Duration::from_secs(300)).await?;
    /// assert_eq!(
    ///     ctx.consume_token("magic-link", &token).await?.as_deref(),
    ///     Some("user@example.com")
    /// );
    /// // Single use: a second consume finds nothing.
    /// assert_eq!(ctx.consume_token("magic-link", &token).await?, None);
    /// # Ok(()) }
    /// ```
    pub async fn issue_token(
        &self,
        purpose: &str,
        value: &str,
        lifetime: Duration,
    ) -> Result<String> {
        issue_token(&self.database, self.now(), purpose, value, lifetime).await
    }

    /// Uses up a token issued with [`AuthContext::issue_token`]: its value when
    /// it existed for `purpose` and had not expired, `None` otherwise. Two
    /// concurrent consumers never both get the value.
    pub async fn consume_token(&self, purpose: &str, token: &str) -> Result<Option<String>> {
        let identifier = format!("{purpose}:{}", crypto::token_digest(token));
        store::verifications::consume(&self.database, &identifier, self.now()).await
    }

    /// A token's value without using it up (`None` when unknown or expired).
    pub async fn peek_token(&self, purpose: &str, token: &str) -> Result<Option<String>> {
        let identifier = format!("{purpose}:{}", crypto::token_digest(token));
        store::verifications::peek(&self.database, &identifier, self.now()).await
    }
}

/// See [`AuthContext::issue_token`].
pub(super) async fn issue_token(
    db: &Database,
    now: DateTime<Utc>,
    purpose: &str,
    value: &str,
    lifetime: Duration,
) -> Result<String> {
    let token = crypto::generate_token();
    let identifier = format!("{purpose}:{}", crypto::token_digest(&token));
    let lifetime = chrono::Duration::from_std(lifetime)
        .map_err(|_| Error::Internal("token lifetime out of range".into()))?;
    store::verifications::create(db, &identifier, value, now + lifetime, now).await?;
    Ok(token)
}
