//! Access control: what each role may do, as Better Auth's access-control
//! statements (`user: ["list", "ban"]`, `session: ["revoke"]`, ...), and the
//! check of a request for permissions against a user's roles.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// The resources and actions of the admin plugin, as Better Auth's
/// `defaultStatements`: every action a role may be given.
pub const STATEMENTS: &[(&str, &[&str])] = &[
    (
        "user",
        &[
            "create",
            "list",
            "set-role",
            "ban",
            "impersonate",
            "impersonate-admins",
            "delete",
            "set-password",
            "set-email",
            "set-phone",
            "get",
            "update",
        ],
    ),
    ("session", &["list", "revoke", "delete"]),
];

/// What a role may do: for each resource, the actions allowed on it.
///
/// ```
/// use better_auth_admin::Permissions;
///
/// let support = Permissions::new()
///     .allow("user", ["list", "get"])
///     .allow("session", ["list"]);
/// assert!(support.allows("user", "get"));
/// assert!(!support.allows("user", "ban"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Permissions(BTreeMap<String, BTreeSet<String>>);

impl Permissions {
    /// Nothing allowed.
    pub fn new() -> Self {
        Permissions::default()
    }

    /// Also allows `actions` on `resource`.
    pub fn allow<I, S>(mut self, resource: &str, actions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.0
            .entry(resource.to_owned())
            .or_default()
            .extend(actions.into_iter().map(Into::into));
        self
    }

    /// Better Auth's `admin` role: every action of [`STATEMENTS`] but
    /// `impersonate-admins`.
    pub fn admin() -> Self {
        STATEMENTS
            .iter()
            .fold(Permissions::new(), |permissions, (resource, actions)| {
                permissions.allow(
                    resource,
                    actions
                        .iter()
                        .copied()
                        .filter(|action| *action != "impersonate-admins"),
                )
            })
    }

    /// Whether `action` on `resource` is allowed.
    pub fn allows(&self, resource: &str, action: &str) -> bool {
        self.0
            .get(resource)
            .is_some_and(|actions| actions.contains(action))
    }

    /// Whether every action of every resource in `request` is allowed.
    pub fn allows_all(&self, request: &[(&str, &[&str])]) -> bool {
        !request.is_empty()
            && request.iter().all(|(resource, actions)| {
                !actions.is_empty() && actions.iter().all(|a| self.allows(resource, a))
            })
    }

    /// Better Auth's `authorize` on a JSON request
    /// (`{"user": ["list"], "session": {"actions": [...], "connector": "OR"}}`):
    /// every resource must be known to the role, and all its actions allowed
    /// (or one of them, with the `OR` connector). `None` when the request is
    /// not of that shape.
    pub(crate) fn authorize_json(&self, request: &serde_json::Map<String, Value>) -> Option<bool> {
        if request.is_empty() {
            return Some(false);
        }
        let mut allowed = true;
        for (resource, asked) in request {
            let (actions, any) = match asked {
                Value::Array(actions) => (actions, false),
                Value::Object(object) => (
                    object.get("actions")?.as_array()?,
                    object.get("connector").and_then(Value::as_str) == Some("OR"),
                ),
                _ => return None,
            };
            let mut actions = actions.iter().map(|a| a.as_str());
            if actions.clone().any(|a| a.is_none()) {
                return None;
            }
            let check = |a: Option<&str>| a.is_some_and(|a| self.allows(resource, a));
            let granted = actions.len() > 0
                && if any {
                    actions.any(check)
                } else {
                    actions.all(check)
                };
            allowed &= granted;
        }
        Some(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_has_everything_but_impersonating_admins() {
        let admin = Permissions::admin();
        assert!(admin.allows_all(&[("user", &["ban", "impersonate"]), ("session", &["revoke"])]));
        assert!(!admin.allows("user", "impersonate-admins"));
        assert!(!Permissions::new().allows_all(&[("user", &["list"])]));
        assert!(!admin.allows_all(&[]));
        assert!(!admin.allows_all(&[("user", &[])]));
    }

    #[test]
    fn json_requests_follow_better_auths_rules() {
        let support = Permissions::new().allow("user", ["list"]);
        let check = |json: &str| {
            let value: serde_json::Map<String, Value> = serde_json::from_str(json).unwrap();
            support.authorize_json(&value)
        };
        assert_eq!(check(r#"{"user":["list"]}"#), Some(true));
        assert_eq!(check(r#"{"user":["list","ban"]}"#), Some(false));
        assert_eq!(
            check(r#"{"user":{"actions":["list","ban"],"connector":"OR"}}"#),
            Some(true)
        );
        assert_eq!(
            check(r#"{"user":["list"],"session":["list"]}"#),
            Some(false)
        );
        assert_eq!(check(r#"{"user":[]}"#), Some(false));
        assert_eq!(check(r#"{}"#), Some(false));
        assert_eq!(check(r#"{"user":"list"}"#), None);
        assert_eq!(check(r#"{"user":[1]}"#), None);
    }
}
