//! `PasswordManagementPlugin`: change a password, and reset a forgotten one
//! through an emailed single-use link.

use http::{Method, header};
use serde::Deserialize;
use utoipa::ToSchema;

use super::account_changes::with_query;
use super::{
    Plugin, PluginSetup, Route, StatusMessage, StatusResponse, TokenUser, check_password,
    normalize_email, status_true,
};
use crate::context::AuthContext;
use crate::email::{EmailKind, compose};
use crate::error::{Error, Result};
use crate::request::{AuthRequest, AuthResponse};
use crate::store;

/// Token purpose for password resets.
const RESET_PASSWORD: &str = "reset-password";

/// `POST /change-password`, `POST /request-password-reset` (and its older
/// name `POST /forget-password`), `GET /reset-password/{token}`, `POST /reset-password`.
#[derive(Clone, Debug, Default)]
pub struct PasswordManagementPlugin;

impl PasswordManagementPlugin {
    /// The plugin.
    ///
    /// ```
    /// use better_auth::plugins::PasswordManagementPlugin;
    ///
    /// let plugin = PasswordManagementPlugin::new();
    /// ```
    pub fn new() -> Self {
        PasswordManagementPlugin
    }
}

impl Plugin for PasswordManagementPlugin {
    fn id(&self) -> &'static str {
        "password-management"
    }

    fn install(&self, setup: &mut PluginSetup) {
        setup
            .route(
                Route::new(
                    Method::POST,
                    "/change-password",
                    "Change the password (current password required)",
                    |a, r| Box::pin(change_password(a, r)),
                )
                .body::<ChangePasswordBody>()
                .returns::<TokenUser>()
                .errors(&[400])
                .authenticated(),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/request-password-reset",
                    "Email a password-reset link (same answer for unknown emails)",
                    |a, r| Box::pin(request_password_reset(a, r)),
                )
                .body::<ResetRequestBody>()
                .returns::<StatusMessage>(),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/forget-password",
                    "Older name of /request-password-reset",
                    |a, r| Box::pin(request_password_reset(a, r)),
                )
                .body::<ResetRequestBody>()
                .returns::<StatusMessage>(),
            )
            .route(
                Route::new(
                    Method::GET,
                    "/reset-password/{token}",
                    "Follow an emailed reset link: redirect to the app with the token",
                    |a, r| Box::pin(reset_password_link(a, r)),
                )
                .query(&[("callbackURL", true)])
                .redirects()
                .errors(&[400, 403]),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/reset-password",
                    "Set a new password with a reset token",
                    |a, r| Box::pin(reset_password(a, r)),
                )
                .body::<ResetPasswordBody>()
                .returns::<StatusResponse>(),
            );
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ChangePasswordBody {
    /// The new password (8 to 128 characters).
    #[schema(min_length = 8, max_length = 128)]
    new_password: String,
    /// The current password (S05).
    current_password: String,
    /// End every other session of the user.
    revoke_other_sessions: Option<bool>,
}

/// S05: the current password is required. S14: `revokeOtherSessions` ends every
/// other session and issues a fresh one for the caller.
async fn change_password(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let current = auth.require_session(&request).await?;
    let body: ChangePasswordBody = request.json()?;
    check_password(auth, &body.new_password)?;
    if body.current_password.chars().count() > auth.config().password_settings().max_length {
        return Err(Error::InvalidPassword);
    }
    let user = &current.user;
    let stored = store::accounts::credential_password(auth.database(), &user.id)
        .await?
        .ok_or_else(|| Error::Validation("Credential account not found".into()))?;
    // S31: the sign-in throttle guards this password check too.
    if !auth
        .check_password_attempt(&user.email, &body.current_password, Some(&stored))
        .await?
        .ok
    {
        return Err(Error::InvalidPassword);
    }
    let hash = auth.password_hasher().hash(&body.new_password).await?;
    let revoke = body.revoke_other_sessions.unwrap_or(false);
    // New password, no outstanding reset link (S33) and, when asked, no old
    // session, in one transaction.
    let change = store::accounts::PasswordChange {
        user_id: &user.id,
        password_hash: &hash,
        now: auth.now(),
        end_sessions: revoke,
        token: None,
    };
    store::accounts::change_password(auth.database(), &change).await?;
    if !revoke {
        return Ok(AuthResponse::json(&TokenUser {
            token: None,
            user: user.clone(),
        }));
    }
    auth.forget_cached_sessions(None);
    let (_, token) = auth.create_session(user, &request).await?;
    let response = AuthResponse::json(&TokenUser {
        token: Some(token.clone()),
        user: user.clone(),
    });
    let remember = !auth.dont_remember(&request.headers);
    Ok(auth.with_session_cookie(response, &token, remember))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ResetRequestBody {
    /// The account's email.
    #[schema(format = Email, max_length = 254)]
    email: String,
    /// The app page that asks for the new password; it receives `?token=`.
    redirect_to: Option<String>,
}

/// S08: the same answer, at the same speed, for known and unknown emails —
/// the lookup, token and email happen in a background task.
async fn request_password_reset(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let body: ResetRequestBody = request.json()?;
    let email = normalize_email(&body.email)?;
    if let Some(url) = &body.redirect_to {
        auth.check_redirect(url)?;
    }
    let detached = auth.detached();
    auth.spawn_background("password reset email", async move {
        let Some(user) = store::users::find_by_email(detached.database(), &email).await? else {
            return Ok(());
        };
        let token = detached
            .issue_token(RESET_PASSWORD, &user.id, super::LINK_LIFETIME)
            .await?;
        let mut url = detached
            .config()
            .route_url(&format!("/reset-password/{token}"));
        url = with_query(
            &url,
            "callbackURL",
            body.redirect_to.as_deref().unwrap_or("/"),
        );
        detached
            .send_email(compose(EmailKind::PasswordReset, &user.email, &url))
            .await
    });
    Ok(AuthResponse::json(&StatusMessage {
        status: true,
        message: "If this email exists in our system, check your email for the reset link".into(),
    }))
}

/// The emailed link: checks the token (without using it) and sends the
/// browser to the app's page with `?token=` or `?error=INVALID_TOKEN`.
async fn reset_password_link(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let callback = request
        .query("callbackURL")
        .ok_or_else(|| Error::Validation("[query.callbackURL] callbackURL is required".into()))?
        .to_owned();
    auth.check_redirect(&callback)?;
    let token = request.params.get("token").cloned().unwrap_or_default();
    let valid = !token.is_empty() && auth.peek_token(RESET_PASSWORD, &token).await?.is_some();
    let location = if valid {
        with_query(&callback, "token", &token)
    } else {
        with_query(&callback, "error", "INVALID_TOKEN")
    };
    // S38: the link and the redirect carry a live token: never sent on as a
    // Referer, never cached.
    Ok(AuthResponse::redirect(&location)
        .header(header::REFERRER_POLICY, "no-referrer")
        .header(header::CACHE_CONTROL, "no-store"))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ResetPasswordBody {
    /// The new password (8 to 128 characters).
    #[schema(min_length = 8, max_length = 128)]
    new_password: String,
    /// The token from the reset link.
    token: String,
}

/// S14/S21: the token is single-use; every session of the user ends; the
/// user is not signed in. S49: every other emailed token of the user ends
/// too. S48: the address counts as proven.
async fn reset_password(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let body: ResetPasswordBody = request.json()?;
    check_password(auth, &body.new_password)?;
    let user_id = auth
        .peek_token(RESET_PASSWORD, &body.token)
        .await?
        .ok_or(Error::InvalidToken)?;
    let hash = auth.password_hasher().hash(&body.new_password).await?;
    // S33: the token is consumed in the transaction that sets the password,
    // ends every session (S14) and every other reset link: a failure burns
    // nothing, and two requests racing for one token change it once.
    let identifier = format!(
        "{RESET_PASSWORD}:{}",
        crate::store::token_digest(&body.token)
    );
    let change = store::accounts::PasswordChange {
        user_id: &user_id,
        password_hash: &hash,
        now: auth.now(),
        end_sessions: true,
        token: Some(&identifier),
    };
    store::accounts::change_password(auth.database(), &change)
        .await?
        .ok_or(Error::InvalidToken)?;
    auth.forget_cached_sessions(None);
    if let Some(user) = store::users::find_by_id(auth.database(), &user_id).await? {
        // S10: a reset lifts any sign-in throttle on the account.
        auth.clear_password_attempts(&user.email).await?;
        // S48: the link was mailed to the address (a change of address ends
        // reset links, S33): following it proves the address.
        if !user.email_verified {
            store::users::mark_email_verified(auth.database(), &user.id, auth.now()).await?;
            auth.forget_cached_sessions(None);
            super::account_changes::address_proven(auth, &user).await?;
        }
    }
    Ok(status_true())
}
