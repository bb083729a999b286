//! The one error type of the runtime. Each variant maps to one HTTP status and
//! one wire `code`, as Better Auth's client expects (`{"message", "code"}`).

use http::StatusCode;

/// Everything that can go wrong in the runtime.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration cannot work (for example a secret shorter than 32 characters).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The request body or query did not have the expected shape.
    #[error("{0}")]
    Validation(String),
    /// The password has fewer than the minimum number of characters.
    #[error("Password too short")]
    PasswordTooShort,
    /// The password has more than the maximum number of characters.
    #[error("Password too long")]
    PasswordTooLong,
    /// The password is on the list of common passwords (S03).
    #[error("Password is too common; choose another")]
    PasswordTooCommon,
    /// Sign-up with an email that already belongs to a user.
    #[error("User already exists. Use another email.")]
    UserAlreadyExists,
    /// Sign-up is turned off (`EmailPasswordPlugin::enable_signup(false)`).
    #[error("Email and password sign up is not enabled")]
    SignUpDisabled,
    /// Unknown email or wrong password; deliberately the same error for both.
    #[error("Invalid email or password")]
    InvalidEmailOrPassword,
    /// The current password given to a password change is wrong.
    #[error("Invalid password")]
    InvalidPassword,
    /// A reset or verification token is unknown, used or expired.
    #[error("Invalid token")]
    InvalidToken,
    /// The request needs a valid session and has none.
    #[error("Unauthorized")]
    Unauthorized,
    /// A cookie-authenticated state change came without an Origin or Referer.
    #[error("Missing or null Origin")]
    MissingOrNullOrigin,
    /// A cookie-authenticated state change came from an untrusted origin.
    #[error("Invalid origin")]
    InvalidOrigin,
    /// A redirect target that is neither relative nor on the trusted-origins list.
    #[error("Invalid callbackURL")]
    InvalidCallbackUrl,
    /// The request is understood but not allowed (a precondition failed).
    #[error("{message}")]
    Forbidden {
        /// Human-readable explanation.
        message: String,
        /// The wire code.
        code: &'static str,
    },
    /// Something the request refers to does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Too many requests; retry after the given number of seconds.
    #[error("Too many requests. Please try again later.")]
    TooManyRequests {
        /// Seconds until the client may retry.
        retry_after: u64,
    },
    /// Too many password hashes are already waiting (S31); retry after the given
    /// number of seconds.
    #[error("Service busy. Please try again shortly.")]
    Busy {
        /// Seconds until the client may retry.
        retry_after: u64,
    },
    /// A request body that is not `application/json` (S35).
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    /// The client took longer than the body timeout to send its body (S36).
    #[error("Request body not received in time")]
    BodyTimeout,
    /// The request body is larger than the configured limit (S24, S36).
    #[error("Request body too large")]
    PayloadTooLarge,
    /// The database is unreachable or timed out; the request may succeed later.
    #[error("Service unavailable: the database cannot be reached")]
    Unavailable(#[source] sqlx::Error),
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// A migration could not be applied or does not match what was applied before.
    #[error("migration error: {0}")]
    Migration(String),
    /// A bug or an environment failure (a panicked hashing task, say).
    #[error("internal error: {0}")]
    Internal(String),
    /// An error a plugin answers with, with its own status and wire code
    /// (a 4xx or 502/503; 500 is [`Error::Internal`], whose details are never sent).
    ///
    /// ```
    /// use better_auth::Error;
    /// use better_auth::http::StatusCode;
    ///
    /// let err = Error::plugin(StatusCode::NOT_FOUND, "PROVIDER_NOT_FOUND", "Provider not found");
    /// assert_eq!(err.status(), StatusCode::NOT_FOUND);
    /// assert_eq!(err.body()["code"], "PROVIDER_NOT_FOUND");
    /// ```
    #[error("{message}")]
    Plugin {
        /// The HTTP status.
        status: StatusCode,
        /// The SCREAMING_SNAKE wire code.
        code: &'static str,
        /// What the client is told.
        message: String,
    },
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A plugin's own error (see [`Error::Plugin`]).
    pub fn plugin(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Error::Plugin {
            status,
            code,
            message: message.into(),
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Validation(_)
            | Error::PasswordTooShort
            | Error::PasswordTooLong
            | Error::PasswordTooCommon
            | Error::SignUpDisabled
            | Error::InvalidPassword
            | Error::InvalidToken => StatusCode::BAD_REQUEST,
            Error::UserAlreadyExists => StatusCode::UNPROCESSABLE_ENTITY,
            Error::InvalidEmailOrPassword | Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::MissingOrNullOrigin
            | Error::InvalidOrigin
            | Error::InvalidCallbackUrl
            | Error::Forbidden { .. } => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable(_) | Error::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Error::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Plugin { status, .. } => *status,
            Error::Config(_) | Error::Database(_) | Error::Migration(_) | Error::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// The SCREAMING_SNAKE `code` of the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Config(_) | Error::Database(_) | Error::Migration(_) | Error::Internal(_) => {
                "INTERNAL_SERVER_ERROR"
            }
            Error::Validation(_) => "VALIDATION_ERROR",
            Error::PasswordTooShort => "PASSWORD_TOO_SHORT",
            Error::PasswordTooLong => "PASSWORD_TOO_LONG",
            Error::PasswordTooCommon => "PASSWORD_TOO_COMMON",
            Error::UserAlreadyExists => "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
            Error::SignUpDisabled => "EMAIL_PASSWORD_SIGN_UP_DISABLED",
            Error::InvalidEmailOrPassword => "INVALID_EMAIL_OR_PASSWORD",
            Error::InvalidPassword => "INVALID_PASSWORD",
            Error::InvalidToken => "INVALID_TOKEN",
            Error::Unauthorized => "UNAUTHORIZED",
            Error::MissingOrNullOrigin => "MISSING_OR_NULL_ORIGIN",
            Error::InvalidOrigin => "INVALID_ORIGIN",
            Error::InvalidCallbackUrl => "INVALID_CALLBACKURL",
            Error::Forbidden { code, .. } => code,
            Error::NotFound(_) => "NOT_FOUND",
            Error::TooManyRequests { .. } => "TOO_MANY_REQUESTS",
            Error::Unavailable(_) => "SERVICE_UNAVAILABLE",
            Error::Busy { .. } => "SERVICE_BUSY",
            Error::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Error::BodyTimeout => "REQUEST_TIMEOUT",
            Error::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Error::Plugin { code, .. } => code,
        }
    }

    /// The message shown to clients. Internal details are logged, never sent.
    pub fn public_message(&self) -> String {
        match self {
            Error::Config(_) | Error::Database(_) | Error::Migration(_) | Error::Internal(_) => {
                "Internal server error".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// The JSON body `{"message": ..., "code": ...}`.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "message": self.public_message(), "code": self.code() })
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Error::Unavailable(err)
            }
            sqlx::Error::Database(ref db) if is_unavailable_code(db.code().as_deref()) => {
                Error::Unavailable(err)
            }
            other => Error::Database(other),
        }
    }
}

/// PostgreSQL SQLSTATEs that mean "the server cannot serve you right now".
fn is_unavailable_code(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("57P01" | "57P02" | "57P03" | "53300" | "08000" | "08003" | "08006")
    )
}
