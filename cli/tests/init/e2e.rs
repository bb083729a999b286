//! End to end: every fixture, scaffolded, must pass `cargo clippy -D warnings` (so it
//! compiles and is lint-clean), and one app must sign up, sign in and guard a route over
//! HTTP. All generated projects share one target dir under the workspace's, so the
//! dependencies compile once per machine.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{fixture, init_checked, seed_lockfile, target_dir, text};

fn cargo(project: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO"))
        .args(args)
        .current_dir(project)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap()
}

fn scaffold_and_lint(name: &str, args: &[&str]) {
    let dir = fixture(name);
    // init checks that the project compiles, reusing the dependencies built here.
    seed_lockfile(dir.path());
    let output = init_checked(dir.path(), args);
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success() || output.status.code() == Some(2),
        "{stdout}{stderr}"
    );
    assert!(
        stdout.contains("compiles (cargo check --all-targets;")
            && (stdout.contains("compiles with Better Auth.")
                || stdout.contains("compiles, but the steps init left for you are not done yet.")),
        "{name}: init did not check the project:\n{stdout}"
    );
    let output = cargo(
        dir.path(),
        &[
            "clippy",
            "--all-targets",
            "--message-format",
            "short",
            "--",
            "-D",
            "warnings",
        ],
    );
    let (_, stderr) = text(&output);
    assert!(
        output.status.success(),
        "{name}: cargo clippy failed:\n{stderr}"
    );
    // rustfmt-clean, like code written by hand, in each package's own edition: the
    // project's own packages (`--all` would check its path dependencies too, Better
    // Auth's checkout among them).
    let output = cargo(dir.path(), &["fmt", "--check"]);
    assert!(
        output.status.success(),
        "{name}: not rustfmt-clean:\n{}",
        text(&output).0
    );
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() && !path.ends_with("target") {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `--plugins ...,social,two-factor,magic-link,email-otp,username,passkey,admin,organization`: the app compiles with the plugin
/// crates beside the runtime.
#[test]
fn generated_plugin_crates_project_compiles_and_is_lint_clean() {
    scaffold_and_lint(
        "hello",
        &[
            "--yes",
            "--plugins",
            "email-password,account,social,two-factor,magic-link,email-otp,username,passkey,admin,organization",
        ],
    );
}

#[test]
fn generated_projects_compile_and_are_lint_clean() {
    for name in [
        "hello",
        "app-state",
        "arc-state",
        "sqlx-pool",
        "workspace",
        "lib-router",
        "odd-cargo-toml",
        "unusual-main",
        "state-module",
        "routes-module",
        "deref-state",
        "arc-new-state",
        "existing-auth",
        "serve-fn",
        "foreign-state",
        "reexported-routes",
        "sync-state",
        "opaque-state",
        "pool-param",
        "spawned-task",
        "lib-startup",
        "serve-in-block",
        "member-router",
        "root-workspace",
        "tests-common",
        "platform-server",
    ] {
        scaffold_and_lint(name, &["--yes"]);
    }
    scaffold_and_lint("sqlx-pool", &["--yes", "--migrations", "copy"]);
    scaffold_and_lint(
        "app-state",
        &["--yes", "--database", "postgres", "--mount", "/api/auth"],
    );
    scaffold_and_lint("mysql-pool", &["--yes"]);
}

/// Two handlers of the app's, taking the extractors init generated in `module`: `me`
/// (signed-in users only: their email) and `hello` (everyone: "welcome back" or "hello").
fn extractor_handlers(module: &str) -> String {
    format!(
        "\n/// Only for signed-in users.\nasync fn me({module}::Authenticated(session): {module}::Authenticated) -> String {{\n    \
         use better_auth::prelude::AuthUser;\n    session.user.email().to_string()\n}}\n\n\
         /// For everyone.\nasync fn hello({module}::MaybeAuthenticated(session): {module}::MaybeAuthenticated) -> String {{\n    \
         if session.is_some() {{ \"welcome back\" }} else {{ \"hello\" }}.to_owned()\n}}\n"
    )
}

/// With an `Arc<AppState>` state, the app's own handlers take the extractors init wrote
/// (`CurrentSession` cannot be used there: no `FromRef` for `Arc<AppState>`).
#[test]
fn arc_state_handlers_take_the_generated_extractors() {
    let dir = fixture("arc-state");
    let project = dir.path();
    seed_lockfile(project);
    let output = init_checked(project, &["--yes"]);
    assert!(output.status.success(), "{:?}", text(&output));

    let main = project.join("src/main.rs");
    let source = std::fs::read_to_string(&main).unwrap();
    let source = source.replace(
        ".route(\"/count\", get(count))",
        ".route(\"/count\", get(count))\n        .route(\"/me\", get(me))\n        .route(\"/hello\", get(hello))",
    );
    assert!(source.contains("get(me)"), "{source}");
    let source = format!("{source}{}", extractor_handlers("auth"));
    std::fs::write(&main, source).unwrap();

    let output = cargo(
        project,
        &[
            "clippy",
            "--all-targets",
            "--message-format",
            "short",
            "--",
            "-D",
            "warnings",
        ],
    );
    assert!(
        output.status.success(),
        "cargo clippy failed:\n{}",
        text(&output).1
    );
}

/// Kills the server when the test ends, pass or fail.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 exchange: (status, headers lowercased, body).
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A JSON POST from the app's own origin, as its pages send one.
fn post_json(port: u16, path: &str, body: &str) -> (u16, Vec<(String, String)>, String) {
    let origin = format!("http://127.0.0.1:{port}");
    let json = [("content-type", "application/json"), ("origin", &origin)];
    http(port, "POST", path, &json, body)
}

/// Ada's sign-up, as the tests send it to `<mount>/sign-up/email`.
const ADA: &str = r#"{"name":"Ada Lovelace","email":"ada@example.com","password":"correct horse battery staple"}"#;

/// Builds `project` (into the shared target dir) and starts its binary `bin` on `port`.
fn build_and_start(project: &Path, bin: &str, port: u16) -> Server {
    let output = cargo(project, &["build", "--message-format", "short"]);
    assert!(
        output.status.success(),
        "{bin}: cargo build failed:\n{}",
        text(&output).1
    );
    start(project, bin, port)
}

#[test]
fn scaffolded_app_signs_up_signs_in_and_guards_a_route() {
    let dir = fixture("hello");
    let project = dir.path();
    seed_lockfile(project);
    let output = init_checked(project, &["--yes"]);
    assert!(output.status.success(), "{:?}", text(&output));

    // The developer's next step: a route that needs a signed-in user.
    let port = free_port();
    let main = project.join("src/main.rs");
    let source = std::fs::read_to_string(&main).unwrap();
    let source = source
        .replace(
            ".route(\"/\", get(|| async { \"Hello, World!\" }))",
            ".route(\"/\", get(|| async { \"Hello, World!\" }))\n        .route(\"/me\", get(me))",
        )
        .replace("0.0.0.0:3000", &format!("127.0.0.1:{port}"));
    assert!(source.contains("get(me)"), "{source}");
    let source = format!(
        "{source}\n/// Only for signed-in users.\nasync fn me(session: better_auth::integrations::axum::CurrentSession) -> String {{\n    \
         use better_auth::prelude::AuthUser;\n    format!(\"{{:?}}\", session.user.email())\n}}\n"
    );
    std::fs::write(&main, source).unwrap();

    let _server = build_and_start(project, "hello", port);

    let (status, headers, body) = post_json(port, "/auth/sign-up/email", ADA);
    assert_eq!(status, 200, "sign-up: {body}");
    assert!(body.contains("ada@example.com"), "{body}");
    assert!(header(&headers, "set-auth-token").is_some(), "{headers:?}");

    let (status, headers, body) = post_json(
        port,
        "/auth/sign-in/email",
        r#"{"email":"ada@example.com","password":"correct horse battery staple"}"#,
    );
    assert_eq!(status, 200, "sign-in: {body}");
    let token = header(&headers, "set-auth-token")
        .expect("sign-in token")
        .to_owned();

    let (status, _, _) = http(port, "GET", "/me", &[], "");
    assert_eq!(
        status, 401,
        "the protected route let an anonymous request in"
    );
    let bearer = format!("Bearer {token}");
    let (status, _, body) = http(port, "GET", "/me", &[("authorization", &bearer)], "");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("ada@example.com"), "{body}");
    let (status, _, body) = http(
        port,
        "GET",
        "/auth/get-session",
        &[("authorization", &bearer)],
        "",
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("ada@example.com"), "{body}");
}

/// Starts the built app `bin` of `project` on `port` (for apps that read `PORT`; the others
/// were rebound by the caller); waits until it accepts connections. Its stderr goes to
/// `server.log` in the project.
fn start(project: &Path, bin: &str, port: u16) -> Server {
    start_with(project, bin, port, &[])
}

/// [`start`], with more environment variables (`DATABASE_URL`, say).
fn start_with(project: &Path, bin: &str, port: u16, env: &[(&str, &str)]) -> Server {
    let database = format!("sqlite:{}?mode=rwc", project.join("auth.db").display());
    let log = std::fs::File::create(project.join("server.log")).unwrap();
    let child = Command::new(target_dir().join("debug").join(bin))
        .current_dir(project)
        .env("BETTER_AUTH_URL", format!("http://127.0.0.1:{port}"))
        .env("BETTER_AUTH_DATABASE_URL", &database)
        .env("PORT", port.to_string())
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        let log = || std::fs::read_to_string(project.join("server.log")).unwrap_or_default();
        assert!(
            server.0.try_wait().unwrap().is_none(),
            "{bin} exited at start-up:\n{}",
            log()
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{bin} did not start:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// Every fixture init wires by itself: it builds, starts, serves sign-up at its mount and
/// still serves its own routes.
#[test]
fn auto_wired_fixtures_serve_sign_up_and_their_own_routes() {
    // (fixture, binary, one of the app's own routes, mount)
    let apps = [
        ("state-module", "state-module", "/health", "/auth"),
        ("routes-module", "routes-module", "/posts", "/auth"),
        ("deref-state", "deref-state", "/", "/auth"),
        ("arc-new-state", "arc-new-state", "/motd", "/auth"),
        ("existing-auth", "existing-auth", "/auth/check", "/api/auth"),
        ("serve-fn", "serve-fn", "/about", "/auth"),
        ("foreign-state", "foreign-state", "/notes", "/auth"),
        ("opaque-state", "opaque-state", "/greet", "/auth"),
        ("pool-param", "pool-param", "/notes/count", "/auth"),
        (
            "reexported-routes",
            "reexported-routes",
            "/api/visits",
            "/auth",
        ),
        ("app-state", "app-state", "/info", "/auth"),
        ("lib-router", "lib-router", "/", "/auth"),
        // Wired where they are served.
        ("unusual-main", "unusual-main", "/", "/auth"),
        ("spawned-task", "spawned-task", "/motto", "/auth"),
        ("lib-startup", "lib-startup", "/whoami", "/auth"),
        ("serve-in-block", "serve-in-block", "/start", "/auth"),
        ("member-router", "bootstrap", "/region", "/auth"),
        ("root-workspace", "root-workspace", "/time", "/auth"),
        ("tests-common", "tests-common", "/db", "/auth"),
    ];
    for (name, bin, own_route, mount) in apps {
        let dir = fixture(name);
        let project = dir.path();
        seed_lockfile(project);
        // init checks that the project compiles (into the shared target dir).
        let output = init_checked(project, &["--yes"]);
        assert!(output.status.success(), "{name}: {:?}", text(&output));

        // Serve on a free port: the fixtures bind fixed ones, as real apps do.
        let port = free_port();
        let mut sources = Vec::new();
        rust_files(project, &mut sources);
        for file in sources {
            let code = std::fs::read_to_string(&file).unwrap();
            let mut moved = code.clone();
            for addr in [
                "0.0.0.0:3000",
                "127.0.0.1:3000",
                "0.0.0.0:8080",
                "127.0.0.1:8080",
            ] {
                moved = moved.replace(addr, &format!("127.0.0.1:{port}"));
            }
            moved = moved.replace("[127, 0, 0, 1], 8080", &format!("[127, 0, 0, 1], {port}"));
            if moved != code {
                std::fs::write(&file, moved).unwrap();
            }
        }
        let server = build_and_start(project, bin, port);
        let (status, headers, body) = post_json(port, &format!("{mount}/sign-up/email"), ADA);
        assert_eq!(status, 200, "{name}: sign-up: {body}");
        assert!(
            header(&headers, "set-auth-token").is_some(),
            "{name}: {headers:?}"
        );
        let method = if own_route == "/auth/check" {
            "POST"
        } else {
            "GET"
        };
        let (status, _, body) = http(port, method, own_route, &[], "");
        assert!(
            status == 200 || (own_route == "/auth/check" && status == 401),
            "{name}: {own_route} answered {status}: {body}"
        );
        // Served with connect info, even where the app was rebound or passed to a serve
        // function: the runtime never had to say that rate limits are off.
        drop(server);
        let log = std::fs::read_to_string(project.join("server.log")).unwrap();
        assert!(
            !log.contains("cannot see client addresses"),
            "{name}: served without connect info:\n{log}"
        );
    }
}

/// The numbered steps of init's "Finish the wiring by hand" output: the lines of each.
fn manual_steps(stdout: &str) -> Vec<Vec<String>> {
    let mut steps: Vec<Vec<String>> = Vec::new();
    let Some((_, rest)) = stdout.split_once("Finish the wiring by hand:\n") else {
        return steps;
    };
    for line in rest.lines() {
        if line.starts_with("         ") {
            if let Some(step) = steps.last_mut() {
                step.push(line.trim_start().to_owned());
            }
        } else if line
            .trim_start()
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
        {
            steps.push(Vec::new());
        } else if !line.trim().is_empty() {
            break;
        }
    }
    steps
}

/// Followed to the letter, the manual steps init prints compile: each step's lines go
/// where its heading says (the anchors below are this fixture's), nothing else changes.
/// The app hands its router to a serving crate of its workspace, so its own package has
/// no `axum::serve` call to wire.
#[test]
fn manual_steps_compile_when_followed() {
    let dir = fixture("platform-server");
    let project = dir.path();
    let main = project.join("crates/app/src/main.rs");
    seed_lockfile(project);
    let output = crate::util::init(project, &["--yes"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
    let steps = manual_steps(&stdout);
    assert_eq!(steps.len(), 3, "{stdout}");

    let mut source = std::fs::read_to_string(&main).unwrap();
    // 1. Next to the other `mod` lines (there are none: at the top).
    source = format!("{}\n{source}", steps[0].join("\n"));
    // 2. In the async function that hands the router over, before that.
    let anchor = "    server_kit::run(";
    assert!(source.contains(anchor));
    source = source.replacen(anchor, &format!("{}\n{anchor}", steps[1].join("\n")), 1);
    // 3. In place of the router handed over.
    let anchor = "server_kit::run(app,";
    assert!(source.contains(anchor));
    source = source.replacen(
        anchor,
        &format!("server_kit::run({},", steps[2].join("")),
        1,
    );
    std::fs::write(&main, source).unwrap();

    let output = cargo(
        project,
        &["check", "--all-targets", "--message-format", "short"],
    );
    assert!(
        output.status.success(),
        "the manual steps do not compile:\n{}\n{stdout}",
        text(&output).1
    );
}

/// A router whose state is the app's own (here a shared list): handlers take the
/// extractors init generated, which find Better Auth in the request (the
/// `.layer(Extension(auth.clone()))` init added), and guard a route for real.
#[test]
fn handlers_of_an_app_with_its_own_state_take_the_generated_extractors() {
    let dir = fixture("foreign-state");
    let project = dir.path();
    seed_lockfile(project);
    let output = init_checked(project, &["--yes"]);
    assert!(output.status.success(), "{:?}", text(&output));

    let port = free_port();
    let router = project.join("src/router.rs");
    let source = std::fs::read_to_string(&router).unwrap();
    let source = source.replace(
        ".route(\"/notes\", get(list_notes))",
        ".route(\"/notes\", get(list_notes))\n        .route(\"/me\", get(me))\n        .route(\"/hello\", get(hello))",
    );
    assert!(source.contains("get(me)"), "{source}");
    let source = format!("{source}{}", extractor_handlers("crate::auth"));
    std::fs::write(&router, source).unwrap();
    let main = project.join("src/main.rs");
    let source = std::fs::read_to_string(&main).unwrap();
    assert!(
        source.contains(".layer(axum::Extension(auth.clone()))"),
        "{source}"
    );
    std::fs::write(
        &main,
        source.replace("0.0.0.0:3000", &format!("127.0.0.1:{port}")),
    )
    .unwrap();

    let _server = build_and_start(project, "foreign-state", port);
    let (status, headers, body) = post_json(port, "/auth/sign-up/email", ADA);
    assert_eq!(status, 200, "sign-up: {body}");
    let token = header(&headers, "set-auth-token")
        .expect("sign-up token")
        .to_owned();
    let bearer = format!("Bearer {token}");

    let (status, _, body) = http(port, "GET", "/me", &[], "");
    assert_eq!(status, 401, "an anonymous request got in: {body}");
    let (status, _, body) = http(port, "GET", "/me", &[("authorization", &bearer)], "");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("ada@example.com"), "{body}");
    let (_, _, body) = http(port, "GET", "/hello", &[], "");
    assert_eq!(body, "hello");
    let (_, _, body) = http(port, "GET", "/hello", &[("authorization", &bearer)], "");
    assert_eq!(body, "welcome back");
    // The app's own route still works.
    let (status, _, body) = http(port, "GET", "/notes", &[], "");
    assert_eq!(status, 200, "{body}");
}

/// An app on MySQL (sqlx's `mysql` feature, a `MySqlPool` in its state): init keeps
/// Better Auth's tables in the app's own MySQL database, through `Database::share_mysql`;
/// the app signs up a user into that database and still answers its own route.
#[test]
fn mysql_app_keeps_users_in_its_own_database() {
    use better_auth_test_support::{Backend, Scratch};
    let Some(scratch) = Scratch::open_blocking(Backend::MySql, "the MySQL init test") else {
        return;
    };
    let dir = fixture("mysql-pool");
    let project = dir.path();
    seed_lockfile(project);
    let output = init_checked(project, &["--yes"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    let auth = std::fs::read_to_string(project.join("src/auth.rs")).unwrap();
    assert!(
        auth.contains("Database::share_mysql(&pool).await?"),
        "{auth}"
    );
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("\"mysql\""), "{manifest}");
    // The app's DATABASE_URL is left alone, and no second database is named.
    let env = std::fs::read_to_string(project.join(".env")).unwrap();
    assert!(
        env.contains("DATABASE_URL=mysql://root@127.0.0.1:3306/notes"),
        "{env}"
    );
    assert!(!env.contains("BETTER_AUTH_DATABASE_URL"), "{env}");

    let port = free_port();
    let main = project.join("src/main.rs");
    let code = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        code.replace("0.0.0.0:3000", &format!("127.0.0.1:{port}")),
    )
    .unwrap();
    let output = cargo(project, &["build", "--message-format", "short"]);
    assert!(output.status.success(), "{}", text(&output).1);
    let server = start_with(
        project,
        "mysql-notes",
        port,
        &[("DATABASE_URL", scratch.url.as_str())],
    );
    let (status, headers, body) = post_json(port, "/auth/sign-up/email", ADA);
    assert_eq!(status, 200, "sign-up: {body}");
    let token = header(&headers, "set-auth-token").expect("a bearer token");
    let bearer = format!("Bearer {token}");
    let (status, _, body) = http(
        port,
        "GET",
        "/auth/get-session",
        &[("authorization", &bearer)],
        "",
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("ada@example.com"), "{body}");
    let (status, _, body) = http(port, "GET", "/version", &[], "");
    assert!(
        status == 200 && !body.starts_with("error"),
        "{status}: {body}"
    );
    drop(server);

    // The user is in the app's MySQL database, not in a file beside it.
    assert!(!project.join("auth.db").exists());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let users: i64 = runtime.block_on(async {
        let pool = sqlx::MySqlPool::connect(&scratch.url).await.unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM `user` WHERE email = 'ada@example.com'")
            .fetch_one(&pool)
            .await
            .unwrap()
    });
    assert_eq!(users, 1);
}

/// A router built in another workspace member: its handlers read sessions once the
/// member has the dependency init's note names, exactly as written.
#[test]
fn handlers_of_a_router_member_read_sessions_as_the_note_says() {
    let dir = fixture("member-router");
    let project = dir.path();
    seed_lockfile(project);
    let output = init_checked(project, &["--yes"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    let note = format!("{stdout}{stderr}")
        .lines()
        .find(|l| l.contains("handlers in the workspace member `api-http`"))
        .unwrap_or_else(|| panic!("no note for the router's member:\n{stdout}"))
        .to_owned();
    let line = note
        .split_once("add `")
        .and_then(|(_, rest)| rest.split_once("` to crates/api-http/Cargo.toml"))
        .map(|(line, _)| line.to_owned())
        .unwrap_or_else(|| panic!("no dependency line in: {note}"));

    let member = project.join("crates/api-http");
    let manifest = std::fs::read_to_string(member.join("Cargo.toml")).unwrap();
    std::fs::write(member.join("Cargo.toml"), format!("{manifest}{line}\n")).unwrap();
    let lib = std::fs::read_to_string(member.join("src/lib.rs")).unwrap();
    let lib = lib.replace(
        ".route(\"/region\", get(region))",
        ".route(\"/region\", get(region))\n        .route(\"/whoami\", get(whoami))",
    ) + "\nasync fn whoami(\n    better_auth::integrations::axum::Authenticated(session): \
         better_auth::integrations::axum::Authenticated,\n) -> String {\n    \
         session.user.email.clone()\n}\n";
    std::fs::write(member.join("src/lib.rs"), lib).unwrap();
    let port = free_port();
    let main = project.join("crates/bootstrap/src/main.rs");
    let code = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        code.replace("0.0.0.0:8080", &format!("127.0.0.1:{port}")),
    )
    .unwrap();

    let _server = build_and_start(project, "bootstrap", port);
    let (status, headers, body) = post_json(port, "/auth/sign-up/email", ADA);
    assert_eq!(status, 200, "sign-up: {body}");
    let bearer = format!("Bearer {}", header(&headers, "set-auth-token").unwrap());
    let (status, _, body) = http(port, "GET", "/whoami", &[("authorization", &bearer)], "");
    assert_eq!((status, body.as_str()), (200, "ada@example.com"));
    let (status, _, _) = http(port, "GET", "/whoami", &[], "");
    assert_eq!(status, 401);
}

/// An app whose `.env` git tracks: the secret goes in `.env.local`, and the generated
/// module loads it, so the app builds, starts and signs up with no step left.
#[test]
fn an_app_with_a_tracked_env_starts_from_env_local() {
    let dir = fixture("hello");
    let project = dir.path();
    seed_lockfile(project);
    std::fs::write(project.join(".env"), "PORT=3000\n").unwrap();
    for args in [&["init", "-q"][..], &["add", ".env"]] {
        let status = Command::new("git")
            .args(args)
            .current_dir(project)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }
    let output = init_checked(project, &["--yes"]);
    assert!(output.status.success(), "{:?}", text(&output));
    assert!(
        !std::fs::read_to_string(project.join(".env"))
            .unwrap()
            .contains("SECRET")
    );
    let port = free_port();
    let main = project.join("src/main.rs");
    let code = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        code.replace("0.0.0.0:3000", &format!("127.0.0.1:{port}")),
    )
    .unwrap();
    let _server = build_and_start(project, "hello", port);
    let (status, headers, body) = post_json(port, "/auth/sign-up/email", ADA);
    assert_eq!(status, 200, "sign-up: {body}");
    assert!(header(&headers, "set-auth-token").is_some(), "{headers:?}");
}
