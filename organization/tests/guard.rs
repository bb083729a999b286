//! `RequirePermission` on an app's own routes, through HTTP on every backend:
//! 401 without a session, 403 without an active organization, 403 for a
//! member whose roles lack the permission, 200 with it; as an extractor
//! reading the instance from the state and from the request; a role change
//! counts on the next request.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use better_auth::integrations::axum::AxumIntegration;
use better_auth::plugins::{EmailPasswordPlugin, SessionManagementPlugin};
use better_auth::rate_limit::RateLimitConfig;
use better_auth::store::{Database, with_pool};
use better_auth::{AuthConfig, BetterAuth, run_migrations};
use better_auth_organization::{Attached, OrganizationPlugin, Permission, RequirePermission};
use better_auth_test_support::browser::Browser;
use better_auth_test_support::{Backend, Scratch, all_backends};
use serde_json::json;

const PASSWORD: &str = "a long guard passphrase";

struct InviteMembers;

impl Permission for InviteMembers {
    const PERMISSIONS: &'static [(&'static str, &'static [&'static str])] =
        &[("invitation", &["create"])];
}

async fn invitations(
    RequirePermission(session, member, ..): RequirePermission<InviteMembers>,
) -> String {
    format!(
        "{} may invite to {}",
        session.user.email, member.organization_id
    )
}

async fn attached(
    RequirePermission(_, member, ..): RequirePermission<InviteMembers, Attached>,
) -> String {
    format!("attached {}", member.role)
}

/// An app with guarded routes: its base URL, database and server task.
async fn app(backend: Backend) -> Option<(String, Database, Scratch, tokio::task::JoinHandle<()>)> {
    let scratch = Scratch::open(backend, "a permission guard test").await?;
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
        .plugin(OrganizationPlugin::new())
        .build()
        .await
        .unwrap(),
    );
    let app = Router::new()
        .route("/invitations", get(invitations))
        .route("/attached", get(attached))
        .nest("/api/auth", auth.axum_router())
        .with_state(auth.clone())
        // What `attach` adds: the instance in every request.
        .layer(axum::Extension(auth));
    let task = tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).await.unwrap();
    });
    Some((base, database, scratch, task))
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

fn code(body: &str) -> String {
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    body["code"].as_str().unwrap_or_default().to_owned()
}

async fn set_role(database: &Database, user_id: &str, role: &str) {
    let sql = r#"UPDATE "member" SET "role" = $1 WHERE "userId" = $2"#;
    let set = async {
        with_pool!(database, |pool| sqlx::query(sql)
            .bind(role)
            .bind(user_id)
            .execute(pool)
            .await?
            .rows_affected());
        Ok::<_, better_auth::Error>(())
    };
    set.await.unwrap();
}

async fn sign_up(base: &str, email: &str) -> (Browser, String) {
    let mut browser = Browser::new(base);
    let up = browser
        .post(
            "/sign-up/email",
            json!({ "name": "Gus", "email": email, "password": PASSWORD }),
        )
        .await;
    assert_eq!(up.status, 200, "{up:?}");
    let id = up.body["user"]["id"].as_str().unwrap().to_owned();
    (browser, id)
}

all_backends!(
    require_permission_answers_401_403_200,
    |backend: Backend| async move {
        let Some((base, database, _scratch, task)) = app(backend).await else {
            return;
        };
        let paths = ["/invitations", "/attached"];
        let anonymous = Browser::new(&base);
        for path in paths {
            let (status, body) = status(&base, &anonymous, path).await;
            assert_eq!(status, 401, "{path}: {body}");
        }
        // Signed in, no organization yet.
        let (mut owner, _) = sign_up(&base, "owner@example.com").await;
        for path in paths {
            let (status, body) = status(&base, &owner, path).await;
            assert_eq!(
                (status, code(&body)),
                (403, "NO_ACTIVE_ORGANIZATION".into()),
                "{path}"
            );
        }
        let made = owner
            .post(
                "/organization/create",
                json!({ "name": "Guarded", "slug": "guarded" }),
            )
            .await;
        assert_eq!(made.status, 200, "{made:?}");
        let org = made.body["id"].as_str().unwrap().to_owned();
        assert_eq!(
            status(&base, &owner, "/invitations").await,
            (200, format!("owner@example.com may invite to {org}"))
        );
        assert_eq!(
            status(&base, &owner, "/attached").await,
            (200, "attached owner".to_owned())
        );

        // A member may not invite; made an admin, they may, at once.
        let sent = owner
            .post(
                "/organization/invite-member",
                json!({ "email": "member@example.com", "role": "member" }),
            )
            .await;
        assert_eq!(sent.status, 200, "{sent:?}");
        let (mut member, member_id) = sign_up(&base, "member@example.com").await;
        let accepted = member
            .post(
                "/organization/accept-invitation",
                json!({ "invitationId": sent.body["id"] }),
            )
            .await;
        assert_eq!(accepted.status, 200, "{accepted:?}");
        for path in paths {
            let (status, body) = status(&base, &member, path).await;
            assert_eq!((status, code(&body)), (403, "FORBIDDEN".into()), "{path}");
        }
        set_role(&database, &member_id, "admin").await;
        assert_eq!(
            status(&base, &member, "/attached").await,
            (200, "attached admin".to_owned())
        );
        // No longer a member: refused.
        let left = member
            .post("/organization/leave", json!({ "organizationId": org }))
            .await;
        assert_eq!(left.status, 200, "{left:?}");
        let (status_code, body) = status(&base, &member, "/invitations").await;
        assert_eq!(status_code, 403, "{body}");
        task.abort();
    }
);
