//! Cargo.toml changes, made with toml_edit so comments, order and formatting survive.

use std::path::PathBuf;

use toml_edit::{Array, DocumentMut, InlineTable, Item, Value};

use super::Failure;
use super::args::DatabaseKind;

/// Where the generated project gets the `better-auth` crate from.
#[derive(Debug, Clone)]
pub enum RuntimeSource {
    /// A path dependency (a checkout's `runtime/` folder).
    Path(PathBuf),
    /// A crates.io version requirement.
    Version(String),
}

/// The edited manifest and the `better-auth = ...` line it now holds.
pub struct ManifestEdit {
    /// The new text.
    pub text: String,
    /// The dependency line, to print.
    pub line: String,
}

/// Adds (or completes) `better-auth` and `dotenvy` in `[dependencies]`.
///
/// An existing `better-auth` entry keeps its source unless `force_source` (a flag asked
/// for one); its features are merged, never replaced.
pub fn add_dependencies(
    text: &str,
    source: &RuntimeSource,
    force_source: bool,
    database: DatabaseKind,
    needs_dotenvy: bool,
) -> Result<ManifestEdit, Failure> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|err| Failure::new(format!("Cargo.toml could not be parsed: {err}")))?;
    let deps = doc
        .entry("dependencies")
        .or_insert_with(toml_edit::table)
        .as_table_like_mut()
        .ok_or_else(|| Failure::new("[dependencies] in Cargo.toml is not a table".to_owned()))?;
    let keys: Vec<String> = deps
        .iter()
        .filter(|(_, item)| item.is_value())
        .map(|(key, _)| key.to_owned())
        .collect();
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
            let table = item.as_table_like_mut().ok_or_else(|| {
                Failure::new("the `better-auth` dependency in Cargo.toml is not a table".to_owned())
            })?;
            if force_source {
                table.remove("path");
                table.remove("version");
                table.remove("git");
                match source {
                    RuntimeSource::Path(path) => {
                        table.insert("path", toml_edit::value(path.display().to_string()))
                    }
                    RuntimeSource::Version(req) => table.insert("version", toml_edit::value(req)),
                };
            }
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
        }
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

fn set_source(table: &mut InlineTable, source: &RuntimeSource) {
    match source {
        RuntimeSource::Path(path) => {
            table.insert("path", path.display().to_string().into());
        }
        RuntimeSource::Version(req) => {
            table.insert("version", req.as_str().into());
        }
    }
}
