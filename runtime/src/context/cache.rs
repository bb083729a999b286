//! The session cache as the context reads it: the change counter a validated
//! cache is checked against, the entries that can be served now, the hot path
//! of `/get-session`, and dropping entries after a change.

use super::{AuthContext, Refresh};
use crate::session_cache::SessionCache;

impl AuthContext {
    /// The `/get-session` answer for a request whose session the cache holds
    /// unchanged, with its body already rendered, decided without waiting for
    /// anything: the hot path of the most frequent request. `None` sends the
    /// request the general way (no credential, not cached, a refresh due, a
    /// body not rendered yet), which would answer exactly this otherwise: both
    /// read the cache through [`AuthContext::servable_cached`].
    #[cfg(feature = "axum")]
    pub(crate) fn cached_session_answer(
        &self,
        headers: &http::HeaderMap,
    ) -> Option<crate::request::AuthResponse> {
        // Without a cache, nothing to answer: the credential is not even read.
        self.session_cache.as_ref()?;
        let credential = self.credential_from_headers(headers)?;
        let version = self.validated_version();
        let (_, body) = self.servable_cached(&credential.digest, version, Refresh::WithCookie)?;
        body.get().map(super::Rendered::response)
    }

    /// The change counter a validated cache is checked against: read before
    /// the cache and before any database lookup whose result is stored under
    /// it. `None` for a ttl cache, or without a cache.
    pub(super) fn validated_version(&self) -> Option<i64> {
        match &self.session_cache {
            Some(cache) if cache.is_validated() => self.database.data_version(),
            _ => None,
        }
    }

    /// The cache's entry for `digest` when it can be served now: current
    /// under `version` (a validated cache, [`AuthContext::validated_version`])
    /// or renewed while the change counter has not moved (a ttl cache; a
    /// validated cache without a counter serves nothing), and neither expired
    /// nor due for `refresh` (those go to the database).
    pub(super) fn servable_cached(
        &self,
        digest: &str,
        version: Option<i64>,
        refresh: Refresh,
    ) -> Option<crate::session_cache::Found> {
        let cache = self.session_cache.as_ref()?;
        let found = match version {
            Some(version) => cache.get_validated_with_body(digest, version)?,
            None => cache.get_renewing(digest, || self.database.data_version())?,
        };
        self.servable_from_cache(&found.0.0, refresh)
            .then_some(found)
    }

    /// The in-process session cache in use, if any: the default validated
    /// one (SQLite files), the opt-in ttl one, or none. Handlers that revoke
    /// sessions behind Better Auth's back may [`SessionCache::clear`] a ttl
    /// cache; a validated cache needs nothing (see [`crate::session_cache`]).
    pub fn session_cache(&self) -> Option<&SessionCache> {
        self.session_cache.as_ref()
    }

    /// Drops sessions from the in-process session cache after a change that
    /// ends or alters them (one token digest, or all when `None`), so this
    /// instance sees the change at once rather than within the opt-in
    /// cache's ttl. Call it after writing sessions or users through
    /// [`crate::store`]; the default validated cache would notice anyway.
    pub fn forget_cached_sessions(&self, digest: Option<&str>) {
        if let Some(cache) = &self.session_cache {
            match digest {
                Some(digest) => cache.remove(digest),
                None => cache.clear(),
            }
        }
    }
}
