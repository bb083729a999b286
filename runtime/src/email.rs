//! Email delivery for password reset and email verification. Apps implement
//! [`EmailSender`] with whatever they use (SMTP, an API). Without one, a
//! server on `http://localhost` logs each message and its link at WARN so a
//! developer can click through ([`LogEmailSender`]); any other server logs only
//! that a message was due ([`NoEmailSender`]), since a link is a live token (S38).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why an email is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmailKind {
    /// A password-reset link (`/request-password-reset`).
    PasswordReset,
    /// An address-verification link (sign-up, `/send-verification-email`).
    EmailVerification,
    /// A link confirming a new address (`/change-email`), sent to the new address.
    ChangeEmail,
    /// A link approving a change of a verified address (`/change-email`),
    /// sent to the current address before anything goes to the new one (S49).
    ChangeEmailApproval,
    /// A notice to the old address that the account's email was changed (S49).
    EmailChanged,
    /// A notice that provider accounts linked while the address was
    /// unconfirmed were unlinked when the owner proved it (S48).
    AccountsUnlinked,
    /// A notice that someone tried to sign up with a registered address (S61).
    SignUpAttempt,
    /// A message a plugin sends, named by the plugin (`"magic-link"`).
    Other(&'static str),
}

/// One message to deliver.
#[derive(Clone, Debug)]
pub struct Email {
    /// What the message is for.
    pub kind: EmailKind,
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body (contains the link).
    pub text: String,
    /// HTML body (contains the link).
    pub html: String,
    /// The action link the user follows. Built from the configured base URL,
    /// never from the request's Host header (S21).
    pub url: String,
}

/// The error type senders return.
pub type SendError = Box<dyn std::error::Error + Send + Sync>;

/// The future [`EmailSender::send`] returns.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

/// Delivers emails. Implement it and pass it to `AuthConfig::email_sender`.
///
/// ```
/// use better_auth::email::{Email, EmailSender, SendFuture};
///
/// struct Smtp;
/// impl EmailSender for Smtp {
///     fn send(&self, email: Email) -> SendFuture<'_> {
///         Box::pin(async move {
///             // hand `email.to`, `email.subject`, `email.text`, `email.html` to your mailer
///             let _ = email;
///             Ok(())
///         })
///     }
/// }
/// ```
pub trait EmailSender: Send + Sync + 'static {
    /// Sends one message.
    fn send(&self, email: Email) -> SendFuture<'_>;
}

/// The default sender: logs every message and its link through `tracing` at
/// WARN, saying that no email sender is configured. Many apps install no
/// `tracing` subscriber; then it prints the same line on stderr, so the
/// developer still gets the link.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogEmailSender;

impl EmailSender for LogEmailSender {
    fn send(&self, email: Email) -> SendFuture<'_> {
        // A link, or for a message carrying a code (no link), its text.
        let (label, shown) = if email.url.is_empty() {
            ("Message", email.text.as_str())
        } else {
            ("Link", email.url.as_str())
        };
        tracing::warn!(
            to = %email.to,
            subject = %email.subject,
            url = %email.url,
            "no email sender configured (AuthConfig::email_sender); this email was not sent. {label}: {shown}"
        );
        if !tracing::dispatcher::has_been_set() {
            eprintln!(
                "better-auth: no email sender configured (AuthConfig::email_sender); \
                 \"{}\" to {} was not sent. {label}: {shown}",
                email.subject, email.to
            );
        }
        Box::pin(async { Ok(()) })
    }
}

/// The default sender outside local development: logs at WARN that a
/// message was due and could not be sent, never its link or token (S38).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEmailSender;

impl EmailSender for NoEmailSender {
    fn send(&self, email: Email) -> SendFuture<'_> {
        tracing::warn!(
            kind = ?email.kind,
            subject = %email.subject,
            "no email sender configured (AuthConfig::email_sender); an email was due and was not sent"
        );
        Box::pin(async { Ok(()) })
    }
}

/// Keeps every message in memory; for tests and local tools.
#[derive(Clone, Debug, Default)]
pub struct MemoryEmailSender {
    messages: Arc<Mutex<Vec<Email>>>,
}

impl MemoryEmailSender {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message sent so far.
    pub fn messages(&self) -> Vec<Email> {
        self.messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits (up to five seconds) for the `n`-th message (1-based) to `to`
    /// and returns it; sends may happen in the background.
    pub async fn wait_for(&self, to: &str, n: usize) -> Option<Email> {
        for _ in 0..500 {
            let found: Vec<Email> = self.messages().into_iter().filter(|m| m.to == to).collect();
            if found.len() >= n {
                return found.into_iter().nth(n - 1);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        None
    }
}

impl EmailSender for MemoryEmailSender {
    fn send(&self, email: Email) -> SendFuture<'_> {
        self.messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(email);
        Box::pin(async { Ok(()) })
    }
}

/// Escapes text for HTML bodies.
pub(crate) fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Builds the message for one of our links.
pub(crate) fn compose(kind: EmailKind, to: &str, url: &str) -> Email {
    let (subject, action) = match kind {
        EmailKind::PasswordReset => ("Reset your password", "reset your password"),
        EmailKind::EmailVerification => ("Verify your email address", "verify your email address"),
        EmailKind::ChangeEmail => (
            "Confirm your new email address",
            "confirm your new email address",
        ),
        _ => ("Your link", "continue"),
    };
    Email::link_with_note(
        kind,
        to,
        subject,
        action,
        url,
        "The link works once and expires in one hour.",
    )
}

/// The link that approves changing a verified address to `new_email`, sent
/// to the current address (S49).
pub(crate) fn change_approval(to: &str, new_email: &str, url: &str) -> Email {
    Email::link_with_note(
        EmailKind::ChangeEmailApproval,
        to,
        "Approve the change of your email address",
        &format!("change your account's email address to {new_email}"),
        url,
        "Nothing changes unless you follow it; it works once and expires in one hour.",
    )
}

/// A message without a link that tells the owner of an address what happened
/// to their account; `url` is the app's base URL.
pub(crate) fn notice(kind: EmailKind, to: &str, subject: &str, text: &str, url: &str) -> Email {
    let text = format!(
        "{text}\n\nIf this was not you, reset your password and review your account at {url}."
    );
    let html = format!("<p>{}</p>", html_escape(&text).replace("\n\n", "</p><p>"));
    Email {
        kind,
        to: to.to_owned(),
        subject: subject.to_owned(),
        text,
        html,
        url: url.to_owned(),
    }
}

impl Email {
    /// A message carrying one single-use link, worded as the built-in ones:
    /// "Follow this link to {action}: {url}", in text and (escaped) HTML.
    ///
    /// ```
    /// use better_auth::email::{Email, EmailKind};
    ///
    /// let email = Email::link(
    ///     EmailKind::Other("magic-link"),
    ///     "user@example.com",
    ///     "Sign in",
    ///     "sign in",
    ///     "http://localhost:3000/api/auth/magic-link/verify?token=abc",
    /// );
    /// assert!(email.text.contains("Follow this link to sign in"));
    /// assert!(email.html.contains("token=abc"));
    /// ```
    pub fn link(kind: EmailKind, to: &str, subject: &str, action: &str, url: &str) -> Email {
        Email::link_with_note(kind, to, subject, action, url, "The link works once.")
    }

    /// A message carrying a one-time code, for codes typed rather than
    /// followed (a second factor, a sign-in code): "Your code to {action}:
    /// {code}", valid `minutes`, in text and (escaped) HTML; `url` is empty.
    ///
    /// ```
    /// use better_auth::email::{Email, EmailKind};
    ///
    /// let email = Email::code(EmailKind::Other("two-factor"), "user@example.com", "Your sign-in code", "sign in", "123456", 3);
    /// assert!(email.text.contains("123456"));
    /// assert!(email.text.contains("3 minutes"));
    /// ```
    pub fn code(
        kind: EmailKind,
        to: &str,
        subject: &str,
        action: &str,
        code: &str,
        minutes: u64,
    ) -> Email {
        let note = format!("It works once, for {minutes} minutes.");
        let text = format!(
            "Your code to {action}:\n\n{code}\n\n{note} \
             If you did not ask for this, ignore this email."
        );
        let html = format!(
            "<p>Your code to {action}:</p><p><strong>{code}</strong></p>\
             <p>{note} If you did not ask for this, ignore this email.</p>",
            action = html_escape(action),
            code = html_escape(code),
        );
        Email {
            kind,
            to: to.to_owned(),
            subject: subject.to_owned(),
            text,
            html,
            url: String::new(),
        }
    }

    fn link_with_note(
        kind: EmailKind,
        to: &str,
        subject: &str,
        action: &str,
        url: &str,
        note: &str,
    ) -> Email {
        let text = format!(
            "Follow this link to {action}:\n\n{url}\n\n{note} \
             If you did not ask for this, ignore this email."
        );
        let html = format!(
            "<p>Follow this link to {action}:</p><p><a href=\"{href}\">{href}</a></p>\
             <p>{note} If you did not ask for this, ignore this email.</p>",
            action = html_escape(action),
            href = html_escape(url),
            note = html_escape(note),
        );
        Email {
            kind,
            to: to.to_owned(),
            subject: subject.to_owned(),
            text,
            html,
            url: url.to_owned(),
        }
    }
}
