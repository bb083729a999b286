//! PostgreSQL's change counter for the session cache: a `LISTEN` on the
//! channel that migration 4's triggers notify whenever a `session` or `user`
//! row is updated or deleted (by any server, the CLI or a raw SQL client), as
//! the transaction commits. Each notification bumps a counter; the cache serves
//! an entry only while the counter is what it was when the entry was read,
//! exactly as SQLite's `PRAGMA data_version` is used.
//!
//! The counter is only offered while it can be trusted: after `LISTEN` has
//! been confirmed and the triggers are found in the schema. A lost connection
//! withdraws it (every lookup reads the database) until a new connection
//! listens again; the counter moves on reconnecting, so nothing cached before
//! the gap is served after it.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;

/// The channel migration 4's triggers notify.
const CHANNEL: &str = "better_auth_changes";

/// How long to wait before listening again after a failure, or before looking
/// for the triggers again while the schema lacks them (not migrated yet).
const RETRY: Duration = Duration::from_secs(2);

/// The counter, shared by every clone of a PostgreSQL `Database`.
#[derive(Debug)]
pub(crate) struct PgChanges {
    version: AtomicI64,
    ready: AtomicBool,
    /// Dropped with the last `Database` clone: ends the listening task.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl PgChanges {
    /// Starts listening on a connection of `pool`.
    pub(crate) fn start(pool: PgPool) -> Arc<PgChanges> {
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let changes = Arc::new(PgChanges {
            version: AtomicI64::new(0),
            ready: AtomicBool::new(false),
            _stop: stop,
        });
        tokio::spawn(listen(pool, Arc::downgrade(&changes), stopped));
        changes
    }

    /// The counter, or `None` while changes might go unseen.
    pub(crate) fn version(&self) -> Option<i64> {
        // Acquire pairs with the Release below: a `true` read sees the bump before it.
        if self.ready.load(Ordering::Acquire) {
            Some(self.version.load(Ordering::Acquire))
        } else {
            None
        }
    }

    pub(crate) fn bump(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    fn set_ready(&self, ready: bool) {
        self.bump();
        self.ready.store(ready, Ordering::Release);
    }
}

/// Listens until the `PgChanges` is dropped or the pool closes.
async fn listen(
    pool: PgPool,
    changes: Weak<PgChanges>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        let session = tokio::select! {
            _ = &mut stopped => return,
            session = listen_once(&pool, &changes) => session,
        };
        if let Some(changes) = changes.upgrade() {
            changes.set_ready(false);
        }
        match session {
            Listened::PoolClosed => return,
            Listened::Lost => {}
            Listened::Failed(err) => {
                tracing::debug!(error = %err, "better-auth: listening for session changes failed");
            }
        }
        tokio::select! {
            _ = &mut stopped => return,
            () = tokio::time::sleep(RETRY) => {}
        }
    }
}

/// How one listening connection ended.
enum Listened {
    /// The pool was closed: stop.
    PoolClosed,
    /// The connection was lost: listen again.
    Lost,
    /// Connecting, listening or the trigger check failed.
    Failed(sqlx::Error),
}

async fn listen_once(pool: &PgPool, changes: &Weak<PgChanges>) -> Listened {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(listener) => listener,
        Err(sqlx::Error::PoolClosed) => return Listened::PoolClosed,
        Err(err) => return Listened::Failed(err),
    };
    // A lost connection is reported at once, not silently replaced: anything
    // committed while it was down was never heard.
    listener.eager_reconnect(false);
    if let Err(err) = listener.listen(CHANNEL).await {
        return Listened::Failed(err);
    }
    match triggers_present(pool).await {
        Ok(true) => {}
        Ok(false) => {
            return Listened::Failed(sqlx::Error::Protocol(
                "the change-notification triggers are missing (run the migrations)".into(),
            ));
        }
        Err(err) => return Listened::Failed(err),
    }
    // Listening, with the triggers in place: from here on every change is heard.
    match changes.upgrade() {
        Some(changes) => changes.set_ready(true),
        None => return Listened::PoolClosed,
    }
    loop {
        match listener.try_recv().await {
            Ok(Some(_)) => match changes.upgrade() {
                Some(changes) => changes.bump(),
                None => return Listened::PoolClosed,
            },
            Ok(None) => return Listened::Lost,
            Err(sqlx::Error::PoolClosed) => return Listened::PoolClosed,
            Err(err) => return Listened::Failed(err),
        }
    }
}

/// True when migration 4's triggers exist on the tables this pool sees.
async fn triggers_present(pool: &PgPool) -> Result<bool, sqlx::Error> {
    let (count,): (i64,) = sqlx::query_as(
        r#"SELECT count(*) FROM pg_trigger t
           JOIN pg_class c ON c.oid = t.tgrelid
           WHERE c.oid IN (to_regclass('"session"'), to_regclass('"user"'))
             AND t.tgname IN ('better_auth_session_changed', 'better_auth_user_changed')"#,
    )
    .fetch_one(pool)
    .await?;
    Ok(count == 2)
}
