//! On a terminal, init asks what it cannot infer and confirms before writing. The
//! terminal is a pseudo-terminal from util-linux `script`; the test is skipped without it.

use std::path::Path;
use std::time::Duration;

use crate::util::{fixture, runtime_args, tree};

/// Runs init under a pseudo-terminal, typing `keys` one group at a time.
fn on_terminal(project: &Path, keys: &[&str]) -> Option<String> {
    let mut command = format!(
        "{} init --no-check --path {}",
        env!("CARGO_BIN_EXE_better-auth"),
        project.display()
    );
    for arg in runtime_args() {
        command.push(' ');
        command.push_str(&arg);
    }
    crate::pty::run(
        crate::pty::Session {
            command,
            dir: None,
            env_remove: &[],
            key_delay: Duration::from_millis(700),
        },
        keys,
    )
    .map(|(screen, _)| screen)
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
