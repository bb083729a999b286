//! `better-auth user create | list | delete | set-password`.

use better_auth_test_support::all_backends;
use serde_json::Value;

use crate::common::{
    PASSWORD, TestDb, all_output, block_on, install_passkeys, install_two_factor, show, snapshot,
    text, with_db,
};

all_backends!(create_list_and_delete, with_db, |db: TestDb| {
    db.ok(&["migrate"]);
    let create = db.run_with_stdin(
        &[
            "user",
            "create",
            "--email",
            "  Ada@Example.COM ",
            "--name",
            " Ada Lovelace ",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(create.status.success(), "{}", show(&create));
    snapshot("user_create", &db.redact(&create));
    db.create_user("grace@example.com", "Grace Hopper");

    let list = db.run(&["user", "list"]);
    assert!(list.status.success());
    snapshot("user_list", &db.redact(&list));

    let json: Value = serde_json::from_str(&db.ok(&["user", "list", "--json"])).unwrap();
    let users = json.as_array().unwrap();
    assert_eq!(users.len(), 2);
    let ada = &users[0];
    let mut keys: Vec<&str> = ada
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "createdAt",
            "email",
            "emailVerified",
            "id",
            "image",
            "name",
            "signInMethods",
            "updatedAt"
        ]
    );
    assert_eq!(ada["signInMethods"], serde_json::json!(["credential"]));
    assert_eq!(ada["email"], "ada@example.com", "normalized like sign-up");
    assert_eq!(ada["name"], "Ada Lovelace", "trimmed like sign-up");
    assert_eq!(ada["emailVerified"], false);
    assert_eq!(ada["image"], Value::Null);
    assert!(ada["createdAt"].as_str().unwrap().ends_with('Z'));

    // Without a terminal and without --yes nothing is deleted.
    let err = db.fails(&["user", "delete", "--email", "ada@example.com"], "");
    assert!(err.contains("--yes"), "{err}");
    assert!(db.ok(&["user", "list"]).contains("ada@example.com"));

    let delete = db.run(&["user", "delete", "--email", "ADA@example.com", "--yes"]);
    assert!(delete.status.success(), "{}", show(&delete));
    snapshot("user_delete", &db.redact(&delete));
    let left = db.ok(&["user", "list"]);
    assert!(!left.contains("ada@example.com") && left.contains("grace@example.com"));

    db.ok(&["user", "delete", "--email", "grace@example.com", "-y"]);
    assert_eq!(db.ok(&["user", "list"]), "No users.\n");
    assert_eq!(db.ok(&["user", "list", "--json"]).trim(), "[]");
});

all_backends!(
    create_refuses_what_sign_up_refuses,
    with_db,
    |db: TestDb| {
        db.ok(&["migrate"]);
        db.create_user("ada@example.com", "Ada");
        let create = |email: &str, name: &str, password: &str| {
            db.fails(
                &[
                    "user",
                    "create",
                    "--email",
                    email,
                    "--name",
                    name,
                    "--password-stdin",
                ],
                password,
            )
        };

        let duplicate = create("ADA@example.com", "Ada", PASSWORD);
        assert!(duplicate.contains("already exists"), "{duplicate}");
        snapshot("user_create_duplicate", &db.redact_text(&duplicate));

        let short = create("bob@example.com", "Bob", "7chars!");
        assert!(short.contains("too short"), "{short}");
        assert!(short.contains('8'), "{short}");
        snapshot("user_create_weak_password", &db.redact_text(&short));
        let long = create("bob@example.com", "Bob", &"x".repeat(129));
        assert!(long.contains("too long"), "{long}");

        let invalid = create("not-an-email", "Bob", PASSWORD);
        assert!(invalid.contains("invalid email"), "{invalid}");
        let nameless = create("bob@example.com", "   ", PASSWORD);
        assert!(nameless.contains("name"), "{nameless}");

        // No terminal and no --password-stdin: an error naming the flag, not a hang.
        let out = db.run(&[
            "user",
            "create",
            "--email",
            "bob@example.com",
            "--name",
            "Bob",
        ]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            text(&out.stderr).contains("--password-stdin"),
            "{}",
            show(&out)
        );

        // Nothing above created a user.
        let json: Value = serde_json::from_str(&db.ok(&["user", "list", "--json"])).unwrap();
        assert_eq!(json.as_array().unwrap().len(), 1);
    }
);

all_backends!(unknown_users_are_one_line_errors, with_db, |db: TestDb| {
    db.ok(&["migrate"]);
    for args in [
        &["user", "delete", "--email", "ghost@example.com", "--yes"][..],
        &[
            "user",
            "set-password",
            "--email",
            "ghost@example.com",
            "--password-stdin",
        ],
        &["session", "list", "--user", "ghost@example.com"],
        &["session", "revoke", "--user", "ghost@example.com", "--yes"],
    ] {
        let err = db.fails(args, PASSWORD);
        assert!(
            err.contains("no user with email ghost@example.com"),
            "{args:?}: {err}"
        );
    }
    let out = db.run(&["user", "delete", "--email", "ghost@example.com", "--yes"]);
    snapshot("user_unknown", &db.redact(&out));
});

/// S28: a password given on stdin never appears in any output, and
/// `user create` has no flag that takes a password on the command line.
#[test]
fn s28_password_from_stdin_is_never_printed_and_never_taken_from_argv() {
    let Some(db) = TestDb::migrated(crate::common::Backend::Sqlite) else {
        return;
    };
    let secret = "s28-Pa55word-that-must-not-leak";
    let mut outputs = Vec::new();
    outputs.push(db.run_with_stdin(
        &[
            "user",
            "create",
            "--email",
            "ada@example.com",
            "--name",
            "Ada",
            "--password-stdin",
        ],
        secret,
    ));
    outputs.push(db.run_with_stdin(
        &[
            "user",
            "create",
            "--email",
            "ada@example.com",
            "--name",
            "Ada",
            "--password-stdin",
        ],
        secret,
    ));
    outputs.push(db.run_with_stdin(
        &[
            "user",
            "set-password",
            "--email",
            "ada@example.com",
            "--password-stdin",
        ],
        &format!("{secret}-2\n"),
    ));
    // Rejected passwords are not echoed either.
    outputs.push(db.run_with_stdin(
        &[
            "user",
            "set-password",
            "--email",
            "ada@example.com",
            "--password-stdin",
        ],
        "s28-x",
    ));
    outputs.push(db.run_with_stdin(
        &[
            "user",
            "set-password",
            "--email",
            "ada@example.com",
            "--password-stdin",
        ],
        &format!("s28-{}", "long".repeat(40)),
    ));
    outputs.push(db.run(&["user", "list"]));
    outputs.push(db.run(&["user", "list", "--json"]));
    outputs.push(db.run(&["session", "list", "--user", "ada@example.com", "--json"]));
    assert!(outputs[0].status.success(), "{}", show(&outputs[0]));
    assert!(outputs[2].status.success(), "{}", show(&outputs[2]));
    for out in &outputs {
        let all = all_output(out);
        assert!(!all.contains("s28-"), "a password was printed:\n{all}");
        assert!(
            !all.contains("$argon2"),
            "a password hash was printed:\n{all}"
        );
    }

    // There is no password flag: only --password-stdin or the hidden prompt.
    let help = db.ok(&["user", "create", "--help"]);
    assert!(
        !help.replace("--password-stdin", "").contains("--password"),
        "{help}"
    );
    for flag in ["--password", "-p"] {
        let out = db.run(&[
            "user",
            "create",
            "--email",
            "bob@example.com",
            "--name",
            "Bob",
            flag,
            "hunter2hunter2",
        ]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{flag} must be rejected\n{}",
            show(&out)
        );
        assert!(!db.ok(&["user", "list"]).contains("bob@example.com"));
    }
}

all_backends!(list_shows_sign_in_methods, with_db, |db: TestDb| {
    db.ok(&["migrate"]);
    db.create_user("ada@example.com", "Ada Lovelace");
    // A user who signed up with GitHub (social sign-in), and Ada linking it too.
    block_on(async {
        use better_auth::store::accounts::{self, NewAccount};
        use better_auth::store::{Database, users};
        let database = Database::connect(&db.url).await.unwrap();
        let now = chrono::Utc::now();
        let github = |id| NewAccount::new("github", id);
        users::create_with_account(
            &database,
            users::NewUser::new("Octo Cat", "octo@example.com").email_verified(true),
            &github("583231"),
            now,
        )
        .await
        .unwrap();
        let ada = users::find_by_email(&database, "ada@example.com")
            .await
            .unwrap()
            .unwrap();
        accounts::create(&database, &ada.id, &github("1"), now)
            .await
            .unwrap()
            .unwrap();
        database.close().await;
    });
    let table = db.ok(&["user", "list"]);
    let line = |email: &str| {
        table
            .lines()
            .find(|l| l.contains(email))
            .unwrap()
            .to_owned()
    };
    assert!(
        line("ada@example.com").contains(" credential, github "),
        "{table}"
    );
    assert!(line("octo@example.com").contains(" github "), "{table}");
    assert!(table.lines().next().unwrap().contains("SIGN-IN"), "{table}");
    let json: Value = serde_json::from_str(&db.ok(&["user", "list", "--json"])).unwrap();
    let methods: Vec<&Value> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["signInMethods"])
        .collect();
    assert_eq!(
        methods,
        [
            &serde_json::json!(["credential", "github"]),
            &serde_json::json!(["github"])
        ]
    );
});

/// Runs one SQL statement on the test database with a connection of its own.
fn exec_sql(db: &TestDb, sql: &str) {
    let (url, sql) = (db.url.clone(), sql.to_owned());
    block_on(async move {
        if url.starts_with("mysql:") {
            use sqlx::Connection as _;
            let mut conn = sqlx::MySqlConnection::connect(&url).await.unwrap();
            sqlx::query("SET SESSION sql_mode = 'ANSI_QUOTES'")
                .execute(&mut conn)
                .await
                .unwrap();
            sqlx::query(&sql).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        } else if url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            sqlx::query(&sql).execute(&pool).await.unwrap();
            pool.close().await;
        } else {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            sqlx::query(&sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
    });
}

// S56: a name stored with a bidi override (written before the sign-up rule, or
// straight into the database) and an email with a zero-width space are shown
// escaped, in the table and in JSON; `user create` refuses such a name.
all_backends!(
    s56_user_list_escapes_control_and_format_characters,
    with_db,
    |db: TestDb| {
        db.ok(&["migrate"]);
        db.create_user("ada@example.com", "Ada");
        exec_sql(
            &db,
            "UPDATE \"user\" SET \"name\" = 'Ada \u{202E}gnp.exe\u{202C} \u{1b}[31mred', \
             \"email\" = 'ada\u{200B}@example.com'",
        );
        let table = db.ok(&["user", "list"]);
        for raw in ['\u{202E}', '\u{202C}', '\u{1b}', '\u{200B}'] {
            assert!(!table.contains(raw), "{raw:?} printed raw:\n{table}");
        }
        assert!(
            table.contains(r"Ada \u{202e}gnp.exe\u{202c} \u{1b}[31mred"),
            "{table}"
        );
        assert!(table.contains(r"ada\u{200b}@example.com"), "{table}");

        let json = db.ok(&["user", "list", "--json"]);
        for raw in ['\u{202E}', '\u{202C}', '\u{1b}', '\u{200B}'] {
            assert!(!json.contains(raw), "{raw:?} printed raw:\n{json}");
        }
        // Escaped as JSON: the value itself is unchanged.
        let users: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            users[0]["name"],
            "Ada \u{202E}gnp.exe\u{202C} \u{1b}[31mred"
        );
        assert_eq!(users[0]["email"], "ada\u{200B}@example.com");

        // (A NUL cannot be passed as an argument at all.)
        for name in ["Eve \u{202E}x", "Eve\u{7}", "Eve\u{1b}[2J"] {
            let args = [
                "user",
                "create",
                "--email",
                "eve@example.com",
                "--name",
                name,
                "--password-stdin",
            ];
            let out = db.run_with_stdin(&args, &format!("{PASSWORD}\n"));
            assert_eq!(out.status.code(), Some(1), "{name:?}: {}", show(&out));
            let stderr = text(&out.stderr);
            assert!(stderr.contains("control or bidirectional"), "{stderr}");
            assert!(!stderr.contains('\u{202E}'), "{stderr}");
        }
    }
);

// `user list` says who has two-factor on (only where the app uses it);
// `user reset-2fa` removes a user's second factor, their trusted devices and
// pending challenges, after asking, and refuses when there is nothing to remove.
all_backends!(
    reset_two_factor_removes_a_second_factor,
    with_db,
    |db: TestDb| {
        db.ok(&["migrate"]);
        db.create_user("ada@example.com", "Ada");
        db.create_user("bob@example.com", "Bob");
        let no_plugin = db.fails(
            &["user", "reset-2fa", "--email", "ada@example.com", "--yes"],
            "",
        );
        assert!(no_plugin.contains("has no two-factor data"), "{no_plugin}");
        assert!(!db.ok(&["user", "list"]).contains("2FA"));

        install_two_factor(&db);
        exec_sql(
            &db,
            "UPDATE \"user\" SET \"twoFactorEnabled\" = true WHERE \"email\" = 'ada@example.com'",
        );
        exec_sql(
            &db,
            "INSERT INTO \"twoFactor\" (\"id\", \"secret\", \"backupCodes\", \"userId\") \
         SELECT 'tf1', 'sealed', '[]', \"id\" FROM \"user\" WHERE \"email\" = 'ada@example.com'",
        );
        exec_sql(
            &db,
            "INSERT INTO \"verification\" (\"id\", \"identifier\", \"value\", \"expiresAt\", \
         \"createdAt\", \"updatedAt\") SELECT 'v1', 'trust-device:abc', \"id\", \
         '2999-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z' \
         FROM \"user\" WHERE \"email\" = 'ada@example.com'",
        );
        let table = db.ok(&["user", "list"]);
        let line = |table: &str, email: &str| {
            table
                .lines()
                .find(|l| l.contains(email))
                .unwrap()
                .to_owned()
        };
        assert!(table.lines().next().unwrap().contains(" 2FA "), "{table}");
        assert!(line(&table, "ada@example.com").contains(" yes "), "{table}");
        let json: Value = serde_json::from_str(&db.ok(&["user", "list", "--json"])).unwrap();
        let flags: Vec<&Value> = json
            .as_array()
            .unwrap()
            .iter()
            .map(|u| &u["twoFactorEnabled"])
            .collect();
        assert_eq!(flags, [&Value::Bool(true), &Value::Bool(false)]);

        let not_on = db.fails(
            &["user", "reset-2fa", "--email", "bob@example.com", "--yes"],
            "",
        );
        assert!(not_on.contains("does not have two-factor"), "{not_on}");
        // No terminal and no --yes: refused, nothing changed.
        db.fails(&["user", "reset-2fa", "--email", "ada@example.com"], "");
        assert!(line(&db.ok(&["user", "list"]), "ada@example.com").contains(" yes "));

        let done = db.ok(&["user", "reset-2fa", "--email", "ada@example.com", "--yes"]);
        assert!(
            done.contains("Removed the second factor of ada@example.com"),
            "{done}"
        );
        let table = db.ok(&["user", "list"]);
        assert!(
            !line(&table, "ada@example.com").contains(" yes "),
            "{table}"
        );
        let left = block_on({
            let url = db.url.clone();
            async move {
                let count = |pool_url: String, sql: &'static str| async move {
                    if pool_url.starts_with("sqlite:") {
                        let pool = sqlx::SqlitePool::connect(&pool_url).await.unwrap();
                        let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
                        pool.close().await;
                        n
                    } else if pool_url.starts_with("mysql:") {
                        let pool = sqlx::MySqlPool::connect(&pool_url).await.unwrap();
                        let n: i64 = sqlx::query_scalar(&sql.replace('"', "`"))
                            .fetch_one(&pool)
                            .await
                            .unwrap();
                        pool.close().await;
                        n
                    } else {
                        let pool = sqlx::PgPool::connect(&pool_url).await.unwrap();
                        let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
                        pool.close().await;
                        n
                    }
                };
                (
                count(url.clone(), "SELECT count(*) FROM \"twoFactor\"").await,
                count(
                    url,
                    "SELECT count(*) FROM \"verification\" WHERE \"identifier\" LIKE 'trust-device:%'",
                )
                .await,
            )
            }
        });
        assert_eq!(left, (0, 0));
    }
);

// `user list` names `passkey` among the ways in of a user with a passkey, on a
// database the passkey plugin set up (and works on one it did not).
all_backends!(list_shows_passkeys, with_db, |db: TestDb| {
    db.ok(&["migrate"]);
    db.create_user("ada@example.com", "Ada");
    db.create_user("bob@example.com", "Bob");
    assert!(!db.ok(&["user", "list"]).contains("passkey"));
    install_passkeys(&db);
    exec_sql(
        &db,
        "INSERT INTO \"passkey\" (\"id\", \"publicKey\", \"userId\", \"credentialID\", \
         \"counter\", \"deviceType\", \"backedUp\") SELECT 'pk1', 'key', \"id\", 'cred1', 0, \
         'singleDevice', false FROM \"user\" WHERE \"email\" = 'ada@example.com'",
    );
    let table = db.ok(&["user", "list"]);
    let line = |email: &str| {
        table
            .lines()
            .find(|l| l.contains(email))
            .unwrap()
            .to_owned()
    };
    assert!(
        line("ada@example.com").contains("credential, passkey"),
        "{table}"
    );
    assert!(!line("bob@example.com").contains("passkey"), "{table}");
    let json: Value = serde_json::from_str(&db.ok(&["user", "list", "--json"])).unwrap();
    assert_eq!(
        json[0]["signInMethods"],
        serde_json::json!(["credential", "passkey"])
    );
    assert_eq!(json[1]["signInMethods"], serde_json::json!(["credential"]));
});
