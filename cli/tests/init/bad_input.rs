//! Inputs init must refuse: each gets one clear message, a nonzero exit, and no change.

use std::path::Path;

use crate::util::{fixture, init, text, tree};

/// Runs init with `args`, expects failure naming `expected`, and an untouched tree.
fn refuses(project: &Path, args: &[&str], expected: &str) {
    let before = tree(project);
    let output = init(project, args);
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in stderr:\n{stderr}"
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(tree(project), before, "a refused init changed files");
}

fn write(project: &Path, path: &str, text: &str) {
    let path = project.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn not_a_cargo_project() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "README.md", "just notes\n");
    refuses(
        dir.path(),
        &["--yes"],
        "is not a Cargo project: it has no Cargo.toml",
    );
}

#[test]
fn no_axum_dependency() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"cli-tool\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nclap = \"4\"\n",
    );
    write(dir.path(), "src/main.rs", "fn main() {}\n");
    refuses(dir.path(), &["--yes"], "does not depend on axum");
}

#[test]
fn axum_older_than_0_8() {
    let dir = fixture("hello");
    let manifest = dir.path().join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("axum = \"0.8\"", "axum = \"0.7.5\""),
    )
    .unwrap();
    refuses(dir.path(), &["--yes"], "older than 0.8");
    // What the upgrade takes beyond the version: the path syntax panics at start-up.
    refuses(dir.path(), &["--yes"], "instead of `/:id` and `/*rest`");
    refuses(dir.path(), &["--yes"], "Nothing was changed");
    refuses(dir.path(), &["--yes"], "`cargo add axum@0.8`");
}

/// In a workspace, the upgrade names the member: `cargo add axum@0.8` fails at a virtual
/// workspace's root.
#[test]
fn axum_older_than_0_8_in_a_workspace_member() {
    let dir = fixture("member-router");
    let manifest = dir.path().join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("axum = \"0.8\"", "axum = \"0.7.5\""),
    )
    .unwrap();
    refuses(dir.path(), &["--yes"], "`cargo add -p bootstrap axum@0.8`");
}

/// A requirement that also accepts 0.8 (`axum = "0"`, that is `^0`) is fine when the
/// lock file resolved it to 0.8; with 0.7 locked it is refused.
#[test]
fn axum_caret_zero_resolved_to_0_8() {
    let dir = fixture("hello");
    let manifest = dir.path().join("Cargo.toml");
    let text_before = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text_before.replace("axum = \"0.8\"", "axum = \"^0\""),
    )
    .unwrap();
    let lock = |version: &str| {
        format!(
            "version = 4\n\n[[package]]\nname = \"axum\"\nversion = \"{version}\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
        )
    };
    std::fs::write(dir.path().join("Cargo.lock"), lock("0.7.9")).unwrap();
    refuses(
        dir.path(),
        &["--dry-run"],
        "depends on axum \"^0\", older than 0.8",
    );
    std::fs::write(dir.path().join("Cargo.lock"), lock("0.8.8")).unwrap();
    let output = init(dir.path(), &["--dry-run"]);
    assert!(output.status.success(), "{:?}", text(&output));
}

#[test]
fn unparsable_cargo_toml() {
    let dir = fixture("hello");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package\nname = \"hello\"\n",
    )
    .unwrap();
    refuses(dir.path(), &["--yes"], "Cargo.toml could not be parsed");
}

#[test]
fn unparsable_main_rs() {
    let dir = fixture("app-state");
    let main = dir.path().join("src/main.rs");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        text.replace("let app = Router::new()", "let app = Router::new("),
    )
    .unwrap();
    refuses(
        dir.path(),
        &["--yes"],
        "src/main.rs could not be parsed as Rust (line",
    );
}

fn read_only(path: &std::path::Path) {
    let mut permissions = std::fs::metadata(path).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(path, permissions).unwrap();
}

#[test]
fn read_only_main_rs() {
    let dir = fixture("app-state");
    let main = dir.path().join("src/main.rs");
    read_only(&main);
    refuses(dir.path(), &["--yes"], "src/main.rs is read-only");
}

#[test]
fn read_only_cargo_toml() {
    let dir = fixture("hello");
    let manifest = dir.path().join("Cargo.toml");
    read_only(&manifest);
    refuses(dir.path(), &["--yes"], "Cargo.toml is read-only");
}

#[test]
fn no_terminal_and_no_yes() {
    let dir = fixture("hello");
    refuses(dir.path(), &[], "pass --yes to apply them");
}

#[test]
fn workspace_with_two_apps_needs_package() {
    let dir = fixture("workspace");
    let domain = dir.path().join("crates/domain/Cargo.toml");
    let manifest = std::fs::read_to_string(&domain).unwrap();
    std::fs::write(&domain, format!("{manifest}axum.workspace = true\n")).unwrap();
    // Two programs on axum: which one serves is the user's call.
    std::fs::write(
        dir.path().join("crates/domain/src/main.rs"),
        "fn main() {}\n",
    )
    .unwrap();
    refuses(
        dir.path(),
        &["--yes"],
        "Choose with --package NAME (one of: domain, server)",
    );
    // Naming the member works.
    let output = init(dir.path(), &["--yes", "--package", "server"]);
    assert!(output.status.success(), "{:?}", text(&output));
}

/// Several members use axum but one is a program (the others are libraries around it,
/// as in a layered workspace): that one is the app, nothing to ask.
#[test]
fn workspace_with_one_program_among_axum_libraries() {
    let dir = fixture("workspace");
    let domain = dir.path().join("crates/domain/Cargo.toml");
    let manifest = std::fs::read_to_string(&domain).unwrap();
    std::fs::write(&domain, format!("{manifest}axum.workspace = true\n")).unwrap();
    let output = init(dir.path(), &["--dry-run"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Better Auth for `server`"), "{stdout}");
    assert!(stdout.contains("crates/server/src/auth.rs"), "{stdout}");
}

/// Members are the ones cargo sees: a glob, minus `exclude`.
#[test]
fn workspace_members_are_cargos() {
    let dir = fixture("workspace");
    let domain = dir.path().join("crates/domain/Cargo.toml");
    let manifest = std::fs::read_to_string(&domain).unwrap();
    std::fs::write(&domain, format!("{manifest}axum.workspace = true\n")).unwrap();
    let root = dir.path().join("Cargo.toml");
    let workspace = std::fs::read_to_string(&root).unwrap().replace(
        r#"members = ["crates/domain", "crates/server"]"#,
        r#"members = ["crates/*"]
exclude = ["crates/domain"]"#,
    );
    std::fs::write(&root, workspace).unwrap();
    // Only `server` is a member, so there is nothing to choose.
    let output = init(dir.path(), &["--dry-run"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("crates/server/src/auth.rs"), "{stdout}");
}

/// A workspace cargo cannot read is refused with cargo's reason underneath.
#[test]
fn broken_workspace_says_why() {
    let dir = fixture("workspace");
    let root = dir.path().join("Cargo.toml");
    let workspace = std::fs::read_to_string(&root)
        .unwrap()
        .replace(r#""crates/server""#, r#""crates/server", "crates/missing""#);
    std::fs::write(&root, workspace).unwrap();
    let output = init(dir.path(), &["--yes"]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: cargo could not read the workspace"),
        "{stderr}"
    );
    assert!(stderr.contains("\ncaused by: "), "{stderr}");
}

#[test]
fn unknown_package() {
    let dir = fixture("workspace");
    refuses(
        dir.path(),
        &["--yes", "--package", "nope"],
        "--package nope: the workspace has no such member",
    );
}

#[test]
fn bad_mount_path() {
    let dir = fixture("hello");
    refuses(
        dir.path(),
        &["--yes", "--mount", "auth/"],
        "--mount \"auth/\": expected a path like /auth",
    );
}

/// Better Auth's MySQL tables need a SQL mode the app's own migrator does not set: its
/// SQL is not copied into the app's migrations.
#[test]
fn copied_migrations_on_mysql() {
    let dir = fixture("mysql-pool");
    refuses(
        dir.path(),
        &["--yes", "--migrations", "copy"],
        "--migrations copy is not available with MySQL",
    );
}

/// Two crates linking `sqlite3` would not build: refused up front, with the fixes.
#[test]
fn an_older_libsqlite3_sys_in_the_lock_file() {
    let dir = fixture("hello");
    std::fs::write(
        dir.path().join("Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"libsqlite3-sys\"\nversion = \"0.26.0\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    refuses(
        dir.path(),
        &["--yes", "--database", "sqlite"],
        "holds libsqlite3-sys 0.26.0, and Better Auth's sqlx 0.8 needs 0.30.x",
    );
    let output = init(dir.path(), &["--yes", "--database", "sqlite"]);
    let (_, stderr) = text(&output);
    for fix in [
        "upgrade sqlx to 0.8",
        "`better-auth init --database postgres`",
    ] {
        assert!(stderr.contains(fix), "{fix}: {stderr}");
    }
    // PostgreSQL does not link sqlite3: fine.
    let output = init(dir.path(), &["--dry-run", "--database", "postgres"]);
    assert!(output.status.success(), "{:?}", text(&output));
}

/// A newer SQLite binding than sqlx 0.8's (rusqlite 0.40 through an ORM): upgrading
/// sqlx cannot fix that, so the advice names the app's own dependency that pulls it
/// in, and the two ways out.
#[test]
fn a_newer_libsqlite3_sys_in_the_lock_file() {
    let dir = fixture("hello");
    std::fs::write(
        dir.path().join("Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"libsqlite3-sys\"\nversion = \"0.38.2\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n\
         [[package]]\nname = \"hello\"\nversion = \"0.1.0\"\n\
         dependencies = [\n \"axum\",\n \"some-orm\",\n]\n\n\
         [[package]]\nname = \"some-orm\"\nversion = \"2.1.0\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
         dependencies = [\n \"rusqlite\",\n]\n\n\
         [[package]]\nname = \"rusqlite\"\nversion = \"0.40.2\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
         dependencies = [\n \"bitflags\",\n \"libsqlite3-sys\",\n]\n",
    )
    .unwrap();
    refuses(
        dir.path(),
        &["--yes", "--database", "sqlite"],
        "holds libsqlite3-sys 0.38.2 (through some-orm 2.1.0 -> rusqlite 0.40.2), and Better \
         Auth's sqlx 0.8 needs 0.30.x",
    );
    let output = init(dir.path(), &["--yes", "--database", "sqlite"]);
    let (_, stderr) = text(&output);
    for fix in [
        "no sqlx 0.8 release links a newer one",
        "`better-auth init --database postgres`",
        "move some-orm 2.1.0 to a release on libsqlite3-sys 0.30.x (rusqlite 0.32)",
    ] {
        assert!(stderr.contains(fix), "{fix}: {stderr}");
    }
    assert!(!stderr.contains("upgrade sqlx"), "{stderr}");
}

#[test]
fn sqlx_0_7_with_sqlite_and_no_lock_file() {
    let dir = fixture("hello");
    let manifest = dir.path().join("Cargo.toml");
    let text_before = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        format!(
            "{text_before}sqlx = {{ version = \"0.7\", features = [\"sqlite\", \"runtime-tokio\"] }}\n"
        ),
    )
    .unwrap();
    refuses(
        dir.path(),
        &["--yes"],
        "the app depends on sqlx 0.7 with SQLite",
    );
}

/// A toolchain pinned by rust-toolchain.toml that rustup has not installed: one clear
/// sentence saying what to run, not cargo's error and rustup's backtrace.
#[test]
fn a_pinned_toolchain_that_is_not_installed() {
    let rustup = std::process::Command::new("rustup")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !rustup {
        eprintln!("skipped: no rustup here, so rust-toolchain.toml pins nothing");
        return;
    }
    let dir = fixture("hello");
    write(
        dir.path(),
        "rust-toolchain.toml",
        "[toolchain]\nchannel = \"1.23.0\"\n",
    );
    let before = tree(dir.path());
    // As in the user's shell: no toolchain chosen by an outer cargo, no download.
    let output = crate::util::init_command(dir.path(), &["--yes", "--no-check"])
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO")
        .env("RUSTUP_AUTO_INSTALL", "0")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("the project pins the Rust toolchain 1.23.0"),
        "{stderr}"
    );
    assert!(
        stderr.contains("run `rustup toolchain install`"),
        "{stderr}"
    );
    assert!(!stderr.contains("backtrace"), "{stderr}");
    assert_eq!(tree(dir.path()), before);
}

/// The lock file cargo check writes is one more file for the user's commit: init says
/// so (with a stand-in cargo whose `check` locks like the real one and succeeds; every
/// other command goes to the real cargo).
#[test]
fn the_lock_file_cargo_check_writes_is_named() {
    let dir = fixture("hello");
    let bin = tempfile::tempdir().unwrap();
    let stand_in = |name: &str, on_check: &str| {
        write(
            bin.path(),
            name,
            &format!(
                "#!/bin/sh\nif [ \"$1\" = check ]; then\n{on_check}\nexit 0\nfi\nexec \"{}\" \"$@\"\n",
                env!("CARGO")
            ),
        );
        let path = bin.path().join(name);
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        path
    };
    // `cargo check --all-targets --manifest-path <Cargo.toml> ...`: lock beside the manifest.
    let locking = stand_in(
        "locking-cargo",
        "echo '# locked by the stand-in' >> \"$(dirname \"$4\")/Cargo.lock\"",
    );
    let output = crate::util::init_command(dir.path(), &["--yes"])
        .env("CARGO", &locking)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("Cargo.lock was created by cargo check with Better Auth's dependencies"),
        "{stdout}"
    );

    // An existing lock that the check extends is updated; one it leaves alone is not
    // mentioned.
    let quiet = stand_in("quiet-cargo", ":");
    for (cargo, said) in [(&locking, true), (&quiet, false)] {
        let dir = fixture("hello");
        write(dir.path(), "Cargo.lock", "version = 4\n");
        let output = crate::util::init_command(dir.path(), &["--yes"])
            .env("CARGO", cargo)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{stdout}{stderr}");
        assert!(
            stdout.contains("hello compiles with Better Auth."),
            "{stdout}"
        );
        assert_eq!(
            stdout
                .contains("Cargo.lock was updated by cargo check with Better Auth's dependencies"),
            said,
            "{stdout}"
        );
        assert!(!stdout.contains("was created"), "{stdout}");
    }

    // An app that keeps its lock file out of git has nothing to commit: not a word.
    let dir = fixture("hello");
    write(dir.path(), ".gitignore", "/target\nCargo.lock\n");
    let output = crate::util::init_command(dir.path(), &["--yes"])
        .env("CARGO", &locking)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        dir.path().join("Cargo.lock").exists(),
        "the stand-in locked"
    );
    assert!(!stdout.contains("Cargo.lock was"), "{stdout}");
}
