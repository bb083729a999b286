//! A server with password sign-in and codes by email under `/api/auth`, on an
//! in-memory SQLite database (or the one `DATABASE_URL` names), for trying the
//! plugin by hand or from the official client (`scripts/js-client-check` drives
//! it). No email sender is set, so codes are printed on stderr (as in any app in
//! local development); rate limits are off (the check sends many requests from one
//! address).
//!
//! Run: `PORT=8792 cargo run -p better-auth-email-otp --example email_otp_app`

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use better_auth::integrations::axum::AxumIntegration;
use better_auth::plugins::{EmailPasswordPlugin, SessionManagementPlugin};
use better_auth::rate_limit::RateLimitConfig;
use better_auth::store::Database;
use better_auth::{AuthConfig, BetterAuth, run_migrations};
use better_auth_email_otp::EmailOtpPlugin;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8792);
    // `DATABASE_URL` names another database (the client check runs it on MySQL too).
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".to_owned());
    let database = Database::connect(&url).await?;
    run_migrations(&database).await?;
    let base = format!("http://127.0.0.1:{port}");
    let auth = Arc::new(
        BetterAuth::new(
            AuthConfig::new("email-otp-example-secret-of-some-length")
                .base_url(&base)
                .base_path("/api/auth")
                .rate_limit(RateLimitConfig::disabled()),
        )
        .database(database)
        .plugin(EmailPasswordPlugin::new())
        .plugin(SessionManagementPlugin::new())
        .plugin(EmailOtpPlugin::new())
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
