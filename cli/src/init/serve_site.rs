//! Wiring at the serve site: wherever `axum::serve(listener, X)` is called (any block, an
//! `if`, a spawned task's `async` block, a function of a library), `X` becomes
//! `auth::attach(X, &auth)`, which merges Better Auth's routes and puts it in every
//! request. It type-checks for any `Router<()>`, whoever built it, so the app's router and
//! state need not be understood: this is where init wires when the router's state is not
//! simple and local. Pure: syntax in, edits or a reason out.

use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Block, Expr, ExprCall, Local, Stmt};

use super::source::{Edit, FnRef, Model, Root, above_statement};
use super::wiring::{
    PoolReuse, Snippets, WiringInput, connect_info_call, mod_decl_edit, module_path, module_shown,
    on_error, pat_name, path_idents, strip,
};

/// Where the app is served.
#[derive(Clone, Copy)]
pub(super) struct ServeCall<'a> {
    /// The function that holds the call (the call may sit in a block or closure inside it).
    pub func: FnRef<'a>,
    /// `axum::serve(listener, X)`.
    pub call: &'a ExprCall,
}

/// What wiring at the serve site settled.
#[derive(Debug)]
pub(super) struct ServeSiteWiring {
    /// The crate root that declares Better Auth's module.
    pub home: Root,
    /// The edits (none when an earlier run wired it already).
    pub edits: Vec<Edit>,
    /// The app's pool Better Auth shares, when it does.
    pub pool: Option<PoolReuse>,
}

/// The app's pool, bound in the serving function's body, that Better Auth can share.
#[derive(Debug)]
pub(super) struct SharedPool {
    /// Its type and the argument `init` takes (`pool.clone()`).
    pub reuse: PoolReuse,
    /// The first statement after the pool is bound.
    pub from: usize,
    /// The statement `let auth` goes before: before the pool is moved, else before the
    /// serve call's statement.
    pub at: usize,
}

/// `(line, column)` of a span's ends, comparable.
type Range = ((usize, usize), (usize, usize));

fn range(node: &impl Spanned) -> Range {
    let span = node.span();
    let (start, end) = (span.start(), span.end());
    ((start.line, start.column), (end.line, end.column))
}

fn contains(outer: Range, inner: Range) -> bool {
    outer.0 <= inner.0 && inner.1 <= outer.1
}

/// A block on the way from the function's body to the serve call.
#[derive(Clone, Copy)]
struct Enclosing<'a> {
    block: &'a Block,
    /// Whether `.await` works here (an async function, block or closure).
    is_async: bool,
    /// Whether the function's own body is the nearest async context (then `?` reaches
    /// the function's error type).
    in_fn_body: bool,
}

/// The blocks that contain `target`, outermost first, and whether the innermost boundary
/// on the way is a closure without braces (whose body has no block to put a `let` in).
struct Blocks<'a> {
    target: Range,
    /// (async, in the function's body) of the contexts entered so far.
    contexts: Vec<(bool, bool)>,
    found: Vec<Enclosing<'a>>,
    /// A closure or async block containing the target was entered after the last block.
    bare_boundary: bool,
}

impl<'a> Visit<'a> for Blocks<'a> {
    fn visit_block(&mut self, block: &'a Block) {
        if !contains(range(block), self.target) {
            return;
        }
        let (is_async, in_fn_body) = *self.contexts.last().unwrap_or(&(false, false));
        self.found.push(Enclosing {
            block,
            is_async,
            in_fn_body,
        });
        self.bare_boundary = false;
        visit::visit_block(self, block);
    }

    fn visit_expr_async(&mut self, node: &'a syn::ExprAsync) {
        if contains(range(node), self.target) {
            self.contexts.push((true, false));
            self.bare_boundary = true;
            visit::visit_expr_async(self, node);
            self.contexts.pop();
        }
    }

    fn visit_expr_closure(&mut self, node: &'a syn::ExprClosure) {
        if contains(range(node), self.target) {
            self.contexts.push((node.asyncness.is_some(), false));
            self.bare_boundary = true;
            visit::visit_expr_closure(self, node);
            self.contexts.pop();
        }
    }

    // Items inside a function are functions of their own.
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

fn enclosing<'a>(func: FnRef<'a>, target: Range) -> Result<Vec<Enclosing<'a>>, String> {
    let mut blocks = Blocks {
        target,
        contexts: vec![(func.is_async(), true)],
        found: Vec::new(),
        bare_boundary: false,
    };
    blocks.visit_block(func.block);
    if blocks.bare_boundary {
        return Err(format!(
            "`axum::serve` is called in a closure without braces in `fn {}`",
            func.name()
        ));
    }
    match blocks.found.last() {
        Some(inner) if inner.is_async => Ok(blocks.found),
        Some(_) => Err(format!(
            "`axum::serve` is called outside an async function or block in `fn {}`, where \
             Better Auth's set-up cannot be awaited",
            func.name()
        )),
        None => Err(format!(
            "init could not place the call in `fn {}`",
            func.name()
        )),
    }
}

/// Finds a call to a function whose path ends in `segments` (`["auth", "attach"]`,
/// `["TcpListener", "bind"]`).
struct CallsPath<'s> {
    segments: &'s [&'s str],
    found: bool,
}

impl<'a> Visit<'a> for CallsPath<'_> {
    fn visit_expr_call(&mut self, call: &'a ExprCall) {
        if let Expr::Path(path) = &*call.func {
            let names = path_idents(&path.path);
            self.found |= names.len() >= self.segments.len()
                && names[names.len() - self.segments.len()..]
                    .iter()
                    .zip(self.segments)
                    .all(|(name, wanted)| name == wanted);
        }
        visit::visit_expr_call(self, call);
    }
}

/// Whether `expr` calls a function whose path ends in `segments`.
pub(super) fn expr_calls(expr: &Expr, segments: &[&str]) -> bool {
    let mut finder = CallsPath {
        segments,
        found: false,
    };
    finder.visit_expr(expr);
    finder.found
}

/// The `let` in `func` that binds `auth`, if any.
fn auth_binding<'a>(func: FnRef<'a>) -> Option<&'a Local> {
    struct Finder<'a> {
        found: Option<&'a Local>,
    }
    impl<'a> Visit<'a> for Finder<'a> {
        fn visit_local(&mut self, local: &'a Local) {
            if pat_name(&local.pat).as_deref() == Some("auth") {
                self.found.get_or_insert(local);
            }
            visit::visit_local(self, local);
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut finder = Finder { found: None };
    finder.visit_block(func.block);
    finder.found
}

/// Whether statement `stmt` binds a TCP listener (`TcpListener::bind(..)`).
pub(super) fn binds_listener(stmt: &Stmt) -> bool {
    let mut finder = CallsPath {
        segments: &["TcpListener", "bind"],
        found: false,
    };
    finder.visit_stmt(stmt);
    finder.found
}

/// The expression to wrap in `attach(..)`: the value served, or, for
/// `let service = app.into_make_service..(); axum::serve(listener, service)`, the router
/// the `let` turns into a service.
struct Target<'a> {
    /// The expression replaced.
    replaced: &'a Expr,
    /// The router inside it, wrapped in `attach`.
    router: &'a Expr,
    /// Whether the replacement adds `.into_make_service_with_connect_info::<SocketAddr>()`.
    add_connect_info: bool,
    /// Index into the enclosing blocks of the block holding `replaced`, and the statement.
    block: usize,
    stmt: usize,
}

fn target<'a>(
    blocks: &[Enclosing<'a>],
    block: usize,
    stmt: usize,
    served: &'a Expr,
    depth: usize,
) -> Target<'a> {
    let plain = |replaced, router, add_connect_info| Target {
        replaced,
        router,
        add_connect_info,
        block,
        stmt,
    };
    match strip(served) {
        Expr::MethodCall(m) if m.method == "into_make_service_with_connect_info" => {
            plain(&m.receiver, &m.receiver, false)
        }
        Expr::MethodCall(m) if m.method == "into_make_service" && m.args.is_empty() => {
            plain(served, &m.receiver, true)
        }
        // A variable bound earlier to a service: wrap the router it was made from.
        Expr::Path(path) if depth < 4 && path.path.get_ident().is_some() => {
            let name = path.path.segments[0].ident.to_string();
            for (bi, enclosing) in blocks[..=block].iter().enumerate().rev() {
                let upto = if bi == block {
                    stmt
                } else {
                    // The statement of the outer block that holds the inner one.
                    let inner = range(blocks[bi + 1].block);
                    enclosing
                        .block
                        .stmts
                        .iter()
                        .position(|s| contains(range(s), inner))
                        .unwrap_or(0)
                };
                let bound = enclosing.block.stmts[..upto]
                    .iter()
                    .enumerate()
                    .rev()
                    .find_map(|(si, s)| match s {
                        Stmt::Local(local) if pat_name(&local.pat).as_deref() == Some(&name) => {
                            Some((si, local))
                        }
                        _ => None,
                    });
                if let Some((si, local)) = bound {
                    if let Some(init) = &local.init {
                        if matches!(strip(&init.expr), Expr::MethodCall(m)
                            if m.method.to_string().starts_with("into_make_service"))
                        {
                            return target(blocks, bi, si, &init.expr, depth + 1);
                        }
                    }
                    break;
                }
            }
            plain(served, served, true)
        }
        _ => plain(served, served, true),
    }
}

/// Whether `expr` calls a path of the crate `name` (`app::routes::router(..)`).
fn names_crate(expr: &Expr, name: &str) -> bool {
    struct Find<'n>(&'n str, bool);
    impl<'a> Visit<'a> for Find<'_> {
        fn visit_expr_path(&mut self, path: &'a syn::ExprPath) {
            self.1 |= path.path.segments.len() > 1
                && path
                    .path
                    .segments
                    .first()
                    .is_some_and(|s| s.ident == self.0);
            visit::visit_expr_path(self, path);
        }
    }
    let mut find = Find(name, false);
    find.visit_expr(expr);
    find.1
}

/// Wires Better Auth at `site`: `mod auth;` in the crate root of the file, `let auth =
/// auth::init().await?;` just before the listener is bound (or the router turned into a
/// service), and `auth::attach(X, &auth)` for the served router, served with connect info
/// (for per-client rate limits). `Err` says in a sentence why it cannot.
pub(super) fn wire_serve_site(
    model: &Model,
    site: ServeCall<'_>,
    shared: Option<SharedPool>,
    input: &WiringInput<'_>,
    snippets: &dyn Snippets,
) -> anyhow::Result<Result<ServeSiteWiring, String>> {
    let func = site.func;
    let file = func.file;
    let Some(served) = site.call.args.iter().nth(1) else {
        return Ok(Err("`axum::serve` takes two arguments".to_owned()));
    };
    // A router the library builds (`app::routes::router(..)` served by `main.rs`): the
    // module goes in the library, where its handlers can reach it.
    let from_library = file.root == Root::Main
        && model.root_file(Root::Lib).is_some()
        && names_crate(served, input.lib_crate);
    let home = if from_library { Root::Lib } else { file.root };
    let module_path = module_path(file, home, input.module, input.lib_crate)
        .unwrap_or_else(|| input.module.to_owned());
    let blocks = match enclosing(func, range(site.call)) {
        Ok(blocks) => blocks,
        Err(reason) => return Ok(Err(reason)),
    };
    let inner = blocks.len() - 1;
    let Some(stmt) = blocks[inner]
        .block
        .stmts
        .iter()
        .position(|s| contains(range(s), range(site.call)))
    else {
        return Ok(Err(format!(
            "init could not place the serve call in `fn {}`",
            func.name()
        )));
    };
    let mut edits = Vec::new();
    mod_decl_edit(model, home, input, snippets, &mut edits)?;

    let attach = [input.module, "attach"];
    let wired = expr_calls(served, &attach);
    let target = target(&blocks, inner, stmt, served, 0);
    let wired = wired || expr_calls(target.replaced, &attach);

    // `let auth = ..` before the statement, or before the listener's when that comes
    // first in the same block: start-up errors come before the app says it listens.
    let mut pool = None;
    match auth_binding(func) {
        Some(local)
            if local
                .init
                .as_ref()
                .is_some_and(|init| expr_calls(&init.expr, &[input.module, "init"])) => {}
        Some(_) => {
            return Ok(Err(format!(
                "`fn {}` already has a variable named `auth`",
                func.name()
            )));
        }
        None => {
            let enclosing = blocks[target.block];
            let stmts = &enclosing.block.stmts;
            // The app's pool is shared when `let auth` goes in the function's own body,
            // where the pool is in scope: after it is bound, before it is moved.
            pool = shared.filter(|_| target.block == 0);
            let (from, until) = pool.as_ref().map_or((0, target.stmt), |p| (p.from, p.at));
            let at_stmt = stmts[from..until]
                .iter()
                .position(binds_listener)
                .map_or(until, |i| from + i);
            let on_error = if enclosing.in_fn_body {
                on_error(func)
            } else {
                ".expect(\"Better Auth could not start\")"
            };
            let text = snippets.snippet(
                "let_auth",
                &[
                    ("module_file", module_shown(model, home, input.module)),
                    ("example_file", input.example_file.to_owned()),
                    ("init_path", format!("{module_path}::init")),
                    (
                        "pool_arg",
                        pool.as_ref()
                            .map(|p| p.reuse.arg.clone())
                            .unwrap_or_default(),
                    ),
                    ("on_error", on_error.to_owned()),
                ],
            )?;
            edits.push(above_statement(file, &stmts[at_stmt], &text));
        }
    }

    if !wired {
        let router = file.written(target.router);
        let mut text = format!("{module_path}::attach({router}, &auth)");
        if target.add_connect_info {
            text.push_str(&connect_info_call(file, snippets)?);
        }
        edits.push(Edit {
            file: file.id,
            start: file.offset(target.replaced.span().start()),
            end: file.offset(target.replaced.span().end()),
            text,
        });
    }
    Ok(Ok(ServeSiteWiring {
        home,
        edits,
        pool: pool.map(|p| p.reuse),
    }))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::super::render::Renderer;
    use super::super::source::apply_edits;
    use super::super::wiring::serve_site_wiring;
    use super::*;

    /// Wires `before` (a `src/main.rs`, or a `src/lib.rs` when `root` says so) at its serve
    /// site and returns every file that changed, as `(shown path, text)`.
    fn wire(root: Root, before: &str) -> Result<Vec<(String, String)>, String> {
        wire_with(root, before, None)
    }

    /// Wires a package of a `src/main.rs` and a `src/lib.rs` (crate `app`) at its serve
    /// site and returns every file that changed.
    fn wire_package(main: &str, lib: &str) -> Vec<(String, String)> {
        let shown = |p: &Path| p.strip_prefix("/nowhere/").unwrap().display().to_string();
        let roots = [
            (
                Root::Main,
                PathBuf::from("/nowhere/src/main.rs"),
                main.to_owned(),
            ),
            (
                Root::Lib,
                PathBuf::from("/nowhere/src/lib.rs"),
                lib.to_owned(),
            ),
        ];
        let model = Model::load(&roots, &shown).unwrap();
        let input = WiringInput {
            module: "auth",
            mount: "/auth",
            lib_crate: "app",
            pool_type: None,
            example_file: ".env.example",
            module_merges: true,
        };
        let wiring = serve_site_wiring(&model, &input, &Renderer::new(), None)
            .unwrap()
            .expect("wired");
        let super::super::wiring::Outcome::Edits(edits) = &wiring.outcome else {
            panic!("manual steps");
        };
        model
            .files
            .iter()
            .filter_map(|file| {
                let mine: Vec<&Edit> = edits.iter().filter(|e| e.file == file.id).collect();
                let text = apply_edits(&file.text, &mine);
                (text != file.text).then(|| (file.shown.clone(), text))
            })
            .collect()
    }

    #[test]
    fn a_router_the_library_builds_gets_the_module_in_the_library() {
        let changed = wire_package(
            "#[tokio::main]\nasync fn main() {\n    let listener = bind().await;\n    \
             axum::serve(listener, app::build().await).await.unwrap();\n}\n",
            "pub async fn build() -> axum::Router {\n    todo!()\n}\n",
        );
        let file = |name: &str| &changed.iter().find(|(f, _)| f == name).unwrap().1;
        assert!(
            file("src/lib.rs").starts_with("pub mod auth;\n"),
            "{changed:?}"
        );
        let main = file("src/main.rs");
        assert!(
            main.contains("let auth = app::auth::init().await"),
            "{main}"
        );
        assert!(
            main.contains("app::auth::attach(app::build().await, &auth)"),
            "{main}"
        );
    }

    /// [`wire`], for an app on sqlx 0.8 whose pool type is `pool_type`.
    fn wire_with(
        root: Root,
        before: &str,
        pool_type: Option<&'static str>,
    ) -> Result<Vec<(String, String)>, String> {
        let path = PathBuf::from(match root {
            Root::Main => "/nowhere/src/main.rs",
            _ => "/nowhere/src/lib.rs",
        });
        let shown = |p: &Path| p.strip_prefix("/nowhere/").unwrap().display().to_string();
        let model = Model::load(&[(root, path, before.to_owned())], &shown).unwrap();
        let input = WiringInput {
            module: "auth",
            mount: "/auth",
            lib_crate: "app",
            pool_type,
            example_file: ".env.example",
            module_merges: true,
        };
        let wiring = serve_site_wiring(&model, &input, &Renderer::new(), None)
            .unwrap()
            .ok_or_else(|| "not wired".to_owned())?;
        let super::super::wiring::Outcome::Edits(edits) = &wiring.outcome else {
            return Err("manual".to_owned());
        };
        Ok(model
            .files
            .iter()
            .filter_map(|file| {
                let mine: Vec<&Edit> = edits.iter().filter(|e| e.file == file.id).collect();
                let text = apply_edits(&file.text, &mine);
                (text != file.text).then(|| (file.shown.clone(), text))
            })
            .collect())
    }

    fn check_wiring(before: &str, after: &str) {
        let changed = wire(Root::Main, before).unwrap();
        assert_eq!(changed.len(), 1, "{changed:?}");
        assert_eq!(changed[0].1, after, "\n--- got:\n{}", changed[0].1);
    }

    #[test]
    fn a_router_from_elsewhere_is_attached_where_it_is_served() {
        check_wiring(
            r#"use std::net::SocketAddr;

#[tokio::main]
async fn main() {
    let state = api::State::new();
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(
        listener,
        api::create_router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    .unwrap();
}
"#,
            r#"mod auth;

use std::net::SocketAddr;

#[tokio::main]
async fn main() {
    let state = api::State::new();
    // Better Auth (src/auth.rs), configured by the BETTER_AUTH_* variables (see .env.example).
    let auth = auth::init().await.expect("Better Auth could not start");
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(
        listener,
        auth::attach(api::create_router(state), &auth).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    .unwrap();
}
"#,
        );
    }

    #[test]
    fn a_serve_call_in_a_block_gets_auth_in_that_block_and_the_service_let_is_wrapped() {
        check_wiring(
            r#"async fn run(app: axum::Router) -> Result<(), Box<dyn std::error::Error>> {
    if !cli::handled() {
        let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await?;
        let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(listener, service).await?;
    }
    Ok(())
}
"#,
            r#"mod auth;

async fn run(app: axum::Router) -> Result<(), Box<dyn std::error::Error>> {
    if !cli::handled() {
        // Better Auth (src/auth.rs), configured by the BETTER_AUTH_* variables (see .env.example).
        let auth = auth::init().await?;
        let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await?;
        let service = auth::attach(app, &auth).into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(listener, service).await?;
    }
    Ok(())
}
"#,
        );
    }

    #[test]
    fn a_spawned_task_gets_auth_in_its_async_block_with_expect() {
        check_wiring(
            r#"#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = routes::app();
    let server = tokio::spawn(async move {
        let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await.unwrap();
        axum::serve(listener, app.into_make_service()).await.unwrap();
    });
    server.await?;
    Ok(())
}
"#,
            r#"mod auth;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = routes::app();
    let server = tokio::spawn(async move {
        // Better Auth (src/auth.rs), configured by the BETTER_AUTH_* variables (see .env.example).
        let auth = auth::init().await.expect("Better Auth could not start");
        let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await.unwrap();
        axum::serve(listener, auth::attach(app, &auth).into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    server.await?;
    Ok(())
}
"#,
        );
    }

    #[test]
    fn a_served_router_in_a_library_module_gets_the_module_in_the_library() {
        let changed = wire(
            Root::Lib,
            r#"pub async fn run(listener: tokio::net::TcpListener, app: axum::Router) -> std::io::Result<()> {
    axum::serve(listener, app).await
}
"#,
        )
        .unwrap();
        assert_eq!(changed.len(), 1);
        let text = &changed[0].1;
        assert!(text.starts_with("pub mod auth;\n"), "{text}");
        assert!(
            text.contains("axum::serve(listener, auth::attach(app, &auth).into_make_service_with_connect_info::<std::net::SocketAddr>()).await"),
            "{text}"
        );
    }

    #[test]
    fn a_second_run_changes_nothing() {
        let wired = r#"mod auth;

#[tokio::main]
async fn main() {
    let auth = auth::init().await.expect("Better Auth could not start");
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, auth::attach(app(), &auth).into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
}
"#;
        assert_eq!(wire(Root::Main, wired).unwrap(), Vec::new());
    }

    #[test]
    fn beside_a_metrics_server_the_app_with_the_most_routes_is_wired() {
        check_wiring(
            r#"async fn metrics(listener: tokio::net::TcpListener) {
    let router = axum::Router::new().route("/metrics", get(render));
    axum::serve(listener, router).await.unwrap();
}

#[tokio::main]
async fn main() {
    tokio::spawn(metrics(bind(9000).await));
    let app = api::router(state())
        .route("/health", get(health))
        .route("/version", get(version));
    axum::serve(bind(3000).await, app).await.unwrap();
}
"#,
            r#"mod auth;

async fn metrics(listener: tokio::net::TcpListener) {
    let router = axum::Router::new().route("/metrics", get(render));
    axum::serve(listener, router).await.unwrap();
}

#[tokio::main]
async fn main() {
    tokio::spawn(metrics(bind(9000).await));
    let app = api::router(state())
        .route("/health", get(health))
        .route("/version", get(version));
    // Better Auth (src/auth.rs), configured by the BETTER_AUTH_* variables (see .env.example).
    let auth = auth::init().await.expect("Better Auth could not start");
    axum::serve(bind(3000).await, auth::attach(app, &auth).into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
}
"#,
        );
    }

    #[test]
    fn the_apps_pool_in_the_serving_function_is_shared() {
        let before = r#"#[tokio::main]
async fn main() {
    let pool = sqlx::SqlitePool::connect("sqlite:app.db").await.unwrap();
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    let app = api::router(api::State::new(pool));
    axum::serve(listener, app).await.unwrap();
}
"#;
        let after = r#"mod auth;

#[tokio::main]
async fn main() {
    let pool = sqlx::SqlitePool::connect("sqlite:app.db").await.unwrap();
    // Better Auth (src/auth.rs), configured by the BETTER_AUTH_* variables (see .env.example).
    let auth = auth::init(pool.clone()).await.expect("Better Auth could not start");
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    let app = api::router(api::State::new(pool));
    axum::serve(listener, auth::attach(app, &auth).into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
}
"#;
        let changed = wire_with(Root::Main, before, Some("sqlx::SqlitePool")).unwrap();
        assert_eq!(changed[0].1, after, "\n--- got:\n{}", changed[0].1);
        // Another database's pool is not Better Auth's.
        let changed = wire_with(Root::Main, before, Some("sqlx::PgPool")).unwrap();
        assert!(
            changed[0].1.contains("auth::init().await"),
            "{}",
            changed[0].1
        );
    }

    #[test]
    fn what_cannot_be_wired_is_refused() {
        // Outside async code.
        let sync =
            "fn main() { let rt = runtime(); rt.spawn_blocking(move || axum::serve(l, app)); }\n";
        assert!(wire(Root::Main, sync).is_err());
        // Two serve calls of routers alike: which one serves the app is not known.
        let two = "async fn a() { axum::serve(l, app).await; }\nasync fn b() { axum::serve(m, metrics).await; }\n";
        assert!(wire(Root::Main, two).is_err());
        // Someone else's `auth`.
        let taken = "async fn a() { let auth = oauth(); axum::serve(l, app).await; }\n";
        assert!(wire(Root::Main, taken).is_err());
    }
}
