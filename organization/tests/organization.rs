//! Organizations through HTTP, on SQLite, PostgreSQL and MySQL: creating and
//! managing organizations, members and roles, invitations, the session's
//! active organization, and the security requirement S75 by name.

use std::time::Duration;

use better_auth::rate_limit::RateLimitConfig;
use better_auth_organization::OrganizationPlugin;
use better_auth_organization::access::Role;
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
    on_server_with(backend, OrganizationPlugin::new(), body).await;
}

async fn active_organization(browser: &mut Browser) -> Value {
    browser.get("/get-session").await.body["session"]["activeOrganizationId"].clone()
}

all_backends!(
    organizations_are_created_listed_updated_and_deleted,
    on_server,
    |server: PluginServer| async move {
        let (mut owner, owner_id) = user(&server, "owner@example.com").await;
        let made = owner
            .post(
                "/organization/create",
                json!({ "name": "Acme", "slug": "acme", "logo": "https://acme.test/l.png",
                        "metadata": { "plan": "pro" } }),
            )
            .await;
        assert_eq!(made.status, 200, "{made:?}");
        let org = made.body["id"].as_str().unwrap().to_owned();
        assert_eq!(made.body["slug"], "acme");
        assert_eq!(made.body["metadata"]["plan"], "pro");
        assert_eq!(made.body["members"][0]["role"], "owner");
        assert_eq!(made.body["members"][0]["userId"], owner_id.as_str());
        assert_eq!(active_organization(&mut owner).await, org.as_str());

        // Slugs are unique.
        let taken = owner
            .post("/organization/check-slug", json!({ "slug": "acme" }))
            .await;
        assert_refused(&taken, 400, "ORGANIZATION_SLUG_ALREADY_TAKEN", "check-slug");
        let free = owner
            .post("/organization/check-slug", json!({ "slug": "other" }))
            .await;
        assert_eq!(free.body, json!({ "status": true }));
        // Names hold no control or bidirectional formatting character, and no
        // text a NUL.
        let spoof = owner
            .post(
                "/organization/create",
                json!({ "name": "Acme \u{202E}nimda", "slug": "spoof" }),
            )
            .await;
        assert_eq!(spoof.status, 400, "{spoof:?}");
        let nul = owner
            .post(
                "/organization/set-active",
                json!({ "organizationId": "a\u{0}b" }),
            )
            .await;
        assert_eq!(nul.status, 400, "{nul:?}");
        let nul = owner
            .get("/organization/get-full-organization?organizationId=a%00b")
            .await;
        assert_eq!(nul.status, 400, "{nul:?}");
        let again = owner
            .post(
                "/organization/create",
                json!({ "name": "Acme 2", "slug": "acme" }),
            )
            .await;
        assert_refused(&again, 400, "ORGANIZATION_ALREADY_EXISTS", "same slug");

        // A second one, keeping the active organization.
        let second = owner
            .post(
                "/organization/create",
                json!({ "name": "Beta", "slug": "beta", "keepCurrentActiveOrganization": true }),
            )
            .await;
        assert_eq!(second.status, 200, "{second:?}");
        let beta = second.body["id"].as_str().unwrap().to_owned();
        assert_eq!(active_organization(&mut owner).await, org.as_str());
        let listed = owner.get("/organization/list").await;
        assert_eq!(listed.body.as_array().unwrap().len(), 2, "{listed:?}");

        // Update (the active one without an id); a slug in use is refused.
        let updated = owner
            .post(
                "/organization/update",
                json!({ "data": { "name": "Acme Inc", "logo": null } }),
            )
            .await;
        assert_eq!(updated.status, 200, "{updated:?}");
        assert_eq!(updated.body["name"], "Acme Inc");
        assert_eq!(updated.body["logo"], Value::Null);
        assert_eq!(updated.body["metadata"]["plan"], "pro");
        let clash = owner
            .post(
                "/organization/update",
                json!({ "organizationId": beta, "data": { "slug": "acme" } }),
            )
            .await;
        assert_refused(
            &clash,
            400,
            "ORGANIZATION_SLUG_ALREADY_TAKEN",
            "update slug",
        );

        // The full organization: members with their users.
        let full = owner.get("/organization/get-full-organization").await;
        assert_eq!(full.status, 200, "{full:?}");
        assert_eq!(full.body["id"], org.as_str());
        assert_eq!(
            full.body["members"][0]["user"]["email"],
            "owner@example.com"
        );
        assert_eq!(full.body["invitations"], json!([]));
        let by_slug = owner
            .get("/organization/get-full-organization?organizationSlug=beta")
            .await;
        assert_eq!(by_slug.body["id"], beta.as_str());
        let one = owner
            .get(&format!(
                "/organization/get-organization?organizationId={beta}"
            ))
            .await;
        assert_eq!(one.body["name"], "Beta");

        // Set active: by slug, then cleared.
        let set = owner
            .post(
                "/organization/set-active",
                json!({ "organizationSlug": "beta" }),
            )
            .await;
        assert_eq!(set.body["id"], beta.as_str(), "{set:?}");
        assert_eq!(active_organization(&mut owner).await, beta.as_str());
        let cleared = owner
            .post(
                "/organization/set-active",
                json!({ "organizationId": null }),
            )
            .await;
        assert_eq!(cleared.status, 200);
        assert_eq!(cleared.body, Value::Null);
        assert_eq!(active_organization(&mut owner).await, Value::Null);
        let none = owner.get("/organization/get-full-organization").await;
        assert_eq!(none.body, Value::Null);
        owner
            .post(
                "/organization/set-active",
                json!({ "organizationId": beta }),
            )
            .await;

        // Delete: gone from the list and no longer active.
        let deleted = owner
            .post("/organization/delete", json!({ "organizationId": beta }))
            .await;
        assert_eq!(deleted.status, 200, "{deleted:?}");
        assert_eq!(deleted.body["slug"], "beta");
        assert_eq!(active_organization(&mut owner).await, Value::Null);
        let listed = owner.get("/organization/list").await;
        assert_eq!(listed.body.as_array().unwrap().len(), 1, "{listed:?}");
        let free = owner
            .post("/organization/check-slug", json!({ "slug": "beta" }))
            .await;
        assert_eq!(free.status, 200);
    }
);

all_backends!(
    members_join_by_invitation_and_their_roles_change,
    on_server,
    |server: PluginServer| async move {
        let (mut owner, _) = user(&server, "owner@example.com").await;
        let org = create(&mut owner, "acme").await;
        let before = server.sent();
        let (mut admin, admin_id, admin_member) =
            join(&server, &mut owner, &org, "admin@example.com", "admin").await;
        // The invitation was emailed, with a link carrying its id.
        let mail = server.mailed_after("admin@example.com", before).await;
        assert!(mail.url.contains("/accept-invitation/"), "{mail:?}");
        // Accepting made the organization active.
        assert_eq!(active_organization(&mut admin).await, org.as_str());
        let (mut plain, plain_id, plain_member) =
            join(&server, &mut admin, &org, "member@example.com", "member").await;

        let listed = plain.get("/organization/list-members").await;
        assert_eq!(listed.status, 200, "{listed:?}");
        assert_eq!(listed.body["total"], 3);
        assert_eq!(listed.body["members"].as_array().unwrap().len(), 3);
        let page = plain
            .get("/organization/list-members?limit=1&offset=1&sortBy=createdAt")
            .await;
        assert_eq!(
            page.body["members"].as_array().unwrap().len(),
            1,
            "{page:?}"
        );
        assert_eq!(page.body["members"][0]["userId"], admin_id.as_str());
        let admins = plain
            .get("/organization/list-members?filterField=role&filterValue=admin")
            .await;
        assert_eq!(admins.body["total"], 1, "{admins:?}");
        let by_time = plain
            .get("/organization/list-members?filterField=createdAt&filterValue=x")
            .await;
        assert_eq!(by_time.status, 400, "{by_time:?}");
        let unknown = plain
            .get("/organization/list-members?sortBy=password")
            .await;
        assert_eq!(unknown.status, 400, "{unknown:?}");

        let me = plain.get("/organization/get-active-member").await;
        assert_eq!(me.body["id"], plain_member.as_str(), "{me:?}");
        assert_eq!(me.body["user"]["email"], "member@example.com");
        let role = plain.get("/organization/get-active-member-role").await;
        assert_eq!(role.body, json!({ "role": "member" }));
        let theirs = plain
            .get(&format!(
                "/organization/get-active-member-role?userId={admin_id}"
            ))
            .await;
        assert_eq!(theirs.body, json!({ "role": "admin" }));

        // The admin promotes the member, then sets two roles.
        let promoted = admin
            .post(
                "/organization/update-member-role",
                json!({ "memberId": plain_member, "role": "admin" }),
            )
            .await;
        assert_eq!(promoted.status, 200, "{promoted:?}");
        assert_eq!(promoted.body["role"], "admin");
        let both = owner
            .post(
                "/organization/update-member-role",
                json!({ "memberId": plain_member, "role": ["member", " admin"] }),
            )
            .await;
        assert_eq!(both.body["role"], "member,admin", "{both:?}");
        let unknown = owner
            .post(
                "/organization/update-member-role",
                json!({ "memberId": plain_member, "role": "emperor" }),
            )
            .await;
        assert_refused(&unknown, 400, "ROLE_NOT_FOUND", "unknown role");

        // has-permission reads the roles.
        let can = |body: Value| {
            let mut b = Browser::new(&server.base);
            b.jar = plain.jar.clone();
            async move { b.post("/organization/has-permission", body).await }
        };
        let yes = can(json!({ "permissions": { "member": ["delete"] } })).await;
        assert_eq!(
            yes.body,
            json!({ "error": null, "success": true }),
            "{yes:?}"
        );
        let no = can(json!({ "permissions": { "organization": ["delete"] } })).await;
        assert_eq!(no.body["success"], false);
        let old = can(json!({ "permission": { "member": ["delete"] } })).await;
        assert_eq!(old.status, 200, "{old:?}");
        assert_eq!(old.body["success"], false);
        let neither = can(json!({})).await;
        assert_eq!(neither.status, 400);

        // Removal by email and by id; leaving.
        let removed = admin
            .post(
                "/organization/remove-member",
                json!({ "memberIdOrEmail": "member@example.com" }),
            )
            .await;
        assert_eq!(removed.status, 200, "{removed:?}");
        assert_eq!(removed.body["member"]["userId"], plain_id.as_str());
        assert_eq!(active_organization(&mut plain).await, Value::Null);
        let gone = plain.get("/organization/list").await;
        assert_eq!(gone.body, json!([]));
        let left = admin
            .post("/organization/leave", json!({ "organizationId": org }))
            .await;
        assert_eq!(left.status, 200, "{left:?}");
        assert_eq!(left.body["id"], admin_member.as_str());
        assert_eq!(active_organization(&mut admin).await, Value::Null);
        let alone = owner.get("/organization/list-members").await;
        assert_eq!(alone.body["total"], 1, "{alone:?}");
    }
);

/// Every route, for the 401 check: (method, path, body).
fn every_route() -> Vec<(&'static str, &'static str, Value)> {
    let id = json!({ "organizationId": "x" });
    let invitation = json!({ "invitationId": "x" });
    vec![
        (
            "POST",
            "/organization/create",
            json!({ "name": "n", "slug": "s" }),
        ),
        ("POST", "/organization/check-slug", json!({ "slug": "s" })),
        (
            "POST",
            "/organization/update",
            json!({ "organizationId": "x", "data": { "name": "n" } }),
        ),
        ("POST", "/organization/delete", id.clone()),
        ("GET", "/organization/list", Value::Null),
        ("GET", "/organization/get-organization", Value::Null),
        ("GET", "/organization/get-full-organization", Value::Null),
        ("POST", "/organization/set-active", id.clone()),
        (
            "POST",
            "/organization/remove-member",
            json!({ "memberIdOrEmail": "x" }),
        ),
        (
            "POST",
            "/organization/update-member-role",
            json!({ "memberId": "x", "role": "admin" }),
        ),
        ("GET", "/organization/list-members", Value::Null),
        ("GET", "/organization/get-active-member", Value::Null),
        ("GET", "/organization/get-active-member-role", Value::Null),
        ("POST", "/organization/leave", id),
        (
            "POST",
            "/organization/invite-member",
            json!({ "email": "a@example.com", "role": "member" }),
        ),
        (
            "POST",
            "/organization/accept-invitation",
            invitation.clone(),
        ),
        (
            "POST",
            "/organization/reject-invitation",
            invitation.clone(),
        ),
        ("POST", "/organization/cancel-invitation", invitation),
        ("GET", "/organization/get-invitation?id=x", Value::Null),
        ("GET", "/organization/list-invitations", Value::Null),
        ("GET", "/organization/list-user-invitations", Value::Null),
        (
            "POST",
            "/organization/has-permission",
            json!({ "permissions": { "member": ["delete"] } }),
        ),
    ]
}

async fn call(browser: &mut Browser, method: &str, path: &str, body: Value) -> Answer {
    match method {
        "GET" => browser.get(path).await,
        _ => browser.post(path, body).await,
    }
}

all_backends!(
    every_route_needs_a_session,
    on_server,
    |server: PluginServer| async move {
        let mut anonymous = Browser::new(&server.base);
        for (method, path, body) in every_route() {
            let answer = call(&mut anonymous, method, path, body).await;
            assert_eq!(answer.status, 401, "{path}: {answer:?}");
        }
    }
);

/// The routes that name an organization, a member or an invitation, with
/// `{ORG}`, `{SLUG}`, `{MEMBER}`, `{EMAIL}`, `{USER}`, `{INVITATION}` for
/// the target's and `{MINE}` for the caller's own organization.
const ID_ROUTES: &[(&str, &str, &str)] = &[
    (
        "POST",
        "/organization/update",
        r#"{"organizationId":"{ORG}","data":{"name":"taken over"}}"#,
    ),
    (
        "POST",
        "/organization/delete",
        r#"{"organizationId":"{ORG}"}"#,
    ),
    (
        "GET",
        "/organization/get-organization?organizationId={ORG}",
        "",
    ),
    (
        "GET",
        "/organization/get-organization?organizationSlug={SLUG}",
        "",
    ),
    (
        "GET",
        "/organization/get-full-organization?organizationId={ORG}",
        "",
    ),
    (
        "GET",
        "/organization/get-full-organization?organizationSlug={SLUG}",
        "",
    ),
    (
        "POST",
        "/organization/set-active",
        r#"{"organizationId":"{ORG}"}"#,
    ),
    (
        "POST",
        "/organization/set-active",
        r#"{"organizationSlug":"{SLUG}"}"#,
    ),
    (
        "POST",
        "/organization/remove-member",
        r#"{"organizationId":"{ORG}","memberIdOrEmail":"{MEMBER}"}"#,
    ),
    (
        "POST",
        "/organization/remove-member",
        r#"{"organizationId":"{ORG}","memberIdOrEmail":"{EMAIL}"}"#,
    ),
    (
        "POST",
        "/organization/remove-member",
        r#"{"organizationId":"{MINE}","memberIdOrEmail":"{MEMBER}"}"#,
    ),
    (
        "POST",
        "/organization/remove-member",
        r#"{"organizationId":"{MINE}","memberIdOrEmail":"{EMAIL}"}"#,
    ),
    (
        "POST",
        "/organization/update-member-role",
        r#"{"organizationId":"{ORG}","memberId":"{MEMBER}","role":"owner"}"#,
    ),
    (
        "POST",
        "/organization/update-member-role",
        r#"{"organizationId":"{MINE}","memberId":"{MEMBER}","role":"owner"}"#,
    ),
    ("GET", "/organization/list-members?organizationId={ORG}", ""),
    (
        "GET",
        "/organization/list-members?organizationSlug={SLUG}",
        "",
    ),
    (
        "GET",
        "/organization/get-active-member-role?organizationId={ORG}",
        "",
    ),
    (
        "GET",
        "/organization/get-active-member-role?organizationSlug={SLUG}",
        "",
    ),
    (
        "GET",
        "/organization/get-active-member-role?organizationId={MINE}&userId={USER}",
        "",
    ),
    (
        "POST",
        "/organization/leave",
        r#"{"organizationId":"{ORG}"}"#,
    ),
    (
        "POST",
        "/organization/invite-member",
        r#"{"organizationId":"{ORG}","email":"friend@example.com","role":"member"}"#,
    ),
    (
        "POST",
        "/organization/cancel-invitation",
        r#"{"invitationId":"{INVITATION}"}"#,
    ),
    (
        "GET",
        "/organization/list-invitations?organizationId={ORG}",
        "",
    ),
    (
        "POST",
        "/organization/has-permission",
        r#"{"organizationId":"{ORG}","permissions":{"member":["delete"]}}"#,
    ),
];

struct Target<'a> {
    org: &'a str,
    slug: &'a str,
    member: &'a str,
    email: &'a str,
    user: &'a str,
    invitation: &'a str,
}

fn fill(template: &str, target: &Target<'_>, mine: &str) -> String {
    template
        .replace("{ORG}", target.org)
        .replace("{SLUG}", target.slug)
        .replace("{MEMBER}", target.member)
        .replace("{EMAIL}", target.email)
        .replace("{USER}", target.user)
        .replace("{INVITATION}", target.invitation)
        .replace("{MINE}", mine)
}

// S75: a user who is not a member of an organization is answered as if it,
// its members and its invitations did not exist, on every route that takes
// an organization id or slug, a member id or email, a user id or an
// invitation id; and nothing of it changes.
all_backends!(
    s75_other_organizations_read_as_nonexistent,
    on_server,
    |server: PluginServer| async move {
        let (mut owner, _) = user(&server, "owner@example.com").await;
        let org = create(&mut owner, "acme").await;
        let (_, member_user, member_id) =
            join(&server, &mut owner, &org, "member@example.com", "member").await;
        let invitation = invite(&mut owner, &org, "guest@example.com", "admin").await;
        let (mut outsider, _) = user(&server, "outsider@example.com").await;
        let mine = create(&mut outsider, "outsider-org").await;

        let real = Target {
            org: &org,
            slug: "acme",
            member: &member_id,
            email: "member@example.com",
            user: &member_user,
            invitation: &invitation,
        };
        let missing = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let none = Target {
            org: missing,
            slug: "no-such-slug",
            member: missing,
            email: "nobody@example.com",
            user: missing,
            invitation: missing,
        };
        for (method, path, body) in ID_ROUTES {
            let ask = |target: &Target<'_>| {
                let path = fill(path, target, &mine);
                let body: Value = if body.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(&fill(body, target, &mine)).unwrap()
                };
                (path, body)
            };
            let (real_path, real_body) = ask(&real);
            let to_real = call(&mut outsider, method, &real_path, real_body).await;
            let (none_path, none_body) = ask(&none);
            let to_none = call(&mut outsider, method, &none_path, none_body).await;
            assert!(
                (400..500).contains(&to_real.status),
                "{real_path}: {to_real:?}"
            );
            assert_eq!(
                (to_real.status, &to_real.body),
                (to_none.status, &to_none.body),
                "{real_path} answers another organization's id unlike an unknown one"
            );
        }

        // Nothing of the organization changed.
        let full = owner
            .get(&format!(
                "/organization/get-full-organization?organizationId={org}"
            ))
            .await;
        assert_eq!(full.body["name"], "Org acme", "{full:?}");
        assert_eq!(full.body["members"].as_array().unwrap().len(), 2);
        let still = full.body["invitations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == invitation.as_str())
            .cloned();
        assert_eq!(still.unwrap()["status"], "pending");
        let roles = owner
            .get(&format!(
                "/organization/get-active-member-role?userId={member_user}"
            ))
            .await;
        assert_eq!(roles.body["role"], "member", "{roles:?}");
        let theirs = outsider.get("/organization/list").await;
        assert_eq!(theirs.body.as_array().unwrap().len(), 1, "{theirs:?}");
    }
);

// S75: each route checks the permission Better Auth's does, for the
// caller's roles in that organization; members cannot raise roles above
// their own, and only owners hand out, change or remove the owner role.
all_backends!(
    s75_routes_check_the_callers_permissions,
    on_server,
    |server: PluginServer| async move {
        let (mut owner, _) = user(&server, "owner@example.com").await;
        let org = create(&mut owner, "acme").await;
        let owner_member = owner.get("/organization/get-active-member").await.body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (mut admin, _, admin_member) =
            join(&server, &mut owner, &org, "admin@example.com", "admin").await;
        let (mut plain, _, plain_member) =
            join(&server, &mut owner, &org, "member@example.com", "member").await;
        let for_owner = invite(&mut owner, &org, "next-owner@example.com", "owner").await;
        let for_member = invite(&mut admin, &org, "invited@example.com", "member").await;

        // A member: reads only.
        let refused = [
            (
                plain
                    .post("/organization/update", json!({ "data": { "name": "x" } }))
                    .await,
                403,
                "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_ORGANIZATION",
            ),
            (
                plain
                    .post("/organization/delete", json!({ "organizationId": org }))
                    .await,
                403,
                "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_ORGANIZATION",
            ),
            (
                plain
                    .post(
                        "/organization/invite-member",
                        json!({ "email": "x@example.com", "role": "member" }),
                    )
                    .await,
                403,
                "YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION",
            ),
            (
                plain
                    .post(
                        "/organization/cancel-invitation",
                        json!({ "invitationId": for_member }),
                    )
                    .await,
                403,
                "YOU_ARE_NOT_ALLOWED_TO_CANCEL_THIS_INVITATION",
            ),
            (
                plain.get("/organization/list-invitations").await,
                403,
                "YOU_ARE_NOT_ALLOWED_TO_LIST_INVITATIONS",
            ),
            (
                plain
                    .post(
                        "/organization/update-member-role",
                        json!({ "memberId": plain_member, "role": "admin" }),
                    )
                    .await,
                403,
                "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER",
            ),
            (
                plain
                    .post(
                        "/organization/remove-member",
                        json!({ "memberIdOrEmail": admin_member }),
                    )
                    .await,
                401,
                "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_MEMBER",
            ),
        ];
        for (answer, status, code) in &refused {
            assert_refused(answer, *status, code, code);
        }
        let full = plain.get("/organization/get-full-organization").await;
        assert_eq!(full.body["invitations"], json!([]), "{full:?}");

        // An admin: everything but deleting, and nothing about owners.
        let refused = [
            (
                admin
                    .post("/organization/delete", json!({ "organizationId": org }))
                    .await,
                403,
                "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_ORGANIZATION",
            ),
            (
                admin
                    .post(
                        "/organization/invite-member",
                        json!({ "email": "boss@example.com", "role": ["member", "owner"] }),
                    )
                    .await,
                403,
                "YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE",
            ),
            (
                admin
                    .post(
                        "/organization/update-member-role",
                        json!({ "memberId": owner_member, "role": "member" }),
                    )
                    .await,
                403,
                "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER",
            ),
            (
                admin
                    .post(
                        "/organization/update-member-role",
                        json!({ "memberId": plain_member, "role": "owner" }),
                    )
                    .await,
                403,
                "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER",
            ),
            (
                admin
                    .post(
                        "/organization/update-member-role",
                        json!({ "memberId": admin_member, "role": "owner" }),
                    )
                    .await,
                403,
                "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER",
            ),
            (
                admin
                    .post(
                        "/organization/remove-member",
                        json!({ "memberIdOrEmail": owner_member }),
                    )
                    .await,
                400,
                "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER",
            ),
        ];
        for (answer, status, code) in &refused {
            assert_refused(answer, *status, code, code);
        }
        // Invitations offering the owner role are the owners' business.
        let listed = admin.get("/organization/list-invitations").await;
        let ids: Vec<&str> = listed
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert!(
            ids.contains(&for_member.as_str()) && !ids.contains(&for_owner.as_str()),
            "{listed:?}"
        );
        let full = admin.get("/organization/get-full-organization").await;
        let shown: Vec<&Value> = full.body["invitations"]
            .as_array()
            .unwrap()
            .iter()
            .collect();
        assert!(
            shown.iter().any(|i| i["id"] == for_member.as_str()),
            "{full:?}"
        );
        assert!(
            !shown.iter().any(|i| i["id"] == for_owner.as_str()),
            "{full:?}"
        );
        let all = owner.get("/organization/list-invitations").await;
        assert!(
            all.body
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["id"] == for_owner.as_str()),
            "{all:?}"
        );
        // What an admin may do.
        let renamed = admin
            .post(
                "/organization/update",
                json!({ "data": { "name": "Renamed" } }),
            )
            .await;
        assert_eq!(renamed.status, 200, "{renamed:?}");
        let canceled = admin
            .post(
                "/organization/cancel-invitation",
                json!({ "invitationId": for_member }),
            )
            .await;
        assert_eq!(canceled.body["status"], "canceled", "{canceled:?}");
        let removed = admin
            .post(
                "/organization/remove-member",
                json!({ "memberIdOrEmail": plain_member }),
            )
            .await;
        assert_eq!(removed.status, 200, "{removed:?}");
        // The removed member's routes now answer as a stranger's.
        let after = plain.get("/organization/list-members").await;
        assert_refused(&after, 400, "NO_ACTIVE_ORGANIZATION", "removed member");
        let named = plain
            .get(&format!("/organization/list-members?organizationId={org}"))
            .await;
        assert_refused(
            &named,
            403,
            "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION",
            "removed member",
        );
        // The owner deletes.
        let deleted = owner
            .post("/organization/delete", json!({ "organizationId": org }))
            .await;
        assert_eq!(deleted.status, 200, "{deleted:?}");
        let gone = admin.get("/organization/list").await;
        assert_eq!(gone.body, json!([]));
    }
);

// S75: an invitation is answered once, by the user with the invited email
// only, until it expires or is canceled.
all_backends!(
    s75_invitations_are_email_bound_single_use_and_expire,
    on_server,
    |server: PluginServer| async move {
        let (mut owner, _) = user(&server, "owner@example.com").await;
        let org = create(&mut owner, "acme").await;
        let before = server.sent();
        let invitation = invite(&mut owner, &org, "Guest@Example.com", "admin").await;
        let mail = server.mailed_after("guest@example.com", before).await;
        assert!(mail.url.ends_with(&invitation), "{mail:?}");

        // Anyone else is refused, whatever they try.
        let (mut other, _) = user(&server, "other@example.com").await;
        let body = json!({ "invitationId": invitation });
        let seen = other
            .get(&format!("/organization/get-invitation?id={invitation}"))
            .await;
        assert_refused(
            &seen,
            403,
            "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION",
            "get",
        );
        for path in [
            "/organization/accept-invitation",
            "/organization/reject-invitation",
        ] {
            let refused = other.post(path, body.clone()).await;
            assert_refused(
                &refused,
                403,
                "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION",
                path,
            );
        }
        assert_eq!(other.get("/organization/list").await.body, json!([]));

        // The invited user sees it, lists it once verified, and accepts it once.
        let (mut guest, _) = user(&server, "guest@example.com").await;
        let seen = guest
            .get(&format!("/organization/get-invitation?id={invitation}"))
            .await;
        assert_eq!(seen.status, 200, "{seen:?}");
        assert_eq!(seen.body["organizationName"], "Org acme");
        assert_eq!(seen.body["inviterEmail"], "owner@example.com");
        let unverified = guest.get("/organization/list-user-invitations").await;
        assert_refused(
            &unverified,
            403,
            "EMAIL_VERIFICATION_REQUIRED_FOR_INVITATION",
            "list",
        );
        verify(&server, "guest@example.com").await;
        let mut guest = Browser::new(&server.base);
        guest
            .post(
                "/sign-in/email",
                json!({ "email": "guest@example.com", "password": PASSWORD }),
            )
            .await;
        let mine = guest.get("/organization/list-user-invitations").await;
        assert_eq!(mine.body.as_array().unwrap().len(), 1, "{mine:?}");
        assert_eq!(mine.body[0]["organizationName"], "Org acme");
        let accepted = guest
            .post("/organization/accept-invitation", body.clone())
            .await;
        assert_eq!(accepted.status, 200, "{accepted:?}");
        assert_eq!(accepted.body["invitation"]["status"], "accepted");
        assert_eq!(accepted.body["member"]["role"], "admin");
        assert_eq!(active_organization(&mut guest).await, org.as_str());
        for path in [
            "/organization/accept-invitation",
            "/organization/reject-invitation",
        ] {
            let again = guest.post(path, body.clone()).await;
            assert_refused(&again, 400, "INVITATION_NOT_FOUND", path);
        }
        let cancel = owner.post("/organization/cancel-invitation", body).await;
        assert_refused(&cancel, 400, "INVITATION_NOT_FOUND", "cancel accepted");
        assert_eq!(
            guest.get("/organization/list-user-invitations").await.body,
            json!([])
        );
        let member = owner
            .post(
                "/organization/invite-member",
                json!({ "email": "guest@example.com", "role": "member" }),
            )
            .await;
        assert_refused(
            &member,
            400,
            "USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION",
            "re-invite",
        );

        // Pending once per address; resending extends it.
        let twice = invite(&mut owner, &org, "twice@example.com", "member").await;
        let again = owner
            .post(
                "/organization/invite-member",
                json!({ "email": "twice@example.com", "role": "member" }),
            )
            .await;
        assert_refused(
            &again,
            400,
            "USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION",
            "twice",
        );
        server.clock.advance(Duration::from_secs(3600));
        let resent = owner
            .post(
                "/organization/invite-member",
                json!({ "email": "twice@example.com", "role": "member", "resend": true }),
            )
            .await;
        assert_eq!(resent.body["id"], twice.as_str(), "{resent:?}");

        // Expired: 48 hours after it was (re)sent.
        let (mut late, _) = user(&server, "twice@example.com").await;
        server.clock.advance(Duration::from_secs(48 * 3600 + 1));
        let expired = late
            .post(
                "/organization/accept-invitation",
                json!({ "invitationId": twice }),
            )
            .await;
        assert_refused(&expired, 400, "INVITATION_NOT_FOUND", "expired");
        let expired = late
            .get(&format!("/organization/get-invitation?id={twice}"))
            .await;
        assert_refused(&expired, 400, "INVITATION_NOT_FOUND", "expired");

        // Canceled, and rejected: neither can be accepted.
        let canceled = invite(&mut owner, &org, "canceled@example.com", "member").await;
        let done = owner
            .post(
                "/organization/cancel-invitation",
                json!({ "invitationId": canceled }),
            )
            .await;
        assert_eq!(done.body["status"], "canceled", "{done:?}");
        let (mut canceled_user, _) = user(&server, "canceled@example.com").await;
        let refused = canceled_user
            .post(
                "/organization/accept-invitation",
                json!({ "invitationId": canceled }),
            )
            .await;
        assert_refused(&refused, 400, "INVITATION_NOT_FOUND", "canceled");
        let rejected = invite(&mut owner, &org, "no@example.com", "member").await;
        let (mut no, _) = user(&server, "no@example.com").await;
        let answer = no
            .post(
                "/organization/reject-invitation",
                json!({ "invitationId": rejected }),
            )
            .await;
        assert_eq!(
            answer.body["invitation"]["status"], "rejected",
            "{answer:?}"
        );
        assert_eq!(answer.body["member"], Value::Null);
        let refused = no
            .post(
                "/organization/accept-invitation",
                json!({ "invitationId": rejected }),
            )
            .await;
        assert_refused(&refused, 400, "INVITATION_NOT_FOUND", "rejected");
        assert_eq!(no.get("/organization/list").await.body, json!([]));
    }
);

// S75: an organization keeps an owner: the last one cannot leave, be
// removed or be demoted.
all_backends!(
    s75_the_last_owner_stays,
    on_server,
    |server: PluginServer| async move {
        let (mut owner, _) = user(&server, "owner@example.com").await;
        let org = create(&mut owner, "acme").await;
        let me = owner.get("/organization/get-active-member").await.body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let leave = owner
            .post("/organization/leave", json!({ "organizationId": org }))
            .await;
        assert_refused(
            &leave,
            400,
            "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER",
            "leave",
        );
        let demote = owner
            .post(
                "/organization/update-member-role",
                json!({ "memberId": me, "role": "admin" }),
            )
            .await;
        assert_refused(
            &demote,
            400,
            "YOU_CANNOT_LEAVE_THE_ORGANIZATION_WITHOUT_AN_OWNER",
            "demote",
        );
        let remove = owner
            .post(
                "/organization/remove-member",
                json!({ "memberIdOrEmail": me }),
            )
            .await;
        assert_refused(
            &remove,
            400,
            "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER",
            "remove",
        );

        // With a second owner, the first may go; then the second stays.
        let (mut second, _, second_member) =
            join(&server, &mut owner, &org, "second@example.com", "admin").await;
        let promoted = owner
            .post(
                "/organization/update-member-role",
                json!({ "memberId": second_member, "role": "owner" }),
            )
            .await;
        assert_eq!(promoted.body["role"], "owner", "{promoted:?}");
        let demoted = owner
            .post(
                "/organization/update-member-role",
                json!({ "memberId": me, "role": "admin" }),
            )
            .await;
        assert_eq!(demoted.body["role"], "admin", "{demoted:?}");
        let left = owner
            .post("/organization/leave", json!({ "organizationId": org }))
            .await;
        assert_eq!(left.status, 200, "{left:?}");
        let leave = second
            .post("/organization/leave", json!({ "organizationId": org }))
            .await;
        assert_refused(
            &leave,
            400,
            "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER",
            "last",
        );
    }
);

all_backends!(limits_and_custom_roles, |backend: Backend| async move {
    let plugin = OrganizationPlugin::new()
        .membership_limit(2)
        .invitation_limit(2)
        .organization_limit(1)
        .role("recruiter", Role::new().allow("invitation", ["create"]));
    on_server_with(backend, plugin, |server: PluginServer| async move {
        let (mut owner, _) = user(&server, "owner@example.com").await;
        let org = create(&mut owner, "acme").await;
        let more = owner
            .post("/organization/create", json!({ "name": "B", "slug": "b" }))
            .await;
        assert_refused(
            &more,
            403,
            "YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_ORGANIZATIONS",
            "limit",
        );
        // A custom role: may invite, nothing else.
        let (mut recruiter, _, _) = join(
            &server,
            &mut owner,
            &org,
            "recruiter@example.com",
            "recruiter",
        )
        .await;
        let first = invite(&mut recruiter, &org, "a@example.com", "member").await;
        let renamed = recruiter
            .post("/organization/update", json!({ "data": { "name": "x" } }))
            .await;
        assert_refused(
            &renamed,
            403,
            "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_ORGANIZATION",
            "custom",
        );
        // Pending invitations and members are limited.
        invite(&mut owner, &org, "b@example.com", "member").await;
        let third = owner
            .post(
                "/organization/invite-member",
                json!({ "email": "c@example.com", "role": "member" }),
            )
            .await;
        assert_refused(&third, 403, "INVITATION_LIMIT_REACHED", "invitations");
        let (mut a, _) = user(&server, "a@example.com").await;
        let full = a
            .post(
                "/organization/accept-invitation",
                json!({ "invitationId": first }),
            )
            .await;
        assert_refused(
            &full,
            403,
            "ORGANIZATION_MEMBERSHIP_LIMIT_REACHED",
            "members",
        );
    })
    .await;
});

all_backends!(
    creating_organizations_can_be_turned_off,
    |backend: Backend| async move {
        let plugin = OrganizationPlugin::new().allow_user_to_create_organization(false);
        on_server_with(backend, plugin, |server: PluginServer| async move {
            let (mut someone, _) = user(&server, "someone@example.com").await;
            let refused = someone
                .post("/organization/create", json!({ "name": "A", "slug": "a" }))
                .await;
            assert_refused(
                &refused,
                403,
                "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_ORGANIZATION",
                "off",
            );
        })
        .await;
    }
);

// S75: two owners leaving (or demoting themselves) at the same moment leave
// one of them: the owner count and the change are one step.
all_backends!(
    s75_the_last_owner_stays_under_concurrent_requests,
    on_server,
    |server: PluginServer| async move {
        let (mut first, _) = user(&server, "first@example.com").await;
        let (mut second, _) = user(&server, "second@example.com").await;
        for round in 0..4 {
            let org = create(&mut first, &format!("race-{round}")).await;
            let invitation = invite(&mut first, &org, "second@example.com", "owner").await;
            let accepted = second
                .post(
                    "/organization/accept-invitation",
                    json!({ "invitationId": invitation }),
                )
                .await;
            assert_eq!(accepted.status, 200, "{accepted:?}");
            let second_member = accepted.body["member"]["id"].as_str().unwrap().to_owned();
            let body = json!({ "organizationId": org });
            let (a, b) = if round % 2 == 0 {
                tokio::join!(
                    first.post("/organization/leave", body.clone()),
                    second.post("/organization/leave", body.clone()),
                )
            } else {
                let first_member = first
                    .get(&format!(
                        "/organization/get-active-member-role?organizationId={org}"
                    ))
                    .await;
                assert_eq!(first_member.body["role"], "owner");
                let mine = first
                    .post("/organization/set-active", json!({ "organizationId": org }))
                    .await;
                assert_eq!(mine.status, 200);
                let me = first.get("/organization/get-active-member").await.body["id"].clone();
                tokio::join!(
                    first.post(
                        "/organization/update-member-role",
                        json!({ "organizationId": org, "memberId": me, "role": "admin" }),
                    ),
                    second.post(
                        "/organization/update-member-role",
                        json!({ "organizationId": org, "memberId": second_member, "role": "admin" }),
                    ),
                )
            };
            let done = [a.status, b.status].iter().filter(|s| **s == 200).count();
            assert_eq!(done, 1, "round {round}: {a:?} {b:?}");
        }
    }
);

// S75: invitations are emails to addresses of the inviter's choosing:
// 20 invite-member requests a minute per client.
all_backends!(
    s75_invitations_are_rate_limited,
    |backend: Backend| async move {
        let Some(server) = PluginServer::start_with(backend, RateLimitConfig::default(), |b| {
            b.plugin(OrganizationPlugin::new())
        })
        .await
        else {
            return;
        };
        let (mut owner, _) = user(&server, "owner@example.com").await;
        let org = create(&mut owner, "acme").await;
        for n in 0..20 {
            invite(&mut owner, &org, &format!("guest{n}@example.com"), "member").await;
        }
        let limited = owner
            .post(
                "/organization/invite-member",
                json!({ "email": "one-more@example.com", "role": "member" }),
            )
            .await;
        assert_eq!(limited.status, 429, "{limited:?}");
    }
);
