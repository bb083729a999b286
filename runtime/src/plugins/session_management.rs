//! `SessionManagementPlugin`: list and revoke the caller's sessions.

use http::Method;
use serde::Deserialize;

use utoipa::ToSchema;

use super::{Plugin, PluginSetup, Route, StatusResponse, status_true};
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
                    "End one of the caller's sessions (another one: password or a fresh session required)",
                    |a, r| Box::pin(revoke_session(a, r)),
                )
                .body::<RevokeSessionBody>()
                .returns::<StatusResponse>()
                .errors(&[400, 403])
                .authenticated(),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/revoke-sessions",
                    "End all of the caller's sessions (password or a fresh session required)",
                    |a, r| Box::pin(revoke_sessions(a, r)),
                )
                .optional_body::<Proof>()
                .returns::<StatusResponse>()
                .errors(&[400, 403])
                .authenticated(),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/revoke-other-sessions",
                    "End all of the caller's sessions but this one (password or a fresh session required)",
                    |a, r| Box::pin(revoke_other_sessions(a, r)),
                )
                .optional_body::<Proof>()
                .returns::<StatusResponse>()
                .errors(&[400, 403])
                .authenticated(),
            );
    }
}

async fn list_sessions(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let current = auth.require_session(&request).await?;
    let mut sessions =
        store::sessions::list_active_for_user(auth.database(), &current.user.id, auth.now())
            .await?;
    sessions.retain(|session| {
        !auth
            .unlisted_sessions
            .iter()
            .any(|unlisted| unlisted(session))
    });
    Ok(AuthResponse::json(&sessions))
}

#[derive(Deserialize, ToSchema)]
struct RevokeSessionBody {
    /// The session's `token` as `list-sessions` shows it (or a raw token).
    token: String,
    /// The current password, needed to end another session when this one is
    /// not fresh (S49).
    password: Option<String>,
}

/// The body of the routes that end other sessions: `{}`, or the current
/// password when the session is not fresh (S49). Any JSON object is
/// accepted, anything else (an array, a string) is a 400.
#[derive(ToSchema)]
pub(crate) struct Proof {
    /// The current password, needed when the session is not fresh.
    password: Option<String>,
}

impl<'de> Deserialize<'de> for Proof {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut body = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        match body.remove("password") {
            None | Some(serde_json::Value::Null) => Ok(Proof { password: None }),
            Some(serde_json::Value::String(password)) => Ok(Proof {
                password: Some(password),
            }),
            Some(_) => Err(serde::de::Error::custom("password: expected a string")),
        }
    }
}

/// Accepts the stored digest (as `list-sessions` returns it) or a raw token.
/// Only the caller's own sessions can be revoked (S23); ending another one
/// than the caller's needs the password or a fresh session (S49).
async fn revoke_session(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let current = auth.require_session(&request).await?;
    let body: RevokeSessionBody = request.json()?;
    let own =
        body.token == current.session.token || token_digest(&body.token) == current.session.token;
    if !own {
        auth.require_fresh_session(&current, body.password.as_deref())
            .await?;
    }
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

/// S49: ends every session of the user, other clients' included: the
/// password or a fresh session is needed.
async fn revoke_sessions(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let current = auth.require_session(&request).await?;
    let body: Proof = request.json()?;
    auth.require_fresh_session(&current, body.password.as_deref())
        .await?;
    store::sessions::delete_for_user(auth.database(), &current.user.id, None).await?;
    auth.forget_cached_sessions(None);
    Ok(status_true())
}

/// S49: a stolen session cannot shut the owner out: the password or a
/// fresh session is needed.
async fn revoke_other_sessions(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let current = auth.require_session(&request).await?;
    let body: Proof = request.json()?;
    auth.require_fresh_session(&current, body.password.as_deref())
        .await?;
    store::sessions::delete_for_user(
        auth.database(),
        &current.user.id,
        Some(&current.session.token),
    )
    .await?;
    auth.forget_cached_sessions(None);
    Ok(status_true())
}
