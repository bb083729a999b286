//! End to end: a server and the CLI on the same database. A user created with
//! the CLI signs in over HTTP; a session revoked with the CLI is dead at once.

use std::net::SocketAddr;
use std::sync::Arc;

use better_auth::integrations::axum::AxumIntegration;
use better_auth::plugins::{EmailPasswordPlugin, SessionManagementPlugin};
use better_auth::store::Database;
use better_auth::{AuthConfig, BetterAuth};
use serde_json::{Value, json};

use crate::common::{Backend, PASSWORD, TestDb, show};

const SECRET: &str = "admin-cli-e2e-secret-at-least-32-characters";
const ORIGIN: &str = "http://localhost:3000";

/// Serves the auth routes under `/api/auth` on a free port, with the default
/// never-stale session cache on or off; returns the base URL.
async fn serve(url: &str, cached: bool) -> String {
    let database = Database::connect(url).await.expect("open the database");
    let config = AuthConfig::new(SECRET)
        .base_url(ORIGIN)
        .validated_session_cache(cached);
    let auth = Arc::new(
        BetterAuth::new(config)
            .database(database)
            .plugin(EmailPasswordPlugin::new())
            .plugin(SessionManagementPlugin::new())
            .build()
            .await
            .expect("build BetterAuth"),
    );
    let app = axum::Router::new()
        .nest("/api/auth", auth.axum_router())
        .with_state(auth);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    format!("http://{addr}")
}

/// Runs the CLI off the async workers.
async fn cli(db: &TestDb, args: &[&str], stdin: &str) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let (dir, url, stdin) = (db.dir().to_path_buf(), db.url.clone(), stdin.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend(["--database-url", &url]);
        crate::common::run_in(&dir, &all, &stdin)
    })
    .await
    .unwrap()
}

async fn sign_in(client: &reqwest::Client, base: &str, password: &str) -> (u16, Option<String>) {
    let resp = client
        .post(format!("{base}/api/auth/sign-in/email"))
        .header("origin", ORIGIN)
        .json(&json!({ "email": "ada@example.com", "password": password }))
        .send()
        .await
        .unwrap();
    let token = resp
        .headers()
        .get("set-auth-token")
        .map(|v| v.to_str().unwrap().to_owned());
    (resp.status().as_u16(), token)
}

async fn get_session(client: &reqwest::Client, base: &str, bearer: &str) -> Value {
    client
        .get(format!("{base}/api/auth/get-session"))
        .header("authorization", format!("Bearer {bearer}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `/get-session` for `bearer` after a change made by the CLI: on SQLite, or
/// with the cache off, the very next request; on PostgreSQL with its cache,
/// once the change's notification can have arrived (the runtime's freshness
/// tests allow 2 s on a busy machine).
async fn get_session_after_change(
    client: &reqwest::Client,
    base: &str,
    bearer: &str,
    backend: Backend,
    cached: bool,
    expect_null: bool,
) -> Value {
    if backend == Backend::Postgres && cached {
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(2) {
            let value = get_session(client, base, bearer).await;
            if value.is_null() == expect_null {
                return value;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    get_session(client, base, bearer).await
}

async fn create_sign_in_revoke(backend: Backend, cached: bool) {
    let Some(db) = TestDb::new(backend) else {
        return;
    };
    let out = cli(&db, &["migrate"], "").await;
    assert!(out.status.success(), "{}", show(&out));
    let base = serve(&db.url, cached).await;
    let client = reqwest::Client::new();

    let out = cli(
        &db,
        &[
            "user",
            "create",
            "--email",
            "Ada@Example.com",
            "--name",
            "Ada",
            "--password-stdin",
        ],
        PASSWORD,
    )
    .await;
    assert!(out.status.success(), "{}", show(&out));

    // The CLI's hash is the server's hash: the new user signs in (twice).
    // Three sign-ins in all: Better Auth's default sign-in rate limit.
    let (status, first) = sign_in(&client, &base, PASSWORD).await;
    assert_eq!(status, 200);
    let first = first.expect("set-auth-token");
    let session = get_session(&client, &base, &first).await;
    assert_eq!(session["user"]["email"], "ada@example.com", "{session}");
    let first_id = session["session"]["id"].as_str().unwrap().to_owned();
    let (_, second) = sign_in(&client, &base, PASSWORD).await;
    let second = second.expect("set-auth-token");

    // The CLI sees the server's sessions, and revoking one kills it at once.
    let out = cli(
        &db,
        &["session", "list", "--user", "ada@example.com", "--json"],
        "",
    )
    .await;
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == first_id.as_str())
    );
    // Both sessions answered twice: the second answer comes from the cache.
    for token in [&first, &second, &first, &second] {
        assert_ne!(get_session(&client, &base, token).await, Value::Null);
    }
    let out = cli(&db, &["session", "revoke", &first_id, "--yes"], "").await;
    assert!(out.status.success(), "{}", show(&out));
    let after = get_session_after_change(&client, &base, &first, backend, cached, true).await;
    assert_eq!(after, Value::Null);
    assert_ne!(get_session(&client, &base, &second).await, Value::Null);

    // A password set with the CLI ends the other session and works at once.
    let out = cli(
        &db,
        &[
            "user",
            "set-password",
            "--email",
            "ada@example.com",
            "--password-stdin",
        ],
        "a brand new password",
    )
    .await;
    assert!(out.status.success(), "{}", show(&out));
    let after = get_session_after_change(&client, &base, &second, backend, cached, true).await;
    assert_eq!(after, Value::Null);
    let (status, third) = sign_in(&client, &base, "a brand new password").await;
    assert_eq!(status, 200);
    let third = third.expect("set-auth-token");
    assert_ne!(get_session(&client, &base, &third).await, Value::Null);
    assert_ne!(get_session(&client, &base, &third).await, Value::Null);

    // Revoking by user ends every session of the user.
    let out = cli(
        &db,
        &["session", "revoke", "--user", "ada@example.com", "--yes"],
        "",
    )
    .await;
    assert!(out.status.success(), "{}", show(&out));
    let after = get_session_after_change(&client, &base, &third, backend, cached, true).await;
    assert_eq!(after, Value::Null);
}

/// A user created with the CLI signs in; sessions revoked with the CLI (by
/// id, by a password change, by user) are refused by a running server on the
/// next request, with its default never-stale session cache on and off, on
/// SQLite and PostgreSQL, and on MySQL (where no such cache runs).
mod cli_user_signs_in_and_cli_revocation_kills_the_session {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_cache_on() {
        create_sign_in_revoke(Backend::Sqlite, true).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_cache_off() {
        create_sign_in_revoke(Backend::Sqlite, false).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_cache_on() {
        create_sign_in_revoke(Backend::Postgres, true).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_cache_off() {
        create_sign_in_revoke(Backend::Postgres, false).await;
    }

    /// MySQL has no validated cache: with it asked for, every session is read.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mysql() {
        create_sign_in_revoke(Backend::MySql, true).await;
    }
}
