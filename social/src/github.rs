//! GitHub: OAuth 2.0 (not OpenID Connect), so the user comes from its REST
//! API: `GET /user` for the profile, `GET /user/emails` for which addresses
//! are verified.

use serde::Deserialize;

use crate::fetch;
use crate::oauth::{self, Client, ClientAuth};
use crate::provider::{
    AuthorizationRequest, Callback, Identity, Provider, ProviderError, ProviderFuture,
};

/// Sign in with GitHub (an OAuth App or GitHub App's client id and secret).
///
/// Register `<base URL><mount>/callback/github` (for example
/// `http://localhost:3000/auth/callback/github`) as the app's callback URL.
/// Requests the `read:user` and `user:email` scopes.
///
/// ```
/// use better_auth_social::{GitHub, SocialProvidersPlugin};
/// let plugin = SocialProvidersPlugin::new()
///     .provider(GitHub::new("client id", "client secret"));
/// ```
#[derive(Debug)]
pub struct GitHub {
    client: Client,
    scopes: Vec<String>,
    authorize_url: String,
    token_url: String,
    api_url: String,
    http: reqwest::Client,
}

impl GitHub {
    /// GitHub.com with an app's client id and secret.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        GitHub {
            client: Client {
                id: client_id.into(),
                secret: client_secret.into(),
            },
            scopes: vec!["read:user".into(), "user:email".into()],
            authorize_url: "https://github.com/login/oauth/authorize".into(),
            token_url: "https://github.com/login/oauth/access_token".into(),
            api_url: "https://api.github.com".into(),
            http: fetch::http_client(),
        }
    }

    /// GitHub Enterprise Server at `base` (`https://github.example.com`):
    /// `<base>/login/oauth/...` and the API at `<base>/api/v3`.
    pub fn enterprise(mut self, base: &str) -> Self {
        let base = base.trim_end_matches('/');
        self.authorize_url = format!("{base}/login/oauth/authorize");
        self.token_url = format!("{base}/login/oauth/access_token");
        self.api_url = format!("{base}/api/v3");
        self
    }

    /// Each endpoint given in full, for a GitHub-compatible server elsewhere
    /// (a proxy; the fake GitHub of this crate's tests): the authorization
    /// page, the token endpoint, and the REST API base (`/user` is appended).
    pub fn endpoints(mut self, authorize: &str, token: &str, api: &str) -> Self {
        self.authorize_url = authorize.into();
        self.token_url = token.into();
        self.api_url = api.trim_end_matches('/').into();
        self
    }

    /// Scopes requested besides `read:user` and `user:email`.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }
}

#[derive(Deserialize)]
struct Profile {
    id: serde_json::Value,
    login: Option<String>,
    name: Option<String>,
    email: Option<String>,
    avatar_url: Option<String>,
}

#[derive(Deserialize)]
struct Email {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

impl Provider for GitHub {
    fn id(&self) -> &str {
        "github"
    }

    fn authorization_url<'a>(
        &'a self,
        request: AuthorizationRequest<'a>,
    ) -> ProviderFuture<'a, String> {
        Box::pin(async move {
            oauth::authorization_url(
                &self.authorize_url,
                &self.client,
                &self.scopes,
                &request,
                false,
            )
        })
    }

    fn identify<'a>(&'a self, callback: Callback<'a>) -> ProviderFuture<'a, Identity> {
        Box::pin(async move {
            let tokens = oauth::exchange_code(
                &self.http,
                &self.token_url,
                &self.client,
                ClientAuth::Post,
                &callback,
            )
            .await?;
            let token = tokens.access_token.as_deref().unwrap_or_default();
            let api = |path: &str| {
                self.http
                    .get(format!("{}{path}", self.api_url))
                    .bearer_auth(token)
                    .header("x-github-api-version", "2022-11-28")
            };
            let profile: Profile = fetch::json(api("/user"))
                .await
                .map_err(|e| oauth::user_info_error("GitHub /user", e))?;
            let account_id = match &profile.id {
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::String(s) if !s.is_empty() => s.clone(),
                _ => return Err(ProviderError::user_info("GitHub /user has no id")),
            };
            // Without the user:email scope this fails; the public address, if
            // any, is then taken as unverified.
            let emails: Vec<Email> = match fetch::json(api("/user/emails")).await {
                Ok(emails) => emails,
                Err(e) => {
                    tracing::warn!(error = %e, "GitHub /user/emails failed; treating the email as unverified");
                    Vec::new()
                }
            };
            let chosen = emails
                .iter()
                .find(|e| e.primary)
                .map(|e| e.email.clone())
                .or(profile.email.clone());
            let email_verified = chosen.as_ref().is_some_and(|address| {
                emails
                    .iter()
                    .any(|e| e.verified && e.email.eq_ignore_ascii_case(address))
            });
            Ok(Identity {
                account_id,
                email: chosen,
                email_verified,
                name: profile
                    .name
                    .filter(|n| !n.trim().is_empty())
                    .or(profile.login),
                image: profile.avatar_url,
                scopes: tokens.scopes(),
            })
        })
    }
}
