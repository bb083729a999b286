//! The team routes (Better Auth's `teams` option). As the organization
//! routes, each reads the caller's membership of the organization first: a
//! team of an organization the caller is not a member of is answered as one
//! that does not exist.

use better_auth::http::StatusCode;
use better_auth::store::Timestamp;
use better_auth::{AuthContext, AuthRequest, AuthResponse, Result};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{
    Field, MAX_TEXT, active, active_team, allowed, bad, check_input, check_text, fail, forbidden,
    set_active_team_of, settings,
};
use crate::store::{self, Member, Team};

/// Stores a new team of an organization.
pub(crate) async fn new_team(ctx: &AuthContext, org_id: &str, name: &str) -> Result<Team> {
    let now = Timestamp::new(ctx.now());
    let team = Team {
        id: store::new_id(),
        name: name.to_owned(),
        organization_id: org_id.to_owned(),
        created_at: now,
        updated_at: Some(now),
    };
    store::insert_team(ctx.database(), &team).await?;
    Ok(team)
}

/// The organization a team route names (else the active one) and the
/// caller's membership of it; `refusal` for a non-member (or an organization
/// that does not exist).
async fn organization_member(
    ctx: &AuthContext,
    request: &AuthRequest,
    named: Option<String>,
    refusal: fn() -> better_auth::Error,
) -> Result<(String, Member)> {
    let session = ctx.require_session(request).await?;
    let org_id = named
        .or_else(|| active(&session))
        .ok_or_else(|| bad("NO_ACTIVE_ORGANIZATION"))?;
    let member = store::member_of(ctx.database(), &org_id, &session.user.id)
        .await?
        .ok_or_else(refusal)?;
    Ok((org_id, member))
}

/// `create-team`'s body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateTeamBody {
    /// The team's name.
    #[schema(min_length = 1, max_length = 255)]
    name: String,
    /// The organization (the active one without it).
    organization_id: Option<String>,
}

pub(crate) async fn create_team(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    check_input(&request)?;
    let body: CreateTeamBody = request.json()?;
    check_text("name", &body.name, MAX_TEXT)?;
    let (org_id, me) = organization_member(ctx, &request, body.organization_id, || {
        forbidden("YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION")
    })
    .await?;
    if !allowed(ctx, &me, "team", "create") {
        return Err(forbidden(
            "YOU_ARE_NOT_ALLOWED_TO_CREATE_TEAMS_IN_THIS_ORGANIZATION",
        ));
    }
    if let Some(limit) = settings(ctx).maximum_teams {
        if store::teams_of(ctx.database(), &org_id).await?.len() >= limit as usize {
            return Err(bad("YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_TEAMS"));
        }
    }
    let team = new_team(ctx, &org_id, &body.name).await?;
    Ok(AuthResponse::json(&team.json()))
}

pub(crate) async fn list_teams(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    check_input(&request)?;
    let named = request.query("organizationId").map(str::to_owned);
    let (org_id, _) = organization_member(ctx, &request, named, || {
        forbidden("YOU_ARE_NOT_ALLOWED_TO_ACCESS_THIS_ORGANIZATION")
    })
    .await?;
    let teams = store::teams_of(ctx.database(), &org_id).await?;
    let answer: Vec<Value> = teams.iter().map(Team::json).collect();
    Ok(AuthResponse::json(&answer))
}

/// What `update-team` changes.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TeamData {
    /// A new name.
    #[schema(min_length = 1, max_length = 255)]
    name: Option<String>,
    /// The team's organization (the active one without it).
    organization_id: Option<String>,
}

/// `update-team`'s body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateTeamBody {
    /// The team.
    team_id: String,
    data: TeamData,
}

pub(crate) async fn update_team(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    check_input(&request)?;
    let body: UpdateTeamBody = request.json()?;
    let refusal = || forbidden("YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_TEAM");
    let (org_id, me) =
        organization_member(ctx, &request, body.data.organization_id, refusal).await?;
    if !allowed(ctx, &me, "team", "update") {
        return Err(refusal());
    }
    let mut team = store::team_in(ctx.database(), &org_id, &body.team_id)
        .await?
        .ok_or_else(|| bad("TEAM_NOT_FOUND"))?;
    if let Some(name) = body.data.name {
        check_text("name", &name, MAX_TEXT)?;
        team.name = name;
    }
    team.updated_at = Some(Timestamp::new(ctx.now()));
    store::update_team(ctx.database(), &team).await?;
    Ok(AuthResponse::json(&team.json()))
}

/// A body naming a team.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TeamIdBody {
    /// The team.
    team_id: String,
    /// Its organization (the active one without it).
    organization_id: Option<String>,
}

pub(crate) async fn remove_team(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let body: TeamIdBody = request.json()?;
    let refusal = || forbidden("YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_TEAM");
    let (org_id, me) = organization_member(ctx, &request, body.organization_id, refusal).await?;
    // As Better Auth: not the team the caller is working in.
    if active_team(&session).as_deref() == Some(body.team_id.as_str()) {
        return Err(refusal());
    }
    if !allowed(ctx, &me, "team", "delete") {
        return Err(forbidden(
            "YOU_ARE_NOT_ALLOWED_TO_DELETE_TEAMS_IN_THIS_ORGANIZATION",
        ));
    }
    let db = ctx.database();
    let team = store::team_in(db, &org_id, &body.team_id)
        .await?
        .ok_or_else(|| bad("TEAM_NOT_FOUND"))?;
    if !settings(ctx).allow_removing_all_teams && store::teams_of(db, &org_id).await?.len() <= 1 {
        return Err(bad("UNABLE_TO_REMOVE_LAST_TEAM"));
    }
    // Pending invitations no longer add their user to the team.
    let invitations: Vec<(String, Option<String>)> = store::invitations_of(db, &org_id)
        .await?
        .into_iter()
        .filter(|i| i.status == store::PENDING)
        .filter_map(|i| {
            let ids: Vec<&str> = i.team_id.as_deref()?.split(',').collect();
            if !ids.contains(&team.id.as_str()) {
                return None;
            }
            let rest: Vec<&str> = ids.into_iter().filter(|t| *t != team.id).collect();
            Some((i.id.clone(), (!rest.is_empty()).then(|| rest.join(","))))
        })
        .collect();
    store::delete_team(db, &team.id, &invitations).await?;
    ctx.forget_cached_sessions(None);
    Ok(AuthResponse::json(
        &json!({ "message": "Team removed successfully." }),
    ))
}

/// `set-active-team`'s body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SetActiveTeamBody {
    /// The team, or `null` to clear the active one.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    team_id: Field<String>,
}

pub(crate) async fn set_active_team(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let body: SetActiveTeamBody = if request.body.is_empty() {
        SetActiveTeamBody {
            team_id: Field::Absent,
        }
    } else {
        request.json()?
    };
    let team_id = match body.team_id {
        Field::Null => {
            if active_team(&session).is_some() {
                set_active_team_of(ctx, &session, None).await?;
            }
            return Ok(AuthResponse::json(&Value::Null));
        }
        Field::Set(id) => id,
        Field::Absent => match active_team(&session) {
            Some(id) => id,
            None => return Ok(AuthResponse::json(&Value::Null)),
        },
    };
    let org_id = active(&session).ok_or_else(|| bad("NO_ACTIVE_ORGANIZATION"))?;
    let db = ctx.database();
    // The active organization is the caller's: a team of another reads as none.
    let team = match store::member_of(db, &org_id, &session.user.id).await? {
        Some(_) => store::team_in(db, &org_id, &team_id).await?,
        None => None,
    }
    .ok_or_else(|| bad("TEAM_NOT_FOUND"))?;
    if store::team_member(db, &team.id, &session.user.id)
        .await?
        .is_none()
    {
        return Err(forbidden("USER_IS_NOT_A_MEMBER_OF_THE_TEAM"));
    }
    set_active_team_of(ctx, &session, Some(&team.id)).await?;
    Ok(AuthResponse::json(&team.json()))
}

pub(crate) async fn list_user_teams(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let db = ctx.database();
    let target = request
        .query("userId")
        .unwrap_or(&session.user.id)
        .to_owned();
    let explicit = request.query("organizationId").map(str::to_owned);
    let not_member = || forbidden("YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION");
    let teams = if target != session.user.id {
        let org_id = explicit
            .or_else(|| active(&session))
            .ok_or_else(|| bad("NO_ACTIVE_ORGANIZATION"))?;
        let me = store::member_of(db, &org_id, &session.user.id)
            .await?
            .ok_or_else(not_member)?;
        if !allowed(ctx, &me, "member", "update") {
            return Err(forbidden("YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER"));
        }
        store::member_of(db, &org_id, &target)
            .await?
            .ok_or_else(|| bad("USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION"))?;
        let all = store::teams_of_user(db, &target).await?;
        all.into_iter()
            .filter(|t| t.organization_id == org_id)
            .collect()
    } else if let Some(org_id) = explicit {
        store::member_of(db, &org_id, &session.user.id)
            .await?
            .ok_or_else(not_member)?;
        let all = store::teams_of_user(db, &target).await?;
        all.into_iter()
            .filter(|t| t.organization_id == org_id)
            .collect()
    } else {
        let mine: Vec<String> = store::organizations_of(db, &target)
            .await?
            .into_iter()
            .map(|o| o.id)
            .collect();
        let all = store::teams_of_user(db, &target).await?;
        all.into_iter()
            .filter(|t| mine.contains(&t.organization_id))
            .collect::<Vec<_>>()
    };
    let answer: Vec<Value> = teams.iter().map(Team::json).collect();
    Ok(AuthResponse::json(&answer))
}

pub(crate) async fn list_team_members(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    check_input(&request)?;
    let session = ctx.require_session(&request).await?;
    let team_id = request
        .query("teamId")
        .map(str::to_owned)
        .or_else(|| active_team(&session))
        .ok_or_else(|| bad("YOU_DO_NOT_HAVE_AN_ACTIVE_TEAM"))?;
    let db = ctx.database();
    // A team of an organization the caller is not in reads as none.
    let team = match store::team(db, &team_id).await? {
        Some(team)
            if store::member_of(db, &team.organization_id, &session.user.id)
                .await?
                .is_some() =>
        {
            team
        }
        _ => return Err(bad("TEAM_NOT_FOUND")),
    };
    if store::team_member(db, &team.id, &session.user.id)
        .await?
        .is_none()
    {
        return Err(bad("USER_IS_NOT_A_MEMBER_OF_THE_TEAM"));
    }
    let members = store::team_members(db, &team.id).await?;
    let answer: Vec<Value> = members.iter().map(store::TeamMember::json).collect();
    Ok(AuthResponse::json(&answer))
}

/// A body naming a team and a user.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TeamMemberBody {
    /// The team.
    team_id: String,
    /// The user (a member of the organization).
    user_id: String,
    /// The team's organization (the active one without it).
    organization_id: Option<String>,
}

/// The team a team-member route names and the caller's membership, checked
/// for `action` on members (refused with `refusal`); the named user must be
/// a member of the organization.
async fn team_for_change(
    ctx: &AuthContext,
    request: &AuthRequest,
    body: &TeamMemberBody,
    action: &str,
    refusal: &'static str,
) -> Result<Team> {
    let not_member = || bad("USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION");
    let (org_id, me) =
        organization_member(ctx, request, body.organization_id.clone(), not_member).await?;
    if !allowed(ctx, &me, "member", action) {
        return Err(forbidden(refusal));
    }
    let db = ctx.database();
    store::member_of(db, &org_id, &body.user_id)
        .await?
        .ok_or_else(not_member)?;
    store::team_in(db, &org_id, &body.team_id)
        .await?
        .ok_or_else(|| bad("TEAM_NOT_FOUND"))
}

pub(crate) async fn add_team_member(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    check_input(&request)?;
    let body: TeamMemberBody = request.json()?;
    let team = team_for_change(
        ctx,
        &request,
        &body,
        "update",
        "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_TEAM_MEMBER",
    )
    .await?;
    let limit = settings(ctx).maximum_members_per_team;
    let now = Timestamp::new(ctx.now());
    let added = store::add_team_member(ctx.database(), &team.id, &body.user_id, limit, now)
        .await?
        .ok_or_else(|| fail(StatusCode::FORBIDDEN, "TEAM_MEMBER_LIMIT_REACHED"))?;
    Ok(AuthResponse::json(&added.json()))
}

pub(crate) async fn remove_team_member(
    ctx: &AuthContext,
    request: AuthRequest,
) -> Result<AuthResponse> {
    check_input(&request)?;
    let body: TeamMemberBody = request.json()?;
    let team = team_for_change(
        ctx,
        &request,
        &body,
        "delete",
        "YOU_ARE_NOT_ALLOWED_TO_REMOVE_A_TEAM_MEMBER",
    )
    .await?;
    let db = ctx.database();
    if store::team_member(db, &team.id, &body.user_id)
        .await?
        .is_none()
    {
        return Err(bad("USER_IS_NOT_A_MEMBER_OF_THE_TEAM"));
    }
    store::remove_team_member(db, &team.id, &body.user_id).await?;
    ctx.forget_cached_sessions(None);
    Ok(AuthResponse::json(
        &json!({ "message": "Team member removed successfully." }),
    ))
}
