//! Helpers shared by the tests: fixture copies, running the binary, tree comparisons.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// The workspace root (this checkout).
pub(crate) fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A fresh copy of `tests/fixtures/<name>` in a temporary directory.
pub(crate) fn fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix(&format!("ba-init-{name}-"))
        .tempdir()
        .unwrap();
    copy_dir(&workspace().join("tests/fixtures").join(name), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_name() == "target" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The runtime the generated projects depend on: this checkout's, unless
/// `BETTER_AUTH_E2E_RUNTIME` names another (handy while the runtime is mid-change).
pub(crate) fn runtime_args() -> Vec<String> {
    match std::env::var("BETTER_AUTH_E2E_RUNTIME") {
        Ok(path) if !path.is_empty() => vec!["--runtime-path".into(), path],
        _ => Vec::new(),
    }
}

/// Runs `better-auth init --no-check` on `dir` with `args` (plus the runtime override):
/// fast, for tests about what init writes rather than whether it compiles.
pub(crate) fn init(dir: &Path, args: &[&str]) -> Output {
    init_with_env(dir, args, &[])
}

/// Like [`init`], with extra environment variables.
pub(crate) fn init_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut all = vec!["--no-check"];
    all.extend_from_slice(args);
    let mut cmd = init_command(dir, &all);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Runs `better-auth init` with its `cargo check`, building in the shared [`target_dir`];
/// seed the project's lock file first ([`seed_lockfile`]) so dependencies are reused.
pub(crate) fn init_checked(dir: &Path, args: &[&str]) -> Output {
    init_command(dir, args)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap()
}

pub(crate) fn init_command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_better-auth"));
    cmd.arg("init")
        .arg("--path")
        .arg(dir)
        .args(args)
        .args(runtime_args());
    cmd.env_remove("BETTER_AUTH_INIT_FAIL_AFTER")
        .env_remove("BETTER_AUTH_INIT_IGNORE_CHECKOUT");
    cmd
}

/// `<target dir>/init-e2e`: inside the workspace's target dir (or `CARGO_TARGET_DIR`), so
/// CI caches nothing extra and the generated projects' dependencies compile once per
/// machine.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
        .join("init-e2e")
}

/// Copies the workspace's Cargo.lock in, so the generated project resolves the versions
/// already built for the workspace.
pub(crate) fn seed_lockfile(project: &Path) {
    std::fs::copy(workspace().join("Cargo.lock"), project.join("Cargo.lock")).unwrap();
}

/// stdout and stderr as text.
pub(crate) fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Every file under `dir` with its bytes and permission bits (temp names included, so a
/// leftover `.x.better-auth-init.tmp` shows up as a difference).
pub(crate) fn tree(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, (Vec<u8>, u32)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let meta = entry.metadata().unwrap();
        let rel = path.strip_prefix(root).unwrap().to_path_buf();
        if meta.is_dir() {
            if entry.file_name() == "target" {
                continue;
            }
            out.insert(rel.clone(), (Vec::new(), mode(&meta)));
            walk(root, &path, out);
        } else {
            out.insert(rel, (std::fs::read(&path).unwrap(), mode(&meta)));
        }
    }
}

/// Replaces machine-specific parts: the project and runtime paths, and the secret.
pub(crate) fn redact(text: &str, project: &Path) -> String {
    let mut out = text.to_owned();
    for runtime in [
        std::env::var("BETTER_AUTH_E2E_RUNTIME")
            .ok()
            .filter(|p| !p.is_empty()),
        workspace()
            .join("runtime")
            .canonicalize()
            .ok()
            .map(|p| p.display().to_string()),
    ]
    .into_iter()
    .flatten()
    {
        let canonical = Path::new(&runtime)
            .canonicalize()
            .map(|p| p.display().to_string())
            .unwrap_or(runtime.clone());
        out = out
            .replace(&canonical, "[RUNTIME]")
            .replace(&runtime, "[RUNTIME]");
    }
    let project = project.canonicalize().unwrap();
    out = out.replace(&project.display().to_string(), "[PROJECT]");
    out.lines()
        .map(|line| match line.split_once("BETTER_AUTH_SECRET=") {
            Some((before, value)) if value.len() == 64 => {
                format!("{before}BETTER_AUTH_SECRET=[SECRET]")
            }
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if out.ends_with('\n') { "\n" } else { "" }
}

/// insta settings that store snapshots in the top-level `snapshots/init` folder.
pub(crate) fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(workspace().join("snapshots/init"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

/// A file's Unix permission bits (0 elsewhere, where trees compare by content only).
fn mode(meta: &std::fs::Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        0
    }
}
