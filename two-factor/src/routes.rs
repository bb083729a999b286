//! The `/two-factor/*` handlers: bodies and answers as Better Auth's.

use better_auth::http::StatusCode;
use better_auth::{AuthContext, AuthRequest, AuthResponse, Error, Result};
use serde::{Deserialize, Serialize};

use crate::challenge::{self, Target};
use crate::{codes, secret, store};

/// Every route, for the plugin's rate-limit rules.
pub(crate) const PATHS: [&str; 8] = [
    "/two-factor/enable",
    "/two-factor/disable",
    "/two-factor/get-totp-uri",
    "/two-factor/generate-backup-codes",
    "/two-factor/verify-totp",
    "/two-factor/verify-backup-code",
    "/two-factor/send-otp",
    "/two-factor/verify-otp",
];

fn bad_request(code: &'static str, message: &str) -> Error {
    Error::plugin(StatusCode::BAD_REQUEST, code, message)
}

/// Body of `enable`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct EnableBody {
    /// The user's password (users without one: a fresh session instead).
    password: Option<String>,
    /// `totp` (the default; `otp` is not configured here).
    method: Option<String>,
    /// The name the authenticator app shows (default: the plugin's issuer).
    issuer: Option<String>,
}

/// `{"method": "totp", "totpURI", "backupCodes"}`, or `{"method": "otp"}`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Enabled {
    /// `totp` or `otp`.
    method: &'static str,
    /// For `totp`: the URI to show as a QR code.
    #[serde(rename = "totpURI", skip_serializing_if = "Option::is_none")]
    totp_uri: Option<String>,
    /// For `totp`: the backup codes, shown this once.
    #[serde(rename = "backupCodes", skip_serializing_if = "Option::is_none")]
    backup_codes: Option<Vec<String>>,
}

/// Body of the password-confirmed routes.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct PasswordBody {
    /// The user's password (users without one: a fresh session instead).
    password: Option<String>,
}

/// `{"status": true}`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Status {
    status: bool,
}

/// `{"totpURI"}`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct TotpUri {
    #[serde(rename = "totpURI")]
    totp_uri: String,
}

/// `{"status": true, "backupCodes"}`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct BackupCodes {
    status: bool,
    #[serde(rename = "backupCodes")]
    backup_codes: Vec<String>,
}

/// Body of `verify-totp`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VerifyBody {
    /// The authenticator's 6-digit code.
    code: String,
    /// Trust this device for 30 days (no second factor on its sign-ins).
    trust_device: Option<bool>,
}

/// Body of `verify-backup-code`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BackupCodeBody {
    /// One of the backup codes (`xxxxx-xxxxx`).
    code: String,
    /// Trust this device for 30 days.
    trust_device: Option<bool>,
    /// Verify without making a session.
    disable_session: Option<bool>,
}

/// `{"token", "user"}`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Verified {
    token: String,
    #[schema(value_type = Object)]
    user: serde_json::Value,
}

/// The signed-in user's session, with their password (or a fresh session,
/// for a user without one) proved.
async fn confirmed(
    ctx: &AuthContext,
    request: &AuthRequest,
    password: Option<&str>,
) -> Result<better_auth::ResolvedSession> {
    let current = ctx.require_session(request).await?;
    let has_password =
        better_auth::store::accounts::credential_password(ctx.database(), &current.user.id)
            .await?
            .is_some();
    if has_password && password.is_none() {
        return Err(Error::InvalidPassword);
    }
    ctx.require_fresh_session(&current, password).await?;
    Ok(current)
}

fn issuer(ctx: &AuthContext, asked: Option<String>) -> String {
    asked
        .or_else(|| challenge::settings(ctx).issuer)
        .unwrap_or_else(|| {
            url::Url::parse(&ctx.config().base_origin())
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| "Better Auth".to_owned())
        })
}

pub(crate) async fn enable(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let body: EnableBody = request.json()?;
    let current = confirmed(ctx, &request, body.password.as_deref()).await?;
    match body.method.as_deref() {
        None | Some("totp") => {}
        Some("otp") if challenge::settings(ctx).otp_by_email => {
            // Codes by email need no setup: on at once.
            store::set_enabled(ctx.database(), &current.user.id, true, ctx.now()).await?;
            return Ok(AuthResponse::json(&Enabled {
                method: "otp",
                totp_uri: None,
                backup_codes: None,
            }));
        }
        Some("otp") => return Err(otp_not_configured()),
        Some(_) => {
            return Err(Error::Validation(
                "method must be \"totp\" or \"otp\"".into(),
            ));
        }
    }
    let db = ctx.database();
    if store::find(db, &current.user.id)
        .await?
        .is_some_and(|row| row.is_verified())
    {
        return Err(bad_request(
            "TOTP_ALREADY_ENABLED",
            "TOTP is already enabled",
        ));
    }
    let totp_secret = codes::new_secret();
    let backup = codes::new_backup_codes();
    let digests: Vec<String> = backup.iter().map(|c| codes::digest(c)).collect();
    store::start_setup(
        db,
        &current.user.id,
        &secret::seal(ctx, &totp_secret),
        &digests,
    )
    .await?;
    Ok(AuthResponse::json(&Enabled {
        method: "totp",
        totp_uri: Some(codes::totp_uri(
            &totp_secret,
            &issuer(ctx, body.issuer),
            &current.user.email,
        )),
        backup_codes: Some(backup),
    }))
}

pub(crate) async fn disable(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let body: PasswordBody = request.json()?;
    let current = confirmed(ctx, &request, body.password.as_deref()).await?;
    store::set_enabled(ctx.database(), &current.user.id, false, ctx.now()).await?;
    store::delete(ctx.database(), &current.user.id).await?;
    challenge::forget_device(ctx, &request).await?;
    let response = AuthResponse::json(&Status { status: true });
    Ok(ctx.set_cookie(
        response,
        &ctx.cookie_name("trust_device"),
        "",
        Some(std::time::Duration::ZERO),
    ))
}

pub(crate) async fn totp_uri(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let body: PasswordBody = request.json()?;
    let current = confirmed(ctx, &request, body.password.as_deref()).await?;
    let row = store::find(ctx.database(), &current.user.id)
        .await?
        .ok_or_else(|| bad_request("TOTP_NOT_ENABLED", "TOTP not enabled"))?;
    let totp_secret = secret::open(ctx, &row.secret)?;
    Ok(AuthResponse::json(&TotpUri {
        totp_uri: codes::totp_uri(&totp_secret, &issuer(ctx, None), &current.user.email),
    }))
}

pub(crate) async fn generate_backup_codes(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    let body: PasswordBody = request.json()?;
    let current = confirmed(ctx, &request, body.password.as_deref()).await?;
    let not_enabled = || bad_request("TWO_FACTOR_NOT_ENABLED", "Two factor isn't enabled");
    if !store::is_enabled(ctx.database(), &current.user.id).await? {
        return Err(not_enabled());
    }
    let row = store::find(ctx.database(), &current.user.id)
        .await?
        .ok_or_else(not_enabled)?;
    let backup = codes::new_backup_codes();
    let digests: Vec<String> = backup.iter().map(|c| codes::digest(c)).collect();
    if !store::swap_backup_codes(ctx.database(), &row.id, &row.backup_codes, &digests).await? {
        return Err(Error::plugin(
            StatusCode::CONFLICT,
            "CONFLICT",
            "The backup codes changed meanwhile; try again",
        ));
    }
    Ok(AuthResponse::json(&BackupCodes {
        status: true,
        backup_codes: backup,
    }))
}

fn invalid_code() -> Error {
    Error::plugin(StatusCode::UNAUTHORIZED, "INVALID_CODE", "Invalid code")
}

/// 429 while the account's second factor is locked after repeated failures.
fn check_lock(ctx: &AuthContext, row: &store::TwoFactorRow) -> Result<()> {
    if row.locked_at(ctx.now()) {
        return Err(Error::plugin(
            StatusCode::TOO_MANY_REQUESTS,
            "ACCOUNT_TEMPORARILY_LOCKED",
            "Too many failed verification attempts. Your account is temporarily locked. \
             Please try again later.",
        ));
    }
    Ok(())
}

async fn record_failure(ctx: &AuthContext, row: &store::TwoFactorRow) -> Result<()> {
    let lockout = challenge::settings(ctx).lockout;
    let until = ctx.now()
        + chrono::Duration::from_std(lockout.duration).unwrap_or(chrono::Duration::minutes(15));
    store::record_failure(ctx.database(), &row.id, lockout.max_failures, until).await
}

pub(crate) async fn verify_totp(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let body: VerifyBody = request.json()?;
    let target = challenge::target(ctx, &request).await?;
    let user_id = target.user().id.clone();
    let db = ctx.database();
    let not_enabled = || bad_request("TOTP_NOT_ENABLED", "TOTP not enabled");
    let row = store::find(db, &user_id).await?.ok_or_else(not_enabled)?;
    let signing_in = matches!(target, Target::Challenge { .. });
    if signing_in && !row.is_verified() {
        return Err(not_enabled());
    }
    check_lock(ctx, &row)?;
    let totp_secret = secret::open(ctx, &row.secret)?;
    let now = u64::try_from(ctx.now().timestamp()).unwrap_or_default();
    let step = codes::matching_step(&totp_secret, &body.code, now);
    // A code counts once: a step already used (or older) is refused.
    let accepted = match step {
        Some(step) => store::accept_step(db, &row.id, step).await?,
        None => false,
    };
    if !accepted {
        record_failure(ctx, &row).await?;
        return Err(invalid_code());
    }
    store::reset_failures(db, &row.id).await?;
    if !row.is_verified() {
        // The first code from the app: two-factor is on from now.
        store::mark_verified(db, &row.id).await?;
        store::set_enabled(db, &user_id, true, ctx.now()).await?;
    }
    challenge::finish(ctx, &request, target, body.trust_device.unwrap_or(false)).await
}

pub(crate) async fn verify_backup_code(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    let body: BackupCodeBody = request.json()?;
    let target = challenge::target(ctx, &request).await?;
    let db = ctx.database();
    let row = store::find(db, &target.user().id)
        .await?
        .ok_or_else(|| bad_request("BACKUP_CODES_NOT_ENABLED", "Backup codes aren't enabled"))?;
    check_lock(ctx, &row)?;
    let used = codes::use_backup_code(&row.digests(), &body.code);
    // Swapped only if unchanged: the same code used twice at once counts once.
    let accepted = match &used {
        Some(rest) => store::swap_backup_codes(db, &row.id, &row.backup_codes, rest).await?,
        None => false,
    };
    if !accepted {
        record_failure(ctx, &row).await?;
        return Err(Error::plugin(
            StatusCode::UNAUTHORIZED,
            "INVALID_BACKUP_CODE",
            "Invalid backup code",
        ));
    }
    store::reset_failures(db, &row.id).await?;
    if body.disable_session == Some(true) {
        if let Target::Session(current) = &target {
            let token = ctx.token_from_headers(&request.headers).unwrap_or_default();
            return Ok(AuthResponse::json(&serde_json::json!({
                "token": token,
                "user": current.user,
            })));
        }
    }
    challenge::finish(ctx, &request, target, body.trust_device.unwrap_or(false)).await
}

/// Body of `send-otp` (as Better Auth's; nothing in it is needed).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SendOtpBody {
    /// Accepted for compatibility; trust is asked for at `verify-otp`.
    #[allow(dead_code)]
    trust_device: Option<bool>,
}

fn otp_not_configured() -> Error {
    bad_request("OTP_NOT_CONFIGURED", "OTP is not available")
}

/// Attempts allowed per emailed code.
const OTP_ATTEMPTS: i32 = 5;

/// What an emailed code is stored under: the pending sign-in (its challenge
/// token's digest) or the signed-in session.
fn otp_key(target: &Target) -> String {
    match target {
        Target::Session(current) => format!("session:{}", current.session.id),
        Target::Challenge { token, .. } => format!("challenge:{}", codes::digest(token)),
    }
}

/// The stored form of a code: a digest of its HMAC under the app's secret
/// (bound to the key), so neither the code nor a guessable hash of it is stored.
fn otp_hash(ctx: &AuthContext, key: &str, code: &str) -> String {
    // `sign` answers `value.signature`: only a digest of it is kept.
    codes::digest(&ctx.sign(&format!("two-factor-otp:{key}:{}", code.trim())))
}

pub(crate) async fn send_otp(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    // Validated like every body (an empty one reads as `{}`).
    let _: SendOtpBody = request.json()?;
    let plugin = challenge::settings(ctx);
    if !plugin.otp_by_email {
        return Err(otp_not_configured());
    }
    let target = challenge::target(ctx, &request).await?;
    let key = otp_key(&target);
    let code = codes::new_otp();
    let now = ctx.now();
    let lifetime =
        chrono::Duration::from_std(plugin.otp_lifetime).unwrap_or(chrono::Duration::minutes(3));
    let user = target.user().clone();
    store::put_otp(
        ctx.database(),
        &key,
        &user.id,
        &otp_hash(ctx, &key, &code),
        now,
        now + lifetime,
    )
    .await?;
    let detached = ctx.detached();
    let minutes = plugin.otp_lifetime.as_secs().div_ceil(60);
    ctx.spawn_background("two-factor code email", async move {
        detached
            .send_email(better_auth::email::Email::code(
                better_auth::email::EmailKind::Other("two-factor-otp"),
                &user.email,
                "Your sign-in code",
                "sign in",
                &code,
                minutes,
            ))
            .await
    });
    Ok(AuthResponse::json(&Status { status: true }))
}

pub(crate) async fn verify_otp(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    if !challenge::settings(ctx).otp_by_email {
        return Err(otp_not_configured());
    }
    let body: VerifyBody = request.json()?;
    let target = challenge::target(ctx, &request).await?;
    let db = ctx.database();
    let user_id = target.user().id.clone();
    let row = store::find(db, &user_id).await?;
    if let Some(row) = &row {
        check_lock(ctx, row)?;
    }
    let key = otp_key(&target);
    let stored = match store::attempt_otp(db, &key, ctx.now(), OTP_ATTEMPTS).await? {
        store::OtpAttempt::Missing => {
            return Err(bad_request("OTP_HAS_EXPIRED", "OTP has expired"));
        }
        store::OtpAttempt::Spent => {
            return Err(bad_request(
                "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE",
                "Too many attempts. Please request a new code.",
            ));
        }
        store::OtpAttempt::Hash(hash) => hash,
    };
    let given = otp_hash(ctx, &key, &body.code);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        stored.as_bytes(),
        given.as_bytes(),
    )) {
        if let Some(row) = &row {
            record_failure(ctx, row).await?;
        }
        return Err(invalid_code());
    }
    store::delete_otp(db, &key).await?;
    if let Some(row) = &row {
        store::reset_failures(db, &row.id).await?;
    }
    if matches!(target, Target::Session(_)) && !store::is_enabled(db, &user_id).await? {
        // A code by email, verified while signed in: two-factor is on from now.
        store::set_enabled(db, &user_id, true, ctx.now()).await?;
    }
    challenge::finish(ctx, &request, target, body.trust_device.unwrap_or(false)).await
}
