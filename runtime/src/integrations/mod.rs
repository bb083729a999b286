//! Web framework integrations.

#[cfg(feature = "axum")]
pub mod axum;
