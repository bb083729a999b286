//! Integration tests of the admin commands (`migrate`, `user`, `session`,
//! `verification`, `secret`, `completions`) over the built binary, on SQLite files and on
//! PostgreSQL when `BETTER_AUTH_TEST_POSTGRES_URL` is set.

#[path = "admin/common.rs"]
mod common;
#[path = "admin/e2e.rs"]
mod e2e;
#[path = "admin/help.rs"]
mod help;
#[path = "admin/migrate.rs"]
mod migrate;
#[cfg(unix)] // a pseudo-terminal through util-linux `script`
mod pty;
#[path = "admin/redis.rs"]
mod redis;
#[path = "admin/roles.rs"]
mod roles;
#[path = "admin/session.rs"]
mod session;
#[cfg(unix)] // prompts on a pseudo-terminal
#[path = "admin/terminal.rs"]
mod terminal;
#[path = "admin/user.rs"]
mod user;
#[path = "admin/verification.rs"]
mod verification;
