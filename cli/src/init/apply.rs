//! All-or-nothing writes: every file goes to a temporary sibling first, then each is
//! renamed over its target; if anything fails, what was renamed is put back.

use anyhow::{Context, anyhow};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// One file to write.
#[derive(Debug, Clone)]
pub(super) struct FileWrite {
    /// Target path.
    pub path: PathBuf,
    /// Full new content.
    pub text: String,
    /// Permission bits to force (`.env` gets 0600); otherwise an existing file keeps its
    /// own and a new one gets 0644.
    pub mode: Option<u32>,
}

/// Unix permission bits (`.env` must be 0600). On other platforms files get the
/// platform's defaults and these are no-ops.
mod perm {
    use std::fs;
    use std::path::Path;

    /// The permission bits of an existing file.
    #[cfg(unix)]
    pub(super) fn of(meta: &fs::Metadata) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o7777
    }

    #[cfg(not(unix))]
    pub fn of(_meta: &fs::Metadata) -> u32 {
        0o644
    }

    /// Whether the owner may write into this folder.
    #[cfg(unix)]
    pub(super) fn owner_writable(meta: &fs::Metadata) -> bool {
        use std::os::unix::fs::PermissionsExt;
        !meta.permissions().readonly() && meta.permissions().mode() & 0o200 != 0
    }

    #[cfg(not(unix))]
    pub fn owner_writable(meta: &fs::Metadata) -> bool {
        !meta.permissions().readonly()
    }

    /// Creates a new file (failing if it exists) with these bits from the start, so a
    /// secret is never readable by others, not even for a moment.
    pub(super) fn create_new(path: &Path, mode: u32) -> std::io::Result<fs::File> {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = mode;
        options.open(path)
    }

    /// Sets the bits (the umask may have cleared some at creation).
    #[cfg(unix)]
    pub(super) fn set(path: &Path, mode: u32) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    }

    #[cfg(not(unix))]
    pub fn set(_path: &Path, _mode: u32) -> std::io::Result<()> {
        Ok(())
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.better-auth-init.{suffix}"))
}

/// Checks that every target can be written before anything is touched.
fn preflight(writes: &[FileWrite], shown: &dyn Fn(&Path) -> String) -> anyhow::Result<()> {
    for write in writes {
        if let Ok(meta) = fs::metadata(&write.path) {
            if meta.permissions().readonly() {
                return Err(anyhow!(
                    "{} is read-only, so nothing was changed (make it writable, then run init again)",
                    shown(&write.path)
                ));
            }
        }
        let mut dir = write.path.parent();
        while let Some(d) = dir {
            if let Ok(meta) = fs::metadata(d) {
                if !perm::owner_writable(&meta) {
                    return Err(anyhow!(
                        "the folder {} is read-only, so nothing was changed",
                        shown(d)
                    ));
                }
                break;
            }
            dir = d.parent();
        }
    }
    Ok(())
}

/// Writes everything or nothing. `fail_after` simulates a failure after that many renames
/// (for tests; set through `BETTER_AUTH_INIT_FAIL_AFTER`).
pub(super) fn apply(
    writes: &[FileWrite],
    fail_after: Option<usize>,
    shown: &dyn Fn(&Path) -> String,
) -> anyhow::Result<()> {
    preflight(writes, shown)?;
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let mut temps: Vec<PathBuf> = Vec::new();
    let result = stage(writes, &mut created_dirs, &mut temps, shown)
        .and_then(|()| commit(writes, &temps, fail_after, shown));
    if result.is_err() {
        for temp in &temps {
            let _ = fs::remove_file(temp);
        }
        for dir in created_dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
    result
}

fn stage(
    writes: &[FileWrite],
    created_dirs: &mut Vec<PathBuf>,
    temps: &mut Vec<PathBuf>,
    shown: &dyn Fn(&Path) -> String,
) -> anyhow::Result<()> {
    for write in writes {
        if let Some(parent) = write.path.parent() {
            let mut missing = Vec::new();
            let mut dir = Some(parent);
            while let Some(d) = dir.filter(|d| !d.exists()) {
                missing.push(d.to_path_buf());
                dir = d.parent();
            }
            for d in missing.into_iter().rev() {
                fs::create_dir(&d)
                    .with_context(|| format!("cannot create {}; nothing was changed", shown(&d)))?;
                created_dirs.push(d);
            }
        }
        let temp = sibling(&write.path, "tmp");
        let mode = write.mode.unwrap_or_else(|| {
            fs::metadata(&write.path)
                .map(|m| perm::of(&m))
                .unwrap_or(0o644)
        });
        let mut file = perm::create_new(&temp, mode).with_context(|| {
            format!(
                "cannot write next to {}; nothing was changed",
                shown(&write.path)
            )
        })?;
        temps.push(temp.clone());
        file.write_all(write.text.as_bytes())
            .and_then(|()| file.sync_all())
            .and_then(|()| perm::set(&temp, mode))
            .with_context(|| format!("cannot write {}; nothing was changed", shown(&write.path)))?;
    }
    Ok(())
}

fn commit(
    writes: &[FileWrite],
    temps: &[PathBuf],
    fail_after: Option<usize>,
    shown: &dyn Fn(&Path) -> String,
) -> anyhow::Result<()> {
    // (target, backup if the target existed)
    let mut done: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
    let mut outcome = Ok(());
    for (write, temp) in writes.iter().zip(temps) {
        if fail_after == Some(done.len()) {
            outcome = Err(anyhow!(
                "simulated failure before writing {} (BETTER_AUTH_INIT_FAIL_AFTER); nothing was changed",
                shown(&write.path)
            ));
            break;
        }
        let backup = if write.path.exists() {
            let backup = sibling(&write.path, "bak");
            if let Err(err) = fs::rename(&write.path, &backup) {
                outcome = Err(anyhow!(
                    "cannot replace {}: {err}; nothing was changed",
                    shown(&write.path)
                ));
                break;
            }
            Some(backup)
        } else {
            None
        };
        if let Err(err) = fs::rename(temp, &write.path) {
            if let Some(backup) = &backup {
                let _ = fs::rename(backup, &write.path);
            }
            outcome = Err(anyhow!(
                "cannot write {}: {err}; nothing was changed",
                shown(&write.path)
            ));
            break;
        }
        done.push((write.path.clone(), backup));
    }
    match outcome {
        Ok(()) => {
            for (_, backup) in done {
                if let Some(backup) = backup {
                    let _ = fs::remove_file(backup);
                }
            }
            Ok(())
        }
        Err(err) => {
            for (target, backup) in done.into_iter().rev() {
                match backup {
                    Some(backup) => {
                        let _ = fs::rename(&backup, &target);
                    }
                    None => {
                        let _ = fs::remove_file(&target);
                    }
                }
            }
            Err(err)
        }
    }
}

/// How a set of files looked before init wrote them, to put back byte for byte (content
/// and permission bits) when the project no longer compiles. Files that did not exist are
/// removed again, and so are the folders init created for them.
#[derive(Debug)]
pub(super) struct Snapshot {
    files: Vec<(PathBuf, Option<Saved>)>,
    missing_dirs: Vec<PathBuf>,
}

/// A file's bytes and permission bits.
type Saved = (Vec<u8>, u32);

impl Snapshot {
    /// Records `paths` as they are now (call it before anything is written).
    pub(super) fn take<'a>(paths: impl IntoIterator<Item = &'a Path>) -> anyhow::Result<Self> {
        let mut files: Vec<(PathBuf, Option<Saved>)> = Vec::new();
        let mut missing_dirs: Vec<PathBuf> = Vec::new();
        for path in paths {
            if files.iter().any(|(p, _)| p == path) {
                continue;
            }
            let before = match fs::read(path) {
                Ok(bytes) => {
                    let mode = fs::metadata(path).map(|m| perm::of(&m)).unwrap_or(0o644);
                    Some((bytes, mode))
                }
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
                Err(err) => {
                    return Err(anyhow!(
                        "cannot read {}: {err}; nothing was changed",
                        path.display()
                    ));
                }
            };
            let mut dir = path.parent();
            while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
                if !missing_dirs.iter().any(|m| m == d) {
                    missing_dirs.push(d.to_path_buf());
                }
                dir = d.parent();
            }
            files.push((path.to_path_buf(), before));
        }
        // Deepest first, so each folder is empty by the time it is removed.
        missing_dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        Ok(Snapshot {
            files,
            missing_dirs,
        })
    }

    /// What happened to a recorded `path` since: `"created"` or `"updated"`, `None`
    /// when it is unchanged, gone, or was not recorded.
    pub(super) fn change_since(&self, path: &Path) -> Option<&'static str> {
        let (_, before) = self.files.iter().find(|(p, _)| p == path)?;
        let now = fs::read(path).ok()?;
        match before {
            None => Some("created"),
            Some((bytes, _)) if *bytes != now => Some("updated"),
            Some(_) => None,
        }
    }

    /// Puts every recorded file back; returns the ones that could not be (with why).
    pub(super) fn restore(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (path, before) in &self.files {
            let result = match before {
                Some((bytes, mode)) => restore_file(path, bytes, *mode),
                None => match fs::remove_file(path) {
                    Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
                    _ => Ok(()),
                },
            };
            if let Err(err) = result {
                problems.push(format!("{}: {err}", path.display()));
            }
        }
        for dir in &self.missing_dirs {
            // Only when empty: whatever else is in it was not written by init.
            let _ = fs::remove_dir(dir);
        }
        problems
    }
}

fn restore_file(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    if fs::read(path).ok().as_deref() == Some(bytes) {
        // Same bytes: only the mode may differ.
        return perm::set(path, mode);
    }
    let temp = sibling(path, "restore");
    let _ = fs::remove_file(&temp);
    let mut file = perm::create_new(&temp, mode)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| perm::set(&temp, mode))
        .and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}
