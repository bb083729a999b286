//! The API's first documented example ("Mounting Auth Routes"), compiled
//! unchanged from `contract/mounting.rs`: `Arc<BetterAuth>` is the router state and the
//! auth routes are nested under `/auth`. Run: `cargo run -p better-auth --example mounting`.
include!("contract/mounting.rs");
