//! GitHub: a fake GitHub (OAuth 2.0 endpoints and its non-standard REST user
//! API) on loopback, since GitHub has no OpenID Connect to test against.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use better_auth_social::{GitHub, SocialProvidersPlugin};
use better_auth_test_support::all_backends;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{Backend, Bound, Browser, TestDb, TestServer, user_count};

const CLIENT_ID: &str = "gh-client";
const CLIENT_SECRET: &str = "gh-secret";

/// What the fake GitHub knows.
#[derive(Default)]
struct Fake {
    /// The user the next authorization signs in: (profile, emails).
    next_user: Option<(Value, Value)>,
    /// Codes handed out: code -> (PKCE challenge, redirect_uri, user).
    codes: HashMap<String, (String, String, (Value, Value))>,
    /// Access tokens -> user.
    tokens: HashMap<String, (Value, Value)>,
    /// `/user` answers HTML instead of JSON.
    garbage_user_api: bool,
}

type Shared = Arc<Mutex<Fake>>;

async fn authorize(
    State(fake): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || q.get("code_challenge_method").map(String::as_str) != Some("S256")
    {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let mut fake = fake.lock().unwrap();
    let user = fake.next_user.clone().expect("the test sets the next user");
    let code = format!("code-{}", fake.codes.len() + fake.tokens.len() + 1);
    fake.codes.insert(
        code.clone(),
        (q["code_challenge"].clone(), q["redirect_uri"].clone(), user),
    );
    let mut target = url::Url::parse(&q["redirect_uri"]).unwrap();
    target
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &q["state"]);
    Redirect::to(target.as_str()).into_response()
}

async fn access_token(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Json<Value> {
    assert_eq!(headers.get("accept").unwrap(), "application/json");
    let mut fake = fake.lock().unwrap();
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return Json(json!({ "error": "incorrect_client_credentials" }));
    }
    // GitHub answers a bad code with 200 and an `error` field.
    let Some((challenge, redirect_uri, user)) = fake.codes.remove(&form["code"]) else {
        return Json(json!({ "error": "bad_verification_code" }));
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let computed =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier));
    if computed != challenge || form.get("redirect_uri") != Some(&redirect_uri) {
        return Json(json!({ "error": "bad_verification_code" }));
    }
    let token = format!("gho_{}", fake.tokens.len() + 1);
    fake.tokens.insert(token.clone(), user);
    Json(json!({ "access_token": token, "token_type": "bearer", "scope": "read:user,user:email" }))
}

fn bearer_user(fake: &Fake, headers: &HeaderMap) -> Option<(Value, Value)> {
    let token = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    fake.tokens.get(token).cloned()
}

async fn user(State(fake): State<Shared>, headers: HeaderMap) -> Response {
    let fake = fake.lock().unwrap();
    if headers.get("user-agent").is_none() {
        return (StatusCode::FORBIDDEN, "GitHub requires a User-Agent").into_response();
    }
    if fake.garbage_user_api {
        return ([("content-type", "text/html")], "<html>unicorn</html>").into_response();
    }
    match bearer_user(&fake, &headers) {
        Some((profile, _)) => Json(profile).into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "message": "Bad credentials" })),
        )
            .into_response(),
    }
}

async fn emails(State(fake): State<Shared>, headers: HeaderMap) -> Response {
    let fake = fake.lock().unwrap();
    match bearer_user(&fake, &headers) {
        Some((_, emails)) => Json(emails).into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "message": "Bad credentials" })),
        )
            .into_response(),
    }
}

/// Starts the fake; returns its state and base URL.
async fn start_fake() -> (Shared, String) {
    let fake: Shared = Arc::default();
    let app = Router::new()
        .route("/login/oauth/authorize", get(authorize))
        .route("/login/oauth/access_token", post(access_token))
        .route("/user", get(user))
        .route("/user/emails", get(emails))
        .with_state(fake.clone());
    (fake, Bound::new().await.serve(app))
}

/// A server with GitHub pointing at the fake (the token endpoint elsewhere when given).
async fn setup(backend: Backend, token_url: Option<&str>) -> Option<(TestDb, TestServer, Shared)> {
    let db = TestDb::open(backend).await?;
    let (fake, base) = start_fake().await;
    let token = token_url.map_or_else(|| format!("{base}/login/oauth/access_token"), str::to_owned);
    let github = GitHub::new(CLIENT_ID, CLIENT_SECRET).endpoints(
        &format!("{base}/login/oauth/authorize"),
        &token,
        &base,
    );
    let server = TestServer::start(
        Bound::new().await,
        &db,
        SocialProvidersPlugin::new().provider(github),
    )
    .await;
    Some((db, server, fake))
}

fn octocat(verified: bool) -> (Value, Value) {
    (
        json!({ "id": 583231, "login": "octocat", "name": "The Octocat", "email": null,
                "avatar_url": "https://avatars.example/u/583231" }),
        json!([
            { "email": "old@example.com", "primary": false, "verified": true, "visibility": null },
            { "email": "Octocat@Example.com", "primary": true, "verified": verified, "visibility": "public" },
        ]),
    )
}

fn body() -> Value {
    json!({ "provider": "github", "callbackURL": "/home", "errorCallbackURL": "/login" })
}

all_backends!(
    github_sign_in_creates_user_from_the_user_api,
    |backend| async move {
        let Some((db, server, fake)) = setup(backend, None).await else {
            return;
        };
        fake.lock().unwrap().next_user = Some(octocat(true));
        let browser = Browser::new(&server);
        let resp = browser.social_sign_in(&server, body()).await;
        assert_eq!(resp.status, 302, "{}", resp.text);
        assert_eq!(resp.location(), "/home");
        let session = browser.session(&server).await;
        assert_eq!(
            session["user"]["email"], "octocat@example.com",
            "the primary address, lower-cased"
        );
        assert_eq!(session["user"]["emailVerified"], true);
        assert_eq!(session["user"]["name"], "The Octocat");
        assert_eq!(session["user"]["image"], "https://avatars.example/u/583231");
        let accounts = browser.get(&server.url("/list-accounts")).await.body;
        assert_eq!(accounts[0]["providerId"], "github");
        assert_eq!(accounts[0]["accountId"], "583231");
        assert_eq!(accounts[0]["scopes"], json!(["read:user", "user:email"]));

        // Again, from another browser: the same user.
        let again = Browser::new(&server);
        fake.lock().unwrap().next_user = Some(octocat(true));
        assert_eq!(
            again.social_sign_in(&server, body()).await.location(),
            "/home"
        );
        assert_eq!(
            again.session(&server).await["user"]["id"],
            session["user"]["id"]
        );
        assert_eq!(user_count(&db.database).await, 1);
    }
);

all_backends!(
    github_unverified_email_signs_up_but_never_links,
    |backend| async move {
        let Some((db, server, fake)) = setup(backend, None).await else {
            return;
        };
        // A verified local user with that address.
        let local = Browser::new(&server);
        let id = local.sign_up(&server, "octocat@example.com").await.body["user"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        better_auth::store::users::mark_email_verified(&db.database, &id, server.auth.now())
            .await
            .unwrap();
        fake.lock().unwrap().next_user = Some(octocat(false));
        let browser = Browser::new(&server);
        let resp = browser.social_sign_in(&server, body()).await;
        assert_eq!(resp.error_code().as_deref(), Some("account_not_linked"));
        assert_eq!(browser.session(&server).await, Value::Null);
        assert_eq!(user_count(&db.database).await, 1);
    }
);

all_backends!(
    github_user_api_garbage_redirects_with_a_code,
    |backend| async move {
        let Some((db, server, fake)) = setup(backend, None).await else {
            return;
        };
        {
            let mut fake = fake.lock().unwrap();
            fake.next_user = Some(octocat(true));
            fake.garbage_user_api = true;
        }
        let browser = Browser::new(&server);
        let resp = browser.social_sign_in(&server, body()).await;
        assert_eq!(resp.status, 302);
        assert!(
            resp.location().starts_with("/login?"),
            "{}",
            resp.location()
        );
        assert_eq!(
            resp.error_code().as_deref(),
            Some("unable_to_get_user_info")
        );
        assert_eq!(user_count(&db.database).await, 0);
    }
);

all_backends!(
    github_token_endpoint_down_redirects_with_a_code,
    |backend| async move {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let token_url = format!(
            "http://{}/login/oauth/access_token",
            closed.local_addr().unwrap()
        );
        drop(closed);
        let Some((db, server, fake)) = setup(backend, Some(&token_url)).await else {
            return;
        };
        fake.lock().unwrap().next_user = Some(octocat(true));
        let browser = Browser::new(&server);
        let resp = browser.social_sign_in(&server, body()).await;
        assert_eq!(resp.status, 302);
        assert!(
            resp.location().starts_with("/login?"),
            "{}",
            resp.location()
        );
        assert_eq!(resp.error_code().as_deref(), Some("invalid_code"));
        assert_eq!(user_count(&db.database).await, 0);
    }
);
