//! `--help` of every admin command, `secret`, `completions`, and how the
//! database URL is found.

use crate::common::{assert_one_error_line, redact, run_in, show, snapshot, text};

const COMMANDS: &[&[&str]] = &[
    &["migrate"],
    &["migrate", "status"],
    &["user"],
    &["user", "create"],
    &["user", "list"],
    &["user", "delete"],
    &["user", "set-password"],
    &["user", "reset-2fa"],
    &["session"],
    &["session", "list"],
    &["session", "revoke"],
    &["verification"],
    &["verification", "purge"],
    &["secret"],
    &["completions"],
];

#[test]
fn every_command_has_help_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    for command in COMMANDS {
        let mut args = command.to_vec();
        args.push("--help");
        let out = run_in(dir.path(), &args, "");
        assert!(out.status.success(), "{args:?}\n{}", show(&out));
        let help = text(&out.stdout);
        assert!(help.contains("Example"), "{args:?} has no example:\n{help}");
        snapshot(&format!("help_{}", command.join("_")), &help);
    }
}

#[test]
fn top_level_help_lists_the_admin_commands() {
    let dir = tempfile::tempdir().unwrap();
    let help = text(&run_in(dir.path(), &["--help"], "").stdout);
    for name in [
        "migrate",
        "user",
        "session",
        "verification",
        "secret",
        "completions",
    ] {
        assert!(
            help.contains(&format!("  {name} ")),
            "{name} missing:\n{help}"
        );
    }
}

#[test]
fn secret_prints_a_fresh_256_bit_value() {
    let dir = tempfile::tempdir().unwrap();
    let first = text(&run_in(dir.path(), &["secret"], "").stdout);
    let second = text(&run_in(dir.path(), &["secret"], "").stdout);
    let value = first.trim_end();
    assert_eq!(first, format!("{value}\n"), "only the secret is printed");
    assert_eq!(value.len(), 43, "{value}");
    assert!(
        value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    assert_ne!(first, second);
}

#[test]
fn completions_for_each_shell() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run_in(dir.path(), &["completions", shell], "");
        assert!(out.status.success(), "{shell}\n{}", show(&out));
        let script = text(&out.stdout);
        for word in ["better-auth", "migrate", "set-password", "all-expired"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    let out = run_in(dir.path(), &["completions", "tcsh"], "");
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
}

#[test]
fn without_a_database_url_the_error_names_every_way_to_give_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["user", "list"], "");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_one_error_line(&stderr);
    snapshot("no_database_url", &show(&out));
}

#[test]
fn database_url_comes_from_flag_then_environment_then_dotenv() {
    let dir = tempfile::tempdir().unwrap();
    let used = |out: &std::process::Output| {
        text(&out.stderr)
            .lines()
            .next()
            .unwrap_or_default()
            .replace(&dir.path().display().to_string(), "[dir]")
    };
    std::fs::write(
        dir.path().join(".env"),
        "# comment\nBETTER_AUTH_SECRET=x\nDATABASE_URL=\"sqlite://from-dotenv.db\"\n",
    )
    .unwrap();
    let out = run_in(dir.path(), &["migrate", "status"], "");
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(
        used(&out),
        "Using database sqlite://from-dotenv.db (from .env DATABASE_URL)"
    );
    // Better Auth's own variable wins over the app's, in .env...
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=sqlite://app.db\nBETTER_AUTH_DATABASE_URL=sqlite://ours.db\n",
    )
    .unwrap();
    let out = run_in(dir.path(), &["migrate", "status"], "");
    assert_eq!(
        used(&out),
        "Using database sqlite://ours.db (from .env BETTER_AUTH_DATABASE_URL)"
    );
    // ...and in the environment, where either wins over .env.
    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_better-auth"))
        .args(["migrate", "status"])
        .current_dir(dir.path())
        .env("DATABASE_URL", "sqlite://app-env.db")
        .env("BETTER_AUTH_DATABASE_URL", "sqlite://ours-env.db")
        .output()
        .unwrap();
    assert_eq!(
        used(&out),
        "Using database sqlite://ours-env.db (from BETTER_AUTH_DATABASE_URL)"
    );
    // `migrate status` does not create a missing SQLite file.
    assert!(!dir.path().join("from-dotenv.db").exists());

    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_better-auth"))
        .args(["migrate", "status"])
        .current_dir(dir.path())
        .env("DATABASE_URL", "postgres://admin:s3cr3t-pw@127.0.0.1:1/db")
        .env(
            "BETTER_AUTH_DATABASE_URL",
            "postgres://admin:s3cr3t-pw@127.0.0.1:1/db",
        )
        .args(["--database-url", "sqlite://from-flag.db"])
        .output()
        .unwrap();
    assert_eq!(
        used(&out),
        "Using database sqlite://from-flag.db (from --database-url)"
    );

    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_better-auth"))
        .args(["migrate", "status"])
        .current_dir(dir.path())
        .env("DATABASE_URL", "sqlite://from-env.db")
        .env_remove("BETTER_AUTH_DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(
        used(&out),
        "Using database sqlite://from-env.db (from DATABASE_URL)"
    );
}

#[test]
fn an_unreachable_database_is_one_line_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let url = "postgres://admin:s3cr3t-pw@127.0.0.1:1/db";
    let out = run_in(dir.path(), &["user", "list", "--database-url", url], "");
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let stderr = text(&out.stderr);
    assert_one_error_line(&stderr);
    assert!(!stderr.contains("s3cr3t-pw"), "{stderr}");
    assert!(
        stderr.contains("postgres://admin:***@127.0.0.1:1/db"),
        "{stderr}"
    );
    snapshot("unreachable_database", &redact(&show(&out)));
}

#[test]
fn an_unsupported_url_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &[
            "user",
            "list",
            "--database-url",
            "mysql://root:pw@localhost/db",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let stderr = text(&out.stderr);
    assert_one_error_line(&stderr);
    assert!(!stderr.contains(":pw@"), "{stderr}");
}

/// S57: a database URL is never printed with its password, whatever the password
/// holds (`#`, `/`, `?` and `@` end the user info for a URL parser), and the
/// redacted URL is said once.
#[test]
fn s57_database_passwords_with_url_delimiters_are_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    for (password, shown) in [
        ("s3cr#et-pw", "postgres://app:***@127.0.0.1:1/db"),
        ("s3cr/et-pw", "postgres://app:***@127.0.0.1:1/db"),
        ("s3cr?et-pw", "postgres://app:***@127.0.0.1:1/db"),
        ("s3cr@et-pw", "postgres://app:***@127.0.0.1:1/db"),
        ("s3cr:#?/et-pw", "postgres://app:***@127.0.0.1:1/db"),
    ] {
        let url = format!("postgres://app:{password}@127.0.0.1:1/db");
        let out = run_in(dir.path(), &["user", "list", "--database-url", &url], "");
        assert_eq!(out.status.code(), Some(1), "{}", show(&out));
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        for part in ["s3cr", "et-pw"] {
            assert!(!all.contains(part), "{password}: {part} printed:\n{all}");
        }
        assert_eq!(
            all.matches(shown).count(),
            1,
            "{password}: said once:\n{all}"
        );
        assert_one_error_line(&text(&out.stderr));
    }
}
