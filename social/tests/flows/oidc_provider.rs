//! The real OpenID provider (npm `oidc-provider`, `scripts/oidc-provider/`),
//! installed into `target/oidc-provider` and started once per test binary.
//! Without node and npm the tests that need it print `SKIPPED ...` and pass,
//! unless `BETTER_AUTH_REQUIRE_NODE=1` (CI) makes that a failure.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use serde_json::{Value, json};

use crate::common::notice;

/// A running provider. Its standard input is held open: the provider exits
/// when this test process ends and the pipe closes.
pub(crate) struct OidcProvider {
    pub(crate) issuer: String,
    _child: Mutex<(Child, ChildStdin)>,
}

/// A client registered with the provider.
pub(crate) struct RegisteredClient {
    pub(crate) id: String,
    pub(crate) secret: String,
}

static PROVIDER: OnceLock<Result<OidcProvider, String>> = OnceLock::new();

/// The provider, started on first use; `None` (saying so for each test)
/// when node or npm are missing and CI did not ask for them.
pub(crate) fn provider() -> Option<&'static OidcProvider> {
    match PROVIDER.get_or_init(start) {
        Ok(provider) => Some(provider),
        Err(why) => {
            if std::env::var("BETTER_AUTH_REQUIRE_NODE").is_ok_and(|v| v == "1") {
                panic!("the OpenID provider for the social tests could not start: {why}");
            }
            notice(&format!(
                "SKIPPED social sign-in test against a real OpenID provider: {why} \
                 (install node and npm; CI sets BETTER_AUTH_REQUIRE_NODE=1 to require them)"
            ));
            None
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Installs the provider's npm packages into `target/oidc-provider` (once).
pub(crate) fn install() -> Result<PathBuf, String> {
    for tool in ["node", "npm"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            return Err(format!("`{tool}` is not installed"));
        }
    }
    let source = workspace_root().join("scripts/oidc-provider");
    let dir = target_dir().join("oidc-provider");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    for file in ["package.json", "server.mjs"] {
        std::fs::copy(source.join(file), dir.join(file))
            .map_err(|e| format!("copying {file}: {e}"))?;
    }
    if !dir.join("node_modules/oidc-provider/package.json").exists() {
        notice(&format!(
            "installing oidc-provider (npm) into {}",
            dir.display()
        ));
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent"])
            .current_dir(&dir)
            .status()
            .map_err(|e| format!("running npm install: {e}"))?;
        if !status.success() {
            return Err(format!("`npm install` in {} failed", dir.display()));
        }
    }
    Ok(dir)
}

fn start() -> Result<OidcProvider, String> {
    let dir = install()?;
    let mut child = Command::new("node")
        .arg("server.mjs")
        .current_dir(&dir)
        .env("OIDC_EXIT_WITH_STDIN", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting node: {e}"))?;
    let stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("reading the provider's address: {e}"))?;
    let ready: Value = serde_json::from_str(&line)
        .map_err(|_| format!("the provider did not start (it said {line:?})"))?;
    let issuer = ready["issuer"].as_str().ok_or("no issuer")?.to_owned();
    Ok(OidcProvider {
        issuer,
        _child: Mutex::new((child, stdin)),
    })
}

impl OidcProvider {
    /// Registers a client (RFC 7591) for one redirect URI, optionally one that
    /// the provider's tokens misbehave for (see `scripts/oidc-provider/server.mjs`).
    pub(crate) async fn register(
        &self,
        redirect_uri: &str,
        misbehave: Option<&str>,
    ) -> RegisteredClient {
        let mut body = json!({
            "redirect_uris": [redirect_uri],
            "response_types": ["code"],
            "grant_types": ["authorization_code"],
        });
        if let Some(kind) = misbehave {
            body["x_misbehave"] = json!(kind);
        }
        let resp: Value = reqwest::Client::new()
            .post(format!("{}/reg", self.issuer))
            .json(&body)
            .send()
            .await
            .expect("register a client")
            .json()
            .await
            .expect("registration answer");
        RegisteredClient {
            id: resp["client_id"].as_str().expect("client_id").to_owned(),
            secret: resp["client_secret"]
                .as_str()
                .expect("client_secret")
                .to_owned(),
        }
    }
}
