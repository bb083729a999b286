//! The server the repository's scripts drive: `scripts/fuzz-api` (schemathesis)
//! and `scripts/js-client-check` (the official Better Auth JavaScript client).
//! Every plugin under `/api/auth`, a throwaway database, and no rate limits
//! (those scripts send many requests from one address; limits have their own tests).
//!
//! The database is a throwaway SQLite file, or, when `TEST_SERVER_POSTGRES_URL`
//! is set, the schema `better_auth_test_server` of that PostgreSQL database,
//! made afresh at start (dropped first if a previous run left it).
//!
//! Run: `PORT=8787 cargo run -p better-auth --example test_server`

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use better_auth::integrations::axum::AxumIntegration;
use better_auth::plugins::{
    AccountManagementPlugin, EmailPasswordPlugin, PasswordManagementPlugin, SessionManagementPlugin,
};
use better_auth::rate_limit::RateLimitConfig;
use better_auth::store::Database;
use better_auth::{AuthConfig, BetterAuth, run_migrations};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8787);
    let dir = tempfile::tempdir()?;
    let url = match std::env::var("TEST_SERVER_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => fresh_postgres_schema(&base).await?,
        _ => format!("sqlite://{}", dir.path().join("auth.db").display()),
    };
    let database = Database::connect(&url).await?;
    run_migrations(&database).await?;
    let base = format!("http://127.0.0.1:{port}");
    let auth = Arc::new(
        BetterAuth::new(
            AuthConfig::new("test-secret-test-secret-test-secret-test")
                .base_url(&base)
                .base_path("/api/auth")
                .rate_limit(RateLimitConfig::disabled()),
        )
        .database(database)
        .plugin(EmailPasswordPlugin::new())
        .plugin(SessionManagementPlugin::new())
        .plugin(PasswordManagementPlugin::new())
        .plugin(AccountManagementPlugin::new())
        .build()
        .await?,
    );
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

/// The URL of a fresh, empty schema of the PostgreSQL database at `base`.
async fn fresh_postgres_schema(base: &str) -> Result<String, Box<dyn std::error::Error>> {
    const SCHEMA: &str = "better_auth_test_server";
    let admin = sqlx::PgPool::connect(base).await?;
    sqlx::raw_sql(&format!(
        "DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"
    ))
    .execute(&admin)
    .await?;
    admin.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok(format!("{base}{sep}options=-c%20search_path%3D{SCHEMA}"))
}
