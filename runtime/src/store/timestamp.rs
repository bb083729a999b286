//! Timestamps as Better Auth stores them: ISO-8601 text in SQLite
//! (`2026-11-27T05:33:53.502Z`), `timestamptz` in PostgreSQL, `datetime(3)`
//! (UTC) in MySQL.

pub(crate) use crate::models::format_timestamp;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

/// A point in time as stored in a `date` / `timestamptz` column: decodes
/// every form Better Auth's databases hold, encodes as Better Auth writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub(crate) DateTime<Utc>);

impl Timestamp {
    /// The timestamp of `t`.
    pub fn new(t: DateTime<Utc>) -> Self {
        Timestamp(t)
    }

    /// The point in time.
    pub fn get(self) -> DateTime<Utc> {
        self.0
    }
}

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

/// S59: what a stored time that cannot be read (a date without a time, text
/// that is no time at all, PostgreSQL's `infinity`, a year `chrono` cannot
/// hold) is read as: the Unix epoch, long past, so an expiry in it has
/// passed and a session or token with it counts as expired (fail closed)
/// rather than failing the request with a 500.
pub(crate) const UNREADABLE: DateTime<Utc> = DateTime::<Utc>::UNIX_EPOCH;

/// [`UNREADABLE`], said once per process in the log (with the value).
fn unreadable(what: &dyn std::fmt::Display) -> Timestamp {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            value = %what,
            "better-auth read a stored timestamp it cannot parse; it counts as long past \
             (expired). Further ones are not logged"
        );
    });
    Timestamp(UNREADABLE)
}

/// Reads the forms SQLite databases hold: RFC 3339, `YYYY-MM-DD HH:MM:SS[.fff]`
/// (SQLite's own, or PostgreSQL's text form with an offset), or a Unix time in
/// milliseconds or seconds. A date without a time is not a time: `None`.
fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    // PostgreSQL's text form (`2026-11-27 05:33:53.502+00`).
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z") {
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
            Ok(parse_timestamp(text)
                .map(Timestamp)
                .unwrap_or_else(|| unreadable(&text)))
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
            use sqlx::postgres::PgValueFormat;
            if value.format() == PgValueFormat::Binary {
                // Microseconds since 2000-01-01 UTC; `infinity` is i64::MAX and
                // years past chrono's range overflow: sqlx's own decoding panics
                // on both, so the arithmetic is checked here.
                let micros = <i64 as Decode<'r, Postgres>>::decode(value)?;
                let epoch_2000 = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single();
                return Ok(epoch_2000
                    .and_then(|e| e.checked_add_signed(chrono::TimeDelta::microseconds(micros)))
                    .filter(|_| micros != i64::MAX && micros != i64::MIN)
                    .map(Timestamp)
                    .unwrap_or_else(|| unreadable(&micros)));
            }
            let text = value.as_str()?.to_owned();
            // sqlx's text parser can panic too: only forms it reads safely reach it.
            Ok(parse_timestamp(&text)
                .map(Timestamp)
                .unwrap_or_else(|| unreadable(&text)))
        }
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    use sqlx::encode::IsNull;
    use sqlx::error::BoxDynError;
    use sqlx::mysql::{MySql, MySqlTypeInfo, MySqlValueRef};
    use sqlx::{Decode, Encode, Type, TypeInfo as _, ValueRef as _};

    impl Type<MySql> for Timestamp {
        // Sent as a DATETIME: a TIMESTAMP parameter (chrono's `DateTime<Utc>`)
        // stops at 2038-01-19, and the server stores NULL past it.
        fn type_info() -> MySqlTypeInfo {
            <chrono::NaiveDateTime as Type<MySql>>::type_info()
        }
        fn compatible(_ty: &MySqlTypeInfo) -> bool {
            // `datetime(3)` as the migrations create it; text and numbers
            // (a table adopted from elsewhere) are read below.
            true
        }
    }

    impl Encode<'_, MySql> for Timestamp {
        fn encode_by_ref(&self, buf: &mut Vec<u8>) -> Result<IsNull, BoxDynError> {
            // Milliseconds, as Better Auth writes them: `datetime(3)` would
            // round finer digits (up, on MySQL), making a time later than it was.
            let millis = self.0.timestamp_millis();
            let at = Utc.timestamp_millis_opt(millis).single().unwrap_or(self.0);
            <chrono::NaiveDateTime as Encode<MySql>>::encode(at.naive_utc(), buf)
        }
    }

    impl<'r> Decode<'r, MySql> for Timestamp {
        fn decode(value: MySqlValueRef<'r>) -> Result<Self, BoxDynError> {
            let name = value.type_info().name().to_owned();
            if matches!(name.as_str(), "DATETIME" | "TIMESTAMP" | "DATE") {
                // A zero date (`0000-00-00`) or one out of chrono's range is no time.
                return Ok(<DateTime<Utc> as Decode<'r, MySql>>::decode(value)
                    .map(Timestamp)
                    .unwrap_or_else(|_| unreadable(&name)));
            }
            if matches!(
                name.as_str(),
                "BIGINT" | "INT" | "BIGINT UNSIGNED" | "INT UNSIGNED"
            ) {
                let number = <i64 as Decode<'r, MySql>>::decode(value)?;
                return Ok(parse_timestamp(&number.to_string())
                    .map(Timestamp)
                    .unwrap_or_else(|| unreadable(&number)));
            }
            let text = <String as Decode<'r, MySql>>::decode(value)?;
            Ok(parse_timestamp(&text)
                .map(Timestamp)
                .unwrap_or_else(|| unreadable(&text)))
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
