//! Passkeys through HTTP, on SQLite, PostgreSQL and MySQL, with a software
//! authenticator (P-256 or Ed25519 keys from ring) answering the options as a
//! browser's `navigator.credentials` would: registration, sign-in, the
//! owner's list/rename/delete, and the security requirement S73 by name.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use better_auth_passkey::PasskeyPlugin;
use better_auth_test_support::browser::{Answer, Browser};
use better_auth_test_support::server::PluginServer;
use better_auth_test_support::{Backend, all_backends};
use ciborium::Value as Cbor;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};

const PASSWORD: &str = "a long passkey passphrase";

/// A key pair as its PKCS#8 document (ring's pairs cannot be copied).
#[derive(Clone)]
enum Key {
    P256(Vec<u8>),
    Ed25519(Vec<u8>),
}

const P256: &signature::EcdsaSigningAlgorithm = &signature::ECDSA_P256_SHA256_ASN1_SIGNING;

impl Key {
    fn new(ed25519: bool) -> Key {
        let rng = SystemRandom::new();
        if ed25519 {
            Key::Ed25519(
                Ed25519KeyPair::generate_pkcs8(&rng)
                    .unwrap()
                    .as_ref()
                    .to_vec(),
            )
        } else {
            Key::P256(
                EcdsaKeyPair::generate_pkcs8(P256, &rng)
                    .unwrap()
                    .as_ref()
                    .to_vec(),
            )
        }
    }

    fn public_key(&self) -> Vec<u8> {
        match self {
            Key::P256(doc) => EcdsaKeyPair::from_pkcs8(P256, doc, &SystemRandom::new())
                .unwrap()
                .public_key()
                .as_ref()
                .to_vec(),
            Key::Ed25519(doc) => Ed25519KeyPair::from_pkcs8(doc)
                .unwrap()
                .public_key()
                .as_ref()
                .to_vec(),
        }
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            Key::P256(doc) => EcdsaKeyPair::from_pkcs8(P256, doc, &rng)
                .unwrap()
                .sign(&rng, message)
                .unwrap()
                .as_ref()
                .to_vec(),
            Key::Ed25519(doc) => Ed25519KeyPair::from_pkcs8(doc)
                .unwrap()
                .sign(message)
                .as_ref()
                .to_vec(),
        }
    }
}

/// One credential on a software authenticator.
#[derive(Clone)]
struct Authenticator {
    key: Key,
    credential_id: Vec<u8>,
    counter: u32,
    /// The origin its "browser" reports, and the relying party id it signs for.
    origin: String,
    rp_id: String,
}

fn int(i: i64) -> Cbor {
    Cbor::Integer(i.into())
}

impl Authenticator {
    fn new(server: &PluginServer, ed25519: bool) -> Self {
        let mut credential_id = vec![0u8; 20];
        ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut credential_id).unwrap();
        Authenticator {
            key: Key::new(ed25519),
            credential_id,
            counter: 0,
            origin: server.base.clone(),
            rp_id: "127.0.0.1".to_owned(),
        }
    }

    fn id(&self) -> String {
        B64.encode(&self.credential_id)
    }

    fn cose_key(&self) -> Vec<u8> {
        let public = self.key.public_key();
        let map = match &self.key {
            Key::P256(_) => {
                let point = public.as_slice();
                Cbor::Map(vec![
                    (int(1), int(2)),
                    (int(3), int(-7)),
                    (int(-1), int(1)),
                    (int(-2), Cbor::Bytes(point[1..33].to_vec())),
                    (int(-3), Cbor::Bytes(point[33..].to_vec())),
                ])
            }
            Key::Ed25519(_) => Cbor::Map(vec![
                (int(1), int(1)),
                (int(3), int(-8)),
                (int(-1), int(6)),
                (int(-2), Cbor::Bytes(public)),
            ]),
        };
        let mut bytes = Vec::new();
        ciborium::into_writer(&map, &mut bytes).unwrap();
        bytes
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false
        }))
        .unwrap()
    }

    fn auth_data(&self, flags: u8, attested: bool) -> Vec<u8> {
        let mut data = ring::digest::digest(&ring::digest::SHA256, self.rp_id.as_bytes())
            .as_ref()
            .to_vec();
        data.push(flags);
        data.extend_from_slice(&self.counter.to_be_bytes());
        if attested {
            data.extend_from_slice(&[7u8; 16]);
            data.extend_from_slice(&(self.credential_id.len() as u16).to_be_bytes());
            data.extend_from_slice(&self.credential_id);
            data.extend_from_slice(&self.cose_key());
        }
        data
    }

    /// `RegistrationResponseJSON` for creation options.
    fn create(&self, options: &Value) -> Value {
        let challenge = options["challenge"].as_str().unwrap();
        let object = Cbor::Map(vec![
            (Cbor::Text("fmt".into()), Cbor::Text("none".into())),
            (Cbor::Text("attStmt".into()), Cbor::Map(vec![])),
            // UP | UV | BE | BS | AT
            (
                Cbor::Text("authData".into()),
                Cbor::Bytes(self.auth_data(0x01 | 0x04 | 0x08 | 0x10 | 0x40, true)),
            ),
        ]);
        let mut attestation = Vec::new();
        ciborium::into_writer(&object, &mut attestation).unwrap();
        json!({
            "id": self.id(), "rawId": self.id(), "type": "public-key",
            "response": {
                "clientDataJSON": B64.encode(self.client_data("webauthn.create", challenge)),
                "attestationObject": B64.encode(attestation),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {},
        })
    }

    /// `AuthenticationResponseJSON` for request options; the counter moves first.
    fn get(&mut self, options: &Value) -> Value {
        self.counter += 1;
        let challenge = options["challenge"].as_str().unwrap();
        let client_data = self.client_data("webauthn.get", challenge);
        let auth_data = self.auth_data(0x01 | 0x04, false);
        let mut signed = auth_data.clone();
        signed
            .extend_from_slice(ring::digest::digest(&ring::digest::SHA256, &client_data).as_ref());
        let sig = self.key.sign(&signed);
        json!({
            "id": self.id(), "rawId": self.id(), "type": "public-key",
            "response": {
                "clientDataJSON": B64.encode(client_data),
                "authenticatorData": B64.encode(auth_data),
                "signature": B64.encode(sig),
            },
            "clientExtensionResults": {},
        })
    }
}

async fn on_server<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(PluginServer) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(server) = PluginServer::start(backend, |b| b.plugin(PasskeyPlugin::new())).await {
        body(server).await;
    }
}

/// A signed-in browser of a new user.
async fn user(server: &PluginServer, email: &str) -> Browser {
    let mut browser = Browser::new(&server.base);
    let up = browser
        .post(
            "/sign-up/email",
            json!({ "name": "Pia", "email": email, "password": PASSWORD }),
        )
        .await;
    assert_eq!(up.status, 200, "{up:?}");
    browser
}

/// Registers the authenticator's credential for the browser's user.
async fn register(browser: &mut Browser, authenticator: &Authenticator, name: &str) -> Answer {
    let options = browser.get("/passkey/generate-register-options").await;
    assert_eq!(options.status, 200, "{options:?}");
    browser
        .post(
            "/passkey/verify-registration",
            json!({ "response": authenticator.create(&options.body), "name": name }),
        )
        .await
}

/// Signs in with the authenticator from `browser`.
async fn sign_in(browser: &mut Browser, authenticator: &mut Authenticator) -> Answer {
    let options = browser.get("/passkey/generate-authenticate-options").await;
    assert_eq!(options.status, 200, "{options:?}");
    let response = authenticator.get(&options.body);
    browser
        .post(
            "/passkey/verify-authentication",
            json!({ "response": response }),
        )
        .await
}

// Register a passkey (P-256, then Ed25519), sign out, sign in with each.
all_backends!(
    register_and_sign_in,
    on_server,
    |server: PluginServer| async move {
        let mut browser = user(&server, "pia@example.com").await;
        let options = browser.get("/passkey/generate-register-options").await;
        assert_eq!(options.body["rp"]["id"], "127.0.0.1");
        assert_eq!(options.body["attestation"], "none");
        assert_eq!(options.body["excludeCredentials"], json!([]));
        assert_ne!(options.body["user"]["id"], Value::Null);

        let mut p256 = Authenticator::new(&server, false);
        let stored = register(&mut browser, &p256, "Laptop").await;
        assert_eq!(stored.status, 200, "{stored:?}");
        assert_eq!(stored.body["name"], "Laptop");
        assert_eq!(stored.body["credentialID"], p256.id());
        assert_eq!(stored.body["deviceType"], "multiDevice");
        assert_eq!(stored.body["backedUp"], true);
        assert_eq!(stored.body["transports"], "internal,hybrid");
        assert_eq!(
            stored.body["aaguid"],
            "07070707-0707-0707-0707-070707070707"
        );
        let mut ed25519 = Authenticator::new(&server, true);
        assert_eq!(register(&mut browser, &ed25519, "Key").await.status, 200);
        // The next registration excludes both.
        let again = browser.get("/passkey/generate-register-options").await;
        assert_eq!(
            again.body["excludeCredentials"].as_array().unwrap().len(),
            2
        );

        browser.sign_out().await;
        let mut stranger = Browser::new(&server.base);
        for authenticator in [&mut p256, &mut ed25519] {
            let signed_in = sign_in(&mut stranger, authenticator).await;
            assert_eq!(signed_in.status, 200, "{signed_in:?}");
            assert_eq!(signed_in.body["user"]["email"], "pia@example.com");
            assert!(signed_in.body["session"]["token"].is_string());
            assert_eq!(
                stranger.get("/get-session").await.body["user"]["email"],
                "pia@example.com"
            );
            // Signed in, the options list the user's passkeys.
            let options = stranger.get("/passkey/generate-authenticate-options").await;
            assert_eq!(
                options.body["allowCredentials"].as_array().unwrap().len(),
                2
            );
            stranger.sign_out().await;
        }
    }
);

// The owner lists, renames and deletes; another user's ids are 404 alike.
all_backends!(
    list_rename_delete,
    on_server,
    |server: PluginServer| async move {
        let mut owner = user(&server, "owner@example.com").await;
        let authenticator = Authenticator::new(&server, false);
        let id = register(&mut owner, &authenticator, "Phone").await.body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let list = owner.get("/passkey/list-user-passkeys").await;
        assert_eq!(list.body.as_array().unwrap().len(), 1, "{list:?}");
        assert_eq!(list.body[0]["id"], id.as_str());

        let mut other = user(&server, "other@example.com").await;
        assert_eq!(
            other.get("/passkey/list-user-passkeys").await.body,
            json!([])
        );
        let rename = other
            .post(
                "/passkey/update-passkey",
                json!({ "id": id, "name": "Mine" }),
            )
            .await;
        assert_eq!(rename.status, 404, "{rename:?}");
        let delete = other
            .post("/passkey/delete-passkey", json!({ "id": id }))
            .await;
        assert_eq!(delete.status, 404, "{delete:?}");
        let missing = other
            .post("/passkey/delete-passkey", json!({ "id": "no-such-id" }))
            .await;
        assert_eq!(missing.body, delete.body);

        let renamed = owner
            .post(
                "/passkey/update-passkey",
                json!({ "id": id, "name": " Work phone " }),
            )
            .await;
        assert_eq!(renamed.status, 200, "{renamed:?}");
        assert_eq!(renamed.body["passkey"]["name"], "Work phone");
        let deleted = owner
            .post("/passkey/delete-passkey", json!({ "id": id }))
            .await;
        assert_eq!(deleted.body, json!({ "status": true }));
        assert_eq!(
            owner.get("/passkey/list-user-passkeys").await.body,
            json!([])
        );
        // Signed-out clients reach none of it.
        let mut anonymous = Browser::new(&server.base);
        assert_eq!(
            anonymous.get("/passkey/list-user-passkeys").await.status,
            401
        );
        assert_eq!(
            anonymous
                .get("/passkey/generate-register-options")
                .await
                .status,
            401
        );
    }
);

// S73: a passkey signs in only with a fresh signature over this server's
// single-use challenge, for this site (relying party id and a trusted
// origin), by the key registered, with a counter that moved; registration
// needs a fresh session of the user who started it, and a credential is
// registered once.
all_backends!(
    s73_passkey_ceremonies_are_bound_and_single_use,
    on_server,
    |server: PluginServer| async move {
        let mut owner = user(&server, "s73@example.com").await;
        let mut authenticator = Authenticator::new(&server, false);
        assert_eq!(register(&mut owner, &authenticator, "A").await.status, 200);
        // Registered once, whoever asks.
        let twice = register(&mut owner, &authenticator, "A again").await;
        assert_eq!(twice.status, 400, "{twice:?}");
        assert_eq!(twice.body["code"], "PREVIOUSLY_REGISTERED");
        let mut other = user(&server, "s73-other@example.com").await;
        assert_eq!(
            register(&mut other, &authenticator, "theirs").await.status,
            400
        );

        // A replayed answer: its challenge is used up.
        let mut browser = Browser::new(&server.base);
        let options = browser.get("/passkey/generate-authenticate-options").await;
        let answer = authenticator.get(&options.body);
        let cookies = browser.jar.clone();
        let first = browser
            .post(
                "/passkey/verify-authentication",
                json!({ "response": answer }),
            )
            .await;
        assert_eq!(first.status, 200, "{first:?}");
        let mut replay = Browser::new(&server.base);
        replay.jar = cookies;
        let again = replay
            .post(
                "/passkey/verify-authentication",
                json!({ "response": answer }),
            )
            .await;
        assert_eq!(again.status, 400, "{again:?}");
        assert_eq!(again.body["code"], "CHALLENGE_NOT_FOUND");
        // Without the ceremony's cookie (another browser): nothing to answer.
        let mut elsewhere = Browser::new(&server.base);
        let foreign = elsewhere
            .post(
                "/passkey/verify-authentication",
                json!({ "response": answer }),
            )
            .await;
        assert_eq!(foreign.body["code"], "CHALLENGE_NOT_FOUND");

        // A cloned authenticator: a valid signature whose counter did not move.
        let mut clone = Browser::new(&server.base);
        let options = clone.get("/passkey/generate-authenticate-options").await;
        authenticator.counter -= 1;
        let stale = authenticator.get(&options.body);
        let refused = clone
            .post(
                "/passkey/verify-authentication",
                json!({ "response": stale }),
            )
            .await;
        assert_eq!(refused.status, 401, "{refused:?}");
        assert_eq!(refused.body["code"], "AUTHENTICATION_FAILED");

        // Another site's origin, another relying party, another key, an old challenge.
        let bad_origin = |a: &mut Authenticator| a.origin = "https://evil.example".into();
        let bad_rp = |a: &mut Authenticator| a.rp_id = "evil.example".into();
        let bad_key = |a: &mut Authenticator| a.key = Key::new(false);
        for (what, spoil) in [
            ("origin", &bad_origin as &dyn Fn(&mut Authenticator)),
            ("relying party", &bad_rp),
            ("key", &bad_key),
        ] {
            let mut spoiled = authenticator.clone();
            spoil(&mut spoiled);
            spoiled.counter = authenticator.counter + 10;
            let refused = sign_in(&mut Browser::new(&server.base), &mut spoiled).await;
            assert_eq!(refused.status, 401, "{what}: {refused:?}");
        }
        let mut late = Browser::new(&server.base);
        let options = late.get("/passkey/generate-authenticate-options").await;
        server.clock.advance(Duration::from_secs(301));
        let answer = authenticator.get(&options.body);
        let expired = late
            .post(
                "/passkey/verify-authentication",
                json!({ "response": answer }),
            )
            .await;
        assert_eq!(expired.body["code"], "CHALLENGE_NOT_FOUND", "{expired:?}");
        // The real authenticator still signs in.
        let ok = sign_in(&mut Browser::new(&server.base), &mut authenticator).await;
        assert_eq!(ok.status, 200, "{ok:?}");

        // Registration: a ceremony started by one user cannot be finished by another.
        let options = owner.get("/passkey/generate-register-options").await;
        let mut thief = user(&server, "s73-thief@example.com").await;
        thief.jar.insert(
            "better-auth.better-auth-passkey".into(),
            owner.jar["better-auth.better-auth-passkey"].clone(),
        );
        let stolen = thief
            .post(
                "/passkey/verify-registration",
                json!({ "response": Authenticator::new(&server, false).create(&options.body) }),
            )
            .await;
        assert_eq!(stolen.status, 401, "{stolen:?}");
        assert_eq!(
            stolen.body["code"],
            "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY"
        );
        // And a session older than a day cannot add a passkey.
        server.clock.advance(Duration::from_secs(25 * 3600));
        let mut old = Browser::new(&server.base);
        old.jar = thief.jar.clone();
        let stale = old.get("/passkey/generate-register-options").await;
        assert_eq!(stale.status, 403, "{stale:?}");
        assert_eq!(stale.body["code"], "SESSION_NOT_FRESH");
    }
);
