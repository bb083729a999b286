//! Where requests come from and where they may lead: the client a request
//! counts as, trusted origins, and redirect targets.

use http::{HeaderMap, header};

use super::AuthContext;
use crate::config::origin_of;
use crate::error::{Error, Result};
use crate::request::AuthRequest;

impl AuthContext {
    /// The client a request comes from, as the rate limit counts it (S09):
    /// the socket peer address, or the address `X-Forwarded-For` gives when the
    /// peer is a trusted proxy; IPv6 clients share one key per /64. `None`
    /// when the server provides no peer address (served without connect
    /// info). Plugins use it to bound what one client may keep (S50).
    pub fn client_key(&self, request: &AuthRequest) -> Option<String> {
        let peer = request.peer?;
        let client = self.config.rate_limit.client_ip(peer, &request.headers);
        Some(crate::rate_limit::bucket(client))
    }

    /// True when the URL's origin is the base URL's or a configured trusted origin.
    pub fn is_trusted_origin(&self, url: &str) -> bool {
        origin_of(url).is_some_and(|o| self.trusted_origins.contains(&o))
    }

    /// Whether a state-changing request from `url` (its `Origin`, or its
    /// `Referer` when it sent none) is trusted: a trusted origin, or in
    /// development a loopback origin sent to a loopback `Host` (see
    /// [`AuthConfig::base_url`](crate::AuthConfig::base_url)).
    pub(crate) fn is_trusted_request_origin(&self, url: &str, headers: &HeaderMap) -> bool {
        self.is_trusted_origin(url)
            || (self.loopback_base_url
                && crate::config::is_loopback_origin(url)
                && headers
                    .get(header::HOST)
                    .and_then(|host| host.to_str().ok())
                    .is_some_and(|host| crate::config::is_loopback_authority(host.trim())))
    }

    /// S22: a redirect target must be a relative path (not `//` or `/\`) or on
    /// a trusted origin; S56: either way without control characters (a NUL
    /// would reach the database with the flow that stores it).
    pub fn check_redirect(&self, target: &str) -> Result<()> {
        if target.chars().any(char::is_control) {
            return Err(Error::InvalidCallbackUrl);
        }
        let relative =
            target.starts_with('/') && !target.starts_with("//") && !target.starts_with("/\\");
        if relative || self.is_trusted_origin(target) {
            Ok(())
        } else {
            Err(Error::InvalidCallbackUrl)
        }
    }
}
