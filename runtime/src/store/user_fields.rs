//! Columns plugins add to the `user` table ([`UserField`]): read by every
//! query that returns a user (the session lookup included), returned in the
//! user's JSON, and written on sign-up and update-user when they take input.
//!
//! The extra columns always come last in a select list, so a row is read as
//! its core columns by name, then the plugin columns by position.

use serde_json::{Map, Value};

/// The type of a [`UserField`] and the value a user without one reads as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldKind {
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
/// (`/get-session`, sign-in, sign-up) as Better Auth's plugins return theirs.
/// The plugin creates the column in its own
/// [migration](crate::plugins::PluginSetup::migrations) and declares it with
/// [`PluginSetup::user_field`](crate::plugins::PluginSetup::user_field).
///
/// ```
/// use better_auth::plugins::UserField;
///
/// let enabled = UserField::boolean("twoFactorEnabled", false);
/// let username = UserField::text("username").input();
/// assert_eq!(username.name(), "username");
/// assert!(username.is_input() && !enabled.is_input());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserField {
    name: &'static str,
    kind: FieldKind,
    input: bool,
}

impl UserField {
    /// A boolean column, `default` for users created without a value.
    pub const fn boolean(name: &'static str, default: bool) -> Self {
        UserField {
            name,
            kind: FieldKind::Boolean { default },
            input: false,
        }
    }

    /// A nullable text column.
    pub const fn text(name: &'static str) -> Self {
        UserField {
            name,
            kind: FieldKind::Text { default: None },
            input: false,
        }
    }

    /// A text column whose missing (`NULL`) value reads as `default` (a
    /// role, say).
    pub const fn text_or(name: &'static str, default: &'static str) -> Self {
        UserField {
            name,
            kind: FieldKind::Text {
                default: Some(default),
            },
            input: false,
        }
    }

    /// A nullable timestamp column.
    pub const fn timestamp(name: &'static str) -> Self {
        UserField {
            name,
            kind: FieldKind::Timestamp,
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
    pub fn kind(&self) -> FieldKind {
        self.kind
    }

    /// Whether clients may set it (see [`UserField::input`]).
    pub fn is_input(&self) -> bool {
        self.input
    }

    /// The value of a user created without one.
    pub(crate) fn default_value(&self) -> Value {
        match self.kind {
            FieldKind::Boolean { default } => Value::Bool(default),
            FieldKind::Text {
                default: Some(default),
            } => Value::from(default),
            FieldKind::Text { default: None } | FieldKind::Timestamp => Value::Null,
        }
    }

    /// Whether `value` has this field's type (null is allowed for text and
    /// timestamps; a timestamp is an RFC 3339 string).
    pub(crate) fn accepts(&self, value: &Value) -> bool {
        match self.kind {
            FieldKind::Boolean { .. } => value.is_boolean(),
            FieldKind::Text { .. } => value.is_string() || value.is_null(),
            FieldKind::Timestamp => {
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

/// The plugin columns of a database's `user` table and the select lists
/// that read them, built once when an instance is built.
#[derive(Debug)]
pub(crate) struct UserSchema {
    pub(crate) fields: Vec<UserField>,
    /// `, "a", "b"`: appended to a select list of the bare table.
    pub(crate) columns: String,
    /// `, u."a", u."b"`: appended to a select list where the table is `u`.
    pub(crate) joined: String,
    /// The session lookup of every authenticated request, with these columns.
    pub(crate) session_user: String,
}

impl Default for UserSchema {
    fn default() -> Self {
        UserSchema::new(Vec::new()).expect("no fields are valid fields")
    }
}

impl UserSchema {
    /// Checks the fields (names safe to quote, not core columns, not twice)
    /// and builds the select lists.
    pub(crate) fn new(fields: Vec<UserField>) -> Result<Self, String> {
        let mut columns = String::new();
        let mut joined = String::new();
        for (i, field) in fields.iter().enumerate() {
            let name = field.name;
            let valid = name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && name.len() <= 63;
            if !valid {
                return Err(format!(
                    "user field `{name}`: names are letters, digits and `_`, starting with a letter"
                ));
            }
            if CORE_COLUMNS.contains(&name) || fields[..i].iter().any(|f| f.name == name) {
                return Err(format!("user field `{name}` is declared twice"));
            }
            columns.push_str(&format!(r#", "{name}""#));
            joined.push_str(&format!(r#", u."{name}""#));
        }
        Ok(UserSchema {
            session_user: super::sessions::session_user_sql(&joined),
            fields,
            columns,
            joined,
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
                        FieldKind::Boolean { .. } => "boolean",
                        FieldKind::Text { .. } => "string",
                        FieldKind::Timestamp => "timestamp (RFC 3339)",
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

    /// The declared fields among `values`, in declaration order.
    pub(crate) fn present<'a>(
        &'a self,
        values: &'a Map<String, Value>,
    ) -> impl Iterator<Item = (&'a UserField, &'a Value)> + 'a {
        self.fields
            .iter()
            .filter_map(|f| values.get(f.name).map(|v| (f, v)))
    }
}

/// `UPDATE "user" SET "a" = $2, "b" = $3 WHERE "id" = $1` for the fields
/// present in `values`, or `None` when there are none.
pub(crate) fn update_sql(schema: &UserSchema, values: &Map<String, Value>) -> Option<String> {
    let sets: Vec<String> = schema
        .present(values)
        .enumerate()
        .map(|(i, (f, _))| format!(r#""{}" = ${}"#, f.name, i + 2))
        .collect();
    (!sets.is_empty()).then(|| format!(r#"UPDATE "user" SET {} WHERE "id" = $1"#, sets.join(", ")))
}

/// Binds the values of [`update_sql`]'s placeholders after the id, in order.
macro_rules! bind_fields {
    ($query:expr, $schema:expr, $values:expr) => {{
        let mut query = $query;
        for (field, value) in $schema.present($values) {
            query = match field.kind() {
                $crate::store::user_fields::FieldKind::Boolean { .. } => {
                    query.bind(value.as_bool())
                }
                $crate::store::user_fields::FieldKind::Text { .. } => {
                    query.bind(value.as_str().map(str::to_owned))
                }
                $crate::store::user_fields::FieldKind::Timestamp => query.bind(
                    value
                        .as_str()
                        .and_then($crate::store::user_fields::parse_timestamp),
                ),
            };
        }
        query
    }};
}
pub(crate) use bind_fields;

/// Reads the plugin columns at the end of `row` (see the module's documentation).
pub(crate) fn read<R>(row: &R, schema: &UserSchema) -> Result<Map<String, Value>, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<super::Timestamp>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut values = Map::new();
    if schema.fields.is_empty() {
        return Ok(values);
    }
    let start = row.len() - schema.fields.len();
    for (i, field) in schema.fields.iter().enumerate() {
        let value = match field.kind {
            FieldKind::Boolean { default } => Value::Bool(
                row.try_get::<Option<bool>, _>(start + i)?
                    .unwrap_or(default),
            ),
            FieldKind::Text { default } => match row.try_get::<Option<String>, _>(start + i)? {
                Some(text) => Value::String(text),
                None => default.map_or(Value::Null, Value::from),
            },
            FieldKind::Timestamp => row
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
        assert!(UserSchema::new(vec![UserField::text("username")]).is_ok());
        for bad in ["user\"name", "1st", "", "email", "a b"] {
            assert!(
                UserSchema::new(vec![UserField::text(bad)]).is_err(),
                "{bad}"
            );
        }
        assert!(UserSchema::new(vec![UserField::text("a"), UserField::text("a")]).is_err());
    }

    #[test]
    fn update_lists_only_present_fields() {
        let schema = UserSchema::new(vec![
            UserField::text("username").input(),
            UserField::text("displayUsername").input(),
        ])
        .unwrap();
        let mut values = Map::new();
        assert_eq!(update_sql(&schema, &values), None);
        values.insert("displayUsername".into(), Value::from("Ada"));
        assert_eq!(
            update_sql(&schema, &values).unwrap(),
            r#"UPDATE "user" SET "displayUsername" = $2 WHERE "id" = $1"#
        );
    }

    #[test]
    fn input_is_typed_and_read_only_fields_refused() {
        let schema = UserSchema::new(vec![
            UserField::text("username").input(),
            UserField::boolean("twoFactorEnabled", false),
        ])
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
