//! `better-auth-bench`: starts Better Auth servers on loopback as child
//! processes and drives them with an in-process HTTP/1.1 load generator,
//! printing one table (see README.md). `--quick` is a smoke run (< 1 min).

mod load;
mod ratelimit;
mod seed;
mod serve;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::header::HeaderValue;
use hyper::{Method, StatusCode};

use load::{Sample, Target};

type BoxError = Box<dyn std::error::Error>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some("serve") {
        serve::main(&args[1..])
    } else if args.first().map(String::as_str) == Some("ratelimit") {
        ratelimit::main(&args[1..])
    } else {
        bench(&args)
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// Turns the opt-in (ttl) session cache on in a configuration.
pub fn cache_option(
    config: better_auth::AuthConfig,
    on: bool,
) -> Result<better_auth::AuthConfig, BoxError> {
    Ok(if on {
        config.session_cache(Duration::from_secs(1))
    } else {
        config
    })
}

struct Options {
    quick: bool,
    rounds: usize,
    secs: f64,
    conns: usize,
    signin_clients: usize,
    client_threads: usize,
    big: u64,
    postgres: Option<String>,
    redis: Option<String>,
    rows: Option<Vec<String>>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, BoxError> {
        let quick = args.iter().any(|a| a == "--quick");
        let mut o = Options {
            quick,
            rounds: if quick { 1 } else { 5 },
            secs: if quick { 1.0 } else { 2.0 },
            conns: 16,
            signin_clients: 8,
            client_threads: 2,
            big: 1_000_000,
            rows: None,
            postgres: Some(
                std::env::var("BETTER_AUTH_BENCH_POSTGRES_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into()),
            ),
            redis: Some(
                std::env::var("BETTER_AUTH_BENCH_REDIS_URL")
                    .unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
            ),
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--quick" => {}
                "--rounds" => o.rounds = value()?.parse()?,
                "--secs" => o.secs = value()?.parse()?,
                "--conns" => o.conns = value()?.parse()?,
                "--signin-clients" => o.signin_clients = value()?.parse()?,
                "--client-threads" => o.client_threads = value()?.parse()?,
                "--sessions" => o.big = value()?.parse::<u64>()?.max(seed::USERS as u64),
                "--postgres" => o.postgres = Some(value()?.clone()),
                "--no-postgres" => o.postgres = None,
                "--redis" => o.redis = Some(value()?.clone()),
                "--no-redis" => o.redis = None,
                "--rows" => {
                    o.rows = Some(value()?.split(',').map(str::to_owned).collect());
                }
                "-h" | "--help" => {
                    println!(
                        "better-auth-bench [--quick] [--rounds N] [--secs S] [--conns N] \
                         [--signin-clients N] [--client-threads N] [--sessions N] \
                         [--postgres URL | --no-postgres] [--redis URL | --no-redis] \
                         [--rows baseline,gs,gs_nocache,me,gs_cache,gs_cache_merged,me_cache,gs_pg,gs_pg_nocache,bare_pg,gs_big,gs_redis,argon,signin,signin_redis,stall]"
                    );
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument {other}").into()),
            }
        }
        Ok(o)
    }
}

/// A server child process.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(url: &str, extra: &[&str]) -> Result<Self, BoxError> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("serve")
            .arg(url)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let addr = line
            .trim()
            .strip_prefix("LISTEN ")
            .ok_or_else(|| format!("server did not start: {line:?}"))?
            .parse()?;
        Ok(Server { child, addr })
    }

    /// Resident and peak resident set size in KiB, from /proc.
    fn rss_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    fn stop(mut self) {
        drop(self.child.stdin.take());
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bench(args: &[String]) -> Result<(), BoxError> {
    let options = Options::parse(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.client_threads)
        .enable_all()
        .build()?;
    let dir = std::env::temp_dir().join(format!("better-auth-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut schema = None;
    let result = runtime.block_on(run(&options, &dir, &mut schema));
    if let (Some(schema), Some(url)) = (schema, &options.postgres) {
        let dropped = runtime.block_on(drop_schema(url, &schema));
        if let Err(e) = dropped {
            eprintln!("could not drop schema {schema}: {e}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn drop_schema(url: &str, schema: &str) -> Result<(), BoxError> {
    use sqlx::{ConnectOptions, Connection};
    use std::str::FromStr;
    let mut conn = sqlx::postgres::PgConnectOptions::from_str(url)?
        .connect()
        .await?;
    sqlx::query(&format!(r#"DROP SCHEMA IF EXISTS "{schema}" CASCADE"#))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// Creates a fresh schema and returns the URL selecting it, or why not.
async fn postgres_schema(url: &str, schema: &str) -> Result<String, BoxError> {
    use sqlx::{ConnectOptions, Connection};
    use std::str::FromStr;
    let options = sqlx::postgres::PgConnectOptions::from_str(url)?;
    let connect = options.connect();
    let mut conn = tokio::time::timeout(Duration::from_secs(3), connect)
        .await
        .map_err(|_| "connection timed out")??;
    sqlx::query(&format!(r#"CREATE SCHEMA "{schema}""#))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}options=-c%20search_path%3D{schema}"))
}

fn get_session(addr: SocketAddr, bearers: &[String]) -> Arc<Target> {
    get_with_bearer(addr, "/auth/get-session", bearers, b"{\"session\"")
}

fn get_with_bearer(
    addr: SocketAddr,
    path: &str,
    bearers: &[String],
    prefix: &'static [u8],
) -> Arc<Target> {
    Arc::new(Target {
        addr,
        method: Method::GET,
        path: path.into(),
        bodies: Vec::new(),
        auth: bearers
            .iter()
            .map(|b| HeaderValue::from_str(b).expect("bearer is a header value"))
            .collect(),
        expect_status: StatusCode::OK,
        expect_prefix: prefix,
    })
}

/// Sign-ins, each client to its own account (see `seed::SIGNIN_ACCOUNTS`).
fn sign_in(addr: SocketAddr) -> Arc<Target> {
    let bodies = (0..seed::SIGNIN_ACCOUNTS)
        .map(|i| {
            let body = serde_json::json!({
                "email": seed::signin_email(i),
                "password": seed::SIGNIN_PASSWORD,
            });
            Bytes::from(body.to_string())
        })
        .collect();
    Arc::new(Target {
        addr,
        method: Method::POST,
        path: "/auth/sign-in/email".into(),
        bodies,
        auth: Vec::new(),
        expect_status: StatusCode::OK,
        expect_prefix: b"{\"redirect\"",
    })
}

/// Raw Argon2id verifications on `threads` OS threads for `secs`, at the
/// runtime's parameters: the physical limit for sign-in.
fn argon2_raw(hash: &str, threads: usize, secs: f64) -> Sample {
    use argon2::password_hash::{Output, PasswordHash};
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let samples: Vec<Sample> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let params = argon2::Params::new(
                        better_auth::crypto::ARGON2_M_COST,
                        better_auth::crypto::ARGON2_T_COST,
                        better_auth::crypto::ARGON2_P_COST,
                        None,
                    )
                    .expect("valid parameters");
                    let argon = argon2::Argon2::new(
                        argon2::Algorithm::Argon2id,
                        argon2::Version::V0x13,
                        params.clone(),
                    );
                    let parsed = PasswordHash::new(hash).expect("valid PHC string");
                    let expected = parsed.hash.expect("hash has an output");
                    let mut salt_buf = [0u8; 64];
                    let salt = parsed
                        .salt
                        .expect("hash has a salt")
                        .decode_b64(&mut salt_buf)
                        .expect("valid salt");
                    // One buffer per thread, reused: the fastest a verify can be.
                    let mut memory = vec![argon2::Block::default(); params.block_count()];
                    let mut s = Sample::empty();
                    while Instant::now() < deadline {
                        let t0 = Instant::now();
                        let mut out = vec![0u8; expected.len()];
                        let ok = argon
                            .hash_password_into_with_memory(
                                seed::SIGNIN_PASSWORD.as_bytes(),
                                salt,
                                &mut out,
                                &mut memory,
                            )
                            .is_ok()
                            && Output::new(&out).is_ok_and(|o| o == expected);
                        if ok {
                            s.ok += 1;
                            s.hist.saturating_record(t0.elapsed().as_micros() as u64);
                        } else {
                            s.errors += 1;
                        }
                    }
                    s
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut total = Sample::empty();
    for s in &samples {
        total.merge(s);
    }
    total.elapsed = start.elapsed();
    total
}

async fn run(
    o: &Options,
    dir: &std::path::Path,
    schema_out: &mut Option<String>,
) -> Result<(), BoxError> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let hash = seed::password_hash().await?;

    // Databases: A (1,000 sessions), B (same, session cache on), D (1,000 + bulk), C (PostgreSQL).
    let url = |name: &str| format!("sqlite://{}", dir.join(name).display());
    let a = seed::seed(&url("a.db"), 0, &hash).await?;
    let b = seed::seed(&url("b.db"), 0, &hash).await?;
    let n = seed::seed(&url("n.db"), 0, &hash).await?;
    let d = seed::seed(&url("d.db"), o.big - seed::USERS as u64, &hash).await?;
    let mut pg_note = String::new();
    let mut c = None;
    if let Some(pg) = &o.postgres {
        let schema = format!("better_auth_bench_{}", std::process::id());
        match postgres_schema(pg, &schema).await {
            Ok(pg_url) => {
                *schema_out = Some(schema);
                c = Some((seed::seed(&pg_url, 0, &hash).await?, pg_url));
            }
            Err(e) => pg_note = format!("skipped: {e}"),
        }
    } else {
        pg_note = "skipped: --no-postgres".into();
    }

    // Redis: sessions (row 9) and rate limits (row 9s), under a prefix of this run's own.
    let redis_prefix = format!("better-auth-bench-{}:", std::process::id());
    let redis_note = match &o.redis {
        Some(redis) => match better_auth::store::RedisStorage::connect(redis).await {
            Ok(_) => None,
            Err(e) => Some(format!(
                "skipped: {}",
                e.to_string().trim_start_matches("invalid configuration: ")
            )),
        },
        None => Some("skipped: --no-redis".into()),
    };
    let redis_url = o.redis.as_deref().filter(|_| redis_note.is_none());
    let (r, rl) = match redis_url {
        Some(_) => (
            Some(seed::seed(&url("r.db"), 0, &hash).await?),
            Some(seed::seed(&url("rl.db"), 0, &hash).await?),
        ),
        None => (None, None),
    };
    if let Some(note) = &redis_note {
        eprintln!("Redis rows (9, 9s) {note}");
    }

    let server_a = Server::start(&url("a.db"), &[])?;
    let server_b = match Server::start(&url("b.db"), &["--session-cache"]) {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("session-cache server not started: {e}");
            None
        }
    };
    let server_n = Server::start(&url("n.db"), &["--no-cache"])?;
    let server_d = Server::start(&url("d.db"), &[])?;
    let server_c = match &c {
        Some((_, pg_url)) => Some(Server::start(pg_url, &[])?),
        None => None,
    };
    let server_cn = match &c {
        Some((_, pg_url)) => Some(Server::start(pg_url, &["--no-cache"])?),
        None => None,
    };
    // Sessions in Redis, the in-process cache off: Redis answers every lookup.
    let server_r = match redis_url {
        Some(redis) => Some(Server::start(
            &url("r.db"),
            &[
                "--no-cache",
                "--redis-sessions",
                redis,
                "--redis-prefix",
                &redis_prefix,
            ],
        )?),
        None => None,
    };
    let server_rl = match redis_url {
        Some(redis) => Some(Server::start(
            &url("rl.db"),
            &["--redis-rate-limit", redis, "--redis-prefix", &redis_prefix],
        )?),
        None => None,
    };

    let baseline = Arc::new(Target {
        addr: server_a.addr,
        method: Method::GET,
        path: "/json".into(),
        bodies: Vec::new(),
        auth: Vec::new(),
        expect_status: StatusCode::OK,
        expect_prefix: b"{\"message\"",
    });
    let gs = get_session(server_a.addr, &a.bearers);
    let me = get_with_bearer(server_a.addr, "/api/me", &a.bearers, b"{\"id\"");
    let gs_cache = server_b.as_ref().map(|s| get_session(s.addr, &b.bearers));
    let gs_cache_merged = server_b
        .as_ref()
        .map(|s| get_with_bearer(s.addr, "/merged/get-session", &b.bearers, b"{\"session\""));
    let me_cache = server_b
        .as_ref()
        .map(|s| get_with_bearer(s.addr, "/api/me", &b.bearers, b"{\"id\""));
    let gs_pg = server_c
        .as_ref()
        .zip(c.as_ref())
        .map(|(s, (seeded, _))| get_session(s.addr, &seeded.bearers));
    let gs_pg_nocache = server_cn
        .as_ref()
        .zip(c.as_ref())
        .map(|(s, (seeded, _))| get_session(s.addr, &seeded.bearers));
    let bare_pg = server_c.as_ref().zip(c.as_ref()).map(|(s, (seeded, _))| {
        get_with_bearer(s.addr, "/bare-lookup", &seeded.bearers, b"{\"id\"")
    });
    let gs_nocache = get_session(server_n.addr, &n.bearers);
    let gs_big = get_session(server_d.addr, &d.bearers);
    let signin = sign_in(server_a.addr);
    let gs_redis = server_r
        .as_ref()
        .zip(r.as_ref())
        .map(|(s, seeded)| get_session(s.addr, &seeded.bearers));
    let signin_redis = server_rl
        .as_ref()
        .zip(rl.as_ref())
        .map(|(s, _)| sign_in(s.addr));

    let dur = Duration::from_secs_f64(o.secs);
    let warm = Duration::from_secs_f64(if o.quick { 0.2 } else { 0.5 });
    // The plain HTTP rows, in step order; `None` when their server is absent
    // (no opt-in cache option, no PostgreSQL).
    let http_rows: Vec<(&'static str, Option<Arc<Target>>)> = vec![
        ("baseline", Some(baseline)),
        ("gs", Some(gs.clone())),
        ("gs_nocache", Some(gs_nocache)),
        ("me", Some(me)),
        ("gs_cache", gs_cache),
        ("gs_cache_merged", gs_cache_merged),
        ("me_cache", me_cache),
        ("gs_pg", gs_pg),
        ("gs_pg_nocache", gs_pg_nocache),
        ("bare_pg", bare_pg),
        ("gs_big", Some(gs_big)),
        ("gs_redis", gs_redis),
    ];
    for (_, t) in &http_rows {
        if let Some(t) = t {
            load::run(t.clone(), o.conns, warm).await;
        }
    }
    load::run(signin.clone(), o.signin_clients, warm).await;
    if let Some(t) = &signin_redis {
        load::run(t.clone(), o.signin_clients, warm).await;
    }

    let mut results: BTreeMap<&'static str, Sample> = BTreeMap::new();
    let mut add = |key: &'static str, s: Sample| {
        results.entry(key).or_insert_with(Sample::empty).merge(&s);
    };
    let mut steps: Vec<&'static str> = http_rows.iter().map(|(step, _)| *step).collect();
    steps.extend(["argon", "signin", "signin_redis", "stall"]);
    if let Some(only) = &o.rows {
        steps.retain(|s| only.iter().any(|o| o == s));
    }
    let rss_start = server_a.rss_kib();
    let started = Instant::now();
    for round in 0..o.rounds {
        eprintln!("round {}/{}", round + 1, o.rounds);
        for &step in &steps {
            if let Some((_, target)) = http_rows.iter().find(|(row, _)| *row == step) {
                if let Some(t) = target {
                    add(step, load::run(t.clone(), o.conns, dur).await);
                }
                continue;
            }
            match step {
                "argon" => {
                    let hash = hash.clone();
                    let secs = o.secs;
                    let s =
                        tokio::task::spawn_blocking(move || argon2_raw(&hash, cores, secs)).await?;
                    add(step, s);
                }
                "signin" => add(step, load::run(signin.clone(), o.signin_clients, dur).await),
                "signin_redis" => {
                    if let Some(t) = &signin_redis {
                        add(step, load::run(t.clone(), o.signin_clients, dur).await);
                    }
                }
                "stall" => {
                    let flood = tokio::spawn(load::run(signin.clone(), o.signin_clients, dur));
                    // Let the flood occupy the hashers before measuring.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    let probe = load::run(gs.clone(), o.conns, dur).await;
                    add("gs_flood", probe);
                    add("signin_flood", flood.await?);
                }
                _ => unreachable!(),
            }
        }
        // Interleave: the next round starts one row later, so slow drifts in
        // machine load spread over every row.
        steps.rotate_left(1);
    }
    let measured = started.elapsed();

    let rss_a = server_a.rss_kib();
    let rss_b = server_b.as_ref().map(Server::rss_kib);
    let rss_c = server_c.as_ref().map(Server::rss_kib);
    let rss_d = server_d.rss_kib();
    server_a.stop();
    server_n.stop();
    server_d.stop();
    if let Some(s) = server_b {
        s.stop();
    }
    if let Some(s) = server_c {
        s.stop();
    }
    if let Some(s) = server_cn {
        s.stop();
    }
    for s in [server_r, server_rl].into_iter().flatten() {
        s.stop();
    }

    let report = Report {
        o,
        cores,
        results: &results,
        rss_a,
        rss_start,
        rss_b,
        rss_c,
        rss_d,
        big: d.sessions,
        pg_note,
        redis_note: redis_note.unwrap_or_default(),
        measured,
    };
    report.print();
    Ok(())
}

struct Report<'a> {
    o: &'a Options,
    cores: usize,
    results: &'a BTreeMap<&'static str, Sample>,
    rss_a: (u64, u64),
    rss_start: (u64, u64),
    rss_b: Option<(u64, u64)>,
    rss_c: Option<(u64, u64)>,
    rss_d: (u64, u64),
    big: u64,
    pg_note: String,
    redis_note: String,
    measured: Duration,
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

impl Report<'_> {
    fn get(&self, key: &str) -> Option<&Sample> {
        self.results.get(key).filter(|s| s.ok > 0)
    }

    fn print(&self) {
        let o = self.o;
        let base = self.get("baseline").map_or(f64::NAN, Sample::rate);
        println!(
            "\nmachine: {} cores, {}; {} round(s) x {:.1} s per row, {} connections \
             ({} sign-in clients), {} client threads; measured for {:.0} s{}\n",
            self.cores,
            cpu_model(),
            o.rounds,
            o.secs,
            o.conns,
            o.signin_clients,
            o.client_threads,
            self.measured.as_secs_f64(),
            if o.quick { " (--quick)" } else { "" }
        );
        println!("| # | row | req/s | p50 ms | p99 ms | x baseline | errors |");
        println!("|---|-----|------:|-------:|-------:|-----------:|-------:|");
        let row = |n: &str, label: &str, key: &str, note: &str| match self.results.get(key) {
            Some(s) if s.ok > 0 => println!(
                "| {n} | {label} | {:.0} | {:.2} | {:.2} | {:.3} | {} |",
                s.rate(),
                s.ms(0.5),
                s.ms(0.99),
                s.rate() / base,
                s.errors
            ),
            Some(s) => println!("| {n} | {label} | - | - | - | - | {} {note} |", s.errors),
            None => println!("| {n} | {label} | - | - | - | - | {note} |"),
        };
        row("1", "baseline: Axum handler, small JSON", "baseline", "");
        row(
            "2",
            "GET /get-session, bearer, SQLite file (1,000 sessions)",
            "gs",
            "",
        );
        row(
            "2n",
            "same, session cache off (every request reads the database)",
            "gs_nocache",
            "",
        );
        row(
            "2c",
            "same, opt-in 1 s session cache (may be stale)",
            "gs_cache",
            "skipped: no cache option",
        );
        row(
            "2m",
            "same, opt-in cache, routes merged at the base path as `init` writes them (`axum_routes`, no `nest`)",
            "gs_cache_merged",
            "skipped: no cache option",
        );
        row("3", "same via `CurrentSession` on an app route", "me", "");
        row(
            "3c",
            "`CurrentSession` on an app route, opt-in 1 s session cache",
            "me_cache",
            "skipped: no cache option",
        );
        row(
            "4",
            "GET /get-session, PostgreSQL, default (never-stale cache)",
            "gs_pg",
            &self.pg_note,
        );
        row(
            "4n",
            "same, session cache off (every request reads the database)",
            "gs_pg_nocache",
            &self.pg_note,
        );
        row(
            "4b",
            "bare Axum handler running the same lookup through sqlx, PostgreSQL",
            "bare_pg",
            &self.pg_note,
        );
        row(
            "5",
            &format!(
                "POST /sign-in/email, {} clients, each to its own account",
                o.signin_clients
            ),
            "signin",
            "",
        );
        row(
            "5r",
            &format!("raw Argon2id verify, {} threads (not HTTP)", self.cores),
            "argon",
            "",
        );
        row(
            "6",
            "GET /get-session during the sign-in flood (vs row 2 at rest)",
            "gs_flood",
            "",
        );
        row(
            "6s",
            "sign-in throughput during that flood",
            "signin_flood",
            "",
        );
        row(
            "7",
            &format!(
                "GET /get-session, SQLite, {} sessions (vs row 2)",
                group(self.big)
            ),
            "gs_big",
            "",
        );
        let mb = |kib: u64| kib as f64 / 1024.0;
        let (rss, hwm) = self.rss_a;
        println!(
            "| 8 | server RSS after the runs: SQLite {:.1} MB (peak {:.1}, {:.1} before the runs); \
             session cache {}; 1M sessions {:.1} MB; PostgreSQL {} | | | | | |",
            mb(rss),
            mb(hwm),
            mb(self.rss_start.0),
            self.rss_b
                .map_or("-".into(), |(r, _)| format!("{:.1} MB", mb(r))),
            mb(self.rss_d.0),
            self.rss_c
                .map_or("-".into(), |(r, _)| format!("{:.1} MB", mb(r))),
        );
        row(
            "9",
            "GET /get-session, sessions in Redis (`secondary_storage`), SQLite file, in-process cache off: every lookup answered by Redis (vs rows 2, 2n)",
            "gs_redis",
            &self.redis_note,
        );
        row(
            "9s",
            &format!(
                "POST /sign-in/email, {} clients, rate limits on with counters in Redis (`RedisRateLimitStore`; vs row 5)",
                o.signin_clients
            ),
            "signin_redis",
            &self.redis_note,
        );
        if !self.redis_note.is_empty() {
            println!("\nRedis rows {}", self.redis_note);
        }

        println!("\nTargets:");
        let check =
            |name: &str, value: Option<f64>, ok: &dyn Fn(f64) -> bool, shown: &str| match value {
                Some(v) if v.is_finite() => println!(
                    "- [{}] {name}: {}",
                    if ok(v) { "x" } else { " " },
                    shown.replace("{}", &format!("{v:.2}"))
                ),
                _ => println!("- [?] {name}: not measured"),
            };
        let rate = |k: &str| self.get(k).map(Sample::rate);
        check(
            "get-session (SQLite, default, never stale) >= 0.6x baseline",
            rate("gs").map(|r| r / base),
            &|v| v >= 0.6,
            "{}x",
        );
        check(
            "CurrentSession within 10% of get-session",
            rate("me").zip(rate("gs")).map(|(m, g)| m / g),
            &|v| v >= 0.9,
            "{}x of row 2",
        );
        check(
            "opt-in session cache >= 0.85x baseline (get-session, nested with `nest`)",
            rate("gs_cache").map(|r| r / base),
            &|v| v >= 0.85,
            "{}x",
        );
        check(
            "opt-in session cache >= 0.85x baseline (get-session, merged with `axum_routes`, as `init` writes it)",
            rate("gs_cache_merged").map(|r| r / base),
            &|v| v >= 0.85,
            "{}x",
        );
        check(
            "opt-in session cache >= 0.85x baseline (`CurrentSession`)",
            rate("me_cache").map(|r| r / base),
            &|v| v >= 0.85,
            "{}x",
        );
        check(
            "get-session (PostgreSQL) >= 0.9x the bare lookup",
            rate("gs_pg").zip(rate("bare_pg")).map(|(g, b)| g / b),
            &|v| v >= 0.9,
            "{}x",
        );
        check(
            "get-session p99 during sign-in flood <= 2x at rest",
            self.get("gs_flood")
                .zip(self.get("gs"))
                .map(|(f, r)| f.ms(0.99) / r.ms(0.99)),
            &|v| v <= 2.0,
            "{}x",
        );
        check(
            "sign-in >= 0.9x raw Argon2id verify rate",
            rate("signin").zip(rate("argon")).map(|(s, a)| s / a),
            &|v| v >= 0.9,
            "{}x",
        );
        check(
            &format!(
                "{} sessions: latency <= 1.2x the 1,000 case (p50)",
                group(self.big)
            ),
            self.get("gs_big")
                .zip(self.get("gs"))
                .map(|(b, s)| b.ms(0.5) / s.ms(0.5)),
            &|v| v <= 1.2,
            "{}x",
        );
        check(
            "SQLite server RSS < 30 MB after the runs",
            Some(mb(self.rss_a.0)),
            &|v| v < 30.0,
            "{} MB",
        );
    }
}

fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
