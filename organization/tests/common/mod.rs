//! What the organization tests share: a server with the plugin, users,
//! organizations, invitations and members made through HTTP.

// Each test file uses some of these.
#![allow(dead_code)]

use std::time::Duration;

use better_auth::store::with_pool;
use better_auth_organization::OrganizationPlugin;
use better_auth_test_support::Backend;
use better_auth_test_support::browser::{Answer, Browser};
use better_auth_test_support::server::PluginServer;
use serde_json::json;

pub(crate) const PASSWORD: &str = "a long organization passphrase";

pub(crate) async fn on_server_with<F, Fut>(backend: Backend, plugin: OrganizationPlugin, body: F)
where
    F: FnOnce(PluginServer) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(server) = PluginServer::start(backend, |b| b.plugin(plugin)).await {
        body(server).await;
    }
}

/// A signed-in browser of a new user, and the user's id.
pub(crate) async fn user(server: &PluginServer, email: &str) -> (Browser, String) {
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

/// Runs one statement on the test database.
pub(crate) async fn sql(server: &PluginServer, statement: &str, value: &str) -> u64 {
    let db = &server.database;
    let changed = async {
        Ok::<_, better_auth::Error>(with_pool!(db, |pool| sqlx::query(statement)
            .bind(value)
            .execute(pool)
            .await?
            .rows_affected()))
    };
    changed.await.unwrap()
}

/// Marks a user's email verified, as following the verification link would.
pub(crate) async fn verify(server: &PluginServer, email: &str) {
    let changed = sql(
        server,
        r#"UPDATE "user" SET "emailVerified" = true WHERE "email" = $1"#,
        email,
    )
    .await;
    assert_eq!(changed, 1);
}

/// Creates an organization; its id.
pub(crate) async fn create(browser: &mut Browser, slug: &str) -> String {
    let made = browser
        .post(
            "/organization/create",
            json!({ "name": format!("Org {slug}"), "slug": slug }),
        )
        .await;
    assert_eq!(made.status, 200, "{made:?}");
    made.body["id"].as_str().unwrap().to_owned()
}

/// Invites `email` to `org` as `role`; the invitation's id.
pub(crate) async fn invite(browser: &mut Browser, org: &str, email: &str, role: &str) -> String {
    let sent = browser
        .post(
            "/organization/invite-member",
            json!({ "organizationId": org, "email": email, "role": role }),
        )
        .await;
    assert_eq!(sent.status, 200, "{sent:?}");
    sent.body["id"].as_str().unwrap().to_owned()
}

/// A new user who joined `org` as `role` through an invitation: their
/// browser (with `org` active), user id and member id.
pub(crate) async fn join(
    server: &PluginServer,
    inviter: &mut Browser,
    org: &str,
    email: &str,
    role: &str,
) -> (Browser, String, String) {
    let invitation = invite(inviter, org, email, role).await;
    let (mut browser, user_id) = user(server, email).await;
    // Members join one after the other (the clock is the test's).
    server.clock.advance(Duration::from_secs(1));
    let accepted = browser
        .post(
            "/organization/accept-invitation",
            json!({ "invitationId": invitation }),
        )
        .await;
    assert_eq!(accepted.status, 200, "{accepted:?}");
    let member_id = accepted.body["member"]["id"].as_str().unwrap().to_owned();
    (browser, user_id, member_id)
}

pub(crate) fn assert_refused(answer: &Answer, status: u16, code: &str, what: &str) {
    assert_eq!(answer.status, status, "{what}: {answer:?}");
    assert_eq!(answer.body["code"], code, "{what}: {answer:?}");
}
