#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod auth;
pub mod config;
mod context;
mod core_routes;
pub mod crypto;
pub mod email;
mod error;
pub mod integrations;
mod legacy_hash;
mod models;
pub mod openapi;
pub mod plugins;
pub mod prelude;
pub mod rate_limit;
mod request;
mod route;
pub mod session_cache;
pub mod store;
pub mod validation;

pub use auth::{BetterAuth, BetterAuthBuilder};
pub use config::{AuthConfig, Clock, ManualClock, PasswordPolicy, SessionConfig, SystemClock};
pub use context::{AuthContext, Detached, ResolvedSession};
pub use error::{Error, Result};
pub use request::{AuthRequest, AuthResponse};
pub use store::run_migrations;
