//! `EmailPasswordPlugin`: `POST /sign-up/email` and `POST /sign-in/email`.

use http::Method;
use serde::Deserialize;

use serde::Serialize;
use utoipa::ToSchema;

use super::account_changes::send_verification;
use super::{
    Plugin, PluginSetup, Route, TokenUser, check_image, check_name, check_password, normalize_email,
};
use crate::context::AuthContext;
use crate::error::{Error, Result};
use crate::models::User;
use crate::request::{AuthRequest, AuthResponse};
use crate::store::{self, users::NewUser};

/// Sign-up and sign-in with email and password.
#[derive(Clone, Debug)]
pub struct EmailPasswordPlugin {
    signup: bool,
    require_verification: bool,
    send_on_sign_up: bool,
}

impl EmailPasswordPlugin {
    /// The plugin with sign-up enabled.
    ///
    /// ```
    /// use better_auth::plugins::EmailPasswordPlugin;
    ///
    /// let plugin = EmailPasswordPlugin::new();
    /// ```
    pub fn new() -> Self {
        EmailPasswordPlugin {
            signup: true,
            require_verification: false,
            send_on_sign_up: false,
        }
    }

    /// Refuses sign-in (403 `EMAIL_NOT_VERIFIED`) until the address is
    /// verified, resending the verification link on each attempt; sign-up then
    /// creates no session (`token: null`) and sends the link. Default off.
    ///
    /// ```
    /// use better_auth::plugins::EmailPasswordPlugin;
    ///
    /// let plugin = EmailPasswordPlugin::new().require_email_verification(true);
    /// ```
    pub fn require_email_verification(mut self, required: bool) -> Self {
        self.require_verification = required;
        self
    }

    /// Sends a verification link on sign-up (implied by
    /// `require_email_verification`). Default off.
    ///
    /// ```
    /// use better_auth::plugins::EmailPasswordPlugin;
    ///
    /// let plugin = EmailPasswordPlugin::new().send_verification_on_sign_up(true);
    /// ```
    pub fn send_verification_on_sign_up(mut self, send: bool) -> Self {
        self.send_on_sign_up = send;
        self
    }

    /// Turns `POST /sign-up/email` on or off (off: 400 `EMAIL_PASSWORD_SIGN_UP_DISABLED`).
    ///
    /// ```
    /// use better_auth::plugins::EmailPasswordPlugin;
    ///
    /// // Invite-only: users are created with `better-auth user create`.
    /// let plugin = EmailPasswordPlugin::new().enable_signup(false);
    /// ```
    pub fn enable_signup(mut self, enabled: bool) -> Self {
        self.signup = enabled;
        self
    }
}

impl EmailPasswordPlugin {
    fn sends_on_sign_up(&self) -> bool {
        self.send_on_sign_up || self.require_verification
    }

    /// Whether a verified address is required before a session is given
    /// (see [`EmailPasswordPlugin::require_email_verification`]).
    pub fn requires_email_verification(&self) -> bool {
        self.require_verification
    }
}

/// The settings the plugin was installed with.
fn settings(auth: &AuthContext) -> &EmailPasswordPlugin {
    static DEFAULT: EmailPasswordPlugin = EmailPasswordPlugin {
        signup: true,
        require_verification: false,
        send_on_sign_up: false,
    };
    auth.extension::<EmailPasswordPlugin>().unwrap_or(&DEFAULT)
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
        // The handlers read the plugin's settings back from the context.
        setup.extension(self.clone());
        setup
            .route(
                Route::new(
                    Method::POST,
                    "/sign-up/email",
                    "Create a user with email and password and sign in",
                    |a, r| Box::pin(sign_up(a, r)),
                )
                .body::<SignUpBody>()
                .returns::<TokenUser>()
                .errors(&[400, 422]),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/sign-in/email",
                    "Sign in with email and password",
                    |a, r| Box::pin(sign_in(a, r)),
                )
                .body::<SignInBody>()
                .returns::<SignInResponse>()
                .errors(&[400, 401, 403]),
            );
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct SignUpBody {
    #[schema(min_length = 1, max_length = 255)]
    name: String,
    #[schema(format = Email, max_length = 254)]
    email: String,
    #[schema(min_length = 8, max_length = 128)]
    password: String,
    image: Option<String>,
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
    remember_me: Option<bool>,
}

async fn sign_up(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    if !settings(auth).signup {
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
    let mut raw: serde_json::Map<String, serde_json::Value> = request.json()?;
    let fields = auth.user_input(&mut raw, None).await?;
    let require_verification = settings(auth).require_verification;
    // Cheap early answer; the unique index still decides races (S27).
    if let Some(owner) = store::users::find_by_email(auth.database(), &email).await? {
        if !require_verification {
            // Better Auth's answer: it tells that the address is registered
            // (the trade-off is documented in SECURITY.md, S61).
            return Err(Error::UserAlreadyExists);
        }
        return registered_address(auth, &body, &email, &owner, &fields).await;
    }
    let hash = auth.password_hasher().hash(&body.password).await?;
    let created = store::users::create_with_password(
        auth.database(),
        NewUser {
            name: body.name.trim(),
            email: &email,
            image: body.image.as_deref(),
            email_verified: false,
            fields: fields.clone(),
        },
        &hash,
        auth.now(),
    )
    .await;
    let user = match created {
        Ok(user) => user,
        // A concurrent sign-up took the address between the lookup and the insert.
        Err(Error::UserAlreadyExists) if require_verification => {
            return Ok(AuthResponse::json(&TokenUser {
                token: None,
                user: unsaved_user(auth, &body, &email, &fields),
            }));
        }
        Err(e) => return Err(e),
    };
    if settings(auth).sends_on_sign_up() {
        // In the background: a mail failure never undoes a committed sign-up (S34).
        send_verification(auth, &user, body.callback_url.as_deref());
    }
    if settings(auth).require_verification {
        // No session until the address is confirmed.
        return Ok(AuthResponse::json(&TokenUser { token: None, user }));
    }
    let (_, token) = auth.create_session(&user, &request).await?;
    let response = AuthResponse::json(&TokenUser {
        token: Some(token.clone()),
        user,
    });
    let response = auth.with_session_cookie(response, &token, body.remember_me.unwrap_or(true));
    Ok(auth.with_device_cookie(response, &email))
}

/// S61: with verification required, a sign-up with a registered address is
/// answered as one with a new address: the password is hashed all the same
/// (comparable timing), the answer is `{token: null, user}` with a user that
/// is never stored, and the address's owner is told by mail.
async fn registered_address(
    auth: &AuthContext,
    body: &SignUpBody,
    email: &str,
    owner: &User,
    fields: &serde_json::Map<String, serde_json::Value>,
) -> Result<AuthResponse> {
    let _ = auth.password_hasher().hash(&body.password).await?;
    let mailer = auth.detached();
    let to = owner.email.clone();
    auth.spawn_background("sign-up attempt notice", async move {
        let url = mailer.config().base_url.clone();
        mailer
            .send_email(crate::email::notice(
                crate::email::EmailKind::SignUpAttempt,
                &to,
                "Someone tried to sign up with your email address",
                "Someone tried to create an account with this email address. \
                 It already has an account, so nothing was created and your \
                 account did not change.",
                &url,
            ))
            .await
    });
    Ok(AuthResponse::json(&TokenUser {
        token: None,
        user: unsaved_user(auth, body, email, fields),
    }))
}

/// The user a sign-up would have created, never stored (S61).
fn unsaved_user(
    auth: &AuthContext,
    body: &SignUpBody,
    email: &str,
    fields: &serde_json::Map<String, serde_json::Value>,
) -> User {
    let now = auth.now();
    User {
        id: crate::crypto::generate_id(),
        name: body.name.trim().to_owned(),
        email: email.to_owned(),
        email_verified: false,
        image: body.image.clone(),
        created_at: now,
        updated_at: now,
        fields: auth.database().user_schema.new_values(fields),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct SignInBody {
    #[schema(format = Email, max_length = 254)]
    email: String,
    #[schema(max_length = 128)]
    password: String,
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
    remember_me: Option<bool>,
}

/// S06: unknown email and wrong password give the same 401. S07: an unknown
/// email still costs one verification (against a dummy hash).
async fn sign_in(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let body: SignInBody = request.json()?;
    let email = normalize_email(&body.email)?;
    if let Some(url) = &body.callback_url {
        auth.check_redirect(url)?;
    }
    let remember = body.remember_me.unwrap_or(true);
    sign_in_with_password(
        auth,
        &request,
        Some(&email),
        &email,
        &body.password,
        remember,
        body.callback_url,
    )
    .await
}

/// A password sign-in as `/sign-in/email` makes it, for plugins that find
/// the account another way (a username): `email` is the account's address,
/// or `None` when none was found (the attempt then costs what a wrong
/// password costs, S07); `account` names the attempt for the per-account
/// throttle and the device cookie (S30, S55; the address when there is one).
/// Answers 401 [`Error::InvalidEmailOrPassword`] for an unknown account or a
/// wrong password, 403 `EMAIL_NOT_VERIFIED` when verification is required,
/// a plugin's answer from [`AuthContext::check_sign_in`] (a second factor),
/// else the session: `{redirect, token, url?, user}` with its cookie.
pub async fn sign_in_with_password(
    auth: &AuthContext,
    request: &AuthRequest,
    email: Option<&str>,
    account: &str,
    password: &str,
    remember: bool,
    callback_url: Option<String>,
) -> Result<AuthResponse> {
    if password.chars().count() > auth.config().password_settings().max_length {
        // Never hash oversized input (S01); same answer as a wrong password.
        return Err(Error::InvalidEmailOrPassword);
    }
    // S30: the account's attempt is reserved before the password is checked,
    // so concurrent guesses each cost one, and a delayed account checks none
    // (nor reads the database: the account is looked up once admitted).
    // S55: a browser that signed in to this account before has a throttle of
    // its own; every other client shares the account's.
    let attempt_key = auth.password_attempt_key(&request.headers, account);
    let (verified, user) = auth
        .check_password_attempt_with(&attempt_key, password, || async {
            let Some(email) = email else {
                return Ok((None, None));
            };
            Ok(
                match store::users::find_with_password(auth.database(), email).await? {
                    Some(found) => (Some(found.user), found.password),
                    None => (None, None),
                },
            )
        })
        .await?;
    let Some(user) = user.filter(|_| verified.ok) else {
        return Err(Error::InvalidEmailOrPassword);
    };
    if verified.needs_rehash {
        let hash = auth.password_hasher().hash(password).await?;
        store::accounts::set_credential_password(auth.database(), &user.id, &hash, auth.now())
            .await?;
    }
    if settings(auth).require_verification && !user.email_verified {
        send_verification(auth, &user, callback_url.as_deref());
        return Err(Error::Forbidden {
            message: "Email not verified".into(),
            code: "EMAIL_NOT_VERIFIED",
        });
    }
    // A plugin may answer instead of a session (a second factor).
    if let Some(answer) = auth.check_sign_in(request, &user, remember).await? {
        return Ok(auth.with_device_cookie(answer, account));
    }
    let (_, token) = auth.create_session(&user, request).await?;
    let response = AuthResponse::json(&SignInResponse {
        redirect: false,
        token: token.clone(),
        url: callback_url,
        user,
    });
    let response = auth.with_session_cookie(response, &token, remember);
    Ok(auth.with_device_cookie(response, account))
}

/// `{"redirect": false, "token", "url"?, "user"}`.
#[derive(Serialize, ToSchema)]
struct SignInResponse {
    redirect: bool,
    token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    user: User,
}
