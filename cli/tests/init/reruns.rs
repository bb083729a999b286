//! Re-runs, conflicts, the secret, the migrations copy, and all-or-nothing writes.

use crate::util::{fixture, init, init_with_env, redact, snapshot_settings, text, tree};

#[test]
fn edited_auth_rs_is_a_conflict_unless_forced() {
    let dir = fixture("hello");
    assert!(init(dir.path(), &["--yes"]).status.success());
    let auth = dir.path().join("src/auth.rs");
    let edited = std::fs::read_to_string(&auth)
        .unwrap()
        .replace("enable_signup(true)", "enable_signup(false)");
    std::fs::write(&auth, &edited).unwrap();
    let before = tree(dir.path());

    let output = init(dir.path(), &["--yes"]);
    let (stdout, _) = text(&output);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("  conflict  src/auth.rs  (changed since init wrote it; left alone (--force overwrites))"),
        "{stdout}"
    );
    assert_eq!(tree(dir.path()), before, "a conflict was overwritten");

    let output = init(dir.path(), &["--yes", "--force"]);
    let (stdout, _) = text(&output);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("    update  src/auth.rs  (your changes are overwritten (--force))"),
        "{stdout}"
    );
    assert!(
        std::fs::read_to_string(&auth)
            .unwrap()
            .contains("enable_signup(true)")
    );
}

#[test]
fn regenerates_an_unchanged_auth_rs_when_options_change() {
    let dir = fixture("hello");
    assert!(init(dir.path(), &["--yes"]).status.success());
    let output = init(dir.path(), &["--yes", "--plugins", "email-password"]);
    let (stdout, _) = text(&output);
    assert!(stdout.contains("    update  src/auth.rs\n"), "{stdout}");
    let auth = std::fs::read_to_string(dir.path().join("src/auth.rs")).unwrap();
    assert!(!auth.contains("AccountManagementPlugin"), "{auth}");
}

/// S29: `init` never overwrites an existing secret, writes `.env` with mode
/// 0600, and keeps it out of git.
#[test]
fn s29_existing_secret_is_never_overwritten_and_env_stays_private() {
    let dir = fixture("hello");
    let env = dir.path().join(".env");
    std::fs::write(
        &env,
        "BETTER_AUTH_SECRET=keep-me-keep-me-keep-me-keep-me-keep-me\nPORT=3000",
    )
    .unwrap();
    let output = init(dir.path(), &["--yes"]);
    assert!(output.status.success(), "{:?}", text(&output));
    let written = std::fs::read_to_string(&env).unwrap();
    assert!(
        written
            .starts_with("BETTER_AUTH_SECRET=keep-me-keep-me-keep-me-keep-me-keep-me\nPORT=3000\n"),
        "{written}"
    );
    assert_eq!(
        written.matches("BETTER_AUTH_SECRET=").count(),
        1,
        "{written}"
    );
    assert!(
        written.contains("BETTER_AUTH_URL=http://localhost:3000\n"),
        "{written}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&env).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "S29: .env is private");
    }
    let gitignore = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap_or_default();
    assert!(
        gitignore.lines().any(|l| l.trim() == ".env"),
        "S29: .env is git-ignored: {gitignore}"
    );
}

#[test]
fn fresh_secrets_differ() {
    let a = fixture("hello");
    let b = fixture("hello");
    for dir in [&a, &b] {
        assert!(init(dir.path(), &["--yes"]).status.success());
    }
    let secret = |dir: &tempfile::TempDir| {
        let env = std::fs::read_to_string(dir.path().join(".env")).unwrap();
        env.lines()
            .find_map(|l| l.strip_prefix("BETTER_AUTH_SECRET=").map(str::to_owned))
            .unwrap()
    };
    let (sa, sb) = (secret(&a), secret(&b));
    assert_eq!(sa.len(), 64);
    assert!(sa.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_ne!(sa, sb);
    let example = std::fs::read_to_string(a.path().join(".env.example")).unwrap();
    assert!(!example.contains(&sa), "the example holds the secret");
}

#[test]
fn migrations_copied_into_the_sqlx_folder() {
    let dir = fixture("sqlx-pool");
    let output = init(dir.path(), &["--yes", "--migrations", "copy"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    let mut copied: Vec<String> = std::fs::read_dir(dir.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("_better_auth_"))
        .collect();
    copied.sort();
    // One copy per SQL file of the runtime, named `<UTC timestamp>_better_auth_<name>.sql`.
    // In the runtime's order (by file name), which the timestamps keep.
    let mut sources: Vec<String> =
        std::fs::read_dir(crate::util::workspace().join("migrations/sqlite"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
    sources.sort();
    let expected: Vec<String> = sources
        .iter()
        .map(|n| format!("_better_auth_{}", n.split_once('_').unwrap().1))
        .collect();
    assert_eq!(copied.len(), expected.len(), "{copied:?}");
    for (name, suffix) in copied.iter().zip(&expected) {
        assert!(name.ends_with(suffix.as_str()), "{name} {suffix}");
        assert!(name[..14].chars().all(|c| c.is_ascii_digit()), "{name}");
    }
    let auth = std::fs::read_to_string(dir.path().join("src/auth.rs")).unwrap();
    assert!(!auth.contains("run_migrations"), "{auth}");
    assert!(
        auth.contains("`migrations/*_better_auth_*.sql` files"),
        "{auth}"
    );
    let snapshot = redact(&auth, dir.path());
    snapshot_settings().bind(|| insta::assert_snapshot!("module__copied-migrations", snapshot));

    // The next run finds the copy and keeps that mode.
    let before = tree(dir.path());
    let output = init(dir.path(), &["--yes"]);
    assert!(
        text(&output).0.contains("Nothing to do"),
        "{:?}",
        text(&output)
    );
    assert_eq!(tree(dir.path()), before);
}

#[test]
fn runtime_version_flag_writes_a_version_requirement() {
    let dir = fixture("hello");
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_better-auth"))
        .args([
            "init",
            "--yes",
            "--no-check",
            "--runtime-version",
            "0.9",
            "--database",
            "postgres",
            "--path",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    let line = "better-auth = { version = \"0.9\", default-features = false, features = [\"axum\", \"postgres\"] }";
    assert!(stdout.contains(&format!("Dependency: {line}")), "{stdout}");
    let manifest = std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
    assert!(manifest.contains(line), "{manifest}");
    let env = std::fs::read_to_string(dir.path().join(".env")).unwrap();
    assert!(
        env.contains("\nBETTER_AUTH_DATABASE_URL=postgres://"),
        "{env}"
    );
    assert!(!env.contains("\nDATABASE_URL"), "{env}");
}

#[test]
fn default_runtime_is_this_checkout() {
    let dir = fixture("hello");
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_better-auth"))
        .args(["init", "--yes", "--no-check", "--path"])
        .arg(dir.path())
        .env_remove("BETTER_AUTH_INIT_IGNORE_CHECKOUT")
        .output()
        .unwrap();
    let (stdout, _) = text(&output);
    let runtime = crate::util::workspace()
        .join("runtime")
        .canonicalize()
        .unwrap();
    assert!(
        stdout.contains(&format!(
            "Dependency: better-auth = {{ path = \"{}\"",
            runtime.display()
        )),
        "{stdout}"
    );
}

#[test]
fn failure_mid_apply_leaves_the_tree_byte_identical() {
    for fail_after in [0, 1, 3, 5] {
        let dir = fixture("sqlx-pool");
        let before = tree(dir.path());
        let output = init_with_env(
            dir.path(),
            &["--yes", "--migrations", "copy"],
            &[("BETTER_AUTH_INIT_FAIL_AFTER", &fail_after.to_string())],
        );
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
        assert!(stderr.contains("nothing was changed"), "{stderr}");
        assert_eq!(
            tree(dir.path()),
            before,
            "fail after {fail_after}: tree changed"
        );
    }
}

#[test]
fn a_variable_named_auth_leads_to_manual_steps() {
    let dir = fixture("hello");
    let main = dir.path().join("src/main.rs");
    let source = std::fs::read_to_string(&main).unwrap().replace(
        "    // build our application",
        "    let auth = \"basic\";\n    println!(\"{auth}\");\n\n    // build our application",
    );
    std::fs::write(&main, &source).unwrap();
    let output = init(dir.path(), &["--yes"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stdout.contains("`fn main` already has a variable named `auth`"),
        "{stdout}"
    );
    assert!(stdout.contains("      skip  src/main.rs"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&main).unwrap(), source);
}

#[test]
fn a_hand_written_from_ref_impl_leads_to_manual_steps() {
    let dir = fixture("app-state");
    let main = dir.path().join("src/main.rs");
    let source = format!(
        "{}\nimpl axum::extract::FromRef<AppState> for std::sync::Arc<better_auth::BetterAuth> {{\n    \
         fn from_ref(_: &AppState) -> Self {{\n        todo!()\n    }}\n}}\n",
        std::fs::read_to_string(&main).unwrap()
    );
    std::fs::write(&main, &source).unwrap();
    let output = init(dir.path(), &["--yes"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stdout.contains("`AppState` already has a `FromRef` impl for `Arc<BetterAuth>`"),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&main).unwrap(), source);
}

/// A file as an earlier init wrote it: `body` under a header whose fingerprint matches.
fn as_generated(text: &str, body: &str) -> String {
    let header: Vec<&str> = text.splitn(4, '\n').take(3).collect();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in body.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let first = header[0];
    let at = first.find("fingerprint ").unwrap() + "fingerprint ".len();
    format!(
        "{}{hash:016x}{}\n{}\n{}\n{body}",
        &first[..at],
        &first[at + 16..],
        header[1],
        header[2]
    )
}

/// A project wired by an init that nested the routes (`.nest("/api/auth",
/// auth::router(&auth))` with a module serving them at the root): a rerun regenerates the
/// module, which now serves them at its `base_path`, and turns the nest into a merge,
/// so the endpoints stay at /api/auth instead of moving to /api/auth/api/auth.
#[test]
fn a_rerun_upgrades_the_nest_of_an_earlier_init() {
    let dir = fixture("hello");
    assert!(
        init(dir.path(), &["--yes", "--mount", "/api/auth"])
            .status
            .success()
    );
    let main_path = dir.path().join("src/main.rs");
    let auth_path = dir.path().join("src/auth.rs");
    let main = std::fs::read_to_string(&main_path).unwrap();
    assert!(main.contains(".merge(auth::router(&auth))"), "{main}");
    let auth = std::fs::read_to_string(&auth_path).unwrap();
    assert!(auth.contains(".base_path(\"/api/auth\")"), "{auth}");

    // As the earlier init left it: no base_path, routes at the root, nested.
    let body = auth.splitn(4, '\n').nth(3).unwrap();
    let old_body = body
        .replace(
            "auth.axum_routes::<S>()",
            "auth.axum_router_with_state::<S>()",
        )
        .replace(".base_path(\"/api/auth\")", "");
    std::fs::write(&auth_path, as_generated(&auth, &old_body)).unwrap();
    let old_main = main.replace(
        ".merge(auth::router(&auth))",
        ".nest(\"/api/auth\", auth::router(&auth))",
    );
    std::fs::write(&main_path, &old_main).unwrap();

    let output = init(dir.path(), &["--yes"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("    update  src/auth.rs\n"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&main_path).unwrap(), main);
    assert_eq!(std::fs::read_to_string(&auth_path).unwrap(), auth);
    // Now current: nothing to do, and the mount stays.
    let output = init(dir.path(), &["--yes"]);
    assert!(
        text(&output).0.contains("Nothing to do"),
        "{:?}",
        text(&output)
    );

    // A module the user changed is left alone, and so is the nest that fits it.
    let changed = format!("{}// mine\n", as_generated(&auth, &old_body));
    std::fs::write(&auth_path, &changed).unwrap();
    std::fs::write(&main_path, &old_main).unwrap();
    let output = init(dir.path(), &["--yes"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("  conflict  src/auth.rs"), "{stdout}");
    assert!(
        stdout.contains("1 file(s) you changed were kept as they are (--force rewrites them)"),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&main_path).unwrap(), old_main);
    assert_eq!(std::fs::read_to_string(&auth_path).unwrap(), changed);
}

/// A later run that adds variables (social sign-in here) adds them under the header the
/// first run wrote, not under a second one.
#[test]
fn the_env_header_is_written_once() {
    let dir = crate::util::fixture("hello");
    let project = dir.path();
    assert!(crate::util::init(project, &["--yes"]).status.success());
    let output = crate::util::init(
        project,
        &[
            "--yes",
            "--force",
            "--plugins",
            "email-password,account,social",
        ],
    );
    assert!(output.status.success(), "{:?}", crate::util::text(&output));
    for file in [".env", ".env.example"] {
        let text = std::fs::read_to_string(project.join(file)).unwrap();
        assert!(text.contains("GITHUB_CLIENT_ID="), "{file}:\n{text}");
        assert!(
            !text.contains("added by `better-auth init`"),
            "a second header:\n{file}:\n{text}"
        );
    }
}
