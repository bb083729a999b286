//! The server side: `better-auth-bench serve <database-url> [--session-cache]`.
//!
//! One Axum app per process, as the README tells apps to build it: Better Auth
//! nested under `/auth`, an app route taking `CurrentSession`, and a bare JSON
//! handler as the baseline, served with
//! `into_make_service_with_connect_info::<SocketAddr>()`. The bench binary
//! starts one such child per database so each server's RSS is its own and the
//! load generator does not share its runtime. The child prints
//! `LISTEN <addr>` on stdout and exits when its stdin closes (the bench ended).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use better_auth::integrations::axum::{AxumIntegration, CurrentSession};
use better_auth::plugins::EmailPasswordPlugin;
use better_auth::prelude::AuthUser;
use better_auth::store::Database;
use better_auth::{AuthConfig, BetterAuth};
use serde::Serialize;
use tokio::io::AsyncReadExt;

/// The signing secret every bench server uses (the bench signs its bearer tokens with it).
pub const SECRET: &str = "better-auth-bench-secret-0123456789abcdef";

#[derive(Serialize)]
struct Hello {
    message: &'static str,
    id: u64,
}

/// Row 1: the physical limit, a handler doing nothing but a small JSON.
async fn baseline() -> Json<Hello> {
    Json(Hello {
        message: "hello",
        id: 42,
    })
}

#[derive(Serialize)]
struct Me {
    id: String,
    email: String,
}

/// Row 3: an app route behind the `CurrentSession` extractor.
async fn me(session: CurrentSession) -> Json<Me> {
    Json(Me {
        id: session.user.id().to_string(),
        email: session.user.email().to_string(),
    })
}

pub fn main(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let url = args.first().ok_or("serve: missing database URL")?.clone();
    let session_cache = args.iter().any(|a| a == "--session-cache");
    // The default runtime an app gets from #[tokio::main]: one worker per core.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(url, session_cache))
}

async fn serve(url: String, session_cache: bool) -> Result<(), Box<dyn std::error::Error>> {
    let database = Database::connect(&url).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    // Rate limits off: the benchmark measures what auth costs per request, and
    // its floods come from one address, which the default limits refuse by design.
    let config = AuthConfig::new(SECRET)
        .base_url(format!("http://{addr}"))
        .rate_limit(better_auth::rate_limit::RateLimitConfig::disabled());
    let config = crate::cache_option(config, session_cache)?;
    let auth = Arc::new(
        BetterAuth::new(config)
            .database(database)
            .plugin(EmailPasswordPlugin::new())
            .build()
            .await?,
    );
    let app = Router::new()
        .route("/json", get(baseline))
        .route("/api/me", get(me))
        .nest("/auth", auth.axum_router())
        .with_state(auth);
    // The parent reads this line to learn the port.
    println!("LISTEN {addr}");
    // Exit when the parent goes away (its end of our stdin closes).
    tokio::spawn(async {
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 64];
        while let Ok(n) = stdin.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
        std::process::exit(0);
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
