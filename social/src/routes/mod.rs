//! The handlers: start a flow (`/sign-in/social`, `/link-social`), finish it
//! (`/callback/{provider}`), and name errors (`/error`).
//!
//! A flow's state (callback URLs, PKCE verifier, nonce, who is linking) is
//! kept server-side as a single-use token (only its digest is stored) for ten
//! minutes; the token travels as OAuth's `state` and, signed, in the
//! `better-auth.state` cookie (`__Host-better-auth.state` on https, S60), so
//! only the browser that started a flow can finish it (S40).

mod callback;
mod error_page;
mod failure;
mod flow;
mod link;
mod sign_in;
mod start;

pub(crate) use callback::callback;
pub(crate) use error_page::error_page;
pub(crate) use start::{
    AuthorizationUrl, LinkSocialBody, SignInSocialBody, link_social, sign_in_social,
};
