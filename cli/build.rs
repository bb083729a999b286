//! Embeds the SQL migrations of the top-level `migrations/` folder (through the
//! `cli/migrations` symlink), so `init` can copy them into an app's sqlx folder.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    // The real folder behind the symlink, so cargo watches what actually changes.
    let link = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let root = link.canonicalize().unwrap_or(link);
    println!("cargo:rerun-if-changed={}", root.display());
    let mut out = String::from("&[\n");
    for backend in ["sqlite", "postgres", "mysql"] {
        let dir = root.join(backend);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "sql"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        // A checkout without them (a copy that lost the `cli/migrations` symlink) would
        // build an init that cannot copy migrations: stop here instead.
        assert!(
            !files.is_empty(),
            "no {backend} migrations in {}: cli/migrations must link to the repository's \
             migrations/ folder",
            dir.display()
        );
        for file in files {
            println!("cargo:rerun-if-changed={}", file.display());
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            writeln!(
                out,
                "    ({backend:?}, {name:?}, include_str!({:?})),",
                file.display()
            )
            .unwrap();
        }
    }
    out.push(']');
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("migrations.rs");
    std::fs::write(dest, out).unwrap();
}
