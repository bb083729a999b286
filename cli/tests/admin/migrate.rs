//! `better-auth migrate`, `migrate --dry-run` and `migrate status`.

use better_auth::store::MIGRATIONS;
use better_auth_test_support::all_backends;

use crate::common::{Backend, TestDb, install_two_factor, show, snapshot, text, with_db};

fn store_backend(db: &TestDb) -> better_auth::store::Backend {
    match db.backend {
        Backend::Sqlite => better_auth::store::Backend::Sqlite,
        Backend::Postgres => better_auth::store::Backend::Postgres,
        Backend::MySql => better_auth::store::Backend::MySql,
    }
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 migration".to_owned()
    } else {
        format!("{n} migrations")
    }
}

/// The `migrate status` table this version should print, built from the
/// migrations the runtime ships (so a new migration needs no snapshot update).
fn expected_status(backend: better_auth::store::Backend, applied: bool) -> String {
    let width = MIGRATIONS
        .iter()
        .map(|m| m.description.len())
        .max()
        .unwrap_or(0)
        .max("DESCRIPTION".len());
    let state = if applied { "applied" } else { "pending" };
    let mut out = format!("VERSION  {:width$}  STATE    CHECKSUM\n", "DESCRIPTION");
    for m in MIGRATIONS {
        out.push_str(&format!(
            "{:04}     {:width$}  {state}  {}\n",
            m.version,
            m.description,
            m.checksum(backend)
        ));
    }
    let n = MIGRATIONS.len();
    if applied {
        out.push_str(&format!("{n} applied, 0 pending\n"));
    } else {
        out.push_str(&format!("0 applied, {n} pending\n"));
    }
    out
}

all_backends!(migrate_status_dry_run_and_apply, with_db, |db: TestDb| {
    let backend = store_backend(&db);
    assert_eq!(
        db.ok(&["migrate", "status"]),
        expected_status(backend, false)
    );

    let dry = db.run(&["migrate", "--dry-run"]);
    assert!(dry.status.success(), "{}", show(&dry));
    let sql = text(&dry.stdout);
    assert!(
        sql.contains(r#"CREATE TABLE IF NOT EXISTS "session""#),
        "{sql}"
    );
    for m in MIGRATIONS {
        assert!(
            sql.contains(&format!("(sha256 {})", m.checksum(backend))),
            "{sql}"
        );
        assert!(sql.contains(m.sql(backend).trim_end()), "{sql}");
    }
    assert!(text(&dry.stderr).contains("nothing was applied"));
    // Still pending after a dry run.
    assert_eq!(
        db.ok(&["migrate", "status"]),
        expected_status(backend, false)
    );

    let applied = db.run(&["migrate"]);
    assert!(applied.status.success(), "{}", show(&applied));
    let mut expected: String = MIGRATIONS
        .iter()
        .map(|m| format!("Applied migration {:04} {}\n", m.version, m.description))
        .collect();
    expected.push_str(&format!(
        "Database is up to date ({} applied now).\n",
        plural(MIGRATIONS.len())
    ));
    assert_eq!(text(&applied.stdout), expected);
    // The snapshot shows the first migration's lines and the stderr line.
    let first_lines: String = db
        .redact(&applied)
        .lines()
        .filter(|l| !l.starts_with("Applied migration") || l.contains(" 0001 "))
        .filter(|l| !l.starts_with("Database is up to date"))
        .map(|l| format!("{l}\n"))
        .collect();
    snapshot("migrate_apply", &first_lines);

    let again = db.run(&["migrate"]);
    assert!(again.status.success());
    assert_eq!(
        text(&again.stdout),
        format!(
            "Already up to date ({} applied); nothing to do.\n",
            plural(MIGRATIONS.len())
        )
    );

    assert_eq!(
        db.ok(&["migrate", "status"]),
        expected_status(backend, true)
    );

    let dry = db.run(&["migrate", "--dry-run"]);
    assert_eq!(text(&dry.stdout), "");
    assert!(text(&dry.stderr).contains("nothing to apply"));
});

all_backends!(
    commands_on_an_unmigrated_database_say_run_migrate,
    with_db,
    |db: TestDb| {
        if db.backend == Backend::Sqlite {
            // A missing SQLite file is not created by a user command.
            let err = db.fails(&["user", "list"], "");
            assert!(err.contains("run `better-auth migrate`"), "{err}");
            assert!(!db.dir().join("auth.db").exists());
            std::fs::write(db.dir().join("auth.db"), "").unwrap();
        }
        for args in [
            &["user", "list"][..],
            &["user", "delete", "--email", "a@example.com", "--yes"],
            &["session", "list", "--user", "a@example.com"],
            &["session", "revoke", "--all-expired", "--yes"],
        ] {
            let err = db.fails(args, "");
            assert!(err.contains("run `better-auth migrate`"), "{args:?}: {err}");
        }
        let err = db.fails(
            &[
                "user",
                "create",
                "--email",
                "a@example.com",
                "--name",
                "A",
                "--password-stdin",
            ],
            crate::common::PASSWORD,
        );
        assert!(err.contains("run `better-auth migrate`"), "{err}");
        let out = db.run(&["user", "list"]);
        snapshot("not_migrated", &db.redact(&out));
    }
);

all_backends!(
    a_changed_migration_is_reported_and_blocks_migrate,
    with_db,
    |db: TestDb| {
        db.ok(&["migrate"]);
        let url = db.url.clone();
        let backend = db.backend;
        crate::common::block_on(async move {
            let sql =
                r#"UPDATE "_better_auth_migrations" SET "checksum" = 'f00d' WHERE "version" = 1"#;
            match backend {
                Backend::Sqlite => {
                    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                    sqlx::query(sql).execute(&pool).await.unwrap();
                    pool.close().await;
                }
                Backend::Postgres => {
                    let pool = sqlx::PgPool::connect(&url).await.unwrap();
                    sqlx::query(sql).execute(&pool).await.unwrap();
                    pool.close().await;
                }
                Backend::MySql => {
                    use sqlx::Connection as _;
                    let mut conn = sqlx::MySqlConnection::connect(&url).await.unwrap();
                    sqlx::query("SET SESSION sql_mode = 'ANSI_QUOTES'")
                        .execute(&mut conn)
                        .await
                        .unwrap();
                    sqlx::query(sql).execute(&mut conn).await.unwrap();
                    conn.close().await.unwrap();
                }
            }
        });
        let status = db.ok(&["migrate", "status"]);
        assert!(status.contains("changed (applied with f00d)"), "{status}");
        let err = db.fails(&["migrate"], "");
        assert!(err.contains("checksum f00d"), "{err}");
    }
);

// Plugin migrations (applied by the app when it starts with the plugin) are
// listed under the runtime's; a database without any lists none.
// The plugins have no MySQL migrations yet.
all_backends!(status_lists_plugin_migrations, with_db, |db: TestDb| {
    db.ok(&["migrate"]);
    assert!(!db.ok(&["migrate", "status"]).contains("Plugin migrations"));
    install_two_factor(&db);
    let status = db.ok(&["migrate", "status"]);
    assert!(status.contains("Plugin migrations"), "{status}");
    for line in [
        "two-factor  0001     two_factor",
        "two-factor  0002     two_factor_otp",
    ] {
        assert!(status.contains(line), "{line}:\n{status}");
    }
});
