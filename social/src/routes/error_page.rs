//! `GET /error`: where a failed flow without an `errorCallbackURL` ends.

use better_auth::{AuthRequest, AuthResponse, Result};
use http::{HeaderValue, header};

use super::failure::clean_code;
use crate::Ctx;

/// `GET /error`: a small page naming the error, for flows without an errorCallbackURL.
pub(crate) async fn error_page(_ctx: &Ctx, request: AuthRequest) -> Result<AuthResponse> {
    let code = clean_code(request.query("error").unwrap_or("unknown_error"));
    let description = request
        .query("error_description")
        .map(|d| d.chars().take(200).collect::<String>())
        .unwrap_or_default();
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign-in error</title></head>\
         <body><h1>Sign-in failed</h1><p>Error: <code id=\"error\">{}</code></p><p>{}</p>\
         <p><a href=\"/\">Back</a></p></body></html>",
        escape_html(&code),
        escape_html(&description)
    );
    let mut response = AuthResponse::json(&());
    response.body = body.into();
    response.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response.headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    Ok(response)
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
