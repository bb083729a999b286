//! `PasswordManagementPlugin`: change a password (and, with issue 3, reset it).

use http::Method;
use serde::Deserialize;

use super::{Plugin, PluginSetup, Route, check_password};
use crate::auth::BetterAuth;
use crate::error::{Error, Result};
use crate::request::{AuthRequest, AuthResponse};
use crate::store;

/// `POST /change-password`.
#[derive(Clone, Debug, Default)]
pub struct PasswordManagementPlugin;

impl PasswordManagementPlugin {
    /// The plugin.
    pub fn new() -> Self {
        PasswordManagementPlugin
    }
}

impl Plugin for PasswordManagementPlugin {
    fn id(&self) -> &'static str {
        "password-management"
    }

    fn install(&self, setup: &mut PluginSetup) {
        setup.route(Route::new(
            Method::POST,
            "/change-password",
            "Change the password (current password required)",
            |a, r| Box::pin(change_password(a, r)),
        ));
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangePasswordBody {
    new_password: String,
    current_password: String,
    revoke_other_sessions: Option<bool>,
}

/// S05: the current password is required. S14: `revokeOtherSessions` ends every
/// other session; the caller gets a fresh session either way.
async fn change_password(auth: &BetterAuth, request: AuthRequest) -> Result<AuthResponse> {
    let current = auth.require_session(&request).await?;
    let body: ChangePasswordBody = request.json()?;
    check_password(auth, &body.new_password)?;
    if body.current_password.chars().count() > auth.config.password.max_length {
        return Err(Error::InvalidPassword);
    }
    let user = &current.user;
    let stored = store::accounts::credential_password(&auth.database, &user.id)
        .await?
        .ok_or_else(|| Error::Validation("Credential account not found".into()))?;
    if !auth
        .hasher
        .verify(&body.current_password, &stored)
        .await?
        .ok
    {
        return Err(Error::InvalidPassword);
    }
    let hash = auth.hasher.hash(&body.new_password).await?;
    store::accounts::set_credential_password(&auth.database, &user.id, &hash, auth.now()).await?;
    let mut response_token = None;
    if body.revoke_other_sessions.unwrap_or(false) {
        store::sessions::delete_for_user(&auth.database, &user.id, None).await?;
        let (_, token) = auth.create_session(user, &request).await?;
        response_token = Some(token);
    }
    let response = AuthResponse::json(&serde_json::json!({
        "token": response_token,
        "user": user,
    }));
    Ok(match response_token {
        Some(token) => {
            let remember = !auth.dont_remember(&request.headers);
            auth.with_session_cookie(response, &token, remember)
        }
        None => response,
    })
}
