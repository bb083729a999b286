//! The plan: every file `init` would write, with its old and new text and a status word.
//! Built from the facts inspection read and the decisions made, entirely in memory:
//! nothing here reads a file, runs a program or asks a question (formatting goes through
//! the `format` function the caller passes).

use anyhow::anyhow;
use std::path::PathBuf;

use minijinja::context;

use super::args::{DatabaseKind, InitArgs, MigrationsMode, PluginKind};
use super::envfile::{self, Var};
use super::inspect::Facts;
use super::manifest;
use super::port;
use super::project::{self, Package};
use super::render::Renderer;
use super::resolve::Decisions;
use super::source;
use super::wiring::{self, Outcome, StateKind, Wiring, WiringInput};

/// Formats Rust code as the project does (rustfmt with its settings); `None` when it
/// cannot.
pub(super) type Format<'a> = &'a dyn Fn(&str) -> Option<String>;

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

/// Better Auth's PostgreSQL or MySQL URL (`kind`), and a note saying where it came from.
///
/// The app's own database is the best guess, as with Better Auth in TypeScript: the
/// `DATABASE_URL` of its `.env`, else the one `postgres://` (or `mysql://`) URL written
/// in its code (a default such as `unwrap_or("postgres://...")`). Better Auth's tables (`user`,
/// `session`, `account`, `verification`) then sit beside the app's, unless the app's
/// migrations already create a table of one of those names. Failing that, a database
/// named after the package on the local server, which the note says to create.
fn server_url(facts: &Facts, package: &Package, kind: DatabaseKind) -> (String, String) {
    let name = package.name.replace('-', "_");
    let (fallback, create) = if kind == DatabaseKind::Mysql {
        (
            format!("mysql://root@localhost:3306/{name}"),
            format!("`CREATE DATABASE {name};` in the mysql client"),
        )
    } else {
        (
            format!("postgres://postgres@localhost:5432/{name}"),
            format!("`createdb {name}`"),
        )
    };
    let is_ours = |url: &str| {
        if kind == DatabaseKind::Mysql {
            url.starts_with("mysql://")
        } else {
            url.starts_with("postgres://") || url.starts_with("postgresql://")
        }
    };
    let from_env = facts
        .live_env()
        .and_then(|t| envfile::value_of(&t, "DATABASE_URL"))
        .filter(|url| is_ours(url))
        .map(|url| (url, "the app's DATABASE_URL in .env".to_owned()))
        .or_else(|| {
            facts
                .example_text
                .as_deref()
                .filter(|t| !envfile::is_template(t, "DATABASE_URL"))
                .and_then(|t| envfile::value_of(t, "DATABASE_URL"))
                .filter(|url| is_ours(url))
                .map(|url| {
                    (
                        url,
                        "the app's DATABASE_URL in its example dotenv file".to_owned(),
                    )
                })
        });
    let from_code = || {
        let mut found: Vec<String> = facts
            .literals
            .iter()
            .filter(|l| is_ours(l) && !l.contains('{'))
            .cloned()
            .collect();
        (found.len() == 1).then(|| {
            (
                found.remove(0),
                "the app's default database URL in its code".to_owned(),
            )
        })
    };
    let from_config = || {
        port::database_from_config(facts)
            .filter(|(url, _)| is_ours(url))
            .map(|(url, file)| (url, format!("the app's database settings in {file}")))
    };
    let found = from_env.or_else(from_config).or_else(from_code);
    let taken = clashing_table(&facts.app_migrations_sql);
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
        "{why}BETTER_AUTH_DATABASE_URL is {fallback}: create that database ({create}) or set \
         the URL of an existing one in .env before starting the app"
    );
    (fallback, note)
}

/// Whether a database URL carries a password (`user:password@host`, `?password=`).
fn holds_password(url: &str) -> bool {
    better_auth::store::redact_url(url) != url || url.contains("password=")
}

/// The first of Better Auth's table names that the app's SQL migrations create.
fn clashing_table(sql: &str) -> Option<&'static str> {
    let sql = sql.to_lowercase().replace(['"', '`'], "");
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

fn plugin_context(plugins: &[PluginKind]) -> Vec<minijinja::Value> {
    let mut seen = Vec::new();
    for plugin in plugins {
        if !seen.contains(plugin) {
            seen.push(*plugin);
        }
    }
    seen.iter()
        // Social sign-in and two-factor come from other crates; the template writes
        // them apart.
        .filter(|plugin| {
            !matches!(
                plugin,
                PluginKind::Social
                    | PluginKind::TwoFactor
                    | PluginKind::MagicLink
                    | PluginKind::EmailOtp
                    | PluginKind::Username
                    | PluginKind::Passkey
                    | PluginKind::Admin
                    | PluginKind::Organization
            )
        })
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
                PluginKind::Account
                | PluginKind::Social
                | PluginKind::TwoFactor
                | PluginKind::MagicLink
                | PluginKind::EmailOtp
                | PluginKind::Username
                | PluginKind::Passkey
                | PluginKind::Admin
                | PluginKind::Organization => (
                    "AccountManagementPlugin",
                    "AccountManagementPlugin::new()",
                    "List and unlink the ways a user signs in.",
                ),
            };
            context! { type_name, constructor, comment }
        })
        .collect()
}

/// UTC `YYYYMMDDHHMMSS` `offset_secs` from now, sqlx's migration version format.
fn timestamp(offset_secs: u64) -> String {
    let at =
        chrono::Utc::now() + chrono::TimeDelta::seconds(i64::try_from(offset_secs).unwrap_or(0));
    at.format("%Y%m%d%H%M%S").to_string()
}

/// The values the plan is built around.
struct Settings<'a> {
    /// The runtime's store for this app.
    database: DatabaseKind,
    /// `BETTER_AUTH_URL`.
    base_url: String,
    /// `BETTER_AUTH_DATABASE_URL`, unless Better Auth shares the app's pool.
    database_url: String,
    /// `BETTER_AUTH_SECRET`: the one in `.env`, else a new one.
    secret: String,
    /// The app's example dotenv file's name.
    example_file: String,
    /// Whether social sign-in is on.
    social: bool,
    /// Whether two-factor authentication is on.
    two_factor: bool,
    /// Whether magic-link sign-in is on.
    magic_link: bool,
    /// Whether codes by email are on.
    email_otp: bool,
    /// Whether usernames are on.
    username: bool,
    /// Whether passkeys are on.
    passkey: bool,
    /// Whether the admin tools are on.
    admin: bool,
    /// Whether organizations are on.
    organization: bool,
    /// Whether what a tracked `.env` must not hold goes in `.env.local`, which the
    /// module then loads first.
    env_local: bool,
    /// The flags.
    args: &'a InitArgs,
}

/// Builds the whole plan from what inspection found and what was decided. `format` is
/// rustfmt with the project's settings.
pub(super) fn build(
    args: &InitArgs,
    package: &Package,
    facts: &Facts,
    decisions: &Decisions,
    format: Format<'_>,
) -> anyhow::Result<Plan> {
    let renderer = Renderer::new();
    let example_file = facts
        .example_path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| ".env.example".to_owned());
    let wiring = wire(args, package, facts, decisions, &example_file, &renderer)?;
    let mut notes = wiring.notes.clone();
    notes.extend(decisions.notes.iter().cloned());
    let migrations = migration_changes(args, facts, package, decisions, &mut notes);

    let port = port::the_port(facts, wiring.port).unwrap_or_else(|| {
        notes.push(
            "init could not tell which port the app listens on, so BETTER_AUTH_URL says \
             http://localhost:3000: correct it in .env (and the example file) if the app \
             listens elsewhere; links in emails are built from it"
                .to_owned(),
        );
        3000
    });
    let database_url = match decisions.database {
        DatabaseKind::Sqlite => "sqlite:auth.db?mode=rwc".to_owned(),
        DatabaseKind::Postgres | DatabaseKind::Mysql => {
            let (url, note) = server_url(facts, package, decisions.database);
            if wiring.pool.is_none() {
                notes.push(note);
            }
            url
        }
    };
    let mut settings = Settings {
        database: decisions.database,
        base_url: format!("http://localhost:{port}"),
        database_url,
        secret: match [&facts.env_text, &facts.env_local_text]
            .into_iter()
            .find_map(|t| envfile::value_of(t.as_deref()?, "BETTER_AUTH_SECRET"))
        {
            Some(existing) if !existing.is_empty() => existing,
            _ => envfile::new_secret(),
        },
        example_file,
        social: args.plugins.contains(&PluginKind::Social),
        two_factor: args.plugins.contains(&PluginKind::TwoFactor),
        magic_link: args.plugins.contains(&PluginKind::MagicLink),
        email_otp: args.plugins.contains(&PluginKind::EmailOtp),
        username: args.plugins.contains(&PluginKind::Username),
        passkey: args.plugins.contains(&PluginKind::Passkey),
        admin: args.plugins.contains(&PluginKind::Admin),
        organization: args.plugins.contains(&PluginKind::Organization),
        env_local: false,
        args,
    };
    let vars = env_vars(&settings, facts, &wiring, &decisions.mount, &mut notes);
    settings.env_local = uses_env_local(facts, &vars);

    // Cargo.toml, the module, the app's sources, migrations, then the environment.
    let (source, forced) = &facts.runtime;
    let manifest_text = package.manifest.text.clone().unwrap_or_default();
    let edited = manifest::add_dependencies(
        &manifest_text,
        source,
        *forced,
        settings.database,
        true,
        &[
            settings.social.then_some(manifest::SOCIAL),
            settings.two_factor.then_some(manifest::TWO_FACTOR),
            settings.magic_link.then_some(manifest::MAGIC_LINK),
            settings.email_otp.then_some(manifest::EMAIL_OTP),
            settings.username.then_some(manifest::USERNAME),
            settings.passkey.then_some(manifest::PASSKEY),
            settings.admin.then_some(manifest::ADMIN),
            settings.organization.then_some(manifest::ORGANIZATION),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>(),
    )?;
    // Handlers of workspace members the app's router comes from cannot name this
    // package's `auth` module: they need the runtime's own extractors.
    if wiring.serve_site {
        let members = project::axum_path_dependencies(&package.manifest.path, &args.path);
        if !members.is_empty() {
            let names: Vec<String> = members.iter().map(|(n, _)| format!("`{n}`")).collect();
            let manifests: Vec<String> = members
                .iter()
                .map(|(_, dir)| dir.join("Cargo.toml").display().to_string())
                .collect();
            notes.push(format!(
                "handlers in the workspace member{} {} cannot name this package's `{}` \
                 module: to read sessions there, add `{}` to {} and take \
                 `better_auth::integrations::axum::Authenticated` / `MaybeAuthenticated`",
                if members.len() > 1 { "s" } else { "" },
                names.join(", "),
                facts.module,
                member_dependency_line(&edited.line),
                manifests.join(", ")
            ));
        }
    }
    let mut files = vec![change(
        package.manifest.path.clone(),
        Some(manifest_text),
        edited.text,
    )];
    files.push(auth_module(
        &settings, package, facts, decisions, &wiring, &renderer, format,
    )?);
    let (sources, manual) = source_changes(facts, &wiring, &renderer, format)?;
    files.extend(sources);
    files.extend(migrations);
    let env_steps = env_steps(facts, &wiring, &vars, &mut notes);
    files.extend(env_changes(
        facts, &settings, &wiring, &vars, &renderer, &mut notes,
    )?);

    Ok(Plan {
        package: package.name.clone(),
        files,
        dependency_line: edited.line,
        notes,
        manual,
        env_steps,
        base_url: settings.base_url,
        mount: decisions.mount.clone(),
        secret: settings.secret,
    })
}

/// How Better Auth is wired into the app's sources. Test code that builds the state
/// struct would stop compiling once it has an `auth` field: then Better Auth is attached
/// where the app is served instead, and the state is left as it is.
fn wire(
    args: &InitArgs,
    package: &Package,
    facts: &Facts,
    decisions: &Decisions,
    example_file: &str,
    renderer: &Renderer,
) -> anyhow::Result<Wiring> {
    let pool_type = package
        .sqlx
        .as_ref()
        .filter(|_| !decisions.keep_apart)
        .filter(|s| s.is_0_8 && s.databases.contains(&decisions.database))
        .map(|_| match decisions.database {
            DatabaseKind::Sqlite => "sqlx::SqlitePool",
            DatabaseKind::Postgres => "sqlx::PgPool",
            DatabaseKind::Mysql => "sqlx::MySqlPool",
        });
    let mut input = WiringInput {
        module: &facts.module,
        mount: &decisions.mount,
        lib_crate: &package.lib_crate,
        pool_type,
        example_file,
        module_merges: facts.existing_module.as_deref().is_none_or(|text| {
            args.force
                || text.contains("axum_routes")
                || generated_and_unchanged(text) == Some(true)
        }),
    };
    let wiring = wiring::plan_wiring(&facts.model, &input, renderer)?;
    let Some((name, file, line)) = breaks_tests(facts, &wiring) else {
        return Ok(wiring);
    };
    input.module_merges = true;
    let Some(mut at_serve) =
        wiring::serve_site_wiring(&facts.model, &input, renderer, wiring.port)?
    else {
        return Ok(wiring);
    };
    at_serve.notes.insert(
        0,
        format!(
            "test code builds `{name} {{ .. }}` ({file}:{line}), so init left `{name}` as it \
             is (an `auth` field would break the tests)"
        ),
    );
    Ok(at_serve)
}

/// The first place test code builds the state struct `wiring` adds a field to:
/// `(struct, file, line)`.
fn breaks_tests(facts: &Facts, wiring: &Wiring) -> Option<(String, String, usize)> {
    let (Some(name), Outcome::Edits(_)) = (&wiring.state_name, &wiring.outcome) else {
        return None;
    };
    facts
        .model
        .test_literals_missing(name, "auth", &facts.test_sources)
        .into_iter()
        .next()
        .map(|(file, line, _)| (name.clone(), file, line))
}

/// The copies of Better Auth's SQL in the app's migrations folder, with `--migrations
/// copy` (an earlier run's files keep their names).
fn migration_changes(
    args: &InitArgs,
    facts: &Facts,
    package: &Package,
    decisions: &Decisions,
    notes: &mut Vec<String>,
) -> Vec<FileChange> {
    if decisions.migrations != MigrationsMode::Copy {
        return Vec::new();
    }
    let migrations_dir = package
        .migrations_dir
        .clone()
        .unwrap_or_else(|| package.dir.join("migrations"));
    let mut files = Vec::new();
    for (i, (name, sql)) in decisions.database.migrations().into_iter().enumerate() {
        let stem = name.split_once('_').map(|(_, s)| s).unwrap_or(name);
        let suffix = format!("_better_auth_{stem}");
        let path = facts
            .migration_files
            .iter()
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().ends_with(&suffix))
            })
            .cloned()
            .unwrap_or_else(|| migrations_dir.join(format!("{}{suffix}", timestamp(i as u64))));
        let old = facts.text_of(&path);
        files.push(generated_change(path, old, sql.to_owned(), args.force));
    }
    notes.push(
        "sqlx::migrate!() reads migrations/ at compile time; if the new file is not picked \
         up, run `touch src/main.rs` (or add a build.rs with \
         `println!(\"cargo:rerun-if-changed=migrations\")`)"
            .to_owned(),
    );
    files
}

/// The variables Better Auth's settings go in (`.env` and the example file).
fn env_vars(
    settings: &Settings<'_>,
    facts: &Facts,
    wiring: &Wiring,
    mount: &str,
    notes: &mut Vec<String>,
) -> Vec<Var> {
    let base_url = &settings.base_url;
    let mut vars = vec![
        Var {
            name: "BETTER_AUTH_SECRET",
            value: settings.secret.clone(),
            example: String::new(),
        },
        Var {
            name: "BETTER_AUTH_URL",
            value: base_url.clone(),
            example: base_url.clone(),
        },
    ];
    if settings.social {
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
    if settings.magic_link {
        notes.push(format!(
            "magic links: POST {mount}/sign-in/magic-link mails a sign-in link; set an email \
             sender (AuthConfig::email_sender in src/auth.rs) before production: until then \
             links are only printed on the server's stderr"
        ));
    }
    if settings.email_otp {
        notes.push(format!(
            "codes by email: POST {mount}/email-otp/send-verification-otp mails a code; set an \
             email sender (AuthConfig::email_sender in src/auth.rs) before production: until \
             then codes are only printed on the server's stderr"
        ));
    }
    if settings.username {
        notes.push(format!(
            "usernames: sign-up and POST {mount}/update-user take a username, POST \
             {mount}/sign-in/username signs in with it (the client's usernameClient); the \
             plugin adds its columns to the user table when the app starts"
        ));
    }
    if settings.passkey {
        notes.push(format!(
            "passkeys: a signed-in user registers one with the client's passkey.addPasskey() \
             and signs in with signIn.passkey() ({mount}/passkey/...); browsers offer passkeys \
             on https or localhost only, for the host of BETTER_AUTH_URL"
        ));
    }
    if settings.admin {
        // The guard that fits the wiring: the instance in the state (`FromRef`), in the
        // request (`attach` / an `Extension` layer), or only in an `Arc` state the
        // generated `Authenticated` reads (where a guard cannot reach it).
        let guard = match wiring.state {
            StateKind::Arc => {
                "`Authenticated` and `better_auth_admin::has_role(&session.user, \"admin\")` \
                 guard your own handlers (answer 403 when it is false)"
            }
            StateKind::None if !wiring.handlers_reach_auth => {
                "`better_auth_admin::RequireRole<Admin, Attached>` guards your own handlers \
                 (401 without a session, 403 without the role; src/auth.rs shows one)"
            }
            _ => {
                "`better_auth_admin::RequireRole<Admin>` guards your own handlers (401 \
                 without a session, 403 without the role; src/auth.rs shows one)"
            }
        };
        notes.push(format!(
            "admin: make the first admin with `better-auth user set-role --email ... --role \
             admin` (or `user create --role admin`); admins reach {mount}/admin/... (the \
             client's adminClient), and {guard}"
        ));
    }
    if settings.organization {
        let guard = match wiring.state {
            // The generated extractors read an `Arc` state, which a guard cannot: the
            // instance has to ride in the request too.
            StateKind::Arc => {
                "`better_auth_organization::RequirePermission<P, Attached>` guards your own \
                 handlers by the member's role in the active organization once the router \
                 also has `.layer(axum::Extension(auth.clone()))`"
            }
            StateKind::None if !wiring.handlers_reach_auth => {
                "`better_auth_organization::RequirePermission<P, Attached>` guards your own \
                 handlers by the member's role in the active organization (src/auth.rs shows \
                 one)"
            }
            _ => {
                "`better_auth_organization::RequirePermission<P>` guards your own handlers by \
                 the member's role in the active organization (src/auth.rs shows one)"
            }
        };
        notes.push(format!(
            "organizations: a signed-in user creates one with POST {mount}/organization/create \
             and invites members by email (the client's organizationClient; invitation links \
             are printed until an email sender is set); {guard}; the plugin creates its \
             tables when the app starts"
        ));
    }
    if settings.two_factor {
        notes.push(format!(
            "two-factor: a signed-in user turns it on with POST {mount}/two-factor/enable and \
             the first code of their authenticator app (the client's twoFactorClient does \
             both); the plugin creates its twoFactor table when the app starts"
        ));
    }
    if wiring.pool.is_none() {
        // Better Auth's own variable: `DATABASE_URL` belongs to the app (and to sqlx's
        // compile-time macros, which read it from `.env`).
        let database_url = &settings.database_url;
        let apps_url = facts
            .env_text
            .as_deref()
            .and_then(|t| envfile::value_of(t, "DATABASE_URL"));
        // The example file is committed: when Better Auth starts on the app's database,
        // the app's own example of it (a placeholder); never a password.
        let example = apps_url
            .filter(|url| url == database_url)
            .and_then(|_| {
                facts
                    .example_text
                    .as_deref()
                    .and_then(|t| envfile::value_of(t, "DATABASE_URL"))
            })
            .unwrap_or_else(|| database_url.clone());
        vars.push(Var {
            name: "BETTER_AUTH_DATABASE_URL",
            value: database_url.clone(),
            example: better_auth::store::redact_url(&example),
        });
    }
    vars
}

/// The generated module (`src/auth.rs`), from the template.
fn auth_module(
    settings: &Settings<'_>,
    package: &Package,
    facts: &Facts,
    decisions: &Decisions,
    wiring: &Wiring,
    renderer: &Renderer,
    format: Format<'_>,
) -> anyhow::Result<FileChange> {
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
            plugins => plugin_context(&settings.args.plugins),
            social => settings.social,
            two_factor => settings.two_factor,
            magic_link => settings.magic_link,
            email_otp => settings.email_otp,
            username => settings.username,
            passkey => settings.passkey,
            admin => settings.admin,
            organization => settings.organization,
            issuer => package.name.clone(),
            state,
            serve_site => wiring.serve_site,
            pool,
            mount => decisions.mount.clone(),
            example_file => settings.example_file.clone(),
            env_local => settings.env_local,
            migrations => match decisions.migrations {
                MigrationsMode::Runtime => "runtime",
                MigrationsMode::Copy => "copy",
            },
            // A generic example: the real URL may hold a password, and this file is
            // committed.
            database_url_example => match settings.database {
                DatabaseKind::Sqlite => "sqlite:auth.db?mode=rwc",
                DatabaseKind::Postgres => "postgres://USER:PASSWORD@localhost:5432/DATABASE",
                DatabaseKind::Mysql => "mysql://USER:PASSWORD@localhost:3306/DATABASE",
            },
        },
    )?;
    let body = format(&body).unwrap_or(body);
    let header = renderer.render("header.rs", context! { fingerprint => fingerprint(&body) })?;
    let path = match facts.model.root_file(wiring.home) {
        Some(root) => wiring::module_file(&root.path, &facts.module).0,
        None => package.dir.join(format!("{}.rs", facts.module)),
    };
    let old = facts.text_of(&path);
    Ok(generated_change(
        path,
        old,
        format!("{header}{body}"),
        settings.args.force,
    ))
}

/// The app's sources with the wiring's edits (formatted only where they were formatted
/// before, so the author's own style is never rewritten), or the file left alone and
/// the manual steps.
fn source_changes(
    facts: &Facts,
    wiring: &Wiring,
    renderer: &Renderer,
    format: Format<'_>,
) -> anyhow::Result<(Vec<FileChange>, Option<String>)> {
    let mut files = Vec::new();
    match &wiring.outcome {
        Outcome::Edits(edits) => {
            for file in &facts.model.files {
                let mine: Vec<&source::Edit> = edits.iter().filter(|e| e.file == file.id).collect();
                if mine.is_empty() {
                    continue;
                }
                let mut new = source::apply_edits(&file.text, &mine);
                if new != file.text && format(&file.text).is_some_and(|f| f == file.text) {
                    new = format(&new).unwrap_or(new);
                }
                files.push(change(file.path.clone(), Some(file.text.clone()), new));
            }
            Ok((files, None))
        }
        Outcome::Manual {
            file,
            reason,
            steps,
        } => {
            let file = facts
                .model
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
            let manual = renderer.render(
                "manual_steps",
                context! { file => file.shown.clone(), reason, steps },
            )?;
            Ok((files, Some(manual)))
        }
    }
}

/// Whether what a tracked `.env` must not hold goes in `.env.local` instead: git
/// tracks `.env` but not `.env.local`, and some variable is withheld from `.env`
/// (and not there already).
fn uses_env_local(facts: &Facts, vars: &[Var]) -> bool {
    facts.env_tracked
        && !facts.env_local_tracked
        && vars
            .iter()
            .any(|v| withheld(facts, v) && !in_env(facts.env_text.as_deref(), v.name))
}

/// Whether the dotenv `text` sets `name` to something.
fn in_env(text: Option<&str>, name: &str) -> bool {
    text.and_then(|t| envfile::value_of(t, name))
        .is_some_and(|v| !v.is_empty())
}

/// Whether `var` is kept out of a `.env` that git tracks: what is committed is no secret.
fn withheld(facts: &Facts, var: &Var) -> bool {
    facts.env_tracked
        && match var.name {
            "BETTER_AUTH_SECRET" => true,
            "BETTER_AUTH_DATABASE_URL" => holds_password(&var.value),
            _ => false,
        }
}

/// What is left for the user before the app can start with Better Auth: tests that
/// build the state struct without its new field, a working directory served as files,
/// settings withheld from a `.env` in git.
fn env_steps(facts: &Facts, wiring: &Wiring, vars: &[Var], notes: &mut Vec<String>) -> Vec<String> {
    let mut steps = Vec::new();
    // init does not edit tests, so it says where they are.
    if let (Some(name), Outcome::Edits(_)) = (&wiring.state_name, &wiring.outcome) {
        let missing = facts
            .model
            .test_literals_missing(name, "auth", &facts.test_sources);
        for (file, line, func) in missing {
            steps.push(format!(
                "{file}:{line} (`fn {func}`, test code) builds `{name} {{ .. }}` without the \
                 `auth` field init added, so the tests no longer compile: add `auth`, built as \
                 the app builds it (init does not edit tests)"
            ));
        }
    }
    // An app that serves its working directory as static files would hand out `.env`
    // (the secret) and an SQLite database (password hashes) to anyone who asks.
    for (file, dir) in facts.model.files.iter().filter_map(|f| {
        source::serve_dir_args(&f.ast)
            .into_iter()
            .find(|dir| matches!(dir.as_str(), "." | "./" | ""))
            .map(|dir| (f, dir))
    }) {
        steps.push(format!(
            "{} serves the app's working directory as files (`ServeDir::new(\"{dir}\")`), so \
             `GET /.env` would answer BETTER_AUTH_SECRET and an SQLite database (password \
             hashes) would be downloadable too: serve a folder of its own instead (say \
             `ServeDir::new(\"static\")`) before starting the app",
            file.shown
        ));
    }
    if facts.env_tracked {
        tracked_env_steps(facts, vars, &mut steps, notes);
    }
    steps
}

/// The steps and notes for a `.env` that git tracks.
fn tracked_env_steps(
    facts: &Facts,
    vars: &[Var],
    steps: &mut Vec<String>,
    notes: &mut Vec<String>,
) {
    let shown_env = facts.shown(&facts.env_path);
    let existing = |name| {
        facts
            .env_text
            .as_deref()
            .and_then(|t| envfile::value_of(t, name))
            .is_some_and(|s| !s.is_empty())
    };
    let untrack = "stop tracking it with `git rm --cached .env` (the file stays), keep `.env` \
                   in .gitignore, and run init again";
    let withheld_vars: Vec<&Var> = vars
        .iter()
        .filter(|v| withheld(facts, v) && !existing(v.name))
        .collect();
    if uses_env_local(facts, vars) {
        let names: Vec<&str> = withheld_vars.iter().map(|v| v.name).collect();
        notes.push(format!(
            "{shown_env} is tracked by git, so {} went into {} instead, which git ignores \
             and the auth module loads before {shown_env}; in production, set {} in the \
             app's environment",
            names.join(" and "),
            facts.shown(&facts.env_local_path),
            if names.len() > 1 { "them" } else { "it" }
        ));
    }
    for var in withheld_vars
        .into_iter()
        .filter(|_| !uses_env_local(facts, vars))
    {
        steps.push(match var.name {
            "BETTER_AUTH_SECRET" => format!(
                "{shown_env} is tracked by git, so init did not write BETTER_AUTH_SECRET into \
                 it, and the app cannot start without it: {untrack}; or set BETTER_AUTH_SECRET \
                 in the app's environment to the output of `better-auth secret`"
            ),
            _ => format!(
                "{shown_env} is tracked by git, so init did not write BETTER_AUTH_DATABASE_URL \
                 ({}) into it: the URL holds a password. Either {untrack}; or set \
                 BETTER_AUTH_DATABASE_URL in the app's environment",
                better_auth::store::redact_url(&var.value)
            ),
        });
    }
    if existing("BETTER_AUTH_SECRET") {
        notes.push(format!(
            "{shown_env} is tracked by git and holds BETTER_AUTH_SECRET, so the secret is (or \
             will be) in the repository's history. Stop tracking it with `git rm --cached \
             .env` (the file stays), keep `.env` in .gitignore, and replace the secret with a \
             fresh one from `better-auth secret`"
        ));
    }
}

/// `.env` (mode 0600, without what a tracked file must not hold), the example file, and
/// `.gitignore` (`.env` and an SQLite database kept out of commits).
fn env_changes(
    facts: &Facts,
    settings: &Settings<'_>,
    wiring: &Wiring,
    vars: &[Var],
    renderer: &Renderer,
    notes: &mut Vec<String>,
) -> anyhow::Result<Vec<FileChange>> {
    let env_text = facts.env_text.as_deref();
    let env_vars: Vec<Var> = vars
        .iter()
        .filter(|v| !withheld(facts, v))
        .cloned()
        .collect();
    let mut env = change(
        facts.env_path.clone(),
        facts.env_text.clone(),
        envfile::merge(renderer, "env", env_text, &env_vars, false)?,
    );
    env.mode = Some(0o600);
    let example = change(
        facts.example_path.clone(),
        facts.example_text.clone(),
        envfile::merge(
            renderer,
            "env.example",
            facts.example_text.as_deref(),
            vars,
            true,
        )?,
    );
    let mut ignore_new = envfile::ignore_env(facts.ignore_text.as_deref());
    let mut files = Vec::new();
    if settings.env_local {
        let withheld_vars: Vec<Var> = vars
            .iter()
            .filter(|v| withheld(facts, v) && !in_env(env_text, v.name))
            .cloned()
            .collect();
        let mut local = change(
            facts.env_local_path.clone(),
            facts.env_local_text.clone(),
            envfile::merge(
                renderer,
                "env",
                facts.env_local_text.as_deref(),
                &withheld_vars,
                false,
            )?,
        );
        local.mode = Some(0o600);
        files.push(local);
        if !facts.git.ignored(".env.local", &ignore_new) {
            if !ignore_new.is_empty() && !ignore_new.ends_with('\n') {
                ignore_new.push('\n');
            }
            ignore_new.push_str(".env.local\n");
        }
    }
    // The URL the app will read: an existing `.env` value wins over init's default.
    let app_database_url = env_text
        .and_then(|t| envfile::value_of(t, "BETTER_AUTH_DATABASE_URL"))
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| settings.database_url.clone());
    let sqlite_file = envfile::sqlite_file(&app_database_url).filter(|_| wiring.pool.is_none());
    if let Some(file) = sqlite_file {
        ignore_new = envfile::ignore_database(&ignore_new, &facts.git, file);
    }
    if facts.git.ignored(&settings.example_file, &ignore_new) {
        notes.push(format!(
            "{} is ignored by git (a pattern in .gitignore such as `.env*` matches it), so it \
             will not be committed for others to copy; add `!.env.example` to .gitignore to \
             share it",
            facts.shown(&facts.example_path)
        ));
    }
    let ignore = change(
        facts.ignore_path.clone(),
        facts.ignore_text.clone(),
        ignore_new,
    );
    files.extend([env, example, ignore]);
    Ok(files)
}

/// The runtime's dependency line for another member of the workspace: only the `axum`
/// feature (the database features come with the app's own dependency).
fn member_dependency_line(line: &str) -> String {
    match line.find("features = [") {
        Some(start) => {
            let end = line[start..]
                .find(']')
                .map_or(line.len(), |i| start + i + 1);
            format!("{}features = [\"axum\"]{}", &line[..start], &line[end..])
        }
        None => line.to_owned(),
    }
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
        assert_eq!(
            clashing_table("CREATE TABLE users (id int);"),
            None,
            "`users` is not `user`"
        );
        assert_eq!(
            clashing_table(
                "CREATE TABLE users (id int);\ncreate table if not exists \"session\" (id int);"
            ),
            Some("session")
        );
        assert_eq!(
            clashing_table("CREATE TABLE public.account (id int);"),
            Some("account")
        );
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
