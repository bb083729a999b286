//! Which database a command talks to: `--database-url`, else
//! `BETTER_AUTH_DATABASE_URL` (Better Auth's own variable, the one `init` writes), else
//! `DATABASE_URL`, from the environment, else the same two from `.env` in the current
//! directory.

use anyhow::{Context, anyhow};
use std::path::{Path, PathBuf};

use better_auth::store::{Database, migration_status, redact_url};
use clap::Args;

/// The database flag shared by `migrate`, `user` and `session`.
#[derive(Args, Debug, Clone)]
pub(super) struct DbArgs {
    /// Database URL (`sqlite://path/to/auth.db`, `postgres://user:pass@host/db` or
    /// `mysql://user:pass@host/db`).
    /// Default: `BETTER_AUTH_DATABASE_URL`, else `DATABASE_URL`, from the environment, else
    /// the same two from `./.env`.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
}

/// A resolved database URL and where it came from.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The URL, password included (never printed).
    pub(crate) url: String,
    /// `--database-url`, `BETTER_AUTH_DATABASE_URL`, `DATABASE_URL`, or `.env` (with the
    /// variable's name).
    pub(crate) source: &'static str,
}

impl Target {
    /// The URL with its password replaced by `***`, in the user-info part
    /// (`redact_url`) and in a `password=` query parameter.
    pub(crate) fn redacted(&self) -> String {
        redact(&self.url)
    }

    /// The SQLite file this URL names, when it is a SQLite file URL.
    pub(crate) fn sqlite_file(&self) -> Option<PathBuf> {
        let rest = self
            .url
            .strip_prefix("sqlite://")
            .or_else(|| self.url.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() || path.contains(":memory:") || self.url.contains("mode=memory") {
            return None;
        }
        Some(PathBuf::from(path))
    }
}

/// A URL with its password replaced by `***`, in the user-info part
/// (`redact_url`) and in a `password=` query parameter.
pub(crate) fn redact(url: &str) -> String {
    let url = redact_url(url);
    let Some((base, query)) = url.split_once('?') else {
        return url;
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

/// Finds the URL to use and says on stderr which one it is.
pub(super) fn resolve(args: &DbArgs) -> anyhow::Result<Target> {
    let target = find(args, Path::new(".env"))?;
    eprintln!(
        "Using database {} (from {})",
        target.redacted(),
        target.source
    );
    Ok(target)
}

fn find(args: &DbArgs, dotenv: &Path) -> anyhow::Result<Target> {
    if let Some(url) = args.database_url.as_deref().filter(|u| !u.is_empty()) {
        return Ok(Target {
            url: url.to_owned(),
            source: "--database-url",
        });
    }
    for name in VARIABLES {
        if let Some(url) = std::env::var(name).ok().filter(|u| !u.is_empty()) {
            return Ok(Target { url, source: name });
        }
    }
    if dotenv.exists() {
        let entries = dotenvy::from_path_iter(dotenv)
            .with_context(|| format!("cannot read {}", dotenv.display()))?;
        let mut found: Vec<(String, String)> = Vec::new();
        for entry in entries {
            let (key, value) =
                entry.with_context(|| format!("cannot parse {}", dotenv.display()))?;
            if VARIABLES.contains(&key.as_str()) && !value.is_empty() {
                found.push((key, value));
            }
        }
        for (name, source) in VARIABLES.iter().zip(DOTENV_SOURCES) {
            if let Some((_, url)) = found.iter().find(|(key, _)| key == name) {
                return Ok(Target {
                    url: url.clone(),
                    source,
                });
            }
        }
    }
    Err(anyhow!(
        "no database given: pass `--database-url URL`, set BETTER_AUTH_DATABASE_URL (or \
         DATABASE_URL), or add it to ./.env",
    ))
}

/// The variables that name the database, in order of preference.
const VARIABLES: [&str; 2] = ["BETTER_AUTH_DATABASE_URL", "DATABASE_URL"];

/// How a URL found in `.env` is described, per variable.
const DOTENV_SOURCES: [&str; 2] = [".env BETTER_AUTH_DATABASE_URL", ".env DATABASE_URL"];

/// Opens the database. A SQLite file that does not exist yet is created only
/// when `create` is true; otherwise it is an error pointing at `migrate`.
pub(crate) async fn connect(target: &Target, create: bool) -> anyhow::Result<Database> {
    if !create {
        if let Some(file) = target.sqlite_file() {
            if !file.exists() {
                return Err(anyhow!(
                    "the database file {} does not exist: run `better-auth migrate` to create it",
                    file.display()
                ));
            }
        }
    }
    Database::connect(&target.url).await.map_err(|e| {
        let cause = match e {
            better_auth::Error::Unavailable(sqlx_error)
            | better_auth::Error::Database(sqlx_error) => {
                let text = sqlx_error.to_string();
                if text.contains("pool timed out") {
                    // sqlx retries refused connections until the timeout and
                    // then reports only the timeout.
                    "no connection within 5 seconds (is the server running and the URL right?)"
                        .to_owned()
                } else {
                    text
                }
            }
            other => other.to_string(),
        };
        // The URL is not repeated: `resolve` said which database this is.
        anyhow!("cannot connect to the database: {cause}")
    })
}

/// Opens the database and checks that every migration is applied.
pub(super) async fn connect_migrated(target: &Target) -> anyhow::Result<Database> {
    let db = connect(target, false).await?;
    let status = migration_status(&db).await?;
    if status.iter().all(|m| !m.is_applied()) {
        db.close().await;
        return Err(anyhow!(
            "the database has no Better Auth tables yet: run `better-auth migrate`",
        ));
    }
    if let Some(pending) = status.iter().find(|m| !m.is_applied()) {
        db.close().await;
        return Err(anyhow!(
            "the database is not fully migrated (migration {} {} is pending): run `better-auth migrate`",
            pending.version,
            pending.description
        ));
    }
    Ok(db)
}

/// Runs `$body` with `$pool` bound to the database's pool, on whichever of the
/// three backends it is (the CLI links them all): SQL written once, with
/// PostgreSQL's `$1` placeholders and double-quoted names. On MySQL, `sqlx` in
/// the body is the runtime's `store::mysql_sqlx`, which translates the text;
/// text read there comes as `better_auth::store::Text`.
macro_rules! any_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db.pool() {
            better_auth::store::PoolRef::Sqlite($pool) => $body,
            better_auth::store::PoolRef::Postgres($pool) => $body,
            better_auth::store::PoolRef::MySql($pool) => {
                #[allow(unused_imports)]
                use better_auth::store::mysql_sqlx as sqlx;
                $body
            }
            _ => anyhow::bail!("a database of a kind this build of the CLI does not know"),
        }
    };
}
pub(crate) use any_pool;

/// Whether `table` has `column` (the current schema or database), on any backend.
pub(super) async fn has_column(db: &Database, table: &str, column: &str) -> anyhow::Result<bool> {
    let found: i64 = any_pool!(db, |pool| match db.backend() {
        better_auth::store::Backend::Sqlite => {
            sqlx::query_scalar("SELECT count(*) FROM pragma_table_info($1) WHERE name = $2")
                .bind(table)
                .bind(column)
                .fetch_one(pool)
                .await?
        }
        _ => {
            sqlx::query_scalar(&schema_query(db, "columns", "AND column_name = $2"))
                .bind(table)
                .bind(column)
                .fetch_one(pool)
                .await?
        }
    });
    Ok(found > 0)
}

/// Whether `table` exists (in the current schema or database), on any backend.
pub(super) async fn has_table(db: &Database, table: &str) -> anyhow::Result<bool> {
    let found: i64 = any_pool!(db, |pool| match db.backend() {
        better_auth::store::Backend::Sqlite => {
            sqlx::query_scalar(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
            )
            .bind(table)
            .fetch_one(pool)
            .await?
        }
        _ => {
            sqlx::query_scalar(&schema_query(db, "tables", ""))
                .bind(table)
                .fetch_one(pool)
                .await?
        }
    });
    Ok(found > 0)
}

/// A count over `information_schema.<view>` for table `$1` in the database's
/// current schema (PostgreSQL) or database (MySQL), and `more`.
fn schema_query(db: &Database, view: &str, more: &str) -> String {
    let schema = match db.backend() {
        better_auth::store::Backend::MySql => "DATABASE()",
        _ => "current_schema()",
    };
    format!(
        "SELECT count(*) FROM information_schema.{view} WHERE table_schema = {schema} \
         AND table_name = $1 {more}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_wins_and_sqlite_files_are_found() {
        let args = DbArgs {
            database_url: Some("sqlite://data/auth.db?mode=rwc".into()),
        };
        let target = find(&args, Path::new("/nonexistent/.env")).unwrap();
        assert_eq!(target.source, "--database-url");
        assert_eq!(target.sqlite_file(), Some(PathBuf::from("data/auth.db")));
        let memory = Target {
            url: "sqlite::memory:".into(),
            source: "--database-url",
        };
        assert_eq!(memory.sqlite_file(), None);
    }

    #[test]
    fn redacts_passwords_with_url_delimiters() {
        for (url, shown) in [
            ("postgres://app:pa#ss@db/app", "postgres://app:***@db/app"),
            (
                "postgres://app:pa/ss@db:5432/app",
                "postgres://app:***@db:5432/app",
            ),
            (
                "postgres://app:pa?ss@db/app?sslmode=require&password=x",
                "postgres://app:***@db/app?sslmode=require&password=***",
            ),
            ("postgres://app:12#ss@db/app", "postgres://app:***@db/app"),
            ("postgres://app:p@ss@db/app", "postgres://app:***@db/app"),
        ] {
            let target = Target {
                url: url.into(),
                source: ".env",
            };
            assert_eq!(target.redacted(), shown, "{url}");
        }
    }

    #[test]
    fn redacts_the_password() {
        let target = Target {
            url: "postgres://app:hunter2@db:5432/app".into(),
            source: ".env",
        };
        assert_eq!(target.redacted(), "postgres://app:***@db:5432/app");
        let query = Target {
            url: "postgres://db/app?user=app&password=hunter2&sslmode=require".into(),
            source: ".env",
        };
        assert_eq!(
            query.redacted(),
            "postgres://db/app?user=app&password=***&sslmode=require"
        );
    }
}
