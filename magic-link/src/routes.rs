//! The two routes: asking for a link, and following it.

use better_auth::email::{Email, EmailKind};
use better_auth::prelude::{Session, User};
use better_auth::store::users::{self, NewUser};
use better_auth::validation::normalize_email;
use better_auth::{AuthContext, AuthRequest, AuthResponse, Error, Result};
use serde::{Deserialize, Serialize};

use crate::MagicLinkPlugin;

/// What the plugin's tokens are for, in the verification table.
const PURPOSE: &str = "magic-link";

/// Body of `POST /sign-in/magic-link`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct SendLinkBody {
    /// The address to send the link to.
    email: String,
    /// The name a new user gets (sign-up on first use).
    name: Option<String>,
    /// Where the link lands (relative, or on a trusted origin); default `/`.
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
    /// Where it lands for a user it just created; default the callback.
    #[serde(rename = "newUserCallbackURL")]
    new_user_callback_url: Option<String>,
    /// Where it lands when the link is bad; default the callback.
    #[serde(rename = "errorCallbackURL")]
    error_callback_url: Option<String>,
    /// Accepted for compatibility with Better Auth's body; not used.
    #[allow(dead_code)]
    #[schema(value_type = Object)]
    metadata: Option<serde_json::Value>,
}

/// `{"status": true}`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Status {
    status: bool,
}

/// `{token, user, session}`: a link followed without a `callbackURL`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SignedIn {
    token: String,
    user: User,
    session: Session,
}

/// What a link's token stands for, as Better Auth records it.
#[derive(Serialize, Deserialize)]
struct Record {
    #[serde(rename = "type")]
    kind: String,
    email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

fn settings(ctx: &AuthContext) -> MagicLinkPlugin {
    ctx.extension::<MagicLinkPlugin>()
        .cloned()
        .unwrap_or_default()
}

pub(crate) async fn send_link(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    let body: SendLinkBody = request.json()?;
    let email = normalize_email(&body.email)?;
    // S22: no link that would land somewhere untrusted, before any work.
    for target in [
        &body.callback_url,
        &body.new_user_callback_url,
        &body.error_callback_url,
    ]
    .into_iter()
    .flatten()
    {
        ctx.check_redirect(target)?;
    }
    let name = body
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if let Some(name) = &name {
        better_auth::validation::check_name(name)?;
    }
    let record = Record {
        kind: PURPOSE.to_owned(),
        email: email.clone(),
        name,
    };
    let lifetime = settings(ctx).lifetime;
    // No lookup of the address: known and unknown ones cost the same (S08).
    let token = ctx
        .issue_token(
            PURPOSE,
            &serde_json::to_string(&record).expect("a record serialises"),
            lifetime,
        )
        .await?;
    let mut url = url::Url::parse(&ctx.config().route_url("/magic-link/verify"))
        .map_err(|e| Error::Config(format!("the base URL makes no link: {e}")))?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("token", &token);
        query.append_pair("callbackURL", body.callback_url.as_deref().unwrap_or("/"));
        if let Some(target) = &body.new_user_callback_url {
            query.append_pair("newUserCallbackURL", target);
        }
        if let Some(target) = &body.error_callback_url {
            query.append_pair("errorCallbackURL", target);
        }
    }
    let detached = ctx.detached();
    let minutes = lifetime.as_secs().div_ceil(60);
    ctx.spawn_background("magic-link email", async move {
        let email = Email::link(
            EmailKind::Other(PURPOSE),
            &email,
            "Your sign-in link",
            &format!("sign in (it works once, for {minutes} minutes)"),
            url.as_str(),
        );
        detached.send_email(email).await
    });
    Ok(AuthResponse::json(&Status { status: true }))
}

/// `target` made absolute on the app's origin (Better Auth redirects to
/// absolute URLs), with `error` added when given.
fn location(ctx: &AuthContext, target: &str, error: Option<&str>) -> String {
    let base = ctx.config().base_origin();
    let mut url = url::Url::parse(&base)
        .and_then(|b| b.join(target))
        .unwrap_or_else(|_| url::Url::parse(&base).expect("the base URL parses"));
    if let Some(error) = error {
        url.query_pairs_mut().append_pair("error", error);
    }
    url.to_string()
}

pub(crate) async fn verify(ctx: &AuthContext, request: AuthRequest) -> Result<AuthResponse> {
    // Required, as the query's schema says: without it, 400 (not a redirect).
    let Some(token) = request.query("token").map(str::to_owned) else {
        return Err(Error::Validation("[query.token] token is required".into()));
    };
    let asked = request.query("callbackURL").map(str::to_owned);
    let callback = asked.clone().unwrap_or_else(|| "/".to_owned());
    let new_user = request
        .query("newUserCallbackURL")
        .map_or_else(|| callback.clone(), str::to_owned);
    let on_error = request
        .query("errorCallbackURL")
        .map_or_else(|| callback.clone(), str::to_owned);
    for target in [&callback, &new_user, &on_error] {
        ctx.check_redirect(target)?;
    }
    let fail = |error: &str| {
        Ok(AuthResponse::redirect(&location(
            ctx,
            &on_error,
            Some(error),
        )))
    };

    // Single use: a second click (or a replayed link) finds nothing.
    let Some(value) = ctx.consume_token(PURPOSE, &token).await? else {
        return fail("INVALID_TOKEN");
    };
    let Ok(record) = serde_json::from_str::<Record>(&value) else {
        return fail("INVALID_TOKEN");
    };
    let db = ctx.database();
    let mut created = false;
    let mut user = users::find_by_email(db, &record.email).await?;
    if user.is_none() {
        if !settings(ctx).sign_up {
            return fail("new_user_signup_disabled");
        }
        let name = record.name.as_deref().unwrap_or_default();
        match users::create(
            db,
            NewUser::new(name, &record.email).email_verified(true),
            ctx.now(),
        )
        .await
        {
            Ok(new) => {
                created = true;
                user = Some(new);
            }
            // Created meanwhile (another link, a sign-up): that user.
            Err(Error::UserAlreadyExists) => {
                user = users::find_by_email(db, &record.email).await?;
            }
            Err(e) => return Err(e),
        }
    }
    let Some(mut user) = user else {
        return fail("failed_to_create_user");
    };
    if !user.email_verified {
        // Whoever follows the link owns the address: an account set up before
        // that was proven keeps none of its ways in.
        users::claim_unverified(db, &user.id, ctx.now()).await?;
        ctx.forget_cached_sessions(None);
        user = match users::find_by_id(db, &user.id).await? {
            Some(user) => user,
            None => return fail("user_not_found"),
        };
    }
    let (session, session_token) = ctx.create_session(&user, &request).await?;
    let response = match asked {
        None => AuthResponse::json(&SignedIn {
            token: session_token.clone(),
            user,
            session,
        }),
        Some(_) if created => AuthResponse::redirect(&location(ctx, &new_user, None)),
        Some(_) => AuthResponse::redirect(&location(ctx, &callback, None)),
    };
    Ok(ctx.with_session_cookie(response, &session_token, true))
}
