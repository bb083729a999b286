//! The API's documented "Full Example", compiled unchanged from `contract/full.rs`:
//! a protected route (`CurrentSession`) and a public one (`OptionalSession`).
//! Run: `cargo run -p better-auth --example full`.
include!("contract/full.rs");
