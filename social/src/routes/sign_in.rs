//! Finishing a sign-in: the user the provider account is linked to, an
//! existing user it may be linked to now, or a new user; then a session.

use better_auth::store::accounts::NewAccount;
use better_auth::store::users::NewUser;
use better_auth::{AuthRequest, AuthResponse, Error, store, validation};

use super::callback::{provider_email, scope_text};
use super::failure::Failure;
use super::flow::FlowState;
use crate::Ctx;
use crate::provider::{Identity, Provider};
use crate::state::Social;

/// Finishes a sign-in: the linked user, a user linked now, or a new user;
/// then a session and the redirect.
pub(super) async fn sign_in(
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
