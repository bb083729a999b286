//! The types handlers use: `use better_auth::prelude::*;`.

pub use crate::models::{Account, AuthSession, AuthUser, Session, User};
