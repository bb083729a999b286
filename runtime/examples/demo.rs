//! A one-command tour on the embedded default (a SQLite file): starts an Axum
//! app with Better Auth nested under `/auth`, then plays a client against it
//! over real HTTP — sign up, sign in, call a protected route, sign out — and
//! prints each exchange.
//!
//! Run: `cargo run -p better-auth --example demo`

use std::net::SocketAddr;
use std::sync::Arc;

use axum::{Json, Router, routing::get};
use better_auth::integrations::axum::{AxumIntegration, CurrentSession};
use better_auth::plugins::{
    AccountManagementPlugin, EmailPasswordPlugin, PasswordManagementPlugin, SessionManagementPlugin,
};
use better_auth::prelude::AuthUser;
use better_auth::store::Database;
use better_auth::{AuthConfig, BetterAuth, run_migrations};
use serde_json::{Value, json};

/// An app route that only signed-in users reach.
async fn profile(session: CurrentSession) -> Json<Value> {
    Json(json!({ "id": session.user.id(), "email": session.user.email() }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The embedded default: a SQLite file, created and migrated on start.
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("auth.db").display());
    let database = Database::connect(&url).await?;
    run_migrations(&database).await?;
    println!("database  {url}");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let auth = Arc::new(
        BetterAuth::new(AuthConfig::new("demo-secret-demo-secret-demo-secret-42").base_url(&base))
            .database(database)
            .plugin(EmailPasswordPlugin::new())
            .plugin(SessionManagementPlugin::new())
            .plugin(PasswordManagementPlugin::new())
            .plugin(AccountManagementPlugin::new())
            .build()
            .await?,
    );
    let app = Router::new()
        .route("/api/profile", get(profile))
        .nest("/auth", auth.axum_router())
        .with_state(auth);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    println!("serving   {base}\n");

    let client = reqwest::Client::new();
    let show = |method: &str, path: &str, status: u16, body: &Value| {
        println!("{method:4} {path:<22} -> {status} {body}");
    };

    let credentials = json!({ "name": "Ada", "email": "ada@example.com", "password": "correct horse battery staple" });
    let resp = client
        .post(format!("{base}/auth/sign-up/email"))
        .json(&credentials)
        .send()
        .await?;
    show(
        "POST",
        "/auth/sign-up/email",
        resp.status().as_u16(),
        &resp.json().await?,
    );

    let resp = client
        .post(format!("{base}/auth/sign-in/email"))
        .json(&credentials)
        .send()
        .await?;
    let token = resp.headers()["set-auth-token"].to_str()?.to_owned();
    show(
        "POST",
        "/auth/sign-in/email",
        resp.status().as_u16(),
        &resp.json().await?,
    );

    let resp = client.get(format!("{base}/api/profile")).send().await?;
    show(
        "GET",
        "/api/profile (anon)",
        resp.status().as_u16(),
        &resp.json().await?,
    );

    let resp = client
        .get(format!("{base}/api/profile"))
        .bearer_auth(&token)
        .send()
        .await?;
    show(
        "GET",
        "/api/profile",
        resp.status().as_u16(),
        &resp.json().await?,
    );

    let resp = client
        .get(format!("{base}/auth/list-sessions"))
        .bearer_auth(&token)
        .send()
        .await?;
    let sessions: Value = resp.json().await?;
    println!(
        "GET  /auth/list-sessions    -> {} session(s)",
        sessions.as_array().map_or(0, Vec::len)
    );

    let resp = client
        .post(format!("{base}/auth/sign-out"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await?;
    show(
        "POST",
        "/auth/sign-out",
        resp.status().as_u16(),
        &resp.json().await?,
    );

    let resp = client
        .get(format!("{base}/api/profile"))
        .bearer_auth(&token)
        .send()
        .await?;
    show(
        "GET",
        "/api/profile (after)",
        resp.status().as_u16(),
        &resp.json().await?,
    );
    Ok(())
}
