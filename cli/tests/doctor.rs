//! Integration tests of `better-auth doctor` over the built binary: projects in
//! temporary directories (a `.env`, a SQLite database migrated by
//! `better-auth migrate`, sources), and apps served by the runtime on a free port.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use assert_cmd::Command;
use better_auth::integrations::axum::attach;
use better_auth::plugins::EmailPasswordPlugin;
use better_auth::store::Database;
use better_auth::{AuthConfig, BetterAuth};

#[cfg(unix)] // a pseudo-terminal through util-linux `script`
mod pty;

/// A secret as `better-auth secret` prints them.
const SECRET: &str = "q8V2nLx0cRk7TfZ3bWj5YhM1pGd9sAeU4oNiKz6tC-_";

/// The variables doctor reads, removed from the tests' environment.
const VARIABLES: [&str; 4] = [
    "BETTER_AUTH_SECRET",
    "BETTER_AUTH_URL",
    "BETTER_AUTH_DATABASE_URL",
    "DATABASE_URL",
];

/// Sources that serve the app the way `init` wires it.
const GOOD_MAIN: &str = r#"
mod auth;

use std::net::SocketAddr;

use axum::{Router, routing::get};
use better_auth::integrations::axum::Authenticated;

async fn me(Authenticated(session): Authenticated) -> String {
    session.user.email().to_owned()
}

#[tokio::main]
async fn main() {
    let auth = auth::build().await.unwrap();
    let app = Router::new().route("/me", get(me));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
    axum::serve(
        listener,
        auth::attach(app, &auth).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    .unwrap();
}
"#;

/// A project directory with a `.env`, a SQLite file path and sources.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// A healthy project: a good secret, a local BETTER_AUTH_URL, a migrated
    /// database and sources that attach Better Auth and serve with connect info.
    fn healthy() -> Project {
        let project = Project::empty();
        project.env(&[
            ("BETTER_AUTH_SECRET", SECRET),
            ("BETTER_AUTH_URL", "http://localhost:3000"),
            ("BETTER_AUTH_DATABASE_URL", &project.database_url()),
        ]);
        project.source("main.rs", GOOD_MAIN);
        project.migrate();
        project
    }

    fn empty() -> Project {
        let dir = tempfile::Builder::new()
            .prefix("ba-doctor-")
            .tempdir()
            .unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        Project { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}", self.path().join("auth.db").display())
    }

    /// Writes `.env` with these variables (and nothing else).
    fn env(&self, vars: &[(&str, &str)]) {
        let text: String = vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        std::fs::write(self.path().join(".env"), text).unwrap();
    }

    fn source(&self, name: &str, text: &str) {
        std::fs::write(self.path().join("src").join(name), text).unwrap();
    }

    fn migrate(&self) {
        let out = Command::new(env!("CARGO_BIN_EXE_better-auth"))
            .args(["migrate", "--database-url", &self.database_url()])
            .current_dir(self.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", show(&out));
    }

    /// `better-auth doctor --path <dir> <args>` from another directory, with
    /// none of the variables in the environment and no terminal on stdin.
    fn doctor(&self, args: &[&str]) -> Output {
        self.doctor_with_env(args, &[])
    }

    fn doctor_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let elsewhere = tempfile::tempdir().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_better-auth"));
        command
            .arg("doctor")
            .arg("--path")
            .arg(self.path())
            .args(args)
            .current_dir(elsewhere.path())
            .env("NO_COLOR", "1")
            .write_stdin("");
        for name in VARIABLES {
            command.env_remove(name);
        }
        for (name, value) in env {
            command.env(name, value);
        }
        command.output().unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn show(out: &Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// Stdout with the project directory, the app's address and the random
/// email replaced, for snapshots in `snapshots/doctor/`.
fn redacted(out: &Output, project: &Project, address: Option<&str>) -> String {
    let mut shown = format!(
        "exit: {}\n{}",
        out.status.code().unwrap_or(-1),
        text(&out.stdout)
    );
    shown = shown.replace(&project.path().display().to_string(), "[project]");
    if let Some(address) = address {
        shown = shown.replace(address, "[address]");
    }
    // The throwaway user's address: doctor-<random>@example.invalid.
    let mut rest = shown.as_str();
    let mut out = String::new();
    while let Some(at) = rest.find("doctor-") {
        let start = at + "doctor-".len();
        let tag = rest[start..]
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .count();
        out.push_str(&rest[..start]);
        out.push_str(if tag > 0 { "[random]" } else { "" });
        rest = &rest[start + tag..];
    }
    out.push_str(rest);
    out
}

fn snapshot(name: &str, value: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots/doctor"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, value));
}

/// The line of check `name` (`ok    secret  ...`), asserting its status.
fn line(out: &Output, status: &str, name: &str) -> String {
    let stdout = text(&out.stdout);
    stdout
        .lines()
        .find(|l| {
            l.split_whitespace().next() == Some(status)
                && l[status.len()..].trim_start().starts_with(name)
        })
        .unwrap_or_else(|| panic!("no `{status}  {name}` line\n{}", show(out)))
        .to_owned()
}

fn assert_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "{}", show(out));
}

/// Every check line is `ok`.
fn assert_all_ok(out: &Output) {
    let stdout = text(&out.stdout);
    for l in stdout.lines() {
        let status = l.split_whitespace().next().unwrap_or_default();
        assert!(
            !matches!(status, "warn" | "fail" | "skip"),
            "not ok: {l}\n{}",
            show(out)
        );
    }
}

#[test]
fn a_healthy_project_is_all_ok() {
    let project = Project::healthy();
    let out = project.doctor(&[]);
    assert_exit(&out, 0);
    assert_all_ok(&out);
    for name in [
        "secret",
        "base url",
        "database",
        "migrations",
        "extractors",
        "client ip",
    ] {
        line(&out, "ok", name);
    }
    assert!(line(&out, "ok", "secret").contains("43 characters"));
    assert!(text(&out.stdout).contains("0 warnings, 0 failures"));
    snapshot("healthy_project", &redacted(&out, &project, None));
}

#[test]
fn a_missing_secret_fails_and_says_how_to_make_one() {
    let project = Project::healthy();
    project.env(&[
        ("BETTER_AUTH_URL", "http://localhost:3000"),
        ("BETTER_AUTH_DATABASE_URL", &project.database_url()),
    ]);
    let out = project.doctor(&[]);
    assert_exit(&out, 1);
    let secret = line(&out, "fail", "secret");
    assert!(secret.contains("set BETTER_AUTH_SECRET"), "{secret}");
    assert!(
        secret.contains("`better-auth secret` prints one"),
        "{secret}"
    );
}

#[test]
fn weak_and_short_secrets_fail() {
    let project = Project::healthy();
    for (secret, why) in [
        ("changeme", "is 8 characters"),
        ("changemechangemechangemechangeme", "placeholder"),
        ("your-super-secret-key-here-0123456789", "placeholder"),
        (&"x".repeat(40), "one character repeated"),
    ] {
        project.env(&[
            ("BETTER_AUTH_SECRET", secret),
            ("BETTER_AUTH_URL", "http://localhost:3000"),
            ("BETTER_AUTH_DATABASE_URL", &project.database_url()),
        ]);
        let out = project.doctor(&[]);
        assert_exit(&out, 1);
        let l = line(&out, "fail", "secret");
        assert!(l.contains(why), "{secret}: {l}");
        assert!(l.contains("better-auth secret"), "{l}");
        assert!(!l.contains(secret), "the secret is printed: {l}");
    }
}

#[test]
fn the_environment_wins_over_dotenv() {
    let project = Project::healthy();
    let out = project.doctor_with_env(&[], &[("BETTER_AUTH_SECRET", "short")]);
    assert_exit(&out, 1);
    assert!(line(&out, "fail", "secret").contains("from the environment"));
}

#[test]
fn base_url_must_be_an_http_origin() {
    let project = Project::healthy();
    for (url, expected) in [
        ("localhost:3000", "not a URL"),
        ("ftp://example.com", "not an http or https URL"),
        (
            "http://localhost:3000/",
            "set BETTER_AUTH_URL=http://localhost:3000",
        ),
    ] {
        project.env(&[
            ("BETTER_AUTH_SECRET", SECRET),
            ("BETTER_AUTH_URL", url),
            ("BETTER_AUTH_DATABASE_URL", &project.database_url()),
        ]);
        let out = project.doctor(&[]);
        assert_exit(&out, 1);
        let l = line(&out, "fail", "base url");
        assert!(l.contains(expected), "{url}: {l}");
    }
    project.env(&[
        ("BETTER_AUTH_SECRET", SECRET),
        ("BETTER_AUTH_DATABASE_URL", &project.database_url()),
    ]);
    let out = project.doctor(&[]);
    assert_exit(&out, 1);
    assert!(line(&out, "fail", "base url").contains("BETTER_AUTH_URL is not set"));
}

#[test]
fn pending_migrations_warn_without_failing() {
    let project = Project::healthy();
    let fresh = project.path().join("fresh.db");
    std::fs::File::create(&fresh).unwrap();
    project.env(&[
        ("BETTER_AUTH_SECRET", SECRET),
        ("BETTER_AUTH_URL", "http://localhost:3000"),
        (
            "BETTER_AUTH_DATABASE_URL",
            &format!("sqlite://{}", fresh.display()),
        ),
    ]);
    let out = project.doctor(&[]);
    assert_exit(&out, 0);
    let l = line(&out, "warn", "migrations");
    assert!(l.contains("pending"), "{l}");
    assert!(
        l.contains("run `better-auth migrate`, or start the app, which runs them"),
        "{l}"
    );
}

#[test]
fn a_missing_sqlite_file_warns_and_a_relative_path_is_the_projects() {
    let project = Project::healthy();
    project.env(&[
        ("BETTER_AUTH_SECRET", SECRET),
        ("BETTER_AUTH_URL", "http://localhost:3000"),
        ("BETTER_AUTH_DATABASE_URL", "sqlite://not-yet.db"),
    ]);
    let out = project.doctor(&[]);
    assert_exit(&out, 0);
    assert!(line(&out, "warn", "database").contains("does not exist yet"));
    // The migrated file, named relative to the project, not to the working directory.
    project.env(&[
        ("BETTER_AUTH_SECRET", SECRET),
        ("BETTER_AUTH_URL", "http://localhost:3000"),
        ("BETTER_AUTH_DATABASE_URL", "sqlite://auth.db"),
    ]);
    let out = project.doctor(&[]);
    assert_exit(&out, 0);
    line(&out, "ok", "migrations");
}

#[test]
fn database_url_is_the_fallback_and_says_so() {
    let project = Project::healthy();
    project.env(&[
        ("BETTER_AUTH_SECRET", SECRET),
        ("BETTER_AUTH_URL", "http://localhost:3000"),
        ("DATABASE_URL", &project.database_url()),
    ]);
    let out = project.doctor(&[]);
    assert_exit(&out, 0);
    let l = line(&out, "ok", "database");
    assert!(
        l.contains("from .env DATABASE_URL, as BETTER_AUTH_DATABASE_URL is not set"),
        "{l}"
    );
}

#[test]
fn an_unreachable_database_fails_with_its_redacted_url() {
    let project = Project::healthy();
    project.env(&[
        ("BETTER_AUTH_SECRET", SECRET),
        ("BETTER_AUTH_URL", "http://localhost:3000"),
        (
            "BETTER_AUTH_DATABASE_URL",
            "postgres://app:hunter2@127.0.0.1:1/app",
        ),
    ]);
    let out = project.doctor(&[]);
    assert_exit(&out, 1);
    let l = line(&out, "fail", "database");
    assert!(l.contains("postgres://app:***@127.0.0.1:1/app"), "{l}");
    assert!(!show(&out).contains("hunter2"), "{}", show(&out));
}

#[test]
fn extractors_without_attach_fail_and_no_connect_info_warns() {
    let project = Project::healthy();
    project.source(
        "main.rs",
        r#"
use axum::{Router, routing::get};
use better_auth::integrations::axum::Authenticated;

async fn me(Authenticated(session): Authenticated) -> String {
    session.user.email().to_owned()
}

// Without auth::attach(app, &auth) the extractors answer 500.
#[tokio::main]
async fn main() {
    let app = Router::new().route("/me", get(me));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
"#,
    );
    let out = project.doctor(&[]);
    assert_exit(&out, 1);
    let l = line(&out, "fail", "extractors");
    assert!(l.contains("src/main.rs"), "{l}");
    assert!(
        l.contains("serve the app through `auth::attach(app, &auth)`"),
        "{l}"
    );
    let l = line(&out, "warn", "client ip");
    assert!(
        l.contains(".into_make_service_with_connect_info::<SocketAddr>()"),
        "{l}"
    );
}

#[test]
fn extractors_of_the_apps_own_read_the_state_and_need_no_attach() {
    // What `init` writes for an `Arc<AppState>` router.
    let project = Project::healthy();
    project.source(
        "auth.rs",
        r#"
pub struct Authenticated(pub CurrentSession);

impl FromRequestParts<Arc<AppState>> for Authenticated {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        CurrentSession::from_parts(&state.auth, parts).await.map(Authenticated)
    }
}
"#,
    );
    project.source(
        "main.rs",
        r#"
mod auth;
async fn me(auth::Authenticated(session): auth::Authenticated) {}
#[tokio::main]
async fn main() {
    let app = Router::new().route("/me", get(me)).merge(auth::router(&auth)).with_state(state);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
}
"#,
    );
    let out = project.doctor(&[]);
    assert_exit(&out, 0);
    assert!(line(&out, "ok", "extractors").contains("its own"));
}

#[test]
fn help_teaches_with_examples() {
    let out = Command::new(env!("CARGO_BIN_EXE_better-auth"))
        .args(["doctor", "--help"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let help = text(&out.stdout);
    assert!(help.contains("Examples:"), "{help}");
    assert!(help.contains("better-auth doctor --url http://127.0.0.1:8080"));
    assert!(help.contains("Exit status:"), "{help}");
}

#[test]
fn an_https_url_is_refused_with_the_reason() {
    let project = Project::healthy();
    let out = project.doctor(&["--url", "https://app.example.com"]);
    assert_exit(&out, 2);
    assert!(
        text(&out.stderr).contains("plain http only"),
        "{}",
        show(&out)
    );
}

// ---- A running app ----

/// Serves Better Auth (email and password, endpoints under `/auth`) through
/// `attach` on a free port, with `base_url(address)` as its BETTER_AUTH_URL
/// (`None`: the address it is served from). Returns that address.
fn serve(base_url: Option<&str>) -> String {
    serve_with(base_url, EmailPasswordPlugin::new()).0
}

/// [`serve`] with this email and password plugin; returns the address and the
/// app's database URL.
fn serve_with(base_url: Option<&str>, plugin: EmailPasswordPlugin) -> (String, String) {
    let base_url = base_url.map(str::to_owned);
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let dir = tempfile::tempdir().unwrap();
            let database_url = format!("sqlite://{}", dir.path().join("auth.db").display());
            let database = Database::connect(&database_url).await.unwrap();
            better_auth::run_migrations(&database).await.unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = format!("http://{}", listener.local_addr().unwrap());
            let config = AuthConfig::new(SECRET).base_url(base_url.as_deref().unwrap_or(&address));
            let auth = Arc::new(
                BetterAuth::new(config)
                    .database(database)
                    .plugin(plugin)
                    .build()
                    .await
                    .unwrap(),
            );
            let app = attach(axum::Router::new(), &auth);
            sender.send((address, database_url)).unwrap();
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
            drop(dir);
        });
    });
    receiver.recv().unwrap()
}

/// The users in the app's database, as `better-auth user list` prints them.
fn users(database_url: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_better-auth"))
        .args(["user", "list", "--database-url", database_url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    text(&out.stdout)
}

/// A healthy project whose `.env` says BETTER_AUTH_URL=`url`.
fn project_with_url(url: &str) -> Project {
    let project = Project::healthy();
    project.env(&[
        ("BETTER_AUTH_SECRET", SECRET),
        ("BETTER_AUTH_URL", url),
        ("BETTER_AUTH_DATABASE_URL", &project.database_url()),
    ]);
    project
}

#[test]
fn the_round_trip_passes_against_a_right_app() {
    let (address, database_url) = serve_with(None, EmailPasswordPlugin::new());
    let project = project_with_url(&address);
    let out = project.doctor(&["--url", &address, "--yes"]);
    assert_exit(&out, 0);
    assert_all_ok(&out);
    for name in [
        "reachable",
        "origin",
        "sign-up",
        "sign-in",
        "session",
        "delete",
    ] {
        line(&out, "ok", name);
    }
    assert!(line(&out, "ok", "sign-up").contains("@example.invalid"));
    assert!(line(&out, "ok", "delete").contains("the user is gone"));
    snapshot("round_trip", &redacted(&out, &project, Some(&address)));
    let users = users(&database_url);
    assert!(!users.contains("doctor-"), "the user is left:\n{users}");
}

#[test]
fn an_app_that_requires_verified_emails_leaves_the_user_and_says_how_to_delete_it() {
    let (address, database_url) = serve_with(
        None,
        EmailPasswordPlugin::new().require_email_verification(true),
    );
    let project = project_with_url(&address);
    let out = project.doctor(&["--url", &address, "--yes"]);
    assert_exit(&out, 0);
    line(&out, "ok", "sign-up");
    assert!(line(&out, "skip", "sign-in").contains("EMAIL_NOT_VERIFIED"));
    let l = line(&out, "warn", "delete");
    let users = users(&database_url);
    let email = users
        .split_whitespace()
        .find(|w| w.starts_with("doctor-"))
        .unwrap_or_else(|| panic!("no throwaway user:\n{users}"));
    assert!(
        l.contains(&format!("better-auth user delete --email {email} --yes")),
        "{l}"
    );
}

#[test]
fn an_app_with_sign_up_off_skips_the_round_trip() {
    let address = serve_with(None, EmailPasswordPlugin::new().enable_signup(false)).0;
    let project = project_with_url(&address);
    let out = project.doctor(&["--url", &address, "--yes"]);
    assert_exit(&out, 0);
    assert!(line(&out, "skip", "sign-up").contains("sign-up turned off"));
}

#[test]
fn without_a_terminal_or_yes_the_round_trip_is_skipped() {
    let address = serve(None);
    let project = project_with_url(&address);
    let out = project.doctor(&["--url", &address]);
    assert_exit(&out, 0);
    line(&out, "ok", "reachable");
    line(&out, "ok", "origin");
    let l = line(&out, "skip", "round trip");
    assert!(l.contains("pass --yes"), "{l}");
    assert!(!text(&out.stdout).contains("sign-up"), "{}", show(&out));
}

#[test]
fn another_origin_in_better_auth_url_fails_with_the_fix() {
    // The app runs with the project's BETTER_AUTH_URL, which is not where it is served.
    let address = serve(Some("https://app.example.com"));
    let project = project_with_url("https://app.example.com");
    let out = project.doctor(&["--url", &address, "--yes"]);
    assert_exit(&out, 1);
    let l = line(&out, "fail", "origin");
    assert!(
        l.contains(&format!(
            "BETTER_AUTH_URL (https://app.example.com) is not the origin the app is served from ({address})"
        )),
        "{l}"
    );
    assert!(l.contains("403 INVALID_ORIGIN"), "{l}");
    assert!(l.contains(&format!("set BETTER_AUTH_URL={address}")), "{l}");
    // Bearer requests without an Origin still work: the round trip passes.
    line(&out, "ok", "delete");
    snapshot("origin_refused", &redacted(&out, &project, Some(&address)));
}

#[test]
fn an_app_running_with_another_url_than_the_project_fails() {
    let address = serve(None);
    let project = project_with_url("https://app.example.com");
    let out = project.doctor(&["--url", &address, "--yes"]);
    assert_exit(&out, 1);
    let l = line(&out, "fail", "origin");
    assert!(
        l.contains("refuses BETTER_AUTH_URL's origin https://app.example.com"),
        "{l}"
    );
}

#[test]
fn another_loopback_origin_only_warns() {
    // localhost:3000 in .env, served at 127.0.0.1:<port>: the runtime trusts
    // every loopback origin, so browsers are not refused.
    let address = serve(Some("http://localhost:3000"));
    let project = project_with_url("http://localhost:3000");
    let out = project.doctor(&["--url", &address]);
    assert_exit(&out, 0);
    let l = line(&out, "warn", "origin");
    assert!(l.contains("both are on this machine"), "{l}");
    assert!(l.contains(&format!("set BETTER_AUTH_URL={address}")), "{l}");
}

#[test]
fn a_wrong_mount_or_no_app_fails_reachability() {
    let address = serve(None);
    let project = project_with_url(&address);
    let out = project.doctor(&["--url", &address, "--mount", "/api/auth"]);
    assert_exit(&out, 1);
    let l = line(&out, "fail", "reachable");
    assert!(l.contains("404"), "{l}");
    assert!(l.contains("--mount"), "{l}");

    // Nothing listens on a port just freed.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let out = project.doctor(&["--url", &format!("http://127.0.0.1:{port}"), "--yes"]);
    assert_exit(&out, 1);
    let l = line(&out, "fail", "reachable");
    assert!(l.contains("start the app"), "{l}");
    line(&out, "skip", "round trip");
}

#[test]
fn a_project_with_nothing_set_up_says_what_to_do_for_each_check() {
    let project = Project::empty();
    project.source(
        "main.rs",
        "async fn me(better_auth::integrations::axum::MaybeAuthenticated(s): \
         better_auth::integrations::axum::MaybeAuthenticated) {}\n",
    );
    let out = project.doctor(&[]);
    assert_exit(&out, 1);
    line(&out, "warn", ".env");
    line(&out, "fail", "secret");
    line(&out, "fail", "base url");
    line(&out, "fail", "database");
    line(&out, "fail", "extractors");
    snapshot("nothing_set_up", &redacted(&out, &project, None));
}

/// On a terminal, the round trip is asked for: `n` skips it, `y` runs it.
#[cfg(unix)]
#[test]
fn on_a_terminal_the_round_trip_is_asked_for() {
    let address = serve(None);
    let project = project_with_url(&address);
    let on_terminal = |keys: &[&str]| {
        pty::run(
            pty::Session {
                command: format!(
                    "{} doctor --path {} --url {address}",
                    env!("CARGO_BIN_EXE_better-auth"),
                    project.path().display()
                ),
                dir: None,
                env_remove: &VARIABLES,
                key_delay: std::time::Duration::from_millis(600),
            },
            keys,
        )
    };
    let Some((screen, status)) = on_terminal(&["n\r"]) else {
        return;
    };
    assert_eq!(status, Some(0), "{screen}");
    assert!(
        screen.contains(&format!("Create and delete a throwaway user at {address}?")),
        "{screen}"
    );
    assert!(screen.contains("not confirmed; pass --yes"), "{screen}");
    assert!(!screen.contains("sign-up"), "{screen}");

    let Some((screen, status)) = on_terminal(&["y\r"]) else {
        return;
    };
    assert_eq!(status, Some(0), "{screen}");
    assert!(screen.contains("the user is gone"), "{screen}");
}
