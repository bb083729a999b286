//! Role guards for Axum: the decision is made before the handler runs, with
//! Better Auth's answers: 401 `UNAUTHORIZED` without a session, 403
//! `FORBIDDEN` with one whose user lacks the role. They find the instance in
//! the router's state ([`FromState`], as `CurrentSession` does) or in the
//! request, where `better_auth::integrations::axum::attach` put it
//! ([`Attached`](better_auth::integrations::axum::Attached), as
//! `Authenticated` does).
//!
//! ```
//! use axum::{Router, routing::get};
//! use better_auth_admin::{Admin, Attached, RequireRole};
//!
//! async fn dashboard(_: RequireRole<Admin, Attached>) -> &'static str {
//!     "admins only"
//! }
//!
//! // Any state: the instance comes with the request.
//! let routes: Router<()> = Router::new().route("/admin", get(dashboard));
//! ```

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use better_auth::http::StatusCode;
use better_auth::integrations::axum::{
    CurrentSession, FromState, InstanceSource, SessionRejection,
};

use crate::has_role;

/// A role a [`RequireRole`] guard asks for: a type naming it.
///
/// ```
/// use better_auth_admin::Role;
///
/// pub struct Support;
///
/// impl Role for Support {
///     const NAME: &'static str = "support";
/// }
/// ```
pub trait Role: Send + Sync + 'static {
    /// The role, as stored in the user's `role` column.
    const NAME: &'static str;
}

/// The `admin` role.
#[derive(Debug)]
pub struct Admin;

impl Role for Admin {
    const NAME: &'static str = "admin";
}

/// The signed-in session of a user with role `R`; rejects with 401 without a
/// session and 403 without the role, before the handler runs. The role is
/// read with the session (never older than the session cache allows).
///
/// ```
/// use std::sync::Arc;
/// use axum::{Router, routing::get};
/// use better_auth::BetterAuth;
/// use better_auth::prelude::AuthUser;
/// use better_auth_admin::{Admin, RequireRole};
///
/// async fn dashboard(RequireRole(session, ..): RequireRole<Admin>) -> String {
///     format!("Hello, admin {}", session.user.email())
/// }
///
/// let routes: Router<Arc<BetterAuth>> = Router::new().route("/admin", get(dashboard));
/// ```
///
/// As a layer over a whole router, with axum's `from_extractor_with_state`:
///
/// ```
/// use std::sync::Arc;
/// use axum::{Router, middleware, routing::get};
/// use better_auth::BetterAuth;
/// use better_auth_admin::{Admin, RequireRole};
///
/// fn admin_routes(auth: Arc<BetterAuth>) -> Router<Arc<BetterAuth>> {
///     Router::new()
///         .route("/admin/stats", get(|| async { "42" }))
///         .route_layer(middleware::from_extractor_with_state::<RequireRole<Admin>, _>(auth))
/// }
/// ```
pub struct RequireRole<R: Role, Via = FromState>(pub CurrentSession, pub PhantomData<(R, Via)>);

impl<R: Role, Via> std::fmt::Debug for RequireRole<R, Via> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RequireRole")
            .field(&R::NAME)
            .field(&self.0)
            .finish()
    }
}

/// Why a [`RequireRole`] refused: its response (Better Auth's JSON error).
#[derive(Debug)]
pub struct RoleRejection(Response);

impl IntoResponse for RoleRejection {
    fn into_response(self) -> Response {
        self.0
    }
}

/// The 403 of a user without role `R`.
fn lacks<R: Role>() -> RoleRejection {
    let body = serde_json::json!({
        "message": format!("This needs the {} role", R::NAME),
        "code": "FORBIDDEN",
    });
    RoleRejection((StatusCode::FORBIDDEN, axum::Json(body)).into_response())
}

impl<S, R, Via> FromRequestParts<S> for RequireRole<R, Via>
where
    S: Send + Sync,
    R: Role,
    Via: InstanceSource<S>,
{
    type Rejection = RoleRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let rejected = |rejection: SessionRejection| RoleRejection(rejection.into_response());
        let auth =
            Via::instance(parts, state).ok_or_else(|| rejected(SessionRejection::NotAttached))?;
        let session = CurrentSession::from_parts(&auth, parts)
            .await
            .map_err(rejected)?;
        if !has_role(&session.user, R::NAME) {
            return Err(lacks::<R>());
        }
        Ok(RequireRole(session, PhantomData))
    }
}
