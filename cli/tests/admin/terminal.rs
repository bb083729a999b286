//! On a terminal: the password prompt is hidden and asked twice, and
//! destructive commands ask before acting. The terminal is a pseudo-terminal
//! from util-linux `script`; the tests are skipped without it.

use std::time::Duration;

use crate::common::{Backend, PASSWORD, TestDb};

/// Runs `better-auth <args> --database-url <url>` under a pseudo-terminal,
/// typing `keys` one group at a time; returns the screen and the exit status.
fn on_terminal(db: &TestDb, args: &str, keys: &[&str]) -> Option<(String, Option<i32>)> {
    let command = format!(
        "{} {args} --database-url {}",
        env!("CARGO_BIN_EXE_better-auth"),
        db.url
    );
    crate::pty::run(
        crate::pty::Session {
            command,
            dir: Some(db.dir()),
            env_remove: &["DATABASE_URL", "BETTER_AUTH_DATABASE_URL"],
            key_delay: Duration::from_millis(600),
        },
        keys,
    )
}

#[test]
fn password_prompt_is_hidden_and_typed_twice_and_deletes_are_confirmed() {
    let Some(db) = TestDb::migrated(Backend::Sqlite) else {
        return;
    };
    let enter = format!("{PASSWORD}\r");
    // A mismatch asks again; the second pair matches.
    let Some((screen, status)) = on_terminal(
        &db,
        "user create --email ada@example.com --name Ada",
        &["typed-first-time\r", "typed-differently\r", &enter, &enter],
    ) else {
        return;
    };
    assert_eq!(status, Some(0), "{screen}");
    assert!(screen.contains("Password:"), "{screen}");
    assert!(screen.contains("Repeat password:"), "{screen}");
    assert!(screen.contains("don't match"), "{screen}");
    assert!(screen.contains("Created user ada@example.com"), "{screen}");
    for typed in [PASSWORD, "typed-first-time", "typed-differently"] {
        assert!(
            !screen.contains(typed),
            "the prompt echoed a password:\n{screen}"
        );
    }

    let Some((screen, status)) = on_terminal(&db, "user delete --email ada@example.com", &["n\r"])
    else {
        return;
    };
    assert_eq!(status, Some(1), "{screen}");
    assert!(screen.contains("Delete user ada@example.com"), "{screen}");
    assert!(screen.contains("nothing was changed"), "{screen}");
    assert!(db.ok(&["user", "list"]).contains("ada@example.com"));

    let Some((screen, status)) = on_terminal(&db, "user delete --email ada@example.com", &["y\r"])
    else {
        return;
    };
    assert_eq!(status, Some(0), "{screen}");
    assert!(screen.contains("Deleted user ada@example.com"), "{screen}");
    assert_eq!(db.ok(&["user", "list"]), "No users.\n");
}
