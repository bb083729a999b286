//! A small OpenID provider written for the tests that need what a real one
//! will not do on request: a discovery document naming any endpoint, and a
//! signing key replaced under the same `kid`. Ed25519 keys; every
//! authorization signs `ada@example.com` in (verified).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use better_auth_social::{Oidc, SocialProvidersPlugin};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};

const CLIENT_ID: &str = "fake-client";
const CLIENT_SECRET: &str = "fake-secret";
const KID: &str = "key-1";

/// An Ed25519 key: its PKCS#8 document (to sign) and public JWK.
struct Key {
    pkcs8: Vec<u8>,
    jwk: Value,
}

impl Key {
    fn generate() -> Key {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
        Key {
            pkcs8: pkcs8.as_ref().to_vec(),
            jwk: json!({ "kty": "OKP", "crv": "Ed25519", "x": x, "kid": KID,
                         "alg": "EdDSA", "use": "sig" }),
        }
    }
}

struct Inner {
    issuer: String,
    /// Fields of the discovery document that replace the real endpoints.
    overrides: Mutex<serde_json::Map<String, Value>>,
    key: Mutex<Key>,
    /// code -> nonce.
    codes: Mutex<HashMap<String, String>>,
    /// ID-token claims that replace the defaults.
    claims: Mutex<serde_json::Map<String, Value>>,
    jwks_fetches: AtomicUsize,
}

/// A running fake provider on loopback.
#[derive(Clone)]
pub(crate) struct FakeOidc(Arc<Inner>);

impl FakeOidc {
    pub(crate) async fn start() -> FakeOidc {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let fake = FakeOidc(Arc::new(Inner {
            issuer,
            overrides: Mutex::new(serde_json::Map::new()),
            key: Mutex::new(Key::generate()),
            codes: Mutex::new(HashMap::new()),
            claims: Mutex::new(serde_json::Map::new()),
            jwks_fetches: AtomicUsize::new(0),
        }));
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/jwks", get(jwks))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    pub(crate) fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// The social plugin with this provider as `fake`.
    pub(crate) fn plugin(&self) -> SocialProvidersPlugin {
        SocialProvidersPlugin::new().provider(Oidc::new(
            "fake",
            self.issuer(),
            CLIENT_ID,
            CLIENT_SECRET,
        ))
    }

    /// Makes the discovery document say `value` for `field`.
    pub(crate) fn set_discovery(&self, field: &str, value: &str) {
        self.0
            .overrides
            .lock()
            .unwrap()
            .insert(field.to_owned(), json!(value));
    }

    /// Makes the ID tokens say `value` for `claim`.
    pub(crate) fn set_claim(&self, claim: &str, value: Value) {
        self.0
            .claims
            .lock()
            .unwrap()
            .insert(claim.to_owned(), value);
    }

    /// Replaces the signing key with a new one published under the same `kid`.
    pub(crate) fn rotate_key_keeping_kid(&self) {
        *self.0.key.lock().unwrap() = Key::generate();
    }

    /// How many times the key set was fetched.
    pub(crate) fn jwks_fetches(&self) -> usize {
        self.0.jwks_fetches.load(Ordering::SeqCst)
    }
}

async fn discovery(State(fake): State<FakeOidc>) -> Json<Value> {
    let issuer = &fake.0.issuer;
    let mut doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
    });
    for (field, value) in fake.0.overrides.lock().unwrap().iter() {
        doc[field] = value.clone();
    }
    Json(doc)
}

async fn authorize(
    State(fake): State<FakeOidc>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return (StatusCode::BAD_REQUEST, "unknown client").into_response();
    }
    let code = format!("code-{}", rand::random::<u64>());
    fake.0
        .codes
        .lock()
        .unwrap()
        .insert(code.clone(), q.get("nonce").cloned().unwrap_or_default());
    let mut target = url::Url::parse(&q["redirect_uri"]).unwrap();
    target
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &q["state"]);
    Redirect::to(target.as_str()).into_response()
}

async fn token(
    State(fake): State<FakeOidc>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(nonce) = form
        .get("code")
        .and_then(|code| fake.0.codes.lock().unwrap().remove(code))
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_grant" })),
        )
            .into_response();
    };
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": fake.0.issuer,
        "aud": CLIENT_ID,
        "sub": "fake-sub-ada",
        "iat": now,
        "exp": now + 600,
        "nonce": nonce,
        "email": "ada@example.com",
        "email_verified": true,
        "name": "Ada",
    });
    for (claim, value) in fake.0.claims.lock().unwrap().iter() {
        claims[claim] = value.clone();
    }
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(KID.to_owned());
    let id_token = {
        let key = fake.0.key.lock().unwrap();
        jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_ed_der(&key.pkcs8),
        )
        .unwrap()
    };
    Json(json!({
        "access_token": format!("at-{}", rand::random::<u64>()),
        "token_type": "Bearer",
        "expires_in": 600,
        "id_token": id_token,
        "scope": "openid email profile",
    }))
    .into_response()
}

async fn jwks(State(fake): State<FakeOidc>) -> Json<Value> {
    fake.0.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    Json(json!({ "keys": [fake.0.key.lock().unwrap().jwk.clone()] }))
}
