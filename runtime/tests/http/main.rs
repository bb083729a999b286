//! HTTP tests of the runtime: a real server on 127.0.0.1, driven with reqwest,
//! on SQLite always, on PostgreSQL when `BETTER_AUTH_TEST_POSTGRES_URL` is set and
//! on MySQL (MariaDB) when `BETTER_AUTH_TEST_MYSQL_URL` is set.

mod attach;
mod bounded_state;
mod common;
mod contract_examples;
mod email_links;
mod endpoints;
mod extractors;
mod faults;
mod flows;
mod freshness;
mod fuzz_script;
mod limits;
mod loopback_origins;
mod mysql;
mod openapi;
mod password_guessing;
mod redis_storage;
mod request_intake;
mod security;
mod security_boundaries;
mod send_futures;
mod session_expiry;
mod stale_cache;
mod store;
mod takeover;
