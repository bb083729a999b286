//! `AccountManagementPlugin`: the ways a user can sign in.

use http::Method;

use super::{Plugin, PluginSetup, Route};
use crate::auth::BetterAuth;
use crate::error::Result;
use crate::request::{AuthRequest, AuthResponse};
use crate::store;

/// `GET /list-accounts`.
#[derive(Clone, Debug, Default)]
pub struct AccountManagementPlugin;

impl AccountManagementPlugin {
    /// The plugin.
    pub fn new() -> Self {
        AccountManagementPlugin
    }
}

impl Plugin for AccountManagementPlugin {
    fn id(&self) -> &'static str {
        "account-management"
    }

    fn install(&self, setup: &mut PluginSetup) {
        setup.route(Route::new(
            Method::GET,
            "/list-accounts",
            "The caller's linked accounts",
            |a, r| Box::pin(list_accounts(a, r)),
        ));
    }
}

async fn list_accounts(auth: &BetterAuth, request: AuthRequest) -> Result<AuthResponse> {
    let current = auth.require_session(&request).await?;
    let accounts = store::accounts::list_for_user(&auth.database, &current.user.id).await?;
    let body: Vec<serde_json::Value> = accounts
        .iter()
        .map(|a| {
            let mut value = serde_json::to_value(a).unwrap_or_default();
            value["scopes"] = serde_json::json!(a.scopes());
            value
        })
        .collect();
    Ok(AuthResponse::json(&body))
}
