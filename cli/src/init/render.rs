//! Templates from the top-level `templates/` folder, embedded in the binary.

use anyhow::anyhow;
use minijinja::{Environment, UndefinedBehavior, Value};

use super::wiring::Snippets;

const TEMPLATES: &[(&str, &str)] = &[
    ("auth.rs", include_str!("../../templates/init/auth.rs.j2")),
    (
        "header.rs",
        include_str!("../../templates/init/header.rs.j2"),
    ),
    ("env", include_str!("../../templates/init/env.j2")),
    (
        "env.example",
        include_str!("../../templates/init/env.example.j2"),
    ),
    (
        "manual_steps",
        include_str!("../../templates/init/manual_steps.txt.j2"),
    ),
    (
        "mod_decl",
        include_str!("../../templates/init/snippets/mod_decl.rs.j2"),
    ),
    (
        "imports",
        include_str!("../../templates/init/snippets/imports.rs.j2"),
    ),
    (
        "let_auth",
        include_str!("../../templates/init/snippets/let_auth.rs.j2"),
    ),
    (
        "state_field",
        include_str!("../../templates/init/snippets/state_field.rs.j2"),
    ),
    (
        "state_init",
        include_str!("../../templates/init/snippets/state_init.rs.j2"),
    ),
    (
        "mount",
        include_str!("../../templates/init/snippets/mount.rs.j2"),
    ),
    (
        "with_state",
        include_str!("../../templates/init/snippets/with_state.rs.j2"),
    ),
    (
        "extension",
        include_str!("../../templates/init/snippets/extension.rs.j2"),
    ),
    (
        "connect_info",
        include_str!("../../templates/init/snippets/connect_info.rs.j2"),
    ),
];

/// The template environment.
pub(super) struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// Loads every embedded template.
    pub(super) fn new() -> Self {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .expect("embedded templates are valid");
        }
        Renderer { env }
    }

    /// Renders template `name` with `context`.
    pub(super) fn render(&self, name: &str, context: Value) -> anyhow::Result<String> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(context))
            .map_err(|err| anyhow!("internal error rendering {name}: {err:#}"))
    }
}

impl Snippets for Renderer {
    fn snippet(&self, name: &str, vars: &[(&str, String)]) -> anyhow::Result<String> {
        let mut context = std::collections::BTreeMap::new();
        for (key, value) in vars {
            if *key == "imports" {
                let list: Vec<&str> = value.lines().collect();
                context.insert(key.to_string(), Value::from_serialize(&list));
            } else {
                context.insert(key.to_string(), Value::from(value.clone()));
            }
        }
        self.render(name, Value::from_serialize(&context))
    }
}
