//! The CLI's one error type and how it is shown.
//!
//! Every command returns [`anyhow::Result`]: a message, plus the chain of causes that
//! `.context(..)` added on the way up. [`report`] prints it as `error: ...` followed by one
//! `caused by: ...` line per cause, so a failure says both what the CLI was doing and what
//! went wrong underneath (`error: cannot read .env` / `caused by: permission denied`).

/// Prints `err` on stderr: `error: <message>`, then `caused by: <cause>` for each cause.
///
/// A cause from another crate (a database driver, the file system) is put on one line,
/// whatever its own formatting; the CLI's own messages keep their line breaks (compiler
/// output, manual steps).
pub(crate) fn report(err: anyhow::Error) {
    let err = with_runtime_context(err);
    let mut chain = err.chain();
    if let Some(top) = chain.next() {
        eprintln!("error: {top}");
    }
    for cause in chain {
        let line = cause
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        eprintln!("caused by: {line}");
    }
}

/// Puts "cannot reach the database" above a runtime error that means exactly that, so the
/// first line tells the user where to look.
fn with_runtime_context(err: anyhow::Error) -> anyhow::Error {
    let unreachable = err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<better_auth::Error>(),
            Some(better_auth::Error::Unavailable(_))
        )
    });
    if unreachable && err.to_string() != CANNOT_REACH {
        err.context(CANNOT_REACH)
    } else {
        err
    }
}

const CANNOT_REACH: &str = "cannot reach the database";
