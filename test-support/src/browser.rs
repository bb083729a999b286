//! A browser for HTTP tests: one cookie jar, the app's origin on every
//! request, redirects not followed (a test looks at them).

use std::collections::HashMap;

use serde_json::{Value, json};

/// An answer: status, JSON body, the cookies it set (`""` = cleared), the
/// `set-auth-token` header and the `location` of a redirect.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
    /// The cookies set, by name; a cleared one is `""`.
    pub cookies: HashMap<String, String>,
    /// The `set-auth-token` header.
    pub auth_token: Option<String>,
    /// The `location` header.
    pub location: Option<String>,
}

/// A browser on one app whose auth routes are under `/api/auth`.
#[derive(Debug)]
pub struct Browser {
    base: String,
    http: reqwest::Client,
    /// Its cookies, by name.
    pub jar: HashMap<String, String>,
}

impl Browser {
    /// A browser with no cookies on the app at `base` (`http://127.0.0.1:PORT`).
    pub fn new(base: &str) -> Self {
        Browser {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client"),
            jar: HashMap::new(),
        }
    }

    /// `POST /api/auth{path}` with a JSON body.
    pub async fn post(&mut self, path: &str, body: Value) -> Answer {
        let url = format!("{}/api/auth{path}", self.base);
        self.send(reqwest::Method::POST, &url, Some(body)).await
    }

    /// `GET /api/auth{path}`.
    pub async fn get(&mut self, path: &str) -> Answer {
        let url = format!("{}/api/auth{path}", self.base);
        self.send(reqwest::Method::GET, &url, None).await
    }

    /// `GET url` (a link from an email, say), not following a redirect.
    pub async fn open(&mut self, url: &str) -> Answer {
        self.send(reqwest::Method::GET, url, None).await
    }

    async fn send(&mut self, method: reqwest::Method, url: &str, body: Option<Value>) -> Answer {
        let cookie = self
            .jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut request = self
            .http
            .request(method, url)
            .header("origin", &self.base)
            .header("cookie", cookie);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let resp = request.send().await.expect("the server answers");
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .map(|v| v.to_str().expect("an ASCII header").to_owned())
        };
        let auth_token = header("set-auth-token");
        let location = header("location");
        let mut cookies = HashMap::new();
        for line in resp.headers().get_all("set-cookie") {
            let line = line.to_str().expect("an ASCII cookie");
            let pair = line.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let cleared = value.is_empty() || line.to_ascii_lowercase().contains("max-age=0");
            if cleared {
                self.jar.remove(name);
                cookies.insert(name.to_owned(), String::new());
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
                cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let text = resp.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            body,
            cookies,
            auth_token,
            location,
        }
    }

    /// Signs out and checks the session is gone (other cookies stay, as in a browser).
    pub async fn sign_out(&mut self) {
        let answer = self.post("/sign-out", json!({})).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(self.get("/get-session").await.body, Value::Null);
    }
}
