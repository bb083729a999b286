//! The databases the tests of this repository run on: a fresh SQLite file, or a fresh
//! PostgreSQL schema on the server `BETTER_AUTH_TEST_POSTGRES_URL` names, dropped when
//! the last handle on it goes (also when the test panics).
//!
//! Without that variable a PostgreSQL variant says `SKIPPED ...` and returns, unless
//! `BETTER_AUTH_REQUIRE_POSTGRES` is set (CI sets it): then it fails.
//!
//! [`both_backends!`] makes the two variants of a test. The crate using it needs `tokio`
//! (with `macros` and `rt-multi-thread`) among its dev-dependencies.

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

/// The database a test variant runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary folder.
    Sqlite,
    /// A schema of its own on the PostgreSQL server [`PG_ENV`] names.
    Postgres,
}

/// A fresh, empty database for one test, and the folder it may keep files in. Clones
/// share it; it is removed when the last one goes.
#[derive(Clone, Debug)]
pub struct Scratch {
    /// Which database.
    pub backend: Backend,
    /// Its URL (a PostgreSQL URL selects the schema through `search_path`).
    pub url: String,
    dir: Arc<tempfile::TempDir>,
    /// Held for its `Drop`: the schema goes with the last clone.
    _schema: Option<Arc<Schema>>,
}

impl Scratch {
    /// A fresh database on `backend`; `None` (after saying `SKIPPED` for `what`, "an
    /// admin CLI test" say) when PostgreSQL is not configured and not required.
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
                    _schema: Some(Arc::new(Schema { base, name })),
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

/// Defines `name::sqlite` and `name::postgres`, two tests on a multi-threaded runtime that
/// run one async body, each on its [`Backend`]. The PostgreSQL one first checks that a
/// server is configured: without [`PG_ENV`] it says `SKIPPED` and passes, or fails when
/// [`REQUIRE_POSTGRES_ENV`] is set.
///
/// - `both_backends!(name, |backend: Backend| async move { .. })` gives the body the
///   backend.
/// - `both_backends!(name, with, |thing| async move { .. })` calls
///   `with(backend, body).await`: `with` is a harness's async function that opens what the
///   body works on (a database, a server) on that backend and hands it over.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr $(,)?) => {
        $crate::both_backends!($name, $crate::with_backend, $body);
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
        }
    };
}

/// Runs `body` on `backend`: what [`both_backends!`] calls when it is given nothing else.
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

/// A test's PostgreSQL schema, dropped with the last handle on it.
#[derive(Debug)]
struct Schema {
    base: String,
    name: String,
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
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
