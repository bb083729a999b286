use axum::extract::FromRef;
use axum::{Json, Router, routing::get};
use better_auth::{run_migrations, AuthConfig, BetterAuth};
use better_auth::integrations::axum::{AxumIntegration, CurrentSession};
use better_auth::plugins::{EmailPasswordPlugin, SessionManagementPlugin};
use better_auth::prelude::AuthUser;
use better_auth::store::{Database, DatabaseConnection};
use std::sync::Arc;

#[derive(Clone)]
struct AppState {
    auth: Arc<BetterAuth>,
    db: DatabaseConnection,
    app_name: &'static str,
}

impl FromRef<AppState> for Arc<BetterAuth> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

async fn profile(session: CurrentSession) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "id": session.user.id(),
        "email": session.user.email(),
    }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let database = Database::connect("sqlite::memory:").await?;
    run_migrations(&database).await?;

    let auth = Arc::new(
        BetterAuth::new(
            AuthConfig::new("your-very-secure-secret-key-at-least-32-chars-long")
                .base_url("http://localhost:8080"),
        )
        .database(database.clone())
        .plugin(EmailPasswordPlugin::new().enable_signup(true))
        .plugin(SessionManagementPlugin::new())
        .build()
        .await?,
    );

    let state = AppState {
        auth: auth.clone(),
        db: database,
        app_name: "my-app",
    };

    let app = Router::new()
        .route("/api/profile", get(profile))
        .nest("/auth", auth.axum_router_with_state::<AppState>())
        .with_state(state);

    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
