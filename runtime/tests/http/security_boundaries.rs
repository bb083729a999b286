//! S53, S54, S56, S58 and S59: email folding, the origin check before the rate
//! limit, text fields and image URLs, routes that need a session, and stored
//! times that cannot be read. One test (or pair) per item, named after it,
//! through HTTP against a real server.

use better_auth::plugins::{Plugin, PluginSetup, Route};
use better_auth::prelude::AuthUser;
use better_auth::rate_limit::RateLimitConfig;
use better_auth::{AuthContext, AuthRequest, AuthResponse};
use better_auth_test_support::all_backends;
use serde_json::{Value, json};

use crate::common::*;

/// Runs one SQL statement on the test database with a connection of its own,
/// as an operator (or an attacker with database access) would.
async fn exec_sql(db: &TestDb, sql: &str) {
    if db.url.starts_with("mysql:") {
        let mut conn = mysql_connection(&db.url).await;
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    } else if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

// ---------------------------------------------------------------- S53

// The Kelvin sign (U+212A) lower-cases to an ASCII `k` under Unicode rules.
all_backends!(
    s53_emails_fold_ascii_case_only,
    with_server,
    |srv: TestServer| async move {
        srv.user("kate@example.com").await;
        // ASCII letters still fold.
        assert_eq!(srv.sign_in("KATE@Example.COM", PASSWORD).await.status, 200);
        // An address that only Unicode case mapping makes equal is another address.
        let kelvin = "\u{212A}ate@example.com";
        let resp = srv.sign_in(kelvin, PASSWORD).await;
        assert_eq!(
            (resp.status, resp.code()),
            (401, "INVALID_EMAIL_OR_PASSWORD")
        );
        let resp = srv.sign_up(kelvin).await;
        assert_eq!(resp.status, 200, "a separate account: {}", resp.body);
        assert_eq!(resp.body["user"]["email"], kelvin);
        assert_ne!(
            resp.body["user"]["id"],
            srv.sign_in("kate@example.com", PASSWORD).await.body["user"]["id"]
        );
    }
);

// ---------------------------------------------------------------- S54

all_backends!(
    s54_cross_site_posts_do_not_spend_the_rate_limit,
    with_db,
    |db: TestDb| async move {
        let mut setup = Setup::new();
        setup.config = setup.config.rate_limit(RateLimitConfig::default());
        let srv = TestServer::start_with(&db, setup).await;
        srv.user("ada@example.com").await;
        // A foreign page posts to sign-in again and again (3 per 10 s is the limit).
        for i in 0..6 {
            let forged = srv
                .post("/api/auth/sign-in/email")
                .header("origin", "http://evil.com")
                .json(json!({ "email": "ada@example.com", "password": "wrong password!" }))
                .send()
                .await;
            assert_eq!(
                (forged.status, forged.code()),
                (403, "INVALID_ORIGIN"),
                "forged request {i}"
            );
            let cross = srv
                .post("/api/auth/sign-in/email")
                .header("sec-fetch-site", "cross-site")
                .json(json!({ "email": "ada@example.com", "password": "wrong password!" }))
                .send()
                .await;
            assert_eq!(cross.status, 403, "cross-site request {i}");
        }
        // The visitor's own sign-in is not held back by them.
        let own = srv
            .post("/api/auth/sign-in/email")
            .header("origin", ORIGIN)
            .json(json!({ "email": "ada@example.com", "password": PASSWORD }))
            .send()
            .await;
        assert_eq!(own.status, 200, "{}", own.body);
        db.database.close().await;
    }
);

// ---------------------------------------------------------------- S56

all_backends!(
    s56_names_and_images_refuse_control_bidi_and_non_web_urls,
    with_server,
    |srv: TestServer| async move {
        let sign_up = |name: &str, image: Option<&str>, email: &str| {
            let mut body = json!({ "name": name, "email": email, "password": PASSWORD });
            if let Some(image) = image {
                body["image"] = json!(image);
            }
            srv.post("/api/auth/sign-up/email").json(body).send()
        };
        let refused: &[(&str, Option<&str>)] = &[
            ("Ada\u{0}", None),
            ("Ada\nLovelace", None),
            ("Ada\u{1b}[2J", None),
            ("Ada \u{202E}ecalevoL", None),
            ("Ada \u{2066}x\u{2069}", None),
            ("Ada", Some("javascript:alert(1)")),
            ("Ada", Some("data:text/html,<script>alert(1)</script>")),
            ("Ada", Some("https://example.com/a\u{0}.png")),
            ("Ada", Some("//example.com/a.png")),
        ];
        for (i, (name, image)) in refused.iter().enumerate() {
            let resp = sign_up(name, *image, &format!("u{i}@example.com")).await;
            assert_eq!(
                (resp.status, resp.code()),
                (400, "VALIDATION_ERROR"),
                "{name:?} {image:?}: {}",
                resp.body
            );
            assert!(resp.body["message"].is_string(), "{}", resp.body);
        }
        // A NUL in a callback URL is refused before anything is stored.
        let resp = srv
            .post("/api/auth/sign-up/email")
            .json(
                json!({ "name": "Ada", "email": "cb@example.com", "password": PASSWORD,
                          "callbackURL": "/welcome\u{0}" }),
            )
            .send()
            .await;
        assert_eq!((resp.status, resp.code()), (403, "INVALID_CALLBACKURL"));

        let ok = sign_up(
            "Ada Lovelace",
            Some("https://example.com/ada.png"),
            "ada@example.com",
        )
        .await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        let token = ok.auth_token();
        for body in [
            json!({ "name": "Eve\u{0}" }),
            json!({ "name": "\u{202E}evE" }),
            json!({ "name": "Eve\u{7}" }),
            json!({ "image": "javascript:alert(1)" }),
            json!({ "image": "ftp://example.com/a.png" }),
            json!({ "image": "https://example.com/\u{0}" }),
        ] {
            let resp = srv
                .post("/api/auth/update-user")
                .bearer(&token)
                .json(body.clone())
                .send()
                .await;
            assert_eq!(
                (resp.status, resp.code()),
                (400, "VALIDATION_ERROR"),
                "{body}: {}",
                resp.body
            );
        }
        let session = srv.get("/api/auth/get-session").bearer(&token).send().await;
        assert_eq!(session.body["user"]["name"], "Ada Lovelace");
        assert_eq!(session.body["user"]["image"], "https://example.com/ada.png");
        // Names in other scripts, and http images, are fine.
        let resp = srv
            .post("/api/auth/update-user")
            .bearer(&token)
            .json(json!({ "name": "Ада Лавлейс", "image": "http://example.com/ada.png" }))
            .send()
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
    }
);

// ---------------------------------------------------------------- S58

/// A plugin whose route is declared as needing a session and whose handler
/// does not check for one itself.
struct Declared;

async fn declared(ctx: &AuthContext, request: AuthRequest) -> better_auth::Result<AuthResponse> {
    let email = match ctx.require_session(&request).await {
        Ok(session) => Value::String(session.user.email().to_owned()),
        Err(_) => Value::Null,
    };
    Ok(AuthResponse::json(
        &json!({ "handlerRan": true, "email": email }),
    ))
}

impl Plugin for Declared {
    fn id(&self) -> &'static str {
        "declared"
    }

    fn install(&self, setup: &mut PluginSetup) {
        setup.route(
            Route::new(
                better_auth::http::Method::POST,
                "/declared",
                "Needs a session",
                |ctx, request| Box::pin(declared(ctx, request)),
            )
            .authenticated(),
        );
    }
}

all_backends!(
    s58_authenticated_routes_refuse_requests_without_a_session,
    with_db,
    |db: TestDb| async move {
        let mut setup = Setup::new();
        setup.extend = |builder| builder.plugin(Declared);
        let srv = TestServer::start_with(&db, setup).await;
        let token = srv.user("ada@example.com").await;

        let anonymous = srv.post("/api/auth/declared").json(json!({})).send().await;
        assert_eq!(
            (anonymous.status, anonymous.code()),
            (401, "UNAUTHORIZED"),
            "{}",
            anonymous.body
        );
        let forged = srv
            .post("/api/auth/declared")
            .bearer("not-a-session-token")
            .json(json!({}))
            .send()
            .await;
        assert_eq!(forged.status, 401, "{}", forged.body);

        let signed_in = srv
            .post("/api/auth/declared")
            .bearer(&token)
            .json(json!({}))
            .send()
            .await;
        assert_eq!(signed_in.status, 200, "{}", signed_in.body);
        assert_eq!(signed_in.body["handlerRan"], true);
        assert_eq!(signed_in.body["email"], "ada@example.com");

        // After sign-out the same token is refused before the handler.
        srv.post("/api/auth/sign-out").bearer(&token).send().await;
        let after = srv
            .post("/api/auth/declared")
            .bearer(&token)
            .json(json!({}))
            .send()
            .await;
        assert_eq!(after.status, 401, "{}", after.body);
        db.database.close().await;
    }
);

// ---------------------------------------------------------------- S59

/// Values a stored time can hold that are not a readable time: a date
/// without a time and garbage on SQLite (text columns); on PostgreSQL
/// (`timestamptz`), infinity and a year past what the runtime can represent.
fn unreadable_times(db: &TestDb) -> &'static [&'static str] {
    if db.url.starts_with("sqlite:") {
        &["2999-12-31", "not a time", ""]
    } else if db.url.starts_with("mysql:") {
        // A zero date, and a date with a zero month: no point in time.
        &["0000-00-00 00:00:00", "2999-00-01 00:00:00"]
    } else {
        &["infinity", "290000-01-01 00:00:00+00", "-infinity"]
    }
}

all_backends!(
    s59_unreadable_session_times_count_as_expired,
    with_db,
    |db: TestDb| async move {
        let srv = TestServer::start_with(&db, Setup::new()).await;
        for (i, value) in unreadable_times(&db).iter().enumerate() {
            for column in ["expiresAt", "createdAt"] {
                let email = format!("u{i}-{column}@example.com");
                let token = srv.user(&email).await;
                exec_sql(
                    &db,
                    &format!(
                        r#"UPDATE "session" SET "{column}" = '{value}' WHERE "userId" =
                           (SELECT "id" FROM "user" WHERE "email" = '{}')"#,
                        email.to_lowercase()
                    ),
                )
                .await;
                let session = srv.get("/api/auth/get-session").bearer(&token).send().await;
                assert_eq!(
                    (session.status, &session.body),
                    (200, &Value::Null),
                    "{column} = {value:?}"
                );
                let me = srv.get("/api/me").bearer(&token).send().await;
                assert_eq!(me.status, 401, "{column} = {value:?}: {}", me.body);
                let list = srv
                    .get("/api/auth/list-sessions")
                    .bearer(&token)
                    .send()
                    .await;
                assert_eq!(list.status, 401, "{column} = {value:?}: {}", list.body);
            }
        }
        // An unreadable time on the user row is no reason for a 500 either.
        let token = srv.user("ada@example.com").await;
        let value = unreadable_times(&db)[0];
        exec_sql(
            &db,
            &format!(
                r#"UPDATE "user" SET "createdAt" = '{value}' WHERE "email" = 'ada@example.com'"#
            ),
        )
        .await;
        let session = srv.get("/api/auth/get-session").bearer(&token).send().await;
        assert_eq!(session.status, 200, "{}", session.body);
        assert_eq!(session.body["user"]["email"], "ada@example.com");
        // Sign-in still works and issues a session that reads.
        let resp = srv.sign_in("ada@example.com", PASSWORD).await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        db.database.close().await;
    }
);
