//! The load generator: closed-loop HTTP/1.1 clients on keep-alive connections
//! (hyper's client connection, no pool), each timing every request into an
//! HDR histogram in microseconds.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;

/// What one row sends.
pub(crate) struct Target {
    pub addr: SocketAddr,
    pub method: Method,
    pub path: String,
    /// JSON bodies (POST rows): connection `i` sends `bodies[i % len]`
    /// (empty: no body).
    pub bodies: Vec<Bytes>,
    /// `Authorization` values, used round-robin (empty: none sent).
    pub auth: Vec<HeaderValue>,
    /// A response counts only with this status and a body starting so.
    pub expect_status: StatusCode,
    pub expect_prefix: &'static [u8],
}

/// What one run measured.
pub(crate) struct Sample {
    pub ok: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub hist: Histogram<u64>,
}

pub(crate) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds")
}

impl Sample {
    pub(crate) fn empty() -> Self {
        Sample {
            ok: 0,
            errors: 0,
            elapsed: Duration::ZERO,
            hist: histogram(),
        }
    }

    /// Adds another run of the same row (rounds are summed, then rated).
    pub(crate) fn merge(&mut self, other: &Sample) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.elapsed += other.elapsed;
        self.hist.add(&other.hist).expect("same histogram bounds");
    }

    pub(crate) fn rate(&self) -> f64 {
        if self.elapsed.is_zero() {
            return 0.0;
        }
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// Latency at a quantile, in milliseconds.
    pub(crate) fn ms(&self, q: f64) -> f64 {
        if self.hist.is_empty() {
            return f64::NAN;
        }
        self.hist.value_at_quantile(q) as f64 / 1000.0
    }
}

type Sender = http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> std::io::Result<Sender> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Runs `conns` closed-loop clients against `target` for `duration`.
/// Connections are opened before the clock starts.
pub(crate) async fn run(target: Arc<Target>, conns: usize, duration: Duration) -> Sample {
    let mut senders = Vec::with_capacity(conns);
    for _ in 0..conns {
        match connect(target.addr).await {
            Ok(s) => senders.push(s),
            Err(e) => {
                eprintln!("connect {}: {e}", target.addr);
                let mut s = Sample::empty();
                s.errors = 1;
                return s;
            }
        }
    }
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(i, sender)| tokio::spawn(client(target.clone(), i, sender, deadline)))
        .collect();
    let mut total = Sample::empty();
    for task in tasks {
        if let Ok(s) = task.await {
            total.merge(&s);
        }
    }
    total.elapsed = start.elapsed();
    total
}

async fn client(
    target: Arc<Target>,
    index: usize,
    mut sender: Sender,
    deadline: Instant,
) -> Sample {
    let mut sample = Sample::empty();
    let host = HeaderValue::from_str(&target.addr.to_string()).expect("address is a header value");
    // Spread connections over the tokens so every request hits another session.
    let mut k = index.wrapping_mul(7919);
    let mut reported = false;
    while Instant::now() < deadline {
        let mut request = Request::builder()
            .method(target.method.clone())
            .uri(target.path.as_str())
            .header(HOST, host.clone());
        if !target.auth.is_empty() {
            request = request.header(AUTHORIZATION, target.auth[k % target.auth.len()].clone());
            k = k.wrapping_add(1);
        }
        let body = if target.bodies.is_empty() {
            Bytes::new()
        } else {
            request = request.header(CONTENT_TYPE, "application/json");
            target.bodies[index % target.bodies.len()].clone()
        };
        let request = request.body(Full::new(body)).expect("valid request");
        let t0 = Instant::now();
        if sender.ready().await.is_err() {
            sample.errors += 1;
            break;
        }
        let outcome = match sender.send_request(request).await {
            Ok(response) => {
                let status = response.status();
                match response.into_body().collect().await {
                    Ok(body) => Ok((status, body.to_bytes())),
                    Err(e) => Err(e.to_string()),
                }
            }
            Err(e) => Err(e.to_string()),
        };
        let micros = t0.elapsed().as_micros() as u64;
        match outcome {
            Ok((status, body))
                if status == target.expect_status && body.starts_with(target.expect_prefix) =>
            {
                sample.ok += 1;
                sample.hist.saturating_record(micros.max(1));
            }
            Ok((status, body)) => {
                sample.errors += 1;
                if !reported {
                    reported = true;
                    eprintln!(
                        "unexpected answer from {} {}: {status} {}",
                        target.method,
                        target.path,
                        String::from_utf8_lossy(&body[..body.len().min(200)])
                    );
                }
            }
            Err(e) => {
                sample.errors += 1;
                eprintln!("request {} {} failed: {e}", target.method, target.path);
                break;
            }
        }
    }
    sample
}
