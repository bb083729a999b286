//! S51: the session cache cannot go stale, whatever the network or the
//! database does. PostgreSQL: a listener connection that goes silent (frozen
//! by a proxy in the test, as an idle NAT or a dying primary would) or
//! disabled triggers withdraw the cache within the stated bound; it comes back
//! after a new connection. SQLite: `REPLACE`, a restored older copy and a
//! database path behind a symbolic link are seen on the next request.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use better_auth::store::Database;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

/// The staleness bound SECURITY.md states for PostgreSQL (3 s), and what a
/// loaded test machine may add to it (request round trips, polling).
const BOUND: Duration = Duration::from_secs(3);
const SLACK: Duration = Duration::from_millis(700);

// ---------------------------------------------------------------- the proxy

/// One proxied connection: whether it is the change listener's (it sent
/// `LISTEN`) and whether it is frozen.
#[derive(Default)]
struct Link {
    listener: AtomicBool,
    frozen: AtomicBool,
}

/// A TCP proxy to PostgreSQL that can freeze connections: bytes stop flowing
/// both ways, and the sockets stay open (no FIN, no RST), as when a network
/// silently drops a connection.
struct Proxy {
    addr: SocketAddr,
    links: Arc<Mutex<Vec<Arc<Link>>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let links: Arc<Mutex<Vec<Arc<Link>>>> = Arc::default();
        let registry = links.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = socket.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    continue;
                };
                let link = Arc::new(Link::default());
                registry.lock().unwrap().push(link.clone());
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pump(client_read, server_write, link.clone(), true));
                tokio::spawn(pump(server_read, client_write, link, false));
            }
        });
        Proxy { addr, links }
    }

    /// Freezes every connection that listens for changes now; returns how many.
    fn freeze_listeners(&self) -> usize {
        let links = self.links.lock().unwrap();
        let mut n = 0;
        for link in links.iter() {
            if link.listener.load(Ordering::SeqCst) {
                link.frozen.store(true, Ordering::SeqCst);
                n += 1;
            }
        }
        n
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    link: Arc<Link>,
    from_client: bool,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let Ok(n) = from.read(&mut buffer).await else {
            return;
        };
        if n == 0 {
            return;
        }
        if from_client && buffer[..n].windows(6).any(|w| w == b"LISTEN") {
            link.listener.store(true, Ordering::SeqCst);
        }
        // Frozen: hold the bytes and the sockets, for ever.
        while link.frozen.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------- helpers

async fn exec_sql(url: &str, sql: &str) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

async fn session_of(srv: &TestServer, bearer: &str) -> Value {
    let resp = srv.get("/api/auth/get-session").bearer(bearer).send().await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    resp.body
}

/// Repeats `/get-session` until the cache holds `n` entries (PostgreSQL's
/// listener starts in the background).
async fn cache_holds(srv: &TestServer, bearer: &str, n: usize, within: Duration) -> bool {
    let cache = srv.auth.session_cache().expect("a session cache");
    let start = Instant::now();
    while start.elapsed() < within {
        assert!(!session_of(srv, bearer).await.is_null());
        if cache.len() >= n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// How long the revoked `bearer` is still served after `since`; panics when it
/// is served for longer than `limit`, or served again after it was refused.
async fn served_for(srv: &TestServer, bearer: &str, since: Instant, limit: Duration) -> Duration {
    loop {
        if session_of(srv, bearer).await.is_null() {
            break;
        }
        assert!(
            since.elapsed() <= limit,
            "a revoked session is still served {:?} after its revocation",
            since.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let served = since.elapsed();
    for _ in 0..10 {
        assert!(session_of(srv, bearer).await.is_null(), "served again");
    }
    served
}

/// The test database's URL with its host and port replaced by `addr`.
fn through(url: &str, addr: SocketAddr) -> (String, String) {
    let mut parsed = url::Url::parse(url).unwrap();
    let upstream = format!(
        "{}:{}",
        parsed.host_str().unwrap(),
        parsed.port().unwrap_or(5432)
    );
    parsed.set_host(Some(&addr.ip().to_string())).unwrap();
    parsed.set_port(Some(addr.port())).unwrap();
    (parsed.to_string(), upstream)
}

// ---------------------------------------------------------------- PostgreSQL

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s51_a_frozen_listener_connection_withdraws_the_cache() {
    let Some(db) = TestDb::open(Backend::Postgres).await else {
        return;
    };
    let (_, upstream) = through(&db.url, "127.0.0.1:1".parse().unwrap());
    let proxy = Proxy::start(upstream).await;
    let (proxied, _) = through(&db.url, proxy.addr);
    let database = Database::connect(&proxied).await.unwrap();
    let srv = TestServer::start_on(database.clone(), Setup::new()).await;
    let bearer = srv.user("ada@example.com").await;
    assert!(
        cache_holds(&srv, &bearer, 1, Duration::from_secs(10)).await,
        "the cache is in use before the freeze"
    );

    // The listener's connection goes silent; then the session is revoked
    // elsewhere (as `better-auth session revoke` does: a DELETE of its row).
    assert_eq!(proxy.freeze_listeners(), 1, "one listening connection");
    exec_sql(&db.url, r#"DELETE FROM "session""#).await;
    let revoked = Instant::now();
    let served = served_for(&srv, &bearer, revoked, BOUND + SLACK).await;
    notice(&format!(
        "S51: with the listener frozen, a revoked session was served for {served:?} (bound {BOUND:?})"
    ));

    // A new connection listens again, and the cache is used again.
    let resp = srv.sign_in("ada@example.com", PASSWORD).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let again = resp.auth_token();
    assert!(
        cache_holds(&srv, &again, 2, Duration::from_secs(20)).await,
        "the cache comes back after the listener reconnects"
    );
    database.close().await;
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s51_disabled_triggers_withdraw_the_cache() {
    let Some(db) = TestDb::open(Backend::Postgres).await else {
        return;
    };
    let srv = TestServer::start_on(db.database.clone(), Setup::new()).await;
    let first = srv.user("ada@example.com").await;
    assert!(cache_holds(&srv, &first, 1, Duration::from_secs(10)).await);

    // Disabled triggers: a deletion is never notified.
    exec_sql(
        &db.url,
        r#"ALTER TABLE "session" DISABLE TRIGGER "better_auth_session_changed";
           DELETE FROM "session";"#,
    )
    .await;
    let served = served_for(&srv, &first, Instant::now(), BOUND + SLACK).await;
    notice(&format!(
        "S51: with the triggers disabled, a revoked session was served for {served:?}"
    ));

    // Enabled again: the cache comes back.
    exec_sql(
        &db.url,
        r#"ALTER TABLE "session" ENABLE ALWAYS TRIGGER "better_auth_session_changed""#,
    )
    .await;
    let second = srv.sign_in("ada@example.com", PASSWORD).await.auth_token();
    assert!(cache_holds(&srv, &second, 2, Duration::from_secs(10)).await);

    // A client in replica mode (which skips ordinary triggers) is still heard
    // at once.
    exec_sql(
        &db.url,
        r#"SET session_replication_role = replica; DELETE FROM "session";"#,
    )
    .await;
    let served = served_for(&srv, &second, Instant::now(), Duration::from_secs(1)).await;
    notice(&format!(
        "S51: a deletion in replica mode was seen after {served:?}"
    ));
    db.drop_schema().await;
}

// ---------------------------------------------------------------- SQLite

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s51_sqlite_replace_of_a_session_is_seen() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start_on(db.database.clone(), Setup::new()).await;
    let bearer = srv.user("ada@example.com").await;
    assert!(cache_holds(&srv, &bearer, 1, Duration::from_secs(5)).await);
    // The row is replaced by one that expired long ago: no UPDATE, no DELETE
    // trigger fires.
    exec_sql(
        &db.url,
        r#"INSERT OR REPLACE INTO "session"
             ("id", "token", "userId", "expiresAt", "createdAt", "updatedAt")
           SELECT "id", "token", "userId", '2001-01-01T00:00:00.000Z', "createdAt", "updatedAt"
           FROM "session""#,
    )
    .await;
    assert!(session_of(&srv, &bearer).await.is_null());
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s51_sqlite_restoring_an_older_copy_is_seen() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start_on(db.database.clone(), Setup::new()).await;
    srv.user("ada@example.com").await;
    // A backup, before the intruder's sign-in.
    let path = db.url.trim_start_matches("sqlite://").to_owned();
    let backup = format!("{path}.backup");
    exec_sql(&db.url, &format!("VACUUM INTO '{backup}'")).await;
    let intruder = srv.sign_in("ada@example.com", PASSWORD).await.auth_token();
    assert!(cache_holds(&srv, &intruder, 1, Duration::from_secs(5)).await);

    // Incident response: the backup is restored (every table's rows, the
    // change count included, as a file restore does).
    exec_sql(
        &db.url,
        &format!(
            r#"ATTACH '{backup}' AS "b";
               BEGIN;
               DELETE FROM main."session";
               INSERT INTO main."session" SELECT * FROM "b"."session";
               DELETE FROM main."better_auth_session_changes";
               INSERT INTO main."better_auth_session_changes"
                 SELECT * FROM "b"."better_auth_session_changes";
               COMMIT;"#
        ),
    )
    .await;
    assert!(
        session_of(&srv, &intruder).await.is_null(),
        "the intruder's session is not in the restored database"
    );
    db.drop_schema().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s51_sqlite_a_path_behind_a_symlink_is_watched() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let real = db.url.trim_start_matches("sqlite://").to_owned();
    let elsewhere = tempfile::tempdir().unwrap();
    let link = elsewhere.path().join("auth.db");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    // A stale `-shm` beside the link (an old copy), not the one SQLite maps.
    std::fs::copy(format!("{real}-shm"), format!("{}-shm", link.display())).unwrap();
    let database = Database::connect(&format!("sqlite://{}", link.display()))
        .await
        .unwrap();
    let srv = TestServer::start_on(database.clone(), Setup::new()).await;
    let bearer = srv.user("ada@example.com").await;
    assert!(cache_holds(&srv, &bearer, 1, Duration::from_secs(5)).await);
    exec_sql(&db.url, r#"DELETE FROM "session""#).await;
    assert!(session_of(&srv, &bearer).await.is_null());
    database.close().await;
    db.drop_schema().await;
}
