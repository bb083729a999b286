//! Columns plugins add to the `user` and `session` tables ([`Column`]): read
//! by every query that returns a user or a session (the session lookup
//! included), returned in their JSON, and, for user columns that take input,
//! written on sign-up and update-user.
//!
//! The extra columns always come last in a select list, so a row is read as
//! its core columns by name, then the plugin columns by position: the user's,
//! then the session's.

use serde_json::{Map, Value};

/// The type of a [`Column`] and the value a user without one reads as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnKind {
    /// `boolean`; a missing value reads as the default.
    Boolean {
        /// The value of users created without one.
        default: bool,
    },
    /// `text`, nullable; a missing value reads as the default (`null` without one).
    Text {
        /// The value a user without one reads as.
        default: Option<&'static str>,
    },
    /// A timestamp (`date` on SQLite, `timestamptz` on PostgreSQL), nullable;
    /// ISO-8601 with milliseconds in the JSON, as the core timestamps.
    Timestamp,
}

/// A column a plugin adds to the `user` table, returned with every user
/// (`/get-session`, sign-in, sign-up) as Better Auth's plugins return theirs,
/// or to the `session` table, returned with every session. The plugin
/// creates the column in its own
/// [migration](crate::plugins::PluginSetup::migrations) and declares it with
/// [`PluginSetup::user_field`](crate::plugins::PluginSetup::user_field) or
/// [`PluginSetup::session_field`](crate::plugins::PluginSetup::session_field).
///
/// ```
/// use better_auth::plugins::Column;
///
/// let enabled = Column::boolean("twoFactorEnabled", false);
/// let username = Column::text("username").input();
/// assert_eq!(username.name(), "username");
/// assert!(username.is_input() && !enabled.is_input());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    name: &'static str,
    kind: ColumnKind,
    input: bool,
}

impl Column {
    /// A boolean column, `default` for users created without a value.
    pub const fn boolean(name: &'static str, default: bool) -> Self {
        Column {
            name,
            kind: ColumnKind::Boolean { default },
            input: false,
        }
    }

    /// A nullable text column.
    pub const fn text(name: &'static str) -> Self {
        Column {
            name,
            kind: ColumnKind::Text { default: None },
            input: false,
        }
    }

    /// A text column whose missing (`NULL`) value reads as `default` (a
    /// role, say).
    pub const fn text_or(name: &'static str, default: &'static str) -> Self {
        Column {
            name,
            kind: ColumnKind::Text {
                default: Some(default),
            },
            input: false,
        }
    }

    /// A nullable timestamp column.
    pub const fn timestamp(name: &'static str) -> Self {
        Column {
            name,
            kind: ColumnKind::Timestamp,
            input: false,
        }
    }

    /// Accepted from clients on sign-up (`/sign-up/email`) and
    /// `/update-user`; without it the field is read-only to them, and an
    /// update-user that names it is refused. Input is checked by type, then
    /// handed to the plugins' [`UserInputHook`](crate::plugins::UserInputHook)s.
    pub const fn input(mut self) -> Self {
        self.input = true;
        self
    }

    /// The column's name (camelCase, as in the JSON).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The column's type.
    pub fn kind(&self) -> ColumnKind {
        self.kind
    }

    /// Whether clients may set it (see [`Column::input`]).
    pub fn is_input(&self) -> bool {
        self.input
    }

    /// The value of a user created without one.
    pub(crate) fn default_value(&self) -> Value {
        match self.kind {
            ColumnKind::Boolean { default } => Value::Bool(default),
            ColumnKind::Text {
                default: Some(default),
            } => Value::from(default),
            ColumnKind::Text { default: None } | ColumnKind::Timestamp => Value::Null,
        }
    }

    /// Whether `value` has this field's type (null is allowed for text and
    /// timestamps; a timestamp is an RFC 3339 string).
    pub(crate) fn accepts(&self, value: &Value) -> bool {
        match self.kind {
            ColumnKind::Boolean { .. } => value.is_boolean(),
            ColumnKind::Text { .. } => value.is_string() || value.is_null(),
            ColumnKind::Timestamp => {
                value.is_null() || value.as_str().and_then(parse_timestamp).is_some()
            }
        }
    }
}

/// An RFC 3339 timestamp (`2026-01-31T12:00:00.000Z`).
pub(crate) fn parse_timestamp(text: &str) -> Option<super::Timestamp> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| super::Timestamp::new(t.with_timezone(&chrono::Utc)))
}

/// Column names the runtime owns: a plugin cannot declare them again.
const CORE_COLUMNS: &[&str] = &[
    "id",
    "name",
    "email",
    "emailVerified",
    "image",
    "createdAt",
    "updatedAt",
];

/// The session table's columns the runtime owns.
const SESSION_CORE_COLUMNS: &[&str] = &[
    "id",
    "token",
    "userId",
    "expiresAt",
    "createdAt",
    "updatedAt",
    "ipAddress",
    "userAgent",
];

/// The plugin columns of a database's `user` and `session` tables and the
/// select lists that read them, built once when an instance is built.
#[derive(Debug)]
pub(crate) struct UserSchema {
    pub(crate) fields: Vec<Column>,
    /// `, "a", "b"`: appended to a select list of the bare `user` table.
    pub(crate) columns: String,
    /// `, u."a", u."b"`: appended to a select list where the table is `u`.
    pub(crate) joined: String,
    /// The session table's plugin columns.
    pub(crate) session_fields: Vec<Column>,
    /// `, "a", "b"`: appended to a select list of the bare `session` table.
    pub(crate) session_columns: String,
    /// The session lookup of every authenticated request, with these columns.
    pub(crate) session_user: String,
    /// Redis secondary storage of the instance, if any: this crate's writes
    /// to sessions and users mark it (see [`super::Database::user_changed`]).
    #[cfg(feature = "redis")]
    pub(crate) redis: Option<super::RedisStorage>,
}

impl Default for UserSchema {
    fn default() -> Self {
        UserSchema::new(Vec::new(), Vec::new()).expect("no fields are valid fields")
    }
}

/// Checks the names of one table's plugin columns (safe to quote, not core
/// columns, not twice) and returns `, "a", "b"` and `, t."a", t."b"`.
fn select_lists(
    table: &str,
    fields: &[Column],
    core: &[&str],
    alias: &str,
) -> Result<(String, String), String> {
    let mut columns = String::new();
    let mut joined = String::new();
    for (i, field) in fields.iter().enumerate() {
        let name = field.name;
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && name.len() <= 63;
        if !valid {
            return Err(format!(
                "{table} field `{name}`: names are letters, digits and `_`, starting with a letter"
            ));
        }
        if core.contains(&name) || fields[..i].iter().any(|f| f.name == name) {
            return Err(format!("{table} field `{name}` is declared twice"));
        }
        columns.push_str(&format!(r#", "{name}""#));
        joined.push_str(&format!(r#", {alias}."{name}""#));
    }
    Ok((columns, joined))
}

impl UserSchema {
    /// Checks the fields and builds the select lists.
    pub(crate) fn new(fields: Vec<Column>, session_fields: Vec<Column>) -> Result<Self, String> {
        let (columns, joined) = select_lists("user", &fields, CORE_COLUMNS, "u")?;
        let (session_columns, session_joined) =
            select_lists("session", &session_fields, SESSION_CORE_COLUMNS, "s")?;
        Ok(UserSchema {
            session_user: super::sessions::session_user_sql(&joined, &session_joined),
            fields,
            columns,
            joined,
            session_fields,
            session_columns,
            #[cfg(feature = "redis")]
            redis: None,
        })
    }

    /// The input fields of a request body, taken out of it and checked by
    /// type; a read-only field in the body is a 400 (`... can not be set`).
    pub(crate) fn take_input(
        &self,
        body: &mut Map<String, Value>,
    ) -> crate::Result<Map<String, Value>> {
        let mut input = Map::new();
        for field in &self.fields {
            let Some(value) = body.remove(field.name) else {
                continue;
            };
            if !field.input {
                return Err(crate::Error::Validation(format!(
                    "{} can not be set",
                    field.name
                )));
            }
            if !field.accepts(&value) {
                return Err(crate::Error::Validation(format!(
                    "{} must be a {}",
                    field.name,
                    match field.kind {
                        ColumnKind::Boolean { .. } => "boolean",
                        ColumnKind::Text { .. } => "string",
                        ColumnKind::Timestamp => "timestamp (RFC 3339)",
                    }
                )));
            }
            input.insert(field.name.to_owned(), value);
        }
        Ok(input)
    }

    /// The values of a new user: those given, the defaults for the rest.
    pub(crate) fn new_values(&self, given: &Map<String, Value>) -> Map<String, Value> {
        self.fields
            .iter()
            .map(|f| {
                let value = given
                    .get(f.name)
                    .cloned()
                    .unwrap_or_else(|| f.default_value());
                (f.name.to_owned(), value)
            })
            .collect()
    }
}

/// The declared fields among `values`, in declaration order.
pub(crate) fn present<'a>(
    fields: &'a [Column],
    values: &'a Map<String, Value>,
) -> impl Iterator<Item = (&'a Column, &'a Value)> + 'a {
    fields
        .iter()
        .filter_map(|f| values.get(f.name).map(|v| (f, v)))
}

/// Checks that every value names a declared field and has its type.
pub(crate) fn check_values(
    table: &str,
    fields: &[Column],
    values: &Map<String, Value>,
) -> crate::Result<()> {
    for (name, value) in values {
        let declared = fields.iter().find(|f| f.name() == name);
        if !declared.is_some_and(|f| f.accepts(value)) {
            return Err(crate::Error::Validation(format!(
                "`{name}` is not a {table} field of an installed plugin, or not of its type"
            )));
        }
    }
    Ok(())
}

/// `UPDATE "<table>" SET "a" = $2, "b" = $3 WHERE "id" = $1` for the fields
/// present in `values`, or `None` when there are none.
pub(crate) fn update_sql(
    table: &str,
    fields: &[Column],
    values: &Map<String, Value>,
) -> Option<String> {
    let sets: Vec<String> = present(fields, values)
        .enumerate()
        .map(|(i, (f, _))| format!(r#""{}" = ${}"#, f.name, i + 2))
        .collect();
    (!sets.is_empty()).then(|| {
        format!(
            r#"UPDATE "{table}" SET {} WHERE "id" = $1"#,
            sets.join(", ")
        )
    })
}

/// Binds the values of [`update_sql`]'s placeholders after the id, in order.
macro_rules! bind_fields {
    ($query:expr, $fields:expr, $values:expr) => {{
        let mut query = $query;
        for (field, value) in $crate::store::columns::present($fields, $values) {
            query = match field.kind() {
                $crate::store::columns::ColumnKind::Boolean { .. } => query.bind(value.as_bool()),
                $crate::store::columns::ColumnKind::Text { .. } => {
                    query.bind(value.as_str().map(str::to_owned))
                }
                $crate::store::columns::ColumnKind::Timestamp => query.bind(
                    value
                        .as_str()
                        .and_then($crate::store::columns::parse_timestamp),
                ),
            };
        }
        query
    }};
}
pub(crate) use bind_fields;

/// Reads the user's plugin columns at the end of `row` (see the module's documentation).
pub(crate) fn read<R>(row: &R, schema: &UserSchema) -> Result<Map<String, Value>, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<super::rows::Text>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<super::Timestamp>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    read_at(row, &schema.fields, row.len() - schema.fields.len())
}

/// Reads `fields` from `row`, the first at index `start`.
pub(crate) fn read_at<R>(
    row: &R,
    fields: &[Column],
    start: usize,
) -> Result<Map<String, Value>, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<super::rows::Text>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<super::Timestamp>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut values = Map::new();
    for (i, field) in fields.iter().enumerate() {
        let value = match field.kind {
            ColumnKind::Boolean { default } => Value::Bool(
                row.try_get::<Option<bool>, _>(start + i)?
                    .unwrap_or(default),
            ),
            ColumnKind::Text { default } => {
                match row.try_get::<Option<super::rows::Text>, _>(start + i)? {
                    Some(text) => Value::String(text.0),
                    None => default.map_or(Value::Null, Value::from),
                }
            }
            ColumnKind::Timestamp => row
                .try_get::<Option<super::Timestamp>, _>(start + i)?
                .map_or(Value::Null, |t| {
                    Value::String(super::format_timestamp(&t.get()))
                }),
        };
        values.insert(field.name.to_owned(), value);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(UserSchema::new(vec![Column::text("username")], vec![]).is_ok());
        for bad in ["user\"name", "1st", "", "email", "a b"] {
            assert!(
                UserSchema::new(vec![Column::text(bad)], vec![]).is_err(),
                "{bad}"
            );
        }
        assert!(UserSchema::new(vec![Column::text("a"), Column::text("a")], vec![]).is_err());
        assert!(UserSchema::new(vec![], vec![Column::text("token")]).is_err());
        assert!(UserSchema::new(vec![], vec![Column::text("impersonatedBy")]).is_ok());
    }

    #[test]
    fn update_lists_only_present_fields() {
        let schema = UserSchema::new(
            vec![
                Column::text("username").input(),
                Column::text("displayUsername").input(),
            ],
            vec![],
        )
        .unwrap();
        let mut values = Map::new();
        assert_eq!(update_sql("user", &schema.fields, &values), None);
        values.insert("displayUsername".into(), Value::from("Ada"));
        assert_eq!(
            update_sql("user", &schema.fields, &values).unwrap(),
            r#"UPDATE "user" SET "displayUsername" = $2 WHERE "id" = $1"#
        );
    }

    #[test]
    fn input_is_typed_and_read_only_fields_refused() {
        let schema = UserSchema::new(
            vec![
                Column::text("username").input(),
                Column::boolean("twoFactorEnabled", false),
            ],
            vec![],
        )
        .unwrap();
        let mut body: Map<String, Value> =
            serde_json::from_str(r#"{"name":"A","username":"ada"}"#).unwrap();
        let input = schema.take_input(&mut body).unwrap();
        assert_eq!(input["username"], "ada");
        assert!(!body.contains_key("username"));
        let mut body: Map<String, Value> = serde_json::from_str(r#"{"username":5}"#).unwrap();
        assert!(schema.take_input(&mut body).is_err());
        let mut body: Map<String, Value> =
            serde_json::from_str(r#"{"twoFactorEnabled":true}"#).unwrap();
        assert!(schema.take_input(&mut body).is_err());
    }
}
