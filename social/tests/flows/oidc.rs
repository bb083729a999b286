//! Sign-in, sign-up and linking against a real OpenID provider.

use better_auth_social::{Oidc, SocialProvidersPlugin};
use better_auth_test_support::all_backends;
use serde_json::json;

use crate::common::{Backend, Bound, Browser, TestDb, TestServer, user_count};
use crate::oidc_provider::provider;

/// A server whose `oidc` provider is the test provider, with a fresh client
/// (one that misbehaves in the given way, if any).
pub(crate) async fn setup(
    backend: Backend,
    misbehave: Option<&str>,
) -> Option<(TestDb, TestServer)> {
    let provider = provider()?;
    let db = TestDb::open(backend).await?;
    let bound = Bound::new().await;
    let client = provider
        .register(&bound.callback_url("oidc"), misbehave)
        .await;
    let social = SocialProvidersPlugin::new().provider(Oidc::new(
        "oidc",
        &provider.issuer,
        client.id,
        client.secret,
    ));
    let server = TestServer::start(bound, &db, social).await;
    Some((db, server))
}

all_backends!(
    first_sign_in_creates_user_and_account,
    |backend| async move {
        let Some((db, server)) = setup(backend, None).await else {
            return;
        };
        let browser = Browser::new(&server);
        let resp = browser
            .social_sign_in(
                &server,
                json!({
                    "provider": "oidc",
                    "callbackURL": "/dashboard",
                    "newUserCallbackURL": "/welcome",
                    "loginHint": "ada@example.com",
                }),
            )
            .await;
        assert_eq!(resp.status, 302, "{}", resp.text);
        assert_eq!(
            resp.location(),
            "/welcome",
            "a new user goes to newUserCallbackURL"
        );
        let cookies = resp.set_cookies().join("\n");
        assert!(cookies.contains("better-auth.session_token="), "{cookies}");
        assert!(cookies.contains("HttpOnly"), "{cookies}");

        let session = browser.session(&server).await;
        assert_eq!(session["user"]["email"], "ada@example.com");
        assert_eq!(session["user"]["emailVerified"], true);
        assert_eq!(session["user"]["name"], "ada");

        let accounts = browser.get(&server.url("/list-accounts")).await;
        assert_eq!(accounts.status, 200);
        let accounts = accounts.body.as_array().unwrap().clone();
        assert_eq!(accounts.len(), 1, "{accounts:?}");
        assert_eq!(accounts[0]["providerId"], "oidc");
        assert_eq!(accounts[0]["accountId"], "sub-ada@example.com");
        assert_eq!(accounts[0]["userId"], session["user"]["id"]);
        assert_eq!(user_count(&db.database).await, 1);
    }
);

all_backends!(
    second_sign_in_reuses_user_and_account,
    |backend| async move {
        let Some((db, server)) = setup(backend, None).await else {
            return;
        };
        let body = json!({
            "provider": "oidc",
            "callbackURL": "/dashboard",
            "newUserCallbackURL": "/welcome",
            "loginHint": "grace@example.com",
        });
        let first = Browser::new(&server);
        assert_eq!(
            first.social_sign_in(&server, body.clone()).await.location(),
            "/welcome"
        );
        let first_user = first.session(&server).await["user"]["id"].clone();

        // Another browser (a new device): same provider account, same user.
        let second = Browser::new(&server);
        let resp = second.social_sign_in(&server, body).await;
        assert_eq!(resp.status, 302);
        assert_eq!(
            resp.location(),
            "/dashboard",
            "a returning user goes to callbackURL"
        );
        assert_eq!(second.session(&server).await["user"]["id"], first_user);
        assert_eq!(user_count(&db.database).await, 1);
        let accounts = second.get(&server.url("/list-accounts")).await.body;
        assert_eq!(accounts.as_array().unwrap().len(), 1, "{accounts}");
        // Two sign-ins, two sessions.
        let sessions = second.get(&server.url("/list-sessions")).await.body;
        assert_eq!(sessions.as_array().unwrap().len(), 2, "{sessions}");
    }
);

all_backends!(link_social_to_signed_in_user, |backend| async move {
    let Some((db, server)) = setup(backend, None).await else {
        return;
    };
    let browser = Browser::new(&server);
    let signed_up = browser.sign_up(&server, "lin@example.com").await;
    assert_eq!(signed_up.status, 200, "{}", signed_up.text);
    let user_id = signed_up.body["user"]["id"].clone();

    let resp = browser
        .post(
            &server.url("/link-social"),
            json!({ "provider": "oidc", "callbackURL": "/settings", "loginHint": "lin@example.com" }),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["redirect"], true);
    let callback = browser
        .follow_until(
            resp.body["url"].as_str().unwrap().to_owned(),
            &server.url("/callback/"),
        )
        .await;
    let done = browser.get(&callback).await;
    assert_eq!(done.status, 302, "{}", done.text);
    assert_eq!(done.location(), "/settings");

    let accounts = browser.get(&server.url("/list-accounts")).await.body;
    let mut providers: Vec<&str> = accounts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["providerId"].as_str().unwrap())
        .collect();
    // Created at the same instant of the test's standing clock: any order.
    providers.sort();
    assert_eq!(providers, ["credential", "oidc"], "{accounts}");

    // Signing in with the provider now reaches the same user.
    let elsewhere = Browser::new(&server);
    let resp = elsewhere
        .social_sign_in(
            &server,
            json!({ "provider": "oidc", "callbackURL": "/", "loginHint": "lin@example.com" }),
        )
        .await;
    assert_eq!(resp.location(), "/");
    assert_eq!(elsewhere.session(&server).await["user"]["id"], user_id);
    assert_eq!(user_count(&db.database).await, 1);
});

all_backends!(
    unlink_refuses_the_last_sign_in_method,
    |backend| async move {
        let Some((_db, server)) = setup(backend, None).await else {
            return;
        };
        let browser = Browser::new(&server);
        browser
            .social_sign_in(
                &server,
                json!({ "provider": "oidc", "callbackURL": "/", "loginHint": "solo@example.com" }),
            )
            .await;
        let resp = browser
            .post(
                &server.url("/unlink-account"),
                json!({ "providerId": "oidc" }),
            )
            .await;
        assert_eq!(resp.status, 403, "{}", resp.text);
        assert_eq!(resp.body["code"], "FAILED_TO_UNLINK_LAST_ACCOUNT");
        let accounts = browser.get(&server.url("/list-accounts")).await.body;
        assert_eq!(accounts.as_array().unwrap().len(), 1);

        // With a second way in (a linked password-less... a second provider
        // account is not possible here; a credential is), unlinking works.
        let browser = Browser::new(&server);
        browser.sign_up(&server, "pair@example.com").await;
        let resp = browser
            .post(
                &server.url("/link-social"),
                json!({ "provider": "oidc", "callbackURL": "/", "loginHint": "pair@example.com" }),
            )
            .await;
        let callback = browser
            .follow_until(
                resp.body["url"].as_str().unwrap().to_owned(),
                &server.url("/callback/"),
            )
            .await;
        assert_eq!(browser.get(&callback).await.location(), "/");
        let resp = browser
            .post(
                &server.url("/unlink-account"),
                json!({ "providerId": "oidc" }),
            )
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        let accounts = browser.get(&server.url("/list-accounts")).await.body;
        assert_eq!(accounts.as_array().unwrap().len(), 1);
        assert_eq!(accounts[0]["providerId"], "credential");
    }
);

all_backends!(
    linking_another_users_provider_account_is_refused,
    |backend| async move {
        let Some((_db, server)) = setup(backend, None).await else {
            return;
        };
        // Owner signs up through the provider.
        let owner = Browser::new(&server);
        owner
            .social_sign_in(
                &server,
                json!({ "provider": "oidc", "callbackURL": "/", "loginHint": "owner@example.com" }),
            )
            .await;
        // Someone else, signed in, links the same provider account.
        let other = Browser::new(&server);
        other.sign_up(&server, "owner2@example.com").await;
        let resp = other
        .post(
            &server.url("/link-social"),
            json!({ "provider": "oidc", "callbackURL": "/", "errorCallbackURL": "/oops", "loginHint": "owner@example.com" }),
        )
        .await;
        let callback = other
            .follow_until(
                resp.body["url"].as_str().unwrap().to_owned(),
                &server.url("/callback/"),
            )
            .await;
        let done = other.get(&callback).await;
        assert_eq!(done.status, 302);
        assert!(done.location().starts_with("/oops?"), "{}", done.location());
        // Its email differs from the signed-in user's: refused before anything else.
        assert_eq!(done.error_code().as_deref(), Some("email_does_not_match"));
        let accounts = other.get(&server.url("/list-accounts")).await.body;
        assert_eq!(accounts.as_array().unwrap().len(), 1, "{accounts}");
    }
);

all_backends!(
    provider_errors_reach_the_error_callback,
    |backend| async move {
        let Some((_db, server)) = setup(backend, None).await else {
            return;
        };
        let browser = Browser::new(&server);
        let callback = browser
        .start_social(
            &server,
            json!({ "provider": "oidc", "callbackURL": "/", "errorCallbackURL": "/login", "loginHint": "deny@example.com" }),
        )
        .await;
        // The user said no at the provider: it answers `error=access_denied`.
        let state = crate::common::query_param(&callback, "state").unwrap();
        let denied = format!(
            "{}?error=access_denied&error_description=End-User+aborted&state={state}",
            server.url("/callback/oidc")
        );
        let resp = browser.get(&denied).await;
        assert_eq!(resp.status, 302);
        assert!(
            resp.location().starts_with("/login?"),
            "{}",
            resp.location()
        );
        assert_eq!(resp.error_code().as_deref(), Some("access_denied"));
        assert_eq!(browser.session(&server).await, serde_json::Value::Null);
    }
);

all_backends!(unknown_provider_is_404, |backend| async move {
    let Some((_db, server)) = setup(backend, None).await else {
        return;
    };
    let browser = Browser::new(&server);
    let resp = browser
        .post(
            &server.url("/sign-in/social"),
            json!({ "provider": "myspace" }),
        )
        .await;
    assert_eq!(resp.status, 404, "{}", resp.text);
    assert_eq!(resp.body["code"], "PROVIDER_NOT_FOUND");
    assert!(
        resp.set_cookies().is_empty(),
        "no state for an unknown provider"
    );

    // The routes are in the instance's OpenAPI document.
    let doc = browser.get(&server.url("/reference/openapi.json")).await;
    assert_eq!(doc.status, 200);
    for path in [
        "/sign-in/social",
        "/link-social",
        "/callback/{provider}",
        "/error",
    ] {
        assert!(doc.body["paths"].get(path).is_some(), "{path} documented");
    }
});
