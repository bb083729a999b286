//! What is particular to MySQL (MariaDB): migrators racing under the named lock,
//! no validated session cache (so a revocation by anyone is seen by the next
//! request), exact text comparison, and queries whose values go out of order.

use better_auth::run_migrations;
use better_auth::store::{Database, accounts, migration_status, users};
use better_auth_test_support::{Scratch, both_backends};

use crate::common::*;

/// A fresh, unmigrated MySQL database, or `None` when no server is configured.
async fn scratch() -> Option<Scratch> {
    Scratch::open(Backend::MySql, "a MySQL test").await
}

/// Four pools migrating one fresh database at once all succeed: `GET_LOCK`
/// serialises them, and the later ones find every migration applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrators_racing_on_mysql_all_succeed() {
    let Some(scratch) = scratch().await else {
        return;
    };
    let mut handles = Vec::new();
    for _ in 0..4 {
        handles.push(Database::connect(&scratch.url).await.unwrap());
    }
    let (a, b, c, d) = tokio::join!(
        run_migrations(&handles[0]),
        run_migrations(&handles[1]),
        run_migrations(&handles[2]),
        run_migrations(&handles[3]),
    );
    for run in [a, b, c, d] {
        run.unwrap();
    }
    let status = migration_status(&handles[0]).await.unwrap();
    assert!(
        status
            .iter()
            .all(|m| m.is_applied() && m.applied_checksum.as_deref() == Some(m.checksum.as_str()))
    );
    for db in handles {
        db.close().await;
    }
}

/// MySQL has no change counter: the default (validated) session cache is off,
/// and a session deleted by another client is refused on the very next request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_validated_session_cache_on_mysql() {
    let Some(db) = TestDb::open(Backend::MySql).await else {
        return;
    };
    let srv = TestServer::start_with(&db, Setup::new()).await;
    assert!(srv.auth.context().session_cache().is_none());
    let token = srv.user("ada@example.com").await;
    for _ in 0..3 {
        let me = srv.get("/api/me").bearer(&token).send().await;
        assert_eq!(me.status, 200, "{}", me.body);
    }
    let mut conn = mysql_connection(&db.url).await;
    sqlx::query(r#"DELETE FROM "session""#)
        .execute(&mut conn)
        .await
        .unwrap();
    let me = srv.get("/api/me").bearer(&token).send().await;
    assert_eq!(me.status, 401, "{}", me.body);
}

/// The opt-in ttl cache works on MySQL as anywhere (it needs no counter).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ttl_cache_runs_on_mysql() {
    let Some(db) = TestDb::open(Backend::MySql).await else {
        return;
    };
    let mut setup = Setup::new();
    setup.config = setup
        .config
        .session_cache(std::time::Duration::from_millis(500));
    let srv = TestServer::start_with(&db, setup).await;
    assert!(srv.auth.context().session_cache().is_some());
    let token = srv.user("ada@example.com").await;
    let me = srv.get("/api/me").bearer(&token).send().await;
    assert_eq!(me.status, 200, "{}", me.body);
}

// Text compares exactly on every backend (on MySQL: `utf8mb4_bin`): a provider
// account id or an address that differs only in case or accents is another one.
both_backends!(
    provider_accounts_and_emails_compare_exactly,
    with_db,
    |db: TestDb| async move {
        let now = chrono::Utc::now();
        let ada = users::create(
            &db.database,
            users::NewUser::new("Ada", "jose@example.com"),
            now,
        )
        .await
        .unwrap();
        let other = users::create(
            &db.database,
            users::NewUser::new("José", "josé@example.com"),
            now,
        )
        .await
        .expect("an address with an accent is another address");
        let linked = accounts::create(
            &db.database,
            &ada.id,
            &accounts::NewAccount::new("oidc", "Alice"),
            now,
        )
        .await
        .unwrap();
        assert!(linked.is_some());
        assert!(
            accounts::find_by_provider_account(&db.database, "oidc", "alice")
                .await
                .unwrap()
                .is_none(),
            "`alice` is not `Alice`"
        );
        let second = accounts::create(
            &db.database,
            &other.id,
            &accounts::NewAccount::new("oidc", "alice"),
            now,
        )
        .await
        .unwrap();
        assert!(second.is_some(), "`alice` links to its own user");
        let found = users::find_by_email(&db.database, "jose@example.com")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, ada.id);
    }
);
