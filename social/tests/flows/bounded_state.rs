//! S50: what anonymous sign-in starts can store is bounded: every stored field
//! has a cap, and one client has a bounded number of flows pending. Against
//! the tests' own OpenID provider, on every backend.

use std::time::Duration;

use better_auth::store::with_pool;
use better_auth_test_support::all_backends;
use serde_json::{Value, json};

use crate::common::{Browser, FakeBench, TestDb, TestServer, with_fake};

/// The number of flow states stored and the longest one, in bytes.
async fn stored_flows(db: &TestDb) -> (i64, i64) {
    const SQL: &str = r#"SELECT count(*), CAST(coalesce(max(length("value")), 0) AS bigint)
        FROM "verification" WHERE "identifier" LIKE 'social-state:%'"#;
    let db = &db.database;
    let row = async {
        Ok::<_, better_auth::Error>(with_pool!(db, |pool| sqlx::query_as(SQL)
            .fetch_one(pool)
            .await?))
    };
    row.await.unwrap()
}

/// `POST /sign-in/social` from a client bound to `from` (a loopback address
/// of its own), as a script would send it: no cookies kept.
async fn start_from(server: &TestServer, from: &str, body: &Value) -> (u16, Value, Option<String>) {
    let client = reqwest::Client::builder()
        .local_address(Some(from.parse().unwrap()))
        .build()
        .unwrap();
    let resp = client
        .post(server.url("/sign-in/social"))
        .header("origin", &server.base)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (
        status,
        resp.json().await.unwrap_or(Value::Null),
        retry_after,
    )
}

all_backends!(
    s50_callback_urls_over_2_kib_are_refused_before_anything_is_stored,
    with_fake,
    |FakeBench { db, server, .. }| async move {
        let browser = Browser::new(&server);
        let too_long = format!("/{}", "a".repeat(2048));
        for field in ["callbackURL", "errorCallbackURL", "newUserCallbackURL"] {
            let resp = browser
                .post(
                    &server.url("/sign-in/social"),
                    json!({ "provider": "fake", field: too_long }),
                )
                .await;
            assert_eq!(
                (resp.status, resp.body["code"].as_str()),
                (400, Some("VALIDATION_ERROR")),
                "{field}: {}",
                resp.text
            );
            assert!(
                resp.set_cookies().is_empty(),
                "no state for a refused start"
            );
        }
        assert_eq!(stored_flows(&db).await.0, 0);

        // 2 KiB each is accepted, and a flow then stores a few KiB at most.
        let longest = format!("/{}", "a".repeat(2047));
        let resp = browser
            .post(
                &server.url("/sign-in/social"),
                json!({
                    "provider": "fake",
                    "callbackURL": longest,
                    "errorCallbackURL": longest,
                    "newUserCallbackURL": longest,
                    "scopes": vec!["s".repeat(100); 20],
                    "loginHint": "h".repeat(256),
                }),
            )
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        let (count, longest_row) = stored_flows(&db).await;
        assert_eq!(count, 1);
        assert!(longest_row <= 7 * 1024, "{longest_row} bytes for one flow");
    }
);

all_backends!(
    s50_a_client_has_a_bounded_number_of_pending_flows,
    with_fake,
    |FakeBench { db, server, .. }| async move {
        let body =
            json!({ "provider": "fake", "callbackURL": "/dashboard", "disableRedirect": true });
        // Rate limits are off on this server: the cap holds without them.
        for n in 0..49 {
            let (status, resp, _) = start_from(&server, "127.0.0.1", &body).await;
            assert_eq!(status, 200, "flow {n}: {resp}");
        }
        // A finished flow no longer counts: the cap is on flows pending.
        let browser = Browser::new(&server);
        let resp = browser
            .social_sign_in(
                &server,
                json!({ "provider": "fake", "callbackURL": "/dashboard" }),
            )
            .await;
        assert_eq!(
            (resp.status, resp.location()),
            (302, "/dashboard".to_owned())
        );
        let (status, resp, _) = start_from(&server, "127.0.0.1", &body).await;
        assert_eq!(status, 200, "the 50th pending flow: {resp}");

        let (status, resp, retry_after) = start_from(&server, "127.0.0.1", &body).await;
        assert_eq!(
            (status, resp["code"].as_str()),
            (429, Some("TOO_MANY_REQUESTS")),
            "{resp}"
        );
        let retry_after: u64 = retry_after.expect("Retry-After").parse().unwrap();
        assert!((1..=600).contains(&retry_after), "{retry_after}");
        assert_eq!(stored_flows(&db).await.0, 50, "nothing stored past the cap");

        // Another client is not held back by this one.
        let (status, resp, _) = start_from(&server, "127.0.0.2", &body).await;
        assert_eq!(status, 200, "{resp}");

        // Flows expire after ten minutes; then the client may start again.
        server.clock.advance(Duration::from_secs(601));
        let (status, resp, _) = start_from(&server, "127.0.0.1", &body).await;
        assert_eq!(status, 200, "{resp}");
    }
);
