//! The plugin's table (`passkey`), one SQL text for every backend.

use better_auth::Result;
use better_auth::store::{Database, Text, Timestamp, with_pool as on_pool};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

fn iso_millis<S: Serializer>(t: &Option<Timestamp>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.get().to_rfc3339_opts(SecondsFormat::Millis, true)),
        None => s.serialize_none(),
    }
}

/// A row of `passkey`, as Better Auth returns it (`list-user-passkeys`,
/// `verify-registration`, `update-passkey`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PasskeyRow {
    pub(crate) id: String,
    /// The name its owner gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    /// The COSE public key, base64.
    pub(crate) public_key: String,
    pub(crate) user_id: String,
    /// base64url.
    #[serde(rename = "credentialID")]
    pub(crate) credential_id: String,
    pub(crate) counter: i64,
    /// `multiDevice` or `singleDevice`.
    pub(crate) device_type: String,
    pub(crate) backed_up: bool,
    /// Comma-separated (`internal,hybrid`).
    pub(crate) transports: Option<String>,
    #[serde(serialize_with = "iso_millis")]
    #[schema(value_type = Option<String>)]
    pub(crate) created_at: Option<Timestamp>,
    pub(crate) aaguid: Option<String>,
}

/// [`PasskeyRow`] as read (text as [`Text`], which MySQL's binary collation needs).
#[derive(sqlx::FromRow)]
struct StoredRow {
    id: Text,
    name: Option<Text>,
    #[sqlx(rename = "publicKey")]
    public_key: Text,
    #[sqlx(rename = "userId")]
    user_id: Text,
    #[sqlx(rename = "credentialID")]
    credential_id: Text,
    counter: i64,
    #[sqlx(rename = "deviceType")]
    device_type: Text,
    #[sqlx(rename = "backedUp")]
    backed_up: bool,
    transports: Option<Text>,
    #[sqlx(rename = "createdAt")]
    created_at: Option<Timestamp>,
    aaguid: Option<Text>,
}

impl From<StoredRow> for PasskeyRow {
    fn from(row: StoredRow) -> Self {
        PasskeyRow {
            id: row.id.into(),
            name: row.name.map(String::from),
            public_key: row.public_key.into(),
            user_id: row.user_id.into(),
            credential_id: row.credential_id.into(),
            counter: row.counter,
            device_type: row.device_type.into(),
            backed_up: row.backed_up,
            transports: row.transports.map(String::from),
            created_at: row.created_at,
            aaguid: row.aaguid.map(String::from),
        }
    }
}

/// `counter` is `integer` (as Better Auth creates it), read as a 64-bit value.
const COLUMNS: &str = r#""id", "name", "publicKey", "userId", "credentialID",
    CAST("counter" AS bigint) AS "counter", "deviceType", "backedUp", "transports",
    "createdAt", "aaguid""#;

/// The user's passkeys, oldest first.
pub(crate) async fn list(db: &Database, user_id: &str) -> Result<Vec<PasskeyRow>> {
    let sql = format!(
        r#"SELECT {COLUMNS} FROM "passkey" WHERE "userId" = $1 ORDER BY "createdAt", "id""#
    );
    let rows: Vec<StoredRow> = on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(user_id)
        .fetch_all(pool)
        .await?);
    Ok(rows.into_iter().map(PasskeyRow::from).collect())
}

/// The passkey with this credential id (base64url).
pub(crate) async fn by_credential(
    db: &Database,
    credential_id: &str,
) -> Result<Option<PasskeyRow>> {
    let sql = format!(r#"SELECT {COLUMNS} FROM "passkey" WHERE "credentialID" = $1"#);
    let row: Option<StoredRow> = on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(credential_id)
        .fetch_optional(pool)
        .await?);
    Ok(row.map(PasskeyRow::from))
}

/// The user's passkey with this id (another user's reads as none).
pub(crate) async fn find_owned(
    db: &Database,
    id: &str,
    user_id: &str,
) -> Result<Option<PasskeyRow>> {
    let sql = format!(r#"SELECT {COLUMNS} FROM "passkey" WHERE "id" = $1 AND "userId" = $2"#);
    let row: Option<StoredRow> = on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(id)
        .bind(user_id)
        .fetch_optional(pool)
        .await?);
    Ok(row.map(PasskeyRow::from))
}

/// Stores a new passkey; `false` when its credential id is registered already.
pub(crate) async fn insert(db: &Database, row: &PasskeyRow, now: DateTime<Utc>) -> Result<bool> {
    const SQL: &str = r#"INSERT INTO "passkey" ("id", "name", "publicKey", "userId", "credentialID",
        "counter", "deviceType", "backedUp", "transports", "createdAt", "aaguid")
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#;
    let result = on_pool!(db, |pool| sqlx::query(SQL)
        .bind(&row.id)
        .bind(&row.name)
        .bind(&row.public_key)
        .bind(&row.user_id)
        .bind(&row.credential_id)
        .bind(row.counter)
        .bind(&row.device_type)
        .bind(row.backed_up)
        .bind(&row.transports)
        .bind(Timestamp::new(now))
        .bind(&row.aaguid)
        .execute(pool)
        .await
        .map(|_| ()));
    match result {
        Ok(()) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Moves the signature counter forward; `false` when another sign-in with
/// the same assertion (or a later one) moved it first.
pub(crate) async fn advance_counter(db: &Database, id: &str, from: i64, to: i64) -> Result<bool> {
    const SQL: &str = r#"UPDATE "passkey" SET "counter" = $3 WHERE "id" = $1 AND "counter" = $2"#;
    let done = on_pool!(db, |pool| sqlx::query(SQL)
        .bind(id)
        .bind(from)
        .bind(to)
        .execute(pool)
        .await?
        .rows_affected());
    Ok(done == 1)
}

/// Renames the user's passkey; `false` when the user has no such passkey.
pub(crate) async fn rename(db: &Database, id: &str, user_id: &str, name: &str) -> Result<bool> {
    const SQL: &str = r#"UPDATE "passkey" SET "name" = $3 WHERE "id" = $1 AND "userId" = $2"#;
    let done = on_pool!(db, |pool| sqlx::query(SQL)
        .bind(id)
        .bind(user_id)
        .bind(name)
        .execute(pool)
        .await?
        .rows_affected());
    Ok(done == 1)
}

/// Deletes the user's passkey; `false` when the user has no such passkey.
pub(crate) async fn delete(db: &Database, id: &str, user_id: &str) -> Result<bool> {
    const SQL: &str = r#"DELETE FROM "passkey" WHERE "id" = $1 AND "userId" = $2"#;
    let done = on_pool!(db, |pool| sqlx::query(SQL)
        .bind(id)
        .bind(user_id)
        .execute(pool)
        .await?
        .rows_affected());
    Ok(done == 1)
}
