//! `better-auth`: scaffold authentication into an Axum project and administer its database.

use clap::Parser;

/// Add Better Auth to an Axum service and manage its users and sessions.
#[derive(Parser)]
#[command(name = "better-auth", version, about, long_about = None)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
