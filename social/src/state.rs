//! What the plugin hands its handlers: the providers and the options, found with
//! `AuthContext::extension`. The plugin builds it; the routes read it.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::provider::Provider;

/// Choices about accounts.
#[derive(Clone, Debug, Default)]
pub(crate) struct Options {
    pub(crate) disable_sign_up: bool,
    pub(crate) allow_different_emails: bool,
    /// S50: the most sign-in flows one client may have pending.
    pub(crate) max_pending_flows: Option<usize>,
}

/// What the handlers find with `AuthContext::extension`.
pub(crate) struct Social {
    pub(crate) providers: BTreeMap<String, Arc<dyn Provider>>,
    pub(crate) options: Options,
    /// S50: the flows each client has started and not finished.
    pub(crate) pending: crate::pending::PendingFlows,
}
