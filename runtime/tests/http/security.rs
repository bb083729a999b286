//! Security requirements of SECURITY.md, one test (or pair) per item, named after it.

use std::sync::Arc;
use std::time::Duration;

use better_auth::plugins::EmailPasswordPlugin;
use better_auth::store::Database;
use better_auth::{AuthConfig, BetterAuth, ManualClock, SessionConfig};
use better_auth_test_support::all_backends;
use serde_json::json;

use crate::common::*;

async fn sign_up_with_password(srv: &TestServer, email: &str, password: &str) -> Resp {
    srv.post("/api/auth/sign-up/email")
        .json(json!({ "name": "Ada", "email": email, "password": password }))
        .send()
        .await
}

all_backends!(
    s01_password_length_bounds,
    with_server,
    |srv: TestServer| async move {
        let short = sign_up_with_password(&srv, "a@example.com", "1234567").await;
        assert_eq!((short.status, short.code()), (400, "PASSWORD_TOO_SHORT"));
        // Seven code points that are fourteen bytes are still too short.
        let short = sign_up_with_password(&srv, "b@example.com", "ééééééé").await;
        assert_eq!(short.code(), "PASSWORD_TOO_SHORT");
        assert_eq!(
            sign_up_with_password(&srv, "c@example.com", "k9#Lq2!v")
                .await
                .status,
            200
        );
        assert_eq!(
            sign_up_with_password(&srv, "d@example.com", &"xq".repeat(64))
                .await
                .status,
            200
        );
        let long = sign_up_with_password(&srv, "e@example.com", &"x".repeat(129)).await;
        assert_eq!((long.status, long.code()), (400, "PASSWORD_TOO_LONG"));
        // Oversized passwords are refused before hashing: sign-in spends no verification.
        // (Bodies over 64 KiB are refused before that, S36.)
        let before = srv.auth.password_hasher().verification_count();
        let resp = srv.sign_in("c@example.com", &"x".repeat(60_000)).await;
        assert_eq!(resp.status, 401);
        assert_eq!(srv.auth.password_hasher().verification_count(), before);
    }
);

all_backends!(
    s02_passwords_are_never_trimmed_truncated_or_case_folded,
    with_server,
    |srv: TestServer| async move {
        let password = "  Tr0ub4dor & 3  ";
        assert_eq!(
            sign_up_with_password(&srv, "ada@example.com", password)
                .await
                .status,
            200
        );
        assert_eq!(
            srv.sign_in("ada@example.com", password.trim()).await.status,
            401
        );
        assert_eq!(
            srv.sign_in("ada@example.com", &password.to_lowercase())
                .await
                .status,
            401
        );
        assert_eq!(
            srv.sign_in("ada@example.com", &password[..10]).await.status,
            401
        );
        // No composition rules: all-lowercase letters are fine.
        assert_eq!(
            sign_up_with_password(&srv, "bob@example.com", "quietmeadowfox")
                .await
                .status,
            200
        );
        assert_eq!(srv.sign_in("ada@example.com", password).await.status, 200);
    }
);

all_backends!(
    s04_argon2id_owasp_parameters_in_phc_format,
    with_server,
    |srv: TestServer| async move {
        let token = srv.user("ada@example.com").await;
        let me = srv.get("/api/auth/get-session").bearer(&token).send().await;
        let user_id = me.body["user"]["id"].as_str().unwrap();
        let hash = better_auth::store::accounts::credential_password(srv.auth.database(), user_id)
            .await
            .unwrap()
            .unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }
);

/// Hashing runs off the async workers: on a single-threaded runtime, a task
/// ticking every millisecond keeps ticking while several sign-ins hash.
#[test]
fn s04_hashing_runs_off_the_async_workers() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        better_auth::run_migrations(&db).await.unwrap();
        let auth = Arc::new(
            BetterAuth::new(AuthConfig::new(SECRET))
                .database(db)
                .plugin(EmailPasswordPlugin::new())
                .build()
                .await
                .unwrap(),
        );
        let hasher = auth.password_hasher().clone();
        // One hash alone, to know what "blocked" would look like.
        let started = std::time::Instant::now();
        hasher.hash("one password to time").await.unwrap();
        let one_hash = started.elapsed();

        let ticks = Arc::new(std::sync::Mutex::new(Vec::new()));
        let ticker = {
            let ticks = ticks.clone();
            tokio::spawn(async move {
                loop {
                    ticks.lock().unwrap().push(std::time::Instant::now());
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            })
        };
        let jobs: Vec<_> = (0..6)
            .map(|i| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.hash(&format!("password number {i}")).await })
            })
            .collect();
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        ticker.abort();
        let ticks = ticks.lock().unwrap();
        let longest_gap = ticks.windows(2).map(|w| w[1] - w[0]).max().unwrap();
        // Six hashes inline would stop the ticker for whole hashes at a time.
        assert!(
            longest_gap < one_hash,
            "the runtime stalled {longest_gap:?} (one hash takes {one_hash:?})"
        );
        assert!(ticks.len() > 5);
    });
}

all_backends!(
    s06_identical_failure_responses,
    with_server,
    |srv: TestServer| async move {
        srv.user("ada@example.com").await;
        let unknown = srv.sign_in("nobody@example.com", PASSWORD).await;
        let wrong = srv.sign_in("ada@example.com", "wrong password here").await;
        assert_eq!(unknown.status, 401);
        assert_eq!(unknown.status, wrong.status);
        assert_eq!(unknown.body, wrong.body);
        assert_eq!(
            unknown.body,
            json!({ "message": "Invalid email or password", "code": "INVALID_EMAIL_OR_PASSWORD" })
        );
        assert_eq!(unknown.header("content-type"), wrong.header("content-type"));
        assert!(unknown.set_cookies().is_empty() && wrong.set_cookies().is_empty());
    }
);

all_backends!(
    s07_unknown_email_costs_one_verification,
    with_server,
    |srv: TestServer| async move {
        srv.user("ada@example.com").await;
        let hasher = srv.auth.password_hasher();
        let before = hasher.verification_count();
        srv.sign_in("nobody@example.com", PASSWORD).await;
        assert_eq!(hasher.verification_count(), before + 1, "unknown email");
        srv.sign_in("ada@example.com", "wrong password here").await;
        assert_eq!(hasher.verification_count(), before + 2, "wrong password");
    }
);

all_backends!(
    s11_tokens_are_256_bit_and_only_digests_are_stored,
    with_server,
    |srv: TestServer| async move {
        let resp = srv.sign_up("ada@example.com").await;
        let token = resp.body["token"].as_str().unwrap().to_owned();
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&token)
            .unwrap();
        assert!(bytes.len() >= 32, "token has {} bytes", bytes.len());
        let user_id = resp.body["user"]["id"].as_str().unwrap();
        let stored = better_auth::store::sessions::list_for_user(srv.auth.database(), user_id)
            .await
            .unwrap();
        assert_eq!(stored.len(), 1);
        assert_ne!(stored[0].token, token, "the raw token is not stored");
        assert_eq!(stored[0].token, better_auth::crypto::token_digest(&token));
        // The stored digest is not a usable session token.
        let resp = srv
            .get("/api/auth/get-session")
            .bearer(&stored[0].token)
            .send()
            .await;
        assert_eq!(resp.body, serde_json::Value::Null);
        // list-sessions shows the digest as `token`.
        let listed = srv
            .get("/api/auth/list-sessions")
            .bearer(&token)
            .send()
            .await;
        assert_eq!(listed.body[0]["token"], stored[0].token.as_str());
    }
);

all_backends!(
    s12_new_token_per_sign_in_and_replay_after_sign_out_fails,
    with_server,
    |srv: TestServer| async move {
        srv.user("ada@example.com").await;
        let a = srv.sign_in("ada@example.com", PASSWORD).await;
        let b = srv.sign_in("ada@example.com", PASSWORD).await;
        assert_ne!(a.body["token"], b.body["token"]);
        let cookie = a.session_cookie();
        let bearer = a.auth_token();
        let resp = srv
            .post("/api/auth/sign-out")
            .cookie(&cookie)
            .json(json!({}))
            .send()
            .await;
        assert_eq!(resp.status, 200);
        assert_eq!(
            srv.get("/api/me")
                .header("cookie", &cookie)
                .send()
                .await
                .status,
            401
        );
        assert_eq!(srv.get("/api/me").bearer(&bearer).send().await.status, 401);
        assert_eq!(
            srv.get("/api/auth/list-sessions")
                .bearer(&bearer)
                .send()
                .await
                .status,
            401
        );
        assert_eq!(
            srv.get("/api/me")
                .bearer(&b.auth_token())
                .send()
                .await
                .status,
            200
        );
    }
);

/// S13 with an injected clock: sessions expire after 7 days and slide forward
/// when used more than a day after their last refresh.
#[tokio::test]
async fn s13_sessions_expire_and_slide() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = TestDb::open(backend).await else {
            continue;
        };
        let (srv, clock) = TestServer::start_with_clock(&db).await;
        let token = srv.user("ada@example.com").await;
        let first = srv.get("/api/auth/get-session").bearer(&token).send().await;
        let expires = first.body["session"]["expiresAt"]
            .as_str()
            .unwrap()
            .to_owned();

        // Half a day later: still valid, not refreshed.
        clock.advance(Duration::from_secs(12 * 3600));
        let resp = srv.get("/api/auth/get-session").bearer(&token).send().await;
        assert_eq!(resp.body["session"]["expiresAt"], expires.as_str());
        assert!(resp.set_cookies().is_empty());

        // Two days in: refreshed (new expiry, cookie re-sent).
        clock.advance(Duration::from_secs(36 * 3600));
        let resp = srv.get("/api/auth/get-session").bearer(&token).send().await;
        let slid = resp.body["session"]["expiresAt"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(slid > expires, "{slid} should be after {expires}");
        assert!(
            resp.set_cookies()
                .iter()
                .any(|c| c.contains("Max-Age=604800"))
        );

        // Seven days after the refresh: expired, for every reader.
        clock.advance(Duration::from_secs(7 * 24 * 3600 + 1));
        let resp = srv.get("/api/auth/get-session").bearer(&token).send().await;
        assert_eq!(resp.body, serde_json::Value::Null);
        assert_eq!(srv.get("/api/me").bearer(&token).send().await.status, 401);
        db.drop_schema().await;
    }
}

#[tokio::test]
async fn s13_expiry_is_configurable() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let clock = ManualClock::new();
    let mut setup = Setup::new();
    setup.config = setup
        .config
        .clock(Arc::new(clock.clone()))
        .session(SessionConfig::default().expires_in(Duration::from_secs(3600)));
    let srv = TestServer::start_with(&db, setup).await;
    let resp = srv.sign_up("ada@example.com").await;
    assert!(resp.session_cookie().len() > 30);
    assert!(resp.set_cookies()[0].contains("Max-Age=3600"));
    clock.advance(Duration::from_secs(3601));
    assert_eq!(
        srv.get("/api/me")
            .bearer(&resp.auth_token())
            .send()
            .await
            .status,
        401
    );
}

all_backends!(
    s15_cookie_attributes,
    with_server,
    |srv: TestServer| async move {
        let resp = srv.sign_up("ada@example.com").await;
        let cookie = resp
            .set_cookies()
            .into_iter()
            .find(|c| c.starts_with("better-auth.session_token="))
            .unwrap();
        let attrs: Vec<&str> = cookie.split("; ").skip(1).collect();
        assert!(attrs.contains(&"HttpOnly"));
        assert!(attrs.contains(&"SameSite=Lax"));
        assert!(attrs.contains(&"Path=/"));
        assert!(!attrs.iter().any(|a| a.starts_with("Domain")));
        assert!(!attrs.contains(&"Secure"), "http base URL: no Secure");
        // The value is token.HMAC-SHA256(secret, token), base64.
        let signed = resp.auth_token();
        let token = resp.body["token"].as_str().unwrap();
        assert_eq!(signed, better_auth::crypto::sign_token(SECRET, token));
    }
);

#[tokio::test]
async fn s15_https_base_url_makes_secure_prefixed_cookies() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let mut setup = Setup::new();
    setup.config = AuthConfig::new(SECRET).base_url("https://app.example.com");
    let srv = TestServer::start_with(&db, setup).await;
    let resp = srv.sign_up("ada@example.com").await;
    let cookie = resp
        .set_cookies()
        .into_iter()
        .find(|c| c.contains("session_token="))
        .unwrap();
    assert!(
        cookie.starts_with("__Secure-better-auth.session_token="),
        "{cookie}"
    );
    assert!(cookie.split("; ").any(|a| a == "Secure"), "{cookie}");
    let pair = cookie.split(';').next().unwrap();
    let me = srv.get("/api/me").header("cookie", pair).send().await;
    assert_eq!(me.status, 200);
    // The unprefixed name is not accepted on https.
    let plain = pair.replacen("__Secure-", "", 1);
    assert_eq!(
        srv.get("/api/me")
            .header("cookie", &plain)
            .send()
            .await
            .status,
        401
    );
}

all_backends!(
    s16_cookie_state_changes_need_a_trusted_origin,
    with_server,
    |srv: TestServer| async move {
        let resp = srv.sign_up("ada@example.com").await;
        let cookie = resp.session_cookie();
        let bearer = resp.auth_token();
        let url = "/api/auth/revoke-other-sessions";
        let missing = srv
            .post(url)
            .header("cookie", &cookie)
            .json(json!({}))
            .send()
            .await;
        assert_eq!(
            (missing.status, missing.code()),
            (403, "MISSING_OR_NULL_ORIGIN")
        );
        let null = srv
            .post(url)
            .header("cookie", &cookie)
            .header("origin", "null")
            .json(json!({}))
            .send()
            .await;
        assert_eq!(null.code(), "MISSING_OR_NULL_ORIGIN");
        let evil = srv
            .post(url)
            .header("cookie", &cookie)
            .header("origin", "https://evil.example")
            .json(json!({}))
            .send()
            .await;
        assert_eq!((evil.status, evil.code()), (403, "INVALID_ORIGIN"));
        let referer = srv
            .post(url)
            .header("cookie", &cookie)
            .header("referer", "http://localhost:3000/settings")
            .json(json!({}))
            .send()
            .await;
        assert_eq!(referer.status, 200);
        let good = srv.post(url).cookie(&cookie).json(json!({})).send().await;
        assert_eq!(good.status, 200);
        // Bearer clients carry no cookie and are not subject to the check.
        let bearer_only = srv.post(url).bearer(&bearer).json(json!({})).send().await;
        assert_eq!(bearer_only.status, 200);
        // GET never changes state: sign-out is POST only.
        let get = srv
            .get("/api/auth/sign-out")
            .header("cookie", &cookie)
            .send()
            .await;
        assert_eq!(get.status, 405);
        assert_eq!(
            srv.get("/api/me")
                .header("cookie", &cookie)
                .send()
                .await
                .status,
            200
        );
    }
);

#[tokio::test]
async fn s16_trusted_origins_are_configurable() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let mut setup = Setup::new();
    setup.config = setup.config.trusted_origins(["https://app.example.com"]);
    let srv = TestServer::start_with(&db, setup).await;
    let cookie = srv.sign_up("ada@example.com").await.session_cookie();
    let resp = srv
        .post("/api/auth/sign-out")
        .header("cookie", &cookie)
        .header("origin", "https://app.example.com")
        .json(json!({}))
        .send()
        .await;
    assert_eq!(resp.status, 200);
}

#[tokio::test]
async fn s17_short_secret_is_a_startup_error() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let err = BetterAuth::new(AuthConfig::new("x".repeat(31)))
        .database(db.clone())
        .build()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at least 32 characters"), "{err}");
    assert!(
        BetterAuth::new(AuthConfig::new("x".repeat(32)))
            .database(db)
            .build()
            .await
            .is_ok()
    );
}

all_backends!(
    s23_identity_comes_from_the_session_only,
    with_server,
    |srv: TestServer| async move {
        let ada = srv.user("ada@example.com").await;
        let bob = srv.user("bob@example.com").await;
        let bob_session = srv.get("/api/auth/get-session").bearer(&bob).send().await;
        let bob_id = bob_session.body["user"]["id"].as_str().unwrap().to_owned();
        let bob_digest = bob_session.body["session"]["token"]
            .as_str()
            .unwrap()
            .to_owned();
        // Ada cannot revoke Bob's session, even knowing its listed token.
        srv.post("/api/auth/revoke-session")
            .bearer(&ada)
            .json(json!({ "token": bob_digest }))
            .send()
            .await;
        assert_eq!(srv.get("/api/me").bearer(&bob).send().await.status, 200);
        // A user id in the body is refused, never obeyed.
        let resp = srv
            .post("/api/auth/update-user")
            .bearer(&ada)
            .json(json!({ "name": "Mallory", "userId": bob_id }))
            .send()
            .await;
        assert_eq!(resp.status, 400);
        let bob_now = srv.get("/api/auth/get-session").bearer(&bob).send().await;
        assert_eq!(bob_now.body["user"]["name"], "Ada", "Bob's name untouched");
        // Email, ids and roles are not update-user's business (S18 in part).
        for body in [
            json!({ "email": "x@example.com" }),
            json!({ "id": bob_id }),
            json!({ "role": "admin" }),
            json!({ "emailVerified": true }),
        ] {
            let resp = srv
                .post("/api/auth/update-user")
                .bearer(&ada)
                .json(body.clone())
                .send()
                .await;
            assert_eq!(resp.status, 400, "{body}");
        }
    }
);

all_backends!(
    s25_malformed_input_is_400_json_never_500,
    with_server,
    |srv: TestServer| async move {
        let cases: Vec<(&str, reqwest::Body)> = vec![
            ("application/json", "{not json".into()),
            ("application/json", "[]".into()),
            ("application/json", "null".into()),
            // An array would otherwise be read as the fields in order.
            (
                "application/json",
                r#"["A", "array@example.com", "a long enough password"]"#.into(),
            ),
            (
                "application/json",
                r#"{"name": 1, "email": "a@example.com", "password": "12345678"}"#.into(),
            ),
            (
                "application/json",
                r#"{"email": "a@example.com", "password": "12345678"}"#.into(),
            ),
            (
                "application/json",
                r#"{"name": "A", "email": ["a@example.com"], "password": "12345678"}"#.into(),
            ),
            (
                "application/json",
                format!(
                    r#"{{"name": "{}", "email": "a@example.com", "password": "12345678"}}"#,
                    "n".repeat(10_000)
                )
                .into(),
            ),
            (
                "application/json",
                format!(
                    r#"{{"name": "A", "email": "{}@example.com", "password": "12345678"}}"#,
                    "a".repeat(300)
                )
                .into(),
            ),
            (
                "application/json",
                r#"{"name": "A", "email": "a@@example.com", "password": "12345678"}"#.into(),
            ),
            (
                "application/json",
                r#"{"name": "A", "email": "a @example.com", "password": "12345678"}"#.into(),
            ),
        ];
        for (content_type, body) in cases {
            let resp = srv
                .post("/api/auth/sign-up/email")
                .raw_body(content_type, body)
                .send()
                .await;
            assert_eq!(resp.status, 400, "{}", resp.body);
            assert_eq!(resp.code(), "VALIDATION_ERROR", "{}", resp.body);
        }
        // Nor does an array pass for an object on an authenticated route.
        let token = srv.user("arrays@example.com").await;
        let resp = srv
            .post("/api/auth/update-user")
            .raw_body("application/json", "[null, null]")
            .bearer(&token)
            .send()
            .await;
        assert_eq!(
            (resp.status, resp.code()),
            (400, "VALIDATION_ERROR"),
            "{}",
            resp.body
        );
        // S35: a body that is not JSON is refused as such.
        let resp = srv
            .post("/api/auth/sign-up/email")
            .raw_body("text/plain", "hello")
            .send()
            .await;
        assert_eq!((resp.status, resp.code()), (415, "UNSUPPORTED_MEDIA_TYPE"));
        for path in [
            "/api/auth/sign-in/email",
            "/api/auth/revoke-session",
            "/api/auth/update-user",
        ] {
            let resp = srv
                .post(path)
                .raw_body("application/json", "{\"email\": 5}")
                .bearer("x")
                .send()
                .await;
            assert!(
                resp.status == 400 || resp.status == 401,
                "{path}: {}",
                resp.status
            );
            assert!(resp.body.get("code").is_some(), "{path}: {}", resp.body);
        }
    }
);

all_backends!(
    s27_concurrent_sign_ups_with_one_email,
    with_server,
    |srv: TestServer| async move {
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let client = srv.client.clone();
            let url = format!("{}/api/auth/sign-up/email", srv.base);
            tasks.push(tokio::spawn(async move {
                let resp = client
                .post(url)
                .json(&json!({ "name": "Ada", "email": "race@example.com", "password": PASSWORD }))
                .send()
                .await
                .unwrap();
                resp.status().as_u16()
            }));
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        let ok = statuses.iter().filter(|s| **s == 200).count();
        let conflict = statuses.iter().filter(|s| **s == 422).count();
        assert_eq!((ok, conflict), (1, 99), "{statuses:?}");
    }
);

all_backends!(
    s03_common_passwords_are_rejected_on_sign_up_change_and_reset,
    with_server,
    |srv: TestServer| async move {
        assert!(better_auth::validation::common_password_count() >= 10_000);
        for common in ["password1", "iloveyou", "PassWord123", "qwertyuiop"] {
            let resp = sign_up_with_password(&srv, "a@example.com", common).await;
            assert_eq!(
                (resp.status, resp.code()),
                (400, "PASSWORD_TOO_COMMON"),
                "{common}"
            );
        }
        let token = srv.user("ada@example.com").await;
        let change = srv
            .post("/api/auth/change-password")
            .bearer(&token)
            .json(json!({ "currentPassword": PASSWORD, "newPassword": "baseball1" }))
            .send()
            .await;
        assert_eq!(change.code(), "PASSWORD_TOO_COMMON");
        let token = srv.reset_token("ada@example.com", 1).await;
        let reset = srv
            .post("/api/auth/reset-password")
            .json(json!({ "token": token, "newPassword": "sunshine1" }))
            .send()
            .await;
        assert_eq!(reset.code(), "PASSWORD_TOO_COMMON");
        // The token was not spent on a refused password.
        let reset = srv
            .post("/api/auth/reset-password")
            .json(json!({ "token": token, "newPassword": "an uncommon passphrase" }))
            .send()
            .await;
        assert_eq!(reset.status, 200, "{}", reset.body);
    }
);

/// S13: however often a session is used, it ends `absolute_lifetime` after sign-in.
#[tokio::test]
async fn s13_absolute_expiry_ends_even_busy_sessions() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = TestDb::open(backend).await else {
            continue;
        };
        let (srv, clock) = TestServer::start_with_clock(&db).await;
        let token = srv.user("ada@example.com").await;
        // Used every 2 days: each use slides the idle expiry forward.
        for _ in 0..14 {
            clock.advance(Duration::from_secs(2 * 24 * 3600));
            assert_eq!(srv.get("/api/me").bearer(&token).send().await.status, 200);
        }
        // Day 30: over the absolute limit.
        clock.advance(Duration::from_secs(2 * 24 * 3600 + 1));
        assert_eq!(srv.get("/api/me").bearer(&token).send().await.status, 401);
        db.drop_schema().await;
    }
}

all_backends!(
    s04_older_hashes_verify_and_are_upgraded_on_sign_in,
    with_server,
    |srv: TestServer| async move {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let db = srv.auth.database();
        // A Better Auth (TypeScript) scrypt hash of PASSWORD, made with Node's crypto.scryptSync.
        let scrypt = "fd1c8b15ef7a6d71f00696a9188b90c0:1578ed3f2bee0ee16546626da57f15694b915c0e4a363092a6ee049325b61cd1bbace9350db0d2831f7687d54ef74927643898e70b25c54c404ac6d97c3ff2f6";
        // An Argon2id hash with weaker, older parameters.
        let weak = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(4096, 3, 1, None).unwrap(),
        )
        .hash_password(
            PASSWORD.as_bytes(),
            &SaltString::generate(&mut rand::rngs::OsRng),
        )
        .unwrap()
        .to_string();
        for (i, old) in [scrypt.to_owned(), weak].into_iter().enumerate() {
            let email = format!("user{i}@example.com");
            let signup = srv.sign_up(&email).await;
            let user_id = signup.body["user"]["id"].as_str().unwrap().to_owned();
            better_auth::store::accounts::set_credential_password(
                db,
                &user_id,
                &old,
                chrono::Utc::now(),
            )
            .await
            .unwrap();
            assert_eq!(srv.sign_in(&email, "not the password").await.status, 401);
            assert_eq!(srv.sign_in(&email, PASSWORD).await.status, 200, "{old}");
            let now = better_auth::store::accounts::credential_password(db, &user_id)
                .await
                .unwrap()
                .unwrap();
            assert!(
                now.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
                "upgraded: {now}"
            );
            assert_eq!(srv.sign_in(&email, PASSWORD).await.status, 200);
        }
    }
);
