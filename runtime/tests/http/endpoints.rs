//! Every core endpoint over HTTP, with the wire format the JS client expects.

use better_auth_test_support::all_backends;
use serde_json::json;

use crate::common::*;

all_backends!(
    sign_up_answers_token_user_and_session_cookie,
    with_server,
    |srv: TestServer| async move {
        let resp = srv
            .post("/api/auth/sign-up/email")
            .json(json!({ "name": "Ada", "email": "Ada@Example.COM", "password": PASSWORD }))
            .send()
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        let user = &resp.body["user"];
        assert_eq!(user["email"], "ada@example.com", "emails are lower-cased");
        assert_eq!(user["name"], "Ada");
        assert_eq!(user["emailVerified"], false);
        assert_eq!(user["id"].as_str().unwrap().len(), 32);
        let created = user["createdAt"].as_str().unwrap();
        assert!(
            created.ends_with('Z') && created.len() == 24,
            "ISO with millis: {created}"
        );
        let token = resp.body["token"].as_str().unwrap();
        let signed = resp.auth_token();
        assert!(signed.starts_with(&format!("{token}.")));
        assert_eq!(
            resp.header("access-control-expose-headers"),
            Some("set-auth-token")
        );
        let cookie = resp
            .set_cookies()
            .into_iter()
            .find(|c| c.starts_with("better-auth.session_token="))
            .unwrap();
        for attr in ["Max-Age=604800", "Path=/", "HttpOnly", "SameSite=Lax"] {
            assert!(cookie.contains(attr), "{cookie} lacks {attr}");
        }
        assert!(
            !cookie.contains("Secure") && !cookie.contains("Domain"),
            "{cookie}"
        );
        // The cookie carries the same signed value, URL-encoded.
        let value = cookie.split(';').next().unwrap().split_once('=').unwrap().1;
        assert_eq!(
            percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .unwrap(),
            signed
        );
    }
);

all_backends!(
    sign_up_with_taken_email_is_422,
    with_server,
    |srv: TestServer| async move {
        srv.user("ada@example.com").await;
        let resp = srv.sign_up("ADA@example.com").await;
        assert_eq!(resp.status, 422);
        assert_eq!(
            resp.body,
            json!({
                "message": "User already exists. Use another email.",
                "code": "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"
            })
        );
    }
);

all_backends!(
    sign_up_validation_errors_are_400,
    with_server,
    |srv: TestServer| async move {
        let resp = srv
            .post("/api/auth/sign-up/email")
            .json(json!({ "name": "Ada", "email": "not-an-email", "password": PASSWORD }))
            .send()
            .await;
        assert_eq!(resp.status, 400);
        assert_eq!(resp.code(), "VALIDATION_ERROR");
        assert_eq!(resp.body["message"], "[body.email] Invalid email address");
    }
);

#[tokio::test]
async fn sign_up_can_be_disabled() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let mut setup = Setup::new();
    setup.email_password = better_auth::plugins::EmailPasswordPlugin::new().enable_signup(false);
    let srv = TestServer::start_with(&db, setup).await;
    let resp = srv.sign_up("ada@example.com").await;
    assert_eq!(resp.status, 400);
    assert_eq!(resp.code(), "EMAIL_PASSWORD_SIGN_UP_DISABLED");
    // Sign-in stays available.
    let resp = srv.sign_in("ada@example.com", PASSWORD).await;
    assert_eq!(resp.status, 401);
}

all_backends!(
    sign_in_answers_redirect_token_user,
    with_server,
    |srv: TestServer| async move {
        srv.user("ada@example.com").await;
        let resp = srv.sign_in("ADA@example.com", PASSWORD).await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.body["redirect"], false);
        assert_eq!(resp.body["user"]["email"], "ada@example.com");
        assert!(resp.body["token"].is_string());
        assert!(resp.body.get("url").is_none());
        assert!(
            resp.auth_token()
                .starts_with(resp.body["token"].as_str().unwrap())
        );
        assert!(
            resp.session_cookie()
                .starts_with("better-auth.session_token=")
        );

        let resp = srv
        .post("/api/auth/sign-in/email")
        .json(json!({ "email": "ada@example.com", "password": PASSWORD, "callbackURL": "/dashboard" }))
        .send()
        .await;
        assert_eq!(resp.body["url"], "/dashboard");
    }
);

all_backends!(
    sign_in_without_remember_me_sets_a_browser_session_cookie,
    with_server,
    |srv: TestServer| async move {
        srv.user("ada@example.com").await;
        let resp = srv
            .post("/api/auth/sign-in/email")
            .json(json!({ "email": "ada@example.com", "password": PASSWORD, "rememberMe": false }))
            .send()
            .await;
        assert_eq!(resp.status, 200);
        let cookies = resp.set_cookies();
        let session = cookies
            .iter()
            .find(|c| c.starts_with("better-auth.session_token="))
            .unwrap();
        assert!(!session.contains("Max-Age"), "{session}");
        assert!(
            cookies
                .iter()
                .any(|c| c.starts_with("better-auth.dont_remember="))
        );
    }
);

all_backends!(
    get_session_returns_session_and_user_or_null,
    with_server,
    |srv: TestServer| async move {
        let resp = srv.get("/api/auth/get-session").send().await;
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, serde_json::Value::Null);
        assert_eq!(resp.header("cache-control"), Some("no-store"));

        let signed = srv.user("ada@example.com").await;
        let resp = srv
            .get("/api/auth/get-session")
            .bearer(&signed)
            .send()
            .await;
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("cache-control"), Some("no-store"));
        let session = &resp.body["session"];
        let user = &resp.body["user"];
        assert_eq!(user["email"], "ada@example.com");
        assert_eq!(session["userId"], user["id"]);
        for field in [
            "id",
            "token",
            "expiresAt",
            "createdAt",
            "updatedAt",
            "ipAddress",
            "userAgent",
        ] {
            assert!(
                session.get(field).is_some(),
                "session lacks {field}: {session}"
            );
        }
        assert_eq!(session["ipAddress"], "127.0.0.1");
        // A fresh session is not refreshed, so no cookie is set.
        assert!(resp.set_cookies().is_empty());
    }
);

all_backends!(
    get_session_reads_the_cookie,
    with_server,
    |srv: TestServer| async move {
        let resp = srv.sign_up("ada@example.com").await;
        let cookie = resp.session_cookie();
        let resp = srv
            .get("/api/auth/get-session")
            .header("cookie", &cookie)
            .send()
            .await;
        assert_eq!(resp.body["user"]["email"], "ada@example.com");
        // A tampered signature is no session at all.
        let tampered = cookie.replace("%3D", "A%3D");
        let resp = srv
            .get("/api/auth/get-session")
            .header("cookie", &tampered)
            .send()
            .await;
        assert_eq!(resp.body, serde_json::Value::Null);
    }
);

all_backends!(
    sign_out_ends_the_session_and_clears_cookies,
    with_server,
    |srv: TestServer| async move {
        let resp = srv.sign_up("ada@example.com").await;
        let cookie = resp.session_cookie();
        let resp = srv
            .post("/api/auth/sign-out")
            .cookie(&cookie)
            .json(json!({}))
            .send()
            .await;
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, json!({ "success": true }));
        let cleared = resp.set_cookies();
        for name in [
            "better-auth.session_token=;",
            "better-auth.session_data=;",
            "better-auth.dont_remember=;",
        ] {
            assert!(
                cleared
                    .iter()
                    .any(|c| c.starts_with(name) && c.contains("Max-Age=0")),
                "{name} not cleared: {cleared:?}"
            );
        }
        let resp = srv
            .get("/api/auth/get-session")
            .header("cookie", &cookie)
            .send()
            .await;
        assert_eq!(resp.body, serde_json::Value::Null);
        // Without any session it still answers success.
        let resp = srv.post("/api/auth/sign-out").json(json!({})).send().await;
        assert_eq!(resp.body, json!({ "success": true }));
    }
);

all_backends!(
    list_sessions_returns_the_callers_active_sessions,
    with_server,
    |srv: TestServer| async move {
        let first = srv.user("ada@example.com").await;
        let second = srv.sign_in("ada@example.com", PASSWORD).await.auth_token();
        srv.user("bob@example.com").await;
        let resp = srv
            .get("/api/auth/list-sessions")
            .bearer(&first)
            .send()
            .await;
        assert_eq!(resp.status, 200);
        let sessions = resp.body.as_array().unwrap();
        assert_eq!(sessions.len(), 2, "only Ada's two sessions: {sessions:?}");
        let current = srv
            .get("/api/auth/get-session")
            .bearer(&second)
            .send()
            .await;
        assert!(
            sessions
                .iter()
                .any(|s| s["token"] == current.body["session"]["token"])
        );

        let resp = srv.get("/api/auth/list-sessions").send().await;
        assert_eq!(resp.status, 401);
        assert_eq!(resp.code(), "UNAUTHORIZED");
    }
);

all_backends!(
    revoke_session_by_listed_token,
    with_server,
    |srv: TestServer| async move {
        let first = srv.user("ada@example.com").await;
        let second = srv.sign_in("ada@example.com", PASSWORD).await.auth_token();
        let listed = srv
            .get("/api/auth/get-session")
            .bearer(&second)
            .send()
            .await;
        let digest = listed.body["session"]["token"].as_str().unwrap().to_owned();
        let resp = srv
            .post("/api/auth/revoke-session")
            .bearer(&first)
            .json(json!({ "token": digest }))
            .send()
            .await;
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, json!({ "status": true }));
        let resp = srv
            .get("/api/auth/get-session")
            .bearer(&second)
            .send()
            .await;
        assert_eq!(
            resp.body,
            serde_json::Value::Null,
            "revoked session is dead"
        );
        let resp = srv.get("/api/auth/get-session").bearer(&first).send().await;
        assert_eq!(
            resp.body["user"]["email"], "ada@example.com",
            "the other one lives"
        );
        // Missing token field: 400.
        let resp = srv
            .post("/api/auth/revoke-session")
            .bearer(&first)
            .json(json!({}))
            .send()
            .await;
        assert_eq!(resp.status, 400);
        assert_eq!(resp.code(), "VALIDATION_ERROR");
    }
);

all_backends!(
    revoke_sessions_ends_all_of_them,
    with_server,
    |srv: TestServer| async move {
        let first = srv.user("ada@example.com").await;
        let second = srv.sign_in("ada@example.com", PASSWORD).await.auth_token();
        let resp = srv
            .post("/api/auth/revoke-sessions")
            .bearer(&first)
            .json(json!({}))
            .send()
            .await;
        assert_eq!(resp.body, json!({ "status": true }));
        for token in [&first, &second] {
            let resp = srv.get("/api/auth/get-session").bearer(token).send().await;
            assert_eq!(resp.body, serde_json::Value::Null);
        }
    }
);

all_backends!(
    revoke_other_sessions_keeps_the_current_one,
    with_server,
    |srv: TestServer| async move {
        let first = srv.user("ada@example.com").await;
        let second = srv.sign_in("ada@example.com", PASSWORD).await.auth_token();
        let third = srv.sign_in("ada@example.com", PASSWORD).await.auth_token();
        let resp = srv
            .post("/api/auth/revoke-other-sessions")
            .bearer(&second)
            .json(json!({}))
            .send()
            .await;
        assert_eq!(resp.body, json!({ "status": true }));
        let alive = |t: &String| {
            let t = t.clone();
            let srv = &srv;
            async move {
                srv.get("/api/auth/get-session")
                    .bearer(&t)
                    .send()
                    .await
                    .body
                    != serde_json::Value::Null
            }
        };
        assert!(!alive(&first).await);
        assert!(alive(&second).await);
        assert!(!alive(&third).await);
    }
);

all_backends!(
    ok_answers_ok_true,
    with_server,
    |srv: TestServer| async move {
        let resp = srv.get("/api/auth/ok").send().await;
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, json!({ "ok": true }));
    }
);

all_backends!(
    update_user_changes_name_and_image_only,
    with_server,
    |srv: TestServer| async move {
        let token = srv.user("ada@example.com").await;
        let resp = srv
            .post("/api/auth/update-user")
            .bearer(&token)
            .json(json!({ "name": "Ada L", "image": "https://example.com/a.png" }))
            .send()
            .await;
        assert_eq!(resp.body, json!({ "status": true }));
        let session = srv.get("/api/auth/get-session").bearer(&token).send().await;
        assert_eq!(session.body["user"]["name"], "Ada L");
        assert_eq!(session.body["user"]["image"], "https://example.com/a.png");
        let resp = srv
            .post("/api/auth/update-user")
            .bearer(&token)
            .json(json!({}))
            .send()
            .await;
        assert_eq!(resp.status, 400, "nothing to update");
    }
);

all_backends!(
    change_password_and_list_accounts,
    with_server,
    |srv: TestServer| async move {
        let token = srv.user("ada@example.com").await;
        let resp = srv
            .get("/api/auth/list-accounts")
            .bearer(&token)
            .send()
            .await;
        let accounts = resp.body.as_array().unwrap().clone();
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0]["providerId"], "credential");
        assert_eq!(accounts[0]["accountId"], accounts[0]["userId"]);
        assert_eq!(accounts[0]["scopes"], json!([]));
        assert!(accounts[0].get("password").is_none());

        let resp = srv
        .post("/api/auth/change-password")
        .bearer(&token)
        .json(json!({ "currentPassword": "wrong password!", "newPassword": "a brand new password" }))
        .send()
        .await;
        assert_eq!(resp.status, 400);
        assert_eq!(resp.code(), "INVALID_PASSWORD");
        let resp = srv
            .post("/api/auth/change-password")
            .bearer(&token)
            .json(json!({ "currentPassword": PASSWORD, "newPassword": "a brand new password" }))
            .send()
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(srv.sign_in("ada@example.com", PASSWORD).await.status, 401);
        assert_eq!(
            srv.sign_in("ada@example.com", "a brand new password")
                .await
                .status,
            200
        );
    }
);

/// With the opt-in session cache, this instance's own revocations and
/// sign-outs take effect at once; another instance sees them within the ttl.
#[tokio::test]
async fn session_cache_never_serves_a_session_this_instance_ended() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let mut setup = Setup::new();
    setup.config = setup
        .config
        .session_cache(std::time::Duration::from_secs(1));
    let cached = TestServer::start_with(&db, setup).await;
    let other = TestServer::start_with(&db, Setup::new()).await;
    let a = cached.user("ada@example.com").await;
    let b = cached
        .sign_in("ada@example.com", PASSWORD)
        .await
        .auth_token();
    assert_eq!(cached.get("/api/me").bearer(&a).send().await.status, 200);
    assert_eq!(cached.get("/api/me").bearer(&b).send().await.status, 200);
    cached
        .post("/api/auth/sign-out")
        .bearer(&a)
        .json(json!({}))
        .send()
        .await;
    assert_eq!(cached.get("/api/me").bearer(&a).send().await.status, 401);
    // Revoked through another instance: stale here for at most the ttl.
    other
        .post("/api/auth/revoke-sessions")
        .bearer(&b)
        .json(json!({}))
        .send()
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(cached.get("/api/me").bearer(&b).send().await.status, 401);
}

all_backends!(
    an_optional_body_is_absent_or_json_never_whitespace,
    with_server,
    |srv: TestServer| async move {
        let token = srv.user("blank@example.com").await;
        // Whitespace alone is not a JSON document: refused, and the session lives on
        // (found by the OpenAPI fuzzer: `-d ' '` signed out with 200).
        let resp = srv
            .post("/api/auth/sign-out")
            .bearer(&token)
            .raw_body("application/json", " ")
            .send()
            .await;
        assert_eq!(
            (resp.status, resp.code()),
            (400, "VALIDATION_ERROR"),
            "{}",
            resp.body
        );
        let session = srv.get("/api/auth/get-session").bearer(&token).send().await;
        assert_eq!(session.body["user"]["email"], "blank@example.com");
        // No body at all reads as `{}`, as the JS client sends it.
        let resp = srv.post("/api/auth/sign-out").bearer(&token).send().await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        let session = srv.get("/api/auth/get-session").bearer(&token).send().await;
        assert!(session.body.is_null(), "{}", session.body);
    }
);
