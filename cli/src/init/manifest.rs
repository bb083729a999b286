//! Cargo.toml changes, made with toml_edit so comments, order and formatting survive.

use anyhow::{Context, anyhow};
use std::path::PathBuf;

use toml_edit::{Array, DocumentMut, InlineTable, Item, Value};

use super::args::DatabaseKind;

/// Where the generated project gets the `better-auth` crate from.
#[derive(Debug, Clone)]
pub(super) enum RuntimeSource {
    /// A path dependency (a checkout's `runtime/` folder).
    Path(PathBuf),
    /// A crates.io version requirement.
    Version(String),
    /// A tag of a git repository (this release of the Better Auth repository).
    Git {
        /// The repository's URL.
        url: String,
        /// The tag, e.g. `v0.9.0`.
        tag: String,
    },
}

/// The edited manifest and the `better-auth = ...` line it now holds.
pub(super) struct ManifestEdit {
    /// The new text.
    pub text: String,
    /// The dependency line, to print.
    pub line: String,
}

/// A plugin crate published beside the runtime: its package name and its folder in a
/// checkout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct PluginCrate {
    pub name: &'static str,
    pub folder: &'static str,
}

/// Social sign-in.
pub(super) const SOCIAL: PluginCrate = PluginCrate {
    name: "better-auth-social",
    folder: "social",
};

/// Two-factor authentication.
pub(super) const TWO_FACTOR: PluginCrate = PluginCrate {
    name: "better-auth-two-factor",
    folder: "two-factor",
};

/// Magic links.
pub(super) const MAGIC_LINK: PluginCrate = PluginCrate {
    name: "better-auth-magic-link",
    folder: "magic-link",
};

/// Codes by email.
pub(super) const EMAIL_OTP: PluginCrate = PluginCrate {
    name: "better-auth-email-otp",
    folder: "email-otp",
};

/// Usernames.
pub(super) const USERNAME: PluginCrate = PluginCrate {
    name: "better-auth-username",
    folder: "username",
};

/// Passkeys.
pub(super) const PASSKEY: PluginCrate = PluginCrate {
    name: "better-auth-passkey",
    folder: "passkey",
};

/// Admin tools.
pub(super) const ADMIN: PluginCrate = PluginCrate {
    name: "better-auth-admin",
    folder: "admin",
};

/// Organizations.
pub(super) const ORGANIZATION: PluginCrate = PluginCrate {
    name: "better-auth-organization",
    folder: "organization",
};

/// Adds (or completes) `better-auth` and `dotenvy` in `[dependencies]`, and each of
/// `plugins` from beside the runtime (an entry already there is kept).
///
/// An existing `better-auth` entry keeps its source unless `force_source` (a flag asked
/// for one); its features are merged, never replaced.
pub(super) fn add_dependencies(
    text: &str,
    source: &RuntimeSource,
    force_source: bool,
    database: DatabaseKind,
    needs_dotenvy: bool,
    plugins: &[PluginCrate],
) -> anyhow::Result<ManifestEdit> {
    let mut doc: DocumentMut = text.parse().context("Cargo.toml could not be parsed")?;
    let deps = doc
        .entry("dependencies")
        .or_insert_with(toml_edit::table)
        .as_table_like_mut()
        .ok_or_else(|| anyhow!("[dependencies] in Cargo.toml is not a table".to_owned()))?;
    // Every entry counts, dotted ones too (`axum.workspace = true` is a table to
    // toml_edit): an order that only looks sorted without them is the author's own.
    let keys: Vec<String> = deps.iter().map(|(key, _)| key.to_owned()).collect();
    let was_sorted = keys.windows(2).all(|w| w[0] <= w[1]);
    let wanted_features = ["axum", database.name()];

    match deps.get_mut("better-auth") {
        None => {
            let mut table = InlineTable::new();
            set_source(&mut table, source);
            table.insert("default-features", false.into());
            table.insert("features", Value::Array(Array::from_iter(wanted_features)));
            deps.insert("better-auth", Item::Value(Value::InlineTable(table)));
        }
        Some(item) => {
            if let Some(version) = item.as_str().map(str::to_owned) {
                let mut table = InlineTable::new();
                table.insert("version", version.into());
                *item = Item::Value(Value::InlineTable(table));
            }
            let not_a_table =
                || anyhow!("the `better-auth` dependency in Cargo.toml is not a table");
            let table = item.as_table_like_mut().ok_or_else(not_a_table)?;
            let features = table
                .entry("features")
                .or_insert(toml_edit::value(Array::new()));
            if let Some(array) = features.as_array_mut() {
                for feature in wanted_features {
                    if !array.iter().any(|f| f.as_str() == Some(feature)) {
                        array.push(feature);
                    }
                }
            }
            if force_source {
                change_source(item, source).ok_or_else(not_a_table)?;
            }
        }
    }
    for plugin in plugins {
        if deps.get(plugin.name).is_some() {
            continue;
        }
        let mut table = InlineTable::new();
        set_source(&mut table, &plugin_source(source, plugin));
        table.insert("default-features", false.into());
        table.insert(
            "features",
            Value::Array(Array::from_iter([database.name()])),
        );
        deps.insert(plugin.name, Item::Value(Value::InlineTable(table)));
    }
    if needs_dotenvy && deps.get("dotenvy").is_none() {
        deps.insert("dotenvy", toml_edit::value("0.15"));
    }
    if was_sorted {
        if let Some(table) = doc.get_mut("dependencies").and_then(Item::as_table_mut) {
            table.sort_values();
        }
    }
    let line = doc
        .get("dependencies")
        .and_then(|d| d.get("better-auth"))
        .map(|item| format!("better-auth = {}", item.to_string().trim()))
        .unwrap_or_default();
    Ok(ManifestEdit {
        text: doc.to_string(),
        line,
    })
}

/// Where a plugin crate comes from: its folder beside a checkout's `runtime/`, the same
/// version, or the same repository and tag.
fn plugin_source(runtime: &RuntimeSource, plugin: &PluginCrate) -> RuntimeSource {
    match runtime {
        RuntimeSource::Path(path) => RuntimeSource::Path(path.parent().map_or_else(
            || path.join("..").join(plugin.folder),
            |p| p.join(plugin.folder),
        )),
        other => other.clone(),
    }
}

/// The keys that name where a dependency comes from.
const SOURCE_KEYS: [&str; 6] = ["path", "version", "git", "tag", "branch", "rev"];

/// The source keys and values `source` is written as, in cargo's order.
fn source_keys(source: &RuntimeSource) -> Vec<(&'static str, String)> {
    match source {
        RuntimeSource::Path(path) => vec![("path", path.display().to_string())],
        RuntimeSource::Version(req) => vec![("version", req.clone())],
        RuntimeSource::Git { url, tag } => vec![("git", url.clone()), ("tag", tag.clone())],
    }
}

/// Points an existing entry at `source`. Only what differs changes, so an entry that is
/// already right stays byte-identical; new source keys go first, as cargo writes them.
fn change_source(item: &mut Item, source: &RuntimeSource) -> Option<()> {
    let wanted = source_keys(source);
    let table = item.as_table_like_mut()?;
    for other in SOURCE_KEYS {
        if !wanted.iter().any(|(key, _)| *key == other) {
            table.remove(other);
        }
    }
    let already = wanted
        .iter()
        .all(|(key, value)| table.get(key).and_then(Item::as_str) == Some(value.as_str()));
    if already {
        return Some(());
    }
    for (key, value) in &wanted {
        match table.get_mut(key).and_then(Item::as_value_mut) {
            Some(existing) => *existing = value.as_str().into(),
            None => {
                table.insert(key, toml_edit::value(value.as_str()));
            }
        }
    }
    if let Some(inline) = item.as_inline_table_mut() {
        let entries: Vec<(String, Value)> = inline
            .iter()
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect();
        let is_source = |k: &str| wanted.iter().any(|(key, _)| *key == k);
        let mut reordered = InlineTable::new();
        for (key, _) in &wanted {
            if let Some((k, v)) = entries.iter().find(|(k, _)| k == key) {
                reordered.insert(k, v.clone());
            }
        }
        for (k, v) in entries.iter().filter(|(k, _)| !is_source(k)) {
            reordered.insert(k, v.clone());
        }
        reordered.fmt();
        *inline = reordered;
    }
    Some(())
}

fn set_source(table: &mut InlineTable, source: &RuntimeSource) {
    for (key, value) in source_keys(source) {
        table.insert(key, value.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "[package]\nname = \"app\"\n\n[dependencies]\naxum = \"0.8\"\n";

    fn git() -> RuntimeSource {
        RuntimeSource::Git {
            url: "https://github.com/better-auth-rs/better-auth-axum".into(),
            tag: "v0.9.0".into(),
        }
    }

    #[test]
    fn a_members_own_order_is_kept() {
        // Not sorted once the dotted entries count: left in the author's order.
        let member = "[package]\nname = \"api\"\n\n[dependencies]\ntokio.workspace = true\naxum.workspace = true\nserde = \"1\"\n";
        let edit =
            add_dependencies(member, &git(), false, DatabaseKind::Sqlite, true, &[]).unwrap();
        let order: Vec<&str> = edit
            .text
            .lines()
            .skip_while(|l| *l != "[dependencies]")
            .skip(1)
            .map(|l| l.split([' ', '.']).next().unwrap_or_default())
            .collect();
        assert_eq!(
            order,
            ["tokio", "axum", "serde", "better-auth", "dotenvy"],
            "{}",
            edit.text
        );
        // Sorted with them: stays sorted.
        let sorted = member.replace(
            "tokio.workspace = true\naxum.workspace = true\n",
            "axum.workspace = true\n",
        );
        let edit =
            add_dependencies(&sorted, &git(), false, DatabaseKind::Sqlite, true, &[]).unwrap();
        assert!(
            edit.text.contains("axum.workspace = true\nbetter-auth = "),
            "{}",
            edit.text
        );
    }

    #[test]
    fn social_comes_from_beside_the_runtime() {
        let edit = add_dependencies(
            APP,
            &RuntimeSource::Path(PathBuf::from("/src/better-auth/runtime")),
            false,
            DatabaseKind::Sqlite,
            false,
            &[SOCIAL, TWO_FACTOR],
        )
        .unwrap();
        assert!(
            edit.text.contains(
                "better-auth-social = { path = \"/src/better-auth/social\", default-features = false, features = [\"sqlite\"] }"
            ),
            "{}",
            edit.text
        );
        assert!(
            edit.text.contains(
                "better-auth-two-factor = { path = \"/src/better-auth/two-factor\", default-features = false, features = [\"sqlite\"] }"
            ),
            "{}",
            edit.text
        );
        let edit =
            add_dependencies(APP, &git(), false, DatabaseKind::Postgres, false, &[SOCIAL]).unwrap();
        assert!(
            edit.text.contains(
                "better-auth-social = { git = \"https://github.com/better-auth-rs/better-auth-axum\", tag = \"v0.9.0\", default-features = false, features = [\"postgres\"] }"
            ),
            "{}",
            edit.text
        );
        let without =
            add_dependencies(APP, &git(), false, DatabaseKind::Postgres, false, &[]).unwrap();
        assert!(!without.text.contains("better-auth-social"));
    }

    #[test]
    fn a_git_source_is_written_with_its_tag() {
        let edit = add_dependencies(APP, &git(), false, DatabaseKind::Sqlite, true, &[]).unwrap();
        assert_eq!(
            edit.line,
            "better-auth = { git = \"https://github.com/better-auth-rs/better-auth-axum\", \
             tag = \"v0.9.0\", default-features = false, features = [\"axum\", \"sqlite\"] }"
        );
    }

    #[test]
    fn a_forced_source_replaces_the_old_one() {
        let app = format!("{APP}better-auth = {{ version = \"0.9\", features = [\"axum\"] }}\n");
        let edit =
            add_dependencies(&app, &git(), true, DatabaseKind::Postgres, false, &[]).unwrap();
        assert_eq!(
            edit.line,
            "better-auth = { git = \"https://github.com/better-auth-rs/better-auth-axum\", \
             tag = \"v0.9.0\", features = [\"axum\", \"postgres\"] }"
        );
        let back = RuntimeSource::Version("0.9".into());
        let edit =
            add_dependencies(&edit.text, &back, true, DatabaseKind::Postgres, false, &[]).unwrap();
        assert_eq!(
            edit.line,
            "better-auth = { version = \"0.9\", features = [\"axum\", \"postgres\"] }"
        );
    }
}
