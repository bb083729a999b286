#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The crate in layers, each using only those above it in this list:
//
// 1. Data and primitives: `error`, `models` (the rows), `email` (messages and
//    senders), `crypto` (hashing, tokens, signing).
// 2. Storage: `store` (the database and one module of queries per table),
//    then what keeps state in it: `rate_limit`, `session_cache` (whose
//    entries carry an opaque slot, `context::BodySlot`, for the rendered
//    `/get-session` answer: its type is the HTTP layer's, never looked into
//    here); `config` gathers their settings, `validation` checks input against it.
// 3. The plugin API: `request` (framework-free request and response),
//    `context` (`AuthContext`, what every handler gets), `route` (route and
//    plugin types).
// 4. Routes: `plugins` (ours, written on the plugin API only) and
//    `core_routes` (what every instance mounts); `openapi` documents a route list.
// 5. The instance: `auth` (`BetterAuth` and the request pipeline), and
//    `builder` above it (`BetterAuthBuilder` assembles config, plugins, store).
// 6. Frameworks: `integrations::axum` turns the instance into a `Router` and
//    provides the extractors.

#[cfg(feature = "admin")]
#[cfg_attr(docsrs, doc(cfg(feature = "admin")))]
pub mod crypto;
#[cfg(not(feature = "admin"))]
mod crypto;
pub mod email;
mod error;
mod legacy_hash;
mod models;
pub mod validation;

pub mod config;
pub mod rate_limit;
pub mod session_cache;
pub mod store;

mod context;
mod credentials;
mod request;
mod route;

mod core_routes;
pub mod openapi;
pub mod plugins;

mod auth;
mod builder;
mod purge;

pub mod integrations;
pub mod prelude;

pub use auth::BetterAuth;
pub use builder::BetterAuthBuilder;
pub use config::{AuthConfig, Clock, ManualClock, PasswordPolicy, SessionConfig, SystemClock};
pub use context::{AuthContext, Detached, ResolvedSession, SessionOptions};
pub use crypto::{PasswordHasher, Verified};
pub use error::{Error, Result};
pub use request::{AuthRequest, AuthResponse};
pub use store::run_migrations;

/// The `http` crate this one is built on (`Method`, `HeaderMap`, `StatusCode`),
/// for plugins to name the same types.
pub use http;
