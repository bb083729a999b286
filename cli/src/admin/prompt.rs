//! Talking to the person at the terminal: confirmations and hidden password
//! prompts. Without a terminal nothing is asked; the flag that replaces the
//! question is named in the error instead (never a hang, never a silent yes).

use anyhow::{Context, anyhow};
use std::io::{IsTerminal, Read};

/// True when stdin is a terminal someone can answer on.
pub(super) fn interactive() -> bool {
    std::io::stdin().is_terminal()
}

/// Asks before a destructive change (`action`, e.g. "delete user a@b.c"),
/// unless `yes` was given.
pub(super) fn confirm(yes: bool, action: &str) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !interactive() {
        return Err(anyhow!(
            "refusing to {action} without confirmation: there is no terminal to ask on; pass `--yes` to confirm"
        ));
    }
    let mut question = format!("{action}?");
    question[..1].make_ascii_uppercase();
    let answer = inquire::Confirm::new(&question)
        .with_default(false)
        .prompt()
        .context("not confirmed; nothing was changed")?;
    if answer {
        Ok(())
    } else {
        Err(anyhow!("not confirmed; nothing was changed"))
    }
}

/// The new password: all of stdin (one trailing newline removed) with
/// `--password-stdin`, else typed twice at a hidden prompt on a terminal.
/// The password is never echoed, printed or put in an error message (S28).
pub(super) fn new_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the password from stdin")?;
        if let Some(stripped) = text.strip_suffix('\n') {
            text.truncate(stripped.strip_suffix('\r').unwrap_or(stripped).len());
        }
        if text.is_empty() {
            return Err(anyhow!(
                "no password on stdin: pipe it in, e.g. `printf %s \"$PASSWORD\" | better-auth ... --password-stdin`",
            ));
        }
        return Ok(text);
    }
    if !interactive() {
        return Err(anyhow!(
            "no password given and no terminal to prompt on: pipe the password in with `--password-stdin`",
        ));
    }
    inquire::Password::new("Password:")
        .with_display_mode(inquire::PasswordDisplayMode::Hidden)
        .with_custom_confirmation_message("Repeat password:")
        .with_custom_confirmation_error_message("The passwords don't match; try again.")
        .prompt()
        .context("no password entered; nothing was changed")
}
