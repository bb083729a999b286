//! What plugins provide to each other: values by type, given while an
//! instance is built, and the email/password plugin's verification settings
//! and mail, which other sign-in methods honour.

use std::any::{Any, TypeId};
use std::collections::HashMap;

use super::AuthContext;
use crate::models::User;

/// Values plugins provide while an instance is built, one per type
/// (see [`crate::plugins::PluginSetup::extension`]).
pub(crate) type Extensions = HashMap<TypeId, Box<dyn Any + Send + Sync>>;

impl AuthContext {
    /// The value of type `T` a plugin gave with
    /// [`PluginSetup::extension`](crate::plugins::PluginSetup::extension), if any.
    ///
    /// ```
    /// # use better_auth::AuthContext;
    /// struct Greeting(&'static str);
    ///
    /// fn greeting(ctx: &AuthContext) -> &'static str {
    ///     ctx.extension::<Greeting>().map_or("hi", |g| g.0)
    /// }
    /// ```
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.extensions
            .get(&TypeId::of::<T>())
            .and_then(|value| value.downcast_ref::<T>())
    }

    /// S48: whether the email/password plugin requires a verified address
    /// before it gives a session (`EmailPasswordPlugin::require_email_verification`);
    /// social sign-in honours it too.
    pub fn requires_email_verification(&self) -> bool {
        self.extension::<crate::plugins::EmailPasswordPlugin>()
            .is_some_and(|plugin| plugin.requires_email_verification())
    }

    /// Mails a verification link for the user's current address, in the
    /// background (S34); following it marks the address verified. `callback`
    /// is where the link leads afterwards (check it with
    /// [`AuthContext::check_redirect`] first).
    pub fn send_verification_email(&self, user: &User, callback: Option<&str>) {
        crate::plugins::account_changes::send_verification(self, user, callback);
    }
}
