//! Queries on the `user` table (and the credential account created with it).

use chrono::{DateTime, Utc};

use serde_json::{Map, Value};

use super::columns::{bind_fields, update_sql};
use super::rows::user_from_row;
use super::{Database, Timestamp, is_unique_violation, on_pool};
use crate::error::{Error, Result};
use crate::models::User;

const USER_COLUMNS: &str =
    r#""id", "name", "email", "emailVerified", "image", "createdAt", "updatedAt""#;

/// A user joined with its credential password hash, if it has one.
#[derive(Debug)]
#[doc(hidden)]
#[non_exhaustive]
pub struct UserWithPassword {
    /// The user.
    pub user: User,
    /// The PHC (or Better Auth scrypt) hash of the credential account.
    pub password: Option<String>,
}

/// The fields of a new user: `NewUser::new(name, email)`, then the setters
/// for the rest.
///
/// ```
/// use better_auth::store::users::NewUser;
///
/// let new = NewUser::new("Ada", "ada@example.com").email_verified(true);
/// assert_eq!(new.image, None);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NewUser<'a> {
    /// Display name.
    pub name: &'a str,
    /// Lower-cased email address.
    pub email: &'a str,
    /// Avatar URL.
    pub image: Option<&'a str>,
    /// Whether the email is already verified (admin-created users, say).
    pub email_verified: bool,
    /// Values of plugin columns (see [`User::fields`]); the others get
    /// their defaults.
    pub fields: Map<String, Value>,
}

impl<'a> NewUser<'a> {
    /// A user named `name` with the (lower-cased) address `email`, not
    /// verified, without an image.
    pub fn new(name: &'a str, email: &'a str) -> Self {
        NewUser {
            name,
            email,
            image: None,
            email_verified: false,
            fields: Map::new(),
        }
    }

    /// Sets the avatar URL.
    pub fn image(mut self, image: Option<&'a str>) -> Self {
        self.image = image;
        self
    }

    /// Sets whether the email address is already verified.
    pub fn email_verified(mut self, verified: bool) -> Self {
        self.email_verified = verified;
        self
    }

    /// Sets the value of a plugin column (see [`User::fields`]); names no
    /// installed plugin declares are ignored.
    pub fn field(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(name.to_owned(), value.into());
        self
    }
}

/// Finds a user by (lower-cased) email.
pub async fn find_by_email(db: &Database, email: &str) -> Result<Option<User>> {
    find_one(db, "email", email).await
}

/// Finds a user by id.
pub async fn find_by_id(db: &Database, id: &str) -> Result<Option<User>> {
    find_one(db, "id", id).await
}

/// Finds a user by a text column a plugin declared (see
/// [`PluginSetup::user_field`](crate::plugins::PluginSetup::user_field)) and
/// keeps unique, such as `username`. A name no installed plugin declared is
/// an [`Error::Internal`].
pub async fn find_by_field(db: &Database, name: &str, value: &str) -> Result<Option<User>> {
    if !db.user_schema.fields.iter().any(|f| f.name() == name) {
        return Err(Error::Internal(format!(
            "`{name}` is not a user field of an installed plugin"
        )));
    }
    find_one(db, name, value).await
}

/// The user whose `column` (a unique one) is `value`.
async fn find_one(db: &Database, column: &str, value: &str) -> Result<Option<User>> {
    let schema = &db.user_schema;
    let sql = format!(
        r#"SELECT {USER_COLUMNS}{} FROM "user" WHERE "{column}" = $1"#,
        schema.columns
    );
    let user = on_pool!(db, |pool| {
        match sqlx::query(&sql).bind(value).fetch_optional(pool).await? {
            Some(row) => Some(user_from_row!(row, schema)),
            None => None,
        }
    });
    Ok(user)
}

/// Finds a user by email together with the password of its credential account.
#[doc(hidden)]
pub async fn find_with_password(db: &Database, email: &str) -> Result<Option<UserWithPassword>> {
    let schema = &db.user_schema;
    let sql = format!(
        r#"SELECT u."id", u."name", u."email", u."emailVerified", u."image",
               u."createdAt", u."updatedAt", a."password"{}
        FROM "user" u
        LEFT JOIN "account" a ON a."userId" = u."id" AND a."providerId" = 'credential'
        WHERE u."email" = $1"#,
        schema.joined
    );
    let found = on_pool!(db, |pool| {
        match sqlx::query(&sql).bind(email).fetch_optional(pool).await? {
            Some(row) => {
                use sqlx::Row;
                let password: Option<super::rows::Text> = row.try_get("password")?;
                let password = password.map(String::from);
                Some(UserWithPassword {
                    user: user_from_row!(row, schema),
                    password,
                })
            }
            None => None,
        }
    });
    Ok(found)
}

/// Every user, oldest first.
#[doc(hidden)]
pub async fn list(db: &Database) -> Result<Vec<User>> {
    let schema = &db.user_schema;
    let sql = format!(
        r#"SELECT {USER_COLUMNS}{} FROM "user" ORDER BY "createdAt", "id""#,
        schema.columns
    );
    let users = on_pool!(db, |pool| {
        let mut users = Vec::new();
        for row in sqlx::query(&sql).fetch_all(pool).await? {
            users.push(user_from_row!(row, schema));
        }
        users
    });
    Ok(users)
}

/// The row of a new user, created now, with the plugin columns its
/// creator set (the rest read as their defaults).
fn user_row(db: &Database, new: &NewUser<'_>, now: DateTime<Utc>) -> User {
    User {
        id: crate::crypto::generate_id(),
        name: new.name.to_owned(),
        email: new.email.to_owned(),
        email_verified: new.email_verified,
        image: new.image.map(str::to_owned),
        created_at: now,
        updated_at: now,
        fields: db.user_schema.new_values(&new.fields),
    }
}

/// Writes the plugin columns set in `values` (declared ones only) on an
/// executor (a transaction); nothing when none is set.
macro_rules! write_fields {
    ($db:expr, $executor:expr, $id:expr, $values:expr) => {
        if let Some(sql) = update_sql("user", &$db.user_schema.fields, $values) {
            bind_fields!(
                sqlx::query(&sql).bind($id),
                &$db.user_schema.fields,
                $values
            )
            .execute($executor)
            .await?;
        }
    };
}

/// The insert of a [`user_row`], ready to run on a transaction.
macro_rules! insert_user {
    ($user:expr) => {
        sqlx::query(
            r#"INSERT INTO "user" ("id", "name", "email", "emailVerified", "image", "createdAt", "updatedAt")
               VALUES ($1, $2, $3, $4, $5, $6, $6)"#,
        )
        .bind(&$user.id)
        .bind(&$user.name)
        .bind(&$user.email)
        .bind($user.email_verified)
        .bind(&$user.image)
        .bind(Timestamp($user.created_at))
    };
}

/// A user-creating transaction's outcome: a taken email (or provider
/// account) is [`Error::UserAlreadyExists`].
fn created(result: std::result::Result<(), sqlx::Error>, user: User) -> Result<User> {
    match result {
        Ok(()) => Ok(user),
        Err(e) if is_unique_violation(&e) => Err(Error::UserAlreadyExists),
        Err(e) => Err(e.into()),
    }
}

/// Creates a user with no account at all, for a sign-in method that proves
/// the email itself (a magic link, an emailed code). A taken email is
/// [`Error::UserAlreadyExists`].
pub async fn create(db: &Database, new: NewUser<'_>, now: DateTime<Utc>) -> Result<User> {
    super::columns::check_values("user", &db.user_schema.fields, &new.fields)?;
    let user = user_row(db, &new, now);
    let result: std::result::Result<(), sqlx::Error> = on_pool!(db, |pool| {
        async {
            let mut tx = pool.begin().await?;
            insert_user!(&user).execute(&mut *tx).await?;
            write_fields!(db, &mut *tx, &user.id, &new.fields);
            tx.commit().await
        }
        .await
    });
    created(result, user)
}

/// Hands a user whose email was never proven to whoever just proved it (a
/// magic link, an emailed code): every way in that predates the proof (the
/// password, provider links, sessions) is removed and the email marked
/// verified, in one transaction, so the owner inherits nothing an earlier
/// claimant set up. Returns how many sessions ended; a user verified
/// meanwhile is left alone (0).
pub async fn claim_unverified(db: &Database, id: &str, now: DateTime<Utc>) -> Result<u64> {
    let _change = db.user_change_guard();
    let ended = on_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        let claimed = sqlx::query(
            r#"UPDATE "user" SET "emailVerified" = $2, "updatedAt" = $3
               WHERE "id" = $1 AND "emailVerified" = $4"#,
        )
        .bind(id)
        .bind(true)
        .bind(Timestamp(now))
        .bind(false)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(0);
        }
        sqlx::query(r#"DELETE FROM "account" WHERE "userId" = $1"#)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let ended = sqlx::query(r#"DELETE FROM "session" WHERE "userId" = $1"#)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        ended
    });
    db.user_changed(id).await;
    Ok(ended)
}

/// Creates a user and its credential account (`providerId = "credential"`,
/// `accountId` = the user id) in one transaction. A taken email is
/// [`Error::UserAlreadyExists`], also when two sign-ups race (S27).
#[doc(hidden)]
pub async fn create_with_password(
    db: &Database,
    new: NewUser<'_>,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<User> {
    super::columns::check_values("user", &db.user_schema.fields, &new.fields)?;
    let user = user_row(db, &new, now);
    let account_id = crate::crypto::generate_id();
    let result: std::result::Result<(), sqlx::Error> = on_pool!(db, |pool| {
        async {
            let mut tx = pool.begin().await?;
            // The insert comes first so SQLite takes the write lock at once and
            // waits (busy_timeout) instead of failing a read-to-write upgrade.
            insert_user!(&user).execute(&mut *tx).await?;
            write_fields!(db, &mut *tx, &user.id, &new.fields);
            sqlx::query(
                r#"INSERT INTO "account" ("id", "accountId", "providerId", "userId", "password", "createdAt", "updatedAt")
                   VALUES ($1, $2, 'credential', $2, $3, $4, $4)"#,
            )
            .bind(&account_id)
            .bind(&user.id)
            .bind(password_hash)
            .bind(Timestamp(now))
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        }
        .await
    });
    created(result, user)
}

/// Changes a user's name and/or image and the plugin columns set in
/// `fields`, in one transaction. A value a unique plugin column already
/// holds is [`Error::UserAlreadyExists`].
#[doc(hidden)]
pub async fn update_profile(
    db: &Database,
    id: &str,
    name: Option<&str>,
    image: Option<Option<&str>>,
    fields: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<()> {
    let _change = db.user_change_guard();
    const SQL: &str = r#"UPDATE "user" SET
            "name" = COALESCE($2, "name"),
            "image" = CASE WHEN $3 THEN $4 ELSE "image" END,
            "updatedAt" = $5
        WHERE "id" = $1"#;
    let result: std::result::Result<(), sqlx::Error> = on_pool!(db, |pool| {
        async {
            let mut tx = pool.begin().await?;
            sqlx::query(SQL)
                .bind(id)
                .bind(name)
                .bind(image.is_some())
                .bind(image.flatten())
                .bind(Timestamp(now))
                .execute(&mut *tx)
                .await?;
            write_fields!(db, &mut *tx, id, fields);
            tx.commit().await
        }
        .await
    });
    db.user_changed(id).await;
    match result {
        Ok(()) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(Error::UserAlreadyExists),
        Err(e) => Err(e.into()),
    }
}

/// Sets `emailVerified` and, when given, a new email address.
#[doc(hidden)]
pub async fn set_email(
    db: &Database,
    id: &str,
    email: &str,
    verified: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    let _change = db.user_change_guard();
    const SQL: &str =
        r#"UPDATE "user" SET "email" = $2, "emailVerified" = $3, "updatedAt" = $4 WHERE "id" = $1"#;
    let result = on_pool!(db, |pool| sqlx::query(SQL)
        .bind(id)
        .bind(email)
        .bind(verified)
        .bind(Timestamp(now))
        .execute(pool)
        .await
        .map(|_| ()));
    db.user_changed(id).await;
    match result {
        Ok(()) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(Error::UserAlreadyExists),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a user; sessions and accounts go with it (ON DELETE CASCADE).
/// Returns whether a user was deleted.
#[doc(hidden)]
pub async fn delete(db: &Database, id: &str) -> Result<bool> {
    let _change = db.user_change_guard();
    let done = on_pool!(db, |pool| sqlx::query(
        r#"DELETE FROM "user" WHERE "id" = $1"#
    )
    .bind(id)
    .execute(pool)
    .await?
    .rows_affected());
    db.user_changed(id).await;
    Ok(done > 0)
}

/// Creates a user with no password together with a provider account (social
/// sign-up), in one transaction. A taken email, or a provider account that a
/// concurrent sign-in linked first, is [`Error::UserAlreadyExists`] and
/// changes nothing.
pub async fn create_with_account(
    db: &Database,
    new: NewUser<'_>,
    account: &super::accounts::NewAccount<'_>,
    now: DateTime<Utc>,
) -> Result<User> {
    super::columns::check_values("user", &db.user_schema.fields, &new.fields)?;
    let user = user_row(db, &new, now);
    let account_id = crate::crypto::generate_id();
    let result: std::result::Result<(), sqlx::Error> = on_pool!(db, |pool| {
        async {
            let mut tx = pool.begin().await?;
            insert_user!(&user).execute(&mut *tx).await?;
            write_fields!(db, &mut *tx, &user.id, &new.fields);
            super::accounts::insert_account!(&account_id, &user.id, account, now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }
        .await
    });
    created(result, user)
}

/// Marks a user's current email address as verified (a provider vouched for it).
pub async fn mark_email_verified(db: &Database, id: &str, now: DateTime<Utc>) -> Result<()> {
    let _change = db.user_change_guard();
    const SQL: &str = r#"UPDATE "user" SET "emailVerified" = $2, "updatedAt" = $3 WHERE "id" = $1"#;
    on_pool!(db, |pool| sqlx::query(SQL)
        .bind(id)
        .bind(true)
        .bind(Timestamp(now))
        .execute(pool)
        .await
        .map(|_| ())?);
    db.user_changed(id).await;
    Ok(())
}

/// Sets plugin columns of a user (see
/// [`PluginSetup::user_field`](crate::plugins::PluginSetup::user_field)):
/// those in `values` that an installed plugin declared, of their type
/// (others are an [`Error::Validation`]), and `updatedAt`. The session cache
/// never answers with the row as it was. Returns whether the user exists.
pub async fn set_fields(
    db: &Database,
    id: &str,
    values: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<bool> {
    write_user_fields(db, id, values, now, false).await
}

/// [`set_fields`], and every session of the user ends, in one transaction
/// (a ban: no session outlives the write, none is left when it fails).
pub async fn set_fields_and_end_sessions(
    db: &Database,
    id: &str,
    values: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<bool> {
    write_user_fields(db, id, values, now, true).await
}

async fn write_user_fields(
    db: &Database,
    id: &str,
    values: &Map<String, Value>,
    now: DateTime<Utc>,
    end_sessions: bool,
) -> Result<bool> {
    super::columns::check_values("user", &db.user_schema.fields, values)?;
    let _change = db.user_change_guard();
    let result: std::result::Result<u64, sqlx::Error> = on_pool!(db, |pool| {
        async {
            let mut tx = pool.begin().await?;
            let found = sqlx::query(r#"UPDATE "user" SET "updatedAt" = $2 WHERE "id" = $1"#)
                .bind(id)
                .bind(Timestamp(now))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            write_fields!(db, &mut *tx, id, values);
            if end_sessions {
                sqlx::query(r#"DELETE FROM "session" WHERE "userId" = $1"#)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(found)
        }
        .await
    });
    db.user_changed(id).await;
    match result {
        Ok(found) => Ok(found > 0),
        Err(e) if is_unique_violation(&e) => Err(Error::UserAlreadyExists),
        Err(e) => Err(e.into()),
    }
}

/// How [`UserSearch::text`] matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TextMatch {
    /// Anywhere in the value.
    Contains,
    /// At its start.
    StartsWith,
    /// At its end.
    EndsWith,
}

/// Which users [`search`] returns, in which order: `UserSearch::default()`
/// is every user, oldest first.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct UserSearch<'a> {
    /// Only users whose `email` or `name` (the first) matches the text (the
    /// second), ignoring ASCII case.
    pub text: Option<(&'a str, &'a str, TextMatch)>,
    /// Only users whose column (core or a plugin's boolean or text field)
    /// equals the value (`true`/`false` for booleans), or differs with `false`.
    pub filter: Option<(&'a str, &'a str, bool)>,
    /// The column to sort by (`createdAt` when `None`).
    pub sort_by: Option<&'a str>,
    /// Newest (or greatest) first.
    pub descending: bool,
    /// At most this many.
    pub limit: Option<u32>,
    /// After skipping this many.
    pub offset: u32,
}

/// The users a [`UserSearch`] selects, and how many there are without its
/// limit and offset. A column that is neither a core column nor a plugin's
/// field is an [`Error::Validation`].
#[doc(hidden)]
pub async fn search(db: &Database, search: &UserSearch<'_>) -> Result<(Vec<User>, i64)> {
    use super::columns::ColumnKind;
    const CORE: &[&str] = &[
        "id",
        "name",
        "email",
        "emailVerified",
        "image",
        "createdAt",
        "updatedAt",
    ];
    let schema = &db.user_schema;
    let kind_of = |column: &str| -> Result<Option<ColumnKind>> {
        if CORE.contains(&column) {
            return Ok(None);
        }
        schema
            .fields
            .iter()
            .find(|f| f.name() == column)
            .map(|f| Some(f.kind()))
            .ok_or_else(|| Error::Validation(format!("unknown user field `{column}`")))
    };
    let mut conditions = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut flag: Option<bool> = None;
    if let Some((column, value, how)) = search.text {
        if !matches!(column, "email" | "name") {
            return Err(Error::Validation("searchField is email or name".into()));
        }
        let escaped = value
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
            .to_lowercase();
        let pattern = match how {
            TextMatch::Contains => format!("%{escaped}%"),
            TextMatch::StartsWith => format!("{escaped}%"),
            TextMatch::EndsWith => format!("%{escaped}"),
        };
        texts.push(pattern);
        conditions.push(format!(
            r#"lower("{column}") LIKE ${} ESCAPE '\'"#,
            texts.len()
        ));
    }
    if let Some((column, value, equal)) = search.filter {
        let op = if equal { "=" } else { "<>" };
        // A missing (NULL) value reads as the field's default: such rows match
        // when the default does.
        let or_missing = |default_matches: bool| {
            if default_matches == equal {
                format!(r#" OR "{column}" IS NULL"#)
            } else {
                String::new()
            }
        };
        match kind_of(column)? {
            Some(ColumnKind::Boolean { default }) => {
                let wanted = value == "true";
                flag = Some(wanted);
                let missing = or_missing(default == wanted);
                conditions.push(format!(r#"("{column}" {op} $B{missing})"#));
            }
            Some(ColumnKind::Text { default }) => {
                texts.push(value.to_owned());
                let missing = default.map_or(String::new(), |d| or_missing(d == value));
                conditions.push(format!(r#"("{column}" {op} ${}{missing})"#, texts.len()));
            }
            Some(_) => {
                return Err(Error::Validation("timestamps cannot be filtered on".into()));
            }
            None if column == "emailVerified" => {
                flag = Some(value == "true");
                conditions.push(format!(r#""{column}" {op} $B"#));
            }
            None => {
                texts.push(value.to_owned());
                conditions.push(format!(r#""{column}" {op} ${}"#, texts.len()));
            }
        }
    }
    // The boolean's placeholder comes after the texts.
    let flag_index = texts.len() + 1;
    let conditions: Vec<String> = conditions
        .into_iter()
        .map(|c| c.replace("$B", &format!("${flag_index}")))
        .collect();
    let sort = search.sort_by.unwrap_or("createdAt");
    kind_of(sort)?;
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let direction = if search.descending { "DESC" } else { "ASC" };
    let limit = search
        .limit
        .map_or(String::new(), |l| format!(" LIMIT {l}"));
    let offset = if search.offset > 0 {
        if limit.is_empty() && db.backend() == super::Backend::Sqlite {
            // SQLite takes an offset only after a limit; -1 is none.
            format!(" LIMIT -1 OFFSET {}", search.offset)
        } else if limit.is_empty() && db.backend() == super::Backend::MySql {
            // So does MySQL, where the largest limit is none.
            format!(" LIMIT 18446744073709551615 OFFSET {}", search.offset)
        } else {
            format!(" OFFSET {}", search.offset)
        }
    } else {
        String::new()
    };
    let sql = format!(
        r#"SELECT {USER_COLUMNS}{} FROM "user"{where_clause} ORDER BY "{sort}" {direction}, "id" {direction}{limit}{offset}"#,
        schema.columns
    );
    let count_sql = format!(r#"SELECT count(*) FROM "user"{where_clause}"#);
    let (users, total) = on_pool!(db, |pool| {
        let mut query = sqlx::query(&sql);
        let mut count = sqlx::query_scalar(&count_sql);
        for text in &texts {
            query = query.bind(text);
            count = count.bind(text);
        }
        if let Some(flag) = flag {
            query = query.bind(flag);
            count = count.bind(flag);
        }
        let mut users = Vec::new();
        for row in query.fetch_all(pool).await? {
            users.push(user_from_row!(row, schema));
        }
        let total: i64 = count.fetch_one(pool).await?;
        (users, total)
    });
    Ok((users, total))
}
