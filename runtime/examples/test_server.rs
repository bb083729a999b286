//! The server the repository's scripts drive: `scripts/fuzz-api` (schemathesis)
//! and `scripts/js-client-check` (the official Better Auth JavaScript client).
//! Every plugin under `/api/auth`, a throwaway database, and no rate limits
//! (those scripts send many requests from one address; limits have their own tests).
//!
//! The database is a throwaway SQLite file, or, when `TEST_SERVER_POSTGRES_URL`
//! is set, the schema `better_auth_test_server` of that PostgreSQL database,
//! made afresh at start (dropped first if a previous run left it); or, when
//! `TEST_SERVER_MYSQL_URL` names a MySQL server (`mysql://root@127.0.0.1:3306`),
//! its database `better_auth_test_server`, made afresh the same way.
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
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    let url = if let Some(base) = var("TEST_SERVER_POSTGRES_URL") {
        fresh_postgres_schema(&base).await?
    } else if let Some(base) = var("TEST_SERVER_MYSQL_URL") {
        fresh_mysql_database(&base).await?
    } else {
        format!("sqlite://{}", dir.path().join("auth.db").display())
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

/// The URL of a fresh, empty database on the MySQL server at `base`.
async fn fresh_mysql_database(base: &str) -> Result<String, Box<dyn std::error::Error>> {
    const DATABASE: &str = "better_auth_test_server";
    let admin = sqlx::MySqlPool::connect(base).await?;
    sqlx::raw_sql(&format!(
        "DROP DATABASE IF EXISTS {DATABASE}; \
         CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    ))
    .execute(&admin)
    .await?;
    admin.close().await;
    Ok(format!("{}/{DATABASE}", base.trim_end_matches('/')))
}
