//! The organization routes. Each reads the session, then the caller's
//! membership of the organization it names, before anything else of that
//! organization: a user who is not a member is answered as if the
//! organization, member or invitation did not exist.

use better_auth::email::{Email, EmailKind};
use better_auth::http::StatusCode;
use better_auth::store::{Timestamp, sessions};
use better_auth::validation::normalize_email;
use better_auth::{AuthContext, AuthRequest, AuthResponse, Error, ResolvedSession, Result};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::access::{CREATOR_ROLE, Permissions, parse_role_list};
use crate::store::{self, Accepted, Invitation, Member, MemberQuery, Organization, PENDING};
use crate::{ACTIVE_ORGANIZATION_ID, ACTIVE_TEAM_ID, OrganizationPlugin};

pub(crate) mod teams;

pub(crate) fn settings(ctx: &AuthContext) -> &OrganizationPlugin {
    ctx.extension::<OrganizationPlugin>()
        .expect("the organization plugin's settings are installed with it")
}

/// Better Auth's answer for `code`, with its message.
pub(crate) fn fail(status: StatusCode, code: &'static str) -> Error {
    let message = match code {
        "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_ORGANIZATION" => {
            "You are not allowed to create a new organization"
        }
        "YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_ORGANIZATIONS" => {
            "You have reached the maximum number of organizations"
        }
        "ORGANIZATION_ALREADY_EXISTS" => "Organization already exists",
        "ORGANIZATION_SLUG_ALREADY_TAKEN" => "Organization slug already taken",
        "ORGANIZATION_NOT_FOUND" => "Organization not found",
        "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION" => "User is not a member of the organization",
        "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_ORGANIZATION" => {
            "You are not allowed to update this organization"
        }
        "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_ORGANIZATION" => {
            "You are not allowed to delete this organization"
        }
        "NO_ACTIVE_ORGANIZATION" => "No active organization",
        "USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION" => {
            "User is already a member of this organization"
        }
        "MEMBER_NOT_FOUND" => "Member not found",
        "ROLE_NOT_FOUND" => "Role not found",
        "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER" => {
            "You cannot leave the organization as the only owner"
        }
        "YOU_CANNOT_LEAVE_THE_ORGANIZATION_WITHOUT_AN_OWNER" => {
            "You cannot leave the organization without an owner"
        }
        "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_MEMBER" => "You are not allowed to delete this member",
        "YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION" => {
            "You are not allowed to invite users to this organization"
        }
        "USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION" => {
            "User is already invited to this organization"
        }
        "INVITATION_NOT_FOUND" => "Invitation not found",
        "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION" => {
            "You are not the recipient of the invitation"
        }
        "EMAIL_VERIFICATION_REQUIRED_BEFORE_ACCEPTING_OR_REJECTING_INVITATION" => {
            "Email verification required before accepting or rejecting invitation"
        }
        "EMAIL_VERIFICATION_REQUIRED_FOR_INVITATION" => {
            "Email verification required to view or list invitations for the session email"
        }
        "YOU_ARE_NOT_ALLOWED_TO_CANCEL_THIS_INVITATION" => {
            "You are not allowed to cancel this invitation"
        }
        "YOU_ARE_NOT_ALLOWED_TO_LIST_INVITATIONS" => {
            "You are not allowed to list invitations for this organization"
        }
        "INVITER_IS_NO_LONGER_A_MEMBER_OF_THE_ORGANIZATION" => {
            "Inviter is no longer a member of the organization"
        }
        "YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE" => {
            "You are not allowed to invite a user with this role"
        }
        "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER" => "You are not allowed to update this member",
        "ORGANIZATION_MEMBERSHIP_LIMIT_REACHED" => "Organization membership limit reached",
        "INVITATION_LIMIT_REACHED" => "Invitation limit reached",
        "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION" => "You are not a member of this organization",
        "ORGANIZATION_DELETION_DISABLED" => "Organization deletion is disabled",
        "INVALID_EMAIL" => "Invalid email",
        "YOU_ARE_NOT_ALLOWED_TO_CREATE_TEAMS_IN_THIS_ORGANIZATION" => {
            "You are not allowed to create teams in this organization"
        }
        "YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_TEAMS" => {
            "You have reached the maximum number of teams"
        }
        "TEAM_NOT_FOUND" => "Team not found",
        "UNABLE_TO_REMOVE_LAST_TEAM" => "Unable to remove last team",
        "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_TEAM" => "You are not allowed to update this team",
        "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_TEAM" => "You are not allowed to delete this team",
        "YOU_ARE_NOT_ALLOWED_TO_DELETE_TEAMS_IN_THIS_ORGANIZATION" => {
            "You are not allowed to delete teams in this organization"
        }
        "TEAM_MEMBER_LIMIT_REACHED" => "Team member limit reached",
        "USER_IS_NOT_A_MEMBER_OF_THE_TEAM" => "User is not a member of the team",
        "YOU_DO_NOT_HAVE_AN_ACTIVE_TEAM" => "You do not have an active team",
        "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_TEAM_MEMBER" => {
            "You are not allowed to create a new member"
        }
        "YOU_ARE_NOT_ALLOWED_TO_REMOVE_A_TEAM_MEMBER" => {
            "You are not allowed to remove a team member"
        }
        "YOU_ARE_NOT_ALLOWED_TO_ACCESS_THIS_ORGANIZATION" => {
            "You are not allowed to access this organization as an owner"
        }
        "INVALID_TEAM_ID" => "Team id contains a reserved character",
        _ => code,
    };
    Error::plugin(status, code, message)
}

pub(crate) fn bad(code: &'static str) -> Error {
    fail(StatusCode::BAD_REQUEST, code)
}

pub(crate) fn forbidden(code: &'static str) -> Error {
    fail(StatusCode::FORBIDDEN, code)
}

pub(crate) fn invalid(message: &str) -> Error {
    Error::Validation(message.to_owned())
}

fn permission(resource: &str, action: &str) -> Permissions {
    Permissions::from([(resource.to_owned(), vec![action.to_owned()])])
}

pub(crate) fn allowed(ctx: &AuthContext, member: &Member, resource: &str, action: &str) -> bool {
    settings(ctx).has_permission(&member.role, &permission(resource, action))
}

fn is_creator(role: &str) -> bool {
    parse_role_list(role).contains(&CREATOR_ROLE)
}

/// Whether teams are on.
pub(crate) fn teams_on(ctx: &AuthContext) -> bool {
    settings(ctx).teams
}

/// The session's active team, if any.
pub(crate) fn active_team(session: &ResolvedSession) -> Option<String> {
    session
        .session
        .field(ACTIVE_TEAM_ID)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Sets (or clears) the session's active team.
pub(crate) async fn set_active_team_of(
    ctx: &AuthContext,
    session: &ResolvedSession,
    id: Option<&str>,
) -> Result<()> {
    let mut values = Map::new();
    values.insert(
        ACTIVE_TEAM_ID.into(),
        id.map_or(Value::Null, |id| Value::String(id.to_owned())),
    );
    sessions::set_fields(ctx.database(), &session.session.id, &values).await?;
    ctx.forget_cached_sessions(None);
    Ok(())
}

/// The session's active organization, if any.
pub(crate) fn active(session: &ResolvedSession) -> Option<String> {
    session
        .session
        .field(ACTIVE_ORGANIZATION_ID)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Sets (or clears) the session's active organization.
pub(crate) async fn set_active_organization(
    ctx: &AuthContext,
    session: &ResolvedSession,
    id: Option<&str>,
) -> Result<()> {
    let mut values = Map::new();
    values.insert(
        ACTIVE_ORGANIZATION_ID.into(),
        id.map_or(Value::Null, |id| Value::String(id.to_owned())),
    );
    sessions::set_fields(ctx.database(), &session.session.id, &values).await?;
    ctx.forget_cached_sessions(None);
    Ok(())
}

/// How many members of an organization hold the creator role.
async fn owners(ctx: &AuthContext, org_id: &str) -> Result<usize> {
    Ok(store::member_roles(ctx.database(), org_id)
        .await?
        .iter()
        .filter(|r| is_creator(r))
        .count())
}

/// A body field that may be absent, `null` or set.
#[derive(Default)]
pub(crate) enum Field<T> {
    /// Not in the body.
    #[default]
    Absent,
    /// `null`.
    Null,
    /// A value.
    Set(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            Some(value) => Field::Set(value),
            None => Field::Null,
        })
    }
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

impl Roles {
    /// The role names, trimmed, without empty ones.
    fn list(&self) -> Vec<String> {
        let all: Vec<&str> = match self {
            Roles::One(r) => parse_role_list(r),
            Roles::Many(rs) => rs.iter().flat_map(|r| parse_role_list(r)).collect(),
        };
        let mut out: Vec<String> = Vec::new();
        for role in all {
            if !out.iter().any(|r| r == role) {
                out.push(role.to_owned());
            }
        }
        out
    }
}

/// `ROLE_NOT_FOUND` unless every role is one of the instance's.
fn check_roles(ctx: &AuthContext, roles: &[String]) -> Result<()> {
    let unknown: Vec<&str> = roles
        .iter()
        .filter(|r| !settings(ctx).roles.contains_key(r.as_str()))
        .map(String::as_str)
        .collect();
    if roles.is_empty() {
        return Err(bad("ROLE_NOT_FOUND"));
    }
    if !unknown.is_empty() {
        return Err(Error::plugin(
            StatusCode::BAD_REQUEST,
            "ROLE_NOT_FOUND",
            format!("Role not found: {}", unknown.join(", ")),
        ));
    }
    Ok(())
}

/// `{"status": true}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Status {
    status: bool,
}

pub(crate) const MAX_TEXT: usize = 255;
const MAX_LOGO: usize = 2048;
const MAX_METADATA: usize = 8192;

/// A name, slug or logo: present, at most `max` characters, and without
/// control or bidirectional formatting characters (S56, as user names).
pub(crate) fn check_text(what: &str, value: &str, max: usize) -> Result<()> {
    if value.trim().is_empty() {
        return Err(invalid(&format!("{what} is required")));
    }
    if value.chars().count() > max {
        return Err(invalid(&format!("{what} is at most {max} characters")));
    }
    if value
        .chars()
        .any(|c| c.is_control() || better_auth::validation::is_bidi_control(c))
    {
        return Err(invalid(&format!(
            "{what} must not contain control or bidirectional formatting characters"
        )));
    }
    Ok(())
}

/// No NUL character anywhere in the query or the body: no database stores
/// one in text, and an id holding one names nothing.
pub(crate) fn check_input(request: &AuthRequest) -> Result<()> {
    let in_query = request.query.values().any(|v| v.contains('\0'));
    let in_body = request.body.windows(6).any(|w| w == b"\\u0000");
    if in_query || in_body {
        return Err(invalid("text must not contain NUL characters"));
    }
    Ok(())
}

fn metadata_text(metadata: &Map<String, Value>) -> Result<String> {
    let text = serde_json::to_string(metadata).expect("JSON serialises");
    if text.len() > MAX_METADATA {
        return Err(invalid("metadata is at most 8 KiB"));
    }
    Ok(text)
}

// Organizations.

/// `create`'s body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateBody {
    /// The organization's name.
    #[schema(min_length = 1, max_length = 255)]
    name: String,
    /// Its unique slug.
    #[schema(min_length = 1, max_length = 255)]
    slug: String,
    /// A logo URL.
    #[schema(max_length = 2048)]
    logo: Option<String>,
    /// Any JSON object.
    #[schema(value_type = Option<Object>)]
    metadata: Option<Map<String, Value>>,
    /// Leave the session's active organization as it is.
    keep_current_active_organization: Option<bool>,
}

pub(crate) async fn create(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let body: CreateBody = request.json()?;
    check_text("name", &body.name, MAX_TEXT)?;
    check_text("slug", &body.slug, MAX_TEXT)?;
    if let Some(logo) = &body.logo {
        check_text("logo", logo, MAX_LOGO)?;
    }
    let metadata = body.metadata.as_ref().map(metadata_text).transpose()?;
    let plugin = settings(ctx);
    if !plugin.allow_create {
        return Err(forbidden(
            "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_ORGANIZATION",
        ));
    }
    let db = ctx.database();
    if let Some(limit) = plugin.organization_limit {
        let mine = store::organizations_of(db, &session.user.id).await?;
        if mine.len() >= limit as usize {
            return Err(forbidden(
                "YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_ORGANIZATIONS",
            ));
        }
    }
    if store::organization_by_slug(db, &body.slug).await?.is_some() {
        return Err(bad("ORGANIZATION_ALREADY_EXISTS"));
    }
    let org = Organization {
        id: store::new_id(),
        name: body.name,
        slug: body.slug,
        logo: body.logo,
        created_at: Timestamp::new(ctx.now()),
        metadata,
    };
    let member_id = store::new_id();
    if !store::create_organization(db, &org, &member_id, &session.user.id, CREATOR_ROLE).await? {
        return Err(bad("ORGANIZATION_ALREADY_EXISTS"));
    }
    let keep = body.keep_current_active_organization == Some(true);
    if plugin.teams && plugin.default_team {
        let team = teams::new_team(ctx, &org.id, &org.name).await?;
        store::add_team_member(db, &team.id, &session.user.id, None, org.created_at).await?;
        if !keep {
            set_active_team_of(ctx, &session, Some(&team.id)).await?;
        }
    }
    if !keep {
        set_active_organization(ctx, &session, Some(&org.id)).await?;
    }
    let mut answer = org.json_parsed();
    answer["members"] = json!([{
        "id": member_id,
        "organizationId": org.id,
        "userId": session.user.id,
        "role": CREATOR_ROLE,
        "createdAt": store::iso(org.created_at),
    }]);
    Ok(AuthResponse::json(&answer))
}

/// `check-slug`'s body.
#[derive(Deserialize, ToSchema)]
pub(crate) struct SlugBody {
    /// The slug to check.
    slug: String,
}

pub(crate) async fn check_slug(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    check_input(&request)?;
    ctx.require_session(&request).await?;
    let body: SlugBody = request.json()?;
    if store::organization_by_slug(ctx.database(), &body.slug)
        .await?
        .is_some()
    {
        return Err(bad("ORGANIZATION_SLUG_ALREADY_TAKEN"));
    }
    Ok(AuthResponse::json(&Status { status: true }))
}

/// What `update` changes.
#[derive(Deserialize, ToSchema)]
pub(crate) struct UpdateData {
    /// A new name.
    #[schema(min_length = 1, max_length = 255)]
    name: Option<String>,
    /// A new slug.
    #[schema(min_length = 1, max_length = 255)]
    slug: Option<String>,
    /// A new logo URL, or `null` for none.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 2048)]
    logo: Field<String>,
    /// New metadata.
    #[schema(value_type = Option<Object>)]
    metadata: Option<Map<String, Value>>,
}

/// `update`'s body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateBody {
    data: UpdateData,
    /// The organization (the active one without it).
    organization_id: Option<String>,
}

pub(crate) async fn update(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let body: UpdateBody = request.json()?;
    let org_id = body
        .organization_id
        .or_else(|| active(&session))
        .ok_or_else(|| bad("ORGANIZATION_NOT_FOUND"))?;
    let db = ctx.database();
    let member = store::member_of(db, &org_id, &session.user.id)
        .await?
        .ok_or_else(|| bad("USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION"))?;
    if !allowed(ctx, &member, "organization", "update") {
        return Err(forbidden("YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_ORGANIZATION"));
    }
    let mut org = store::organization(db, &org_id)
        .await?
        .ok_or_else(|| bad("ORGANIZATION_NOT_FOUND"))?;
    let data = body.data;
    if let Some(name) = data.name {
        check_text("name", &name, MAX_TEXT)?;
        org.name = name;
    }
    match data.logo {
        Field::Absent => {}
        Field::Null => org.logo = None,
        Field::Set(logo) => {
            check_text("logo", &logo, MAX_LOGO)?;
            org.logo = Some(logo);
        }
    }
    if let Some(metadata) = &data.metadata {
        org.metadata = Some(metadata_text(metadata)?);
    }
    if let Some(slug) = data.slug {
        check_text("slug", &slug, MAX_TEXT)?;
        if store::organization_by_slug(db, &slug)
            .await?
            .is_some_and(|other| other.id != org.id)
        {
            return Err(bad("ORGANIZATION_SLUG_ALREADY_TAKEN"));
        }
        org.slug = slug;
    }
    if !store::update_organization(db, &org).await? {
        return Err(bad("ORGANIZATION_SLUG_ALREADY_TAKEN"));
    }
    Ok(AuthResponse::json(&org.json_parsed()))
}

/// A body naming an organization.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OrganizationIdBody {
    /// The organization's id.
    organization_id: String,
}

pub(crate) async fn delete(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    if !settings(ctx).allow_deletion {
        return Err(fail(
            StatusCode::NOT_FOUND,
            "ORGANIZATION_DELETION_DISABLED",
        ));
    }
    let body: OrganizationIdBody = request.json()?;
    let db = ctx.database();
    let member = store::member_of(db, &body.organization_id, &session.user.id)
        .await?
        .ok_or_else(|| bad("USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION"))?;
    if !allowed(ctx, &member, "organization", "delete") {
        return Err(forbidden("YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_ORGANIZATION"));
    }
    let org = store::organization(db, &body.organization_id)
        .await?
        .ok_or_else(|| bad("ORGANIZATION_NOT_FOUND"))?;
    store::delete_organization(db, &org.id).await?;
    ctx.forget_cached_sessions(None);
    Ok(AuthResponse::json(&org.json()))
}

pub(crate) async fn list(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let orgs = store::organizations_of(ctx.database(), &session.user.id).await?;
    let answer: Vec<Value> = orgs.iter().map(Organization::json).collect();
    Ok(AuthResponse::json(&answer))
}

/// The organization a read names (by slug, by id, else the active one) and
/// the caller's membership of it; `None` when none is named and none is
/// active. A non-member, or an organization that does not exist, is 403
/// `USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION` and clears the session's
/// active organization, so the answer says nothing of the organization.
async fn named_for_member(
    ctx: &AuthContext,
    session: &ResolvedSession,
    id: Option<&str>,
    slug: Option<&str>,
) -> Result<Option<(Organization, Member)>> {
    let db = ctx.database();
    let org = match (slug, id) {
        (Some(slug), _) => store::organization_by_slug(db, slug).await?,
        (None, Some(id)) => store::organization(db, id).await?,
        (None, None) => match active(session) {
            Some(id) => store::organization(db, &id).await?,
            None => return Ok(None),
        },
    };
    let member = match &org {
        Some(org) => store::member_of(db, &org.id, &session.user.id).await?,
        None => None,
    };
    match (org, member) {
        (Some(org), Some(member)) => Ok(Some((org, member))),
        _ => {
            set_active_organization(ctx, session, None).await?;
            Err(forbidden("USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION"))
        }
    }
}

pub(crate) async fn get_organization(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let found = named_for_member(
        ctx,
        &session,
        request.query("organizationId"),
        request.query("organizationSlug"),
    )
    .await?;
    Ok(AuthResponse::json(&found.map(|(org, _)| org.json())))
}

/// Invitations a member may see: none without `invitation:create`, and none
/// offering the creator role unless they hold it.
fn visible_invitations(ctx: &AuthContext, member: &Member, all: Vec<Invitation>) -> Vec<Value> {
    if !allowed(ctx, member, "invitation", "create") {
        return Vec::new();
    }
    let creator = is_creator(&member.role);
    all.iter()
        .filter(|i| creator || !i.role.as_deref().is_some_and(is_creator))
        .map(|i| i.json(teams_on(ctx)))
        .collect()
}

pub(crate) async fn get_full_organization(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let limit = match request.query("membersLimit") {
        Some(l) => l
            .parse::<u32>()
            .map_err(|_| invalid("membersLimit is a number"))?,
        None => 0,
    };
    // 0, as none, is the membership limit.
    let limit = if limit == 0 {
        settings(ctx).membership_limit
    } else {
        limit
    };
    let Some((org, member)) = named_for_member(
        ctx,
        &session,
        request.query("organizationId"),
        request.query("organizationSlug"),
    )
    .await?
    else {
        return Ok(AuthResponse::json(&Value::Null));
    };
    let db = ctx.database();
    let query = MemberQuery {
        limit: limit.min(10_000),
        ..MemberQuery::default()
    };
    let (members, _) = store::list_members(db, &org.id, &query).await?;
    let invitations = store::invitations_of(db, &org.id).await?;
    let mut answer = org.json();
    answer["members"] = members.iter().map(Member::json_with_user).collect();
    answer["invitations"] = visible_invitations(ctx, &member, invitations).into();
    if teams_on(ctx) {
        let teams = store::teams_of(db, &org.id).await?;
        answer["teams"] = teams.iter().map(store::Team::json).collect();
    }
    Ok(AuthResponse::json(&answer))
}

/// `set-active`'s body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SetActiveBody {
    /// The organization, or `null` to clear the active one.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    organization_id: Field<String>,
    /// The organization's slug (when no id is given).
    organization_slug: Option<String>,
}

pub(crate) async fn set_active(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let body: SetActiveBody = if request.body.is_empty() {
        SetActiveBody {
            organization_id: Field::Absent,
            organization_slug: None,
        }
    } else {
        request.json()?
    };
    let id = match body.organization_id {
        Field::Null => {
            if active(&session).is_some() {
                set_active_organization(ctx, &session, None).await?;
            }
            return Ok(AuthResponse::json(&Value::Null));
        }
        Field::Set(id) => Some(id),
        Field::Absent => None,
    };
    if id.is_none() && body.organization_slug.is_none() && active(&session).is_none() {
        return Ok(AuthResponse::json(&Value::Null));
    }
    let slug = if id.is_some() {
        None
    } else {
        body.organization_slug.as_deref()
    };
    let found = named_for_member(ctx, &session, id.as_deref(), slug).await?;
    let Some((org, _)) = found else {
        return Ok(AuthResponse::json(&Value::Null));
    };
    set_active_organization(ctx, &session, Some(&org.id)).await?;
    Ok(AuthResponse::json(&org.json()))
}

// Members.

/// `remove-member`'s body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RemoveMemberBody {
    /// The member's id, or their user's email.
    member_id_or_email: String,
    /// The organization (the active one without it).
    organization_id: Option<String>,
}

pub(crate) async fn remove_member(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let body: RemoveMemberBody = request.json()?;
    let org_id = body
        .organization_id
        .or_else(|| active(&session))
        .ok_or_else(|| bad("NO_ACTIVE_ORGANIZATION"))?;
    let db = ctx.database();
    let me = store::member_of(db, &org_id, &session.user.id)
        .await?
        .ok_or_else(|| bad("MEMBER_NOT_FOUND"))?;
    let by_email = body.member_id_or_email.contains('@');
    let target = if by_email {
        store::member_by_email(db, &org_id, &body.member_id_or_email).await?
    } else {
        store::member_by_id(db, &org_id, &body.member_id_or_email).await?
    }
    .ok_or_else(|| bad("MEMBER_NOT_FOUND"))?;
    if is_creator(&target.role) && (!is_creator(&me.role) || owners(ctx, &org_id).await? <= 1) {
        return Err(bad("YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER"));
    }
    if !allowed(ctx, &me, "member", "delete") {
        return Err(fail(
            StatusCode::UNAUTHORIZED,
            "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_MEMBER",
        ));
    }
    if !store::delete_member(db, &target).await? {
        return Err(bad("YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER"));
    }
    ctx.forget_cached_sessions(None);
    let member = if by_email {
        target.json_with_user()
    } else {
        target.json()
    };
    Ok(AuthResponse::json(&json!({ "member": member })))
}

/// `update-member-role`'s body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateRoleBody {
    /// The new role(s).
    role: Roles,
    /// The member.
    member_id: String,
    /// The organization (the active one without it).
    organization_id: Option<String>,
}

pub(crate) async fn update_member_role(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let body: UpdateRoleBody = request.json()?;
    let roles = body.role.list();
    if roles.is_empty() {
        return Err(invalid("role is required"));
    }
    let org_id = body
        .organization_id
        .or_else(|| active(&session))
        .ok_or_else(|| bad("NO_ACTIVE_ORGANIZATION"))?;
    let db = ctx.database();
    let me = store::member_of(db, &org_id, &session.user.id)
        .await?
        .ok_or_else(|| bad("MEMBER_NOT_FOUND"))?;
    let target = if me.id == body.member_id {
        me.clone()
    } else {
        store::member_by_id(db, &org_id, &body.member_id)
            .await?
            .ok_or_else(|| bad("MEMBER_NOT_FOUND"))?
    };
    let updater_is_creator = is_creator(&me.role);
    let setting_creator = roles.iter().any(|r| r == CREATOR_ROLE);
    if (is_creator(&target.role) || setting_creator) && !updater_is_creator {
        return Err(forbidden("YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER"));
    }
    if updater_is_creator
        && me.id == target.id
        && !setting_creator
        && owners(ctx, &org_id).await? <= 1
    {
        return Err(bad("YOU_CANNOT_LEAVE_THE_ORGANIZATION_WITHOUT_AN_OWNER"));
    }
    if !updater_is_creator && !allowed(ctx, &me, "member", "update") {
        return Err(forbidden("YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER"));
    }
    check_roles(ctx, &roles)?;
    let role = roles.join(",");
    if !store::set_member_role(db, &org_id, &target.id, &role).await? {
        return Err(bad("YOU_CANNOT_LEAVE_THE_ORGANIZATION_WITHOUT_AN_OWNER"));
    }
    let mut updated = target;
    updated.role = role;
    Ok(AuthResponse::json(&updated.json()))
}

/// The organization a member route names: by slug, by id, else the active
/// one. An unknown slug is answered as a non-member's request is, 403
/// `YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION`.
async fn member_route_organization(
    ctx: &AuthContext,
    session: &ResolvedSession,
    request: &AuthRequest,
) -> Result<(String, Member)> {
    let db = ctx.database();
    let org_id = match request.query("organizationSlug") {
        Some(slug) => Some(
            store::organization_by_slug(db, slug)
                .await?
                .ok_or_else(|| forbidden("YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION"))?
                .id,
        ),
        None => request
            .query("organizationId")
            .map(str::to_owned)
            .or_else(|| active(session)),
    }
    .ok_or_else(|| bad("NO_ACTIVE_ORGANIZATION"))?;
    let me = store::member_of(db, &org_id, &session.user.id)
        .await?
        .ok_or_else(|| forbidden("YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION"))?;
    Ok((org_id, me))
}

/// The columns of `member` list-members sorts and filters by.
fn member_column(name: &str) -> Result<&'static str> {
    Ok(match name {
        "id" => "id",
        "userId" => "userId",
        "role" => "role",
        "createdAt" => "createdAt",
        "organizationId" => "organizationId",
        _ => return Err(invalid("unknown member field")),
    })
}

pub(crate) async fn list_members(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let (org_id, _) = member_route_organization(ctx, &session, &request).await?;
    let number = |name: &str| -> Result<Option<u32>> {
        request
            .query(name)
            .map(|v| {
                v.parse::<u32>()
                    .map_err(|_| invalid(&format!("{name} is a number")))
            })
            .transpose()
    };
    let mut query = MemberQuery {
        limit: number("limit")?
            .filter(|&l| l > 0)
            .unwrap_or(settings(ctx).membership_limit)
            .min(10_000),
        offset: number("offset")?.unwrap_or(0),
        ..MemberQuery::default()
    };
    query.sort_by = request.query("sortBy").map(member_column).transpose()?;
    query.descending = match request.query("sortDirection").unwrap_or("asc") {
        "asc" => false,
        "desc" => true,
        _ => return Err(invalid("sortDirection is asc or desc")),
    };
    if let Some(field) = request.query("filterField") {
        let equal = match request.query("filterOperator").unwrap_or("eq") {
            "eq" => true,
            "ne" => false,
            _ => return Err(invalid("filterOperator is eq or ne")),
        };
        let value = request.query("filterValue").unwrap_or("");
        // Text columns only: a value is compared as text.
        let column = member_column(field).and_then(|c| match c {
            "createdAt" => Err(invalid("createdAt is not a filter field")),
            c => Ok(c),
        })?;
        query.filter = Some((column, value, equal));
    }
    let (members, total) = store::list_members(ctx.database(), &org_id, &query).await?;
    let members: Vec<Value> = members.iter().map(Member::json_with_user).collect();
    Ok(AuthResponse::json(
        &json!({ "members": members, "total": total }),
    ))
}

pub(crate) async fn get_active_member(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let org_id = active(&session).ok_or_else(|| bad("NO_ACTIVE_ORGANIZATION"))?;
    let member = store::member_of(ctx.database(), &org_id, &session.user.id)
        .await?
        .ok_or_else(|| bad("MEMBER_NOT_FOUND"))?;
    Ok(AuthResponse::json(&member.json_with_user()))
}

pub(crate) async fn get_active_member_role(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let (org_id, me) = member_route_organization(ctx, &session, &request).await?;
    let role = match request.query("userId") {
        None => me.role,
        Some(user_id) => {
            store::member_of(ctx.database(), &org_id, user_id)
                .await?
                .ok_or_else(|| forbidden("YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION"))?
                .role
        }
    };
    Ok(AuthResponse::json(&json!({ "role": role })))
}

pub(crate) async fn leave(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let body: OrganizationIdBody = request.json()?;
    let member = store::member_of(ctx.database(), &body.organization_id, &session.user.id)
        .await?
        .ok_or_else(|| bad("MEMBER_NOT_FOUND"))?;
    if is_creator(&member.role) && owners(ctx, &body.organization_id).await? <= 1 {
        return Err(bad("YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER"));
    }
    if !store::delete_member(ctx.database(), &member).await? {
        return Err(bad("YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER"));
    }
    ctx.forget_cached_sessions(None);
    Ok(AuthResponse::json(&member.json_with_user()))
}

// Invitations.

/// `invite-member`'s body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InviteBody {
    /// The address to invite.
    #[schema(format = Email, max_length = 254)]
    email: String,
    /// The role(s) the invitation offers.
    role: Roles,
    /// The organization (the active one without it).
    organization_id: Option<String>,
    /// Send a pending invitation again (and extend it) instead of refusing.
    resend: Option<bool>,
    /// With teams on: the team (or teams) accepting adds the user to.
    #[schema(value_type = Option<Object>)]
    team_id: Option<TeamIds>,
}

/// A team id or a list of them.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum TeamIds {
    /// One team.
    One(String),
    /// Several.
    Many(Vec<String>),
}

/// Emails an invitation (in the background) when the instance sends them.
fn send_invitation(ctx: &AuthContext, invitation: &Invitation, org: &Organization, inviter: &str) {
    let plugin = settings(ctx);
    if !plugin.send_invitations {
        return;
    }
    let prefix = plugin.invitation_url.clone().unwrap_or_else(|| {
        format!(
            "{}/accept-invitation/",
            ctx.config().base_origin().trim_end_matches('/')
        )
    });
    let url = format!("{prefix}{}", invitation.id);
    let role = invitation.role.clone().unwrap_or_default();
    let email = Email::link(
        EmailKind::Other("organization-invitation"),
        &invitation.email,
        &format!("You are invited to join {}", org.name),
        &format!(
            "accept {inviter}'s invitation to join {} as {role}",
            org.name
        ),
        &url,
    );
    let detached = ctx.detached();
    ctx.spawn_background("organization invitation email", async move {
        detached.send_email(email).await
    });
}

pub(crate) async fn invite_member(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let body: InviteBody = request.json()?;
    let org_id = body
        .organization_id
        .or_else(|| active(&session))
        .ok_or_else(|| bad("ORGANIZATION_NOT_FOUND"))?;
    let email = normalize_email(&body.email).map_err(|_| bad("INVALID_EMAIL"))?;
    let db = ctx.database();
    let me = store::member_of(db, &org_id, &session.user.id)
        .await?
        .ok_or_else(|| bad("MEMBER_NOT_FOUND"))?;
    if !allowed(ctx, &me, "invitation", "create") {
        return Err(forbidden(
            "YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION",
        ));
    }
    let roles = body.role.list();
    check_roles(ctx, &roles)?;
    let inviter_is_creator = is_creator(&me.role);
    if !inviter_is_creator && roles.iter().any(|r| r == CREATOR_ROLE) {
        return Err(forbidden(
            "YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE",
        ));
    }
    if store::member_by_email(db, &org_id, &email).await?.is_some() {
        return Err(bad("USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION"));
    }
    let now = ctx.now();
    let open: Vec<Invitation> = store::invitations_of(db, &org_id)
        .await?
        .into_iter()
        .filter(|i| i.is_open(now))
        .collect();
    let already = open.iter().find(|i| i.email.eq_ignore_ascii_case(&email));
    let plugin = settings(ctx);
    let resend = body.resend == Some(true);
    if already.is_some() && !resend && !plugin.cancel_pending_on_reinvite {
        return Err(bad("USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION"));
    }
    let org = store::organization(db, &org_id)
        .await?
        .ok_or_else(|| bad("ORGANIZATION_NOT_FOUND"))?;
    let lifetime = chrono::Duration::from_std(plugin.invitation_lifetime)
        .unwrap_or_else(|_| chrono::Duration::hours(48));
    let expires_at = Timestamp::new(now + lifetime);
    if let (Some(existing), true) = (already, resend) {
        if !inviter_is_creator && existing.role.as_deref().is_some_and(is_creator) {
            return Err(forbidden(
                "YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE",
            ));
        }
        store::set_invitation_expiry(db, &existing.id, expires_at).await?;
        let mut updated = existing.clone();
        updated.expires_at = expires_at;
        send_invitation(ctx, &updated, &org, &session.user.email);
        return Ok(AuthResponse::json(&updated.json(teams_on(ctx))));
    }
    let team_ids: Vec<String> = match body.team_id {
        Some(_) if !plugin.teams => Vec::new(),
        Some(TeamIds::One(id)) => vec![id],
        Some(TeamIds::Many(ids)) => ids,
        None => Vec::new(),
    };
    for id in &team_ids {
        if id.contains(',') {
            return Err(bad("INVALID_TEAM_ID"));
        }
        let team = store::team_in(db, &org.id, id)
            .await?
            .ok_or_else(|| bad("TEAM_NOT_FOUND"))?;
        if let Some(limit) = plugin.maximum_members_per_team {
            if store::team_members(db, &team.id).await?.len() >= limit as usize {
                return Err(forbidden("TEAM_MEMBER_LIMIT_REACHED"));
            }
        }
    }
    let mut still_open = open.len();
    if let Some(existing) = already {
        store::set_invitation_status(db, &existing.id, PENDING, "canceled").await?;
        still_open -= 1;
    }
    if still_open >= plugin.invitation_limit as usize {
        return Err(forbidden("INVITATION_LIMIT_REACHED"));
    }
    let invitation = Invitation {
        id: store::new_id(),
        organization_id: org_id,
        email,
        role: Some(roles.join(",")),
        status: PENDING.to_owned(),
        expires_at,
        created_at: Timestamp::new(now),
        inviter_id: session.user.id.clone(),
        team_id: (!team_ids.is_empty()).then(|| team_ids.join(",")),
    };
    store::insert_invitation(db, &invitation).await?;
    send_invitation(ctx, &invitation, &org, &session.user.email);
    Ok(AuthResponse::json(&invitation.json(teams_on(ctx))))
}

/// A body naming an invitation.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InvitationIdBody {
    /// The invitation's id.
    invitation_id: String,
}

/// The invitation, if it is addressed to the signed-in user: 403
/// `YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION` otherwise, and
/// `verification_code` when the instance wants a verified address and the
/// user's is not.
fn for_recipient(
    ctx: &AuthContext,
    session: &ResolvedSession,
    invitation: &Invitation,
    verification_code: &'static str,
) -> Result<()> {
    if !invitation.email.eq_ignore_ascii_case(&session.user.email) {
        return Err(forbidden("YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION"));
    }
    if settings(ctx).verified_email_for_invitations && !session.user.email_verified {
        return Err(forbidden(verification_code));
    }
    Ok(())
}

pub(crate) async fn accept_invitation(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let body: InvitationIdBody = request.json()?;
    let db = ctx.database();
    let now = ctx.now();
    let mut invitation = store::invitation(db, &body.invitation_id)
        .await?
        .filter(|i| i.is_open(now))
        .ok_or_else(|| bad("INVITATION_NOT_FOUND"))?;
    for_recipient(
        ctx,
        &session,
        &invitation,
        "EMAIL_VERIFICATION_REQUIRED_BEFORE_ACCEPTING_OR_REJECTING_INVITATION",
    )?;
    let count = store::count_members(db, &invitation.organization_id).await?;
    if count >= i64::from(settings(ctx).membership_limit) {
        return Err(forbidden("ORGANIZATION_MEMBERSHIP_LIMIT_REACHED"));
    }
    store::organization(db, &invitation.organization_id)
        .await?
        .ok_or_else(|| bad("ORGANIZATION_NOT_FOUND"))?;
    let role = invitation
        .role
        .clone()
        .unwrap_or_else(|| "member".to_owned());
    let role = parse_role_list(&role).join(",");
    let member_id = store::new_id();
    let created = Timestamp::new(now);
    match store::accept_invitation(
        db,
        &invitation.id,
        &member_id,
        &invitation.organization_id,
        &session.user.id,
        &role,
        settings(ctx).membership_limit,
        created,
    )
    .await?
    {
        Accepted::Done => {}
        Accepted::Full => return Err(forbidden("ORGANIZATION_MEMBERSHIP_LIMIT_REACHED")),
        Accepted::NotPending => return Err(bad("INVITATION_NOT_FOUND")),
        Accepted::AlreadyMember => {
            return Err(bad("USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION"));
        }
    }
    if teams_on(ctx) {
        let ids: Vec<&str> = invitation
            .team_id
            .as_deref()
            .map(|t| t.split(',').filter(|t| !t.is_empty()).collect())
            .unwrap_or_default();
        let limit = settings(ctx).maximum_members_per_team;
        let mut joined = Vec::new();
        for id in &ids {
            // Teams removed since the invitation was sent are skipped.
            if store::team_in(db, &invitation.organization_id, id)
                .await?
                .is_some()
                && store::add_team_member(db, id, &session.user.id, limit, created)
                    .await?
                    .is_some()
            {
                joined.push(*id);
            }
        }
        if let [only] = ids.as_slice() {
            if joined.contains(only) {
                set_active_team_of(ctx, &session, Some(only)).await?;
            }
        }
    }
    set_active_organization(ctx, &session, Some(&invitation.organization_id)).await?;
    invitation.status = "accepted".to_owned();
    let member = json!({
        "id": member_id,
        "organizationId": invitation.organization_id,
        "userId": session.user.id,
        "role": role,
        "createdAt": store::iso(created),
    });
    Ok(AuthResponse::json(
        &json!({ "invitation": invitation.json(teams_on(ctx)), "member": member }),
    ))
}

pub(crate) async fn reject_invitation(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let body: InvitationIdBody = request.json()?;
    let db = ctx.database();
    let not_found = || {
        Error::plugin(
            StatusCode::BAD_REQUEST,
            "INVITATION_NOT_FOUND",
            "Invitation not found!",
        )
    };
    let mut invitation = store::invitation(db, &body.invitation_id)
        .await?
        .filter(|i| i.status == PENDING)
        .ok_or_else(not_found)?;
    for_recipient(
        ctx,
        &session,
        &invitation,
        "EMAIL_VERIFICATION_REQUIRED_BEFORE_ACCEPTING_OR_REJECTING_INVITATION",
    )?;
    if !store::set_invitation_status(db, &invitation.id, PENDING, "rejected").await? {
        return Err(not_found());
    }
    invitation.status = "rejected".to_owned();
    Ok(AuthResponse::json(
        &json!({ "invitation": invitation.json(teams_on(ctx)), "member": null }),
    ))
}

pub(crate) async fn cancel_invitation(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let body: InvitationIdBody = request.json()?;
    let db = ctx.database();
    let mut invitation = store::invitation(db, &body.invitation_id)
        .await?
        .ok_or_else(|| bad("INVITATION_NOT_FOUND"))?;
    // Another organization's invitation reads as none.
    let me = store::member_of(db, &invitation.organization_id, &session.user.id)
        .await?
        .ok_or_else(|| bad("INVITATION_NOT_FOUND"))?;
    if !allowed(ctx, &me, "invitation", "cancel") {
        return Err(forbidden("YOU_ARE_NOT_ALLOWED_TO_CANCEL_THIS_INVITATION"));
    }
    if !store::set_invitation_status(db, &invitation.id, PENDING, "canceled").await? {
        return Err(bad("INVITATION_NOT_FOUND"));
    }
    invitation.status = "canceled".to_owned();
    Ok(AuthResponse::json(&invitation.json(teams_on(ctx))))
}

pub(crate) async fn get_invitation(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let id = request
        .query("id")
        .ok_or_else(|| invalid("id is required"))?;
    let db = ctx.database();
    let invitation = store::invitation(db, id)
        .await?
        .filter(|i| i.is_open(ctx.now()))
        .ok_or_else(|| bad("INVITATION_NOT_FOUND"))?;
    for_recipient(
        ctx,
        &session,
        &invitation,
        "EMAIL_VERIFICATION_REQUIRED_FOR_INVITATION",
    )?;
    let org = store::organization(db, &invitation.organization_id)
        .await?
        .ok_or_else(|| bad("ORGANIZATION_NOT_FOUND"))?;
    let inviter = store::member_of(db, &org.id, &invitation.inviter_id)
        .await?
        .ok_or_else(|| bad("INVITER_IS_NO_LONGER_A_MEMBER_OF_THE_ORGANIZATION"))?;
    let mut answer = invitation.json(teams_on(ctx));
    answer["organizationName"] = org.name.into();
    answer["organizationSlug"] = org.slug.into();
    answer["inviterEmail"] = inviter.user_email.into();
    Ok(AuthResponse::json(&answer))
}

pub(crate) async fn list_invitations(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let org_id = request
        .query("organizationId")
        .map(str::to_owned)
        .or_else(|| active(&session))
        .ok_or_else(|| {
            Error::plugin(
                StatusCode::BAD_REQUEST,
                "ORGANIZATION_ID_IS_REQUIRED",
                "Organization ID is required",
            )
        })?;
    let db = ctx.database();
    let me = store::member_of(db, &org_id, &session.user.id)
        .await?
        .ok_or_else(|| forbidden("YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION"))?;
    if !allowed(ctx, &me, "invitation", "create") {
        return Err(forbidden("YOU_ARE_NOT_ALLOWED_TO_LIST_INVITATIONS"));
    }
    let all = store::invitations_of(db, &org_id).await?;
    Ok(AuthResponse::json(&visible_invitations(ctx, &me, all)))
}

pub(crate) async fn list_user_invitations(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    if request.query("email").is_some() {
        return Err(Error::plugin(
            StatusCode::BAD_REQUEST,
            "USER_EMAIL_CANNOT_BE_PASSED_FOR_CLIENT_SIDE_API_CALLS",
            "User email cannot be passed for client side API calls.",
        ));
    }
    if !session.user.email_verified {
        return Err(forbidden("EMAIL_VERIFICATION_REQUIRED_FOR_INVITATION"));
    }
    let found = store::pending_invitations_to(ctx.database(), &session.user.email).await?;
    let answer: Vec<Value> = found
        .into_iter()
        .map(|(invitation, name)| {
            let mut value = invitation.json(teams_on(ctx));
            value["organizationName"] = name.into();
            value
        })
        .collect();
    Ok(AuthResponse::json(&answer))
}

// Permissions.

/// `has-permission`'s body: `permissions` (or the deprecated `permission`,
/// which Better Auth 1.7 accepts and grants nothing with), not both.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HasPermissionBody {
    /// The organization (the active one without it).
    organization_id: Option<String>,
    /// Resource → actions, all of which must be allowed.
    #[schema(value_type = Option<Object>)]
    permissions: Option<Permissions>,
    /// Deprecated: accepted, and allows nothing.
    #[schema(value_type = Option<Object>, deprecated)]
    permission: Option<Permissions>,
}

/// `{"error": null, "success": bool}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct PermissionAnswer {
    #[schema(value_type = Option<String>)]
    error: Option<String>,
    success: bool,
}

pub(crate) async fn has_permission(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let body: HasPermissionBody = request.json()?;
    if body.permissions.is_some() == body.permission.is_some() {
        return Err(invalid("either permissions or permission is required"));
    }
    let org_id = body
        .organization_id
        .or_else(|| active(&session))
        .ok_or_else(|| bad("NO_ACTIVE_ORGANIZATION"))?;
    let member = store::member_of(ctx.database(), &org_id, &session.user.id)
        .await?
        .ok_or_else(|| {
            fail(
                StatusCode::UNAUTHORIZED,
                "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION",
            )
        })?;
    let success = body
        .permissions
        .is_some_and(|p| settings(ctx).has_permission(&member.role, &p));
    Ok(AuthResponse::json(&PermissionAnswer {
        error: None,
        success,
    }))
}
