//! The admin routes and the ban check every sign-in passes.

use std::time::Duration;

use better_auth::http::StatusCode;
use better_auth::prelude::User;
use better_auth::store::users::{self, TextMatch, UserSearch};
use better_auth::store::{Timestamp, sessions};
use better_auth::{AuthContext, AuthRequest, AuthResponse, Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::{AdminPlugin, ROLE};

/// The user column that says a user is banned.
pub(crate) const BANNED: &str = "banned";
/// Why (shown to no one but admins).
pub(crate) const BAN_REASON: &str = "banReason";
/// When the ban ends (`null`: never).
pub(crate) const BAN_EXPIRES: &str = "banExpires";

fn settings(ctx: &AuthContext) -> &AdminPlugin {
    ctx.extension::<AdminPlugin>()
        .expect("the admin plugin's settings are installed with it")
}

fn forbidden(code: &'static str, message: &str) -> Error {
    Error::plugin(StatusCode::FORBIDDEN, code, message)
}

fn user_not_found() -> Error {
    Error::plugin(StatusCode::NOT_FOUND, "USER_NOT_FOUND", "User not found")
}

/// The signed-in admin, or 401 (no session) / 403 `code` (not an admin).
/// The role is the one read with the session: never older than the session
/// cache allows, which a role change empties.
async fn require_admin(
    ctx: &AuthContext,
    request: &AuthRequest,
    code: &'static str,
    message: &str,
) -> Result<User> {
    let current = ctx.require_session(request).await?;
    if !settings(ctx).is_admin(&current.user) {
        return Err(forbidden(code, message));
    }
    Ok(current.user)
}

/// When the ban of a user ends, if it does.
fn ban_end(user: &User) -> Option<chrono::DateTime<chrono::Utc>> {
    user.field(BAN_EXPIRES)
        .and_then(Value::as_str)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// Before every session: a banned user gets none (403 `BANNED_USER`); a ban
/// that ended is lifted.
pub(crate) async fn refuse_banned(ctx: &AuthContext, user: &User) -> Result<()> {
    if user.field(BANNED).and_then(Value::as_bool) != Some(true) {
        return Ok(());
    }
    if ban_end(user).is_some_and(|end| end <= ctx.now()) {
        set(ctx, &user.id, unbanned()).await?;
        return Ok(());
    }
    Err(forbidden(
        "BANNED_USER",
        "You have been banned from this application. Please contact support if you believe this is an error.",
    ))
}

fn unbanned() -> Map<String, Value> {
    let mut values = Map::new();
    values.insert(BANNED.into(), false.into());
    values.insert(BAN_REASON.into(), Value::Null);
    values.insert(BAN_EXPIRES.into(), Value::Null);
    values
}

/// Writes plugin columns of a user and answers the user as it is now.
async fn set(ctx: &AuthContext, user_id: &str, values: Map<String, Value>) -> Result<User> {
    if !users::set_fields(ctx.database(), user_id, &values, ctx.now()).await? {
        return Err(user_not_found());
    }
    ctx.forget_cached_sessions(None);
    users::find_by_id(ctx.database(), user_id)
        .await?
        .ok_or_else(user_not_found)
}

/// `{"user": ...}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct UserAnswer {
    user: User,
}

/// `{"success": true}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Success {
    success: bool,
}

/// A body naming a user.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserIdBody {
    /// The user's id.
    user_id: String,
}

/// A role or a list of roles.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum Roles {
    /// One role (or several, comma-separated).
    One(String),
    /// Several.
    Many(Vec<String>),
}

/// `set-role`'s body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SetRoleBody {
    user_id: String,
    role: Roles,
}

pub(crate) async fn set_role(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    require_admin(
        ctx,
        &request,
        "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE",
        "You are not allowed to change users role",
    )
    .await?;
    let body: SetRoleBody = request.json()?;
    let roles = parse_roles(body.role)?;
    let mut values = Map::new();
    values.insert(ROLE.into(), roles.into());
    let user = set(ctx, &body.user_id, values).await?;
    Ok(AuthResponse::json(&UserAnswer { user }))
}

/// `ban-user`'s body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BanBody {
    user_id: String,
    /// Why (for admins).
    ban_reason: Option<String>,
    /// Seconds until the ban ends (never without it).
    ban_expires_in: Option<u64>,
}

pub(crate) async fn ban(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let admin = require_admin(
        ctx,
        &request,
        "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS",
        "You are not allowed to ban users",
    )
    .await?;
    let body: BanBody = request.json()?;
    if body.user_id == admin.id {
        return Err(Error::plugin(
            StatusCode::BAD_REQUEST,
            "YOU_CANNOT_BAN_YOURSELF",
            "You cannot ban yourself",
        ));
    }
    let expires = match body.ban_expires_in {
        Some(seconds) => {
            let seconds = Duration::from_secs(seconds.min(100 * 365 * 24 * 3600));
            let end = ctx.now() + chrono::Duration::from_std(seconds).unwrap_or_default();
            Value::String(
                Timestamp::new(end)
                    .get()
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            )
        }
        None => Value::Null,
    };
    let mut values = Map::new();
    values.insert(BANNED.into(), true.into());
    values.insert(
        BAN_REASON.into(),
        Value::String(body.ban_reason.unwrap_or_else(|| "No reason".into())),
    );
    values.insert(BAN_EXPIRES.into(), expires);
    let user = set(ctx, &body.user_id, values).await?;
    // Banned now: every session of theirs ends at once.
    let _change = ctx.database().change_guard();
    sessions::delete_for_user(ctx.database(), &user.id, None).await?;
    ctx.forget_cached_sessions(None);
    Ok(AuthResponse::json(&UserAnswer { user }))
}

pub(crate) async fn unban(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    require_admin(
        ctx,
        &request,
        "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS",
        "You are not allowed to ban users",
    )
    .await?;
    let body: UserIdBody = request.json()?;
    let user = set(ctx, &body.user_id, unbanned()).await?;
    Ok(AuthResponse::json(&UserAnswer { user }))
}

fn bad(message: &str) -> Error {
    Error::Validation(message.to_owned())
}

pub(crate) async fn list_users(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    require_admin(
        ctx,
        &request,
        "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS",
        "You are not allowed to list users",
    )
    .await?;
    let number = |name: &str| -> Result<Option<u32>> {
        request
            .query(name)
            .map(|v| {
                v.parse::<u32>()
                    .map_err(|_| bad(&format!("{name} is a number")))
            })
            .transpose()
    };
    let (limit, offset) = (number("limit")?, number("offset")?);
    let mut search = UserSearch::default();
    search.limit = limit.map(|l| l.min(1000));
    search.offset = offset.unwrap_or(0);
    if let Some(value) = request.query("searchValue") {
        let field = request.query("searchField").unwrap_or("email");
        let how = match request.query("searchOperator").unwrap_or("contains") {
            "contains" => TextMatch::Contains,
            "starts_with" => TextMatch::StartsWith,
            "ends_with" => TextMatch::EndsWith,
            _ => return Err(bad("searchOperator is contains, starts_with or ends_with")),
        };
        search.text = Some((field, value, how));
    }
    if let Some(value) = request.query("filterValue") {
        let field = request.query("filterField").unwrap_or("email");
        let equal = match request.query("filterOperator").unwrap_or("eq") {
            "eq" => true,
            "ne" => false,
            _ => return Err(bad("filterOperator is eq or ne")),
        };
        search.filter = Some((field, value, equal));
    }
    search.sort_by = request.query("sortBy");
    search.descending = match request.query("sortDirection").unwrap_or("asc") {
        "asc" => false,
        "desc" => true,
        _ => return Err(bad("sortDirection is asc or desc")),
    };
    let (found, total) = users::search(ctx.database(), &search).await?;
    // As Better Auth: `limit` and `offset` are echoed when given and not 0.
    let mut answer = json!({ "users": found, "total": total });
    if let Some(limit) = limit.filter(|&l| l > 0) {
        answer["limit"] = limit.into();
    }
    if let Some(offset) = offset.filter(|&o| o > 0) {
        answer["offset"] = offset.into();
    }
    Ok(AuthResponse::json(&answer))
}

pub(crate) async fn get_user(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    require_admin(
        ctx,
        &request,
        "YOU_ARE_NOT_ALLOWED_TO_GET_USER",
        "You are not allowed to get user",
    )
    .await?;
    let id = request.query("id").ok_or_else(|| bad("id is required"))?;
    let user = users::find_by_id(ctx.database(), id)
        .await?
        .ok_or_else(user_not_found)?;
    Ok(AuthResponse::json(&user))
}

pub(crate) async fn list_user_sessions(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    require_admin(
        ctx,
        &request,
        "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS_SESSIONS",
        "You are not allowed to list users sessions",
    )
    .await?;
    let body: UserIdBody = request.json()?;
    let found = sessions::list_for_user(ctx.database(), &body.user_id).await?;
    Ok(AuthResponse::json(&json!({ "sessions": found })))
}

pub(crate) async fn revoke_user_sessions(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    require_admin(
        ctx,
        &request,
        "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS",
        "You are not allowed to revoke users sessions",
    )
    .await?;
    let body: UserIdBody = request.json()?;
    let _change = ctx.database().change_guard();
    sessions::delete_for_user(ctx.database(), &body.user_id, None).await?;
    ctx.forget_cached_sessions(None);
    Ok(AuthResponse::json(&Success { success: true }))
}

pub(crate) async fn remove_user(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let admin = require_admin(
        ctx,
        &request,
        "YOU_ARE_NOT_ALLOWED_TO_DELETE_USERS",
        "You are not allowed to delete users",
    )
    .await?;
    let body: UserIdBody = request.json()?;
    if body.user_id == admin.id {
        return Err(Error::plugin(
            StatusCode::BAD_REQUEST,
            "YOU_CANNOT_REMOVE_YOURSELF",
            "You cannot remove yourself",
        ));
    }
    if !users::delete(ctx.database(), &body.user_id).await? {
        return Err(user_not_found());
    }
    ctx.forget_cached_sessions(None);
    Ok(AuthResponse::json(&Success { success: true }))
}

/// `create-user`'s body.
#[derive(Deserialize, ToSchema)]
pub(crate) struct CreateUserBody {
    /// The new user's email address.
    #[schema(format = Email, max_length = 254)]
    email: String,
    /// Their password; without it they sign in another way (a link, a provider).
    #[schema(max_length = 128)]
    password: Option<String>,
    /// Their display name.
    #[schema(max_length = 255)]
    name: String,
    /// Their roles (the default role without it).
    role: Option<Roles>,
}

/// Roles as stored (comma-separated), or `INVALID_ROLE_TYPE`.
fn parse_roles(roles: Roles) -> Result<String> {
    let roles = match roles {
        Roles::One(role) => vec![role],
        Roles::Many(roles) => roles,
    };
    let list: Vec<&str> = roles
        .iter()
        .flat_map(|r| r.split(','))
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .collect();
    let valid = |r: &&str| {
        r.len() <= 64
            && r.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if list.is_empty() || !list.iter().all(valid) {
        return Err(Error::plugin(
            StatusCode::BAD_REQUEST,
            "INVALID_ROLE_TYPE",
            "Invalid role type",
        ));
    }
    Ok(list.join(","))
}

/// `POST /admin/create-user`: a user with a password (or none), email
/// verified as Better Auth leaves it (not), with the given roles.
pub(crate) async fn create_user(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    require_admin(
        ctx,
        &request,
        "YOU_ARE_NOT_ALLOWED_TO_CREATE_USERS",
        "You are not allowed to create users",
    )
    .await?;
    let body: CreateUserBody = request.json()?;
    let email = better_auth::validation::normalize_email(&body.email)
        .map_err(|_| Error::plugin(StatusCode::BAD_REQUEST, "INVALID_EMAIL", "Invalid email"))?;
    better_auth::validation::check_name(&body.name)?;
    let role = match body.role {
        Some(roles) => parse_roles(roles)?,
        None => settings(ctx).default_role.to_owned(),
    };
    if let Some(password) = &body.password {
        better_auth::validation::check_password(ctx.config().password_settings(), password)?;
    }
    let taken = || {
        Error::plugin(
            StatusCode::BAD_REQUEST,
            "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
            "User already exists. Use another email.",
        )
    };
    if users::find_by_email(ctx.database(), &email)
        .await?
        .is_some()
    {
        return Err(taken());
    }
    let new = users::NewUser::new(body.name.trim(), &email).field(ROLE, role);
    let created = match &body.password {
        Some(password) => {
            let hash = ctx.password_hasher().hash(password).await?;
            users::create_with_password(ctx.database(), new, &hash, ctx.now()).await
        }
        None => users::create(ctx.database(), new, ctx.now()).await,
    };
    let user = match created {
        Ok(user) => user,
        Err(Error::UserAlreadyExists) => return Err(taken()),
        Err(e) => return Err(e),
    };
    Ok(AuthResponse::json(&UserAnswer { user }))
}

/// `set-user-password`'s body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SetPasswordBody {
    user_id: String,
    /// The new password.
    #[schema(min_length = 8, max_length = 128)]
    new_password: String,
}

/// `{"status": true}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Status {
    status: bool,
}

/// `POST /admin/set-user-password`: sets (or adds) the user's password, and
/// ends every session of theirs and every emailed link, as a password reset does.
pub(crate) async fn set_user_password(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    require_admin(
        ctx,
        &request,
        "YOU_ARE_NOT_ALLOWED_TO_SET_USERS_PASSWORD",
        "You are not allowed to set users password",
    )
    .await?;
    let body: SetPasswordBody = request.json()?;
    better_auth::validation::check_password(ctx.config().password_settings(), &body.new_password)?;
    let user = users::find_by_id(ctx.database(), &body.user_id)
        .await?
        .ok_or_else(user_not_found)?;
    let hash = ctx.password_hasher().hash(&body.new_password).await?;
    better_auth::store::accounts::set_credential_password_and_end_sessions(
        ctx.database(),
        &user.id,
        &hash,
        ctx.now(),
    )
    .await?;
    ctx.forget_cached_sessions(None);
    Ok(AuthResponse::json(&Status { status: true }))
}
