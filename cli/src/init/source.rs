//! Reading the app's Rust sources with syn: where the router is built, what its state is,
//! and exactly where each line of wiring goes. Edits are text insertions at positions syn
//! located, so everything around them keeps the author's formatting and comments.

use std::path::{Path, PathBuf};

use proc_macro2::LineColumn;
use quote::ToTokens;
use syn::punctuated::Pair;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{
    Expr, ExprCall, ExprMethodCall, ExprStruct, Fields, FnArg, Item, ItemFn, ItemStruct, Local,
    Member, Pat, ReturnType, Stmt, Type, UseTree,
};

use super::Failure;

/// Which of the package's two crate roots a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// The binary's `src/main.rs`.
    Main,
    /// The library's `src/lib.rs`.
    Lib,
}

/// A parsed crate root.
pub struct SourceFile {
    /// Which root this is.
    pub root: Root,
    /// Where it is.
    pub path: PathBuf,
    /// Its text as read.
    pub text: String,
    ast: syn::File,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Parses `text`; a syntax error is a failure naming the file and position.
    pub fn parse(root: Root, path: &Path, text: String, shown: &str) -> Result<Self, Failure> {
        let ast = syn::parse_file(&text).map_err(|err| {
            let at = err.span().start();
            Failure::new(format!(
                "{shown} could not be parsed as Rust (line {}, column {}: {err}), so nothing \
                 was changed; fix it so `cargo check` passes, then run init again",
                at.line,
                at.column + 1
            ))
        })?;
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Ok(SourceFile {
            root,
            path: path.to_path_buf(),
            text,
            ast,
            line_starts,
        })
    }

    /// The byte offset of a span position (columns count characters).
    fn offset(&self, at: LineColumn) -> usize {
        let start = self.line_starts[at.line - 1];
        let line = &self.text[start..];
        line.char_indices()
            .nth(at.column)
            .map(|(i, _)| start + i)
            .unwrap_or(self.text.len())
    }

    fn line_start(&self, offset: usize) -> usize {
        self.text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0)
    }

    fn indent_at(&self, offset: usize) -> String {
        let start = self.line_start(offset);
        self.text[start..]
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect()
    }

    /// The start of the comment lines directly above the line starting at `line_start`
    /// (a comment belongs to the code under it, so insertions go above both).
    fn above_comments(&self, line_start: usize) -> usize {
        let mut start = line_start;
        while start > 0 {
            let prev = self.line_start(start - 1);
            let line = self.text[prev..start].trim();
            if line.starts_with("//") && !line.starts_with("//!") {
                start = prev;
            } else {
                break;
            }
        }
        start
    }

    fn line_end(&self, offset: usize) -> usize {
        self.text[offset..]
            .find('\n')
            .map(|i| offset + i)
            .unwrap_or(self.text.len())
    }
}

/// One text change in a source file.
#[derive(Debug, Clone)]
pub struct Edit {
    /// The file it applies to.
    pub root: Root,
    /// Replaced range start (an insertion when `start == end`).
    pub start: usize,
    /// Replaced range end.
    pub end: usize,
    /// The new text.
    pub text: String,
}

/// Applies non-overlapping edits to `text`.
pub fn apply_edits(text: &str, edits: &[&Edit]) -> String {
    let mut sorted: Vec<(usize, &&Edit)> = edits.iter().enumerate().collect();
    // Later positions first, so earlier offsets stay valid; at one position, the edit
    // listed last goes in first, so the text reads in list order.
    sorted.sort_by(|(i, a), (j, b)| (b.start, j).cmp(&(a.start, i)));
    let mut out = text.to_owned();
    for (_, edit) in sorted {
        out.replace_range(edit.start..edit.end, &edit.text);
    }
    out
}

/// The shape of the router's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateKind {
    /// No `.with_state(...)`: Better Auth becomes the state.
    None,
    /// `.with_state(AppState { .. })`, a Clone struct.
    Struct,
    /// `.with_state(Arc::new(AppState { .. }))`.
    Arc,
}

impl StateKind {
    /// The name templates use.
    pub fn name(self) -> &'static str {
        match self {
            StateKind::None => "none",
            StateKind::Struct => "struct",
            StateKind::Arc => "arc",
        }
    }
}

/// The app's own sqlx pool, handed to Better Auth.
#[derive(Debug, Clone)]
pub struct PoolReuse {
    /// `sqlx::SqlitePool` or `sqlx::PgPool`.
    pub type_path: &'static str,
    /// The expression passed to `auth::init`, e.g. `pool.clone()`.
    pub arg: String,
}

/// Facts the wiring needs from outside the sources.
pub struct WiringInput<'a> {
    /// The module's name (`auth`).
    pub module: &'a str,
    /// The mount path (`/auth`).
    pub mount: &'a str,
    /// The library crate's name, for paths from main.rs into lib.rs.
    pub lib_crate: &'a str,
    /// The pool type that matches the chosen database, when sqlx 0.8 is in use.
    pub pool_type: Option<&'static str>,
}

/// Snippets of code, rendered from templates by the caller.
pub trait Snippets {
    /// Renders the named snippet template with `(key, value)` pairs.
    fn snippet(&self, name: &str, vars: &[(&str, String)]) -> Result<String, Failure>;
}

/// A step the user must do by hand.
#[derive(Debug, Clone)]
pub struct ManualStep {
    /// Where the lines go.
    pub place: String,
    /// The exact lines.
    pub lines: Vec<String>,
}

/// What to do about the sources.
#[derive(Debug)]
pub enum Outcome {
    /// Edits syn located with certainty (possibly none: already wired).
    Edits(Vec<Edit>),
    /// Too unusual to edit safely: the reason and the steps to do by hand.
    Manual {
        /// The file left alone.
        root: Root,
        /// Why.
        reason: String,
        /// What to add.
        steps: Vec<ManualStep>,
    },
}

/// The result of analysing the sources.
#[derive(Debug)]
pub struct Wiring {
    /// The router state's shape (as far as known).
    pub state: StateKind,
    /// The state struct's name.
    pub state_name: Option<String>,
    /// The crate root that declares the auth module.
    pub home: Root,
    /// The app's pool, when Better Auth shares it.
    pub pool: Option<PoolReuse>,
    /// The port the app binds, for `BETTER_AUTH_URL`.
    pub port: Option<u16>,
    /// The edits or the manual steps.
    pub outcome: Outcome,
    /// Remarks for the summary.
    pub notes: Vec<String>,
}

/// A function and the file it is in.
#[derive(Clone, Copy)]
struct FnRef<'a> {
    file: &'a SourceFile,
    item: &'a ItemFn,
}

impl FnRef<'_> {
    fn same(&self, other: &FnRef<'_>) -> bool {
        self.file.root == other.file.root && self.item.sig.ident == other.item.sig.ident
    }
    fn name(&self) -> String {
        self.item.sig.ident.to_string()
    }
}

/// A `Router::new()` chain: the root call and the method calls on it, innermost first.
struct Chain<'a> {
    func: FnRef<'a>,
    stmt: usize,
    root: &'a ExprCall,
    calls: Vec<&'a ExprMethodCall>,
}

fn is_router_new(expr: &Expr) -> Option<&ExprCall> {
    let Expr::Call(call) = expr else { return None };
    is_router_new_call(call).then_some(call)
}

fn is_router_new_call(call: &ExprCall) -> bool {
    let Expr::Path(path) = &*call.func else {
        return false;
    };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segments.len() >= 2 && segments[segments.len() - 2..] == ["Router", "new"]
}

/// Collects chains and struct literals in one statement.
struct Finder<'a> {
    state_name: Option<String>,
    chains: Vec<(&'a ExprCall, Vec<&'a ExprMethodCall>)>,
    literals: Vec<&'a ExprStruct>,
    serves: Vec<&'a ExprCall>,
    ports: Vec<u16>,
}

impl<'a> Visit<'a> for Finder<'a> {
    fn visit_expr_method_call(&mut self, call: &'a ExprMethodCall) {
        let mut calls = vec![call];
        let mut receiver = &*call.receiver;
        while let Expr::MethodCall(inner) = receiver {
            calls.push(inner);
            receiver = &inner.receiver;
        }
        if let Some(root) = is_router_new(receiver) {
            calls.reverse();
            for call in &calls {
                for arg in &call.args {
                    self.visit_expr(arg);
                }
            }
            self.chains.push((root, calls));
            return;
        }
        if call.method == "bind" {
            self.port_from(call.args.first());
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_call(&mut self, call: &'a ExprCall) {
        if is_router_new_call(call) {
            self.chains.push((call, Vec::new()));
            return;
        }
        if let Expr::Path(path) = &*call.func {
            let last = path.path.segments.last().map(|s| s.ident.to_string());
            match last.as_deref() {
                Some("serve") if call.args.len() == 2 => self.serves.push(call),
                Some("bind") => self.port_from(call.args.first()),
                _ => {}
            }
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_expr_struct(&mut self, lit: &'a ExprStruct) {
        let name = lit.path.segments.last().map(|s| s.ident.to_string());
        if name.is_some() && name == self.state_name {
            self.literals.push(lit);
        }
        syn::visit::visit_expr_struct(self, lit);
    }
}

impl Finder<'_> {
    fn port_from(&mut self, arg: Option<&Expr>) {
        if let Some(Expr::Lit(lit)) = arg {
            if let syn::Lit::Str(s) = &lit.lit {
                if let Some(port) = s.value().rsplit(':').next().and_then(|p| p.parse().ok()) {
                    self.ports.push(port);
                }
            }
        }
    }
}

/// Everything found in the crate roots' top-level functions.
struct Found<'a> {
    chains: Vec<Chain<'a>>,
    literals: Vec<(FnRef<'a>, usize, &'a ExprStruct)>,
    serves: Vec<(FnRef<'a>, &'a ExprCall)>,
    ports: Vec<u16>,
}

fn find<'a>(files: &[&'a SourceFile], state_name: Option<&str>) -> Found<'a> {
    let mut found = Found {
        chains: Vec::new(),
        literals: Vec::new(),
        serves: Vec::new(),
        ports: Vec::new(),
    };
    for file in files {
        for item in &file.ast.items {
            let Item::Fn(item) = item else { continue };
            let func = FnRef { file, item };
            for (index, stmt) in item.block.stmts.iter().enumerate() {
                let mut finder = Finder {
                    state_name: state_name.map(str::to_owned),
                    chains: Vec::new(),
                    literals: Vec::new(),
                    serves: Vec::new(),
                    ports: Vec::new(),
                };
                finder.visit_stmt(stmt);
                for (root, calls) in finder.chains {
                    found.chains.push(Chain {
                        func,
                        stmt: index,
                        root,
                        calls,
                    });
                }
                found
                    .literals
                    .extend(finder.literals.into_iter().map(|l| (func, index, l)));
                found
                    .serves
                    .extend(finder.serves.into_iter().map(|s| (func, s)));
                found.ports.extend(finder.ports);
            }
        }
    }
    found
}

/// `let NAME = EXPR;` in `func` before statement `before`, the latest one.
fn let_binding<'a>(func: FnRef<'a>, name: &str, before: usize) -> Option<&'a Local> {
    func.item.block.stmts[..before]
        .iter()
        .rev()
        .find_map(|stmt| match stmt {
            Stmt::Local(local) if pat_name(&local.pat).as_deref() == Some(name) => Some(local),
            _ => None,
        })
}

fn pat_name(pat: &Pat) -> Option<String> {
    match pat {
        Pat::Ident(ident) => Some(ident.ident.to_string()),
        Pat::Type(typed) => pat_name(&typed.pat),
        _ => None,
    }
}

fn param_type<'a>(func: FnRef<'a>, name: &str) -> Option<&'a Type> {
    func.item.sig.inputs.iter().find_map(|arg| match arg {
        FnArg::Typed(typed) if pat_name(&typed.pat).as_deref() == Some(name) => Some(&*typed.ty),
        _ => None,
    })
}

/// `Name` or `Arc<Name>` as a state type.
fn state_from_type(ty: &Type) -> Option<(StateKind, String)> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident == "Arc" {
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        let Some(syn::GenericArgument::Type(inner)) = args.args.first() else {
            return None;
        };
        let (_, name) = state_from_type(inner)?;
        return Some((StateKind::Arc, name));
    }
    Some((StateKind::Struct, last.ident.to_string()))
}

/// `Name { .. }` or `Arc::new(Name { .. })` as a state expression.
fn state_from_expr(expr: &Expr) -> Option<(StateKind, String)> {
    match expr {
        Expr::Struct(lit) => Some((
            StateKind::Struct,
            lit.path.segments.last()?.ident.to_string(),
        )),
        Expr::Call(call) => {
            let Expr::Path(path) = &*call.func else {
                return None;
            };
            let segments: Vec<String> = path
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            if segments.ends_with(&["Arc".to_owned(), "new".to_owned()]) && call.args.len() == 1 {
                let (_, name) = state_from_expr(call.args.first()?)?;
                return Some((StateKind::Arc, name));
            }
            None
        }
        _ => None,
    }
}

fn find_struct<'a>(
    files: &[&'a SourceFile],
    name: &str,
) -> Option<(&'a SourceFile, &'a ItemStruct)> {
    files.iter().find_map(|file| {
        file.ast.items.iter().find_map(|item| match item {
            Item::Struct(s) if s.ident == name => Some((*file, s)),
            _ => None,
        })
    })
}

fn derives_clone(item: &ItemStruct) -> bool {
    item.attrs.iter().any(|attr| {
        attr.path().is_ident("derive")
            && attr
                .meta
                .to_token_stream()
                .into_iter()
                .any(|t| t.to_string().contains("Clone"))
    })
}

fn tokens(t: &impl ToTokens) -> String {
    t.to_token_stream().to_string()
}

fn imports_name(file: &SourceFile, name: &str) -> bool {
    fn walk(tree: &UseTree, name: &str) -> bool {
        match tree {
            UseTree::Path(p) => walk(&p.tree, name),
            UseTree::Name(n) => n.ident == name,
            UseTree::Rename(r) => r.rename == name,
            UseTree::Glob(_) => false,
            UseTree::Group(g) => g.items.iter().any(|t| walk(t, name)),
        }
    }
    file.ast.items.iter().any(|item| match item {
        Item::Use(u) => walk(&u.tree, name),
        _ => false,
    })
}

fn has_mod(file: &SourceFile, module: &str) -> bool {
    file.ast
        .items
        .iter()
        .any(|item| matches!(item, Item::Mod(m) if m.ident == module))
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

/// The analysis itself; see the module docs.
pub fn plan_wiring(
    main: Option<&SourceFile>,
    lib: Option<&SourceFile>,
    input: &WiringInput<'_>,
    snippets: &dyn Snippets,
) -> Result<Wiring, Failure> {
    let files: Vec<&SourceFile> = [main, lib].into_iter().flatten().collect();
    let first_pass = find(&files, None);
    let port = first_pass.ports.first().copied();
    let fallback_root = if main.is_some() {
        Root::Main
    } else {
        Root::Lib
    };
    let manual = |root: Root, reason: String, state: StateKind, state_name: Option<String>| {
        manual_wiring(input, snippets, root, reason, state, state_name, port)
    };

    let chain = match first_pass.chains.len() {
        1 => &first_pass.chains[0],
        0 => {
            return manual(
                fallback_root,
                "no `Router::new()` call was found in a function of src/main.rs or src/lib.rs"
                    .to_owned(),
                StateKind::None,
                None,
            );
        }
        n => {
            return manual(
                fallback_root,
                format!(
                    "{n} `Router::new()` chains were found; init cannot tell which one is served"
                ),
                StateKind::None,
                None,
            );
        }
    };
    let chain_root = chain.func.file.root;

    // What state does the router get?
    let with_state = chain.calls.iter().rev().find(|c| c.method == "with_state");
    let mut state_ident = None;
    let (state, state_name) = match with_state {
        None => (StateKind::None, None),
        Some(call) => {
            let arg = call.args.first();
            let resolved = match arg {
                Some(Expr::Path(path)) if path.path.get_ident().is_some() => {
                    let ident = path
                        .path
                        .get_ident()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    state_ident = Some(ident.clone());
                    if let Some(local) = let_binding(chain.func, &ident, chain.stmt + 1) {
                        let init = local.init.as_ref().map(|i| &*i.expr);
                        let from_init = init.and_then(state_from_expr);
                        if from_init.is_none()
                            && ident == "auth"
                            && init.is_some_and(|e| tokens(e).contains(":: init"))
                        {
                            // Wired by an earlier run: Better Auth is the state.
                            Some((StateKind::None, String::new()))
                        } else {
                            from_init
                        }
                    } else {
                        param_type(chain.func, &ident).and_then(state_from_type)
                    }
                }
                Some(expr) => state_from_expr(expr),
                None => None,
            };
            match resolved {
                Some((StateKind::None, _)) => (StateKind::None, None),
                Some((kind, name)) => (kind, Some(name)),
                None => {
                    return manual(
                        chain_root,
                        format!(
                            "the state passed to `.with_state({})` in `fn {}` is not a struct \
                             literal, `Arc::new(..)` of one, or a parameter of a named type",
                            arg.map(tokens).unwrap_or_default(),
                            chain.func.name()
                        ),
                        StateKind::None,
                        None,
                    );
                }
            }
        }
    };

    let mut edits = Vec::new();
    let mut notes = Vec::new();
    let mut pool = None;

    // Where the module lives, and where `let auth = ...` goes.
    let (home, init_fn, init_stmt);
    let mut literal_edit = None;
    if let Some(name) = &state_name {
        let Some((struct_file, item)) = find_struct(&files, name) else {
            return manual(
                chain_root,
                format!("the state type `{name}` is not defined in src/main.rs or src/lib.rs"),
                state,
                state_name.clone(),
            );
        };
        let Fields::Named(fields) = &item.fields else {
            return manual(
                struct_file.root,
                format!("`{name}` has no named fields to add `auth` to"),
                state,
                state_name.clone(),
            );
        };
        if state == StateKind::Struct && !derives_clone(item) {
            return manual(
                struct_file.root,
                format!("`{name}` does not derive Clone"),
                state,
                state_name.clone(),
            );
        }
        // A hand-written `impl FromRef<AppState> for Arc<BetterAuth>` means someone wired
        // Better Auth already; a second impl would not compile.
        let hand_wired = files
            .iter()
            .flat_map(|f| &f.ast.items)
            .any(|item| match item {
                Item::Impl(imp) => {
                    imp.trait_.as_ref().is_some_and(|(_, path, _)| {
                        path.segments.last().is_some_and(|s| s.ident == "FromRef")
                            && tokens(path).contains(name.as_str())
                    }) && tokens(&imp.self_ty).contains("BetterAuth")
                }
                _ => false,
            });
        if hand_wired {
            return manual(
                struct_file.root,
                format!("`{name}` already has a `FromRef` impl for `Arc<BetterAuth>`"),
                state,
                state_name.clone(),
            );
        }
        home = struct_file.root;
        let found = find(&files, Some(name));
        let [(func, stmt, literal)] = found.literals.as_slice() else {
            return manual(
                struct_file.root,
                format!(
                    "`{name} {{ .. }}` is built in {} places; init needs exactly one",
                    found.literals.len()
                ),
                state,
                state_name.clone(),
            );
        };
        init_fn = *func;
        init_stmt = if chain.func.same(func) {
            (*stmt).min(chain.stmt)
        } else {
            *stmt
        };
        if literal.rest.is_some() || literal.fields.is_empty() {
            return manual(
                func.file.root,
                format!("the `{name} {{ .. }}` literal uses `..` or has no fields"),
                state,
                state_name.clone(),
            );
        }

        // The field, unless an earlier run added it.
        let existing = fields
            .named
            .iter()
            .find(|f| f.ident.as_ref().is_some_and(|i| i == "auth"));
        match existing {
            Some(field) if tokens(&field.ty).contains("BetterAuth") => {}
            Some(_) => {
                return manual(
                    struct_file.root,
                    format!("`{name}` already has a field named `auth`"),
                    state,
                    state_name.clone(),
                );
            }
            None => {
                let last = fields.named.pairs().next_back().map(Pair::into_tuple);
                let Some((field, comma)) = last else {
                    return manual(
                        struct_file.root,
                        format!("`{name}` has no fields"),
                        state,
                        state_name.clone(),
                    );
                };
                let vis = match &field.vis {
                    syn::Visibility::Inherited => String::new(),
                    vis => format!("{} ", tokens(vis).replace(" (", "(")),
                };
                let text = snippets.snippet(
                    "state_field",
                    &[
                        ("vis", vis),
                        ("module_file", format!("src/{}.rs", input.module)),
                    ],
                )?;
                let field_start = struct_file.offset(field.span().start());
                let indent = struct_file.indent_at(field_start);
                let (at, lead) = match comma {
                    Some(comma) => (struct_file.offset(comma.span.end()), String::new()),
                    None => (struct_file.offset(field.span().end()), ",".to_owned()),
                };
                edits.push(Edit {
                    root: struct_file.root,
                    start: at,
                    end: at,
                    text: format!("{lead}{}", indent_lines(&text, &indent, true)),
                });
                let mut missing = Vec::new();
                if !imports_name(struct_file, "BetterAuth") {
                    missing.push("better_auth::BetterAuth");
                }
                if !imports_name(struct_file, "Arc") {
                    missing.push("std::sync::Arc");
                }
                if !missing.is_empty() {
                    let imports =
                        snippets.snippet("imports", &[("imports", missing.join("\n"))])?;
                    edits.push(import_edit(struct_file, &imports));
                }
            }
        }

        // The literal's initialiser, unless present.
        let has_auth = literal
            .fields
            .iter()
            .any(|f| matches!(&f.member, Member::Named(i) if i == "auth"));
        if !has_auth {
            literal_edit = Some((func.file, *literal));
        }

        // Reuse the app's pool when it has one for the same database.
        if let Some(pool_type) = input.pool_type {
            let pool_name = pool_type.rsplit("::").next().unwrap_or(pool_type);
            let backend = if pool_name == "SqlitePool" {
                "Sqlite"
            } else {
                "Postgres"
            };
            let pool_field = fields.named.iter().find(|f| {
                let ty = tokens(&f.ty).replace(' ', "");
                ty.ends_with(pool_name) || ty.ends_with(&format!("Pool<{backend}>"))
            });
            if let Some(field_ident) = pool_field.and_then(|f| f.ident.as_ref()) {
                let value = literal
                    .fields
                    .iter()
                    .find(|f| matches!(&f.member, Member::Named(i) if i == field_ident));
                let ident = value.and_then(|v| match &v.expr {
                    Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
                    Expr::MethodCall(m) if m.method == "clone" && m.args.is_empty() => {
                        match &*m.receiver {
                            Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
                            _ => None,
                        }
                    }
                    _ => None,
                });
                let bound = ident.as_ref().is_some_and(|ident| {
                    let_binding(init_fn, ident, init_stmt).is_some()
                        || param_type(init_fn, ident).is_some()
                });
                match ident {
                    Some(ident) if bound => {
                        pool = Some(PoolReuse {
                            type_path: pool_type,
                            arg: format!("{ident}.clone()"),
                        });
                    }
                    _ => notes.push(format!(
                        "`{name}.{field_ident}` holds a pool, but init could not see which \
                         variable it comes from; Better Auth opens its own pool from DATABASE_URL"
                    )),
                }
            }
        }
    } else {
        home = chain_root;
        init_fn = chain.func;
        init_stmt = chain.stmt;
    }

    if init_fn.item.sig.asyncness.is_none() {
        return manual(
            init_fn.file.root,
            format!(
                "`fn {}` is not async, so it cannot await Better Auth's set-up",
                init_fn.name()
            ),
            state,
            state_name.clone(),
        );
    }
    let path_from = |root: Root| {
        if root == home {
            input.module.to_owned()
        } else {
            format!("{}::{}", input.lib_crate, input.module)
        }
    };
    if home == Root::Main && (init_fn.file.root == Root::Lib || chain_root == Root::Lib) {
        return manual(
            Root::Lib,
            "the router is built in src/lib.rs but its state is defined in src/main.rs".to_owned(),
            state,
            state_name.clone(),
        );
    }

    // How the router reaches the Better Auth instance.
    let auth_expr = if chain.func.same(&init_fn) {
        "&auth".to_owned()
    } else if let (Some(ident), true) = (&state_ident, state != StateKind::None) {
        format!("&{ident}.auth")
    } else {
        return manual(
            chain_root,
            format!(
                "the router is built in `fn {}`, which cannot see the Better Auth instance",
                chain.func.name()
            ),
            state,
            state_name.clone(),
        );
    };

    // `mod auth;`
    let home_file = files
        .iter()
        .find(|f| f.root == home)
        .copied()
        .ok_or_else(|| Failure::new("internal: crate root vanished".to_owned()))?;
    if !has_mod(home_file, input.module) {
        let vis = if home == Root::Lib { "pub " } else { "" };
        let text = snippets.snippet(
            "mod_decl",
            &[("vis", vis.to_owned()), ("module", input.module.to_owned())],
        )?;
        edits.push(mod_edit(home_file, input.module, &text));
    }

    // `let auth = auth::init().await?;`
    let existing_let = init_fn.item.block.stmts.iter().find_map(|stmt| match stmt {
        Stmt::Local(local) if pat_name(&local.pat).as_deref() == Some("auth") => Some(local),
        _ => None,
    });
    let wired = match existing_let {
        Some(local)
            if local
                .init
                .as_ref()
                .is_some_and(|i| tokens(&i.expr).contains("init (")) =>
        {
            true
        }
        Some(_) => {
            return manual(
                init_fn.file.root,
                format!(
                    "`fn {}` already has a variable named `auth`",
                    init_fn.name()
                ),
                state,
                state_name.clone(),
            );
        }
        None => false,
    };
    if !wired {
        let on_error = match &init_fn.item.sig.output {
            ReturnType::Type(_, ty) => {
                let ty = tokens(ty).replace(' ', "");
                if ty.contains("Box<dyn") || ty.contains("anyhow") || ty.contains("eyre") {
                    "?"
                } else {
                    ".expect(\"Better Auth could not start\")"
                }
            }
            ReturnType::Default => ".expect(\"Better Auth could not start\")",
        };
        let text = snippets.snippet(
            "let_auth",
            &[
                ("module_file", format!("src/{}.rs", input.module)),
                (
                    "init_path",
                    format!("{}::init", path_from(init_fn.file.root)),
                ),
                (
                    "pool_arg",
                    pool.as_ref().map(|p| p.arg.clone()).unwrap_or_default(),
                ),
                ("on_error", on_error.to_owned()),
            ],
        )?;
        let stmt = &init_fn.item.block.stmts[init_stmt];
        let stmt_line = init_fn
            .file
            .line_start(init_fn.file.offset(stmt.span().start()));
        let at = init_fn.file.above_comments(stmt_line);
        let indent = init_fn.file.indent_at(at);
        // Above a commented statement, a blank line keeps the comment with its code.
        let gap = if at < stmt_line { "\n" } else { "" };
        edits.push(Edit {
            root: init_fn.file.root,
            start: at,
            end: at,
            text: format!(
                "{}\n{gap}",
                indent_lines(&text, &indent, false).trim_start_matches('\n')
            ),
        });
    }

    if let Some((file, literal)) = literal_edit {
        // Clone when the router needs `auth` after the literal took it.
        let clone = chain.func.same(&init_fn);
        let text = snippets.snippet(
            "state_init",
            &[("clone", if clone { "true" } else { "" }.to_owned())],
        )?;
        edits.push(literal_edit_for(file, literal, text.trim_end()));
    }

    // `.nest("/auth", auth::router(&auth))`, and `.with_state(auth)` without a state.
    let nested = chain.calls.iter().any(|c| {
        c.method == "nest"
            && (tokens(&c.args).contains(":: router (")
                || tokens(&c.args).contains(&format!("\"{}\"", input.mount)))
    });
    if !nested {
        let text = snippets.snippet(
            "nest",
            &[
                ("mount", input.mount.to_owned()),
                ("module_path", path_from(chain_root)),
                ("auth_expr", auth_expr.clone()),
            ],
        )?;
        let stop = chain
            .calls
            .iter()
            .position(|c| !ROUTE_METHODS.contains(&c.method.to_string().as_str()))
            .unwrap_or(chain.calls.len());
        let anchor = chain.calls[..stop]
            .iter()
            .rposition(|c| ROUTE_METHODS.contains(&c.method.to_string().as_str()));
        edits.push(chain_edit(chain, anchor, text.trim_end()));
        if state == StateKind::None && with_state.is_none() {
            let text = snippets.snippet("with_state", &[])?;
            let last = chain.calls.len().checked_sub(1);
            edits.push(chain_edit(chain, last, text.trim_end()));
        }
    }

    // Serve with peer addresses, for per-client rate limits, when the served value is
    // plainly this router.
    serve_edit(
        &first_pass,
        chain,
        init_fn,
        snippets,
        &mut edits,
        &mut notes,
    )?;

    Ok(Wiring {
        state,
        state_name,
        home,
        pool,
        port,
        outcome: Outcome::Edits(edits),
        notes,
    })
}

fn serve_edit(
    found: &Found<'_>,
    chain: &Chain<'_>,
    init_fn: FnRef<'_>,
    snippets: &dyn Snippets,
    edits: &mut Vec<Edit>,
    notes: &mut Vec<String>,
) -> Result<(), Failure> {
    let chain_returns_router = match &chain.func.item.sig.output {
        ReturnType::Type(_, ty) => {
            let ty = tokens(ty).replace(' ', "");
            ty == "Router" || ty == "Router<()>" || ty == "axum::Router"
        }
        ReturnType::Default => false,
    };
    let mut candidates = found
        .serves
        .iter()
        .filter(|(func, _)| func.same(&init_fn) || func.same(&chain.func));
    let Some((func, serve)) = candidates.next() else {
        notes.push(
            "serve the app with `.into_make_service_with_connect_info::<SocketAddr>()` so \
             Better Auth can rate-limit per client"
                .to_owned(),
        );
        return Ok(());
    };
    let served = &serve.args[1];
    let plain = match served {
        Expr::MethodCall(m) if m.method == "into_make_service_with_connect_info" => return Ok(()),
        Expr::Path(p) => p.path.get_ident().is_some_and(|ident| {
            let stmt_index = func
                .item
                .block
                .stmts
                .iter()
                .position(|s| s.span().start() >= serve.span().start())
                .unwrap_or(func.item.block.stmts.len());
            let_binding(*func, &ident.to_string(), stmt_index).is_some_and(|local| {
                let init = local.init.as_ref().map(|i| &*i.expr);
                (func.same(&chain.func)
                    && init.is_some_and(|e| e.span().start() == chain_start(chain)))
                    || init.is_some_and(|e| calls_fn(e, &chain.func) && chain_returns_router)
            })
        }),
        expr => calls_fn(expr, &chain.func) && chain_returns_router,
    };
    if !plain {
        notes.push(
            "serve the app with `.into_make_service_with_connect_info::<SocketAddr>()` so \
             Better Auth can rate-limit per client"
                .to_owned(),
        );
        return Ok(());
    }
    let file = func.file;
    let start = file.offset(served.span().start());
    let end = file.offset(served.span().end());
    let text = snippets.snippet("connect_info", &[("app", file.text[start..end].to_owned())])?;
    edits.push(Edit {
        root: file.root,
        start,
        end,
        text: text.trim_end().to_owned(),
    });
    Ok(())
}

fn chain_start(chain: &Chain<'_>) -> LineColumn {
    chain.root.span().start()
}

fn calls_fn(expr: &Expr, func: &FnRef<'_>) -> bool {
    let Expr::Call(call) = expr else { return false };
    let Expr::Path(path) = &*call.func else {
        return false;
    };
    path.path
        .segments
        .last()
        .is_some_and(|s| s.ident == func.item.sig.ident)
}

/// Indents every line of `text`; with `lead`, each line starts on a new line.
fn indent_lines(text: &str, indent: &str, lead: bool) -> String {
    let mut out = String::new();
    for (i, line) in text.trim_end().lines().enumerate() {
        if lead || i > 0 {
            out.push('\n');
        }
        if !line.is_empty() {
            out.push_str(indent);
        }
        out.push_str(line);
    }
    out
}

/// Inserts `text` (an item) into the group of `mod` declarations, sorted, or before the
/// first item.
fn mod_edit(file: &SourceFile, module: &str, text: &str) -> Edit {
    let text = text.trim_end();
    let mods: Vec<&syn::ItemMod> = file
        .ast
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Mod(m) if m.content.is_none() => Some(m),
            _ => None,
        })
        .collect();
    if let Some(after) = mods.iter().find(|m| m.ident.to_string().as_str() > module) {
        let at = file.line_start(file.offset(after.span().start()));
        return Edit {
            root: file.root,
            start: at,
            end: at,
            text: format!("{text}\n"),
        };
    }
    if let Some(last) = mods.last() {
        let at = file.line_end(file.offset(last.span().end()));
        return Edit {
            root: file.root,
            start: at,
            end: at,
            text: format!("\n{text}"),
        };
    }
    let at = file
        .ast
        .items
        .first()
        .map(|item| file.above_comments(file.line_start(file.offset(item.span().start()))))
        .unwrap_or(file.text.len());
    Edit {
        root: file.root,
        start: at,
        end: at,
        text: format!("{text}\n\n"),
    }
}

/// Adds `use` lines as their own group after the last top-level `use`.
fn import_edit(file: &SourceFile, text: &str) -> Edit {
    let text = text.trim_end();
    let last_use = file
        .ast
        .items
        .iter()
        .rfind(|item| matches!(item, Item::Use(_)));
    match last_use {
        Some(item) => {
            let at = file.line_end(file.offset(item.span().end()));
            Edit {
                root: file.root,
                start: at,
                end: at,
                text: format!("\n\n{text}"),
            }
        }
        None => {
            let at = file
                .ast
                .items
                .first()
                .map(|item| file.above_comments(file.line_start(file.offset(item.span().start()))))
                .unwrap_or(0);
            Edit {
                root: file.root,
                start: at,
                end: at,
                text: format!("{text}\n\n"),
            }
        }
    }
}

fn literal_edit_for(file: &SourceFile, literal: &ExprStruct, text: &str) -> Edit {
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
        root: file.root,
        start: at,
        end: at,
        text,
    }
}

/// Inserts a method call after call `anchor` of the chain (after `Router::new()` when None).
fn chain_edit(chain: &Chain<'_>, anchor: Option<usize>, text: &str) -> Edit {
    let file = chain.func.file;
    let end = match anchor {
        Some(i) => chain.calls[i].paren_token.span.close().end(),
        None => chain.root.paren_token.span.close().end(),
    };
    let at = file.offset(end);
    // A chain written one call per line gets one more line, indented like the others.
    let multi_line = chain
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
        root: file.root,
        start: at,
        end: at,
        text,
    }
}

#[allow(clippy::too_many_arguments)]
fn manual_wiring(
    input: &WiringInput<'_>,
    snippets: &dyn Snippets,
    root: Root,
    reason: String,
    state: StateKind,
    state_name: Option<String>,
    port: Option<u16>,
) -> Result<Wiring, Failure> {
    let module_file = format!("src/{}.rs", input.module);
    let (state, state_name) = match (state, state_name) {
        (StateKind::None, _) | (_, None) => (StateKind::None, None),
        (kind, Some(name)) => (kind, Some(name)),
    };
    let mut steps = vec![ManualStep {
        place: format!(
            "In {}, next to the other `mod` and `use` lines",
            if root == Root::Lib {
                "src/lib.rs"
            } else {
                "src/main.rs"
            }
        ),
        lines: vec![
            snippets
                .snippet(
                    "mod_decl",
                    &[
                        (
                            "vis",
                            if root == Root::Lib { "pub " } else { "" }.to_owned(),
                        ),
                        ("module", input.module.to_owned()),
                    ],
                )?
                .trim_end()
                .to_owned(),
        ],
    }];
    steps.push(ManualStep {
        place: "In the async function that builds the router, before the router".to_owned(),
        lines: snippets
            .snippet(
                "let_auth",
                &[
                    ("module_file", module_file.clone()),
                    ("init_path", format!("{}::init", input.module)),
                    ("pool_arg", String::new()),
                    ("on_error", "?".to_owned()),
                ],
            )?
            .lines()
            .map(str::to_owned)
            .collect(),
    });
    if let Some(name) = &state_name {
        steps.push(ManualStep {
            place: format!("In `struct {name}`"),
            lines: snippets
                .snippet(
                    "state_field",
                    &[("vis", String::new()), ("module_file", module_file.clone())],
                )?
                .lines()
                .map(str::to_owned)
                .collect(),
        });
        steps.push(ManualStep {
            place: format!("In the `{name} {{ .. }}` literal"),
            lines: vec![format!(
                "{},",
                snippets
                    .snippet("state_init", &[("clone", "true".to_owned())])?
                    .trim_end()
            )],
        });
    }
    let mut chain_lines = vec![
        snippets
            .snippet(
                "nest",
                &[
                    ("mount", input.mount.to_owned()),
                    ("module_path", input.module.to_owned()),
                    ("auth_expr", "&auth".to_owned()),
                ],
            )?
            .trim_end()
            .to_owned(),
    ];
    if state == StateKind::None {
        chain_lines.push(snippets.snippet("with_state", &[])?.trim_end().to_owned());
    }
    steps.push(ManualStep {
        place: "In the `Router::new()` chain, after the routes".to_owned(),
        lines: chain_lines,
    });
    Ok(Wiring {
        state,
        state_name,
        home: root,
        pool: None,
        port,
        outcome: Outcome::Manual {
            root,
            reason,
            steps,
        },
        notes: Vec::new(),
    })
}
