//! Organizations for [better-auth](better_auth), speaking Better Auth's
//! `organization` plugin API so the official client's `organizationClient`
//! works unchanged: organizations with a unique slug, their members and
//! roles, invitations by email, and the session's active organization.
//!
//! - Creating an organization makes its creator a member with the role
//!   `owner` and, unless `keepCurrentActiveOrganization`, its session's active
//!   organization (`activeOrganizationId` on the session).
//! - Roles are Better Auth's `owner`, `admin` and `member` (see [`access`]),
//!   and any added with [`OrganizationPlugin::role`]; a member may hold
//!   several (comma-separated). Every route checks the permission Better
//!   Auth's does; [`has_permission`] makes the same check for an app's own
//!   handlers.
//! - An organization keeps an owner: the last one cannot leave, be removed or
//!   be demoted, and only owners make, change or remove owners.
//! - Invitations are bound to the invited address (only a user with that
//!   email sees, accepts or rejects one), answered once, and expire (48 hours
//!   by default). They are emailed through the instance's email sender;
//!   `invite-member` is limited to 20 requests a minute per client (unless
//!   the app's rate limits say otherwise).
//! - A user who is not a member of an organization learns nothing of it:
//!   an organization (by id or slug), member, team or invitation of another
//!   organization is answered as one that does not exist.
//!
//! | route | body / query | answer |
//! |---|---|---|
//! | `POST /organization/create` | `name`, `slug`, `logo?`, `metadata?`, `keepCurrentActiveOrganization?` | the organization and `members` |
//! | `POST /organization/check-slug` | `slug` | `{status}`, or 400 when taken |
//! | `POST /organization/update` | `data` (`name?`, `slug?`, `logo?`, `metadata?`), `organizationId?` | the organization |
//! | `POST /organization/delete` | `organizationId` | the deleted organization |
//! | `GET /organization/list` | | the user's organizations |
//! | `GET /organization/get-organization` | `organizationId?` / `organizationSlug?` | the organization (the active one without either) |
//! | `GET /organization/get-full-organization` | `organizationId?` / `organizationSlug?`, `membersLimit?` | the organization, `members` (with users) and `invitations` |
//! | `POST /organization/set-active` | `organizationId` (`null` clears) / `organizationSlug` | the organization or `null` |
//! | `POST /organization/remove-member` | `memberIdOrEmail`, `organizationId?` | `{member}` |
//! | `POST /organization/update-member-role` | `memberId`, `role` (string or list), `organizationId?` | the member |
//! | `GET /organization/list-members` | `organizationId?` / `organizationSlug?`, `limit?`, `offset?`, `sortBy?`, `sortDirection?`, `filterField?`, `filterValue?`, `filterOperator?` | `{members, total}` |
//! | `GET /organization/get-active-member` | | the member, with the user |
//! | `GET /organization/get-active-member-role` | `userId?`, `organizationId?` / `organizationSlug?` | `{role}` |
//! | `POST /organization/leave` | `organizationId` | the member |
//! | `POST /organization/invite-member` | `email`, `role`, `organizationId?`, `resend?` | the invitation |
//! | `POST /organization/accept-invitation` | `invitationId` | `{invitation, member}` |
//! | `POST /organization/reject-invitation` | `invitationId` | `{invitation, member: null}` |
//! | `POST /organization/cancel-invitation` | `invitationId` | the invitation |
//! | `GET /organization/get-invitation` | `id` | the invitation, `organizationName`, `organizationSlug`, `inviterEmail` |
//! | `GET /organization/list-invitations` | `organizationId?` | the organization's invitations |
//! | `GET /organization/list-user-invitations` | | the pending invitations to the user |
//! | `POST /organization/has-permission` | `permissions`, `organizationId?` | `{error, success}` |
//!
//! With teams on ([`OrganizationPlugin::teams`]), organizations have teams
//! (a first one named after the organization, with its creator in it), the
//! session an active team (`activeTeamId`), and invitations may add their
//! user to teams (`teamId`, one id or a list):
//!
//! | route | body / query | answer |
//! |---|---|---|
//! | `POST /organization/create-team` | `name`, `organizationId?` | the team |
//! | `GET /organization/list-teams` | `organizationId?` | the organization's teams |
//! | `POST /organization/update-team` | `teamId`, `data` (`name?`, `organizationId?`) | the team |
//! | `POST /organization/remove-team` | `teamId`, `organizationId?` | `{message}` |
//! | `POST /organization/set-active-team` | `teamId` (`null` clears) | the team or `null` |
//! | `GET /organization/list-user-teams` | `userId?`, `organizationId?` | the user's teams |
//! | `GET /organization/list-team-members` | `teamId?` (the active team without it) | the team's members |
//! | `POST /organization/add-team-member` | `teamId`, `userId`, `organizationId?` | the team membership |
//! | `POST /organization/remove-team-member` | `teamId`, `userId`, `organizationId?` | `{message}` |
//!
//! Every route needs a session (401 without one). Routes that take no
//! organization work on the session's active one.
//!
//! ```no_run
//! use better_auth::plugins::EmailPasswordPlugin;
//! use better_auth::store::Database;
//! use better_auth::{AuthConfig, BetterAuth};
//! use better_auth_organization::OrganizationPlugin;
//! use better_auth_organization::access::Role;
//!
//! # async fn f() -> better_auth::Result<()> {
//! let database = Database::connect("sqlite://auth.db").await?;
//! better_auth::run_migrations(&database).await?;
//! let auth = BetterAuth::new(AuthConfig::new("a-secret-of-at-least-32-characters!!"))
//!     .database(database)
//!     .plugin(EmailPasswordPlugin::new())
//!     .plugin(
//!         OrganizationPlugin::new()
//!             .role("billing", Role::new().allow("invoice", ["read", "pay"]))
//!             .invitation_url("https://app.example.com/accept-invitation/")
//!             .teams(true),
//!     )
//!     .build()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! With the `axum` feature (on by default), [`RequirePermission`] guards an
//! app's own handlers by the member's role in the session's active
//! organization: 401 without a session, 403 without an active organization
//! or the permission.
//!
//! Roles stored per organization (Better Auth's `dynamicAccessControl`
//! option) are not provided.

#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::time::Duration;

use better_auth::http::Method;
use better_auth::plugins::{Column, HandlerFn, Plugin, PluginSetup, Route};
use better_auth::store::Migration;

pub mod access;
#[cfg(feature = "axum")]
mod guard;
mod routes;
mod store;

#[cfg(feature = "axum")]
pub use better_auth::integrations::axum::{Attached, FromState};
#[cfg(feature = "axum")]
pub use guard::{ActiveMember, Permission, PermissionRejection, RequirePermission};

use access::{Permissions, Role};

const MIGRATIONS: &[Migration] = &[
    Migration::new(
        1,
        "organization",
        include_str!("../migrations/sqlite/0001_organization.sql"),
        include_str!("../migrations/postgres/0001_organization.sql"),
    )
    .with_mysql(include_str!("../migrations/mysql/0001_organization.sql")),
    Migration::new(
        2,
        "teams",
        include_str!("../migrations/sqlite/0002_teams.sql"),
        include_str!("../migrations/postgres/0002_teams.sql"),
    )
    .with_mysql(include_str!("../migrations/mysql/0002_teams.sql")),
];

/// The session column of the active organization's id.
pub const ACTIVE_ORGANIZATION_ID: &str = "activeOrganizationId";

/// The session column of the active team's id (with teams on).
pub const ACTIVE_TEAM_ID: &str = "activeTeamId";

/// Organizations, members, roles and invitations.
#[derive(Clone, Debug)]
pub struct OrganizationPlugin {
    roles: BTreeMap<String, Role>,
    allow_create: bool,
    organization_limit: Option<u32>,
    membership_limit: u32,
    invitation_limit: u32,
    invitation_lifetime: Duration,
    cancel_pending_on_reinvite: bool,
    verified_email_for_invitations: bool,
    send_invitations: bool,
    invitation_url: Option<String>,
    allow_deletion: bool,
    teams: bool,
    default_team: bool,
    maximum_teams: Option<u32>,
    maximum_members_per_team: Option<u32>,
    allow_removing_all_teams: bool,
}

impl OrganizationPlugin {
    /// Better Auth's defaults: the roles `owner`, `admin` and `member`; any
    /// user may create organizations, without a limit; 100 members and 100
    /// pending invitations per organization; invitations last 48 hours and
    /// are emailed.
    pub fn new() -> Self {
        OrganizationPlugin {
            roles: access::default_roles(),
            allow_create: true,
            organization_limit: None,
            membership_limit: 100,
            invitation_limit: 100,
            invitation_lifetime: Duration::from_secs(48 * 3600),
            cancel_pending_on_reinvite: false,
            verified_email_for_invitations: false,
            send_invitations: true,
            invitation_url: None,
            allow_deletion: true,
            teams: false,
            default_team: true,
            maximum_teams: None,
            maximum_members_per_team: None,
            allow_removing_all_teams: false,
        }
    }

    /// Adds a role members may be given (or replaces one of the same name,
    /// `owner`, `admin` and `member` included).
    pub fn role(mut self, name: &str, role: Role) -> Self {
        self.roles.insert(name.to_owned(), role);
        self
    }

    /// The roles members may be given.
    pub fn roles(&self) -> &BTreeMap<String, Role> {
        &self.roles
    }

    /// Whether users may create organizations (yes by default; 403
    /// `YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_ORGANIZATION` otherwise).
    pub fn allow_user_to_create_organization(mut self, allow: bool) -> Self {
        self.allow_create = allow;
        self
    }

    /// How many organizations a user may be a member of and still create
    /// one (no limit by default).
    pub fn organization_limit(mut self, limit: u32) -> Self {
        self.organization_limit = Some(limit);
        self
    }

    /// How many members an organization may have (100 by default).
    pub fn membership_limit(mut self, limit: u32) -> Self {
        self.membership_limit = limit;
        self
    }

    /// How many pending invitations an organization may have (100 by default).
    pub fn invitation_limit(mut self, limit: u32) -> Self {
        self.invitation_limit = limit;
        self
    }

    /// How long an invitation can be accepted (48 hours by default).
    pub fn invitation_expires_in(mut self, lifetime: Duration) -> Self {
        self.invitation_lifetime = lifetime;
        self
    }

    /// Whether inviting an address again cancels its pending invitation
    /// (no by default: 400 `USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION`,
    /// unless the request says `resend`).
    pub fn cancel_pending_invitations_on_re_invite(mut self, cancel: bool) -> Self {
        self.cancel_pending_on_reinvite = cancel;
        self
    }

    /// Whether only users with a verified email may see, accept or reject
    /// the invitations to it (no by default, as Better Auth with its own
    /// unguessable ids: only the invited address receives the id).
    pub fn require_email_verification_on_invitation(mut self, require: bool) -> Self {
        self.verified_email_for_invitations = require;
        self
    }

    /// Whether invitations are emailed (yes by default, through the
    /// instance's email sender).
    pub fn send_invitation_email(mut self, send: bool) -> Self {
        self.send_invitations = send;
        self
    }

    /// Where the emailed link leads: this prefix followed by the invitation's
    /// id (by default the app's origin and `/accept-invitation/`). The page
    /// there calls `organization.acceptInvitation` with the id.
    pub fn invitation_url(mut self, prefix: impl Into<String>) -> Self {
        self.invitation_url = Some(prefix.into());
        self
    }

    /// Whether owners may delete organizations (yes by default; 404
    /// `ORGANIZATION_DELETION_DISABLED` otherwise).
    pub fn allow_organization_deletion(mut self, allow: bool) -> Self {
        self.allow_deletion = allow;
        self
    }

    /// Turns teams on (Better Auth's `teams.enabled`): the team routes, the
    /// session's `activeTeamId`, `teamId` on invitations, and a first team
    /// named after each new organization with its creator in it (see
    /// [`OrganizationPlugin::default_team`]).
    pub fn teams(mut self, enabled: bool) -> Self {
        self.teams = enabled;
        self
    }

    /// Whether a new organization gets a team of its name with its creator
    /// in it, active in the creator's session (yes by default, with teams on).
    pub fn default_team(mut self, create: bool) -> Self {
        self.default_team = create;
        self
    }

    /// How many teams an organization may have (no limit by default).
    pub fn maximum_teams(mut self, limit: u32) -> Self {
        self.maximum_teams = Some(limit);
        self
    }

    /// How many members a team may have (no limit by default).
    pub fn maximum_members_per_team(mut self, limit: u32) -> Self {
        self.maximum_members_per_team = Some(limit);
        self
    }

    /// Whether an organization's last team may be removed (no by default:
    /// 400 `UNABLE_TO_REMOVE_LAST_TEAM`).
    pub fn allow_removing_all_teams(mut self, allow: bool) -> Self {
        self.allow_removing_all_teams = allow;
        self
    }

    /// Whether a member whose role value is `role_list` (comma-separated
    /// roles) has all of `permissions` with this plugin's roles.
    pub fn has_permission(&self, role_list: &str, permissions: &Permissions) -> bool {
        access::has_permission_with(&self.roles, role_list, permissions)
    }
}

impl Default for OrganizationPlugin {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether a member whose role value is `role_list` (comma-separated, as
/// the `member` table stores it) has all of `permissions` with Better Auth's
/// default roles; [`OrganizationPlugin::has_permission`] uses an instance's
/// roles.
///
/// ```
/// use better_auth_organization::{access::Permissions, has_permission};
///
/// let invite = Permissions::from([("invitation".to_owned(), vec!["create".to_owned()])]);
/// assert!(has_permission("admin", &invite));
/// assert!(!has_permission("member", &invite));
/// ```
pub fn has_permission(role_list: &str, permissions: &Permissions) -> bool {
    access::has_permission_with(&access::default_roles(), role_list, permissions)
}

fn post(path: &'static str, summary: &'static str, handler: HandlerFn) -> Route {
    Route::new(Method::POST, path, summary, handler).authenticated()
}

fn get(path: &'static str, summary: &'static str, handler: HandlerFn) -> Route {
    Route::new(Method::GET, path, summary, handler).authenticated()
}

impl Plugin for OrganizationPlugin {
    fn id(&self) -> &'static str {
        "organization"
    }

    fn install(&self, setup: &mut PluginSetup) {
        use routes as r;
        use serde_json::Value;
        setup.extension(self.clone());
        setup.migrations(MIGRATIONS);
        setup.session_field(Column::text(ACTIVE_ORGANIZATION_ID));
        // Each invitation is an email to an address of the inviter's choosing.
        setup.rate_limit("/organization/invite-member", Duration::from_secs(60), 20);
        if self.teams {
            setup.session_field(Column::text(ACTIVE_TEAM_ID));
            install_teams(setup);
        }
        setup
            .route(
                post("/organization/create", "Create an organization", |c, q| {
                    Box::pin(r::create(c, q))
                })
                .body::<r::CreateBody>()
                .returns::<Value>()
                .errors(&[400, 403]),
            )
            .route(
                post(
                    "/organization/check-slug",
                    "Whether a slug is free",
                    |c, q| Box::pin(r::check_slug(c, q)),
                )
                .body::<r::SlugBody>()
                .returns::<r::Status>()
                .errors(&[400]),
            )
            .route(
                post("/organization/update", "Update an organization", |c, q| {
                    Box::pin(r::update(c, q))
                })
                .body::<r::UpdateBody>()
                .returns::<Value>()
                .errors(&[400, 403]),
            )
            .route(
                post("/organization/delete", "Delete an organization", |c, q| {
                    Box::pin(r::delete(c, q))
                })
                .body::<r::OrganizationIdBody>()
                .returns::<Value>()
                .errors(&[400, 403, 404]),
            )
            .route(
                get("/organization/list", "The user's organizations", |c, q| {
                    Box::pin(r::list(c, q))
                })
                .returns::<Value>(),
            )
            .route(
                get(
                    "/organization/get-organization",
                    "An organization of the user's",
                    |c, q| Box::pin(r::get_organization(c, q)),
                )
                .query(&[("organizationId", false), ("organizationSlug", false)])
                .returns_nullable::<Value>()
                .errors(&[403]),
            )
            .route(
                get(
                    "/organization/get-full-organization",
                    "An organization with its members and invitations",
                    |c, q| Box::pin(r::get_full_organization(c, q)),
                )
                .query(&[
                    ("organizationId", false),
                    ("organizationSlug", false),
                    ("membersLimit", false),
                ])
                .returns_nullable::<Value>()
                .errors(&[400, 403]),
            )
            .route(
                post(
                    "/organization/set-active",
                    "Set (or clear) the session's active organization",
                    |c, q| Box::pin(r::set_active(c, q)),
                )
                .optional_body::<r::SetActiveBody>()
                .returns_nullable::<Value>()
                .errors(&[400, 403]),
            )
            .route(
                post("/organization/remove-member", "Remove a member", |c, q| {
                    Box::pin(r::remove_member(c, q))
                })
                .body::<r::RemoveMemberBody>()
                .returns::<Value>()
                .errors(&[400, 401, 403]),
            )
            .route(
                post(
                    "/organization/update-member-role",
                    "Change a member's roles",
                    |c, q| Box::pin(r::update_member_role(c, q)),
                )
                .body::<r::UpdateRoleBody>()
                .returns::<Value>()
                .errors(&[400, 403]),
            )
            .route(
                get(
                    "/organization/list-members",
                    "An organization's members",
                    |c, q| Box::pin(r::list_members(c, q)),
                )
                .query(&[
                    ("organizationId", false),
                    ("organizationSlug", false),
                    ("limit", false),
                    ("offset", false),
                    ("sortBy", false),
                    ("sortDirection", false),
                    ("filterField", false),
                    ("filterValue", false),
                    ("filterOperator", false),
                ])
                .returns::<Value>()
                .errors(&[400, 403]),
            )
            .route(
                get(
                    "/organization/get-active-member",
                    "The user's membership of the active organization",
                    |c, q| Box::pin(r::get_active_member(c, q)),
                )
                .returns::<Value>()
                .errors(&[400]),
            )
            .route(
                get(
                    "/organization/get-active-member-role",
                    "A member's role",
                    |c, q| Box::pin(r::get_active_member_role(c, q)),
                )
                .query(&[
                    ("userId", false),
                    ("organizationId", false),
                    ("organizationSlug", false),
                ])
                .returns::<Value>()
                .errors(&[400, 403]),
            )
            .route(
                post("/organization/leave", "Leave an organization", |c, q| {
                    Box::pin(r::leave(c, q))
                })
                .body::<r::OrganizationIdBody>()
                .returns::<Value>()
                .errors(&[400]),
            )
            .route(
                post(
                    "/organization/invite-member",
                    "Invite an address to an organization",
                    |c, q| Box::pin(r::invite_member(c, q)),
                )
                .body::<r::InviteBody>()
                .returns::<Value>()
                .errors(&[400, 403]),
            )
            .route(
                post(
                    "/organization/accept-invitation",
                    "Accept an invitation",
                    |c, q| Box::pin(r::accept_invitation(c, q)),
                )
                .body::<r::InvitationIdBody>()
                .returns::<Value>()
                .errors(&[400, 403]),
            )
            .route(
                post(
                    "/organization/reject-invitation",
                    "Reject an invitation",
                    |c, q| Box::pin(r::reject_invitation(c, q)),
                )
                .body::<r::InvitationIdBody>()
                .returns::<Value>()
                .errors(&[400, 403]),
            )
            .route(
                post(
                    "/organization/cancel-invitation",
                    "Cancel an invitation",
                    |c, q| Box::pin(r::cancel_invitation(c, q)),
                )
                .body::<r::InvitationIdBody>()
                .returns::<Value>()
                .errors(&[400, 403]),
            )
            .route(
                get(
                    "/organization/get-invitation",
                    "An invitation to the user",
                    |c, q| Box::pin(r::get_invitation(c, q)),
                )
                .query(&[("id", true)])
                .returns::<Value>()
                .errors(&[400, 403]),
            )
            .route(
                get(
                    "/organization/list-invitations",
                    "An organization's invitations",
                    |c, q| Box::pin(r::list_invitations(c, q)),
                )
                .query(&[("organizationId", false)])
                .returns::<Value>()
                .errors(&[400, 403]),
            )
            .route(
                get(
                    "/organization/list-user-invitations",
                    "The pending invitations to the user",
                    |c, q| Box::pin(r::list_user_invitations(c, q)),
                )
                .query(&[("email", false)])
                .returns::<Value>()
                .errors(&[400, 403]),
            )
            .route(
                post(
                    "/organization/has-permission",
                    "Whether the user's roles allow actions",
                    |c, q| Box::pin(r::has_permission(c, q)),
                )
                .body::<r::HasPermissionBody>()
                .returns::<r::PermissionAnswer>()
                .errors(&[400, 401]),
            );
    }
}

/// The team routes (with teams on).
fn install_teams(setup: &mut PluginSetup) {
    use routes::teams as t;
    use serde_json::Value;
    setup
        .route(
            post("/organization/create-team", "Create a team", |c, q| {
                Box::pin(t::create_team(c, q))
            })
            .body::<t::CreateTeamBody>()
            .returns::<Value>()
            .errors(&[400, 403]),
        )
        .route(
            get(
                "/organization/list-teams",
                "An organization's teams",
                |c, q| Box::pin(t::list_teams(c, q)),
            )
            .query(&[("organizationId", false)])
            .returns::<Value>()
            .errors(&[400, 403]),
        )
        .route(
            post("/organization/update-team", "Rename a team", |c, q| {
                Box::pin(t::update_team(c, q))
            })
            .body::<t::UpdateTeamBody>()
            .returns::<Value>()
            .errors(&[400, 403]),
        )
        .route(
            post("/organization/remove-team", "Remove a team", |c, q| {
                Box::pin(t::remove_team(c, q))
            })
            .body::<t::TeamIdBody>()
            .returns::<Value>()
            .errors(&[400, 403]),
        )
        .route(
            post(
                "/organization/set-active-team",
                "Set (or clear) the session's active team",
                |c, q| Box::pin(t::set_active_team(c, q)),
            )
            .optional_body::<t::SetActiveTeamBody>()
            .returns_nullable::<Value>()
            .errors(&[400, 403]),
        )
        .route(
            get("/organization/list-user-teams", "A user's teams", |c, q| {
                Box::pin(t::list_user_teams(c, q))
            })
            .query(&[("userId", false), ("organizationId", false)])
            .returns::<Value>()
            .errors(&[400, 403]),
        )
        .route(
            get(
                "/organization/list-team-members",
                "A team's members",
                |c, q| Box::pin(t::list_team_members(c, q)),
            )
            .query(&[("teamId", false)])
            .returns::<Value>()
            .errors(&[400]),
        )
        .route(
            post(
                "/organization/add-team-member",
                "Add a member to a team",
                |c, q| Box::pin(t::add_team_member(c, q)),
            )
            .body::<t::TeamMemberBody>()
            .returns::<Value>()
            .errors(&[400, 403]),
        )
        .route(
            post(
                "/organization/remove-team-member",
                "Remove a member from a team",
                |c, q| Box::pin(t::remove_team_member(c, q)),
            )
            .body::<t::TeamMemberBody>()
            .returns::<Value>()
            .errors(&[400, 403]),
        );
}
