//! S62: the API fuzzer (`scripts/fuzz-api`, schemathesis against the OpenAPI
//! document) runs against PostgreSQL and MySQL as well as SQLite: by default
//! whenever `BETTER_AUTH_TEST_POSTGRES_URL` (`BETTER_AUTH_TEST_MYSQL_URL`) names a
//! server, and CI asks for all three, so a missing server fails CI instead of
//! skipping. Checked through the script's
//! `--plan`, which says what it would fuzz without fuzzing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `scripts/fuzz-api ARGS` with `BETTER_AUTH_TEST_POSTGRES_URL` as given and
/// no MySQL server: (exit code, stdout and stderr). Stopped after 60 s.
fn fuzz_api(args: &[&str], postgres_url: Option<&str>) -> (Option<i32>, String) {
    fuzz_api_with(args, postgres_url, None)
}

/// [`fuzz_api`], with `BETTER_AUTH_TEST_MYSQL_URL` as given.
fn fuzz_api_with(
    args: &[&str],
    postgres_url: Option<&str>,
    mysql_url: Option<&str>,
) -> (Option<i32>, String) {
    let mut command = Command::new("bash");
    command
        .arg(repository().join("scripts/fuzz-api"))
        .args(args)
        .env_remove("BETTER_AUTH_TEST_POSTGRES_URL")
        .env_remove("BETTER_AUTH_TEST_MYSQL_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(url) = postgres_url {
        command.env("BETTER_AUTH_TEST_POSTGRES_URL", url);
    }
    if let Some(url) = mysql_url {
        command.env("BETTER_AUTH_TEST_MYSQL_URL", url);
    }
    let mut child = command.spawn().expect("run scripts/fuzz-api");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[test]
fn s62_the_api_fuzzer_runs_on_postgresql_and_mysql_as_well_as_sqlite() {
    let url = "postgres://postgres@127.0.0.1:5432/test";
    // A PostgreSQL server named: both, each for the budget.
    let (code, out) = fuzz_api(&["--plan", "45"], Some(url));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        out,
        "fuzz-api: sqlite for 45 s\nfuzz-api: postgres for 45 s\n\
         fuzz-api: the two-factor, magic-link, email-otp, username, passkey, admin and organization apps on sqlite for 15 s each\n"
    );
    // None: SQLite alone.
    let (code, out) = fuzz_api(&["--plan"], None);
    assert_eq!(
        (code, out.as_str()),
        (
            Some(0),
            "fuzz-api: sqlite for 60 s\n\
             fuzz-api: the two-factor, magic-link, email-otp, username, passkey, admin and organization apps on sqlite for 20 s each\n"
        )
    );
    // PostgreSQL or MySQL asked for without a server is an error, not a skip.
    let (code, out) = fuzz_api(&["--plan", "45", "sqlite", "postgres"], None);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("BETTER_AUTH_TEST_POSTGRES_URL"), "{out}");
    let (code, out) = fuzz_api(&["--plan", "45", "mysql"], None);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("BETTER_AUTH_TEST_MYSQL_URL"), "{out}");
    // Both servers named: all three.
    let mysql = "mysql://root@127.0.0.1:3306";
    let (code, out) = fuzz_api_with(&["--plan", "45"], Some(url), Some(mysql));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.starts_with(
            "fuzz-api: sqlite for 45 s\nfuzz-api: postgres for 45 s\nfuzz-api: mysql for 45 s\n"
        ),
        "{out}"
    );

    // CI asks for every backend by name.
    let ci = std::fs::read_to_string(repository().join(".ci/run")).unwrap();
    let line = ci
        .lines()
        .find(|l| l.trim_start().starts_with("scripts/fuzz-api"))
        .expect("CI runs scripts/fuzz-api");
    assert!(
        line.contains("sqlite") && line.contains("postgres") && line.contains("mysql"),
        "{line}"
    );
}
