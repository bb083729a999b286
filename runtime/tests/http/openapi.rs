//! `/reference/openapi.json`: every mounted route is documented, every
//! documented route is mounted, and real responses validate against the
//! documented schemas.

use std::sync::Arc;

use better_auth::plugins::EmailPasswordPlugin;
use better_auth::store::Database;
use better_auth::{AuthConfig, BetterAuth, run_migrations};
use better_auth_test_support::all_backends;
use serde_json::{Value, json};

use crate::common::*;

/// Every endpoint the wire format names (method, path relative to the mount).
const WIRE_ENDPOINTS: &[(&str, &str)] = &[
    ("POST", "/sign-up/email"),
    ("POST", "/sign-in/email"),
    ("POST", "/sign-out"),
    ("GET", "/get-session"),
    ("GET", "/list-sessions"),
    ("POST", "/revoke-session"),
    ("POST", "/revoke-sessions"),
    ("POST", "/revoke-other-sessions"),
    ("POST", "/update-user"),
    ("POST", "/delete-user"),
    ("POST", "/change-email"),
    ("POST", "/change-password"),
    ("POST", "/request-password-reset"),
    ("POST", "/forget-password"),
    ("GET", "/reset-password/{token}"),
    ("POST", "/reset-password"),
    ("POST", "/send-verification-email"),
    ("GET", "/verify-email"),
    ("GET", "/list-accounts"),
    ("POST", "/unlink-account"),
    ("GET", "/ok"),
    ("GET", "/reference/openapi.json"),
];

async fn document(srv: &TestServer) -> Value {
    let resp = srv.get("/api/auth/reference/openapi.json").send().await;
    assert_eq!(resp.status, 200);
    resp.body
}

fn documented(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.push((method.to_uppercase(), path.clone()));
        }
    }
    out.sort();
    out
}

/// Probes a route on the server: anything but 404/405 means it is mounted.
async fn is_mounted(srv: &TestServer, method: &str, path: &str) -> bool {
    let url = format!("/api/auth{}", path.replace("{token}", "x"));
    let resp = match method {
        "GET" => srv.get(&url).send().await,
        _ => srv.post(&url).json(json!({})).send().await,
    };
    resp.status != 404 && resp.status != 405
}

all_backends!(
    openapi_documents_exactly_the_mounted_routes,
    with_server,
    |srv: TestServer| async move {
        let doc = document(&srv).await;
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["servers"][0]["url"], "http://localhost:3000/api/auth");
        let documented = documented(&doc);
        // Documented => mounted.
        for (method, path) in &documented {
            assert!(
                is_mounted(&srv, method, path).await,
                "{method} {path} documented but not mounted"
            );
        }
        // Mounted => documented: every known endpoint that answers is in the document.
        for (method, path) in WIRE_ENDPOINTS {
            if is_mounted(&srv, method, path).await {
                assert!(
                    documented.contains(&(method.to_string(), path.to_string())),
                    "{method} {path} mounted but not documented"
                );
            }
        }
        assert_eq!(
            documented.len(),
            WIRE_ENDPOINTS.len(),
            "all plugins mounted here"
        );
        // Every operation documents its errors with the error schema.
        for (_, item) in doc["paths"].as_object().unwrap() {
            for (_, op) in item.as_object().unwrap() {
                assert!(
                    op["responses"]["500"]["content"]["application/json"]["schema"]["$ref"]
                        .as_str()
                        .unwrap()
                        .ends_with("/ErrorBody")
                );
            }
        }
    }
);

#[tokio::test]
async fn openapi_lists_only_the_plugins_present() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    run_migrations(&db).await.unwrap();
    let auth = Arc::new(
        BetterAuth::new(AuthConfig::new(SECRET))
            .database(db)
            .plugin(EmailPasswordPlugin::new())
            .build()
            .await
            .unwrap(),
    );
    let doc: Value = serde_json::from_str(auth.openapi_json()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/sign-in/email"));
    assert!(paths.contains_key("/get-session"));
    for absent in [
        "/list-sessions",
        "/change-password",
        "/list-accounts",
        "/reset-password",
    ] {
        assert!(
            !paths.contains_key(absent),
            "{absent} documented without its plugin"
        );
    }
}

/// A small JSON Schema (2020-12 subset, as utoipa emits it) validator:
/// `$ref`, `type` (string or list), `properties`, `required`, `items`,
/// `oneOf`, `anyOf`, `enum`, and the `date-time` format.
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap();
        let target = &doc["components"]["schemas"][name];
        assert!(!target.is_null(), "dangling $ref {reference}");
        return validate(doc, target, value, at, errors);
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = options
            .iter()
            .filter(|option| {
                let mut e = Vec::new();
                validate(doc, option, value, at, &mut e);
                e.is_empty()
            })
            .count();
        if matching != 1 {
            errors.push(format!("{at}: matches {matching} of oneOf"));
        }
        return;
    }
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array) {
        let matches = options.iter().any(|option| {
            let mut e = Vec::new();
            validate(doc, option, value, at, &mut e);
            e.is_empty()
        });
        if !matches {
            errors.push(format!("{at}: matches none of anyOf"));
        }
        return;
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let ok = types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
        if !ok {
            errors.push(format!("{at}: {actual} is not {types:?}"));
            return;
        }
    }
    if schema.get("format").and_then(Value::as_str) == Some("date-time") {
        if let Some(text) = value.as_str() {
            if chrono::DateTime::parse_from_rfc3339(text).is_err() {
                errors.push(format!("{at}: `{text}` is not date-time"));
            }
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            errors.push(format!("{at}: {value} not in enum"));
        }
    }
    if let (Some(props), Some(object)) = (
        schema.get("properties").and_then(Value::as_object),
        value.as_object(),
    ) {
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = required.as_str().unwrap();
            if !object.contains_key(key) {
                errors.push(format!("{at}: missing required `{key}`"));
            }
        }
        for (key, field) in object {
            match props.get(key) {
                Some(field_schema) => {
                    validate(doc, field_schema, field, &format!("{at}.{key}"), errors)
                }
                None => errors.push(format!("{at}: undocumented field `{key}`")),
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            validate(doc, items, item, &format!("{at}[{i}]"), errors);
        }
    }
}

/// Checks one real response against the document.
fn check(doc: &Value, method: &str, path: &str, resp: &Resp) {
    let op = &doc["paths"][path][method.to_lowercase()];
    assert!(!op.is_null(), "{method} {path} not documented");
    let documented = &op["responses"][resp.status.to_string()];
    assert!(
        !documented.is_null(),
        "{method} {path}: status {} not documented",
        resp.status
    );
    if let Some(schema) = documented.pointer("/content/application~1json/schema") {
        let mut errors = Vec::new();
        validate(doc, schema, &resp.body, "$", &mut errors);
        assert!(
            errors.is_empty(),
            "{method} {path} {}: {errors:?}\n{}",
            resp.status,
            resp.body
        );
    }
}

all_backends!(
    openapi_real_responses_validate_against_the_document,
    with_server,
    |srv: TestServer| async move {
        let doc = document(&srv).await;
        let a = |p: &str| format!("/api/auth{p}");
        let up = srv.sign_up("ada@example.com").await;
        check(&doc, "POST", "/sign-up/email", &up);
        check(
            &doc,
            "POST",
            "/sign-up/email",
            &srv.sign_up("ada@example.com").await,
        );
        check(
            &doc,
            "POST",
            "/sign-up/email",
            &srv.post(&a("/sign-up/email")).json(json!({})).send().await,
        );
        let token = up.auth_token();
        check(
            &doc,
            "POST",
            "/sign-in/email",
            &srv.sign_in("ada@example.com", PASSWORD).await,
        );
        check(
            &doc,
            "POST",
            "/sign-in/email",
            &srv.sign_in("ada@example.com", "wrong password").await,
        );
        check(
            &doc,
            "GET",
            "/get-session",
            &srv.get(&a("/get-session")).bearer(&token).send().await,
        );
        check(
            &doc,
            "GET",
            "/get-session",
            &srv.get(&a("/get-session")).send().await,
        );
        check(
            &doc,
            "GET",
            "/list-sessions",
            &srv.get(&a("/list-sessions")).bearer(&token).send().await,
        );
        check(
            &doc,
            "GET",
            "/list-sessions",
            &srv.get(&a("/list-sessions")).send().await,
        );
        check(
            &doc,
            "GET",
            "/list-accounts",
            &srv.get(&a("/list-accounts")).bearer(&token).send().await,
        );
        check(&doc, "GET", "/ok", &srv.get(&a("/ok")).send().await);
        check(
            &doc,
            "POST",
            "/update-user",
            &srv.post(&a("/update-user"))
                .bearer(&token)
                .json(json!({ "name": "A" }))
                .send()
                .await,
        );
        check(
            &doc,
            "POST",
            "/update-user",
            &srv.post(&a("/update-user"))
                .bearer(&token)
                .json(json!({ "x": 1 }))
                .send()
                .await,
        );
        check(
            &doc,
            "POST",
            "/change-email",
            &srv.post(&a("/change-email"))
                .bearer(&token)
                .json(json!({ "newEmail": "new@example.com" }))
                .send()
                .await,
        );
        check(
            &doc,
            "POST",
            "/send-verification-email",
            &srv.post(&a("/send-verification-email"))
                .json(json!({ "email": "ada@example.com" }))
                .send()
                .await,
        );
        let mail = srv.outbox.wait_for("ada@example.com", 1).await.unwrap();
        let verify = mail.url.strip_prefix(ORIGIN).unwrap().to_owned();
        check(&doc, "GET", "/verify-email", &srv.get(&verify).send().await);
        check(&doc, "GET", "/verify-email", &srv.get(&verify).send().await);
        check(
            &doc,
            "POST",
            "/request-password-reset",
            &srv.post(&a("/request-password-reset"))
                .json(json!({ "email": "ada@example.com" }))
                .send()
                .await,
        );
        check(
            &doc,
            "POST",
            "/forget-password",
            &srv.post(&a("/forget-password"))
                .json(json!({ "email": "x@example.com" }))
                .send()
                .await,
        );
        check(
            &doc,
            "GET",
            "/reset-password/{token}",
            &srv.get(&a("/reset-password/bad?callbackURL=%2Fr"))
                .send()
                .await,
        );
        check(
            &doc,
            "POST",
            "/reset-password",
            &srv.post(&a("/reset-password"))
                .json(json!({ "token": "bad", "newPassword": "whatever123" }))
                .send()
                .await,
        );
        check(
            &doc,
            "POST",
            "/change-password",
            &srv.post(&a("/change-password"))
                .bearer(&token)
                .json(json!({ "currentPassword": PASSWORD, "newPassword": "another password" }))
                .send()
                .await,
        );
        check(
            &doc,
            "POST",
            "/unlink-account",
            &srv.post(&a("/unlink-account"))
                .bearer(&token)
                .json(json!({ "providerId": "credential" }))
                .send()
                .await,
        );
        let second = srv
            .sign_in("ada@example.com", "another password")
            .await
            .auth_token();
        check(
            &doc,
            "POST",
            "/revoke-session",
            &srv.post(&a("/revoke-session"))
                .bearer(&second)
                .json(json!({ "token": "nothing" }))
                .send()
                .await,
        );
        check(
            &doc,
            "POST",
            "/revoke-other-sessions",
            &srv.post(&a("/revoke-other-sessions"))
                .bearer(&second)
                .json(json!({}))
                .send()
                .await,
        );
        check(
            &doc,
            "POST",
            "/revoke-other-sessions",
            &srv.post(&a("/revoke-other-sessions"))
                .header("cookie", "a=b")
                .json(json!({}))
                .send()
                .await,
        );
        check(
            &doc,
            "POST",
            "/sign-out",
            &srv.post(&a("/sign-out"))
                .bearer(&second)
                .json(json!({}))
                .send()
                .await,
        );
        let third = srv
            .sign_in("ada@example.com", "another password")
            .await
            .auth_token();
        check(
            &doc,
            "POST",
            "/revoke-sessions",
            &srv.post(&a("/revoke-sessions"))
                .bearer(&third)
                .json(json!({}))
                .send()
                .await,
        );
        let fourth = srv
            .sign_in("ada@example.com", "another password")
            .await
            .auth_token();
        check(
            &doc,
            "POST",
            "/delete-user",
            &srv.post(&a("/delete-user"))
                .bearer(&fourth)
                .json(json!({}))
                .send()
                .await,
        );
    }
);
