//! A pseudo-terminal for tests of interactive prompts, from util-linux `script`:
//! runs a shell command line, types keys into it one group at a time, and
//! returns what the terminal showed and the exit status. Shared by the init
//! and admin test binaries.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How to run a command on the pseudo-terminal.
pub(crate) struct Session<'a> {
    /// The full command line (run by `sh -c` inside `script`).
    pub command: String,
    /// Working directory, if not the test's.
    pub dir: Option<&'a Path>,
    /// Environment variables to remove.
    pub env_remove: &'a [&'a str],
    /// Pause before each group of keys, so the prompt is up when they arrive.
    pub key_delay: Duration,
}

/// Runs the session, typing `keys`; `None` (with a SKIPPED line on stderr)
/// when `script` is not installed. Panics when the command hangs for 30 s.
pub(crate) fn run(session: Session<'_>, keys: &[&str]) -> Option<(String, Option<i32>)> {
    let have_script = Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_script {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED terminal test: util-linux `script` is not installed"
        );
        return None;
    }
    let mut command = Command::new("script");
    command
        .args(["-qec", &session.command, "/dev/null"])
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = session.dir {
        command.current_dir(dir);
    }
    for name in session.env_remove {
        command.env_remove(name);
    }
    let mut child = command.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for key in keys {
        std::thread::sleep(session.key_delay);
        stdin.write_all(key.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("`{}` hung on the terminal", session.command);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    Some((
        String::from_utf8_lossy(&output.stdout).into_owned(),
        output.status.code(),
    ))
}
