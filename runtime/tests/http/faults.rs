//! Limits and faults: oversized bodies (S24) and a database that goes away (S26).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use better_auth::run_migrations;
use better_auth::store::Database;
use better_auth_test_support::all_backends;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::common::*;

all_backends!(
    s24_bodies_over_one_mib_get_413_before_being_read,
    with_server,
    |srv: TestServer| async move {
        // Declared too large: refused from the Content-Length header alone,
        // before a byte of the body is sent.
        let (status, body) =
            declared_post(&srv.base, "/api/auth/sign-up/email", 1024 * 1024 + 1).await;
        assert_eq!(status, 413);
        assert!(body.contains("PAYLOAD_TOO_LARGE"), "{body}");
        // Streamed without a length (chunked): cut off once it passes the limit.
        let status = chunked_post(&srv.base, "/api/auth/sign-in/email", 40, 64 * 1024).await;
        assert_eq!(status, 413);
        // Just under the limit (64 KiB by default since S36) is read (and then
        // judged on its content).
        let mut body = br#"{"email":"a@example.com","password":"x","pad":""#.to_vec();
        body.resize(64 * 1024 - 2, b'a');
        body.extend_from_slice(br#""}"#);
        let resp = srv
            .post("/api/auth/sign-in/email")
            .raw_body("application/json", body)
            .send()
            .await;
        assert_ne!(resp.status, 413);
    }
);

/// Sends only the head of a POST declaring a `length`-byte JSON body, and
/// returns the response's status and text. (Sending the body too races the
/// server's early answer: the client may see its connection reset instead.)
async fn declared_post(base: &str, path: &str, length: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    // Read until the JSON body has arrived (the server may keep the connection open).
    while !String::from_utf8_lossy(&response).contains('}') {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("no answer within 10 s")
            .unwrap();
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, text)
}

/// Sends a chunked POST of `chunks` chunks of `size` spaces over a raw
/// socket and returns the response status.
async fn chunked_post(base: &str, path: &str, chunks: usize, size: usize) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("{size:x}\r\n{}\r\n", " ".repeat(size));
    for _ in 0..chunks {
        // The server may answer and close before the whole body is sent.
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = vec![0u8; 64];
    let n = stream.read(&mut response).await.unwrap();
    let line = String::from_utf8_lossy(&response[..n]).to_string();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A TCP proxy in front of PostgreSQL that can be taken down and brought back.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    pipes: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let pipes: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (up2, pipes2) = (up.clone(), pipes.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(client); // the database is "down": refuse at once
                    continue;
                }
                let target = target.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                pipes2.lock().await.push(pipe);
            }
        });
        Proxy { port, up, pipes }
    }

    async fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        for pipe in self.pipes.lock().await.drain(..) {
            pipe.abort();
        }
    }

    fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// S26: with the database gone, requests get 503 with a JSON error (never a
/// panic, never a hang), and service resumes by itself when it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s26_database_down_gives_503_and_service_resumes() {
    let Ok(base) = std::env::var(PG_ENV) else {
        notice(&format!(
            "SKIPPED s26_database_down_gives_503_and_service_resumes: set {PG_ENV}"
        ));
        return;
    };
    // A fresh schema, reached through the proxy.
    let db = TestDb::open(Backend::Postgres).await.unwrap();
    let schema_url = db.url.clone();
    let host_port = base
        .split('@')
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let proxy = Proxy::start(host_port.clone()).await;
    let proxied = schema_url.replacen(&host_port, &format!("127.0.0.1:{}", proxy.port), 1);
    let database = Database::connect(&proxied).await.unwrap();
    run_migrations(&database).await.unwrap();
    let srv = TestServer::start_on(database, Setup::new()).await;
    let token = srv.user("ada@example.com").await;

    proxy.down().await;
    let started = Instant::now();
    for path in [
        "/api/auth/get-session",
        "/api/me",
        "/api/auth/list-sessions",
    ] {
        let resp = srv.get(path).bearer(&token).send().await;
        assert_eq!(resp.status, 503, "{path}: {}", resp.body);
        assert_eq!(resp.code(), "SERVICE_UNAVAILABLE");
    }
    let resp = srv.sign_in("ada@example.com", PASSWORD).await;
    assert_eq!(resp.status, 503);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "answers come within the pool timeout"
    );

    proxy.up();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let resp = srv.get("/api/auth/get-session").bearer(&token).send().await;
        if resp.status == 200 {
            assert_eq!(resp.body["user"]["email"], "ada@example.com");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "service did not resume: {} {}",
            resp.status,
            resp.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    db.drop_schema().await;
}
