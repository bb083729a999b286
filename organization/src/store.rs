//! The plugin's tables (`organization`, `member`, `invitation`) and the
//! session's active organization, one SQL text for every backend.

use better_auth::Result;
use better_auth::store::{Database, Text, Timestamp, with_pool as on_pool};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// A new row id: 32 alphanumeric characters, as Better Auth's (unguessable:
/// invitation ids are what the emailed links carry).
pub(crate) fn new_id() -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    (0..32)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A column's value as a row struct holds it: text is read as [`Text`]
/// (MySQL's binary collation), the rest as it is.
trait Column<'r, R>: Sized {
    fn read(row: &'r R, column: &'r str) -> sqlx::Result<Self>;
}

impl<'r, R: sqlx::Row> Column<'r, R> for String
where
    &'r str: sqlx::ColumnIndex<R>,
    Text: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn read(row: &'r R, column: &'r str) -> sqlx::Result<Self> {
        row.try_get::<Text, _>(column).map(String::from)
    }
}

impl<'r, R: sqlx::Row> Column<'r, R> for Option<String>
where
    &'r str: sqlx::ColumnIndex<R>,
    Text: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn read(row: &'r R, column: &'r str) -> sqlx::Result<Self> {
        row.try_get::<Option<Text>, _>(column)
            .map(|text| text.map(String::from))
    }
}

impl<'r, R: sqlx::Row> Column<'r, R> for Timestamp
where
    &'r str: sqlx::ColumnIndex<R>,
    Timestamp: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn read(row: &'r R, column: &'r str) -> sqlx::Result<Self> {
        row.try_get(column)
    }
}

impl<'r, R: sqlx::Row> Column<'r, R> for Option<Timestamp>
where
    &'r str: sqlx::ColumnIndex<R>,
    Timestamp: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn read(row: &'r R, column: &'r str) -> sqlx::Result<Self> {
        row.try_get(column)
    }
}

/// `sqlx::FromRow` for a row struct, each field read from its column with
/// [`Column`].
macro_rules! from_row {
    ($ty:ident { $($field:ident: $column:literal),* $(,)? }) => {
        impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for $ty
        where
            String: Column<'r, R>,
            Option<String>: Column<'r, R>,
            Timestamp: Column<'r, R>,
            Option<Timestamp>: Column<'r, R>,
        {
            fn from_row(row: &'r R) -> sqlx::Result<Self> {
                Ok($ty {
                    $($field: Column::read(row, $column)?,)*
                })
            }
        }
    };
}

/// ISO-8601 with milliseconds, as the core timestamps.
pub(crate) fn iso(t: Timestamp) -> String {
    t.get().to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// A row of `organization`.
#[derive(Clone, Debug)]
pub(crate) struct Organization {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) slug: String,
    pub(crate) logo: Option<String>,
    pub(crate) created_at: Timestamp,
    /// JSON text.
    pub(crate) metadata: Option<String>,
}

from_row!(Organization {
    id: "id",
    name: "name",
    slug: "slug",
    logo: "logo",
    created_at: "createdAt",
    metadata: "metadata"
});

impl Organization {
    /// As Better Auth reads it back from the database: `metadata` is the
    /// stored text.
    pub(crate) fn json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "slug": self.slug,
            "logo": self.logo,
            "createdAt": iso(self.created_at),
            "metadata": self.metadata,
        })
    }

    /// As Better Auth answers a create or an update: `metadata` parsed, and
    /// left out when there is none.
    pub(crate) fn json_parsed(&self) -> Value {
        let mut value = self.json();
        let parsed = self
            .metadata
            .as_deref()
            .and_then(|m| serde_json::from_str::<Value>(m).ok());
        match parsed {
            Some(metadata) => value["metadata"] = metadata,
            None => {
                value.as_object_mut().map(|o| o.remove("metadata"));
            }
        }
        value
    }
}

/// A row of `member`, with its user's public fields.
#[derive(Clone, Debug)]
pub(crate) struct Member {
    pub(crate) id: String,
    pub(crate) organization_id: String,
    pub(crate) user_id: String,
    pub(crate) role: String,
    pub(crate) created_at: Timestamp,
    pub(crate) user_name: String,
    pub(crate) user_email: String,
    pub(crate) user_image: Option<String>,
}

from_row!(Member {
    id: "id",
    organization_id: "organizationId",
    user_id: "userId",
    role: "role",
    created_at: "createdAt",
    user_name: "user_name",
    user_email: "user_email",
    user_image: "user_image"
});

impl Member {
    /// The row alone.
    pub(crate) fn json(&self) -> Value {
        json!({
            "id": self.id,
            "organizationId": self.organization_id,
            "userId": self.user_id,
            "role": self.role,
            "createdAt": iso(self.created_at),
        })
    }

    /// The row and `user` (`id`, `name`, `email`, `image`).
    pub(crate) fn json_with_user(&self) -> Value {
        let mut value = self.json();
        value["user"] = json!({
            "id": self.user_id,
            "name": self.user_name,
            "email": self.user_email,
            "image": self.user_image,
        });
        value
    }
}

const MEMBER_COLUMNS: &str = r#"m."id", m."organizationId", m."userId", m."role", m."createdAt",
    u."name" AS user_name, u."email" AS user_email, u."image" AS user_image"#;

/// A row of `invitation`.
#[derive(Clone, Debug)]
pub(crate) struct Invitation {
    pub(crate) id: String,
    pub(crate) organization_id: String,
    pub(crate) email: String,
    pub(crate) role: Option<String>,
    pub(crate) status: String,
    pub(crate) expires_at: Timestamp,
    pub(crate) created_at: Timestamp,
    pub(crate) inviter_id: String,
    /// The teams (comma-separated ids) accepting adds the user to.
    pub(crate) team_id: Option<String>,
}

from_row!(Invitation {
    id: "id",
    organization_id: "organizationId",
    email: "email",
    role: "role",
    status: "status",
    expires_at: "expiresAt",
    created_at: "createdAt",
    inviter_id: "inviterId",
    team_id: "teamId"
});

impl Invitation {
    /// The row; `teamId` with teams on.
    pub(crate) fn json(&self, teams: bool) -> Value {
        let mut value = self.json_without_team();
        if teams {
            value["teamId"] = self.team_id.clone().into();
        }
        value
    }

    fn json_without_team(&self) -> Value {
        json!({
            "id": self.id,
            "organizationId": self.organization_id,
            "email": self.email,
            "role": self.role,
            "status": self.status,
            "expiresAt": iso(self.expires_at),
            "createdAt": iso(self.created_at),
            "inviterId": self.inviter_id,
        })
    }

    /// Pending and not expired at `now`.
    pub(crate) fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.status == PENDING && self.expires_at.get() > now
    }
}

/// An invitation nobody answered yet.
pub(crate) const PENDING: &str = "pending";

const INVITATION_COLUMNS: &str = r#""id", "organizationId", "email", "role", "status",
    "expiresAt", "createdAt", "inviterId", "teamId""#;

// Organizations.

/// Stores a new organization and its creator's membership in one
/// transaction; `false` when the slug is taken.
pub(crate) async fn create_organization(
    db: &Database,
    org: &Organization,
    member_id: &str,
    user_id: &str,
    role: &str,
) -> Result<bool> {
    const ORG: &str = r#"INSERT INTO "organization" ("id", "name", "slug", "logo", "createdAt", "metadata")
        VALUES ($1, $2, $3, $4, $5, $6)"#;
    const MEMBER: &str = r#"INSERT INTO "member" ("id", "organizationId", "userId", "role", "createdAt")
        VALUES ($1, $2, $3, $4, $5)"#;
    let result: std::result::Result<(), sqlx::Error> = on_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        sqlx::query(ORG)
            .bind(&org.id)
            .bind(&org.name)
            .bind(&org.slug)
            .bind(&org.logo)
            .bind(org.created_at)
            .bind(&org.metadata)
            .execute(&mut *tx)
            .await?;
        sqlx::query(MEMBER)
            .bind(member_id)
            .bind(&org.id)
            .bind(user_id)
            .bind(role)
            .bind(org.created_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
    .await);
    match result {
        Ok(()) => Ok(true),
        Err(e) if unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The organization with this id.
pub(crate) async fn organization(db: &Database, id: &str) -> Result<Option<Organization>> {
    const SQL: &str = r#"SELECT * FROM "organization" WHERE "id" = $1"#;
    Ok(on_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(id)
        .fetch_optional(pool)
        .await?))
}

/// The organization with this slug.
pub(crate) async fn organization_by_slug(
    db: &Database,
    slug: &str,
) -> Result<Option<Organization>> {
    const SQL: &str = r#"SELECT * FROM "organization" WHERE "slug" = $1"#;
    Ok(on_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(slug)
        .fetch_optional(pool)
        .await?))
}

/// Writes the organization's name, slug, logo and metadata; `false` when
/// the slug is taken.
pub(crate) async fn update_organization(db: &Database, org: &Organization) -> Result<bool> {
    const SQL: &str = r#"UPDATE "organization" SET "name" = $2, "slug" = $3, "logo" = $4,
        "metadata" = $5 WHERE "id" = $1"#;
    let result = on_pool!(db, |pool| sqlx::query(SQL)
        .bind(&org.id)
        .bind(&org.name)
        .bind(&org.slug)
        .bind(&org.logo)
        .bind(&org.metadata)
        .execute(pool)
        .await
        .map(|_| ()));
    match result {
        Ok(()) => Ok(true),
        Err(e) if unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Deletes an organization, its members and invitations, and makes it no
/// session's active organization.
pub(crate) async fn delete_organization(db: &Database, id: &str) -> Result<()> {
    const STEPS: [&str; 7] = [
        r#"UPDATE "session" SET "activeTeamId" = NULL WHERE "activeTeamId" IN
            (SELECT "id" FROM "team" WHERE "organizationId" = $1)"#,
        r#"DELETE FROM "teamMember" WHERE "teamId" IN
            (SELECT "id" FROM "team" WHERE "organizationId" = $1)"#,
        r#"DELETE FROM "team" WHERE "organizationId" = $1"#,
        r#"DELETE FROM "member" WHERE "organizationId" = $1"#,
        r#"DELETE FROM "invitation" WHERE "organizationId" = $1"#,
        r#"DELETE FROM "organization" WHERE "id" = $1"#,
        r#"UPDATE "session" SET "activeOrganizationId" = NULL WHERE "activeOrganizationId" = $1"#,
    ];
    let _change = db.change_guard();
    on_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        for sql in STEPS {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// The organizations a user is a member of, oldest membership first.
pub(crate) async fn organizations_of(db: &Database, user_id: &str) -> Result<Vec<Organization>> {
    const SQL: &str = r#"SELECT o.* FROM "organization" o JOIN "member" m ON m."organizationId" = o."id"
        WHERE m."userId" = $1 ORDER BY m."createdAt", o."id""#;
    Ok(on_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(user_id)
        .fetch_all(pool)
        .await?))
}

// Members.

/// The membership of a user in an organization.
pub(crate) async fn member_of(
    db: &Database,
    org_id: &str,
    user_id: &str,
) -> Result<Option<Member>> {
    let sql = format!(
        r#"SELECT {MEMBER_COLUMNS} FROM "member" m JOIN "user" u ON u."id" = m."userId"
        WHERE m."organizationId" = $1 AND m."userId" = $2"#
    );
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await?))
}

/// The member with this id, in this organization only.
pub(crate) async fn member_by_id(db: &Database, org_id: &str, id: &str) -> Result<Option<Member>> {
    let sql = format!(
        r#"SELECT {MEMBER_COLUMNS} FROM "member" m JOIN "user" u ON u."id" = m."userId"
        WHERE m."organizationId" = $1 AND m."id" = $2"#
    );
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(org_id)
        .bind(id)
        .fetch_optional(pool)
        .await?))
}

/// The member whose user has this (normalised) email, in this organization.
pub(crate) async fn member_by_email(
    db: &Database,
    org_id: &str,
    email: &str,
) -> Result<Option<Member>> {
    let sql = format!(
        r#"SELECT {MEMBER_COLUMNS} FROM "member" m JOIN "user" u ON u."id" = m."userId"
        WHERE m."organizationId" = $1 AND lower(u."email") = lower($2)"#
    );
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(org_id)
        .bind(email)
        .fetch_optional(pool)
        .await?))
}

/// How [`list_members`] pages, sorts and filters.
#[derive(Debug, Default)]
pub(crate) struct MemberQuery<'a> {
    pub(crate) limit: u32,
    pub(crate) offset: u32,
    /// A column of `member` (checked by the caller).
    pub(crate) sort_by: Option<&'static str>,
    pub(crate) descending: bool,
    /// A column of `member` (checked by the caller), the value, and whether
    /// it is `=` (else `<>`).
    pub(crate) filter: Option<(&'static str, &'a str, bool)>,
}

/// A page of an organization's members with their users, and how many match.
pub(crate) async fn list_members(
    db: &Database,
    org_id: &str,
    query: &MemberQuery<'_>,
) -> Result<(Vec<Member>, i64)> {
    let filter = match query.filter {
        Some((column, _, equal)) => {
            format!(r#" AND m."{column}" {} $2"#, if equal { "=" } else { "<>" })
        }
        None => String::new(),
    };
    let order = match query.sort_by {
        Some(column) => format!(
            r#"m."{column}" {}, m."id""#,
            if query.descending { "DESC" } else { "ASC" }
        ),
        None => r#"m."createdAt", m."id""#.to_owned(),
    };
    let (limit_at, offset_at) = if query.filter.is_some() {
        (3, 4)
    } else {
        (2, 3)
    };
    let page = format!(
        r#"SELECT {MEMBER_COLUMNS} FROM "member" m JOIN "user" u ON u."id" = m."userId"
        WHERE m."organizationId" = $1{filter} ORDER BY {order} LIMIT ${limit_at} OFFSET ${offset_at}"#
    );
    let count = format!(r#"SELECT count(*) FROM "member" m WHERE m."organizationId" = $1{filter}"#);
    let value = query.filter.map(|(_, v, _)| v);
    Ok(on_pool!(db, |pool| {
        let mut rows = sqlx::query_as(&page).bind(org_id);
        let mut total = sqlx::query_scalar(&count).bind(org_id);
        if let Some(value) = value {
            rows = rows.bind(value);
            total = total.bind(value);
        }
        let members: Vec<Member> = rows
            .bind(i64::from(query.limit))
            .bind(i64::from(query.offset))
            .fetch_all(pool)
            .await?;
        let total: i64 = total.fetch_one(pool).await?;
        (members, total)
    }))
}

/// The role values of an organization's members.
pub(crate) async fn member_roles(db: &Database, org_id: &str) -> Result<Vec<String>> {
    const SQL: &str = r#"SELECT "role" FROM "member" WHERE "organizationId" = $1"#;
    let roles: Vec<Text> = on_pool!(db, |pool| sqlx::query_scalar(SQL)
        .bind(org_id)
        .fetch_all(pool)
        .await?);
    Ok(roles.into_iter().map(String::from).collect())
}

/// How many members an organization has.
pub(crate) async fn count_members(db: &Database, org_id: &str) -> Result<i64> {
    const SQL: &str = r#"SELECT count(*) FROM "member" WHERE "organizationId" = $1"#;
    Ok(on_pool!(db, |pool| sqlx::query_scalar(SQL)
        .bind(org_id)
        .fetch_one(pool)
        .await?))
}

/// Takes the organization's row lock in a transaction (a no-op write): the
/// membership changes of one organization that check counts (owners,
/// members) run one after the other, on PostgreSQL and SQLite alike.
const LOCK_ORGANIZATION: &str = r#"UPDATE "organization" SET "name" = "name" WHERE "id" = $1"#;

/// Whether a role value holds the creator role.
fn holds_creator(role: &str) -> bool {
    crate::access::parse_role_list(role).contains(&crate::access::CREATOR_ROLE)
}

const MEMBER_ROLES: &str = r#"SELECT "id", "role" FROM "member" WHERE "organizationId" = $1"#;

/// Sets a member's role value; `false` (nothing changed) when the
/// organization would be left without an owner.
pub(crate) async fn set_member_role(
    db: &Database,
    org_id: &str,
    id: &str,
    role: &str,
) -> Result<bool> {
    const SQL: &str = r#"UPDATE "member" SET "role" = $2 WHERE "id" = $1"#;
    let done: std::result::Result<bool, sqlx::Error> = on_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        sqlx::query(LOCK_ORGANIZATION)
            .bind(org_id)
            .execute(&mut *tx)
            .await?;
        let roles: Vec<(Text, Text)> = sqlx::query_as(MEMBER_ROLES)
            .bind(org_id)
            .fetch_all(&mut *tx)
            .await?;
        let roles: Vec<(String, String)> = roles.into_iter().map(|(id, r)| (id.0, r.0)).collect();
        let owners_after = roles
            .iter()
            .filter(|(member, r)| {
                if member == id {
                    holds_creator(role)
                } else {
                    holds_creator(r)
                }
            })
            .count();
        if owners_after == 0 {
            return Ok(false);
        }
        sqlx::query(SQL)
            .bind(id)
            .bind(role)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
    .await);
    Ok(done?)
}

/// Deletes a membership and the user's memberships of the organization's
/// teams, and makes the organization and its teams no longer active in the
/// user's sessions; `false` (nothing changed) when it is the last owner's.
pub(crate) async fn delete_member(db: &Database, member: &Member) -> Result<bool> {
    const DELETE: &str = r#"DELETE FROM "member" WHERE "id" = $1"#;
    const BY_USER: [&str; 3] = [
        r#"DELETE FROM "teamMember" WHERE "userId" = $1 AND "teamId" IN
            (SELECT "id" FROM "team" WHERE "organizationId" = $2)"#,
        r#"UPDATE "session" SET "activeTeamId" = NULL WHERE "userId" = $1 AND "activeTeamId" IN
            (SELECT "id" FROM "team" WHERE "organizationId" = $2)"#,
        r#"UPDATE "session" SET "activeOrganizationId" = NULL
            WHERE "userId" = $1 AND "activeOrganizationId" = $2"#,
    ];
    const COUNTS: &str = r#"UPDATE "team" SET "memberCount" =
        (SELECT count(*) FROM "teamMember" t WHERE t."teamId" = "team"."id")
        WHERE "organizationId" = $1"#;
    let _change = db.change_guard();
    let done: std::result::Result<bool, sqlx::Error> = on_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        sqlx::query(LOCK_ORGANIZATION)
            .bind(&member.organization_id)
            .execute(&mut *tx)
            .await?;
        let roles: Vec<(Text, Text)> = sqlx::query_as(MEMBER_ROLES)
            .bind(&member.organization_id)
            .fetch_all(&mut *tx)
            .await?;
        let roles: Vec<(String, String)> = roles.into_iter().map(|(id, r)| (id.0, r.0)).collect();
        let other_owners = roles
            .iter()
            .filter(|(id, role)| *id != member.id && holds_creator(role))
            .count();
        if other_owners == 0
            && roles
                .iter()
                .any(|(id, r)| *id == member.id && holds_creator(r))
        {
            return Ok(false);
        }
        sqlx::query(DELETE)
            .bind(&member.id)
            .execute(&mut *tx)
            .await?;
        for sql in BY_USER {
            sqlx::query(sql)
                .bind(&member.user_id)
                .bind(&member.organization_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(COUNTS)
            .bind(&member.organization_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
    .await);
    Ok(done?)
}

// Invitations.

/// Stores a new invitation.
pub(crate) async fn insert_invitation(db: &Database, inv: &Invitation) -> Result<()> {
    let sql = format!(
        r#"INSERT INTO "invitation" ({INVITATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"#
    );
    on_pool!(db, |pool| sqlx::query(&sql)
        .bind(&inv.id)
        .bind(&inv.organization_id)
        .bind(&inv.email)
        .bind(&inv.role)
        .bind(&inv.status)
        .bind(inv.expires_at)
        .bind(inv.created_at)
        .bind(&inv.inviter_id)
        .bind(&inv.team_id)
        .execute(pool)
        .await
        .map(|_| ())?);
    Ok(())
}

/// The invitation with this id.
pub(crate) async fn invitation(db: &Database, id: &str) -> Result<Option<Invitation>> {
    let sql = format!(r#"SELECT {INVITATION_COLUMNS} FROM "invitation" WHERE "id" = $1"#);
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?))
}

/// Every invitation of an organization, oldest first.
pub(crate) async fn invitations_of(db: &Database, org_id: &str) -> Result<Vec<Invitation>> {
    let sql = format!(
        r#"SELECT {INVITATION_COLUMNS} FROM "invitation" WHERE "organizationId" = $1
        ORDER BY "createdAt", "id""#
    );
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(org_id)
        .fetch_all(pool)
        .await?))
}

/// The pending invitations to an address (normalised), each with its
/// organization's name, oldest first.
pub(crate) async fn pending_invitations_to(
    db: &Database,
    email: &str,
) -> Result<Vec<(Invitation, String)>> {
    let sql = format!(
        r#"SELECT i."id", i."organizationId", i."email", i."role", i."status", i."expiresAt",
            i."createdAt", i."inviterId", i."teamId", o."name" AS organization_name
        FROM "invitation" i JOIN "organization" o ON o."id" = i."organizationId"
        WHERE lower(i."email") = lower($1) AND i."status" = '{PENDING}'
        ORDER BY i."createdAt", i."id""#
    );
    struct Row {
        invitation: Invitation,
        organization_name: String,
    }
    impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for Row
    where
        Invitation: sqlx::FromRow<'r, R>,
        String: Column<'r, R>,
    {
        fn from_row(row: &'r R) -> sqlx::Result<Self> {
            Ok(Row {
                invitation: Invitation::from_row(row)?,
                organization_name: Column::read(row, "organization_name")?,
            })
        }
    }
    let rows: Vec<Row> = on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(email)
        .fetch_all(pool)
        .await?);
    Ok(rows
        .into_iter()
        .map(|r| (r.invitation, r.organization_name))
        .collect())
}

/// Moves an invitation from `from` to `to`; `false` when it is not in `from`
/// any more (answered meanwhile).
pub(crate) async fn set_invitation_status(
    db: &Database,
    id: &str,
    from: &str,
    to: &str,
) -> Result<bool> {
    const SQL: &str = r#"UPDATE "invitation" SET "status" = $3 WHERE "id" = $1 AND "status" = $2"#;
    let changed = on_pool!(db, |pool| sqlx::query(SQL)
        .bind(id)
        .bind(from)
        .bind(to)
        .execute(pool)
        .await?
        .rows_affected());
    Ok(changed == 1)
}

/// Moves a pending invitation's expiry (a resend).
pub(crate) async fn set_invitation_expiry(db: &Database, id: &str, at: Timestamp) -> Result<()> {
    const SQL: &str = r#"UPDATE "invitation" SET "expiresAt" = $2 WHERE "id" = $1"#;
    on_pool!(db, |pool| sqlx::query(SQL)
        .bind(id)
        .bind(at)
        .execute(pool)
        .await
        .map(|_| ())?);
    Ok(())
}

/// What [`accept_invitation`] did.
#[derive(Debug)]
pub(crate) enum Accepted {
    /// The invitation is accepted and the member added.
    Done,
    /// It was not pending any more.
    NotPending,
    /// The user is a member already (nothing changed).
    AlreadyMember,
    /// The organization has its limit of members (nothing changed).
    Full,
}

/// Accepts a pending invitation and adds its user as a member, in one
/// transaction: an invitation is accepted once, and an organization never
/// has more than `limit` members.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn accept_invitation(
    db: &Database,
    invitation_id: &str,
    member_id: &str,
    org_id: &str,
    user_id: &str,
    role: &str,
    limit: u32,
    now: Timestamp,
) -> Result<Accepted> {
    const STATUS: &str = r#"UPDATE "invitation" SET "status" = 'accepted'
        WHERE "id" = $1 AND "status" = 'pending'"#;
    const MEMBER: &str = r#"INSERT INTO "member" ("id", "organizationId", "userId", "role", "createdAt")
        VALUES ($1, $2, $3, $4, $5)"#;
    let outcome: std::result::Result<Accepted, sqlx::Error> = on_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        sqlx::query(LOCK_ORGANIZATION)
            .bind(org_id)
            .execute(&mut *tx)
            .await?;
        let members: i64 =
            sqlx::query_scalar(r#"SELECT count(*) FROM "member" WHERE "organizationId" = $1"#)
                .bind(org_id)
                .fetch_one(&mut *tx)
                .await?;
        if members >= i64::from(limit) {
            return Ok(Accepted::Full);
        }
        let moved = sqlx::query(STATUS)
            .bind(invitation_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if moved != 1 {
            return Ok(Accepted::NotPending);
        }
        let added = sqlx::query(MEMBER)
            .bind(member_id)
            .bind(org_id)
            .bind(user_id)
            .bind(role)
            .bind(now)
            .execute(&mut *tx)
            .await;
        match added {
            Ok(_) => {}
            Err(e) if unique_violation(&e) => return Ok(Accepted::AlreadyMember),
            Err(e) => return Err(e),
        }
        tx.commit().await?;
        Ok(Accepted::Done)
    }
    .await);
    Ok(outcome?)
}

// Teams.

/// A row of `team`.
#[derive(Clone, Debug)]
pub(crate) struct Team {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) organization_id: String,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Option<Timestamp>,
}

from_row!(Team {
    id: "id",
    name: "name",
    organization_id: "organizationId",
    created_at: "createdAt",
    updated_at: "updatedAt"
});

impl Team {
    pub(crate) fn json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "organizationId": self.organization_id,
            "createdAt": iso(self.created_at),
            "updatedAt": self.updated_at.map(iso),
        })
    }
}

const TEAM_COLUMNS: &str = r#""id", "name", "organizationId", "createdAt", "updatedAt""#;

/// A row of `teamMember`.
#[derive(Clone, Debug)]
pub(crate) struct TeamMember {
    pub(crate) id: String,
    pub(crate) team_id: String,
    pub(crate) user_id: String,
    pub(crate) created_at: Option<Timestamp>,
}

from_row!(TeamMember {
    id: "id",
    team_id: "teamId",
    user_id: "userId",
    created_at: "createdAt"
});

impl TeamMember {
    pub(crate) fn json(&self) -> Value {
        json!({
            "id": self.id,
            "teamId": self.team_id,
            "userId": self.user_id,
            "createdAt": self.created_at.map(iso),
        })
    }
}

const TEAM_MEMBER_COLUMNS: &str = r#""id", "teamId", "userId", "createdAt""#;

/// Stores a new team.
pub(crate) async fn insert_team(db: &Database, team: &Team) -> Result<()> {
    let sql = format!(r#"INSERT INTO "team" ({TEAM_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"#);
    on_pool!(db, |pool| sqlx::query(&sql)
        .bind(&team.id)
        .bind(&team.name)
        .bind(&team.organization_id)
        .bind(team.created_at)
        .bind(team.updated_at)
        .execute(pool)
        .await
        .map(|_| ())?);
    Ok(())
}

/// The team with this id, in this organization only.
pub(crate) async fn team_in(db: &Database, org_id: &str, id: &str) -> Result<Option<Team>> {
    let sql =
        format!(r#"SELECT {TEAM_COLUMNS} FROM "team" WHERE "organizationId" = $1 AND "id" = $2"#);
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(org_id)
        .bind(id)
        .fetch_optional(pool)
        .await?))
}

/// The team with this id.
pub(crate) async fn team(db: &Database, id: &str) -> Result<Option<Team>> {
    let sql = format!(r#"SELECT {TEAM_COLUMNS} FROM "team" WHERE "id" = $1"#);
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?))
}

/// An organization's teams, oldest first.
pub(crate) async fn teams_of(db: &Database, org_id: &str) -> Result<Vec<Team>> {
    let sql = format!(
        r#"SELECT {TEAM_COLUMNS} FROM "team" WHERE "organizationId" = $1 ORDER BY "createdAt", "id""#
    );
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(org_id)
        .fetch_all(pool)
        .await?))
}

/// The teams a user is a member of, oldest first.
pub(crate) async fn teams_of_user(db: &Database, user_id: &str) -> Result<Vec<Team>> {
    const SQL: &str = r#"SELECT t."id", t."name", t."organizationId", t."createdAt", t."updatedAt"
        FROM "team" t JOIN "teamMember" m ON m."teamId" = t."id"
        WHERE m."userId" = $1 ORDER BY t."createdAt", t."id""#;
    Ok(on_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(user_id)
        .fetch_all(pool)
        .await?))
}

/// Renames a team.
pub(crate) async fn update_team(db: &Database, team: &Team) -> Result<()> {
    const SQL: &str = r#"UPDATE "team" SET "name" = $2, "updatedAt" = $3 WHERE "id" = $1"#;
    on_pool!(db, |pool| sqlx::query(SQL)
        .bind(&team.id)
        .bind(&team.name)
        .bind(team.updated_at)
        .execute(pool)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Deletes a team and its memberships, takes it off pending invitations
/// (`invitations`: each id with its remaining teams) and out of sessions.
pub(crate) async fn delete_team(
    db: &Database,
    id: &str,
    invitations: &[(String, Option<String>)],
) -> Result<()> {
    const STEPS: [&str; 3] = [
        r#"UPDATE "session" SET "activeTeamId" = NULL WHERE "activeTeamId" = $1"#,
        r#"DELETE FROM "teamMember" WHERE "teamId" = $1"#,
        r#"DELETE FROM "team" WHERE "id" = $1"#,
    ];
    const INVITATION: &str = r#"UPDATE "invitation" SET "teamId" = $2 WHERE "id" = $1"#;
    let _change = db.change_guard();
    on_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        for sql in STEPS {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        for (invitation, teams) in invitations {
            sqlx::query(INVITATION)
                .bind(invitation)
                .bind(teams)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// A team's members, oldest first.
pub(crate) async fn team_members(db: &Database, team_id: &str) -> Result<Vec<TeamMember>> {
    let sql = format!(
        r#"SELECT {TEAM_MEMBER_COLUMNS} FROM "teamMember" WHERE "teamId" = $1 ORDER BY "createdAt", "id""#
    );
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(team_id)
        .fetch_all(pool)
        .await?))
}

/// A user's membership of a team.
pub(crate) async fn team_member(
    db: &Database,
    team_id: &str,
    user_id: &str,
) -> Result<Option<TeamMember>> {
    let sql = format!(
        r#"SELECT {TEAM_MEMBER_COLUMNS} FROM "teamMember" WHERE "teamId" = $1 AND "userId" = $2"#
    );
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(team_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await?))
}

async fn count_team(db: &Database, team_id: &str) -> Result<()> {
    const SQL: &str = r#"UPDATE "team" SET "memberCount" =
        (SELECT count(*) FROM "teamMember" WHERE "teamId" = $1) WHERE "id" = $1"#;
    on_pool!(db, |pool| sqlx::query(SQL)
        .bind(team_id)
        .execute(pool)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Adds a user to a team, or finds them there; `None` when the team has
/// `limit` members already.
pub(crate) async fn add_team_member(
    db: &Database,
    team_id: &str,
    user_id: &str,
    limit: Option<u32>,
    now: Timestamp,
) -> Result<Option<TeamMember>> {
    if let Some(found) = team_member(db, team_id, user_id).await? {
        return Ok(Some(found));
    }
    if let Some(limit) = limit {
        if team_members(db, team_id).await?.len() >= limit as usize {
            return Ok(None);
        }
    }
    let row = TeamMember {
        id: new_id(),
        team_id: team_id.to_owned(),
        user_id: user_id.to_owned(),
        created_at: Some(now),
    };
    let sql =
        format!(r#"INSERT INTO "teamMember" ({TEAM_MEMBER_COLUMNS}) VALUES ($1, $2, $3, $4)"#);
    let added = on_pool!(db, |pool| sqlx::query(&sql)
        .bind(&row.id)
        .bind(&row.team_id)
        .bind(&row.user_id)
        .bind(row.created_at)
        .execute(pool)
        .await
        .map(|_| ()));
    match added {
        Ok(()) => {}
        // Added meanwhile by another request.
        Err(e) if unique_violation(&e) => return team_member(db, team_id, user_id).await,
        Err(e) => return Err(e.into()),
    }
    count_team(db, team_id).await?;
    Ok(Some(row))
}

/// Removes a user from a team, and the team from their sessions.
pub(crate) async fn remove_team_member(db: &Database, team_id: &str, user_id: &str) -> Result<()> {
    const STEPS: [&str; 2] = [
        r#"DELETE FROM "teamMember" WHERE "teamId" = $1 AND "userId" = $2"#,
        r#"UPDATE "session" SET "activeTeamId" = NULL WHERE "activeTeamId" = $1 AND "userId" = $2"#,
    ];
    let _change = db.change_guard();
    on_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        for sql in STEPS {
            sqlx::query(sql)
                .bind(team_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    count_team(db, team_id).await
}
