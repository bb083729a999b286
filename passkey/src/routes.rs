//! The routes: options for the browser's `navigator.credentials` calls, the
//! checks of what it answers, and the owner's list, rename and delete.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use better_auth::http::StatusCode;
use better_auth::prelude::User;
use better_auth::store::users;
use better_auth::{AuthContext, AuthRequest, AuthResponse, Error, Result};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::PasskeyPlugin;
use crate::store::{self, PasskeyRow};
use crate::webauthn::{self, ALGORITHMS, Expected};

/// A ceremony's challenge lives this long (in its cookie and its stored record).
const CEREMONY: Duration = Duration::from_secs(300);
/// The token purpose of a stored ceremony.
const PURPOSE: &str = "passkey";
/// Better Auth's cookie (`better-auth.better-auth-passkey`).
const COOKIE: &str = "better-auth-passkey";
/// How long the browser waits for the authenticator (ms), as Better Auth asks.
const TIMEOUT_MS: u64 = 60_000;

fn settings(ctx: &AuthContext) -> &PasskeyPlugin {
    ctx.extension::<PasskeyPlugin>()
        .expect("the passkey plugin's settings are installed with it")
}

fn error(status: StatusCode, code: &'static str, message: &str) -> Error {
    Error::plugin(status, code, message)
}

fn challenge_not_found() -> Error {
    error(
        StatusCode::BAD_REQUEST,
        "CHALLENGE_NOT_FOUND",
        "Challenge not found",
    )
}

fn not_found() -> Error {
    error(
        StatusCode::NOT_FOUND,
        "PASSKEY_NOT_FOUND",
        "Passkey not found",
    )
}

fn random(len: usize) -> Result<Vec<u8>> {
    let mut bytes = vec![0; len];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::Internal("the system random source failed".into()))?;
    Ok(bytes)
}

/// The relying party id: the configured one, else the base URL's host (an
/// IPv6 address without its brackets).
fn rp_id(ctx: &AuthContext) -> String {
    settings(ctx).rp_id.clone().unwrap_or_else(|| {
        let base = ctx.config().base_origin();
        let url = url::Url::parse(&base).ok();
        match url.as_ref().and_then(url::Url::host) {
            Some(url::Host::Ipv6(address)) => address.to_string(),
            Some(host) => host.to_string(),
            None => base,
        }
    })
}

/// A stored ceremony: what the browser's answer is checked against.
#[derive(Serialize, Deserialize)]
struct Ceremony {
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "expectedChallenge")]
    challenge: String,
    /// The registering user (registration), or `""`.
    #[serde(rename = "userId")]
    user_id: String,
}

/// Stores a ceremony and answers `options` with its cookie (signed, 5 minutes).
async fn start(ctx: &AuthContext, ceremony: Ceremony, options: Value) -> Result<AuthResponse> {
    let record = serde_json::to_string(&ceremony)
        .map_err(|e| Error::Internal(format!("a passkey ceremony: {e}")))?;
    let token = ctx.issue_token(PURPOSE, &record, CEREMONY).await?;
    let response = AuthResponse::json(&options);
    Ok(ctx.set_cookie(
        response,
        &ctx.cookie_name(COOKIE),
        &ctx.sign(&token),
        Some(CEREMONY),
    ))
}

/// The ceremony of this request's cookie, used up (single use), if it is of `kind`.
async fn finish(ctx: &AuthContext, request: &AuthRequest, kind: &str) -> Result<Ceremony> {
    let cookie = ctx
        .request_cookie(&request.headers, &ctx.cookie_name(COOKIE))
        .ok_or_else(challenge_not_found)?;
    let token = ctx.verify_signed(&cookie).ok_or_else(challenge_not_found)?;
    let record = ctx
        .consume_token(PURPOSE, token)
        .await?
        .ok_or_else(challenge_not_found)?;
    let ceremony: Ceremony = serde_json::from_str(&record).map_err(|_| challenge_not_found())?;
    if ceremony.kind != kind {
        return Err(challenge_not_found());
    }
    Ok(ceremony)
}

/// What the credential lists of the options say of a stored passkey.
fn descriptor(row: &PasskeyRow) -> Value {
    let transports: Vec<&str> = row
        .transports
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|t| !t.is_empty())
        .collect();
    json!({ "id": row.credential_id, "type": "public-key", "transports": transports })
}

/// `generate-register-options`' query.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisterQuery {
    authenticator_attachment: Option<String>,
    name: Option<String>,
}

/// `GET /passkey/generate-register-options`: options for
/// `navigator.credentials.create`, for the signed-in user, whose session
/// must be fresh (a stolen old session cannot add a way in).
pub(crate) async fn register_options(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    let current = ctx.require_session(&request).await?;
    ctx.require_fresh_session(&current, None).await?;
    let query = RegisterQuery {
        authenticator_attachment: request.query("authenticatorAttachment").map(str::to_owned),
        name: request.query("name").map(str::to_owned),
    };
    let mut selection = json!({
        "residentKey": "preferred",
        "userVerification": "preferred",
        "requireResidentKey": false,
    });
    match query.authenticator_attachment.as_deref() {
        None => {}
        Some(attachment @ ("platform" | "cross-platform")) => {
            selection["authenticatorAttachment"] = attachment.into();
        }
        Some(_) => {
            return Err(Error::Validation(
                "authenticatorAttachment is platform or cross-platform".into(),
            ));
        }
    }
    let user = &current.user;
    let existing = store::list(ctx.database(), &user.id).await?;
    let challenge = webauthn::b64url(&random(32)?);
    let user_name = query.name.unwrap_or_else(|| user.email.clone());
    let options = json!({
        "challenge": challenge,
        "rp": { "name": settings(ctx).rp_name.clone().unwrap_or_else(|| rp_id(ctx)), "id": rp_id(ctx) },
        "user": {
            // A random handle, never the user's id (it is not secret).
            "id": webauthn::b64url(&random(32)?),
            "name": user_name,
            "displayName": user.email,
        },
        "pubKeyCredParams": ALGORITHMS.iter().map(|alg| json!({ "alg": alg, "type": "public-key" })).collect::<Vec<_>>(),
        "timeout": TIMEOUT_MS,
        "attestation": "none",
        "excludeCredentials": existing.iter().map(descriptor).collect::<Vec<_>>(),
        "authenticatorSelection": selection,
        "extensions": { "credProps": true },
        "hints": [],
    });
    let ceremony = Ceremony {
        kind: "registration".into(),
        challenge,
        user_id: user.id.clone(),
    };
    start(ctx, ceremony, options).await
}

/// `verify-registration`'s body.
#[derive(Deserialize, ToSchema)]
pub(crate) struct RegisterBody {
    /// The browser's `RegistrationResponseJSON`.
    #[schema(value_type = Object)]
    response: Value,
    /// A name for the passkey.
    name: Option<String>,
}

fn failed_registration() -> Error {
    error(
        StatusCode::BAD_REQUEST,
        "FAILED_TO_VERIFY_REGISTRATION",
        "Failed to verify registration",
    )
}

/// `POST /passkey/verify-registration`: checks the new credential against
/// the ceremony this browser started, for the same signed-in user, and
/// stores it.
pub(crate) async fn verify_registration(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    let current = ctx.require_session(&request).await?;
    ctx.require_fresh_session(&current, None).await?;
    let body: RegisterBody = request.json()?;
    let ceremony = finish(ctx, &request, "registration").await?;
    if ceremony.user_id != current.user.id {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY",
            "You are not allowed to register this passkey",
        ));
    }
    let response: webauthn::RegistrationResponse =
        serde_json::from_value(body.response).map_err(|_| failed_registration())?;
    let rp_id = rp_id(ctx);
    let origin_ok = |origin: &str| ctx.is_trusted_origin(origin);
    let expected = Expected {
        challenge: &ceremony.challenge,
        rp_id: &rp_id,
        origin_ok: &origin_ok,
    };
    let credential = webauthn::verify_registration(&response, &expected).map_err(|why| {
        tracing::info!(
            reason = why,
            "better-auth: a passkey registration was refused"
        );
        failed_registration()
    })?;
    let row = PasskeyRow {
        id: webauthn::b64url(&random(24)?),
        name: body
            .name
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty()),
        public_key: STANDARD.encode(&credential.public_key),
        user_id: current.user.id.clone(),
        credential_id: credential.id,
        counter: i64::from(credential.counter),
        device_type: credential.device_type.to_owned(),
        backed_up: credential.backed_up,
        transports: Some(response.response.transports.join(",")),
        created_at: Some(better_auth::store::Timestamp::new(ctx.now())),
        aaguid: Some(credential.aaguid),
    };
    if !store::insert(ctx.database(), &row, ctx.now()).await? {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "PREVIOUSLY_REGISTERED",
            "Previously registered",
        ));
    }
    Ok(AuthResponse::json(&row))
}

/// `GET /passkey/generate-authenticate-options`: options for
/// `navigator.credentials.get`; a signed-in user's passkeys are listed, else
/// the browser offers any passkey it holds for this site.
pub(crate) async fn authenticate_options(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    let session = ctx.session_from_headers(&request.headers).await?;
    let challenge = webauthn::b64url(&random(32)?);
    let mut options = json!({
        "rpId": rp_id(ctx),
        "challenge": challenge,
        "timeout": TIMEOUT_MS,
        "userVerification": "preferred",
    });
    if let Some(session) = &session {
        let passkeys = store::list(ctx.database(), &session.user.id).await?;
        if !passkeys.is_empty() {
            options["allowCredentials"] = passkeys.iter().map(descriptor).collect();
        }
    }
    let ceremony = Ceremony {
        kind: "authentication".into(),
        challenge,
        user_id: session.map(|s| s.user.id).unwrap_or_default(),
    };
    start(ctx, ceremony, options).await
}

/// `verify-authentication`'s body.
#[derive(Deserialize, ToSchema)]
pub(crate) struct AuthenticateBody {
    /// The browser's `AuthenticationResponseJSON`.
    #[schema(value_type = Object)]
    response: Value,
}

/// `{session, user}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct SignedIn {
    #[schema(value_type = Object)]
    session: Value,
    #[schema(value_type = Object)]
    user: User,
}

fn authentication_failed() -> Error {
    error(
        StatusCode::UNAUTHORIZED,
        "AUTHENTICATION_FAILED",
        "Authentication failed",
    )
}

/// `POST /passkey/verify-authentication`: proves the assertion with the
/// stored key, moves the signature counter (once: a replayed or cloned
/// assertion is refused) and signs in.
pub(crate) async fn verify_authentication(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    let body: AuthenticateBody = request.json()?;
    let ceremony = finish(ctx, &request, "authentication").await?;
    let response: webauthn::AuthenticationResponse =
        serde_json::from_value(body.response).map_err(|_| authentication_failed())?;
    let passkey = store::by_credential(ctx.database(), &response.id)
        .await?
        .ok_or_else(|| {
            error(
                StatusCode::UNAUTHORIZED,
                "PASSKEY_NOT_FOUND",
                "Passkey not found",
            )
        })?;
    let public_key = STANDARD
        .decode(passkey.public_key.trim_end_matches('='))
        .or_else(|_| {
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(passkey.public_key.trim_end_matches('='))
        })
        .map_err(|_| authentication_failed())?;
    let rp_id = rp_id(ctx);
    let origin_ok = |origin: &str| ctx.is_trusted_origin(origin);
    let expected = Expected {
        challenge: &ceremony.challenge,
        rp_id: &rp_id,
        origin_ok: &origin_ok,
    };
    let stored = u32::try_from(passkey.counter).unwrap_or(0);
    let counter = webauthn::verify_authentication(&response, &expected, &public_key, stored)
        .map_err(|why| {
            tracing::info!(reason = why, "better-auth: a passkey sign-in was refused");
            authentication_failed()
        })?;
    if !store::advance_counter(
        ctx.database(),
        &passkey.id,
        passkey.counter,
        i64::from(counter),
    )
    .await?
    {
        return Err(authentication_failed());
    }
    let user = users::find_by_id(ctx.database(), &passkey.user_id)
        .await?
        .ok_or_else(authentication_failed)?;
    let (session, token) = ctx.create_session(&user, &request).await?;
    let mut session =
        serde_json::to_value(&session).map_err(|e| Error::Internal(format!("a session: {e}")))?;
    // The client holds the token, as Better Auth answers it; the row stores its digest.
    session["token"] = token.clone().into();
    let response = AuthResponse::json(&SignedIn { session, user });
    Ok(ctx.with_session_cookie(response, &token, true))
}

/// `GET /passkey/list-user-passkeys`: the signed-in user's passkeys.
pub(crate) async fn list(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let current = ctx.require_session(&request).await?;
    let passkeys = store::list(ctx.database(), &current.user.id).await?;
    Ok(AuthResponse::json(&passkeys))
}

/// `delete-passkey`'s body.
#[derive(Deserialize, ToSchema)]
pub(crate) struct DeleteBody {
    /// The passkey's id.
    id: String,
}

/// `{"status": true}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Status {
    status: bool,
}

/// `POST /passkey/delete-passkey`: one of the signed-in user's passkeys; any
/// other id (another user's, or none) is 404 alike.
pub(crate) async fn delete(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let current = ctx.require_session(&request).await?;
    let body: DeleteBody = request.json()?;
    if !store::delete(ctx.database(), &body.id, &current.user.id).await? {
        return Err(not_found());
    }
    Ok(AuthResponse::json(&Status { status: true }))
}

/// `update-passkey`'s body.
#[derive(Deserialize, ToSchema)]
pub(crate) struct UpdateBody {
    /// The passkey's id.
    id: String,
    /// Its new name.
    #[schema(max_length = 255)]
    name: String,
}

/// `{"passkey": {...}}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Updated {
    passkey: PasskeyRow,
}

/// `POST /passkey/update-passkey`: renames one of the signed-in user's
/// passkeys; any other id is 404 alike.
pub(crate) async fn update(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let current = ctx.require_session(&request).await?;
    let body: UpdateBody = request.json()?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(Error::Validation("name is 1 to 255 characters".into()));
    }
    if !store::rename(ctx.database(), &body.id, &current.user.id, name).await? {
        return Err(not_found());
    }
    let passkey = store::find_owned(ctx.database(), &body.id, &current.user.id)
        .await?
        .ok_or_else(not_found)?;
    Ok(AuthResponse::json(&Updated { passkey }))
}
