//! A minimal HTTP/1.1 client over a plain TCP connection: enough to talk to an
//! app on the address it listens on (`http://127.0.0.1:8080`), one request per
//! connection (`Connection: close`).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};

/// How long to wait for a connection; answers may take longer (password hashing).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the app is served: `http://host[:port][/prefix]`.
#[derive(Debug, Clone)]
pub(crate) struct BaseUrl {
    /// `host:port`, for connecting and for the `Host` header.
    pub(crate) authority: String,
    /// `http://host[:port]`, lower-cased, as a browser sends it in `Origin`.
    pub(crate) origin: String,
    /// A path prefix (no trailing slash), usually empty.
    pub(crate) prefix: String,
}

impl BaseUrl {
    /// Parses `--url`; only plain `http` is spoken.
    pub(crate) fn parse(url: &str) -> Result<BaseUrl, String> {
        let url = url.trim();
        let example = "give the address the app listens on, e.g. http://127.0.0.1:8080";
        let parsed =
            url::Url::parse(url).map_err(|_| format!("`{url}` is not a URL: {example}"))?;
        match parsed.scheme() {
            "http" => {}
            "https" => {
                return Err(format!(
                    "doctor speaks plain http only: give the address the app itself listens \
                     on (e.g. http://127.0.0.1:8080), not `{url}`"
                ));
            }
            _ => return Err(format!("`{url}` is not an http URL: {example}")),
        }
        let (Some(host), "", None) = (parsed.host_str(), parsed.username(), parsed.password())
        else {
            return Err(format!("`{url}` has no host: {example}"));
        };
        let port = parsed.port_or_known_default().unwrap_or(80);
        Ok(BaseUrl {
            authority: format!("{host}:{port}"),
            origin: parsed.origin().ascii_serialization(),
            prefix: parsed.path().trim_end_matches('/').to_owned(),
        })
    }

    /// The full URL of `path` (which starts with `/`), for messages.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}{path}", self.origin, self.prefix)
    }
}

/// An answer: status, headers (names lower-cased, in order) and body.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Response {
    /// The first header named `name` (lower case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, when it is JSON.
    pub(crate) fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// The `code` of a Better Auth error body.
    pub(crate) fn code(&self) -> Option<String> {
        self.json()?.get("code")?.as_str().map(str::to_owned)
    }

    /// `403 INVALID_ORIGIN: Invalid origin`: the status with the server's code and
    /// message, or the start of the body when it is not a Better Auth error.
    pub(crate) fn summary(&self) -> String {
        let mut text = self.status.to_string();
        if let Some(json) = self.json() {
            if let Some(code) = json.get("code").and_then(|c| c.as_str()) {
                text.push(' ');
                text.push_str(code);
            }
            if let Some(message) = json.get("message").and_then(|m| m.as_str()) {
                text.push_str(": ");
                text.push_str(message);
            }
            return text;
        }
        let body: String = self
            .body
            .trim()
            .chars()
            .take(120)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if !body.is_empty() {
            text.push_str(": ");
            text.push_str(&body);
        }
        text
    }
}

/// Sends one request to `base` and reads the whole answer.
pub(crate) fn send(
    base: &BaseUrl,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> anyhow::Result<Response> {
    let addrs: Vec<_> = base
        .authority
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {}", base.authority))?
        .collect();
    let mut last_error = None;
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last_error = Some(e),
        }
    }
    let mut stream = match (stream, last_error) {
        (Some(stream), _) => stream,
        (None, Some(e)) => return Err(anyhow!("cannot connect to {}: {e}", base.origin)),
        (None, None) => bail!("{} resolves to no address", base.authority),
    };
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;

    let host = base
        .authority
        .strip_suffix(":80")
        .unwrap_or(&base.authority);
    let mut request = format!(
        "{method} {}{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
         User-Agent: better-auth-doctor\r\nAccept: application/json\r\n",
        base.prefix
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body.unwrap_or_default());
    stream
        .write_all(request.as_bytes())
        .with_context(|| format!("cannot send a request to {}", base.origin))?;

    let mut raw = Vec::new();
    if let Err(e) = stream.read_to_end(&mut raw) {
        // A server may reset the connection after a complete answer.
        if raw.is_empty() {
            return Err(anyhow!("no answer from {}: {e}", base.origin));
        }
    }
    parse(&raw).with_context(|| format!("{} sent an answer that is not HTTP", base.origin))
}

/// Parses a whole HTTP/1.1 response (fixed length, chunked, or up to close).
fn parse(raw: &[u8]) -> anyhow::Result<Response> {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("the answer ended before its headers did"))?;
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| anyhow!("bad status line `{status_line}`"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[head_end + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(len) = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        rest[..len.min(rest.len())].to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut data: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| anyhow!("a chunk has no size line"))?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| anyhow!("bad chunk size `{size_text}`"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        if data.len() < size {
            bail!("the answer ended inside a chunk");
        }
        body.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let base = BaseUrl::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(base.authority, "127.0.0.1:8080");
        assert_eq!(base.origin, "http://127.0.0.1:8080");
        assert_eq!(base.prefix, "");
        let base = BaseUrl::parse("http://LocalHost/app/").unwrap();
        assert_eq!(base.authority, "localhost:80");
        assert_eq!(base.origin, "http://localhost");
        assert_eq!(base.prefix, "/app");
        assert_eq!(base.url("/auth/ok"), "http://localhost/app/auth/ok");
        let base = BaseUrl::parse("http://[::1]:3000").unwrap();
        assert_eq!(base.authority, "[::1]:3000");
        assert!(BaseUrl::parse("https://app.example.com").is_err());
        assert!(BaseUrl::parse("localhost:8080").is_err());
    }

    #[test]
    fn parses_fixed_and_chunked_answers() {
        let fixed = parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nSet-Auth-Token: t\r\n\r\n{\"ok\":true}",
        )
        .unwrap();
        assert_eq!(fixed.status, 200);
        assert_eq!(fixed.header("set-auth-token"), Some("t"));
        assert_eq!(fixed.body, "{\"ok\":true}");
        let chunked = parse(
            b"HTTP/1.1 403 Forbidden\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{\"cod\r\n20\r\ne\":\"INVALID_ORIGIN\",\"message\":1}\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(chunked.code().as_deref(), Some("INVALID_ORIGIN"));
    }
}
