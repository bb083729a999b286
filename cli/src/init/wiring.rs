//! Where Better Auth goes in the app: an analysis of the [`Model`] that follows the served
//! value from `axum::serve(listener, X)` back through `let` rebindings, method chains and
//! calls into functions of any module, to the router and its state; then the edits that
//! wire it, or a precise reason and steps to do by hand.

use std::path::{Path, PathBuf};

use syn::punctuated::Pair;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{
    Expr, ExprCall, ExprMethodCall, ExprStruct, Fields, FnArg, Local, Member, Pat, ReturnType,
    Stmt, Type,
};

use super::serve_site::{ServeCall, SharedPool, binds_listener, expr_calls, wire_serve_site};
use super::source::{
    Edit, FnRef, Model, Root, SourceFile, StructRef, above_statement, import_edit, indent_lines,
    mod_edit, tokens,
};

/// The shape of the router's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StateKind {
    /// No `.with_state(...)`: Better Auth becomes the state.
    None,
    /// `.with_state(state)` where `state` is a Clone struct.
    Struct,
    /// `.with_state(Arc::new(AppState { .. }))`.
    Arc,
}

impl StateKind {
    /// The name templates use.
    pub(super) fn name(self) -> &'static str {
        match self {
            StateKind::None => "none",
            StateKind::Struct => "struct",
            StateKind::Arc => "arc",
        }
    }
}

/// The app's own sqlx pool, handed to Better Auth.
#[derive(Debug, Clone)]
pub(super) struct PoolReuse {
    /// `sqlx::SqlitePool` or `sqlx::PgPool`.
    pub type_path: &'static str,
    /// The expression passed to `auth::init`, e.g. `pool.clone()`.
    pub arg: String,
}

/// Facts the wiring needs from outside the sources.
pub(super) struct WiringInput<'a> {
    /// The module's name (`auth`).
    pub module: &'a str,
    /// The mount path (`/auth`).
    pub mount: &'a str,
    /// The library crate's name, for paths from main.rs into lib.rs.
    pub lib_crate: &'a str,
    /// The pool type that matches the chosen database, when sqlx 0.8 is in use.
    pub pool_type: Option<&'static str>,
    /// The app's example dotenv file (`.env.example`, or its `.env.sample`, ...).
    pub example_file: &'a str,
    /// Whether the module's `router` serves its routes at their `base_path` after this
    /// run (it is new, regenerated, or already does): only then is an old
    /// `.nest(mount, module::router(..))` rewritten to `.merge(..)`.
    pub module_merges: bool,
}

/// Snippets of code, rendered from templates by the caller.
pub(super) trait Snippets {
    /// Renders the named snippet template with `(key, value)` pairs.
    fn snippet(&self, name: &str, vars: &[(&str, String)]) -> anyhow::Result<String>;
}

/// A step the user must do by hand.
#[derive(Debug, Clone)]
pub(super) struct ManualStep {
    /// Where the lines go.
    pub place: String,
    /// The exact lines.
    pub lines: Vec<String>,
}

/// What to do about the sources.
#[derive(Debug)]
pub(super) enum Outcome {
    /// Edits syn located with certainty (possibly none: already wired).
    Edits(Vec<Edit>),
    /// Too unusual to edit safely: the reason and the steps to do by hand.
    Manual {
        /// The file shown as left alone ([`SourceFile::id`]).
        file: usize,
        /// Why.
        reason: String,
        /// What to add.
        steps: Vec<ManualStep>,
    },
}

/// The result of analysing the sources.
#[derive(Debug)]
pub(super) struct Wiring {
    /// The router state's shape (as far as known).
    pub state: StateKind,
    /// The state struct's name.
    pub state_name: Option<String>,
    /// The state struct's path from its crate root, e.g. `state::AppState`.
    pub state_path: Option<String>,
    /// Whether the state derives `FromRef` (then no impl is generated).
    pub derives_from_ref: bool,
    /// The crate whose root declares the auth module.
    pub home: Root,
    /// The app's pool, when Better Auth shares it.
    pub pool: Option<PoolReuse>,
    /// The port the app binds, for `BETTER_AUTH_URL`.
    pub port: Option<u16>,
    /// The edits or the manual steps.
    pub outcome: Outcome,
    /// Remarks for the summary.
    pub notes: Vec<String>,
    /// Whether the app's handlers can take `CurrentSession` as wired (Better Auth is
    /// the router's state, or reachable from it).
    pub handlers_reach_auth: bool,
    /// Whether Better Auth is attached where the app is served (`auth::attach`).
    pub serve_site: bool,
}

const ROUTE_METHODS: &[&str] = &[
    "route",
    "route_service",
    "nest",
    "nest_service",
    "merge",
    "fallback",
    "fallback_service",
];

/// A method chain on the way from the served value to the router: `root.a().b()`.
struct Segment<'a> {
    func: FnRef<'a>,
    /// The top-level statement of `func` it is in.
    stmt: usize,
    /// The receiver at the bottom of the chain, as written (`build().await?`).
    root: &'a Expr,
    /// The method calls on it, innermost first.
    calls: Vec<&'a ExprMethodCall>,
}

/// Where the trace ended.
enum Origin {
    /// At `Router::new()`.
    RouterNew,
    /// Somewhere init cannot follow, and why.
    Unknown(String),
}

/// The served value, traced.
struct Trace<'a> {
    serve_fn: FnRef<'a>,
    serve: &'a ExprCall,
    /// Outermost (the served expression) first.
    segments: Vec<Segment<'a>>,
    origin: Origin,
}

pub(super) fn strip(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Group(g) => strip(&g.expr),
        Expr::Await(a) => strip(&a.base),
        Expr::Try(t) => strip(&t.expr),
        Expr::Reference(r) => strip(&r.expr),
        _ => expr,
    }
}

pub(super) fn path_idents(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

fn is_router_new(call: &ExprCall) -> bool {
    let Expr::Path(path) = &*call.func else {
        return false;
    };
    let segments = path_idents(&path.path);
    segments.len() >= 2 && segments[segments.len() - 2..] == ["Router", "new"]
}

pub(super) fn pat_name(pat: &Pat) -> Option<String> {
    match pat {
        Pat::Ident(ident) => Some(ident.ident.to_string()),
        Pat::Type(typed) => pat_name(&typed.pat),
        _ => None,
    }
}

/// `let NAME = ...;` in `func` before statement `before`, the latest one, with its index.
fn let_binding<'a>(func: FnRef<'a>, name: &str, before: usize) -> Option<(usize, &'a Local)> {
    let before = before.min(func.block.stmts.len());
    func.block.stmts[..before]
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, stmt)| match stmt {
            Stmt::Local(local) if pat_name(&local.pat).as_deref() == Some(name) => Some((i, local)),
            _ => None,
        })
}

fn param<'a>(func: FnRef<'a>, name: &str) -> Option<(usize, &'a Type)> {
    func.sig
        .inputs
        .iter()
        .filter(|arg| matches!(arg, FnArg::Typed(_)))
        .enumerate()
        .find_map(|(i, arg)| match arg {
            FnArg::Typed(typed) if pat_name(&typed.pat).as_deref() == Some(name) => {
                Some((i, &*typed.ty))
            }
            _ => None,
        })
}

/// Every token of a stream, groups opened: `new(pool)` gives `new`, `(`, `pool`, `)`
/// (a stream's text runs a group's lone token into its delimiters: `(pool)`).
fn flat_tokens(stream: proc_macro2::TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    for tree in stream {
        match tree {
            proc_macro2::TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    proc_macro2::Delimiter::Parenthesis => ("(", ")"),
                    proc_macro2::Delimiter::Brace => ("{", "}"),
                    proc_macro2::Delimiter::Bracket => ("[", "]"),
                    proc_macro2::Delimiter::None => ("", ""),
                };
                out.push(open.to_owned());
                out.extend(flat_tokens(group.stream()));
                out.push(close.to_owned());
            }
            other => out.push(other.to_string()),
        }
    }
    out
}

/// The names a type of the app's pool goes by: `sqlx::PgPool`, `Pool<Postgres>`, and the
/// app's own aliases (`type DbPool = sqlx::PgPool;`).
struct PoolNames {
    /// `PgPool`, `SqlitePool` or `MySqlPool`.
    name: &'static str,
    /// `Postgres`, `Sqlite` or `MySql`, as in `Pool<Postgres>`.
    backend: &'static str,
    aliases: Vec<String>,
}

impl PoolNames {
    fn new(ctx: &Ctx<'_>, pool_type: &'static str) -> Self {
        let name = pool_type.rsplit("::").next().unwrap_or(pool_type);
        let backend = match name {
            "SqlitePool" => "Sqlite",
            "MySqlPool" => "MySql",
            _ => "Postgres",
        };
        let mut names = PoolNames {
            name,
            backend,
            aliases: Vec::new(),
        };
        names.aliases = ctx
            .model
            .files
            .iter()
            .flat_map(|f| &f.ast.items)
            .filter_map(|item| match item {
                syn::Item::Type(alias) if names.is_pool(&tokens(&alias.ty)) => {
                    Some(alias.ident.to_string())
                }
                _ => None,
            })
            .collect();
        names
    }

    /// Whether a type, as `tokens` writes it, is the pool (or an alias of it).
    fn is_pool(&self, ty: &str) -> bool {
        let ty = ty.replace(' ', "");
        ty.ends_with(self.name)
            || (ty.contains("Pool<") && ty.ends_with(&format!("{}>", self.backend)))
            || self
                .aliases
                .iter()
                .any(|alias| ty.ends_with(alias.as_str()))
    }
}

/// A pool of `pool_type` (`sqlx::PgPool`, `sqlx::SqlitePool`) bound before statement
/// `before` of `func`: a `let` typed as such a pool or built by `PgPoolOptions::new()..`,
/// `PgPool::connect(..)` (or the SQLite ones), or a parameter of that type. The nearest
/// wins. Returns its name, the first statement after it is bound (0 for a parameter),
/// and the statement Better Auth should start before: `before`, or the one right after
/// the pool is bound when the pool is moved on the way.
fn pool_in_scope(
    ctx: &Ctx<'_>,
    func: FnRef<'_>,
    before: usize,
    pool_type: &'static str,
) -> Option<(String, usize, usize)> {
    let pool = PoolNames::new(ctx, pool_type);
    let is_pool_type = |ty: &Type| pool.is_pool(&tokens(ty));
    // `connect_db(&url).await?` where `async fn connect_db(..) -> Result<DbPool, _>`.
    let returns_pool = |expr: &Expr| {
        let mut expr = strip(expr);
        while let Expr::MethodCall(call) = expr {
            let passes_through = ["unwrap", "expect", "context", "with_context", "map_err"];
            if !passes_through.contains(&call.method.to_string().as_str()) {
                return false;
            }
            expr = strip(&call.receiver);
        }
        let Expr::Call(call) = expr else {
            return false;
        };
        let Expr::Path(path) = &*call.func else {
            return false;
        };
        let Some(last) = path.path.segments.last() else {
            return false;
        };
        // `use db::connect as connect_db;`
        let name = ctx
            .renamed(&last.ident.to_string())
            .unwrap_or_else(|| last.ident.to_string());
        ctx.fns.iter().any(|f| {
            f.sig.ident == name.as_str()
                && match &f.sig.output {
                    ReturnType::Type(_, ty) => is_pool_type(ok_type(ty)),
                    ReturnType::Default => false,
                }
        })
    };
    let builds_pool = |expr: &Expr| {
        let text = tokens(expr).replace(' ', "");
        text.contains(&format!("{}Options::new()", pool.name))
            || text.contains(&format!("{}::connect", pool.name))
            || text.contains(&format!("Pool::<{}>::connect", pool.backend))
            || returns_pool(expr)
    };
    let before = before.min(func.block.stmts.len());
    let local = func.block.stmts[..before]
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, stmt)| {
            let Stmt::Local(local) = stmt else {
                return None;
            };
            let typed = match &local.pat {
                syn::Pat::Type(typed) => is_pool_type(&typed.ty),
                _ => false,
            };
            let built = local
                .init
                .as_ref()
                .is_some_and(|init| builds_pool(&init.expr));
            (typed || built)
                .then(|| pat_name(&local.pat))
                .flatten()
                .map(|name| (i + 1, name))
        });
    let (from, name) = match local {
        Some(found) => found,
        None => {
            let name = func.sig.inputs.iter().find_map(|arg| match arg {
                FnArg::Typed(typed) if is_pool_type(&typed.ty) => pat_name(&typed.pat),
                _ => None,
            })?;
            (0, name)
        }
    };
    // Moved on the way (`AppState::new(pool)`)? Then Better Auth starts right after the
    // pool is made, while it can still be cloned; else next to the router.
    let moved = func.block.stmts[from..before].iter().any(|stmt| {
        let words = flat_tokens(quote::ToTokens::to_token_stream(stmt));
        words.iter().enumerate().any(|(i, word)| {
            *word == name
                && i.checked_sub(1)
                    .is_none_or(|p| words[p] != "&" && words[p] != ".")
                && words
                    .get(i + 1)
                    .is_none_or(|next| next != "." && next != "=")
        })
    });
    Some((name, from, if moved { from } else { before }))
}

/// The value a function returns: its tail expression, or `Ok(..)`'s argument.
fn tail<'a>(func: FnRef<'a>) -> Option<(usize, &'a Expr)> {
    let last = func.block.stmts.len().checked_sub(1)?;
    match &func.block.stmts[last] {
        Stmt::Expr(Expr::Return(ret), _) => ret.expr.as_deref().map(|e| (last, e)),
        Stmt::Expr(expr, None) => Some((last, expr)),
        _ => None,
    }
}

/// A visitor that collects calls and struct literals per top-level statement.
#[derive(Default)]
struct Calls<'a> {
    calls: Vec<&'a ExprCall>,
    literals: Vec<&'a ExprStruct>,
    ports: Vec<u16>,
    /// Ports of socket-address literals anywhere (`"127.0.0.1:8000"` as a config default,
    /// `([0, 0, 0, 0], 8080)`), for when `bind` takes a variable.
    address_ports: Vec<u16>,
    /// `let port = 8080;` (or `let port: u16 = 8080;`): the name and the number.
    port_lets: Vec<(String, u16)>,
    /// The variable in the port position of an address tuple: `(addr, port)`.
    tuple_port_vars: Vec<String>,
    /// The variable passed to `bind`: `TcpListener::bind(addr)`, `bind(&addr)`.
    bind_vars: Vec<String>,
    /// `let addr = SocketAddr::from(([127, 0, 0, 1], 8080));`: the name and the ports of
    /// the address literals in its value.
    address_lets: Vec<(String, Vec<u16>)>,
}

impl<'a> Visit<'a> for Calls<'a> {
    fn visit_expr_call(&mut self, call: &'a ExprCall) {
        self.calls.push(call);
        // `SocketAddr::new(ip, 8080)`, `SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080)`.
        if let Expr::Path(path) = &*call.func {
            let names: Vec<String> = path
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let socket_new = names.len() >= 2
                && names[names.len() - 1] == "new"
                && names[names.len() - 2].starts_with("SocketAddr");
            if let (true, Some(Expr::Lit(port))) = (socket_new, call.args.iter().nth(1)) {
                if let syn::Lit::Int(port) = &port.lit {
                    self.address_ports
                        .extend(port.base10_parse::<u16>().ok().filter(|p| *p > 0));
                }
            }
        }
        if let Expr::Path(path) = &*call.func {
            if path.path.segments.last().is_some_and(|s| s.ident == "bind") {
                self.port_from(call.args.first());
            }
        }
        // A host and a port passed side by side: `server::run("0.0.0.0", 8000)`.
        fn literal(e: &Expr) -> Option<&syn::Lit> {
            match e {
                Expr::Lit(lit) => Some(&lit.lit),
                _ => None,
            }
        }
        let has_host = call
            .args
            .iter()
            .filter_map(literal)
            .any(|l| matches!(l, syn::Lit::Str(s) if host_like(&s.value())));
        if has_host {
            for lit in call.args.iter().filter_map(literal) {
                if let syn::Lit::Int(port) = lit {
                    self.address_ports
                        .extend(port.base10_parse::<u16>().ok().filter(|p| *p > 0));
                }
            }
        }
        syn::visit::visit_expr_call(self, call);
    }
    fn visit_expr_match(&mut self, m: &'a syn::ExprMatch) {
        // `match env::var("PORT") { Ok(v) => v.parse()?, Err(_) => 8080 }`
        if chain_reads_port_variable(&m.expr) {
            for arm in &m.arms {
                if let Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(port),
                    ..
                }) = &*arm.body
                {
                    self.address_ports
                        .extend(port.base10_parse::<u16>().ok().filter(|p| *p > 0));
                }
            }
        }
        syn::visit::visit_expr_match(self, m);
    }
    fn visit_expr_method_call(&mut self, call: &'a ExprMethodCall) {
        if call.method == "bind" {
            self.port_from(call.args.first());
        }
        // `env::var("PORT").unwrap_or("8080".into())`, `.unwrap_or_else(|_| "80".to_owned())`
        if call.method.to_string().starts_with("unwrap_or")
            && chain_reads_port_variable(&call.receiver)
        {
            let mut literals = Literals::default();
            for arg in &call.args {
                literals.visit_expr(arg);
            }
            self.address_ports.extend(literals.numbers);
        }
        syn::visit::visit_expr_method_call(self, call);
    }
    fn visit_expr_struct(&mut self, lit: &'a ExprStruct) {
        self.literals.push(lit);
        syn::visit::visit_expr_struct(self, lit);
    }
    fn visit_lit_str(&mut self, lit: &'a syn::LitStr) {
        let value = lit.value();
        if let Some((host, port)) = value.rsplit_once(':') {
            if let (true, Ok(port)) = (host_like(host), port.parse()) {
                self.address_ports.push(port);
            }
        }
    }
    fn visit_expr_tuple(&mut self, tuple: &'a syn::ExprTuple) {
        if let [Expr::Array(ip), Expr::Lit(port)] = tuple.elems.iter().collect::<Vec<_>>()[..] {
            if let (4 | 8, syn::Lit::Int(port)) = (ip.elems.len(), &port.lit) {
                if let Ok(port) = port.base10_parse() {
                    self.address_ports.push(port);
                }
            }
        }
        // `(Ipv4Addr::LOCALHOST, 8080)`, `(IpAddr::V4(..), 8080)`.
        if let [ip, Expr::Lit(port)] = tuple.elems.iter().collect::<Vec<_>>()[..] {
            if let (true, syn::Lit::Int(port)) = (ip_expr(ip), &port.lit) {
                self.address_ports
                    .extend(port.base10_parse::<u16>().ok().filter(|p| *p > 0));
            }
        }
        // `(addr, port)` or `([0, 0, 0, 0], port)`: the port is a variable.
        if let [_, Expr::Path(port)] = tuple.elems.iter().collect::<Vec<_>>()[..] {
            if let Some(name) = port.path.get_ident() {
                self.tuple_port_vars.push(name.to_string());
            }
        }
        syn::visit::visit_expr_tuple(self, tuple);
    }
    fn visit_local(&mut self, local: &'a syn::Local) {
        let pat = match &local.pat {
            syn::Pat::Type(typed) => &*typed.pat,
            pat => pat,
        };
        if let (syn::Pat::Ident(name), Some(init)) = (pat, &local.init) {
            let mut inner = Calls::default();
            inner.visit_expr(&init.expr);
            if !inner.address_ports.is_empty() {
                self.address_lets
                    .push((name.ident.to_string(), inner.address_ports));
            }
            if let Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(port),
                ..
            }) = &*init.expr
            {
                if let Ok(port) = port.base10_parse::<u16>() {
                    self.port_lets.push((name.ident.to_string(), port));
                }
            }
        }
        syn::visit::visit_local(self, local);
    }
}

/// Whether `expr` is an IP address written with the standard library's names:
/// `Ipv4Addr::LOCALHOST`, `Ipv6Addr::UNSPECIFIED`, `Ipv4Addr::new(..)`, `IpAddr::V4(..)`.
fn ip_expr(expr: &Expr) -> bool {
    let path = match expr {
        Expr::Path(p) => &p.path,
        Expr::Call(call) => match &*call.func {
            Expr::Path(p) => &p.path,
            _ => return false,
        },
        _ => return false,
    };
    path.segments.iter().any(|s| {
        matches!(
            s.ident.to_string().as_str(),
            "Ipv4Addr" | "Ipv6Addr" | "IpAddr"
        )
    })
}

/// Whether `host` reads as a host to listen on (`localhost`, `0.0.0.0`, `[::]`).
fn host_like(host: &str) -> bool {
    host == "localhost"
        || host.starts_with('[')
        || (host.split('.').count() == 4 && host.split('.').all(|o| o.parse::<u8>().is_ok()))
}

/// `parent` followed by `module`.
fn parent_with(parent: &[String], module: &str) -> Vec<String> {
    let mut path = parent.to_vec();
    path.push(module.to_owned());
    path
}

/// Whether `expr` is a call such as `std::env::var("PORT")` or `dotenvy::var("APP_PORT")`.
fn reads_port_variable(expr: &Expr) -> bool {
    let Expr::Call(call) = expr else {
        return false;
    };
    let is_var = matches!(&*call.func, Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "var"));
    is_var
        && matches!(call.args.first(), Some(Expr::Lit(lit))
            if matches!(&lit.lit, syn::Lit::Str(s) if s.value().ends_with("PORT")))
}

/// Whether a method chain starts at a port variable:
/// `std::env::var("PORT").ok().and_then(|p| p.parse().ok())`.
fn chain_reads_port_variable(mut expr: &Expr) -> bool {
    loop {
        if reads_port_variable(expr) {
            return true;
        }
        match expr {
            Expr::MethodCall(call) => expr = &call.receiver,
            Expr::Try(inner) => expr = &inner.expr,
            Expr::Paren(inner) => expr = &inner.expr,
            _ => return false,
        }
    }
}

/// The port numbers written as literals inside an expression (`"8080"`, `8080`).
#[derive(Default)]
struct Literals {
    numbers: Vec<u16>,
}

impl Visit<'_> for Literals {
    fn visit_lit(&mut self, lit: &syn::Lit) {
        let port = match lit {
            syn::Lit::Str(s) => s.value().parse().ok(),
            syn::Lit::Int(i) => i.base10_parse().ok(),
            _ => None,
        };
        self.numbers.extend(port.filter(|p: &u16| *p > 0));
    }
}

impl Calls<'_> {
    fn port_from(&mut self, arg: Option<&Expr>) {
        let arg = match arg {
            Some(Expr::Reference(reference)) => Some(&*reference.expr),
            arg => arg,
        };
        if let Some(Expr::Path(path)) = arg {
            if let Some(name) = path.path.get_ident() {
                self.bind_vars.push(name.to_string());
            }
        }
        if let Some(Expr::Lit(lit)) = arg {
            if let syn::Lit::Str(s) = &lit.lit {
                if let Some(port) = s.value().rsplit(':').next().and_then(|p| p.parse().ok()) {
                    self.ports.push(port);
                }
            }
        }
    }
}

struct Ctx<'a> {
    model: &'a Model,
    fns: Vec<FnRef<'a>>,
    structs: Vec<StructRef<'a>>,
    /// Every call and struct literal of every (non-test) function, with its statement.
    scan: Vec<(FnRef<'a>, usize, Calls<'a>)>,
    lib_crate: &'a str,
}

impl<'a> Ctx<'a> {
    fn new(model: &'a Model, lib_crate: &'a str) -> Self {
        let fns = model.functions();
        let mut scan = Vec::new();
        for func in fns.iter().filter(|f| !f.is_test) {
            for (i, stmt) in func.block.stmts.iter().enumerate() {
                let mut calls = Calls::default();
                calls.visit_stmt(stmt);
                scan.push((*func, i, calls));
            }
        }
        Ctx {
            model,
            structs: model.structs(),
            fns,
            scan,
            lib_crate,
        }
    }

    /// The original name of an item a `use .. as name;` renamed.
    fn renamed(&self, name: &str) -> Option<String> {
        fn walk(tree: &syn::UseTree, name: &str) -> Option<String> {
            match tree {
                syn::UseTree::Path(p) => walk(&p.tree, name),
                syn::UseTree::Rename(r) if r.rename == name => Some(r.ident.to_string()),
                syn::UseTree::Group(g) => g.items.iter().find_map(|t| walk(t, name)),
                _ => None,
            }
        }
        self.model
            .files
            .iter()
            .flat_map(|f| &f.ast.items)
            .find_map(|item| match item {
                syn::Item::Use(u) => walk(&u.tree, name),
                _ => None,
            })
    }

    /// Whether the chain nests or merges a router whose state type init cannot
    /// choose: anything but a `Router::new()` chain written in place or a call to a
    /// function of the crate returning `Router<S>` for its own type parameter `S`. A
    /// `fn routes() -> Router` (state `()`) fixes the whole chain's state, so
    /// `.with_state(auth)` would not compile.
    fn state_pinned(&self, seg: &Segment<'a>) -> bool {
        seg.calls
            .iter()
            .filter(|c| matches!(c.method.to_string().as_str(), "nest" | "merge"))
            .filter_map(|c| c.args.last())
            .any(|arg| !self.state_generic(seg.func, arg))
    }

    fn state_generic(&self, from: FnRef<'a>, expr: &Expr) -> bool {
        let mut expr = strip(expr);
        while let Expr::MethodCall(call) = expr {
            expr = strip(&call.receiver);
        }
        let Expr::Call(call) = expr else {
            return false;
        };
        let Expr::Path(path) = &*call.func else {
            return false;
        };
        let idents = path_idents(&path.path);
        if idents.len() >= 2
            && idents[idents.len() - 2] == "Router"
            && idents[idents.len() - 1] == "new"
        {
            return true;
        }
        let Some(callee) = self.resolve_fn(from, &path.path) else {
            return false;
        };
        let syn::ReturnType::Type(_, ty) = &callee.sig.output else {
            return false;
        };
        let syn::Type::Path(ty) = &**ty else {
            return false;
        };
        let Some(last) = ty.path.segments.last() else {
            return false;
        };
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return false;
        };
        let generics: Vec<String> = callee
            .sig
            .generics
            .type_params()
            .map(|p| p.ident.to_string())
            .collect();
        last.ident == "Router"
            && matches!(args.args.first(), Some(syn::GenericArgument::Type(syn::Type::Path(p)))
                if p.path.get_ident().is_some_and(|i| generics.contains(&i.to_string())))
    }

    /// Every `Name { .. }` (or `Self { .. }` in its impl) literal of the crate, with the
    /// function and statement it is in.
    fn literals_of(&self, name: &str) -> Vec<(FnRef<'a>, usize, &'a ExprStruct)> {
        self.scan
            .iter()
            .flat_map(|(f, i, c)| c.literals.iter().map(move |l| (*f, *i, *l)))
            .filter(|(f, _, lit)| {
                let last = lit.path.segments.last().map(|s| s.ident.to_string());
                match last.as_deref() {
                    Some("Self") => {
                        lit.path.segments.len() == 1 && f.self_ty.is_some_and(|t| *t == name)
                    }
                    Some(last) => last == name,
                    None => false,
                }
            })
            .collect()
    }

    /// Whether the module at `module` has `pub use child::*;` or `pub use child::name;`.
    fn reexports(&self, module: &[String], child: &str, name: &str) -> bool {
        fn names(tree: &syn::UseTree, child: &str, name: &str) -> bool {
            match tree {
                syn::UseTree::Path(p) if p.ident == "self" => names(&p.tree, child, name),
                syn::UseTree::Path(p) if p.ident == child => match &*p.tree {
                    syn::UseTree::Glob(_) => true,
                    syn::UseTree::Name(n) => n.ident == name,
                    syn::UseTree::Group(g) => g.items.iter().any(|t| match t {
                        syn::UseTree::Glob(_) => true,
                        syn::UseTree::Name(n) => n.ident == name,
                        _ => false,
                    }),
                    _ => false,
                },
                syn::UseTree::Group(g) => g.items.iter().any(|t| names(t, child, name)),
                _ => false,
            }
        }
        self.model
            .files
            .iter()
            .filter(|f| f.module == module)
            .flat_map(|f| &f.ast.items)
            .any(|item| {
                matches!(item, syn::Item::Use(u)
                    if !matches!(u.vis, syn::Visibility::Inherited) && names(&u.tree, child, name))
            })
    }

    /// The function a call path names, when init can tell which one it is.
    fn resolve_fn(&self, from: FnRef<'a>, path: &syn::Path) -> Option<FnRef<'a>> {
        let idents = path_idents(path);
        let name = idents.last()?;
        let qualifier = idents.len().checked_sub(2).map(|i| idents[i].as_str());
        let candidates: Vec<FnRef<'a>> = self
            .fns
            .iter()
            .filter(|f| !f.is_test && f.sig.ident == name.as_str())
            .copied()
            .collect();
        let by_type = |ty: &str| -> Vec<FnRef<'a>> {
            candidates
                .iter()
                .filter(|f| f.self_ty.is_some_and(|t| t == ty))
                .copied()
                .collect()
        };
        let chosen: Vec<FnRef<'a>> = match qualifier {
            Some("Self") => from
                .self_ty
                .map(|t| by_type(&t.to_string()))
                .unwrap_or_default(),
            Some(q) if q.chars().next().is_some_and(char::is_uppercase) => by_type(q),
            Some(q) => {
                let free = candidates.iter().filter(|f| f.self_ty.is_none());
                if q == "crate" || q == "self" || q == "super" || q == self.lib_crate {
                    let root = if q == self.lib_crate {
                        Root::Lib
                    } else {
                        from.file.root
                    };
                    let top = idents.len() == 2;
                    free.filter(|f| f.file.root == root && (!top || f.module.is_empty()))
                        .copied()
                        .collect()
                } else {
                    // In module `q`, or in a child of `q` that `q` re-exports
                    // (`pub use child::*;`, as `routes::main_route()` often is).
                    free.filter(|f| match f.module {
                        [.., m] if m == q => true,
                        [parent @ .., m, child] if m == q => {
                            self.reexports(&parent_with(parent, m), child, name)
                        }
                        _ => false,
                    })
                    .copied()
                    .collect()
                }
            }
            None => {
                let free: Vec<FnRef<'a>> = candidates
                    .iter()
                    .filter(|f| f.self_ty.is_none())
                    .copied()
                    .collect();
                let local: Vec<FnRef<'a>> = free
                    .iter()
                    .filter(|f| f.file.root == from.file.root && f.module == from.module)
                    .copied()
                    .collect();
                if local.is_empty() { free } else { local }
            }
        };
        match chosen.as_slice() {
            [one] => Some(*one),
            many => {
                // Prefer the one in the caller's crate.
                let same: Vec<&FnRef<'a>> = many
                    .iter()
                    .filter(|f| f.file.root == from.file.root)
                    .collect();
                match same.as_slice() {
                    [one] => Some(**one),
                    _ => None,
                }
            }
        }
    }

    fn find_struct(&self, name: &str) -> Result<StructRef<'a>, String> {
        let found: Vec<StructRef<'a>> = self
            .structs
            .iter()
            .filter(|s| s.item.ident == name)
            .copied()
            .collect();
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(format!(
                "the state type `{name}` is not defined in this package's sources"
            )),
            _ => Err(format!(
                "{} structs are named `{name}`; init cannot tell which is the state",
                found.len()
            )),
        }
    }

    /// Traces `expr` (in `func`, statement `stmt`) back to the router.
    fn trace(
        &self,
        func: FnRef<'a>,
        stmt: usize,
        expr: &'a Expr,
        segments: &mut Vec<Segment<'a>>,
        depth: usize,
    ) -> Origin {
        if depth > 16 {
            return Origin::Unknown("the router passes through too many steps".to_owned());
        }
        let mut calls = Vec::new();
        let mut receiver = expr;
        while let Expr::MethodCall(m) = strip(receiver) {
            calls.push(m);
            receiver = &m.receiver;
        }
        calls.reverse();
        let bottom = strip(receiver);
        if !calls.is_empty() || matches!(bottom, Expr::Call(_) | Expr::Macro(_)) {
            segments.push(Segment {
                func,
                stmt,
                root: receiver,
                calls,
            });
        }
        match bottom {
            Expr::Call(call) if is_router_new(call) => Origin::RouterNew,
            Expr::Call(call) => {
                let Expr::Path(path) = &*call.func else {
                    return Origin::Unknown(format!(
                        "the router comes from `{}`, which init does not follow",
                        tokens(call)
                    ));
                };
                let idents = path_idents(&path.path);
                if idents.len() == 1 && (idents[0] == "Ok" || idents[0] == "Some") {
                    if let Some(arg) = call.args.first() {
                        return self.trace(func, stmt, arg, segments, depth + 1);
                    }
                }
                match self.resolve_fn(func, &path.path) {
                    Some(callee) if !callee.same(&func) => match tail(callee) {
                        Some((i, e)) => self.trace(callee, i, e, segments, depth + 1),
                        None => Origin::Unknown(format!(
                            "`fn {}` does not end with the router it returns",
                            callee.name()
                        )),
                    },
                    _ => Origin::Unknown(format!(
                        "the router comes from `{}(..)`, which init could not find in this \
                         package",
                        idents.join("::")
                    )),
                }
            }
            Expr::Path(path) if path.path.get_ident().is_some() => {
                let name = path
                    .path
                    .get_ident()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                if let Some((i, local)) = let_binding(func, &name, stmt) {
                    return match &local.init {
                        Some(init) => self.trace(func, i, &init.expr, segments, depth + 1),
                        None => Origin::Unknown(format!("`{name}` is declared without a value")),
                    };
                }
                if let Some((index, _)) = param(func, &name) {
                    // A parameter: follow the one caller, if there is exactly one.
                    let callers: Vec<(FnRef<'a>, usize, &'a ExprCall)> = self
                        .scan
                        .iter()
                        .flat_map(|(f, i, c)| c.calls.iter().map(move |call| (*f, *i, *call)))
                        .filter(|(f, _, call)| match &*call.func {
                            Expr::Path(p) => self
                                .resolve_fn(*f, &p.path)
                                .is_some_and(|target| target.same(&func)),
                            _ => false,
                        })
                        .collect();
                    if let [(caller, i, call)] = callers.as_slice() {
                        if let Some(arg) = call.args.iter().nth(index) {
                            return self.trace(*caller, *i, arg, segments, depth + 1);
                        }
                    }
                    return Origin::Unknown(format!(
                        "the router is the parameter `{name}` of `fn {}`, called from {} places",
                        func.name(),
                        callers.len()
                    ));
                }
                Origin::Unknown(format!(
                    "`{name}` is not bound by a `let` in the body of `fn {}` (it may come from a \
                     block or closure init does not follow)",
                    func.name()
                ))
            }
            Expr::Macro(m) => Origin::Unknown(format!(
                "the router is built by the macro `{}!`",
                tokens(&m.mac.path).replace(' ', "")
            )),
            other => Origin::Unknown(format!(
                "the router comes from `{}`, which init does not follow",
                shorten(&tokens(other))
            )),
        }
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text.to_owned()
    }
}

/// What the state is: its kind, type name, and the variable holding it where known.
struct StateInfo {
    kind: StateKind,
    name: String,
    ident: Option<String>,
}

/// The first type argument of a path type's last segment: `T` of `Arc<T>`, `Result<T, E>`.
fn first_type_arg(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let syn::PathArguments::AngleBracketed(args) = &path.path.segments.last()?.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// What a `Result<T, _>` or an `Option<T>` (any path, `anyhow::Result<T>` too) holds; any
/// other type as it is.
fn ok_type(ty: &Type) -> &Type {
    match ty {
        Type::Path(path)
            if path
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "Result" || s.ident == "Option") =>
        {
            first_type_arg(ty).map_or(ty, ok_type)
        }
        _ => ty,
    }
}

/// `Name`, `Arc<Name>`, `Result<Name, _>` as a state type.
fn state_from_type(ty: &Type, self_ty: Option<&syn::Ident>) -> Option<(StateKind, String)> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident == "Arc" {
        let (_, name) = state_from_type(first_type_arg(ty)?, self_ty)?;
        return Some((StateKind::Arc, name));
    }
    if last.ident == "Result" || last.ident == "Option" {
        return state_from_type(first_type_arg(ty)?, self_ty);
    }
    if last.ident == "Self" {
        return Some((StateKind::Struct, self_ty?.to_string()));
    }
    Some((StateKind::Struct, last.ident.to_string()))
}

impl<'a> Ctx<'a> {
    /// Resolves the state passed to `.with_state(expr)` in `func`.
    fn state_of(
        &self,
        func: FnRef<'a>,
        stmt: usize,
        expr: &'a Expr,
        depth: usize,
    ) -> Option<StateInfo> {
        if depth > 8 {
            return None;
        }
        match strip(expr) {
            Expr::Path(path) if path.path.get_ident().is_some() => {
                let ident = path.path.get_ident()?.to_string();
                if let Some((i, local)) = let_binding(func, &ident, stmt) {
                    if let Pat::Type(typed) = &local.pat {
                        if let Some((kind, name)) = state_from_type(&typed.ty, func.self_ty) {
                            return Some(StateInfo {
                                kind,
                                name,
                                ident: Some(ident),
                            });
                        }
                    }
                    let init = &local.init.as_ref()?.expr;
                    if ident == "auth" && tokens(init).contains(":: init") {
                        // Wired by an earlier run: Better Auth is the state.
                        return Some(StateInfo {
                            kind: StateKind::None,
                            name: String::new(),
                            ident: Some(ident),
                        });
                    }
                    let mut info = self.state_of(func, i, init, depth + 1)?;
                    info.ident = Some(ident);
                    return Some(info);
                }
                let (_, ty) = param(func, &ident)?;
                let (kind, name) = state_from_type(ty, func.self_ty)?;
                Some(StateInfo {
                    kind,
                    name,
                    ident: Some(ident),
                })
            }
            Expr::MethodCall(m) if m.method == "clone" && m.args.is_empty() => {
                self.state_of(func, stmt, &m.receiver, depth + 1)
            }
            Expr::Struct(lit) => Some(StateInfo {
                kind: StateKind::Struct,
                name: match lit.path.segments.last()?.ident.to_string().as_str() {
                    "Self" => func.self_ty?.to_string(),
                    name => name.to_owned(),
                },
                ident: None,
            }),
            Expr::Call(call) => {
                let Expr::Path(path) = &*call.func else {
                    return None;
                };
                let idents = path_idents(&path.path);
                if idents.ends_with(&["Arc".to_owned(), "new".to_owned()]) && call.args.len() == 1 {
                    let inner = self.state_of(func, stmt, call.args.first()?, depth + 1)?;
                    return Some(StateInfo {
                        kind: StateKind::Arc,
                        name: inner.name,
                        ident: None,
                    });
                }
                if idents.ends_with(&["Arc".to_owned(), "clone".to_owned()]) {
                    return self.state_of(func, stmt, call.args.first()?, depth + 1);
                }
                if let Some(callee) = self.resolve_fn(func, &path.path) {
                    if let ReturnType::Type(_, ty) = &callee.sig.output {
                        if let Some((kind, name)) = state_from_type(ty, callee.self_ty) {
                            return Some(StateInfo {
                                kind,
                                name,
                                ident: None,
                            });
                        }
                    }
                }
                // `AppState::new(..)` of a type init cannot see into: assume it builds one.
                let qualifier = idents.len().checked_sub(2).map(|i| idents[i].clone())?;
                qualifier
                    .chars()
                    .next()
                    .is_some_and(char::is_uppercase)
                    .then_some(StateInfo {
                        kind: StateKind::Struct,
                        name: qualifier,
                        ident: None,
                    })
            }
            _ => None,
        }
    }
}

fn derives(item: &syn::ItemStruct, name: &str) -> bool {
    item.attrs.iter().any(|attr| {
        attr.path().is_ident("derive")
            && tokens(&attr.meta)
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|t| t == name)
    })
}

/// `auth` or `crate::auth` or `my_lib::auth`, as seen from `file`; `None` when the binary
/// crate holds the module and `file` is in the library.
pub(super) fn module_path(
    file: &SourceFile,
    home: Root,
    module: &str,
    lib_crate: &str,
) -> Option<String> {
    if file.root == home {
        Some(if file.is_root() {
            module.to_owned()
        } else {
            format!("crate::{module}")
        })
    } else if home == Root::Lib {
        Some(format!("{lib_crate}::{module}"))
    } else {
        None
    }
}

/// `?` where the function's error type takes any error, else `.expect(..)`.
pub(super) fn on_error(func: FnRef<'_>) -> &'static str {
    match &func.sig.output {
        ReturnType::Type(_, ty) => {
            let ty = tokens(ty).replace(' ', "");
            if ty.contains("Box<dyn") || ty.contains("anyhow") || ty.contains("eyre") {
                "?"
            } else {
                ".expect(\"Better Auth could not start\")"
            }
        }
        ReturnType::Default => ".expect(\"Better Auth could not start\")",
    }
}

/// The analysis itself; see the module docs. Where following the served value to the
/// router and its state leaves steps to do by hand, Better Auth is wired at the serve site
/// instead, when there is one.
pub(super) fn plan_wiring(
    model: &Model,
    input: &WiringInput<'_>,
    snippets: &dyn Snippets,
) -> anyhow::Result<Wiring> {
    let ctx = Ctx::new(model, input.lib_crate);
    let traced = plan_traced(&ctx, input, snippets)?;
    // Steps to do by hand stay so when the app has started wiring Better Auth itself.
    let wired_by_hand = model
        .hand_written_from_ref()
        .iter()
        .any(|imp| imp.for_ty.contains("BetterAuth"));
    if !matches!(traced.outcome, Outcome::Manual { .. }) || wired_by_hand {
        return Ok(traced);
    }
    Ok(wire_at_serve_site(&ctx, input, snippets, traced.port)?.unwrap_or(traced))
}

/// Whether the package's (non-test) code calls `axum::serve` anywhere.
pub(super) fn serves(model: &Model, lib_crate: &str) -> bool {
    !serve_calls(&Ctx::new(model, lib_crate)).is_empty()
}

/// Every `axum::serve(listener, app)` call of the package's (non-test) code.
fn serve_calls<'a>(ctx: &Ctx<'a>) -> Vec<ServeCall<'a>> {
    ctx.scan
        .iter()
        .flat_map(|(f, _, c)| c.calls.iter().map(move |call| (*f, *call)))
        .filter(|(_, call)| {
            call.args.len() == 2
                && matches!(&*call.func, Expr::Path(p)
                    if p.path.segments.last().is_some_and(|s| s.ident == "serve"))
        })
        .map(|(func, call)| ServeCall { func, call })
        .collect()
}

/// Better Auth wired where the app is served (see [`super::serve_site`]), when the package
/// has one serve call and it can be wired; `None` otherwise.
pub(super) fn serve_site_wiring(
    model: &Model,
    input: &WiringInput<'_>,
    snippets: &dyn Snippets,
    port: Option<u16>,
) -> anyhow::Result<Option<Wiring>> {
    wire_at_serve_site(&Ctx::new(model, input.lib_crate), input, snippets, port)
}

/// [`serve_site_wiring`] on a scan already made.
fn wire_at_serve_site(
    ctx: &Ctx<'_>,
    input: &WiringInput<'_>,
    snippets: &dyn Snippets,
    port: Option<u16>,
) -> anyhow::Result<Option<Wiring>> {
    let model = ctx.model;
    // The app's serve call: the only one, else the one whose router has the most routes
    // (a metrics or health server beside the app has fewer).
    let site = match serve_calls(ctx)[..] {
        [] => return Ok(None),
        [site] => site,
        _ => match served_trace(ctx) {
            Ok(trace) => ServeCall {
                func: trace.serve_fn,
                call: trace.serve,
            },
            Err(_) => return Ok(None),
        },
    };
    // The app's pool for the same database, bound in the serving function before the
    // serve call: Better Auth shares it.
    let shared = input.pool_type.and_then(|pool_type| {
        let serve_at = site.func.block.stmts.iter().position(|stmt| {
            let (outer, inner) = (stmt.span(), site.call.span());
            outer.start() <= inner.start() && outer.end() >= inner.end()
        })?;
        let (name, from, at) = pool_in_scope(ctx, site.func, serve_at, pool_type)?;
        Some(SharedPool {
            reuse: PoolReuse {
                type_path: pool_type,
                arg: format!("{name}.clone()"),
            },
            from,
            at,
        })
    });
    let Ok(wired) = wire_serve_site(model, site, shared, input, snippets)? else {
        return Ok(None);
    };
    let module = input.module;
    let mut note = format!(
        "Better Auth is attached where the app is served (`{module}::attach(app, &auth)` in \
         `fn {}`): its routes are merged into the served router and every request carries \
         it, so handlers of any router state read sessions with `{module}::Authenticated` \
         (401 without a session) and `{module}::MaybeAuthenticated`",
        site.func.name()
    );
    // Handlers in the library cannot name a module of the binary: the runtime's own
    // extractors are the same ones.
    if wired.home != Root::Lib && model.files.iter().any(|f| f.root == Root::Lib) {
        note.push_str(
            "; handlers in the library crate take \
             `better_auth::integrations::axum::Authenticated` / `MaybeAuthenticated`, \
             which work the same",
        );
    }
    Ok(Some(Wiring {
        state: StateKind::None,
        state_name: None,
        state_path: None,
        derives_from_ref: false,
        home: wired.home,
        pool: wired.pool,
        port,
        outcome: Outcome::Edits(wired.edits),
        notes: vec![note],
        handlers_reach_auth: false,
        serve_site: true,
    }))
}

/// The port the app binds, as its code writes it: a literal port in the bind call, else
/// the one address bound to the variable `bind` takes, else the one address literal.
fn bound_port(scan: &[(FnRef<'_>, usize, Calls<'_>)]) -> Option<u16> {
    let mut addresses: Vec<u16> = scan
        .iter()
        .flat_map(|(_, _, c)| c.address_ports.clone())
        .collect();
    // `let port = 8080; ... bind((addr, port))`: a tuple's port variable bound
    // to a number in the same function.
    for (func, _, calls) in scan {
        for var in &calls.tuple_port_vars {
            addresses.extend(
                scan.iter()
                    .filter(|(f, _, _)| f.same(func))
                    .flat_map(|(_, _, c)| &c.port_lets)
                    .filter(|(name, port)| name == var && *port > 0)
                    .map(|(_, port)| *port),
            );
        }
    }
    addresses.sort_unstable();
    addresses.dedup();
    // `let addr = SocketAddr::from(([127, 0, 0, 1], 8080)); ... bind(addr)`: the address
    // bound to the variable `bind` takes, in the same function, wins over other literals
    // (a default base URL for emails, say).
    let mut bound: Vec<u16> = Vec::new();
    for (func, _, calls) in scan {
        for var in &calls.bind_vars {
            bound.extend(
                scan.iter()
                    .filter(|(f, _, _)| f.same(func))
                    .flat_map(|(_, _, c)| &c.address_lets)
                    .filter(|(name, _)| name == var)
                    .flat_map(|(_, ports)| ports.iter().copied()),
            );
        }
    }
    bound.sort_unstable();
    bound.dedup();
    scan.iter()
        .flat_map(|(_, _, c)| c.ports.iter())
        .next()
        .copied()
        .or_else(|| (bound.len() == 1).then(|| bound[0]))
        .or_else(|| (addresses.len() == 1).then(|| addresses[0]))
}

/// The serve call that serves the app, traced back to its router: the only one, or the
/// one whose router has the most routes.
fn served_trace<'a>(ctx: &Ctx<'a>) -> Result<Trace<'a>, String> {
    let mut traces: Vec<Trace<'a>> = Vec::new();
    for ServeCall { func, call: serve } in serve_calls(ctx) {
        let stmt = func
            .block
            .stmts
            .iter()
            .position(|s| {
                let span = s.span();
                span.start() <= serve.span().start() && span.end() >= serve.span().end()
            })
            .unwrap_or(0);
        let mut segments = Vec::new();
        let origin = ctx.trace(func, stmt, &serve.args[1], &mut segments, 0);
        traces.push(Trace {
            serve_fn: func,
            serve,
            segments,
            origin,
        });
    }
    let routes_in = |t: &Trace<'_>| {
        t.segments
            .iter()
            .flat_map(|s| &s.calls)
            .filter(|c| ROUTE_METHODS.contains(&c.method.to_string().as_str()))
            .count()
    };
    traces.sort_by_key(|t| std::cmp::Reverse(routes_in(t)));
    let count = traces.len();
    let mut traces = traces.into_iter();
    match (traces.next(), traces.next()) {
        (None, _) => Err(
            "no `axum::serve(listener, app)` call was found in this package's sources".to_owned(),
        ),
        (Some(one), None) => Ok(one),
        (Some(first), Some(second)) if routes_in(&first) > routes_in(&second) => Ok(first),
        _ => Err(format!(
            "{count} `axum::serve` calls were found; init cannot tell which one serves the app"
        )),
    }
}

/// The router's state that Better Auth can join: the innermost `.with_state(..)` on the
/// way, as `(segment, call, state)`; `None` (with a note saying why, in `notes`) when
/// the routes are merged on their own instead.
fn joinable_state(
    ctx: &Ctx<'_>,
    trace: &Trace<'_>,
    module: &str,
    notes: &mut Vec<String>,
) -> Result<Option<(usize, usize, StateInfo)>, String> {
    let with_state = trace
        .segments
        .iter()
        .enumerate()
        .rev()
        .find_map(|(si, seg)| {
            seg.calls
                .iter()
                .position(|c| c.method == "with_state")
                .map(|ci| (si, ci))
        });
    let Some((si, ci)) = with_state else {
        return Ok(None);
    };
    let seg = &trace.segments[si];
    let Some(arg) = seg.calls[ci].args.first() else {
        return Err("`.with_state()` has no argument".to_owned());
    };
    let Some(info) = ctx.state_of(seg.func, seg.stmt + 1, arg, 0) else {
        // A state whose type init cannot tell (`Arc::new(db.pool().clone())`, say): the
        // generated router fits any state, so the routes are merged on their own.
        notes.push(format!(
            "init could not tell the type of the state passed to `.with_state({})` in `fn \
             {}`, so Better Auth is not part of it: its routes are merged on their own, and \
             handlers read sessions with `{module}::Authenticated` / \
             `{module}::MaybeAuthenticated` (`CurrentSession` needs Better Auth in the \
             state: an `auth: Arc<BetterAuth>` field and \
             `impl FromRef<YourState> for Arc<BetterAuth>`)",
            shorten(&tokens(arg)),
            seg.func.name()
        ));
        return Ok(None);
    };
    // A state of a type from another crate (a bare `SqlitePool`, say) cannot hold Better
    // Auth: the routes are merged on their own, like in an app without state.
    let ours = ctx
        .structs
        .iter()
        .any(|s| s.item.ident == info.name.as_str());
    if info.kind == StateKind::None || !ours {
        return Ok(None);
    }
    // A state built only in a function that is not async (`Service::new()`) cannot await
    // Better Auth's set-up: the routes are merged on their own, and a note says how to
    // reach Better Auth from the state later.
    if let [(built_in, _, _)] = ctx.literals_of(&info.name).as_slice() {
        if !built_in.is_async() {
            let name = &info.name;
            notes.push(format!(
                "`{name}` is built in `fn {}`, which is not async, so Better Auth is not part \
                 of the app's state: its routes are merged on their own, and handlers read \
                 sessions with `{module}::Authenticated` / `{module}::MaybeAuthenticated` \
                 (`CurrentSession` needs an `auth: Arc<BetterAuth>` field in `{name}` and \
                 `impl FromRef<{name}> for Arc<BetterAuth>`)",
                built_in.name()
            ));
            return Ok(None);
        }
    }
    Ok(Some((si, ci, info)))
}

fn plan_traced(
    ctx: &Ctx<'_>,
    input: &WiringInput<'_>,
    snippets: &dyn Snippets,
) -> anyhow::Result<Wiring> {
    let model = ctx.model;
    let port = bound_port(&ctx.scan);
    let mut manual = Manual {
        model,
        input,
        snippets,
        port,
        file: model
            .root_file(Root::Main)
            .or_else(|| model.root_file(Root::Lib))
            .map(|f| f.id)
            .unwrap_or(0),
        home: if model.root_file(Root::Main).is_some() {
            Root::Main
        } else {
            Root::Lib
        },
        init_fn: None,
    };

    // 1. The served value.
    let trace = match served_trace(ctx) {
        Ok(trace) => trace,
        Err(reason) => return manual.build(reason),
    };
    manual.file = trace.serve_fn.file.id;
    let has_state = || {
        trace
            .segments
            .iter()
            .flat_map(|s| &s.calls)
            .any(|c| c.method == "with_state")
    };
    if let Origin::Unknown(why) = &trace.origin {
        if !has_state() {
            return manual.build(format!("{why}, so init cannot see the app's router"));
        }
    }

    // 2. The state, then the edits.
    let mut notes = Vec::new();
    let state = match joinable_state(ctx, &trace, input.module, &mut notes) {
        Ok(state) => state,
        Err(reason) => return manual.build(reason),
    };
    let mut edits = Vec::new();
    let wired = match state {
        Some((si, ci, info)) => wire_state(
            ctx, &trace, si, ci, info, input, snippets, &mut edits, &mut notes,
        ),
        None => wire_stateless(ctx, &trace, input, snippets, &mut edits, &mut notes).map(
            |(home, pool, reach)| Wiring {
                handlers_reach_auth: reach,
                serve_site: false,
                state: StateKind::None,
                state_name: None,
                state_path: None,
                derives_from_ref: false,
                home,
                pool,
                port: None,
                outcome: Outcome::Edits(Vec::new()),
                notes: Vec::new(),
            },
        ),
    };
    let mut wiring = match wired {
        Ok(wiring) => wiring,
        Err(err) => return manual.refused(err),
    };
    connect_info(&trace, snippets, &mut edits, &mut notes)?;
    wiring.port = port;
    wiring.outcome = Outcome::Edits(edits);
    wiring.notes = notes;
    Ok(wiring)
}

/// Whether the trace already nests Better Auth's router.
fn already_nested(trace: &Trace<'_>, input: &WiringInput<'_>) -> bool {
    trace.segments.iter().flat_map(|s| &s.calls).any(|c| {
        // `.merge(auth::router(&auth))`, or `.nest("/auth", auth::router(&auth))` as
        // init wrote it before it merged the routes (or as the app's author wrote it).
        let ours = calls_our_router(&tokens(&c.args), input);
        (c.method == "merge" && ours)
            || (c.method == "nest"
                && (ours || tokens(&c.args).contains(&format!("\"{}\"", input.mount))))
    })
}

/// Whether arguments (as `tokens` writes them) call the generated `auth::router(..)`.
fn calls_our_router(args: &str, input: &WiringInput<'_>) -> bool {
    args.contains(&format!("{} :: router (", input.module))
}

/// `.nest("/auth", auth::router(&auth))`, as init wrote it before it merged the routes,
/// rewritten to `.merge(auth::router(&auth))`: the module a rerun writes serves its
/// routes at its `base_path` already, and nesting them too would move them to
/// `/auth/auth/..`.
fn upgrade_old_nest(trace: &Trace<'_>, input: &WiringInput<'_>, edits: &mut Vec<Edit>) {
    if !input.module_merges {
        return;
    }
    for seg in &trace.segments {
        for call in &seg.calls {
            let [_, routes] = call.args.iter().collect::<Vec<_>>()[..] else {
                continue;
            };
            if call.method != "nest" || !calls_our_router(&tokens(routes), input) {
                continue;
            }
            let file = seg.func.file;
            edits.push(Edit {
                file: file.id,
                start: file.offset(call.method.span().start()),
                end: file.offset(call.paren_token.span.close().end()),
                text: format!("merge({})", file.written(routes)),
            });
        }
    }
}

/// Where in `seg` the routes go: after the last route method (or `route_layer`) before
/// `stop`, or before the first `.layer(..)` when routes follow the layers. After any
/// `route_layer`, so the app's own guards (a login check on its routes) never stand in
/// front of sign-up; before the `.layer(..)` calls otherwise, which then wrap Better
/// Auth's routes like the app's (CORS, tracing).
fn nest_anchor(seg: &Segment<'_>, stop: usize) -> Option<usize> {
    let calls = &seg.calls[..stop.min(seg.calls.len())];
    let routes = |c: &&ExprMethodCall| {
        let method = c.method.to_string();
        method == "route_layer" || ROUTE_METHODS.contains(&method.as_str())
    };
    let last = calls.iter().rposition(&routes);
    // Routes added after the app's `.layer(..)`s (`.layer(cors).fallback_service(..)`)
    // would miss them: go before the first one instead, unless a `route_layer` (a guard
    // of the app's routes) comes after it.
    if let Some(first_layer) = calls.iter().position(|c| c.method == "layer") {
        let guard_after = calls[first_layer..]
            .iter()
            .any(|c| c.method == "route_layer");
        if !guard_after && last.is_some_and(|l| l > first_layer) {
            return calls[..first_layer].iter().rposition(&routes);
        }
    }
    last
}

/// A note naming the app's `.layer(..)`s that do not wrap Better Auth's routes once they
/// are merged after call `anchor` of segment `si`: those earlier in that chain and all of
/// the chains inside it (a router built with its layers in another function). CORS most
/// of all: a browser app on another origin cannot call routes it does not cover.
fn unwrapped_layers_note(
    trace: &Trace<'_>,
    si: usize,
    anchor: Option<usize>,
    module: &str,
) -> Option<String> {
    let before_anchor = anchor.map_or(0, |a| a + 1);
    let layers: Vec<String> = trace.segments[si..]
        .iter()
        .enumerate()
        .flat_map(|(j, seg)| {
            let upto = if j == 0 {
                before_anchor
            } else {
                seg.calls.len()
            };
            seg.calls[..upto.min(seg.calls.len())]
                .iter()
                .map(move |c| (seg.func.file, *c))
        })
        .filter(|(_, c)| c.method == "layer")
        .filter_map(|(file, c)| {
            // As written, on one line.
            let written = file.written(c.args.first()?);
            let written = written.split_whitespace().collect::<Vec<_>>().join(" ");
            Some(format!("`.layer({})`", shorten(&written)))
        })
        .collect();
    if layers.is_empty() {
        return None;
    }
    Some(format!(
        "Better Auth's routes are merged after {}, so those layers do not wrap them (CORS, \
         tracing, body limits): to have them apply, move `.merge(..)` before them, or add \
         the same layers to `{module}::router(&auth)`",
        layers.join(", ")
    ))
}

/// Inserts a method call after call `anchor` of the chain (after its root when None).
fn chain_edit(seg: &Segment<'_>, anchor: Option<usize>, text: &str) -> Edit {
    let file = seg.func.file;
    let end = match anchor {
        Some(i) => seg.calls[i].paren_token.span.close().end(),
        None => seg.root.span().end(),
    };
    let at = file.offset(end);
    // A chain written one call per line gets one more line, indented like the others.
    let multi_line = seg
        .calls
        .iter()
        .find(|c| c.dot_token.span.start().line > c.receiver.span().end().line);
    let text = match multi_line {
        Some(call) => {
            let indent = file.indent_at(file.offset(call.dot_token.span.start()));
            format!("\n{indent}{text}")
        }
        None => text.to_owned(),
    };
    Edit {
        file: file.id,
        start: at,
        end: at,
        text,
    }
}

/// Better Auth's module as the `let auth` line names it.
struct ModuleRef {
    /// Its path from the function that calls `init` (`auth`, `crate::auth`, ..).
    path: String,
    /// Its file, as shown to the user.
    file: String,
}

/// `let auth = ...;` above statement `stmt` of `func`, unless an earlier run put it there.
fn let_auth_edit(
    func: FnRef<'_>,
    stmt: usize,
    module: &ModuleRef,
    pool_arg: &str,
    input: &WiringInput<'_>,
    snippets: &dyn Snippets,
    edits: &mut Vec<Edit>,
) -> Result<(), WireError> {
    let existing = func.block.stmts.iter().find_map(|s| match s {
        Stmt::Local(local) if pat_name(&local.pat).as_deref() == Some("auth") => Some(local),
        _ => None,
    });
    match existing {
        Some(local)
            if local
                .init
                .as_ref()
                .is_some_and(|i| expr_calls(&i.expr, &[input.module, "init"])) =>
        {
            return Ok(());
        }
        Some(_) => {
            return refused(format!(
                "`fn {}` already has a variable named `auth`",
                func.name()
            ));
        }
        None => {}
    }
    let text = snippets.snippet(
        "let_auth",
        &[
            ("module_file", module.file.clone()),
            ("example_file", input.example_file.to_owned()),
            ("init_path", format!("{}::init", module.path)),
            ("pool_arg", pool_arg.to_owned()),
            ("on_error", on_error(func).to_owned()),
        ],
    )?;
    edits.push(above_statement(func.file, &func.block.stmts[stmt], &text));
    Ok(())
}

/// Where the module file goes for the crate root at `root`, and the `#[path]` its
/// declaration needs. Beside the root, as `mod auth;` finds it; but a binary at
/// `src/bin/server.rs` (or `src/bin/main.rs`, named by a `[[bin]]`) would find
/// `src/bin/auth.rs`, which cargo builds as a binary of its own, so that one keeps it
/// in `src/bin/server/auth.rs`. A binary at `src/bin/server/main.rs` has its own
/// folder already.
pub(super) fn module_file(root: &Path, module: &str) -> (PathBuf, Option<String>) {
    let dir = root.parent().unwrap_or(Path::new("."));
    let stem = root.file_stem().and_then(|s| s.to_str()).unwrap_or("main");
    if dir.file_name().is_some_and(|d| d == "bin") {
        let path = format!("{stem}/{module}.rs");
        return (dir.join(&path), Some(path));
    }
    (dir.join(format!("{module}.rs")), None)
}

/// The module file as shown to the user (relative to the package).
pub(super) fn module_shown(model: &Model, home: Root, module: &str) -> String {
    let root = model
        .root_file(home)
        .map_or("src/main.rs", |f| f.shown.as_str());
    module_file(Path::new(root), module)
        .0
        .to_string_lossy()
        .into_owned()
}

/// `mod auth;` in the home crate root, unless there.
pub(super) fn mod_decl_edit(
    model: &Model,
    home: Root,
    input: &WiringInput<'_>,
    snippets: &dyn Snippets,
    edits: &mut Vec<Edit>,
) -> anyhow::Result<()> {
    let Some(root) = model.root_file(home) else {
        return Ok(());
    };
    if !root.has_mod(input.module) {
        let text = mod_decl(&root.path, home, input.module, snippets)?;
        edits.push(mod_edit(root, input.module, &text));
    }
    Ok(())
}

/// `mod auth;` for the crate root at `root` (`pub` in a library, with the `#[path]` a
/// binary under `src/bin/` needs).
fn mod_decl(
    root: &Path,
    home: Root,
    module: &str,
    snippets: &dyn Snippets,
) -> anyhow::Result<String> {
    let vis = if home == Root::Lib { "pub " } else { "" };
    let (_, path) = module_file(root, module);
    snippets.snippet(
        "mod_decl",
        &[
            ("vis", vis.to_owned()),
            ("module", module.to_owned()),
            ("path", path.unwrap_or_default()),
        ],
    )
}

/// Serve with peer addresses, for per-client rate limits.
fn connect_info(
    trace: &Trace<'_>,
    snippets: &dyn Snippets,
    edits: &mut Vec<Edit>,
    notes: &mut Vec<String>,
) -> anyhow::Result<()> {
    let served = &trace.serve.args[1];
    let file = trace.serve_fn.file;
    if let Expr::MethodCall(m) = strip(served) {
        if m.method == "into_make_service_with_connect_info" {
            return Ok(());
        }
        if m.method == "into_make_service" && m.args.is_empty() {
            let start = file.offset(m.method.span().start());
            let end = file.offset(m.paren_token.span.close().end());
            let text = connect_info_call(file, snippets)?;
            edits.push(Edit {
                file: file.id,
                start,
                end,
                text: text.trim_start_matches('.').to_owned(),
            });
            return Ok(());
        }
    }
    if !matches!(trace.origin, Origin::RouterNew) && !serves_a_router(trace) {
        notes.push(
            "serve the app with `.into_make_service_with_connect_info::<SocketAddr>()` so \
             Better Auth can rate-limit per client"
                .to_owned(),
        );
        return Ok(());
    }
    let at = file.offset(served.span().end());
    edits.push(Edit {
        file: file.id,
        start: at,
        end: at,
        text: connect_info_call(file, snippets)?,
    });
    Ok(())
}

/// Whether the served value is an axum `Router` for certain, even though the trace did
/// not reach `Router::new()` (a router a library built, say): the method that produced it
/// is one of `Router`'s own, such as `.with_state(state)` or `.layer(..)`.
fn serves_a_router(trace: &Trace<'_>) -> bool {
    // The first chain with method calls made the served value; those before it only
    // passed it on (`create_router(state).await?`, `Ok(..)`).
    trace
        .segments
        .iter()
        .find_map(|segment| segment.calls.last())
        .is_some_and(|last| {
            let method = last.method.to_string();
            method == "with_state" || method == "layer" || ROUTE_METHODS.contains(&method.as_str())
        })
}

/// `.into_make_service_with_connect_info::<SocketAddr>()`, naming `SocketAddr` as `file`
/// can (`std::net::SocketAddr` unless it imports it).
pub(super) fn connect_info_call(
    file: &SourceFile,
    snippets: &dyn Snippets,
) -> anyhow::Result<String> {
    let socket_addr = if file.imports_name("SocketAddr") {
        "SocketAddr"
    } else {
        "std::net::SocketAddr"
    };
    let text = snippets.snippet("connect_info", &[("socket_addr", socket_addr.to_owned())])?;
    Ok(text.trim().to_owned())
}

/// What [`wire_stateless`] settled: the crate root `auth` lives in, the app's pool
/// Better Auth shares (if any), and whether handlers can take `CurrentSession`.
type Stateless = (Root, Option<PoolReuse>, bool);

fn wire_stateless(
    ctx: &Ctx<'_>,
    trace: &Trace<'_>,
    input: &WiringInput<'_>,
    snippets: &dyn Snippets,
    edits: &mut Vec<Edit>,
    notes: &mut Vec<String>,
) -> Result<Stateless, WireError> {
    // The innermost chain in an async function: `let auth` goes there, and the routes.
    let Some(si) = trace
        .segments
        .iter()
        .rposition(|s| s.func.is_async() && !matches!(strip(s.root), Expr::Macro(_)))
    else {
        let reason = match &trace.origin {
            Origin::Unknown(why) => why.clone(),
            Origin::RouterNew => format!(
                "the router is built outside an async function, and `fn {}` only serves it",
                trace.serve_fn.name()
            ),
        };
        let place = Place {
            init_fn: Some(trace.serve_fn.file.id),
            ..Place::default()
        };
        return Err(WireError::Refused(reason, place));
    };
    let seg = &trace.segments[si];
    // The module goes where the routes are built: in the library when the served router
    // comes from it (its handlers can then reach `crate::auth`), the binary reaching it
    // through the library's name.
    let routes_in_library = trace
        .segments
        .iter()
        .any(|s| s.func.file.root == Root::Lib && !s.calls.is_empty());
    let home = if routes_in_library {
        Root::Lib
    } else {
        seg.func.file.root
    };
    let place = Place {
        file: Some(seg.func.file.id),
        home: Some(home),
        init_fn: None,
    };
    let Some(path) = module_path(seg.func.file, home, input.module, ctx.lib_crate) else {
        return Err(WireError::Refused(
            "the library cannot reach a module of the binary".to_owned(),
            place,
        ));
    };
    mod_decl_edit(ctx.model, home, input, snippets, edits)?;
    // The app's pool for the same database, when one is in scope: Better Auth shares it.
    let found = input.pool_type.and_then(|pool_type| {
        pool_in_scope(ctx, seg.func, seg.stmt, pool_type).map(|f| (pool_type, f))
    });
    // After the pool is bound (when Better Auth shares it), and before the listener is
    // bound when that comes before the router: Better Auth's start-up errors then come
    // before the app says it is listening.
    let (lower, mut let_stmt) = found
        .as_ref()
        .map_or((0, seg.stmt), |(_, (_, from, at))| (*from, *at));
    if let_stmt == seg.stmt {
        let listener = seg.func.block.stmts[lower.min(let_stmt)..let_stmt]
            .iter()
            .position(binds_listener);
        if let Some(i) = listener {
            let_stmt = lower.min(let_stmt) + i;
        }
    }
    let pool = found.map(|(pool_type, (name, _, _))| PoolReuse {
        type_path: pool_type,
        arg: format!("{name}.clone()"),
    });
    let pool_arg = pool.as_ref().map(|p| p.arg.clone()).unwrap_or_default();
    let module = ModuleRef {
        path: path.clone(),
        file: module_shown(ctx.model, home, input.module),
    };
    let_auth_edit(
        seg.func, let_stmt, &module, &pool_arg, input, snippets, edits,
    )
    .map_err(|err| match err {
        WireError::Refused(reason, _) => WireError::Refused(reason, place),
        other => other,
    })?;
    let reach = mount_stateless(ctx, trace, si, &path, input, snippets, edits, notes)?;
    Ok((home, pool, reach))
}

/// Better Auth's routes merged into the chain of segment `si` of a router without Better
/// Auth in its state: Better Auth becomes its state when it has none (then handlers can
/// take `CurrentSession`, the result), else it rides in the requests' extensions.
#[allow(clippy::too_many_arguments)]
fn mount_stateless(
    ctx: &Ctx<'_>,
    trace: &Trace<'_>,
    si: usize,
    path: &str,
    input: &WiringInput<'_>,
    snippets: &dyn Snippets,
    edits: &mut Vec<Edit>,
    notes: &mut Vec<String>,
) -> Result<bool, WireError> {
    let seg = &trace.segments[si];
    let calls = || trace.segments.iter().flat_map(|s| &s.calls);
    // Better Auth is the router's state already (an earlier run).
    let state_is_auth = calls().any(|c| {
        c.method == "with_state"
            && matches!(c.args.first().map(strip), Some(Expr::Path(p)) if p.path.is_ident("auth"))
    });
    if already_nested(trace, input) {
        upgrade_old_nest(trace, input, edits);
        return Ok(state_is_auth);
    }
    let has_state = calls().any(|c| c.method == "with_state");
    let origin_here = !has_state
        && si + 1 == trace.segments.len()
        && matches!(trace.origin, Origin::RouterNew)
        && !ctx.state_pinned(seg);
    let anchor = nest_anchor(seg, seg.calls.len());
    notes.extend(unwrapped_layers_note(trace, si, anchor, input.module));
    let nest = snippets.snippet(
        "mount",
        &[
            ("module_path", path.to_owned()),
            ("auth_expr", "&auth".to_owned()),
        ],
    )?;
    edits.push(chain_edit(seg, anchor, nest.trim_end()));
    if origin_here {
        // Better Auth becomes the router's state, so handlers can take `CurrentSession`.
        let text = snippets.snippet("with_state", &[])?;
        edits.push(chain_edit(seg, anchor, text.trim_end()));
        return Ok(true);
    }
    // The state is the app's: Better Auth rides along in the requests' extensions, for
    // the extractors `auth::Authenticated` / `MaybeAuthenticated`.
    let text = snippets.snippet("extension", &[])?;
    edits.push(chain_edit(seg, anchor, text.trim_end()));
    if !notes.iter().any(|n| n.contains("Authenticated")) {
        let module = input.module;
        notes.push(format!(
            "the router's state is the app's, so handlers read sessions with \
             `{module}::Authenticated` (401 without a session) and \
             `{module}::MaybeAuthenticated`, which find Better Auth in the request (the \
             `.layer(Extension(auth.clone()))` init added); `CurrentSession` needs Better \
             Auth in the state (`impl FromRef<YourState> for Arc<BetterAuth>`)"
        ));
    }
    Ok(state_is_auth)
}

/// The struct a state field goes in: the state itself, or, for
/// `struct AppState(Arc<Inner>)` with `Deref<Target = Inner>`, `Inner`. Refused when
/// init cannot add a field there safely.
fn state_target<'a>(
    ctx: &Ctx<'a>,
    info: &StateInfo,
) -> Result<(StructRef<'a>, StructRef<'a>), WireError> {
    let outer = ctx.find_struct(&info.name).or_else(refused)?;
    let place = Place {
        file: Some(outer.file.id),
        home: Some(outer.file.root),
        init_fn: None,
    };
    let refuse = |reason: String| WireError::Refused(reason, place);
    let name = &info.name;
    let target = match &outer.item.fields {
        Fields::Named(_) => outer,
        Fields::Unnamed(_) => {
            let deref = ctx
                .model
                .deref_impls()
                .into_iter()
                .find(|d| d.self_ty == *name);
            let Some(d) = deref else {
                return Err(refuse(format!(
                    "`{name}` is a tuple struct without a `Deref` impl to a struct with named \
                     fields"
                )));
            };
            match ctx.find_struct(&d.target) {
                Ok(inner) if matches!(inner.item.fields, Fields::Named(_)) => inner,
                _ => {
                    return Err(refuse(format!(
                        "`{name}` derefs to `{}`, which has no named fields init can add to",
                        d.target
                    )));
                }
            }
        }
        Fields::Unit => return Err(refuse(format!("`{name}` has no fields to add `auth` to"))),
    };
    if info.kind == StateKind::Struct && !derives(outer.item, "Clone") {
        return Err(refuse(format!("`{name}` does not derive Clone")));
    }
    let hand_wired = ctx
        .model
        .hand_written_from_ref()
        .iter()
        .any(|i| i.from.contains(name.as_str()) && i.for_ty.contains("BetterAuth"));
    if hand_wired {
        return Err(refuse(format!(
            "`{name}` already has a `FromRef` impl for `Arc<BetterAuth>`"
        )));
    }
    if !outer.module.is_empty() && matches!(outer.item.vis, syn::Visibility::Inherited) {
        return Err(refuse(format!(
            "`{name}` is private to `mod {}`; make it `pub(crate)` so Better Auth's module can \
             name it",
            outer.module.join("::")
        )));
    }
    Ok((outer, target))
}

/// The one `Target { .. }` literal of the crate, in an async function: where `let auth`
/// and the field's value go.
fn state_literal<'a>(
    ctx: &Ctx<'a>,
    target_name: &str,
    place: Place,
) -> Result<(FnRef<'a>, usize, &'a ExprStruct), WireError> {
    let literals = ctx.literals_of(target_name);
    let [(init_fn, lit_stmt, literal)] = literals.as_slice() else {
        return Err(WireError::Refused(
            format!(
                "`{target_name} {{ .. }}` is built in {} places; init needs exactly one",
                literals.len()
            ),
            place,
        ));
    };
    let place = Place {
        init_fn: Some(init_fn.file.id),
        ..place
    };
    if literal.rest.is_some() || literal.fields.is_empty() {
        return Err(WireError::Refused(
            format!(
                "the `{target_name} {{ .. }}` literal in `fn {}` uses `..` or has no fields",
                init_fn.name()
            ),
            place,
        ));
    }
    if !init_fn.is_async() {
        return Err(WireError::Refused(
            format!(
                "`{target_name}` is built in `fn {}`, which is not async, so it cannot await \
                 Better Auth's set-up",
                init_fn.name()
            ),
            place,
        ));
    }
    Ok((*init_fn, *lit_stmt, *literal))
}

/// The `auth` field added to `target` (and the imports its type needs), unless it has
/// one holding Better Auth already. `crates` are the crate roots that name the field.
fn field_edit(
    target: StructRef<'_>,
    crates: [Root; 2],
    module: &ModuleRef,
    snippets: &dyn Snippets,
    edits: &mut Vec<Edit>,
) -> anyhow::Result<Result<(), String>> {
    let target_name = &target.item.ident;
    let Fields::Named(fields) = &target.item.fields else {
        return Ok(Err(format!("`{target_name}` has no named fields")));
    };
    let existing = fields
        .named
        .iter()
        .find(|f| f.ident.as_ref().is_some_and(|i| i == "auth"));
    match existing {
        Some(field) if type_names(&field.ty, "BetterAuth") => return Ok(Ok(())),
        Some(_) => {
            return Ok(Err(format!(
                "`{target_name}` already has a field named `auth`"
            )));
        }
        None => {}
    }
    let Some((field, comma)) = fields.named.pairs().next_back().map(Pair::into_tuple) else {
        return Ok(Err(format!("`{target_name}` has no fields")));
    };
    let file = target.file;
    let vis = if crates.iter().any(|r| *r != file.root) {
        "pub ".to_owned()
    } else {
        match &field.vis {
            syn::Visibility::Public(_) => "pub ".to_owned(),
            _ if !target.module.is_empty() => "pub(crate) ".to_owned(),
            syn::Visibility::Inherited => String::new(),
            vis => format!("{} ", file.written(vis)),
        }
    };
    let text = snippets.snippet(
        "state_field",
        &[("vis", vis), ("module_file", module.file.clone())],
    )?;
    let field_start = file.offset(field.span().start());
    let indent = file.indent_at(field_start);
    let (at, lead) = match comma {
        Some(comma) => (file.offset(comma.span.end()), String::new()),
        None => (file.offset(field.span().end()), ",".to_owned()),
    };
    edits.push(Edit {
        file: file.id,
        start: at,
        end: at,
        text: format!("{lead}{}", indent_lines(&text, &indent, true)),
    });
    let missing: Vec<&str> = [
        ("BetterAuth", "better_auth::BetterAuth"),
        ("Arc", "std::sync::Arc"),
    ]
    .into_iter()
    .filter(|(name, _)| !file.imports_name(name))
    .map(|(_, path)| path)
    .collect();
    if !missing.is_empty() {
        let imports = snippets.snippet("imports", &[("imports", missing.join("\n"))])?;
        edits.push(import_edit(file, &imports));
    }
    Ok(Ok(()))
}

/// Whether a type names `name` anywhere (`Arc<BetterAuth>`, `Arc<better_auth::BetterAuth>`).
fn type_names(ty: &Type, name: &str) -> bool {
    #[derive(Default)]
    struct Find<'n>(&'n str, bool);
    impl<'a> Visit<'a> for Find<'_> {
        fn visit_path_segment(&mut self, seg: &'a syn::PathSegment) {
            self.1 |= seg.ident == self.0;
            syn::visit::visit_path_segment(self, seg);
        }
    }
    let mut find = Find(name, false);
    find.visit_type(ty);
    find.1
}

/// The app's pool, when the state holds one for the same database and init can see the
/// variable its literal takes it from: Better Auth shares it.
fn state_pool(
    ctx: &Ctx<'_>,
    input: &WiringInput<'_>,
    target: StructRef<'_>,
    (init_fn, lit_stmt, literal): (FnRef<'_>, usize, &ExprStruct),
    notes: &mut Vec<String>,
) -> Option<PoolReuse> {
    let pool_type = input.pool_type?;
    let Fields::Named(fields) = &target.item.fields else {
        return None;
    };
    let names = PoolNames::new(ctx, pool_type);
    let field_ident = fields
        .named
        .iter()
        .find(|f| names.is_pool(&tokens(&f.ty)))?
        .ident
        .as_ref()?;
    let value = literal
        .fields
        .iter()
        .find(|f| matches!(&f.member, Member::Named(i) if i == field_ident));
    let ident = value.and_then(|v| match &v.expr {
        Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
        Expr::MethodCall(m) if m.method == "clone" && m.args.is_empty() => match &*m.receiver {
            Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
            _ => None,
        },
        _ => None,
    });
    let bound = ident.as_ref().is_some_and(|ident| {
        let_binding(init_fn, ident, lit_stmt).is_some() || param(init_fn, ident).is_some()
    });
    match ident {
        Some(ident) if bound => Some(PoolReuse {
            type_path: pool_type,
            arg: format!("{ident}.clone()"),
        }),
        _ => {
            notes.push(format!(
                "`{}.{field_ident}` holds a pool, but init could not see which variable it \
                 comes from; Better Auth opens its own pool from BETTER_AUTH_DATABASE_URL",
                target.item.ident
            ));
            None
        }
    }
}

/// Better Auth as a field of the router's state (found at call `ci` of segment `si`):
/// the field, `let auth` where the state is built, the field's value, and the routes
/// before `.with_state(..)`.
#[allow(clippy::too_many_arguments)]
fn wire_state(
    ctx: &Ctx<'_>,
    trace: &Trace<'_>,
    si: usize,
    ci: usize,
    info: StateInfo,
    input: &WiringInput<'_>,
    snippets: &dyn Snippets,
    edits: &mut Vec<Edit>,
    notes: &mut Vec<String>,
) -> Result<Wiring, WireError> {
    let seg = &trace.segments[si];
    let (outer, target) = state_target(ctx, &info)?;
    let home = outer.file.root;
    let mut place = Place {
        file: Some(outer.file.id),
        home: Some(home),
        init_fn: None,
    };
    let target_name = target.item.ident.to_string();
    let (init_fn, lit_stmt, literal) = state_literal(ctx, &target_name, place)?;
    place.init_fn = Some(init_fn.file.id);
    let refuse = |reason: String| WireError::Refused(reason, place);
    // Every file that names the auth module must see it.
    let Some(init_path) = module_path(init_fn.file, home, input.module, ctx.lib_crate) else {
        return Err(refuse(format!(
            "`{}` is defined in the binary but built in the library",
            info.name
        )));
    };
    let Some(router_path) = module_path(seg.func.file, home, input.module, ctx.lib_crate) else {
        return Err(refuse(format!(
            "`{}` is defined in the binary but the router is built in the library",
            info.name
        )));
    };
    let module = ModuleRef {
        path: init_path,
        file: module_shown(ctx.model, home, input.module),
    };
    // How the router reaches the instance.
    let same_fn = seg.func.same(&init_fn);
    let auth_expr = match &info.ident {
        _ if same_fn => "&auth".to_owned(),
        Some(ident) => format!("&{ident}.auth"),
        None => {
            return Err(refuse(format!(
                "the router is built in `fn {}`, which cannot see the Better Auth instance",
                seg.func.name()
            )));
        }
    };

    mod_decl_edit(ctx.model, home, input, snippets, edits)?;
    let crates = [init_fn.file.root, seg.func.file.root];
    field_edit(target, crates, &module, snippets, edits)?.map_err(refuse)?;
    let pool = state_pool(ctx, input, target, (init_fn, lit_stmt, literal), notes);

    // `let auth = ...;` before the literal (and before the router, in the same function).
    let let_stmt = if same_fn {
        lit_stmt.min(seg.stmt)
    } else {
        lit_stmt
    };
    let pool_arg = pool.as_ref().map(|p| p.arg.clone()).unwrap_or_default();
    let_auth_edit(
        init_fn, let_stmt, &module, &pool_arg, input, snippets, edits,
    )
    .map_err(|err| match err {
        WireError::Refused(reason, _) => refuse(reason),
        other => other,
    })?;

    // The literal's initialiser.
    let has_auth = literal
        .fields
        .iter()
        .any(|f| matches!(&f.member, Member::Named(i) if i == "auth"));
    if !has_auth {
        let text = snippets.snippet(
            "state_init",
            &[("clone", if same_fn { "true" } else { "" }.to_owned())],
        )?;
        edits.push(literal_edit(init_fn.file, literal, text.trim_end()));
    }

    // The routes, before `.with_state(..)`.
    let mount = [router_path, auth_expr];
    merge_routes(trace, (si, ci), mount, input, snippets, edits, notes)?;

    Ok(Wiring {
        handlers_reach_auth: true,
        serve_site: false,
        state: info.kind,
        state_name: Some(info.name.clone()),
        state_path: Some(
            outer
                .module
                .iter()
                .chain(std::iter::once(&info.name))
                .cloned()
                .collect::<Vec<_>>()
                .join("::"),
        ),
        derives_from_ref: derives(outer.item, "FromRef"),
        home,
        pool,
        port: None,
        outcome: Outcome::Edits(Vec::new()),
        notes: Vec::new(),
    })
}

/// Better Auth's routes merged into the chain of segment `si` before its call `ci`
/// (`.with_state(..)`), `[module path, instance]` naming them; or an earlier run's
/// `.nest(..)` upgraded.
fn merge_routes(
    trace: &Trace<'_>,
    (si, ci): (usize, usize),
    [module_path, auth_expr]: [String; 2],
    input: &WiringInput<'_>,
    snippets: &dyn Snippets,
    edits: &mut Vec<Edit>,
    notes: &mut Vec<String>,
) -> anyhow::Result<()> {
    if already_nested(trace, input) {
        upgrade_old_nest(trace, input, edits);
        return Ok(());
    }
    let seg = &trace.segments[si];
    let text = snippets.snippet(
        "mount",
        &[("module_path", module_path), ("auth_expr", auth_expr)],
    )?;
    let anchor = nest_anchor(seg, ci);
    notes.extend(unwrapped_layers_note(trace, si, anchor, input.module));
    edits.push(chain_edit(seg, anchor, text.trim_end()));
    Ok(())
}

fn literal_edit(file: &SourceFile, literal: &ExprStruct, text: &str) -> Edit {
    let (last, comma) = literal
        .fields
        .pairs()
        .next_back()
        .map(Pair::into_tuple)
        .expect("literal has fields");
    let close = literal.brace_token.span.close().start();
    let multi_line = close.line > last.span().end().line;
    let (at, has_comma) = match comma {
        Some(comma) => (file.offset(comma.span.end()), true),
        None => (file.offset(last.span().end()), false),
    };
    let text = if multi_line {
        let indent = file.indent_at(file.offset(last.span().start()));
        let lead = if has_comma { "" } else { "," };
        format!("{lead}\n{indent}{text},")
    } else if has_comma {
        format!(" {text},")
    } else {
        format!(", {text}")
    };
    Edit {
        file: file.id,
        start: at,
        end: at,
        text,
    }
}

/// Why a wiring step stopped.
#[derive(Debug)]
pub(super) enum WireError {
    /// The sources are too unusual to edit safely: why, and where the manual steps point.
    Refused(String, Place),
    /// A snippet failed to render (a bug in the templates).
    Render(anyhow::Error),
}

impl From<anyhow::Error> for WireError {
    fn from(err: anyhow::Error) -> Self {
        WireError::Render(err)
    }
}

/// Where the manual steps point, as far as the wiring got before it was refused: each
/// field overrides the default when set.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Place {
    /// The file shown as left alone.
    file: Option<usize>,
    /// The crate root the module belongs to.
    home: Option<Root>,
    /// The file of the function that should create the instance.
    init_fn: Option<usize>,
}

/// A refusal with the default place.
fn refused<T>(reason: String) -> Result<T, WireError> {
    Err(WireError::Refused(reason, Place::default()))
}

/// What is known when the wiring has to be done by hand.
struct Manual<'a> {
    model: &'a Model,
    input: &'a WiringInput<'a>,
    snippets: &'a dyn Snippets,
    port: Option<u16>,
    /// The file shown as left alone.
    file: usize,
    home: Root,
    /// The file of the function that should create the instance.
    init_fn: Option<usize>,
}

impl Manual<'_> {
    /// The manual steps for `err`, pointed at its place; a render error is passed on.
    fn refused(mut self, err: WireError) -> anyhow::Result<Wiring> {
        match err {
            WireError::Render(err) => Err(err),
            WireError::Refused(reason, place) => {
                self.file = place.file.unwrap_or(self.file);
                self.home = place.home.unwrap_or(self.home);
                self.init_fn = place.init_fn.or(self.init_fn);
                self.build(reason)
            }
        }
    }

    /// Steps that wire Better Auth where the app is served, which compile whatever the
    /// router and its state are: the module, `let auth`, and `auth::attach(app, &auth)`.
    fn build(&self, reason: String) -> anyhow::Result<Wiring> {
        let input = self.input;
        let snippets = self.snippets;
        let root_shown = self
            .model
            .root_file(self.home)
            .map(|f| f.shown.clone())
            .unwrap_or_else(|| "src/main.rs".to_owned());
        let module_file = module_file(Path::new(&root_shown), input.module)
            .0
            .to_string_lossy()
            .into_owned();
        let mod_line = mod_decl(Path::new(&root_shown), self.home, input.module, snippets)?;
        let init_place = self
            .init_fn
            .and_then(|id| self.model.files.get(id))
            .map(|f| format!(" (in {})", f.shown))
            .unwrap_or_default();
        let path = if self.home == Root::Lib && self.model.root_file(Root::Main).is_some() {
            format!("{}::{}", input.lib_crate, input.module)
        } else {
            input.module.to_owned()
        };
        let let_auth = snippets.snippet(
            "let_auth",
            &[
                ("module_file", module_file.clone()),
                ("example_file", input.example_file.to_owned()),
                ("init_path", format!("{path}::init")),
                ("pool_arg", String::new()),
                (
                    "on_error",
                    ".expect(\"Better Auth could not start\")".to_owned(),
                ),
            ],
        )?;
        let steps = vec![
            ManualStep {
                place: format!("In {root_shown}, next to the other `mod` lines"),
                lines: mod_line.trim_end().lines().map(str::to_owned).collect(),
            },
            ManualStep {
                place: format!(
                    "In the async function that serves the app or hands its router to the code \
                     that serves it{init_place}, before that (use `?` instead of `.expect(..)` \
                     if it returns `Result<_, Box<dyn Error>>` or `anyhow::Result`)"
                ),
                lines: let_auth.lines().map(str::to_owned).collect(),
            },
            ManualStep {
                place: "Where the router (`app` here) is served or handed over, in place of \
                        `app`: it merges Better Auth's routes and puts Better Auth in every \
                        request (serve it with \
                        `.into_make_service_with_connect_info::<std::net::SocketAddr>()` so \
                        Better Auth can rate-limit per client)"
                    .to_owned(),
                lines: vec![format!("{path}::attach(app, &auth)")],
            },
        ];
        Ok(Wiring {
            handlers_reach_auth: false,
            serve_site: true,
            state: StateKind::None,
            state_name: None,
            state_path: None,
            derives_from_ref: false,
            home: self.home,
            pool: None,
            port: self.port,
            outcome: Outcome::Manual {
                file: self.file,
                reason,
                steps,
            },
            notes: Vec::new(),
        })
    }
}
