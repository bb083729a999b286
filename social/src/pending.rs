//! S50: how many sign-in flows one client has started and not finished. Each
//! flow keeps a row in the database for ten minutes; without a bound, anyone
//! could grow the database by starting flows and never finishing them.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// Default bound on a client's pending flows.
pub(crate) const DEFAULT_MAX_PENDING: usize = 50;

/// How many clients are remembered at most; past it, clients with no
/// pending flow are forgotten first, then the one seen longest ago.
const MAX_CLIENTS: usize = 100_000;

/// Pending flows per client key (the rate limit's client: address, or /64).
#[derive(Debug)]
pub(crate) struct PendingFlows {
    max: usize,
    /// Client key → when each of its pending flows expires, oldest first.
    clients: Mutex<HashMap<String, Vec<DateTime<Utc>>>>,
}

impl PendingFlows {
    pub(crate) fn new(max: usize) -> Self {
        PendingFlows {
            max: max.max(1),
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a new flow of `client` expiring at `expires`, unless it already
    /// has the maximum pending at `now`: then `Err` with the seconds until its
    /// oldest flow expires.
    pub(crate) fn start(
        &self,
        client: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), u64> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if clients.len() >= MAX_CLIENTS && !clients.contains_key(client) {
            clients.retain(|_, flows| {
                flows.retain(|at| *at > now);
                !flows.is_empty()
            });
            if clients.len() >= MAX_CLIENTS {
                let oldest = clients
                    .iter()
                    .min_by_key(|(_, flows)| flows.last().copied())
                    .map(|(key, _)| key.clone());
                if let Some(oldest) = oldest {
                    clients.remove(&oldest);
                }
            }
        }
        let flows = clients.entry(client.to_owned()).or_default();
        flows.retain(|at| *at > now);
        if flows.len() >= self.max {
            let wait = flows
                .first()
                .map_or(1, |at| (*at - now).num_seconds().max(1));
            return Err(u64::try_from(wait).unwrap_or(1));
        }
        flows.push(expires);
        Ok(())
    }

    /// A flow of `client` ended (finished, failed or withdrawn): it no longer counts.
    pub(crate) fn end(&self, client: &str) {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(flows) = clients.get_mut(client) {
            if !flows.is_empty() {
                flows.remove(0);
            }
            if flows.is_empty() {
                clients.remove(client);
            }
        }
    }
}
