//! Starting a flow: `POST /sign-in/social` and `POST /link-social` check what
//! they are given, keep the flow's state, set the state cookie and answer the
//! provider's authorization URL.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use better_auth::prelude::AuthUser;
use better_auth::{AuthRequest, AuthResponse, Error, Result};
use http::{HeaderValue, StatusCode, header};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::flow::{
    FlowState, LinkTarget, STATE_LIFETIME, STATE_PURPOSE, redirect_uri, social, state_cookie_name,
};
use crate::Ctx;
use crate::provider::AuthorizationRequest;

/// S50: the longest callback URL kept with a flow, in bytes.
const MAX_URL_BYTES: usize = 2048;

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SignInSocialBody {
    /// The provider id (`github`, `google`, or an OpenID provider's id).
    provider: String,
    /// Where to go once signed in (relative, or on a trusted origin). Default: the base URL.
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
    /// Where to go on failure, with `?error=<code>`. Default: `<mount>/error`.
    #[serde(rename = "errorCallbackURL")]
    error_callback_url: Option<String>,
    /// Where a newly created user goes instead of `callbackURL`.
    #[serde(rename = "newUserCallbackURL")]
    new_user_callback_url: Option<String>,
    /// Answer the URL without `redirect: true` (the client then does not navigate).
    disable_redirect: Option<bool>,
    /// Scopes to request besides the provider's defaults.
    scopes: Option<Vec<String>>,
    /// Passed to the provider as `login_hint`.
    login_hint: Option<String>,
    /// Sign-in with a provider ID token from the browser: not supported (404).
    #[schema(value_type = Option<Object>)]
    id_token: Option<serde_json::Value>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LinkSocialBody {
    /// The provider id.
    provider: String,
    /// Where to go once linked.
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
    /// Where to go on failure, with `?error=<code>`.
    #[serde(rename = "errorCallbackURL")]
    error_callback_url: Option<String>,
    /// Answer the URL without `redirect: true`.
    disable_redirect: Option<bool>,
    /// Scopes to request besides the provider's defaults.
    scopes: Option<Vec<String>>,
    /// Passed to the provider as `login_hint`.
    login_hint: Option<String>,
    /// Linking with an ID token from the browser: not supported (404).
    #[schema(value_type = Option<Object>)]
    id_token: Option<serde_json::Value>,
    /// The current password, needed when the session is not fresh (S49).
    password: Option<String>,
}

/// `{url, redirect}`: the provider's authorization URL, and whether the
/// client should navigate there (`disableRedirect` unset).
#[derive(Serialize, ToSchema)]
pub(crate) struct AuthorizationUrl {
    url: String,
    redirect: bool,
}

/// What a flow starts with, from either body.
struct Start<'a> {
    provider: &'a str,
    callback_url: Option<&'a str>,
    error_url: Option<&'a str>,
    new_user_url: Option<&'a str>,
    disable_redirect: bool,
    scopes: &'a [String],
    login_hint: Option<&'a str>,
    id_token: bool,
    link: Option<LinkTarget>,
    /// The client starting the flow, as the rate limit counts it (S50).
    client: Option<String>,
}

pub(crate) async fn sign_in_social(ctx: &Ctx, request: AuthRequest) -> Result<AuthResponse> {
    let body: SignInSocialBody = request.json()?;
    start(
        ctx,
        Start {
            provider: &body.provider,
            callback_url: body.callback_url.as_deref(),
            error_url: body.error_callback_url.as_deref(),
            new_user_url: body.new_user_callback_url.as_deref(),
            disable_redirect: body.disable_redirect.unwrap_or(false),
            scopes: body.scopes.as_deref().unwrap_or_default(),
            login_hint: body.login_hint.as_deref(),
            id_token: body.id_token.is_some(),
            link: None,
            client: ctx.client_key(&request),
        },
    )
    .await
}

pub(crate) async fn link_social(ctx: &Ctx, request: AuthRequest) -> Result<AuthResponse> {
    let current = ctx.require_session(&request).await?;
    let body: LinkSocialBody = request.json()?;
    // S49: a stolen session cannot add a way in: the password or a fresh session.
    ctx.require_fresh_session(&current, body.password.as_deref())
        .await?;
    start(
        ctx,
        Start {
            provider: &body.provider,
            callback_url: body.callback_url.as_deref(),
            error_url: body.error_callback_url.as_deref(),
            new_user_url: None,
            disable_redirect: body.disable_redirect.unwrap_or(false),
            scopes: body.scopes.as_deref().unwrap_or_default(),
            login_hint: body.login_hint.as_deref(),
            id_token: body.id_token.is_some(),
            link: Some(LinkTarget {
                user_id: current.user.id().to_owned(),
                email: current.user.email().to_owned(),
                session_id: current.session.id.clone(),
            }),
            client: ctx.client_key(&request),
        },
    )
    .await
}

async fn start(ctx: &Ctx, start: Start<'_>) -> Result<AuthResponse> {
    let social = social(ctx)?;
    let Some(provider) = social.providers.get(start.provider) else {
        return Err(Error::plugin(
            StatusCode::NOT_FOUND,
            "PROVIDER_NOT_FOUND",
            "Provider not found",
        ));
    };
    if start.id_token {
        return Err(Error::plugin(
            StatusCode::NOT_FOUND,
            "ID_TOKEN_NOT_SUPPORTED",
            "id token not supported",
        ));
    }
    let urls = [
        ("callbackURL", start.callback_url),
        ("errorCallbackURL", start.error_url),
        ("newUserCallbackURL", start.new_user_url),
    ];
    // S50: every field kept with the flow has a bound (the rest are ours,
    // fixed-size, or the signed-in user's).
    for (field, url) in urls {
        if url.is_some_and(|url| url.len() > MAX_URL_BYTES) {
            return Err(Error::Validation(format!(
                "[body.{field}] At most {MAX_URL_BYTES} bytes"
            )));
        }
    }
    // S44 (S22): every redirect target is checked before anything is stored.
    for url in urls.into_iter().filter_map(|(_, url)| url) {
        ctx.check_redirect(url)?;
    }
    check_scopes(start.scopes)?;
    if start
        .login_hint
        .is_some_and(|h| h.len() > 256 || h.chars().any(char::is_control))
    {
        return Err(Error::Validation(
            "[body.loginHint] Invalid login hint".into(),
        ));
    }
    // S50: a client has a bounded number of flows pending at once.
    if let Some(client) = &start.client {
        let now = ctx.now();
        let expires = now + chrono::Duration::from_std(STATE_LIFETIME).unwrap_or_default();
        if let Err(retry_after) = social.pending.start(client, now, expires) {
            return Err(Error::TooManyRequests { retry_after });
        }
    }
    let code_verifier = random_text(64);
    let nonce = random_text(32);
    let flow = FlowState {
        provider: provider.id().to_owned(),
        callback_url: start
            .callback_url
            .map_or_else(|| ctx.config().base_origin(), str::to_owned),
        error_url: start.error_url.map(str::to_owned),
        new_user_url: start.new_user_url.map(str::to_owned),
        code_verifier,
        nonce,
        link: start.link,
    };
    let issued = match serde_json::to_string(&flow) {
        Ok(value) => ctx.issue_token(STATE_PURPOSE, &value, STATE_LIFETIME).await,
        Err(e) => Err(Error::Internal(e.to_string())),
    };
    let state = match issued {
        Ok(state) => state,
        Err(err) => {
            if let Some(client) = &start.client {
                social.pending.end(client);
            }
            return Err(err);
        }
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(flow.code_verifier.as_bytes()));
    let redirect_uri = redirect_uri(ctx, provider.id());
    let url = provider
        .authorization_url(AuthorizationRequest {
            state: &state,
            code_challenge: &challenge,
            nonce: &flow.nonce,
            redirect_uri: &redirect_uri,
            extra_scopes: start.scopes,
            login_hint: start.login_hint,
        })
        .await;
    let url = match url {
        Ok(url) => url,
        Err(err) => {
            // S45: a provider that cannot be reached is a 502 naming it, never a 500.
            tracing::warn!(provider = provider.id(), error = %err, "social sign-in could not start");
            ctx.consume_token(STATE_PURPOSE, &state).await?;
            if let Some(client) = &start.client {
                social.pending.end(client);
            }
            return Err(Error::plugin(
                StatusCode::BAD_GATEWAY,
                "PROVIDER_UNAVAILABLE",
                "The sign-in provider cannot be reached; try again later",
            ));
        }
    };
    let redirect = !start.disable_redirect;
    let mut response = AuthResponse::json(&AuthorizationUrl {
        url: url.clone(),
        redirect,
    });
    if redirect {
        if let Ok(location) = HeaderValue::from_str(&url) {
            response.headers.insert(header::LOCATION, location);
        }
    }
    let cookie = state_cookie_name(ctx);
    Ok(ctx.set_cookie(response, &cookie, &ctx.sign(&state), Some(STATE_LIFETIME)))
}

/// Scopes are OAuth scope tokens (RFC 6749 §3.3), a few and short.
fn check_scopes(scopes: &[String]) -> Result<()> {
    let valid = scopes.len() <= 20
        && scopes.iter().all(|s| {
            !s.is_empty()
                && s.len() <= 100
                && s.bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
        });
    if valid {
        Ok(())
    } else {
        Err(Error::Validation("[body.scopes] Invalid scopes".into()))
    }
}

/// `bytes` random bytes as unpadded base64url.
fn random_text(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_scope_tokens() {
        assert!(check_scopes(&["repo".into(), "read:org".into()]).is_ok());
        assert!(check_scopes(&["a b".into()]).is_err());
        assert!(check_scopes(&["quote\"".into()]).is_err());
        assert!(check_scopes(&[String::new()]).is_err());
    }
}
