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
    let literals = &facts.literals;
    port_the_app_reads(facts.live_env().as_deref(), literals)
        .or(bound)
        .or_else(|| port_from_env(&facts.env_files(), literals))
        .or_else(|| default_port(&facts.model))
        .or_else(|| port_from_config_files(&facts.config_files, literals))
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
    let found: Vec<(&str, u16)> = files
        .iter()
        .filter(|file| named_by_the_sources(file, literals))
        .flat_map(|file| ports_in(file).into_iter().map(|p| (file.stem.as_str(), p)))
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

/// One setting of a configuration file: the dotted path of the section it is in
/// (`database`, `server.http`), its key, and its value as text.
#[derive(Debug, PartialEq)]
struct Entry {
    section: String,
    key: String,
    value: String,
}

/// Every scalar setting of a configuration file, TOML or YAML.
fn entries(file: &ConfigFile) -> Vec<Entry> {
    if file.toml {
        toml_entries(&file.text)
    } else {
        yaml_entries(&file.text)
    }
}

/// The scalar settings of a TOML file, by the tables they are in.
fn toml_entries(text: &str) -> Vec<Entry> {
    fn walk(table: &dyn toml_edit::TableLike, section: &str, out: &mut Vec<Entry>) {
        for (key, item) in table.iter() {
            if let Some(inner) = item.as_table_like() {
                let path = if section.is_empty() {
                    key.to_owned()
                } else {
                    format!("{section}.{key}")
                };
                walk(inner, &path, out);
                continue;
            }
            let value = item
                .as_str()
                .map(str::to_owned)
                .or_else(|| item.as_integer().map(|n| n.to_string()));
            if let Some(value) = value {
                out.push(Entry {
                    section: section.to_owned(),
                    key: key.to_owned(),
                    value,
                });
            }
        }
    }
    let mut out = Vec::new();
    if let Ok(doc) = text.parse::<toml_edit::DocumentMut>() {
        walk(doc.as_table(), "", &mut out);
    }
    out
}

/// The scalar settings of a YAML file (`key: value` lines), by the keys they sit under.
fn yaml_entries(text: &str) -> Vec<Entry> {
    // The enclosing keys, with their indentation.
    let mut parents: Vec<(usize, String)> = Vec::new();
    let mut out = Vec::new();
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
        // A comment after a plain scalar; a quoted one keeps its `#`.
        let value = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
            _ => value.split(" #").next().unwrap_or("").trim(),
        };
        out.push(Entry {
            section: section.join("."),
            key: key.trim().trim_matches('"').to_owned(),
            value: value.to_owned(),
        });
    }
    out
}

/// The app's ports in a configuration file: `port: 8000` keys outside other services'
/// sections.
fn ports_in(file: &ConfigFile) -> Vec<u16> {
    entries(file)
        .into_iter()
        .filter(|e| own_port_key(&e.section, &e.key))
        .filter_map(|e| e.value.trim().parse::<u16>().ok())
        .filter(|p| *p > 0)
        .collect()
}

/// Whether the sources name a configuration file (`"configuration/base.yaml"`,
/// `"config.toml"`, the `"configuration"` folder, `"base"` as a stem), so it is the
/// app's; `fly.toml` always is.
fn named_by_the_sources(file: &ConfigFile, literals: &HashSet<String>) -> bool {
    file.file_name == "fly.toml"
        || literals.iter().any(|l| {
            l.contains(&file.file_name)
                || *l == file.stem
                || file.folder.is_some_and(|folder| l.starts_with(folder))
        })
}

/// The PostgreSQL database the app's configuration files describe (a `database` section
/// with `host`, `port`, `username`, `password` and `database_name`, as zero2prod-style
/// apps keep it), as a URL, with the file it came from; a `url` key in that section is
/// taken as it is. A local or development file wins over a base one.
pub(super) fn database_from_config(facts: &Facts) -> Option<(String, String)> {
    const SECTIONS: [&str; 3] = ["database", "db", "postgres"];
    let literals = &facts.literals;
    let rank = |stem: &str| match stem {
        "local" | "development" | "dev" => 0,
        "base" | "default" | "config" | "settings" | "app" => 1,
        _ => 2,
    };
    let mut files: Vec<&ConfigFile> = facts
        .config_files
        .iter()
        .filter(|f| named_by_the_sources(f, literals))
        .collect();
    files.sort_by_key(|f| rank(&f.stem));
    files
        .into_iter()
        .filter(|f| rank(&f.stem) < 2)
        .find_map(|file| {
            let entries = entries(file);
            let value = |keys: &[&str]| {
                entries
                    .iter()
                    .find(|e| {
                        SECTIONS.contains(&e.section.rsplit('.').next().unwrap_or(""))
                            && keys.contains(&e.key.as_str())
                    })
                    .map(|e| e.value.clone())
            };
            let url = value(&["url", "database_url", "uri"])
                .filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))
                .or_else(|| {
                    let host = value(&["host", "hostname"])?;
                    let name = value(&["database_name", "dbname", "name", "database"])?;
                    let port = value(&["port"]).unwrap_or_else(|| "5432".to_owned());
                    let user =
                        value(&["username", "user"]).unwrap_or_else(|| "postgres".to_owned());
                    let password = value(&["password"])
                        .filter(|p| !p.is_empty())
                        .map(|p| format!(":{}", url_escape(&p)))
                        .unwrap_or_default();
                    Some(format!(
                        "postgres://{}{password}@{host}:{port}/{name}",
                        url_escape(&user)
                    ))
                })?;
            let shown = match file.folder {
                Some(folder) => format!("{folder}/{}", file.file_name),
                None => file.file_name.clone(),
            };
            Some((url, shown))
        })
}

/// Percent-encodes what a URL's user or password cannot hold as it is.
fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
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

    fn file(name: &str, text: &str) -> ConfigFile {
        ConfigFile {
            file_name: name.to_owned(),
            stem: name.split('.').next().unwrap().to_owned(),
            folder: Some("configuration"),
            toml: name.ends_with(".toml"),
            text: text.to_owned(),
        }
    }

    #[test]
    fn toml_ports_skip_other_services_sections() {
        let text = "[database]\nport = 5432\n\n[server]\nport = 8000\nhost = \"0.0.0.0\"\n";
        assert_eq!(ports_in(&file("c.toml", text)), vec![8000]);
        let quoted = file("c.toml", "[app]\nhttp_port = \"8081\"\n");
        assert_eq!(ports_in(&quoted), vec![8081]);
        assert_eq!(ports_in(&file("c.toml", "not toml [")), Vec::<u16>::new());
    }

    #[test]
    fn yaml_ports_skip_other_services_sections() {
        let text = "application:\n  port: 8000 # dev\ndatabase:\n  port: 5432\n";
        assert_eq!(ports_in(&file("c.yaml", text)), vec![8000]);
    }

    #[test]
    fn yaml_values_keep_quoted_hashes_and_drop_comments() {
        let entries =
            yaml_entries("database:\n  password: \"pa#ss\" # dev only\n  host: db # here\n");
        let values: Vec<&str> = entries.iter().map(|e| e.value.as_str()).collect();
        assert_eq!(values, ["pa#ss", "db"]);
        assert!(entries.iter().all(|e| e.section == "database"));
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
