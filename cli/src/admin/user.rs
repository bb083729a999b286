//! `better-auth user create | list | delete | set-password | reset-2fa`.

use anyhow::anyhow;
use better_auth::crypto::PasswordHasher;
use better_auth::prelude::User;
use better_auth::store::{Database, accounts, users};
use better_auth::validation::{check_password, normalize_email};
use better_auth::{Error, PasswordPolicy};
use clap::{Args, Subcommand};
use serde_json::json;

use super::db::{self, DbArgs};
use super::output::{count, human_time, json_time, printable, printable_json, table};
use super::prompt;
use super::redis::{self, RedisArgs};
use super::roles;
use super::two_factor;

/// Arguments of `better-auth user`.
#[derive(Args)]
pub(crate) struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    redis: RedisArgs,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user who signs in with email and password.
    ///
    /// Applies the same rules as sign-up: the email is trimmed, lower-cased and
    /// must look like an address; the password must have 8 to 128 characters;
    /// an email already in use is refused. The password is never taken from the
    /// command line: it is read from stdin with `--password-stdin`, or typed
    /// twice at a hidden prompt when run in a terminal.
    ///
    /// With `--role`, the user gets those roles (the admin plugin's; `admin`
    /// for the first admin).
    #[command(
        after_help = "Examples:\n  better-auth user create --email ada@example.com --name Ada\n  better-auth user create --email root@example.com --name Root --role admin\n  printf %s \"$ADA_PASSWORD\" | better-auth user create --email ada@example.com --name Ada --password-stdin"
    )]
    Create {
        /// The user's email address.
        #[arg(long)]
        email: String,
        /// The user's display name.
        #[arg(long)]
        name: String,
        /// Read the password from stdin (one trailing newline is removed).
        #[arg(long)]
        password_stdin: bool,
        /// Roles to give the user, comma-separated (needs the admin plugin's columns).
        #[arg(long)]
        role: Option<String>,
    },
    /// Set a user's roles (the admin plugin's `role`).
    ///
    /// Roles are names of letters, digits, `-` and `_`, comma-separated; users
    /// with an admin role (`admin` by default) may use the admin routes. Running
    /// servers see the change on the user's next request (with sessions in Redis:
    /// given `--redis-url`).
    #[command(
        name = "set-role",
        after_help = "Examples:\n  better-auth user set-role --email ada@example.com --role admin\n  better-auth user set-role --email bob@example.com --role support,user"
    )]
    SetRole {
        /// The email of the user.
        #[arg(long)]
        email: String,
        /// The roles, comma-separated.
        #[arg(long)]
        role: String,
    },
    /// Ban a user: their sessions end now, and no sign-in works until the ban ends.
    ///
    /// Without `--until` the ban lasts until `user unban`. Asks for
    /// confirmation on a terminal; `--yes` skips the question and is required
    /// when there is no terminal.
    #[command(
        after_help = "Examples:\n  better-auth user ban --email spam@example.com --reason spam --yes\n  better-auth user ban --email bob@example.com --until 2027-01-31 --yes"
    )]
    Ban {
        /// The email of the user.
        #[arg(long)]
        email: String,
        /// Why (shown to admins).
        #[arg(long, default_value = "No reason")]
        reason: String,
        /// When the ban ends: a date (2027-01-31) or a time (2027-01-31T12:00:00Z).
        #[arg(long)]
        until: Option<String>,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Lift a user's ban.
    #[command(after_help = "Example:\n  better-auth user unban --email bob@example.com")]
    Unban {
        /// The email of the user.
        #[arg(long)]
        email: String,
    },
    /// List every user, oldest first.
    ///
    /// The SIGN-IN column names each user's ways of signing in: `credential`
    /// (a password), social providers (`github`, `google`, ...) and `passkey`
    /// (one or more passkeys). When the
    /// app uses two-factor authentication, a 2FA column says whether each user
    /// has it on.
    ///
    /// With `--json`, prints one JSON array; each element is
    /// `{"id", "email", "name", "emailVerified", "image", "createdAt", "updatedAt",
    /// "signInMethods"}` with `image` a string or null, the times ISO-8601 in UTC
    /// with milliseconds (`2026-01-31T12:00:00.000Z`) and `signInMethods` a list
    /// of provider ids (and `passkey`), plus `"twoFactorEnabled"` (a boolean) when the app uses
    /// two-factor authentication. Fields are only ever added.
    #[command(
        after_help = "Examples:\n  better-auth user list\n  better-auth user list --json | jq -r '.[].email'"
    )]
    List {
        /// Print JSON (documented above) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Delete a user with their sessions and accounts.
    ///
    /// Asks for confirmation on a terminal; `--yes` skips the question and is
    /// required when there is no terminal.
    #[command(after_help = "Example:\n  better-auth user delete --email ada@example.com --yes")]
    Delete {
        /// The email of the user to delete.
        #[arg(long)]
        email: String,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Set a user's password and sign them out everywhere.
    ///
    /// The password follows the sign-up rules and is read like `user create`
    /// reads it. Setting it and ending every session of the user happen in one
    /// transaction.
    #[command(
        after_help = "Example:\n  printf %s \"$NEW_PASSWORD\" | better-auth user set-password --email ada@example.com --password-stdin"
    )]
    SetPassword {
        /// The email of the user.
        #[arg(long)]
        email: String,
        /// Read the password from stdin (one trailing newline is removed).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user's second factor (a lost phone, no backup codes left).
    ///
    /// Deletes their authenticator secret and backup codes, turns two-factor
    /// off, and forgets their trusted devices and any sign-in waiting for a
    /// code, in one transaction; their sessions are kept. They then sign in
    /// with their password alone until they set two-factor up again. Make sure
    /// it is really them first. Asks for confirmation on a terminal; `--yes`
    /// skips the question and is required when there is no terminal.
    #[command(
        name = "reset-2fa",
        after_help = "Example:\n  better-auth user reset-2fa --email ada@example.com --yes"
    )]
    ResetTwoFactor {
        /// The email of the user.
        #[arg(long)]
        email: String,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

/// Runs `better-auth user ...`.
pub(super) async fn run(args: UserArgs) -> anyhow::Result<()> {
    let target = db::resolve(&args.db)?;
    match args.command {
        UserCommand::Create {
            email,
            name,
            password_stdin,
            role,
        } => {
            let email = email_arg(&email)?;
            check_name(&name)?;
            let role = role.as_deref().map(roles::parse_roles).transpose()?;
            let db = db::connect_migrated(&target).await?;
            let result = create(&db, &email, name.trim(), password_stdin, role.as_deref()).await;
            db.close().await;
            result
        }
        UserCommand::SetRole { email, role } => {
            let email = email_arg(&email)?;
            let role = roles::parse_roles(&role)?;
            let redis = redis::open(&args.redis)?;
            let db = db::connect_migrated(&target).await?;
            let result = set_role(&db, &email, &role).await;
            db.close().await;
            redis::forget(redis.as_ref(), &[&result?], &email).await
        }
        UserCommand::Ban {
            email,
            reason,
            until,
            yes,
        } => {
            let email = email_arg(&email)?;
            let until = until.as_deref().map(roles::parse_until).transpose()?;
            let redis = redis::open(&args.redis)?;
            let db = db::connect_migrated(&target).await?;
            let result = ban(&db, &email, &reason, until, yes).await;
            db.close().await;
            redis::forget(redis.as_ref(), &[&result?], &email).await
        }
        UserCommand::Unban { email } => {
            let email = email_arg(&email)?;
            let redis = redis::open(&args.redis)?;
            let db = db::connect_migrated(&target).await?;
            let result = unban(&db, &email).await;
            db.close().await;
            redis::forget(redis.as_ref(), &[&result?], &email).await
        }
        UserCommand::List { json } => {
            let db = db::connect_migrated(&target).await?;
            let result = list_with_methods(&db).await;
            let factors = match &result {
                Ok(_) => two_factor::enabled_users(&db).await,
                Err(_) => Ok(None),
            };
            db.close().await;
            let (list, methods) = result?;
            print_users(&list, &methods, factors?.as_ref(), json);
            Ok(())
        }
        UserCommand::ResetTwoFactor { email, yes } => {
            let email = email_arg(&email)?;
            let redis = redis::open(&args.redis)?;
            let db = db::connect_migrated(&target).await?;
            let result = reset_two_factor(&db, &email, yes).await;
            db.close().await;
            redis::forget(redis.as_ref(), &[&result?], &email).await
        }
        UserCommand::Delete { email, yes } => {
            let email = email_arg(&email)?;
            let redis = redis::open(&args.redis)?;
            let db = db::connect_migrated(&target).await?;
            let result = delete(&db, &email, yes).await;
            db.close().await;
            redis::forget(redis.as_ref(), &[&result?], &email).await
        }
        UserCommand::SetPassword {
            email,
            password_stdin,
        } => {
            let email = email_arg(&email)?;
            let redis = redis::open(&args.redis)?;
            let db = db::connect_migrated(&target).await?;
            let result = set_password(&db, &email, password_stdin).await;
            db.close().await;
            redis::forget(redis.as_ref(), &[&result?], &email).await
        }
    }
}

/// The normalized email, or the sign-up rule it breaks.
pub(super) fn email_arg(email: &str) -> anyhow::Result<String> {
    normalize_email(email).map_err(|_| {
        anyhow!(
            "invalid email address `{}`: expected local@domain.tld",
            printable(email)
        )
    })
}

/// The user with this (normalized) email, or an error naming it.
pub(super) async fn find_user(db: &Database, email: &str) -> anyhow::Result<User> {
    users::find_by_email(db, email)
        .await?
        .ok_or_else(|| anyhow!("no user with email {email}"))
}

fn check_name(name: &str) -> anyhow::Result<()> {
    if name.trim().is_empty() {
        return Err(anyhow!("the name must not be empty"));
    }
    if name.chars().count() > 255 {
        return Err(anyhow!("the name is too long (at most 255 characters)",));
    }
    // S56: the sign-up rule (no control or bidi formatting characters).
    if better_auth::validation::check_name(name).is_err() {
        return Err(anyhow!(
            "the name `{}` holds control or bidirectional formatting characters",
            printable(name)
        ));
    }
    Ok(())
}

fn check_new_password(password: &str) -> anyhow::Result<()> {
    let policy = PasswordPolicy::default();
    check_password(&policy, password).map_err(|e| match e {
        Error::PasswordTooShort => anyhow!(
            "the password is too short: it needs at least {} characters",
            policy.min_length
        ),
        Error::PasswordTooLong => anyhow!(
            "the password is too long: it may have at most {} characters",
            policy.max_length
        ),
        other => other.into(),
    })
}

async fn hash(password: &str) -> anyhow::Result<String> {
    Ok(PasswordHasher::new()?.hash(password).await?)
}

async fn create(
    db: &Database,
    email: &str,
    name: &str,
    from_stdin: bool,
    role: Option<&str>,
) -> anyhow::Result<()> {
    let taken = || anyhow!("a user with email {email} already exists");
    // Checked before asking for a password; the unique index still decides races.
    if users::find_by_email(db, email).await?.is_some() {
        return Err(taken());
    }
    if role.is_some() && !roles::installed(db).await? {
        return Err(roles::not_installed());
    }
    let password = prompt::new_password(from_stdin)?;
    check_new_password(&password)?;
    let hash = hash(&password).await?;
    let new = users::NewUser::new(name, email);
    match users::create_with_password(db, new, &hash, chrono::Utc::now()).await {
        Ok(user) => {
            if let Some(role) = role {
                roles::set_role(db, &user.id, role).await.map_err(|e| {
                    anyhow!(
                        "created user {email} (id {}), but setting the role failed: {e}; \
                         run `better-auth user set-role --email {email} --role {role}`",
                        user.id
                    )
                })?;
                outln!(
                    "Created user {} (id {}) with role {role}",
                    user.email,
                    user.id
                );
                return Ok(());
            }
            outln!("Created user {} (id {})", user.email, user.id);
            Ok(())
        }
        Err(Error::UserAlreadyExists) => Err(taken()),
        Err(e) => Err(e.into()),
    }
}

/// Every user, and each user's sign-in methods (provider ids).
async fn list_with_methods(
    db: &Database,
) -> anyhow::Result<(Vec<User>, std::collections::HashMap<String, Vec<String>>)> {
    let list = users::list(db).await?;
    let mut methods: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    for (user_id, provider_id) in accounts::provider_ids_by_user(db).await? {
        methods.entry(user_id).or_default().push(provider_id);
    }
    // A passkey is a way to sign in too (the passkey plugin's own table).
    for user_id in super::passkeys::users_with_passkeys(db).await? {
        methods
            .entry(user_id)
            .or_default()
            .push("passkey".to_owned());
    }
    Ok((list, methods))
}

fn print_users(
    list: &[User],
    methods: &std::collections::HashMap<String, Vec<String>>,
    factors: Option<&std::collections::HashSet<String>>,
    json: bool,
) {
    let methods_of = |u: &User| methods.get(&u.id).cloned().unwrap_or_default();
    if json {
        let items: Vec<_> = list
            .iter()
            .map(|u| {
                let mut item = json!({
                    "id": u.id,
                    "email": u.email,
                    "name": u.name,
                    "emailVerified": u.email_verified,
                    "image": u.image,
                    "createdAt": json_time(&u.created_at),
                    "updatedAt": json_time(&u.updated_at),
                    "signInMethods": methods_of(u),
                });
                if let Some(factors) = factors {
                    item["twoFactorEnabled"] = factors.contains(&u.id).into();
                }
                item
            })
            .collect();
        outln!(
            "{}",
            printable_json(&serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into()))
        );
        return;
    }
    if list.is_empty() {
        outln!("No users.");
        return;
    }
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_owned();
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|u| {
            let mut row = vec![
                u.id.clone(),
                printable(&u.email),
                printable(&u.name),
                yes_no(u.email_verified),
                printable(&methods_of(u).join(", ")),
            ];
            if let Some(factors) = factors {
                row.push(yes_no(factors.contains(&u.id)));
            }
            row.push(human_time(&u.created_at));
            row
        })
        .collect();
    let headers: &[&str] = if factors.is_some() {
        &[
            "ID", "EMAIL", "NAME", "VERIFIED", "SIGN-IN", "2FA", "CREATED",
        ]
    } else {
        &["ID", "EMAIL", "NAME", "VERIFIED", "SIGN-IN", "CREATED"]
    };
    out!("{}", table(headers, &rows));
    outln!("{}", count(list.len(), "user", "users"));
}

/// Returns the user's id (for Redis).
async fn delete(db: &Database, email: &str, yes: bool) -> anyhow::Result<String> {
    let user = find_user(db, email).await?;
    prompt::confirm(
        yes,
        &format!("delete user {email} with all their sessions and accounts"),
    )?;
    if !users::delete(db, &user.id).await? {
        return Err(anyhow!("no user with email {email}"));
    }
    outln!("Deleted user {email} (id {})", user.id);
    Ok(user.id)
}

/// Returns the user's id (for Redis).
async fn set_password(db: &Database, email: &str, from_stdin: bool) -> anyhow::Result<String> {
    let user = find_user(db, email).await?;
    let password = prompt::new_password(from_stdin)?;
    check_new_password(&password)?;
    let hash = hash(&password).await?;
    let ended =
        accounts::set_credential_password_and_end_sessions(db, &user.id, &hash, chrono::Utc::now())
            .await?;
    outln!(
        "Set the password of {email}; ended {}.",
        count(ended as usize, "session", "sessions")
    );
    Ok(user.id)
}

/// Returns the user's id (for Redis).
async fn reset_two_factor(db: &Database, email: &str, yes: bool) -> anyhow::Result<String> {
    let user = find_user(db, email).await?;
    let on = two_factor::enabled_users(db)
        .await?
        .ok_or_else(|| {
            anyhow!(
                "this database has no two-factor data: the app does not use the two-factor \
                 plugin, so {email} has no second factor to remove"
            )
        })?
        .contains(&user.id);
    if !on {
        return Err(anyhow!(
            "{email} does not have two-factor authentication on"
        ));
    }
    prompt::confirm(
        yes,
        &format!(
            "remove the second factor of {email} (they will sign in with their password alone)"
        ),
    )?;
    two_factor::reset(db, &user.id).await?;
    outln!(
        "Removed the second factor of {email}: they sign in with their password alone until \
         they set up two-factor again."
    );
    Ok(user.id)
}

/// Returns the user's id (for Redis).
async fn set_role(db: &Database, email: &str, role: &str) -> anyhow::Result<String> {
    if !roles::installed(db).await? {
        return Err(roles::not_installed());
    }
    let user = find_user(db, email).await?;
    roles::set_role(db, &user.id, role).await?;
    outln!("{email} now has the role {role}");
    Ok(user.id)
}

/// Returns the user's id (for Redis).
async fn ban(
    db: &Database,
    email: &str,
    reason: &str,
    until: Option<chrono::DateTime<chrono::Utc>>,
    yes: bool,
) -> anyhow::Result<String> {
    if !roles::installed(db).await? {
        return Err(roles::not_installed());
    }
    let user = find_user(db, email).await?;
    let how_long = until.map_or("until unbanned".to_owned(), |t| {
        format!("until {}", json_time(&t))
    });
    prompt::confirm(
        yes,
        &format!("ban {email} {how_long} and end their sessions"),
    )?;
    let ended = roles::ban(db, &user.id, reason, until).await?;
    outln!(
        "Banned {email} {how_long}; {}",
        count(ended as usize, "session ended", "sessions ended")
    );
    Ok(user.id)
}

/// Returns the user's id (for Redis).
async fn unban(db: &Database, email: &str) -> anyhow::Result<String> {
    if !roles::installed(db).await? {
        return Err(roles::not_installed());
    }
    let user = find_user(db, email).await?;
    if !roles::unban(db, &user.id).await? {
        return Err(anyhow!("{email} is not banned"));
    }
    outln!("Lifted the ban of {email}");
    Ok(user.id)
}
