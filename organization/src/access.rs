//! Access control: what each role of a member may do, as Better Auth's
//! organization plugin defines it (`access/statement`), and the check every
//! route makes.

use std::collections::BTreeMap;

/// Requested permissions: resource → actions, all of which must be allowed
/// (`{"member": ["update"], "invitation": ["create"]}`).
pub type Permissions = BTreeMap<String, Vec<String>>;

/// The role organization creators get, and the only one that may hand out,
/// change or remove itself.
pub const CREATOR_ROLE: &str = "owner";

/// A role: the actions it allows on each resource.
///
/// ```
/// use better_auth_organization::access::{Permissions, Role};
///
/// let auditor = Role::new().allow("member", ["read"]).allow("invitation", ["read"]);
/// let mut wanted = Permissions::new();
/// wanted.insert("member".into(), vec!["read".into()]);
/// assert!(auditor.authorizes(&wanted));
/// wanted.insert("organization".into(), vec!["delete".into()]);
/// assert!(!auditor.authorizes(&wanted));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Role {
    statements: BTreeMap<String, Vec<String>>,
}

impl Role {
    /// A role that allows nothing.
    pub fn new() -> Self {
        Role::default()
    }

    /// Also allows `actions` on `resource`.
    pub fn allow<I, S>(mut self, resource: &str, actions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let list = self.statements.entry(resource.to_owned()).or_default();
        for action in actions {
            let action = action.into();
            if !list.contains(&action) {
                list.push(action);
            }
        }
        self
    }

    /// What the role allows: resource → actions.
    pub fn statements(&self) -> &BTreeMap<String, Vec<String>> {
        &self.statements
    }

    /// Whether the role allows every requested action on every requested
    /// resource. Nothing requested, or a resource with no actions, is
    /// refused, as Better Auth's `authorize` does.
    pub fn authorizes(&self, permissions: &Permissions) -> bool {
        !permissions.is_empty()
            && permissions.iter().all(|(resource, actions)| {
                self.statements.get(resource).is_some_and(|allowed| {
                    !actions.is_empty() && actions.iter().all(|a| allowed.contains(a))
                })
            })
    }
}

/// Better Auth's `owner`: everything, deleting the organization included.
pub fn owner() -> Role {
    Role::new()
        .allow("organization", ["update", "delete"])
        .allow("member", ["create", "update", "delete"])
        .allow("invitation", ["create", "cancel"])
        .allow("team", ["create", "update", "delete"])
        .allow("ac", ["create", "read", "update", "delete"])
}

/// Better Auth's `admin`: everything but deleting the organization.
pub fn admin() -> Role {
    Role::new()
        .allow("organization", ["update"])
        .allow("invitation", ["create", "cancel"])
        .allow("member", ["create", "update", "delete"])
        .allow("team", ["create", "update", "delete"])
        .allow("ac", ["create", "read", "update", "delete"])
}

/// Better Auth's `member`: reading roles only.
pub fn member() -> Role {
    Role::new()
        .allow("organization", Vec::<String>::new())
        .allow("member", Vec::<String>::new())
        .allow("invitation", Vec::<String>::new())
        .allow("team", Vec::<String>::new())
        .allow("ac", ["read"])
}

/// Better Auth's default roles: `owner`, `admin` and `member`.
pub fn default_roles() -> BTreeMap<String, Role> {
    BTreeMap::from([
        ("owner".to_owned(), owner()),
        ("admin".to_owned(), admin()),
        ("member".to_owned(), member()),
    ])
}

/// A stored role value split into role names: comma-separated, trimmed,
/// empty names dropped (`"admin, owner"` is `["admin", "owner"]`).
pub fn parse_role_list(roles: &str) -> Vec<&str> {
    roles
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .collect()
}

/// Whether a member whose role value is `role_list` (comma-separated) has
/// `permissions` with the roles `roles`: true when one of their roles allows
/// all of them.
pub fn has_permission_with(
    roles: &BTreeMap<String, Role>,
    role_list: &str,
    permissions: &Permissions,
) -> bool {
    parse_role_list(role_list)
        .into_iter()
        .any(|name| roles.get(name).is_some_and(|r| r.authorizes(permissions)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wants(resource: &str, actions: &[&str]) -> Permissions {
        Permissions::from([(
            resource.to_owned(),
            actions.iter().map(|a| (*a).to_owned()).collect(),
        )])
    }

    #[test]
    fn default_roles_allow_what_better_auth_allows() {
        let roles = default_roles();
        let check = |role: &str, resource: &str, actions: &[&str]| {
            has_permission_with(&roles, role, &wants(resource, actions))
        };
        assert!(check("owner", "organization", &["delete"]));
        assert!(!check("admin", "organization", &["delete"]));
        assert!(check("admin", "organization", &["update"]));
        assert!(check("admin", "member", &["create", "update", "delete"]));
        assert!(!check("member", "member", &["delete"]));
        assert!(!check("member", "invitation", &["create"]));
        assert!(check("member", "ac", &["read"]));
        // Any of several roles; unknown roles allow nothing.
        assert!(check("member, admin", "invitation", &["cancel"]));
        assert!(!check("viewer", "ac", &["read"]));
        assert!(!check("", "ac", &["read"]));
        // Nothing asked, or no actions: refused.
        assert!(!has_permission_with(&roles, "owner", &Permissions::new()));
        assert!(!check("owner", "member", &[]));
        assert!(!check("owner", "billing", &["read"]));
    }
}
