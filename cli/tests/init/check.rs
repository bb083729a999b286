//! init's `cargo check`: a project that does not compile with init's changes is put back
//! byte for byte, with the compiler's errors and a distinct exit status; `--no-check`
//! skips the check.

use std::path::Path;

use crate::util::{fixture, init, init_checked, seed_lockfile, text, tree};

/// Exit status when the project did not compile after init.
const EXIT_CHECK_FAILED: i32 = 3;

/// Makes the `hello` fixture stop compiling once its Cargo.toml names `better-auth`: a
/// build script sets a cfg, and main.rs holds a `compile_error!` behind it. It compiles
/// before init, so only init's changes break it. Also gives it a `.env` with mode 0644,
/// which init would make 0600.
fn breaks_after_init(project: &Path) {
    std::fs::write(
        project.join("build.rs"),
        "fn main() {\n    println!(\"cargo::rustc-check-cfg=cfg(scaffolded)\");\n    \
         println!(\"cargo::rerun-if-changed=Cargo.toml\");\n    \
         let manifest = std::fs::read_to_string(\"Cargo.toml\").unwrap();\n    \
         if manifest.contains(\"better-auth\") {\n        \
         println!(\"cargo::rustc-cfg=scaffolded\");\n    }\n}\n",
    )
    .unwrap();
    let main = project.join("src/main.rs");
    let source = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        format!("#[cfg(scaffolded)]\ncompile_error!(\"forced failure after init\");\n\n{source}"),
    )
    .unwrap();
    let env = project.join(".env");
    std::fs::write(&env, "PORT=3000\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
}

#[test]
fn a_failed_check_puts_every_file_back() {
    let dir = fixture("hello");
    let project = dir.path();
    breaks_after_init(project);
    seed_lockfile(project);
    let before = tree(project);

    let output = init_checked(project, &["--yes"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(EXIT_CHECK_FAILED),
        "{stdout}\n{stderr}"
    );
    // Written first, checked, then put back: paths, bytes and modes as before (the lock
    // file cargo rewrote included; created files and folders gone).
    assert!(stdout.contains("Wrote "), "{stdout}");
    assert!(stdout.contains("Checking that hello compiles"), "{stdout}");
    assert_eq!(tree(project), before, "the project was not restored");
    assert!(
        stderr.contains("error: hello does not compile with init's changes"),
        "{stderr}"
    );
    assert!(stderr.contains("forced failure after init"), "{stderr}");
    assert!(
        stderr.contains("It compiled before init, so the failure comes from init's changes"),
        "{stderr}"
    );
}

#[test]
fn a_project_broken_before_init_is_told_so() {
    let dir = fixture("hello");
    let project = dir.path();
    let main = project.join("src/main.rs");
    let source = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        format!("{source}\nfn broken() -> u32 {{\n    \"not a number\"\n}}\n"),
    )
    .unwrap();
    seed_lockfile(project);
    let before = tree(project);

    let output = init_checked(project, &["--yes"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(EXIT_CHECK_FAILED),
        "{stdout}\n{stderr}"
    );
    assert_eq!(tree(project), before, "the project was not restored");
    assert!(stderr.contains("error[E0308]"), "{stderr}");
    assert!(
        stderr.contains("It did not compile before init either"),
        "{stderr}"
    );
}

#[test]
fn no_check_skips_the_check() {
    let dir = fixture("hello");
    let project = dir.path();
    breaks_after_init(project);
    // `init` passes --no-check.
    let output = init(project, &["--yes"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(!stdout.contains("Checking that"), "{stdout}");
    assert!(!stderr.contains("Compiling"), "{stderr}");
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("better-auth"), "{manifest}");
    assert!(project.join("src/auth.rs").exists());
}

#[test]
fn help_documents_the_exit_statuses() {
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_better-auth"))
        .args(["init", "--help"])
        .output()
        .unwrap();
    let (stdout, _) = text(&output);
    assert!(stdout.contains("--no-check"), "{stdout}");
    for line in [
        "Exit status:",
        "  2  the scaffold",
        "  3  the project did not compile",
    ] {
        assert!(stdout.contains(line), "{line:?} missing:\n{stdout}");
    }
}
