//! The checks of a project on disk: its `.env` (or environment), its database,
//! and its sources.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use better_auth::store::{migration_status, redact_url};

use super::Report;
use crate::admin::db::{self, Target};

/// What the project checks learned that the running-app checks use.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// `BETTER_AUTH_URL`, when it is set.
    pub(crate) base_url: Option<String>,
}

/// A variable's value and where it came from.
#[derive(Debug)]
struct Var {
    value: String,
    /// `the environment` or `.env`.
    from: &'static str,
}

/// The variables doctor reads, from the environment (which wins) and `.env`.
#[derive(Debug, Default)]
struct Vars {
    dotenv: HashMap<String, String>,
}

impl Vars {
    fn get(&self, name: &str) -> Option<Var> {
        if let Some(value) = std::env::var(name).ok().filter(|v| !v.is_empty()) {
            return Some(Var {
                value,
                from: "the environment",
            });
        }
        self.dotenv
            .get(name)
            .filter(|v| !v.is_empty())
            .map(|value| Var {
                value: value.clone(),
                from: ".env",
            })
    }
}

/// Runs the project checks in `dir`.
pub(crate) fn check(dir: &Path, report: &mut Report) -> Found {
    outln!("Checking the project in {}", dir.display());
    if !dir.is_dir() {
        report.fail(
            "project",
            format!(
                "{} is not a directory: pass the app's package with --path",
                dir.display()
            ),
        );
        return Found::default();
    }
    let vars = read_env(dir, report);
    check_secret(&vars, report);
    let base_url = check_base_url(&vars, report);
    check_database(dir, &vars, report);
    check_sources(dir, report);
    Found { base_url }
}

fn read_env(dir: &Path, report: &mut Report) -> Vars {
    let path = dir.join(".env");
    let mut vars = Vars::default();
    if !path.exists() {
        report.warn(
            ".env",
            format!(
                "no .env in {}: the variables below must come from the environment",
                dir.display()
            ),
        );
        return vars;
    }
    let entries = match dotenvy::from_path_iter(&path) {
        Ok(entries) => entries,
        Err(e) => {
            report.fail(".env", format!("cannot read {}: {e}", path.display()));
            return vars;
        }
    };
    for entry in entries {
        match entry {
            Ok((key, value)) => {
                vars.dotenv.insert(key, value);
            }
            Err(e) => {
                report.fail(
                    ".env",
                    format!(
                        "cannot parse {}: {e}; the app cannot read it either: fix that line",
                        path.display()
                    ),
                );
                return vars;
            }
        }
    }
    report.ok(".env", format!("read {}", path.display()));
    vars
}

/// The minimum secret length the runtime accepts.
const MIN_SECRET_LEN: usize = 32;

fn check_secret(vars: &Vars, report: &mut Report) {
    const NAME: &str = "secret";
    let Some(secret) = vars.get("BETTER_AUTH_SECRET") else {
        report.fail(
            NAME,
            "BETTER_AUTH_SECRET is not set: set BETTER_AUTH_SECRET in .env; `better-auth secret` prints one",
        );
        return;
    };
    let len = secret.value.chars().count();
    if len < MIN_SECRET_LEN {
        report.fail(
            NAME,
            format!(
                "BETTER_AUTH_SECRET (from {}) is {len} characters; Better Auth needs at least \
                 {MIN_SECRET_LEN} and refuses to start: replace it with the output of `better-auth secret`",
                secret.from
            ),
        );
        return;
    }
    if let Some(why) = weakness(&secret.value) {
        report.fail(
            NAME,
            format!(
                "BETTER_AUTH_SECRET (from {}) {why}: anyone who guesses it can forge sessions; \
                 replace it with the output of `better-auth secret`",
                secret.from
            ),
        );
        return;
    }
    report.ok(
        NAME,
        format!(
            "BETTER_AUTH_SECRET is set ({len} characters, from {})",
            secret.from
        ),
    );
}

/// Words a placeholder secret is made of (`change-me`, `your-secret-here`,
/// `a-secret-of-at-least-32-characters`).
const PLACEHOLDER_WORDS: &[&str] = &[
    "a",
    "an",
    "at",
    "auth",
    "better",
    "betterauth",
    "change",
    "changeme",
    "changethis",
    "char",
    "characters",
    "chars",
    "default",
    "dev",
    "development",
    "dummy",
    "example",
    "fake",
    "here",
    "insert",
    "key",
    "least",
    "long",
    "me",
    "my",
    "of",
    "password",
    "placeholder",
    "please",
    "prod",
    "production",
    "random",
    "replace",
    "sample",
    "secret",
    "secure",
    "session",
    "string",
    "super",
    "supersecret",
    "test",
    "testing",
    "the",
    "this",
    "to",
    "todo",
    "token",
    "value",
    "very",
    "with",
    "your",
    "x",
];

/// Why a secret is obviously weak, or `None` when it looks random.
fn weakness(secret: &str) -> Option<&'static str> {
    let distinct: std::collections::HashSet<char> = secret.chars().collect();
    if distinct.len() == 1 {
        return Some("is one character repeated");
    }
    let letters: Vec<u8> = secret
        .to_ascii_lowercase()
        .bytes()
        .filter(u8::is_ascii_alphanumeric)
        .collect();
    if letters.is_empty() {
        return (distinct.len() < 8).then_some("uses fewer than 8 different characters");
    }
    // Word break: can the letters be read as placeholder words and numbers only?
    let mut reachable = vec![false; letters.len() + 1];
    reachable[0] = true;
    for start in 0..letters.len() {
        if !reachable[start] {
            continue;
        }
        let rest = &letters[start..];
        for word in PLACEHOLDER_WORDS {
            if rest.starts_with(word.as_bytes()) {
                reachable[start + word.len()] = true;
            }
        }
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        for len in 1..=digits {
            reachable[start + len] = true;
        }
    }
    if reachable[letters.len()] {
        return Some("looks like a placeholder, not a random value");
    }
    (distinct.len() < 8).then_some("uses fewer than 8 different characters")
}

/// Checks `BETTER_AUTH_URL`; returns it when set.
fn check_base_url(vars: &Vars, report: &mut Report) -> Option<String> {
    const NAME: &str = "base url";
    let Some(url) = vars.get("BETTER_AUTH_URL") else {
        report.fail(
            NAME,
            "BETTER_AUTH_URL is not set: set it to the app's public address, e.g. \
             BETTER_AUTH_URL=http://localhost:3000",
        );
        return None;
    };
    let value = url.value.trim();
    match origin(value) {
        Err(why) => report.fail(
            NAME,
            format!(
                "BETTER_AUTH_URL (from {}) is `{value}`, {why}: set it to the app's public \
                 address (scheme, host and port), e.g. BETTER_AUTH_URL=https://app.example.com",
                url.from
            ),
        ),
        Ok(origin) if origin != value => report.fail(
            NAME,
            format!(
                "BETTER_AUTH_URL (from {}) is `{value}`, which has a path: Better Auth adds \
                 the endpoints' path itself (`base_path`): set BETTER_AUTH_URL={origin}",
                url.from
            ),
        ),
        Ok(origin)
            if origin.starts_with("http://")
                && !better_auth::config::is_loopback_origin(&origin) =>
        {
            report.warn(
                NAME,
                format!(
                    "BETTER_AUTH_URL is {origin} (from {}): plain http off this machine, so \
                     cookies are not `Secure`; use https in production",
                    url.from
                ),
            );
        }
        Ok(origin) => report.ok(
            NAME,
            format!("BETTER_AUTH_URL is {origin} (from {})", url.from),
        ),
    }
    Some(value.to_owned())
}

/// The origin of an http(s) URL as browsers send it (`scheme://host[:port]`, lowercase,
/// the default port left out, as the runtime compares them), or why it is not one.
pub(crate) fn origin(url: &str) -> Result<String, &'static str> {
    // `localhost:3000` parses as a URL of the scheme `localhost`: it is not one here.
    if !url.contains("://") {
        return Err("not a URL");
    }
    let parsed = url::Url::parse(url.trim()).map_err(|_| "not a URL")?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("not an http or https URL");
    }
    if parsed.host_str().is_none_or(str::is_empty) || !parsed.username().is_empty() {
        return Err("not a URL with a host");
    }
    Ok(parsed.origin().ascii_serialization())
}

fn check_database(dir: &Path, vars: &Vars, report: &mut Report) {
    const NAME: &str = "database";
    let (var, source) = match (
        vars.get("BETTER_AUTH_DATABASE_URL"),
        vars.get("DATABASE_URL"),
    ) {
        (Some(var), _) => {
            let source = if var.from == ".env" {
                ".env BETTER_AUTH_DATABASE_URL"
            } else {
                "BETTER_AUTH_DATABASE_URL"
            };
            (var, source)
        }
        (None, Some(var)) => {
            let source = if var.from == ".env" {
                ".env DATABASE_URL"
            } else {
                "DATABASE_URL"
            };
            (var, source)
        }
        (None, None) => {
            report.fail(
                NAME,
                "no database URL: set BETTER_AUTH_DATABASE_URL in .env, e.g. \
                 BETTER_AUTH_DATABASE_URL=sqlite://auth.db",
            );
            return;
        }
    };
    let fallback = if source.ends_with(" DATABASE_URL") || source == "DATABASE_URL" {
        ", as BETTER_AUTH_DATABASE_URL is not set"
    } else {
        ""
    };
    let target = Target {
        url: resolve_sqlite_path(dir, &var.value),
        source,
    };
    let shown = format!("{} (from {source}{fallback})", redact_url(&var.value));
    if let Some(file) = target.sqlite_file() {
        if !file.exists() {
            report.warn(
                NAME,
                format!(
                    "{shown}: the file {} does not exist yet: run `better-auth migrate`, or \
                     start the app, which creates it",
                    file.display()
                ),
            );
            return;
        }
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            report.fail(NAME, format!("cannot start the async runtime: {e}"));
            return;
        }
    };
    runtime.block_on(async {
        let db = match db::connect(&target, false).await {
            Ok(db) => db,
            Err(e) => {
                report.fail(
                    NAME,
                    format!("{shown}: {e}: check the URL, and that the database server is running"),
                );
                return;
            }
        };
        report.ok(NAME, format!("connected to {shown}"));
        let status = migration_status(&db).await;
        db.close().await;
        match status {
            Err(e) => report.fail(
                "migrations",
                format!("cannot read the migration history: {e}"),
            ),
            Ok(states) => migrations(&states, report),
        }
    });
}

fn migrations(states: &[better_auth::store::MigrationState], report: &mut Report) {
    const NAME: &str = "migrations";
    if let Some(changed) = states.iter().find(|m| {
        m.applied_checksum
            .as_ref()
            .is_some_and(|c| *c != m.checksum)
    }) {
        report.fail(
            NAME,
            format!(
                "migration {:04} {} was applied with different SQL than this version of \
                 Better Auth ships: use the same Better Auth version in the app and the CLI \
                 (`better-auth --version`); `better-auth migrate status` shows the checksums",
                changed.version, changed.description
            ),
        );
        return;
    }
    let pending: Vec<String> = states
        .iter()
        .filter(|m| !m.is_applied())
        .map(|m| format!("{:04} {}", m.version, m.description))
        .collect();
    if pending.is_empty() {
        report.ok(NAME, format!("all {} migrations applied", states.len()));
    } else {
        report.warn(
            NAME,
            format!(
                "{} of {} migrations pending ({}): run `better-auth migrate`, or start the \
                 app, which runs them",
                pending.len(),
                states.len(),
                pending.join(", ")
            ),
        );
    }
}

/// A relative SQLite path in the URL is taken from the project directory, where
/// the app runs (`cargo run`).
fn resolve_sqlite_path(dir: &Path, url: &str) -> String {
    for prefix in ["sqlite://", "sqlite:"] {
        if let Some(rest) = url.strip_prefix(prefix) {
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() || path.contains(":memory:") || Path::new(path).is_absolute() {
                return url.to_owned();
            }
            return format!(
                "sqlite://{}{}",
                dir.join(path).display(),
                &rest[path.len()..]
            );
        }
    }
    url.to_owned()
}

fn check_sources(dir: &Path, report: &mut Report) {
    let src = dir.join("src");
    if !src.is_dir() {
        report.warn(
            "sources",
            format!(
                "no src/ in {}: pass the app's package with --path to check its sources",
                dir.display()
            ),
        );
        return;
    }
    let files = crate::files::rust_files_under(&src);
    let mut extractors: Option<PathBuf> = None;
    let mut attached = false;
    let mut connect_info = false;
    // `init` defines extractors of these names for an `Arc<State>` router; they read
    // Better Auth from the state and need no `attach`.
    let mut own_extractors = false;
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in code_lines(&text) {
            let import = line.starts_with("use ") || line.starts_with("pub use ");
            if extractors.is_none()
                && !import
                && (has_word(line, "Authenticated") || has_word(line, "MaybeAuthenticated"))
            {
                extractors = Some(file.clone());
            }
            if (line.contains("attach(") && !line.contains("fn attach("))
                || line.contains("Extension(")
            {
                attached = true;
            }
            if line.contains("struct Authenticated") || line.contains("struct MaybeAuthenticated") {
                own_extractors = true;
            }
            if line.contains("into_make_service_with_connect_info") {
                connect_info = true;
            }
        }
    }
    let shown = |file: &Path| file.strip_prefix(dir).unwrap_or(file).display().to_string();
    match (&extractors, attached) {
        (Some(_), false) if own_extractors => report.ok(
            "extractors",
            "the app defines its own `Authenticated`/`MaybeAuthenticated`, which read Better \
             Auth from the router's state",
        ),
        (Some(file), false) => report.fail(
            "extractors",
            format!(
                "{} takes `Authenticated`/`MaybeAuthenticated`, but neither `attach(` nor \
                 `Extension(` appears in src/: the extractors find Better Auth in the \
                 request: serve the app through `auth::attach(app, &auth)`",
                shown(file)
            ),
        ),
        (Some(_), true) => report.ok(
            "extractors",
            "handlers take Better Auth's extractors and the app is served through `attach`",
        ),
        (None, _) => report.ok(
            "extractors",
            "no handler takes `Authenticated`/`MaybeAuthenticated`; nothing to attach",
        ),
    }
    if connect_info {
        report.ok(
            "client ip",
            "served with `into_make_service_with_connect_info`: rate limits see each client",
        );
    } else {
        report.warn(
            "client ip",
            "rate limits cannot tell clients apart: serve with \
             `.into_make_service_with_connect_info::<SocketAddr>()`",
        );
    }
}

/// Every `.rs` file under `dir`, recursively.
/// The lines of Rust source that are not comments, trimmed (a textual reading:
/// `//` comments and doc comments are skipped, block comments are not).
fn code_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
}

/// True when `word` occurs in `line` as a whole identifier.
fn has_word(line: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    line.match_indices(word).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_secrets() {
        assert!(weakness(&"a".repeat(40)).is_some());
        assert!(weakness("changemechangemechangemechangeme").is_some());
        assert!(weakness("a-secret-of-at-least-32-characters!!").is_some());
        assert!(weakness("test-secret-test-secret-test-secret-test").is_some());
        assert!(weakness("your-super-secret-key-here-12345678").is_some());
        assert!(weakness("abababababababababababababababababab").is_some());
        assert!(weakness("Xq3vJ9mK2pL8nR5tW7yB4cF6hD1gA0sE-_zUoIiQ").is_none());
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin("https://App.Example.com/x").as_deref(),
            Ok("https://app.example.com")
        );
        assert_eq!(
            origin("https://app.example.com:443").as_deref(),
            Ok("https://app.example.com")
        );
        assert!(origin("localhost:3000").is_err());
        assert!(origin("ftp://x").is_err());
        assert!(origin("https://admin@app.example.com").is_err());
    }

    #[test]
    fn sqlite_paths_are_relative_to_the_project() {
        assert_eq!(
            resolve_sqlite_path(Path::new("/p"), "sqlite://auth.db?mode=rwc"),
            "sqlite:///p/auth.db?mode=rwc"
        );
        assert_eq!(
            resolve_sqlite_path(Path::new("/p"), "sqlite:///abs/auth.db"),
            "sqlite:///abs/auth.db"
        );
        assert_eq!(
            resolve_sqlite_path(Path::new("/p"), "sqlite::memory:"),
            "sqlite::memory:"
        );
    }

    #[test]
    fn words_are_whole() {
        assert!(has_word(
            "Authenticated(session): Authenticated,",
            "Authenticated"
        ));
        assert!(!has_word("NotAuthenticated", "Authenticated"));
        assert!(has_word("MaybeAuthenticated(s)", "MaybeAuthenticated"));
    }
}
