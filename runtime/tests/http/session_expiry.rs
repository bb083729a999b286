//! When sessions end (S37, S39): activity on the app's routes keeps a browser
//! signed in, and stored expiry times compare correctly in every form the
//! runtime accepts. Through HTTP against a real server.

use std::time::Duration;

use better_auth_test_support::all_backends;

use crate::common::*;

// ---------------------------------------------------------------- S37

/// A browser's cookie jar for the session cookie: the value and when the
/// browser drops it (Max-Age from when it was set, by the server's clock).
struct Jar {
    cookie: String,
    expires: chrono::DateTime<chrono::Utc>,
}

impl Jar {
    fn take(&mut self, resp: &Resp, now: chrono::DateTime<chrono::Utc>) {
        for line in resp.set_cookies() {
            if !line.contains("session_token=") {
                continue;
            }
            self.cookie = line.split(';').next().unwrap().to_owned();
            let max_age: i64 = line
                .split("; ")
                .find_map(|a| a.strip_prefix("Max-Age="))
                .unwrap()
                .parse()
                .unwrap();
            self.expires = now + chrono::Duration::seconds(max_age);
        }
    }
}

#[tokio::test]
async fn s37_activity_on_app_routes_keeps_the_browser_signed_in() {
    use better_auth::Clock;
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = TestDb::open(backend).await else {
            continue;
        };
        let (srv, clock) = TestServer::start_with_clock(&db).await;
        let resp = srv.sign_up("ada@example.com").await;
        let mut jar = Jar {
            cookie: String::new(),
            expires: clock.now(),
        };
        jar.take(&resp, clock.now());
        // Twenty days of daily use: the page's server route (CurrentSession)
        // first, then the client's /get-session, as a browser app does.
        for day in 1..=20 {
            clock.advance(Duration::from_secs(24 * 3600 + 60));
            let now = clock.now();
            assert!(
                jar.expires > now,
                "day {day}: the browser dropped the cookie"
            );
            let me = srv
                .get("/api/me")
                .header("cookie", &jar.cookie)
                .send()
                .await;
            assert_eq!(me.status, 200, "day {day}");
            let session = srv
                .get("/api/auth/get-session")
                .header("cookie", &jar.cookie)
                .send()
                .await;
            assert_eq!(
                session.body["user"]["email"], "ada@example.com",
                "day {day}"
            );
            jar.take(&session, now);
        }
        db.drop_schema().await;
    }
}

// ---------------------------------------------------------------- S39

all_backends!(
    s39_stored_timestamps_compare_correctly_in_every_form,
    with_db,
    |db: TestDb| async move {
        let srv = TestServer::start_with(&db, Setup::new()).await;
        let ada = srv.user("ada@example.com").await;
        let me = srv.get("/api/auth/get-session").bearer(&ada).send().await;
        let user_id = me.body["user"]["id"].as_str().unwrap().to_owned();
        let now = chrono::Utc::now();
        let future = now + chrono::Duration::minutes(2);
        let past = now - chrono::Duration::minutes(2);
        let created = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        // (id, expiresAt as stored, still live)
        let mut rows: Vec<(String, StoredTime, bool)> = Vec::new();
        if db.database.backend() == better_auth::store::Backend::Sqlite {
            for (when, live) in [(future, true), (past, false)] {
                rows.push((
                    format!("iso-{live}"),
                    StoredTime::Text(when.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
                    live,
                ));
                rows.push((
                    format!("space-{live}"),
                    StoredTime::Text(when.format("%Y-%m-%d %H:%M:%S").to_string()),
                    live,
                ));
                rows.push((
                    format!("secs-{live}"),
                    StoredTime::Int(when.timestamp()),
                    live,
                ));
                rows.push((
                    format!("millis-{live}"),
                    StoredTime::Int(when.timestamp_millis()),
                    live,
                ));
            }
        } else {
            rows.push(("tz-true".into(), StoredTime::Typed(future), true));
            rows.push(("tz-false".into(), StoredTime::Typed(past), false));
        }
        for (id, expires, _) in &rows {
            insert_session(&db, id, expires, &created, &user_id).await;
        }
        // list-sessions shows exactly the live ones (and the real session).
        let listed = srv.get("/api/auth/list-sessions").bearer(&ada).send().await;
        let mut ids: Vec<String> = listed
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .filter(|id| rows.iter().any(|r| &r.0 == id))
            .collect();
        ids.sort();
        let mut live: Vec<String> = rows.iter().filter(|r| r.2).map(|r| r.0.clone()).collect();
        live.sort();
        assert_eq!(ids, live, "{}", listed.body);
        // `session revoke --all-expired` deletes exactly the expired ones.
        let deleted = better_auth::store::sessions::delete_expired(&db.database, now)
            .await
            .unwrap();
        assert_eq!(deleted as usize, rows.iter().filter(|r| !r.2).count());
        let left = better_auth::store::sessions::list_for_user(&db.database, &user_id)
            .await
            .unwrap();
        assert_eq!(left.len(), live.len() + 1, "{left:?}");
        assert_eq!(srv.get("/api/me").bearer(&ada).send().await.status, 200);
    }
);

enum StoredTime {
    Text(String),
    Int(i64),
    Typed(chrono::DateTime<chrono::Utc>),
}

async fn insert_session(db: &TestDb, id: &str, expires: &StoredTime, created: &str, user_id: &str) {
    const SQL: &str = r#"INSERT INTO "session" ("id", "expiresAt", "token", "createdAt", "updatedAt", "userId")
        VALUES ($1, $2, $3, $4, $4, $5)"#;
    let token = better_auth::crypto::token_digest(id);
    let raw = match expires {
        StoredTime::Typed(t) => {
            let session =
                better_auth::prelude::Session::new(id, token, user_id, *t, chrono::Utc::now());
            better_auth::store::sessions::create(&db.database, &session)
                .await
                .unwrap();
            return;
        }
        StoredTime::Text(text) => sqlx::query(SQL).bind(id).bind(text.clone()),
        StoredTime::Int(n) => sqlx::query(SQL).bind(id).bind(*n),
    };
    // A pool of its own on the same SQLite file, as another program writing it.
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    raw.bind(token)
        .bind(created)
        .bind(user_id)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}
