//! `attach` at the serve site, and the `Authenticated` / `MaybeAuthenticated`
//! extractors that read the instance from the request: an app with its own
//! state, which does not hold Better Auth.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use better_auth::integrations::axum::{
    Authenticated, AxumIntegration, MaybeAuthenticated, NOT_ATTACHED_MESSAGE, attach,
};
use better_auth::plugins::EmailPasswordPlugin;
use better_auth::prelude::AuthUser;
use better_auth::{BetterAuth, email::MemoryEmailSender};
use better_auth_test_support::all_backends;
use serde_json::{Value, json};

use crate::common::*;

/// The app's own state; Better Auth is not in it.
#[derive(Clone)]
struct AppState {
    greeting: &'static str,
}

async fn hello(State(state): State<AppState>) -> &'static str {
    state.greeting
}

async fn me(State(state): State<AppState>, Authenticated(session): Authenticated) -> Json<Value> {
    Json(json!({ "greeting": state.greeting, "email": session.user.email() }))
}

async fn maybe(MaybeAuthenticated(session): MaybeAuthenticated) -> Json<Value> {
    Json(json!({ "user": session.map(|s| s.user.email().to_owned()) }))
}

/// The app's router, finished with its state, as an app hands it to `axum::serve`.
fn app() -> Router {
    Router::new()
        .route("/hello", get(hello))
        .route("/me", get(me))
        .route("/maybe", get(maybe))
        .fallback(maybe)
        .with_state(AppState { greeting: "hi" })
}

/// An instance on `db` with the test configuration (routes at `/api/auth`).
async fn instance(db: &TestDb) -> (Arc<BetterAuth>, MemoryEmailSender) {
    let setup = Setup::new();
    let auth = BetterAuth::new(setup.config)
        .database(db.database.clone())
        .plugin(EmailPasswordPlugin::new())
        .build()
        .await
        .expect("build BetterAuth");
    (Arc::new(auth), setup.outbox)
}

all_backends!(
    attach_serves_auth_routes_beside_an_apps_own_state,
    with_db,
    |db: TestDb| async move {
        let (auth, outbox) = instance(&db).await;
        let srv = TestServer::serve(attach(app(), &auth), auth.clone(), outbox).await;

        let signup = srv.sign_up("ada@example.com").await;
        assert_eq!(signup.status, 200, "{}", signup.body);
        let resp = srv.get("/hello").send().await;
        assert_eq!((resp.status, resp.body), (200, json!("hi")));

        let resp = srv.get("/me").send().await;
        assert_eq!(resp.status, 401);
        assert_eq!(
            resp.body,
            json!({ "message": "Unauthorized", "code": "UNAUTHORIZED" })
        );
        let resp = srv.get("/maybe").send().await;
        assert_eq!((resp.status, resp.body), (200, json!({ "user": null })));

        let signin = srv.sign_in("ada@example.com", PASSWORD).await;
        assert_eq!(signin.status, 200, "{}", signin.body);
        let cookie = signin.session_cookie();
        let resp = srv.get("/me").header("cookie", &cookie).send().await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(
            resp.body,
            json!({ "greeting": "hi", "email": "ada@example.com" })
        );
        let resp = srv.get("/maybe").header("cookie", &cookie).send().await;
        assert_eq!(
            (resp.status, resp.body),
            (200, json!({ "user": "ada@example.com" }))
        );
        // The layer covers the app's fallback too.
        let resp = srv.get("/elsewhere").header("cookie", &cookie).send().await;
        assert_eq!(
            (resp.status, resp.body),
            (200, json!({ "user": "ada@example.com" }))
        );
        // A bearer token works as well as the cookie.
        let resp = srv.get("/me").bearer(&signup.auth_token()).send().await;
        assert_eq!(resp.status, 200, "{}", resp.body);
    }
);

all_backends!(
    extractors_without_attach_explain_the_missing_instance,
    with_db,
    |db: TestDb| async move {
        let (auth, outbox) = instance(&db).await;
        // Better Auth's routes are served, but the app's router never gets
        // the instance: the mistake `attach` prevents.
        let router = app().merge(auth.axum_routes::<()>());
        let srv = TestServer::serve(router, auth.clone(), outbox).await;
        let cookie = srv.sign_up("ada@example.com").await.session_cookie();

        let resp = srv.get("/me").header("cookie", &cookie).send().await;
        assert_eq!(resp.status, 500);
        assert_eq!(resp.body["message"], NOT_ATTACHED_MESSAGE);
        assert_eq!(resp.body["code"], "BETTER_AUTH_NOT_ATTACHED");
        assert!(NOT_ATTACHED_MESSAGE.contains("attach("));
        assert!(NOT_ATTACHED_MESSAGE.contains(".layer(axum::Extension(auth.clone()))"));

        let resp = srv.get("/maybe").header("cookie", &cookie).send().await;
        assert_eq!((resp.status, resp.body), (200, json!({ "user": null })));
    }
);

all_backends!(
    extension_layer_serves_the_extractors_as_attach_does,
    with_db,
    |db: TestDb| async move {
        let (auth, outbox) = instance(&db).await;
        let router = app()
            .merge(auth.axum_routes::<()>())
            .layer(axum::Extension(auth.clone()));
        let srv = TestServer::serve(router, auth.clone(), outbox).await;
        let cookie = srv.sign_up("ada@example.com").await.session_cookie();
        let resp = srv.get("/me").header("cookie", &cookie).send().await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.body["email"], "ada@example.com");
    }
);
