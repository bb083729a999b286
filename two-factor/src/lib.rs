//! Two-factor authentication for [better-auth](better_auth), speaking Better
//! Auth's `twoFactor` plugin API so the official client's `twoFactorClient`
//! works unchanged.
//!
//! - `POST /two-factor/enable` (password-confirmed) answers an authenticator
//!   app's `otpauth://` URI and ten backup codes; the first code the app shows,
//!   sent to `POST /two-factor/verify-totp`, turns two-factor on.
//! - Once on, a password sign-in answers `{"twoFactorRedirect": true,
//!   "twoFactorMethods": ["totp"]}` and a short-lived `two_factor` cookie
//!   instead of a session. The session is made by `verify-totp` or
//!   `verify-backup-code`, which can also trust the device for 30 days.
//! - `get-totp-uri`, `generate-backup-codes` and `disable` (password-confirmed)
//!   manage it.
//! - With [`TwoFactorPlugin::otp_by_email`], `send-otp` / `verify-otp` offer a
//!   code by email as well (or instead, with `enable({method: "otp"})`).
//!
//! The plugin owns the `twoFactor` table and the user's `twoFactorEnabled`
//! column, created by its own migration when the instance is built.
//!
//! ```no_run
//! use std::sync::Arc;
//! use better_auth::plugins::EmailPasswordPlugin;
//! use better_auth::store::Database;
//! use better_auth::{AuthConfig, BetterAuth};
//! use better_auth_two_factor::TwoFactorPlugin;
//!
//! # async fn f() -> better_auth::Result<()> {
//! let database = Database::connect("sqlite://auth.db").await?;
//! better_auth::run_migrations(&database).await?;
//! let auth = Arc::new(
//!     BetterAuth::new(AuthConfig::new("a-secret-of-at-least-32-characters!!"))
//!         .database(database)
//!         .plugin(EmailPasswordPlugin::new())
//!         .plugin(TwoFactorPlugin::new().issuer("My App"))
//!         .build()
//!         .await?,
//! );
//! # Ok(()) }
//! ```

use std::time::Duration;

use better_auth::http::Method;
use better_auth::plugins::{Column, Plugin, PluginSetup, Route};
use better_auth::store::Migration;

mod challenge;
mod codes;
mod routes;
mod secret;
mod store;

/// The plugin's schema, applied when an instance with the plugin is built.
const MIGRATIONS: &[Migration] = &[
    Migration::new(
        1,
        "two_factor",
        include_str!("../migrations/sqlite/0001_two_factor.sql"),
        include_str!("../migrations/postgres/0001_two_factor.sql"),
    )
    .with_mysql(include_str!("../migrations/mysql/0001_two_factor.sql")),
    Migration::new(
        2,
        "two_factor_otp",
        include_str!("../migrations/sqlite/0002_two_factor_otp.sql"),
        include_str!("../migrations/postgres/0002_two_factor_otp.sql"),
    )
    .with_mysql(include_str!("../migrations/mysql/0002_two_factor_otp.sql")),
];

/// Two-factor authentication by authenticator app (TOTP, RFC 6238) with
/// backup codes and trusted devices.
#[derive(Clone, Debug)]
pub struct TwoFactorPlugin {
    issuer: Option<String>,
    otp_by_email: bool,
    otp_lifetime: Duration,
    challenge_lifetime: Duration,
    trust_lifetime: Duration,
    lockout: Lockout,
}

/// Failed second-factor attempts an account may make before it is locked,
/// and for how long.
#[derive(Clone, Copy, Debug)]
struct Lockout {
    max_failures: i32,
    duration: Duration,
}

impl TwoFactorPlugin {
    /// Codes from authenticator apps; the issuer shown in the app is the
    /// base URL's host until [`issuer`](Self::issuer) names it.
    pub fn new() -> Self {
        TwoFactorPlugin {
            issuer: None,
            otp_by_email: false,
            otp_lifetime: Duration::from_secs(3 * 60),
            challenge_lifetime: Duration::from_secs(10 * 60),
            trust_lifetime: Duration::from_secs(30 * 24 * 3600),
            lockout: Lockout {
                max_failures: 10,
                duration: Duration::from_secs(15 * 60),
            },
        }
    }

    /// The name authenticator apps show next to the code (the app's name).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Also offer codes by email (`send-otp` / `verify-otp`, the method `otp`):
    /// a 6-digit code, valid 3 minutes, 5 attempts, sent through the app's
    /// [`EmailSender`](better_auth::email::EmailSender). Off by default, as in
    /// Better Auth: an emailed code is only as strong as the mailbox.
    pub fn otp_by_email(mut self, on: bool) -> Self {
        self.otp_by_email = on;
        self
    }

    /// How long a device stays trusted after `trustDevice: true` (30 days).
    pub fn trust_device_for(mut self, lifetime: Duration) -> Self {
        self.trust_lifetime = lifetime;
        self
    }

    /// How many failed codes lock the account's second factor (10), and for
    /// how long (15 minutes).
    pub fn lockout(mut self, max_failures: u16, duration: Duration) -> Self {
        self.lockout = Lockout {
            max_failures: i32::from(max_failures.max(1)),
            duration,
        };
        self
    }
}

impl Default for TwoFactorPlugin {
    fn default() -> Self {
        Self::new()
    }
}

impl Plugin for TwoFactorPlugin {
    fn id(&self) -> &'static str {
        "two-factor"
    }

    fn install(&self, setup: &mut PluginSetup) {
        setup.extension(self.clone());
        setup.migrations(MIGRATIONS);
        // Returned with every user, as Better Auth's plugin returns it.
        setup.user_field(Column::boolean(challenge::ENABLED, false));
        setup.before_sign_in(|ctx, request, user, remember| {
            Box::pin(challenge::on_sign_in(ctx, request, user, remember))
        });
        // As Better Auth: three requests per ten seconds on every route here.
        for path in routes::PATHS {
            setup.rate_limit(path, Duration::from_secs(10), 3);
        }
        setup
            .route(
                Route::new(
                    Method::POST,
                    "/two-factor/enable",
                    "Start two-factor setup: the authenticator URI and backup codes",
                    |ctx, request| Box::pin(routes::enable(ctx, request)),
                )
                .body::<routes::EnableBody>()
                .returns::<routes::Enabled>()
                .authenticated()
                .errors(&[400]),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/two-factor/disable",
                    "Turn two-factor off",
                    |ctx, request| Box::pin(routes::disable(ctx, request)),
                )
                .body::<routes::PasswordBody>()
                .returns::<routes::Status>()
                .authenticated()
                .errors(&[400]),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/two-factor/get-totp-uri",
                    "The authenticator URI again",
                    |ctx, request| Box::pin(routes::totp_uri(ctx, request)),
                )
                .body::<routes::PasswordBody>()
                .returns::<routes::TotpUri>()
                .authenticated()
                .errors(&[400]),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/two-factor/generate-backup-codes",
                    "Replace the backup codes",
                    |ctx, request| Box::pin(routes::generate_backup_codes(ctx, request)),
                )
                .body::<routes::PasswordBody>()
                .returns::<routes::BackupCodes>()
                .authenticated()
                .errors(&[400]),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/two-factor/verify-totp",
                    "Verify an authenticator code: finish sign-in or setup",
                    |ctx, request| Box::pin(routes::verify_totp(ctx, request)),
                )
                .body::<routes::VerifyBody>()
                .returns::<routes::Verified>()
                .errors(&[400, 401, 429]),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/two-factor/verify-backup-code",
                    "Use a backup code: finish sign-in",
                    |ctx, request| Box::pin(routes::verify_backup_code(ctx, request)),
                )
                .body::<routes::BackupCodeBody>()
                .returns::<routes::Verified>()
                .errors(&[400, 401, 429]),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/two-factor/send-otp",
                    "Email a one-time code (with otp_by_email; else 400 OTP_NOT_CONFIGURED)",
                    |ctx, request| Box::pin(routes::send_otp(ctx, request)),
                )
                .optional_body::<routes::SendOtpBody>()
                .returns::<routes::Status>()
                .errors(&[400, 401]),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/two-factor/verify-otp",
                    "Verify an emailed code: finish sign-in or setup",
                    |ctx, request| Box::pin(routes::verify_otp(ctx, request)),
                )
                .body::<routes::VerifyBody>()
                .returns::<routes::Verified>()
                .errors(&[400, 401, 429]),
            );
    }
}
