//! Password hashing, token generation, digests and cookie signing.

// Parts of this module are used only by the CLI and the benchmark (the `admin` feature).
#![cfg_attr(not(feature = "admin"), allow(dead_code, unreachable_pub))]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, TryLockError, mpsc};
use std::time::{Duration, Instant};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use crate::error::{Error, Result};

/// Argon2id memory cost in KiB (OWASP, S04).
pub const ARGON2_M_COST: u32 = 19_456;
/// Argon2id iterations (OWASP, S04).
pub const ARGON2_T_COST: u32 = 2;
/// Argon2id parallelism (OWASP, S04).
pub const ARGON2_P_COST: u32 = 1;

/// A new session or verification token: 256 bits from the OS CSPRNG, base64url (S11, S21).
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new row id: 32 alphanumeric characters, like Better Auth's.
pub fn generate_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = OsRng;
    (0..32)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Hex SHA-256 of a token: what the database stores instead of the token (S11).
pub fn token_digest(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(byte & 0x0f)]));
    }
    out
}

fn mac(secret: &str) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length")
}

/// `<token>.<base64 HMAC-SHA256(secret, token)>`: the cookie value and bearer form.
pub fn sign_token(secret: &str, token: &str) -> String {
    TokenSigner::new(secret).sign(token)
}

/// The token inside a signed value when the signature is valid (constant-time check).
pub fn verify_signed<'a>(secret: &str, value: &'a str) -> Option<&'a str> {
    TokenSigner::new(secret).verify(value)
}

/// Signs and checks `<token>.<signature>` values with a key prepared once, so
/// a request pays for hashing its token, not for re-deriving the HMAC key.
#[derive(Clone)]
pub struct TokenSigner {
    keyed: Hmac<Sha256>,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner(<key>)")
    }
}

impl TokenSigner {
    /// A signer for this secret.
    pub fn new(secret: &str) -> Self {
        TokenSigner { keyed: mac(secret) }
    }

    /// `<token>.<base64 HMAC-SHA256(secret, token)>`.
    pub fn sign(&self, token: &str) -> String {
        let mut m = self.keyed.clone();
        m.update(token.as_bytes());
        format!("{token}.{}", STANDARD.encode(m.finalize().into_bytes()))
    }

    /// The token inside a signed value when the signature is valid (constant-time check).
    pub fn verify<'a>(&self, value: &'a str) -> Option<&'a str> {
        let (token, signature) = value.rsplit_once('.')?;
        let signature = STANDARD.decode(signature).ok()?;
        let mut m = self.keyed.clone();
        m.update(token.as_bytes());
        m.verify_slice(&signature).ok()?;
        Some(token)
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// The password matches.
    pub ok: bool,
    /// The stored hash uses other parameters or another algorithm and should be
    /// replaced by a fresh Argon2id hash now that the password is known.
    pub needs_rehash: bool,
}

/// Argon2id hashing off the async workers (S04), on dedicated threads: one per
/// core, so a burst of sign-ins queues instead of starving everything else.
///
/// Three things keep hashing from hurting the rest of the app:
/// - the hashing threads run at the lowest CPU priority (`nice` 19, Linux), so
///   they use the CPU the request workers leave idle and a sign-in flood does
///   not stall other requests;
/// - while hashing finds the CPU busy with other work (Linux: a job waited
///   for the CPU longer than it ran, per the thread's scheduler
///   statistics), only the first thread takes jobs and the others
///   pause, so under request load hashing keeps to one core and leaves the
///   rest, and their caches, to the requests; the others resume as soon as a
///   job runs unhindered (a sign-in burst on an idle server still hashes on
///   every core). Measured on 2 cores, six runs each: the get-session p99
///   during a sign-in flood went from 1.6-2.9x its resting value (median
///   2.3x) to 1.2-1.8x (median 1.5x);
/// - each thread reuses one Argon2 memory buffer (19 MiB at the default
///   parameters) while jobs are queued and gives it back to the OS as soon as
///   its queue runs dry, so memory returns to its resting size after a burst.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: mpsc::SyncSender<Job>,
    verifications: Arc<AtomicU64>,
    dummy_hash: Arc<String>,
}

/// A unit of work for a hashing thread, given that thread's Argon2 memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").finish_non_exhaustive()
    }
}

fn params() -> Params {
    Params::new(ARGON2_M_COST, ARGON2_T_COST, ARGON2_P_COST, None)
        .expect("OWASP Argon2id parameters are valid")
}

/// Blocks in a buffer of just over 32 MiB: glibc's largest dynamic mmap
/// threshold. A buffer this large is always its own mapping, returned to the
/// OS when dropped (smaller ones raise the threshold and then stay in the
/// heap of whichever thread freed them); only the pages Argon2 uses are touched.
const MIN_BUFFER_BLOCKS: usize = 33 * 1024;

/// The first `count` blocks of a thread's buffer, growing it when needed.
fn blocks(memory: &mut Vec<Block>, count: usize) -> &mut [Block] {
    if memory.len() < count {
        *memory = Vec::with_capacity(count.max(MIN_BUFFER_BLOCKS));
        memory.resize(count, Block::default());
    }
    &mut memory[..count]
}

fn hash_with(memory: &mut Vec<Block>, password: &str) -> Result<String> {
    let failed =
        |e: argon2::password_hash::Error| Error::Internal(format!("password hashing failed: {e}"));
    let salt = SaltString::generate(&mut OsRng);
    let params = params();
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_buf).map_err(failed)?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(len, |out| {
        argon
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt_bytes,
                out,
                blocks(memory, params.block_count()),
            )
            .map_err(Into::into)
    })
    .map_err(failed)?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(failed)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

/// What `argon2`'s `PasswordVerifier` does (algorithm, version and parameters
/// taken from the stored hash, constant-time comparison of the outputs), on
/// the thread's reusable memory.
fn matches(memory: &mut Vec<Block>, password: &str, parsed: &PasswordHash<'_>) -> Option<bool> {
    let expected = parsed.hash?;
    let salt = parsed.salt?;
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(parsed).ok()?;
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf).ok()?;
    let argon = Argon2::new(algorithm, version, params.clone());
    let computed = Output::init_with(expected.len(), |out| {
        argon
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt_bytes,
                out,
                blocks(memory, params.block_count()),
            )
            .map_err(Into::into)
    })
    .ok()?;
    Some(computed == expected)
}

fn verify_with(memory: &mut Vec<Block>, password: &str, stored: &str) -> Verified {
    if let Some(ok) = crate::legacy_hash::verify_better_auth_scrypt(password, stored) {
        // Better Auth (TypeScript) hashes: valid, and replaced on success (S04).
        return Verified {
            ok,
            needs_rehash: ok,
        };
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verified {
            ok: false,
            needs_rehash: false,
        };
    };
    let ok = matches(memory, password, &parsed).unwrap_or(false);
    let current = parsed.algorithm.as_str() == "argon2id"
        && parsed.params.get_decimal("m") == Some(ARGON2_M_COST)
        && parsed.params.get_decimal("t") == Some(ARGON2_T_COST)
        && parsed.params.get_decimal("p") == Some(ARGON2_P_COST);
    Verified {
        ok,
        needs_rehash: ok && !current,
    }
}

/// Whether hashing recently found the CPU busy with other work, shared by a
/// hasher's threads: every thread but the first pauses while it is.
#[derive(Debug)]
struct Contention {
    /// Until when (ms since `epoch`, plus one) the CPU counts as busy; 0: not busy.
    busy_until: AtomicU64,
    epoch: Instant,
    /// Wakes paused threads when a job ran unhindered.
    resumed: std::sync::Condvar,
    lock: Mutex<()>,
}

impl Contention {
    fn new() -> Self {
        Contention {
            busy_until: AtomicU64::new(0),
            epoch: Instant::now(),
            resumed: std::sync::Condvar::new(),
            lock: Mutex::new(()),
        }
    }

    /// How long one busy job keeps the extra threads paused when no job
    /// finishes to say otherwise (a job under load takes well under this).
    const HOLD: Duration = Duration::from_secs(1);

    /// Jobs shorter than this, on the CPU and waiting for it, are not taken
    /// into account (a hash takes tens of milliseconds).
    const TOO_SHORT: Duration = Duration::from_millis(1);

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }

    /// Takes note of one job: `ran` on the CPU, `waited` runnable for it.
    /// A job that waited longer than it ran (it got under half a core while
    /// it wanted one) marks the CPU busy for [`Self::HOLD`]; one that did not
    /// clears the mark and wakes the paused threads.
    fn record(&self, ran: Duration, waited: Duration) {
        if ran + waited < Self::TOO_SHORT {
            // A job skipped because its request went away says nothing.
            return;
        }
        if waited > ran {
            let until = self.now_ms() + Self::HOLD.as_millis() as u64;
            self.busy_until.store(until, Ordering::Relaxed);
        } else if self.busy_until.swap(0, Ordering::Relaxed) != 0 {
            let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
            self.resumed.notify_all();
        }
    }

    /// How much longer the CPU counts as busy, if it does.
    fn busy_for(&self) -> Option<Duration> {
        let until = self.busy_until.load(Ordering::Relaxed);
        let now = self.now_ms();
        (until > now).then(|| Duration::from_millis(until - now))
    }

    /// Returns once the CPU no longer counts as busy.
    fn wait_until_idle(&self) {
        let mut guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(left) = self.busy_for() {
            guard = self
                .resumed
                .wait_timeout(guard, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// The calling thread's scheduler statistics (Linux `schedstat`): time spent
/// on the CPU and time spent runnable but waiting for it. `None` elsewhere
/// or when the kernel does not keep them.
fn cpu_times() -> Option<(Duration, Duration)> {
    #[cfg(target_os = "linux")]
    {
        let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        let mut fields = stat.split_whitespace().map(str::parse::<u64>);
        let ran = fields.next()?.ok()?;
        let waited = fields.next()?.ok()?;
        Some((Duration::from_nanos(ran), Duration::from_nanos(waited)))
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// A hashing thread: lowest priority, runs jobs until every `PasswordHasher`
/// clone is gone, and drops its Argon2 memory whenever its queue is empty.
/// Every thread but the first (`index` 0) pauses while `contention` says the
/// CPU is busy with other work.
fn hashing_thread(queue: &Mutex<mpsc::Receiver<Job>>, index: usize, contention: &Contention) {
    lower_priority();
    let mut memory: Vec<Block> = Vec::new();
    loop {
        if index > 0 && contention.busy_for().is_some() {
            // Nothing is held while paused: the first thread takes the jobs.
            memory = Vec::new();
            contention.wait_until_idle();
        }
        let job = {
            let queue = match queue.try_lock() {
                Ok(queue) => queue,
                Err(TryLockError::Poisoned(e)) => e.into_inner(),
                Err(TryLockError::WouldBlock) => {
                    // Another thread is waiting for work, so the queue is
                    // empty: give the buffer back before queueing behind it.
                    memory = Vec::new();
                    queue.lock().unwrap_or_else(PoisonError::into_inner)
                }
            };
            match queue.try_recv() {
                Ok(job) => job,
                Err(mpsc::TryRecvError::Disconnected) => return,
                Err(mpsc::TryRecvError::Empty) => {
                    // Idle: give the buffer back before waiting.
                    memory = Vec::new();
                    match queue.recv() {
                        Ok(job) => job,
                        Err(_) => return,
                    }
                }
            }
        };
        let before = cpu_times();
        // A panicking job drops its result sender (the caller sees an error);
        // the thread lives on.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut memory)));
        if let Some(((ran0, waited0), (ran1, waited1))) = before.zip(cpu_times()) {
            contention.record(ran1.saturating_sub(ran0), waited1.saturating_sub(waited0));
        }
    }
}

/// `nice 19` for the calling thread: hashing only gets the CPU that request
/// handling leaves idle. Best effort; other platforms keep the default.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let tid = rustix::thread::gettid();
        let _ = rustix::process::setpriority_process(Some(tid), 19);
    }
}

/// How many password hashes may wait for a thread before new ones are
/// refused with 503 (S31); see `AuthConfig::hashing_queue`.
pub const DEFAULT_HASHING_QUEUE: usize = 128;

impl PasswordHasher {
    /// A hasher running as many concurrent hashes as the machine has cores,
    /// with up to [`DEFAULT_HASHING_QUEUE`] jobs waiting.
    pub fn new() -> Result<Self> {
        Self::with_queue(DEFAULT_HASHING_QUEUE)
    }

    /// A hasher with at most `queue` jobs waiting for a thread (S31); past
    /// that, hashing and verifying fail at once with [`Error::Busy`] (503).
    pub fn with_queue(queue: usize) -> Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        // The dummy hash makes unknown-email sign-ins cost one verification (S07).
        let dummy = hash_with(&mut Vec::new(), &generate_token())?;
        let (jobs, queue) = mpsc::sync_channel::<Job>(queue.max(1));
        let queue = Arc::new(Mutex::new(queue));
        let contention = Arc::new(Contention::new());
        for i in 0..cores {
            let queue = queue.clone();
            let contention = contention.clone();
            std::thread::Builder::new()
                .name(format!("better-auth-hash-{i}"))
                .spawn(move || hashing_thread(&queue, i, &contention))
                .map_err(|e| Error::Internal(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(PasswordHasher {
            jobs,
            verifications: Arc::new(AtomicU64::new(0)),
            dummy_hash: Arc::new(dummy),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            // The request went away while queued: skip the work.
            if !done.is_closed() {
                let _ = done.send(job(memory));
            }
        });
        self.jobs.try_send(job).map_err(|e| match e {
            // S31: a full queue is answered at once, not waited on.
            mpsc::TrySendError::Full(_) => Error::Busy { retry_after: 1 },
            mpsc::TrySendError::Disconnected(_) => Error::Internal("password hasher closed".into()),
        })?;
        result
            .await
            .map_err(|_| Error::Internal("password hashing task failed".into()))
    }

    /// Hashes a password into an Argon2id PHC string.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = password.to_owned();
        self.run(move |memory| hash_with(memory, &password)).await?
    }

    /// Checks a password against a stored PHC string.
    pub async fn verify(&self, password: &str, stored: &str) -> Result<Verified> {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let password = password.to_owned();
        let stored = stored.to_owned();
        self.run(move |memory| verify_with(memory, &password, &stored))
            .await
    }

    /// Spends one verification on a throwaway hash, so that an unknown email
    /// takes as long as a wrong password (S07). Always "no match".
    pub async fn verify_dummy(&self, password: &str) -> Result<()> {
        let dummy = self.dummy_hash.clone();
        self.verify(password, &dummy).await.map(|_| ())
    }

    /// How many password verifications this hasher has run (diagnostics, S07 tests).
    pub fn verification_count(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_that_waited_longer_than_it_ran_pauses_the_extra_threads_until_one_runs_unhindered() {
        let contention = Arc::new(Contention::new());
        assert_eq!(
            contention.busy_for(),
            None,
            "a new hasher uses every thread"
        );

        // Half a core or more: not busy.
        contention.record(Duration::from_millis(20), Duration::from_millis(20));
        assert_eq!(contention.busy_for(), None);

        // A skipped job (well under a millisecond) says nothing either way.
        contention.record(Duration::from_micros(10), Duration::from_micros(300));
        assert_eq!(contention.busy_for(), None);

        // Under half a core: busy, for at most HOLD.
        contention.record(Duration::from_millis(20), Duration::from_millis(25));
        let left = contention.busy_for().expect("busy after a starved job");
        assert!(left <= Contention::HOLD, "{left:?}");
        contention.record(Duration::from_micros(10), Duration::ZERO);
        assert!(
            contention.busy_for().is_some(),
            "a skipped job keeps the mark"
        );

        // A paused thread resumes as soon as a job runs unhindered, not when
        // the hold runs out.
        let paused = {
            let contention = contention.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                contention.wait_until_idle();
                started.elapsed()
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        contention.record(Duration::from_millis(20), Duration::from_millis(1));
        let waited = paused.join().expect("the paused thread");
        assert!(waited < Contention::HOLD, "resumed after {waited:?}");
        assert_eq!(contention.busy_for(), None);
    }

    #[test]
    fn a_busy_mark_expires_when_no_job_says_otherwise() {
        let contention = Contention::new();
        contention.record(Duration::from_millis(1), Duration::from_millis(5));
        let started = Instant::now();
        contention.wait_until_idle();
        let waited = started.elapsed();
        assert!(
            waited >= Contention::HOLD - Duration::from_millis(2),
            "{waited:?}"
        );
        assert_eq!(contention.busy_for(), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_threads_cpu_time_is_read_from_the_scheduler() {
        let (ran0, _) = cpu_times().expect("schedstat on Linux");
        let started = Instant::now();
        let mut x = 0u64;
        while started.elapsed() < Duration::from_millis(20) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let (ran1, _) = cpu_times().expect("schedstat on Linux");
        assert!(ran1 > ran0, "{ran0:?} -> {ran1:?}");
    }
}
