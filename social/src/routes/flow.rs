//! What a flow keeps between its start and the callback, and the names it goes
//! by: the `verification` purpose of its state token, the state cookie, the
//! callback URL sent to providers.

use std::time::Duration;

use better_auth::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::Ctx;
use crate::state::Social;

/// `verification.identifier` prefix of flow states.
pub(super) const STATE_PURPOSE: &str = "social-state";
/// How long a started sign-in may take (S40).
pub(super) const STATE_LIFETIME: Duration = Duration::from_secs(600);

/// What a flow keeps between its start and the callback.
#[derive(Serialize, Deserialize)]
pub(super) struct FlowState {
    pub(super) provider: String,
    pub(super) callback_url: String,
    pub(super) error_url: Option<String>,
    pub(super) new_user_url: Option<String>,
    pub(super) code_verifier: String,
    pub(super) nonce: String,
    pub(super) link: Option<LinkTarget>,
}

/// The signed-in user a link flow is for, and the session that started it.
#[derive(Serialize, Deserialize)]
pub(super) struct LinkTarget {
    pub(super) user_id: String,
    pub(super) email: String,
    pub(super) session_id: String,
}

/// The plugin's state: providers, options, pending flows.
pub(super) fn social(ctx: &Ctx) -> Result<&Social> {
    ctx.extension::<Social>()
        .ok_or_else(|| Error::Internal("social plugin state missing".into()))
}

/// The callback URL a provider sends the browser back to.
pub(super) fn redirect_uri(ctx: &Ctx, provider: &str) -> String {
    ctx.config().route_url(&format!("/callback/{provider}"))
}

/// S60: the cookie that binds a flow to its browser: `better-auth.state` on
/// http, `__Host-better-auth.state` on https (Secure, Path=/, no Domain), so a
/// sibling subdomain cannot plant one: a `__Host-` cookie can only be set by
/// this host itself.
pub(super) fn state_cookie_name(ctx: &Ctx) -> String {
    let name = ctx.cookie_name("state");
    match name.strip_prefix("__Secure-") {
        Some(rest) if ctx.config().is_secure() => format!("__Host-{rest}"),
        _ => name,
    }
}
