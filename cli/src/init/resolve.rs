//! Resolve: the choices init makes before planning (mount path, database, who creates
//! the tables), from flags, from what inspection found, and, on a terminal, by asking.
//! The only place init prompts.

use anyhow::{Context, anyhow};

use super::args::{DatabaseKind, InitArgs, MigrationsMode};
use super::envfile;
use super::inspect::Facts;
use super::project::Package;
use super::source::{self, Model};

/// How choices get made: by prompting on a terminal, or from flags and defaults.
pub(super) struct Chooser {
    /// Whether a terminal can be asked.
    pub interactive: bool,
}

impl Chooser {
    /// The index of the option chosen: asked on a terminal (starting at `default`), else
    /// `default`, else an error naming the flag that chooses.
    pub(super) fn select(
        &self,
        question: &str,
        options: &[String],
        default: Option<usize>,
        flag: &str,
    ) -> anyhow::Result<usize> {
        if self.interactive {
            let mut prompt = inquire::Select::new(question, options.to_vec());
            if let Some(default) = default {
                prompt = prompt.with_starting_cursor(default);
            }
            let answer = prompt
                .prompt()
                .with_context(|| format!("{question} was not answered; nothing was changed"))?;
            return Ok(options.iter().position(|o| *o == answer).unwrap_or(0));
        }
        default.ok_or_else(|| {
            anyhow!(
                "{question} Choose with {flag} (one of: {}); there is no terminal to ask on",
                options.join(", ")
            )
        })
    }
}

/// What was decided, with the remarks that explain it.
#[derive(Debug)]
pub(super) struct Decisions {
    /// Where the endpoints are mounted.
    pub mount: String,
    /// The database Better Auth stores in.
    pub database: DatabaseKind,
    /// Who creates Better Auth's tables.
    pub migrations: MigrationsMode,
    /// Whether the app's SQLite database must not be shared: it is in memory, or a file
    /// git tracks.
    pub keep_apart: bool,
    /// Remarks for the summary.
    pub notes: Vec<String>,
}

/// Makes every choice the plan needs.
pub(super) fn resolve(
    args: &InitArgs,
    package: &Package,
    facts: &Facts,
    chooser: &Chooser,
) -> anyhow::Result<Decisions> {
    // The remarks, in the order they are shown: memory, mount, database.
    let (mut notes, mut mount_notes, mut database_notes) = (Vec::new(), Vec::new(), Vec::new());
    let mount = choose_mount(args, facts, &mut mount_notes)?;
    let live_env = facts.live_env();
    let database = choose_database(
        args,
        package,
        live_env.as_deref(),
        chooser,
        &mut database_notes,
    )?;
    if let (DatabaseKind::Sqlite, Some(clash)) = (database, &package.sqlite_clash) {
        return Err(anyhow!(
            "Better Auth's SQLite support cannot join `{}`: {clash}. Nothing was changed",
            package.name
        ));
    }
    // An in-memory SQLite pool forgets everything at each restart: Better Auth never
    // shares one (users and sessions would vanish), it gets a file of its own.
    let in_memory = database == DatabaseKind::Sqlite
        && (live_env
            .as_deref()
            .and_then(|t| envfile::value_of(t, "DATABASE_URL"))
            .is_some_and(|url| url.contains(":memory:") || url.contains("mode=memory"))
            || facts
                .literals
                .iter()
                .any(|s| s == "sqlite::memory:" || s == ":memory:"));
    let tracked = (database == DatabaseKind::Sqlite)
        .then_some(facts.tracked_sqlite.as_deref())
        .flatten();
    if let Some(file) = tracked {
        notes.push(format!(
            "the app's SQLite database ({file}) is tracked by git, so Better Auth does not \
             share its pool: password hashes and session tokens would be committed with it. \
             It keeps them in a file of its own (BETTER_AUTH_DATABASE_URL), kept out of git"
        ));
    }
    if in_memory {
        notes.push(
            "the app's SQLite database is in memory (`sqlite::memory:`), so Better Auth does \
             not share its pool: users and sessions would vanish at every restart. It keeps \
             them in a file of its own (BETTER_AUTH_DATABASE_URL)"
                .to_owned(),
        );
    }
    notes.append(&mut mount_notes);
    notes.append(&mut database_notes);
    // Better Auth's MySQL SQL quotes names with double quotes (ANSI_QUOTES), which the
    // app's own migrator connections do not speak: on MySQL the runtime creates them.
    let migrations = if database == DatabaseKind::Mysql {
        if args.migrations == Some(MigrationsMode::Copy) {
            return Err(anyhow!(
                "--migrations copy is not available with MySQL: Better Auth's MySQL tables are \
                 created by `better_auth::run_migrations` at start-up (or `better-auth migrate`), \
                 which sets the SQL mode they need. Run init again with --migrations runtime. \
                 Nothing was changed"
            ));
        }
        MigrationsMode::Runtime
    } else {
        choose_migrations(args, package, facts, chooser)?
    };
    if migrations == MigrationsMode::Copy && database.migrations().is_empty() {
        return Err(anyhow!(
            "--migrations copy: this build of better-auth has no {} migrations to copy",
            database.name()
        ));
    }
    Ok(Decisions {
        mount,
        database,
        migrations,
        keep_apart: in_memory || tracked.is_some(),
        notes,
    })
}

/// The mount path: `--mount`, else the one an earlier run wrote into the module (its
/// `.base_path(..)`), else the first of `/auth`, `/api/auth`, `/better-auth` that none of
/// the app's own routes use.
fn choose_mount(args: &InitArgs, facts: &Facts, notes: &mut Vec<String>) -> anyhow::Result<String> {
    if args.mount.is_none() {
        if let Some(earlier) = earlier_mount(
            &facts.model,
            &facts.module,
            facts.existing_module.as_deref(),
        ) {
            return Ok(earlier);
        }
    }
    let paths = facts.model.route_paths();
    let taken = |mount: &str| {
        paths
            .iter()
            .any(|p| p.trim_end_matches('/') == mount || p.starts_with(&format!("{mount}/")))
    };
    if let Some(mount) = &args.mount {
        if taken(mount) {
            return Err(anyhow!(
                "--mount {mount}: the app already has routes under {mount}; choose another path"
            ));
        }
        return Ok(mount.clone());
    }
    let candidates = ["/auth", "/api/auth", "/better-auth"];
    for (i, mount) in candidates.iter().enumerate() {
        if !taken(mount) {
            if i > 0 {
                notes.push(format!(
                    "the app already has routes under {}, so Better Auth is mounted at {mount} \
                     (choose with --mount)",
                    candidates[..i].join(" and ")
                ));
            }
            return Ok((*mount).to_owned());
        }
    }
    Err(anyhow!(
        "the app already uses /auth, /api/auth and /better-auth; choose a mount path with --mount"
            .to_owned(),
    ))
}

/// Where an earlier run of init put the endpoints, so a rerun keeps them there: the
/// `.base_path("..")` of the module it wrote, else (a module from before `base_path`) the
/// path of its `.nest("..", auth::router(..))`.
fn earlier_mount(model: &Model, module: &str, module_text: Option<&str>) -> Option<String> {
    let from_module = module_text
        .filter(|text| text.starts_with(source::GENERATED_HEADER))
        .and_then(|text| syn::parse_file(text).ok())
        .and_then(|ast| source::first_string_arg(&ast, "base_path"))
        .filter(|path| path.starts_with('/'));
    from_module.or_else(|| {
        model
            .files
            .iter()
            .find_map(|f| source::nest_path_of(&f.ast, module))
            .filter(|path| path.starts_with('/'))
    })
}

fn choose_database(
    args: &InitArgs,
    package: &Package,
    env_text: Option<&str>,
    chooser: &Chooser,
    notes: &mut Vec<String>,
) -> anyhow::Result<DatabaseKind> {
    if let Some(db) = args.database {
        return Ok(db);
    }
    let single = |list: &[DatabaseKind]| (list.len() == 1).then(|| list[0]);
    // Read only, to infer the backend: init never writes the app's own `DATABASE_URL`.
    let from_env = env_text
        .and_then(|t| {
            envfile::value_of(t, "BETTER_AUTH_DATABASE_URL")
                .or_else(|| envfile::value_of(t, "DATABASE_URL"))
        })
        .and_then(|url| {
            if url.starts_with("sqlite:") {
                Some(DatabaseKind::Sqlite)
            } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
                Some(DatabaseKind::Postgres)
            } else if url.starts_with("mysql:") {
                Some(DatabaseKind::Mysql)
            } else {
                None
            }
        });
    // The app's own database is one Better Auth has no store for (SQL Server, MongoDB,
    // ...): a feature flag that merely names PostgreSQL (diesel's, say) must not send
    // Better Auth to a server the app does not run. SQLite, in a file of its own.
    let app_url = env_text.and_then(|t| envfile::value_of(t, "DATABASE_URL"));
    let unsupported = app_url.as_deref().and_then(|url| {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "mssql" | "sqlserver" => Some("SQL Server"),
            "mongodb" | "mongodb+srv" => Some("MongoDB"),
            _ => None,
        }
    });
    if let (Some(name), true, None) = (
        unsupported,
        package.better_auth_databases.is_empty(),
        from_env,
    ) {
        notes.push(format!(
            "the app's DATABASE_URL is {name}, which Better Auth does not store in: its users \
             and sessions go in SQLite (auth.db); pass --database postgres or --database \
             mysql to keep them in one of those instead"
        ));
        return Ok(DatabaseKind::Sqlite);
    }
    // No URL says so, but the app's dependencies speak only such a database.
    let speaks_ours = !package.other_databases.is_empty()
        || package
            .sqlx
            .as_ref()
            .is_some_and(|s| !s.databases.is_empty());
    if let (Some(name), false, true, None) = (
        package.unsupported_database,
        speaks_ours,
        package.better_auth_databases.is_empty(),
        from_env,
    ) {
        notes.push(format!(
            "the app uses {name} (its dependencies say so), which Better Auth does not store \
             in: its users and sessions go in SQLite (auth.db); pass --database postgres or \
             --database mysql to keep them in one of those instead"
        ));
        return Ok(DatabaseKind::Sqlite);
    }
    let inferred = single(&package.better_auth_databases)
        .or_else(|| package.sqlx.as_ref().and_then(|s| single(&s.databases)))
        .or_else(|| single(&package.other_databases))
        .or(from_env);
    if let Some(db) = inferred {
        return Ok(db);
    }
    let options = vec![
        "sqlite".to_owned(),
        "postgres".to_owned(),
        "mysql".to_owned(),
    ];
    let index = chooser.select(
        "Which database should Better Auth store users and sessions in?",
        &options,
        Some(0),
        "--database",
    )?;
    if !chooser.interactive {
        notes.push(
            "init found no database the app uses (no DATABASE_URL, no database feature in its \
             dependencies), so Better Auth's users and sessions go in SQLite (auth.db); pass \
             --database postgres or --database mysql to keep them in a database server"
                .to_owned(),
        );
    }
    Ok(match index {
        0 => DatabaseKind::Sqlite,
        1 => DatabaseKind::Postgres,
        _ => DatabaseKind::Mysql,
    })
}

/// Who creates Better Auth's tables: `--migrations`, else what an earlier run chose
/// (its copied files), else asked when the app has a sqlx `migrations/` folder, else the
/// runtime.
fn choose_migrations(
    args: &InitArgs,
    package: &Package,
    facts: &Facts,
    chooser: &Chooser,
) -> anyhow::Result<MigrationsMode> {
    if let Some(mode) = args.migrations {
        return Ok(mode);
    }
    let copied = package.migrations_dir.is_some()
        && facts.migration_files.iter().any(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("_better_auth_"))
        });
    if copied {
        return Ok(MigrationsMode::Copy);
    }
    if package.migrations_dir.is_none() || package.sqlx.is_none() {
        return Ok(MigrationsMode::Runtime);
    }
    let options = vec![
        "runtime: Better Auth creates its tables at start-up (recommended)".to_owned(),
        "copy: add Better Auth's SQL to migrations/ for sqlx::migrate!()".to_owned(),
    ];
    let index = chooser.select(
        "The app has a sqlx migrations/ folder. Who creates Better Auth's tables?",
        &options,
        Some(0),
        "--migrations",
    )?;
    Ok(if index == 0 {
        MigrationsMode::Runtime
    } else {
        MigrationsMode::Copy
    })
}
