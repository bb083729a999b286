//! The OAuth 2.0 authorization-code flow with PKCE (RFC 6749, RFC 7636),
//! shared by every provider: the authorization URL and the code exchange.

use serde::Deserialize;

use crate::fetch::{self, FetchError};
use crate::provider::{AuthorizationRequest, Callback, ProviderError};

/// A client registered with a provider.
#[derive(Clone)]
pub(crate) struct Client {
    pub(crate) id: String,
    pub(crate) secret: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("Client")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// How the client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    /// `client_secret_basic`: HTTP Basic with the form-encoded id and secret.
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the body.
    Post,
}

/// The authorization URL: `endpoint` plus the code-flow parameters.
pub(crate) fn authorization_url(
    endpoint: &str,
    client: &Client,
    scopes: &[String],
    request: &AuthorizationRequest<'_>,
    with_nonce: bool,
) -> Result<String, ProviderError> {
    let mut url = url::Url::parse(endpoint).map_err(|e| {
        ProviderError::unavailable(format!("authorization endpoint `{endpoint}`: {e}"))
    })?;
    let mut all: Vec<&str> = scopes.iter().map(String::as_str).collect();
    for extra in request.extra_scopes {
        if !all.contains(&extra.as_str()) {
            all.push(extra);
        }
    }
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &client.id)
            .append_pair("redirect_uri", request.redirect_uri)
            .append_pair("scope", &all.join(" "))
            .append_pair("state", request.state)
            .append_pair("code_challenge", request.code_challenge)
            .append_pair("code_challenge_method", "S256");
        if with_nonce {
            query.append_pair("nonce", request.nonce);
        }
        if let Some(hint) = request.login_hint {
            query.append_pair("login_hint", hint);
        }
    }
    Ok(url.into())
}

/// A token endpoint's answer. GitHub answers errors with 200 and `error`.
#[derive(Deserialize)]
pub(crate) struct Tokens {
    pub(crate) access_token: Option<String>,
    pub(crate) id_token: Option<String>,
    /// Granted scopes: space separated (RFC 6749), comma separated (GitHub).
    pub(crate) scope: Option<String>,
    pub(crate) error: Option<String>,
}

impl Tokens {
    /// Granted scopes as a list, whichever separator the provider uses.
    pub(crate) fn scopes(&self) -> Vec<String> {
        self.scope
            .as_deref()
            .unwrap_or("")
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(fetch::short)
            .collect()
    }
}

/// Redeems an authorization code (with its PKCE verifier) at the token endpoint.
pub(crate) async fn exchange_code(
    http: &reqwest::Client,
    token_endpoint: &str,
    client: &Client,
    auth: ClientAuth,
    callback: &Callback<'_>,
) -> Result<Tokens, ProviderError> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", callback.code),
        ("redirect_uri", callback.redirect_uri),
        ("code_verifier", callback.code_verifier),
    ];
    let mut request = http.post(token_endpoint);
    match auth {
        ClientAuth::Basic => {
            // RFC 6749 §2.3.1: each part form-encoded before Basic encoding.
            let id: String = url::form_urlencoded::byte_serialize(client.id.as_bytes()).collect();
            let secret: String =
                url::form_urlencoded::byte_serialize(client.secret.as_bytes()).collect();
            request = request.basic_auth(id, Some(secret));
        }
        ClientAuth::Post => {
            form.push(("client_id", &client.id));
            form.push(("client_secret", &client.secret));
        }
    }
    let tokens: Tokens = fetch::json(request.form(&form))
        .await
        .map_err(|e| ProviderError::invalid_code(format!("token endpoint {e}")))?;
    if let Some(error) = &tokens.error {
        return Err(ProviderError::invalid_code(format!(
            "token endpoint refused the code: {}",
            fetch::short(error)
        )));
    }
    if tokens.access_token.as_deref().is_none_or(str::is_empty) {
        return Err(ProviderError::invalid_code(
            "token endpoint answered without an access token",
        ));
    }
    Ok(tokens)
}

/// A user-info request failure as a provider error.
pub(crate) fn user_info_error(what: &str, error: FetchError) -> ProviderError {
    ProviderError::user_info(format!("{what} {error}"))
}
