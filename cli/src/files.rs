//! Reading a project's folders.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, at any depth (`tests/common/mod.rs` too), sorted; none
/// when `dir` does not exist.
pub(crate) fn rust_files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}
