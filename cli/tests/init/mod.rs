//! `better-auth init`: wiring Better Auth into an existing Axum project.

mod bad_input;
mod check;
mod config;
mod e2e;
mod fixtures;
mod reruns;
#[cfg(unix)] // prompts on a pseudo-terminal
mod terminal;
