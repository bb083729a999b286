//! `better-auth`: scaffold authentication into an Axum project and administer its database.

mod admin;
mod init;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// Add Better Auth to an Axum service and manage its users and sessions.
#[derive(Parser)]
#[command(name = "better-auth", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scaffold Better Auth into an existing Axum project.
    ///
    /// Adds the dependency, writes `src/auth.rs`, wires it into the router, and writes
    /// `.env` with a fresh secret. Shows every change first; `--dry-run` shows and stops.
    ///
    /// Example: better-auth init --path my-service --yes
    Init(init::InitArgs),
    #[command(flatten)]
    Admin(admin::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Init(args) => init::run(args),
        Command::Admin(command) => admin::run(command, Cli::command),
    }
}
