//! The plan: every file `init` would write, with its old and new text and a status word.
//! Built entirely in memory; nothing here writes.

use anyhow::{Context, anyhow};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use minijinja::context;

use super::args::{DatabaseKind, InitArgs, MigrationsMode, PluginKind};
use super::envfile::{self, Var};
use super::manifest::{self, RuntimeSource};
use super::project::Package;
use super::render::Renderer;
use super::source::{self, Model, Root};
use super::wiring::{self, Outcome, StateKind, WiringInput};
use super::{Chooser, MIGRATIONS, default_migrations, has_migrations};

/// What happens to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    /// A new file.
    Create,
    /// An existing file gets new content.
    Update,
    /// Already as init would write it.
    Identical,
    /// Left alone on purpose (see the note).
    Skip,
    /// Changed by you since init generated it; left alone unless `--force`.
    Conflict,
}

impl Status {
    /// The word printed in the plan.
    pub(super) fn word(self) -> &'static str {
        match self {
            Status::Create => "create",
            Status::Update => "update",
            Status::Identical => "identical",
            Status::Skip => "skip",
            Status::Conflict => "conflict",
        }
    }
}

/// One file in the plan.
#[derive(Debug)]
pub(super) struct FileChange {
    /// The file.
    pub path: PathBuf,
    /// Its current text, when it exists.
    pub old: Option<String>,
    /// Its text after init.
    pub new: String,
    /// What happens to it.
    pub status: Status,
    /// Permission bits to force.
    pub mode: Option<u32>,
    /// A remark printed beside the status.
    pub note: Option<String>,
}

/// Everything init would do.
#[derive(Debug)]
pub(super) struct Plan {
    /// The package's name.
    pub package: String,
    /// The files, in the order they are shown and written.
    pub files: Vec<FileChange>,
    /// `better-auth = ...` as written to Cargo.toml.
    pub dependency_line: String,
    /// Remarks for the summary.
    pub notes: Vec<String>,
    /// Rendered manual steps, when the sources were too unusual to edit.
    pub manual: Option<String>,
    /// Settings init would not write and the app cannot start without (a
    /// secret or a password kept out of a `.env` that git tracks): init then
    /// ends with the manual-steps status.
    pub env_steps: Vec<String>,
    /// `BETTER_AUTH_URL`.
    pub base_url: String,
    /// Where the endpoints are mounted.
    pub mount: String,
    secret: String,
}

impl Plan {
    /// Hides the generated secret in text shown on screen.
    pub(super) fn mask(&self, text: &str) -> String {
        text.replace(&self.secret, "<64 random characters, generated on apply>")
    }
}

/// The first line of every generated Rust file starts with this.
const HEADER_START: &str = source::GENERATED_HEADER;

/// FNV-1a, 64 bits: enough to notice an edit, not a security measure.
fn fingerprint(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Whether `text` is a generated file nobody changed since.
fn generated_and_unchanged(text: &str) -> Option<bool> {
    let first = text.lines().next()?;
    let rest = first.strip_prefix(HEADER_START)?;
    let recorded = rest.get(..16)?;
    let header_lines = 3;
    let body_start = text
        .match_indices('\n')
        .nth(header_lines - 1)
        .map(|(i, _)| i + 1)?;
    Some(fingerprint(&text[body_start..]) == recorded)
}

/// Formats Rust code with the project's rustfmt settings; `None` without rustfmt.
fn rustfmt(text: &str, edition: &str, dir: &Path) -> Option<String> {
    use std::io::Write as _;
    let mut child = Command::new("rustfmt")
        .args(["--edition", edition, "--emit", "stdout"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(text.as_bytes()).ok()?;
    let output = child.wait_with_output().ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout).ok()
}

fn change(path: PathBuf, old: Option<String>, new: String) -> FileChange {
    let status = match &old {
        None => Status::Create,
        Some(old) if *old == new => Status::Identical,
        Some(_) => Status::Update,
    };
    FileChange {
        path,
        old,
        new,
        status,
        mode: None,
        note: None,
    }
}

/// A generated file: created, kept, regenerated, or a conflict when someone edited it.
fn generated_change(path: PathBuf, old: Option<String>, new: String, force: bool) -> FileChange {
    let mut file = change(path, old, new);
    if file.status == Status::Update {
        let ours = file
            .old
            .as_deref()
            .and_then(generated_and_unchanged)
            .unwrap_or(false);
        if !ours {
            if force {
                file.note = Some("your changes are overwritten (--force)".to_owned());
            } else {
                file.status = Status::Conflict;
                file.note =
                    Some("changed since init wrote it; left alone (--force overwrites)".to_owned());
            }
        }
    }
    file
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
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
                Some(text) => text.starts_with(HEADER_START),
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

/// Better Auth's PostgreSQL URL, and a note saying where it came from.
///
/// The app's own database is the best guess, as with Better Auth in TypeScript: the
/// `DATABASE_URL` of its `.env`, else the one `postgres://` URL written in its code (a
/// default such as `unwrap_or("postgres://...")`). Better Auth's tables (`user`,
/// `session`, `account`, `verification`) then sit beside the app's, unless the app's
/// migrations already create a table of one of those names. Failing that, a database
/// named after the package on the local server, which the note says to create.
fn postgres_url(
    env_text: Option<&str>,
    example_text: Option<&str>,
    model: &Model,
    package: &Package,
) -> (String, String) {
    let name = package.name.replace('-', "_");
    let fallback = format!("postgres://postgres@localhost:5432/{name}");
    let is_postgres =
        |url: &str| url.starts_with("postgres://") || url.starts_with("postgresql://");
    let from_env = env_text
        .and_then(|t| envfile::value_of(t, "DATABASE_URL"))
        .filter(|url| is_postgres(url))
        .map(|url| (url, "the app's DATABASE_URL in .env"))
        .or_else(|| {
            example_text
                .and_then(|t| envfile::value_of(t, "DATABASE_URL"))
                .filter(|url| is_postgres(url) && !url.contains("${"))
                .map(|url| (url, "the app's DATABASE_URL in its example dotenv file"))
        });
    let from_code = || {
        let mut found: Vec<String> = Vec::new();
        for file in &model.files {
            for literal in file.text.split('"').skip(1).step_by(2) {
                if is_postgres(literal)
                    && !literal.contains('{')
                    && !found.iter().any(|f| f == literal)
                {
                    found.push(literal.to_owned());
                }
            }
        }
        (found.len() == 1).then(|| {
            (
                found.remove(0),
                "the app's default database URL in its code",
            )
        })
    };
    let found = from_env.or_else(from_code);
    let taken = clashing_table(&package.dir.join("migrations"));
    if let (Some((url, source)), None) = (&found, taken) {
        let note = format!(
            "BETTER_AUTH_DATABASE_URL is {source} ({}): Better Auth's tables go beside the \
             app's; set another URL in .env to keep them apart",
            better_auth::store::redact_url(url)
        );
        return (url.clone(), note);
    }
    let why = match (found, taken) {
        (Some(_), Some(table)) => format!(
            "the app's database already has a `{table}` table (migrations/), so Better Auth \
             needs a database of its own: "
        ),
        _ => String::new(),
    };
    let note = format!(
        "{why}BETTER_AUTH_DATABASE_URL is {fallback}: create that database (`createdb {name}`) \
         or set the URL of an existing one in .env before starting the app"
    );
    (fallback, note)
}

/// Whether a database URL carries a password (`user:password@host`, `?password=`).
fn holds_password(url: &str) -> bool {
    better_auth::store::redact_url(url) != url || url.contains("password=")
}

/// The first of Better Auth's table names that the app's SQL migrations create.
fn clashing_table(migrations: &Path) -> Option<&'static str> {
    let entries = std::fs::read_dir(migrations).ok()?;
    let sql = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "sql"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect::<Vec<_>>()
        .join("\n")
        .to_lowercase()
        .replace(['"', '`'], "");
    ["user", "session", "account", "verification"]
        .into_iter()
        .find(|table| {
            sql.split("create table").skip(1).any(|rest| {
                let rest = rest.trim_start();
                let rest = rest
                    .strip_prefix("if not exists")
                    .unwrap_or(rest)
                    .trim_start();
                let rest = rest.strip_prefix("public.").unwrap_or(rest);
                rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    == Some(*table)
            })
        })
}

/// The mount path: `--mount`, else the one an earlier run wrote into the module (its
/// `.base_path(..)`), else the first of `/auth`, `/api/auth`, `/better-auth` that none of
/// the app's own routes use.
fn choose_mount(
    args: &InitArgs,
    model: &Model,
    module: &str,
    module_text: Option<&str>,
) -> anyhow::Result<(String, Option<String>)> {
    if args.mount.is_none() {
        if let Some(earlier) = earlier_mount(model, module, module_text) {
            return Ok((earlier, None));
        }
    }
    let paths = model.route_paths();
    let taken = |mount: &str| {
        paths
            .iter()
            .any(|p| p.trim_end_matches('/') == mount || p.starts_with(&format!("{mount}/")))
    };
    if let Some(mount) = &args.mount {
        if taken(mount) {
            return Err(anyhow!(
                "--mount {mount}: the app already has routes under {mount}; choose another path"
            ));
        }
        return Ok((mount.clone(), None));
    }
    let candidates = ["/auth", "/api/auth", "/better-auth"];
    for (i, mount) in candidates.iter().enumerate() {
        if !taken(mount) {
            let note = (i > 0).then(|| {
                format!(
                    "the app already has routes under {}, so Better Auth is mounted at {mount} (choose with --mount)",
                    candidates[..i].join(" and ")
                )
            });
            return Ok(((*mount).to_owned(), note));
        }
    }
    Err(anyhow!(
        "the app already uses /auth, /api/auth and /better-auth; choose a mount path with --mount"
            .to_owned(),
    ))
}

/// The port the app's dotenv files give it, for an app that reads it from the
/// environment (`bind(format!("0.0.0.0:{}", config.port))`): `PORT`, else a usual name
/// such as `SERVER_PORT`, else another `*_PORT` that the sources name and that is not a
/// database's or another service's.
fn port_from_env(env_files: &[String], model: &Model) -> Option<u16> {
    const USUAL: [&str; 6] = [
        "PORT",
        "SERVER_PORT",
        "APP_PORT",
        "HTTP_PORT",
        "API_PORT",
        "WEB_PORT",
    ];
    let value = |name: &str| {
        env_files.iter().find_map(|text| {
            envfile::value_of(text, name)
                .and_then(|v| v.parse::<u16>().ok())
                .filter(|p| *p > 0)
        })
    };
    if let Some(port) = USUAL.iter().find_map(|name| value(name)) {
        return Some(port);
    }
    env_files
        .iter()
        .flat_map(|text| envfile::keys(text))
        .filter(|name| name.ends_with("_PORT"))
        .filter(|name| the_apps_own(name, model))
        .find_map(|name| value(&name))
}

/// Whether the variable `name` is the app's own: its sources name it (`var("PORT")`) and
/// it is not another service's (`REDIS_PORT`, `DATABASE_ADDR`).
fn the_apps_own(name: &str, model: &Model) -> bool {
    let lower = name.to_ascii_lowercase();
    let quoted = format!("\"{name}\"");
    !OTHER_SERVICES.iter().any(|other| lower.contains(other))
        && model.files.iter().any(|f| f.text.contains(&quoted))
}

/// The port the app will listen on in development, read off its environment (`.env` and
/// cargo's `[env]`): a variable the sources name (`var("PORT")`, `env!("BIND_ADDR")`) holding
/// a port (`8080`) or an address with one (`127.0.0.1:8080`, `http://0.0.0.0:8080`).
fn port_the_app_reads(env: Option<&str>, model: &Model) -> Option<u16> {
    let env = env?;
    envfile::keys(env)
        .into_iter()
        .filter(|name| {
            let lower = name.to_ascii_lowercase();
            lower.contains("port") || lower.contains("addr") || lower.contains("listen")
        })
        .filter(|name| the_apps_own(name, model))
        .find_map(|name| {
            let value = envfile::value_of(env, &name)?;
            let port = value
                .parse::<u16>()
                .ok()
                .or_else(|| value.rsplit(':').next()?.trim_end_matches('/').parse().ok())?;
            (port > 0).then_some(port)
        })
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

/// Names of other services' ports and sections, which an app's configuration holds beside
/// its own (`[database] port = 5432`, `REDIS_PORT`).
const OTHER_SERVICES: [&str; 12] = [
    "db", "database", "postgres", "pg", "mysql", "mariadb", "redis", "mongo", "smtp", "mail",
    "amqp", "rabbit",
];

/// The port the app's configuration files give it (`config/base.yaml`,
/// `configuration/local.toml`, `config.toml`, `fly.toml`'s `internal_port`), for an app
/// that reads its port from one: the files in the package (or env) folder and in its
/// `config`, `configuration`, `settings` or `conf` folder that its sources name. A `port`
/// (or `*_port`) key outside another service's section (`database:`, `[redis]`) counts;
/// when the files disagree, a local or development file wins over a base or default one,
/// else nothing is read.
fn port_from_config_files(dirs: &[&PathBuf], model: &Model) -> Option<u16> {
    const FOLDERS: [&str; 4] = ["config", "configuration", "settings", "conf"];
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
    const PREFERRED: [&str; 8] = [
        "local",
        "development",
        "dev",
        "default",
        "base",
        "config",
        "settings",
        "app",
    ];
    let named = |needle: &str| model.files.iter().any(|f| f.text.contains(needle));
    let mut found: Vec<(String, u16)> = Vec::new();
    for dir in dirs {
        let folders = std::iter::once((dir.to_path_buf(), None)).chain(
            FOLDERS
                .iter()
                .map(|folder| (dir.join(folder), Some(*folder))),
        );
        for (folder, folder_name) in folders {
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            let mut paths: Vec<PathBuf> =
                entries.filter_map(Result::ok).map(|e| e.path()).collect();
            paths.sort();
            for path in paths {
                let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
                if !matches!(ext, "toml" | "yaml" | "yml") || NOT_CONFIG.contains(&file_name) {
                    continue;
                }
                let stem = file_name.rsplit_once('.').map_or(file_name, |(s, _)| s);
                let mentioned = named(file_name)
                    || named(&format!("\"{stem}\""))
                    || folder_name.is_some_and(|f| named(&format!("\"{f}")))
                    || file_name == "fly.toml";
                if !mentioned {
                    continue;
                }
                let Some(text) = read(&path) else { continue };
                let ports = if ext == "toml" {
                    toml_ports(&text)
                } else {
                    yaml_ports(&text)
                };
                found.extend(ports.into_iter().map(|p| (stem.to_ascii_lowercase(), p)));
            }
        }
    }
    let single = |ports: Vec<u16>| {
        let mut ports = ports;
        ports.sort_unstable();
        ports.dedup();
        (ports.len() == 1).then(|| ports[0])
    };
    single(found.iter().map(|(_, p)| *p).collect()).or_else(|| {
        PREFERRED.iter().find_map(|name| {
            single(
                found
                    .iter()
                    .filter(|(stem, _)| stem == name)
                    .map(|(_, p)| *p)
                    .collect(),
            )
        })
    })
}

/// Whether `key` names the app's own port in a section named `section` (its dotted
/// path), not another service's.
fn own_port_key(section: &str, key: &str) -> bool {
    let key = key.trim().trim_matches('"').to_ascii_lowercase();
    let section = section.to_ascii_lowercase();
    (key == "port" || key.ends_with("_port"))
        && !OTHER_SERVICES
            .iter()
            .any(|other| key.contains(other) || section.split(['.', '_', '-']).any(|s| s == *other))
}

/// A port number written as a TOML or YAML scalar (`8000`, `"8000"`, `8000 # comment`).
fn port_value(value: &str) -> Option<u16> {
    let value = value.split('#').next().unwrap_or("").trim();
    value
        .trim_matches(|c| c == '"' || c == '\'')
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
}

/// The app's ports in a TOML file: `port = 8000` keys, by their `[section]`.
fn toml_ports(text: &str) -> Vec<u16> {
    let mut section = String::new();
    let mut ports = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            section = header
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_owned();
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            if own_port_key(&section, key) {
                ports.extend(port_value(value));
            }
        }
    }
    ports
}

/// The app's ports in a YAML file: `port: 8000` keys, by the keys they sit under.
fn yaml_ports(text: &str) -> Vec<u16> {
    // The enclosing keys, with their indentation.
    let mut parents: Vec<(usize, String)> = Vec::new();
    let mut ports = Vec::new();
    for line in text.lines() {
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') || content.starts_with('-') {
            continue;
        }
        let indent = line.len() - content.len();
        while parents.last().is_some_and(|(i, _)| *i >= indent) {
            parents.pop();
        }
        let Some((key, value)) = content.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() || value.starts_with('#') {
            parents.push((indent, key.trim().to_owned()));
            continue;
        }
        let section: Vec<&str> = parents.iter().map(|(_, k)| k.as_str()).collect();
        if own_port_key(&section.join("."), key) {
            ports.extend(port_value(value));
        }
    }
    ports
}

/// The port a configuration of the app defaults to, when it is the only one written:
/// a `port: 8000` field in a struct literal (`impl Default for ServerConfig`),
/// `fn default_port() -> u16 { 8000 }` (serde's `#[serde(default = "default_port")]`),
/// or a constant (`const PORT: u16 = 8000;`).
fn default_port(model: &Model) -> Option<u16> {
    use syn::visit::Visit;
    const FIELDS: [&str; 7] = [
        "port",
        "http_port",
        "server_port",
        "app_port",
        "api_port",
        "listen_port",
        "web_port",
    ];
    #[derive(Default)]
    struct Ports(Vec<u16>);
    fn int(expr: &syn::Expr) -> Option<u16> {
        match expr {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(n),
                ..
            }) => n.base10_parse().ok().filter(|p: &u16| *p > 0),
            _ => None,
        }
    }
    impl<'a> Visit<'a> for Ports {
        fn visit_field_value(&mut self, field: &'a syn::FieldValue) {
            if let syn::Member::Named(name) = &field.member {
                if FIELDS.contains(&name.to_string().as_str()) {
                    self.0.extend(int(&field.expr));
                }
            }
            syn::visit::visit_field_value(self, field);
        }
        fn visit_item_fn(&mut self, f: &'a syn::ItemFn) {
            if f.sig.ident == "default_port" {
                if let Some(syn::Stmt::Expr(tail, None)) = f.block.stmts.last() {
                    self.0.extend(int(tail));
                }
            }
            syn::visit::visit_item_fn(self, f);
        }
        // `const PORT: u16 = 3000;`, `static DEFAULT_PORT: u16 = 8080;`, wherever they
        // are declared (`bind(format!("{HOST}:{PORT}"))` reads one through a macro,
        // which init does not expand).
        fn visit_item_const(&mut self, c: &'a syn::ItemConst) {
            if port_name(&c.ident) {
                self.0.extend(int(&c.expr));
            }
            syn::visit::visit_item_const(self, c);
        }
        fn visit_item_static(&mut self, s: &'a syn::ItemStatic) {
            if port_name(&s.ident) {
                self.0.extend(int(&s.expr));
            }
            syn::visit::visit_item_static(self, s);
        }
    }
    fn port_name(ident: &syn::Ident) -> bool {
        let name = ident.to_string().to_ascii_lowercase();
        FIELDS.contains(&name.as_str()) || name == "default_port"
    }
    let mut ports = Ports::default();
    for file in &model.files {
        ports.visit_file(&file.ast);
    }
    ports.0.sort_unstable();
    ports.0.dedup();
    (ports.0.len() == 1).then(|| ports.0[0])
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

/// Where an earlier run of init put the endpoints, so a rerun keeps them there: the
/// `.base_path("..")` of the module it wrote, else (a module from before `base_path`) the
/// path of its `.nest("..", auth::router(..))`. `module_text` is the module as it is
/// now ([`module_text`]).
fn earlier_mount(model: &Model, module: &str, module_text: Option<&str>) -> Option<String> {
    let quoted = |rest: &str| {
        let (path, _) = rest.split_once('"')?;
        path.starts_with('/').then(|| path.to_owned())
    };
    let from_module = module_text
        .filter(|text| text.starts_with(HEADER_START))
        .and_then(|text| quoted(text.split_once(".base_path(\"")?.1));
    from_module.or_else(|| {
        model.files.iter().find_map(|f| {
            let compact: String = f.text.split_whitespace().collect();
            compact.split(".nest(\"").skip(1).find_map(|rest| {
                let (path, after) = rest.split_once("\",")?;
                let ours = after.starts_with(&format!("{module}::router("))
                    || after.starts_with(&format!("crate::{module}::router("));
                ours.then(|| quoted(&format!("{path}\""))).flatten()
            })
        })
    })
}

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

fn choose_database(
    args: &InitArgs,
    package: &Package,
    env_text: Option<&str>,
    chooser: &Chooser,
) -> anyhow::Result<(DatabaseKind, Option<String>)> {
    if let Some(db) = args.database {
        return Ok((db, None));
    }
    let single = |list: &[DatabaseKind]| (list.len() == 1).then(|| list[0]);
    // Read only, to infer the backend: init never writes the app's own `DATABASE_URL`.
    let from_env = env_text
        .and_then(|t| {
            envfile::value_of(t, "BETTER_AUTH_DATABASE_URL")
                .or_else(|| envfile::value_of(t, "DATABASE_URL"))
        })
        .and_then(|url| {
            if url.starts_with("sqlite:") {
                Some(DatabaseKind::Sqlite)
            } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
                Some(DatabaseKind::Postgres)
            } else {
                None
            }
        });
    // The app's own database is one Better Auth has no store for (MySQL, SQL Server,
    // ...): a feature flag that merely names PostgreSQL (diesel's, say) must not send
    // Better Auth to a server the app does not run. SQLite, in a file of its own.
    let app_url = env_text.and_then(|t| envfile::value_of(t, "DATABASE_URL"));
    let unsupported = app_url.as_deref().and_then(|url| {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "mysql" | "mariadb" => Some("MySQL"),
            "mssql" | "sqlserver" => Some("SQL Server"),
            "mongodb" | "mongodb+srv" => Some("MongoDB"),
            _ => None,
        }
    });
    if let (Some(name), true) = (unsupported, package.better_auth_databases.is_empty()) {
        if from_env.is_none() {
            return Ok((
                DatabaseKind::Sqlite,
                Some(format!(
                    "the app's DATABASE_URL is {name}, which Better Auth does not store in: \
                     its users and sessions go in SQLite (auth.db); pass --database postgres \
                     to keep them in PostgreSQL instead"
                )),
            ));
        }
    }
    let inferred = single(&package.better_auth_databases)
        .or_else(|| package.sqlx.as_ref().and_then(|s| single(&s.databases)))
        .or_else(|| single(&package.other_databases))
        .or(from_env);
    if let Some(db) = inferred {
        return Ok((db, None));
    }
    let options = vec!["sqlite".to_owned(), "postgres".to_owned()];
    let index = chooser.select(
        "Which database should Better Auth store users and sessions in?",
        &options,
        Some(0),
        "--database",
    )?;
    Ok((
        if index == 0 {
            DatabaseKind::Sqlite
        } else {
            DatabaseKind::Postgres
        },
        None,
    ))
}

fn plugin_context(plugins: &[PluginKind]) -> Vec<minijinja::Value> {
    let mut seen = Vec::new();
    for plugin in plugins {
        if !seen.contains(plugin) {
            seen.push(*plugin);
        }
    }
    seen.iter()
        // Social sign-in comes from another crate; the template writes it apart.
        .filter(|plugin| **plugin != PluginKind::Social)
        .map(|plugin| {
            let (type_name, constructor, comment) = match plugin {
                PluginKind::EmailPassword => (
                    "EmailPasswordPlugin",
                    "EmailPasswordPlugin::new().enable_signup(true)",
                    "Sign up and sign in with an email address and a password.",
                ),
                PluginKind::Sessions => (
                    "SessionManagementPlugin",
                    "SessionManagementPlugin::new()",
                    "List and revoke sessions.",
                ),
                PluginKind::Password => (
                    "PasswordManagementPlugin",
                    "PasswordManagementPlugin::new()",
                    "Change, forget and reset passwords.",
                ),
                PluginKind::Account | PluginKind::Social => (
                    "AccountManagementPlugin",
                    "AccountManagementPlugin::new()",
                    "List and unlink the ways a user signs in.",
                ),
            };
            context! { type_name, constructor, comment }
        })
        .collect()
}

/// UTC `YYYYMMDDHHMMSS`, sqlx's migration version format.
fn timestamp(offset_secs: u64) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        + offset_secs;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Builds the whole plan.
pub(super) fn build(
    args: &InitArgs,
    package: &Package,
    base: &Path,
    chooser: &Chooser,
) -> anyhow::Result<Plan> {
    let renderer = Renderer::new();
    // Paths as the user sees them: relative to the folder init was pointed at (a workspace
    // member's files keep their folder, e.g. `app/src/main.rs`).
    let shown = |p: &Path| {
        p.strip_prefix(base)
            .or_else(|_| p.strip_prefix(&package.dir))
            .map(|r| r.display().to_string())
            .unwrap_or_else(|_| p.display().to_string())
    };

    // Sources: every file reachable from the crate roots.
    let roots: Vec<(Root, PathBuf, String)> =
        [(Root::Main, &package.main), (Root::Lib, &package.lib)]
            .into_iter()
            .filter_map(|(root, file)| {
                let file = file.as_ref()?;
                Some((root, file.path.clone(), file.text.clone()?))
            })
            .collect();
    let model = Model::load(&roots, &shown)?;
    let module = module_name(&model);
    // Read once: the mount of an earlier run and whether its nest is upgraded come from it.
    let existing_module = module_text(&model, &module);
    let (mount, mount_note) = choose_mount(args, &model, &module, existing_module.as_deref())?;

    let env_path = package.env_dir.join(".env");
    let env_text = read(&env_path);
    // What the app's environment holds in development: `.env`, then cargo's `[env]`
    // (`.cargo/config.toml`), which `cargo run` sets. Read only.
    let cargo_env = cargo_config_env(&[&package.dir, &package.env_dir]);
    let live_env = env_text
        .iter()
        .chain(cargo_env.iter())
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    let live_env = (!live_env.trim().is_empty()).then_some(live_env);
    let (database, database_note) = choose_database(args, package, live_env.as_deref(), chooser)?;
    if let (DatabaseKind::Sqlite, Some(clash)) = (database, &package.sqlite_clash) {
        return Err(anyhow!(
            "Better Auth's SQLite support cannot join `{}`: {clash}. Nothing was changed",
            package.name
        ));
    }
    // An in-memory SQLite pool forgets everything at each restart: Better Auth never
    // shares one (users and sessions would vanish), it gets a file of its own.
    let in_memory = database == DatabaseKind::Sqlite
        && (live_env
            .as_deref()
            .and_then(|t| envfile::value_of(t, "DATABASE_URL"))
            .is_some_and(|url| url.contains(":memory:") || url.contains("mode=memory"))
            || model.files.iter().any(|f| {
                f.text.contains("\"sqlite::memory:\"") || f.text.contains("\":memory:\"")
            }));
    let in_memory_note = in_memory.then(|| {
        "the app's SQLite database is in memory (`sqlite::memory:`), so Better Auth does not \
         share its pool: users and sessions would vanish at every restart. It keeps them in a \
         file of its own (BETTER_AUTH_DATABASE_URL)"
            .to_owned()
    });
    let pool_type = package
        .sqlx
        .as_ref()
        .filter(|_| !in_memory)
        .filter(|s| s.is_0_8 && s.databases.contains(&database))
        .map(|_| match database {
            DatabaseKind::Sqlite => "sqlx::SqlitePool",
            DatabaseKind::Postgres => "sqlx::PgPool",
        });

    // The app's own example file when it has one (`.env.sample`, ...), not a second one.
    let example_path = envfile::example_path(&package.env_dir);
    let example_text = read(&example_path);
    let example_file = example_path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| ".env.example".to_owned());
    let mut wiring = wiring::plan_wiring(
        &model,
        &WiringInput {
            module: &module,
            mount: &mount,
            lib_crate: &package.lib_crate,
            pool_type,
            example_file: &example_file,
            module_merges: existing_module.as_deref().is_none_or(|text| {
                args.force
                    || text.contains("axum_routes")
                    || generated_and_unchanged(text) == Some(true)
            }),
        },
        &renderer,
    )?;
    // Test code that builds the state struct would stop compiling once it has an `auth`
    // field: then Better Auth is attached where the app is served instead, and the
    // state is left as it is.
    let integration = crate::files::rust_files_under(&package.dir.join("tests"));
    let breaks_tests = |wiring: &wiring::Wiring| match (&wiring.state_name, &wiring.outcome) {
        (Some(name), Outcome::Edits(_)) => model
            .test_literals_missing(name, "auth", &integration, &shown)
            .into_iter()
            .next()
            .map(|(file, line, _)| (name.clone(), file, line)),
        _ => None,
    };
    if let Some((name, file, line)) = breaks_tests(&wiring) {
        let input = WiringInput {
            module: &module,
            mount: &mount,
            lib_crate: &package.lib_crate,
            pool_type,
            example_file: &example_file,
            module_merges: true,
        };
        if let Some(mut at_serve) =
            wiring::serve_site_wiring(&model, &input, &renderer, wiring.port)?
        {
            at_serve.notes.insert(
                0,
                format!(
                    "test code builds `{name} {{ .. }}` ({file}:{line}), so init left \
                     `{name}` as it is (an `auth` field would break the tests)"
                ),
            );
            wiring = at_serve;
        }
    }
    let mut notes = wiring.notes.clone();
    notes.extend(in_memory_note);
    notes.extend(mount_note);
    notes.extend(database_note);

    // Migrations: the runtime runs them, or the SQL goes into the app's sqlx folder.
    let migrations = match args
        .migrations
        .or_else(|| default_migrations(package.migrations_dir.as_deref()))
    {
        Some(mode) => mode,
        None if package.migrations_dir.is_some() && package.sqlx.is_some() => {
            let options = vec![
                "runtime: Better Auth creates its tables at start-up (recommended)".to_owned(),
                "copy: add Better Auth's SQL to migrations/ for sqlx::migrate!()".to_owned(),
            ];
            let index = chooser.select(
                "The app has a sqlx migrations/ folder. Who creates Better Auth's tables?",
                &options,
                Some(0),
                "--migrations",
            )?;
            if index == 0 {
                MigrationsMode::Runtime
            } else {
                MigrationsMode::Copy
            }
        }
        None => MigrationsMode::Runtime,
    };
    if migrations == MigrationsMode::Copy && !has_migrations(database) {
        return Err(anyhow!(
            "--migrations copy: this build of better-auth has no {} migrations to copy",
            database.name()
        ));
    }
    let migrations_dir = package
        .migrations_dir
        .clone()
        .unwrap_or_else(|| package.dir.join("migrations"));
    let mut migration_files = Vec::new();
    if migrations == MigrationsMode::Copy {
        let existing: Vec<PathBuf> = std::fs::read_dir(&migrations_dir)
            .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        for (i, (_, name, sql)) in MIGRATIONS
            .iter()
            .filter(|(b, _, _)| *b == database.name())
            .enumerate()
        {
            let stem = name.split_once('_').map(|(_, s)| s).unwrap_or(name);
            let suffix = format!("_better_auth_{stem}");
            let path = existing
                .iter()
                .find(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().ends_with(&suffix))
                })
                .cloned()
                .unwrap_or_else(|| migrations_dir.join(format!("{}{suffix}", timestamp(i as u64))));
            migration_files.push((path, sql.to_string()));
        }
        notes.push(
            "sqlx::migrate!() reads migrations/ at compile time; if the new file is not \
             picked up, run `touch src/main.rs` (or add a build.rs with \
             `println!(\"cargo:rerun-if-changed=migrations\")`)"
                .to_owned(),
        );
    }

    // Environment.
    let mut env_dirs = vec![&package.dir, &package.env_dir];
    env_dirs.dedup();
    // A member's own files first, then those of the folder Better Auth's go in (read
    // above).
    let mut env_files: Vec<String> = Vec::new();
    if package.dir != package.env_dir {
        env_files.extend(
            [
                package.dir.join(".env"),
                envfile::example_path(&package.dir),
            ]
            .iter()
            .filter_map(|path| read(path)),
        );
    }
    env_files.extend(
        env_text
            .iter()
            .chain(&cargo_env)
            .chain(&example_text)
            .cloned(),
    );
    // A port variable the code reads and the environment sets wins over the code's own
    // fallback (`var("PORT").unwrap_or("80")` with `PORT=8080` in `.env`).
    let port = match port_the_app_reads(live_env.as_deref(), &model)
        .or(wiring.port)
        .or_else(|| port_from_env(&env_files, &model))
        .or_else(|| default_port(&model))
        .or_else(|| port_from_config_files(&env_dirs, &model))
    {
        Some(port) => port,
        None => {
            notes.push(
                "init could not tell which port the app listens on, so BETTER_AUTH_URL says \
                 http://localhost:3000: correct it in .env (and the example file) if the app \
                 listens elsewhere; links in emails are built from it"
                    .to_owned(),
            );
            3000
        }
    };
    let base_url = format!("http://localhost:{port}");
    let database_url = match database {
        DatabaseKind::Sqlite => "sqlite:auth.db?mode=rwc".to_owned(),
        DatabaseKind::Postgres => {
            let (url, note) = postgres_url(
                live_env.as_deref(),
                example_text.as_deref(),
                &model,
                package,
            );
            if wiring.pool.is_none() {
                notes.push(note);
            }
            url
        }
    };
    let secret = match env_text
        .as_deref()
        .and_then(|t| envfile::value_of(t, "BETTER_AUTH_SECRET"))
    {
        Some(existing) if !existing.is_empty() => existing,
        _ => envfile::new_secret(),
    };
    let mut vars = vec![
        Var {
            name: "BETTER_AUTH_SECRET",
            value: secret.clone(),
            example: String::new(),
        },
        Var {
            name: "BETTER_AUTH_URL",
            value: base_url.clone(),
            example: base_url.clone(),
        },
    ];
    let social = args.plugins.contains(&PluginKind::Social);
    if social {
        for name in [
            "GITHUB_CLIENT_ID",
            "GITHUB_CLIENT_SECRET",
            "GOOGLE_CLIENT_ID",
            "GOOGLE_CLIENT_SECRET",
        ] {
            vars.push(Var {
                name,
                value: String::new(),
                example: String::new(),
            });
        }
        notes.push(format!(
            "social sign-in: register {base_url}{mount}/callback/github as the callback URL of \
             a GitHub OAuth App, and {base_url}{mount}/callback/google as an authorized redirect \
             URI of a Google OAuth client (in production, your https URL instead of \
             {base_url}); then set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET (or GOOGLE_...) in \
             .env. A provider whose two variables are empty stays off"
        ));
    }
    if wiring.pool.is_none() {
        // Better Auth's own variable: `DATABASE_URL` belongs to the app (and to sqlx's
        // compile-time macros, which read it from `.env`).
        vars.push(Var {
            name: "BETTER_AUTH_DATABASE_URL",
            value: database_url.clone(),
            // The example file is committed: when Better Auth starts on the app's
            // database, the app's own example of it (a placeholder); never a password.
            example: better_auth::store::redact_url(
                env_text
                    .as_deref()
                    .and_then(|t| envfile::value_of(t, "DATABASE_URL"))
                    .filter(|url| *url == database_url)
                    .and_then(|_| {
                        example_text
                            .as_deref()
                            .and_then(|t| envfile::value_of(t, "DATABASE_URL"))
                    })
                    .as_deref()
                    .unwrap_or(&database_url),
            ),
        });
    }

    // src/auth.rs
    let state = match wiring.state {
        StateKind::None => context! { kind => "none", reach => wiring.handlers_reach_auth },
        kind => context! {
            kind => kind.name(),
            name => wiring.state_name.clone(),
            path => wiring.state_path.clone(),
            derives_from_ref => wiring.derives_from_ref,
        },
    };
    let pool = wiring.pool.as_ref().map(|p| {
        context! {
            type_path => p.type_path,
            type_name => p.type_path.rsplit("::").next(),
        }
    });
    let body = renderer.render(
        "auth.rs",
        context! {
            plugins => plugin_context(&args.plugins),
            social,
            state,
            serve_site => wiring.serve_site,
            pool,
            mount => mount.clone(),
            example_file => example_file.clone(),
            migrations => match migrations { MigrationsMode::Runtime => "runtime", MigrationsMode::Copy => "copy" },
            // A generic example: the real URL may hold a password, and this file is
            // committed.
            database_url_example => match database {
                DatabaseKind::Sqlite => "sqlite:auth.db?mode=rwc",
                DatabaseKind::Postgres => "postgres://USER:PASSWORD@localhost:5432/DATABASE",
            },
        },
    )?;
    let body = rustfmt(&body, &package.edition, &package.dir).unwrap_or(body);
    let header = renderer.render("header.rs", context! { fingerprint => fingerprint(&body) })?;
    let auth_path = match model.root_file(wiring.home) {
        Some(root) => wiring::module_file(&root.path, &module).0,
        None => package.dir.join(format!("{module}.rs")),
    };

    // Cargo.toml
    let (source, forced) = runtime_source(args)?;
    let manifest_text = package.manifest.text.clone().unwrap_or_default();
    let edited =
        manifest::add_dependencies(&manifest_text, &source, forced, database, true, social)?;

    let mut files = vec![change(
        package.manifest.path.clone(),
        Some(manifest_text),
        edited.text,
    )];
    files.push(generated_change(
        auth_path.clone(),
        read(&auth_path),
        format!("{header}{body}"),
        args.force,
    ));

    let mut manual = None;
    match &wiring.outcome {
        Outcome::Edits(edits) => {
            for file in &model.files {
                let mine: Vec<&source::Edit> = edits.iter().filter(|e| e.file == file.id).collect();
                if mine.is_empty() {
                    continue;
                }
                let mut new = source::apply_edits(&file.text, &mine);
                if new != file.text {
                    // Format only files that were formatted before, so the author's own
                    // style is never rewritten.
                    let was_formatted = rustfmt(&file.text, &package.edition, &package.dir)
                        .is_some_and(|f| f == file.text);
                    if was_formatted {
                        new = rustfmt(&new, &package.edition, &package.dir).unwrap_or(new);
                    }
                }
                files.push(change(file.path.clone(), Some(file.text.clone()), new));
            }
        }
        Outcome::Manual {
            file,
            reason,
            steps,
        } => {
            let file = model
                .files
                .get(*file)
                .ok_or_else(|| anyhow!("no source file".to_owned()))?;
            let mut skipped = change(
                file.path.clone(),
                Some(file.text.clone()),
                file.text.clone(),
            );
            skipped.status = Status::Skip;
            skipped.note = Some("too unusual to edit safely; see the manual steps".to_owned());
            files.push(skipped);
            let steps: Vec<minijinja::Value> = steps
                .iter()
                .map(|s| context! { where => s.place, lines => s.lines })
                .collect();
            manual = Some(renderer.render(
                "manual_steps",
                context! { file => shown(&file.path), reason, steps },
            )?);
        }
    }

    for (path, sql) in migration_files {
        let old = read(&path);
        files.push(generated_change(path, old, sql, args.force));
    }

    // A `.env` in git gets no secret and no password: what is committed is
    // no secret. The app cannot start without them, so init says what is left.
    let env_tracked = envfile::tracked_by_git(&env_path);
    let withheld = |v: &Var| {
        env_tracked
            && match v.name {
                "BETTER_AUTH_SECRET" => true,
                "BETTER_AUTH_DATABASE_URL" => holds_password(&v.value),
                _ => false,
            }
    };
    let env_vars: Vec<Var> = vars.iter().filter(|v| !withheld(v)).cloned().collect();
    // Tests that build the state struct break once it has an `auth` field;
    // init does not edit tests, so it says where they are.
    let mut env_steps = Vec::new();
    if let (Some(name), Outcome::Edits(_)) = (&wiring.state_name, &wiring.outcome) {
        for (file, line, func) in model.test_literals_missing(name, "auth", &integration, &shown) {
            env_steps.push(format!(
                "{file}:{line} (`fn {func}`, test code) builds `{name} {{ .. }}` without the \
                 `auth` field init added, so the tests no longer compile: add `auth`, built as \
                 the app builds it (init does not edit tests)"
            ));
        }
    }
    // An app that serves its working directory as static files would hand out `.env`
    // (the secret) and an SQLite database (password hashes) to anyone who asks.
    for file in &model.files {
        let compact: String = file.text.split_whitespace().collect();
        let served = ["\".\"", "\"./\"", "\"\""]
            .iter()
            .find(|dir| compact.contains(&format!("ServeDir::new({dir})")));
        if let Some(dir) = served {
            env_steps.push(format!(
                "{} serves the app's working directory as files (`ServeDir::new({dir})`), so \
                 `GET /.env` would answer BETTER_AUTH_SECRET and an SQLite database (password \
                 hashes) would be downloadable too: serve a folder of its own instead (say \
                 `ServeDir::new(\"static\")`) before starting the app",
                file.shown
            ));
        }
    }
    if env_tracked {
        let shown_env = super::shown(&env_path, base);
        let existing = |name| {
            env_text
                .as_deref()
                .and_then(|t| envfile::value_of(t, name))
                .is_some_and(|s| !s.is_empty())
        };
        let untrack = "stop tracking it with `git rm --cached .env` (the file stays), keep \
                       `.env` in .gitignore, and run init again";
        for var in vars.iter().filter(|v| withheld(v) && !existing(v.name)) {
            env_steps.push(match var.name {
                "BETTER_AUTH_SECRET" => format!(
                    "{shown_env} is tracked by git, so init did not write BETTER_AUTH_SECRET \
                     into it, and the app cannot start without it: {untrack}; or set \
                     BETTER_AUTH_SECRET in the app's environment to the output of \
                     `better-auth secret`"
                ),
                _ => format!(
                    "{shown_env} is tracked by git, so init did not write \
                     BETTER_AUTH_DATABASE_URL ({}) into it: the URL holds a password. Either \
                     {untrack}; or set BETTER_AUTH_DATABASE_URL in the app's environment",
                    better_auth::store::redact_url(&var.value)
                ),
            });
        }
        if existing("BETTER_AUTH_SECRET") {
            notes.push(format!(
                "{shown_env} is tracked by git and holds BETTER_AUTH_SECRET, so the secret is (or \
                 will be) in the repository's history. Stop tracking it with `git rm --cached \
                 .env` (the file stays), keep `.env` in .gitignore, and replace the secret with \
                 a fresh one from `better-auth secret`"
            ));
        }
    }
    let mut env = change(
        env_path,
        env_text.clone(),
        envfile::merge(&renderer, "env", env_text.as_deref(), &env_vars, false)?,
    );
    env.mode = Some(0o600);
    files.push(env);
    files.push(change(
        example_path.clone(),
        example_text.clone(),
        envfile::merge(
            &renderer,
            "env.example",
            example_text.as_deref(),
            &vars,
            true,
        )?,
    ));
    let ignore_path = package.env_dir.join(".gitignore");
    let ignore_text = read(&ignore_path);
    let mut ignore_new = envfile::ignore_env(ignore_text.as_deref());
    // The URL the app will read: an existing `.env` value wins over init's default.
    let app_database_url = env_text
        .as_deref()
        .and_then(|t| envfile::value_of(t, "BETTER_AUTH_DATABASE_URL"))
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| database_url.clone());
    let sqlite_file = envfile::sqlite_file(&app_database_url).filter(|_| wiring.pool.is_none());
    if let Some(file) = sqlite_file {
        ignore_new = envfile::ignore_database(&ignore_new, &package.env_dir, file);
    }
    if envfile::ignored(&example_path, &ignore_new) {
        notes.push(format!(
            "{} is ignored by git (a pattern in .gitignore such as `.env*` matches it), so it \
             will not be committed for others to copy; add `!.env.example` to .gitignore to \
             share it",
            super::shown(&example_path, base)
        ));
    }
    files.push(change(ignore_path, ignore_text.clone(), ignore_new));

    Ok(Plan {
        package: package.name.clone(),
        files,
        dependency_line: edited.line,
        notes,
        manual,
        env_steps,
        base_url,
        mount,
        secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_shown_without_their_password() {
        assert_eq!(
            better_auth::store::redact_url("postgres://app:s3cr@t@db:5432/app"),
            "postgres://app:***@db:5432/app"
        );
        assert_eq!(
            better_auth::store::redact_url("postgres://postgres@localhost/x"),
            "postgres://postgres@localhost/x"
        );
        assert_eq!(
            better_auth::store::redact_url("postgres://localhost/a@b"),
            "postgres://localhost/a@b"
        );
    }

    #[test]
    fn migrations_that_create_a_better_auth_table_are_seen() {
        let dir = std::env::temp_dir().join(format!("ba-clash-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("1_posts.sql"), "CREATE TABLE users (id int);").unwrap();
        assert_eq!(clashing_table(&dir), None, "`users` is not `user`");
        std::fs::write(
            dir.join("2_s.sql"),
            "create table if not exists \"session\" (id int);",
        )
        .unwrap();
        assert_eq!(clashing_table(&dir), Some("session"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fingerprint_detects_edits() {
        let body = "fn main() {}\n";
        let text = format!(
            "{HEADER_START}{}). Edit it freely: once you\n// change this file...\n\n{body}",
            fingerprint(body)
        );
        assert_eq!(generated_and_unchanged(&text), Some(true));
        let edited = text.replace("main", "other");
        assert_eq!(generated_and_unchanged(&edited), Some(false));
        assert_eq!(generated_and_unchanged(body), None);
    }

    #[test]
    fn timestamps_look_like_sqlx_versions() {
        let ts = timestamp(0);
        assert_eq!(ts.len(), 14);
        assert!(ts.starts_with("20"));
    }
}
