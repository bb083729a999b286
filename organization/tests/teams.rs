//! Teams through HTTP, on SQLite, PostgreSQL and MySQL (the organization plugin
//! with teams on): creating, listing, renaming and removing teams, their
//! members, the session's active team, invitations into teams, and S75 for
//! team ids.

use better_auth_organization::OrganizationPlugin;
use better_auth_test_support::browser::{Answer, Browser};
use better_auth_test_support::server::PluginServer;
use better_auth_test_support::{Backend, all_backends};
use serde_json::{Value, json};

mod common;
use common::*;

async fn on_server<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(PluginServer) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    on_server_with(backend, OrganizationPlugin::new().teams(true), body).await;
}

async fn active_team(browser: &mut Browser) -> Value {
    browser.get("/get-session").await.body["session"]["activeTeamId"].clone()
}

fn id(answer: &Answer) -> String {
    answer.body["id"].as_str().unwrap().to_owned()
}

all_backends!(
    team_routes_exist_only_with_teams_on,
    |backend: Backend| async move {
        on_server_with(
            backend,
            OrganizationPlugin::new(),
            |server: PluginServer| async move {
                let (mut owner, _) = user(&server, "owner@example.com").await;
                create(&mut owner, "acme").await;
                let none = owner
                    .post("/organization/create-team", json!({ "name": "Red" }))
                    .await;
                assert_eq!(none.status, 404, "{none:?}");
                let session = owner.get("/get-session").await;
                assert!(
                    session.body["session"].get("activeTeamId").is_none(),
                    "{session:?}"
                );
            },
        )
        .await;
    }
);

all_backends!(
    teams_are_created_joined_and_removed,
    on_server,
    |server: PluginServer| async move {
        let (mut owner, owner_id) = user(&server, "owner@example.com").await;
        let org = create(&mut owner, "acme").await;
        // The first team, named after the organization, with its creator in it.
        let teams = owner.get("/organization/list-teams").await;
        assert_eq!(teams.body.as_array().unwrap().len(), 1, "{teams:?}");
        assert_eq!(teams.body[0]["name"], "Org acme");
        let first = teams.body[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(active_team(&mut owner).await, first.as_str());
        let full = owner.get("/organization/get-full-organization").await;
        assert_eq!(full.body["teams"][0]["id"], first.as_str(), "{full:?}");

        let red = owner
            .post("/organization/create-team", json!({ "name": "Red" }))
            .await;
        assert_eq!(red.status, 200, "{red:?}");
        assert_eq!(red.body["organizationId"], org.as_str());
        let red = id(&red);
        let renamed = owner
            .post(
                "/organization/update-team",
                json!({ "teamId": red, "data": { "name": "Crimson" } }),
            )
            .await;
        assert_eq!(renamed.body["name"], "Crimson", "{renamed:?}");

        // A member is added to the team; they see it and its members.
        let (mut member, member_id, _) =
            join(&server, &mut owner, &org, "member@example.com", "member").await;
        let added = owner
            .post(
                "/organization/add-team-member",
                json!({ "teamId": red, "userId": member_id }),
            )
            .await;
        assert_eq!(added.status, 200, "{added:?}");
        assert_eq!(added.body["teamId"], red.as_str());
        let again = owner
            .post(
                "/organization/add-team-member",
                json!({ "teamId": red, "userId": member_id }),
            )
            .await;
        assert_eq!(again.body["id"], added.body["id"], "{again:?}");
        let mine = member.get("/organization/list-user-teams").await;
        assert_eq!(mine.body.as_array().unwrap().len(), 1, "{mine:?}");
        assert_eq!(mine.body[0]["id"], red.as_str());
        let theirs = owner
            .get(&format!("/organization/list-user-teams?userId={member_id}"))
            .await;
        assert_eq!(theirs.body[0]["id"], red.as_str(), "{theirs:?}");
        let members = member
            .get(&format!("/organization/list-team-members?teamId={red}"))
            .await;
        assert_eq!(members.body.as_array().unwrap().len(), 1, "{members:?}");
        assert_eq!(members.body[0]["userId"], member_id.as_str());
        let outside = owner
            .get(&format!("/organization/list-team-members?teamId={red}"))
            .await;
        assert_refused(
            &outside,
            400,
            "USER_IS_NOT_A_MEMBER_OF_THE_TEAM",
            "not in team",
        );
        let set = member
            .post("/organization/set-active-team", json!({ "teamId": red }))
            .await;
        assert_eq!(set.body["id"], red.as_str(), "{set:?}");
        assert_eq!(active_team(&mut member).await, red.as_str());
        let not_in = member
            .post("/organization/set-active-team", json!({ "teamId": first }))
            .await;
        assert_refused(
            &not_in,
            403,
            "USER_IS_NOT_A_MEMBER_OF_THE_TEAM",
            "set-active-team",
        );
        let removed = owner
            .post(
                "/organization/remove-team-member",
                json!({ "teamId": red, "userId": member_id }),
            )
            .await;
        assert_eq!(
            removed.body,
            json!({ "message": "Team member removed successfully." })
        );
        assert_eq!(active_team(&mut member).await, Value::Null);

        // An invitation into a team: accepting joins it and makes it active.
        let invited = owner
            .post(
                "/organization/invite-member",
                json!({ "email": "new@example.com", "role": "member", "teamId": red }),
            )
            .await;
        assert_eq!(invited.body["teamId"], red.as_str(), "{invited:?}");
        let (mut newcomer, _) = user(&server, "new@example.com").await;
        let accepted = newcomer
            .post(
                "/organization/accept-invitation",
                json!({ "invitationId": id(&invited) }),
            )
            .await;
        assert_eq!(accepted.status, 200, "{accepted:?}");
        assert_eq!(active_team(&mut newcomer).await, red.as_str());
        let bad_team = owner
            .post(
                "/organization/invite-member",
                json!({ "email": "x@example.com", "role": "member", "teamId": "a,b" }),
            )
            .await;
        assert_refused(&bad_team, 400, "INVALID_TEAM_ID", "comma");

        // Removing: not the caller's active team, not the last one.
        let busy = owner
            .post("/organization/remove-team", json!({ "teamId": first }))
            .await;
        assert_refused(
            &busy,
            403,
            "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_TEAM",
            "active team",
        );
        let gone = owner
            .post("/organization/remove-team", json!({ "teamId": red }))
            .await;
        assert_eq!(
            gone.body,
            json!({ "message": "Team removed successfully." })
        );
        assert_eq!(active_team(&mut newcomer).await, Value::Null);
        owner
            .post("/organization/set-active-team", json!({ "teamId": null }))
            .await;
        let last = owner
            .post("/organization/remove-team", json!({ "teamId": first }))
            .await;
        assert_refused(&last, 400, "UNABLE_TO_REMOVE_LAST_TEAM", "last team");
        // Leaving the organization leaves its teams.
        let left = owner
            .get(&format!("/organization/list-user-teams?userId={owner_id}"))
            .await;
        assert_eq!(left.body.as_array().unwrap().len(), 1, "{left:?}");
    }
);

// S75 for teams: a team of an organization the caller is not a member of
// reads as one that does not exist, and team changes need the permission
// Better Auth's do.
all_backends!(
    s75_teams_of_other_organizations_read_as_nonexistent,
    on_server,
    |server: PluginServer| async move {
        let (mut owner, _) = user(&server, "owner@example.com").await;
        let org = create(&mut owner, "acme").await;
        let team = id(&owner
            .post("/organization/create-team", json!({ "name": "Red" }))
            .await);
        let (mut member, member_id, _) =
            join(&server, &mut owner, &org, "member@example.com", "member").await;
        owner
            .post(
                "/organization/add-team-member",
                json!({ "teamId": team, "userId": member_id }),
            )
            .await;
        let (mut outsider, outsider_id) = user(&server, "outsider@example.com").await;
        let mine = create(&mut outsider, "mine").await;

        let missing = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let cases: Vec<(&str, String, Value, Value)> = vec![
            (
                "POST",
                "/organization/create-team".into(),
                json!({ "name": "x", "organizationId": org }),
                json!({ "name": "x", "organizationId": missing }),
            ),
            (
                "GET",
                format!("/organization/list-teams?organizationId={org}"),
                Value::Null,
                Value::Null,
            ),
            (
                "POST",
                "/organization/update-team".into(),
                json!({ "teamId": team, "data": { "name": "x", "organizationId": org } }),
                json!({ "teamId": missing, "data": { "name": "x", "organizationId": missing } }),
            ),
            (
                "POST",
                "/organization/update-team".into(),
                json!({ "teamId": team, "data": { "name": "x", "organizationId": mine } }),
                json!({ "teamId": missing, "data": { "name": "x", "organizationId": mine } }),
            ),
            (
                "POST",
                "/organization/remove-team".into(),
                json!({ "teamId": team, "organizationId": org }),
                json!({ "teamId": missing, "organizationId": missing }),
            ),
            (
                "POST",
                "/organization/remove-team".into(),
                json!({ "teamId": team, "organizationId": mine }),
                json!({ "teamId": missing, "organizationId": mine }),
            ),
            (
                "POST",
                "/organization/set-active-team".into(),
                json!({ "teamId": team }),
                json!({ "teamId": missing }),
            ),
            (
                "GET",
                format!("/organization/list-team-members?teamId={team}"),
                Value::Null,
                Value::Null,
            ),
            (
                "POST",
                "/organization/add-team-member".into(),
                json!({ "teamId": team, "userId": outsider_id, "organizationId": org }),
                json!({ "teamId": missing, "userId": outsider_id, "organizationId": missing }),
            ),
            (
                "POST",
                "/organization/add-team-member".into(),
                json!({ "teamId": team, "userId": outsider_id, "organizationId": mine }),
                json!({ "teamId": missing, "userId": outsider_id, "organizationId": mine }),
            ),
            (
                "POST",
                "/organization/remove-team-member".into(),
                json!({ "teamId": team, "userId": member_id, "organizationId": org }),
                json!({ "teamId": missing, "userId": missing, "organizationId": missing }),
            ),
            (
                "GET",
                format!("/organization/list-user-teams?userId={member_id}&organizationId={org}"),
                Value::Null,
                Value::Null,
            ),
            (
                "GET",
                format!("/organization/list-user-teams?organizationId={org}"),
                Value::Null,
                Value::Null,
            ),
            (
                "POST",
                "/organization/invite-member".into(),
                json!({ "email": "f@example.com", "role": "member", "teamId": team, "organizationId": mine }),
                json!({ "email": "f@example.com", "role": "member", "teamId": missing, "organizationId": mine }),
            ),
        ];
        for (method, path, real, none) in cases {
            let none_path = path
                .replace(&org, missing)
                .replace(&team, missing)
                .replace(&member_id, missing);
            let to_real = match method {
                "GET" => outsider.get(&path).await,
                _ => outsider.post(&path, real).await,
            };
            let to_none = match method {
                "GET" => outsider.get(&none_path).await,
                _ => outsider.post(&path, none).await,
            };
            assert!((400..500).contains(&to_real.status), "{path}: {to_real:?}");
            assert_eq!(
                (to_real.status, &to_real.body),
                (to_none.status, &to_none.body),
                "{path} answers another organization's team unlike an unknown one"
            );
        }
        // The team is as it was.
        let members = member
            .get(&format!("/organization/list-team-members?teamId={team}"))
            .await;
        assert_eq!(members.body.as_array().unwrap().len(), 1, "{members:?}");
        let teams = owner.get("/organization/list-teams").await;
        assert_eq!(teams.body.as_array().unwrap().len(), 2, "{teams:?}");
        assert!(
            teams
                .body
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["name"] == "Red")
        );

        // A member may change no team.
        let refused = [
            (
                member
                    .post("/organization/create-team", json!({ "name": "x" }))
                    .await,
                "YOU_ARE_NOT_ALLOWED_TO_CREATE_TEAMS_IN_THIS_ORGANIZATION",
            ),
            (
                member
                    .post(
                        "/organization/update-team",
                        json!({ "teamId": team, "data": { "name": "x" } }),
                    )
                    .await,
                "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_TEAM",
            ),
            (
                member
                    .post("/organization/remove-team", json!({ "teamId": team }))
                    .await,
                "YOU_ARE_NOT_ALLOWED_TO_DELETE_TEAMS_IN_THIS_ORGANIZATION",
            ),
            (
                member
                    .post(
                        "/organization/add-team-member",
                        json!({ "teamId": team, "userId": member_id }),
                    )
                    .await,
                "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_TEAM_MEMBER",
            ),
            (
                member
                    .post(
                        "/organization/remove-team-member",
                        json!({ "teamId": team, "userId": member_id }),
                    )
                    .await,
                "YOU_ARE_NOT_ALLOWED_TO_REMOVE_A_TEAM_MEMBER",
            ),
        ];
        for (answer, code) in &refused {
            assert_refused(answer, 403, code, code);
        }
    }
);

all_backends!(team_limits, |backend: Backend| async move {
    let plugin = OrganizationPlugin::new()
        .teams(true)
        .maximum_teams(2)
        .maximum_members_per_team(1);
    on_server_with(backend, plugin, |server: PluginServer| async move {
        let (mut owner, _) = user(&server, "owner@example.com").await;
        let org = create(&mut owner, "acme").await;
        let second = owner
            .post("/organization/create-team", json!({ "name": "Red" }))
            .await;
        assert_eq!(second.status, 200, "{second:?}");
        let third = owner
            .post("/organization/create-team", json!({ "name": "Blue" }))
            .await;
        assert_refused(
            &third,
            400,
            "YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_TEAMS",
            "teams",
        );
        let (_, member_id, _) =
            join(&server, &mut owner, &org, "member@example.com", "member").await;
        let teams = owner.get("/organization/list-teams").await;
        let first = teams
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "Org acme")
            .unwrap()["id"]
            .clone();
        // The owner fills the first team.
        let full = owner
            .post(
                "/organization/add-team-member",
                json!({ "teamId": first, "userId": member_id }),
            )
            .await;
        assert_refused(&full, 403, "TEAM_MEMBER_LIMIT_REACHED", "team members");
    })
    .await;
});

/// Every route (teams on), for the malformed-input check.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/organization/create"),
    ("POST", "/organization/check-slug"),
    ("POST", "/organization/update"),
    ("POST", "/organization/delete"),
    ("GET", "/organization/list"),
    ("GET", "/organization/get-organization"),
    ("GET", "/organization/get-full-organization"),
    ("POST", "/organization/set-active"),
    ("POST", "/organization/remove-member"),
    ("POST", "/organization/update-member-role"),
    ("GET", "/organization/list-members"),
    ("GET", "/organization/get-active-member"),
    ("GET", "/organization/get-active-member-role"),
    ("POST", "/organization/leave"),
    ("POST", "/organization/invite-member"),
    ("POST", "/organization/accept-invitation"),
    ("POST", "/organization/reject-invitation"),
    ("POST", "/organization/cancel-invitation"),
    ("GET", "/organization/get-invitation"),
    ("GET", "/organization/list-invitations"),
    ("GET", "/organization/list-user-invitations"),
    ("POST", "/organization/has-permission"),
    ("POST", "/organization/create-team"),
    ("GET", "/organization/list-teams"),
    ("POST", "/organization/update-team"),
    ("POST", "/organization/remove-team"),
    ("POST", "/organization/set-active-team"),
    ("GET", "/organization/list-user-teams"),
    ("GET", "/organization/list-team-members"),
    ("POST", "/organization/add-team-member"),
    ("POST", "/organization/remove-team-member"),
];

// Malformed input is a 4xx on every route, never a 500 (on PostgreSQL too,
// which refuses NUL characters and compares typed columns strictly).
all_backends!(
    malformed_input_is_refused_not_a_server_error,
    on_server,
    |server: PluginServer| async move {
        let (mut owner, _) = user(&server, "owner@example.com").await;
        let org = create(&mut owner, "acme").await;
        let long = "x".repeat(5000);
        let bodies = [
            json!({}),
            json!([]),
            json!("text"),
            json!(7),
            json!({ "organizationId": 5, "teamId": [1], "memberId": {}, "invitationId": true }),
            json!({ "organizationId": org, "name": long, "slug": long, "email": long,
                    "role": { "a": 1 }, "data": { "name": 3, "metadata": "m" } }),
            json!({ "organizationId": org, "name": "n\u{0}", "slug": "s", "role": ["member", 1],
                    "permissions": { "member": "delete" }, "teamId": "a\u{0}", "userId": "\u{0}",
                    "memberIdOrEmail": "@", "email": "a@b\u{0}.c", "invitationId": "\u{0}" }),
            json!({ "organizationId": null, "organizationSlug": null, "teamId": null,
                    "data": null, "role": null, "permissions": {}, "permission": {} }),
        ];
        let queries = [
            "",
            "?organizationId=%00",
            "?organizationSlug=%00&limit=-1",
            "?limit=99999999999&offset=x&sortBy=createdAt&sortDirection=sideways",
            "?filterField=createdAt&filterValue=2026&filterOperator=gt",
            "?filterField=role&filterValue=%00",
            "?membersLimit=abc&userId=%00&teamId=%00&id=%00&email=a%40b.c",
        ];
        for (method, path) in ROUTES {
            if *method == "GET" {
                for query in queries {
                    let answer = owner.get(&format!("{path}{query}")).await;
                    assert!(answer.status < 500, "{path}{query}: {answer:?}");
                }
            } else {
                for body in &bodies {
                    let answer = owner.post(path, body.clone()).await;
                    assert!(answer.status < 500, "{path} {body}: {answer:?}");
                }
            }
        }
    }
);

all_backends!(
    every_route_needs_a_session_with_teams_on,
    on_server,
    |server: PluginServer| async move {
        let mut anonymous = Browser::new(&server.base);
        for (method, path) in ROUTES {
            let answer = match *method {
                "GET" => anonymous.get(path).await,
                _ => anonymous.post(path, json!({})).await,
            };
            assert_eq!(answer.status, 401, "{path}: {answer:?}");
        }
    }
);
