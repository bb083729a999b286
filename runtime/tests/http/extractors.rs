//! `CurrentSession` and `OptionalSession` on app routes.

use serde_json::json;

use crate::both_backends;
use crate::common::*;

both_backends!(
    current_session_rejects_without_session_with_json_401,
    |srv: TestServer| async move {
        let resp = srv.get("/api/me").send().await;
        assert_eq!(resp.status, 401);
        assert_eq!(
            resp.body,
            json!({ "message": "Unauthorized", "code": "UNAUTHORIZED" })
        );
        assert_eq!(resp.header("content-type"), Some("application/json"));
        let resp = srv.get("/api/me").bearer("garbage.token").send().await;
        assert_eq!(resp.status, 401);
    }
);

both_backends!(
    current_session_accepts_signed_bearer_raw_bearer_and_cookie,
    |srv: TestServer| async move {
        let signup = srv.sign_up("ada@example.com").await;
        let signed = signup.auth_token();
        let raw = signup.body["token"].as_str().unwrap().to_string();
        let cookie = signup.session_cookie();
        for resp in [
            srv.get("/api/me").bearer(&signed).send().await,
            srv.get("/api/me").bearer(&raw).send().await,
            srv.get("/api/me").header("cookie", &cookie).send().await,
        ] {
            assert_eq!(resp.status, 200, "{}", resp.body);
            assert_eq!(resp.body["email"], "ada@example.com");
        }
    }
);

both_backends!(bearer_wins_over_cookie, |srv: TestServer| async move {
    let ada = srv.sign_up("ada@example.com").await.session_cookie();
    let bob = srv.user("bob@example.com").await;
    let resp = srv
        .get("/api/me")
        .bearer(&bob)
        .header("cookie", &ada)
        .send()
        .await;
    assert_eq!(resp.body["email"], "bob@example.com");
});

both_backends!(
    optional_session_never_rejects,
    |srv: TestServer| async move {
        let resp = srv.get("/api/public").send().await;
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, json!({ "user": null }));
        let token = srv.user("ada@example.com").await;
        let resp = srv.get("/api/public").bearer(&token).send().await;
        assert_eq!(resp.body, json!({ "user": "ada@example.com" }));
    }
);
