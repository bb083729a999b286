//! The API's second documented example ("Using Better Auth Inside Your
//! AppState"), compiled unchanged from `contract/app_state.rs`: the app's own state holds
//! `Arc<BetterAuth>` and hands it to the extractors through `FromRef`.
//! Run: `cargo run -p better-auth --example app_state`.
// The documented example's AppState carries fields it never reads (`db`, `app_name`).
#![allow(dead_code)]
include!("contract/app_state.rs");
