//! The rows of Better Auth's core tables, as the runtime and its users see them.

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

/// A timestamp as Better Auth writes it, on the wire and in SQLite:
/// ISO-8601 UTC with milliseconds (`2026-11-27T05:33:53.502Z`).
pub(crate) fn format_timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Serialises timestamps as Better Auth does (see [`format_timestamp`]).
pub(crate) fn iso_millis<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_timestamp(t))
}

/// A row of the `user` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct User {
    /// Primary key.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Lower-cased email address, unique.
    pub email: String,
    /// Whether the address has been confirmed.
    pub email_verified: bool,
    /// Avatar URL.
    pub image: Option<String>,
    /// When the user was created.
    #[serde(serialize_with = "iso_millis")]
    pub created_at: DateTime<Utc>,
    /// When the user was last changed.
    #[serde(serialize_with = "iso_millis")]
    pub updated_at: DateTime<Utc>,
    /// The columns plugins add to the user (`twoFactorEnabled`, `username`,
    /// ...; see [`Column`](crate::plugins::Column)), by name; in the
    /// JSON they sit beside the core fields. Empty without such plugins.
    #[serde(flatten)]
    #[schema(ignore)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// A row of the `session` table. `token` is the SHA-256 digest of the token
/// the client holds; the token itself is never stored (S11).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Session {
    /// Primary key.
    pub id: String,
    /// Hex SHA-256 of the session token.
    pub token: String,
    /// The user this session signs in.
    pub user_id: String,
    /// When the session stops being valid.
    #[serde(serialize_with = "iso_millis")]
    pub expires_at: DateTime<Utc>,
    /// When the session was created (sign-in time).
    #[serde(serialize_with = "iso_millis")]
    pub created_at: DateTime<Utc>,
    /// When the session was last extended.
    #[serde(serialize_with = "iso_millis")]
    pub updated_at: DateTime<Utc>,
    /// Client IP address at sign-in.
    pub ip_address: Option<String>,
    /// Client user agent at sign-in.
    pub user_agent: Option<String>,
    /// The columns plugins add to the session (`impersonatedBy`,
    /// `activeOrganizationId`, ...; see [`Column`](crate::plugins::Column)),
    /// by name; in the JSON they sit beside the core fields. Empty without
    /// such plugins.
    #[serde(flatten)]
    #[schema(ignore)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// A row of the `account` table: one way of signing in for a user.
/// Email/password accounts have `provider_id = "credential"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Account {
    /// Primary key.
    pub id: String,
    /// The id of the user at the provider (the user id for credentials).
    pub account_id: String,
    /// `credential` for email/password, else the OAuth provider.
    pub provider_id: String,
    /// The user this account belongs to.
    pub user_id: String,
    /// Granted OAuth scopes, comma separated.
    #[serde(skip)]
    pub scope: Option<String>,
    /// When the account was linked.
    #[serde(serialize_with = "iso_millis")]
    pub created_at: DateTime<Utc>,
    /// When the account was last changed.
    #[serde(serialize_with = "iso_millis")]
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// A user with an unverified email and no image, last changed when it
    /// was created. The other fields are public: set them on the result.
    /// Users are stored by the sign-up routes and the `store` functions;
    /// this is for tests and fakes.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        email: impl Into<String>,
        created_at: DateTime<Utc>,
    ) -> Self {
        User {
            id: id.into(),
            name: name.into(),
            email: email.into(),
            email_verified: false,
            image: None,
            created_at,
            updated_at: created_at,
            fields: serde_json::Map::new(),
        }
    }

    /// A plugin column's value (see [`User::fields`]): `None` when no
    /// installed plugin declares `name`.
    ///
    /// ```
    /// # let user = better_auth::prelude::User::new("u1", "Ada", "ada@example.com", chrono::Utc::now());
    /// let two_factor = user.field("twoFactorEnabled").and_then(|v| v.as_bool()).unwrap_or(false);
    /// # assert!(!two_factor);
    /// ```
    pub fn field(&self, name: &str) -> Option<&serde_json::Value> {
        self.fields.get(name)
    }
}

impl Session {
    /// A session of `user_id` stored under `token` (the token's digest, see
    /// the type's documentation), created at `created_at` and last extended
    /// then, with no IP address or user agent. The other fields are public:
    /// set them on the result.
    pub fn new(
        id: impl Into<String>,
        token: impl Into<String>,
        user_id: impl Into<String>,
        expires_at: DateTime<Utc>,
        created_at: DateTime<Utc>,
    ) -> Self {
        Session {
            id: id.into(),
            token: token.into(),
            user_id: user_id.into(),
            expires_at,
            created_at,
            updated_at: created_at,
            ip_address: None,
            user_agent: None,
            fields: serde_json::Map::new(),
        }
    }

    /// A plugin column's value (see [`Session::fields`]): `None` when no
    /// installed plugin declares it.
    pub fn field(&self, name: &str) -> Option<&serde_json::Value> {
        self.fields.get(name)
    }
}

impl Account {
    /// Scopes as a list, as the wire format returns them.
    pub fn scopes(&self) -> Vec<String> {
        self.scope
            .as_deref()
            .unwrap_or("")
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// Read access to a user, for handlers that take `CurrentSession`.
pub trait AuthUser {
    /// The user's id.
    fn id(&self) -> &str;
    /// The user's (lower-cased) email address.
    fn email(&self) -> &str;
    /// The user's display name.
    fn name(&self) -> &str;
    /// Whether the email address has been verified.
    fn email_verified(&self) -> bool;
    /// The avatar URL, if any.
    fn image(&self) -> Option<&str>;
}

impl AuthUser for User {
    fn id(&self) -> &str {
        &self.id
    }
    fn email(&self) -> &str {
        &self.email
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn email_verified(&self) -> bool {
        self.email_verified
    }
    fn image(&self) -> Option<&str> {
        self.image.as_deref()
    }
}

/// Read access to a session.
pub trait AuthSession {
    /// The session's id.
    fn id(&self) -> &str;
    /// The id of the signed-in user.
    fn user_id(&self) -> &str;
    /// When the session expires.
    fn expires_at(&self) -> DateTime<Utc>;
    /// When the session was created.
    fn created_at(&self) -> DateTime<Utc>;
}

impl AuthSession for Session {
    fn id(&self) -> &str {
        &self.id
    }
    fn user_id(&self) -> &str {
        &self.user_id
    }
    fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}
