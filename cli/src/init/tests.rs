//! The analysis, the wiring and the plan on projects held in memory: resolve and plan run
//! as in `better-auth init`, on facts built here instead of read from disk, so each case
//! takes milliseconds. (The CLI binary on real projects is tested in `cli/tests/init`.)

use std::path::PathBuf;

use clap::Parser;

use super::args::{DatabaseKind, InitArgs};
use super::inspect::{ConfigFile, Facts};
use super::plan::{self, Plan};
use super::project::{FoundFile, Package, SqlxUse};
use super::resolve::{self, Chooser};

/// `better-auth init`'s flags, as typed after `init`.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: InitArgs,
}

/// A project in memory: a `src/main.rs` and what surrounds it.
#[derive(Default)]
struct Project {
    main: String,
    env: Option<&'static str>,
    cargo_env: Option<&'static str>,
    example: Option<&'static str>,
    config_files: Vec<ConfigFile>,
    flags: Vec<&'static str>,
    /// The databases of the app's sqlx 0.8 dependency.
    sqlx: Option<Vec<DatabaseKind>>,
    /// A database of the app's that Better Auth has no store for.
    unsupported_database: Option<&'static str>,
    /// The app's SQLite file, when git tracks it.
    tracked_sqlite: Option<&'static str>,
}

/// What init would do to a project.
struct Planned(Plan);

impl Project {
    /// A project whose `src/main.rs` is `main`, after the axum imports every case uses.
    fn main(main: &str) -> Project {
        Project {
            main: format!("use axum::{{routing::get, Router}};\n\n{main}"),
            ..Project::default()
        }
    }

    fn plan(self) -> Planned {
        let dir = PathBuf::from("/nowhere/app");
        let package = Package {
            name: "app".to_owned(),
            dir: dir.clone(),
            manifest: FoundFile {
                path: dir.join("Cargo.toml"),
                text: Some(
                    "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                     [dependencies]\naxum = \"0.8\"\n"
                        .to_owned(),
                ),
            },
            edition: "2021".to_owned(),
            sqlx: self.sqlx.map(|databases| SqlxUse {
                is_0_8: true,
                databases,
            }),
            better_auth_databases: Vec::new(),
            other_databases: Vec::new(),
            unsupported_database: self.unsupported_database,
            sqlite_clash: None,
            main: Some(FoundFile {
                path: dir.join("src/main.rs"),
                text: Some(self.main),
            }),
            lib: None,
            lib_crate: "app".to_owned(),
            migrations_dir: None,
            env_dir: dir.clone(),
        };
        let mut argv = vec!["init", "--yes"];
        argv.extend(self.flags);
        let args = Cli::parse_from(argv).args;
        let mut facts = Facts::in_memory(
            &package,
            self.env,
            self.cargo_env,
            self.example,
            self.config_files,
        );
        facts.tracked_sqlite = self.tracked_sqlite.map(str::to_owned);
        let chooser = Chooser { interactive: false };
        let decisions = resolve::resolve(&args, &package, &facts, &chooser).unwrap();
        let keep = |text: &str| Some(text.to_owned());
        Planned(plan::build(&args, &package, &facts, &decisions, &keep).unwrap())
    }
}

impl Planned {
    /// The new text of the file at `path` (relative to the package).
    fn file(&self, path: &str) -> &str {
        let path = PathBuf::from("/nowhere/app").join(path);
        let file = self.0.files.iter().find(|f| f.path == path);
        &file
            .unwrap_or_else(|| panic!("{} is not in the plan", path.display()))
            .new
    }

    fn port(&self) -> &str {
        self.0.base_url.rsplit(':').next().unwrap()
    }

    fn noted(&self, text: &str) -> bool {
        self.0.notes.iter().any(|n| n.contains(text))
    }

    /// Whether init said it guessed the port.
    fn guessed_the_port(&self) -> bool {
        self.noted("could not tell which port")
    }
}

/// A server whose `main` binds `listener` (a `let listener = ..;` line) after `before`.
fn serving(before: &str, bind: &str) -> String {
    format!(
        "#[tokio::main]\nasync fn main() {{\n{before}    \
         let app = Router::new().route(\"/\", get(|| async {{ \"hi\" }}));\n    \
         let listener = tokio::net::TcpListener::bind({bind}).await.unwrap();\n    \
         axum::serve(listener, app).await.unwrap();\n}}\n"
    )
}

#[test]
fn the_port_is_found_behind_a_variable() {
    let cases = [
        (
            "async fn run(host: &str, port: u16, app: Router) {\n    \
             let listener = tokio::net::TcpListener::bind(format!(\"{host}:{port}\")).await.unwrap();\n    \
             axum::serve(listener, app).await.unwrap();\n}\n\n\
             #[tokio::main]\nasync fn main() {\n    \
             let app = Router::new().route(\"/\", get(|| async { \"hi\" }));\n    \
             run(\"0.0.0.0\", 8123, app).await;\n}\n"
                .to_owned(),
            "8123",
        ),
        (
            serving(
                "    let port = std::env::var(\"PORT\").unwrap_or_else(|_| \"8080\".to_owned());\n",
                "format!(\"0.0.0.0:{port}\")",
            ),
            "8080",
        ),
        (
            serving(
                "    let addr = std::net::Ipv4Addr::UNSPECIFIED;\n    let port = 8090;\n",
                "(addr, port)",
            ),
            "8090",
        ),
        (
            serving(
                "    let addr = std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 8091));\n",
                "addr",
            ),
            "8091",
        ),
        (
            serving(
                "    let addr = std::net::SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 8092);\n",
                "addr",
            ),
            "8092",
        ),
    ];
    for (main, port) in cases {
        assert_eq!(Project::main(&main).plan().port(), port, "{main}");
    }
}

/// `match env::var("PORT") { .., Err(_) => 8085 }`: the fallback is the port; and Better
/// Auth starts before the listener is bound, so its errors come before "listening".
#[test]
fn the_port_of_a_match_fallback_and_start_before_the_listener() {
    let planned = Project::main(
        "#[tokio::main]\nasync fn main() {\n    \
         let port: u16 = match std::env::var(\"APP_PORT\") {\n        \
         Ok(v) => v.parse().unwrap(),\n        \
         Err(_) => 8085,\n    };\n    \
         let listener = tokio::net::TcpListener::bind((\"0.0.0.0\", port)).await.unwrap();\n    \
         let app = Router::new().route(\"/\", get(|| async { \"hi\" }));\n    \
         axum::serve(listener, app).await.unwrap();\n}\n",
    )
    .plan();
    assert_eq!(planned.port(), "8085");
    let main = planned.file("src/main.rs");
    let auth_at = main.find("let auth = auth::init()").expect("let auth");
    assert!(auth_at < main.find("let listener").unwrap(), "{main}");
}

/// A port that only a configuration's default knows (`impl Default for ServerConfig {
/// .. port: 8000 .. }`, read at start-up) is the port; two different ones are a guess.
#[test]
fn the_port_of_a_configuration_default() {
    let config = |port: &str| {
        format!(
            "struct ServerConfig {{\n    host: String,\n    port: u16,\n}}\n\n\
             impl Default for ServerConfig {{\n    fn default() -> Self {{\n        \
             Self {{ host: \"0.0.0.0\".into(), port: {port} }}\n    }}\n}}\n\n{}\n\
             fn metrics() -> ServerConfig {{\n    \
             ServerConfig {{ host: String::new(), port: 8000 }}\n}}\n",
            serving(
                "    let config = ServerConfig::default();\n",
                "format!(\"{}:{}\", config.host, config.port)"
            )
        )
    };
    let planned = Project::main(&config("8000")).plan();
    assert_eq!(planned.port(), "8000");
    assert!(!planned.guessed_the_port());
    let planned = Project::main(&config("9000")).plan();
    assert_eq!(planned.port(), "3000");
    assert!(planned.guessed_the_port());
}

/// A port that only the environment knows (`bind(format!("0.0.0.0:{}", config.port))`)
/// is read from the app's dotenv files; with none there, a note says 3000 was a guess.
#[test]
fn the_port_is_read_from_the_env_files_or_the_guess_is_said() {
    let main = format!(
        "struct Config {{\n    port: u16,\n}}\n\n\
         fn config() -> Config {{\n    \
         let port = std::env::var(\"SERVER_PORT\").ok().and_then(|p| p.parse().ok());\n    \
         Config {{ port: port.unwrap_or_default() }}\n}}\n\n{}",
        serving(
            "    let config = config();\n",
            "format!(\"0.0.0.0:{}\", config.port)"
        )
    );
    for (example, port) in [
        (Some("POSTGRES_PORT=5432\nSERVER_PORT=8003\n"), "8003"),
        (Some("PORT=\"4000\"\n"), "4000"),
        (None, "3000"),
    ] {
        let planned = Project {
            example,
            ..Project::main(&main)
        }
        .plan();
        assert_eq!(planned.port(), port);
        assert_eq!(planned.guessed_the_port(), example.is_none());
    }
}

/// A port kept in a constant and read through a macro (`const PORT: u16 = 8123;
/// bind(format!("{}:{}", HOST, PORT))`) is the port.
#[test]
fn the_port_of_a_constant() {
    let main = format!(
        "const HOST: &str = \"0.0.0.0\";\nconst PORT: u16 = 8123;\n\n{}",
        serving("", "format!(\"{}:{}\", HOST, PORT)")
    );
    let planned = Project::main(&main).plan();
    assert_eq!(planned.port(), "8123");
    assert!(!planned.guessed_the_port());
}

/// A port that only the app's configuration files know (`configuration/base.yaml`,
/// read at start-up) is read from them: the app's own `port`, not its database's, and
/// the base file's when a production file says otherwise; a TOML `config.toml` too; a
/// file the sources never name is not the app's configuration.
#[test]
fn the_port_is_read_from_the_configuration_files() {
    let main = |file: &str| {
        format!(
            "struct Settings {{\n    port: u16,\n}}\n\n\
             fn settings() -> Settings {{\n    \
             let _text = std::fs::read_to_string(\"{file}\");\n    \
             Settings {{ port: 0 }}\n}}\n\n{}",
            serving(
                "    let settings = settings();\n",
                "format!(\"0.0.0.0:{}\", settings.port)"
            )
        )
    };
    let config = |name: &str, folder, text: &str| ConfigFile {
        file_name: name.to_owned(),
        stem: name.split('.').next().unwrap().to_owned(),
        folder,
        toml: name.ends_with(".toml"),
        text: text.to_owned(),
    };
    let yaml = || {
        vec![
            config(
                "base.yaml",
                Some("configuration"),
                "application:\n  host: 0.0.0.0\n  port: 8001 # the API\ndatabase:\n  \
                 host: localhost\n  port: 5432\n",
            ),
            config(
                "production.yaml",
                Some("configuration"),
                "application:\n  port: 80\n",
            ),
        ]
    };
    let toml = || {
        vec![config(
            "config.toml",
            None,
            "[database]\nport = 5432\n\n[server]\nhost = \"127.0.0.1\"\nport = \"8002\"\n",
        )]
    };
    for (file, config_files, port) in [
        ("configuration/base.yaml", yaml(), "8001"),
        ("config.toml", toml(), "8002"),
        ("elsewhere", toml(), "3000"),
    ] {
        let planned = Project {
            config_files,
            ..Project::main(&main(file))
        }
        .plan();
        assert_eq!(planned.port(), port, "{file}");
    }
}

/// A port the code reads from the environment, set in `.env` or in cargo's `[env]`, wins
/// over the code's own fallback; and the database in cargo's `[env]` is the app's.
#[test]
fn the_port_the_environment_sets_wins_over_the_codes_fallback() {
    let reads = |var: &str| {
        serving(
            &format!(
                "    let addr = std::env::var(\"{var}\").unwrap_or_else(|_| \"0.0.0.0:80\".to_owned());\n"
            ),
            "addr",
        )
    };
    let planned = Project {
        env: Some("PORT=8080\n"),
        ..Project::main(&reads("PORT"))
    }
    .plan();
    assert_eq!(planned.port(), "8080");
    let planned = Project {
        cargo_env: Some(
            "SERVER_ADDRESS=127.0.0.1:8765\nDATABASE_URL=postgres://app@localhost:5432/shop\n",
        ),
        flags: vec!["--database", "postgres"],
        ..Project::main(&reads("SERVER_ADDRESS"))
    }
    .plan();
    assert_eq!(planned.port(), "8765");
    assert!(
        planned
            .file(".env")
            .contains("BETTER_AUTH_DATABASE_URL=postgres://app@localhost:5432/shop"),
        "{}",
        planned.file(".env")
    );
}

/// Layers the app applied before Better Auth's routes are merged do not wrap them: a
/// note names them. Layers after the merge do, and go unmentioned.
#[test]
fn layers_that_miss_the_routes_are_named() {
    let note = "Better Auth's routes are merged after `.layer(DefaultBodyLimit::max(1024))`";
    for (inside, outside, noted) in [
        (".layer(DefaultBodyLimit::max(1024))", "", true),
        ("", ".layer(DefaultBodyLimit::max(1024))", false),
    ] {
        let planned = Project::main(&format!(
            "use axum::extract::DefaultBodyLimit;\n\n\
             fn api() -> Router {{\n    \
             Router::new().route(\"/\", get(|| async {{ \"hi\" }})){inside}\n}}\n\n\
             #[tokio::main]\nasync fn main() {{\n    \
             let app = api().route(\"/more\", get(|| async {{ \"more\" }})){outside};\n    \
             let listener = tokio::net::TcpListener::bind(\"0.0.0.0:3000\").await.unwrap();\n    \
             axum::serve(listener, app).await.unwrap();\n}}\n"
        ))
        .plan();
        assert!(
            planned
                .file("src/main.rs")
                .contains(".merge(auth::router(&auth))")
        );
        assert_eq!(planned.noted(note), noted);
    }
}

/// Routes after the app's layers (`.layer(..).fallback(..)`): Better Auth's go before
/// the first layer, so the layers wrap them too; a `route_layer` after the layers (a guard)
/// keeps them after it instead, outside the guard.
#[test]
fn the_merge_goes_before_the_layers_unless_a_guard_follows() {
    for (tail, merged_before_layer) in [
        (
            ".layer(DefaultBodyLimit::max(1024)).fallback(|| async { \"none\" })",
            true,
        ),
        (
            ".layer(DefaultBodyLimit::max(1024)).route_layer(DefaultBodyLimit::max(9))\
             .fallback(|| async { \"none\" })",
            false,
        ),
    ] {
        let planned = Project::main(&format!(
            "use axum::extract::DefaultBodyLimit;\n\n\
             #[tokio::main]\nasync fn main() {{\n    \
             let app = Router::new().route(\"/\", get(|| async {{ \"hi\" }})){tail};\n    \
             let listener = tokio::net::TcpListener::bind(\"0.0.0.0:3000\").await.unwrap();\n    \
             axum::serve(listener, app).await.unwrap();\n}}\n"
        ))
        .plan();
        let compact: String = planned.file("src/main.rs").split_whitespace().collect();
        let merge = compact.find(".merge(auth::router(&auth))").expect("merged");
        let layer = compact.find(".layer(DefaultBodyLimit::max(1024))").unwrap();
        assert_eq!(merge < layer, merged_before_layer, "{compact}");
        assert_eq!(
            planned.noted("Better Auth's routes are merged after"),
            !merged_before_layer
        );
    }
}

/// A router that init cannot follow to `Router::new()` (it comes from a constructor of
/// another crate) but that a `Router` method finished (`.with_state(..)`) is still served
/// with the client address, rather than left with a note.
#[test]
fn a_router_finished_by_with_state_is_served_with_connect_info() {
    let planned = Project::main(
        "fn app(greeting: String) -> Router {\n    \
         let router: Router<String> = Router::default();\n    \
         router.route(\"/\", get(|| async { \"hi\" })).with_state(greeting)\n}\n\n\
         #[tokio::main]\nasync fn main() {\n    \
         let listener = tokio::net::TcpListener::bind(\"0.0.0.0:3000\").await.unwrap();\n    \
         axum::serve(listener, app(\"hi\".to_owned())).await.unwrap();\n}\n",
    )
    .plan();
    assert!(
        planned
            .file("src/main.rs")
            .contains("into_make_service_with_connect_info::<std::net::SocketAddr>()")
    );
    assert!(!planned.noted("serve the app with"));
}

/// An app that serves its working directory as files would serve `.env` and the SQLite
/// database: a step says so (`cfg(not(test))` code is the app's too).
#[test]
fn serving_the_working_directory_is_a_step_left() {
    for dir in ["./", "."] {
        let planned = Project::main(&format!(
            "#[cfg(not(test))]\n#[tokio::main]\nasync fn main() {{\n    \
             let app = Router::new().route(\"/\", get(|| async {{ \"hi\" }}));\n    \
             let listener = tokio::net::TcpListener::bind(\"0.0.0.0:3000\").await.unwrap();\n    \
             axum::serve(listener, app.fallback_service(tower_http::services::ServeDir::new(\"{dir}\")))\n        \
             .await\n        .unwrap();\n}}\n"
        ))
        .plan();
        // `#[cfg(not(test))]` code is the app's: it is wired.
        assert!(planned.0.manual.is_none(), "{:?}", planned.0.manual);
        assert!(
            planned
                .file("src/main.rs")
                .contains("let auth = auth::init()")
        );
        let step =
            format!("serves the app's working directory as files (`ServeDir::new(\"{dir}\")`)");
        assert!(
            planned.0.env_steps.iter().any(|s| s.contains(&step)),
            "{:?}",
            planned.0.env_steps
        );
    }
    let elsewhere = Project::main(&serving("", "\"0.0.0.0:3000\"").replace(
        "axum::serve(listener, app)",
        "axum::serve(listener, app.fallback_service(tower_http::services::ServeDir::new(\"static\")))",
    ))
    .plan();
    assert!(
        elsewhere.0.env_steps.is_empty(),
        "{:?}",
        elsewhere.0.env_steps
    );
}

/// An app that keeps its database in its configuration files (`configuration/base.yaml`'s
/// `database:` section, zero2prod-style) gets Better Auth in that database.
#[test]
fn the_database_is_read_from_the_configuration_files() {
    let main = format!(
        "fn settings() -> String {{\n    \
         std::fs::read_to_string(\"configuration/base.yaml\").unwrap()\n}}\n\n{}",
        serving("    let _settings = settings();\n", "\"127.0.0.1:8000\"")
    );
    let base = ConfigFile {
        file_name: "base.yaml".to_owned(),
        stem: "base".to_owned(),
        folder: Some("configuration"),
        toml: false,
        text: "application:\n  port: 8000\ndatabase:\n  host: \"127.0.0.1\"\n  port: 5432\n  \
               username: \"postgres\"\n  password: \"pass word\"\n  database_name: \"newsletter\"\n"
            .to_owned(),
    };
    let planned = Project {
        config_files: vec![base],
        flags: vec!["--database", "postgres"],
        ..Project::main(&main)
    }
    .plan();
    let env = planned.file(".env");
    assert!(
        env.contains(
            "BETTER_AUTH_DATABASE_URL=postgres://postgres:pass%20word@127.0.0.1:5432/newsletter\n"
        ),
        "{env}"
    );
    assert!(planned.noted("the app's database settings in configuration/base.yaml"));
    // The committed example never holds the password.
    assert!(!planned.file(".env.example").contains("pass%20word"));
}

/// A router from another crate, served where the app's pool is in scope: Better Auth is
/// attached at the serve site and shares the pool (no database URL of its own).
#[test]
fn the_serve_site_shares_the_apps_pool() {
    let planned = Project {
        sqlx: Some(vec![DatabaseKind::Sqlite]),
        ..Project::main(
            "#[tokio::main]\nasync fn main() {\n    \
             let pool = sqlx::SqlitePool::connect(\"sqlite:app.db\").await.unwrap();\n    \
             let listener = tokio::net::TcpListener::bind(\"0.0.0.0:3000\").await.unwrap();\n    \
             axum::serve(listener, api::router(pool)).await.unwrap();\n}\n",
        )
    }
    .plan();
    let main = planned.file("src/main.rs");
    assert!(
        main.contains("let auth = auth::init(pool.clone())"),
        "{main}"
    );
    assert!(
        main.contains("auth::attach(api::router(pool), &auth)"),
        "{main}"
    );
    let module = planned.file("src/auth.rs");
    assert!(
        module.contains("pub async fn init(pool: sqlx::SqlitePool)"),
        "{module}"
    );
    assert!(module.contains("pub fn attach"), "{module}");
    assert!(!planned.file(".env").contains("BETTER_AUTH_DATABASE_URL"));
}

/// An in-memory database in the app's tests says nothing of the app's own: its file
/// pool is shared, with no note about memory.
#[test]
fn an_in_memory_database_in_tests_is_not_the_apps() {
    let planned = Project {
        sqlx: Some(vec![DatabaseKind::Sqlite]),
        ..Project::main(
            "#[tokio::main]\nasync fn main() {\n    \
             let pool = sqlx::SqlitePool::connect(\"sqlite:app.db\").await.unwrap();\n    \
             let listener = tokio::net::TcpListener::bind(\"0.0.0.0:3000\").await.unwrap();\n    \
             axum::serve(listener, api::router(pool)).await.unwrap();\n}\n\n\
             #[cfg(test)]\nmod tests {\n    #[tokio::test]\n    async fn version() {\n        \
             let _pool = sqlx::SqlitePool::connect(\"sqlite::memory:\").await.unwrap();\n    \
             }\n}\n",
        )
    }
    .plan();
    assert!(!planned.noted("in memory"), "{:?}", planned.0.notes);
    assert!(
        planned
            .file("src/main.rs")
            .contains("let auth = auth::init(pool.clone())"),
        "{}",
        planned.file("src/main.rs")
    );
}

/// An app on MySQL keeps Better Auth's tables in its own MySQL database: the URL of its
/// `.env`, the runtime's `mysql` feature.
#[test]
fn an_app_on_mysql_keeps_its_users_in_its_mysql_database() {
    let planned = Project {
        sqlx: Some(vec![DatabaseKind::Mysql]),
        env: Some("DATABASE_URL=mysql://app@localhost:3306/shop\n"),
        ..Project::main(&serving("", "\"0.0.0.0:3000\""))
    }
    .plan();
    assert!(
        planned
            .file(".env")
            .contains("BETTER_AUTH_DATABASE_URL=mysql://app@localhost:3306/shop"),
        "{}",
        planned.file(".env")
    );
    assert!(planned.file("Cargo.toml").contains("\"mysql\""));
    assert!(
        planned
            .file("src/auth.rs")
            .contains("mysql://USER:PASSWORD@localhost:3306/DATABASE")
    );
}

/// An app whose dependencies speak only a database Better Auth has no store for gets
/// SQLite for Better Auth, and is told.
#[test]
fn an_app_on_sql_server_is_told_its_users_go_in_sqlite() {
    let planned = Project {
        unsupported_database: Some("SQL Server"),
        sqlx: Some(Vec::new()),
        ..Project::main(&serving("", "\"0.0.0.0:3000\""))
    }
    .plan();
    assert!(
        planned
            .file(".env")
            .contains("BETTER_AUTH_DATABASE_URL=sqlite:auth.db")
    );
    assert!(planned.noted("the app uses SQL Server (its dependencies say so)"));
}

/// An app whose SQLite file git tracks does not share its pool with Better Auth: the
/// password hashes and session tokens would be committed with it.
#[test]
fn a_sqlite_file_git_tracks_is_never_shared() {
    let main = "#[tokio::main]\nasync fn main() {\n    \
                let pool = sqlx::SqlitePool::connect(\"sqlite:db.sqlite\").await.unwrap();\n    \
                let listener = tokio::net::TcpListener::bind(\"0.0.0.0:3000\").await.unwrap();\n    \
                axum::serve(listener, api::router(pool)).await.unwrap();\n}\n";
    let shared = Project {
        sqlx: Some(vec![DatabaseKind::Sqlite]),
        ..Project::main(main)
    }
    .plan();
    assert!(
        shared
            .file("src/main.rs")
            .contains("auth::init(pool.clone())")
    );
    let apart = Project {
        sqlx: Some(vec![DatabaseKind::Sqlite]),
        tracked_sqlite: Some("db.sqlite"),
        ..Project::main(main)
    }
    .plan();
    assert!(apart.file("src/main.rs").contains("auth::init().await"));
    assert!(
        apart
            .file(".env")
            .contains("BETTER_AUTH_DATABASE_URL=sqlite:auth.db")
    );
    assert!(apart.file(".gitignore").contains("auth.db*"));
    assert!(apart.noted("(db.sqlite) is tracked by git"));
}

/// With no sign of the app's database, SQLite is chosen and init says so.
#[test]
fn a_database_chosen_without_evidence_is_said() {
    let planned = Project::main(&serving("", "\"0.0.0.0:3000\"")).plan();
    assert!(
        planned
            .file(".env")
            .contains("BETTER_AUTH_DATABASE_URL=sqlite:auth.db")
    );
    assert!(planned.noted("init found no database the app uses"));
}
