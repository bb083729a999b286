//! `EmailPasswordPlugin`: `POST /sign-up/email` and `POST /sign-in/email`.

use http::Method;
use serde::Deserialize;

use super::{Plugin, PluginSetup, Route, check_image, check_name, check_password, normalize_email};
use crate::auth::BetterAuth;
use crate::error::{Error, Result};
use crate::request::{AuthRequest, AuthResponse};
use crate::store::{self, users::NewUser};

/// Sign-up and sign-in with email and password.
#[derive(Clone, Debug)]
pub struct EmailPasswordPlugin {
    signup: bool,
}

impl EmailPasswordPlugin {
    /// The plugin with sign-up enabled.
    pub fn new() -> Self {
        EmailPasswordPlugin { signup: true }
    }

    /// Turns `POST /sign-up/email` on or off (off: 400 `EMAIL_PASSWORD_SIGN_UP_DISABLED`).
    pub fn enable_signup(mut self, enabled: bool) -> Self {
        self.signup = enabled;
        self
    }
}

impl Default for EmailPasswordPlugin {
    fn default() -> Self {
        Self::new()
    }
}

impl Plugin for EmailPasswordPlugin {
    fn id(&self) -> &'static str {
        "email-password"
    }

    fn install(&self, setup: &mut PluginSetup) {
        setup.options.signup_enabled = self.signup;
        setup
            .route(Route::new(
                Method::POST,
                "/sign-up/email",
                "Create a user with email and password and sign in",
                |a, r| Box::pin(sign_up(a, r)),
            ))
            .route(Route::new(
                Method::POST,
                "/sign-in/email",
                "Sign in with email and password",
                |a, r| Box::pin(sign_in(a, r)),
            ));
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignUpBody {
    name: String,
    email: String,
    password: String,
    image: Option<String>,
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
    remember_me: Option<bool>,
}

async fn sign_up(auth: &BetterAuth, request: AuthRequest) -> Result<AuthResponse> {
    if !auth.options.signup_enabled {
        return Err(Error::SignUpDisabled);
    }
    let body: SignUpBody = request.json()?;
    check_name(&body.name)?;
    let email = normalize_email(&body.email)?;
    check_password(auth, &body.password)?;
    check_image(body.image.as_deref())?;
    if let Some(url) = &body.callback_url {
        auth.check_redirect(url)?;
    }
    // Cheap early answer; the unique index still decides races (S27).
    if store::users::find_by_email(&auth.database, &email)
        .await?
        .is_some()
    {
        return Err(Error::UserAlreadyExists);
    }
    let hash = auth.hasher.hash(&body.password).await?;
    let user = store::users::create_with_password(
        &auth.database,
        NewUser {
            name: body.name.trim(),
            email: &email,
            image: body.image.as_deref(),
            email_verified: false,
        },
        &hash,
        auth.now(),
    )
    .await?;
    let (_, token) = auth.create_session(&user, &request).await?;
    let response = AuthResponse::json(&serde_json::json!({ "token": token, "user": user }));
    Ok(auth.with_session_cookie(response, &token, body.remember_me.unwrap_or(true)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignInBody {
    email: String,
    password: String,
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
    remember_me: Option<bool>,
}

/// S06: unknown email and wrong password give the same 401. S07: an unknown
/// email still costs one verification (against a dummy hash).
async fn sign_in(auth: &BetterAuth, request: AuthRequest) -> Result<AuthResponse> {
    let body: SignInBody = request.json()?;
    let email = normalize_email(&body.email)?;
    if let Some(url) = &body.callback_url {
        auth.check_redirect(url)?;
    }
    if body.password.chars().count() > auth.config.password.max_length {
        // Never hash oversized input (S01); same answer as a wrong password.
        return Err(Error::InvalidEmailOrPassword);
    }
    let found = store::users::find_with_password(&auth.database, &email).await?;
    let Some((user, stored)) = found.and_then(|f| f.password.map(|p| (f.user, p))) else {
        auth.hasher.verify_dummy(&body.password).await?;
        return Err(Error::InvalidEmailOrPassword);
    };
    let verified = auth.hasher.verify(&body.password, &stored).await?;
    if !verified.ok {
        return Err(Error::InvalidEmailOrPassword);
    }
    if verified.needs_rehash {
        let hash = auth.hasher.hash(&body.password).await?;
        store::accounts::set_credential_password(&auth.database, &user.id, &hash, auth.now())
            .await?;
    }
    let (_, token) = auth.create_session(&user, &request).await?;
    let mut body_json = serde_json::json!({ "redirect": false, "token": token, "user": user });
    if let Some(url) = body.callback_url {
        body_json["url"] = serde_json::Value::String(url);
    }
    let response = AuthResponse::json(&body_json);
    Ok(auth.with_session_cookie(response, &token, body.remember_me.unwrap_or(true)))
}
