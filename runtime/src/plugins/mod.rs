//! Plugins: each is a table of routes (method, path, handler) plus options it
//! sets on the instance. Handlers are framework-free: they take an
//! [`AuthRequest`] and return an [`AuthResponse`], and reach storage through
//! the `store` API only.

use std::future::Future;
use std::pin::Pin;

use http::Method;
use serde::Deserialize;

use crate::auth::{BetterAuth, Options};
use crate::error::{Error, Result};
use crate::request::{AuthRequest, AuthResponse};
pub(crate) use crate::validation::normalize_email;

mod account_management;
pub(crate) mod core;
mod email_password;
mod password_management;
mod session_management;

pub use account_management::AccountManagementPlugin;
pub use email_password::EmailPasswordPlugin;
pub use password_management::PasswordManagementPlugin;
pub use session_management::SessionManagementPlugin;

/// The future a handler returns.
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<AuthResponse>> + Send + 'a>>;

/// A route handler: `|auth, request| Box::pin(my_handler(auth, request))`.
pub type HandlerFn = for<'a> fn(&'a BetterAuth, AuthRequest) -> HandlerFuture<'a>;

/// One mounted endpoint.
#[derive(Clone, Debug)]
pub struct Route {
    /// HTTP method.
    pub method: Method,
    /// Path relative to the mount point, with `{name}` parameters.
    pub path: &'static str,
    /// The handler.
    pub handler: HandlerFn,
    /// One-line description (used in the OpenAPI document).
    pub summary: &'static str,
}

impl Route {
    /// A route.
    pub fn new(
        method: Method,
        path: &'static str,
        summary: &'static str,
        handler: HandlerFn,
    ) -> Self {
        Route {
            method,
            path,
            handler,
            summary,
        }
    }
}

/// What plugins contribute while an instance is built.
#[derive(Default)]
pub struct PluginSetup {
    pub(crate) routes: Vec<Route>,
    pub(crate) options: Options,
}

impl PluginSetup {
    /// Mounts a route.
    pub fn route(&mut self, route: Route) -> &mut Self {
        self.routes.push(route);
        self
    }
}

/// A set of routes and options added with `BetterAuth::new(..).plugin(..)`.
pub trait Plugin: Send + Sync + 'static {
    /// A unique name (`email-password`, ...).
    fn id(&self) -> &'static str;
    /// Mounts the plugin's routes and applies its options.
    fn install(&self, setup: &mut PluginSetup);
}

/// S01/S02 with the instance's policy.
pub(crate) fn check_password(auth: &BetterAuth, password: &str) -> Result<()> {
    crate::validation::check_password(&auth.config.password, password)
}

/// A name must be present and at most 255 characters.
pub(crate) fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::Validation("[body.name] Name is required".into()));
    }
    if name.chars().count() > 255 {
        return Err(Error::Validation("[body.name] Name is too long".into()));
    }
    Ok(())
}

/// An optional image URL of bounded length.
pub(crate) fn check_image(image: Option<&str>) -> Result<()> {
    if image.is_some_and(|i| i.len() > 2048) {
        return Err(Error::Validation(
            "[body.image] Image URL is too long".into(),
        ));
    }
    Ok(())
}

/// Body of endpoints that take nothing (`{}`); anything is accepted.
#[derive(Deserialize)]
pub(crate) struct Empty {}

/// `{"status": true}`.
pub(crate) fn status_true() -> AuthResponse {
    AuthResponse::json(&serde_json::json!({ "status": true }))
}
