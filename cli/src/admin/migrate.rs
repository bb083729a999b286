//! `better-auth migrate` and `better-auth migrate status`.

use anyhow::anyhow;
use better_auth::store::{
    AppliedPluginMigration, Backend, MIGRATIONS, MigrationState, migration_status,
    plugin_migrations, run_migrations,
};
use clap::{Args, Subcommand};

use super::db::{self, DbArgs, Target};
use super::output::{count, table};

/// Arguments of `better-auth migrate`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct MigrateArgs {
    #[command(subcommand)]
    command: Option<MigrateCommand>,
    /// Print the SQL of the pending migrations instead of applying them.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Subcommand)]
enum MigrateCommand {
    /// List every migration this version ships as applied or pending, with checksums.
    ///
    /// The checksum is the SHA-256 of the migration's SQL for this database's
    /// backend. A migration recorded with another checksum is shown as
    /// `changed`; `better-auth migrate` refuses to run until that is resolved.
    /// Plugins with tables of their own (two-factor, email OTP) apply their
    /// migrations when the app starts with them; those applied are listed after.
    #[command(
        after_help = "Example:\n  better-auth migrate status --database-url sqlite://auth.db"
    )]
    Status,
}

/// Runs `better-auth migrate [status]`.
pub(super) async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let target = db::resolve(&args.db)?;
    match args.command {
        Some(MigrateCommand::Status) => status(&target).await,
        None if args.dry_run => dry_run(&target).await,
        None => apply(&target).await,
    }
}

/// The state of every migration; a SQLite file that does not exist yet has
/// every migration pending (and is not created just to say so).
async fn states(target: &Target) -> anyhow::Result<(Backend, Vec<MigrationState>)> {
    if target.sqlite_file().is_some_and(|file| !file.exists()) {
        let backend = Backend::Sqlite;
        let states = MIGRATIONS
            .iter()
            .map(|m| MigrationState::pending(m, backend))
            .collect();
        return Ok((backend, states));
    }
    let db = db::connect(target, false).await?;
    let states = migration_status(&db).await;
    let backend = db.backend();
    db.close().await;
    Ok((backend, states?))
}

async fn apply(target: &Target) -> anyhow::Result<()> {
    let db = db::connect(target, true).await?;
    let before = migration_status(&db).await;
    let result = match before {
        Ok(before) => run_migrations(&db).await.map(|()| before),
        Err(e) => Err(e),
    };
    db.close().await;
    let before = result?;
    let applied: Vec<_> = before.iter().filter(|m| !m.is_applied()).collect();
    for m in &applied {
        outln!("Applied migration {:04} {}", m.version, m.description);
    }
    if applied.is_empty() {
        outln!(
            "Already up to date ({} applied); nothing to do.",
            count(before.len(), "migration", "migrations")
        );
    } else {
        outln!(
            "Database is up to date ({} applied now).",
            count(applied.len(), "migration", "migrations")
        );
    }
    Ok(())
}

async fn dry_run(target: &Target) -> anyhow::Result<()> {
    let (backend, states) = states(target).await?;
    let pending: Vec<_> = states.iter().filter(|m| !m.is_applied()).collect();
    for state in &pending {
        let migration = MIGRATIONS
            .iter()
            .find(|m| m.version == state.version)
            .ok_or_else(|| anyhow!("internal error: unknown migration"))?;
        outln!(
            "-- migration {:04} {} (sha256 {})",
            state.version,
            state.description,
            state.checksum
        );
        outln!("{}", migration.sql(backend).trim_end());
        outln!();
    }
    if pending.is_empty() {
        eprintln!("Dry run: nothing to apply; the database is up to date.");
    } else {
        eprintln!(
            "Dry run: {} shown above; nothing was applied.",
            count(pending.len(), "pending migration", "pending migrations")
        );
    }
    Ok(())
}

async fn status(target: &Target) -> anyhow::Result<()> {
    let (_, states) = states(target).await?;
    let rows: Vec<Vec<String>> = states
        .iter()
        .map(|m| {
            let state = match &m.applied_checksum {
                None => "pending".to_owned(),
                Some(c) if *c == m.checksum => "applied".to_owned(),
                Some(c) => format!("changed (applied with {c})"),
            };
            vec![
                format!("{:04}", m.version),
                m.description.to_owned(),
                state,
                m.checksum.clone(),
            ]
        })
        .collect();
    out!(
        "{}",
        table(&["VERSION", "DESCRIPTION", "STATE", "CHECKSUM"], &rows)
    );
    let applied = states.iter().filter(|m| m.is_applied()).count();
    outln!("{applied} applied, {} pending", states.len() - applied);
    let plugins = plugin_states(target).await?;
    if !plugins.is_empty() {
        outln!();
        outln!("Plugin migrations (each plugin applies its own when the app starts with it):");
        let rows: Vec<Vec<String>> = plugins
            .iter()
            .map(|m| {
                vec![
                    m.plugin.clone(),
                    format!("{:04}", m.version),
                    m.description.clone(),
                    m.applied_at.clone(),
                ]
            })
            .collect();
        out!(
            "{}",
            table(&["PLUGIN", "VERSION", "DESCRIPTION", "APPLIED"], &rows)
        );
    }
    Ok(())
}

/// The plugin migrations recorded in the database (none on a database never migrated).
async fn plugin_states(target: &Target) -> anyhow::Result<Vec<AppliedPluginMigration>> {
    if target.sqlite_file().is_some_and(|file| !file.exists()) {
        return Ok(Vec::new());
    }
    let db = db::connect(target, false).await?;
    let result = plugin_migrations(&db).await;
    db.close().await;
    Ok(result?)
}
