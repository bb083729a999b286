//! The origin check with a base URL on the local machine: any loopback
//! origin is trusted when the request's `Host` is loopback too, so a wrong
//! port in development is harmless while DNS rebinding stays refused. Other
//! base URLs trust their exact origin only.

use better_auth_test_support::all_backends;
use serde_json::json;

use crate::common::*;

/// A server whose base URL is `base_url`.
async fn server(db: &TestDb, base_url: &str) -> TestServer {
    let mut setup = Setup::new();
    setup.config = setup.config.base_url(base_url);
    TestServer::start_with(db, setup).await
}

/// A state-changing request (sign-out) with these headers: its status and code.
async fn sign_out(srv: &TestServer, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = srv.post("/api/auth/sign-out").json(json!({}));
    for (name, value) in headers {
        req = req.header(name, value);
    }
    let resp = req.send().await;
    (resp.status, resp.code().to_owned())
}

/// A signed-in user's sign-out from a page on another loopback port, with no Origin
/// header (only the Referer), sent to `host`.
async fn signed_in_from_referer(srv: &TestServer, host: &str) -> (u16, String) {
    let cookie = srv.sign_up("ada@example.com").await.session_cookie();
    sign_out(
        srv,
        &[
            ("cookie", &cookie),
            ("referer", "http://localhost:5173/settings"),
            ("host", host),
        ],
    )
    .await
}

fn accepted() -> (u16, String) {
    (200, String::new())
}

fn invalid_origin() -> (u16, String) {
    (403, "INVALID_ORIGIN".to_owned())
}

all_backends!(
    loopback_base_url_accepts_other_loopback_origin,
    with_db,
    |db: TestDb| async move {
        let srv = server(&db, "http://localhost:80").await;
        for (origin, host) in [
            ("http://localhost:8080", "localhost:8080"),
            ("http://127.0.0.1:5173", "localhost:8080"),
            ("https://localhost:3000", "127.0.0.1:8080"),
            ("http://[::1]:5173", "[::1]:8080"),
            ("http://127.0.0.2", "localhost"),
        ] {
            assert_eq!(
                sign_out(&srv, &[("origin", origin), ("host", host)]).await,
                accepted(),
                "{origin} to {host}"
            );
        }
        // A cookie request that sent no Origin is judged by its Referer alike.
        assert_eq!(
            signed_in_from_referer(&srv, "localhost:8080").await,
            accepted()
        );
    }
);

all_backends!(
    loopback_base_url_refuses_loopback_origin_when_host_is_not_loopback,
    with_db,
    |db: TestDb| async move {
        let srv = server(&db, "http://localhost:80").await;
        // DNS rebinding: a remote page's requests carry its own name as Host.
        for host in [
            "evil.example",
            "localhost.evil.example",
            "evil.example:8080",
        ] {
            assert_eq!(
                sign_out(&srv, &[("origin", "http://localhost:8080"), ("host", host)]).await,
                invalid_origin(),
                "Host {host}"
            );
        }
        assert_eq!(
            signed_in_from_referer(&srv, "evil.example").await,
            invalid_origin()
        );
    }
);

all_backends!(
    loopback_base_url_refuses_other_origins,
    with_db,
    |db: TestDb| async move {
        let srv = server(&db, "http://localhost:80").await;
        for origin in [
            "http://evil.example",
            "https://evil.example:8080",
            "http://localhost.evil.example",
            "http://10.0.0.1:8080",
            "file://localhost",
        ] {
            assert_eq!(
                sign_out(&srv, &[("origin", origin), ("host", "localhost:8080")]).await,
                invalid_origin(),
                "{origin}"
            );
        }
    }
);

all_backends!(
    production_base_url_refuses_other_port,
    with_db,
    |db: TestDb| async move {
        let srv = server(&db, "https://app.example.com").await;
        assert_eq!(
            sign_out(
                &srv,
                &[
                    ("origin", "https://app.example.com"),
                    ("host", "app.example.com")
                ]
            )
            .await,
            accepted()
        );
        for (origin, host) in [
            ("https://app.example.com:8443", "app.example.com"),
            ("http://app.example.com", "app.example.com"),
            ("http://localhost:3000", "localhost:3000"),
            ("http://127.0.0.1:3000", "127.0.0.1:3000"),
        ] {
            assert_eq!(
                sign_out(&srv, &[("origin", origin), ("host", host)]).await,
                invalid_origin(),
                "{origin} to {host}"
            );
        }
    }
);
