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

/// Serves the auth routes under `/api/auth` on a free port; returns the base URL.
async fn serve(url: &str) -> String {
    let database = Database::connect(url).await.expect("open the database");
    let auth = Arc::new(
        BetterAuth::new(AuthConfig::new(SECRET).base_url(ORIGIN))
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
    let (dir, url, stdin) = (
        db.dir.path().to_path_buf(),
        db.url.clone(),
        stdin.to_owned(),
    );
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

async fn create_sign_in_revoke(backend: Backend) {
    let Some(db) = TestDb::new(backend) else {
        return;
    };
    let out = cli(&db, &["migrate"], "").await;
    assert!(out.status.success(), "{}", show(&out));
    let base = serve(&db.url).await;
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
    let out = cli(&db, &["session", "revoke", &first_id, "--yes"], "").await;
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(get_session(&client, &base, &first).await, Value::Null);
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
    assert_eq!(get_session(&client, &base, &second).await, Value::Null);
    let (status, third) = sign_in(&client, &base, "a brand new password").await;
    assert_eq!(status, 200);
    let third = third.expect("set-auth-token");
    assert_ne!(get_session(&client, &base, &third).await, Value::Null);

    // Revoking by user ends every session of the user.
    let out = cli(
        &db,
        &["session", "revoke", "--user", "ada@example.com", "--yes"],
        "",
    )
    .await;
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(get_session(&client, &base, &third).await, Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_user_signs_in_and_cli_revocation_kills_the_session_sqlite() {
    create_sign_in_revoke(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_user_signs_in_and_cli_revocation_kills_the_session_postgres() {
    create_sign_in_revoke(Backend::Postgres).await;
}
