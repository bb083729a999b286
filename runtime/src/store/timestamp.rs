//! Timestamps as Better Auth stores them: ISO-8601 text in SQLite
//! (`2026-11-27T05:33:53.502Z`), `timestamptz` in PostgreSQL.

pub(crate) use crate::models::format_timestamp;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

/// A point in time as stored in a `date` / `timestamptz` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub DateTime<Utc>);

impl From<Timestamp> for DateTime<Utc> {
    fn from(t: Timestamp) -> Self {
        t.0
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Timestamp(t)
    }
}

/// Reads the forms SQLite databases hold: RFC 3339, `YYYY-MM-DD HH:MM:SS[.fff]`
/// (SQLite's own), or a Unix time in milliseconds or seconds.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    let number: i64 = text.parse().ok()?;
    if number.abs() > 100_000_000_000 {
        Utc.timestamp_millis_opt(number).single()
    } else {
        Utc.timestamp_opt(number, 0).single()
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use sqlx::encode::IsNull;
    use sqlx::error::BoxDynError;
    use sqlx::sqlite::{Sqlite, SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
    use sqlx::{Decode, Encode, Type};

    impl Type<Sqlite> for Timestamp {
        fn type_info() -> SqliteTypeInfo {
            <String as Type<Sqlite>>::type_info()
        }
        fn compatible(_ty: &SqliteTypeInfo) -> bool {
            // Text, integers and SQLite's date affinities are all read below.
            true
        }
    }

    impl<'q> Encode<'q, Sqlite> for Timestamp {
        fn encode_by_ref(
            &self,
            buf: &mut Vec<SqliteArgumentValue<'q>>,
        ) -> Result<IsNull, BoxDynError> {
            <String as Encode<'q, Sqlite>>::encode(format_timestamp(&self.0), buf)
        }
    }

    impl<'r> Decode<'r, Sqlite> for Timestamp {
        fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
            let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
            parse_timestamp(text)
                .map(Timestamp)
                .ok_or_else(|| format!("unreadable timestamp `{text}`").into())
        }
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use sqlx::encode::IsNull;
    use sqlx::error::BoxDynError;
    use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef, Postgres};
    use sqlx::{Decode, Encode, Type};

    impl Type<Postgres> for Timestamp {
        fn type_info() -> PgTypeInfo {
            <DateTime<Utc> as Type<Postgres>>::type_info()
        }
    }

    impl Encode<'_, Postgres> for Timestamp {
        fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
            <DateTime<Utc> as Encode<Postgres>>::encode_by_ref(&self.0, buf)
        }
    }

    impl<'r> Decode<'r, Postgres> for Timestamp {
        fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
            <DateTime<Utc> as Decode<'r, Postgres>>::decode(value).map(Timestamp)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_stored_form() {
        let expected = Utc.with_ymd_and_hms(2026, 11, 27, 5, 33, 53).unwrap()
            + chrono::Duration::milliseconds(502);
        for text in [
            "2026-11-27T05:33:53.502Z",
            "2026-11-27T05:33:53.502+00:00",
            "2026-11-27 05:33:53.502",
            "1795757633502",
        ] {
            assert_eq!(parse_timestamp(text), Some(expected), "{text}");
        }
        assert_eq!(format_timestamp(&expected), "2026-11-27T05:33:53.502Z");
    }
}
