#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod auth;
pub mod config;
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
pub mod session_cache;
pub mod store;
pub mod validation;

pub use auth::{BetterAuth, BetterAuthBuilder, ResolvedSession};
pub use config::{AuthConfig, Clock, ManualClock, PasswordPolicy, SessionConfig, SystemClock};
pub use error::{Error, Result};
pub use request::{AuthRequest, AuthResponse};
pub use store::run_migrations;
