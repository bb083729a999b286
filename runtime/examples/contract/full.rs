use axum::{Json, Router, response::IntoResponse, routing::get};
use better_auth::integrations::axum::{AxumIntegration, CurrentSession, OptionalSession};
use better_auth::plugins::{EmailPasswordPlugin, SessionManagementPlugin};
use better_auth::{run_migrations, AuthConfig, BetterAuth};
use better_auth::prelude::AuthUser;
use better_auth::store::Database;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = AuthConfig::new("your-very-secure-secret-key-at-least-32-chars-long")
        .base_url("http://localhost:8080");
    let database = Database::connect("sqlite::memory:").await?;
    run_migrations(&database).await?;

    let auth = Arc::new(
        BetterAuth::new(config)
            .database(database)
            .plugin(EmailPasswordPlugin::new().enable_signup(true))
            .plugin(SessionManagementPlugin::new())
            .build()
            .await?
    );

    let auth_router = auth.clone().axum_router();

    let app = Router::new()
        .route("/api/profile", get(get_profile))
        .route("/api/public", get(public_route))
        .nest("/auth", auth_router)
        .with_state(auth);

    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
    axum::serve(listener, app).await?;

    Ok(())
}

/// Protected route — requires authentication
async fn get_profile(
    session: CurrentSession,
) -> impl IntoResponse {
    Json(serde_json::json!({
        "id": session.user.id(),
        "email": session.user.email(),
        "name": session.user.name(),
    }))
}

/// Public route — works for both authenticated and anonymous users
async fn public_route(
    session: OptionalSession,
) -> impl IntoResponse {
    let user = session.0.map(|s| s.user.id().to_owned());
    Json(serde_json::json!({
        "authenticated": user.is_some(),
        "user_id": user,
    }))
}
