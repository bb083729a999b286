//! The checks of a running app (`--url`): its health route, the origin it
//! accepts, and a sign-up / sign-in / session / delete round trip.

use std::io::IsTerminal;

use rand::Rng;
use rand::distributions::Alphanumeric;
use serde_json::json;

use super::Report;
use super::http::{self, BaseUrl, Response};
use better_auth::config::is_loopback_origin;

use super::project::origin;

/// The running app and what the project says about it.
#[derive(Debug)]
pub(crate) struct Target<'a> {
    pub(crate) base: &'a BaseUrl,
    /// The endpoints' path (`/auth`), or empty for the root.
    pub(crate) mount: &'a str,
    /// `BETTER_AUTH_URL` from the project, when set.
    pub(crate) configured_url: Option<&'a str>,
    pub(crate) yes: bool,
}

impl Target<'_> {
    fn path(&self, route: &str) -> String {
        format!("{}{route}", self.mount)
    }

    fn url(&self, route: &str) -> String {
        self.base.url(&self.path(route))
    }
}

/// Runs the running-app checks.
pub(crate) fn check(target: &Target<'_>, report: &mut Report) {
    outln!();
    outln!("Checking the app running at {}", target.base.url(""));
    if !reachable(target, report) {
        report.skip(
            "round trip",
            "the app is not reachable; fix that first, then run doctor again",
        );
        return;
    }
    origin_check(target, report);
    round_trip(target, report);
}

/// `GET <mount>/ok`, Better Auth's health route.
fn reachable(target: &Target<'_>, report: &mut Report) -> bool {
    const NAME: &str = "reachable";
    let url = target.url("/ok");
    match http::send(target.base, "GET", &target.path("/ok"), &[], None) {
        Err(e) => {
            report.fail(
                NAME,
                format!(
                    "GET {url}: {e:#}: start the app (`cargo run`), and pass the address it \
                     listens on with --url"
                ),
            );
            false
        }
        Ok(resp) if resp.status == 200 && resp.json().is_some_and(|j| j["ok"] == true) => {
            report.ok(NAME, format!("GET {url} answered 200"));
            true
        }
        Ok(resp) if resp.status == 404 => {
            report.fail(
                NAME,
                format!(
                    "GET {url} answered 404: Better Auth is not served under `{}` there: pass \
                     the path its endpoints are served at (`base_path`) with --mount",
                    if target.mount.is_empty() {
                        "/"
                    } else {
                        target.mount
                    }
                ),
            );
            false
        }
        Ok(resp) if resp.status == 200 => {
            report.fail(
                NAME,
                format!(
                    "GET {url} answered 200 but not Better Auth's {{\"ok\":true}}: something \
                     else is served there: pass the path Better Auth's endpoints are served at \
                     (`base_path`) with --mount"
                ),
            );
            false
        }
        Ok(resp) => {
            report.fail(
                NAME,
                format!(
                    "GET {url} answered {}: Better Auth's health route should answer 200 \
                     {{\"ok\":true}}: check the app's logs",
                    resp.summary()
                ),
            );
            false
        }
    }
}

/// A state-changing request from `origin`: `POST <mount>/sign-out` without a
/// cookie changes nothing and, unlike sign-in, counts against no strict rate limit.
fn probe_origin(target: &Target<'_>, origin: &str) -> anyhow::Result<Response> {
    http::send(
        target.base,
        "POST",
        &target.path("/sign-out"),
        &[("Origin", origin)],
        Some("{}"),
    )
}

fn refused(resp: &Response) -> bool {
    resp.status == 403 && resp.code().as_deref() == Some("INVALID_ORIGIN")
}

fn origin_check(target: &Target<'_>, report: &mut Report) {
    const NAME: &str = "origin";
    let served = &target.base.origin;
    let configured = target.configured_url.and_then(|u| origin(u).ok());
    let probe_url = target.url("/sign-out");
    let resp = match probe_origin(target, served) {
        Ok(resp) => resp,
        Err(e) => {
            report.fail(NAME, format!("POST {probe_url}: {e:#}"));
            return;
        }
    };
    if refused(&resp) {
        match &configured {
            Some(configured) if configured != served => report.fail(
                NAME,
                format!(
                    "BETTER_AUTH_URL ({configured}) is not the origin the app is served from \
                     ({served}): browsers get 403 INVALID_ORIGIN; set BETTER_AUTH_URL={served} \
                     (or, when a proxy serves the app at {configured}, pass that address with --url)"
                ),
            ),
            _ => report.fail(
                NAME,
                format!(
                    "the app refuses requests from {served}, the origin it is served from \
                     (403 INVALID_ORIGIN): it runs with another BETTER_AUTH_URL; set \
                     BETTER_AUTH_URL={served} and restart it"
                ),
            ),
        }
        return;
    }
    if resp.status == 429 {
        report.warn(
            NAME,
            format!(
                "POST {probe_url} was rate limited ({}): run doctor again in a minute",
                resp.summary()
            ),
        );
        return;
    }
    if resp.status >= 500 {
        report.fail(
            NAME,
            format!(
                "POST {probe_url} answered {}: check the app's logs",
                resp.summary()
            ),
        );
        return;
    }
    let Some(configured) = configured else {
        report.ok(NAME, format!("the app accepts requests from {served}"));
        return;
    };
    if configured == *served {
        report.ok(
            NAME,
            format!("the app accepts requests from {served}, BETTER_AUTH_URL's origin"),
        );
        return;
    }
    // The app accepts the served origin; does it accept the configured one (is the
    // running app using this project's BETTER_AUTH_URL)?
    match probe_origin(target, &configured) {
        Ok(resp) if refused(&resp) => {
            report.fail(
                NAME,
                format!(
                    "the running app refuses BETTER_AUTH_URL's origin {configured} (403 \
                     INVALID_ORIGIN): it runs with another BETTER_AUTH_URL than this \
                     project's; set BETTER_AUTH_URL={served} here, or restart the app if \
                     {configured} is right"
                ),
            );
            return;
        }
        _ => {}
    }
    let why = if is_loopback_origin(&configured) && is_loopback_origin(served) {
        "the app accepts it only because both are on this machine, and links it sends \
         (emails, redirects) use BETTER_AUTH_URL"
    } else {
        "the app accepts it (a trusted origin), but links it sends (emails, redirects) and \
         its cookies use BETTER_AUTH_URL"
    };
    report.warn(
        NAME,
        format!(
            "BETTER_AUTH_URL ({configured}) is not the origin the app is served from \
             ({served}): {why}; set BETTER_AUTH_URL={served} (or, when a proxy serves the app \
             at {configured}, ignore this)"
        ),
    );
}

/// How the round trip authenticates its requests: the `set-auth-token` bearer
/// token, else the session cookies (sent with the served origin).
#[derive(Debug, Clone)]
enum Credential {
    Bearer(String),
    Cookies(String),
}

impl Credential {
    fn from(resp: &Response) -> Option<Credential> {
        if let Some(token) = resp.header("set-auth-token").filter(|t| !t.is_empty()) {
            return Some(Credential::Bearer(token.to_owned()));
        }
        let cookies: Vec<&str> = resp
            .headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .filter_map(|(_, v)| v.split(';').next())
            .filter(|pair| pair.split_once('=').is_some_and(|(_, v)| !v.is_empty()))
            .collect();
        (!cookies.is_empty()).then(|| Credential::Cookies(cookies.join("; ")))
    }

    fn headers<'a>(&'a self, origin: &'a str) -> Vec<(&'static str, String)> {
        match self {
            Credential::Bearer(token) => vec![("Authorization", format!("Bearer {token}"))],
            Credential::Cookies(cookies) => {
                vec![("Cookie", cookies.clone()), ("Origin", origin.to_owned())]
            }
        }
    }
}

fn send_with(
    target: &Target<'_>,
    method: &str,
    route: &str,
    credential: Option<&Credential>,
    body: Option<&str>,
) -> anyhow::Result<Response> {
    let headers = credential
        .map(|c| c.headers(&target.base.origin))
        .unwrap_or_default();
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    http::send(target.base, method, &target.path(route), &headers, body)
}

fn round_trip(target: &Target<'_>, report: &mut Report) {
    const NAME: &str = "round trip";
    let where_ = target.base.url("");
    if !target.yes {
        if !std::io::stdin().is_terminal() {
            report.skip(
                NAME,
                format!(
                    "pass --yes to create and delete a throwaway user at {where_} (there is \
                     no terminal to ask on)"
                ),
            );
            return;
        }
        let answer =
            inquire::Confirm::new(&format!("Create and delete a throwaway user at {where_}?"))
                .with_default(false)
                .prompt();
        if !matches!(answer, Ok(true)) {
            report.skip(NAME, "not confirmed; pass --yes to run it");
            return;
        }
    }

    let mut rng = rand::thread_rng();
    let tag: String = (&mut rng)
        .sample_iter(&Alphanumeric)
        .take(12)
        .map(|c| char::from(c).to_ascii_lowercase())
        .collect();
    let password: String = (&mut rng)
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    let email = format!("doctor-{tag}@example.invalid");
    let leftover = format!(
        "the throwaway user {email} is left: delete it with `better-auth user delete --email {email} --yes`"
    );
    let step = |route: &str| format!("POST {}", target.url(route));

    // Sign up.
    let body =
        json!({ "name": "Better Auth doctor", "email": email, "password": password }).to_string();
    let signed_up = match send_with(target, "POST", "/sign-up/email", None, Some(&body)) {
        Err(e) => {
            report.fail("sign-up", format!("{}: {e:#}", step("/sign-up/email")));
            return;
        }
        Ok(resp) if resp.status == 404 => {
            report.skip(
                "sign-up",
                format!(
                    "{} answered 404: the app has no email and password sign-up \
                     (EmailPasswordPlugin), so there is nothing to try",
                    step("/sign-up/email")
                ),
            );
            return;
        }
        Ok(resp) if resp.code().as_deref() == Some("EMAIL_PASSWORD_SIGN_UP_DISABLED") => {
            report.skip(
                "sign-up",
                format!(
                    "{} answered {}: the app has sign-up turned off, so there is nothing to try",
                    step("/sign-up/email"),
                    resp.summary()
                ),
            );
            return;
        }
        Ok(resp) if resp.status != 200 => {
            report.fail(
                "sign-up",
                format!(
                    "{} answered {}: the app's users cannot sign up",
                    step("/sign-up/email"),
                    resp.summary()
                ),
            );
            return;
        }
        Ok(resp) => {
            report.ok(
                "sign-up",
                format!("{} answered 200 ({email})", step("/sign-up/email")),
            );
            Credential::from(&resp)
        }
    };

    // Sign in.
    let body = json!({ "email": email, "password": password }).to_string();
    let mut unverified = false;
    let signed_in = match send_with(target, "POST", "/sign-in/email", None, Some(&body)) {
        Err(e) => {
            report.fail("sign-in", format!("{}: {e:#}", step("/sign-in/email")));
            None
        }
        Ok(resp) if resp.status == 200 => match Credential::from(&resp) {
            Some(credential) => {
                report.ok(
                    "sign-in",
                    format!("{} answered 200 with a session", step("/sign-in/email")),
                );
                Some(credential)
            }
            None => {
                report.fail(
                    "sign-in",
                    format!(
                        "{} answered 200 but set no session (no `set-auth-token`, no cookie)",
                        step("/sign-in/email")
                    ),
                );
                None
            }
        },
        Ok(resp) if resp.code().as_deref() == Some("EMAIL_NOT_VERIFIED") => {
            unverified = true;
            report.skip(
                "sign-in",
                format!(
                    "{} answered {}: the app requires a verified email before sign-in, so \
                     doctor cannot sign in",
                    step("/sign-in/email"),
                    resp.summary()
                ),
            );
            None
        }
        Ok(resp) => {
            report.fail(
                "sign-in",
                format!(
                    "{} answered {}: a user who just signed up cannot sign in; check the \
                     app's logs",
                    step("/sign-in/email"),
                    resp.summary()
                ),
            );
            None
        }
    };

    // The session.
    if let Some(credential) = &signed_in {
        let url = target.url("/get-session");
        match send_with(target, "GET", "/get-session", Some(credential), None) {
            Err(e) => report.fail("session", format!("GET {url}: {e:#}")),
            Ok(resp) if resp.status == 200 => {
                let user_email = resp
                    .json()
                    .and_then(|j| j["user"]["email"].as_str().map(str::to_owned));
                if user_email.as_deref() == Some(email.as_str()) {
                    report.ok(
                        "session",
                        format!("GET {url} answered 200 with the new user"),
                    );
                } else {
                    report.fail(
                        "session",
                        format!(
                            "GET {url} answered 200 without the new user (`{}`): the session \
                             from sign-in is not recognised; check the app's logs",
                            resp.body.trim()
                        ),
                    );
                }
            }
            Ok(resp) => report.fail(
                "session",
                format!(
                    "GET {url} answered {}: check the app's logs",
                    resp.summary()
                ),
            ),
        }
    }

    // Delete the user.
    let Some(credential) = signed_in.or(signed_up) else {
        let status = if unverified {
            super::Status::Warn
        } else {
            super::Status::Fail
        };
        report.line(
            status,
            "delete",
            format!("no session to delete the user with: {leftover}"),
        );
        return;
    };
    let body = json!({ "password": password }).to_string();
    match send_with(
        target,
        "POST",
        "/delete-user",
        Some(&credential),
        Some(&body),
    ) {
        Err(e) => report.fail(
            "delete",
            format!("{}: {e:#}; {leftover}", step("/delete-user")),
        ),
        Ok(resp) if resp.status == 200 => {
            report.ok(
                "delete",
                format!("{} answered 200; the user is gone", step("/delete-user")),
            );
        }
        Ok(resp) => report.fail(
            "delete",
            format!(
                "{} answered {}; {leftover}",
                step("/delete-user"),
                resp.summary()
            ),
        ),
    }
}
