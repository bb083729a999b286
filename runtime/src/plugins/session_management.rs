//! `SessionManagementPlugin`: list and revoke the caller's sessions.

use http::Method;
use serde::Deserialize;

use utoipa::ToSchema;

use super::{Empty, Plugin, PluginSetup, Route, StatusResponse, status_true};
use crate::context::AuthContext;
use crate::error::Result;
use crate::models::Session;
use crate::request::{AuthRequest, AuthResponse};
use crate::store;
use crate::store::token_digest;

/// `GET /list-sessions`, `POST /revoke-session`, `POST /revoke-sessions`,
/// `POST /revoke-other-sessions`.
#[derive(Clone, Debug, Default)]
pub struct SessionManagementPlugin;

impl SessionManagementPlugin {
    /// The plugin.
    ///
    /// ```
    /// use better_auth::plugins::SessionManagementPlugin;
    ///
    /// let plugin = SessionManagementPlugin::new();
    /// ```
    pub fn new() -> Self {
        SessionManagementPlugin
    }
}

impl Plugin for SessionManagementPlugin {
    fn id(&self) -> &'static str {
        "session-management"
    }

    fn install(&self, setup: &mut PluginSetup) {
        setup
            .route(
                Route::new(
                    Method::GET,
                    "/list-sessions",
                    "The caller's active sessions",
                    |a, r| Box::pin(list_sessions(a, r)),
                )
                .returns_list::<Session>()
                .authenticated(),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/revoke-session",
                    "End one of the caller's sessions",
                    |a, r| Box::pin(revoke_session(a, r)),
                )
                .body::<RevokeSessionBody>()
                .returns::<StatusResponse>()
                .authenticated(),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/revoke-sessions",
                    "End all of the caller's sessions",
                    |a, r| Box::pin(revoke_sessions(a, r)),
                )
                .optional_body::<Empty>()
                .returns::<StatusResponse>()
                .authenticated(),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/revoke-other-sessions",
                    "End all of the caller's sessions but this one",
                    |a, r| Box::pin(revoke_other_sessions(a, r)),
                )
                .optional_body::<Empty>()
                .returns::<StatusResponse>()
                .authenticated(),
            );
    }
}

async fn list_sessions(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let current = auth.require_session(&request).await?;
    let sessions =
        store::sessions::list_active_for_user(auth.database(), &current.user.id, auth.now())
            .await?;
    Ok(AuthResponse::json(&sessions))
}

#[derive(Deserialize, ToSchema)]
struct RevokeSessionBody {
    /// The session's `token` as `list-sessions` shows it (or a raw token).
    token: String,
}

/// Accepts the stored digest (as `list-sessions` returns it) or a raw token.
/// Only the caller's own sessions can be revoked (S23).
async fn revoke_session(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let current = auth.require_session(&request).await?;
    let body: RevokeSessionBody = request.json()?;
    let user_id = &current.user.id;
    let deleted =
        store::sessions::delete_for_user_by_digest(auth.database(), user_id, &body.token).await?;
    auth.forget_cached_sessions(None);
    if deleted == 0 {
        store::sessions::delete_for_user_by_digest(
            auth.database(),
            user_id,
            &token_digest(&body.token),
        )
        .await?;
        auth.forget_cached_sessions(None);
    }
    Ok(status_true())
}

async fn revoke_sessions(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let current = auth.require_session(&request).await?;
    let _: Empty = request.json()?;
    store::sessions::delete_for_user(auth.database(), &current.user.id, None).await?;
    auth.forget_cached_sessions(None);
    Ok(status_true())
}

async fn revoke_other_sessions(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let current = auth.require_session(&request).await?;
    let _: Empty = request.json()?;
    store::sessions::delete_for_user(
        auth.database(),
        &current.user.id,
        Some(&current.session.token),
    )
    .await?;
    auth.forget_cached_sessions(None);
    Ok(status_true())
}
