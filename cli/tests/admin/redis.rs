//! Revocations made with the CLI reach the servers' Redis session storage:
//! given the Redis URL (`--redis-url`, `BETTER_AUTH_REDIS_URL`, `./.env`), a
//! session revoked with the CLI is refused by a server that cached it in Redis
//! on the very next request. Runs when `BETTER_AUTH_TEST_REDIS_URL` names a
//! Redis; without it each test says `SKIPPED: redis not reachable` and passes,
//! unless `BETTER_AUTH_REQUIRE_REDIS` is set: then it fails.

use std::net::SocketAddr;
use std::sync::Arc;

use better_auth::integrations::axum::AxumIntegration;
use better_auth::plugins::{EmailPasswordPlugin, SessionManagementPlugin};
use better_auth::rate_limit::RateLimitConfig;
use better_auth::store::{Database, RedisStorage};
use better_auth::{AuthConfig, BetterAuth};
use better_auth_test_support::all_backends;
use serde_json::{Value, json};

use crate::common::{Backend, PASSWORD, TestDb, assert_one_error_line, show, text};

const REDIS_ENV: &str = "BETTER_AUTH_TEST_REDIS_URL";
const REQUIRE_REDIS_ENV: &str = "BETTER_AUTH_REQUIRE_REDIS";
const SECRET: &str = "admin-cli-redis-secret-at-least-32-characters";
const ORIGIN: &str = "http://localhost:3000";

/// The test Redis's URL, when it answers; else `None` after saying the test
/// is skipped (a failure when skipping is not allowed).
async fn redis_url() -> Option<String> {
    let required = std::env::var_os(REQUIRE_REDIS_ENV).is_some();
    let Ok(url) = std::env::var(REDIS_ENV) else {
        assert!(
            !required,
            "{REDIS_ENV} is not set and {REQUIRE_REDIS_ENV} forbids skipping the Redis tests"
        );
        eprintln!("SKIPPED: redis not reachable (set {REDIS_ENV}, e.g. redis://127.0.0.1:6379)");
        return None;
    };
    match RedisStorage::connect(&url).await {
        Ok(_) => Some(url),
        Err(e) => {
            assert!(!required, "{REDIS_ENV}={url}: {e}");
            eprintln!("SKIPPED: redis not reachable ({e})");
            None
        }
    }
}

/// Serves the auth routes under `/api/auth` on a free port with sessions in
/// `redis` and the in-process cache off, so every lookup asks Redis first and
/// a session cached there is served from there; returns the base URL.
async fn serve(url: &str, redis: RedisStorage) -> String {
    let database = Database::connect(url).await.expect("open the database");
    let config = AuthConfig::new(SECRET)
        .base_url(ORIGIN)
        .validated_session_cache(false)
        .secondary_storage(redis)
        .rate_limit(RateLimitConfig::disabled());
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

/// Runs the CLI (`--database-url` added, `env` set) off the async workers.
async fn cli(
    db: &TestDb,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let (dir, url, stdin) = (db.dir().to_path_buf(), db.url.clone(), stdin.to_owned());
    tokio::task::spawn_blocking(move || {
        assert_cmd::Command::new(env!("CARGO_BIN_EXE_better-auth"))
            .args(&args)
            .args(["--database-url", &url])
            .current_dir(&dir)
            .env_remove("DATABASE_URL")
            .env_remove("BETTER_AUTH_DATABASE_URL")
            .env_remove("BETTER_AUTH_REDIS_URL")
            .env_remove("BETTER_AUTH_REDIS_KEY_PREFIX")
            .envs(env)
            .env("NO_COLOR", "1")
            .write_stdin(stdin)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

async fn ok(db: &TestDb, args: &[&str], env: &[(&str, &str)], stdin: &str) -> String {
    let out = cli(db, args, env, stdin).await;
    assert!(out.status.success(), "{args:?}\n{}", show(&out));
    text(&out.stdout)
}

async fn sign_in(client: &reqwest::Client, base: &str, password: &str) -> String {
    let resp = client
        .post(format!("{base}/api/auth/sign-in/email"))
        .header("origin", ORIGIN)
        .json(&json!({ "email": "ada@example.com", "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.headers()
        .get("set-auth-token")
        .expect("set-auth-token")
        .to_str()
        .unwrap()
        .to_owned()
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

/// Reads the session twice: the first read stores it in Redis, the second
/// is served from there.
async fn cache(client: &reqwest::Client, base: &str, bearer: &str) -> Value {
    let first = get_session(client, base, bearer).await;
    assert_ne!(first, Value::Null);
    let second = get_session(client, base, bearer).await;
    assert_eq!(second["session"]["id"], first["session"]["id"], "{second}");
    second
}

async fn cli_revocations_reach_redis(backend: Backend) {
    let Some(redis_url) = redis_url().await else {
        return;
    };
    let Some(db) = TestDb::new(backend) else {
        return;
    };
    ok(&db, &["migrate"], &[], "").await;
    ok(
        &db,
        &[
            "user",
            "create",
            "--email",
            "ada@example.com",
            "--name",
            "Ada",
            "--password-stdin",
        ],
        &[],
        PASSWORD,
    )
    .await;
    // A prefix of this test's own: parallel tests share the Redis.
    let prefix = format!("ba-cli-test-{}:", rand::random::<u64>());
    let redis = RedisStorage::connect(&redis_url)
        .await
        .unwrap()
        .key_prefix(prefix.clone());
    let base = serve(&db.url, redis).await;
    let client = reqwest::Client::new();
    let told = format!(
        "Told Redis {} (from --redis-url): 1 user's cached sessions dropped",
        better_auth::store::redact_url(&redis_url)
    );

    let first = sign_in(&client, &base, PASSWORD).await;
    let second = sign_in(&client, &base, PASSWORD).await;
    let first_id = cache(&client, &base, &first).await["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    cache(&client, &base, &second).await;

    // Without the Redis URL, the server goes on serving the revoked session
    // from Redis (until its entry expires)...
    let out = ok(&db, &["session", "revoke", &first_id, "--yes"], &[], "").await;
    assert!(!out.contains("Redis"), "{out}");
    assert_ne!(get_session(&client, &base, &first).await, Value::Null);

    // ...with it, the very next request is refused.
    let out = ok(
        &db,
        &[
            "session",
            "revoke",
            "--user",
            "ada@example.com",
            "--yes",
            "--redis-url",
            &redis_url,
            "--redis-key-prefix",
            &prefix,
        ],
        &[],
        "",
    )
    .await;
    assert!(out.contains(&told), "{out}");
    assert_eq!(get_session(&client, &base, &first).await, Value::Null);
    assert_eq!(get_session(&client, &base, &second).await, Value::Null);

    // A password set with the CLI, Redis named in the environment.
    let third = sign_in(&client, &base, PASSWORD).await;
    cache(&client, &base, &third).await;
    let out = ok(
        &db,
        &[
            "user",
            "set-password",
            "--email",
            "ada@example.com",
            "--password-stdin",
        ],
        &[
            ("BETTER_AUTH_REDIS_URL", &redis_url),
            ("BETTER_AUTH_REDIS_KEY_PREFIX", &prefix),
        ],
        "a brand new password",
    )
    .await;
    assert!(
        out.contains(&told.replace("--redis-url", "BETTER_AUTH_REDIS_URL")),
        "{out}"
    );
    assert_eq!(get_session(&client, &base, &third).await, Value::Null);

    // A user deleted with the CLI, Redis named in ./.env.
    let fourth = sign_in(&client, &base, "a brand new password").await;
    cache(&client, &base, &fourth).await;
    std::fs::write(
        db.dir().join(".env"),
        format!("BETTER_AUTH_REDIS_URL={redis_url}\nBETTER_AUTH_REDIS_KEY_PREFIX={prefix}\n"),
    )
    .unwrap();
    let out = ok(
        &db,
        &["user", "delete", "--email", "ada@example.com", "--yes"],
        &[],
        "",
    )
    .await;
    assert!(
        out.contains(&told.replace("--redis-url", ".env BETTER_AUTH_REDIS_URL")),
        "{out}"
    );
    assert_eq!(get_session(&client, &base, &fourth).await, Value::Null);
}

all_backends!(
    cli_revocations_are_refused_on_the_next_request_with_redis,
    |backend: Backend| async move {
        cli_revocations_reach_redis(backend).await;
    }
);

/// Adds a session row for the user, as a sign-in would.
async fn add_session(db: &TestDb, email: &str) {
    use better_auth::prelude::Session;
    use better_auth::store::{sessions, users};
    let database = Database::connect(&db.url).await.unwrap();
    let user = users::find_by_email(&database, email)
        .await
        .unwrap()
        .unwrap();
    let now = chrono::Utc::now();
    let session = Session::new(
        better_auth::crypto::generate_id(),
        better_auth::crypto::token_digest(&better_auth::crypto::generate_token()),
        user.id,
        now + chrono::Duration::days(1),
        now,
    );
    sessions::create(&database, &session).await.unwrap();
    database.close().await;
}

async fn session_count(db: &TestDb) -> usize {
    let out = ok(
        db,
        &["session", "list", "--user", "ada@example.com", "--json"],
        &[],
        "",
    )
    .await;
    serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .len()
}

/// An unusable Redis URL stops the command before the database changes; a
/// Redis that does not answer fails it after the change, saying the change
/// was made, what servers may do meanwhile and how to clear the entries,
/// without the Redis password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_fails_the_command_after_the_change() {
    let Some(db) = TestDb::new(Backend::Sqlite) else {
        return;
    };
    ok(&db, &["migrate"], &[], "").await;
    ok(
        &db,
        &[
            "user",
            "create",
            "--email",
            "ada@example.com",
            "--name",
            "Ada",
            "--password-stdin",
        ],
        &[],
        PASSWORD,
    )
    .await;
    add_session(&db, "ada@example.com").await;
    let revoke = ["session", "revoke", "--user", "ada@example.com", "--yes"];

    let mut args = revoke.to_vec();
    args.extend(["--redis-url", "http://not-redis"]);
    let out = cli(&db, &args, &[], "").await;
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let stderr = text(&out.stderr);
    assert_one_error_line(&stderr);
    assert!(
        stderr.contains("cannot use the Redis URL from --redis-url"),
        "{stderr}"
    );
    assert_eq!(session_count(&db).await, 1, "nothing was changed");

    let mut args = revoke.to_vec();
    args.extend(["--redis-url", "redis://:s3cr3t-pw@127.0.0.1:1"]);
    let out = cli(&db, &args, &[], "").await;
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_eq!(
        text(&out.stdout),
        "Revoked 1 session of ada@example.com\n",
        "{}",
        show(&out)
    );
    let stderr = text(&out.stderr);
    assert_one_error_line(&stderr);
    assert!(!stderr.contains("s3cr3t-pw"), "{stderr}");
    for part in [
        "error: the database change was made, but Redis (from --redis-url) could not be told",
        "may serve the old sessions of ada@example.com for up to its session TTL",
        "redis-cli -u redis://:***@127.0.0.1:1 --scan --pattern 'better-auth:session:*'",
    ] {
        assert!(stderr.contains(part), "{part}:\n{stderr}");
    }
    assert_eq!(session_count(&db).await, 0, "the database change was made");
}
