//! What a request must be to be read (S35, S36): JSON only, from a trusted
//! origin (login CSRF), a small body received in time, rate-limited before the
//! body is read, and a method the router can mount exactly. Through HTTP
//! against a real server.

use std::time::Duration;

use better_auth::AuthConfig;
use better_auth::rate_limit::RateLimitConfig;
use better_auth_test_support::all_backends;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;
use crate::password_guessing::wrong_sign_in;

const EVIL: &str = "http://evil.com";

// ---------------------------------------------------------------- S35

all_backends!(
    s35_login_csrf_is_refused,
    with_server,
    |srv: TestServer| async move {
        srv.user("attacker@example.com").await;
        let creds = json!({ "email": "attacker@example.com", "password": PASSWORD }).to_string();
        let signup = json!({ "name": "A", "email": "victim2@example.com", "password": PASSWORD })
            .to_string();
        // What a cross-site <form enctype="text/plain"> sends: refused, no cookie.
        for (path, body) in [
            ("/api/auth/sign-in/email", &creds),
            ("/api/auth/sign-up/email", &signup),
        ] {
            let resp = srv
                .post(path)
                .header("origin", EVIL)
                .raw_body("text/plain", body.clone())
                .send()
                .await;
            assert_eq!(
                (resp.status, resp.code()),
                (403, "INVALID_ORIGIN"),
                "{path}"
            );
            assert!(resp.set_cookies().is_empty());
            // Even as JSON, an untrusted origin is refused without any cookie.
            let resp = srv
                .post(path)
                .header("origin", EVIL)
                .raw_body("application/json", body.clone())
                .send()
                .await;
            assert_eq!(
                (resp.status, resp.code()),
                (403, "INVALID_ORIGIN"),
                "{path}"
            );
            assert!(resp.set_cookies().is_empty());
            // Without Origin, a non-JSON body is refused as such.
            for content_type in [
                "text/plain",
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
            ] {
                let resp = srv
                    .post(path)
                    .raw_body(content_type, body.clone())
                    .send()
                    .await;
                assert_eq!(
                    (resp.status, resp.code()),
                    (415, "UNSUPPORTED_MEDIA_TYPE"),
                    "{path} {content_type}"
                );
            }
            // A browser that says the request is cross-site.
            let resp = srv
                .post(path)
                .header("sec-fetch-site", "cross-site")
                .raw_body("application/json", body.clone())
                .send()
                .await;
            assert_eq!(resp.status, 403, "{path}");
            // Origin: null (sandboxed frames, some redirects) is refused too.
            let resp = srv
                .post(path)
                .header("origin", "null")
                .raw_body("application/json", body.clone())
                .send()
                .await;
            assert_eq!((resp.status, resp.code()), (403, "MISSING_OR_NULL_ORIGIN"));
        }
        // Server-to-server and CLI clients send neither header: still allowed,
        // and so is a same-origin browser with a charset parameter.
        let resp = srv
            .post("/api/auth/sign-in/email")
            .raw_body("application/json", creds.clone())
            .send()
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        let resp = srv
            .post("/api/auth/sign-in/email")
            .header("origin", ORIGIN)
            .header("sec-fetch-site", "same-origin")
            .raw_body("application/json; charset=utf-8", creds.clone())
            .send()
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
    }
);

all_backends!(
    s35_origin_null_is_untrusted_even_with_a_same_origin_referer,
    with_server,
    |srv: TestServer| async move {
        let cookie = srv.sign_up("ada@example.com").await.session_cookie();
        let resp = srv
            .post("/api/auth/update-user")
            .header("cookie", &cookie)
            .header("origin", "null")
            .header("referer", "http://localhost:3000/settings")
            .json(json!({ "name": "Mallory" }))
            .send()
            .await;
        assert_eq!((resp.status, resp.code()), (403, "MISSING_OR_NULL_ORIGIN"));
        let me = srv
            .get("/api/auth/get-session")
            .header("cookie", &cookie)
            .send()
            .await;
        assert_eq!(me.body["user"]["name"], "Ada");
    }
);

// ---------------------------------------------------------------- S36

/// Writes `head` and `body` on a raw connection and returns the status of the
/// answer, waiting at most 5 s.
async fn raw_status(base: &str, head: &str, body: &[u8]) -> Option<u16> {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = vec![0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut response))
        .await
        .ok()?
        .ok()?;
    let line = String::from_utf8_lossy(&response[..n]).to_string();
    line.split_whitespace().nth(1)?.parse().ok()
}

fn post_head(base: &str, path: &str, length: usize) -> String {
    let addr = base.trim_start_matches("http://");
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
}

all_backends!(
    s36_bodies_are_small_by_default,
    with_server,
    |srv: TestServer| async move {
        let mut body = br#"{"email":"a@example.com","password":"x","pad":""#.to_vec();
        body.resize(64 * 1024 + 10, b'a');
        body.extend_from_slice(br#""}"#);
        let resp = srv
            .post("/api/auth/sign-in/email")
            .raw_body("application/json", body)
            .send()
            .await;
        assert_eq!((resp.status, resp.code()), (413, "PAYLOAD_TOO_LARGE"));
    }
);

#[tokio::test]
async fn s36_body_limit_and_timeout_are_configurable() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let mut setup = Setup::new();
    setup.config = setup
        .config
        .max_body_bytes(1024)
        .body_timeout(Duration::from_millis(300));
    let srv = TestServer::start_with(&db, setup).await;
    // A body that trickles in is cut off with 408 once the timeout passes.
    let head = post_head(&srv.base, "/api/auth/sign-in/email", 100);
    let status = raw_status(&srv.base, &head, b"{\"email\":").await;
    assert_eq!(status, Some(408));
    let resp = srv
        .post("/api/auth/sign-in/email")
        .raw_body("application/json", vec![b' '; 1025])
        .send()
        .await;
    assert_eq!(resp.status, 413);
}

#[tokio::test]
async fn s36_rate_limit_is_applied_before_the_body_is_read() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let mut setup = Setup::new();
    setup.config = setup.config.rate_limit(RateLimitConfig::default());
    let srv = TestServer::start_with(&db, setup).await;
    for _ in 0..3 {
        assert_eq!(wrong_sign_in(&srv, "ada@example.com").await, 401);
    }
    // A fourth request announces a body and never sends it: answered 429 at
    // once, without waiting for (or buffering) the body.
    let head = post_head(&srv.base, "/api/auth/sign-in/email", 60_000);
    assert_eq!(raw_status(&srv.base, &head, b"").await, Some(429));
}

// ---------------------------------------------------------------- methods

/// A plugin route with a method the router cannot mount exactly is refused
/// at build time, never served (and documented) as POST.
#[tokio::test]
async fn unknown_methods_are_refused_not_mapped_to_post() {
    use better_auth::plugins::{Plugin, PluginSetup, Route};
    struct Purge;
    impl Plugin for Purge {
        fn id(&self) -> &'static str {
            "purge"
        }
        fn install(&self, setup: &mut PluginSetup) {
            setup.route(Route::new(
                http::Method::from_bytes(b"PURGE").unwrap(),
                "/purge-everything",
                "Dangerous",
                |_, _| Box::pin(async { Ok(better_auth::AuthResponse::json(&json!({}))) }),
            ));
        }
    }
    let db = better_auth::store::Database::connect("sqlite::memory:")
        .await
        .unwrap();
    better_auth::run_migrations(&db).await.unwrap();
    let err = better_auth::BetterAuth::new(AuthConfig::new(SECRET))
        .database(db)
        .plugin(Purge)
        .build()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("PURGE /purge-everything"), "{err}");
}
