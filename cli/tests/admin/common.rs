//! Running the binary against a fresh database, and redacting its output for snapshots.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use better_auth_test_support::Scratch;

pub(crate) use better_auth_test_support::Backend;

/// A password that must never show up in any output (S28).
pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// For [`all_backends!`](better_auth_test_support::all_backends): runs the blocking
/// `body` on a fresh, empty database on `backend` (the commands it runs block the thread).
pub(crate) async fn with_db(backend: Backend, body: impl FnOnce(TestDb)) {
    tokio::task::block_in_place(|| {
        if let Some(db) = TestDb::new(backend) {
            body(db);
        }
    });
}

/// A fresh, empty database for one test: a SQLite file path in a temporary
/// directory (not created yet), or a new PostgreSQL schema (dropped on drop).
/// The directory is also the working directory of every command run.
pub(crate) struct TestDb {
    pub backend: Backend,
    pub url: String,
    scratch: Scratch,
}

/// Runs a future to completion on a private runtime in another thread, so it
/// works from sync tests and from inside async ones.
pub(crate) fn block_on<F: std::future::Future + Send>(future: F) -> F::Output
where
    F::Output: Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(future)
            })
            .join()
            .unwrap()
    })
}

impl TestDb {
    pub(crate) fn new(backend: Backend) -> Option<TestDb> {
        let scratch = Scratch::open_blocking(backend, "an admin CLI test")?;
        Some(TestDb {
            backend,
            url: scratch.url.clone(),
            scratch,
        })
    }

    /// The test's folder (the SQLite file is `auth.db` in it).
    pub(crate) fn dir(&self) -> &Path {
        self.scratch.dir()
    }

    /// A fresh database with the schema applied by `better-auth migrate`.
    pub(crate) fn migrated(backend: Backend) -> Option<TestDb> {
        let db = Self::new(backend)?;
        db.ok(&["migrate"]);
        Some(db)
    }

    /// `better-auth <args> --database-url <url>`, in the test directory.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, "")
    }

    /// Like [`TestDb::run`], with `stdin` piped in.
    pub(crate) fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--database-url", &self.url]);
        run_in(self.dir(), &full, stdin)
    }

    /// Runs and asserts success; returns stdout.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_success(&out, args);
        text(&out.stdout)
    }

    /// Runs and asserts failure with exit status 1; returns the stderr.
    pub(crate) fn fails(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run_with_stdin(args, stdin);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?} should fail\n{}",
            show(&out)
        );
        let stderr = text(&out.stderr);
        assert_one_error_line(&stderr);
        stderr
    }

    /// Creates a user through the CLI with [`PASSWORD`] on stdin.
    pub(crate) fn create_user(&self, email: &str, name: &str) {
        let args = [
            "user",
            "create",
            "--email",
            email,
            "--name",
            name,
            "--password-stdin",
        ];
        let out = self.run_with_stdin(&args, &format!("{PASSWORD}\n"));
        assert_success(&out, &args);
    }

    /// Output with everything that varies between runs replaced by placeholders.
    pub(crate) fn redact(&self, out: &Output) -> String {
        self.redact_text(&show(out))
    }

    /// Text with the database URL, the directory, times and ids replaced.
    pub(crate) fn redact_text(&self, text: &str) -> String {
        let mut shown = text.to_owned();
        let redacted_url = better_auth::store::redact_url(&self.url);
        shown = shown.replace(&self.url, "[database]");
        shown = shown.replace(&redacted_url, "[database]");
        shown = shown.replace(&self.dir().display().to_string(), "[dir]");
        redact(&shown)
    }
}

/// Runs the binary in `dir` with no `BETTER_AUTH_DATABASE_URL` or `DATABASE_URL` in the
/// environment, nor a Redis to tell.
pub(crate) fn run_in(dir: &Path, args: &[&str], stdin: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_better-auth"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("BETTER_AUTH_DATABASE_URL")
        .env_remove("BETTER_AUTH_REDIS_URL")
        .env_remove("BETTER_AUTH_REDIS_KEY_PREFIX")
        .env("NO_COLOR", "1")
        .write_stdin(stdin.to_owned())
        .output()
        .unwrap()
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit status, stdout and stderr, for failure messages and snapshots.
pub(crate) fn show(out: &Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr)
    )
}

pub(crate) fn assert_success(out: &Output, args: &[&str]) {
    assert!(out.status.success(), "{args:?} failed\n{}", show(out));
}

/// A failure is the "Using database" line at most, then one `error:` line.
pub(crate) fn assert_one_error_line(stderr: &str) {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("Using database "))
        .collect();
    assert_eq!(lines.len(), 1, "expected one error line, got:\n{stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Snapshots live in the top-level `snapshots/admin/`.
pub(crate) fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots/admin"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// Asserts a snapshot stored in `snapshots/admin/<name>.snap`.
pub(crate) fn snapshot(name: &str, value: &str) {
    settings().bind(|| insta::assert_snapshot!(name, value));
}

/// Replaces timestamps and 32-character ids with `[time]` and `[id]`.
pub(crate) fn redact(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if let Some(len) = timestamp_at(&chars[i..]) {
            out.push_str("[time]");
            i += len;
            continue;
        }
        let boundary = i == 0 || !chars[i - 1].is_ascii_alphanumeric();
        if boundary {
            let word = chars[i..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            if word == 32 {
                out.push_str("[id]");
                i += word;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// `2026-11-27 07:31:14 UTC` or `2026-11-27T07:31:14.877Z` at the start of `s`.
fn timestamp_at(s: &[char]) -> Option<usize> {
    let pattern = |p: &str| -> bool {
        p.chars().count() <= s.len()
            && p.chars().zip(s).all(|(p, c)| match p {
                'd' => c.is_ascii_digit(),
                other => other == *c,
            })
    };
    ["dddd-dd-dd dd:dd:dd UTC", "dddd-dd-ddTdd:dd:dd.dddZ"]
        .into_iter()
        .find(|p| pattern(p))
        .map(|p| p.chars().count())
}

/// stdout and stderr together, for "never printed" checks.
pub(crate) fn all_output(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// Builds an instance with the two-factor plugin on the test database, which
/// applies the plugin's schema, as an app using it does when it starts.
/// Builds an instance with the passkey plugin on the database, which creates its table.
pub(crate) fn install_passkeys(db: &TestDb) {
    let url = db.url.clone();
    block_on(async move {
        use better_auth::store::Database;
        use better_auth::{AuthConfig, BetterAuth};
        let database = Database::connect(&url).await.unwrap();
        let auth = BetterAuth::new(AuthConfig::new("an-admin-test-secret-of-enough-length"))
            .database(database.clone())
            .plugin(better_auth_passkey::PasskeyPlugin::new())
            .build()
            .await
            .unwrap();
        drop(auth);
        database.close().await;
    });
}

pub(crate) fn install_two_factor(db: &TestDb) {
    let url = db.url.clone();
    block_on(async move {
        use better_auth::store::Database;
        use better_auth::{AuthConfig, BetterAuth};
        let database = Database::connect(&url).await.unwrap();
        let auth = BetterAuth::new(AuthConfig::new("an-admin-test-secret-of-enough-length"))
            .database(database.clone())
            .plugin(better_auth_two_factor::TwoFactorPlugin::new())
            .build()
            .await
            .unwrap();
        drop(auth);
        database.close().await;
    });
}
