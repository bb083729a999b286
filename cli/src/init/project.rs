//! Inspection of the Cargo side of the target project: which package, which manifest,
//! which dependencies, which files. Pure reading; nothing here writes.

use anyhow::{Context, anyhow};
use std::fs;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item};

use super::args::DatabaseKind;

/// A text file as found on disk (absent files have no text).
#[derive(Debug, Clone)]
pub(super) struct FoundFile {
    /// Where the file is (or would be).
    pub path: PathBuf,
    /// Its content, if the file exists.
    pub text: Option<String>,
}

impl FoundFile {
    fn read(path: PathBuf) -> anyhow::Result<Self> {
        let text = match fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => {
                return Err(anyhow!("cannot read {}: {err}", path.display()));
            }
        };
        Ok(FoundFile { path, text })
    }
}

/// The app's use of sqlx, when it has one.
#[derive(Debug, Clone)]
pub(super) struct SqlxUse {
    /// Whether that requirement is sqlx 0.8, the one Better Auth's pools come from.
    pub is_0_8: bool,
    /// The databases enabled through sqlx's features.
    pub databases: Vec<DatabaseKind>,
}

/// Everything `init` needs to know about the package it changes.
#[derive(Debug)]
pub(super) struct Package {
    /// The package's name from `[package] name`.
    pub name: String,
    /// The package's directory (holds its Cargo.toml).
    pub dir: PathBuf,
    /// The package's Cargo.toml, text and path.
    pub manifest: FoundFile,
    /// The Rust edition, for rustfmt.
    pub edition: String,
    /// sqlx, when the package depends on it.
    pub sqlx: Option<SqlxUse>,
    /// The databases named by an existing `better-auth` dependency's features.
    pub better_auth_databases: Vec<DatabaseKind>,
    /// The databases the app talks to through other crates (sea-orm, diesel,
    /// tokio-postgres, rusqlite, ...).
    pub other_databases: Vec<DatabaseKind>,
    /// A database the app talks to that Better Auth has no store for (`SQL Server`),
    /// named by its dependencies' features (sqlx's `mssql`) or crates (`mongodb`).
    pub unsupported_database: Option<&'static str>,
    /// Why adding SQLite support would make two crates link the native `sqlite3`
    /// library (cargo refuses that), when it would, and what to do about it.
    pub sqlite_clash: Option<String>,
    /// The binary's entry file (`src/main.rs` or `[[bin]] path`).
    pub main: Option<FoundFile>,
    /// The library's root file (`src/lib.rs` or `[lib] path`).
    pub lib: Option<FoundFile>,
    /// The library's crate name, as Rust code names it.
    pub lib_crate: String,
    /// The package's `migrations/` folder, when it has one.
    pub migrations_dir: Option<PathBuf>,
    /// The directory `.env`, `.env.example` and `.gitignore` belong in (the workspace root
    /// for a workspace member, so `cargo run` from either finds `.env`; the member's own
    /// folder when it keeps dotenv files there and the root has none).
    pub env_dir: PathBuf,
}

impl Package {
    /// The crate roots that exist: `(crate, file, text)`, the binary's first.
    pub(super) fn roots(&self) -> Vec<(super::source::Root, PathBuf, String)> {
        use super::source::Root;
        [(Root::Main, &self.main), (Root::Lib, &self.lib)]
            .into_iter()
            .filter_map(|(root, file)| {
                let file = file.as_ref()?;
                Some((root, file.path.clone(), file.text.clone()?))
            })
            .collect()
    }
}

/// The other members of the workspace whose root is `package` that depend on axum, by
/// name: where its server may be, when the root package does not serve the app itself.
pub(super) fn axum_members(package: &Package) -> Vec<String> {
    let Some(root_doc) = package
        .manifest
        .text
        .as_deref()
        .and_then(|t| t.parse::<DocumentMut>().ok())
        .filter(|doc| doc.get("workspace").is_some())
    else {
        return Vec::new();
    };
    let Ok(members) = workspace_members(&package.dir) else {
        return Vec::new();
    };
    members
        .iter()
        .filter(|dir| **dir != package.dir)
        .filter_map(|dir| {
            let manifest = dir.join("Cargo.toml");
            let (_, doc) = read_manifest(&manifest).ok()?;
            dependency(&doc, Some(&root_doc), "axum")?;
            package_name(&doc, &manifest).ok()
        })
        .collect()
}

/// The workspace members the package at `manifest` depends on by path that use axum
/// themselves, as (name, folder relative to `base`): where handlers may live that cannot
/// name the package's own modules. Empty when cargo cannot say.
pub(super) fn axum_path_dependencies(manifest: &Path, base: &Path) -> Vec<(String, PathBuf)> {
    let Ok(metadata) = metadata(manifest) else {
        return Vec::new();
    };
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let manifest = canonical(manifest);
    let Some(package) = metadata
        .packages
        .iter()
        .find(|p| canonical(p.manifest_path.as_std_path()) == manifest)
    else {
        return Vec::new();
    };
    let base = canonical(base);
    package
        .dependencies
        .iter()
        .filter_map(|dep| {
            let dir = canonical(dep.path.as_ref()?.as_std_path());
            let member = metadata.packages.iter().find(|p| {
                p.manifest_path
                    .parent()
                    .is_some_and(|d| canonical(d.as_std_path()) == dir)
            })?;
            member.dependencies.iter().find(|d| d.name == "axum")?;
            let shown = pathdiff(&dir, &base);
            Some((member.name.to_string(), shown))
        })
        .collect()
}

/// `path` relative to `base` when it is under it or beside it (`../api`), else as it is.
fn pathdiff(path: &Path, base: &Path) -> PathBuf {
    if let Ok(rest) = path.strip_prefix(base) {
        return rest.to_path_buf();
    }
    match (base.parent(), base.file_name()) {
        (Some(parent), Some(_)) => match path.strip_prefix(parent) {
            Ok(rest) => Path::new("..").join(rest),
            Err(_) => path.to_path_buf(),
        },
        _ => path.to_path_buf(),
    }
}

/// Reads `path` as a Cargo project and picks the package to change.
pub(super) fn inspect(
    path: &Path,
    wanted: Option<&str>,
    choose: &mut dyn FnMut(&[String]) -> anyhow::Result<String>,
) -> anyhow::Result<Package> {
    let dir = path
        .canonicalize()
        .with_context(|| format!("cannot open {}", path.display()))?;
    let manifest_path = dir.join("Cargo.toml");
    if !manifest_path.is_file() {
        return Err(anyhow!(
            "{} is not a Cargo project: it has no Cargo.toml (point --path at the app's folder)",
            dir.display()
        ));
    }
    let (text, doc) = read_manifest(&manifest_path)?;
    if doc.get("package").is_some() {
        let name = package_name(&doc, &manifest_path)?;
        // `--package` naming another member of a workspace whose root is a package too.
        let member_wanted = wanted.is_some_and(|w| w != name) && doc.get("workspace").is_some();
        if !member_wanted {
            if let Some(wanted) = wanted.filter(|w| *w != name) {
                return Err(anyhow!(
                    "--package {wanted}: {} is the package `{name}`",
                    manifest_path.display()
                ));
            }
            let workspace = find_workspace_root(&dir)?;
            return describe(dir, manifest_path, text, doc, workspace);
        }
    }
    if doc.get("workspace").is_none() {
        return Err(anyhow!(
            "{} has neither [package] nor [workspace]",
            manifest_path.display()
        ));
    }
    // A virtual workspace (or `--package` naming a member): pick the member that is an
    // Axum app.
    let members = workspace_members(&dir)?;
    let mut candidates = Vec::new();
    let mut names = Vec::new();
    for member in members {
        let member_manifest = member.join("Cargo.toml");
        let Ok((member_text, member_doc)) = read_manifest(&member_manifest) else {
            continue;
        };
        let Ok(name) = package_name(&member_doc, &member_manifest) else {
            continue;
        };
        names.push(name.clone());
        if wanted.is_some_and(|wanted| wanted == name)
            || (wanted.is_none() && dependency(&member_doc, Some(&doc), "axum").is_some())
        {
            candidates.push((name, member, member_manifest, member_text, member_doc));
        }
    }
    let programs: Vec<usize> = (0..candidates.len())
        .filter(|&i| {
            let (name, member_dir, _, _, member_doc) = &candidates[i];
            binary_candidates(member_doc, name, member_dir)
                .iter()
                .any(|p| p.is_file())
        })
        .collect();
    let chosen = match candidates.len() {
        0 => {
            return Err(match wanted {
                Some(wanted) => anyhow!(
                    "--package {wanted}: the workspace has no such member (members: {})",
                    names.join(", ")
                ),
                None => anyhow!(
                    "no member of the workspace at {} depends on axum; Better Auth needs an \
                     Axum 0.8 app (add it to the app's member with `cargo add -p <member> \
                     axum@0.8`)",
                    dir.display()
                ),
            });
        }
        1 => candidates.remove(0),
        // Several members use axum, but only one is a program (the others are
        // libraries and test crates around it): that one serves the app.
        _ if programs.len() == 1 => candidates.remove(programs[0]),
        _ => {
            let names: Vec<String> = candidates.iter().map(|c| c.0.clone()).collect();
            let name = choose(&names)?;
            let index = names.iter().position(|n| *n == name).unwrap_or(0);
            candidates.remove(index)
        }
    };
    let (_, member_dir, member_manifest, member_text, member_doc) = chosen;
    describe(
        member_dir,
        member_manifest,
        member_text,
        member_doc,
        Some((dir, doc)),
    )
}

fn read_manifest(path: &Path) -> anyhow::Result<(String, DocumentMut)> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let doc = text.parse::<DocumentMut>().map_err(|err| {
        anyhow!(
            "{} could not be parsed, so nothing was changed:\n{err}",
            path.display()
        )
    })?;
    Ok((text, doc))
}

fn package_name(doc: &DocumentMut, path: &Path) -> anyhow::Result<String> {
    doc.get("package")
        .and_then(|p| p.get("name"))
        .and_then(Item::as_str)
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("{} has no [package] name", path.display()))
}

/// The package's binaries as cargo sees them, in the order init prefers them: the
/// `default-run` one, the one named after the package (an auto-discovered
/// `src/main.rs` is that one), then the `[[bin]]` targets in order and the
/// auto-discovered `src/bin/*`. Paths cargo would look at; some may not exist.
fn binary_candidates(doc: &DocumentMut, package: &str, dir: &Path) -> Vec<PathBuf> {
    fn name_of(bin: &toml_edit::Table) -> Option<&str> {
        bin.get("name").and_then(Item::as_str)
    }
    let bins: Vec<&toml_edit::Table> = doc
        .get("bin")
        .and_then(Item::as_array_of_tables)
        .map(|bins| bins.iter().collect())
        .unwrap_or_default();
    // Where cargo looks for a binary named `name` that gives no `path`.
    let inferred = |name: &str| {
        let mut paths = vec![
            dir.join(format!("src/bin/{name}.rs")),
            dir.join(format!("src/bin/{name}/main.rs")),
        ];
        if name == package {
            paths.insert(0, dir.join("src/main.rs"));
        }
        paths
    };
    let path_of = |bin: &toml_edit::Table| match bin.get("path").and_then(Item::as_str) {
        Some(path) => vec![dir.join(path)],
        None => name_of(bin).map(inferred).unwrap_or_default(),
    };
    // The binary named `wanted`, declared or not.
    let named = |wanted: &str| match bins.iter().find(|b| name_of(b) == Some(wanted)) {
        Some(bin) => path_of(bin),
        None => inferred(wanted),
    };
    let mut candidates = Vec::new();
    if let Some(default_run) = doc
        .get("package")
        .and_then(|p| p.get("default-run"))
        .and_then(Item::as_str)
    {
        candidates.extend(named(default_run));
    }
    candidates.extend(named(package));
    for bin in &bins {
        candidates.extend(path_of(bin));
    }
    // Cargo's auto-discovered binaries: `src/bin/*.rs` and `src/bin/*/main.rs`.
    if let Ok(entries) = fs::read_dir(dir.join("src/bin")) {
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter_map(|p| {
                if p.is_dir() {
                    Some(p.join("main.rs")).filter(|m| m.is_file())
                } else {
                    Some(p).filter(|p| p.extension().is_some_and(|e| e == "rs"))
                }
            })
            .collect();
        found.sort();
        candidates.extend(found);
    }
    candidates
}

/// The binary init wires into, among [`binary_candidates`]: a package often has
/// helper binaries (a seeder, a migrator) beside its server, so the first that builds
/// a router or serves one wins; when none does, the first that exists.
fn server_binary(
    doc: &DocumentMut,
    package: &str,
    dir: &Path,
) -> anyhow::Result<Option<FoundFile>> {
    let candidates = binary_candidates(doc, package, dir);
    let mut found: Vec<FoundFile> = Vec::new();
    for path in candidates {
        if found.iter().any(|f| f.path == path) {
            continue;
        }
        let file = FoundFile::read(path)?;
        if file.text.is_some() {
            found.push(file);
        }
    }
    let serves = |f: &FoundFile| {
        f.text
            .as_deref()
            .is_some_and(|t| t.contains("Router") || t.contains("serve("))
    };
    let pick = found.iter().position(serves).unwrap_or(0);
    Ok((!found.is_empty()).then(|| found.swap_remove(pick)))
}

/// The workspace that owns the package in `package_dir`, when it is a member of one.
fn find_workspace_root(package_dir: &Path) -> anyhow::Result<Option<(PathBuf, DocumentMut)>> {
    let metadata = metadata(&package_dir.join("Cargo.toml"))?;
    let root = metadata.workspace_root.into_std_path_buf();
    let root = root.canonicalize().unwrap_or(root);
    if root == package_dir {
        return Ok(None);
    }
    let (_, doc) = read_manifest(&root.join("Cargo.toml"))?;
    Ok(Some((root, doc)))
}

/// The member directories of the workspace whose manifest is `root/Cargo.toml`, as cargo
/// sees them (globs, `exclude`, nested paths).
fn workspace_members(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let metadata = metadata(&root.join("Cargo.toml"))?;
    let mut members: Vec<PathBuf> = metadata
        .workspace_packages()
        .into_iter()
        .filter_map(|package| {
            let dir = package.manifest_path.parent()?.as_std_path().to_path_buf();
            Some(dir.canonicalize().unwrap_or(dir))
        })
        .collect();
    members.sort();
    Ok(members)
}

/// `cargo metadata --no-deps` for a manifest: the workspace as cargo resolves it, without
/// touching the network.
fn metadata(manifest: &Path) -> anyhow::Result<cargo_metadata::Metadata> {
    let mut command = cargo_metadata::MetadataCommand::new();
    // From the project's folder, so rustup picks the toolchain it pins (as `--path`
    // from elsewhere would not).
    if let Some(dir) = manifest.parent() {
        command.current_dir(dir);
    }
    let found = command
        .manifest_path(manifest)
        .no_deps()
        .other_options(vec!["--offline".to_owned()])
        // rustup's own errors come with a backtrace when the user's shell asks for them.
        .env("RUST_BACKTRACE", "0")
        .exec();
    // A toolchain pinned by rust-toolchain.toml that rustup has not installed.
    if let Err(err) = &found {
        let text = err.to_string();
        if let Some(toolchain) = text
            .split("toolchain '")
            .nth(1)
            .and_then(|rest| rest.split_once("' is not installed"))
            .map(|(name, _)| name.to_owned())
        {
            return Err(anyhow!(
                "the project pins the Rust toolchain {toolchain} (rust-toolchain.toml), which \
                 is not installed: run `rustup toolchain install` in {}, then run init again. \
                 Nothing was changed",
                manifest.parent().unwrap_or(manifest).display()
            ));
        }
    }
    found.with_context(|| {
        format!(
            "cargo could not read the workspace of {}, so nothing was changed (does \
                 `cargo metadata` work there?)",
            manifest.display()
        )
    })
}

/// A dependency's entry in `[dependencies]`, resolved through `workspace = true`.
fn dependency<'a>(
    doc: &'a DocumentMut,
    workspace: Option<&'a DocumentMut>,
    name: &str,
) -> Option<&'a Item> {
    let item = doc.get("dependencies")?.get(name)?;
    let inherits = item
        .get("workspace")
        .and_then(Item::as_bool)
        .unwrap_or(false);
    if inherits {
        // A root package is its own workspace: its `[workspace.dependencies]` sit in
        // the same manifest.
        let workspace = workspace.unwrap_or(doc);
        return workspace.get("workspace")?.get("dependencies")?.get(name);
    }
    Some(item)
}

fn version_of(item: &Item) -> Option<String> {
    if let Some(version) = item.as_str() {
        return Some(version.to_owned());
    }
    item.get("version")
        .and_then(Item::as_str)
        .map(str::to_owned)
}

fn features_of(items: &[&Item]) -> Vec<String> {
    items
        .iter()
        .filter_map(|item| item.get("features").and_then(Item::as_array))
        .flat_map(|a| a.iter().filter_map(|f| f.as_str().map(str::to_owned)))
        .collect()
}

fn databases_in(features: &[String]) -> Vec<DatabaseKind> {
    let mut out = Vec::new();
    if features.iter().any(|f| f == "sqlite") {
        out.push(DatabaseKind::Sqlite);
    }
    if features.iter().any(|f| f == "postgres") {
        out.push(DatabaseKind::Postgres);
    }
    if features.iter().any(|f| f == "mysql") {
        out.push(DatabaseKind::Mysql);
    }
    out
}

/// Checks an axum requirement: the lowest version it accepts must be 0.8 or newer,
/// unless it accepts 0.8 too (`^0`, `>=0.7`) and the lock file already resolved it
/// to 0.8 (`locked`: the axum versions of the project's Cargo.lock).
fn check_axum(
    requirement: &str,
    manifest: &Path,
    locked: &[semver::Version],
    add_command: &str,
) -> anyhow::Result<()> {
    let req = semver::VersionReq::parse(requirement).with_context(|| {
        format!(
            "{}: cannot read the axum version \"{requirement}\"",
            manifest.display()
        )
    })?;
    let lowest = req
        .comparators
        .iter()
        .map(|c| (c.major, c.minor.unwrap_or(0)))
        .max()
        .unwrap_or((0, 0));
    let resolved_to_0_8 = locked
        .iter()
        .any(|v| (v.major, v.minor) == (0, 8) && req.matches(v));
    if lowest < (0, 8) && !resolved_to_0_8 {
        return Err(anyhow!(
            "{} depends on axum \"{requirement}\", older than 0.8; Better Auth needs axum 0.8. \
             Upgrade first, then run init again: `{add_command}`; write path parameters \
             as `/{{id}}` and `/{{*rest}}` instead of `/:id` and `/*rest` (0.8 panics at start-up \
             on the old syntax); drop `#[async_trait]` from your own extractor impls; move \
             crates built on axum to their releases for 0.8 (axum-extra 0.10, \
             utoipa-swagger-ui 9 or later); see https://github.com/tokio-rs/axum/blob/main/axum/CHANGELOG.md \
             (0.8.0). Nothing was changed",
            manifest.display()
        ));
    }
    Ok(())
}

/// The package's Rust edition (`edition.workspace = true` read from the workspace);
/// cargo's default, 2015, when none is written.
fn edition(doc: &DocumentMut, workspace_doc: Option<&DocumentMut>) -> String {
    doc.get("package")
        .and_then(|p| p.get("edition"))
        .and_then(|e| {
            e.as_str().map(str::to_owned).or_else(|| {
                workspace_doc?
                    .get("workspace")?
                    .get("package")?
                    .get("edition")?
                    .as_str()
                    .map(str::to_owned)
            })
        })
        .unwrap_or_else(|| "2015".to_owned())
}

fn describe(
    dir: PathBuf,
    manifest_path: PathBuf,
    text: String,
    doc: DocumentMut,
    workspace: Option<(PathBuf, DocumentMut)>,
) -> anyhow::Result<Package> {
    let name = package_name(&doc, &manifest_path)?;
    let workspace_doc = workspace.as_ref().map(|(_, doc)| doc);
    let axum = dependency(&doc, workspace_doc, "axum").ok_or_else(|| {
        anyhow!(
            "{} does not depend on axum; Better Auth plugs into an Axum 0.8 app \
             (add it with `cargo add axum@0.8`)",
            manifest_path.display()
        )
    })?;
    let axum_version = version_of(axum).unwrap_or_else(|| "*".to_owned());
    let lock_root = workspace.as_ref().map_or(dir.as_path(), |(root, _)| root);
    let lock_path = lock_root.join("Cargo.lock");
    let lock = read_lock(&lock_path);
    if version_of(axum).is_some() {
        let locked = lock
            .as_ref()
            .map(|lock| locked_versions(lock, "axum"))
            .unwrap_or_default();
        // At a workspace's root, `cargo add` needs the member.
        let add_command = if workspace.is_some() || doc.get("workspace").is_some() {
            format!("cargo add -p {name} axum@0.8")
        } else {
            "cargo add axum@0.8".to_owned()
        };
        check_axum(&axum_version, &manifest_path, &locked, &add_command)?;
    }

    let sqlx = dependency(&doc, workspace_doc, "sqlx").map(|item| {
        let mut items = vec![item];
        if let Some(local) = doc.get("dependencies").and_then(|d| d.get("sqlx")) {
            items.push(local);
        }
        let version = version_of(item).unwrap_or_default();
        let is_0_8 = semver::VersionReq::parse(&version)
            .map(|req| req.matches(&semver::Version::new(0, 8, 0)) || version.starts_with("0.8"))
            .unwrap_or(false);
        SqlxUse {
            is_0_8,
            databases: databases_in(&features_of(&items)),
        }
    });
    let other_databases = other_databases(&doc, workspace_doc);
    let unsupported_database = unsupported_database(&doc, workspace_doc);
    let sqlite_clash = sqlite_clash(&lock_path, lock.as_ref(), &name, &doc, workspace_doc);
    let better_auth_databases = doc
        .get("dependencies")
        .and_then(|d| d.get("better-auth"))
        .map(|item| databases_in(&features_of(&[item])))
        .unwrap_or_default();

    let edition = edition(&doc, workspace_doc);

    let main = server_binary(&doc, &name, &dir)?;
    let lib_table = doc.get("lib");
    let lib_path = lib_table
        .and_then(|l| l.get("path"))
        .and_then(Item::as_str)
        .unwrap_or("src/lib.rs")
        .to_owned();
    let lib_crate = lib_table
        .and_then(|l| l.get("name"))
        .and_then(Item::as_str)
        .unwrap_or(&name)
        .replace('-', "_");
    let lib = Some(FoundFile::read(dir.join(lib_path))?).filter(|f| f.text.is_some());
    if main.is_none() && lib.is_none() {
        return Err(anyhow!(
            "{} has no src/main.rs, [[bin]] or src/lib.rs to wire Better Auth into",
            dir.display()
        ));
    }
    let migrations_dir = Some(dir.join("migrations")).filter(|d| d.is_dir());
    // A member that keeps its own `.env` / `.env.example` (run from its folder, or
    // given to docker as `env_file`) gets Better Auth's variables there too, unless the
    // workspace root has dotenv files of its own.
    let has_env = |d: &Path| {
        std::iter::once(".env")
            .chain(super::envfile::EXAMPLE_NAMES)
            .any(|name| d.join(name).is_file())
    };
    let env_dir = workspace
        .map(|(root, _)| root)
        .filter(|root| has_env(root) || !has_env(&dir))
        .unwrap_or_else(|| dir.clone());
    Ok(Package {
        name,
        manifest: FoundFile {
            path: manifest_path,
            text: Some(text),
        },
        dir,
        edition,
        sqlx,
        better_auth_databases,
        other_databases,
        unsupported_database,
        sqlite_clash,
        main,
        lib,
        lib_crate,
        migrations_dir,
        env_dir,
    })
}

/// The `libsqlite3-sys` minor version Better Auth's sqlx 0.8 links (`0.30.x`); two different
/// minors cannot be in one build, as both link `sqlite3`. A unit test keeps this in step
/// with the workspace's Cargo.lock.
pub(super) const RUNTIME_LIBSQLITE3_SYS: (u64, u64) = (0, 30);

/// The databases the app reaches through crates other than sqlx.
fn other_databases(doc: &DocumentMut, workspace: Option<&DocumentMut>) -> Vec<DatabaseKind> {
    let mut out = Vec::new();
    let mut add = |db| {
        if !out.contains(&db) {
            out.push(db);
        }
    };
    // Crates that exist for one database.
    for (name, db) in [
        ("tokio-postgres", DatabaseKind::Postgres),
        ("postgres", DatabaseKind::Postgres),
        ("deadpool-postgres", DatabaseKind::Postgres),
        ("bb8-postgres", DatabaseKind::Postgres),
        ("mysql", DatabaseKind::Mysql),
        ("mysql_async", DatabaseKind::Mysql),
        ("rusqlite", DatabaseKind::Sqlite),
        ("tokio-rusqlite", DatabaseKind::Sqlite),
        ("deadpool-sqlite", DatabaseKind::Sqlite),
        ("r2d2_sqlite", DatabaseKind::Sqlite),
    ] {
        if dependency(doc, workspace, name).is_some() {
            add(db);
        }
    }
    // Crates whose features name the database: sea-orm's `sqlx-postgres`, diesel's
    // `postgres`, toasty's `postgresql`, a session store's `sqlite`, ...
    let names: Vec<String> = doc
        .get("dependencies")
        .and_then(Item::as_table_like)
        .map(|deps| deps.iter().map(|(name, _)| name.to_owned()).collect())
        .unwrap_or_default();
    for name in names {
        let Some(item) = dependency(doc, workspace, &name) else {
            continue;
        };
        let mut items = vec![item];
        if let Some(local) = doc.get("dependencies").and_then(|d| d.get(&name)) {
            items.push(local);
        }
        for feature in features_of(&items) {
            match feature.as_str() {
                "postgres" | "postgresql" | "sqlx-postgres" => add(DatabaseKind::Postgres),
                "sqlite" | "sqlx-sqlite" => add(DatabaseKind::Sqlite),
                "mysql" | "sqlx-mysql" => add(DatabaseKind::Mysql),
                _ => {}
            }
        }
    }
    out
}

/// A database the app uses that Better Auth has no store for: a dependency's feature
/// (`mssql`, `sqlx-mssql`) or a crate made for one (`mongodb`, `tiberius`).
fn unsupported_database(
    doc: &DocumentMut,
    workspace: Option<&DocumentMut>,
) -> Option<&'static str> {
    let names: Vec<String> = doc
        .get("dependencies")
        .and_then(Item::as_table_like)
        .map(|deps| deps.iter().map(|(name, _)| name.to_owned()).collect())
        .unwrap_or_default();
    names.iter().find_map(|name| {
        let crate_database = match name.as_str() {
            "mongodb" => Some("MongoDB"),
            "tiberius" => Some("SQL Server"),
            _ => None,
        };
        let item = dependency(doc, workspace, name)?;
        crate_database.or_else(|| {
            features_of(&[item]).iter().find_map(|f| match f.as_str() {
                "mssql" | "sqlx-mssql" => Some("SQL Server"),
                _ => None,
            })
        })
    })
}

/// The lowest version a requirement accepts, as (major, minor).
fn lowest(requirement: &str) -> Option<(u64, u64)> {
    let req = semver::VersionReq::parse(requirement).ok()?;
    req.comparators
        .iter()
        .map(|c| (c.major, c.minor.unwrap_or(0)))
        .max()
}

/// What to do when the app links an older SQLite binding than Better Auth's sqlx.
const OLDER_SQLITE_FIX: &str = "Two crates would link the native `sqlite3` library, and cargo \
     refuses that. Either upgrade sqlx to 0.8 (and crates built on an older one, such as sea-orm \
     before 1.0, or rusqlite to 0.32), then run init again; or keep Better Auth's tables in \
     PostgreSQL: `better-auth init --database postgres`";

/// Why the runtime's SQLite support cannot join this app's build, if it cannot: another
/// `libsqlite3-sys` in the lock file (`lock`, read from `lock_path`), or (without one) a
/// dependency known to link an incompatible one. `root` is the app's package, where
/// the chains to the clashing crate start.
fn sqlite_clash(
    lock_path: &Path,
    lock: Option<&DocumentMut>,
    root: &str,
    doc: &DocumentMut,
    workspace: Option<&DocumentMut>,
) -> Option<String> {
    let wanted = format!(
        "{}.{}.x",
        RUNTIME_LIBSQLITE3_SYS.0, RUNTIME_LIBSQLITE3_SYS.1
    );
    if let Some(lock) = lock {
        let locked = locked_versions(lock, "libsqlite3-sys");
        return locked
            .into_iter()
            .find(|v| (v.major, v.minor) != RUNTIME_LIBSQLITE3_SYS)
            .map(|v| {
                let chains = locked_chains(lock, root, "libsqlite3-sys", &v);
                let through = if chains.is_empty() {
                    String::new()
                } else {
                    format!(" (through {})", chains.join("; "))
                };
                let found = format!(
                    "{} holds libsqlite3-sys {v}{through}, and Better Auth's sqlx 0.8 needs {wanted}",
                    lock_path.display()
                );
                // The crates the app names itself, which it can move.
                let direct: Vec<&str> = chains
                    .iter()
                    .filter_map(|c| c.split(" -> ").next())
                    .collect();
                if (v.major, v.minor) > RUNTIME_LIBSQLITE3_SYS {
                    // Newer than sqlx 0.8 can use: upgrading sqlx does not help.
                    format!(
                        "{found}. Two crates would link the native `sqlite3` library, and cargo \
                         refuses that; no sqlx 0.8 release links a newer one. Either keep Better \
                         Auth's tables in PostgreSQL: `better-auth init --database postgres`; or \
                         move {} to a release on libsqlite3-sys {wanted} (rusqlite 0.32), then \
                         run init again",
                        if direct.is_empty() {
                            "the crate that needs it".to_owned()
                        } else {
                            direct.join(" and ")
                        }
                    )
                } else {
                    format!("{found}. {OLDER_SQLITE_FIX}")
                }
            });
    }
    let item = |name| dependency(doc, workspace, name);
    if let Some(sqlx) = item("sqlx") {
        let version = version_of(sqlx).and_then(|v| lowest(&v));
        let features = features_of(&[sqlx]);
        if version.is_some_and(|v| v < (0, 8)) && features.iter().any(|f| f.contains("sqlite")) {
            return Some(format!(
                "the app depends on sqlx {} with SQLite, which links another libsqlite3-sys than \
                 Better Auth's sqlx 0.8 ({wanted}). {OLDER_SQLITE_FIX}",
                version_of(sqlx).unwrap_or_default()
            ));
        }
    }
    if let Some(sea_orm) = item("sea-orm") {
        let version = version_of(sea_orm).and_then(|v| lowest(&v));
        let features = features_of(&[sea_orm]);
        if version.is_some_and(|v| v < (1, 0)) && features.iter().any(|f| f == "sqlx-sqlite") {
            return Some(format!(
                "the app depends on sea-orm {} with SQLite (through sqlx 0.7 or older), which \
                 links another libsqlite3-sys than Better Auth's sqlx 0.8 ({wanted}). \
                 {OLDER_SQLITE_FIX}",
                version_of(sea_orm).unwrap_or_default()
            ));
        }
    }
    if let Some(rusqlite) = item("rusqlite") {
        // rusqlite 0.32 is the one on libsqlite3-sys 0.30.
        let version = version_of(rusqlite).and_then(|v| lowest(&v));
        if version.is_some_and(|v| v != (0, 32)) {
            return Some(format!(
                "the app depends on rusqlite {}, which links another libsqlite3-sys than Better \
                 Auth's sqlx 0.8 ({wanted}; rusqlite 0.32 is the matching one). Two crates \
                 would link the native `sqlite3` library, and cargo refuses that. Either move \
                 rusqlite to 0.32, then run init again; or keep Better Auth's tables in \
                 PostgreSQL: `better-auth init --database postgres`",
                version_of(rusqlite).unwrap_or_default()
            ));
        }
    }
    None
}

/// How the app's package `root` comes to depend on `name` at `version`, per
/// Cargo.lock: one chain per direct dependency that leads there, each from that
/// dependency down to the package that needs `name` (`toasty 0.9.0 ->
/// toasty-driver-sqlite 0.9.0 -> rusqlite 0.40.2`). Empty when the lock cannot
/// say.
fn locked_chains(
    lock: &DocumentMut,
    root: &str,
    name: &str,
    version: &semver::Version,
) -> Vec<String> {
    let Some(packages) = lock.get("package").and_then(Item::as_array_of_tables) else {
        return Vec::new();
    };
    // Every package as `name version`, with its dependencies resolved the same way
    // (a lock writes `name` when it holds one version, `name version` otherwise).
    let ids: Vec<(String, String, bool)> = packages
        .iter()
        .filter_map(|p| {
            Some((
                p.get("name")?.as_str()?.to_owned(),
                p.get("version")?.as_str()?.to_owned(),
                p.get("source").is_none(),
            ))
        })
        .collect();
    let resolve = |dep: &str| -> Option<usize> {
        let mut words = dep.split(' ');
        let dep_name = words.next()?;
        let dep_version = words.next();
        ids.iter()
            .position(|(n, v, _)| n == dep_name && dep_version.is_none_or(|dv| dv == v))
    };
    let deps: Vec<Vec<usize>> = packages
        .iter()
        .map(|p| {
            p.get("dependencies")
                .and_then(Item::as_array)
                .map(|deps| {
                    deps.iter()
                        .filter_map(|d| d.as_str())
                        .filter_map(resolve)
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    let version = version.to_string();
    let Some(target) = ids.iter().position(|(n, v, _)| n == name && *v == version) else {
        return Vec::new();
    };
    let Some(app) = ids.iter().position(|(n, _, local)| n == root && *local) else {
        return Vec::new();
    };
    let mut chains = Vec::new();
    for &direct in deps[app].iter().filter(|&&direct| direct != target) {
        // Breadth first from this dependency: the shortest way down to the target.
        let mut parent: Vec<Option<usize>> = vec![None; ids.len()];
        let mut seen = vec![false; ids.len()];
        let mut queue = std::collections::VecDeque::from([direct]);
        seen[direct] = true;
        while let Some(at) = queue.pop_front() {
            if at == target {
                break;
            }
            for &next in &deps[at] {
                if !seen[next] {
                    seen[next] = true;
                    parent[next] = Some(at);
                    queue.push_back(next);
                }
            }
        }
        if !seen[target] {
            continue;
        }
        let mut chain = Vec::new();
        let mut at = parent[target];
        while let Some(here) = at {
            chain.push(format!("{} {}", ids[here].0, ids[here].1));
            at = parent[here];
        }
        chain.reverse();
        chains.push(chain.join(" -> "));
    }
    chains
}

/// The project's Cargo.lock, read and parsed once: `None` when there is none; one
/// that cannot be parsed reads as empty.
fn read_lock(path: &Path) -> Option<DocumentMut> {
    let text = fs::read_to_string(path).ok()?;
    Some(text.parse().unwrap_or_default())
}

/// The versions of `name` a Cargo.lock holds.
fn locked_versions(lock: &DocumentMut, name: &str) -> Vec<semver::Version> {
    lock.get("package")
        .and_then(Item::as_array_of_tables)
        .map(|packages| {
            packages
                .iter()
                .filter(|p| p.get("name").and_then(Item::as_str) == Some(name))
                .filter_map(|p| p.get("version").and_then(Item::as_str))
                .filter_map(|v| semver::Version::parse(v).ok())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_libsqlite3_sys_matches_the_workspace_lock() {
        let lock = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"))
            .expect("the workspace's Cargo.lock");
        let versions = locked_versions(&lock.parse().expect("a lock file"), "libsqlite3-sys");
        assert_eq!(versions.len(), 1, "{versions:?}");
        assert_eq!(
            (versions[0].major, versions[0].minor),
            RUNTIME_LIBSQLITE3_SYS,
            "update RUNTIME_LIBSQLITE3_SYS (and the rusqlite version in sqlite_clash)"
        );
    }

    #[test]
    fn old_sqlx_with_sqlite_clashes_without_a_lock_file() {
        let doc: DocumentMut = "[package]\nname = \"a\"\n[dependencies]\nsqlx = { version = \"0.7\", features = [\"sqlite\", \"runtime-tokio\"] }\n"
            .parse()
            .unwrap();
        let clash = sqlite_clash(Path::new("/nonexistent/Cargo.lock"), None, "a", &doc, None);
        assert!(clash.is_some_and(|c| c.contains("sqlx 0.7")));
        let doc: DocumentMut = "[package]\nname = \"a\"\n[dependencies]\nsqlx = { version = \"0.7\", features = [\"postgres\"] }\nrusqlite = \"0.32\"\n"
            .parse()
            .unwrap();
        assert_eq!(
            sqlite_clash(Path::new("/nonexistent/Cargo.lock"), None, "a", &doc, None),
            None
        );
    }

    #[test]
    fn sea_orm_and_diesel_name_their_database() {
        let doc: DocumentMut = "[package]\nname = \"a\"\n[dependencies]\nsea-orm = { version = \"1\", features = [\"sqlx-postgres\", \"runtime-tokio-rustls\"] }\n"
            .parse()
            .unwrap();
        assert_eq!(other_databases(&doc, None), vec![DatabaseKind::Postgres]);
        let doc: DocumentMut = "[package]\nname = \"a\"\n[dependencies]\ndiesel = { version = \"2\", features = [\"sqlite\"] }\n"
            .parse()
            .unwrap();
        assert_eq!(other_databases(&doc, None), vec![DatabaseKind::Sqlite]);
        let doc: DocumentMut = "[package]\nname = \"a\"\n[dependencies]\nsea-orm = { version = \"1\", features = [\"sqlx-mysql\"] }\ndiesel-async = { version = \"0.5\", features = [\"mysql\"] }\n"
            .parse()
            .unwrap();
        assert_eq!(other_databases(&doc, None), vec![DatabaseKind::Mysql]);
    }

    #[test]
    fn databases_better_auth_has_no_store_for_are_named() {
        let parse = |deps: &str| -> DocumentMut {
            format!("[package]\nname = \"a\"\n[dependencies]\n{deps}")
                .parse()
                .unwrap()
        };
        let sqlx =
            parse("sqlx = { version = \"0.8\", features = [\"mysql\", \"runtime-tokio\"] }\n");
        assert_eq!(unsupported_database(&sqlx, None), None);
        assert_eq!(
            unsupported_database(&parse("tiberius = \"0.12\"\n"), None),
            Some("SQL Server")
        );
        assert_eq!(
            unsupported_database(&parse("mongodb = \"3\"\n"), None),
            Some("MongoDB")
        );
        let postgres = parse("sqlx = { version = \"0.8\", features = [\"postgres\"] }\n");
        assert_eq!(unsupported_database(&postgres, None), None);
    }
}
