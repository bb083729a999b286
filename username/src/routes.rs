//! The routes and the sign-up / update-user check.

use better_auth::http::StatusCode;
use better_auth::plugins::{UserInput, sign_in_with_password};
use better_auth::store::users;
use better_auth::{AuthContext, AuthRequest, AuthResponse, Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::UsernamePlugin;

/// The user column of the normalised username.
pub(crate) const USERNAME: &str = "username";
/// The user column of the username as typed.
pub(crate) const DISPLAY_USERNAME: &str = "displayUsername";

fn settings(ctx: &AuthContext) -> &UsernamePlugin {
    ctx.extension::<UsernamePlugin>()
        .expect("the username plugin's settings are installed with it")
}

/// Better Auth's normalisation: lower case.
fn normalize(username: &str) -> String {
    username.to_lowercase()
}

/// Why a username is refused: Better Auth's code and message.
fn invalid(username: &str, plugin: &UsernamePlugin) -> Option<(&'static str, &'static str)> {
    let length = username.chars().count();
    if length < plugin.min_length {
        return Some(("USERNAME_TOO_SHORT", "Username is too short"));
    }
    if length > plugin.max_length {
        return Some(("USERNAME_TOO_LONG", "Username is too long"));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    if !username.chars().all(allowed) {
        return Some(("INVALID_USERNAME", "Username is invalid"));
    }
    None
}

/// The username's refusal as an error with `status`, if it is refused.
fn check(username: &str, plugin: &UsernamePlugin, status: StatusCode) -> Result<()> {
    match invalid(username, plugin) {
        Some((code, message)) => Err(Error::plugin(status, code, message)),
        None => Ok(()),
    }
}

fn taken() -> Error {
    Error::plugin(
        StatusCode::BAD_REQUEST,
        "USERNAME_IS_ALREADY_TAKEN",
        "Username is already taken. Please try another.",
    )
}

/// Sign-up and update-user: a username is valid, free (or the caller's
/// own), and stored normalised; sign-up fills in whichever of `username`
/// and `displayUsername` is missing from the other.
pub(crate) async fn check_input(ctx: &AuthContext, input: &mut UserInput) -> Result<()> {
    let plugin = settings(ctx);
    let signing_up = input.user.is_none();
    if signing_up && !input.fields.contains_key(USERNAME) {
        // Only a display name: it is the username too, when it is a valid one.
        if let Some(Value::String(display)) = input.fields.get(DISPLAY_USERNAME) {
            if invalid(display, plugin).is_none() {
                let display = display.clone();
                input.fields.insert(USERNAME.into(), Value::String(display));
            }
        }
    }
    let Some(Value::String(typed)) = input.fields.get(USERNAME).cloned() else {
        return Ok(());
    };
    check(&typed, plugin, StatusCode::BAD_REQUEST)?;
    let username = normalize(&typed);
    if let Some(owner) = users::find_by_field(ctx.database(), USERNAME, &username).await? {
        if input.user.as_ref().is_none_or(|me| me.id != owner.id) {
            return Err(taken());
        }
    }
    input
        .fields
        .insert(USERNAME.into(), Value::String(username));
    if signing_up && !input.fields.contains_key(DISPLAY_USERNAME) {
        input
            .fields
            .insert(DISPLAY_USERNAME.into(), Value::String(typed));
    }
    Ok(())
}

/// `/sign-in/username`'s body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SignInBody {
    /// The username, in any case.
    #[schema(max_length = 30)]
    username: String,
    /// The account's password.
    #[schema(max_length = 128)]
    password: String,
    /// Keep the session past the browser's session (default true).
    remember_me: Option<bool>,
    /// Echoed as `url` (relative or a trusted origin).
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
}

/// `{"redirect": false, "token", "url"?, "user"}`, as `/sign-in/email`.
#[derive(Serialize, ToSchema)]
pub(crate) struct SignedIn {
    redirect: bool,
    token: String,
    url: Option<String>,
    #[schema(value_type = Object)]
    user: Value,
}

fn wrong() -> Error {
    Error::plugin(
        StatusCode::UNAUTHORIZED,
        "INVALID_USERNAME_OR_PASSWORD",
        "Invalid username or password",
    )
}

/// A password sign-in where the account is found by its username; the rest
/// (throttle, timing, verification, second factor, session) is
/// `/sign-in/email`'s, with the account's address as the throttle's key.
pub(crate) async fn sign_in(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let body: SignInBody = request.json()?;
    if body.username.is_empty() || body.password.is_empty() {
        return Err(wrong());
    }
    check(
        &body.username,
        settings(ctx),
        StatusCode::UNPROCESSABLE_ENTITY,
    )?;
    if let Some(url) = &body.callback_url {
        ctx.check_redirect(url)?;
    }
    let username = normalize(&body.username);
    // One indexed read, no hash: the password is checked (or a dummy, for an
    // unknown name) under the throttle, by the shared sign-in.
    let email = users::find_by_field(ctx.database(), USERNAME, &username)
        .await?
        .map(|user| user.email);
    let account = email
        .clone()
        .unwrap_or_else(|| format!("username:{username}"));
    let answer = sign_in_with_password(
        ctx,
        &request,
        email.as_deref(),
        &account,
        &body.password,
        body.remember_me.unwrap_or(true),
        body.callback_url,
    )
    .await;
    match answer {
        Err(Error::InvalidEmailOrPassword) => Err(wrong()),
        other => other,
    }
}

/// `/is-username-available`'s body.
#[derive(Deserialize, ToSchema)]
pub(crate) struct AvailableBody {
    /// The username to look up, in any case.
    username: String,
}

/// `{"available": bool}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Available {
    available: bool,
}

pub(crate) async fn is_available(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let body: AvailableBody = request.json()?;
    if body.username.is_empty() {
        return Err(Error::plugin(
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_USERNAME",
            "Username is invalid",
        ));
    }
    check(
        &body.username,
        settings(ctx),
        StatusCode::UNPROCESSABLE_ENTITY,
    )?;
    let found = users::find_by_field(ctx.database(), USERNAME, &normalize(&body.username)).await?;
    Ok(AuthResponse::json(&Available {
        available: found.is_none(),
    }))
}
