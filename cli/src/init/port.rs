//! The port the app listens on in development, for `BETTER_AUTH_URL`: read off its
//! environment, its bind call, its dotenv files, its code's defaults and its configuration
//! files, in that order. Pure: works on what inspection read.

use std::collections::HashSet;

use super::envfile;
use super::inspect::{ConfigFile, Facts};
use super::source::Model;

/// Names of other services' ports and sections, which an app's configuration holds beside
/// its own (`[database] port = 5432`, `REDIS_PORT`).
const OTHER_SERVICES: [&str; 12] = [
    "db", "database", "postgres", "pg", "mysql", "mariadb", "redis", "mongo", "smtp", "mail",
    "amqp", "rabbit",
];

/// The port the app listens on: a port variable the code reads and the environment sets
/// (it wins over the code's own fallback, `var("PORT").unwrap_or("80")` with `PORT=8080` in
/// `.env`), else the port of its bind call (`bound`), else its dotenv files, its code's
/// default, its configuration files. `None` when nothing says.
pub(super) fn the_port(facts: &Facts, bound: Option<u16>) -> Option<u16> {
    let literals: HashSet<String> = facts
        .model
        .files
        .iter()
        .flat_map(|f| f.string_literals())
        .collect();
    port_the_app_reads(facts.live_env().as_deref(), &literals)
        .or(bound)
        .or_else(|| port_from_env(&facts.env_files(), &literals))
        .or_else(|| default_port(&facts.model))
        .or_else(|| port_from_config_files(&facts.config_files, &literals))
}

/// The port the app's dotenv files give it, for an app that reads it from the
/// environment (`bind(format!("0.0.0.0:{}", config.port))`): `PORT`, else a usual name
/// such as `SERVER_PORT`, else another `*_PORT` that the sources name and that is not a
/// database's or another service's.
fn port_from_env(env_files: &[String], literals: &HashSet<String>) -> Option<u16> {
    const USUAL: [&str; 6] = [
        "PORT",
        "SERVER_PORT",
        "APP_PORT",
        "HTTP_PORT",
        "API_PORT",
        "WEB_PORT",
    ];
    let value = |name: &str| {
        env_files.iter().find_map(|text| {
            envfile::value_of(text, name)
                .and_then(|v| v.parse::<u16>().ok())
                .filter(|p| *p > 0)
        })
    };
    if let Some(port) = USUAL.iter().find_map(|name| value(name)) {
        return Some(port);
    }
    env_files
        .iter()
        .flat_map(|text| envfile::keys(text))
        .filter(|name| name.ends_with("_PORT"))
        .filter(|name| the_apps_own(name, literals))
        .find_map(|name| value(&name))
}

/// Whether the variable `name` is the app's own: its sources name it (`var("PORT")`) and
/// it is not another service's (`REDIS_PORT`, `DATABASE_ADDR`).
fn the_apps_own(name: &str, literals: &HashSet<String>) -> bool {
    let lower = name.to_ascii_lowercase();
    !OTHER_SERVICES.iter().any(|other| lower.contains(other)) && literals.contains(name)
}

/// The port the app will listen on in development, read off its environment (`.env` and
/// cargo's `[env]`): a variable the sources name (`var("PORT")`, `env!("BIND_ADDR")`) holding
/// a port (`8080`) or an address with one (`127.0.0.1:8080`, `http://0.0.0.0:8080`).
fn port_the_app_reads(env: Option<&str>, literals: &HashSet<String>) -> Option<u16> {
    let env = env?;
    envfile::keys(env)
        .into_iter()
        .filter(|name| {
            let lower = name.to_ascii_lowercase();
            lower.contains("port") || lower.contains("addr") || lower.contains("listen")
        })
        .filter(|name| the_apps_own(name, literals))
        .find_map(|name| {
            let value = envfile::value_of(env, &name)?;
            let port = value
                .parse::<u16>()
                .ok()
                .or_else(|| value.rsplit(':').next()?.trim_end_matches('/').parse().ok())?;
            (port > 0).then_some(port)
        })
}

/// The port the app's configuration files give it (`config/base.yaml`,
/// `configuration/local.toml`, `config.toml`, `fly.toml`'s `internal_port`), for an app
/// that reads its port from one: the files its sources name. A `port` (or `*_port`) key
/// outside another service's section (`database:`, `[redis]`) counts; when the files
/// disagree, a local or development file wins over a base or default one, else nothing
/// is read.
fn port_from_config_files(files: &[ConfigFile], literals: &HashSet<String>) -> Option<u16> {
    const PREFERRED: [&str; 8] = [
        "local",
        "development",
        "dev",
        "default",
        "base",
        "config",
        "settings",
        "app",
    ];
    let named = |file: &ConfigFile| {
        file.file_name == "fly.toml"
            || literals.iter().any(|l| {
                l.contains(&file.file_name)
                    || *l == file.stem
                    || file.folder.is_some_and(|folder| l.starts_with(folder))
            })
    };
    let found: Vec<(&str, u16)> = files
        .iter()
        .filter(|file| named(file))
        .flat_map(|file| {
            let ports = if file.toml {
                toml_ports(&file.text)
            } else {
                yaml_ports(&file.text)
            };
            ports.into_iter().map(|p| (file.stem.as_str(), p))
        })
        .collect();
    let single = |mut ports: Vec<u16>| {
        ports.sort_unstable();
        ports.dedup();
        (ports.len() == 1).then(|| ports[0])
    };
    single(found.iter().map(|(_, p)| *p).collect()).or_else(|| {
        PREFERRED.iter().find_map(|name| {
            single(
                found
                    .iter()
                    .filter(|(stem, _)| stem == name)
                    .map(|(_, p)| *p)
                    .collect(),
            )
        })
    })
}

/// Whether `key` names the app's own port in a section named `section` (its dotted
/// path), not another service's.
fn own_port_key(section: &str, key: &str) -> bool {
    let key = key.trim().trim_matches('"').to_ascii_lowercase();
    let section = section.to_ascii_lowercase();
    (key == "port" || key.ends_with("_port"))
        && !OTHER_SERVICES
            .iter()
            .any(|other| key.contains(other) || section.split(['.', '_', '-']).any(|s| s == *other))
}

/// A port number written as a YAML scalar (`8000`, `"8000"`, `8000 # comment`).
fn port_value(value: &str) -> Option<u16> {
    let value = value.split('#').next().unwrap_or("").trim();
    value
        .trim_matches(|c| c == '"' || c == '\'')
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
}

/// The app's ports in a TOML file: `port = 8000` keys (or `"8000"`), by the tables they
/// are in.
fn toml_ports(text: &str) -> Vec<u16> {
    fn walk(table: &dyn toml_edit::TableLike, section: &str, ports: &mut Vec<u16>) {
        for (key, item) in table.iter() {
            if let Some(inner) = item.as_table_like() {
                let path = if section.is_empty() {
                    key.to_owned()
                } else {
                    format!("{section}.{key}")
                };
                walk(inner, &path, ports);
            } else if own_port_key(section, key) {
                let port = item
                    .as_integer()
                    .and_then(|n| u16::try_from(n).ok())
                    .or_else(|| item.as_str().and_then(|s| s.trim().parse().ok()));
                ports.extend(port.filter(|p| *p > 0));
            }
        }
    }
    let mut ports = Vec::new();
    if let Ok(doc) = text.parse::<toml_edit::DocumentMut>() {
        walk(doc.as_table(), "", &mut ports);
    }
    ports
}

/// The app's ports in a YAML file: `port: 8000` keys, by the keys they sit under.
fn yaml_ports(text: &str) -> Vec<u16> {
    // The enclosing keys, with their indentation.
    let mut parents: Vec<(usize, String)> = Vec::new();
    let mut ports = Vec::new();
    for line in text.lines() {
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') || content.starts_with('-') {
            continue;
        }
        let indent = line.len() - content.len();
        while parents.last().is_some_and(|(i, _)| *i >= indent) {
            parents.pop();
        }
        let Some((key, value)) = content.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() || value.starts_with('#') {
            parents.push((indent, key.trim().to_owned()));
            continue;
        }
        let section: Vec<&str> = parents.iter().map(|(_, k)| k.as_str()).collect();
        if own_port_key(&section.join("."), key) {
            ports.extend(port_value(value));
        }
    }
    ports
}

/// The port a configuration of the app defaults to, when it is the only one written:
/// a `port: 8000` field in a struct literal (`impl Default for ServerConfig`),
/// `fn default_port() -> u16 { 8000 }` (serde's `#[serde(default = "default_port")]`),
/// or a constant (`const PORT: u16 = 8000;`).
fn default_port(model: &Model) -> Option<u16> {
    use syn::visit::Visit;
    const FIELDS: [&str; 7] = [
        "port",
        "http_port",
        "server_port",
        "app_port",
        "api_port",
        "listen_port",
        "web_port",
    ];
    #[derive(Default)]
    struct Ports(Vec<u16>);
    fn int(expr: &syn::Expr) -> Option<u16> {
        match expr {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(n),
                ..
            }) => n.base10_parse().ok().filter(|p: &u16| *p > 0),
            _ => None,
        }
    }
    impl<'a> Visit<'a> for Ports {
        fn visit_field_value(&mut self, field: &'a syn::FieldValue) {
            if let syn::Member::Named(name) = &field.member {
                if FIELDS.contains(&name.to_string().as_str()) {
                    self.0.extend(int(&field.expr));
                }
            }
            syn::visit::visit_field_value(self, field);
        }
        fn visit_item_fn(&mut self, f: &'a syn::ItemFn) {
            if f.sig.ident == "default_port" {
                if let Some(syn::Stmt::Expr(tail, None)) = f.block.stmts.last() {
                    self.0.extend(int(tail));
                }
            }
            syn::visit::visit_item_fn(self, f);
        }
        // `const PORT: u16 = 3000;`, `static DEFAULT_PORT: u16 = 8080;`, wherever they
        // are declared (`bind(format!("{HOST}:{PORT}"))` reads one through a macro,
        // which init does not expand).
        fn visit_item_const(&mut self, c: &'a syn::ItemConst) {
            if port_name(&c.ident) {
                self.0.extend(int(&c.expr));
            }
            syn::visit::visit_item_const(self, c);
        }
        fn visit_item_static(&mut self, s: &'a syn::ItemStatic) {
            if port_name(&s.ident) {
                self.0.extend(int(&s.expr));
            }
            syn::visit::visit_item_static(self, s);
        }
    }
    fn port_name(ident: &syn::Ident) -> bool {
        let name = ident.to_string().to_ascii_lowercase();
        FIELDS.contains(&name.as_str()) || name == "default_port"
    }
    let mut ports = Ports::default();
    for file in &model.files {
        ports.visit_file(&file.ast);
    }
    ports.0.sort_unstable();
    ports.0.dedup();
    (ports.0.len() == 1).then(|| ports.0[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literals(names: &[&str]) -> HashSet<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_environment_wins_over_the_codes_fallback() {
        let env = "PORT=8080\nDATABASE_URL=postgres://localhost/app\n";
        assert_eq!(
            port_the_app_reads(Some(env), &literals(&["PORT"])),
            Some(8080)
        );
        // A variable the code never names is someone else's.
        assert_eq!(port_the_app_reads(Some(env), &literals(&[])), None);
        let addr = "BIND_ADDR=http://0.0.0.0:7000/\n";
        assert_eq!(
            port_the_app_reads(Some(addr), &literals(&["BIND_ADDR"])),
            Some(7000)
        );
    }

    #[test]
    fn other_services_ports_are_not_the_apps() {
        let env = ["REDIS_PORT=6379\nAPI_SERVER_PORT=9000\n".to_owned()];
        let named = literals(&["REDIS_PORT", "API_SERVER_PORT"]);
        assert_eq!(port_from_env(&env, &named), Some(9000));
    }

    #[test]
    fn toml_ports_skip_other_services_sections() {
        let text = "[database]\nport = 5432\n\n[server]\nport = 8000\nhost = \"0.0.0.0\"\n";
        assert_eq!(toml_ports(text), vec![8000]);
        assert_eq!(toml_ports("[app]\nhttp_port = \"8081\"\n"), vec![8081]);
        assert_eq!(toml_ports("not toml ["), Vec::<u16>::new());
    }

    #[test]
    fn yaml_ports_skip_other_services_sections() {
        let text = "application:\n  port: 8000 # dev\ndatabase:\n  port: 5432\n";
        assert_eq!(yaml_ports(text), vec![8000]);
    }

    #[test]
    fn a_local_config_file_wins_when_files_disagree() {
        let file = |name: &str, text: &str| ConfigFile {
            file_name: format!("{name}.yaml"),
            stem: name.to_owned(),
            folder: Some("configuration"),
            toml: false,
            text: text.to_owned(),
        };
        let files = [
            file("base", "application:\n  port: 8000\n"),
            file("local", "application:\n  port: 8001\n"),
        ];
        assert_eq!(
            port_from_config_files(&files, &literals(&["configuration"])),
            Some(8001)
        );
        // Files the sources never name are not read.
        assert_eq!(port_from_config_files(&files, &literals(&[])), None);
    }
}
