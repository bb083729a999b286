//! Every fixture: dry run (writes nothing), apply (snapshots of every file written or
//! edited), re-run (a no-op that says so).

use crate::util::{fixture, init, redact, snapshot_settings, text, tree};

/// Exit status when init wrote the scaffold but main.rs needs lines added by hand.
const EXIT_MANUAL: i32 = 2;

/// How every module init generates starts.
const GENERATED: &str = "// Written by `better-auth init`";

/// The snapshot of the module init generates for fixture `name`. Fixtures that get the
/// same module share one snapshot, named by how Better Auth is wired, so each distinct
/// module is reviewed once (and a fixture whose module drifts from its group fails).
fn module_snapshot(name: &str) -> String {
    let variant = match name {
        // No state of the app's: Better Auth becomes the router's state.
        "hello" | "odd-cargo-toml" | "state-module" | "workspace" => "better-auth-is-the-state",
        // The app's state cannot hold it: it rides in the requests' extensions.
        "foreign-state" | "opaque-state" | "reexported-routes" | "routes-module" | "serve-fn"
        | "sync-state" => "extension-layer",
        // Attached where the app is served.
        "member-router" | "platform-server" | "serve-in-block" | "tests-common"
        | "unusual-main" => "serve-site",
        // An `auth` field of a `#[derive(Clone)] struct AppState`.
        "app-state" | "lib-router" => "state-field",
        other => other,
    };
    format!("module__{variant}")
}

/// Scaffolds fixture `name` and returns the project, for checks of its own.
fn scaffold(name: &str, expected_exit: i32) -> tempfile::TempDir {
    let dir = fixture(name);
    let project = dir.path();
    let before = tree(project);
    let settings = snapshot_settings();

    let dry = init(project, &["--dry-run"]);
    let (stdout, stderr) = text(&dry);
    // The same status as the real run: 2 when manual steps remain.
    assert_eq!(
        dry.status.code(),
        Some(expected_exit),
        "dry run: {stdout}\n{stderr}"
    );
    assert!(stdout.contains("Dry run: nothing was written."), "{stdout}");
    assert!(!stdout.contains("The scaffold was written"), "{stdout}");
    assert_eq!(tree(project), before, "--dry-run wrote something");
    settings.bind(|| insta::assert_snapshot!(format!("{name}__dry_run"), redact(&stdout, project)));

    let applied = init(project, &["--yes"]);
    let (stdout, stderr) = text(&applied);
    assert_eq!(
        applied.status.code(),
        Some(expected_exit),
        "init --yes: {stdout}\n{stderr}"
    );
    settings.bind(|| insta::assert_snapshot!(format!("{name}__apply"), redact(&stdout, project)));

    let after = tree(project);
    for (path, (bytes, mode)) in &after {
        let is_dir = project.join(path).is_dir();
        if is_dir || before.get(path).is_some_and(|(old, _)| old == bytes) {
            continue;
        }
        let shown = path.display().to_string();
        let content = redact(&String::from_utf8_lossy(bytes), project);
        let snapshot = if shown.ends_with(".rs") && content.starts_with(GENERATED) {
            module_snapshot(name)
        } else {
            format!("{name}__{}", shown.replace('/', "__"))
        };
        settings.bind(|| insta::assert_snapshot!(snapshot, content));
        if shown.ends_with(".env") {
            assert_eq!(mode & 0o777, 0o600, "{shown} must be private (S29)");
        }
    }
    for (path, (_, mode)) in &before {
        if let Some((_, new_mode)) = after.get(path).filter(|_| !path.ends_with(".env")) {
            assert_eq!(mode, new_mode, "{} changed permissions", path.display());
        }
    }

    // Running again changes nothing and says so.
    let again = init(project, &["--yes"]);
    let (stdout, stderr) = text(&again);
    assert_eq!(
        again.status.code(),
        Some(expected_exit),
        "re-run: {stdout}\n{stderr}"
    );
    if expected_exit == 0 {
        assert!(
            stdout.contains("Nothing to do"),
            "re-run did not say so:\n{stdout}"
        );
    }
    assert!(
        !stdout.contains("  create  ") && !stdout.contains("  update  "),
        "{stdout}"
    );
    assert_eq!(tree(project), after, "re-run changed files");

    // The scaffold stays out of git and the secret is fresh.
    let gitignore = std::fs::read_to_string(project.join(".gitignore")).unwrap_or_default();
    assert!(gitignore.lines().any(|l| l.trim() == ".env"), "{gitignore}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let env_meta = std::fs::metadata(project.join(".env")).unwrap();
        assert_eq!(env_meta.permissions().mode() & 0o777, 0o600);
    }
    dir
}

#[test]
fn hello_world_without_state() {
    scaffold("hello", 0);
}

#[test]
fn derive_clone_app_state() {
    scaffold("app-state", 0);
}

#[test]
fn state_behind_arc() {
    let dir = scaffold("arc-state", 0);
    let project = dir.path();
    let main = std::fs::read_to_string(project.join("src/main.rs")).unwrap();
    let auth = std::fs::read_to_string(project.join("src/auth.rs")).unwrap();
    // Better Auth lives in the state like for a plain struct...
    assert!(main.contains("auth: Arc<BetterAuth>,"), "{main}");
    assert!(main.contains("auth: auth.clone(),"), "{main}");
    assert!(main.contains(".merge(auth::router(&auth))"), "{main}");
    assert!(auth.contains("auth.axum_routes::<S>()"), "{auth}");
    // ...and, as `FromRef` cannot be implemented for `Arc<AppState>` (orphan rule), the
    // app's handlers get extractors of their own, built on `from_parts`.
    for (extractor, from_parts) in [
        (
            "Authenticated",
            "CurrentSession::from_parts(&state.auth, parts)",
        ),
        (
            "MaybeAuthenticated",
            "OptionalSession::from_parts(&state.auth, parts)",
        ),
    ] {
        assert!(
            auth.contains(&format!(
                "impl FromRequestParts<Arc<AppState>> for {extractor} {{"
            )),
            "{auth}"
        );
        assert!(auth.contains(from_parts), "{auth}");
    }
    assert!(auth.contains("orphan rule"), "{auth}");
    assert!(!auth.contains("\nimpl FromRef"), "{auth}");
}

#[test]
fn sqlx_pool_and_migrations_folder() {
    scaffold("sqlx-pool", 0);
}

#[test]
fn workspace_member() {
    scaffold("workspace", 0);
}

#[test]
fn router_in_lib_with_thin_main() {
    scaffold("lib-router", 0);
}

#[test]
fn commented_unusual_cargo_toml() {
    scaffold("odd-cargo-toml", 0);
}

#[test]
fn unusual_main_is_wired_where_it_is_served() {
    scaffold("unusual-main", 0);
}

#[test]
fn state_struct_in_its_own_module_with_derive_from_ref() {
    let dir = scaffold("state-module", 0);
    let auth = std::fs::read_to_string(dir.path().join("src/auth.rs")).unwrap();
    // `#[derive(FromRef)]` already provides `FromRef<AppState> for Arc<BetterAuth>`.
    assert!(!auth.contains("impl FromRef"), "{auth}");
}

#[test]
fn router_from_modules_rebound_before_serving() {
    scaffold("routes-module", 0);
}

#[test]
fn tuple_state_with_deref_built_in_another_module() {
    scaffold("deref-state", 0);
}

#[test]
fn arc_state_from_an_async_constructor() {
    scaffold("arc-new-state", 0);
}

#[test]
fn app_with_its_own_auth_module_and_routes() {
    let dir = scaffold("existing-auth", 0);
    let main = std::fs::read_to_string(dir.path().join("src/main.rs")).unwrap();
    assert!(main.contains("mod auth_setup;"), "{main}");
    assert!(main.contains(".merge(auth_setup::router(&auth))"), "{main}");
    // The routes are merged at the module's base path, the one place that says where.
    let setup = std::fs::read_to_string(dir.path().join("src/auth_setup.rs")).unwrap();
    assert!(setup.contains(".base_path(\"/api/auth\")"), "{setup}");
    // The app's own module is untouched.
    let own = std::fs::read_to_string(dir.path().join("src/auth.rs")).unwrap();
    assert_eq!(
        own,
        std::fs::read_to_string(
            crate::util::workspace().join("tests/fixtures/existing-auth/src/auth.rs")
        )
        .unwrap()
    );
}

#[test]
fn router_passed_to_a_serve_function() {
    scaffold("serve-fn", 0);
}

#[test]
fn state_of_a_type_from_another_crate() {
    let dir = scaffold("foreign-state", 0);
    let main = std::fs::read_to_string(dir.path().join("src/main.rs")).unwrap();
    assert!(main.contains(".merge(auth::router(&auth))"), "{main}");
}

/// `routes::main_route()` is found through `pub use main_router::*;`, and a chain that
/// nests a `Router<()>` keeps its state: Better Auth's routes are nested on their own.
#[test]
fn reexported_router_with_state_applied_inside() {
    let dir = scaffold("reexported-routes", 0);
    let router = std::fs::read_to_string(dir.path().join("src/routes/main_router.rs")).unwrap();
    assert!(
        router.contains(".merge(crate::auth::router(&auth))"),
        "{router}"
    );
    assert!(!router.contains(".with_state(auth)"), "{router}");
}

/// A state built by a constructor that is not async (`Counter::new()`) cannot hold
/// Better Auth: its routes are nested on their own, and a note says how to add it later.
#[test]
fn state_built_by_a_sync_constructor() {
    let dir = scaffold("sync-state", 0);
    let main = std::fs::read_to_string(dir.path().join("src/main.rs")).unwrap();
    assert!(
        main.contains(
            ".merge(auth::router(&auth))\n        .layer(axum::Extension(auth.clone()))\n        .with_state(counter)"
        ),
        "{main}"
    );
}

/// `.with_state(Arc::new(store.greetings().clone()))`: init cannot tell the state's type,
/// so Better Auth's routes are nested on their own and a note says how to reach it from the
/// state; the port is the one of the address `bind` takes, not a default URL's.
#[test]
fn state_of_a_type_init_cannot_tell() {
    let dir = scaffold("opaque-state", 0);
    let main = std::fs::read_to_string(dir.path().join("src/main.rs")).unwrap();
    assert!(
        main.contains(
            ".merge(auth::router(&auth))\n        .layer(axum::Extension(auth.clone()))\n        .with_state(shared);"
        ),
        "{main}"
    );
    let env = std::fs::read_to_string(dir.path().join(".env")).unwrap();
    assert!(
        env.contains("BETTER_AUTH_URL=http://localhost:8080\n"),
        "{env}"
    );
}

/// A pool of the app's (`SqlitePoolOptions::new()..connect(..)`) in scope where Better
/// Auth starts is shared with it, though the state holding it is the bare pool: no second
/// database, no `BETTER_AUTH_DATABASE_URL` to invent.
#[test]
fn a_pool_in_scope_is_shared() {
    let dir = scaffold("pool-param", 0);
    let main = std::fs::read_to_string(dir.path().join("src/main.rs")).unwrap();
    assert!(
        main.contains("let auth = auth::init(db.clone()).await?;"),
        "{main}"
    );
    let env = std::fs::read_to_string(dir.path().join(".env")).unwrap();
    assert!(!env.contains("BETTER_AUTH_DATABASE_URL"), "{env}");
}

/// A workspace member that keeps its own `.env.example` gets Better Auth's variables
/// beside it, not in new files at the workspace root.
#[test]
fn workspace_member_with_its_own_env_files() {
    let dir = crate::util::fixture("workspace");
    let member = dir.path().join("crates/server");
    std::fs::write(member.join(".env.example"), "PORT=4000\n").unwrap();
    let output = crate::util::init(dir.path(), &["--yes"]);
    let (stdout, stderr) = crate::util::text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    let env = std::fs::read_to_string(member.join(".env")).unwrap();
    assert!(env.contains("BETTER_AUTH_SECRET="), "{env}");
    let example = std::fs::read_to_string(member.join(".env.example")).unwrap();
    assert!(example.starts_with("PORT=4000\n"), "{example}");
    assert!(example.contains("BETTER_AUTH_SECRET="), "{example}");
    assert!(!dir.path().join(".env").exists(), "{stdout}");
    assert!(!dir.path().join(".env.example").exists(), "{stdout}");
}

#[test]
fn a_router_built_in_a_spawned_task_is_wired() {
    scaffold("spawned-task", 0);
}

#[test]
fn a_server_in_the_library_gets_the_module_in_the_library() {
    let dir = scaffold("lib-startup", 0);
    let lib = std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap();
    assert!(lib.contains("pub mod auth;"), "{lib}");
    let main = std::fs::read_to_string(dir.path().join("src/main.rs")).unwrap();
    assert!(!main.contains("mod auth"), "{main}");
}

#[test]
fn a_serve_call_inside_a_block_is_wired_in_that_block() {
    scaffold("serve-in-block", 0);
}

#[test]
fn a_router_built_by_another_workspace_member_is_attached_where_it_is_served() {
    scaffold("member-router", 0);
}

#[test]
fn a_root_package_that_is_also_the_workspace_reads_its_workspace_dependencies() {
    scaffold("root-workspace", 0);
}

#[test]
fn a_state_built_by_test_code_is_left_alone() {
    let dir = scaffold("tests-common", 0);
    let lib = std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap();
    assert!(!lib.contains("auth"), "the state got a field:\n{lib}");
}

#[test]
fn an_app_without_a_serve_call_gets_steps_that_attach_at_the_serve_site() {
    scaffold("platform-server", EXIT_MANUAL);
}
