//! Always-mounted account changes: delete-user, change-email,
//! send-verification-email and verify-email.

use http::Method;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{PluginSetup, Route, StatusResponse, normalize_email, status_true};
use crate::context::AuthContext;
use crate::email::{EmailKind, compose};
use crate::error::{Error, Result};
use crate::models::User;
use crate::request::{AuthRequest, AuthResponse};
use crate::store;

/// Token purposes, prefixed to the digest in `verification.identifier`, so a
/// token issued for one flow can never be used in another.
pub(crate) const VERIFY_EMAIL: &str = "verify-email";
pub(crate) const CHANGE_EMAIL: &str = "change-email";
/// A change of a verified address, waiting for the current address's approval (S49).
pub(crate) const CHANGE_EMAIL_APPROVAL: &str = "change-email-approval";

pub(crate) fn install(setup: &mut PluginSetup) {
    setup
        .route(
            Route::new(
                Method::POST,
                "/delete-user",
                "Delete the user (password or a fresh session required)",
                |a, r| Box::pin(delete_user(a, r)),
            )
            .body::<DeleteUserBody>()
            .returns::<DeleteUserResponse>()
            .errors(&[400, 403])
            .authenticated(),
        )
        .route(
            Route::new(
                Method::POST,
                "/change-email",
                "Ask to change the email (password or a fresh session required); a verified address approves first, then a link to the new address confirms",
                |a, r| Box::pin(change_email(a, r)),
            )
            .body::<ChangeEmailBody>()
            .returns::<StatusResponse>()
            .errors(&[400, 403, 422])
            .authenticated(),
        )
        .route(
            Route::new(
                Method::POST,
                "/send-verification-email",
                "Send an address-verification link",
                |a, r| Box::pin(send_verification_email(a, r)),
            )
            .body::<SendVerificationBody>()
            .returns::<StatusResponse>(),
        )
        .route(
            Route::new(
                Method::GET,
                "/verify-email",
                "Confirm an address with the emailed token",
                |a, r| Box::pin(verify_email(a, r)),
            )
            .query(&[("token", true), ("callbackURL", false)])
            .returns_or_redirects::<VerifyEmailResponse>()
            .errors(&[400, 403]),
        );
}

/// Deletion needs the password, or a session younger than `fresh_age` (S20, S49).
#[derive(Deserialize, ToSchema)]
struct DeleteUserBody {
    /// The current password.
    password: Option<String>,
    /// Reserved for emailed deletion tokens (not issued by this server).
    token: Option<String>,
    /// Where the client goes afterwards (relative or trusted).
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct DeleteUserResponse {
    success: bool,
    message: String,
}

/// S20 and S14: password or fresh session; all sessions end with the user.
async fn delete_user(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let current = auth.require_session(&request).await?;
    let body: DeleteUserBody = request.json()?;
    if let Some(url) = &body.callback_url {
        auth.check_redirect(url)?;
    }
    if body.token.is_some() {
        return Err(Error::InvalidToken);
    }
    // S20, S49: the password, or a session signed in within `fresh_age`.
    auth.require_fresh_session(&current, body.password.as_deref())
        .await?;
    // Sessions and accounts go with the user (ON DELETE CASCADE).
    store::users::delete(auth.database(), &current.user.id).await?;
    auth.forget_cached_sessions(None);
    let response = AuthResponse::json(&DeleteUserResponse {
        success: true,
        message: "User deleted".into(),
    });
    Ok(auth.with_cleared_cookies(response))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ChangeEmailBody {
    /// The new address; it receives the confirmation link.
    #[schema(format = Email, max_length = 254)]
    new_email: String,
    /// Where the confirmation link leads afterwards.
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
    /// The current password, needed when the session is not fresh (S49).
    password: Option<String>,
}

/// What a change-email token proves. `user_id` comes first (see
/// `store::verifications::delete_for_user`).
#[derive(Serialize, Deserialize)]
struct EmailChange {
    user_id: String,
    new_email: String,
    /// The address the change was asked from: the change happens only while
    /// it is still the user's, and it is told when the change is done.
    #[serde(default)]
    old_email: Option<String>,
}

/// S19: the old address stays until the new one is confirmed by a token
/// sent to the new address. S49: it needs the password or a fresh session,
/// and a verified address approves the change first, by a link sent to it.
async fn change_email(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let current = auth.require_session(&request).await?;
    let body: ChangeEmailBody = request.json()?;
    let new_email = normalize_email(&body.new_email)?;
    if let Some(url) = &body.callback_url {
        auth.check_redirect(url)?;
    }
    if new_email == current.user.email {
        return Err(Error::Validation("Email is the same".into()));
    }
    auth.require_fresh_session(&current, body.password.as_deref())
        .await?;
    if store::users::find_by_email(auth.database(), &new_email)
        .await?
        .is_some()
    {
        return Err(Error::UserAlreadyExists);
    }
    let change = EmailChange {
        user_id: current.user.id.clone(),
        new_email: new_email.clone(),
        old_email: Some(current.user.email.clone()),
    };
    let value = serde_json::to_string(&change).map_err(|e| Error::Internal(e.to_string()))?;
    // S34: issued and sent in the background, like every email.
    let mailer = auth.detached();
    let callback = body.callback_url.clone();
    if current.user.email_verified {
        // S49: the owner of the current address approves first.
        let old_email = current.user.email.clone();
        auth.spawn_background("change-email approval email", async move {
            let token = mailer
                .issue_token(CHANGE_EMAIL_APPROVAL, &value, super::LINK_LIFETIME)
                .await?;
            let url = verify_url(mailer.config(), &token, callback.as_deref());
            mailer
                .send_email(crate::email::change_approval(&old_email, &new_email, &url))
                .await
        });
        return Ok(status_true());
    }
    auth.spawn_background("change-email email", async move {
        send_change_link(&mailer, &value, &new_email, callback.as_deref()).await
    });
    Ok(status_true())
}

/// Issues the token that switches to `new_email` and mails its link there.
async fn send_change_link(
    mailer: &crate::context::Detached,
    value: &str,
    new_email: &str,
    callback: Option<&str>,
) -> Result<()> {
    let token = mailer
        .issue_token(CHANGE_EMAIL, value, super::LINK_LIFETIME)
        .await?;
    let url = verify_url(mailer.config(), &token, callback);
    mailer
        .send_email(compose(EmailKind::ChangeEmail, new_email, &url))
        .await
}

/// The `/verify-email` link for a token.
pub(crate) fn verify_url(
    config: &crate::AuthConfig,
    token: &str,
    callback: Option<&str>,
) -> String {
    let mut url = config.route_url(&format!("/verify-email?token={token}"));
    if let Some(callback) = callback {
        url.push_str("&callbackURL=");
        url.push_str(&percent_encoding::utf8_percent_encode(callback, QUERY_VALUE).to_string());
    }
    url
}

/// What a verification token proves: this user had this address when the
/// link was mailed to it. `user_id` comes first (see
/// `store::verifications::delete_for_user`).
#[derive(Serialize, Deserialize)]
struct AddressToVerify {
    user_id: String,
    email: String,
}

/// Issues and sends a verification link to a user's current address, in the
/// background (S34): a mail failure is logged, never answered.
pub(crate) fn send_verification(auth: &AuthContext, user: &User, callback: Option<&str>) {
    let mailer = auth.detached();
    let proof = AddressToVerify {
        user_id: user.id.clone(),
        email: user.email.clone(),
    };
    let callback = callback.map(str::to_owned);
    auth.spawn_background("verification email", async move {
        let value = serde_json::to_string(&proof).map_err(|e| Error::Internal(e.to_string()))?;
        let token = mailer
            .issue_token(VERIFY_EMAIL, &value, super::LINK_LIFETIME)
            .await?;
        let url = verify_url(mailer.config(), &token, callback.as_deref());
        mailer
            .send_email(compose(EmailKind::EmailVerification, &proof.email, &url))
            .await
    });
}

#[derive(Deserialize, ToSchema)]
struct SendVerificationBody {
    /// The address to verify.
    #[schema(format = Email, max_length = 254)]
    email: String,
    /// Where the link leads after verification.
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
}

/// Answers the same whether or not the address belongs to an unverified user.
async fn send_verification_email(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let body: SendVerificationBody = request.json()?;
    let email = normalize_email(&body.email)?;
    if let Some(url) = &body.callback_url {
        auth.check_redirect(url)?;
    }
    // S34: the lookup, token and email happen in the background, so the
    // answer is the same, at the same speed, for unknown, verified and
    // unverified addresses, and whatever the mail sender does.
    let mailer = auth.detached();
    let callback = body.callback_url;
    auth.spawn_background("verification email", async move {
        let Some(user) = store::users::find_by_email(mailer.database(), &email).await? else {
            return Ok(());
        };
        if user.email_verified {
            return Ok(());
        }
        let proof = AddressToVerify {
            user_id: user.id.clone(),
            email: user.email.clone(),
        };
        let value = serde_json::to_string(&proof).map_err(|e| Error::Internal(e.to_string()))?;
        let token = mailer
            .issue_token(VERIFY_EMAIL, &value, super::LINK_LIFETIME)
            .await?;
        let url = verify_url(mailer.config(), &token, callback.as_deref());
        mailer
            .send_email(compose(EmailKind::EmailVerification, &user.email, &url))
            .await
    });
    Ok(status_true())
}

#[derive(Serialize, ToSchema)]
struct VerifyEmailResponse {
    status: bool,
    user: User,
}

/// Confirms an address: a verification token marks the email verified; an
/// approval token (S49) sends the link to the new address; a change-email
/// token switches to the new (now verified) address.
async fn verify_email(auth: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let token = request
        .query("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::Validation("[query.token] Token is required".into()))?
        .to_owned();
    let callback = request.query("callbackURL").map(str::to_owned);
    if let Some(url) = &callback {
        auth.check_redirect(url)?;
    }
    let now = auth.now();
    let user = if let Some(value) = auth.consume_token(VERIFY_EMAIL, &token).await? {
        // The address that was mailed is the one verified, and only while it
        // is still the user's address.
        let proof: Option<AddressToVerify> = serde_json::from_str(&value).ok();
        match proof {
            Some(proof) => match store::users::find_by_id(auth.database(), &proof.user_id).await? {
                Some(user) if user.email == proof.email => {
                    store::users::set_email(auth.database(), &user.id, &user.email, true, now)
                        .await?;
                    auth.forget_cached_sessions(None);
                    address_proven(auth, &user).await?;
                    Some(user)
                }
                _ => None,
            },
            None => None,
        }
    } else if let Some(value) = auth.consume_token(CHANGE_EMAIL_APPROVAL, &token).await? {
        let change: EmailChange =
            serde_json::from_str(&value).map_err(|e| Error::Internal(e.to_string()))?;
        let user = store::users::find_by_id(auth.database(), &change.user_id).await?;
        if user.is_some_and(|user| change.old_email.as_deref() == Some(user.email.as_str())) {
            // S49: the current address approved; the new one confirms next.
            let mailer = auth.detached();
            let link_callback = callback.clone();
            auth.spawn_background("change-email email", async move {
                send_change_link(&mailer, &value, &change.new_email, link_callback.as_deref()).await
            });
            return Ok(match callback {
                Some(url) => AuthResponse::redirect(&url),
                None => status_true(),
            });
        }
        None
    } else if let Some(value) = auth.consume_token(CHANGE_EMAIL, &token).await? {
        let change: EmailChange =
            serde_json::from_str(&value).map_err(|e| Error::Internal(e.to_string()))?;
        match store::users::find_by_id(auth.database(), &change.user_id).await? {
            // Only while the address the change was asked from is still the user's.
            Some(before)
                if change
                    .old_email
                    .as_deref()
                    .is_none_or(|old| old == before.email) =>
            {
                store::users::set_email(
                    auth.database(),
                    &change.user_id,
                    &change.new_email,
                    true,
                    now,
                )
                .await?;
                // S33: links mailed for the old address (reset, verification) and
                // other pending changes now point at a stale address.
                store::verifications::delete_for_user(
                    auth.database(),
                    &change.user_id,
                    store::accounts::USER_TOKEN_PREFIXES,
                )
                .await?;
                auth.forget_cached_sessions(None);
                // S49: the old address hears that it no longer signs in.
                tell(
                    auth,
                    EmailKind::EmailChanged,
                    &before.email,
                    "Your email address was changed",
                    format!(
                        "The email address of your account was changed from {} to {}. \
                         This address no longer signs in to it.",
                        before.email, change.new_email
                    ),
                );
                store::users::find_by_id(auth.database(), &change.user_id).await?
            }
            _ => None,
        }
    } else {
        None
    };
    let Some(user) = user else {
        return match callback {
            Some(url) => Ok(AuthResponse::redirect(&with_query(
                &url,
                "error",
                "INVALID_TOKEN",
            ))),
            None => Err(Error::InvalidToken),
        };
    };
    let user = store::users::find_by_id(auth.database(), &user.id)
        .await?
        .unwrap_or(user);
    match callback {
        Some(url) => Ok(AuthResponse::redirect(&url)),
        None => Ok(AuthResponse::json(&VerifyEmailResponse {
            status: true,
            user,
        })),
    }
}

/// Mails a notice (no link) to `to` in the background (S34).
pub(crate) fn tell(
    auth: &AuthContext,
    kind: EmailKind,
    to: &str,
    subject: &'static str,
    text: String,
) {
    let mailer = auth.detached();
    let to = to.to_owned();
    auth.spawn_background("notice email", async move {
        let url = mailer.config().base_url.clone();
        mailer
            .send_email(crate::email::notice(kind, &to, subject, &text, &url))
            .await
    });
}

/// S48: the owner of `user`'s address has just proven it (a verification or
/// reset link was followed). When the address was not proven before, every
/// provider account linked to the user was linked on the word of a provider
/// that did not vouch for it, maybe by someone else: they are all unlinked,
/// every session of the user ends (any of them may come from such an
/// account), and the owner is told. `user` is the user as it was before.
pub(crate) async fn address_proven(auth: &AuthContext, user: &User) -> Result<()> {
    if user.email_verified {
        return Ok(());
    }
    let unlinked = store::accounts::delete_providers_for_user(auth.database(), &user.id).await?;
    if unlinked.is_empty() {
        return Ok(());
    }
    store::sessions::delete_for_user(auth.database(), &user.id, None).await?;
    auth.forget_cached_sessions(None);
    let mut providers = unlinked;
    providers.sort();
    providers.dedup();
    tell(
        auth,
        EmailKind::AccountsUnlinked,
        &user.email,
        "Sign-in providers were removed from your account",
        format!(
            "Your email address is now confirmed. Before that, these sign-in providers \
             were linked to your account without proof that the address was yours: {}. \
             They were unlinked, and every session of the account was ended. Link them \
             again from your account if they are yours.",
            providers.join(", ")
        ),
    );
    Ok(())
}

/// Characters escaped in query values: everything but RFC 3986 unreserved ones.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Appends `name=value` to a URL's query.
pub(crate) fn with_query(url: &str, name: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    let value = percent_encoding::utf8_percent_encode(value, QUERY_VALUE);
    format!("{url}{sep}{name}={value}")
}
