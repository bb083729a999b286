//! init leaves the app's own configuration alone: its `DATABASE_URL`, a `.env` tracked by
//! git, its database; and it points the dependency at this runtime.

use std::path::Path;
use std::process::Command;

use crate::util::{fixture, init, init_with_env, text, tree};

/// Runs init, requires it to succeed (status 0), and returns what it printed.
fn init_ok(project: &Path, args: &[&str]) -> String {
    let output = init(project, args);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    stdout
}

fn git(project: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(project)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

#[test]
fn the_apps_database_url_is_never_touched() {
    let dir = fixture("hello");
    let env = dir.path().join(".env");
    let app = "DATABASE_URL=postgres://app@db.internal/app\nPORT=3000\n";
    std::fs::write(&env, app).unwrap();
    let stdout = init_ok(dir.path(), &["--yes"]);
    let written = std::fs::read_to_string(&env).unwrap();
    assert!(written.starts_with(app), "{written}");
    assert_eq!(written.matches("DATABASE_URL=").count(), 2, "{written}");
    // The app's variable told init the backend and the database; Better Auth gets a
    // variable of its own, which starts as the app's database.
    assert!(
        written.contains("\nBETTER_AUTH_DATABASE_URL=postgres://app@db.internal/app\n"),
        "{written}"
    );
    assert!(
        stdout.contains("BETTER_AUTH_DATABASE_URL is the app's DATABASE_URL in .env"),
        "{stdout}"
    );
    let auth = std::fs::read_to_string(dir.path().join("src/auth.rs")).unwrap();
    assert!(
        auth.contains("required_var(\"BETTER_AUTH_DATABASE_URL\")"),
        "{auth}"
    );
    assert!(!auth.contains("required_var(\"DATABASE_URL\")"), "{auth}");
}

/// An app whose migrations create a table Better Auth needs (`user`) gets a database of
/// its own for Better Auth, and is told to create it.
#[test]
fn a_clashing_table_keeps_better_auth_apart() {
    let dir = fixture("hello");
    let project = dir.path();
    std::fs::write(
        project.join(".env"),
        "DATABASE_URL=postgres://app:pw@db.internal/app\n",
    )
    .unwrap();
    std::fs::create_dir(project.join("migrations")).unwrap();
    std::fs::write(
        project.join("migrations/1_init.sql"),
        "CREATE TABLE IF NOT EXISTS \"user\" (id BIGINT PRIMARY KEY);\n",
    )
    .unwrap();
    let stdout = init_ok(project, &["--yes"]);
    let env = std::fs::read_to_string(project.join(".env")).unwrap();
    assert!(
        env.contains("\nBETTER_AUTH_DATABASE_URL=postgres://postgres@localhost:5432/hello\n"),
        "{env}"
    );
    assert!(stdout.contains("already has a `user` table"), "{stdout}");
    assert!(stdout.contains("createdb hello"), "{stdout}");
    assert!(
        !stdout.contains("pw@"),
        "no password in the output: {stdout}"
    );
}

/// The same with PostgreSQL: `PgPoolOptions::new()..connect(..)` is the app's pool.
#[test]
fn a_postgres_pool_in_scope_is_shared() {
    let dir = fixture("pool-param");
    for (file, from, to) in [
        ("Cargo.toml", "\"sqlite\"]", "\"postgres\"]"),
        (
            "src/main.rs",
            "sqlite::SqlitePoolOptions",
            "postgres::PgPoolOptions",
        ),
        (
            "src/main.rs",
            "SqlitePoolOptions::new()",
            "PgPoolOptions::new()",
        ),
        ("src/api.rs", "SqlitePool", "PgPool"),
    ] {
        let path = dir.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file}: {from}");
        std::fs::write(&path, text.replace(from, to)).unwrap();
    }
    let stdout = init_ok(dir.path(), &["--dry-run"]);
    assert!(
        stdout.contains("+    let auth = auth::init(db.clone()).await?;"),
        "{stdout}"
    );
    assert!(
        stdout.contains("pub async fn init(pool: sqlx::PgPool)"),
        "{stdout}"
    );
    assert!(!stdout.contains("BETTER_AUTH_DATABASE_URL="), "{stdout}");
}

/// A pool made by a function of the app (`connect_db(&url).await?`, returning a type
/// alias of the pool) is shared too.
#[test]
fn a_pool_from_the_apps_own_function_is_shared() {
    // Through an alias, and written out generically (`Pool<Sqlite>`).
    for returned in ["super::DbPool", "sqlx::Pool<sqlx::Sqlite>"] {
        let dir = fixture("pool-param");
        let path = dir.path().join("src/main.rs");
        let main = std::fs::read_to_string(&path).unwrap();
        let start = main.find("    let db = SqlitePoolOptions::new()").unwrap();
        let end = start + main[start..].find(".await?;").unwrap() + ".await?;".len();
        // Renamed on import, its error mapped: still the app's pool.
        let edited = format!(
            "use store::connect as connect_db;\n\n{}    let db = connect_db(&url).await.map_err(|e| e.to_string())?;{}\n\
             /// The app's pool type.\ntype DbPool = sqlx::SqlitePool;\n\n\
             mod store {{\n    \
             pub async fn connect(url: &str) -> Result<{returned}, sqlx::Error> {{\n        \
             super::SqlitePoolOptions::new().connect(url).await\n    }}\n}}\n",
            &main[..start],
            &main[end..]
        );
        std::fs::write(&path, edited).unwrap();
        let stdout = init_ok(dir.path(), &["--dry-run"]);
        assert!(
            stdout.contains("+    let auth = auth::init(db.clone()).await?;"),
            "{returned}: {stdout}"
        );
        assert!(!stdout.contains("BETTER_AUTH_DATABASE_URL="), "{stdout}");
    }

    // A state struct whose pool field has the alias's type shares it too.
    let dir = fixture("sqlx-pool");
    let path = dir.path().join("src/main.rs");
    let main = std::fs::read_to_string(&path).unwrap();
    assert!(main.contains("    db: SqlitePool,"));
    let aliased = main.replace("    db: SqlitePool,", "    db: DbPool,")
        + "\n/// The app's pool type.\ntype DbPool = SqlitePool;\n";
    std::fs::write(&path, aliased).unwrap();
    let stdout = init_ok(dir.path(), &["--dry-run"]);
    assert!(stdout.contains("auth::init(pool.clone())"), "{stdout}");
    assert!(!stdout.contains("BETTER_AUTH_DATABASE_URL="), "{stdout}");
}

/// A pool moved before the router is built (`let owned = db;`) is still shared: Better
/// Auth starts right after the pool is made, while it can be cloned.
#[test]
fn a_pool_moved_on_the_way_is_shared_before_it_moves() {
    // Moved by a `let`, and into a call (`Repo::new(db)`, written `identity(db)` here).
    for moving in ["let owned = db;", "let owned = std::convert::identity(db);"] {
        let dir = fixture("pool-param");
        let main = std::fs::read_to_string(dir.path().join("src/main.rs")).unwrap();
        let moved = main.replace(
            "    axum::serve(listener, api::app(db)).await?;",
            &format!("    {moving}\n    axum::serve(listener, api::app(owned)).await?;"),
        );
        assert_ne!(moved, main);
        std::fs::write(dir.path().join("src/main.rs"), moved).unwrap();
        init_ok(dir.path(), &["--yes"]);
        let written = std::fs::read_to_string(dir.path().join("src/main.rs")).unwrap();
        let compact: String = written.split_whitespace().collect();
        assert!(
            compact.contains(".await?;//BetterAuth(src/auth.rs),configuredbytheBETTER_AUTH_*variables(see.env.example).letauth=auth::init(db.clone()).await?;sqlx::query("),
            "{moving}: {written}"
        );
        let env = std::fs::read_to_string(dir.path().join(".env")).unwrap();
        assert!(!env.contains("BETTER_AUTH_DATABASE_URL"), "{env}");
    }
}

/// A `.env` that git tracks gets no secret: it goes in `.env.local`, which git is told
/// to ignore and the module loads first, so the app still starts as it is.
#[test]
fn a_tracked_env_keeps_the_secret_in_env_local() {
    let dir = fixture("hello");
    let project = dir.path();
    std::fs::write(project.join(".env"), "PORT=3000\n").unwrap();
    git(project, &["init", "-q"]);
    git(project, &["add", ".env"]);

    // The dry run says so first, and writes nothing.
    let output = init(project, &["--dry-run"]);
    let (stdout, _) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(".env is tracked by git, so BETTER_AUTH_SECRET went into .env.local"),
        "{stdout}"
    );
    assert!(!project.join(".env.local").exists());

    let output = init(project, &["--yes"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("Better Auth is wired in"), "{stdout}");
    let env = std::fs::read_to_string(project.join(".env")).unwrap();
    assert!(!env.contains("BETTER_AUTH_SECRET"), "{env}");
    assert!(
        env.contains("BETTER_AUTH_URL=http://localhost:3000"),
        "{env}"
    );
    let local = std::fs::read_to_string(project.join(".env.local")).unwrap();
    assert!(local.contains("BETTER_AUTH_SECRET="), "{local}");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(project.join(".env.local"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let ignore = std::fs::read_to_string(project.join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == ".env.local"), "{ignore}");
    let ignored = std::process::Command::new("git")
        .args(["check-ignore", "-q", ".env.local"])
        .current_dir(project)
        .status()
        .unwrap();
    assert!(ignored.success(), "git does not ignore .env.local");
    let module = std::fs::read_to_string(project.join("src/auth.rs")).unwrap();
    assert!(
        module.contains("for file in [\".env.local\", \".env\"]"),
        "{module}"
    );

    // Run again: nothing changes, the secret is the same one.
    let output = init(project, &["--yes"]);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    assert_eq!(
        std::fs::read_to_string(project.join(".env.local")).unwrap(),
        local
    );

    // A `.env.local` that git tracks too gets nothing: the step is left to the user.
    let dir = fixture("hello");
    let project = dir.path();
    std::fs::write(project.join(".env"), "PORT=3000\n").unwrap();
    std::fs::write(project.join(".env.local"), "\n").unwrap();
    git(project, &["init", "-q"]);
    git(project, &["add", ".env", ".env.local"]);
    let output = init(project, &["--yes"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stdout.contains("Left for you:\n  - .env is tracked by git, so init did not write BETTER_AUTH_SECRET into it"),
        "{stdout}"
    );
    assert!(stdout.contains("`git rm --cached .env`"), "{stdout}");
    assert!(stdout.contains("`better-auth secret`"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(project.join(".env.local")).unwrap(),
        "\n"
    );
}

/// A tracked `.env` gets no database password either: the app's `DATABASE_URL` with a
/// password goes in `.env.local` (init says so, with the password masked).
#[test]
fn a_tracked_env_gets_no_database_password() {
    let dir = fixture("hello");
    let project = dir.path();
    std::fs::write(
        project.join(".env"),
        "DATABASE_URL=postgres://app:hunter2@localhost:5432/app\nBETTER_AUTH_SECRET=abc\n",
    )
    .unwrap();
    git(project, &["init", "-q"]);
    git(project, &["add", ".env"]);

    let output = init(project, &["--yes", "--database", "postgres"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    let env = std::fs::read_to_string(project.join(".env")).unwrap();
    assert!(!env.contains("BETTER_AUTH_DATABASE_URL"), "{env}");
    assert_eq!(env.matches("hunter2").count(), 1, "{env}");
    assert!(!stdout.contains("hunter2"), "{stdout}");
    let local = std::fs::read_to_string(project.join(".env.local")).unwrap();
    assert!(
        local.contains("BETTER_AUTH_DATABASE_URL=postgres://app:hunter2@localhost:5432/app"),
        "{local}"
    );
    // The secret the tracked file already holds stays where it is (and is named).
    assert!(!local.contains("BETTER_AUTH_SECRET"), "{local}");
    assert!(
        stdout.contains("holds BETTER_AUTH_SECRET, so the secret is"),
        "{stdout}"
    );
    // Nor does the module, committed with the sources (its doc shows a generic URL).
    let module = std::fs::read_to_string(project.join("src/auth.rs")).unwrap();
    assert!(!module.contains("hunter2"), "{module}");
    assert!(
        module.contains("`postgres://USER:PASSWORD@localhost:5432/DATABASE`"),
        "{module}"
    );
    // The example file (committed too) shows the variable, masked.
    let example = std::fs::read_to_string(project.join(".env.example")).unwrap();
    assert!(
        example.contains("BETTER_AUTH_DATABASE_URL=postgres://app:***@localhost:5432/app"),
        "{example}"
    );
}

#[test]
fn an_untracked_env_in_a_repository_gets_the_secret() {
    let dir = fixture("hello");
    git(dir.path(), &["init", "-q"]);
    let output = init(dir.path(), &["--yes"]);
    let (stdout, _) = text(&output);
    assert!(!stdout.contains("tracked by git"), "{stdout}");
    let env = std::fs::read_to_string(dir.path().join(".env")).unwrap();
    assert!(env.contains("BETTER_AUTH_SECRET="), "{env}");
}

#[test]
fn an_ignored_env_example_is_mentioned() {
    // Without git: read from .gitignore.
    let dir = fixture("hello");
    std::fs::write(dir.path().join(".gitignore"), "/target\n.env*\n").unwrap();
    let output = init(dir.path(), &["--dry-run"]);
    let (stdout, _) = text(&output);
    assert!(
        stdout.contains("Note: .env.example is ignored by git"),
        "{stdout}"
    );
    assert!(stdout.contains("`!.env.example`"), "{stdout}");
    // In a repository: asked of git.
    let dir = fixture("hello");
    std::fs::write(dir.path().join(".gitignore"), ".env.*\n").unwrap();
    git(dir.path(), &["init", "-q"]);
    let output = init(dir.path(), &["--yes"]);
    let (stdout, _) = text(&output);
    assert!(
        stdout.contains("Note: .env.example is ignored by git"),
        "{stdout}"
    );
    // Not ignored: no note.
    let dir = fixture("hello");
    let output = init(dir.path(), &["--dry-run"]);
    assert!(!text(&output).0.contains("is ignored by git"));
}

#[test]
fn the_sqlite_database_is_kept_out_of_git() {
    // In a repository: git itself must ignore the database and its companions, which hold
    // password hashes and session tokens.
    let dir = fixture("hello");
    std::fs::write(dir.path().join(".gitignore"), "/target\n").unwrap();
    git(dir.path(), &["init", "-q"]);
    let output = init(dir.path(), &["--yes", "--database", "sqlite"]);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let env = std::fs::read_to_string(dir.path().join(".env")).unwrap();
    assert!(
        env.contains("BETTER_AUTH_DATABASE_URL=sqlite:auth.db"),
        "{env}"
    );
    for file in ["auth.db", "auth.db-wal", "auth.db-shm", "auth.db-journal"] {
        git(dir.path(), &["check-ignore", "-q", file]);
    }
    let ignore = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap();
    assert!(ignore.starts_with("/target\n"), "{ignore}");

    // A database named in `.env` already is the one ignored; a pattern that covers it
    // already adds nothing; a rerun adds nothing.
    let dir = fixture("hello");
    std::fs::write(
        dir.path().join(".env"),
        "BETTER_AUTH_DATABASE_URL=sqlite://data/users.sqlite?mode=rwc\n",
    )
    .unwrap();
    std::fs::write(dir.path().join(".gitignore"), ".env\n*.db*\n").unwrap();
    let output = init(dir.path(), &["--yes"]);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let ignore = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap();
    assert!(ignore.ends_with("\ndata/users.sqlite*\n"), "{ignore}");
    assert!(!ignore.contains("auth.db"), "{ignore}");
    let output = init(dir.path(), &["--yes"]);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".gitignore")).unwrap(),
        ignore
    );
}

/// An app whose DATABASE_URL is MySQL (its diesel features name PostgreSQL too): Better
/// Auth goes to that MySQL database; an app on a database it has no store for gets
/// SQLite, and is told why.
#[test]
fn an_app_on_mysql_gets_its_mysql_database_and_others_get_sqlite() {
    let dir = fixture("hello");
    let manifest = dir.path().join("Cargo.toml");
    let cargo_toml = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        cargo_toml.replace(
            "[dependencies]\n",
            "[dependencies]\ndiesel = { version = \"2\", features = [\"mysql\", \"postgres\"] }\n",
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=mysql://app:hunter2@localhost:3306/app\nSTRIPE_API_KEY=sk_live_abc\n",
    )
    .unwrap();
    let stdout = init_ok(dir.path(), &["--dry-run"]);
    // The app's MySQL database, password and all (in .env, which git ignores)...
    assert!(
        stdout.contains("+BETTER_AUTH_DATABASE_URL=mysql://app:***@localhost:3306/app"),
        "{stdout}"
    );
    assert!(
        stdout.contains("features = [\"axum\", \"mysql\"]"),
        "{stdout}"
    );
    // ...but the dry run's diff of .env keeps the app's secrets off the screen.
    assert!(!stdout.contains("hunter2"), "{stdout}");
    assert!(
        stdout.contains(" DATABASE_URL=mysql://app:***@localhost:3306/app\n"),
        "{stdout}"
    );
    assert!(stdout.contains(" STRIPE_API_KEY=***\n"), "{stdout}");
    // Asked for, PostgreSQL it is.
    let output = init(dir.path(), &["--dry-run", "--database", "postgres"]);
    let (stdout, _) = text(&output);
    assert!(
        stdout.contains("+BETTER_AUTH_DATABASE_URL=postgres"),
        "{stdout}"
    );
    // A database Better Auth has no store for: SQLite, and the app is told.
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=mongodb://app:hunter2@localhost:27017/app\n",
    )
    .unwrap();
    std::fs::write(&manifest, &cargo_toml).unwrap();
    let stdout = init_ok(dir.path(), &["--dry-run"]);
    assert!(
        stdout.contains("+BETTER_AUTH_DATABASE_URL=sqlite:auth.db"),
        "{stdout}"
    );
    assert!(
        stdout.contains("the app's DATABASE_URL is MongoDB, which Better Auth does not store in"),
        "{stdout}"
    );
}

/// `mod auth;` goes below a comment that heads the list of modules, as rustfmt's own
/// ordering puts it, not above it.
#[test]
fn the_mod_line_stays_under_a_heading_comment() {
    let dir = fixture("hello");
    let main = dir.path().join("src/main.rs");
    let source = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        format!("// Modules of this app\nmod db;\n\n{source}"),
    )
    .unwrap();
    std::fs::write(dir.path().join("src/db.rs"), "").unwrap();
    init_ok(dir.path(), &["--yes"]);
    let written = std::fs::read_to_string(&main).unwrap();
    assert!(
        written.starts_with("// Modules of this app\nmod auth;\nmod db;\n"),
        "{written}"
    );
}

/// A crate root that imports a name `auth` (`use handlers::auth;`) cannot also declare
/// `mod auth;` (E0255): Better Auth's module gets another name.
#[test]
fn an_imported_auth_name_is_not_shadowed() {
    let dir = fixture("hello");
    let main = dir.path().join("src/main.rs");
    let source = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        format!("mod handlers;\n\nuse handlers::{{auth, home}};\n\n{source}"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/handlers.rs"),
        "pub mod auth {}\npub mod home {}\n",
    )
    .unwrap();
    let stdout = init_ok(dir.path(), &["--dry-run"]);
    assert!(stdout.contains("+mod auth_setup;"), "{stdout}");
    assert!(!stdout.contains("+mod auth;"), "{stdout}");
}

/// An app whose example dotenv file is `.env.sample` gets Better Auth's variables there,
/// and the generated code points at it; no second example file appears.
#[test]
fn the_apps_own_example_file_is_used() {
    let dir = fixture("hello");
    std::fs::write(dir.path().join(".env.sample"), "APP_NAME=hello\n").unwrap();
    let stdout = init_ok(dir.path(), &["--yes"]);
    assert!(!dir.path().join(".env.example").exists(), "{stdout}");
    let sample = std::fs::read_to_string(dir.path().join(".env.sample")).unwrap();
    assert!(sample.starts_with("APP_NAME=hello\n"), "{sample}");
    assert!(sample.contains("BETTER_AUTH_SECRET=\n"), "{sample}");
    let main = std::fs::read_to_string(dir.path().join("src/main.rs")).unwrap();
    assert!(main.contains("(see .env.sample)"), "{main}");
    let module = std::fs::read_to_string(dir.path().join("src/auth.rs")).unwrap();
    assert!(module.contains("is not set (see .env.sample)"), "{module}");
}

/// Without a `.env`, the example file's PostgreSQL URL is the best guess for Better
/// Auth's database; its password stays out of the example file init writes to.
#[test]
fn the_example_files_database_url_is_the_guess() {
    let dir = fixture("hello");
    std::fs::write(
        dir.path().join(".env.example"),
        "DATABASE_URL=postgres://dev:devpw@localhost:5433/shop\n",
    )
    .unwrap();
    let stdout = init_ok(dir.path(), &["--yes", "--database", "postgres"]);
    let env = std::fs::read_to_string(dir.path().join(".env")).unwrap();
    assert!(
        env.contains("BETTER_AUTH_DATABASE_URL=postgres://dev:devpw@localhost:5433/shop\n"),
        "{env}"
    );
    let example = std::fs::read_to_string(dir.path().join(".env.example")).unwrap();
    assert!(
        example.contains("BETTER_AUTH_DATABASE_URL=postgres://dev:***@localhost:5433/shop\n"),
        "{example}"
    );
    assert!(!stdout.contains("devpw"), "{stdout}");
}

/// An ORM's or store's feature that names the database picks it (sea-orm's
/// `sqlx-postgres`, toasty's `postgresql`, diesel's `sqlite`), as do single-database crates.
#[test]
fn sea_orm_on_postgres_means_postgres() {
    for (dependency, feature) in [
        (
            "sea-orm = { version = \"1\", features = [\"sqlx-postgres\", \"runtime-tokio-rustls\"] }",
            "postgres",
        ),
        (
            "toasty = { version = \"0.5\", features = [\"jiff\", \"postgresql\"] }",
            "postgres",
        ),
        ("tokio-postgres = \"0.7\"", "postgres"),
        (
            "diesel = { version = \"2\", features = [\"sqlite\"] }",
            "sqlite",
        ),
    ] {
        let dir = fixture("hello");
        let manifest = dir.path().join("Cargo.toml");
        let text_before = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(&manifest, format!("{text_before}{dependency}\n")).unwrap();
        let stdout = init_ok(dir.path(), &["--dry-run"]);
        assert!(
            stdout.contains(&format!("features = [\"axum\", \"{feature}\"]")),
            "{dependency}: {stdout}"
        );
    }
}

#[test]
fn the_fallback_dependency_is_this_repository_at_this_release() {
    let dir = fixture("hello");
    let output = init_with_env(
        dir.path(),
        &["--dry-run"],
        &[("BETTER_AUTH_INIT_IGNORE_CHECKOUT", "1")],
    );
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    let line = format!(
        "Dependency: better-auth = {{ git = \"{}\", tag = \"v{}\", default-features = false, \
         features = [\"axum\", \"sqlite\"] }}",
        env!("CARGO_PKG_REPOSITORY"),
        env!("CARGO_PKG_VERSION")
    );
    assert!(stdout.contains(&line), "{stdout}");
    assert!(!stdout.contains("path = "), "{stdout}");
}

/// The fallback as users get it: the CLI built from a copy of the repository, then run
/// with no checkout beside it. Builds the CLI once more (in the shared target dir, under
/// another binary name so the tests' own binary is left alone).
#[test]
#[ignore = "builds the CLI from a copy of the repository (a few minutes); run with --ignored"]
fn a_cli_built_outside_a_checkout_depends_on_the_git_tag() {
    let workspace = crate::util::workspace();
    let copy = tempfile::Builder::new()
        .prefix("ba-cli-copy-")
        .tempdir()
        .unwrap();
    for file in ["Cargo.toml", "Cargo.lock"] {
        std::fs::copy(workspace.join(file), copy.path().join(file)).unwrap();
    }
    for folder in ["cli", "runtime", "migrations", "templates"] {
        copy_tree(&workspace.join(folder), &copy.path().join(folder));
    }
    // Only the members copied; a binary name of its own.
    let root = copy.path().join("Cargo.toml");
    let manifest = std::fs::read_to_string(&root).unwrap();
    std::fs::write(
        &root,
        manifest.replace(
            "members = [\"runtime\", \"cli\", \"bench\"]",
            "members = [\"runtime\", \"cli\"]",
        ),
    )
    .unwrap();
    let cli = copy.path().join("cli/Cargo.toml");
    let manifest = std::fs::read_to_string(&cli).unwrap();
    assert!(
        manifest.contains("name = \"better-auth\"\npath"),
        "{manifest}"
    );
    std::fs::write(
        &cli,
        manifest.replace(
            "name = \"better-auth\"\npath",
            "name = \"better-auth-fallback-test\"\npath",
        ),
    )
    .unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "-p",
            "better-auth-cli",
            "--bin",
            "better-auth-fallback-test",
        ])
        .current_dir(copy.path())
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .unwrap();
    assert!(status.success(), "the copy did not build");
    // The copy is gone: the binary is now like one built from a registry's sources.
    drop(copy);

    let dir = fixture("hello");
    let before = tree(dir.path());
    let output = Command::new(target.join("debug/better-auth-fallback-test"))
        .args(["init", "--dry-run", "--path"])
        .arg(dir.path())
        .env_remove("BETTER_AUTH_INIT_IGNORE_CHECKOUT")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "Dependency: better-auth = {{ git = \"{}\", tag = \"v{}\",",
            env!("CARGO_PKG_REPOSITORY"),
            env!("CARGO_PKG_VERSION")
        )),
        "{stdout}"
    );
    assert_eq!(tree(dir.path()), before);
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "target" {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A path served under a nest prefix counts as taken: `.nest("/api", api())`
/// with `/auth/login` in `api()` serves /api/auth/login, so neither /auth nor
/// /api/auth is free (Better Auth's routes would sit beside the app's own
/// /api/auth/* routes).
#[test]
fn routes_under_a_nest_prefix_keep_the_mount_away() {
    let dir = fixture("hello");
    let source = "use axum::{routing::{get, post}, Router};\n\n\
         fn api() -> Router {\n    \
         Router::new().route(\"/auth/login\", post(|| async { \"token\" }))\n}\n\n\
         #[tokio::main]\nasync fn main() {\n    \
         let app = Router::new().route(\"/\", get(|| async { \"hi\" })).nest(\"/api\", api());\n    \
         let listener = tokio::net::TcpListener::bind(\"0.0.0.0:3000\").await.unwrap();\n    \
         axum::serve(listener, app).await.unwrap();\n}\n";
    std::fs::write(dir.path().join("src/main.rs"), source).unwrap();
    let stdout = init_ok(dir.path(), &["--dry-run"]);
    assert!(stdout.contains(".merge(auth::router(&auth))"), "{stdout}");
    assert!(
        stdout.contains(
            "routes under /auth and /api/auth, so Better Auth is mounted at /better-auth"
        ),
        "{stdout}"
    );
    // The configuration knows the mount: links in emails and social sign-in's
    // callback URL are built from it (they pointed at /auth before).
    assert!(stdout.contains(".base_path(\"/better-auth\")"), "{stdout}");
    assert!(!stdout.contains(".base_path(\"/auth\")"), "{stdout}");
}

/// `--plugins ...,social`: the social crate beside the runtime, GitHub and Google from
/// the environment (placeholders in `.env.example`), and the callback URLs to register.
#[test]
fn social_plugin_adds_providers_from_the_environment() {
    let dir = fixture("hello");
    let stdout = init_ok(
        dir.path(),
        &["--yes", "--plugins", "email-password,account,social"],
    );
    assert!(
        stdout.contains("register http://localhost:3000/auth/callback/github as the callback URL"),
        "{stdout}"
    );
    assert!(
        stdout.contains("http://localhost:3000/auth/callback/google"),
        "{stdout}"
    );

    let manifest = std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
    let social_line = manifest
        .lines()
        .find(|l| l.starts_with("better-auth-social = "))
        .unwrap_or_else(|| panic!("{manifest}"));
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let social_dir = workspace.join("social").canonicalize().unwrap();
    assert!(
        social_line.contains(&format!("path = \"{}\"", social_dir.display())),
        "{social_line}"
    );
    assert!(
        social_line.contains("features = [\"sqlite\"]"),
        "{social_line}"
    );

    let auth = std::fs::read_to_string(dir.path().join("src/auth.rs")).unwrap();
    assert!(
        auth.contains("use better_auth_social::{GitHub, Google, SocialProvidersPlugin};"),
        "{auth}"
    );
    assert!(auth.contains(".plugin(social_providers())"), "{auth}");
    assert!(auth.contains("var(\"GITHUB_CLIENT_ID\")"), "{auth}");

    let example = std::fs::read_to_string(dir.path().join(".env.example")).unwrap();
    for var in [
        "GITHUB_CLIENT_ID=\n",
        "GITHUB_CLIENT_SECRET=\n",
        "GOOGLE_CLIENT_ID=\n",
        "GOOGLE_CLIENT_SECRET=\n",
    ] {
        assert!(example.contains(var), "{example}");
    }
    let env = std::fs::read_to_string(dir.path().join(".env")).unwrap();
    assert!(env.contains("GITHUB_CLIENT_ID=\n"), "{env}");

    // Without social, none of it.
    let plain = fixture("hello");
    assert!(init(plain.path(), &["--yes"]).status.success());
    let manifest = std::fs::read_to_string(plain.path().join("Cargo.toml")).unwrap();
    assert!(!manifest.contains("better-auth-social"), "{manifest}");
    let example = std::fs::read_to_string(plain.path().join(".env.example")).unwrap();
    assert!(!example.contains("GITHUB"), "{example}");
}

/// Tests that build the state struct would stop compiling once it had an `auth` field
/// (an inline `#[cfg(test)]` module and a `#[cfg(test)] mod tests;` file here): init then
/// leaves the state alone and attaches Better Auth where the app is served, and says why.
#[test]
fn a_state_built_by_tests_is_left_alone() {
    let dir = fixture("app-state");
    let project = dir.path();
    let main = std::fs::read_to_string(project.join("src/main.rs")).unwrap();
    let main = format!(
        "{main}\n#[cfg(test)]\nmod tests;\n\n#[cfg(test)]\nmod inline {{\n    use super::*;\n\n    \
         #[test]\n    fn builds() {{\n        let _ = AppState {{\n            app_name: String::new(),\n        \
         }};\n    }}\n}}\n"
    );
    std::fs::write(project.join("src/main.rs"), main).unwrap();
    std::fs::write(
        project.join("src/tests.rs"),
        "use super::*;\n\n#[test]\nfn state() {\n    let state = AppState {\n        app_name: \"t\".into(),\n    };\n    assert_eq!(state.app_name, \"t\");\n}\n",
    )
    .unwrap();
    let stdout = init_ok(project, &["--yes"]);
    assert!(
        stdout.contains("test code builds `AppState { .. }` (src/main.rs:")
            || stdout.contains("test code builds `AppState { .. }` (src/tests.rs:5)"),
        "{stdout}"
    );
    let main = std::fs::read_to_string(project.join("src/main.rs")).unwrap();
    assert!(main.contains("auth::attach("), "{main}");
    assert!(
        !main.contains("auth: auth"),
        "the state got a field:\n{main}"
    );
}

/// A package with a helper binary declared beside its server (a seeder as the only
/// `[[bin]]`, the server in the auto-discovered `src/main.rs`): init wires the server and
/// leaves the helper alone. Taking the first `[[bin]]` for the crate root would find
/// no `axum::serve` there and write `src/bin/auth.rs`, which cargo then builds as a
/// binary of its own.
#[test]
fn the_server_is_wired_not_a_helper_binary() {
    let dir = fixture("hello");
    let project = dir.path();
    let manifest = project.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let text = text.replace(
        "edition = \"2021\"\n",
        "edition = \"2021\"\ndefault-run = \"hello\"\n\n[[bin]]\nname = \"seed\"\npath = \"src/bin/seed.rs\"\n",
    );
    std::fs::write(&manifest, text).unwrap();
    std::fs::create_dir_all(project.join("src/bin")).unwrap();
    let seed = "fn main() {\n    println!(\"seeding\");\n}\n";
    std::fs::write(project.join("src/bin/seed.rs"), seed).unwrap();

    init_ok(project, &["--yes"]);
    let main = std::fs::read_to_string(project.join("src/main.rs")).unwrap();
    assert!(main.contains("mod auth;"), "{main}");
    assert!(main.contains(".merge(auth::router(&auth))"), "{main}");
    assert!(project.join("src/auth.rs").is_file());
    assert!(!project.join("src/bin/auth.rs").exists());
    assert_eq!(
        std::fs::read_to_string(project.join("src/bin/seed.rs")).unwrap(),
        seed
    );
}

/// Without `default-run`, a `[[bin]]` that is not the server still loses to the one
/// that serves the router.
#[test]
fn the_binary_that_serves_is_wired_among_several() {
    let dir = fixture("hello");
    let project = dir.path();
    let manifest = project.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let text = text.replace(
        "edition = \"2021\"\n",
        "edition = \"2021\"\n\n[[bin]]\nname = \"migrate\"\npath = \"src/migrate.rs\"\n\n[[bin]]\nname = \"server\"\npath = \"src/main.rs\"\n",
    );
    std::fs::write(&manifest, text).unwrap();
    std::fs::write(project.join("src/migrate.rs"), "fn main() {}\n").unwrap();

    init_ok(project, &["--yes"]);
    let main = std::fs::read_to_string(project.join("src/main.rs")).unwrap();
    assert!(main.contains(".merge(auth::router(&auth))"), "{main}");
    assert_eq!(
        std::fs::read_to_string(project.join("src/migrate.rs")).unwrap(),
        "fn main() {}\n"
    );
}

/// A server that is an auto-discovered binary (`src/bin/server.rs`, no `src/main.rs`):
/// init finds it, and keeps Better Auth's module out of `src/bin/`, where cargo would
/// take `src/bin/auth.rs` for one more binary without a `main`.
#[test]
fn a_server_in_src_bin_keeps_the_module_beside_it() {
    let dir = fixture("hello");
    let project = dir.path();
    std::fs::create_dir_all(project.join("src/bin")).unwrap();
    std::fs::rename(
        project.join("src/main.rs"),
        project.join("src/bin/server.rs"),
    )
    .unwrap();

    init_ok(project, &["--yes"]);
    let server = std::fs::read_to_string(project.join("src/bin/server.rs")).unwrap();
    assert!(
        server.contains("#[path = \"server/auth.rs\"]\nmod auth;"),
        "{server}"
    );
    assert!(
        server.contains("// Better Auth (src/bin/server/auth.rs)"),
        "{server}"
    );
    assert!(server.contains(".merge(auth::router(&auth))"), "{server}");
    assert!(project.join("src/bin/server/auth.rs").is_file());
    assert!(!project.join("src/bin/auth.rs").exists());
    assert!(!project.join("src/auth.rs").exists());
}

/// A `[[bin]]` whose path is `src/bin/main.rs`: the module goes to
/// `src/bin/main/auth.rs`, not `src/bin/auth.rs`, which cargo would also build as a
/// binary (one without a `main`, so the project would not compile).
#[test]
fn a_server_at_src_bin_main_rs_keeps_the_module_beside_it() {
    let dir = fixture("hello");
    let project = dir.path();
    std::fs::create_dir_all(project.join("src/bin")).unwrap();
    std::fs::rename(project.join("src/main.rs"), project.join("src/bin/main.rs")).unwrap();
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
    std::fs::write(
        project.join("Cargo.toml"),
        manifest.replacen(
            "[dependencies]",
            "[[bin]]\nname = \"hello\"\npath = \"src/bin/main.rs\"\n\n[dependencies]",
            1,
        ),
    )
    .unwrap();

    init_ok(project, &["--yes"]);
    let server = std::fs::read_to_string(project.join("src/bin/main.rs")).unwrap();
    assert!(
        server.contains("#[path = \"main/auth.rs\"]\nmod auth;"),
        "{server}"
    );
    assert!(project.join("src/bin/main/auth.rs").is_file());
    assert!(!project.join("src/bin/auth.rs").exists());
}

/// The committed example file shows Better Auth's database the way the app shows its
/// own: when Better Auth starts on the app's `DATABASE_URL`, its example is the app's
/// placeholder, never the developer's local URL
/// (`postgres://postgres@127.0.0.1:5432/<local database>`).
#[test]
fn the_example_file_keeps_the_apps_placeholder_url() {
    let dir = fixture("hello");
    let project = dir.path();
    std::fs::write(
        project.join(".env"),
        "DATABASE_URL=postgres://dev:secret@127.0.0.1:5432/my_local_db\n",
    )
    .unwrap();
    let placeholder = "DATABASE_URL=postgres://user:password@localhost:5432/mydb\n";
    std::fs::write(project.join(".env.example"), placeholder).unwrap();
    init_ok(project, &["--yes"]);
    let env = std::fs::read_to_string(project.join(".env")).unwrap();
    assert!(
        env.contains(
            "\nBETTER_AUTH_DATABASE_URL=postgres://dev:secret@127.0.0.1:5432/my_local_db\n"
        ),
        "{env}"
    );
    let example = std::fs::read_to_string(project.join(".env.example")).unwrap();
    assert!(example.starts_with(placeholder), "{example}");
    assert!(
        example.contains("\nBETTER_AUTH_DATABASE_URL=postgres://user:***@localhost:5432/mydb\n"),
        "{example}"
    );
    assert!(!example.contains("my_local_db"), "{example}");
}

/// An in-memory SQLite pool is never shared: Better Auth's users and sessions would
/// vanish at every restart. It gets a file of its own, and init says why.
#[test]
fn an_in_memory_sqlite_pool_is_never_shared() {
    let dir = fixture("pool-param");
    let main = dir.path().join("src/main.rs");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        text.replace("sqlite:notes.db?mode=rwc", "sqlite::memory:"),
    )
    .unwrap();
    let stdout = init_ok(dir.path(), &["--dry-run"]);
    assert!(
        !stdout.contains("auth::init(db.clone())"),
        "the in-memory pool was shared:\n{stdout}"
    );
    assert!(
        stdout.contains("+BETTER_AUTH_DATABASE_URL=sqlite:auth.db"),
        "{stdout}"
    );
    assert!(stdout.contains("in memory"), "{stdout}");
}

/// A workspace whose root package only runs a member's server (`web::run().await`): the
/// member that calls `axum::serve` gets Better Auth, and init says so; `--package` picks
/// a member from such a root too.
#[test]
fn the_member_that_serves_gets_better_auth_from_a_root_package() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    let write = |path: &str, text: &str| {
        let path = project.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"web\"]\n\n[package]\nname = \"app\"\nversion = \"0.1.0\"\n\
         edition = \"2021\"\n\n[dependencies]\naxum = \"0.8\"\n\
         tokio = { version = \"1\", features = [\"full\"] }\nweb = { path = \"web\" }\n",
    );
    write(
        "src/bin/main.rs",
        "#[tokio::main]\nasync fn main() {\n    web::run().await;\n}\n",
    );
    write(
        "web/Cargo.toml",
        "[package]\nname = \"web\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n\
         axum = \"0.8\"\ntokio = { version = \"1\", features = [\"full\"] }\n",
    );
    write(
        "web/src/lib.rs",
        "use axum::{routing::get, Router};\n\npub async fn run() {\n    \
         let app = Router::new().route(\"/\", get(|| async { \"hi\" }));\n    \
         let listener = tokio::net::TcpListener::bind(\"127.0.0.1:3000\").await.unwrap();\n    \
         axum::serve(listener, app).await.unwrap();\n}\n",
    );
    for flags in [&["--dry-run"][..], &["--dry-run", "--package", "web"]] {
        let stdout = init_ok(project, flags);
        assert!(stdout.contains("create  web/src/auth.rs"), "{stdout}");
        assert!(stdout.contains("+pub mod auth;"), "{stdout}");
        assert!(stdout.contains("auth::init().await"), "{stdout}");
        assert_eq!(
            stdout.contains("the workspace member `web` does, so Better Auth goes there"),
            flags.len() == 1,
            "{stdout}"
        );
    }
    // Run from the root: the member is a library.
    let stdout = init_ok(project, &["--yes"]);
    assert!(stdout.contains("Try it:\n  cargo run\n"), "{stdout}");
}

/// A router built in the library (`app::routes::create_router()`) and served by `main.rs`:
/// Better Auth's module goes in the library, where the router's handlers can name
/// `crate::auth::Authenticated`, and `main.rs` reaches it as `app::auth`.
#[test]
fn a_router_built_in_the_library_gets_the_module_in_the_library() {
    let dir = fixture("hello");
    let project = dir.path();
    std::fs::write(project.join("src/lib.rs"), "pub mod routes;\n").unwrap();
    std::fs::write(
        project.join("src/routes.rs"),
        "use axum::{routing::get, Router};\n\npub fn create_router() -> Router {\n    \
         Router::new().route(\"/me\", get(me))\n}\n\nasync fn me() -> &'static str {\n    \"me\"\n}\n",
    )
    .unwrap();
    let name = std::fs::read_to_string(project.join("Cargo.toml"))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("name = \"")?
                .strip_suffix('"')
                .map(str::to_owned)
        })
        .unwrap()
        .replace('-', "_");
    std::fs::write(
        project.join("src/main.rs"),
        format!(
            "#[tokio::main]\nasync fn main() {{\n    \
             let listener = tokio::net::TcpListener::bind(\"127.0.0.1:3000\").await.unwrap();\n    \
             axum::serve(listener, {name}::routes::create_router()).await.unwrap();\n}}\n"
        ),
    )
    .unwrap();
    let stdout = init_ok(project, &["--dry-run"]);
    assert!(
        stdout.contains("+pub mod auth;\n pub mod routes;"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("let auth = {name}::auth::init()")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(".merge({name}::auth::router(&auth))")),
        "{stdout}"
    );
}

/// `--plugins ...,two-factor,magic-link,email-otp,username,passkey,admin,organization`: the plugin crates beside the runtime, the
/// two-factor issuer named after the package, and notes on what the app must do.
#[test]
fn plugin_crates_are_added_beside_the_runtime() {
    let dir = fixture("hello");
    let stdout = init_ok(
        dir.path(),
        &[
            "--yes",
            "--plugins",
            "email-password,sessions,two-factor,magic-link,email-otp,username,passkey,admin,organization",
        ],
    );
    assert!(
        stdout.contains("magic links: POST /auth/sign-in/magic-link"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("two-factor: a signed-in user turns it on with POST /auth/two-factor/enable"),
        "{stdout}"
    );
    let manifest = std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
    let line = manifest
        .lines()
        .find(|l| l.starts_with("better-auth-two-factor = "))
        .unwrap_or_else(|| panic!("{manifest}"));
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let crate_dir = workspace.join("two-factor").canonicalize().unwrap();
    assert!(
        line.contains(&format!("path = \"{}\"", crate_dir.display())),
        "{line}"
    );
    assert!(line.contains("features = [\"sqlite\"]"), "{line}");
    assert!(!manifest.contains("better-auth-social"), "{manifest}");

    let auth = std::fs::read_to_string(dir.path().join("src/auth.rs")).unwrap();
    assert!(
        auth.contains("use better_auth_two_factor::TwoFactorPlugin;"),
        "{auth}"
    );
    assert!(
        auth.contains(".plugin(TwoFactorPlugin::new().issuer(\"hello\"))"),
        "{auth}"
    );
    assert!(auth.contains(".plugin(MagicLinkPlugin::new())"), "{auth}");
    assert!(auth.contains(".plugin(EmailOtpPlugin::new())"), "{auth}");
    assert!(
        stdout.contains("codes by email: POST /auth/email-otp/send-verification-otp"),
        "{stdout}"
    );
    assert!(
        manifest.contains("better-auth-magic-link = { path = "),
        "{manifest}"
    );
    assert!(
        manifest.contains("better-auth-username = { path = "),
        "{manifest}"
    );
    assert!(auth.contains(".plugin(UsernamePlugin::new())"), "{auth}");
    assert!(
        auth.contains(".plugin(PasskeyPlugin::new().rp_name(\"hello\"))"),
        "{auth}"
    );
    assert!(
        stdout.contains("passkeys: a signed-in user registers one"),
        "{stdout}"
    );
    assert!(
        stdout.contains("usernames: sign-up and POST /auth/update-user take a username"),
        "{stdout}"
    );
    // The admin guard that fits this wiring (Better Auth is the router's state).
    assert!(
        stdout.contains("`better_auth_admin::RequireRole<Admin>` guards your own handlers"),
        "{stdout}"
    );
    assert!(
        auth.contains("RequireRole(session, ..): RequireRole<Admin>) -> String"),
        "{auth}"
    );
    assert!(
        auth.contains(".plugin(OrganizationPlugin::new())"),
        "{auth}"
    );
    assert!(
        manifest.contains("better-auth-organization = { path = "),
        "{manifest}"
    );
    assert!(
        stdout.contains("organizations: a signed-in user creates one"),
        "{stdout}"
    );
    assert!(
        stdout.contains("`better_auth_organization::RequirePermission<P>` guards"),
        "{stdout}"
    );
    assert!(
        auth.contains("async fn invite(_: RequirePermission<InviteMembers>)"),
        "{auth}"
    );
}
