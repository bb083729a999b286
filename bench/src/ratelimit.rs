//! `better-auth-bench ratelimit`: the in-memory rate limiter's cost per
//! request with 1,000 and 1,000,000 distinct client keys (S32), called
//! directly (no HTTP), next to the store it replaced.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use better_auth::rate_limit::{MemoryRateLimitStore, RateLimitStore};
use chrono::Utc;

type BoxError = Box<dyn std::error::Error>;

/// The memory store before S32: one map under one mutex, scanned whole on
/// every request once it holds more than 100,000 keys, keys kept an hour.
#[derive(Default)]
struct LegacyStore {
    counters: Mutex<HashMap<String, (i64, i64)>>,
}

impl LegacyStore {
    fn hit(&self, key: &str, window: Duration, now: i64) -> bool {
        let window_ms = window.as_millis() as i64;
        let mut counters = self.counters.lock().unwrap();
        if counters.len() > 100_000 {
            counters.retain(|_, (start, _)| *start + 3_600_000 > now);
        }
        let entry = counters.entry(key.to_owned()).or_insert((now, 0));
        if entry.0 + window_ms <= now {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= 100
    }
}

/// Polls a future the store answers at once (its futures are always ready).
fn ready<T>(future: impl Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(value) => value,
        Poll::Pending => unreachable!("memory store futures are ready"),
    }
}

/// Client keys as the runtime builds them (`route|address`).
fn key(i: usize) -> String {
    format!(
        "/get-session|10.{}.{}.{}",
        (i >> 16) & 0xff,
        (i >> 8) & 0xff,
        i & 0xff
    )
}

/// Nanoseconds per request over `hits` requests cycling through `keys`
/// distinct clients (each seen once beforehand).
fn measure_store(store: &MemoryRateLimitStore, keys: &[String], hits: usize) -> f64 {
    let window = Duration::from_secs(10);
    let now = Utc::now();
    for k in keys {
        ready(store.hit(k, window, 100, now)).unwrap();
    }
    let started = Instant::now();
    for i in 0..hits {
        // A stride coprime with the key count visits keys out of order.
        let k = &keys[(i * 7919) % keys.len()];
        ready(store.hit(k, window, 100, Utc::now())).unwrap();
    }
    started.elapsed().as_nanos() as f64 / hits as f64
}

fn measure_legacy(keys: &[String], hits: usize) -> f64 {
    let store = LegacyStore::default();
    let window = Duration::from_secs(10);
    let now = Utc::now().timestamp_millis();
    // Filled directly: through `hit`, every insert past 100,000 keys would scan.
    store
        .counters
        .lock()
        .unwrap()
        .extend(keys.iter().map(|k| (k.clone(), (now, 1))));
    let started = Instant::now();
    for i in 0..hits {
        let k = &keys[(i * 7919) % keys.len()];
        store.hit(k, window, Utc::now().timestamp_millis());
    }
    started.elapsed().as_nanos() as f64 / hits as f64
}

/// Prints the table. `--quick` measures fewer requests.
pub(crate) fn main(args: &[String]) -> Result<(), BoxError> {
    let quick = args.iter().any(|a| a == "--quick");
    let hits = if quick { 200_000 } else { 2_000_000 };
    let small: Vec<String> = (0..1_000).map(key).collect();
    let big: Vec<String> = (0..1_000_000).map(key).collect();
    println!("Rate limiter cost per request (in-memory store, called directly, 1 thread)");
    println!();
    println!("| store | distinct client keys | keys held | ns/request |");
    println!("|---|--:|--:|--:|");
    let store = MemoryRateLimitStore::with_capacity(2_000_000);
    let ns = measure_store(&store, &small, hits);
    println!(
        "| sharded, expiring (S32) | 1,000 | {} | {ns:.0} |",
        store.len()
    );
    let store = MemoryRateLimitStore::with_capacity(2_000_000);
    let ns = measure_store(&store, &big, hits);
    println!(
        "| sharded, expiring (S32), capacity 2M | 1,000,000 | {} | {ns:.0} |",
        store.len()
    );
    let store = MemoryRateLimitStore::default();
    let ns = measure_store(&store, &big, hits);
    println!(
        "| sharded, expiring (S32), default capacity (evicting) | 1,000,000 | {} | {ns:.0} |",
        store.len()
    );
    let ns = measure_legacy(&small, hits);
    println!("| before S32: one map, one mutex | 1,000 | 1,000 | {ns:.0} |");
    // Every request scans the whole map: a few hundred requests say enough.
    let ns = measure_legacy(&big, if quick { 20 } else { 200 });
    println!("| before S32: one map, one mutex | 1,000,000 | 1,000,000 | {ns:.0} |");
    Ok(())
}
