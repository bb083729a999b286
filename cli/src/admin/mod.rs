//! The admin commands: `migrate`, `user`, `session`, `verification`, `secret`,
//! `completions`.
//!
//! They manage a live auth database through the runtime crate, so the schema,
//! the password hashing and the session rows are exactly the server's. Every
//! command prints which database it used (password redacted) on stderr, its
//! result on stdout, and a failure as one `error: ...` line with exit status 1.

/// Prints to stdout; a closed pipe (`| head`) is not an error worth a panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// [`out!`] with a newline.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

pub(crate) mod db;
mod migrate;
mod output;
mod passkeys;
mod prompt;
mod redis;
mod roles;
mod secret;
mod session;
mod two_factor;
mod user;
mod verification;

use anyhow::Context;
use std::process::ExitCode;

use clap::{Args, Subcommand};

/// The admin subcommands, flattened into the top-level command list.
#[derive(Subcommand)]
pub(crate) enum Command {
    /// Apply the auth schema's pending migrations (or show them with `status`).
    ///
    /// Creates or updates the tables Better Auth uses (user, session, account,
    /// verification) with the same embedded migrations the server runs, each in
    /// one transaction with its history row in `_better_auth_migrations`.
    /// `--dry-run` prints the SQL that would run and changes nothing;
    /// `migrate status` lists every migration as applied or pending, with checksums.
    #[command(
        after_help = "Examples:\n  better-auth migrate --database-url sqlite://auth.db\n  better-auth migrate --dry-run\n  better-auth migrate status"
    )]
    Migrate(migrate::MigrateArgs),
    /// Create, list and delete users, or set a user's password.
    #[command(
        after_help = "Example:\n  better-auth user create --email ada@example.com --name Ada"
    )]
    User(user::UserArgs),
    /// List a user's active sessions, or revoke sessions.
    #[command(after_help = "Example:\n  better-auth session list --user ada@example.com")]
    Session(session::SessionArgs),
    /// Delete expired tokens (reset and verification links, sign-ins in progress).
    #[command(after_help = "Example:\n  better-auth verification purge --expired --yes")]
    Verification(verification::VerificationArgs),
    /// Print a new random secret for `BETTER_AUTH_SECRET`.
    ///
    /// 256 bits from the operating system's random generator, base64url
    /// encoded (43 characters). Only the secret is printed, so it can be
    /// captured by the shell. Needs no database.
    #[command(after_help = "Example:\n  echo \"BETTER_AUTH_SECRET=$(better-auth secret)\" >> .env")]
    Secret,
    /// Print shell completions for bash, zsh, fish, elvish or powershell.
    #[command(
        after_help = "Example:\n  better-auth completions bash > ~/.local/share/bash-completion/completions/better-auth"
    )]
    Completions(CompletionsArgs),
}

/// Arguments of `better-auth completions`.
#[derive(Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to print completions for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// Runs an admin command. `command` builds the whole CLI (for completions).
pub(crate) fn run(cmd: Command, command: impl FnOnce() -> clap::Command) -> ExitCode {
    let result = match cmd {
        Command::Migrate(args) => block_on(migrate::run(args)),
        Command::User(args) => block_on(user::run(args)),
        Command::Session(args) => block_on(session::run(args)),
        Command::Verification(args) => block_on(verification::run(args)),
        Command::Secret => secret::run(),
        Command::Completions(args) => {
            let mut command = command();
            let name = command.get_name().to_owned();
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut command, name, &mut script);
            out!("{}", String::from_utf8_lossy(&script));
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            crate::error::report(err);
            ExitCode::FAILURE
        }
    }
}

fn block_on(future: impl std::future::Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(future)
}
