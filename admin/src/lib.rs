//! Admin tools for [better-auth](better_auth), speaking Better Auth's
//! `admin` plugin API so the official client's `adminClient` works
//! unchanged: roles on users, bans, and user and session management for
//! admins.
//!
//! - The user gets `role` (comma-separated roles; `user` until set),
//!   `banned`, `banReason` and `banExpires`, returned with the user.
//! - A banned user cannot sign in by any method (403 `BANNED_USER`) until the
//!   ban ends; banning ends every session of theirs at once.
//! - Routes under `/admin/` answer 401 without a session and 403 to a user
//!   none of whose roles is an admin role (`admin` by default).
//!
//! | route | body / query | answer |
//! |---|---|---|
//! | `POST /admin/set-role` | `userId`, `role` (string or list) | `{user}` |
//! | `POST /admin/ban-user` | `userId`, `banReason?`, `banExpiresIn?` (seconds) | `{user}` |
//! | `POST /admin/unban-user` | `userId` | `{user}` |
//! | `GET /admin/list-users` | `searchValue?`, `searchField?`, `searchOperator?`, `limit?`, `offset?`, `sortBy?`, `sortDirection?`, `filterField?`, `filterValue?`, `filterOperator?` | `{users, total, limit?, offset?}` |
//! | `GET /admin/get-user` | `id` | the user |
//! | `POST /admin/list-user-sessions` | `userId` | `{sessions}` |
//! | `POST /admin/revoke-user-sessions` | `userId` | `{success}` |
//! | `POST /admin/remove-user` | `userId` | `{success}` |
//! | `POST /admin/create-user` | `email`, `password?`, `name`, `role?` | `{user}` |
//! | `POST /admin/set-user-password` | `userId`, `newPassword` | `{status}`; the user's sessions end |
//!
//! ```no_run
//! use better_auth::plugins::EmailPasswordPlugin;
//! use better_auth::store::Database;
//! use better_auth::{AuthConfig, BetterAuth};
//! use better_auth_admin::AdminPlugin;
//!
//! # async fn f() -> better_auth::Result<()> {
//! let database = Database::connect("sqlite://auth.db").await?;
//! better_auth::run_migrations(&database).await?;
//! let auth = BetterAuth::new(AuthConfig::new("a-secret-of-at-least-32-characters!!"))
//!     .database(database)
//!     .plugin(EmailPasswordPlugin::new())
//!     .plugin(AdminPlugin::new())
//!     .build()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! The first admin is made with the CLI: `better-auth user create --role admin`
//! or `better-auth user set-role --email ... --role admin` (and `user ban`,
//! `user unban`).
//!
//! With the `axum` feature (on by default), [`RequireRole`] guards an app's
//! own handlers: 401 without a session, 403 without the role.

use better_auth::http::Method;
use better_auth::plugins::{HandlerFn, Plugin, PluginSetup, Route, UserField};
use better_auth::prelude::User;
use better_auth::store::Migration;

#[cfg(feature = "axum")]
mod guard;
mod routes;

#[cfg(feature = "axum")]
pub use guard::{Admin, RequireRole, Role, RoleRejection, has_role};

const MIGRATIONS: &[Migration] = &[Migration::new(
    1,
    "admin",
    include_str!("../migrations/sqlite/0001_admin.sql"),
    include_str!("../migrations/postgres/0001_admin.sql"),
)];

/// The user column of a user's roles (comma-separated).
pub const ROLE: &str = "role";

/// Roles on users, bans, and user and session management for admins.
#[derive(Clone, Debug)]
pub struct AdminPlugin {
    default_role: &'static str,
    admin_roles: Vec<String>,
}

impl AdminPlugin {
    /// Users are `user` until given a role; `admin` is the admin role.
    pub fn new() -> Self {
        AdminPlugin {
            default_role: "user",
            admin_roles: vec!["admin".to_owned()],
        }
    }

    /// The roles whose users may use the admin routes (`admin` by default).
    pub fn admin_roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.admin_roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// The role of users that were given none (`user` by default).
    pub fn default_role(mut self, role: &'static str) -> Self {
        self.default_role = role;
        self
    }

    /// Whether `user` has one of the admin roles.
    pub fn is_admin(&self, user: &User) -> bool {
        roles_of(user, self.default_role).any(|role| self.admin_roles.iter().any(|a| a == role))
    }
}

/// A user's roles (the `role` column, comma-separated).
fn roles_of<'a>(user: &'a User, default: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    user.field(ROLE)
        .and_then(|v| v.as_str())
        .unwrap_or(default)
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
}

/// An admin route: POST, for signed-in users.
fn post(path: &'static str, summary: &'static str, handler: HandlerFn) -> Route {
    Route::new(Method::POST, path, summary, handler).authenticated()
}

impl Default for AdminPlugin {
    fn default() -> Self {
        Self::new()
    }
}

impl Plugin for AdminPlugin {
    fn id(&self) -> &'static str {
        "admin"
    }

    fn install(&self, setup: &mut PluginSetup) {
        setup.extension(self.clone());
        setup.migrations(MIGRATIONS);
        setup.user_field(UserField::text_or(ROLE, self.default_role));
        setup.user_field(UserField::boolean(routes::BANNED, false));
        setup.user_field(UserField::text(routes::BAN_REASON));
        setup.user_field(UserField::timestamp(routes::BAN_EXPIRES));
        setup.before_session(|ctx, user| Box::pin(routes::refuse_banned(ctx, user)));
        setup
            .route(
                post("/admin/set-role", "Set a user's roles", |c, r| {
                    Box::pin(routes::set_role(c, r))
                })
                .body::<routes::SetRoleBody>()
                .returns::<routes::UserAnswer>()
                .errors(&[400, 403, 404]),
            )
            .route(
                post(
                    "/admin/ban-user",
                    "Ban a user and end their sessions",
                    |c, r| Box::pin(routes::ban(c, r)),
                )
                .body::<routes::BanBody>()
                .returns::<routes::UserAnswer>()
                .errors(&[400, 403, 404]),
            )
            .route(
                post("/admin/unban-user", "Lift a user's ban", |c, r| {
                    Box::pin(routes::unban(c, r))
                })
                .body::<routes::UserIdBody>()
                .returns::<routes::UserAnswer>()
                .errors(&[400, 403, 404]),
            )
            .route(
                Route::new(
                    Method::GET,
                    "/admin/list-users",
                    "Search and page users",
                    |c, r| Box::pin(routes::list_users(c, r)),
                )
                .query(&[
                    ("searchValue", false),
                    ("searchField", false),
                    ("searchOperator", false),
                    ("limit", false),
                    ("offset", false),
                    ("sortBy", false),
                    ("sortDirection", false),
                    ("filterField", false),
                    ("filterValue", false),
                    ("filterOperator", false),
                ])
                .returns::<serde_json::Value>()
                .authenticated()
                .errors(&[400, 403]),
            )
            .route(
                Route::new(Method::GET, "/admin/get-user", "One user", |c, r| {
                    Box::pin(routes::get_user(c, r))
                })
                .query(&[("id", true)])
                .returns::<User>()
                .authenticated()
                .errors(&[400, 403, 404]),
            )
            .route(
                post("/admin/list-user-sessions", "A user's sessions", |c, r| {
                    Box::pin(routes::list_user_sessions(c, r))
                })
                .body::<routes::UserIdBody>()
                .returns::<serde_json::Value>()
                .errors(&[400, 403]),
            )
            .route(
                post(
                    "/admin/revoke-user-sessions",
                    "End a user's sessions",
                    |c, r| Box::pin(routes::revoke_user_sessions(c, r)),
                )
                .body::<routes::UserIdBody>()
                .returns::<routes::Success>()
                .errors(&[400, 403]),
            )
            .route(
                post("/admin/create-user", "Create a user, with roles", |c, r| {
                    Box::pin(routes::create_user(c, r))
                })
                .body::<routes::CreateUserBody>()
                .returns::<routes::UserAnswer>()
                .errors(&[400, 403]),
            )
            .route(
                post(
                    "/admin/set-user-password",
                    "Set a user's password (their sessions end)",
                    |c, r| Box::pin(routes::set_user_password(c, r)),
                )
                .body::<routes::SetPasswordBody>()
                .returns::<routes::Status>()
                .errors(&[400, 403, 404]),
            )
            .route(
                post("/admin/remove-user", "Delete a user", |c, r| {
                    Box::pin(routes::remove_user(c, r))
                })
                .body::<routes::UserIdBody>()
                .returns::<routes::Success>()
                .errors(&[400, 403, 404]),
            );
    }
}
