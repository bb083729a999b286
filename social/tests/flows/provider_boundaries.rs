//! S52 (discovery endpoints), S60 (the state cookie on https) and key
//! rotation under one `kid`, against the tests' own OpenID provider
//! (`fake_oidc.rs`), on SQLite, PostgreSQL and MySQL.

use better_auth::email::MemoryEmailSender;
use better_auth_test_support::all_backends;
use serde_json::{Value, json};

use crate::common::{Browser, FakeBench, Setup, query_param, with_fake};

fn sign_in_body() -> Value {
    json!({ "provider": "fake", "callbackURL": "/dashboard", "errorCallbackURL": "/login" })
}

// ---------------------------------------------------------------- S52

all_backends!(
    s52_discovery_endpoints_must_be_https_or_loopback,
    |backend| async move {
        let refused = [
            (
                "authorization_endpoint",
                "javascript:alert(document.domain)//",
            ),
            (
                "authorization_endpoint",
                "data:text/html,<script>alert(1)</script>",
            ),
            (
                "authorization_endpoint",
                "http://login.example.com/authorize",
            ),
            ("authorization_endpoint", "/authorize"),
            ("token_endpoint", "http://tokens.example.com/token"),
            ("token_endpoint", "file:///etc/passwd"),
            ("jwks_uri", "http://keys.example.com/jwks"),
            ("jwks_uri", "gopher://keys.example.com/"),
            ("userinfo_endpoint", "ftp://userinfo.example.com/"),
        ];
        for (field, value) in refused {
            let Some(FakeBench { fake, server, .. }) = FakeBench::open(backend).await else {
                return;
            };
            // Discovery is fetched at the first sign-in, not before.
            fake.set_discovery(field, value);
            let browser = Browser::new(&server);
            let resp = browser
                .post(&server.url("/sign-in/social"), sign_in_body())
                .await;
            assert_eq!(
                (resp.status, resp.body["code"].as_str()),
                (502, Some("PROVIDER_UNAVAILABLE")),
                "{field} = {value}: {}",
                resp.text
            );
            assert!(resp.body.get("url").is_none(), "{}", resp.text);
            assert!(resp.headers.get("location").is_none());
        }

        // An https endpoint elsewhere is what providers have: it is used.
        let Some(FakeBench { fake, server, .. }) = FakeBench::open(backend).await else {
            return;
        };
        fake.set_discovery(
            "authorization_endpoint",
            "https://login.example.com/authorize",
        );
        let resp = Browser::new(&server)
            .post(&server.url("/sign-in/social"), sign_in_body())
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        let url = resp.body["url"].as_str().unwrap();
        assert!(
            url.starts_with("https://login.example.com/authorize?"),
            "{url}"
        );
    }
);

// ---------------------------------------------------------------- keys

all_backends!(
    jwks_a_key_replaced_under_the_same_kid_is_fetched_again_once,
    with_fake,
    |FakeBench { fake, server, .. }| async move {
        let first = Browser::new(&server);
        let resp = first.social_sign_in(&server, sign_in_body()).await;
        assert_eq!(
            (resp.status, resp.location()),
            (302, "/dashboard".to_owned())
        );
        assert_eq!(fake.jwks_fetches(), 1);

        // The provider replaces its key and keeps the key id.
        fake.rotate_key_keeping_kid();
        let second = Browser::new(&server);
        let resp = second.social_sign_in(&server, sign_in_body()).await;
        assert_eq!(
            (resp.status, resp.location()),
            (302, "/dashboard".to_owned()),
            "{:?}",
            resp.error_code()
        );
        assert_eq!(
            second.session(&server).await["user"]["email"],
            "ada@example.com"
        );
        assert_eq!(fake.jwks_fetches(), 2, "the key set is fetched once more");

        // With the new key cached, sign-in needs no further fetch.
        let third = Browser::new(&server);
        let resp = third.social_sign_in(&server, sign_in_body()).await;
        assert_eq!(resp.location(), "/dashboard");
        assert_eq!(fake.jwks_fetches(), 2);
    }
);

// ---------------------------------------------------------------- S56

all_backends!(
    s56_provider_names_and_pictures_are_cleaned,
    with_fake,
    |FakeBench { fake, server, .. }| async move {
        // The ID token is made at the callback, with the claims set by then.
        fake.set_claim("name", json!("Ada\u{0} \u{202E}ecalevoL\u{1b}[2J"));
        fake.set_claim("picture", json!("javascript:alert(document.cookie)"));
        let browser = Browser::new(&server);
        let resp = browser.social_sign_in(&server, sign_in_body()).await;
        assert_eq!(
            (resp.status, resp.location()),
            (302, "/dashboard".to_owned()),
            "{:?}",
            resp.error_code()
        );
        let session = browser.session(&server).await;
        assert_eq!(session["user"]["name"], "Ada ecalevoL[2J");
        assert_eq!(session["user"]["image"], Value::Null);
    }
);

// ---------------------------------------------------------------- S60

all_backends!(
    s60_state_cookie_is_host_prefixed_on_https,
    |backend| async move {
        // The app is configured for https (its proxy terminates TLS) and is
        // reached here over loopback.
        const BASE: &str = "https://app.example.com";
        let setup = |mut setup: Setup| {
            setup.base_url = Some(BASE.to_owned());
            setup.outbox = Some(MemoryEmailSender::new());
            setup
        };
        let Some(FakeBench { server, .. }) = FakeBench::open_with(backend, setup).await else {
            return;
        };
        let local = server.base.clone();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();

        let start = client
            .post(format!("{local}/api/auth/sign-in/social"))
            .header("origin", BASE)
            .json(&sign_in_body())
            .send()
            .await
            .unwrap();
        assert_eq!(start.status(), 200);
        let line = start
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.contains(".state="))
            .expect("a state cookie");
        assert!(line.starts_with("__Host-better-auth.state="), "{line}");
        assert!(line.contains("Secure"), "{line}");
        assert!(line.contains("Path=/"), "{line}");
        assert!(!line.to_ascii_lowercase().contains("domain="), "{line}");
        let cookie = line.split(';').next().unwrap().to_owned();
        let value = cookie.split_once('=').unwrap().1.to_owned();
        let body: Value = start.json().await.unwrap();

        // Through the provider; its redirect names the https callback, which is
        // this server.
        let authorize = client
            .get(body["url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        let location = authorize.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(&format!("{BASE}/api/auth/callback/fake?")));
        let callback = location.replacen(BASE, &local, 1);

        // A cookie of another name (as a sibling subdomain could plant with
        // `__Secure-` or no prefix) does not bind the flow.
        for planted in [
            format!("__Secure-better-auth.state={value}"),
            format!("better-auth.state={value}"),
        ] {
            let resp = client
                .get(&callback)
                .header("cookie", planted.as_str())
                .send()
                .await
                .unwrap();
            let location = resp.headers()["location"].to_str().unwrap();
            assert_eq!(
                query_param(location, "error").as_deref(),
                Some("state_mismatch"),
                "{planted}: {location}"
            );
        }
        let resp = client
            .get(&callback)
            .header("cookie", cookie.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 302);
        assert_eq!(resp.headers()["location"], "/dashboard");
        let cookies: Vec<String> = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert!(
            cookies
                .iter()
                .any(|c| c.starts_with("__Secure-better-auth.session_token=")),
            "{cookies:?}"
        );
        // The state cookie is cleared under its own name.
        assert!(
            cookies
                .iter()
                .any(|c| c.starts_with("__Host-better-auth.state=;")
                    || c.starts_with("__Host-better-auth.state=\"\"")),
            "{cookies:?}"
        );
    }
);
