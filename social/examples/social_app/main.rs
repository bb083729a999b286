//! A small app with email/password and social sign-in, for people and for the
//! repository's checks: `scripts/js-client-check` (the official client from
//! node) and `scripts/browser-check` (the same client in headless Chromium).
//!
//! `/` is a page with sign-up, sign-in, sign-out and a "Sign in with ..." button
//! per configured provider, all through the official Better Auth client
//! (`createAuthClient` from npm `better-auth`, bundled by `scripts/browser-check`
//! into `target/browser/auth-client.js`). Auth routes are at `/api/auth`; the
//! database is a throwaway SQLite file unless `DATABASE_URL` names another
//! (an empty one: the checks run the client on MySQL too); rate limits are off
//! (the checks send many requests from one address).
//!
//! Environment:
//! - `PORT` (default 3000), `BASE_URL` (default `http://localhost:$PORT`)
//! - `DATABASE_URL`: the database (default: a SQLite file in a temporary folder)
//! - `OIDC_ISSUER`, `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET`, `OIDC_NAME`: an
//!   OpenID Connect provider with id `oidc` (register `$BASE_URL/api/auth/callback/oidc`)
//! - `GITHUB_CLIENT_ID`, `GITHUB_CLIENT_SECRET`: GitHub (`.../callback/github`)
//! - `GOOGLE_CLIENT_ID`, `GOOGLE_CLIENT_SECRET`: Google (`.../callback/google`)
//! - `AUTH_CLIENT_JS`: the bundled client (default `target/browser/auth-client.js`)
//!
//! Run: `scripts/browser-check --serve` bundles the client, starts a local
//! OpenID provider and this app, and prints the URL to open.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use better_auth::integrations::axum::AxumIntegration;
use better_auth::plugins::{
    AccountManagementPlugin, EmailPasswordPlugin, PasswordManagementPlugin, SessionManagementPlugin,
};
use better_auth::rate_limit::RateLimitConfig;
use better_auth::store::Database;
use better_auth::{AuthConfig, BetterAuth, run_migrations};
use better_auth_social::{GitHub, Google, Oidc, SocialProvidersPlugin};

const PAGE: &str = include_str!("index.html");

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = env("PORT").and_then(|p| p.parse().ok()).unwrap_or(3000);
    let base = env("BASE_URL").unwrap_or_else(|| format!("http://localhost:{port}"));
    let dir = tempfile::tempdir()?;
    let url = env("DATABASE_URL")
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("auth.db").display()));
    let database = Database::connect(&url).await?;
    run_migrations(&database).await?;

    // The providers the environment configures, and their button labels.
    let mut social = SocialProvidersPlugin::new();
    let mut buttons = Vec::new();
    if let (Some(issuer), Some(id), Some(secret)) = (
        env("OIDC_ISSUER"),
        env("OIDC_CLIENT_ID"),
        env("OIDC_CLIENT_SECRET"),
    ) {
        social = social.provider(Oidc::new("oidc", issuer, id, secret));
        let name = env("OIDC_NAME").unwrap_or_else(|| "OpenID".into());
        buttons.push(serde_json::json!({ "id": "oidc", "name": name }));
    }
    if let (Some(id), Some(secret)) = (env("GITHUB_CLIENT_ID"), env("GITHUB_CLIENT_SECRET")) {
        social = social.provider(GitHub::new(id, secret));
        buttons.push(serde_json::json!({ "id": "github", "name": "GitHub" }));
    }
    if let (Some(id), Some(secret)) = (env("GOOGLE_CLIENT_ID"), env("GOOGLE_CLIENT_SECRET")) {
        social = social.provider(Google::new(id, secret));
        buttons.push(serde_json::json!({ "id": "google", "name": "Google" }));
    }

    let auth = Arc::new(
        BetterAuth::new(
            AuthConfig::new("example-secret-example-secret-example-secret")
                .base_url(&base)
                .base_path("/api/auth")
                .rate_limit(RateLimitConfig::disabled()),
        )
        .database(database)
        .plugin(EmailPasswordPlugin::new())
        .plugin(SessionManagementPlugin::new())
        .plugin(PasswordManagementPlugin::new())
        .plugin(AccountManagementPlugin::new())
        .plugin(social)
        .build()
        .await?,
    );

    // The provider list goes into the page as JSON; `</` cannot end the script.
    let page = PAGE.replace(
        "__PROVIDERS__",
        &serde_json::to_string(&buttons)?.replace("</", "<\\/"),
    );
    let client_js = env("AUTH_CLIENT_JS").unwrap_or_else(|| "target/browser/auth-client.js".into());
    let app = Router::new()
        .route("/", get(move || async move { Html(page) }))
        .route(
            "/assets/auth-client.js",
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
