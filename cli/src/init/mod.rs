//! `better-auth init`: a one-way pipeline. Inspect the project (every read, every
//! question to git), resolve the choices (the only prompts), plan every file change in
//! memory (analysis, wiring and rendering, pure), show the plan, apply it all or nothing,
//! then check that the project compiles.

mod apply;
mod args;
mod check;
mod envfile;
mod inspect;
mod manifest;
mod plan;
mod port;
mod project;
mod render;
mod resolve;
mod serve_site;
mod source;
mod wiring;

#[cfg(test)]
mod tests;

use anyhow::{Context, anyhow};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub(crate) use args::InitArgs;

use plan::{Plan, Status};
use resolve::Chooser;

/// Exit status when the scaffold was written (or, with `--dry-run`, would be) but the
/// wiring needs lines added by hand.
const EXIT_MANUAL: u8 = 2;

/// Exit status when the project did not compile with init's changes (`cargo check`), so
/// every file init wrote was put back as it was.
const EXIT_CHECK_FAILED: u8 = 3;

/// Runs `better-auth init`.
pub(crate) fn run(args: InitArgs) -> ExitCode {
    match execute(args) {
        Ok(code) => code,
        Err(err) => {
            crate::error::report(err);
            ExitCode::FAILURE
        }
    }
}

fn execute(args: InitArgs) -> anyhow::Result<ExitCode> {
    let tty = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let chooser = Chooser {
        interactive: tty && !args.yes && !args.dry_run,
    };
    if let Some(mount) = &args.mount {
        validate_mount(mount)?;
    }

    let package = project::inspect(&args.path, args.package.as_deref(), &mut |names| {
        let index = chooser.select(
            "Several workspace members depend on axum. Which one gets Better Auth?",
            names,
            None,
            "--package NAME",
        )?;
        Ok(names[index].clone())
    })?;
    let facts = inspect::inspect(&args, &package)?;
    let (package, facts, moved) = serving_member(&args, package, facts)?;
    let decisions = resolve::resolve(&args, &package, &facts, &chooser)?;
    let format = |text: &str| check::rustfmt(text, &package.edition, &package.dir);
    let mut plan = plan::build(&args, &package, &facts, &decisions, &format)?;
    plan.notes.splice(0..0, moved);
    let base = facts.base.clone();

    print_plan(&plan, &base, args.dry_run);
    let changes = plan
        .files
        .iter()
        .filter(|f| matches!(f.status, Status::Create | Status::Update))
        .count();
    if changes == 0 {
        return Ok(nothing_to_write(&package, &plan));
    }
    if args.dry_run {
        println!("\nDry run: nothing was written. Run again without --dry-run to apply.");
        println!("Dependency: {}", plan.dependency_line);
        print_notes(&plan);
        if leaves_steps(&plan) {
            print_manual(&plan, Written::DryRun);
            return Ok(ExitCode::from(EXIT_MANUAL));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !args.yes && !confirmed(tty)? {
        println!("Nothing was changed.");
        return Ok(ExitCode::SUCCESS);
    }

    // Cargo rewrites the lock file while checking: it is put back too on failure.
    let locks = [
        package.env_dir.join("Cargo.lock"),
        package.dir.join("Cargo.lock"),
    ];
    let snapshot = write(&plan, &locks, &base)?;
    println!("\nWrote {changes} file(s).");
    println!("Dependency: {}", plan.dependency_line);
    print_notes(&plan);
    if !args.no_check {
        if let Some(code) = verify(&package, &plan, &snapshot) {
            return Ok(code);
        }
        report_lock_files(&locks, &snapshot, &base);
    }
    if leaves_steps(&plan) {
        print_manual(&plan, Written::Now);
        println!("\nOnce that is done, try it:\n{}", try_it(&package, &plan));
        return Ok(ExitCode::from(EXIT_MANUAL));
    }
    println!(
        "\nBetter Auth is wired in. Try it:\n{}",
        try_it(&package, &plan)
    );
    Ok(ExitCode::SUCCESS)
}

/// The package that serves the app: `package`, unless it is the root of a workspace,
/// never calls `axum::serve`, and exactly one other member that depends on axum does (its
/// binary only calls into that member): then that member, with a note saying so.
fn serving_member(
    args: &InitArgs,
    package: project::Package,
    facts: inspect::Facts,
) -> anyhow::Result<(project::Package, inspect::Facts, Option<String>)> {
    if args.package.is_some() || wiring::serves(&facts.model, &package.lib_crate) {
        return Ok((package, facts, None));
    }
    let mut serving = Vec::new();
    for name in project::axum_members(&package) {
        let no_choice = &mut |_: &[String]| Err(anyhow!("not asked"));
        let Ok(member) = project::inspect(&args.path, Some(&name), no_choice) else {
            continue;
        };
        // Its sources alone tell; the rest is read for the one chosen.
        let shown = |p: &Path| p.display().to_string();
        let serves = source::Model::load(&member.roots(), &shown)
            .is_ok_and(|model| wiring::serves(&model, &member.lib_crate));
        if serves {
            serving.push(member);
        }
    }
    if serving.len() != 1 {
        return Ok((package, facts, None));
    }
    let member = serving.remove(0);
    let member_facts = inspect::inspect(args, &member)?;
    let note = format!(
        "`{}` does not call `axum::serve`; the workspace member `{}` does, so Better Auth \
         goes there (choose another package with --package)",
        package.name, member.name
    );
    Ok((member, member_facts, Some(note)))
}

/// The end of a run that has nothing to write: done, or steps still left.
fn nothing_to_write(package: &project::Package, plan: &Plan) -> ExitCode {
    print_notes(plan);
    if leaves_steps(plan) {
        print_manual(plan, Written::Now);
        return ExitCode::from(EXIT_MANUAL);
    }
    let kept = plan
        .files
        .iter()
        .filter(|f| f.status == Status::Conflict)
        .count();
    if kept == 0 {
        println!(
            "\nNothing to do: {} already has Better Auth (every file is as init would write it).",
            package.name
        );
    } else {
        println!(
            "\nNothing to do: {} already has Better Auth; {kept} file(s) you changed were kept \
             as they are (--force rewrites them).",
            package.name
        );
    }
    ExitCode::SUCCESS
}

/// Asks on the terminal whether to apply the plan.
fn confirmed(tty: bool) -> anyhow::Result<bool> {
    if !tty {
        return Err(anyhow!(
            "there is no terminal to confirm these changes on: pass --yes to apply them, or \
             --dry-run to see the diffs; nothing was changed"
                .to_owned(),
        ));
    }
    inquire::Confirm::new("Apply these changes?")
        .with_default(true)
        .prompt()
        .context("not confirmed; nothing was changed")
}

/// Writes the plan's new and changed files, all or nothing, after taking a snapshot of
/// them and of the lock files (which cargo rewrites while checking).
fn write(plan: &Plan, locks: &[PathBuf], base: &Path) -> anyhow::Result<apply::Snapshot> {
    let writes: Vec<apply::FileWrite> = plan
        .files
        .iter()
        .filter(|f| matches!(f.status, Status::Create | Status::Update))
        .map(|f| apply::FileWrite {
            path: f.path.clone(),
            text: f.new.clone(),
            mode: f.mode,
        })
        .collect();
    let snapshot = apply::Snapshot::take(
        writes
            .iter()
            .map(|w| w.path.as_path())
            .chain(locks.iter().map(PathBuf::as_path)),
    )?;
    apply::apply(&writes, fail_after(), &|p| shown(p, base))?;
    Ok(snapshot)
}

/// The check passed: cargo wrote Better Auth's dependencies into the lock file, one more
/// file for the user's commit, unless the app keeps it out of git.
fn report_lock_files(locks: &[PathBuf], snapshot: &apply::Snapshot, base: &Path) {
    // The snapshot holds the lock files as they were before init wrote (the two paths
    // are one file outside a workspace).
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let unique = locks
        .iter()
        .enumerate()
        .filter(|&(i, lock)| !locks[..i].iter().any(|l| canonical(l) == canonical(lock)));
    for (_, lock) in unique {
        let Some(what) = snapshot.change_since(lock) else {
            continue;
        };
        let gitignore = lock
            .parent()
            .and_then(|dir| std::fs::read_to_string(dir.join(".gitignore")).ok())
            .unwrap_or_default();
        if envfile::ignored(lock, &gitignore) {
            continue;
        }
        println!(
            "{} was {what} by cargo check with Better Auth's dependencies: commit it with the \
             rest.",
            shown(lock, base)
        );
    }
}

/// The commands that show the wiring working: start the app, sign up.
fn try_it(package: &project::Package, plan: &Plan) -> String {
    format!(
        "  cargo run{}\n  curl -i -X POST {}{}/sign-up/email \\\n    \
         -H 'content-type: application/json' \\\n    \
         -d '{{\"name\":\"Ada\",\"email\":\"ada@example.com\",\"password\":\"a long passphrase\"}}'",
        // A member's binary by its name; a library member is run by the binary that uses
        // it, from the workspace's root.
        if package.dir != package.env_dir && package.main.is_some() {
            format!(" -p {}", package.name)
        } else {
            String::new()
        },
        plan.base_url,
        plan.mount
    )
}

fn validate_mount(mount: &str) -> anyhow::Result<()> {
    let ok = mount.starts_with('/')
        && mount.len() > 1
        && !mount.ends_with('/')
        && mount
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(anyhow!(
            "--mount {mount:?}: expected a path like /auth or /api/auth (no trailing slash)"
        ))
    }
}

/// A path as shown to the user: relative to the folder init was pointed at.
fn shown(path: &Path, base: &Path) -> String {
    if let Ok(rel) = path.strip_prefix(base) {
        return rel.display().to_string();
    }
    // Outside `base` (a workspace root above it): walk up.
    let mut up = PathBuf::new();
    for ancestor in base.ancestors().skip(1) {
        up.push("..");
        if let Ok(rel) = path.strip_prefix(ancestor) {
            return up.join(rel).display().to_string();
        }
    }
    path.display().to_string()
}

fn print_plan(plan: &Plan, base: &Path, diffs: bool) {
    println!("Better Auth for `{}`:", plan.package);
    for file in &plan.files {
        let note = file
            .note
            .as_deref()
            .map(|n| format!("  ({n})"))
            .unwrap_or_default();
        println!(
            "{:>10}  {}{note}",
            file.status.word(),
            shown(&file.path, base)
        );
    }
    if diffs {
        for file in &plan.files {
            if !matches!(
                file.status,
                Status::Create | Status::Update | Status::Conflict
            ) {
                continue;
            }
            let name = shown(&file.path, base);
            let old = file.old.as_deref().unwrap_or("");
            let diff = similar::TextDiff::from_lines(old, &file.new);
            let from = if file.old.is_some() {
                format!("a/{name}")
            } else {
                "/dev/null".to_owned()
            };
            let text = diff
                .unified_diff()
                .context_radius(3)
                .header(&from, &format!("b/{name}"))
                .to_string();
            println!();
            let text = plan.mask(&text);
            if name == ".env" || name.ends_with("/.env") {
                // The app's own secrets stay off the screen (and out of CI logs).
                let masked: Vec<String> = text.lines().map(mask_env_line).collect();
                println!("{}", masked.join("\n"));
            } else {
                print!("{text}");
            }
        }
    }
}

/// A line of a `.env` diff with its secret hidden: the value of a `*SECRET*`,
/// `*PASSWORD*`, `*TOKEN*` or `*KEY*` variable, and the password of a URL.
fn mask_env_line(line: &str) -> String {
    let Some((marker, rest)) = line
        .char_indices()
        .next()
        .filter(|(_, c)| matches!(c, ' ' | '+' | '-'))
        .map(|(_, c)| (c, &line[1..]))
    else {
        return line.to_owned();
    };
    let Some((key, value)) = rest.split_once('=') else {
        return line.to_owned();
    };
    if rest.trim_start().starts_with('#')
        || value.is_empty()
        || value.contains("generated on apply")
    {
        return line.to_owned();
    }
    let name = key.trim().to_ascii_uppercase();
    let secret = ["SECRET", "PASSWORD", "TOKEN", "KEY"]
        .iter()
        .any(|word| name.contains(word));
    let value = if secret {
        "***".to_owned()
    } else {
        better_auth::store::redact_url(value)
    };
    format!("{marker}{key}={value}")
}

/// When the scaffold files were (or would be) written, for the manual steps' footer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Written {
    /// By this run or an earlier one.
    Now,
    /// Not at all: `--dry-run`.
    DryRun,
    /// Written, then put back because the project did not compile.
    RolledBack,
}

/// Whether init ends with [`EXIT_MANUAL`]: wiring or settings are left to the user.
fn leaves_steps(plan: &Plan) -> bool {
    plan.manual.is_some() || !plan.env_steps.is_empty()
}

fn print_manual(plan: &Plan, written: Written) {
    if plan.manual.is_none() && !plan.env_steps.is_empty() {
        println!("\nLeft for you:");
        for step in &plan.env_steps {
            println!("  - {step}");
        }
        let footer = match written {
            Written::Now => {
                format!("Everything else was written: init exits with status {EXIT_MANUAL}.")
            }
            Written::DryRun => format!(
                "A real run would write everything else and exit with status {EXIT_MANUAL}."
            ),
            Written::RolledBack => "Nothing was kept.".to_owned(),
        };
        println!("\n{footer}");
        return;
    }
    for step in &plan.env_steps {
        println!("Note: {step}");
    }
    if let Some(manual) = &plan.manual {
        println!("\nManual steps needed:\n{}", manual.trim_end());
        let footer = match written {
            Written::Now => format!(
                "The scaffold was written, but the wiring above is not done: init exits with \
                 status {EXIT_MANUAL}."
            ),
            Written::DryRun => format!(
                "A real run would write the scaffold, but not the wiring above: it would exit \
                 with status {EXIT_MANUAL}."
            ),
            Written::RolledBack => "Nothing was kept: the steps above are what a successful \
                                    run would have left for you to do."
                .to_owned(),
        };
        println!("\n{footer}");
    }
}

fn print_notes(plan: &Plan) {
    for note in &plan.notes {
        println!("Note: {note}");
    }
}

/// `BETTER_AUTH_INIT_FAIL_AFTER`: a test hook that makes apply fail after that many
/// renames. Debug builds only; a release build never reads it.
fn fail_after() -> Option<usize> {
    #[cfg(debug_assertions)]
    {
        std::env::var("BETTER_AUTH_INIT_FAIL_AFTER")
            .ok()
            .and_then(|v| v.parse().ok())
    }
    #[cfg(not(debug_assertions))]
    {
        None
    }
}

/// Puts back every file of `snapshot`, saying which could not be.
fn restore(snapshot: &apply::Snapshot) {
    let problems = snapshot.restore();
    if !problems.is_empty() {
        eprintln!(
            "error: these files could not be put back:\n  {}",
            problems.join("\n  ")
        );
    }
}

/// Runs `cargo check` after the writes. When the project does not compile, puts every file
/// back, says why and whether it compiled before, and returns the exit status.
fn verify(package: &project::Package, plan: &Plan, snapshot: &apply::Snapshot) -> Option<ExitCode> {
    let manifest = package.dir.join("Cargo.toml");
    println!(
        "\nChecking that {} compiles (cargo check --all-targets; the first run builds Better Auth's dependencies)…",
        package.name
    );
    let checked = match check::cargo_check(&manifest, &package.dir, true) {
        Ok(checked) => checked,
        Err(err) => {
            println!(
                "Note: the changes were not checked ({err}); run `cargo check` yourself, or pass \
                 --no-check to skip this step."
            );
            return None;
        }
    };
    if checked.ok {
        if leaves_steps(plan) {
            println!(
                "{} compiles, but the steps init left for you are not done yet.",
                package.name
            );
        } else {
            println!("{} compiles with Better Auth.", package.name);
        }
        return None;
    }
    restore(snapshot);
    eprintln!(
        "error: {} does not compile with init's changes, so every file init wrote was put back \
         as it was. The compiler said:\n{}",
        package.name,
        checked.summary()
    );
    // Whose fault is it? Check the restored project (then put the lock file back again).
    eprintln!("Checking whether {} compiled before init…", package.name);
    let before = check::cargo_check(&manifest, &package.dir, false);
    restore(snapshot);
    match before {
        Ok(before) if before.ok => eprintln!(
            "It compiled before init, so the failure comes from init's changes: please report \
             it with the errors above at {}/issues. Meanwhile, run init with --no-check to keep \
             its changes and fix them by hand.",
            env!("CARGO_PKG_REPOSITORY")
        ),
        Ok(_) => eprintln!(
            "It did not compile before init either: fix its own errors (`cargo check`), then run \
             init again, or pass --no-check to write the changes regardless."
        ),
        Err(err) => eprintln!("Could not tell whether it compiled before init: {err}."),
    }
    print_manual(plan, Written::RolledBack);
    Some(ExitCode::from(EXIT_CHECK_FAILED))
}
