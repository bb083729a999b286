//! Inspection: every read `init` makes of the project (its sources, dotenv files, cargo's
//! `[env]`, configuration files, migrations, tests) and every question put to git, done
//! once, up front. What follows (resolve, plan) works on these facts alone.

use anyhow::{Context, anyhow};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::args::InitArgs;
use super::envfile::{self, GitView};
use super::manifest::RuntimeSource;
use super::project::Package;
use super::source::{self, Model};
use super::wiring;

/// The folders beside the package (or its workspace root) an app keeps its configuration
/// files in.
pub(super) const CONFIG_FOLDERS: [&str; 4] = ["config", "configuration", "settings", "conf"];

/// TOML files that are tools' settings, not the app's configuration.
const NOT_CONFIG: [&str; 12] = [
    "Cargo.toml",
    "rust-toolchain.toml",
    "rustfmt.toml",
    ".rustfmt.toml",
    "clippy.toml",
    "deny.toml",
    "Cross.toml",
    "Makefile.toml",
    "diesel.toml",
    "sqlx.toml",
    "taplo.toml",
    "release.toml",
];

/// A TOML or YAML file that may be the app's configuration.
#[derive(Debug)]
pub(super) struct ConfigFile {
    /// Its name (`base.yaml`).
    pub file_name: String,
    /// Its name without the extension, lowercase (`base`).
    pub stem: String,
    /// The configuration folder it is in (`configuration`), if any.
    pub folder: Option<&'static str>,
    /// Whether it is TOML (else YAML).
    pub toml: bool,
    /// Its text.
    pub text: String,
}

/// What the project holds, as read before anything is decided.
pub(super) struct Facts {
    /// The folder init was pointed at, canonical.
    pub base: PathBuf,
    /// The package's parsed sources.
    pub model: Model,
    /// The value of every string literal in them (macro arguments included), read once
    /// for the environment variables, files and URLs they name.
    pub literals: HashSet<String>,
    /// The name of the module init writes (`auth`, unless the app has one of that name).
    pub module: String,
    /// That module's text when it exists (an earlier run's).
    pub existing_module: Option<String>,
    /// `.env` where Better Auth's settings go, and its text.
    pub env_path: PathBuf,
    pub env_text: Option<String>,
    /// Whether git tracks that `.env`.
    pub env_tracked: bool,
    /// `.env.local` beside it, where the secret goes when git tracks `.env`, and its
    /// text; whether git tracks it too.
    pub env_local_path: PathBuf,
    pub env_local_text: Option<String>,
    pub env_local_tracked: bool,
    /// The app's own SQLite file (from its `DATABASE_URL` or a `sqlite:` URL in its code),
    /// when git tracks it.
    pub tracked_sqlite: Option<String>,
    /// Cargo's `[env]` table as dotenv text (`cargo run` sets these).
    pub cargo_env: Option<String>,
    /// The app's example dotenv file (`.env.example`, `.env.sample`, ...) and its text.
    pub example_path: PathBuf,
    pub example_text: Option<String>,
    /// A workspace member's own `.env` and example texts (its folder is not the one
    /// Better Auth's settings go in).
    pub member_env_files: Vec<String>,
    /// The `.gitignore` beside `.env`, and its text.
    pub ignore_path: PathBuf,
    pub ignore_text: Option<String>,
    /// Git's view of the files init may add to `.gitignore`.
    pub git: GitView,
    /// The SQL of the app's own `migrations/`, joined.
    pub app_migrations_sql: String,
    /// The files already in the migrations folder init would copy into.
    pub migration_files: Vec<PathBuf>,
    /// Configuration files the app may read its port from.
    pub config_files: Vec<ConfigFile>,
    /// Test code outside the model (`tests/`, `#[cfg(test)] mod x;` files), as
    /// `(file as shown, text)`.
    pub test_sources: Vec<(String, String)>,
    /// Where the runtime dependency comes from, and whether a flag chose it.
    pub runtime: (RuntimeSource, bool),
    /// The current text of each file init may overwrite (the module, copied migrations).
    existing: Vec<(PathBuf, String)>,
}

impl Facts {
    /// The current text of `path`, for a file init may write (`None` when absent).
    pub(super) fn text_of(&self, path: &Path) -> Option<String> {
        self.existing
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, text)| text.clone())
    }

    /// What the app's environment holds in development: `.env`, then cargo's `[env]`.
    pub(super) fn live_env(&self) -> Option<String> {
        let live = self
            .env_text
            .iter()
            .chain(self.cargo_env.iter())
            .cloned()
            .collect::<Vec<_>>()
            .join("\n");
        (!live.trim().is_empty()).then_some(live)
    }

    /// Every dotenv text the app has, the member's own first: its `.env`, cargo's `[env]`,
    /// its example file.
    pub(super) fn env_files(&self) -> Vec<String> {
        self.member_env_files
            .iter()
            .chain(&self.env_text)
            .chain(&self.cargo_env)
            .chain(&self.example_text)
            .cloned()
            .collect()
    }

    /// A path as the user sees it: relative to the folder init was pointed at.
    pub(super) fn shown(&self, path: &Path) -> String {
        super::shown(path, &self.base)
    }
}

/// Reads everything init needs from the project of `package`.
pub(super) fn inspect(args: &InitArgs, package: &Package) -> anyhow::Result<Facts> {
    let base = args
        .path
        .canonicalize()
        .unwrap_or_else(|_| args.path.clone());
    // Paths as the user sees them: relative to the folder init was pointed at (a
    // workspace member's files keep their folder, e.g. `app/src/main.rs`).
    let shown = |p: &Path| {
        p.strip_prefix(&base)
            .or_else(|_| p.strip_prefix(&package.dir))
            .map(|r| r.display().to_string())
            .unwrap_or_else(|_| p.display().to_string())
    };
    let model = Model::load(&package.roots(), &shown)?;
    let module = module_name(&model);
    let existing_module = module_text(&model, &module);

    let env_path = package.env_dir.join(".env");
    let env_text = read(&env_path);
    let example_path = envfile::example_path(&package.env_dir);
    let ignore_path = package.env_dir.join(".gitignore");
    let mut member_env_files = Vec::new();
    if package.dir != package.env_dir {
        member_env_files.extend(
            [
                package.dir.join(".env"),
                envfile::example_path(&package.dir),
            ]
            .iter()
            .filter_map(|path| read(path)),
        );
    }
    let mut dirs = vec![&package.dir, &package.env_dir];
    dirs.dedup();

    let migrations_dir = package
        .migrations_dir
        .clone()
        .unwrap_or_else(|| package.dir.join("migrations"));
    let migration_files = files_in(&migrations_dir);
    let mut existing: Vec<(PathBuf, String)> = migration_files
        .iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("_better_auth_"))
        })
        .filter_map(|p| Some((p.clone(), read(p)?)))
        .collect();
    existing.extend(
        module_candidates(&model, &module, package)
            .into_iter()
            .filter_map(|p| {
                let text = read(&p)?;
                Some((p, text))
            }),
    );

    let mut test_paths = crate::files::rust_files_under(&package.dir.join("tests"));
    test_paths.extend(model.test_module_paths());
    let test_sources = test_paths
        .iter()
        .filter_map(|p| Some((shown(p), read(p)?)))
        .collect();

    let git = GitView::ask(&package.env_dir, &git_questions(&example_path, &env_text));
    let literals = model.string_literals();
    let tracked_sqlite = apps_sqlite_files(&env_text, &literals)
        .into_iter()
        .find(|file| {
            [&package.dir, &package.env_dir]
                .iter()
                .any(|dir| envfile::tracked_by_git(&dir.join(file)))
        });
    Ok(Facts {
        tracked_sqlite,
        env_tracked: envfile::tracked_by_git(&env_path),
        env_local_tracked: envfile::tracked_by_git(&env_path.with_file_name(".env.local")),
        env_local_text: read(&env_path.with_file_name(".env.local")),
        env_local_path: env_path.with_file_name(".env.local"),
        cargo_env: cargo_config_env(&dirs),
        config_files: config_files(&dirs),
        app_migrations_sql: migrations_sql(&package.dir.join("migrations")),
        runtime: runtime_source(args)?,
        ignore_text: read(&ignore_path),
        example_text: read(&example_path),
        base,
        literals,
        model,
        module,
        existing_module,
        env_path,
        env_text,
        example_path,
        member_env_files,
        ignore_path,
        git,
        migration_files,
        test_sources,
        existing,
    })
}

#[cfg(test)]
impl Facts {
    /// Facts of a project that exists only in memory: `package`'s crate roots (no module
    /// files), its `.env`, cargo's `[env]`, its `.env.example` and configuration files,
    /// outside any repository.
    pub(super) fn in_memory(
        package: &Package,
        env_text: Option<&str>,
        cargo_env: Option<&str>,
        example_text: Option<&str>,
        config_files: Vec<ConfigFile>,
    ) -> Facts {
        let shown = |p: &Path| {
            p.strip_prefix(&package.dir)
                .map_or_else(|_| p.display().to_string(), |r| r.display().to_string())
        };
        let model = Model::load(&package.roots(), &shown).expect("the sources parse");
        Facts {
            base: package.dir.clone(),
            literals: model.string_literals(),
            model,
            module: "auth".to_owned(),
            existing_module: None,
            env_path: package.dir.join(".env"),
            env_text: env_text.map(str::to_owned),
            env_tracked: false,
            env_local_path: package.dir.join(".env.local"),
            env_local_text: None,
            env_local_tracked: false,
            tracked_sqlite: None,
            cargo_env: cargo_env.map(str::to_owned),
            example_path: package.dir.join(".env.example"),
            example_text: example_text.map(str::to_owned),
            member_env_files: Vec::new(),
            ignore_path: package.dir.join(".gitignore"),
            ignore_text: None,
            git: GitView::default(),
            app_migrations_sql: String::new(),
            migration_files: Vec::new(),
            config_files,
            test_sources: Vec::new(),
            runtime: (RuntimeSource::Version("0.9".to_owned()), true),
            existing: Vec::new(),
        }
    }
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The files directly in `dir`, sorted; none when it does not exist.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
}

/// The SQLite files the app itself opens: its `DATABASE_URL`'s, and those of `sqlite:`
/// URLs written in its code.
fn apps_sqlite_files(env_text: &Option<String>, literals: &HashSet<String>) -> Vec<String> {
    let from_env = env_text
        .as_deref()
        .and_then(|t| envfile::value_of(t, "DATABASE_URL"));
    from_env
        .iter()
        .chain(literals.iter().filter(|l| l.starts_with("sqlite:")))
        .filter_map(|url| envfile::sqlite_file(url).map(str::to_owned))
        .collect()
}

/// What git is asked about, in the folder of `.env`: the example file (is it shared?) and
/// the SQLite files Better Auth may keep there (are they kept out of commits?).
fn git_questions(example_path: &Path, env_text: &Option<String>) -> Vec<String> {
    let mut questions: Vec<String> = example_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .into_iter()
        .collect();
    questions.push(".env.local".to_owned());
    let configured = env_text
        .as_deref()
        .and_then(|t| envfile::value_of(t, "BETTER_AUTH_DATABASE_URL"));
    let files = [
        configured.as_deref().and_then(envfile::sqlite_file),
        Some("auth.db"),
    ];
    for file in files.into_iter().flatten() {
        for suffix in envfile::DATABASE_SUFFIXES {
            let question = format!("{file}{suffix}");
            if !questions.contains(&question) {
                questions.push(question);
            }
        }
    }
    questions
}

/// Picks the auth module's name: `auth`, unless something else already has it.
fn module_name(model: &Model) -> String {
    let roots: Vec<&source::SourceFile> = model.files.iter().filter(|f| f.is_root()).collect();
    for name in ["auth", "auth_setup", "better_auth_setup"] {
        let ours = roots.iter().all(|root| {
            let Some(dir) = root.path.parent() else {
                return true;
            };
            match read(&dir.join(format!("{name}.rs"))) {
                Some(text) => text.starts_with(source::GENERATED_HEADER),
                // A `use` of that name (`use crate::handlers::auth;`) would clash with
                // `mod auth;` in the same file (E0255).
                None => !dir.join(name).exists() && !root.has_mod(name) && !root.imports_name(name),
            }
        });
        if ours {
            return name.to_owned();
        }
    }
    "better_auth_setup".to_owned()
}

/// The text of the module init writes, when it exists (next to a crate root). The model
/// leaves it out when an earlier run wrote it: it is not the app's code.
fn module_text(model: &Model, module: &str) -> Option<String> {
    model
        .files
        .iter()
        .filter(|f| f.is_root())
        .filter_map(|root| root.path.parent())
        .find_map(|dir| read(&dir.join(format!("{module}.rs"))))
}

/// Every path the module file may be written to: beside each crate root, or in the
/// package's folder.
fn module_candidates(model: &Model, module: &str, package: &Package) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = model
        .files
        .iter()
        .filter(|f| f.is_root())
        .map(|root| wiring::module_file(&root.path, module).0)
        .collect();
    paths.push(package.dir.join(format!("{module}.rs")));
    paths
}

/// The SQL of the `.sql` files in `dir`, joined.
fn migrations_sql(dir: &Path) -> String {
    files_in(dir)
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .filter_map(|p| read(p))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Cargo's `[env]` table (`.cargo/config.toml` in the package's folder or the one Better
/// Auth's `.env` goes in, or a parent of theirs), as dotenv text: `cargo run` sets these.
fn cargo_config_env(dirs: &[&PathBuf]) -> Option<String> {
    let mut out = String::new();
    let mut seen = Vec::new();
    for dir in dirs {
        for dir in dir.ancestors() {
            for name in [".cargo/config.toml", ".cargo/config"] {
                let path = dir.join(name);
                if seen.contains(&path) {
                    continue;
                }
                seen.push(path.clone());
                let Some(doc) = read(&path).and_then(|t| t.parse::<toml_edit::DocumentMut>().ok())
                else {
                    continue;
                };
                let Some(env) = doc.get("env").and_then(|e| e.as_table_like()) else {
                    continue;
                };
                for (key, item) in env.iter() {
                    let value = item
                        .as_str()
                        .or_else(|| item.get("value").and_then(|v| v.as_str()));
                    if let Some(value) = value {
                        out.push_str(&format!("{key}={value}\n"));
                    }
                }
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The TOML and YAML files in `dirs` and in their configuration folders
/// ([`CONFIG_FOLDERS`]), tools' settings left out.
fn config_files(dirs: &[&PathBuf]) -> Vec<ConfigFile> {
    let mut found = Vec::new();
    for dir in dirs {
        let folders = std::iter::once((dir.to_path_buf(), None)).chain(
            CONFIG_FOLDERS
                .iter()
                .map(|folder| (dir.join(folder), Some(*folder))),
        );
        for (folder, folder_name) in folders {
            for path in files_in(&folder) {
                let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
                if !matches!(ext, "toml" | "yaml" | "yml") || NOT_CONFIG.contains(&file_name) {
                    continue;
                }
                let Some(text) = read(&path) else { continue };
                let stem = file_name.rsplit_once('.').map_or(file_name, |(s, _)| s);
                found.push(ConfigFile {
                    file_name: file_name.to_owned(),
                    stem: stem.to_ascii_lowercase(),
                    folder: folder_name,
                    toml: ext == "toml",
                    text,
                });
            }
        }
    }
    found
}

/// Where the runtime dependency comes from: `--runtime-path`, `--runtime-version`, this
/// checkout's `runtime/` when init was built from one, else this release's tag. The flag
/// says whether the user chose it.
fn runtime_source(args: &InitArgs) -> anyhow::Result<(RuntimeSource, bool)> {
    if let Some(path) = &args.runtime_path {
        let path = path
            .canonicalize()
            .with_context(|| format!("--runtime-path {}", path.display()))?;
        if !path.join("Cargo.toml").is_file() {
            return Err(anyhow!(
                "--runtime-path {}: no Cargo.toml there (point it at the checkout's runtime/ folder)",
                path.display()
            ));
        }
        return Ok((RuntimeSource::Path(path), true));
    }
    if let Some(req) = &args.runtime_version {
        semver::VersionReq::parse(req)
            .with_context(|| format!("--runtime-version {req:?} is not a version requirement"))?;
        return Ok((RuntimeSource::Version(req.clone()), true));
    }
    // Built from a checkout of this repository: use its runtime, so both stay in step.
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime");
    if checkout.join("Cargo.toml").is_file() && !ignore_checkout() {
        if let Ok(path) = checkout.canonicalize() {
            return Ok((RuntimeSource::Path(path), false));
        }
    }
    Ok((release_source(), false))
}

/// This release of the runtime, from the Better Auth repository: a git dependency on the
/// release's tag. (`better-auth` on crates.io is another crate.)
fn release_source() -> RuntimeSource {
    RuntimeSource::Git {
        url: env!("CARGO_PKG_REPOSITORY").to_owned(),
        tag: format!("v{}", env!("CARGO_PKG_VERSION")),
    }
}

/// `BETTER_AUTH_INIT_IGNORE_CHECKOUT=1`: a test hook that takes the fallback even when
/// built from a checkout. Debug builds only; a release build never reads it.
fn ignore_checkout() -> bool {
    #[cfg(debug_assertions)]
    {
        std::env::var_os("BETTER_AUTH_INIT_IGNORE_CHECKOUT").is_some_and(|v| v == "1")
    }
    #[cfg(not(debug_assertions))]
    {
        false
    }
}
