//! MySQL and MariaDB: opening a pool, and the dialect layer that lets the
//! store's one SQL text per query run there too.
//!
//! Every query of the store is written once, with PostgreSQL's `$n`
//! placeholders and double-quoted identifiers. On MySQL:
//! - every connection runs with `ANSI_QUOTES` (double quotes quote
//!   identifiers, as in SQLite and PostgreSQL) and `NO_BACKSLASH_ESCAPES`
//!   (a backslash in a string literal is a backslash, as in standard SQL) added
//!   to its `sql_mode`, and with the session time zone UTC;
//! - the store's bodies run against [`sqlx`], this module's stand-in for the
//!   crate: `query`, `query_as` and `query_scalar` translate the SQL text
//!   ([`translate`]: `$n` becomes `?`, `CAST($n AS text)` a bare `?`,
//!   `CAST(.. AS bigint)` becomes `CAST(.. AS signed)`) and keep the bound
//!   values, which go to the server in the order the `?` take them (MySQL
//!   binds by position: a query that uses `$1` twice, or `$2` before `$1`,
//!   gets its values repeated or reordered).
//!   Translations are cached by SQL text, so a query is translated once per
//!   process, not once per request.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, LazyLock, RwLock};
use std::time::Duration;

use ::sqlx::Arguments as _;
use ::sqlx::error::BoxDynError;
use ::sqlx::mysql::{MySql, MySqlArguments, MySqlConnectOptions, MySqlPoolOptions};
use ::sqlx::{Encode, Executor, Type};

use super::{Database, Pool};
use crate::error::{Error, Result};

/// What every MySQL connection adds to its `sql_mode`.
const SQL_MODE: &str =
    "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',ANSI_QUOTES,NO_BACKSLASH_ESCAPES')";

impl Database {
    /// Opens a pool on a `mysql://` URL (MySQL 8, or MariaDB 10.6 and later;
    /// the tests run on MariaDB 10.11).
    pub(super) async fn connect_mysql(url: &str) -> Result<Self> {
        let options = MySqlConnectOptions::from_str(url)
            .map_err(|e| Error::Config(format!("invalid MySQL URL: {e}")))?;
        Self::open_mysql(options).await
    }

    /// Uses the database of an app's MySQL pool. Better Auth's queries need
    /// `ANSI_QUOTES` and `NO_BACKSLASH_ESCAPES` in the connection's `sql_mode`,
    /// which the app's connections may not have (and should not be given: the
    /// app's own SQL may quote strings with double quotes). So this opens a
    /// pool of its own, of at most 10 connections, with the app pool's
    /// options (server, credentials, database, TLS) and those settings; the
    /// app's pool is left as it is.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// use better_auth::store::Database;
    ///
    /// let pool = sqlx::MySqlPool::connect("mysql://root@localhost/app").await?;
    /// let database = Database::share_mysql(&pool).await?;
    /// better_auth::run_migrations(&database).await?;
    /// # Ok(()) }
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
    pub async fn share_mysql(pool: &::sqlx::MySqlPool) -> Result<Self> {
        Self::open_mysql((*pool.connect_options()).clone()).await
    }

    async fn open_mysql(options: MySqlConnectOptions) -> Result<Self> {
        // UTC, so `datetime` columns hold UTC (sqlx's default, said here).
        let options = options.timezone(Some(String::from("+00:00")));
        let pool = MySqlPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(SQL_MODE).await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Database::from_mysql_pool(pool))
    }

    /// A database on a MySQL pool whose connections already run with
    /// `ANSI_QUOTES` and `NO_BACKSLASH_ESCAPES` (see [`Database::connect`]).
    fn from_mysql_pool(pool: sqlx::MySqlPool) -> Self {
        Database {
            pool: Pool::MySql(pool),
            #[cfg(feature = "sqlite")]
            readers: None,
            #[cfg(feature = "postgres")]
            changes: None,
            user_schema: Default::default(),
        }
    }
}

/// A query's text for MySQL and, for each `?` in it, which of the values bound
/// for `$1`, `$2`, ... it takes (0 for `$1`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Translated {
    sql: String,
    order: Vec<usize>,
    /// Every value taken once, in the order bound: no reordering needed.
    in_order: bool,
}

/// Translates a query written for PostgreSQL and SQLite: `$n` placeholders
/// become `?` (recording which value each takes), `CAST($n AS text)` a bare
/// `?`, and other casts to `text` / `bigint` name MySQL's types (`char`,
/// `signed`). String literals and quoted identifiers are copied as they are.
pub(crate) fn translate(sql: &str) -> Translated {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut order = Vec::new();
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
                i += 1;
            }
            // `CAST($n AS text)` (there for SQLite's planner) is the bare
            // placeholder: compared with a column, a parameter takes the
            // column's collation, where a cast's result could clash with it.
            b'C' if sql[i..].starts_with("CAST($") => {
                let start = i + "CAST($".len();
                let mut end = start;
                while end < bytes.len() && bytes[end].is_ascii_digit() {
                    end += 1;
                }
                if end > start && sql[end..].starts_with(" AS text)") {
                    out.push_str(&sql[copied..i]);
                    let n: usize = sql[start..end].parse().unwrap_or(1);
                    order.push(n.saturating_sub(1));
                    out.push('?');
                    i = end + " AS text)".len();
                    copied = i;
                } else {
                    i += 1;
                }
            }
            b'$' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                out.push_str(&sql[copied..i]);
                let start = i + 1;
                i = start;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                let n: usize = sql[start..i].parse().unwrap_or(1);
                order.push(n.saturating_sub(1));
                out.push('?');
                copied = i;
            }
            b' ' => {
                let rest = &sql[i..];
                let swap = [(" AS text)", " AS char)"), (" AS bigint)", " AS signed)")]
                    .into_iter()
                    .find(|(from, _)| rest.starts_with(from));
                if let Some((from, to)) = swap {
                    out.push_str(&sql[copied..i]);
                    out.push_str(to);
                    i += from.len();
                    copied = i;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied.min(sql.len())..]);
    let in_order = order.iter().enumerate().all(|(i, &n)| i == n);
    Translated {
        sql: out,
        order,
        in_order,
    }
}

/// How many translations are kept: queries with inlined limits (user search)
/// make new texts; past this many, the cache starts again.
const CACHE_CAPACITY: usize = 1024;

type Cache = HashMap<Box<str>, Arc<Translated>, foldhash::fast::RandomState>;

static CACHE: LazyLock<RwLock<Cache>> = LazyLock::new(|| RwLock::new(Cache::default()));

/// The translation of `sql`, from the cache after its first use.
pub(crate) fn translated(sql: &str) -> Arc<Translated> {
    if let Some(found) = CACHE
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(sql)
    {
        return found.clone();
    }
    let translation = Arc::new(translate(sql));
    let mut cache = CACHE
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if cache.len() >= CACHE_CAPACITY {
        cache.clear();
    }
    cache.insert(sql.into(), translation.clone());
    translation
}

/// A value bound to a query whose values go to the server reordered.
trait Bind<'q>: Send + 'q {
    fn add_to(&self, args: &mut MySqlArguments) -> std::result::Result<(), BoxDynError>;
}

impl<'q, T> Bind<'q> for T
where
    T: Encode<'q, MySql> + Type<MySql> + Clone + Send + 'q,
{
    fn add_to(&self, args: &mut MySqlArguments) -> std::result::Result<(), BoxDynError> {
        <MySqlArguments as ::sqlx::Arguments<'q>>::add(args, self.clone())
    }
}

/// The values of a query: encoded at once when they go in the order bound,
/// kept until it runs when they are reordered.
enum Values<'q> {
    InOrder(MySqlArguments, Option<BoxDynError>),
    Reordered(Vec<Box<dyn Bind<'q>>>),
}

/// A translated query and its values.
struct Prepared<'q> {
    sql: Arc<Translated>,
    values: Values<'q>,
}

impl<'q> Prepared<'q> {
    fn new(sql: &str) -> Self {
        let sql = translated(sql);
        let values = if sql.in_order {
            Values::InOrder(MySqlArguments::default(), None)
        } else {
            Values::Reordered(Vec::new())
        };
        Prepared { sql, values }
    }

    fn bind<T>(&mut self, value: T)
    where
        T: Encode<'q, MySql> + Type<MySql> + Clone + Send + 'q,
    {
        match &mut self.values {
            Values::InOrder(args, error) => {
                if let Err(e) = args.add(value) {
                    error.get_or_insert(e);
                }
            }
            Values::Reordered(values) => values.push(Box::new(value)),
        }
    }

    /// The text to send and its arguments.
    fn finish(self) -> std::result::Result<(Arc<Translated>, MySqlArguments), ::sqlx::Error> {
        let args = match self.values {
            Values::InOrder(_, Some(e)) => return Err(::sqlx::Error::Encode(e)),
            Values::InOrder(args, None) => args,
            Values::Reordered(values) => {
                let mut args = MySqlArguments::default();
                for &n in &self.sql.order {
                    let value = values.get(n).ok_or_else(|| {
                        ::sqlx::Error::Protocol(format!("no value bound for ${}", n + 1))
                    })?;
                    value.add_to(&mut args).map_err(::sqlx::Error::Encode)?;
                }
                args
            }
        };
        Ok((self.sql, args))
    }
}

/// [`sqlx`](::sqlx) for MySQL: sqlx itself, but for the three query builders,
/// which translate SQL written for PostgreSQL (`$n` placeholders, values bound
/// in their order) to MySQL's (`?` placeholders, values sent in the order the
/// text takes them). Bodies of [`with_pool!`](crate::store::with_pool) see it
/// as `sqlx` on a MySQL pool.
pub mod sqlx {
    #[doc(no_inline)]
    pub use ::sqlx::*;

    use ::sqlx::mysql::{MySqlQueryResult, MySqlRow};

    use super::Prepared;

    /// [`sqlx::query`](::sqlx::query), translated for MySQL.
    pub fn query(sql: &str) -> Query<'_> {
        Query(Prepared::new(sql))
    }

    /// [`sqlx::query_as`](::sqlx::query_as), translated for MySQL.
    pub fn query_as<O>(sql: &str) -> QueryAs<'_, O> {
        QueryAs(Prepared::new(sql), std::marker::PhantomData)
    }

    /// [`sqlx::query_scalar`](::sqlx::query_scalar), translated for MySQL.
    pub fn query_scalar<O>(sql: &str) -> QueryScalar<'_, O> {
        QueryScalar(Prepared::new(sql), std::marker::PhantomData)
    }

    /// A translated query returning rows.
    pub struct Query<'q>(Prepared<'q>);

    /// A translated query returning rows as `O`.
    pub struct QueryAs<'q, O>(Prepared<'q>, std::marker::PhantomData<fn() -> O>);

    /// A translated query returning one column as `O`.
    pub struct QueryScalar<'q, O>(Prepared<'q>, std::marker::PhantomData<fn() -> O>);

    impl std::fmt::Debug for Query<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_tuple("Query").field(&self.0.sql.sql).finish()
        }
    }

    impl<O> std::fmt::Debug for QueryAs<'_, O> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_tuple("QueryAs").field(&self.0.sql.sql).finish()
        }
    }

    impl<O> std::fmt::Debug for QueryScalar<'_, O> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_tuple("QueryScalar").field(&self.0.sql.sql).finish()
        }
    }

    impl<'q> Query<'q> {
        /// Binds the next placeholder's value.
        pub fn bind<T>(mut self, value: T) -> Self
        where
            T: ::sqlx::Encode<'q, MySql> + ::sqlx::Type<MySql> + Clone + Send + 'q,
        {
            self.0.bind(value);
            self
        }

        /// Runs the query; how many rows it changed.
        pub async fn execute<'e, 'c: 'e, E>(
            self,
            executor: E,
        ) -> std::result::Result<MySqlQueryResult, Error>
        where
            E: 'e + ::sqlx::Executor<'c, Database = MySql>,
        {
            let (sql, args) = self.0.finish()?;
            ::sqlx::query_with(&sql.sql, args).execute(executor).await
        }

        /// Runs the query; its first row, if any.
        pub async fn fetch_optional<'e, 'c: 'e, E>(
            self,
            executor: E,
        ) -> std::result::Result<Option<MySqlRow>, Error>
        where
            E: 'e + ::sqlx::Executor<'c, Database = MySql>,
        {
            let (sql, args) = self.0.finish()?;
            ::sqlx::query_with(&sql.sql, args)
                .fetch_optional(executor)
                .await
        }

        /// Runs the query; its first row (an error when there is none).
        pub async fn fetch_one<'e, 'c: 'e, E>(
            self,
            executor: E,
        ) -> std::result::Result<MySqlRow, Error>
        where
            E: 'e + ::sqlx::Executor<'c, Database = MySql>,
        {
            let (sql, args) = self.0.finish()?;
            ::sqlx::query_with(&sql.sql, args).fetch_one(executor).await
        }

        /// Runs the query; every row.
        pub async fn fetch_all<'e, 'c: 'e, E>(
            self,
            executor: E,
        ) -> std::result::Result<Vec<MySqlRow>, Error>
        where
            E: 'e + ::sqlx::Executor<'c, Database = MySql>,
        {
            let (sql, args) = self.0.finish()?;
            ::sqlx::query_with(&sql.sql, args).fetch_all(executor).await
        }
    }

    impl<'q, O> QueryAs<'q, O>
    where
        O: Send + Unpin + for<'r> ::sqlx::FromRow<'r, MySqlRow>,
    {
        /// Binds the next placeholder's value.
        pub fn bind<T>(mut self, value: T) -> Self
        where
            T: ::sqlx::Encode<'q, MySql> + ::sqlx::Type<MySql> + Clone + Send + 'q,
        {
            self.0.bind(value);
            self
        }

        /// Runs the query; its first row (an error when there is none).
        pub async fn fetch_one<'e, 'c: 'e, E>(self, executor: E) -> std::result::Result<O, Error>
        where
            E: 'e + ::sqlx::Executor<'c, Database = MySql>,
        {
            let (sql, args) = self.0.finish()?;
            ::sqlx::query_as_with::<_, O, _>(&sql.sql, args)
                .fetch_one(executor)
                .await
        }

        /// Runs the query; its first row, if any.
        pub async fn fetch_optional<'e, 'c: 'e, E>(
            self,
            executor: E,
        ) -> std::result::Result<Option<O>, Error>
        where
            E: 'e + ::sqlx::Executor<'c, Database = MySql>,
        {
            let (sql, args) = self.0.finish()?;
            ::sqlx::query_as_with::<_, O, _>(&sql.sql, args)
                .fetch_optional(executor)
                .await
        }

        /// Runs the query; every row.
        pub async fn fetch_all<'e, 'c: 'e, E>(
            self,
            executor: E,
        ) -> std::result::Result<Vec<O>, Error>
        where
            E: 'e + ::sqlx::Executor<'c, Database = MySql>,
        {
            let (sql, args) = self.0.finish()?;
            ::sqlx::query_as_with::<_, O, _>(&sql.sql, args)
                .fetch_all(executor)
                .await
        }
    }

    impl<'q, O> QueryScalar<'q, O>
    where
        O: Send + Unpin,
        (O,): for<'r> ::sqlx::FromRow<'r, MySqlRow>,
    {
        /// Binds the next placeholder's value.
        pub fn bind<T>(mut self, value: T) -> Self
        where
            T: ::sqlx::Encode<'q, MySql> + ::sqlx::Type<MySql> + Clone + Send + 'q,
        {
            self.0.bind(value);
            self
        }

        /// Runs the query; its first row (an error when there is none).
        pub async fn fetch_one<'e, 'c: 'e, E>(self, executor: E) -> std::result::Result<O, Error>
        where
            E: 'e + ::sqlx::Executor<'c, Database = MySql>,
        {
            let (sql, args) = self.0.finish()?;
            ::sqlx::query_scalar_with::<_, O, _>(&sql.sql, args)
                .fetch_one(executor)
                .await
        }

        /// Runs the query; its first row's value, if any.
        pub async fn fetch_optional<'e, 'c: 'e, E>(
            self,
            executor: E,
        ) -> std::result::Result<Option<O>, Error>
        where
            E: 'e + ::sqlx::Executor<'c, Database = MySql>,
        {
            let (sql, args) = self.0.finish()?;
            ::sqlx::query_scalar_with::<_, O, _>(&sql.sql, args)
                .fetch_optional(executor)
                .await
        }

        /// Runs the query; every row's value.
        pub async fn fetch_all<'e, 'c: 'e, E>(
            self,
            executor: E,
        ) -> std::result::Result<Vec<O>, Error>
        where
            E: 'e + ::sqlx::Executor<'c, Database = MySql>,
        {
            let (sql, args) = self.0.finish()?;
            ::sqlx::query_scalar_with::<_, O, _>(&sql.sql, args)
                .fetch_all(executor)
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{translate, translated};

    /// The session lookup of every request is translated once: later uses
    /// get the same translation from the cache (a hash of the text, no scan).
    #[test]
    fn the_session_lookup_is_translated_once() {
        let sql = crate::store::sessions::session_user_sql("", "");
        let first = translated(&sql);
        assert!(first.sql.contains(r#"s."token" = ?"#), "{}", first.sql);
        assert!(std::sync::Arc::ptr_eq(&first, &translated(&sql)));
    }

    /// What the cache saves per query (`cargo test -p better-auth --lib
    /// --features mysql -- --ignored --nocapture translation_cost`).
    #[test]
    #[ignore = "a measurement, not a check"]
    fn translation_cost() {
        let sql = crate::store::sessions::session_user_sql("", "");
        const N: u32 = 100_000;
        let start = std::time::Instant::now();
        for _ in 0..N {
            std::hint::black_box(translated(std::hint::black_box(&sql)));
        }
        let cached = start.elapsed() / N;
        let start = std::time::Instant::now();
        for _ in 0..N {
            std::hint::black_box(translate(std::hint::black_box(&sql)));
        }
        let scanned = start.elapsed() / N;
        println!("session lookup: cached {cached:?}, translated each time {scanned:?}");
    }

    #[test]
    fn placeholders_become_positional() {
        let t = translate(r#"UPDATE "session" SET "expiresAt" = $2 WHERE "id" = $1"#);
        assert_eq!(
            t.sql,
            r#"UPDATE "session" SET "expiresAt" = ? WHERE "id" = ?"#
        );
        assert_eq!(t.order, [1, 0]);
        assert!(!t.in_order);

        let t = translate(r#"VALUES ($1, $2, 'credential', $2, $3, $4, $4)"#);
        assert_eq!(t.sql, r#"VALUES (?, ?, 'credential', ?, ?, ?, ?)"#);
        assert_eq!(t.order, [0, 1, 1, 2, 3, 3]);

        let t = translate(r#"SELECT '$1', "$2" FROM t WHERE a = $1 AND b = $10"#);
        assert_eq!(t.sql, r#"SELECT '$1', "$2" FROM t WHERE a = ? AND b = ?"#);
        assert_eq!(t.order, [0, 9]);

        let t = translate(
            r#"WHERE s."token" = CAST($1 AS text) AND CAST(x AS bigint) AND CAST(y AS text)"#,
        );
        assert_eq!(
            t.sql,
            r#"WHERE s."token" = ? AND CAST(x AS signed) AND CAST(y AS char)"#
        );
        assert!(t.in_order);

        let t =
            translate(r#"length(CAST($3 AS text)) = CAST($3 AS text) AND "v" = CAST($2 AS text)"#);
        assert_eq!(t.sql, r#"length(?) = ? AND "v" = ?"#);
        assert_eq!(t.order, [2, 2, 1]);
    }
}
