//! `better-auth session list | revoke`.

use anyhow::anyhow;
use better_auth::prelude::Session;
use better_auth::store::{sessions, users};
use clap::{ArgGroup, Args, Subcommand};
use serde_json::json;

use super::db::{self, DbArgs};
use super::output::{count, human_time, json_time, printable, printable_json, table};
use super::prompt;
use super::redis::{self, RedisArgs};
use super::user::{email_arg, find_user};

/// Arguments of `better-auth session`.
#[derive(Args)]
pub(crate) struct SessionArgs {
    #[command(subcommand)]
    command: SessionCommand,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    redis: RedisArgs,
}

#[derive(Subcommand)]
enum SessionCommand {
    /// List a user's active (unexpired) sessions, newest first.
    ///
    /// Shows each session's id, when it was created and expires, and the IP
    /// address and user agent it was created from. Session tokens are never
    /// shown (the database holds only their digests).
    ///
    /// With `--json`, prints one JSON array; each element is
    /// `{"id", "userId", "createdAt", "updatedAt", "expiresAt", "ipAddress", "userAgent"}`
    /// with `ipAddress` and `userAgent` a string or null and the times ISO-8601
    /// in UTC with milliseconds (`2026-01-31T12:00:00.000Z`). Fields are only ever added.
    #[command(
        after_help = "Examples:\n  better-auth session list --user ada@example.com\n  better-auth session list --user ada@example.com --json | jq -r '.[].id'"
    )]
    List {
        /// The email of the user whose sessions to list.
        #[arg(long, value_name = "EMAIL")]
        user: String,
        /// Print JSON (documented above) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke one session, every session of a user, or delete expired sessions.
    ///
    /// Give exactly one of SESSION_ID, `--user EMAIL` or `--all-expired`. A
    /// revoked session stops working at once on every server using the database;
    /// when the servers keep sessions in Redis, give its URL (`--redis-url`) so
    /// they drop their cached copies too.
    /// Asks for confirmation on a terminal; `--yes` skips the question and is
    /// required when there is no terminal.
    #[command(
        group(ArgGroup::new("which").required(true).args(["session_id", "user", "all_expired"])),
        after_help = "Examples:\n  better-auth session revoke 3hT9sXw2kLq8ZbV1nM4cR7yP0aE6dG5f --yes\n  better-auth session revoke --user ada@example.com --yes\n  better-auth session revoke --user ada@example.com --yes --redis-url redis://127.0.0.1:6379\n  better-auth session revoke --all-expired --yes"
    )]
    Revoke {
        /// The id of the session to revoke (see `session list`).
        session_id: Option<String>,
        /// Revoke every session of the user with this email.
        #[arg(long, value_name = "EMAIL")]
        user: Option<String>,
        /// Delete every expired session of every user.
        #[arg(long)]
        all_expired: bool,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

/// Runs `better-auth session ...`.
pub(super) async fn run(args: SessionArgs) -> anyhow::Result<()> {
    let target = db::resolve(&args.db)?;
    match args.command {
        SessionCommand::List { user, json } => {
            let email = email_arg(&user)?;
            let db = db::connect_migrated(&target).await?;
            let result = async {
                let user = find_user(&db, &email).await?;
                Ok::<_, anyhow::Error>(
                    sessions::list_active_for_user(&db, &user.id, chrono::Utc::now()).await?,
                )
            }
            .await;
            db.close().await;
            print_sessions(&email, &result?, json);
            Ok(())
        }
        SessionCommand::Revoke {
            session_id,
            user,
            all_expired,
            yes,
        } => {
            let email = user.as_deref().map(email_arg).transpose()?;
            let redis = redis::open(&args.redis)?;
            let db = db::connect_migrated(&target).await?;
            // The user whose sessions ended, and how to name them.
            let result = async {
                if let Some(id) = session_id {
                    let unknown = || anyhow!("no session with id {}", printable(&id));
                    let session = sessions::find_by_id(&db, &id).await?.ok_or_else(unknown)?;
                    let owner = users::find_by_id(&db, &session.user_id)
                        .await?
                        .map_or_else(|| session.user_id.clone(), |u| u.email);
                    prompt::confirm(yes, &format!("revoke session {id} of {owner}"))?;
                    // Gone in the meantime (signed out): nothing left to revoke.
                    if sessions::delete_by_id(&db, &id).await? == 0 {
                        return Err(unknown());
                    }
                    outln!("Revoked session {id} of {owner}");
                    return Ok(Some((session.user_id, owner)));
                } else if let Some(email) = email {
                    let user = find_user(&db, &email).await?;
                    prompt::confirm(yes, &format!("revoke every session of {email}"))?;
                    let n = sessions::delete_for_user(&db, &user.id, None).await?;
                    outln!(
                        "Revoked {} of {email}",
                        count(n as usize, "session", "sessions")
                    );
                    return Ok(Some((user.id, email)));
                } else if all_expired {
                    // Redis never keeps a session past its expiry: nothing to tell it.
                    prompt::confirm(yes, "delete every expired session")?;
                    let n = sessions::delete_expired(&db, chrono::Utc::now()).await?;
                    outln!(
                        "Deleted {}",
                        count(n as usize, "expired session", "expired sessions")
                    );
                }
                Ok::<_, anyhow::Error>(None)
            }
            .await;
            db.close().await;
            if let Some((user_id, who)) = result? {
                redis::forget(redis.as_ref(), &[&user_id], &who).await?;
            }
            Ok(())
        }
    }
}

fn print_sessions(email: &str, list: &[Session], json: bool) {
    if json {
        let items: Vec<_> = list
            .iter()
            .map(|s| {
                json!({
                    "id": s.id,
                    "userId": s.user_id,
                    "createdAt": json_time(&s.created_at),
                    "updatedAt": json_time(&s.updated_at),
                    "expiresAt": json_time(&s.expires_at),
                    "ipAddress": s.ip_address,
                    "userAgent": s.user_agent,
                })
            })
            .collect();
        outln!(
            "{}",
            printable_json(&serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into()))
        );
        return;
    }
    if list.is_empty() {
        outln!("No active sessions for {email}.");
        return;
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            vec![
                s.id.clone(),
                human_time(&s.created_at),
                human_time(&s.expires_at),
                printable(s.ip_address.as_deref().unwrap_or("-")),
                printable(s.user_agent.as_deref().unwrap_or("-")),
            ]
        })
        .collect();
    out!(
        "{}",
        table(&["ID", "CREATED", "EXPIRES", "IP", "USER AGENT"], &rows)
    );
    outln!(
        "{} for {email}",
        count(list.len(), "active session", "active sessions")
    );
}
