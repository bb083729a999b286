//! Row shapes as read from the database, converted into the public models.
//! Timestamps are read through [`Timestamp`] so every stored form parses.

use super::Timestamp;
use crate::models::{Account, Session, User};

/// Text as the store reads it: `String` on every backend, and on MySQL also
/// from a column with a binary collation. The MySQL migrations use
/// `utf8mb4_bin` so that comparisons are exact (case and accents count, as in
/// SQLite and PostgreSQL); the server flags such columns `BINARY`, and sqlx's
/// `String` refuses them. A plugin reads its own text columns as `Text` (or
/// `Option<Text>`): in tuples, with `query_scalar`, and as the fields of a
/// `FromRow` struct.
///
/// ```
/// use better_auth::store::Text;
///
/// #[derive(sqlx::FromRow)]
/// struct NoteRow {
///     body: Text,
///     title: Option<Text>,
/// }
///
/// let row = NoteRow { body: Text("Hello".into()), title: None };
/// let body: String = row.body.into();
/// assert_eq!(body, "Hello");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text(pub String);

impl From<Text> for String {
    fn from(t: Text) -> Self {
        t.0
    }
}

/// Delegates `Type` and `Decode` of [`Text`] to `String` on a backend.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! text_as_string {
    ($db:ty) => {
        impl sqlx::Type<$db> for Text {
            fn type_info() -> <$db as sqlx::Database>::TypeInfo {
                <String as sqlx::Type<$db>>::type_info()
            }
            fn compatible(ty: &<$db as sqlx::Database>::TypeInfo) -> bool {
                <String as sqlx::Type<$db>>::compatible(ty)
            }
        }
        impl<'r> sqlx::Decode<'r, $db> for Text {
            fn decode(
                value: <$db as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                <String as sqlx::Decode<'r, $db>>::decode(value).map(Text)
            }
        }
    };
}

#[cfg(feature = "sqlite")]
text_as_string!(sqlx::Sqlite);
#[cfg(feature = "postgres")]
text_as_string!(sqlx::Postgres);

#[cfg(feature = "mysql")]
impl sqlx::Type<sqlx::MySql> for Text {
    fn type_info() -> sqlx::mysql::MySqlTypeInfo {
        <String as sqlx::Type<sqlx::MySql>>::type_info()
    }

    fn compatible(ty: &sqlx::mysql::MySqlTypeInfo) -> bool {
        use sqlx::TypeInfo as _;
        <String as sqlx::Type<sqlx::MySql>>::compatible(ty)
            || matches!(
                ty.name(),
                "VARBINARY" | "BINARY" | "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB"
            )
    }
}

#[cfg(feature = "mysql")]
impl<'r> sqlx::Decode<'r, sqlx::MySql> for Text {
    fn decode(value: sqlx::mysql::MySqlValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        <String as sqlx::Decode<'r, sqlx::MySql>>::decode(value).map(Text)
    }
}

#[derive(Debug, sqlx::FromRow)]
#[sqlx(rename_all = "camelCase")]
pub(crate) struct UserRow {
    id: Text,
    name: Text,
    email: Text,
    email_verified: bool,
    image: Option<Text>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id.0,
            name: r.name.0,
            email: r.email.0,
            email_verified: r.email_verified,
            image: r.image.map(String::from),
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
            fields: serde_json::Map::new(),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
#[sqlx(rename_all = "camelCase")]
pub(crate) struct SessionRow {
    id: Text,
    token: Text,
    user_id: Text,
    expires_at: Timestamp,
    created_at: Timestamp,
    updated_at: Timestamp,
    ip_address: Option<Text>,
    user_agent: Option<Text>,
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Session {
            id: r.id.0,
            token: r.token.0,
            user_id: r.user_id.0,
            expires_at: r.expires_at.0,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
            ip_address: r.ip_address.map(String::from),
            user_agent: r.user_agent.map(String::from),
            fields: serde_json::Map::new(),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
#[sqlx(rename_all = "camelCase")]
pub(crate) struct AccountRow {
    id: Text,
    account_id: Text,
    provider_id: Text,
    user_id: Text,
    scope: Option<Text>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<AccountRow> for Account {
    fn from(r: AccountRow) -> Self {
        Account {
            id: r.id.0,
            account_id: r.account_id.0,
            provider_id: r.provider_id.0,
            user_id: r.user_id.0,
            scope: r.scope.map(String::from),
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        }
    }
}

/// A [`User`] from a row with the core columns by name and the plugin
/// columns of `$schema` last (see `user_fields`).
macro_rules! user_from_row {
    ($row:expr, $schema:expr) => {{
        let row = $row;
        let mut user = $crate::models::User::from(
            <$crate::store::rows::UserRow as sqlx::FromRow<_>>::from_row(&row)?,
        );
        user.fields = $crate::store::columns::read(&row, $schema)?;
        user
    }};
}
pub(crate) use user_from_row;
