//! Routes every instance mounts: get-session, sign-out, update-user, ok, and
//! the OpenAPI document. Account changes live in `account_changes`.

use http::{Method, header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::context::{AuthContext, Rendered};
use crate::error::{Error, Result};
use crate::models::{Session, User};
use crate::plugins::{
    Empty, PluginSetup, Route, StatusResponse, SuccessResponse, check_image, check_name,
    status_true,
};
use crate::request::{AuthRequest, AuthResponse};
use crate::store;

pub(crate) fn install(setup: &mut PluginSetup) {
    setup
        .route(
            Route::new(
                Method::GET,
                "/get-session",
                "The current session and user, or null",
                |a, r| Box::pin(get_session(a, r)),
            )
            .query(&[("disableCookieCache", false), ("disableRefresh", false)])
            .returns_nullable::<SessionWithUser>(),
        )
        .route(
            Route::new(
                Method::POST,
                "/sign-out",
                "End the current session and clear its cookies",
                |a, r| Box::pin(sign_out(a, r)),
            )
            .optional_body::<Empty>()
            .returns::<SuccessResponse>(),
        )
        .route(
            Route::new(
                Method::POST,
                "/update-user",
                "Change the user's name or image",
                |a, r| Box::pin(update_user(a, r)),
            )
            .body::<UpdateUserBody>()
            .returns::<StatusResponse>()
            .authenticated(),
        )
        .route(
            Route::new(Method::GET, "/ok", "Health check", |a, r| {
                Box::pin(ok(a, r))
            })
            .returns::<OkResponse>(),
        )
        .route(
            Route::new(
                Method::GET,
                "/reference/openapi.json",
                "This OpenAPI document",
                |a, r| Box::pin(openapi(a, r)),
            )
            .returns::<serde_json::Value>(),
        );
    crate::plugins::account_changes::install(setup);
}

/// `{"ok": true}`.
#[derive(Serialize, ToSchema)]
struct OkResponse {
    ok: bool,
}

/// `{"session", "user"}`.
#[derive(Serialize, ToSchema)]
struct SessionWithUser {
    session: Session,
    user: User,
}

/// [`SessionWithUser`] borrowed, as `/get-session` renders it.
#[derive(Serialize)]
struct SessionWithUserRef<'a> {
    session: &'a Session,
    user: &'a User,
}

async fn ok(_auth: &AuthContext, _request: AuthRequest) -> Result<AuthResponse> {
    Ok(AuthResponse::json(&OkResponse { ok: true }))
}

async fn openapi(auth: &AuthContext, _request: AuthRequest) -> Result<AuthResponse> {
    let mut response = AuthResponse::json(&serde_json::Value::Null);
    response.body = bytes::Bytes::copy_from_slice(auth.openapi_json().as_bytes());
    Ok(response)
}

fn no_store(response: AuthResponse) -> AuthResponse {
    response
        .static_header(header::CACHE_CONTROL, "no-store")
        .static_header(header::PRAGMA, "no-cache")
}

async fn get_session(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    use crate::context::{BodySlot, Lookup};
    let allow_refresh = request.query("disableRefresh") != Some("true");
    let refresh = if allow_refresh {
        crate::context::Refresh::WithCookie
    } else {
        crate::context::Refresh::No
    };
    let Some((lookup, credential)) = auth.lookup_from_headers(&request.headers, refresh).await?
    else {
        return Ok(no_store(AuthResponse::json(&serde_json::Value::Null)));
    };
    // A session answered from (or just stored in) the session cache is
    // rendered once per cache entry: an entry never changes (a validated
    // cache replaces it whenever the database changes; a ttl cache serves it
    // unchanged until it expires), so the body is what rendering it now would give.
    let rendered =
        |session: &Session, user: &User, slot: Option<&BodySlot>| -> Result<AuthResponse> {
            if let Some(rendered) = slot.and_then(|slot| slot.get()) {
                return Ok(rendered.response());
            }
            let body = serde_json::to_vec(&SessionWithUserRef { session, user })
                .map_err(|e| Error::Internal(format!("rendering a session: {e}")))?;
            let rendered = Rendered::json_no_store(body.into());
            let response = rendered.response();
            if let Some(slot) = slot {
                let _ = slot.set(rendered);
            }
            Ok(response)
        };
    let (mut response, refreshed) = match &lookup {
        Lookup::Cached { found, body } => (rendered(&found.0, &found.1, body.as_ref())?, false),
        Lookup::Read { resolved, body } if !resolved.refreshed => (
            rendered(&resolved.session, &resolved.user, body.as_ref())?,
            false,
        ),
        Lookup::Read { resolved, .. } => (rendered(&resolved.session, &resolved.user, None)?, true),
    };
    if refreshed {
        let remember = !auth.dont_remember(&request.headers);
        response = auth.with_session_cookie(response, &credential.token, remember);
    }
    Ok(response)
}

async fn sign_out(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let _: Empty = request.json()?;
    if let Some(token) = auth.token_from_headers(&request.headers) {
        let digest = crate::crypto::token_digest(&token);
        store::sessions::delete_by_digest(&auth.database, &digest).await?;
        auth.forget_cached_sessions(Some(&digest));
    }
    Ok(auth.with_cleared_cookies(AuthResponse::json(&SuccessResponse { success: true })))
}

/// The fields `update-user` accepts; anything else is refused (S18).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateUserBody {
    /// New display name.
    name: Option<String>,
    /// New avatar URL, or null to remove it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    #[allow(clippy::option_option)] // absent (keep), null (remove) and a value are three cases
    image: Option<Option<String>>,
}

/// Tells "absent" (`None`) from "null" (`Some(None)`).
#[allow(clippy::option_option)]
fn double_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// S18: only name and image; email, password, ids and unknown fields are
/// rejected (400). S23: the user comes from the session, never the body.
async fn update_user(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let session = auth.require_session(&request).await?;
    let mut raw: serde_json::Map<String, serde_json::Value> = request.json()?;
    if raw.contains_key("email") {
        return Err(Error::Validation(
            "Email can not be updated here; use /change-email".into(),
        ));
    }
    let fields = auth.user_input(&mut raw, Some(&session.user)).await?;
    let body: UpdateUserBody = serde_json::from_value(serde_json::Value::Object(raw))
        .map_err(|e| Error::Validation(format!("Invalid body: {e}")))?;
    if body.name.is_none() && body.image.is_none() && fields.is_empty() {
        return Err(Error::Validation("No fields to update".into()));
    }
    if let Some(name) = &body.name {
        check_name(name)?;
    }
    check_image(body.image.as_ref().and_then(|i| i.as_deref()))?;
    store::users::update_profile(
        &auth.database,
        &session.user.id,
        body.name.as_deref(),
        body.image.as_ref().map(|i| i.as_deref()),
        &fields,
        auth.now(),
    )
    .await?;
    auth.forget_cached_sessions(None);
    Ok(status_true())
}
