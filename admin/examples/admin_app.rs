//! A server with password sign-in and the admin plugin under `/api/auth`, on an
//! in-memory SQLite database (or the one `DATABASE_URL` names), for trying the
//! plugin by hand or from the official client (`scripts/js-client-check` drives
//! it). Rate limits are off (the check sends many requests from one address). An
//! admin is made at start: `admin@example.com`, password `ADMIN_PASSWORD` (default
//! below). The app's own `GET /dashboard` is for admins only (`RequireRole<Admin>`:
//! 401 without a session, 403 for other users).
//!
//! Run: `PORT=8797 cargo run -p better-auth-admin --example admin_app`

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use better_auth::integrations::axum::AxumIntegration;
use better_auth::plugins::{EmailPasswordPlugin, SessionManagementPlugin};
use better_auth::prelude::AuthUser;
use better_auth::rate_limit::RateLimitConfig;
use better_auth::store::Database;
use better_auth::store::users::{self, NewUser};
use better_auth::{AuthConfig, BetterAuth, run_migrations};
use better_auth_admin::{Admin, AdminPlugin, RequireRole};

/// Admins only: the guard answers 401 or 403 before this runs.
async fn dashboard(RequireRole(session, ..): RequireRole<Admin>) -> String {
    format!("Hello, admin {}", session.user.email())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8797);
    // `DATABASE_URL` names another database (the client check runs it on MySQL too).
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".to_owned());
    let database = Database::connect(&url).await?;
    run_migrations(&database).await?;
    let base = format!("http://127.0.0.1:{port}");
    let auth = Arc::new(
        BetterAuth::new(
            AuthConfig::new("admin-example-secret-of-some-length!!!!!!")
                .base_url(&base)
                .base_path("/api/auth")
                .rate_limit(RateLimitConfig::disabled()),
        )
        .database(database)
        .plugin(EmailPasswordPlugin::new())
        .plugin(SessionManagementPlugin::new())
        .plugin(AdminPlugin::new())
        .build()
        .await?,
    );
    // The first admin, as an operator makes one: a user whose role is `admin`.
    let password =
        std::env::var("ADMIN_PASSWORD").unwrap_or_else(|_| "an admin example passphrase".into());
    let hash = auth.password_hasher().hash(&password).await?;
    users::create_with_password(
        auth.database(),
        NewUser::new("Admin", "admin@example.com").field("role", "admin"),
        &hash,
        auth.now(),
    )
    .await?;
    let app = Router::new()
        .route("/dashboard", get(dashboard))
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
