//! The store: in-memory SQLite, migrations beside an app's own (and racing each
//! other), Better Auth schemas, concurrent credential writes, redacted URLs.

use better_auth::run_migrations;
use better_auth::store::{Database, migration_status};
use better_auth_test_support::all_backends;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn sqlite_memory_is_one_database_across_the_pool() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    run_migrations(&db).await.unwrap();
    let srv = TestServer::start_on(db.clone(), Setup::new()).await;
    // Many concurrent requests, each on whatever connection the pool hands out,
    // all see the tables and the rows the others wrote.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let client = srv.client.clone();
        let url = format!("{}/api/auth/sign-up/email", srv.base);
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({ "name": "U", "email": format!("u{i}@example.com"), "password": PASSWORD }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let users = better_auth::store::users::list(&db).await.unwrap();
    assert_eq!(users.len(), 8);
}

all_backends!(
    migrations_are_idempotent_and_keep_their_own_history,
    with_db,
    |db: TestDb| async move {
        run_migrations(&db.database).await.unwrap();
        run_migrations(&db.database).await.unwrap();
        let status = migration_status(&db.database).await.unwrap();
        assert!(
            status
                .iter()
                .all(|m| m.is_applied()
                    && m.applied_checksum.as_deref() == Some(m.checksum.as_str()))
        );
    }
);

// An app running its own `sqlx::migrate!()` next to ours: neither complains.
all_backends!(
    migrations_coexist_with_an_apps_sqlx_migrations,
    with_db,
    |db: TestDb| async move {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("20240101000000_todos.sql"),
            "CREATE TABLE todos (id BIGINT PRIMARY KEY, title TEXT NOT NULL);",
        )
        .unwrap();
        let migrator = sqlx::migrate::Migrator::new(dir.path()).await.unwrap();
        if db.url.starts_with("mysql:") {
            let pool = sqlx::MySqlPool::connect(&db.url).await.unwrap();
            migrator.run(&pool).await.unwrap();
            run_migrations(&db.database).await.unwrap();
            migrator.run(&pool).await.unwrap();
            run_migrations(&db.database).await.unwrap();
            return;
        }
        match db.url.starts_with("sqlite") {
            true => {
                let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
                migrator.run(&pool).await.unwrap();
                run_migrations(&db.database).await.unwrap();
                migrator.run(&pool).await.unwrap();
            }
            false => {
                let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
                migrator.run(&pool).await.unwrap();
                run_migrations(&db.database).await.unwrap();
                migrator.run(&pool).await.unwrap();
            }
        }
        run_migrations(&db.database).await.unwrap();
    }
);

/// A database laid out by Better Auth (TypeScript) — its column types and its
/// stored formats, including its scrypt-free rows — is readable as is.
#[tokio::test]
async fn reads_a_database_written_by_better_auth() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ba.db").display());
    let db = Database::connect(&url).await.unwrap();
    // Better Auth's own SQLite DDL, and a row as it writes it.
    sqlx::raw_sql(
        r#"create table "user" ("id" text not null primary key, "name" text not null, "email" text not null unique, "emailVerified" integer not null, "image" text, "createdAt" date not null, "updatedAt" date not null);
           create table "session" ("id" text not null primary key, "expiresAt" date not null, "token" text not null unique, "createdAt" date not null, "updatedAt" date not null, "ipAddress" text, "userAgent" text, "userId" text not null references "user" ("id") on delete cascade);
           create table "account" ("id" text not null primary key, "accountId" text not null, "providerId" text not null, "userId" text not null references "user" ("id") on delete cascade, "accessToken" text, "refreshToken" text, "idToken" text, "accessTokenExpiresAt" date, "refreshTokenExpiresAt" date, "scope" text, "password" text, "createdAt" date not null, "updatedAt" date not null);
           create table "verification" ("id" text not null primary key, "identifier" text not null, "value" text not null, "expiresAt" date not null, "createdAt" date not null, "updatedAt" date not null);
           insert into "user" values ('EGfhxINXqHHlqnr5gAvx14ddGGKcOplz', 'Ada', 'ada@example.com', 0, null, '2026-11-27T05:33:53.502Z', '2026-11-27T05:33:53.503Z');"#,
    )
    .execute(&sqlx::SqlitePool::connect(&url).await.unwrap())
    .await
    .unwrap();
    run_migrations(&db).await.unwrap();
    let user = better_auth::store::users::find_by_email(&db, "ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.id, "EGfhxINXqHHlqnr5gAvx14ddGGKcOplz");
    assert_eq!(
        serde_json::to_value(&user).unwrap()["createdAt"],
        "2026-11-27T05:33:53.502Z"
    );
    // And the runtime works on that schema: sign up, then read the session back.
    let srv = TestServer::start_on(db.clone(), Setup::new()).await;
    let token = srv.user("bob@example.com").await;
    let session = srv.get("/api/auth/get-session").bearer(&token).send().await;
    assert_eq!(session.body["user"]["email"], "bob@example.com");
    assert_eq!(better_auth::store::users::list(&db).await.unwrap().len(), 2);
}

/// A database file Better Auth creates holds password hashes and session tokens: it and
/// its WAL files are readable by their owner only, whatever the process's umask.
#[cfg(unix)]
#[tokio::test]
async fn a_new_sqlite_file_and_its_wal_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auth.db");
    let db = Database::connect(&format!("sqlite:{}?mode=rwc", path.display()))
        .await
        .unwrap();
    run_migrations(&db).await.unwrap();
    let mut checked = 0;
    for name in ["auth.db", "auth.db-wal", "auth.db-shm"] {
        let Ok(meta) = std::fs::metadata(dir.path().join(name)) else {
            continue;
        };
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
        checked += 1;
    }
    assert!(checked >= 2, "the database and its WAL file exist");
    db.close().await;
}

/// Two processes migrating one fresh SQLite file at once both succeed: each
/// migration takes the write lock before it reads the history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_migrations_from_two_processes_at_once() {
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("auth.db").display());
        // Separate pools: separate connections, as two processes would have.
        let mut handles = Vec::new();
        for _ in 0..4 {
            handles.push(better_auth::store::Database::connect(&url).await.unwrap());
        }
        let (a, b, c, d) = tokio::join!(
            better_auth::run_migrations(&handles[0]),
            better_auth::run_migrations(&handles[1]),
            better_auth::run_migrations(&handles[2]),
            better_auth::run_migrations(&handles[3]),
        );
        for run in [a, b, c, d] {
            run.unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
        let status = better_auth::store::migration_status(&handles[0])
            .await
            .unwrap();
        assert!(status.iter().all(|m| m.is_applied()));
        for db in handles {
            db.close().await;
        }
    }
}

all_backends!(
    concurrent_password_sets_leave_one_credential_account,
    with_db,
    |db: TestDb| async move {
        use better_auth::store::{accounts, users};
        let now = chrono::Utc::now();
        let new = users::NewUser::new("Ada", "ada@example.com").email_verified(true);
        let user = users::create_with_password(&db.database, new, "old-hash", now)
            .await
            .unwrap();
        // A user with no credential account (say, one who signed up with a provider).
        assert!(
            accounts::delete_for_user(&db.database, &user.id, "credential", None)
                .await
                .unwrap()
        );
        let sets: Vec<_> = (0..16)
            .map(|i| {
                let database = db.database.clone();
                let id = user.id.clone();
                tokio::spawn(async move {
                    accounts::set_credential_password(&database, &id, &format!("hash-{i}"), now)
                        .await
                })
            })
            .collect();
        for set in sets {
            set.await.unwrap().unwrap();
        }
        let credentials = accounts::list_for_user(&db.database, &user.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.provider_id == "credential")
            .count();
        assert_eq!(
            credentials, 1,
            "one credential account, whatever the interleaving"
        );
        let hash = accounts::credential_password(&db.database, &user.id)
            .await
            .unwrap()
            .unwrap();
        assert!(hash.starts_with("hash-"), "{hash}");
    }
);

/// The database URL the CLI shows hides the whole password, `@` and all.
#[test]
fn redacted_database_urls_hide_passwords_containing_at() {
    use better_auth::store::redact_url;
    assert_eq!(
        redact_url("postgres://app:p@ss@word@db.example.com:5432/auth"),
        "postgres://app:***@db.example.com:5432/auth"
    );
    assert_eq!(
        redact_url("postgres://app:secret@db.example.com/auth?sslmode=require"),
        "postgres://app:***@db.example.com/auth?sslmode=require"
    );
    assert_eq!(
        redact_url("postgres://db.example.com/a@b"),
        "postgres://db.example.com/a@b"
    );
    assert_eq!(redact_url("sqlite://auth.db"), "sqlite://auth.db");
}
