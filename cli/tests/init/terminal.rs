//! On a terminal, init asks what it cannot infer and confirms before writing. The
//! terminal is a pseudo-terminal from util-linux `script`; the test is skipped without it.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{fixture, runtime_args, tree};

/// Runs init under a pseudo-terminal, typing `keys` one group at a time.
fn on_terminal(project: &Path, keys: &[&str]) -> Option<String> {
    let have_script = Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_script {
        eprintln!("skipped: util-linux `script` is not installed");
        return None;
    }
    let mut command = format!(
        "{} init --path {}",
        env!("CARGO_BIN_EXE_better-auth"),
        project.display()
    );
    for arg in runtime_args() {
        command.push(' ');
        command.push_str(&arg);
    }
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for key in keys {
        std::thread::sleep(Duration::from_millis(700));
        stdin.write_all(key.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("init hung on the terminal");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn asks_for_the_database_and_confirms() {
    let dir = fixture("hello");
    let Some(screen) = on_terminal(dir.path(), &["\x1b[B\r", "y\r"]) else {
        return;
    };
    assert!(
        screen.contains("Which database should Better Auth store users"),
        "{screen}"
    );
    assert!(screen.contains("Apply these changes?"), "{screen}");
    assert!(screen.contains("Better Auth is wired in"), "{screen}");
    let manifest = std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("features = [\"axum\", \"postgres\"]"),
        "{manifest}"
    );
}

#[test]
fn declining_changes_nothing() {
    let dir = fixture("app-state");
    let before = tree(dir.path());
    let Some(screen) = on_terminal(dir.path(), &["\r", "n\r"]) else {
        return;
    };
    assert!(screen.contains("Nothing was changed."), "{screen}");
    assert_eq!(tree(dir.path()), before);
}
