//! Usernames through HTTP, on SQLite, PostgreSQL and MySQL: sign-up and update-user
//! with a username, sign-in by username, availability, and the security
//! requirement S72 by name.

use std::time::Duration;

use better_auth::rate_limit::RateLimitConfig;
use better_auth_test_support::browser::{Answer, Browser};
use better_auth_test_support::server::PluginServer;
use better_auth_test_support::{Backend, all_backends};
use better_auth_username::UsernamePlugin;
use serde_json::{Value, json};

const PASSWORD: &str = "a long username passphrase";

async fn on_server<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(PluginServer) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(server) = PluginServer::start(backend, |b| b.plugin(UsernamePlugin::new())).await {
        body(server).await;
    }
}

async fn sign_up(server: &PluginServer, email: &str, extra: Value) -> Answer {
    let mut body = json!({ "name": "Ada", "email": email, "password": PASSWORD });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    Browser::new(&server.base)
        .post("/sign-up/email", body)
        .await
}

async fn sign_in(browser: &mut Browser, username: &str, password: &str) -> Answer {
    browser
        .post(
            "/sign-in/username",
            json!({ "username": username, "password": password }),
        )
        .await
}

// Sign-up stores the username lower-cased and the display name as typed; the
// user object carries both everywhere; sign-in takes the username in any case.
all_backends!(
    sign_up_and_sign_in_by_username,
    on_server,
    |server: PluginServer| async move {
        let up = sign_up(
            &server,
            "ada@example.com",
            json!({ "username": "Ada.Lovelace" }),
        )
        .await;
        assert_eq!(up.status, 200, "{up:?}");
        assert_eq!(up.body["user"]["username"], "ada.lovelace");
        assert_eq!(up.body["user"]["displayUsername"], "Ada.Lovelace");

        let mut browser = Browser::new(&server.base);
        let answer = sign_in(&mut browser, "ADA.lovelace", PASSWORD).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(answer.body["redirect"], false);
        assert!(answer.body["token"].is_string());
        assert_eq!(answer.body["user"]["email"], "ada@example.com");
        let session = browser.get("/get-session").await;
        assert_eq!(
            session.body["user"]["username"], "ada.lovelace",
            "{session:?}"
        );

        // Without a username the fields are null; only a display name that
        // is a valid username becomes the username too.
        let plain = sign_up(&server, "plain@example.com", json!({})).await;
        assert_eq!(plain.body["user"]["username"], Value::Null, "{plain:?}");
        let display = sign_up(
            &server,
            "display@example.com",
            json!({ "displayUsername": "Grace_H" }),
        )
        .await;
        assert_eq!(display.body["user"]["username"], "grace_h", "{display:?}");
        assert_eq!(display.body["user"]["displayUsername"], "Grace_H");
        let spaced = sign_up(
            &server,
            "spaced@example.com",
            json!({ "displayUsername": "Grace Hopper" }),
        )
        .await;
        assert_eq!(spaced.status, 200, "{spaced:?}");
        assert_eq!(spaced.body["user"]["username"], Value::Null);
        assert_eq!(spaced.body["user"]["displayUsername"], "Grace Hopper");

        // Availability, in any case.
        let mut anyone = Browser::new(&server.base);
        let taken = anyone
            .post(
                "/is-username-available",
                json!({ "username": "ADA.LOVELACE" }),
            )
            .await;
        assert_eq!(taken.body, json!({ "available": false }));
        let free = anyone
            .post("/is-username-available", json!({ "username": "nobody" }))
            .await;
        assert_eq!(free.body, json!({ "available": true }));
        let bad = anyone
            .post("/is-username-available", json!({ "username": "a b" }))
            .await;
        assert_eq!(bad.status, 422, "{bad:?}");
        assert_eq!(bad.body["code"], "INVALID_USERNAME");
    }
);

// Usernames are checked and unique on sign-up and update-user; a user may
// keep (or re-case) their own.
all_backends!(
    usernames_are_valid_and_unique,
    on_server,
    |server: PluginServer| async move {
        for (name, code) in [
            ("ab", "USERNAME_TOO_SHORT"),
            ("a".repeat(31).as_str(), "USERNAME_TOO_LONG"),
            ("ada lovelace", "INVALID_USERNAME"),
            ("ädä", "INVALID_USERNAME"),
        ] {
            let refused = sign_up(&server, "x@example.com", json!({ "username": name })).await;
            assert_eq!(refused.status, 400, "{name}: {refused:?}");
            assert_eq!(refused.body["code"], code, "{name}");
        }
        let wrong_type = sign_up(&server, "x@example.com", json!({ "username": 7 })).await;
        assert_eq!(wrong_type.status, 400, "{wrong_type:?}");

        let first = sign_up(&server, "first@example.com", json!({ "username": "taken" })).await;
        assert_eq!(first.status, 200, "{first:?}");
        let second = sign_up(
            &server,
            "second@example.com",
            json!({ "username": "TAKEN" }),
        )
        .await;
        assert_eq!(second.status, 400, "{second:?}");
        assert_eq!(second.body["code"], "USERNAME_IS_ALREADY_TAKEN");

        let mut browser = Browser::new(&server.base);
        sign_up(&server, "third@example.com", json!({ "username": "third" })).await;
        assert_eq!(sign_in(&mut browser, "third", PASSWORD).await.status, 200);
        let steal = browser
            .post("/update-user", json!({ "username": "Taken" }))
            .await;
        assert_eq!(steal.status, 400, "{steal:?}");
        assert_eq!(steal.body["code"], "USERNAME_IS_ALREADY_TAKEN");
        let mine = browser
            .post(
                "/update-user",
                json!({ "username": "Third", "displayUsername": "Third" }),
            )
            .await;
        assert_eq!(mine.status, 200, "{mine:?}");
        let renamed = browser
            .post("/update-user", json!({ "username": "thirdly" }))
            .await;
        assert_eq!(renamed.status, 200, "{renamed:?}");
        let user = browser.get("/get-session").await.body["user"].clone();
        assert_eq!(user["username"], "thirdly");
        assert_eq!(user["displayUsername"], "Third");
        // The old name is free again; the new one signs in.
        let mut other = Browser::new(&server.base);
        assert_eq!(
            other
                .post("/is-username-available", json!({ "username": "third" }))
                .await
                .body,
            json!({ "available": true })
        );
        assert_eq!(sign_in(&mut other, "thirdly", PASSWORD).await.status, 200);
    }
);

// S72: sign-in by username answers an unknown username and a wrong password
// alike (401 INVALID_USERNAME_OR_PASSWORD; both go through the password
// sign-in of `/sign-in/email`, which checks a dummy hash for an unknown
// account), and its failures count against the account's throttle, which
// sign-in by email shares.
all_backends!(
    s72_username_sign_in_does_not_enumerate_and_shares_the_throttle,
    |backend: Backend| async move {
        let limits = RateLimitConfig::disabled();
        let Some(server) =
            PluginServer::start_with(backend, limits, |b| b.plugin(UsernamePlugin::new())).await
        else {
            return;
        };
        sign_up(&server, "s72@example.com", json!({ "username": "s72user" })).await;
        let mut browser = Browser::new(&server.base);
        let unknown = sign_in(&mut browser, "nobody", PASSWORD).await;
        let wrong = sign_in(&mut browser, "s72user", "not the passphrase at all").await;
        for answer in [&unknown, &wrong] {
            assert_eq!(answer.status, 401, "{answer:?}");
            assert_eq!(answer.body["code"], "INVALID_USERNAME_OR_PASSWORD");
            assert_eq!(answer.body["message"], "Invalid username or password");
        }
        assert_eq!(unknown.body, wrong.body);

        // Failures by email hold back the account's sign-in by username:
        // one budget per account, whichever name the client uses. (Another
        // account: the manual clock stands still, so the failure above holds
        // `s72user` back already.)
        sign_up(
            &server,
            "s72b@example.com",
            json!({ "username": "s72other" }),
        )
        .await;
        let mut locked = None;
        for i in 0..40 {
            let by_email = browser
                .post(
                    "/sign-in/email",
                    json!({ "email": "s72b@example.com", "password": format!("wrong password {i}") }),
                )
                .await;
            if by_email.status == 429 {
                locked = Some(i);
                break;
            }
        }
        let locked = locked.expect("the account's throttle holds back repeated failures");
        let right = sign_in(&mut browser, "s72other", PASSWORD).await;
        assert_eq!(right.status, 429, "after {locked} failures: {right:?}");
        server.clock.advance(Duration::from_secs(24 * 3600));
        let later = sign_in(&mut browser, "s72other", PASSWORD).await;
        assert_eq!(later.status, 200, "{later:?}");
    }
);

// The plugin's columns are added to a database once, with a unique index.
all_backends!(
    a_username_is_unique_in_the_database,
    on_server,
    |server: PluginServer| async move {
        sign_up(&server, "one@example.com", json!({ "username": "one" })).await;
        let duplicate =
            r#"UPDATE "user" SET "username" = 'one' WHERE "email" <> 'one@example.com'"#;
        sign_up(&server, "two@example.com", json!({ "username": "two" })).await;
        let db = &server.database;
        let refused = async {
            Ok::<_, better_auth::Error>(better_auth::store::with_pool!(db, |pool| {
                sqlx::query(duplicate).execute(pool).await.is_err()
            }))
        }
        .await
        .unwrap();
        assert!(refused, "the unique index refuses a second `one`");
    }
);
