//! The handlers: bodies, answers and error codes as Better Auth's.

use better_auth::email::{Email, EmailKind};
use better_auth::http::StatusCode;
use better_auth::prelude::User;
use better_auth::store::{accounts, users};
use better_auth::validation::{check_image, check_password, normalize_email};
use better_auth::{AuthContext, AuthRequest, AuthResponse, Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::{EmailOtpPlugin, store};

/// Every route, for the plugin's rate-limit rules.
pub(crate) const PATHS: [&str; 7] = [
    "/email-otp/send-verification-otp",
    "/email-otp/check-verification-otp",
    "/email-otp/verify-email",
    "/sign-in/email-otp",
    "/email-otp/request-password-reset",
    "/forget-password/email-otp",
    "/email-otp/reset-password",
];

/// What a code is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Kind {
    /// Sign in (or up).
    SignIn,
    /// Verify the address.
    EmailVerification,
    /// Reset the password.
    ForgetPassword,
    /// Not sent from here (Better Auth's own route for it): refused.
    ChangeEmail,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::SignIn => "sign-in",
            Kind::EmailVerification => "email-verification",
            Kind::ForgetPassword => "forget-password",
            Kind::ChangeEmail => "change-email",
        }
    }

    /// The subject and the action the email names.
    fn wording(self) -> (&'static str, &'static str) {
        match self {
            Kind::SignIn | Kind::ChangeEmail => ("Your sign-in code", "sign in"),
            Kind::EmailVerification => ("Verify your email", "verify your email"),
            Kind::ForgetPassword => ("Reset your password", "reset your password"),
        }
    }
}

/// `{email, type}`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct SendBody {
    /// The address to send the code to.
    email: String,
    /// `sign-in`, `email-verification` or `forget-password`.
    #[serde(rename = "type")]
    kind: Kind,
}

/// `{email, type, otp}`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct CheckBody {
    email: String,
    #[serde(rename = "type")]
    kind: Kind,
    otp: String,
}

/// `{email, otp}`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct CodeBody {
    email: String,
    otp: String,
}

/// `{email, otp, name?, image?}`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct SignInBody {
    email: String,
    otp: String,
    /// A new user's name.
    name: Option<String>,
    /// A new user's image URL.
    image: Option<String>,
}

/// `{email}`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct EmailBody {
    email: String,
}

/// `{email, otp, password}`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ResetBody {
    email: String,
    otp: String,
    /// The new password.
    password: String,
}

/// `{"success": true}`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Success {
    success: bool,
}

/// `{"status": true, "token": null, "user"}`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct EmailVerified {
    status: bool,
    token: Option<String>,
    user: User,
}

/// `{token, user}`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SignedIn {
    token: String,
    user: User,
}

fn settings(ctx: &AuthContext) -> EmailOtpPlugin {
    ctx.extension::<EmailOtpPlugin>()
        .cloned()
        .unwrap_or_default()
}

fn bad_request(code: &'static str, message: &str) -> Error {
    Error::plugin(StatusCode::BAD_REQUEST, code, message)
}

/// Where a code is kept: its purpose and address, as Better Auth names it.
fn identifier(kind: Kind, email: &str) -> String {
    format!("{}-otp-{email}", kind.name())
}

/// The stored form of a code: a digest of its HMAC under the app's secret,
/// bound to its identifier.
fn code_hash(ctx: &AuthContext, identifier: &str, code: &str) -> String {
    better_auth::store::token_digest(&ctx.sign(&format!("email-otp:{identifier}:{}", code.trim())))
}

/// Stores a new code for `kind` and `email` and mails it in the background
/// when `send`; an address that gets none keeps no code either.
async fn issue(ctx: &AuthContext, kind: Kind, email: &str, send: bool) -> Result<()> {
    let id = identifier(kind, email);
    if !send {
        return store::delete(ctx.database(), &id).await;
    }
    let plugin = settings(ctx);
    let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32));
    let now = ctx.now();
    let lifetime =
        chrono::Duration::from_std(plugin.lifetime).unwrap_or(chrono::Duration::minutes(5));
    store::put(
        ctx.database(),
        &id,
        &code_hash(ctx, &id, &code),
        now,
        now + lifetime,
    )
    .await?;
    let (subject, action) = kind.wording();
    let minutes = plugin.lifetime.as_secs().div_ceil(60);
    let to = email.to_owned();
    let detached = ctx.detached();
    ctx.spawn_background("email-otp code", async move {
        detached
            .send_email(Email::code(
                EmailKind::Other("email-otp"),
                &to,
                subject,
                action,
                &code,
                minutes,
            ))
            .await
    });
    Ok(())
}

/// Checks `code` against the one kept for `kind` and `email` (one attempt
/// counted): used up when `consume`, else kept (and the attempt given back).
async fn verify(
    ctx: &AuthContext,
    kind: Kind,
    email: &str,
    code: &str,
    consume: bool,
) -> Result<()> {
    let id = identifier(kind, email);
    let db = ctx.database();
    let max = i32::from(settings(ctx).attempts);
    let stored = match store::attempt(db, &id, ctx.now(), max).await? {
        store::Attempt::Expired => return Err(bad_request("OTP_EXPIRED", "OTP expired")),
        store::Attempt::Missing => return Err(bad_request("INVALID_OTP", "Invalid OTP")),
        store::Attempt::Spent => {
            return Err(Error::plugin(
                StatusCode::FORBIDDEN,
                "TOO_MANY_ATTEMPTS",
                "Too many attempts",
            ));
        }
        store::Attempt::Hash(hash) => hash,
    };
    let given = code_hash(ctx, &id, code);
    if !bool::from(stored.as_bytes().ct_eq(given.as_bytes())) {
        return Err(bad_request("INVALID_OTP", "Invalid OTP"));
    }
    if consume {
        store::delete(db, &id).await?;
    } else {
        store::give_back(db, &id).await?;
    }
    Ok(())
}

fn user_not_found() -> Error {
    bad_request("USER_NOT_FOUND", "User not found")
}

pub(crate) async fn send(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let body: SendBody = request.json()?;
    let email = normalize_email(&body.email)?;
    if body.kind == Kind::ChangeEmail {
        return Err(bad_request("INVALID_OTP_TYPE", "Invalid OTP type"));
    }
    let known = users::find_by_email(ctx.database(), &email)
        .await?
        .is_some();
    let send = known || (body.kind == Kind::SignIn && settings(ctx).sign_up);
    issue(ctx, body.kind, &email, send).await?;
    Ok(AuthResponse::json(&Success { success: true }))
}

pub(crate) async fn check(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let body: CheckBody = request.json()?;
    let email = normalize_email(&body.email)?;
    verify(ctx, body.kind, &email, &body.otp, false).await?;
    if users::find_by_email(ctx.database(), &email)
        .await?
        .is_none()
    {
        return Err(user_not_found());
    }
    Ok(AuthResponse::json(&Success { success: true }))
}

pub(crate) async fn verify_email(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let body: CodeBody = request.json()?;
    let email = normalize_email(&body.email)?;
    verify(ctx, Kind::EmailVerification, &email, &body.otp, true).await?;
    let db = ctx.database();
    let mut user = users::find_by_email(db, &email)
        .await?
        .ok_or_else(user_not_found)?;
    if !user.email_verified {
        users::mark_email_verified(db, &user.id, ctx.now()).await?;
        ctx.forget_cached_sessions(None);
        user = users::find_by_id(db, &user.id)
            .await?
            .ok_or_else(user_not_found)?;
    }
    Ok(AuthResponse::json(&EmailVerified {
        status: true,
        token: None,
        user,
    }))
}

pub(crate) async fn sign_in(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let body: SignInBody = request.json()?;
    let email = normalize_email(&body.email)?;
    check_image(body.image.as_deref())?;
    verify(ctx, Kind::SignIn, &email, &body.otp, true).await?;
    let db = ctx.database();
    let user = match users::find_by_email(db, &email).await? {
        Some(user) if user.email_verified => user,
        Some(user) => {
            // Whoever holds the code owns the address: an account set up
            // before that was proven keeps none of its ways in.
            users::claim_unverified(db, &user.id, ctx.now()).await?;
            ctx.forget_cached_sessions(None);
            users::find_by_id(db, &user.id)
                .await?
                .ok_or_else(|| bad_request("INVALID_OTP", "Invalid OTP"))?
        }
        None if settings(ctx).sign_up => {
            let name = body.name.as_deref().map(str::trim).unwrap_or_default();
            let new = users::NewUser::new(name, &email)
                .email_verified(true)
                .image(body.image.as_deref());
            match users::create(db, new, ctx.now()).await {
                Ok(user) => user,
                Err(Error::UserAlreadyExists) => users::find_by_email(db, &email)
                    .await?
                    .ok_or_else(|| bad_request("INVALID_OTP", "Invalid OTP"))?,
                Err(e) => return Err(e),
            }
        }
        None => return Err(bad_request("INVALID_OTP", "Invalid OTP")),
    };
    let (_, token) = ctx.create_session(&user, &request).await?;
    let response = AuthResponse::json(&SignedIn {
        token: token.clone(),
        user,
    });
    Ok(ctx.with_session_cookie(response, &token, true))
}

pub(crate) async fn request_reset(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let body: EmailBody = request.json()?;
    let email = normalize_email(&body.email)?;
    let known = users::find_by_email(ctx.database(), &email)
        .await?
        .is_some();
    issue(ctx, Kind::ForgetPassword, &email, known).await?;
    Ok(AuthResponse::json(&Success { success: true }))
}

pub(crate) async fn reset_password(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    let body: ResetBody = request.json()?;
    let email = normalize_email(&body.email)?;
    check_password(ctx.config().password_settings(), &body.password)?;
    verify(ctx, Kind::ForgetPassword, &email, &body.otp, true).await?;
    let db = ctx.database();
    let user = users::find_by_email(db, &email)
        .await?
        .ok_or_else(user_not_found)?;
    let hash = ctx.password_hasher().hash(&body.password).await?;
    // The new password, every session ended and every emailed token of the
    // user gone, in one transaction.
    accounts::set_credential_password_and_end_sessions(db, &user.id, &hash, ctx.now()).await?;
    ctx.forget_cached_sessions(None);
    ctx.clear_password_attempts(&email).await?;
    if !user.email_verified {
        users::mark_email_verified(db, &user.id, ctx.now()).await?;
    }
    Ok(AuthResponse::json(&Success { success: true }))
}
