//! `better-auth`: scaffold authentication into an Axum project and administer its database.

mod admin;
mod doctor;
mod error;
mod files;
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
        nothing was changed, unless the error says the database change was made and \
        Redis could not be told (`doctor`: a check failed; its line says what to do)\n  \
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
    /// Say what is wrong with a project's Better Auth setup, and what to do about it.
    ///
    /// Checks the project at `--path` (default: the current directory): the
    /// variables in its `.env` or the environment (BETTER_AUTH_SECRET, BETTER_AUTH_URL,
    /// BETTER_AUTH_DATABASE_URL, else DATABASE_URL), that the database is reachable
    /// and migrated, and that its sources serve Better Auth through `attach` with
    /// client addresses (a textual scan of `src/`).
    ///
    /// With `--url` (the address the app listens on), also checks the running app:
    /// its health route (`<mount>/ok`), that it accepts requests from the origin it
    /// is served from, and a round trip that signs a throwaway user up and in, reads
    /// its session and deletes it (asked first; `--yes` skips the question; without
    /// a terminal it is skipped unless `--yes` is given).
    ///
    /// Prints one line per check, `ok`, `warn`, `fail` or `skip`, with what to do
    /// for anything that is not ok.
    #[command(after_help = "Examples:\n  \
        better-auth doctor\n  \
        better-auth doctor --path my-service\n  \
        better-auth doctor --url http://127.0.0.1:8080\n  \
        better-auth doctor --url http://127.0.0.1:8080 --mount /api/auth --yes\n\n\
        Exit status:\n  \
        0  nothing failed (warnings may remain)\n  \
        1  at least one check failed: its line says what to do")]
    Doctor(doctor::DoctorArgs),
    #[command(flatten)]
    Admin(admin::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Init(args) => init::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Admin(command) => admin::run(command, Cli::command),
    }
}
