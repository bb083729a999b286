//! Finishing a link flow: the provider account joins the signed-in user who
//! started it.

use better_auth::store::accounts::NewAccount;
use better_auth::{AuthResponse, Error, store};

use super::callback::{provider_email, scope_text};
use super::failure::Failure;
use super::flow::{FlowState, LinkTarget};
use crate::Ctx;
use crate::provider::{Identity, Provider};
use crate::state::Social;

/// Finishes a link flow: the provider account joins the signed-in user.
pub(super) async fn link_account(
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
