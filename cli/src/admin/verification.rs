//! `better-auth verification purge --expired`.

use better_auth::store::verifications;
use clap::{Args, Subcommand};

use super::db::{self, DbArgs};
use super::output::count;
use super::prompt;

/// Arguments of `better-auth verification`.
#[derive(Args)]
pub(crate) struct VerificationArgs {
    #[command(subcommand)]
    command: VerificationCommand,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Subcommand)]
enum VerificationCommand {
    /// Delete expired single-use tokens.
    ///
    /// The `verification` table holds the tokens of password-reset and
    /// email-verification links and of social sign-ins in progress. An expired
    /// one is worth nothing: `--expired` deletes every such row (a time that
    /// cannot be read counts as expired), whatever its kind. Tokens still valid
    /// are kept. A running server does the same by itself every 10 minutes
    /// (`AuthConfig::verification_purge_interval`); run this from a scheduler
    /// when that is turned off, or once after an incident.
    ///
    /// Asks for confirmation on a terminal; `--yes` skips the question and is
    /// required when there is no terminal.
    #[command(
        after_help = "Examples:\n  better-auth verification purge --expired --yes\n  better-auth verification purge --expired --database-url postgres://localhost/app --yes"
    )]
    Purge {
        /// Delete every expired token (required: nothing else is purged).
        #[arg(long, required = true)]
        expired: bool,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

/// Runs `better-auth verification ...`.
pub(super) async fn run(args: VerificationArgs) -> anyhow::Result<()> {
    let target = db::resolve(&args.db)?;
    match args.command {
        VerificationCommand::Purge { expired, yes } => {
            debug_assert!(expired, "clap requires --expired");
            let db = db::connect_migrated(&target).await?;
            let result = async {
                prompt::confirm(yes, "delete every expired token")?;
                let n = verifications::delete_expired(&db, chrono::Utc::now()).await?;
                outln!(
                    "Deleted {}",
                    count(n as usize, "expired token", "expired tokens")
                );
                Ok(())
            }
            .await;
            db.close().await;
            result
        }
    }
}
