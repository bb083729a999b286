//! The social sign-in security items (S40–S47, README "Secure by default"),
//! against the real OpenID provider.

use std::time::Duration;

use better_auth_social::{Oidc, SocialProvidersPlugin};
use better_auth_test_support::all_backends;
use serde_json::{Value, json};

use crate::common::{Backend, Bound, Browser, TestDb, TestServer, query_param, user_count};
use crate::oidc::setup;
use crate::oidc_provider::provider;

fn sign_in_body(email: &str) -> Value {
    json!({
        "provider": "oidc",
        "callbackURL": "/dashboard",
        "errorCallbackURL": "/login",
        "loginHint": email,
    })
}

/// Replaces the `state` parameter of a callback URL.
fn with_state(callback: &str, state: &str) -> String {
    let (base, query) = callback.split_once('?').unwrap();
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        out.append_pair(&k, if k == "state" { state } else { &v });
    }
    format!("{base}?{}", out.finish())
}

all_backends!(s40_tampered_state_is_refused, |backend| async move {
    let Some((db, server)) = setup(backend, None).await else {
        return;
    };
    let browser = Browser::new(&server);
    let callback = browser
        .start_social(&server, sign_in_body("tamper@example.com"))
        .await;
    let state = query_param(&callback, "state").unwrap();
    let mut forged = state.clone();
    forged.replace_range(0..1, if state.starts_with('A') { "B" } else { "A" });
    let resp = browser.get(&with_state(&callback, &forged)).await;
    assert_eq!(resp.status, 302);
    // An unknown state names no error URL of its own: the default page.
    assert_eq!(resp.error_code().as_deref(), Some("state_mismatch"));
    assert!(
        resp.location().starts_with(&server.url("/error?")),
        "{}",
        resp.location()
    );
    assert_eq!(browser.session(&server).await, Value::Null);
    assert_eq!(user_count(&db.database).await, 0);
    // The page it lands on names the error, escaped.
    let page = browser
        .get(&server.url("/error?error=<b>x</b>&error_description=<script>alert(1)</script>"))
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains(">bxb<"),
        "the code keeps only safe characters: {}",
        page.text
    );
    assert!(
        page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        page.text
    );
    assert!(!page.text.contains("<script>"), "{}", page.text);
    assert_eq!(
        page.headers["content-security-policy"],
        "default-src 'none'"
    );
});

all_backends!(
    s40_state_from_another_browser_is_refused,
    |backend| async move {
        let Some((db, server)) = setup(backend, None).await else {
            return;
        };
        // An attacker starts a sign-in with their own provider account and gets
        // the victim's browser to open the callback (login CSRF).
        let attacker = Browser::new(&server);
        let callback = attacker
            .start_social(&server, sign_in_body("mallory@example.com"))
            .await;
        let victim = Browser::new(&server);
        let resp = victim.get(&callback).await;
        assert_eq!(resp.status, 302);
        assert!(
            resp.location().starts_with("/login?"),
            "{}",
            resp.location()
        );
        assert_eq!(resp.error_code().as_deref(), Some("state_mismatch"));
        assert!(
            !resp
                .set_cookies()
                .iter()
                .any(|c| c.contains("session_token=") && !c.contains("Max-Age=0"))
        );
        assert_eq!(victim.session(&server).await, Value::Null);
        assert_eq!(user_count(&db.database).await, 0);
    }
);

all_backends!(s40_state_is_single_use, |backend| async move {
    let Some((_db, server)) = setup(backend, None).await else {
        return;
    };
    let browser = Browser::new(&server);
    let callback = browser
        .start_social(&server, sign_in_body("once@example.com"))
        .await;
    let first = browser.get(&callback).await;
    assert_eq!(first.location(), "/dashboard");
    let replay = browser.get(&callback).await;
    assert_eq!(replay.status, 302);
    assert_eq!(replay.error_code().as_deref(), Some("state_mismatch"));
});

all_backends!(s40_state_expires_after_ten_minutes, |backend| async move {
    let Some((db, server)) = setup(backend, None).await else {
        return;
    };
    let browser = Browser::new(&server);
    let callback = browser
        .start_social(&server, sign_in_body("slow@example.com"))
        .await;
    server.clock.advance(Duration::from_secs(601));
    let resp = browser.get(&callback).await;
    assert_eq!(resp.status, 302);
    assert_eq!(resp.error_code().as_deref(), Some("state_mismatch"));
    assert_eq!(user_count(&db.database).await, 0);
});

all_backends!(s41_replayed_code_is_refused, |backend| async move {
    let Some((db, server)) = setup(backend, None).await else {
        return;
    };
    let browser = Browser::new(&server);
    let callback = browser
        .start_social(&server, sign_in_body("replay@example.com"))
        .await;
    assert_eq!(browser.get(&callback).await.location(), "/dashboard");
    let used_code = query_param(&callback, "code").unwrap();

    // A fresh, valid flow in the same browser, finished with the old code:
    // the provider refuses it (used, and bound to another PKCE verifier).
    let fresh = browser
        .start_social(&server, sign_in_body("replay@example.com"))
        .await;
    let (base, _) = fresh.split_once('?').unwrap();
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("code", &used_code);
    query.append_pair("state", &query_param(&fresh, "state").unwrap());
    let resp = browser.get(&format!("{base}?{}", query.finish())).await;
    assert_eq!(resp.status, 302);
    assert!(
        resp.location().starts_with("/login?"),
        "{}",
        resp.location()
    );
    assert_eq!(resp.error_code().as_deref(), Some("invalid_code"));
    assert_eq!(user_count(&db.database).await, 1);
});

/// Signs in through a client whose ID tokens the provider alters; returns
/// the callback's redirect.
async fn misbehaving(backend: Backend, kind: &str) -> Option<(String, String, usize)> {
    let (db, server) = setup(backend, Some(kind)).await?;
    let browser = Browser::new(&server);
    let resp = browser
        .social_sign_in(&server, sign_in_body(&format!("{kind}@example.com")))
        .await;
    assert_eq!(resp.status, 302, "{}", resp.text);
    assert!(
        resp.location().starts_with("/login?"),
        "{kind}: {}",
        resp.location()
    );
    assert_eq!(browser.session(&server).await, Value::Null, "{kind}");
    let description = query_param(&resp.location(), "error_description").unwrap_or_default();
    Some((
        resp.error_code().unwrap(),
        description,
        user_count(&db.database).await,
    ))
}

all_backends!(
    s42_id_token_for_another_audience_is_refused,
    |backend| async move {
        let Some((code, description, users)) = misbehaving(backend, "wrong-aud").await else {
            return;
        };
        assert_eq!(code, "unable_to_get_user_info");
        assert!(description.contains("aud"), "{description}");
        assert_eq!(users, 0);
    }
);

all_backends!(
    s42_id_token_from_another_issuer_is_refused,
    |backend| async move {
        let Some((code, description, users)) = misbehaving(backend, "wrong-iss").await else {
            return;
        };
        assert_eq!(code, "unable_to_get_user_info");
        assert!(description.contains("iss"), "{description}");
        assert_eq!(users, 0);
    }
);

all_backends!(s42_expired_id_token_is_refused, |backend| async move {
    let Some((code, description, users)) = misbehaving(backend, "expired").await else {
        return;
    };
    assert_eq!(code, "unable_to_get_user_info");
    assert!(description.contains("expired"), "{description}");
    assert_eq!(users, 0);
});

all_backends!(
    s42_id_token_with_another_nonce_is_refused,
    |backend| async move {
        let Some((code, description, users)) = misbehaving(backend, "wrong-nonce").await else {
            return;
        };
        assert_eq!(code, "unable_to_get_user_info");
        assert!(description.contains("nonce"), "{description}");
        assert_eq!(users, 0);
    }
);

all_backends!(
    s42_id_token_with_a_bad_signature_is_refused,
    |backend| async move {
        let Some((code, description, users)) = misbehaving(backend, "bad-signature").await else {
            return;
        };
        assert_eq!(code, "unable_to_get_user_info");
        assert!(description.contains("signature"), "{description}");
        assert_eq!(users, 0);
    }
);

all_backends!(
    s43_unverified_provider_email_never_links,
    |backend| async move {
        let Some((db, server)) = setup(backend, None).await else {
            return;
        };
        // A local user whose address is verified...
        let local = Browser::new(&server);
        let signed_up = local.sign_up(&server, "unverified-vic@example.com").await;
        let user_id = signed_up.body["user"]["id"].as_str().unwrap().to_owned();
        better_auth::store::users::mark_email_verified(&db.database, &user_id, server.auth.now())
            .await
            .unwrap();
        // ...and a provider account claiming that address without verifying it.
        let attacker = Browser::new(&server);
        let resp = attacker
            .social_sign_in(&server, sign_in_body("unverified-vic@example.com"))
            .await;
        assert_eq!(resp.status, 302);
        assert_eq!(resp.error_code().as_deref(), Some("account_not_linked"));
        assert_eq!(attacker.session(&server).await, Value::Null);
        let accounts = local.get(&server.url("/list-accounts")).await.body;
        assert_eq!(accounts.as_array().unwrap().len(), 1, "{accounts}");
        assert_eq!(user_count(&db.database).await, 1);
    }
);

all_backends!(
    s43_verified_provider_email_does_not_take_an_unverified_account,
    |backend| async move {
        // Pre-hijacking: someone registered the victim's address with a password
        // first (never verified); the victim then signs in with the provider.
        let Some((db, server)) = setup(backend, None).await else {
            return;
        };
        let squatter = Browser::new(&server);
        squatter.sign_up(&server, "victim@example.com").await;
        let victim = Browser::new(&server);
        let resp = victim
            .social_sign_in(&server, sign_in_body("victim@example.com"))
            .await;
        assert_eq!(resp.error_code().as_deref(), Some("account_not_linked"));
        let accounts = squatter.get(&server.url("/list-accounts")).await.body;
        assert_eq!(accounts.as_array().unwrap().len(), 1, "{accounts}");
        assert_eq!(user_count(&db.database).await, 1);
    }
);

all_backends!(
    s43_verified_emails_on_both_sides_link,
    |backend| async move {
        let Some((db, server)) = setup(backend, None).await else {
            return;
        };
        let local = Browser::new(&server);
        let signed_up = local.sign_up(&server, "both@example.com").await;
        let user_id = signed_up.body["user"]["id"].as_str().unwrap().to_owned();
        better_auth::store::users::mark_email_verified(&db.database, &user_id, server.auth.now())
            .await
            .unwrap();
        let browser = Browser::new(&server);
        let resp = browser
            .social_sign_in(&server, sign_in_body("both@example.com"))
            .await;
        assert_eq!(resp.location(), "/dashboard");
        assert_eq!(
            browser.session(&server).await["user"]["id"],
            user_id.as_str()
        );
    }
);

all_backends!(
    s43_unverified_provider_email_is_not_linked_to_a_signed_in_user,
    |backend| async move {
        let Some((_db, server)) = setup(backend, None).await else {
            return;
        };
        let browser = Browser::new(&server);
        browser
            .sign_up(&server, "unverified-link@example.com")
            .await;
        let resp = browser
        .post(
            &server.url("/link-social"),
            json!({ "provider": "oidc", "callbackURL": "/", "errorCallbackURL": "/settings", "loginHint": "unverified-link@example.com" }),
        )
        .await;
        let callback = browser
            .follow_until(
                resp.body["url"].as_str().unwrap().to_owned(),
                &server.url("/callback/"),
            )
            .await;
        let done = browser.get(&callback).await;
        assert!(
            done.location().starts_with("/settings?"),
            "{}",
            done.location()
        );
        assert_eq!(done.error_code().as_deref(), Some("unable_to_link_account"));
        let accounts = browser.get(&server.url("/list-accounts")).await.body;
        assert_eq!(accounts.as_array().unwrap().len(), 1, "{accounts}");
    }
);

all_backends!(s44_redirect_targets_are_checked, |backend| async move {
    let Some((_db, server)) = setup(backend, None).await else {
        return;
    };
    let browser = Browser::new(&server);
    for field in ["callbackURL", "errorCallbackURL", "newUserCallbackURL"] {
        for target in [
            "https://evil.example/x",
            "//evil.example",
            "/\\evil.example",
        ] {
            let resp = browser
                .post(
                    &server.url("/sign-in/social"),
                    json!({ "provider": "oidc", field: target }),
                )
                .await;
            assert_eq!(resp.status, 403, "{field}={target}: {}", resp.text);
            assert_eq!(resp.body["code"], "INVALID_CALLBACKURL");
            assert!(
                resp.set_cookies().is_empty(),
                "no state for a refused start"
            );
        }
    }
    // The base URL's own origin is fine.
    let resp = browser
        .post(
            &server.url("/sign-in/social"),
            json!({ "provider": "oidc", "callbackURL": format!("{}/home", server.base), "disableRedirect": true }),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["redirect"], false);
    assert!(
        resp.body["url"]
            .as_str()
            .unwrap()
            .starts_with(&provider().unwrap().issuer)
    );
});

all_backends!(s45_provider_down_at_start_is_a_502, |backend| async move {
    if provider().is_none() {
        return;
    }
    let Some(db) = TestDb::open(backend).await else {
        return;
    };
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let bound = Bound::new().await;
    let social = SocialProvidersPlugin::new().provider(Oidc::new("oidc", issuer, "id", "secret"));
    let server = TestServer::start(bound, &db, social).await;
    let browser = Browser::new(&server);
    let resp = browser
        .post(
            &server.url("/sign-in/social"),
            sign_in_body("down@example.com"),
        )
        .await;
    assert_eq!(resp.status, 502, "{}", resp.text);
    assert_eq!(resp.body["code"], "PROVIDER_UNAVAILABLE");
});

all_backends!(
    s45_garbage_token_answer_redirects_with_a_code,
    |backend| async move {
        let Some((code, description, users)) = misbehaving(backend, "garbage").await else {
            return;
        };
        assert_eq!(code, "invalid_code");
        assert!(
            description.contains("not the JSON expected"),
            "{description}"
        );
        assert_eq!(users, 0);
    }
);

all_backends!(
    s45_token_endpoint_500_redirects_with_a_code,
    |backend| async move {
        let Some((code, description, users)) = misbehaving(backend, "error").await else {
            return;
        };
        assert_eq!(code, "invalid_code");
        assert!(description.contains("500"), "{description}");
        assert_eq!(users, 0);
    }
);

all_backends!(s46_provider_tokens_are_not_stored, |backend| async move {
    let Some((db, server)) = setup(backend, None).await else {
        return;
    };
    let browser = Browser::new(&server);
    let resp = browser
        .social_sign_in(&server, sign_in_body("tokens@example.com"))
        .await;
    assert_eq!(resp.location(), "/dashboard");
    let user_id = browser.session(&server).await["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stored = better_auth::store::accounts::list_for_user(&db.database, &user_id)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let tokens = crate::common::account_tokens(&db, &stored[0].id).await;
    assert_eq!(
        tokens,
        (None, None, None),
        "no access, refresh or ID token kept"
    );
});

all_backends!(
    s47_state_is_bound_to_its_provider_and_issuer,
    |backend| async move {
        let Some((_db, server)) = setup(backend, None).await else {
            return;
        };
        let browser = Browser::new(&server);
        // The issuer in the authorization response (RFC 9207) must be the provider's.
        let callback = browser
            .start_social(&server, sign_in_body("mixup@example.com"))
            .await;
        assert!(
            query_param(&callback, "iss").is_some(),
            "the provider sends iss"
        );
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in url::form_urlencoded::parse(callback.split_once('?').unwrap().1.as_bytes()) {
            query.append_pair(
                &k,
                if k == "iss" {
                    "http://evil.example"
                } else {
                    &v
                },
            );
        }
        let tampered = format!("{}?{}", callback.split_once('?').unwrap().0, query.finish());
        let resp = browser.get(&tampered).await;
        assert_eq!(resp.error_code().as_deref(), Some("issuer_mismatch"));

        // A state started for one provider does not finish at another's callback.
        let callback = browser
            .start_social(&server, sign_in_body("mixup@example.com"))
            .await;
        let elsewhere = callback.replace("/callback/oidc?", "/callback/github?");
        let resp = browser.get(&elsewhere).await;
        assert_eq!(resp.error_code().as_deref(), Some("state_mismatch"));
        assert_eq!(browser.session(&server).await, Value::Null);
    }
);
