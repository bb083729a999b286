//! Row shapes as read from the database, converted into the public models.
//! Timestamps are read through [`Timestamp`] so every stored form parses.

use super::Timestamp;
use crate::models::{Account, Session, User};

#[derive(Debug, sqlx::FromRow)]
#[sqlx(rename_all = "camelCase")]
pub(crate) struct UserRow {
    id: String,
    name: String,
    email: String,
    email_verified: bool,
    image: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id,
            name: r.name,
            email: r.email,
            email_verified: r.email_verified,
            image: r.image,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
            fields: serde_json::Map::new(),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
#[sqlx(rename_all = "camelCase")]
pub(crate) struct SessionRow {
    id: String,
    token: String,
    user_id: String,
    expires_at: Timestamp,
    created_at: Timestamp,
    updated_at: Timestamp,
    ip_address: Option<String>,
    user_agent: Option<String>,
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Session {
            id: r.id,
            token: r.token,
            user_id: r.user_id,
            expires_at: r.expires_at.0,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
            ip_address: r.ip_address,
            user_agent: r.user_agent,
            fields: serde_json::Map::new(),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
#[sqlx(rename_all = "camelCase")]
pub(crate) struct AccountRow {
    id: String,
    account_id: String,
    provider_id: String,
    user_id: String,
    scope: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<AccountRow> for Account {
    fn from(r: AccountRow) -> Self {
        Account {
            id: r.id,
            account_id: r.account_id,
            provider_id: r.provider_id,
            user_id: r.user_id,
            scope: r.scope,
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
