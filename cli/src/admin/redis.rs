//! Which Redis the commands that end or change a user's sessions or the user
//! tell about it, when the servers keep sessions in Redis
//! (`AuthConfig::secondary_storage`): `--redis-url`, else `BETTER_AUTH_REDIS_URL`
//! from the environment, else from `.env` in the current directory; none, and
//! Redis is not told. The key prefix likewise: `--redis-key-prefix`, else
//! `BETTER_AUTH_REDIS_KEY_PREFIX`, else the runtime's default.
//!
//! After the database change has committed, each affected user is marked in
//! Redis ([`RedisStorage::forget_user`]): every server refuses their old
//! sessions on the next request instead of when the Redis entries expire.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, anyhow};
use better_auth::store::RedisStorage;
use better_auth::store::redis_storage::DEFAULT_KEY_PREFIX;
use clap::Args;

use super::output::{count, printable};

/// The Redis flags of `user` and `session`.
#[derive(Args, Debug, Clone)]
pub(super) struct RedisArgs {
    /// Redis URL of the servers' session storage (`AuthConfig::secondary_storage`),
    /// `redis://[:password@]host:port[/db]`. `session revoke` and `user set-password`,
    /// `delete`, `ban`, `unban`, `set-role`, `reset-2fa` then drop the user's cached
    /// sessions there after the database change, so servers refuse them on the next
    /// request, not when the Redis entries expire (60 s by default). Default:
    /// `BETTER_AUTH_REDIS_URL` from the environment, else from `./.env`; none: Redis is
    /// not told.
    #[arg(long, global = true, value_name = "URL")]
    pub redis_url: Option<String>,
    /// The servers' Redis key prefix (`RedisStorage::key_prefix`). Default:
    /// `BETTER_AUTH_REDIS_KEY_PREFIX` from the environment, else from `./.env`, else
    /// `better-auth:`.
    #[arg(long, global = true, value_name = "PREFIX")]
    pub redis_key_prefix: Option<String>,
}

/// How long telling Redis about one user may take (the first call connects).
const TIMEOUT: Duration = Duration::from_secs(5);

/// The Redis to tell, opened (the URL checked; connected on first use).
pub(super) struct Redis {
    storage: RedisStorage,
    /// The URL with its password hidden.
    shown: String,
    /// Where the URL came from.
    source: &'static str,
}

/// The Redis named by the flags, environment or `./.env`, opened; `None`
/// when none is named. Called before the database change, so a URL that
/// cannot be used stops the command before anything is changed.
pub(super) fn open(args: &RedisArgs) -> anyhow::Result<Option<Redis>> {
    open_with(args, Path::new(".env"))
}

fn open_with(args: &RedisArgs, dotenv: &Path) -> anyhow::Result<Option<Redis>> {
    let Some((url, source)) = find(
        args.redis_url.as_deref(),
        "--redis-url",
        URL_VARIABLE,
        dotenv,
    )?
    else {
        return Ok(None);
    };
    let prefix = find(
        args.redis_key_prefix.as_deref(),
        "--redis-key-prefix",
        PREFIX_VARIABLE,
        dotenv,
    )?
    .map_or_else(|| DEFAULT_KEY_PREFIX.to_owned(), |(prefix, _)| prefix);
    let shown = super::db::redact(&url);
    let storage = RedisStorage::open(&url)
        .map_err(|e| anyhow!("cannot use the Redis URL from {source}: {}", message(e)))?
        .key_prefix(prefix)
        .timeout(TIMEOUT);
    Ok(Some(Redis {
        storage,
        shown,
        source,
    }))
}

/// The variable naming the Redis.
const URL_VARIABLE: &str = "BETTER_AUTH_REDIS_URL";
/// The variable naming the key prefix.
const PREFIX_VARIABLE: &str = "BETTER_AUTH_REDIS_KEY_PREFIX";

/// A value from `flag`, else `variable` in the environment, else in
/// `dotenv`; with where it came from.
fn find(
    flag: Option<&str>,
    flag_name: &'static str,
    variable: &'static str,
    dotenv: &Path,
) -> anyhow::Result<Option<(String, &'static str)>> {
    if let Some(value) = flag.filter(|v| !v.is_empty()) {
        return Ok(Some((value.to_owned(), flag_name)));
    }
    if let Some(value) = std::env::var(variable).ok().filter(|v| !v.is_empty()) {
        return Ok(Some((value, variable)));
    }
    if !dotenv.exists() {
        return Ok(None);
    }
    let entries = dotenvy::from_path_iter(dotenv)
        .with_context(|| format!("cannot read {}", dotenv.display()))?;
    let mut found = None;
    for entry in entries {
        let (key, value) = entry.with_context(|| format!("cannot parse {}", dotenv.display()))?;
        if key == variable && !value.is_empty() && found.is_none() {
            found = Some(value);
        }
    }
    let source = match variable {
        URL_VARIABLE => ".env BETTER_AUTH_REDIS_URL",
        _ => ".env BETTER_AUTH_REDIS_KEY_PREFIX",
    };
    Ok(found.map(|value| (value, source)))
}

/// A runtime error's own words (without "internal error:").
fn message(e: better_auth::Error) -> String {
    match e {
        better_auth::Error::Internal(text) | better_auth::Error::Config(text) => text,
        other => other.to_string(),
    }
}

impl Redis {
    /// Drops the cached sessions of `users` (ids; `who` names them in an
    /// error) and says so; after the database change has committed.
    pub(super) async fn forget(&self, users: &[&str], who: &str) -> anyhow::Result<()> {
        for user_id in users {
            if let Err(e) = self.storage.forget_user(user_id).await {
                return Err(anyhow!(
                    "the database change was made, but Redis (from {source}) could not be \
                     told: {cause}. Servers using it may serve the old sessions of {who} for up \
                     to its session TTL (60 s by default). To end them now, delete the cached \
                     sessions under the key prefix once Redis answers: redis-cli -u {shown} \
                     --scan --pattern '{pattern}*' | xargs -r redis-cli -u {shown} del",
                    shown = self.shown,
                    source = self.source,
                    cause = message(e),
                    who = printable(who),
                    pattern = printable(&self.storage.session_key("")),
                ));
            }
        }
        outln!(
            "Told Redis {} (from {}): {} cached sessions dropped",
            self.shown,
            self.source,
            count(users.len(), "user's", "users'")
        );
        Ok(())
    }
}

/// Tells `redis`, when there is one, that `users` changed (see [`Redis::forget`]).
pub(super) async fn forget(redis: Option<&Redis>, users: &[&str], who: &str) -> anyhow::Result<()> {
    match redis {
        Some(redis) => redis.forget(users, who).await,
        None => Ok(()),
    }
}
