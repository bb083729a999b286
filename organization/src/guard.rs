//! Permission guards for Axum: the decision is made before the handler runs,
//! on the member's role in the session's active organization, read from the
//! database on each request (a role change counts at once). Answers are
//! Better Auth's: 401 `UNAUTHORIZED` without a session, 403
//! `NO_ACTIVE_ORGANIZATION` without an active organization, 403 `FORBIDDEN`
//! when the member's roles lack a permission (or the user is no longer a
//! member).

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use better_auth::http::StatusCode;
use better_auth::integrations::axum::{
    CurrentSession, FromState, InstanceSource, SessionRejection,
};
use serde_json::Value;

use crate::{ACTIVE_ORGANIZATION_ID, OrganizationPlugin, store};

/// The permissions a [`RequirePermission`] guard asks for: a type naming
/// them, resource → actions, all of which the member's roles must allow.
///
/// ```
/// use better_auth_organization::Permission;
///
/// pub struct InviteMembers;
///
/// impl Permission for InviteMembers {
///     const PERMISSIONS: &'static [(&'static str, &'static [&'static str])] =
///         &[("invitation", &["create"])];
/// }
/// ```
pub trait Permission: Send + Sync + 'static {
    /// Resource → actions (`&[("member", &["update", "delete"])]`).
    const PERMISSIONS: &'static [(&'static str, &'static [&'static str])];
}

/// The signed-in member's place in the active organization, as a
/// [`RequirePermission`] guard found it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ActiveMember {
    /// The member row's id.
    pub id: String,
    /// The active organization's id.
    pub organization_id: String,
    /// The member's roles (comma-separated, as stored).
    pub role: String,
}

/// The signed-in session of a member of the session's active organization
/// whose roles allow `P`; rejects before the handler runs with 401 (no
/// session), 403 `NO_ACTIVE_ORGANIZATION` or 403 `FORBIDDEN`. `Via` says
/// where the instance is: the router's state ([`FromState`], the default)
/// or the request (`better_auth::integrations::axum::Attached`, for apps
/// wired with `attach`).
///
/// ```
/// use std::sync::Arc;
/// use axum::{Router, routing::post};
/// use better_auth::BetterAuth;
/// use better_auth_organization::{Permission, RequirePermission};
///
/// pub struct UpdateOrganization;
///
/// impl Permission for UpdateOrganization {
///     const PERMISSIONS: &'static [(&'static str, &'static [&'static str])] =
///         &[("organization", &["update"])];
/// }
///
/// async fn rename(RequirePermission(_session, member, ..): RequirePermission<UpdateOrganization>) -> String {
///     format!("renaming {}", member.organization_id)
/// }
///
/// let routes: Router<Arc<BetterAuth>> = Router::new().route("/settings/name", post(rename));
/// ```
pub struct RequirePermission<P: Permission, Via = FromState>(
    pub CurrentSession,
    pub ActiveMember,
    pub PhantomData<(P, Via)>,
);

impl<P: Permission, Via> std::fmt::Debug for RequirePermission<P, Via> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RequirePermission")
            .field(&P::PERMISSIONS)
            .field(&self.0)
            .field(&self.1)
            .finish()
    }
}

/// Why a [`RequirePermission`] refused: its response (Better Auth's JSON
/// error).
#[derive(Debug)]
pub struct PermissionRejection(Response);

impl IntoResponse for PermissionRejection {
    fn into_response(self) -> Response {
        self.0
    }
}

fn refuse(code: &str, message: &str) -> PermissionRejection {
    let body = serde_json::json!({ "message": message, "code": code });
    PermissionRejection((StatusCode::FORBIDDEN, axum::Json(body)).into_response())
}

impl<S, P, Via> FromRequestParts<S> for RequirePermission<P, Via>
where
    S: Send + Sync,
    P: Permission,
    Via: InstanceSource<S>,
{
    type Rejection = PermissionRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let rejected = |r: SessionRejection| PermissionRejection(r.into_response());
        let auth =
            Via::instance(parts, state).ok_or_else(|| rejected(SessionRejection::NotAttached))?;
        let session = CurrentSession::from_parts(&auth, parts)
            .await
            .map_err(rejected)?;
        let Some(organization_id) = session
            .session
            .field(ACTIVE_ORGANIZATION_ID)
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return Err(refuse("NO_ACTIVE_ORGANIZATION", "No active organization"));
        };
        let member = store::member_of(auth.database(), &organization_id, &session.user.id)
            .await
            .map_err(|e| rejected(SessionRejection::Failed(e)))?;
        let Some(member) = member else {
            return Err(refuse(
                "FORBIDDEN",
                "You are not a member of the active organization",
            ));
        };
        let wanted = P::PERMISSIONS
            .iter()
            .map(|(resource, actions)| {
                let actions = actions.iter().map(|a| (*a).to_owned()).collect();
                ((*resource).to_owned(), actions)
            })
            .collect();
        let allowed = match auth.context().extension::<OrganizationPlugin>() {
            Some(plugin) => plugin.has_permission(&member.role, &wanted),
            None => crate::has_permission(&member.role, &wanted),
        };
        if P::PERMISSIONS.is_empty() || !allowed {
            return Err(refuse(
                "FORBIDDEN",
                "You are not allowed to do this in the active organization",
            ));
        }
        let member = ActiveMember {
            id: member.id,
            organization_id,
            role: member.role,
        };
        Ok(RequirePermission(session, member, PhantomData))
    }
}
