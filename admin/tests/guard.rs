//! `RequireRole` on an app's own routes, through HTTP on every backend: 401
//! without a session, 403 with a user lacking the role, 200 with it, as an
//! extractor and as a layer; a role change counts on the next request.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::get;
use axum::{Router, middleware};
use better_auth::integrations::axum::AxumIntegration;
use better_auth::plugins::{EmailPasswordPlugin, SessionManagementPlugin};
use better_auth::prelude::AuthUser;
use better_auth::rate_limit::RateLimitConfig;
use better_auth::store::{Database, with_pool};
use better_auth::{AuthConfig, BetterAuth, run_migrations};
use better_auth_admin::{Admin, AdminPlugin, Attached, RequireRole, Role};
use better_auth_test_support::browser::Browser;
use better_auth_test_support::{Backend, Scratch, all_backends};
use serde_json::json;

struct Support;

impl Role for Support {
    const NAME: &'static str = "support";
}

async fn dashboard(RequireRole(session, ..): RequireRole<Admin>) -> String {
    format!("admin {}", session.user.email())
}

async fn tickets(RequireRole(session, ..): RequireRole<Support>) -> String {
    format!("support {}", session.user.email())
}

/// Reads the instance from the request, as in apps wired with `attach`.
async fn attached(RequireRole(session, ..): RequireRole<Admin, Attached>) -> String {
    format!("attached {}", session.user.email())
}

/// An app with guarded routes; its base URL, database and server task.
async fn app(backend: Backend) -> Option<(String, Database, Scratch, tokio::task::JoinHandle<()>)> {
    let scratch = Scratch::open(backend, "a guard test").await?;
    let database = Database::connect(&scratch.url).await.unwrap();
    run_migrations(&database).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let auth = Arc::new(
        BetterAuth::new(
            AuthConfig::new("guard-test-secret-guard-test-secret-guard")
                .base_url(&base)
                .base_path("/api/auth")
                .rate_limit(RateLimitConfig::disabled()),
        )
        .database(database.clone())
        .plugin(EmailPasswordPlugin::new())
        .plugin(SessionManagementPlugin::new())
        .plugin(AdminPlugin::new())
        .build()
        .await
        .unwrap(),
    );
    let layered = Router::new()
        .route("/stats", get(|| async { "42" }))
        .route_layer(middleware::from_extractor_with_state::<RequireRole<Admin>, _>(auth.clone()));
    let app = Router::new()
        .route("/dashboard", get(dashboard))
        .route("/tickets", get(tickets))
        .nest("/reports", layered)
        .nest("/api/auth", auth.axum_router())
        .route("/attached", get(attached))
        .with_state(auth.clone())
        // What `attach` adds: the instance in every request.
        .layer(axum::Extension(auth));
    let task = tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).await.unwrap();
    });
    Some((base, database, scratch, task))
}

async fn set_role(database: &Database, email: &str, role: &str) {
    let sql = r#"UPDATE "user" SET "role" = $1 WHERE "email" = $2"#;
    let set = async {
        with_pool!(database, |pool| sqlx::query(sql)
            .bind(role)
            .bind(email)
            .execute(pool)
            .await?
            .rows_affected());
        Ok::<_, better_auth::Error>(())
    };
    set.await.unwrap();
}

async fn status(base: &str, browser: &Browser, path: &str) -> (u16, String) {
    let cookies: Vec<String> = browser
        .jar
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let response = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("cookie", cookies.join("; "))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Waits (up to 5 s) until `path` answers `expected`: a role written with raw
/// SQL, behind the runtime's back, reaches a cached session through
/// PostgreSQL's change notification, which a busy machine may deliver after
/// the next request (S51 bounds how long).
async fn seen(base: &str, browser: &Browser, path: &str, expected: u16) {
    for _ in 0..50 {
        if status(base, browser, path).await.0 == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{path} never answered {expected}");
}

all_backends!(
    require_role_answers_401_403_200,
    |backend: Backend| async move {
        let Some((base, database, _scratch, task)) = app(backend).await else {
            return;
        };
        let anonymous = Browser::new(&base);
        for path in ["/dashboard", "/tickets", "/reports/stats", "/attached"] {
            let (code, body) = status(&base, &anonymous, path).await;
            assert_eq!(code, 401, "{path}: {body}");
            assert!(body.contains("UNAUTHORIZED"), "{body}");
        }
        let mut browser = Browser::new(&base);
        let up = browser
        .post(
            "/sign-up/email",
            json!({ "name": "Gus", "email": "gus@example.com", "password": "a long guard passphrase" }),
        )
        .await;
        assert_eq!(up.status, 200, "{up:?}");
        for path in ["/dashboard", "/tickets", "/reports/stats", "/attached"] {
            let (code, body) = status(&base, &browser, path).await;
            assert_eq!(code, 403, "{path}: {body}");
            let body: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(body["code"], "FORBIDDEN");
        }
        set_role(&database, "gus@example.com", "support,admin").await;
        seen(&base, &browser, "/dashboard", 200).await;
        assert_eq!(
            status(&base, &browser, "/dashboard").await,
            (200, "admin gus@example.com".to_owned())
        );
        assert_eq!(
            status(&base, &browser, "/tickets").await,
            (200, "support gus@example.com".to_owned())
        );
        assert_eq!(
            status(&base, &browser, "/reports/stats").await,
            (200, "42".to_owned())
        );
        assert_eq!(
            status(&base, &browser, "/attached").await,
            (200, "attached gus@example.com".to_owned())
        );
        // Demoted by another writer: refused as soon as the cache hears of it.
        set_role(&database, "gus@example.com", "support").await;
        seen(&base, &browser, "/dashboard", 403).await;
        assert_eq!(status(&base, &browser, "/attached").await.0, 403);
        assert_eq!(status(&base, &browser, "/tickets").await.0, 200);
        task.abort();
    }
);
