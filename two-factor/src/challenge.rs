//! The sign-in challenge: a password sign-in of a user with two-factor on
//! gets a short-lived, single-use `two_factor` cookie instead of a session;
//! the session is made once a second factor is verified. A trusted device
//! (a signed `trust_device` cookie backed by a stored token) skips it.

use better_auth::prelude::User;
use better_auth::{AuthContext, AuthRequest, AuthResponse, Error, ResolvedSession, Result};
use serde::Serialize;

use crate::{TwoFactorPlugin, store};

/// Token purposes in the verification table.
const CHALLENGE: &str = "two-factor";
const TRUSTED: &str = "trust-device";

pub(crate) fn settings(ctx: &AuthContext) -> TwoFactorPlugin {
    ctx.extension::<TwoFactorPlugin>()
        .cloned()
        .unwrap_or_default()
}

/// `{"twoFactorRedirect": true, "twoFactorMethods": [..]}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Redirect {
    two_factor_redirect: bool,
    two_factor_methods: Vec<&'static str>,
}

/// The user column that says two-factor is on.
pub(crate) const ENABLED: &str = "twoFactorEnabled";

/// Runs after a password sign-in proved the password, before its session is
/// made: `None` lets the sign-in finish; a response (the challenge) takes
/// its place.
pub(crate) async fn on_sign_in(
    ctx: &AuthContext,
    request: &AuthRequest,
    user: &User,
    remember: bool,
) -> Result<Option<AuthResponse>> {
    // The flag comes with the user (a plugin column, read by the sign-in's
    // own query), so a sign-in without two-factor costs no extra query.
    if user.field(ENABLED).and_then(|v| v.as_bool()) != Some(true) {
        return Ok(None);
    }
    if trusted_device(ctx, request, &user.id).await? {
        return Ok(None);
    }
    let plugin = settings(ctx);
    let token = ctx
        .issue_token(CHALLENGE, &user.id, plugin.challenge_lifetime)
        .await?;
    let mut methods = Vec::new();
    if store::find(ctx.database(), &user.id)
        .await?
        .is_some_and(|row| row.is_verified())
    {
        methods.push("totp");
    }
    if plugin.otp_by_email {
        methods.push("otp");
    }
    let response = AuthResponse::json(&Redirect {
        two_factor_redirect: true,
        two_factor_methods: methods,
    });
    let mut response = ctx.set_cookie(
        response,
        &ctx.cookie_name("two_factor"),
        &ctx.sign(&token),
        Some(plugin.challenge_lifetime),
    );
    if !remember {
        // Kept for the session the second factor will make.
        response = ctx.set_cookie(
            response,
            &ctx.cookie_name("dont_remember"),
            &ctx.sign("true"),
            None,
        );
    }
    Ok(Some(response))
}

/// Whose second factor a verify request is for.
pub(crate) enum Target {
    /// A signed-in user (setting two-factor up, or re-checking).
    Session(ResolvedSession),
    /// A sign-in waiting for its second factor.
    Challenge { user: User, token: String },
}

impl Target {
    pub(crate) fn user(&self) -> &User {
        match self {
            Target::Session(current) => &current.user,
            Target::Challenge { user, .. } => user,
        }
    }
}

fn invalid_cookie() -> Error {
    Error::plugin(
        better_auth::http::StatusCode::UNAUTHORIZED,
        "INVALID_TWO_FACTOR_COOKIE",
        "Invalid two factor cookie",
    )
}

/// The session on the request, or else the pending sign-in its
/// `two_factor` cookie names (401 `INVALID_TWO_FACTOR_COOKIE` without one).
pub(crate) async fn target(ctx: &AuthContext, request: &AuthRequest) -> Result<Target> {
    if let Some(current) = ctx.session_from_headers(&request.headers).await? {
        return Ok(Target::Session(current));
    }
    let cookie = ctx
        .request_cookie(&request.headers, &ctx.cookie_name("two_factor"))
        .ok_or_else(invalid_cookie)?;
    let token = ctx
        .verify_signed(&cookie)
        .ok_or_else(invalid_cookie)?
        .to_owned();
    let user_id = ctx
        .peek_token(CHALLENGE, &token)
        .await?
        .ok_or_else(invalid_cookie)?;
    let user = better_auth::store::users::find_by_id(ctx.database(), &user_id)
        .await?
        .ok_or_else(invalid_cookie)?;
    Ok(Target::Challenge { user, token })
}

/// `{"token", "user"}`: what a verified second factor answers.
#[derive(Serialize)]
struct Verified<'a> {
    token: &'a str,
    user: &'a User,
}

/// The answer to a verified second factor: for a pending sign-in, its
/// session (the challenge used up, the device trusted when asked); for a
/// signed-in user, their current session.
pub(crate) async fn finish(
    ctx: &AuthContext,
    request: &AuthRequest,
    target: Target,
    trust_device: bool,
) -> Result<AuthResponse> {
    match target {
        Target::Session(current) => {
            let token = ctx.token_from_headers(&request.headers).unwrap_or_default();
            Ok(AuthResponse::json(&Verified {
                token: &token,
                user: &current.user,
            }))
        }
        Target::Challenge { user, token } => {
            // Single use: a replayed cookie (or a concurrent request) finds nothing.
            if ctx.consume_token(CHALLENGE, &token).await?.as_deref() != Some(user.id.as_str()) {
                return Err(invalid_cookie());
            }
            let remember = !ctx.dont_remember(&request.headers);
            let (_, session_token) = ctx.create_session(&user, request).await?;
            let response = AuthResponse::json(&Verified {
                token: &session_token,
                user: &user,
            });
            let mut response = ctx.with_session_cookie(response, &session_token, remember);
            response = ctx.set_cookie(
                response,
                &ctx.cookie_name("two_factor"),
                "",
                Some(std::time::Duration::ZERO),
            );
            if trust_device {
                let lifetime = settings(ctx).trust_lifetime;
                let trusted = ctx.issue_token(TRUSTED, &user.id, lifetime).await?;
                response = ctx.set_cookie(
                    response,
                    &ctx.cookie_name("trust_device"),
                    &ctx.sign(&trusted),
                    Some(lifetime),
                );
            }
            Ok(response)
        }
    }
}

/// Whether the request carries a trusted-device cookie, still stored and
/// made for this user.
async fn trusted_device(ctx: &AuthContext, request: &AuthRequest, user_id: &str) -> Result<bool> {
    let Some(cookie) = ctx.request_cookie(&request.headers, &ctx.cookie_name("trust_device"))
    else {
        return Ok(false);
    };
    let Some(token) = ctx.verify_signed(&cookie) else {
        return Ok(false);
    };
    Ok(ctx.peek_token(TRUSTED, token).await?.as_deref() == Some(user_id))
}

/// Ends the device trust the request carries (two-factor turned off).
pub(crate) async fn forget_device(ctx: &AuthContext, request: &AuthRequest) -> Result<()> {
    if let Some(cookie) = ctx.request_cookie(&request.headers, &ctx.cookie_name("trust_device")) {
        if let Some(token) = ctx.verify_signed(&cookie) {
            ctx.consume_token(TRUSTED, token).await?;
        }
    }
    Ok(())
}
