//! A magic-link sign-in plugin, written against better-auth's public plugin
//! API only: it could live in its own crate. It mounts Better Auth's two
//! magic-link routes:
//!
//! - `POST /sign-in/magic-link` `{email, callbackURL?}` emails a one-time
//!   link and answers `{"status": true}`, whether or not the address belongs
//!   to a user (so the answer reveals nothing, S08).
//! - `GET /magic-link/verify?token=..&callbackURL=..` uses the token up,
//!   signs the user in (session cookie) and redirects to `callbackURL`; a
//!   bad or used token redirects with `?error=INVALID_TOKEN`.
//!
//! What it uses from the context: the store (find the user), single-use
//! tokens with their own lifetime, background email, sessions and their
//! cookie, the redirect check, and the plugin's own settings through
//! [`PluginSetup::extension`].

use std::time::Duration;

use better_auth::email::{Email, EmailKind};
use better_auth::http::Method;
use better_auth::plugins::{Plugin, PluginSetup, Route};
use better_auth::store::users;
use better_auth::validation::normalize_email;
use better_auth::{AuthContext, AuthRequest, AuthResponse, Result};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

/// What the plugin's tokens are for, in the verification table.
const PURPOSE: &str = "magic-link";

/// Sign-in by emailed link, for users who already exist.
#[derive(Clone, Debug)]
pub struct MagicLinkPlugin {
    lifetime: Duration,
}

impl MagicLinkPlugin {
    /// Links valid for five minutes.
    pub fn new() -> Self {
        MagicLinkPlugin {
            lifetime: Duration::from_secs(5 * 60),
        }
    }

    /// How long a link stays valid.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }
}

impl Default for MagicLinkPlugin {
    fn default() -> Self {
        Self::new()
    }
}

impl Plugin for MagicLinkPlugin {
    fn id(&self) -> &'static str {
        "magic-link"
    }

    fn install(&self, setup: &mut PluginSetup) {
        // Handlers are plain functions: they read the settings back from the context.
        setup.extension(self.clone());
        setup
            .route(
                Route::new(
                    Method::POST,
                    "/sign-in/magic-link",
                    "Email a one-time sign-in link",
                    |ctx, request| Box::pin(send_link(ctx, request)),
                )
                .body::<SendLinkBody>()
                .returns::<Status>()
                .errors(&[400, 403]),
            )
            .route(
                Route::new(
                    Method::GET,
                    "/magic-link/verify",
                    "Sign in with an emailed link and redirect",
                    |ctx, request| Box::pin(verify(ctx, request)),
                )
                .query(&[("token", true), ("callbackURL", false)])
                .redirects()
                .errors(&[403]),
            );
    }
}

/// Body of `POST /sign-in/magic-link`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SendLinkBody {
    /// The user's email address.
    email: String,
    /// Where the link lands after signing in (relative or a trusted origin).
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
}

/// `{"status": true}`.
#[derive(Serialize, utoipa::ToSchema)]
struct Status {
    status: bool,
}

async fn send_link(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let body: SendLinkBody = request.json()?;
    let email = normalize_email(&body.email)?;
    let callback = body.callback_url.unwrap_or_else(|| "/".to_owned());
    // S22: refuse a link that would land somewhere untrusted, before any work.
    ctx.check_redirect(&callback)?;
    let lifetime = ctx
        .extension::<MagicLinkPlugin>()
        .map_or(MagicLinkPlugin::new().lifetime, |p| p.lifetime);

    // The lookup, the token and the email happen after the answer, so known
    // and unknown addresses look the same from outside (S08, S34).
    let detached = ctx.detached();
    ctx.spawn_background("magic-link email", async move {
        let Some(user) = users::find_by_email(detached.database(), &email).await? else {
            return Ok(());
        };
        let token = detached.issue_token(PURPOSE, &user.id, lifetime).await?;
        let mut url = detached.config().route_url("/magic-link/verify");
        url.push_str("?token=");
        url.push_str(&token);
        url.push_str("&callbackURL=");
        url.extend(utf8_percent_encode(&callback, NON_ALPHANUMERIC));
        detached
            .send_email(Email::link(
                EmailKind::Other(PURPOSE),
                &user.email,
                "Your sign-in link",
                "sign in",
                &url,
            ))
            .await
    });
    Ok(AuthResponse::json(&Status { status: true }))
}

async fn verify(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let callback = request.query("callbackURL").unwrap_or("/").to_owned();
    ctx.check_redirect(&callback)?;
    let token = request.query("token").unwrap_or_default();
    // Single use: a second click (or a replayed link) finds nothing.
    let user = match ctx.consume_token(PURPOSE, token).await? {
        Some(user_id) => users::find_by_id(ctx.database(), &user_id).await?,
        None => None,
    };
    let Some(user) = user else {
        let separator = if callback.contains('?') { '&' } else { '?' };
        return Ok(AuthResponse::redirect(&format!(
            "{callback}{separator}error=INVALID_TOKEN"
        )));
    };
    let (_session, token) = ctx.create_session(&user, &request).await?;
    Ok(ctx.with_session_cookie(AuthResponse::redirect(&callback), &token, true))
}
