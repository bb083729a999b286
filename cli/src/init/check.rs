//! `cargo check` on the project after init wrote to it: the proof that the edit compiles.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// How many of the compiler's error lines are shown.
const SHOWN_ERRORS: usize = 20;

/// The result of one `cargo check`.
#[derive(Debug)]
pub(super) struct Checked {
    /// Whether cargo succeeded.
    pub ok: bool,
    /// The error lines (`--message-format short`: one line per error).
    pub errors: Vec<String>,
}

impl Checked {
    /// The error lines, trimmed to a readable amount, indented for printing.
    pub(super) fn summary(&self) -> String {
        let mut out = String::new();
        for line in self.errors.iter().take(SHOWN_ERRORS) {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
        if self.errors.len() > SHOWN_ERRORS {
            out.push_str(&format!(
                "  ... and {} more line(s)\n",
                self.errors.len() - SHOWN_ERRORS
            ));
        }
        if self.errors.is_empty() {
            out.push_str("  (cargo printed no error line; run `cargo check` to see why)\n");
        }
        out
    }
}

/// Formats Rust code with rustfmt and the project's settings (`rustfmt.toml` found from
/// `dir`); `None` without rustfmt or when the code does not parse.
pub(super) fn rustfmt(text: &str, edition: &str, dir: &Path) -> Option<String> {
    use std::io::Write as _;
    let mut child = Command::new("rustfmt")
        .args(["--edition", edition, "--emit", "stdout"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(text.as_bytes()).ok()?;
    let output = child.wait_with_output().ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout).ok()
}

/// Whether a line of cargo's stderr is a progress line (`   Compiling foo v1.0`).
fn is_progress(line: &str) -> bool {
    let trimmed = line.trim_start();
    line.len() > trimmed.len()
        && trimmed
            .split_once(' ')
            .is_some_and(|(word, _)| word.len() > 2 && word.chars().all(|c| c.is_alphabetic()))
        && trimmed.starts_with(|c: char| c.is_ascii_uppercase())
}

/// Runs `cargo check` on the package whose manifest is `manifest`, in `dir`. With
/// `progress`, cargo's progress lines go to stderr as they come. `CARGO_TARGET_DIR` and the
/// rest of the environment are passed on. `Err` when cargo could not be run at all.
pub(super) fn cargo_check(manifest: &Path, dir: &Path, progress: bool) -> Result<Checked, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(&cargo)
        // Tests and examples too: an app whose tests stop compiling does not compile.
        .args(["check", "--all-targets"])
        .arg("--manifest-path")
        .arg(manifest)
        .args(["--message-format", "short", "--color", "never"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot run {}: {err}", cargo.to_string_lossy()))?;
    let mut errors = ErrorLines::default();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if progress && is_progress(&line) {
                eprintln!("{line}");
            }
            errors.read(line);
        }
    }
    let errors = errors.lines;
    let status = child
        .wait()
        .map_err(|err| format!("cargo check did not finish: {err}"))?;
    Ok(Checked {
        ok: status.success(),
        errors,
    })
}

/// The error lines of cargo's output, each with the lines under it (cargo's "Caused
/// by:", a resolver's chain of requirements), which say why: they belong to it until the
/// next progress line, warning or blank line.
#[derive(Default)]
struct ErrorLines {
    lines: Vec<String>,
    in_error: bool,
}

impl ErrorLines {
    fn read(&mut self, line: String) {
        if line.starts_with("error") || line.contains(": error") {
            self.in_error = true;
            self.lines.push(line);
        } else if is_progress(&line)
            || line.trim().is_empty()
            || line.starts_with("warning")
            || line.contains(": warning")
        {
            self.in_error = false;
        } else if self.in_error {
            self.lines.push(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lines_under_an_error_are_kept_with_it() {
        let mut errors = ErrorLines::default();
        for line in [
            "    Checking hello v0.1.0 (/tmp/hello)",
            "warning: unused import",
            "  = note: not an error's",
            "error: failed to select a version for `libsqlite3-sys`.",
            "    ... required by package `sqlx-sqlite v0.8.6`",
            "versions that meet the requirements `^0.30.1` are: 0.30.1",
            "",
            "note: after the blank line",
            "src/main.rs:3:5: error[E0425]: cannot find value `x`",
            "   Compiling serde v1.0.219",
            "  (a progress line ends it)",
        ] {
            errors.read(line.to_owned());
        }
        assert_eq!(
            errors.lines,
            [
                "error: failed to select a version for `libsqlite3-sys`.",
                "    ... required by package `sqlx-sqlite v0.8.6`",
                "versions that meet the requirements `^0.30.1` are: 0.30.1",
                "src/main.rs:3:5: error[E0425]: cannot find value `x`",
            ]
        );
    }

    #[test]
    fn progress_lines_are_told_apart_from_diagnostics() {
        assert!(is_progress("   Compiling serde v1.0.219"));
        assert!(is_progress("    Checking hello v0.1.0 (/tmp/hello)"));
        assert!(is_progress(
            "    Finished `dev` profile [unoptimized] target(s) in 1.2s"
        ));
        assert!(!is_progress(
            "src/main.rs:3:5: error[E0425]: cannot find value `x`"
        ));
        assert!(!is_progress(
            "error: could not compile `hello` (bin \"hello\")"
        ));
        assert!(!is_progress("warning: unused import"));
        assert!(!is_progress(
            "  = note: `#[warn(unused_imports)]` on by default"
        ));
    }

    #[test]
    fn long_error_lists_are_trimmed() {
        let checked = Checked {
            ok: false,
            errors: (0..25)
                .map(|i| format!("src/main.rs:{i}:1: error: e{i}"))
                .collect(),
        };
        let summary = checked.summary();
        assert_eq!(summary.lines().count(), SHOWN_ERRORS + 1);
        assert!(summary.ends_with("... and 5 more line(s)\n"), "{summary}");
    }
}
