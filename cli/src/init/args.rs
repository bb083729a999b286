//! The flags of `better-auth init`, as typed.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// Flags of `better-auth init`.
#[derive(Args, Debug, Clone)]
pub(crate) struct InitArgs {
    /// The project to change (a directory holding Cargo.toml).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub path: PathBuf,

    /// The workspace member to change, when the workspace has several Axum apps.
    #[arg(long, value_name = "NAME")]
    pub package: Option<String>,

    /// Where Better Auth stores users and sessions [default: the database the app already
    /// uses, else sqlite].
    #[arg(long, value_enum)]
    pub database: Option<DatabaseKind>,

    /// The path the auth endpoints live under [default: the one an earlier run chose, else
    /// /auth, or /api/auth when the app already has routes under /auth].
    #[arg(long, value_name = "PATH")]
    pub mount: Option<String>,

    /// Plugins to enable, comma separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "email-password,sessions,password,account"
    )]
    pub plugins: Vec<PluginKind>,

    /// Who creates Better Auth's tables [default: runtime; asked when the app has a
    /// `migrations/` folder].
    #[arg(long, value_enum)]
    pub migrations: Option<MigrationsMode>,

    /// Accept the defaults and apply without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Print the changes as unified diffs and write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Overwrite generated files you have changed since they were generated.
    #[arg(long)]
    pub force: bool,

    /// Do not run `cargo check` after writing. By default init checks that the project
    /// compiles with its changes, and puts every file back as it was when it does not.
    #[arg(long)]
    pub no_check: bool,

    /// Depend on the Better Auth runtime at this path (a checkout's `runtime/` folder).
    #[arg(long, value_name = "DIR", conflicts_with = "runtime_version")]
    pub runtime_path: Option<PathBuf>,

    /// Depend on this version requirement of the `better-auth` crate on crates.io, e.g.
    /// "0.9" [default: this checkout's runtime/ when init was built from one, else this
    /// release's tag in the Better Auth repository, as a git dependency].
    #[arg(long, value_name = "REQ")]
    pub runtime_version: Option<String>,
}

/// A database Better Auth can store its tables in.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DatabaseKind {
    /// SQLite, a file next to the app (`BETTER_AUTH_DATABASE_URL=sqlite:auth.db?mode=rwc`).
    Sqlite,
    /// PostgreSQL (`BETTER_AUTH_DATABASE_URL=postgres://...`).
    Postgres,
    /// MySQL 8 or MariaDB 10.6+ (`BETTER_AUTH_DATABASE_URL=mysql://...`).
    Mysql,
}

impl DatabaseKind {
    /// The Cargo feature of the runtime and the folder of its migrations.
    pub(crate) fn name(self) -> &'static str {
        match self {
            DatabaseKind::Sqlite => "sqlite",
            DatabaseKind::Postgres => "postgres",
            DatabaseKind::Mysql => "mysql",
        }
    }

    /// The runtime's migration files for this database, embedded at build time:
    /// `(file name, SQL)`, in order.
    pub(crate) fn migrations(self) -> Vec<(&'static str, &'static str)> {
        MIGRATIONS
            .iter()
            .filter(|(backend, _, _)| *backend == self.name())
            .map(|(_, name, sql)| (*name, *sql))
            .collect()
    }
}

/// The runtime's `migrations/` SQL, embedded at build time: (backend, file name, SQL).
const MIGRATIONS: &[(&str, &str, &str)] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// A plugin `init` can enable.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PluginKind {
    /// Sign up and sign in with email and password.
    EmailPassword,
    /// List and revoke sessions.
    Sessions,
    /// Change, forget and reset passwords.
    Password,
    /// List and unlink sign-in methods.
    Account,
    /// Sign in with GitHub and Google (the `better-auth-social` crate), each
    /// provider on when its `<PROVIDER>_CLIENT_ID` and `_CLIENT_SECRET` are set.
    Social,
    /// Two-factor authentication: authenticator apps, backup codes, trusted devices
    /// (the `better-auth-two-factor` crate).
    TwoFactor,
    /// Sign in (and up) with a link sent by email (the `better-auth-magic-link` crate);
    /// the app provides the email sender.
    MagicLink,
    /// Sign in (and up), verify the address and reset the password with a code sent by
    /// email (the `better-auth-email-otp` crate); the app provides the email sender.
    EmailOtp,
    /// Usernames: sign in with one, set it on sign-up and update-user (the
    /// `better-auth-username` crate).
    Username,
    /// Passkeys: register one, sign in with it (the `better-auth-passkey` crate).
    Passkey,
    /// Roles, bans and user management for admins, and role guards (the
    /// `better-auth-admin` crate).
    Admin,
    /// Organizations with members, roles, invitations and permissions (the
    /// `better-auth-organization` crate).
    Organization,
}

/// Who creates Better Auth's tables.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MigrationsMode {
    /// The app calls `better_auth::run_migrations` at start-up.
    Runtime,
    /// Copy the SQL into the app's sqlx `migrations/` folder.
    Copy,
}
