//! Finishing a flow: `GET /callback/{provider}` checks the state (known,
//! unused, unexpired, this browser's, this provider's) and the provider's
//! answer, then hands the identity to the sign-in or the link.

use std::time::Duration;

use better_auth::{AuthRequest, AuthResponse, Result};
use subtle::ConstantTimeEq as _;

use super::failure::{Failure, clean_code};
use super::flow::{FlowState, STATE_PURPOSE, redirect_uri, social, state_cookie_name};
use super::link::link_account;
use super::sign_in::sign_in;
use crate::Ctx;
use crate::provider::{Callback, Identity};

pub(crate) async fn callback(ctx: &Ctx, request: AuthRequest) -> Result<AuthResponse> {
    let default_error_url = ctx.config().route_url("/error");
    let outcome = finish(ctx, &request, &default_error_url).await;
    let response = outcome.unwrap_or_else(|failure| {
        tracing::warn!(
            error = failure.code,
            description = failure.description.as_deref().unwrap_or(""),
            "social sign-in failed"
        );
        failure.response()
    });
    // The state cookie has done its job, whatever the outcome.
    let cookie = state_cookie_name(ctx);
    Ok(ctx.set_cookie(response, &cookie, "", Some(Duration::ZERO)))
}

async fn finish(
    ctx: &Ctx,
    request: &AuthRequest,
    default_error_url: &str,
) -> std::result::Result<AuthResponse, Failure> {
    let Some(state) = request
        .query("state")
        .filter(|s| !s.is_empty() && s.len() <= 256)
    else {
        return Err(Failure::new(default_error_url, "state_not_found"));
    };
    let stored = ctx
        .peek_token(STATE_PURPOSE, state)
        .await
        .map_err(|e| Failure::internal(default_error_url, &e))?;
    // S40: unknown, used or expired.
    let Some(flow) = stored.and_then(|json| serde_json::from_str::<FlowState>(&json).ok()) else {
        return Err(Failure::new(default_error_url, "state_mismatch")
            .describe("this sign-in is unknown, was finished already, or took over 10 minutes"));
    };
    let error_url = flow.error_url.as_deref().unwrap_or(default_error_url);
    // S40: only the browser that started the flow may finish it (login CSRF).
    let bound = ctx
        .request_cookie(&request.headers, &state_cookie_name(ctx))
        .is_some_and(|signed| {
            ctx.verify_signed(&signed)
                .is_some_and(|value| bool::from(value.as_bytes().ct_eq(state.as_bytes())))
        });
    if !bound {
        return Err(Failure::new(error_url, "state_mismatch")
            .describe("this sign-in was started in another browser"));
    }
    // S40: single use, even when two requests race for it.
    let consumed = ctx
        .consume_token(STATE_PURPOSE, state)
        .await
        .map_err(|e| Failure::internal(error_url, &e))?;
    if consumed.is_none() {
        return Err(
            Failure::new(error_url, "state_mismatch").describe("this sign-in was finished already")
        );
    }
    // S50: the flow no longer counts against its client (when it comes back
    // from the address that started it).
    if let (Ok(social), Some(client)) = (social(ctx), ctx.client_key(request)) {
        social.pending.end(&client);
    }
    let provider_id = request
        .params
        .get("provider")
        .map(String::as_str)
        .unwrap_or("");
    // S47: a state is good for the provider it was started with only.
    if provider_id != flow.provider {
        return Err(Failure::new(error_url, "state_mismatch")
            .describe("this sign-in was started with another provider"));
    }
    if let Some(error) = request.query("error") {
        let mut failure = Failure::new(error_url, &clean_code(error));
        if let Some(description) = request.query("error_description") {
            failure = failure.describe(description.chars().take(200).collect::<String>());
        }
        return Err(failure);
    }
    let Some(code) = request
        .query("code")
        .filter(|c| !c.is_empty() && c.len() <= 2048)
    else {
        return Err(Failure::new(error_url, "no_code"));
    };
    let social = social(ctx).map_err(|e| Failure::internal(error_url, &e))?;
    let Some(provider) = social.providers.get(provider_id) else {
        return Err(Failure::new(error_url, "oauth_provider_not_found"));
    };
    // S47 (RFC 9207): the answer must come from the issuer we sent the user to.
    if let (Some(iss), Some(issuer)) = (request.query("iss"), provider.issuer()) {
        if iss.trim_end_matches('/') != issuer.trim_end_matches('/') {
            return Err(Failure::new(error_url, "issuer_mismatch"));
        }
    }
    let redirect_uri = redirect_uri(ctx, provider.id());
    let identity = provider
        .identify(Callback {
            code,
            code_verifier: &flow.code_verifier,
            nonce: &flow.nonce,
            redirect_uri: &redirect_uri,
            now: ctx.now(),
        })
        .await
        .map_err(|e| Failure::new(error_url, e.code()).describe(e.description()))?;
    match &flow.link {
        Some(link) => {
            link_account(
                ctx,
                social,
                provider.as_ref(),
                &flow,
                link,
                identity,
                error_url,
            )
            .await
        }
        None => {
            sign_in(
                ctx,
                social,
                provider.as_ref(),
                &flow,
                identity,
                request,
                error_url,
            )
            .await
        }
    }
}

/// The granted scopes as the account row keeps them.
pub(super) fn scope_text(identity: &Identity) -> Option<String> {
    (!identity.scopes.is_empty()).then(|| identity.scopes.join(","))
}

/// The provider's email, normalised, when it is a usable address.
pub(super) fn provider_email(identity: &Identity) -> Option<String> {
    identity
        .email
        .as_deref()
        .and_then(|e| better_auth::validation::normalize_email(e).ok())
}
