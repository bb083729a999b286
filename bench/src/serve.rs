//! The server side: `better-auth-bench serve <database-url> [--session-cache | --no-cache] [--migrate] [--shared-pool]
//! [--redis-sessions URL] [--redis-rate-limit URL] [--redis-prefix PREFIX]`
//! (`--migrate` runs the runtime's migrations first, for `callgrind.sh`;
//! `--shared-pool` opens an sqlx pool as an app would and hands it to Better
//! Auth with `Database::share_sqlite` / `share_postgres`, as `init` writes it
//! for apps that have one; `--redis-sessions` keeps sessions in that Redis
//! too (`AuthConfig::secondary_storage`); `--redis-rate-limit` turns rate
//! limits on with their counters in that Redis (`RedisRateLimitStore`), the
//! limits raised so the bench's one client address is never refused; keys
//! under `--redis-prefix`).
//!
//! One Axum app per process, as the README tells apps to build it: Better Auth
//! nested under `/auth` (and the same routes merged at `/merged` with
//! `axum_routes`, which skips `nest`'s prefix stripping), an app route taking
//! `CurrentSession`, and a bare JSON handler as the baseline (on PostgreSQL also `/bare-lookup`: the session
//! lookup's one indexed query through sqlx and nothing else), served with
//! `into_make_service_with_connect_info::<SocketAddr>()`. The bench binary
//! starts one such child per database so each server's RSS is its own and the
//! load generator does not share its runtime. The child prints
//! `LISTEN <addr>` on stdout and exits when its stdin closes (the bench ended).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use better_auth::integrations::axum::{AxumIntegration, CurrentSession};
use better_auth::plugins::EmailPasswordPlugin;
use better_auth::prelude::AuthUser;
use better_auth::rate_limit::{RateLimitConfig, RedisRateLimitStore};
use better_auth::store::{Database, RedisStorage};
use better_auth::{AuthConfig, BetterAuth};
use serde::Serialize;
use tokio::io::AsyncReadExt;

/// The signing secret every bench server uses (the bench signs its bearer tokens with it).
pub(crate) const SECRET: &str = "better-auth-bench-secret-0123456789abcdef";

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
        id: session.user.id().to_owned(),
        email: session.user.email().to_owned(),
    })
}

/// The ceiling of a `/get-session` answer: a bare handler sending a body of
/// the same size with the same headers, with no auth work at all.
async fn same_body() -> impl axum::response::IntoResponse {
    static BODY: &str = concat!(
        r#"{"session":{"id":"cm5TntJuZ9DO2KCa1396KOCtBvT3zySc","token":"9feadfd934c53c55d0dc0294aedb2e7c307ad497eeeae80e422a31c2a49bd04f","#,
        r#""userId":"1CUylqsvsyq9KThtErT69xLajsYuYuNR","expiresAt":"2026-12-05T08:41:05.350Z","createdAt":"2026-11-28T08:41:05.350Z","#,
        r#""updatedAt":"2026-11-28T08:41:05.350Z","ipAddress":"127.0.0.1","userAgent":"curl/7.88.1"},"user":{"id":"1CUylqsvsyq9KThtErT69xLajsYuYuNR","#,
        r#""name":"Wrk","email":"wrk@bench.test","emailVerified":false,"image":null,"createdAt":"2026-11-28T08:41:05.347Z","#,
        r#""updatedAt":"2026-11-28T08:41:05.347Z"}}"#
    );
    (
        [
            (axum::http::header::CONTENT_TYPE, "application/json"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
            (axum::http::header::PRAGMA, "no-cache"),
        ],
        BODY,
    )
}

/// Row 4b: the physical limit of a PostgreSQL session read, the same query as
/// the runtime's lookup (session joined with its user by token digest) on a
/// pool of the runtime's size, without any of Better Auth's request handling.
async fn bare_lookup(
    axum::extract::State(pool): axum::extract::State<sqlx::PgPool>,
    headers: axum::http::HeaderMap,
) -> Result<Json<Me>, axum::http::StatusCode> {
    const SQL: &str = r#"SELECT s."id" AS s_id, u."email" AS u_email
        FROM "session" s JOIN "user" u ON u."id" = s."userId"
        WHERE s."token" = CAST($1 AS text)"#;
    let unauthorized = axum::http::StatusCode::UNAUTHORIZED;
    let value = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or(unauthorized)?;
    let signed = value.strip_prefix("Bearer ").unwrap_or(value);
    let token = signed.rsplit_once('.').map_or(signed, |(t, _)| t);
    let digest = better_auth::crypto::token_digest(token);
    let row: Option<(String, String)> = sqlx::query_as(SQL)
        .bind(digest)
        .fetch_optional(&pool)
        .await
        .map_err(|_| axum::http::StatusCode::INTERNAL_SERVER_ERROR)?;
    let (id, email) = row.ok_or(unauthorized)?;
    Ok(Json(Me { id, email }))
}

pub(crate) fn main(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let url = args.first().ok_or("serve: missing database URL")?.clone();
    let session_cache = args.iter().any(|a| a == "--session-cache");
    let no_cache = args.iter().any(|a| a == "--no-cache");
    let migrate = args.iter().any(|a| a == "--migrate");
    let shared_pool = args.iter().any(|a| a == "--shared-pool");
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let redis = Redis {
        sessions: value("--redis-sessions"),
        rate_limit: value("--redis-rate-limit"),
        prefix: value("--redis-prefix").unwrap_or_else(|| "better-auth-bench:".into()),
    };
    // The default runtime an app gets from #[tokio::main]: one worker per core.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let database = if !shared_pool {
            Database::connect(&url).await?
        } else if url.starts_with("sqlite:") {
            Database::share_sqlite(sqlx::SqlitePool::connect(&url).await?).await?
        } else {
            Database::share_postgres(sqlx::PgPool::connect(&url).await?)
        };
        serve(&url, database, session_cache, no_cache, migrate, &redis).await
    })
}

/// What the server keeps in Redis, if anything.
struct Redis {
    /// Sessions (`AuthConfig::secondary_storage`) in the Redis at this URL.
    sessions: Option<String>,
    /// Rate limits on, counted in the Redis at this URL.
    rate_limit: Option<String>,
    /// The key prefix.
    prefix: String,
}

impl Redis {
    async fn storage(&self, url: &str) -> Result<RedisStorage, Box<dyn std::error::Error>> {
        Ok(RedisStorage::connect(url)
            .await?
            .key_prefix(self.prefix.clone()))
    }

    async fn configure(
        &self,
        config: AuthConfig,
    ) -> Result<AuthConfig, Box<dyn std::error::Error>> {
        let mut config = config;
        if let Some(url) = &self.sessions {
            config = config.secondary_storage(self.storage(url).await?);
        }
        if let Some(url) = &self.rate_limit {
            // Every request counted in Redis, none refused: the default
            // rules with their limits raised past what the bench sends.
            let mut limits = RateLimitConfig::default()
                .rule("/sign-in/email", Duration::from_secs(10), 1_000_000)
                .store(Arc::new(RedisRateLimitStore::new(self.storage(url).await?)));
            limits.max = 1_000_000;
            config = config.rate_limit(limits);
        }
        Ok(config)
    }
}

async fn serve(
    url: &str,
    database: Database,
    session_cache: bool,
    no_cache: bool,
    migrate: bool,
    redis: &Redis,
) -> Result<(), Box<dyn std::error::Error>> {
    if migrate {
        better_auth::run_migrations(&database).await?;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    // Rate limits off: the benchmark measures what auth costs per request, and
    // its floods come from one address, which the default limits refuse by design.
    let config = AuthConfig::new(SECRET)
        .base_url(format!("http://{addr}"))
        .rate_limit(better_auth::rate_limit::RateLimitConfig::disabled())
        // The routes are mounted twice: nested at `/auth` (as the README
        // shows) and merged at this base path (`axum_routes`), to compare both.
        .base_path("/merged");
    let config = crate::cache_option(config, session_cache)?.validated_session_cache(!no_cache);
    let config = redis.configure(config).await?;
    let auth = Arc::new(
        BetterAuth::new(config)
            .database(database)
            .plugin(EmailPasswordPlugin::new())
            .build()
            .await?,
    );
    let mut app = Router::new()
        .route("/json", get(baseline))
        .route("/api/me", get(me))
        .route("/same-body", get(same_body))
        .nest("/auth", auth.axum_router())
        .merge(auth.axum_routes())
        .with_state(auth);
    if url.starts_with("postgres") {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(10)
            .connect(url)
            .await?;
        app = app.merge(
            Router::new()
                .route("/bare-lookup", get(bare_lookup))
                .with_state(pool),
        );
    }
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
