//! `.env`, `.env.example` and `.gitignore`: merged line by line, never overwriting a value.

use minijinja::context;
use rand::Rng;
use rand::distributions::Alphanumeric;

use super::Failure;
use super::render::Renderer;

/// A variable `init` wants in `.env`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Var {
    /// Its name.
    pub name: &'static str,
    /// Its value in `.env`.
    pub value: String,
    /// Its value in `.env.example`.
    pub example: String,
}

/// A fresh secret: 64 random letters and digits from the OS-seeded generator.
pub fn new_secret() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(64)
        .map(char::from)
        .collect()
}

/// The names a dotenv file sets.
pub fn keys(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k.trim().trim_start_matches("export ").trim().to_owned())
        .collect()
}

/// The value of `name` in a dotenv file.
pub fn value_of(text: &str, name: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim().trim_start_matches("export ").trim() == name)
        .map(|(_, v)| v.trim().trim_matches('"').trim_matches('\'').to_owned())
}

/// The dotenv file with every missing variable appended (existing ones untouched).
pub fn merge(
    renderer: &Renderer,
    template: &str,
    existing: Option<&str>,
    vars: &[Var],
    example: bool,
) -> Result<String, Failure> {
    let present = existing.map(keys).unwrap_or_default();
    let missing: Vec<serde_json_like::Pair> = vars
        .iter()
        .filter(|v| !present.iter().any(|p| p == v.name))
        .map(|v| serde_json_like::Pair {
            name: v.name,
            value: if example {
                v.example.clone()
            } else {
                v.value.clone()
            },
        })
        .collect();
    let Some(existing) = existing else {
        return renderer.render(template, context! { mode => "new", vars => missing });
    };
    if missing.is_empty() {
        return Ok(existing.to_owned());
    }
    let mut out = existing.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&renderer.render(template, context! { mode => "append", vars => missing })?);
    Ok(out)
}

/// `.gitignore` with `.env` in it.
pub fn ignore_env(existing: Option<&str>) -> String {
    let ignored = existing.is_some_and(|text| {
        text.lines()
            .map(str::trim)
            .any(|l| matches!(l, ".env" | "/.env" | ".env*" | "*.env" | "/.env*"))
    });
    match existing {
        Some(text) if ignored => text.to_owned(),
        Some(text) => {
            let mut out = text.to_owned();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(".env\n");
            out
        }
        None => ".env\n".to_owned(),
    }
}

mod serde_json_like {
    /// A `NAME=value` line for the templates.
    #[derive(serde::Serialize)]
    pub struct Pair {
        pub name: &'static str,
        pub value: String,
    }
}
