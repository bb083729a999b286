//! Impersonation, permissions, update-user and single-session revocation
//! through HTTP on SQLite, PostgreSQL and MySQL, with the security requirement S76
//! by name.

use std::time::Duration;

use better_auth::store::with_pool;
use better_auth_admin::{AdminPlugin, Permissions};
use better_auth_test_support::browser::{Answer, Browser};
use better_auth_test_support::server::PluginServer;
use better_auth_test_support::{Backend, all_backends};
use serde_json::{Value, json};

const PASSWORD: &str = "a long admin passphrase";

async fn on_server<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(PluginServer) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let plugin = AdminPlugin::new()
        .role("support", Permissions::new().allow("user", ["list", "get"]))
        .role(
            "owner",
            Permissions::admin().allow("user", ["impersonate-admins"]),
        );
    if let Some(server) = PluginServer::start(backend, |b| b.plugin(plugin)).await {
        body(server).await;
    }
}

/// A signed-in browser of a new user with `role`, and the user's id.
async fn user(server: &PluginServer, email: &str, role: &str) -> (Browser, String) {
    let mut browser = Browser::new(&server.base);
    let up = browser
        .post(
            "/sign-up/email",
            json!({ "name": "Ada", "email": email, "password": PASSWORD }),
        )
        .await;
    assert_eq!(up.status, 200, "{up:?}");
    let id = up.body["user"]["id"].as_str().unwrap().to_owned();
    if role != "user" {
        execute(
            server,
            r#"UPDATE "user" SET "role" = $1 WHERE "id" = $2"#,
            &[role, &id],
        )
        .await;
        // Written behind the runtime's back: a cached session learns of it
        // from PostgreSQL's change notification, which may come a little later.
        for _ in 0..50 {
            if browser.get("/get-session").await.body["user"]["role"] == role {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    (browser, id)
}

/// Runs one statement with text parameters; returns the rows it changed.
async fn execute(server: &PluginServer, sql: &str, params: &[&str]) -> u64 {
    let db = &server.database;
    let changed = async {
        Ok::<_, better_auth::Error>(with_pool!(db, |pool| {
            let mut query = sqlx::query(sql);
            for p in params {
                query = query.bind(*p);
            }
            query.execute(pool).await?.rows_affected()
        }))
    };
    changed.await.unwrap()
}

/// How many impersonation sessions the database holds.
async fn impersonation_sessions(server: &PluginServer) -> u64 {
    let sql = r#"SELECT COUNT(*) FROM "session" WHERE "impersonatedBy" IS NOT NULL"#;
    let db = &server.database;
    let count = async {
        Ok::<i64, better_auth::Error>(with_pool!(db, |pool| sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await?))
    };
    count.await.unwrap() as u64
}

fn code(answer: &Answer) -> &str {
    answer.body["code"].as_str().unwrap_or_default()
}

// S76: impersonation needs the permission, never reaches an admin without
// `impersonate-admins`, is marked on the session (`impersonatedBy`), lasts an
// hour at most, cannot start another impersonation or use admin routes as
// the impersonated user, and ends only into the admin's own session, kept
// in a signed cookie that must belong to the impersonating admin.
all_backends!(
    s76_impersonation_is_marked_bounded_and_cannot_escalate,
    on_server,
    |server: PluginServer| async move {
        let (mut admin, admin_id) = user(&server, "admin@example.com", "admin").await;
        let (_, other_admin_id) = user(&server, "other@example.com", "admin").await;
        let (mut plain, plain_id) = user(&server, "plain@example.com", "user").await;
        let (mut support, _) = user(&server, "support@example.com", "support").await;
        let (mut owner, _) = user(&server, "owner@example.com", "owner").await;

        for (browser, who) in [(&mut plain, "a user"), (&mut support, "support")] {
            let refused = browser
                .post("/admin/impersonate-user", json!({ "userId": admin_id }))
                .await;
            assert_eq!(refused.status, 403, "{who}: {refused:?}");
            assert_eq!(code(&refused), "YOU_ARE_NOT_ALLOWED_TO_IMPERSONATE_USERS");
        }
        let refused = admin
            .post(
                "/admin/impersonate-user",
                json!({ "userId": other_admin_id }),
            )
            .await;
        assert_eq!(refused.status, 403, "{refused:?}");
        assert_eq!(code(&refused), "YOU_CANNOT_IMPERSONATE_ADMINS");
        let unknown = admin
            .post("/admin/impersonate-user", json!({ "userId": "nobody" }))
            .await;
        assert_eq!(unknown.status, 404, "{unknown:?}");
        assert_eq!(impersonation_sessions(&server).await, 0);

        // An owner role with `impersonate-admins` may.
        let allowed = owner
            .post(
                "/admin/impersonate-user",
                json!({ "userId": other_admin_id }),
            )
            .await;
        assert_eq!(allowed.status, 200, "{allowed:?}");
        // Even as an admin, an impersonation session starts no other.
        let chained = owner
            .post("/admin/impersonate-user", json!({ "userId": plain_id }))
            .await;
        assert_eq!(chained.status, 403, "{chained:?}");
        let stopped = owner.post("/admin/stop-impersonating", json!({})).await;
        assert_eq!(stopped.status, 200, "{stopped:?}");

        // The admin becomes the user, marked as such.
        let started = admin
            .post("/admin/impersonate-user", json!({ "userId": plain_id }))
            .await;
        assert_eq!(started.status, 200, "{started:?}");
        assert_eq!(started.body["user"]["id"], plain_id.as_str());
        assert_eq!(started.body["session"]["impersonatedBy"], admin_id.as_str());
        let now = admin.get("/get-session").await;
        assert_eq!(now.body["user"]["id"], plain_id.as_str(), "{now:?}");
        assert_eq!(now.body["session"]["impersonatedBy"], admin_id.as_str());
        // Its own sessions read as not impersonated, and the user is not shown
        // the admin's: /list-sessions lists their own session alone.
        let own = plain.get("/get-session").await;
        assert_eq!(
            own.body["session"]["impersonatedBy"],
            Value::Null,
            "{own:?}"
        );
        let listed = plain.get("/list-sessions").await;
        assert_eq!(listed.status, 200, "{listed:?}");
        let sessions = listed.body.as_array().unwrap();
        assert_eq!(sessions.len(), 1, "{listed:?}");
        assert_eq!(sessions[0]["id"], own.body["session"]["id"]);
        // The admin, as the user, sees no impersonation session either.
        let as_user = admin.get("/list-sessions").await;
        assert_eq!(
            as_user.body.as_array().map(Vec::len),
            Some(1),
            "{as_user:?}"
        );

        // As the user: no admin route, no further impersonation.
        let listed = admin.get("/admin/list-users").await;
        assert_eq!(listed.status, 403, "{listed:?}");
        let again = admin
            .post("/admin/impersonate-user", json!({ "userId": plain_id }))
            .await;
        assert_eq!(again.status, 403, "{again:?}");

        // The kept admin session must be the impersonating admin's: the
        // user's own signed session cookie put in its place is refused.
        let session_cookie = "better-auth.session_token";
        let kept_cookie = "better-auth.admin_session";
        let kept = admin.jar[kept_cookie].clone();
        admin
            .jar
            .insert(kept_cookie.into(), plain.jar[session_cookie].clone());
        let forged = admin.post("/admin/stop-impersonating", json!({})).await;
        assert_eq!(forged.status, 400, "{forged:?}");
        admin.jar.remove(kept_cookie);
        let missing = admin.post("/admin/stop-impersonating", json!({})).await;
        assert_eq!(missing.status, 400, "{missing:?}");
        admin.jar.insert(kept_cookie.into(), kept);

        // Stopping ends the impersonation session and restores the admin's.
        let stopped = admin.post("/admin/stop-impersonating", json!({})).await;
        assert_eq!(stopped.status, 200, "{stopped:?}");
        assert_eq!(stopped.body["user"]["id"], admin_id.as_str());
        assert_eq!(
            stopped.cookies.get(kept_cookie).map(String::as_str),
            Some("")
        );
        let back = admin.get("/get-session").await;
        assert_eq!(back.body["user"]["id"], admin_id.as_str(), "{back:?}");
        assert_eq!(back.body["session"]["impersonatedBy"], Value::Null);
        assert_eq!(impersonation_sessions(&server).await, 0);
        let not_now = admin.post("/admin/stop-impersonating", json!({})).await;
        assert_eq!(not_now.status, 400, "{not_now:?}");

        // An impersonation lasts an hour, whatever the session length.
        let started = admin
            .post("/admin/impersonate-user", json!({ "userId": plain_id }))
            .await;
        assert_eq!(started.status, 200, "{started:?}");
        server.clock.advance(Duration::from_secs(3601));
        let over = admin.get("/get-session").await;
        assert_eq!(over.body, Value::Null, "{over:?}");
        let own = plain.get("/get-session").await;
        assert_eq!(own.body["user"]["id"], plain_id.as_str(), "{own:?}");
    }
);

all_backends!(
    has_permission_follows_the_roles,
    on_server,
    |server: PluginServer| async move {
        let (mut admin, _) = user(&server, "admin@example.com", "admin").await;
        let (mut plain, _) = user(&server, "plain@example.com", "user").await;
        let (mut support, _) = user(&server, "support@example.com", "support").await;
        let ask = |permissions: Value| json!({ "permissions": permissions });
        let cases = [
            ("admin", json!({ "user": ["ban", "list"] }), true),
            ("admin", json!({ "session": ["revoke"] }), true),
            ("admin", json!({ "user": ["impersonate-admins"] }), false),
            ("plain", json!({ "user": ["list"] }), false),
            ("support", json!({ "user": ["list", "get"] }), true),
            ("support", json!({ "user": ["list", "ban"] }), false),
            (
                "support",
                json!({ "user": { "actions": ["list", "ban"], "connector": "OR" } }),
                true,
            ),
        ];
        for (who, permissions, expected) in cases {
            let browser = match who {
                "admin" => &mut admin,
                "plain" => &mut plain,
                _ => &mut support,
            };
            let answer = browser
                .post("/admin/has-permission", ask(permissions.clone()))
                .await;
            assert_eq!(answer.status, 200, "{who} {permissions}: {answer:?}");
            assert_eq!(
                answer.body["success"], expected,
                "{who} {permissions}: {answer:?}"
            );
        }
        let none = admin.post("/admin/has-permission", json!({})).await;
        assert_eq!(none.status, 400, "{none:?}");
        let mut anonymous = Browser::new(&server.base);
        let anonymous = anonymous
            .post("/admin/has-permission", ask(json!({ "user": ["list"] })))
            .await;
        assert_eq!(anonymous.status, 401, "{anonymous:?}");

        // A role given permissions uses exactly those.
        let listed = support.get("/admin/list-users").await;
        assert_eq!(listed.status, 200, "{listed:?}");
        let banned = support
            .post("/admin/ban-user", json!({ "userId": "x" }))
            .await;
        assert_eq!(banned.status, 403, "{banned:?}");
        // With roles configured, unknown ones cannot be given.
        let (_, target) = user(&server, "target@example.com", "user").await;
        let unknown = admin
            .post(
                "/admin/set-role",
                json!({ "userId": target, "role": "wizard" }),
            )
            .await;
        assert_eq!(unknown.status, 400, "{unknown:?}");
        assert_eq!(
            code(&unknown),
            "YOU_ARE_NOT_ALLOWED_TO_SET_NON_EXISTENT_VALUE"
        );
        let known = admin
            .post(
                "/admin/set-role",
                json!({ "userId": target, "role": ["support", "user"] }),
            )
            .await;
        assert_eq!(known.status, 200, "{known:?}");
        assert_eq!(known.body["user"]["role"], "support,user");
    }
);

all_backends!(
    update_user_checks_each_kind_of_change,
    on_server,
    |server: PluginServer| async move {
        let (mut admin, admin_id) = user(&server, "admin@example.com", "admin").await;
        let (mut target, target_id) = user(&server, "target@example.com", "user").await;
        let (mut support, _) = user(&server, "support@example.com", "support").await;
        let update = |data: Value| json!({ "userId": target_id, "data": data });

        let refused = support
            .post("/admin/update-user", update(json!({ "name": "X" })))
            .await;
        assert_eq!(refused.status, 403, "{refused:?}");
        assert_eq!(code(&refused), "YOU_ARE_NOT_ALLOWED_TO_UPDATE_USERS");
        for (data, expected) in [
            (json!({}), "NO_DATA_TO_UPDATE"),
            (
                json!({ "password": "x" }),
                "PASSWORD_CANNOT_BE_UPDATED_VIA_UPDATE_USER",
            ),
            (json!({ "id": "x" }), "USER_ID_CANNOT_BE_UPDATED"),
            (json!({ "role": 5 }), "INVALID_ROLE_TYPE"),
            (
                json!({ "email": "admin@example.com" }),
                "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
            ),
        ] {
            let answer = admin.post("/admin/update-user", update(data.clone())).await;
            assert_eq!(answer.status, 400, "{data}: {answer:?}");
            assert_eq!(code(&answer), expected, "{data}: {answer:?}");
        }
        let unknown_field = admin
            .post("/admin/update-user", update(json!({ "shoeSize": 44 })))
            .await;
        assert_eq!(unknown_field.status, 400, "{unknown_field:?}");
        let missing = admin
            .post(
                "/admin/update-user",
                json!({ "userId": "nobody", "data": { "name": "X" } }),
            )
            .await;
        assert_eq!(missing.status, 404, "{missing:?}");

        let changed = admin
            .post(
                "/admin/update-user",
                update(json!({
                    "name": "Grace",
                    "image": "https://example.com/g.png",
                    "email": "Grace@Example.com",
                    "emailVerified": true,
                    "role": "support"
                })),
            )
            .await;
        assert_eq!(changed.status, 200, "{changed:?}");
        assert_eq!(changed.body["name"], "Grace");
        assert_eq!(changed.body["email"], "grace@example.com");
        assert_eq!(changed.body["emailVerified"], true);
        assert_eq!(changed.body["role"], "support");
        let seen = target.get("/get-session").await;
        assert_eq!(seen.body["user"]["email"], "grace@example.com", "{seen:?}");

        // Banning through update-user ends the sessions too; not oneself.
        let own = admin
            .post(
                "/admin/update-user",
                json!({ "userId": admin_id, "data": { "banned": true } }),
            )
            .await;
        assert_eq!(code(&own), "YOU_CANNOT_BAN_YOURSELF", "{own:?}");
        let banned = admin
            .post(
                "/admin/update-user",
                update(json!({ "banned": true, "banReason": "spam" })),
            )
            .await;
        assert_eq!(banned.status, 200, "{banned:?}");
        assert_eq!(banned.body["banned"], true);
        let gone = target.get("/get-session").await;
        assert_eq!(gone.body, Value::Null, "{gone:?}");
    }
);

all_backends!(
    one_session_is_revoked_and_created_users_take_data,
    on_server,
    |server: PluginServer| async move {
        let (mut admin, _) = user(&server, "admin@example.com", "admin").await;
        let (mut first, target_id) = user(&server, "target@example.com", "user").await;
        let mut second = Browser::new(&server.base);
        let signed_in = second
            .post(
                "/sign-in/email",
                json!({ "email": "target@example.com", "password": PASSWORD }),
            )
            .await;
        assert_eq!(signed_in.status, 200, "{signed_in:?}");
        let listed = admin
            .post("/admin/list-user-sessions", json!({ "userId": target_id }))
            .await;
        let sessions = listed.body["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 2, "{listed:?}");
        let second_id = second.get("/get-session").await.body["session"]["id"].clone();
        let token = sessions.iter().find(|s| s["id"] == second_id).unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let revoked = admin
            .post(
                "/admin/revoke-user-session",
                json!({ "sessionToken": token }),
            )
            .await;
        assert_eq!(revoked.status, 200, "{revoked:?}");
        assert_eq!(second.get("/get-session").await.body, Value::Null);
        assert_ne!(first.get("/get-session").await.body, Value::Null);

        let created = admin
            .post(
                "/admin/create-user",
                json!({
                    "email": "made@example.com",
                    "name": "Made",
                    "password": PASSWORD,
                    "data": {
                        "emailVerified": true,
                        "image": "https://example.com/m.png",
                        "role": "support"
                    }
                }),
            )
            .await;
        assert_eq!(created.status, 200, "{created:?}");
        assert_eq!(created.body["user"]["emailVerified"], true);
        assert_eq!(created.body["user"]["role"], "support");
        let wrong_type = admin
            .post(
                "/admin/create-user",
                json!({ "email": "bad@example.com", "name": "B", "data": { "banned": "yes" } }),
            )
            .await;
        assert_eq!(wrong_type.status, 400, "{wrong_type:?}");
        let (mut support, _) = user(&server, "support@example.com", "support").await;
        let refused = support
            .post(
                "/admin/create-user",
                json!({ "email": "x@example.com", "name": "X" }),
            )
            .await;
        assert_eq!(refused.status, 403, "{refused:?}");
    }
);
