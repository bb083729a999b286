//! When a session is expired, due for a sliding-expiry refresh, or fresh
//! enough for a sensitive change: one computation for the database path and
//! the session cache path.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{AuthContext, Refresh, ResolvedSession};
use crate::error::{Error, Result};
use crate::models::Session;
use crate::store;

/// Where a session stands at one instant (see [`AuthContext::timing`]).
pub(super) struct SessionTiming {
    /// Idle- or absolutely expired.
    pub(super) expired: bool,
    /// Old enough (`update_age`) for its expiry to slide.
    due: bool,
    /// When its expiry last slid (`expiresAt - expires_in`).
    last_extended: DateTime<Utc>,
    /// The expiry a refresh now would set (capped by the absolute lifetime).
    pub(super) next_expiry: DateTime<Utc>,
}

impl SessionTiming {
    /// Whether a lookup of this kind must write the session (slide its expiry).
    /// `updatedAt` is when a cookie was last sent: a session extended since
    /// then (by an extractor) outlives its cookie, so `/get-session` renews it (S37).
    pub(super) fn needs_write(&self, session: &Session, refresh: Refresh) -> bool {
        match refresh {
            Refresh::No => false,
            Refresh::Silent => self.due,
            Refresh::WithCookie => self.due || session.updated_at < self.last_extended,
        }
    }
}

impl AuthContext {
    /// True when a cached session would come out of the database path
    /// unchanged: neither idle- nor absolutely expired, and no sliding-expiry
    /// refresh due for this kind of request (those go to the database).
    ///
    /// The decision of [`AuthContext::timing`], in whole milliseconds (the
    /// precision of every time the runtime stores): `chrono`'s date arithmetic
    /// was a third of the cost of a cache hit. Rounding a stored time down
    /// only ever sends a request to the database sooner.
    pub(super) fn servable_from_cache(&self, session: &Session, refresh: Refresh) -> bool {
        let settings = &self.config.session;
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let now = self.config.clock.now_millis();
        let expires_at = session.expires_at.timestamp_millis();
        let absolute_end = session
            .created_at
            .timestamp_millis()
            .saturating_add(ms(settings.absolute_lifetime));
        if expires_at <= now || absolute_end <= now {
            return false;
        }
        let last_extended = expires_at.saturating_sub(ms(settings.expires_in));
        let due = last_extended.saturating_add(ms(settings.update_age)) <= now;
        match refresh {
            Refresh::No => true,
            Refresh::Silent => !due,
            Refresh::WithCookie => !due && session.updated_at.timestamp_millis() >= last_extended,
        }
    }

    /// Where a session stands at `now` under the session settings (S13): one
    /// computation for the database path and the cache path.
    pub(super) fn timing(&self, session: &Session, now: DateTime<Utc>) -> SessionTiming {
        let settings = &self.config.session;
        let absolute_end = chrono::Duration::from_std(settings.absolute_lifetime)
            .ok()
            .and_then(|d| session.created_at.checked_add_signed(d))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let expires_in = chrono::Duration::from_std(settings.expires_in).unwrap_or_default();
        let update_age = chrono::Duration::from_std(settings.update_age).unwrap_or_default();
        let last_extended = session.expires_at - expires_in;
        SessionTiming {
            // Idle expiry (expiresAt) and absolute expiry, both by the server's clock.
            expired: session.expires_at <= now || absolute_end <= now,
            due: last_extended + update_age <= now,
            last_extended,
            next_expiry: (now + expires_in).min(absolute_end),
        }
    }

    /// S49: recent proof of identity before a sensitive change (the email,
    /// deletion, linked accounts, other sessions). With `password`, the
    /// user's current password, checked under the sign-in throttle (S31):
    /// 400 `INVALID_PASSWORD` when wrong. Without it, the session must have
    /// been signed in within [`SessionConfig::fresh_age`](crate::SessionConfig::fresh_age)
    /// (default one day): else 403 `SESSION_NOT_FRESH`, as Better Auth answers,
    /// so a stolen session older than that cannot take the account over.
    pub async fn require_fresh_session(
        &self,
        current: &ResolvedSession,
        password: Option<&str>,
    ) -> Result<()> {
        if let Some(password) = password {
            if password.chars().count() > self.config.password_settings().max_length {
                return Err(Error::InvalidPassword);
            }
            let stored =
                store::accounts::credential_password(&self.database, &current.user.id).await?;
            // A user without a password costs a dummy verification like any other.
            let verified = self
                .check_password_attempt(&current.user.email, password, stored.as_deref())
                .await?;
            return if verified.ok {
                Ok(())
            } else {
                Err(Error::InvalidPassword)
            };
        }
        if self.is_fresh(&current.session) {
            Ok(())
        } else {
            Err(Error::Forbidden {
                message: "Session is not fresh".into(),
                code: "SESSION_NOT_FRESH",
            })
        }
    }

    /// Whether a session was signed in within `fresh_age` (S49).
    pub fn is_fresh(&self, session: &Session) -> bool {
        let fresh_age = chrono::Duration::from_std(self.config.session.fresh_age)
            .unwrap_or(chrono::Duration::MAX);
        session
            .created_at
            .checked_add_signed(fresh_age)
            .is_none_or(|until| until >= self.now())
    }
}
