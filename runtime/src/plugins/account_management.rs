//! `AccountManagementPlugin`: the ways a user can sign in.

use chrono::{DateTime, Utc};
use http::Method;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Plugin, PluginSetup, Route, StatusResponse, status_true};
use crate::context::AuthContext;
use crate::error::{Error, Result};
use crate::models::iso_millis;
use crate::request::{AuthRequest, AuthResponse};
use crate::store;

/// `GET /list-accounts`, `POST /unlink-account`.
#[derive(Clone, Debug, Default)]
pub struct AccountManagementPlugin;

impl AccountManagementPlugin {
    /// The plugin.
    ///
    /// ```
    /// use better_auth::plugins::AccountManagementPlugin;
    ///
    /// let plugin = AccountManagementPlugin::new();
    /// ```
    pub fn new() -> Self {
        AccountManagementPlugin
    }
}

impl Plugin for AccountManagementPlugin {
    fn id(&self) -> &'static str {
        "account-management"
    }

    fn install(&self, setup: &mut PluginSetup) {
        setup
            .route(
                Route::new(
                    Method::GET,
                    "/list-accounts",
                    "The caller's linked accounts",
                    |a, r| Box::pin(list_accounts(a, r)),
                )
                .returns_list::<AccountView>()
                .authenticated(),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/unlink-account",
                    "Unlink an account (never the last way to sign in; password or a fresh session required)",
                    |a, r| Box::pin(unlink_account(a, r)),
                )
                .body::<UnlinkBody>()
                .returns::<StatusResponse>()
                .errors(&[400, 403])
                .authenticated(),
            );
    }
}

/// An account as the client sees it (never tokens or password hashes).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Account)]
struct AccountView {
    id: String,
    account_id: String,
    provider_id: String,
    user_id: String,
    #[serde(serialize_with = "iso_millis")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "iso_millis")]
    updated_at: DateTime<Utc>,
    scopes: Vec<String>,
}

async fn list_accounts(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let current = auth.require_session(&request).await?;
    let accounts = store::accounts::list_for_user(auth.database(), &current.user.id).await?;
    let views: Vec<AccountView> = accounts
        .into_iter()
        .map(|a| AccountView {
            scopes: a.scopes(),
            id: a.id,
            account_id: a.account_id,
            provider_id: a.provider_id,
            user_id: a.user_id,
            created_at: a.created_at,
            updated_at: a.updated_at,
        })
        .collect();
    Ok(AuthResponse::json(&views))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct UnlinkBody {
    /// `credential` or an OAuth provider id.
    provider_id: String,
    /// The provider's account id, when the user has several with one provider.
    account_id: Option<String>,
    /// The current password, needed when the session is not fresh (S49).
    password: Option<String>,
}

async fn unlink_account(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let current = auth.require_session(&request).await?;
    let body: UnlinkBody = request.json()?;
    let accounts = store::accounts::list_for_user(auth.database(), &current.user.id).await?;
    let target = accounts.iter().find(|a| {
        a.provider_id == body.provider_id
            && body
                .account_id
                .as_ref()
                .is_none_or(|id| *id == a.account_id)
    });
    if target.is_none() {
        return Err(Error::Validation("Account not found".into()));
    }
    if accounts.len() <= 1 {
        return Err(Error::Forbidden {
            message: "You can not unlink your last account".into(),
            code: "FAILED_TO_UNLINK_LAST_ACCOUNT",
        });
    }
    // S49: a stolen session cannot remove the owner's ways to sign in.
    auth.require_fresh_session(&current, body.password.as_deref())
        .await?;
    store::accounts::delete_for_user(
        auth.database(),
        &current.user.id,
        &body.provider_id,
        body.account_id.as_deref(),
    )
    .await?;
    Ok(status_true())
}
