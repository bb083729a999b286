//! The API's three documented examples (runtime/examples/contract/*.rs,
//! compiled unchanged) are started as built and behave as documented.
//! They all listen on 0.0.0.0:8080, as documented, so one test runs them in
//! turn, inside a network namespace of its own where the system allows one
//! (so the test passes wherever 8080 is taken).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn example_binary(name: &str) -> PathBuf {
    // target/<profile>/deps/http-<hash> -> target/<profile>/examples/<name>
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} not built (cargo test builds examples)",
        path.display()
    );
    path
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start(name: &str, client: &reqwest::Client) -> Running {
    start_with_stderr(name, client, Stdio::null()).await
}

async fn start_with_stderr(name: &str, client: &reqwest::Client, stderr: Stdio) -> Running {
    let child = Command::new(example_binary(name))
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(resp) = client.get("http://127.0.0.1:8080/auth/ok").send().await {
            assert_eq!(resp.json::<Value>().await.unwrap(), json!({ "ok": true }));
            return running;
        }
        assert!(Instant::now() < deadline, "example {name} did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sign_up(client: &reqwest::Client) -> String {
    let resp = client
        .post("http://127.0.0.1:8080/auth/sign-up/email")
        .json(&json!({ "name": "Ada", "email": "ada@example.com", "password": "correct horse battery" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.headers()["set-auth-token"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// Set in the copy of this test that runs inside its own network namespace.
const IN_NAMESPACE: &str = "BETTER_AUTH_EXAMPLES_NETNS";
const TEST_NAME: &str = "contract_examples::contract_examples_serve_as_documented";

/// Runs this test again in a fresh network namespace (loopback up, nothing
/// listening), so port 8080 is free there. `None` when namespaces are not
/// available (unprivileged user namespaces off, no `unshare` or `ip`).
fn rerun_in_namespace() -> Option<std::process::Output> {
    let exe = std::env::current_exe().unwrap();
    let probe = Command::new("unshare")
        .args(["--net", "--map-root-user", "ip", "link", "set", "lo", "up"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !matches!(probe, Ok(s) if s.success()) {
        return None;
    }
    let output = Command::new("unshare")
        .args(["--net", "--map-root-user", "sh", "-c"])
        .arg(r#"ip link set lo up && exec "$0" "$@""#)
        .arg(exe)
        .args([TEST_NAME, "--exact", "--test-threads=1"])
        .env(IN_NAMESPACE, "1")
        .output()
        .unwrap();
    Some(output)
}

#[tokio::test]
async fn contract_examples_serve_as_documented() {
    if std::env::var_os(IN_NAMESPACE).is_none() {
        match rerun_in_namespace() {
            Some(output) => {
                let stdout = String::from_utf8_lossy(&output.stdout);
                assert!(
                    output.status.success() && stdout.contains("1 passed"),
                    "the examples failed in their namespace:\n{stdout}\n{}",
                    String::from_utf8_lossy(&output.stderr)
                );
                return;
            }
            None => eprintln!(
                "no network namespace available: the examples use this machine's port 8080"
            ),
        }
    }
    let client = reqwest::Client::new();

    // "Mounting Auth Routes": every plugin's routes under /auth.
    {
        // It installs no `tracing` subscriber and configures no email sender:
        // the reset link still reaches the developer, on stderr.
        let log = tempfile::NamedTempFile::new().unwrap();
        let _app = start_with_stderr("mounting", &client, log.reopen().unwrap().into()).await;
        let token = sign_up(&client).await;
        let session: Value = client
            .get("http://127.0.0.1:8080/auth/get-session")
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(session["user"]["email"], "ada@example.com");
        for path in ["list-sessions", "list-accounts"] {
            let resp = client
                .get(format!("http://127.0.0.1:8080/auth/{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{path}");
        }
        let resp = client
            .post("http://127.0.0.1:8080/auth/request-password-reset")
            .json(&json!({ "email": "ada@example.com" }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let printed = std::fs::read_to_string(log.path()).unwrap();
            if printed.contains("Link: http://localhost:8080/auth/reset-password/") {
                assert!(printed.contains("to ada@example.com"), "{printed}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no reset link on stderr: {printed}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    // "Using Better Auth Inside Your AppState" and the "Full Example": a route
    // behind CurrentSession answers 401 without a session and the user with one.
    for name in ["app_state", "full"] {
        let _app = start(name, &client).await;
        let resp = client
            .get("http://127.0.0.1:8080/api/profile")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{name}");
        let token = sign_up(&client).await;
        let profile: Value = client
            .get("http://127.0.0.1:8080/api/profile")
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(profile["email"], "ada@example.com", "{name}");
        if name == "full" {
            assert_eq!(profile["name"], "Ada");
            let public: Value = client
                .get("http://127.0.0.1:8080/api/public")
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(public, json!({ "authenticated": false, "user_id": null }));
            let public: Value = client
                .get("http://127.0.0.1:8080/api/public")
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(public["authenticated"], true);
            assert_eq!(public["user_id"], profile["id"]);
        }
    }
}
