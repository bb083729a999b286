//! A model of the package's Rust sources: every file reachable from `src/main.rs` and
//! `src/lib.rs` through `mod` declarations (`foo.rs`, `foo/mod.rs`, `#[path]`), parsed with
//! syn, with the functions, impl methods and structs of each module. Edits are text
//! insertions at positions syn located, so everything around them keeps the author's
//! formatting and comments.

use anyhow::anyhow;
use std::path::{Path, PathBuf};

use proc_macro2::LineColumn;
use quote::ToTokens;
use syn::{Attribute, Block, ImplItem, Item, ItemStruct, Signature, UseTree};

/// How every file `init` generates starts.
pub(super) const GENERATED_HEADER: &str = "// Written by `better-auth init` (fingerprint ";

/// Which of the package's two crate roots a file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Root {
    /// The binary crate (`src/main.rs` and its modules).
    Main,
    /// The library crate (`src/lib.rs` and its modules).
    Lib,
}

/// One parsed source file.
pub(super) struct SourceFile {
    /// Its index in [`Model::files`].
    pub id: usize,
    /// The crate it belongs to.
    pub root: Root,
    /// Its module path inside that crate (empty for the crate root).
    pub module: Vec<String>,
    /// Where it is.
    pub path: PathBuf,
    /// How it is shown to the user (relative to the package).
    pub shown: String,
    /// Its text as read.
    pub text: String,
    pub(super) ast: syn::File,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// The file's folder, and where its `mod foo;` items look: next to a
    /// crate root or a mod.rs, else in a folder named after the file.
    fn mod_dirs(&self) -> (PathBuf, PathBuf) {
        let dir = self.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let stem = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mod_dir = if self.is_root() || stem == "mod" {
            dir.clone()
        } else {
            dir.join(&stem)
        };
        (dir, mod_dir)
    }

    /// Parses `text`; a syntax error is a failure naming the file and position.
    fn parse(
        id: usize,
        root: Root,
        module: Vec<String>,
        path: &Path,
        text: String,
        shown: String,
    ) -> anyhow::Result<Self> {
        let ast = syn::parse_file(&text).map_err(|err| {
            let at = err.span().start();
            anyhow!(
                "{shown} could not be parsed as Rust (line {}, column {}: {err}), so nothing \
                 was changed; fix it so `cargo check` passes, then run init again",
                at.line,
                at.column + 1
            )
        })?;
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Ok(SourceFile {
            id,
            root,
            module,
            path: path.to_path_buf(),
            shown,
            text,
            ast,
            line_starts,
        })
    }

    /// Whether this file is a crate root.
    pub(super) fn is_root(&self) -> bool {
        self.module.is_empty()
    }

    /// The byte offset of a span position (columns count characters).
    pub(super) fn offset(&self, at: LineColumn) -> usize {
        let start = self.line_starts[at.line - 1];
        let line = &self.text[start..];
        line.char_indices()
            .nth(at.column)
            .map(|(i, _)| start + i)
            .unwrap_or(self.text.len())
    }

    /// The source text of a node, as written.
    pub(super) fn written(&self, node: &impl syn::spanned::Spanned) -> &str {
        let span = node.span();
        &self.text[self.offset(span.start())..self.offset(span.end())]
    }

    pub(super) fn line_start(&self, offset: usize) -> usize {
        self.text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0)
    }

    pub(super) fn indent_at(&self, offset: usize) -> String {
        let start = self.line_start(offset);
        self.text[start..]
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect()
    }

    /// The start of the comment lines directly above the line starting at `line_start`
    /// (a comment belongs to the code under it, so insertions go above both).
    pub(super) fn above_comments(&self, line_start: usize) -> usize {
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

    pub(super) fn line_end(&self, offset: usize) -> usize {
        self.text[offset..]
            .find('\n')
            .map(|i| offset + i)
            .unwrap_or(self.text.len())
    }

    /// Whether a top-level `use` of this file brings `name` into scope.
    pub(super) fn imports_name(&self, name: &str) -> bool {
        fn walk(tree: &UseTree, name: &str) -> bool {
            match tree {
                UseTree::Path(p) => walk(&p.tree, name),
                UseTree::Name(n) => n.ident == name,
                UseTree::Rename(r) => r.rename == name,
                UseTree::Glob(_) => false,
                UseTree::Group(g) => g.items.iter().any(|t| walk(t, name)),
            }
        }
        self.ast.items.iter().any(|item| match item {
            Item::Use(u) => walk(&u.tree, name),
            _ => false,
        })
    }

    /// Whether this file declares `mod NAME` at its top level.
    pub(super) fn has_mod(&self, module: &str) -> bool {
        self.ast
            .items
            .iter()
            .any(|item| matches!(item, Item::Mod(m) if m.ident == module))
    }
}

/// A function or an inherent method, and where it is.
#[derive(Clone, Copy)]
pub(super) struct FnRef<'a> {
    pub file: &'a SourceFile,
    /// The module path of the item (the file's, plus inline modules).
    pub module: &'a [String],
    pub sig: &'a Signature,
    pub block: &'a Block,
    /// `Some("AppState")` for a method of `impl AppState`.
    pub self_ty: Option<&'a syn::Ident>,
    pub is_test: bool,
}

impl FnRef<'_> {
    pub(super) fn same(&self, other: &FnRef<'_>) -> bool {
        std::ptr::eq(self.block, other.block)
    }

    pub(super) fn name(&self) -> String {
        match self.self_ty {
            Some(ty) => format!("{ty}::{}", self.sig.ident),
            None => self.sig.ident.to_string(),
        }
    }

    pub(super) fn is_async(&self) -> bool {
        self.sig.asyncness.is_some()
    }
}

/// A struct definition and where it is.
#[derive(Clone, Copy)]
pub(super) struct StructRef<'a> {
    pub file: &'a SourceFile,
    pub module: &'a [String],
    pub item: &'a ItemStruct,
}

/// A `Deref` impl: `impl Deref for Name { type Target = Inner; }`.
pub(super) struct DerefImpl {
    pub self_ty: String,
    pub target: String,
}

/// A `FromRef` impl someone wrote by hand.
pub(super) struct FromRefImpl {
    /// The trait's generic argument, as tokens.
    pub from: String,
    /// The implementing type, as tokens.
    pub for_ty: String,
}

/// Every parsed file of the package and the items in them.
pub(super) struct Model {
    /// The files, crate roots first.
    pub files: Vec<SourceFile>,
}

/// Whether the attributes make an item test code: `#[test]` (`#[tokio::test]`, ...),
/// or a `cfg` that only holds under `test` (`cfg(test)`, `cfg(all(test, ..))`; not
/// `cfg(not(test))`, which is the app's own code).
fn is_cfg_test(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        if attr.path().is_ident("cfg") {
            return attr
                .parse_args::<syn::Meta>()
                .is_ok_and(|meta| requires_test(&meta));
        }
        attr.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "test")
    })
}

/// Whether a `cfg` predicate can only hold in a test build.
fn requires_test(meta: &syn::Meta) -> bool {
    match meta {
        syn::Meta::Path(path) => path.is_ident("test"),
        syn::Meta::List(list) if list.path.is_ident("all") => list
            .parse_args_with(
                syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
            )
            .is_ok_and(|args| args.iter().any(requires_test)),
        // `any(test, ..)` holds outside tests too; `not(test)` only outside them.
        _ => false,
    }
}

fn path_attr(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| {
        if !attr.path().is_ident("path") {
            return None;
        }
        let syn::Meta::NameValue(nv) = &attr.meta else {
            return None;
        };
        match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        }
    })
}

/// Every string literal of a syntax tree, those inside macro calls (`format!`,
/// `json!`) too.
#[derive(Default)]
struct StringLiterals(Vec<String>);

impl StringLiterals {
    fn collect_tokens(&mut self, stream: proc_macro2::TokenStream) {
        for tree in stream {
            match tree {
                proc_macro2::TokenTree::Group(group) => self.collect_tokens(group.stream()),
                proc_macro2::TokenTree::Literal(lit) => {
                    if let Ok(syn::Lit::Str(s)) = syn::parse_str::<syn::Lit>(&lit.to_string()) {
                        self.0.push(s.value());
                    }
                }
                _ => {}
            }
        }
    }
}

/// Test code's literals are not the app's: an in-memory database or a port in a
/// `#[cfg(test)]` module says nothing of how the app runs.
impl<'a> syn::visit::Visit<'a> for StringLiterals {
    fn visit_item_mod(&mut self, item: &'a syn::ItemMod) {
        if !is_cfg_test(&item.attrs) {
            syn::visit::visit_item_mod(self, item);
        }
    }
    fn visit_item_fn(&mut self, item: &'a syn::ItemFn) {
        if !is_cfg_test(&item.attrs) {
            syn::visit::visit_item_fn(self, item);
        }
    }
    fn visit_lit_str(&mut self, lit: &'a syn::LitStr) {
        self.0.push(lit.value());
    }
    fn visit_macro(&mut self, mac: &'a syn::Macro) {
        self.collect_tokens(mac.tokens.clone());
    }
}

impl SourceFile {
    /// The values of every string literal in the file, macro arguments included.
    pub(super) fn string_literals(&self) -> impl Iterator<Item = String> {
        let mut found = StringLiterals::default();
        syn::visit::Visit::visit_file(&mut found, &self.ast);
        found.0.into_iter()
    }
}

/// The string literal passed first to the first `.method("..")` call of `ast`
/// (`.base_path("/auth")`).
pub(super) fn first_string_arg(ast: &syn::File, method: &str) -> Option<String> {
    struct Find<'m>(&'m str, Option<String>);
    impl<'a> syn::visit::Visit<'a> for Find<'_> {
        fn visit_expr_method_call(&mut self, call: &'a syn::ExprMethodCall) {
            if self.1.is_none() && call.method == self.0 {
                if let Some(syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                })) = call.args.first()
                {
                    self.1 = Some(s.value());
                }
            }
            syn::visit::visit_expr_method_call(self, call);
        }
    }
    let mut find = Find(method, None);
    syn::visit::Visit::visit_file(&mut find, ast);
    find.1
}

/// The path of a `.nest("/auth", module::router(..))` of `ast` (or
/// `crate::module::router(..)`): where an earlier run mounted Better Auth.
pub(super) fn nest_path_of(ast: &syn::File, module: &str) -> Option<String> {
    struct Find<'m>(&'m str, Option<String>);
    impl<'a> syn::visit::Visit<'a> for Find<'_> {
        fn visit_expr_method_call(&mut self, call: &'a syn::ExprMethodCall) {
            let mut args = call.args.iter();
            if let (true, Some(syn::Expr::Lit(path)), Some(syn::Expr::Call(router))) =
                (call.method == "nest", args.next(), args.next())
            {
                let ours = match &*router.func {
                    syn::Expr::Path(p) => {
                        let idents: Vec<String> = p
                            .path
                            .segments
                            .iter()
                            .map(|s| s.ident.to_string())
                            .collect();
                        idents == [self.0, "router"] || idents == ["crate", self.0, "router"]
                    }
                    _ => false,
                };
                if let (true, None, syn::Lit::Str(s)) = (ours, &self.1, &path.lit) {
                    self.1 = Some(s.value());
                }
            }
            syn::visit::visit_expr_method_call(self, call);
        }
    }
    let mut find = Find(module, None);
    syn::visit::Visit::visit_file(&mut find, ast);
    find.1
}

/// The folders `ast` serves as static files: the string literal of each
/// `ServeDir::new("..")` (`tower_http::services::ServeDir`).
pub(super) fn serve_dir_args(ast: &syn::File) -> Vec<String> {
    #[derive(Default)]
    struct Find(Vec<String>);
    impl<'a> syn::visit::Visit<'a> for Find {
        fn visit_expr_call(&mut self, call: &'a syn::ExprCall) {
            if let (syn::Expr::Path(func), Some(syn::Expr::Lit(arg))) =
                (&*call.func, call.args.first())
            {
                let segments: Vec<String> = func
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                if let (true, syn::Lit::Str(dir)) = (
                    segments.ends_with(&["ServeDir".to_owned(), "new".to_owned()]),
                    &arg.lit,
                ) {
                    self.0.push(dir.value());
                }
            }
            syn::visit::visit_expr_call(self, call);
        }
    }
    let mut find = Find::default();
    syn::visit::Visit::visit_file(&mut find, ast);
    find.0
}

/// Tokens as a string, for messages and loose comparisons.
pub(super) fn tokens(t: &impl ToTokens) -> String {
    t.to_token_stream().to_string()
}

impl Model {
    /// Parses the crate roots and every module file reachable from them.
    pub(super) fn load(
        roots: &[(Root, PathBuf, String)],
        shown: &dyn Fn(&Path) -> String,
    ) -> anyhow::Result<Model> {
        let mut model = Model { files: Vec::new() };
        for (root, path, text) in roots {
            let mut queue = vec![(path.clone(), text.clone(), Vec::<String>::new())];
            while let Some((path, text, module)) = queue.pop() {
                if model.files.len() > 500 {
                    break;
                }
                let id = model.files.len();
                let file = SourceFile::parse(id, *root, module, &path, text, shown(&path))?;
                let (dir, mod_dir) = file.mod_dirs();
                let mut found = Vec::new();
                collect_mod_files(
                    &file.ast.items,
                    &dir,
                    &mod_dir,
                    &file.module,
                    true,
                    &mut found,
                );
                model.files.push(file);
                for (path, module) in found.into_iter().rev() {
                    if model.files.iter().any(|f| f.path == path) {
                        continue;
                    }
                    // Better Auth's own module, from an earlier run, is not the app's code.
                    if let Ok(text) = std::fs::read_to_string(&path) {
                        if text.starts_with(GENERATED_HEADER) {
                            continue;
                        }
                        queue.push((path, text, module));
                    }
                }
            }
        }
        Ok(model)
    }

    /// The files of the app's `#[cfg(test)] mod x;` declarations, which the model leaves
    /// out: inspection reads them with the package's `tests/` for
    /// [`Model::test_literals_missing`].
    pub(super) fn test_module_paths(&self) -> Vec<PathBuf> {
        let mut paths = Vec::new();
        for file in &self.files {
            let (dir, mod_dir) = file.mod_dirs();
            let mut tests = Vec::new();
            collect_mod_files_of(
                &file.ast.items,
                &dir,
                &mod_dir,
                &file.module,
                true,
                true,
                &mut tests,
            );
            paths.extend(tests.into_iter().map(|(p, _)| p));
        }
        paths
    }

    /// Where test code builds a `name { .. }` literal naming every field but
    /// not `field`: `#[test]` functions and `#[cfg(test)]` modules of the app's
    /// files, and `tests` (`(file as shown, text)`: the package's `tests/` and the files
    /// of `#[cfg(test)] mod x;`). One `(file as shown, line, function)` each; files that
    /// do not parse are skipped.
    pub(super) fn test_literals_missing(
        &self,
        name: &str,
        field: &str,
        tests: &[(String, String)],
    ) -> Vec<(String, usize, String)> {
        let mut found = Vec::new();
        for func in self.functions().iter().filter(|f| f.is_test) {
            for line in literals_missing(func.block, name, field) {
                found.push((func.file.shown.clone(), line, func.sig.ident.to_string()));
            }
        }
        for (shown, text) in tests {
            let Ok(ast) = syn::parse_file(text) else {
                continue;
            };
            let mut visitor = MissingField {
                name,
                field,
                lines: Vec::new(),
                current: String::new(),
            };
            syn::visit::Visit::visit_file(&mut visitor, &ast);
            for (line, func) in visitor.lines {
                found.push((shown.clone(), line, func));
            }
        }
        found
    }

    /// The values of every string literal of the package's code, macro arguments
    /// included.
    pub(super) fn string_literals(&self) -> std::collections::HashSet<String> {
        self.files
            .iter()
            .flat_map(SourceFile::string_literals)
            .collect()
    }

    /// The crate root file of `root`.
    pub(super) fn root_file(&self, root: Root) -> Option<&SourceFile> {
        self.files.iter().find(|f| f.root == root && f.is_root())
    }

    pub(super) fn functions(&self) -> Vec<FnRef<'_>> {
        let mut out = Vec::new();
        for file in &self.files {
            collect_fns(file, &file.ast.items, &file.module, false, &mut out);
        }
        out
    }

    pub(super) fn structs(&self) -> Vec<StructRef<'_>> {
        let mut out = Vec::new();
        for file in &self.files {
            collect_structs(file, &file.ast.items, &file.module, &mut out);
        }
        out
    }

    /// Every `impl Trait for Type` of the package whose trait path ends in `name`, with
    /// the trait's last path segment.
    fn trait_impls(&self, name: &str) -> Vec<(&syn::ItemImpl, &syn::PathSegment)> {
        let mut out = Vec::new();
        for file in &self.files {
            visit_items(&file.ast.items, &mut |item| {
                let Item::Impl(imp) = item else { return };
                let Some((_, path, _)) = &imp.trait_ else {
                    return;
                };
                if let Some(last) = path.segments.last().filter(|s| s.ident == name) {
                    out.push((imp, last));
                }
            });
        }
        out
    }

    pub(super) fn deref_impls(&self) -> Vec<DerefImpl> {
        self.trait_impls("Deref")
            .into_iter()
            .filter_map(|(imp, _)| {
                let target = imp.items.iter().find_map(|i| match i {
                    ImplItem::Type(t) if t.ident == "Target" => last_type_ident(&t.ty),
                    _ => None,
                })?;
                let self_ty = last_type_ident(&imp.self_ty)?;
                Some(DerefImpl { self_ty, target })
            })
            .collect()
    }

    pub(super) fn hand_written_from_ref(&self) -> Vec<FromRefImpl> {
        self.trait_impls("FromRef")
            .into_iter()
            .map(|(imp, last)| FromRefImpl {
                from: tokens(&last.arguments).replace(' ', ""),
                for_ty: tokens(&imp.self_ty).replace(' ', ""),
            })
            .collect()
    }

    /// Every path the app may serve a route under: the literal paths of its
    /// `route` and `nest` calls, and each also under each `nest` prefix.
    pub(super) fn route_paths(&self) -> Vec<String> {
        use syn::visit::Visit;
        /// Paths given to `route`/`nest` calls, and the prefixes of `nest` calls.
        struct Paths(Vec<String>, Vec<String>);
        impl<'a> Visit<'a> for Paths {
            fn visit_expr_method_call(&mut self, call: &'a syn::ExprMethodCall) {
                let method = call.method.to_string();
                // Better Auth's own nest from an earlier run: `auth::router(&auth)`.
                // (Its merge, `.merge(auth::router(&auth))`, has no path to count.)
                let ours = method == "nest"
                    && call.args.iter().nth(1).is_some_and(|arg| {
                        let text = tokens(arg).replace(' ', "");
                        text.contains("::router(&") && text.ends_with("auth)")
                    });
                if !ours
                    && ["route", "nest", "nest_service", "route_service"].contains(&method.as_str())
                {
                    if let Some(syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    })) = call.args.first()
                    {
                        self.0.push(s.value());
                        if method.starts_with("nest") {
                            self.1.push(s.value());
                        }
                    }
                }
                syn::visit::visit_expr_method_call(self, call);
            }
        }
        let mut paths = Paths(Vec::new(), Vec::new());
        for file in &self.files {
            paths.visit_file(&file.ast);
        }
        // Routes of a router nested elsewhere are served under its prefix
        // (`.nest("/api", api())` with `.route("/auth/login", ..)` in `api()`
        // serves /api/auth/login). Which router goes where is not traced here,
        // so every path is also counted under every nest prefix: a mount
        // point is only ever refused too often, never given to a taken path.
        let Paths(literal, prefixes) = paths;
        let mut all = literal.clone();
        for prefix in &prefixes {
            for path in &literal {
                let joined = format!("{}{}", prefix.trim_end_matches('/'), path);
                if !all.contains(&joined) {
                    all.push(joined);
                }
            }
        }
        all
    }
}

fn visit_items<'a>(items: &'a [Item], f: &mut dyn FnMut(&'a Item)) {
    for item in items {
        f(item);
        if let Item::Mod(m) = item {
            if let Some((_, inner)) = &m.content {
                visit_items(inner, f);
            }
        }
    }
}

fn last_type_ident(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn collect_mod_files(
    items: &[Item],
    dir: &Path,
    mod_dir: &Path,
    module: &[String],
    top: bool,
    out: &mut Vec<(PathBuf, Vec<String>)>,
) {
    collect_mod_files_of(items, dir, mod_dir, module, top, false, out);
}

/// The files of `mod name;` items: those of the app's code, or (`tests`) only
/// those declared `#[cfg(test)]`.
fn collect_mod_files_of(
    items: &[Item],
    dir: &Path,
    mod_dir: &Path,
    module: &[String],
    top: bool,
    tests: bool,
    out: &mut Vec<(PathBuf, Vec<String>)>,
) {
    for item in items {
        let Item::Mod(m) = item else { continue };
        if is_cfg_test(&m.attrs) != tests {
            continue;
        }
        let name = m.ident.to_string();
        let mut path = module.to_vec();
        path.push(name.clone());
        match &m.content {
            Some((_, inner)) => {
                let inner_dir = mod_dir.join(&name);
                collect_mod_files_of(inner, dir, &inner_dir, &path, false, tests, out);
            }
            None => {
                let candidates = match path_attr(&m.attrs) {
                    // `#[path]` outside inline modules is relative to the file's folder.
                    Some(p) if top => vec![dir.join(p)],
                    Some(p) => vec![mod_dir.join(p)],
                    None => vec![
                        mod_dir.join(format!("{name}.rs")),
                        mod_dir.join(&name).join("mod.rs"),
                    ],
                };
                if let Some(file) = candidates.into_iter().find(|p| p.is_file()) {
                    out.push((file, path));
                }
            }
        }
    }
}

fn collect_fns<'a>(
    file: &'a SourceFile,
    items: &'a [Item],
    module: &'a [String],
    in_test: bool,
    out: &mut Vec<FnRef<'a>>,
) {
    for item in items {
        match item {
            Item::Fn(f) => out.push(FnRef {
                file,
                module,
                sig: &f.sig,
                block: &f.block,
                self_ty: None,
                is_test: in_test || is_cfg_test(&f.attrs),
            }),
            Item::Impl(imp) if imp.trait_.is_none() => {
                let Some(self_ty) = (match &*imp.self_ty {
                    syn::Type::Path(p) => p.path.segments.last().map(|s| &s.ident),
                    _ => None,
                }) else {
                    continue;
                };
                for impl_item in &imp.items {
                    if let ImplItem::Fn(f) = impl_item {
                        out.push(FnRef {
                            file,
                            module,
                            sig: &f.sig,
                            block: &f.block,
                            self_ty: Some(self_ty),
                            is_test: in_test || is_cfg_test(&f.attrs),
                        });
                    }
                }
            }
            Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    // Inline modules keep the file's module path: good enough for lookups,
                    // which go by name first.
                    collect_fns(file, inner, module, in_test || is_cfg_test(&m.attrs), out);
                }
            }
            _ => {}
        }
    }
}

fn collect_structs<'a>(
    file: &'a SourceFile,
    items: &'a [Item],
    module: &'a [String],
    out: &mut Vec<StructRef<'a>>,
) {
    for item in items {
        match item {
            Item::Struct(s) => out.push(StructRef {
                file,
                module,
                item: s,
            }),
            Item::Mod(m) if !is_cfg_test(&m.attrs) => {
                if let Some((_, inner)) = &m.content {
                    collect_structs(file, inner, module, out);
                }
            }
            _ => {}
        }
    }
}

/// One text change in a source file.
#[derive(Debug, Clone)]
pub(super) struct Edit {
    /// The file it applies to ([`SourceFile::id`]).
    pub file: usize,
    /// Replaced range start (an insertion when `start == end`).
    pub start: usize,
    /// Replaced range end.
    pub end: usize,
    /// The new text.
    pub text: String,
}

/// Applies non-overlapping edits to `text`.
pub(super) fn apply_edits(text: &str, edits: &[&Edit]) -> String {
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

/// Indents every line of `text`; with `lead`, each line starts on a new line.
pub(super) fn indent_lines(text: &str, indent: &str, lead: bool) -> String {
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

/// Inserts `text` (statements) on lines of its own above `stmt`, and above the comments
/// that belong to it, indented like it.
pub(super) fn above_statement(file: &SourceFile, stmt: &syn::Stmt, text: &str) -> Edit {
    use syn::spanned::Spanned;
    let stmt_line = file.line_start(file.offset(stmt.span().start()));
    let at = file.above_comments(stmt_line);
    let indent = file.indent_at(at);
    // Above a commented statement, a blank line keeps the comment with its code.
    let gap = if at < stmt_line { "\n" } else { "" };
    Edit {
        file: file.id,
        start: at,
        end: at,
        text: format!(
            "{}\n{gap}",
            indent_lines(text, &indent, false).trim_start_matches('\n')
        ),
    }
}

/// Inserts `text` (an item) into the group of `mod` declarations, sorted, or before the
/// first item.
pub(super) fn mod_edit(file: &SourceFile, module: &str, text: &str) -> Edit {
    use syn::spanned::Spanned;
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
    if let Some((i, after)) = mods
        .iter()
        .enumerate()
        .find(|(_, m)| m.ident.to_string().as_str() > module)
    {
        let line = file.line_start(file.offset(after.span().start()));
        // Comments above the first `mod` head the whole list (`// Modules`): the new
        // line goes below them. Above any other, they are that module's own.
        let at = if i == 0 {
            line
        } else {
            file.above_comments(line)
        };
        return Edit {
            file: file.id,
            start: at,
            end: at,
            text: format!("{text}\n"),
        };
    }
    if let Some(last) = mods.last() {
        let at = file.line_end(file.offset(last.span().end()));
        return Edit {
            file: file.id,
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
        file: file.id,
        start: at,
        end: at,
        text: format!("{text}\n\n"),
    }
}

/// Adds `use` lines as their own group after the last top-level `use`.
pub(super) fn import_edit(file: &SourceFile, text: &str) -> Edit {
    use syn::spanned::Spanned;
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
                file: file.id,
                start: at,
                end: at,
                text: format!("\n\n{text}"),
            }
        }
        None => {
            let at = file
                .ast
                .items
                .iter()
                .find(|item| !matches!(item, Item::Mod(m) if m.content.is_none()))
                .map(|item| file.above_comments(file.line_start(file.offset(item.span().start()))))
                .unwrap_or(file.text.len());
            Edit {
                file: file.id,
                start: at,
                end: at,
                text: format!("{text}\n\n"),
            }
        }
    }
}

/// The lines of `name { .. }` literals in `block` without `field` and without `..`.
fn literals_missing(block: &Block, name: &str, field: &str) -> Vec<usize> {
    let mut visitor = MissingField {
        name,
        field,
        lines: Vec::new(),
        current: String::new(),
    };
    syn::visit::Visit::visit_block(&mut visitor, block);
    visitor.lines.into_iter().map(|(line, _)| line).collect()
}

/// Finds `name { .. }` literals that lack `field`, with the enclosing function.
struct MissingField<'n> {
    name: &'n str,
    field: &'n str,
    lines: Vec<(usize, String)>,
    current: String,
}

impl<'ast> syn::visit::Visit<'ast> for MissingField<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.current = f.sig.ident.to_string();
        syn::visit::visit_item_fn(self, f);
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.current = f.sig.ident.to_string();
        syn::visit::visit_impl_item_fn(self, f);
    }
    fn visit_expr_struct(&mut self, lit: &'ast syn::ExprStruct) {
        let named = lit
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == self.name);
        let has_field = lit
            .fields
            .iter()
            .any(|f| matches!(&f.member, syn::Member::Named(i) if i == self.field));
        if named && lit.rest.is_none() && !has_field {
            let line = lit.brace_token.span.open().start().line;
            self.lines.push((line, self.current.clone()));
        }
        syn::visit::visit_expr_struct(self, lit);
    }
}
