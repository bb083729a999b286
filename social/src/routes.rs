//! The handlers: start a flow (`/sign-in/social`, `/link-social`), finish it
//! (`/callback/{provider}`), and name errors (`/error`).
//!
//! A flow's state (callback URLs, PKCE verifier, nonce, who is linking) is
//! kept server-side as a single-use token (only its digest is stored) for ten
//! minutes; the token travels as OAuth's `state` and, signed, in the
//! `better-auth.state` cookie (`__Host-better-auth.state` on https, S60), so
//! only the browser that started a flow can finish it (S40).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use better_auth::prelude::AuthUser;
use better_auth::store::accounts::NewAccount;
use better_auth::store::users::NewUser;
use better_auth::{AuthRequest, AuthResponse, Error, Result, store, validation};
use http::{HeaderValue, StatusCode, header};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;
use utoipa::ToSchema;

use crate::Ctx;
use crate::provider::{AuthorizationRequest, Callback, Identity, Provider};
use crate::state::Social;

/// `verification.identifier` prefix of flow states.
const STATE_PURPOSE: &str = "social-state";
/// How long a started sign-in may take (S40).
const STATE_LIFETIME: Duration = Duration::from_secs(600);
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

/// What a flow keeps between its start and the callback.
#[derive(Serialize, Deserialize)]
struct FlowState {
    provider: String,
    callback_url: String,
    error_url: Option<String>,
    new_user_url: Option<String>,
    code_verifier: String,
    nonce: String,
    link: Option<LinkTarget>,
}

/// The signed-in user a link flow is for, and the session that started it.
#[derive(Serialize, Deserialize)]
struct LinkTarget {
    user_id: String,
    email: String,
    session_id: String,
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

fn social(ctx: &Ctx) -> Result<&Social> {
    ctx.extension::<Social>()
        .ok_or_else(|| Error::Internal("social plugin state missing".into()))
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

fn redirect_uri(ctx: &Ctx, provider: &str) -> String {
    ctx.config().route_url(&format!("/callback/{provider}"))
}

/// `bytes` random bytes as unpadded base64url.
fn random_text(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

/// A failed flow: where to send the browser, and why.
struct Failure {
    url: String,
    code: String,
    description: Option<String>,
}

impl Failure {
    fn new(url: &str, code: &str) -> Self {
        Failure {
            url: url.to_owned(),
            code: code.to_owned(),
            description: None,
        }
    }

    fn describe(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// A database or internal error while finishing: logged, named, never a 500 (S45).
    fn internal(url: &str, err: &Error) -> Self {
        tracing::error!(error = %err, "social sign-in callback failed");
        let code = if err.status() == StatusCode::SERVICE_UNAVAILABLE {
            "service_unavailable"
        } else {
            "internal_server_error"
        };
        Failure::new(url, code)
    }

    fn response(&self) -> AuthResponse {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("error", &self.code);
        if let Some(description) = &self.description {
            query.append_pair("error_description", description);
        }
        AuthResponse::redirect(&append_query(&self.url, &query.finish()))
    }
}

/// `url` with `query` appended (before any fragment).
fn append_query(url: &str, query: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let separator = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{separator}{query}");
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// An error code from the provider's redirect, reduced to what a code can be.
fn clean_code(code: &str) -> String {
    let code: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(64)
        .collect();
    if code.is_empty() {
        "oauth_error".into()
    } else {
        code
    }
}

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

/// S60: the cookie that binds a flow to its browser: `better-auth.state` on
/// http, `__Host-better-auth.state` on https (Secure, Path=/, no Domain), so a
/// sibling subdomain cannot plant one: a `__Host-` cookie can only be set by
/// this host itself.
fn state_cookie_name(ctx: &Ctx) -> String {
    let name = ctx.cookie_name("state");
    match name.strip_prefix("__Secure-") {
        Some(rest) if ctx.config().is_secure() => format!("__Host-{rest}"),
        _ => name,
    }
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

fn scope_text(identity: &Identity) -> Option<String> {
    (!identity.scopes.is_empty()).then(|| identity.scopes.join(","))
}

/// The provider's email, normalised, when it is a usable address.
fn provider_email(identity: &Identity) -> Option<String> {
    identity
        .email
        .as_deref()
        .and_then(|e| better_auth::validation::normalize_email(e).ok())
}

/// Finishes a sign-in: the linked user, a user linked now, or a new user;
/// then a session and the redirect.
async fn sign_in(
    ctx: &Ctx,
    social: &Social,
    provider: &dyn Provider,
    flow: &FlowState,
    identity: Identity,
    request: &AuthRequest,
    error_url: &str,
) -> std::result::Result<AuthResponse, Failure> {
    let internal = |e: Error| Failure::internal(error_url, &e);
    let Some(email) = provider_email(&identity) else {
        return Err(Failure::new(error_url, "email_not_found"));
    };
    let db = ctx.database();
    let scope = scope_text(&identity);
    let account = NewAccount::new(provider.id(), &identity.account_id).scope(scope.as_deref());
    let mut created = false;
    // Twice at most: a concurrent first sign-in may create the user or the
    // account between the lookups and the insert.
    let mut user = None;
    for _ in 0..2 {
        if let Some(linked) =
            store::accounts::find_by_provider_account(db, provider.id(), &identity.account_id)
                .await
                .map_err(internal)?
        {
            let Some(owner) = store::users::find_by_id(db, &linked.user_id)
                .await
                .map_err(internal)?
            else {
                return Err(Failure::new(error_url, "unable_to_link_account"));
            };
            user = Some(owner);
            break;
        }
        if let Some(existing) = store::users::find_by_email(db, &email)
            .await
            .map_err(internal)?
        {
            // S43: an address the provider does not vouch for never opens an
            // existing account, nor does one whose owner never proved it.
            if !identity.email_verified || !existing.email_verified {
                return Err(Failure::new(error_url, "account_not_linked").describe(
                    "a user with this email exists; sign in and link the account instead",
                ));
            }
            match store::accounts::create(db, &existing.id, &account, ctx.now())
                .await
                .map_err(internal)?
            {
                Some(_) => {
                    user = Some(existing);
                    break;
                }
                None => continue,
            }
        }
        if social.options.disable_sign_up {
            return Err(Failure::new(error_url, "signup_disabled"));
        }
        // S56: the provider's name without control or bidi formatting characters,
        // its picture only when it is an http(s) URL the sign-up rules accept.
        let printable = |n: &str| -> String {
            n.chars()
                .filter(|c| !c.is_control() && !validation::is_bidi_control(*c))
                .collect()
        };
        let name = identity
            .name
            .as_deref()
            .map(printable)
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| printable(email.split('@').next().unwrap_or_default()));
        let name: String = name.trim().chars().take(255).collect();
        let image = identity
            .image
            .as_deref()
            .filter(|i| validation::check_image(Some(i)).is_ok());
        match store::users::create_with_account(
            db,
            NewUser::new(&name, &email)
                .image(image)
                .email_verified(identity.email_verified),
            &account,
            ctx.now(),
        )
        .await
        {
            Ok(new_user) => {
                created = true;
                user = Some(new_user);
                break;
            }
            // A concurrent sign-in created the user or the account: look again.
            Err(Error::UserAlreadyExists) => {}
            Err(e) => return Err(internal(e)),
        }
    }
    let Some(mut user) = user else {
        return Err(Failure::new(error_url, "unable_to_create_user"));
    };
    if identity.email_verified && !user.email_verified && user.email == email {
        store::users::mark_email_verified(db, &user.id, ctx.now())
            .await
            .map_err(internal)?;
        user.email_verified = true;
    }
    // S48: with `require_email_verification`, an address nobody has proven
    // gets no session, whoever the provider says it is (as Better Auth:
    // `?error=email_not_verified`); a new user is sent the verification link.
    if ctx.requires_email_verification() && !user.email_verified {
        if created {
            ctx.send_verification_email(&user, Some(&flow.callback_url));
        }
        return Err(Failure::new(error_url, "email_not_verified")
            .describe("confirm the email address with the link sent to it, then sign in again"));
    }
    let (_, token) = ctx.create_session(&user, request).await.map_err(internal)?;
    let target = match (&flow.new_user_url, created) {
        (Some(url), true) => url.as_str(),
        _ => flow.callback_url.as_str(),
    };
    Ok(ctx.with_session_cookie(AuthResponse::redirect(target), &token, true))
}

/// Finishes a link flow: the provider account joins the signed-in user.
async fn link_account(
    ctx: &Ctx,
    social: &Social,
    provider: &dyn Provider,
    flow: &FlowState,
    link: &LinkTarget,
    identity: Identity,
    error_url: &str,
) -> std::result::Result<AuthResponse, Failure> {
    let internal = |e: Error| Failure::internal(error_url, &e);
    let db = ctx.database();
    // The session that asked for the link must still be live.
    let live = store::sessions::find_by_id(db, &link.session_id)
        .await
        .map_err(internal)?
        .is_some_and(|s| s.user_id == link.user_id && s.expires_at > ctx.now());
    if !live {
        return Err(Failure::new(error_url, "unable_to_link_account")
            .describe("the session that asked for the link has ended"));
    }
    // S43: only an address the provider vouches for joins an account.
    let email = provider_email(&identity);
    if !identity.email_verified || email.is_none() {
        return Err(Failure::new(error_url, "unable_to_link_account")
            .describe("the provider does not vouch for this account's email"));
    }
    if !social.options.allow_different_emails && email.as_deref() != Some(link.email.as_str()) {
        return Err(Failure::new(error_url, "email_does_not_match"));
    }
    let scope = scope_text(&identity);
    let account = NewAccount::new(provider.id(), &identity.account_id).scope(scope.as_deref());
    let existing =
        store::accounts::find_by_provider_account(db, provider.id(), &identity.account_id)
            .await
            .map_err(internal)?;
    match existing {
        Some(found) if found.user_id != link.user_id => {
            return Err(Failure::new(
                error_url,
                "account_already_linked_to_different_user",
            ));
        }
        Some(found) => {
            let mut scopes = found.scopes();
            for s in &identity.scopes {
                if !scopes.contains(s) {
                    scopes.push(s.clone());
                }
            }
            let merged = (!scopes.is_empty()).then(|| scopes.join(","));
            store::accounts::set_scope(db, &found.id, merged.as_deref(), ctx.now())
                .await
                .map_err(internal)?;
        }
        None => {
            if store::accounts::create(db, &link.user_id, &account, ctx.now())
                .await
                .map_err(internal)?
                .is_none()
            {
                // Linked by someone else between the lookup and the insert.
                return Err(Failure::new(
                    error_url,
                    "account_already_linked_to_different_user",
                ));
            }
        }
    }
    // The provider vouches for the user's own address, as at sign-in: it
    // counts as proven (S48), so this account is not one linked while the
    // address was unproven.
    if email.as_deref() == Some(link.email.as_str()) {
        let unproven = store::users::find_by_id(db, &link.user_id)
            .await
            .map_err(internal)?
            .is_some_and(|user| !user.email_verified && user.email == link.email);
        if unproven {
            store::users::mark_email_verified(db, &link.user_id, ctx.now())
                .await
                .map_err(internal)?;
        }
    }
    Ok(AuthResponse::redirect(&flow.callback_url))
}

/// `GET /error`: a small page naming the error, for flows without an errorCallbackURL.
pub(crate) async fn error_page(_ctx: &Ctx, request: AuthRequest) -> Result<AuthResponse> {
    let code = clean_code(request.query("error").unwrap_or("unknown_error"));
    let description = request
        .query("error_description")
        .map(|d| d.chars().take(200).collect::<String>())
        .unwrap_or_default();
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign-in error</title></head>\
         <body><h1>Sign-in failed</h1><p>Error: <code id=\"error\">{}</code></p><p>{}</p>\
         <p><a href=\"/\">Back</a></p></body></html>",
        escape_html(&code),
        escape_html(&description)
    );
    let mut response = AuthResponse::json(&());
    response.body = body.into();
    response.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response.headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    Ok(response)
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_append_before_the_fragment() {
        assert_eq!(append_query("/login", "error=x"), "/login?error=x");
        assert_eq!(
            append_query("/login?a=1#top", "error=x"),
            "/login?a=1&error=x#top"
        );
    }

    #[test]
    fn provider_error_codes_are_reduced_to_safe_characters() {
        assert_eq!(clean_code("access_denied"), "access_denied");
        assert_eq!(clean_code("<script>"), "script");
        assert_eq!(clean_code("\"&"), "oauth_error");
    }

    #[test]
    fn scopes_are_scope_tokens() {
        assert!(check_scopes(&["repo".into(), "read:org".into()]).is_ok());
        assert!(check_scopes(&["a b".into()]).is_err());
        assert!(check_scopes(&["quote\"".into()]).is_err());
        assert!(check_scopes(&[String::new()]).is_err());
    }
}
