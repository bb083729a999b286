//! `CurrentSession` and `OptionalSession` on app routes.

use better_auth_test_support::all_backends;
use serde_json::json;

use crate::common::*;

all_backends!(
    current_session_rejects_without_session_with_json_401,
    with_server,
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

all_backends!(
    current_session_accepts_signed_bearer_raw_bearer_and_cookie,
    with_server,
    |srv: TestServer| async move {
        let signup = srv.sign_up("ada@example.com").await;
        let signed = signup.auth_token();
        let raw = signup.body["token"].as_str().unwrap().to_owned();
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

all_backends!(
    bearer_wins_over_cookie,
    with_server,
    |srv: TestServer| async move {
        let ada = srv.sign_up("ada@example.com").await.session_cookie();
        let bob = srv.user("bob@example.com").await;
        let resp = srv
            .get("/api/me")
            .bearer(&bob)
            .header("cookie", &ada)
            .send()
            .await;
        assert_eq!(resp.body["email"], "bob@example.com");
    }
);

all_backends!(
    optional_session_never_rejects,
    with_server,
    |srv: TestServer| async move {
        let resp = srv.get("/api/public").send().await;
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, json!({ "user": null }));
        let token = srv.user("ada@example.com").await;
        let resp = srv.get("/api/public").bearer(&token).send().await;
        assert_eq!(resp.body, json!({ "user": "ada@example.com" }));
    }
);

/// Apps whose state is `Arc<AppState>` cannot implement `FromRef` for
/// `Arc<BetterAuth>`; a local extractor built on `CurrentSession::from_parts` works.
#[tokio::test]
async fn arc_app_state_uses_from_parts() {
    use axum::extract::FromRequestParts;
    use axum::http::request::Parts;
    use better_auth::BetterAuth;
    use better_auth::integrations::axum::{AxumIntegration, CurrentSession, SessionRejection};
    use better_auth::prelude::AuthUser;
    use std::sync::Arc;

    struct AppState {
        auth: Arc<BetterAuth>,
    }
    struct Authenticated(CurrentSession);
    impl FromRequestParts<Arc<AppState>> for Authenticated {
        type Rejection = SessionRejection;
        async fn from_request_parts(
            parts: &mut Parts,
            state: &Arc<AppState>,
        ) -> Result<Self, Self::Rejection> {
            CurrentSession::from_parts(&state.auth, parts)
                .await
                .map(Authenticated)
        }
    }
    async fn me(Authenticated(session): Authenticated) -> String {
        session.user.email().to_owned()
    }

    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start_with(&db, Setup::new()).await;
    let state = Arc::new(AppState {
        auth: srv.auth.clone(),
    });
    let app = axum::Router::new()
        .route("/me", axum::routing::get(me))
        .nest(
            "/api/auth",
            srv.auth.axum_router_with_state::<Arc<AppState>>(),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let token = srv.user("ada@example.com").await;
    let client = reqwest::Client::new();
    let anon = client
        .get(format!("http://{addr}/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    let resp = client
        .get(format!("http://{addr}/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "ada@example.com");
}

all_backends!(
    a_tampered_signature_is_refused_after_the_genuine_value_was_accepted,
    with_server,
    |srv: TestServer| async move {
        // The genuine value is checked once and remembered (the credential
        // memo); a value differing in its signature must still be checked.
        let signup = srv.sign_up("ada@example.com").await;
        let signed = signup.auth_token();
        let cookie = signup.session_cookie();
        for _ in 0..2 {
            assert_eq!(srv.get("/api/me").bearer(&signed).send().await.status, 200);
            assert_eq!(
                srv.get("/api/me")
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .status,
                200
            );
        }
        let (token, signature) = signed.rsplit_once('.').unwrap();
        let flipped = if signature.starts_with('A') { "B" } else { "A" };
        let tampered = format!("{token}.{flipped}{}", &signature[1..]);
        assert_eq!(
            srv.get("/api/me").bearer(&tampered).send().await.status,
            401
        );
        let name = cookie.split_once('=').unwrap().0;
        let tampered_cookie = format!(
            "{name}={}",
            percent_encoding::utf8_percent_encode(&tampered, percent_encoding::NON_ALPHANUMERIC)
        );
        for path in ["/api/me", "/api/auth/get-session"] {
            let resp = srv
                .get(path)
                .header("cookie", &tampered_cookie)
                .send()
                .await;
            assert!(
                resp.status == 401 || resp.body == serde_json::Value::Null,
                "{path}: {} {}",
                resp.status,
                resp.body
            );
        }
        // The genuine value still works.
        assert_eq!(srv.get("/api/me").bearer(&signed).send().await.status, 200);
    }
);
