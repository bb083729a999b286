//! A server with password sign-in and passkeys under `/api/auth`, on an
//! in-memory SQLite database, and a page (`/`) that loads the official client
//! with `passkeyClient`: `scripts/browser-check` drives it in headless
//! Chromium with a virtual authenticator. Rate limits are off (the check
//! sends many requests from one address).
//!
//! Run: `PORT=8795 cargo run -p better-auth-passkey --example passkey_app`,
//! then open <http://localhost:8795> (the relying party is `localhost`).
//!
//! - `PORT`: the port (default 8795); the base URL is `http://localhost:PORT`.
//! - `PASSKEY_CLIENT_JS`: the bundled client (default `target/browser/passkey-client.js`,
//!   written by `scripts/browser-check`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use better_auth::integrations::axum::AxumIntegration;
use better_auth::plugins::{EmailPasswordPlugin, SessionManagementPlugin};
use better_auth::rate_limit::RateLimitConfig;
use better_auth::store::Database;
use better_auth::{AuthConfig, BetterAuth, run_migrations};
use better_auth_passkey::PasskeyPlugin;

const PAGE: &str = include_str!("index.html");

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8795);
    let database = Database::connect("sqlite::memory:").await?;
    run_migrations(&database).await?;
    let base = format!("http://localhost:{port}");
    let auth = Arc::new(
        BetterAuth::new(
            AuthConfig::new("passkey-example-secret-of-some-length!!!")
                .base_url(&base)
                .base_path("/api/auth")
                .rate_limit(RateLimitConfig::disabled()),
        )
        .database(database)
        .plugin(EmailPasswordPlugin::new())
        .plugin(SessionManagementPlugin::new())
        .plugin(PasskeyPlugin::new().rp_name("Example"))
        .build()
        .await?,
    );
    let client_js = std::env::var("PASSKEY_CLIENT_JS")
        .unwrap_or_else(|_| "target/browser/passkey-client.js".into());
    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route(
            "/assets/passkey-client.js",
            get(move || async move { serve_client(&client_js) }),
        )
        .nest("/api/auth", auth.axum_router())
        .with_state(auth);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {base}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}

fn serve_client(path: &str) -> Response {
    match std::fs::read(path) {
        Ok(js) => ([(header::CONTENT_TYPE, "text/javascript")], js).into_response(),
        Err(_) => (
            axum::http::StatusCode::NOT_FOUND,
            format!("{path} is missing: run scripts/browser-check, which bundles the client"),
        )
            .into_response(),
    }
}
