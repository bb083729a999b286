//! PostgreSQL's change counter for the session cache: a `LISTEN` on the
//! channel that migration 4's triggers notify whenever a `session` or `user`
//! row is updated or deleted (by any server, the CLI or a raw SQL client), as
//! the transaction commits. Each notification bumps a counter; the cache serves
//! an entry only while the counter is what it was when the entry was read,
//! exactly as SQLite's change count is used.
//!
//! S51: the counter is only offered while it is *proven* current. A silent
//! network (an idle NAT or load balancer dropping the connection, a primary
//! dying without a reset) or disabled triggers would otherwise leave a revoked
//! session served for ever. So:
//! - every [`HEARTBEAT`] the listener sends a notification of its own through
//!   another connection, in the same query that checks the triggers are in
//!   place and *enabled* (`ENABLE ALWAYS`, migration 7, so
//!   `session_replication_role = replica` cannot silence them either) and
//!   that the tables are the ones it watched (a dropped and re-created table
//!   is a full invalidation). When that notification comes back on the
//!   listening connection, every change committed before the heartbeat was
//!   sent has been heard (notifications arrive in commit order);
//! - the counter is offered only while the newest heartbeat answered was
//!   sent less than [`STALENESS_BOUND`] ago (checked on every request, so a
//!   busy listener task cannot stretch it): a change that is never heard stops
//!   being masked by the cache at most that long after it commits;
//! - a heartbeat not answered within [`LOST_AFTER`] drops the connection and
//!   listens on a new one; anything cached before is dropped when it is
//!   ready again (the counter moves);
//! - the listening connection is a connection of its own (not one of the
//!   pool's, so a dead one never takes a pool slot), with the server's TCP
//!   keepalive on (`tcp_keepalives_idle` 10 s, interval 5 s, 3 probes), so the
//!   server too ends a session whose client went silent. sqlx gives no access
//!   to the client's socket; on this side the heartbeat is the keepalive.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};

/// The channel migration 4's triggers notify.
const CHANNEL: &str = "better_auth_changes";

/// How long to wait before listening again after a failure, or before looking
/// for the triggers again while the schema lacks them (not migrated yet).
const RETRY: Duration = Duration::from_secs(2);

/// How often the listener proves itself alive (S51).
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(1);

/// The longest a change that is never heard can be masked by the cache (S51):
/// entries are served only while a heartbeat sent less than this long ago has
/// come back.
pub(crate) const STALENESS_BOUND: Duration = Duration::from_secs(3);

/// A heartbeat not back within this time ends the listening connection.
const LOST_AFTER: Duration = Duration::from_secs(5);

/// Heartbeat payloads start with this; the triggers send table names.
const HEARTBEAT_PREFIX: &str = "better_auth_heartbeat:";

/// The counter, shared by every clone of a PostgreSQL `Database`.
#[derive(Debug)]
pub(crate) struct PgChanges {
    version: AtomicI64,
    ready: AtomicBool,
    /// What `confirmed` counts from.
    epoch: Instant,
    /// When the newest answered heartbeat was sent, in milliseconds since
    /// `epoch`, plus one (zero: none yet).
    confirmed: AtomicU64,
    /// Dropped with the last `Database` clone: ends the listening task.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl PgChanges {
    /// Starts listening on a connection of its own to `pool`'s database.
    pub(crate) fn start(pool: PgPool) -> Arc<PgChanges> {
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let changes = Arc::new(PgChanges {
            version: AtomicI64::new(0),
            ready: AtomicBool::new(false),
            epoch: Instant::now(),
            confirmed: AtomicU64::new(0),
            _stop: stop,
        });
        tokio::spawn(listen(pool, Arc::downgrade(&changes), stopped));
        changes
    }

    /// The counter, or `None` while changes might go unseen: not listening,
    /// triggers missing or disabled, or no heartbeat answered within
    /// [`STALENESS_BOUND`].
    pub(crate) fn version(&self) -> Option<i64> {
        // Acquire pairs with the Release below: a `true` read sees the bump before it.
        if !self.ready.load(Ordering::Acquire) {
            return None;
        }
        let confirmed = self.confirmed.load(Ordering::Acquire);
        if confirmed == 0 || self.millis() >= confirmed - 1 + millis(STALENESS_BOUND) {
            return None;
        }
        Some(self.version.load(Ordering::Acquire))
    }

    pub(crate) fn bump(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    fn set_ready(&self, ready: bool) {
        self.bump();
        self.ready.store(ready, Ordering::Release);
    }

    /// Milliseconds since `epoch`.
    fn millis(&self) -> u64 {
        millis(self.epoch.elapsed())
    }

    /// A heartbeat sent at `sent` came back: everything committed before it
    /// has been heard. After a lapse, everything cached before is dropped.
    fn confirm(&self, sent: Instant) {
        let at = millis(sent.saturating_duration_since(self.epoch)) + 1;
        let before = self.confirmed.load(Ordering::Acquire);
        if before == 0 || self.millis() >= before - 1 + millis(STALENESS_BOUND) {
            self.bump();
        }
        self.confirmed.fetch_max(at, Ordering::AcqRel);
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Listens until the `PgChanges` is dropped or the pool closes.
async fn listen(
    pool: PgPool,
    changes: Weak<PgChanges>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        // Each listening connection comes from a pool of one of its own: a
        // connection that went silent may still be held (its `UNLISTEN` never
        // answered) while the next one listens.
        let own = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(LOST_AFTER)
            .connect_lazy_with((*pool.connect_options()).clone());
        let session = tokio::select! {
            _ = &mut stopped => return,
            session = listen_once(&pool, &own, &changes) => session,
        };
        if let Some(changes) = changes.upgrade() {
            changes.set_ready(false);
        }
        match session {
            Listened::PoolClosed => return,
            Listened::Lost => {
                tracing::warn!(
                    "better-auth: the session cache's PostgreSQL listener went silent; \
                     reading every session from the database until it listens again"
                );
            }
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
    /// The connection was lost, or went silent: listen again.
    Lost,
    /// Connecting, listening or the trigger check failed.
    Failed(sqlx::Error),
}

async fn listen_once(pool: &PgPool, own: &PgPool, changes: &Weak<PgChanges>) -> Listened {
    if pool.is_closed() {
        return Listened::PoolClosed;
    }
    let connect = async {
        let mut listener = PgListener::connect_with(own).await?;
        // A lost connection is reported at once, not silently replaced:
        // anything committed while it was down was never heard.
        listener.eager_reconnect(false);
        // The server's TCP keepalive on this connection (S51).
        sqlx::Executor::execute(
            &mut listener,
            "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; \
             SET tcp_keepalives_count = 3",
        )
        .await?;
        listener.listen(CHANNEL).await?;
        Ok::<_, sqlx::Error>(listener)
    };
    let sent = Instant::now();
    let mut listener = match tokio::time::timeout(LOST_AFTER, connect).await {
        Ok(Ok(listener)) => listener,
        Ok(Err(sqlx::Error::PoolClosed)) => return Listened::PoolClosed,
        Ok(Err(err)) => return Listened::Failed(err),
        Err(_) => return Listened::Lost,
    };
    let tables = match tokio::time::timeout(LOST_AFTER, check_triggers(pool, None)).await {
        Ok(Ok(Triggers::Enabled(tables))) => tables,
        Ok(Ok(Triggers::Missing)) => {
            return Listened::Failed(sqlx::Error::Protocol(
                "the change-notification triggers are missing or not enabled always \
                 (run the migrations, or ALTER TABLE .. ENABLE ALWAYS TRIGGER)"
                    .into(),
            ));
        }
        Ok(Err(err)) => return Listened::Failed(err),
        Err(_) => return Listened::Lost,
    };
    // Listening, with the triggers in place: from here on every change is heard.
    match changes.upgrade() {
        Some(changes) => {
            changes.set_ready(true);
            changes.confirm(sent);
        }
        None => return Listened::PoolClosed,
    }
    let nonce = format!("{HEARTBEAT_PREFIX}{:016x}:", rand::random::<u64>());
    let (heard, heard_rx) = tokio::sync::watch::channel(0u64);
    tokio::select! {
        ended = receive(&mut listener, changes, &nonce, heard) => ended,
        ended = heartbeat(pool, changes, &nonce, heard_rx, tables) => ended,
    }
}

/// Bumps the counter for every change notification; reports our heartbeats.
async fn receive(
    listener: &mut PgListener,
    changes: &Weak<PgChanges>,
    nonce: &str,
    heard: tokio::sync::watch::Sender<u64>,
) -> Listened {
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                let payload = notification.payload();
                if payload.starts_with(HEARTBEAT_PREFIX) {
                    // Ours, or another server's (which changes nothing).
                    if let Some(n) = payload
                        .strip_prefix(nonce)
                        .and_then(|n| n.parse::<u64>().ok())
                    {
                        heard.send_if_modified(|last| {
                            let newer = n > *last;
                            *last = (*last).max(n);
                            newer
                        });
                    }
                    continue;
                }
                match changes.upgrade() {
                    Some(changes) => changes.bump(),
                    None => return Listened::PoolClosed,
                }
            }
            Ok(None) => return Listened::Lost,
            Err(sqlx::Error::PoolClosed) => return Listened::PoolClosed,
            Err(err) => return Listened::Failed(err),
        }
    }
}

/// Every [`HEARTBEAT`]: checks the triggers and sends a heartbeat, and
/// confirms the counter when the heartbeat comes back on the listener.
async fn heartbeat(
    pool: &PgPool,
    changes: &Weak<PgChanges>,
    nonce: &str,
    mut heard: tokio::sync::watch::Receiver<u64>,
    mut tables: String,
) -> Listened {
    let mut ticks = tokio::time::interval(HEARTBEAT);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut enabled = true;
    for n in 1u64.. {
        ticks.tick().await;
        let sent = Instant::now();
        let round = async {
            let triggers = check_triggers(pool, Some(&format!("{nonce}{n}"))).await?;
            heard
                .wait_for(|last| *last >= n)
                .await
                .map_err(|_| sqlx::Error::PoolClosed)?;
            Ok::<_, sqlx::Error>(triggers)
        };
        let triggers = match tokio::time::timeout(LOST_AFTER, round).await {
            Ok(Ok(triggers)) => triggers,
            Ok(Err(sqlx::Error::PoolClosed)) => return Listened::PoolClosed,
            Ok(Err(err)) => return Listened::Failed(err),
            Err(_) => return Listened::Lost,
        };
        let Some(changes) = changes.upgrade() else {
            return Listened::PoolClosed;
        };
        match triggers {
            Triggers::Enabled(now) => {
                if !enabled || now != tables {
                    // Back on, or the tables were replaced: nothing cached
                    // before can be trusted.
                    changes.set_ready(true);
                    tables = now;
                    enabled = true;
                }
                changes.confirm(sent);
            }
            Triggers::Missing => {
                if enabled {
                    tracing::warn!(
                        "better-auth: the session change triggers are missing or disabled; \
                         reading every session from the database until they are back"
                    );
                    changes.set_ready(false);
                    enabled = false;
                }
            }
        }
    }
    Listened::Lost
}

/// What the trigger check found.
enum Triggers {
    /// Both triggers exist and fire always; the tables' identity.
    Enabled(String),
    /// Missing, disabled, or enabled only for some sessions.
    Missing,
}

/// Checks migration 4's triggers exist and fire whatever the session's
/// `session_replication_role` (`tgenabled = 'A'`, migration 7), and, with a
/// `heartbeat` payload, notifies it in the same query.
async fn check_triggers(pool: &PgPool, heartbeat: Option<&str>) -> Result<Triggers, sqlx::Error> {
    let (count, tables): (i64, Option<String>) = sqlx::query_as(
        r#"SELECT
             (SELECT count(*) FROM pg_trigger t
               WHERE t.tgrelid IN (to_regclass('"session"'), to_regclass('"user"'))
                 AND t.tgname IN ('better_auth_session_changed', 'better_auth_user_changed')
                 AND t.tgenabled = 'A'),
             to_regclass('"session"')::oid::text || ',' || to_regclass('"user"')::oid::text
               || (CASE WHEN $1::text IS NULL THEN '' ELSE left(pg_notify($2, $1)::text, 0) END)"#,
    )
    .bind(heartbeat)
    .bind(CHANNEL)
    .fetch_one(pool)
    .await?;
    Ok(match tables {
        Some(tables) if count == 2 => Triggers::Enabled(tables),
        _ => Triggers::Missing,
    })
}
