//! `.env`, `.env.example` and `.gitignore`: merged line by line, never overwriting a value.

use std::path::Path;
use std::process::{Command, Stdio};

use minijinja::context;
use rand::Rng;
use rand::distributions::Alphanumeric;

use super::render::Renderer;

/// A variable `init` wants in `.env`.
#[derive(Debug, Clone, serde::Serialize)]
pub(super) struct Var {
    /// Its name.
    pub name: &'static str,
    /// Its value in `.env`.
    pub value: String,
    /// Its value in `.env.example`.
    pub example: String,
}

/// A fresh secret: 64 random letters and digits from the OS-seeded generator.
pub(super) fn new_secret() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(64)
        .map(char::from)
        .collect()
}

/// The names an app's committed example of its `.env` goes by, the usual one first.
pub(super) const EXAMPLE_NAMES: [&str; 4] =
    [".env.example", ".env.sample", ".env.template", ".env.dist"];

/// The example file in `dir`: the first of [`EXAMPLE_NAMES`] that exists, else
/// `.env.example`.
pub(super) fn example_path(dir: &std::path::Path) -> std::path::PathBuf {
    EXAMPLE_NAMES
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| dir.join(EXAMPLE_NAMES[0]))
}

/// The variables a dotenv file sets, in order, as the app will read them (dotenvy's
/// parser: quotes, `export`, comments, `${VAR}` expansion); lines it cannot read are
/// skipped.
fn variables(text: &str) -> Vec<(String, String)> {
    dotenvy::from_read_iter(text.as_bytes())
        .filter_map(Result::ok)
        .collect()
}

/// The names a dotenv file sets.
pub(super) fn keys(text: &str) -> Vec<String> {
    variables(text).into_iter().map(|(k, _)| k).collect()
}

/// The value of `name` in a dotenv file (the last one, as the app reads it).
pub(super) fn value_of(text: &str, name: &str) -> Option<String> {
    variables(text)
        .into_iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Whether the value of `name` is built from other variables (`${DB_USER}`), as example
/// files write a shape rather than a value.
pub(super) fn is_template(text: &str, name: &str) -> bool {
    let assignment = format!("{name}=");
    text.lines().any(|line| {
        let line = line.trim_start();
        line.strip_prefix("export ")
            .unwrap_or(line)
            .trim_start()
            .starts_with(&assignment)
            && line.contains('$')
    })
}

/// The dotenv file with every missing variable appended (existing ones untouched).
pub(super) fn merge(
    renderer: &Renderer,
    template: &str,
    existing: Option<&str>,
    vars: &[Var],
    example: bool,
) -> anyhow::Result<String> {
    let present = existing.map(keys).unwrap_or_default();
    let missing: Vec<serde_json_like::Pair> = vars
        .iter()
        .filter(|v| !present.iter().any(|p| p == v.name))
        .map(|v| serde_json_like::Pair {
            name: v.name,
            value: if example {
                v.example.clone()
            } else {
                v.value.clone()
            },
        })
        .collect();
    let Some(existing) = existing else {
        return renderer.render(template, context! { mode => "new", vars => missing });
    };
    if missing.is_empty() {
        return Ok(existing.to_owned());
    }
    let mut out = existing.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    // The header goes in once: a later run that adds variables adds them under those
    // init wrote before.
    let headed = present.iter().any(|name| name.starts_with("BETTER_AUTH_"));
    let appended = renderer.render(
        template,
        context! { mode => "append", vars => missing, headed },
    )?;
    // The block opens with a blank line; a file that ends with one already needs no other.
    let appended = if out.is_empty() || out.ends_with("\n\n") {
        appended.trim_start_matches('\n')
    } else {
        &appended
    };
    out.push_str(appended);
    Ok(out)
}

/// `.gitignore` with `.env` in it.
pub(super) fn ignore_env(existing: Option<&str>) -> String {
    let ignored = existing.is_some_and(|text| {
        text.lines()
            .map(str::trim)
            .any(|l| matches!(l, ".env" | "/.env" | ".env*" | "*.env" | "/.env*"))
    });
    match existing {
        Some(text) if ignored => text.to_owned(),
        Some(text) => {
            let mut out = text.to_owned();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(".env\n");
            out
        }
        None => ".env\n".to_owned(),
    }
}

/// The file a `sqlite:` URL names, relative to where the app runs: `None` for another
/// backend, an in-memory database or an absolute path (outside the project).
pub(super) fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    let relative = !path.is_empty() && !path.starts_with('/') && !path.contains(":memory:");
    relative.then_some(path)
}

/// `.gitignore` with the SQLite database `file` (and its `-wal` and `-shm` companions)
/// in it, unless all three are ignored already. The database holds password hashes and
/// live session tokens: it must never be committed.
pub(super) fn ignore_database(existing: &str, git: &GitView, file: &str) -> String {
    let covered = DATABASE_SUFFIXES
        .iter()
        .all(|suffix| git.ignored(&format!("{file}{suffix}"), existing));
    if covered {
        return existing.to_owned();
    }
    let mut out = existing.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!(
        "# Better Auth's SQLite database: password hashes and session tokens\n{file}*\n"
    ));
    out
}

/// The files an SQLite database `file` comes with.
pub(super) const DATABASE_SUFFIXES: [&str; 4] = ["", "-wal", "-shm", "-journal"];

/// What git says about files of one folder, asked once while inspecting the project so
/// that planning reads answers instead of running git.
#[derive(Debug, Default, Clone)]
pub(super) struct GitView {
    /// Inside a repository: whether git ignores each path asked about (relative to the
    /// folder, `/`-separated). `None` outside one (or without git): `.gitignore` is read.
    answers: Option<Vec<(String, bool)>>,
}

impl GitView {
    /// Asks git (one `git check-ignore`, run in `dir`) about `relatives`.
    pub(super) fn ask(dir: &Path, relatives: &[String]) -> GitView {
        let answers = git_ignored_among(dir, relatives).map(|ignored| {
            relatives
                .iter()
                .map(|r| (r.clone(), ignored.contains(r)))
                .collect()
        });
        GitView { answers }
    }

    /// Whether `relative` is ignored: git's answer inside a repository, else what
    /// `gitignore` (the text the folder's `.gitignore` will have) says.
    pub(super) fn ignored(&self, relative: &str, gitignore: &str) -> bool {
        self.answers
            .as_ref()
            .and_then(|answers| answers.iter().find(|(r, _)| r == relative))
            .map_or_else(|| ignored_by(relative, gitignore), |(_, ignored)| *ignored)
    }
}

/// Whether git tracks `file` (`git ls-files --error-unmatch`, run in its folder). False
/// outside a repository or without git.
pub(super) fn tracked_by_git(file: &Path) -> bool {
    let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
        return false;
    };
    Command::new("git")
        .args(["ls-files", "--error-unmatch", "--"])
        .arg(name)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Whether `file` is ignored by git now: asked of git (`git check-ignore`) inside a
/// repository, else read from `gitignore`, the text of its folder's `.gitignore`.
pub(super) fn ignored(file: &Path, gitignore: &str) -> bool {
    let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
        return false;
    };
    let name = name.to_string_lossy().into_owned();
    match git_ignored_among(dir, std::slice::from_ref(&name)) {
        Some(ignored) => !ignored.is_empty(),
        None => ignored_by(&name, gitignore),
    }
}

/// Which of `relatives` (paths under `dir`) git ignores, asked in one `git
/// check-ignore`: `None` outside a repository or without git.
fn git_ignored_among(dir: &Path, relatives: &[String]) -> Option<Vec<String>> {
    if relatives.is_empty() {
        return Some(Vec::new());
    }
    let asked = Command::new("git")
        .args(["check-ignore", "--"])
        .args(relatives)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    // 0: some are ignored, 1: none; 128: not a repository (or git failed).
    match asked.status.code() {
        Some(0 | 1) => Some(
            String::from_utf8_lossy(&asked.stdout)
                .lines()
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    }
}

/// Whether the patterns of `gitignore` ignore `relative` (a path under its folder,
/// `/`-separated).
fn ignored_by(relative: &str, gitignore: &str) -> bool {
    // The folders on the way, then the file itself: a pattern that matches a folder
    // ignores everything in it.
    let mut subjects: Vec<(&str, bool)> = relative
        .match_indices('/')
        .map(|(at, _)| (&relative[..at], true))
        .collect();
    subjects.push((relative, false));
    let mut ignored = false;
    for line in gitignore.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (negated, pattern) = match line.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let folders_only = pattern.ends_with('/');
        let pattern = pattern.trim_end_matches('/');
        // A pattern with a slash is matched against the whole path from this folder,
        // one without against a name at any depth.
        let anchored = pattern.contains('/');
        let pattern = pattern.strip_prefix('/').unwrap_or(pattern);
        let hit = subjects.iter().any(|&(path, folder)| {
            let subject = if anchored {
                path
            } else {
                path.rsplit('/').next().unwrap_or(path)
            };
            (folder || !folders_only) && glob_matches(pattern.as_bytes(), subject.as_bytes())
        });
        if hit {
            ignored = !negated;
        }
    }
    ignored
}

/// A gitignore-style glob on one name: `*` (any run), `?` (one character), the rest literal.
fn glob_matches(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob_matches(&pattern[1..], name)
                || (!name.is_empty() && glob_matches(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => glob_matches(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => glob_matches(&pattern[1..], &name[1..]),
        _ => false,
    }
}

mod serde_json_like {
    /// A `NAME=value` line for the templates.
    #[derive(serde::Serialize)]
    pub(super) struct Pair {
        pub name: &'static str,
        pub value: String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_is_asked_once_about_every_path_in_a_repository() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output()
                .unwrap()
        };
        git(&["init", "-q"]);
        std::fs::write(dir.path().join(".gitignore"), "*.db\n").unwrap();
        let asked = ["auth.db".to_owned(), ".env.example".to_owned()];
        let view = GitView::ask(dir.path(), &asked);
        // Git's answers win over the text handed in.
        assert!(view.ignored("auth.db", ""));
        assert!(!view.ignored(".env.example", ".env*\n"));
        // Outside a repository, nothing is known: the patterns decide.
        let outside = GitView::ask(Path::new("/"), &asked);
        assert!(outside.ignored(".env.example", ".env*\n"));
    }

    #[test]
    fn gitignore_patterns_without_git() {
        let git = GitView::default();
        assert!(git.ignored(".env.example", ".env*\n"));
        assert!(git.ignored(".env.example", "/.env.*\n"));
        assert!(!git.ignored(".env.example", ".env\ntarget/\n"));
        assert!(!git.ignored(".env.example", ".env.*\n!.env.example\n"));
        assert!(!git.ignored(".env.example", ""));
    }

    #[test]
    fn values_are_read_as_the_app_reads_them() {
        let text = "# settings\nexport PORT=8080\nDATABASE_URL=\"postgres://a@b/c\" # local\n\
                    SECRET='x#y'\nBROKEN LINE\nPORT=9090\n";
        assert_eq!(
            value_of(text, "DATABASE_URL").as_deref(),
            Some("postgres://a@b/c")
        );
        assert_eq!(value_of(text, "SECRET").as_deref(), Some("x#y"));
        assert_eq!(
            value_of(text, "PORT").as_deref(),
            Some("9090"),
            "the last one wins"
        );
        assert_eq!(value_of(text, "BROKEN"), None);
        assert_eq!(keys(text), ["PORT", "DATABASE_URL", "SECRET", "PORT"]);
        let example = "DATABASE_URL=postgres://${DB_USER}@localhost/app\nPORT=80\n";
        assert!(is_template(example, "DATABASE_URL"));
        assert!(!is_template(example, "PORT"));
    }

    #[test]
    fn an_appended_block_never_makes_a_double_blank_line() {
        let renderer = Renderer::new();
        let vars = [Var {
            name: "BETTER_AUTH_URL",
            value: "http://localhost:3000".to_owned(),
            example: "http://localhost:3000".to_owned(),
        }];
        for existing in ["APP=1\n", "APP=1", "APP=1\n\n"] {
            let merged = merge(&renderer, "env.example", Some(existing), &vars, true).unwrap();
            assert!(!merged.contains("\n\n\n"), "{merged:?}");
            assert!(merged.contains("APP=1\n\n# Better Auth"), "{merged:?}");
        }
    }

    #[test]
    fn the_sqlite_file_is_read_from_the_url() {
        assert_eq!(sqlite_file("sqlite:auth.db?mode=rwc"), Some("auth.db"));
        assert_eq!(
            sqlite_file("sqlite://data/app.sqlite"),
            Some("data/app.sqlite")
        );
        assert_eq!(sqlite_file("sqlite:///var/lib/app/auth.db"), None);
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://localhost/app"), None);
    }

    #[test]
    fn the_database_is_ignored_once() {
        let dir = GitView::default();
        let added = ignore_database(".env\n", &dir, "auth.db");
        assert_eq!(
            added,
            ".env\n# Better Auth's SQLite database: password hashes and session tokens\nauth.db*\n"
        );
        assert_eq!(ignore_database(&added, &dir, "auth.db"), added);
        // `*.db` leaves the write-ahead log out: the line is still added.
        assert!(ignore_database("*.db", &dir, "auth.db").ends_with("auth.db*\n"));
        assert_eq!(ignore_database("*.db*\n", &dir, "auth.db"), "*.db*\n");
        let nested = ignore_database("", &dir, "data/users.sqlite");
        assert!(nested.ends_with("\ndata/users.sqlite*\n"), "{nested}");
        assert_eq!(ignore_database(&nested, &dir, "data/users.sqlite"), nested);
        assert_eq!(
            ignore_database("/data/\n", &dir, "data/users.sqlite"),
            "/data/\n"
        );
    }
}
