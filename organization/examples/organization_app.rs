//! A server with password sign-in and the organization plugin under `/api/auth`, on
//! an in-memory SQLite database (or the one `DATABASE_URL` names), for trying the
//! plugin by hand or from the official client (`organizationClient`). Rate limits
//! are off (a client check sends many requests from one address). Invitation links
//! are printed on stderr (no email sender is configured).
//!
//! Made at start: the user `owner@example.com` (password `OWNER_PASSWORD`,
//! default below, email verified) and the organization `Example` (slug
//! `example`, id `example-organization`) they own. Teams are off, as Better
//! Auth's default; `TEAMS=1` turns them on.
//!
//! Run: `PORT=8798 cargo run -p better-auth-organization --example organization_app`

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use better_auth::integrations::axum::AxumIntegration;
use better_auth::plugins::{EmailPasswordPlugin, SessionManagementPlugin};
use better_auth::rate_limit::RateLimitConfig;
use better_auth::store::users::{self, NewUser};
use better_auth::store::{Database, Timestamp, with_pool};
use better_auth::{AuthConfig, BetterAuth, run_migrations};
use better_auth_organization::OrganizationPlugin;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8798);
    // `DATABASE_URL` names another database (the client check runs it on MySQL too).
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".to_owned());
    let database = Database::connect(&url).await?;
    run_migrations(&database).await?;
    let base = format!("http://127.0.0.1:{port}");
    let auth = Arc::new(
        BetterAuth::new(
            AuthConfig::new("organization-example-secret-of-some-length!!")
                .base_url(&base)
                .base_path("/api/auth")
                .rate_limit(RateLimitConfig::disabled()),
        )
        .database(database)
        .plugin(EmailPasswordPlugin::new())
        .plugin(SessionManagementPlugin::new())
        .plugin(
            OrganizationPlugin::new()
                .invitation_url(format!("{base}/accept-invitation/"))
                .teams(std::env::var("TEAMS").is_ok_and(|t| t == "1")),
        )
        .build()
        .await?,
    );
    // An owner and their organization, as an app's seed data would make them.
    let password =
        std::env::var("OWNER_PASSWORD").unwrap_or_else(|_| "an owner example passphrase".into());
    let hash = auth.password_hasher().hash(&password).await?;
    let owner = users::create_with_password(
        auth.database(),
        NewUser::new("Owner", "owner@example.com").email_verified(true),
        &hash,
        auth.now(),
    )
    .await?;
    let now = Timestamp::new(auth.now());
    // On any backend: on MySQL `sqlx` here is the runtime's translating stand-in.
    with_pool!(auth.database(), |pool| {
        sqlx::query(
            r#"INSERT INTO "organization" ("id", "name", "slug", "createdAt")
            VALUES ('example-organization', 'Example', 'example', $1)"#,
        )
        .bind(now)
        .execute(pool)
        .await?;
        sqlx::query(
            r#"INSERT INTO "member" ("id", "organizationId", "userId", "role", "createdAt")
            VALUES ('example-owner', 'example-organization', $1, 'owner', $2)"#,
        )
        .bind(&owner.id)
        .bind(now)
        .execute(pool)
        .await?;
    });
    let app = Router::new()
        .nest("/api/auth", auth.axum_router())
        .with_state(auth);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {base}/api/auth");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
