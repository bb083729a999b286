//! Queries on the `session` table. Sessions are looked up by the SHA-256
//! digest of the client's token; the token itself is never stored (S11).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::Row as _;

use super::rows::{SessionRow, Text};
use super::{Database, Timestamp, on_pool};
use crate::error::Result;
use crate::models::{Session, User};

const SESSION_COLUMNS: &str =
    r#""id", "token", "userId", "expiresAt", "createdAt", "updatedAt", "ipAddress", "userAgent""#;

/// A session joined with its user: the row of the hot path, one query per request.
#[derive(Debug, sqlx::FromRow)]
struct SessionUserRow {
    s_id: Text,
    s_token: Text,
    s_user_id: Text,
    s_expires_at: Timestamp,
    s_created_at: Timestamp,
    s_updated_at: Timestamp,
    s_ip_address: Option<Text>,
    s_user_agent: Option<Text>,
    u_name: Text,
    u_email: Text,
    u_email_verified: bool,
    u_image: Option<Text>,
    u_created_at: Timestamp,
    u_updated_at: Timestamp,
}

/// Inserts a new session row, with the plugin columns set in
/// [`Session::fields`] (declared ones of their type; others are refused).
#[doc(hidden)]
pub async fn create(db: &Database, session: &Session) -> Result<()> {
    const SQL: &str = r#"INSERT INTO "session"
        ("id", "token", "userId", "expiresAt", "createdAt", "updatedAt", "ipAddress", "userAgent")
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"#;
    let fields = &db.user_schema.session_fields;
    let sql = if session.fields.is_empty() {
        std::borrow::Cow::Borrowed(SQL)
    } else {
        super::columns::check_values("session", fields, &session.fields)?;
        let mut names = String::new();
        let mut params = String::new();
        for (i, (field, _)) in super::columns::present(fields, &session.fields).enumerate() {
            names.push_str(&format!(r#", "{}""#, field.name()));
            params.push_str(&format!(", ${}", i + 9));
        }
        std::borrow::Cow::Owned(format!(
            r#"INSERT INTO "session"
            ("id", "token", "userId", "expiresAt", "createdAt", "updatedAt", "ipAddress", "userAgent"{names})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8{params})"#
        ))
    };
    on_pool!(db, |pool| super::columns::bind_fields!(
        sqlx::query(&sql)
            .bind(&session.id)
            .bind(&session.token)
            .bind(&session.user_id)
            .bind(Timestamp(session.expires_at))
            .bind(Timestamp(session.created_at))
            .bind(Timestamp(session.updated_at))
            .bind(&session.ip_address)
            .bind(&session.user_agent),
        fields,
        &session.fields
    )
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Sets plugin columns of a session (declared ones of their type; others
/// are refused). Returns whether the session exists. The session cache sees
/// the change on the next request.
pub async fn set_fields(db: &Database, id: &str, values: &Map<String, Value>) -> Result<bool> {
    let fields = &db.user_schema.session_fields;
    super::columns::check_values("session", fields, values)?;
    let Some(sql) = super::columns::update_sql("session", fields, values) else {
        return Ok(find_by_id(db, id).await?.is_some());
    };
    let owner = db.session_owner(true, id).await?;
    let _change = db.user_change_guard();
    let found = on_pool!(db, |pool| super::columns::bind_fields!(
        sqlx::query(&sql).bind(id),
        fields,
        values
    )
    .execute(pool)
    .await?
    .rows_affected());
    db.owner_changed(owner).await;
    Ok(found > 0)
}

/// The select of [`find_with_user`], with the plugin columns of the user
/// (`, u."a", ...`), then of the session (`, s."b", ...`), last; built once
/// per database.
pub(crate) fn session_user_sql(user_fields: &str, session_fields: &str) -> String {
    // `CAST($1 AS text)` rather than a bare `$1`: once a SQLite database has
    // been ANALYZEd (or `PRAGMA optimize`d), SQLite's STAT4 planner marks a
    // bare parameter compared with an indexed column as plan-relevant and
    // re-prepares the statement whenever its value changes, i.e. on every
    // request (profiled: parsing and planning dominated get-session). The cast
    // is a no-op for the text token on both SQLite and PostgreSQL.
    format!(
        r#"SELECT s."id" AS s_id, s."token" AS s_token, s."userId" AS s_user_id,
            s."expiresAt" AS s_expires_at, s."createdAt" AS s_created_at,
            s."updatedAt" AS s_updated_at, s."ipAddress" AS s_ip_address,
            s."userAgent" AS s_user_agent,
            u."name" AS u_name, u."email" AS u_email, u."emailVerified" AS u_email_verified,
            u."image" AS u_image, u."createdAt" AS u_created_at, u."updatedAt" AS u_updated_at{user_fields}{session_fields}
        FROM "session" s JOIN "user" u ON u."id" = s."userId"
        WHERE s."token" = CAST($1 AS text)"#
    )
}

/// Reads a [`SessionUserRow`] and the user's plugin columns after it.
macro_rules! session_user {
    ($row:expr, $schema:expr) => {{
        let row = $row;
        let schema: &super::columns::UserSchema = $schema;
        let session_start = row.len() - schema.session_fields.len();
        let user_fields =
            super::columns::read_at(&row, &schema.fields, session_start - schema.fields.len())?;
        let session_fields = super::columns::read_at(&row, &schema.session_fields, session_start)?;
        (
            <SessionUserRow as sqlx::FromRow<_>>::from_row(&row)?,
            (user_fields, session_fields),
        )
    }};
}

/// A [`Session`] from a row of [`SESSION_COLUMNS`] and the session's plugin
/// columns after them.
macro_rules! session_from_row {
    ($row:expr, $schema:expr) => {{
        let row = $row;
        let fields: &[super::columns::Column] = &$schema.session_fields;
        let mut session = Session::from(<SessionRow as sqlx::FromRow<_>>::from_row(&row)?);
        session.fields = super::columns::read_at(&row, fields, row.len() - fields.len())?;
        session
    }};
}

/// The session with this token digest and its user, whatever its expiry.
#[doc(hidden)]
pub async fn find_with_user(db: &Database, digest: &str) -> Result<Option<(Session, User)>> {
    let schema = &*db.user_schema;
    let sql = schema.session_user.as_str();
    #[cfg(feature = "sqlite")]
    let reader = match &db.readers {
        Some(readers) => readers.get().await,
        None => None,
    };
    #[cfg(feature = "sqlite")]
    let row = match reader {
        Some(mut conn) => {
            let conn = conn
                .as_mut()
                .expect("SqliteReaders::get returns open connections");
            match sqlx::query(sql).bind(digest).fetch_optional(conn).await? {
                Some(row) => Some(session_user!(row, schema)),
                None => None,
            }
        }
        None => on_pool!(db, |pool| {
            match sqlx::query(sql).bind(digest).fetch_optional(pool).await? {
                Some(row) => Some(session_user!(row, schema)),
                None => None,
            }
        }),
    };
    #[cfg(not(feature = "sqlite"))]
    let row = on_pool!(db, |pool| {
        match sqlx::query(sql).bind(digest).fetch_optional(pool).await? {
            Some(row) => Some(session_user!(row, schema)),
            None => None,
        }
    });
    Ok(row.map(|(r, (fields, session_fields))| {
        let user = User {
            id: r.s_user_id.0.clone(),
            name: r.u_name.0,
            email: r.u_email.0,
            email_verified: r.u_email_verified,
            image: r.u_image.map(String::from),
            created_at: r.u_created_at.0,
            updated_at: r.u_updated_at.0,
            fields,
        };
        let session = Session {
            id: r.s_id.0,
            token: r.s_token.0,
            user_id: r.s_user_id.0,
            expires_at: r.s_expires_at.0,
            created_at: r.s_created_at.0,
            updated_at: r.s_updated_at.0,
            ip_address: r.s_ip_address.map(String::from),
            user_agent: r.s_user_agent.map(String::from),
            fields: session_fields,
        };
        (session, user)
    }))
}

/// A user's sessions that have not expired at `now`, newest first.
#[doc(hidden)]
pub async fn list_active_for_user(
    db: &Database,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Session>> {
    // Compared after decoding (S39): a database adopted from elsewhere may
    // hold timestamps in any form the decoder reads; a user has few sessions.
    let mut sessions = list_for_user(db, user_id).await?;
    sessions.retain(|s| s.expires_at > now);
    Ok(sessions)
}

/// SQLite: a `date` column's value as Unix milliseconds, whatever form it is
/// stored in (S39): ISO-8601 text with `T` or a space, with or without zone,
/// or Unix seconds or milliseconds as numbers. Text comparison would put
/// every number before every date and `2026-01-01 10:00` before `2026-01-01T09:00`.
#[cfg(feature = "sqlite")]
pub(crate) fn sqlite_unix_ms(column: &str) -> String {
    format!(
        "(CASE WHEN typeof({column}) IN ('integer', 'real') THEN \
            (CASE WHEN abs({column}) > 100000000000 THEN {column} ELSE {column} * 1000 END) \
         ELSE CAST(round((julianday({column}) - 2440587.5) * 86400000.0) AS integer) END)"
    )
}

/// One session by id, whatever its expiry (the admin CLI shows it before revoking it).
pub async fn find_by_id(db: &Database, id: &str) -> Result<Option<Session>> {
    let sql = format!(
        r#"SELECT {SESSION_COLUMNS}{} FROM "session" WHERE "id" = $1"#,
        db.user_schema.session_columns
    );
    Ok(on_pool!(
        db,
        |pool| match sqlx::query(&sql).bind(id).fetch_optional(pool).await? {
            Some(row) => Some(session_from_row!(row, &db.user_schema)),
            None => None,
        }
    ))
}

/// Every session of a user, expired or not, newest first.
#[doc(hidden)]
pub async fn list_for_user(db: &Database, user_id: &str) -> Result<Vec<Session>> {
    let sql = format!(
        r#"SELECT {SESSION_COLUMNS}{} FROM "session" WHERE "userId" = $1 ORDER BY "createdAt" DESC, "id""#,
        db.user_schema.session_columns
    );
    Ok(on_pool!(db, |pool| {
        let rows = sqlx::query(&sql).bind(user_id).fetch_all(pool).await?;
        let mut sessions = Vec::with_capacity(rows.len());
        for row in rows {
            sessions.push(session_from_row!(row, &db.user_schema));
        }
        sessions
    }))
}

/// Moves a session's expiry (sliding sessions, S13).
#[doc(hidden)]
pub async fn extend(
    db: &Database,
    id: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    let _change = db.user_change_guard();
    const SQL: &str = r#"UPDATE "session" SET "expiresAt" = $2, "updatedAt" = $3 WHERE "id" = $1"#;
    on_pool!(db, |pool| sqlx::query(SQL)
        .bind(id)
        .bind(Timestamp(expires_at))
        .bind(Timestamp(now))
        .execute(pool)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Moves a session's expiry without touching `updatedAt`, which records
/// when the client last got a cookie for it (S37).
#[doc(hidden)]
pub async fn extend_expiry(db: &Database, id: &str, expires_at: DateTime<Utc>) -> Result<()> {
    let _change = db.user_change_guard();
    const SQL: &str = r#"UPDATE "session" SET "expiresAt" = $2 WHERE "id" = $1"#;
    on_pool!(db, |pool| sqlx::query(SQL)
        .bind(id)
        .bind(Timestamp(expires_at))
        .execute(pool)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Deletes the session with this token digest. Returns how many rows went.
#[doc(hidden)]
pub async fn delete_by_digest(db: &Database, digest: &str) -> Result<u64> {
    let owner = db.session_owner(false, digest).await?;
    let _change = db.user_change_guard();
    let deleted = on_pool!(db, |pool| sqlx::query(
        r#"DELETE FROM "session" WHERE "token" = $1"#
    )
    .bind(digest)
    .execute(pool)
    .await?
    .rows_affected());
    db.owner_changed(owner).await;
    Ok(deleted)
}

/// Deletes one session by id. Returns how many rows went.
#[doc(hidden)]
pub async fn delete_by_id(db: &Database, id: &str) -> Result<u64> {
    let owner = db.session_owner(true, id).await?;
    let _change = db.user_change_guard();
    let deleted = on_pool!(db, |pool| sqlx::query(
        r#"DELETE FROM "session" WHERE "id" = $1"#
    )
    .bind(id)
    .execute(pool)
    .await?
    .rows_affected());
    db.owner_changed(owner).await;
    Ok(deleted)
}

/// Deletes a user's session whose stored digest is `digest`.
#[doc(hidden)]
pub async fn delete_for_user_by_digest(db: &Database, user_id: &str, digest: &str) -> Result<u64> {
    let _change = db.user_change_guard();
    const SQL: &str = r#"DELETE FROM "session" WHERE "userId" = $1 AND "token" = $2"#;
    let deleted = on_pool!(db, |pool| sqlx::query(SQL)
        .bind(user_id)
        .bind(digest)
        .execute(pool)
        .await?
        .rows_affected());
    db.user_changed(user_id).await;
    Ok(deleted)
}

/// Deletes every session of a user except the one with digest `keep` (if any).
#[doc(hidden)]
pub async fn delete_for_user(db: &Database, user_id: &str, keep: Option<&str>) -> Result<u64> {
    let _change = db.user_change_guard();
    const SQL: &str =
        r#"DELETE FROM "session" WHERE "userId" = $1 AND ($2 IS NULL OR "token" <> $2)"#;
    let deleted = on_pool!(db, |pool| sqlx::query(SQL)
        .bind(user_id)
        .bind(keep)
        .execute(pool)
        .await?
        .rows_affected());
    db.user_changed(user_id).await;
    Ok(deleted)
}

/// Deletes every session that expired before `now`. Returns how many went.
/// On SQLite the expiry is compared in whatever form it is stored (S39).
#[doc(hidden)]
pub async fn delete_expired(db: &Database, now: DateTime<Utc>) -> Result<u64> {
    let _change = db.user_change_guard();
    Ok(match &db.pool {
        #[cfg(feature = "sqlite")]
        super::Pool::Sqlite(pool) => {
            let sql = format!(
                r#"DELETE FROM "session" WHERE {} <= $1"#,
                sqlite_unix_ms(r#""expiresAt""#)
            );
            sqlx::query(&sql)
                .bind(now.timestamp_millis())
                .execute(pool)
                .await?
                .rows_affected()
        }
        #[cfg(feature = "postgres")]
        super::Pool::Postgres(pool) => {
            sqlx::query(r#"DELETE FROM "session" WHERE "expiresAt" <= $1"#)
                .bind(Timestamp(now))
                .execute(pool)
                .await?
                .rows_affected()
        }
        #[cfg(feature = "mysql")]
        super::Pool::MySql(pool) => sqlx::query(r#"DELETE FROM "session" WHERE "expiresAt" <= ?"#)
            .bind(Timestamp(now))
            .execute(pool)
            .await?
            .rows_affected(),
    })
}
