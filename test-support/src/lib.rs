//! The databases the tests of this repository run on: a fresh SQLite file, a fresh
//! PostgreSQL schema on the server `BETTER_AUTH_TEST_POSTGRES_URL` names, or a fresh
//! MySQL (MariaDB) database on the server `BETTER_AUTH_TEST_MYSQL_URL` names, dropped
//! when the last handle on it goes (also when the test panics).
//!
//! Without its variable a PostgreSQL or MySQL variant says `SKIPPED ...` and returns,
//! unless `BETTER_AUTH_REQUIRE_POSTGRES` (or `BETTER_AUTH_REQUIRE_MYSQL`) is set (CI sets
//! them): then it fails.
//!
//! [`all_backends!`] makes the variants of a test, one per backend. The crate using it
//! needs `tokio` (with `macros` and `rt-multi-thread`) among its dev-dependencies.

pub mod browser;
#[cfg(feature = "server")]
pub mod server;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// The environment variable naming a PostgreSQL server for tests.
pub const PG_ENV: &str = "BETTER_AUTH_TEST_POSTGRES_URL";

/// Set (by CI) to make a PostgreSQL variant without [`PG_ENV`] fail instead of skipping.
pub const REQUIRE_POSTGRES_ENV: &str = "BETTER_AUTH_REQUIRE_POSTGRES";

/// The environment variable naming a MySQL or MariaDB server for tests, without a
/// database (`mysql://root@127.0.0.1:3306`): each test creates one of its own.
pub const MYSQL_ENV: &str = "BETTER_AUTH_TEST_MYSQL_URL";

/// Set (by CI) to make a MySQL variant without [`MYSQL_ENV`] fail instead of skipping.
pub const REQUIRE_MYSQL_ENV: &str = "BETTER_AUTH_REQUIRE_MYSQL";

/// The database a test variant runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary folder.
    Sqlite,
    /// A schema of its own on the PostgreSQL server [`PG_ENV`] names.
    Postgres,
    /// A database of its own on the MySQL server [`MYSQL_ENV`] names.
    MySql,
}

/// A fresh, empty database for one test, and the folder it may keep files in. Clones
/// share it; it is removed when the last one goes.
#[derive(Clone, Debug)]
pub struct Scratch {
    /// Which database.
    pub backend: Backend,
    /// Its URL (a PostgreSQL URL selects the schema through `search_path`; a MySQL URL
    /// names the test's database).
    pub url: String,
    dir: Arc<tempfile::TempDir>,
    /// Held for its `Drop`: the schema (or MySQL database) goes with the last clone.
    _schema: Option<Arc<Schema>>,
}

impl Scratch {
    /// A fresh database on `backend`; `None` (after saying `SKIPPED` for `what`, "an
    /// admin CLI test" say) when PostgreSQL or MySQL is not configured and not required.
    pub async fn open(backend: Backend, what: &str) -> Option<Scratch> {
        let dir = Arc::new(
            tempfile::Builder::new()
                .prefix("better-auth-test-")
                .tempdir()
                .expect("a temporary folder"),
        );
        match backend {
            Backend::Sqlite => Some(Scratch {
                backend,
                url: format!("sqlite://{}", dir.path().join("auth.db").display()),
                dir,
                _schema: None,
            }),
            Backend::Postgres => {
                let base = postgres_url(what)?;
                let name = unique_name();
                let admin = sqlx::PgPool::connect(&base)
                    .await
                    .expect("connect to PostgreSQL");
                sqlx::query(&format!("CREATE SCHEMA \"{name}\""))
                    .execute(&admin)
                    .await
                    .expect("create a schema");
                admin.close().await;
                let sep = if base.contains('?') { '&' } else { '?' };
                Some(Scratch {
                    backend,
                    url: format!("{base}{sep}options=-c%20search_path%3D{name}"),
                    dir,
                    _schema: Some(Arc::new(Schema {
                        base,
                        name,
                        mysql: false,
                    })),
                })
            }
            Backend::MySql => {
                let base = mysql_url(what)?;
                let name = unique_name();
                let admin = sqlx::MySqlPool::connect(&base)
                    .await
                    .expect("connect to MySQL");
                sqlx::query(&format!(
                    "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                ))
                .execute(&admin)
                .await
                .expect("create a database");
                admin.close().await;
                Some(Scratch {
                    backend,
                    url: format!("{base}/{name}"),
                    dir,
                    _schema: Some(Arc::new(Schema {
                        base,
                        name,
                        mysql: true,
                    })),
                })
            }
        }
    }

    /// [`Scratch::open`] for tests without a runtime of their own.
    pub fn open_blocking(backend: Backend, what: &str) -> Option<Scratch> {
        let what = what.to_owned();
        on_own_runtime(async move { Scratch::open(backend, &what).await })
    }

    /// The test's temporary folder (the SQLite file is `auth.db` in it).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// Defines `name::sqlite`, `name::postgres` and `name::mysql`, one test per backend on a
/// multi-threaded runtime, each running one async body on its [`Backend`]. The
/// PostgreSQL one first checks that a server is configured: without [`PG_ENV`] it says
/// `SKIPPED` and passes, or fails when [`REQUIRE_POSTGRES_ENV`] is set; the MySQL one
/// likewise with [`MYSQL_ENV`] and [`REQUIRE_MYSQL_ENV`].
///
/// - `all_backends!(name, |backend: Backend| async move { .. })` gives the body the
///   backend.
/// - `all_backends!(name, with, |thing| async move { .. })` calls
///   `with(backend, body).await`: `with` is a harness's async function that opens what the
///   body works on (a database, a server) on that backend and hands it over.
#[macro_export]
macro_rules! all_backends {
    ($name:ident, $body:expr $(,)?) => {
        $crate::all_backends!($name, $crate::with_backend, $body);
    };
    ($name:ident, $with:expr, $body:expr $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($with)($crate::Backend::Sqlite, $body).await;
            }

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::postgres_configured(module_path!()) {
                    ($with)($crate::Backend::Postgres, $body).await;
                }
            }

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                if $crate::mysql_configured(module_path!()) {
                    ($with)($crate::Backend::MySql, $body).await;
                }
            }
        }
    };
}

/// Runs `body` on `backend`: what [`all_backends!`] calls when it is given nothing else.
pub async fn with_backend<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(Backend) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    body(backend).await;
}

/// Whether the PostgreSQL variant of `what` (a test's path, say) can run; after saying
/// it is skipped when it cannot. Panics when skipping is not allowed.
pub fn postgres_configured(what: &str) -> bool {
    postgres_url(what).is_some()
}

/// The PostgreSQL server's URL, or `None` after saying the variant is skipped; panics
/// when skipping is not allowed.
fn postgres_url(what: &str) -> Option<String> {
    if let Ok(url) = std::env::var(PG_ENV) {
        return Some(url);
    }
    assert!(
        std::env::var_os(REQUIRE_POSTGRES_ENV).is_none(),
        "{PG_ENV} is not set and {REQUIRE_POSTGRES_ENV} forbids skipping the PostgreSQL variants"
    );
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr().lock(),
        "SKIPPED PostgreSQL variant of {what}: set {PG_ENV} (e.g. \
         postgres://postgres@127.0.0.1:5432/test) to run it"
    );
    None
}

/// Whether the MySQL variant of `what` (a test's path, say) can run; after saying it
/// is skipped when it cannot. Panics when skipping is not allowed.
pub fn mysql_configured(what: &str) -> bool {
    mysql_url(what).is_some()
}

/// The MySQL server's URL without a database, or `None` after saying the variant is
/// skipped; panics when skipping is not allowed.
fn mysql_url(what: &str) -> Option<String> {
    if let Ok(url) = std::env::var(MYSQL_ENV) {
        // The server only: each test names its own database.
        let server = match url.split_once("://") {
            Some((scheme, rest)) => {
                let host = rest.split(['/', '?']).next().unwrap_or(rest);
                format!("{scheme}://{host}")
            }
            None => url,
        };
        return Some(server);
    }
    assert!(
        std::env::var_os(REQUIRE_MYSQL_ENV).is_none(),
        "{MYSQL_ENV} is not set and {REQUIRE_MYSQL_ENV} forbids skipping the MySQL variants"
    );
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr().lock(),
        "SKIPPED MySQL variant of {what}: set {MYSQL_ENV} (e.g. \
         mysql://root@127.0.0.1:3306) to run it"
    );
    None
}

/// A schema name no other test (or test process) uses.
fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "ba_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    )
}

/// A test's PostgreSQL schema (or MySQL database), dropped with the last handle on it.
#[derive(Debug)]
struct Schema {
    base: String,
    name: String,
    mysql: bool,
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        if self.mysql {
            on_own_runtime(async move {
                if let Ok(admin) = sqlx::MySqlPool::connect(&base).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS `{name}`"))
                        .execute(&admin)
                        .await;
                    admin.close().await;
                }
            });
            return;
        }
        on_own_runtime(async move {
            if let Ok(admin) = sqlx::PgPool::connect(&base).await {
                let _ = sqlx::query(&format!("DROP SCHEMA \"{name}\" CASCADE"))
                    .execute(&admin)
                    .await;
                admin.close().await;
            }
        });
    }
}

/// Runs `future` to completion on a runtime of its own, in a thread of its own: callable
/// from synchronous code, from `Drop`, and from inside another runtime.
pub fn on_own_runtime<F>(future: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(future)
    })
    .join()
    .expect("the future completes")
}
