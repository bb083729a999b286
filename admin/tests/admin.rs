//! Admin tools through HTTP, on SQLite, PostgreSQL and MySQL: who may use them, bans,
//! roles, user search and session management, and the security requirement
//! S74 by name.

use std::time::Duration;

use better_auth::store::with_pool;
use better_auth_admin::AdminPlugin;
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
    if let Some(server) = PluginServer::start(backend, |b| b.plugin(AdminPlugin::new())).await {
        body(server).await;
    }
}

/// A signed-in browser of a new user, and the user's id.
async fn user(server: &PluginServer, email: &str) -> (Browser, String) {
    let mut browser = Browser::new(&server.base);
    let up = browser
        .post(
            "/sign-up/email",
            json!({ "name": "Ada", "email": email, "password": PASSWORD }),
        )
        .await;
    assert_eq!(up.status, 200, "{up:?}");
    let id = up.body["user"]["id"].as_str().unwrap().to_owned();
    (browser, id)
}

/// Makes a user an admin in the database, as an operator would for the first one.
async fn make_admin(server: &PluginServer, email: &str) {
    let sql = r#"UPDATE "user" SET "role" = 'admin' WHERE "email" = $1"#;
    let db = &server.database;
    let changed = async {
        Ok::<_, better_auth::Error>(with_pool!(db, |pool| sqlx::query(sql)
            .bind(email)
            .execute(pool)
            .await?
            .rows_affected()))
    };
    let changed = changed.await.unwrap();
    assert_eq!(changed, 1, "{email} is a user");
}

async fn sign_in(server: &PluginServer, email: &str) -> (Browser, Answer) {
    let mut browser = Browser::new(&server.base);
    let answer = browser
        .post(
            "/sign-in/email",
            json!({ "email": email, "password": PASSWORD }),
        )
        .await;
    (browser, answer)
}

/// Every admin route, with a body naming `user_id`.
fn routes(user_id: &str) -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "POST",
            "/admin/set-role",
            json!({ "userId": user_id, "role": "admin" }),
        ),
        ("POST", "/admin/ban-user", json!({ "userId": user_id })),
        ("POST", "/admin/unban-user", json!({ "userId": user_id })),
        ("GET", "/admin/list-users", Value::Null),
        ("GET", "/admin/get-user", Value::Null),
        (
            "POST",
            "/admin/list-user-sessions",
            json!({ "userId": user_id }),
        ),
        (
            "POST",
            "/admin/revoke-user-sessions",
            json!({ "userId": user_id }),
        ),
        ("POST", "/admin/remove-user", json!({ "userId": user_id })),
        (
            "POST",
            "/admin/create-user",
            json!({ "email": "new@example.com", "name": "N", "password": PASSWORD }),
        ),
        (
            "POST",
            "/admin/set-user-password",
            json!({ "userId": user_id, "newPassword": "another long passphrase" }),
        ),
        (
            "POST",
            "/admin/update-user",
            json!({ "userId": user_id, "data": { "name": "X" } }),
        ),
        (
            "POST",
            "/admin/revoke-user-session",
            json!({ "sessionToken": "a-token" }),
        ),
        (
            "POST",
            "/admin/impersonate-user",
            json!({ "userId": user_id }),
        ),
    ]
}

async fn call(browser: &mut Browser, method: &str, path: &str, body: Value, id: &str) -> Answer {
    match method {
        "GET" => browser.get(&format!("{path}?id={id}")).await,
        _ => browser.post(path, body).await,
    }
}

// S74: only admins reach the admin routes (401 without a session, 403 with a
// user's); a role is read with the session, so a demoted admin is refused at
// once; and a banned user has no session by any sign-in until the ban ends.
all_backends!(
    s74_admin_routes_need_an_admin_and_bans_hold,
    on_server,
    |server: PluginServer| async move {
        let (mut plain, plain_id) = user(&server, "plain@example.com").await;
        let (_, target_id) = user(&server, "target@example.com").await;
        let mut anonymous = Browser::new(&server.base);
        for (method, path, body) in routes(&target_id) {
            let none = call(&mut anonymous, method, path, body.clone(), &target_id).await;
            assert_eq!(none.status, 401, "{path}: {none:?}");
            let refused = call(&mut plain, method, path, body, &target_id).await;
            assert_eq!(refused.status, 403, "{path}: {refused:?}");
            assert!(
                refused.body["code"]
                    .as_str()
                    .unwrap()
                    .starts_with("YOU_ARE_NOT_ALLOWED"),
                "{path}: {refused:?}"
            );
        }
        // Nothing changed for the target.
        let (_, target) = sign_in(&server, "target@example.com").await;
        assert_eq!(target.status, 200, "{target:?}");
        assert_eq!(target.body["user"]["role"], "user");
        assert_eq!(target.body["user"]["banned"], false);

        // An admin bans the target: their sessions end, and sign-in is refused.
        let (mut admin, _) = user(&server, "admin@example.com").await;
        make_admin(&server, "admin@example.com").await;
        let (mut target, _) = sign_in(&server, "target@example.com").await;
        let banned = admin
            .post(
                "/admin/ban-user",
                json!({ "userId": target_id, "banReason": "spam", "banExpiresIn": 3600 }),
            )
            .await;
        assert_eq!(banned.status, 200, "{banned:?}");
        assert_eq!(banned.body["user"]["banned"], true);
        assert_eq!(banned.body["user"]["banReason"], "spam");
        assert!(banned.body["user"]["banExpires"].is_string(), "{banned:?}");
        assert_eq!(target.get("/get-session").await.body, Value::Null);
        let (_, refused) = sign_in(&server, "target@example.com").await;
        assert_eq!(refused.status, 403, "{refused:?}");
        assert_eq!(refused.body["code"], "BANNED_USER");
        // The ban ends by itself.
        server.clock.advance(Duration::from_secs(3601));
        let (mut back, answer) = sign_in(&server, "target@example.com").await;
        assert_eq!(answer.status, 200, "{answer:?}");
        let lifted = back.get("/get-session").await;
        assert_eq!(lifted.body["user"]["banned"], false, "{lifted:?}");
        assert_eq!(lifted.body["user"]["banExpires"], Value::Null);
        // A ban without an end lasts until lifted.
        admin
            .post("/admin/ban-user", json!({ "userId": target_id }))
            .await;
        server.clock.advance(Duration::from_secs(400 * 24 * 3600));
        assert_eq!(sign_in(&server, "target@example.com").await.1.status, 403);
        // (The admin's own session ended meanwhile.)
        let (again, _) = sign_in(&server, "admin@example.com").await;
        admin = again;
        let lifted = admin
            .post("/admin/unban-user", json!({ "userId": target_id }))
            .await;
        assert_eq!(lifted.body["user"]["banned"], false, "{lifted:?}");
        assert_eq!(sign_in(&server, "target@example.com").await.1.status, 200);
        // No banning oneself.
        let me = admin.get("/get-session").await.body["user"]["id"].clone();
        let myself = admin.post("/admin/ban-user", json!({ "userId": me })).await;
        assert_eq!(myself.body["code"], "YOU_CANNOT_BAN_YOURSELF", "{myself:?}");

        // A second admin demotes the first: refused on their next request.
        let promoted = admin
            .post(
                "/admin/set-role",
                json!({ "userId": plain_id, "role": ["admin"] }),
            )
            .await;
        assert_eq!(promoted.body["user"]["role"], "admin", "{promoted:?}");
        let (mut second, _) = sign_in(&server, "plain@example.com").await;
        assert_eq!(second.get("/admin/list-users").await.status, 200);
        let demoted = second
            .post("/admin/set-role", json!({ "userId": me, "role": "user" }))
            .await;
        assert_eq!(demoted.status, 200, "{demoted:?}");
        assert_eq!(admin.get("/admin/list-users").await.status, 403);
    }
);

// Roles, search, paging, one user, sessions and removal, as an admin.
all_backends!(
    users_and_sessions_as_an_admin,
    on_server,
    |server: PluginServer| async move {
        let (mut admin, _) = user(&server, "root@example.com").await;
        make_admin(&server, "root@example.com").await;
        let mut ids = Vec::new();
        for name in ["ann", "bob", "bea", "cid"] {
            ids.push(user(&server, &format!("{name}@example.com")).await.1);
        }
        let all = admin.get("/admin/list-users").await;
        assert_eq!(all.status, 200, "{all:?}");
        assert_eq!(all.body["total"], 5);
        // Created in the same instant (the test clock): then by id.
        assert_eq!(all.body["users"].as_array().unwrap().len(), 5);
        let by_email = admin.get("/admin/list-users?sortBy=email").await;
        assert_eq!(by_email.body["users"][0]["email"], "ann@example.com");
        assert_eq!(by_email.body["users"][4]["email"], "root@example.com");
        assert_eq!(all.body.get("limit"), None);

        let page = admin
            .get("/admin/list-users?searchValue=B&searchField=email&searchOperator=starts_with&sortBy=email&sortDirection=desc&limit=1&offset=1")
            .await;
        assert_eq!(page.body["total"], 2, "{page:?}");
        assert_eq!(page.body["limit"], 1);
        assert_eq!(page.body["offset"], 1);
        let emails: Vec<&str> = page.body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap())
            .collect();
        assert_eq!(emails, ["bea@example.com"]);
        // A search that is a pattern for SQL finds nothing.
        let literal = admin.get("/admin/list-users?searchValue=%25").await;
        assert_eq!(literal.body["total"], 0, "{literal:?}");

        admin
            .post(
                "/admin/set-role",
                json!({ "userId": ids[3], "role": "support,admin" }),
            )
            .await;
        let admins = admin
            .get("/admin/list-users?filterField=role&filterValue=admin")
            .await;
        assert_eq!(admins.body["total"], 1, "{admins:?}");
        let users = admin
            .get("/admin/list-users?filterField=role&filterValue=user")
            .await;
        assert_eq!(users.body["total"], 3, "{users:?}");
        let unknown = admin.get("/admin/list-users?sortBy=password").await;
        assert_eq!(unknown.status, 400, "{unknown:?}");

        let one = admin.get(&format!("/admin/get-user?id={}", ids[3])).await;
        assert_eq!(one.body["email"], "cid@example.com");
        assert_eq!(one.body["role"], "support,admin");
        assert_eq!(admin.get("/admin/get-user?id=nobody").await.status, 404);

        let (mut ann, _) = sign_in(&server, "ann@example.com").await;
        let listed = admin
            .post("/admin/list-user-sessions", json!({ "userId": ids[0] }))
            .await;
        assert_eq!(
            listed.body["sessions"].as_array().unwrap().len(),
            2,
            "{listed:?}"
        );
        let revoked = admin
            .post("/admin/revoke-user-sessions", json!({ "userId": ids[0] }))
            .await;
        assert_eq!(revoked.body, json!({ "success": true }));
        assert_eq!(ann.get("/get-session").await.body, Value::Null);

        let removed = admin
            .post("/admin/remove-user", json!({ "userId": ids[1] }))
            .await;
        assert_eq!(removed.body, json!({ "success": true }), "{removed:?}");
        assert_eq!(sign_in(&server, "bob@example.com").await.1.status, 401);
        let again = admin
            .post("/admin/remove-user", json!({ "userId": ids[1] }))
            .await;
        assert_eq!(again.status, 404);
        let bad_role = admin
            .post(
                "/admin/set-role",
                json!({ "userId": ids[0], "role": "a b" }),
            )
            .await;
        assert_eq!(bad_role.body["code"], "INVALID_ROLE_TYPE", "{bad_role:?}");
    }
);

// Creating users (with roles, with or without a password) and setting a
// user's password (their sessions end; the new one signs in).
all_backends!(
    create_users_and_set_passwords,
    on_server,
    |server: PluginServer| async move {
        let (mut admin, _) = user(&server, "boss@example.com").await;
        make_admin(&server, "boss@example.com").await;
        let created = admin
            .post(
                "/admin/create-user",
                json!({ "email": " New@Example.com ", "name": "Nell", "password": PASSWORD, "role": ["support", "admin"] }),
            )
            .await;
        assert_eq!(created.status, 200, "{created:?}");
        assert_eq!(created.body["user"]["email"], "new@example.com");
        assert_eq!(created.body["user"]["role"], "support,admin");
        let (_, nell) = sign_in(&server, "new@example.com").await;
        assert_eq!(nell.status, 200, "{nell:?}");
        assert_eq!(nell.body["user"]["role"], "support,admin");
        let plain = admin
            .post(
                "/admin/create-user",
                json!({ "email": "linkonly@example.com", "name": "Lin" }),
            )
            .await;
        assert_eq!(plain.body["user"]["role"], "user", "{plain:?}");
        assert_eq!(sign_in(&server, "linkonly@example.com").await.1.status, 401);
        let twice = admin
            .post(
                "/admin/create-user",
                json!({ "email": "new@example.com", "name": "Again", "password": PASSWORD }),
            )
            .await;
        assert_eq!(
            twice.body["code"], "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
            "{twice:?}"
        );
        let short = admin
            .post(
                "/admin/create-user",
                json!({ "email": "short@example.com", "name": "S", "password": "short" }),
            )
            .await;
        assert_eq!(short.status, 400, "{short:?}");

        let (mut old, _) = sign_in(&server, "new@example.com").await;
        let id = created.body["user"]["id"].as_str().unwrap();
        let set = admin
            .post(
                "/admin/set-user-password",
                json!({ "userId": id, "newPassword": "a fresh admin-set passphrase" }),
            )
            .await;
        assert_eq!(set.body, json!({ "status": true }), "{set:?}");
        assert_eq!(old.get("/get-session").await.body, Value::Null);
        assert_eq!(sign_in(&server, "new@example.com").await.1.status, 401);
        let fresh = Browser::new(&server.base)
            .post(
                "/sign-in/email",
                json!({ "email": "new@example.com", "password": "a fresh admin-set passphrase" }),
            )
            .await;
        assert_eq!(fresh.status, 200, "{fresh:?}");
        // A user without a password gets one.
        let lin = plain.body["user"]["id"].as_str().unwrap();
        admin
            .post(
                "/admin/set-user-password",
                json!({ "userId": lin, "newPassword": "a fresh admin-set passphrase" }),
            )
            .await;
        let lin_in = Browser::new(&server.base)
            .post(
                "/sign-in/email",
                json!({ "email": "linkonly@example.com", "password": "a fresh admin-set passphrase" }),
            )
            .await;
        assert_eq!(lin_in.status, 200, "{lin_in:?}");
        let missing = admin
            .post(
                "/admin/set-user-password",
                json!({ "userId": "nobody", "newPassword": "a fresh admin-set passphrase" }),
            )
            .await;
        assert_eq!(missing.status, 404, "{missing:?}");
    }
);
