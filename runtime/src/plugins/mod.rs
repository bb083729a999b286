//! Plugins: each is a table of routes (method, path, handler) plus the values
//! its handlers read back ([`PluginSetup::extension`]). Handlers are
//! framework-free: they take the [`AuthContext`] and an
//! [`AuthRequest`](crate::AuthRequest) and return an
//! [`AuthResponse`]. Ours use only that public API, so a
//! plugin written outside this crate can do anything they do; see
//! the `better-auth-magic-link` crate for one.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::context::AuthContext;
use crate::error::Result;
use crate::request::AuthResponse;
pub(crate) use crate::validation::{check_image, check_name, normalize_email};

pub(crate) mod account_changes;
mod account_management;
mod email_password;
mod password_management;
mod session_management;

pub use account_management::AccountManagementPlugin;
pub use email_password::{EmailPasswordPlugin, sign_in_with_password};
pub use password_management::PasswordManagementPlugin;
pub use session_management::SessionManagementPlugin;

pub use crate::route::{
    Column, ColumnKind, HandlerFn, HandlerFuture, Plugin, PluginSetup, Route, SchemaFn,
    SessionFuture, SessionHook, SignInFuture, SignInHook, Success, UserInput, UserInputFuture,
    UserInputHook,
};

/// How long an emailed link (reset, verification, email change) stays valid (S21).
pub(crate) const LINK_LIFETIME: std::time::Duration = std::time::Duration::from_secs(3600);

/// S01/S02 with the instance's policy.
pub(crate) fn check_password(auth: &AuthContext, password: &str) -> Result<()> {
    crate::validation::check_password(auth.config().password_settings(), password)
}

/// Body of endpoints that take nothing (`{}`); any JSON object is accepted,
/// anything else (an array, a string) is a 400.
#[derive(ToSchema)]
pub(crate) struct Empty {}

impl<'de> Deserialize<'de> for Empty {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_json::Map::<String, serde_json::Value>::deserialize(deserializer).map(|_| Empty {})
    }
}

/// `{"status": true}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct StatusResponse {
    status: bool,
}

/// `{"status": true}`.
pub(crate) fn status_true() -> AuthResponse {
    AuthResponse::json(&StatusResponse { status: true })
}

/// `{"success": true}` (sign-out).
#[derive(Serialize, ToSchema)]
pub(crate) struct SuccessResponse {
    pub(crate) success: bool,
}

/// `{"status": true, "message": ...}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct StatusMessage {
    pub(crate) status: bool,
    pub(crate) message: String,
}

/// `{"token", "user"}` (sign-up, change-password); `token` is null when no
/// session was created.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenUser {
    pub(crate) token: Option<String>,
    pub(crate) user: crate::models::User,
}
