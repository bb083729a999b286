//! The admin routes and the ban check every sign-in passes.

use std::time::Duration;

use better_auth::http::StatusCode;
use better_auth::prelude::User;
use better_auth::store::users::{self, TextMatch, UserSearch};
use better_auth::store::{Timestamp, sessions};
use better_auth::{AuthContext, AuthRequest, AuthResponse, Error, Result, SessionOptions};
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

/// The signed-in user if one of their roles allows `action` on `resource`,
/// or 401 (no session) / 403 `code`. The role is the one read with the
/// session: never older than the session cache allows, which a role change
/// empties.
async fn require(
    ctx: &AuthContext,
    request: &AuthRequest,
    (resource, action): (&str, &str),
    code: &'static str,
    message: &str,
) -> Result<User> {
    let current = ctx.require_session(request).await?;
    allowed(ctx, &current.user, (resource, action), code, message)?;
    Ok(current.user)
}

/// 403 `code` unless one of `user`'s roles allows `action` on `resource`.
fn allowed(
    ctx: &AuthContext,
    user: &User,
    (resource, action): (&str, &str),
    code: &'static str,
    message: &str,
) -> Result<()> {
    if !settings(ctx).has_permission(user, &[(resource, &[action])]) {
        return Err(forbidden(code, message));
    }
    Ok(())
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
    set_then(ctx, user_id, values, false).await
}

/// [`set`], ending every session of the user in the same transaction when
/// `end_sessions` (a ban).
async fn set_then(
    ctx: &AuthContext,
    user_id: &str,
    values: Map<String, Value>,
    end_sessions: bool,
) -> Result<User> {
    let found = if end_sessions {
        users::set_fields_and_end_sessions(ctx.database(), user_id, &values, ctx.now()).await?
    } else {
        users::set_fields(ctx.database(), user_id, &values, ctx.now()).await?
    };
    if !found {
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
    require(
        ctx,
        &request,
        ("user", "set-role"),
        "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE",
        "You are not allowed to change users role",
    )
    .await?;
    let body: SetRoleBody = request.json()?;
    let roles = parse_roles(ctx, body.role)?;
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
    let admin = require(
        ctx,
        &request,
        ("user", "ban"),
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
    // Banned now: every session of theirs ends at once, with the ban.
    let user = set_then(ctx, &body.user_id, values, true).await?;
    Ok(AuthResponse::json(&UserAnswer { user }))
}

pub(crate) async fn unban(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    require(
        ctx,
        &request,
        ("user", "ban"),
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
    require(
        ctx,
        &request,
        ("user", "list"),
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
    require(
        ctx,
        &request,
        ("user", "get"),
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
    require(
        ctx,
        &request,
        ("session", "list"),
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
    require(
        ctx,
        &request,
        ("session", "revoke"),
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
    let admin = require(
        ctx,
        &request,
        ("user", "delete"),
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
    /// More of the user: `image`, `emailVerified`, `role`, the ban fields
    /// (for admins allowed to ban) and other plugins' user fields.
    #[serde(default)]
    data: Map<String, Value>,
}

/// Roles as stored (comma-separated), or `INVALID_ROLE_TYPE`; with roles
/// given permissions ([`AdminPlugin::role`]) only those, the admin roles and
/// the default role may be set.
fn parse_roles(ctx: &AuthContext, roles: Roles) -> Result<String> {
    let roles = checked_roles(roles)?;
    let plugin = settings(ctx);
    if !plugin.roles.is_empty()
        && roles.split(',').any(|role| {
            !plugin.roles.contains_key(role)
                && !plugin.admin_roles.iter().any(|a| a == role)
                && plugin.default_role != role
        })
    {
        return Err(Error::plugin(
            StatusCode::BAD_REQUEST,
            "YOU_ARE_NOT_ALLOWED_TO_SET_NON_EXISTENT_VALUE",
            "You are not allowed to set a non-existent role value",
        ));
    }
    Ok(roles)
}

/// Roles as stored (comma-separated), or `INVALID_ROLE_TYPE`.
fn checked_roles(roles: Roles) -> Result<String> {
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
    let admin = require(
        ctx,
        &request,
        ("user", "create"),
        "YOU_ARE_NOT_ALLOWED_TO_CREATE_USERS",
        "You are not allowed to create users",
    )
    .await?;
    let mut body: CreateUserBody = request.json()?;
    let email = better_auth::validation::normalize_email(&body.email)
        .map_err(|_| Error::plugin(StatusCode::BAD_REQUEST, "INVALID_EMAIL", "Invalid email"))?;
    better_auth::validation::check_name(&body.name)?;
    let data_role = body.data.remove(ROLE).map(roles_value).transpose()?;
    let role = match body.role.or(data_role) {
        Some(roles) => {
            allowed(
                ctx,
                &admin,
                ("user", "set-role"),
                "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE",
                "You are not allowed to change users role",
            )?;
            parse_roles(ctx, roles)?
        }
        None => settings(ctx).default_role.to_owned(),
    };
    if [BANNED, BAN_REASON, BAN_EXPIRES]
        .iter()
        .any(|k| body.data.contains_key(*k))
    {
        allowed(
            ctx,
            &admin,
            ("user", "ban"),
            "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS",
            "You are not allowed to ban users",
        )?;
    }
    let image = match body.data.remove("image") {
        None | Some(Value::Null) => None,
        Some(Value::String(image)) => Some(image),
        Some(_) => return Err(bad("image must be a string")),
    };
    let verified = match body.data.remove("emailVerified") {
        None => false,
        Some(Value::Bool(verified)) => verified,
        Some(_) => return Err(bad("emailVerified must be a boolean")),
    };
    refuse_core_keys(&body.data)?;
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
    let mut new = users::NewUser::new(body.name.trim(), &email);
    new.image = image.as_deref();
    new.email_verified = verified;
    new.fields = body.data;
    let new = new.field(ROLE, role);
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
    require(
        ctx,
        &request,
        ("user", "set-password"),
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

/// A role or list of roles given as JSON (`data.role`), or `INVALID_ROLE_TYPE`.
fn roles_value(value: Value) -> Result<Roles> {
    serde_json::from_value(value).map_err(|_| {
        Error::plugin(
            StatusCode::BAD_REQUEST,
            "INVALID_ROLE_TYPE",
            "Invalid role type",
        )
    })
}

/// `data` may not name the id, the password or the timestamps (Better
/// Auth's codes for the first two).
fn refuse_core_keys(data: &Map<String, Value>) -> Result<()> {
    if data.contains_key("password") {
        return Err(Error::plugin(
            StatusCode::BAD_REQUEST,
            "PASSWORD_CANNOT_BE_UPDATED_VIA_UPDATE_USER",
            "Password cannot be updated through update-user. Use the set-user-password endpoint instead",
        ));
    }
    if data.contains_key("id") {
        return Err(Error::plugin(
            StatusCode::BAD_REQUEST,
            "USER_ID_CANNOT_BE_UPDATED",
            "User id cannot be updated",
        ));
    }
    for key in ["createdAt", "updatedAt"] {
        if data.contains_key(key) {
            return Err(bad(&format!("{key} can not be set")));
        }
    }
    Ok(())
}

/// `update-user`'s body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateUserBody {
    user_id: String,
    /// What changes: `name`, `image`, `email`, `emailVerified`, `role`, the
    /// ban fields, other plugins' user fields.
    data: Map<String, Value>,
}

/// `POST /admin/update-user`: each kind of change needs its permission
/// (`update`; `set-role` for roles, `ban` for the ban fields, `set-email` for
/// the address); banning this way ends the user's sessions too.
pub(crate) async fn update_user(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let admin = require(
        ctx,
        &request,
        ("user", "update"),
        "YOU_ARE_NOT_ALLOWED_TO_UPDATE_USERS",
        "You are not allowed to update users",
    )
    .await?;
    let body: UpdateUserBody = request.json()?;
    let mut data = body.data;
    if data.is_empty() {
        return Err(Error::plugin(
            StatusCode::BAD_REQUEST,
            "NO_DATA_TO_UPDATE",
            "No data to update",
        ));
    }
    refuse_core_keys(&data)?;
    if let Some(roles) = data.remove(ROLE) {
        allowed(
            ctx,
            &admin,
            ("user", "set-role"),
            "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE",
            "You are not allowed to change users role",
        )?;
        let roles = parse_roles(ctx, roles_value(roles)?)?;
        data.insert(ROLE.into(), roles.into());
    }
    let banning = data.get(BANNED) == Some(&Value::Bool(true));
    if [BANNED, BAN_REASON, BAN_EXPIRES]
        .iter()
        .any(|k| data.contains_key(*k))
    {
        allowed(
            ctx,
            &admin,
            ("user", "ban"),
            "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS",
            "You are not allowed to ban users",
        )?;
        if banning && body.user_id == admin.id {
            return Err(Error::plugin(
                StatusCode::BAD_REQUEST,
                "YOU_CANNOT_BAN_YOURSELF",
                "You cannot ban yourself",
            ));
        }
    }
    let email = data.remove("email");
    let verified = data.remove("emailVerified");
    if email.is_some() || verified.is_some() {
        allowed(
            ctx,
            &admin,
            ("user", "set-email"),
            "YOU_ARE_NOT_ALLOWED_TO_SET_USERS_EMAIL",
            "You are not allowed to update users email",
        )?;
    }
    let name = match data.remove("name") {
        None => None,
        Some(Value::String(name)) => {
            better_auth::validation::check_name(&name)?;
            Some(name.trim().to_owned())
        }
        Some(_) => return Err(bad("name must be a string")),
    };
    let image = match data.remove("image") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(image)) => Some(Some(image)),
        Some(_) => return Err(bad("image must be a string")),
    };
    let user = users::find_by_id(ctx.database(), &body.user_id)
        .await?
        .ok_or_else(user_not_found)?;
    if email.is_some() || verified.is_some() {
        let email = match email {
            None => user.email.clone(),
            Some(Value::String(email)) => better_auth::validation::normalize_email(&email)
                .map_err(|_| {
                    Error::plugin(StatusCode::BAD_REQUEST, "INVALID_EMAIL", "Invalid email")
                })?,
            Some(_) => return Err(bad("email must be a string")),
        };
        let verified = match verified {
            None => user.email_verified && email == user.email,
            Some(Value::Bool(verified)) => verified,
            Some(_) => return Err(bad("emailVerified must be a boolean")),
        };
        match users::set_email(ctx.database(), &user.id, &email, verified, ctx.now()).await {
            Err(Error::UserAlreadyExists) => {
                return Err(Error::plugin(
                    StatusCode::BAD_REQUEST,
                    "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
                    "User already exists. Use another email.",
                ));
            }
            other => other?,
        }
    }
    if name.is_some() || image.is_some() {
        users::update_profile(
            ctx.database(),
            &user.id,
            name.as_deref(),
            image.as_ref().map(Option::as_deref),
            &Map::new(),
            ctx.now(),
        )
        .await?;
    }
    let user = set_then(ctx, &user.id, data, banning).await?;
    Ok(AuthResponse::json(&user))
}

/// `revoke-user-session`'s body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionTokenBody {
    /// The session's `token` as `list-user-sessions` gives it.
    session_token: String,
}

/// `POST /admin/revoke-user-session`: ends one session.
pub(crate) async fn revoke_user_session(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    require(
        ctx,
        &request,
        ("session", "revoke"),
        "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS",
        "You are not allowed to revoke users sessions",
    )
    .await?;
    let body: SessionTokenBody = request.json()?;
    sessions::delete_by_digest(ctx.database(), &body.session_token).await?;
    ctx.forget_cached_sessions(None);
    Ok(AuthResponse::json(&Success { success: true }))
}

/// The cookie keeping the admin's own session while they impersonate.
fn admin_cookie(ctx: &AuthContext) -> String {
    ctx.cookie_name("admin_session")
}

/// `POST /admin/impersonate-user`: a session of the user marked with the
/// admin's id (`impersonatedBy`), an hour long unless configured otherwise,
/// becomes the session cookie; the admin's session waits in a signed cookie
/// for `stop-impersonating`. Admins are not impersonated without
/// `impersonate-admins`, and an impersonation session starts no other.
pub(crate) async fn impersonate(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let current = ctx.require_session(&request).await?;
    let refuse = || {
        forbidden(
            "YOU_ARE_NOT_ALLOWED_TO_IMPERSONATE_USERS",
            "You are not allowed to impersonate users",
        )
    };
    let admin = &current.user;
    allowed(
        ctx,
        admin,
        ("user", "impersonate"),
        "YOU_ARE_NOT_ALLOWED_TO_IMPERSONATE_USERS",
        "You are not allowed to impersonate users",
    )?;
    if current
        .session
        .field(crate::IMPERSONATED_BY)
        .is_some_and(|by| !by.is_null())
    {
        return Err(refuse());
    }
    let body: UserIdBody = request.json()?;
    let target = users::find_by_id(ctx.database(), &body.user_id)
        .await?
        .ok_or_else(user_not_found)?;
    let plugin = settings(ctx);
    if plugin.is_admin(&target)
        && !plugin.has_permission(admin, &[("user", &["impersonate-admins"])])
    {
        return Err(forbidden(
            "YOU_CANNOT_IMPERSONATE_ADMINS",
            "You cannot impersonate admins",
        ));
    }
    let options = SessionOptions::default()
        .field(crate::IMPERSONATED_BY, admin.id.clone())
        .expires_in(plugin.impersonation);
    let (session, token) = ctx.create_session_with(&target, &request, options).await?;
    tracing::info!(
        admin = %admin.id,
        user = %target.id,
        session = %session.id,
        "an admin started impersonating a user"
    );
    let remember = if ctx.dont_remember(&request.headers) {
        ""
    } else {
        "true"
    };
    let kept = ctx.sign(&format!("{}:{remember}", current.token));
    let response = AuthResponse::json(&json!({ "session": session, "user": target }));
    // As Better Auth: the impersonation cookie ends with the browser; so
    // does the one keeping the admin's session.
    let response = ctx.with_session_cookie(response, &token, false);
    Ok(ctx.set_cookie(response, &admin_cookie(ctx), &kept, None))
}

/// `POST /admin/stop-impersonating`: ends the impersonation session and
/// brings back the admin's own, kept in the signed cookie; 400 when the
/// session is not an impersonation or that cookie is missing or not the
/// admin's.
pub(crate) async fn stop_impersonating(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    let current = ctx.require_session(&request).await?;
    let Some(admin_id) = current
        .session
        .field(crate::IMPERSONATED_BY)
        .and_then(Value::as_str)
    else {
        return Err(bad("You are not impersonating anyone"));
    };
    let missing = || bad("Failed to find admin session");
    let kept = ctx
        .request_cookie(&request.headers, &admin_cookie(ctx))
        .ok_or_else(missing)?;
    let kept = ctx.verify_signed(&kept).ok_or_else(missing)?;
    let (token, remember) = kept.split_once(':').unwrap_or((kept, ""));
    let admin = ctx
        .session_for_token(token, false)
        .await?
        .filter(|admin| admin.user.id == admin_id)
        .ok_or_else(missing)?;
    sessions::delete_by_digest(ctx.database(), &current.session.token).await?;
    ctx.forget_cached_sessions(None);
    tracing::info!(
        admin = %admin.user.id,
        user = %current.user.id,
        session = %current.session.id,
        "an admin stopped impersonating a user"
    );
    let response = AuthResponse::json(&json!({ "session": admin.session, "user": admin.user }));
    let response = ctx.with_session_cookie(response, &admin.token, remember == "true");
    Ok(ctx.set_cookie(response, &admin_cookie(ctx), "", Some(Duration::ZERO)))
}

/// `has-permission`'s body.
#[derive(Deserialize, ToSchema)]
pub(crate) struct PermissionBody {
    /// Resource → actions: `{"user": ["ban"], "session": ["revoke"]}`.
    #[schema(value_type = Option<Object>)]
    permissions: Option<Map<String, Value>>,
    /// The same, under Better Auth's older name.
    #[schema(value_type = Option<Object>)]
    permission: Option<Map<String, Value>>,
}

/// `POST /admin/has-permission`: whether the signed-in user's roles allow
/// every action asked for.
pub(crate) async fn has_permission(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    let body: PermissionBody = request.json()?;
    let Some(asked) = body.permissions.or(body.permission) else {
        return Err(bad(
            "invalid permission check. no permission(s) were passed.",
        ));
    };
    let current = ctx.require_session(&request).await?;
    let success = settings(ctx)
        .has_permission_json(&current.user, &asked)
        .ok_or_else(|| bad("permissions map resources to lists of actions"))?;
    Ok(AuthResponse::json(
        &json!({ "error": null, "success": success }),
    ))
}
