//! HTTP tests of social sign-in: a real auth server on 127.0.0.1, a real
//! OpenID provider (npm `oidc-provider`) and a fake GitHub, driven by a
//! cookie-keeping client; SQLite always, PostgreSQL and MySQL when
//! `BETTER_AUTH_TEST_POSTGRES_URL` and `BETTER_AUTH_TEST_MYSQL_URL` are set.

mod bounded_state;
mod common;
mod fake_oidc;
mod github;
mod oidc;
mod oidc_provider;
mod provider_boundaries;
mod security;
mod takeover;
