//! `better-auth`: scaffold authentication into an Axum project and administer its database.

mod admin;
mod error;
mod init;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// Add Better Auth to an Axum service and manage its users and sessions.
#[derive(Parser)]
#[command(
    name = "better-auth",
    version,
    about,
    long_about = None,
    after_help = "Exit status:\n  \
        0  success\n  \
        1  error: printed as `error: ...`, then a `caused by: ...` line per cause; \
        nothing was changed\n  \
        2, 3  `init` only: manual steps remain, or the project did not compile and was \
        put back (see `better-auth init --help`)"
)]
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
    /// After writing, runs `cargo check` on the project (`--no-check` skips it); when the
    /// project does not compile, every file is put back as it was.
    ///
    /// Example: better-auth init --path my-service --yes
    ///
    /// Exit status:
    ///   0  done, or nothing to do (with --dry-run: a real run would be done)
    ///   1  error: nothing was changed (the message says why)
    ///   2  the scaffold was written (with --dry-run: would be), but some wiring must be
    ///      added by hand: the manual steps are printed
    ///   3  the project did not compile with init's changes (cargo check), so every file
    ///      init wrote was put back as it was; the compiler's errors are printed
    #[command(verbatim_doc_comment)]
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
