//! S50: the background task that deletes expired `verification` rows, so
//! abandoned sign-in flows and unused links do not pile up. One per
//! [`BetterAuth`](crate::BetterAuth): it purges at start-up, then every
//! [`AuthConfig::verification_purge_interval`](crate::AuthConfig::verification_purge_interval)
//! (default 10 minutes), and stops when the instance is dropped.

use std::sync::Arc;
use std::time::Duration;

use crate::config::Clock;
use crate::store::Database;

/// The running task; dropping it stops the task.
#[derive(Debug)]
pub(crate) struct PurgeTask(tokio::task::AbortHandle);

impl Drop for PurgeTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts purging `database` every `interval` (none for a zero interval).
pub(crate) fn start(
    database: Database,
    clock: Arc<dyn Clock>,
    interval: Duration,
) -> Option<PurgeTask> {
    if interval.is_zero() {
        return None;
    }
    let task = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match crate::store::verifications::delete_expired(&database, clock.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(rows = n, "better-auth: purged expired tokens"),
                // Not migrated yet, or the database is down: try again next time.
                Err(err) => {
                    tracing::debug!(error = %err, "better-auth: purging expired tokens failed");
                }
            }
        }
    });
    Some(PurgeTask(task.abort_handle()))
}
