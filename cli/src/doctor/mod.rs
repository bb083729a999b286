//! `better-auth doctor`: what is wrong with a project's Better Auth setup, in
//! words a user can act on. One line per check (`ok`, `warn`, `fail`, or `skip`),
//! with what to do for anything not ok; exit status 1 when something fails.

/// Prints a line to stdout; a closed pipe (`| head`) is not an error worth a panic.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod http;
mod live;
mod project;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

/// Arguments of `better-auth doctor`.
#[derive(Args, Debug)]
pub(crate) struct DoctorArgs {
    /// The app's package: its `.env` and `src/` are checked. Variables set in the
    /// environment win over `.env`.
    #[arg(long, value_name = "DIR", default_value = ".")]
    path: PathBuf,
    /// Also check the running app at this address (where it listens, plain http):
    /// its health route, the origin it accepts, and a sign-up / sign-in / delete round trip.
    #[arg(long, value_name = "URL", value_parser = http::BaseUrl::parse)]
    url: Option<http::BaseUrl>,
    /// Where Better Auth's endpoints are served in the running app (`base_path`).
    #[arg(long, value_name = "PATH", default_value = "/auth", requires = "url")]
    mount: String,
    /// Run the round trip against `--url` without asking (it creates a throwaway
    /// user and deletes it).
    #[arg(long, short = 'y')]
    yes: bool,
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Ok,
    Warn,
    Fail,
    Skip,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// The checks' results, printed as they come.
#[derive(Debug, Default)]
pub(crate) struct Report {
    counts: [usize; 4],
}

impl Report {
    /// Prints one check's line: status, name, and what was found (with what to
    /// do when it is not ok).
    pub(crate) fn line(&mut self, status: Status, check: &str, message: impl AsRef<str>) {
        self.counts[status as usize] += 1;
        outln!("{:<4}  {check:<12}  {}", status.label(), message.as_ref());
    }

    pub(crate) fn ok(&mut self, check: &str, message: impl AsRef<str>) {
        self.line(Status::Ok, check, message);
    }

    pub(crate) fn warn(&mut self, check: &str, message: impl AsRef<str>) {
        self.line(Status::Warn, check, message);
    }

    pub(crate) fn fail(&mut self, check: &str, message: impl AsRef<str>) {
        self.line(Status::Fail, check, message);
    }

    pub(crate) fn skip(&mut self, check: &str, message: impl AsRef<str>) {
        self.line(Status::Skip, check, message);
    }

    fn failed(&self) -> bool {
        self.counts[Status::Fail as usize] > 0
    }

    fn summary(&self) -> String {
        let [ok, warn, fail, skip] = self.counts;
        let mut parts = vec![
            format!("{ok} ok"),
            plural(warn, "warning", "warnings"),
            plural(fail, "failure", "failures"),
        ];
        if skip > 0 {
            parts.push(format!("{skip} skipped"));
        }
        parts.join(", ")
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Runs every check and prints the summary; exit status 1 when one failed.
pub(crate) fn run(args: DoctorArgs) -> ExitCode {
    let mut report = Report::default();
    let env = project::check(&args.path, &mut report);
    if let Some(base) = &args.url {
        let mount = normalize_mount(&args.mount);
        live::check(
            &live::Target {
                base,
                mount: &mount,
                configured_url: env.base_url.as_deref(),
                yes: args.yes,
            },
            &mut report,
        );
    }
    outln!();
    if report.failed() {
        outln!("{}: fix the failures above.", report.summary());
        ExitCode::FAILURE
    } else {
        outln!("{}.", report.summary());
        ExitCode::SUCCESS
    }
}

/// `auth/` → `/auth`; `/` → `` (the endpoints at the root).
fn normalize_mount(mount: &str) -> String {
    let trimmed = mount.trim().trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("/{trimmed}")
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_mount;

    #[test]
    fn mounts_are_normalized() {
        assert_eq!(normalize_mount("/auth"), "/auth");
        assert_eq!(normalize_mount("api/auth/"), "/api/auth");
        assert_eq!(normalize_mount("/"), "");
    }
}
