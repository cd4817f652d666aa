//! The web app at `/app`: its files (`clients/web/dist`, built into the binary) over a
//! minimal HTTP/1.1 answer on the WebSocket port, and, only with `--demo-tokens`, demo
//! tokens at `/app/demo-token`.
//!
//! The listener peeks at a new socket's first bytes ([`is_app_request`]): a request
//! for `/app` or below comes here (`GET` and `HEAD` are served, other methods get
//! 405); everything else goes on to the WebSocket handshake untouched. A request here gets one answer and the socket is closed
//! (`Connection: close`): the app is four files, so keep-alive would buy nothing.

use std::time::Duration;

use plenary_auth::JwtKey;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::{Instant, timeout, timeout_at},
};
use tracing::{debug, warn};

use crate::{
    Settings,
    token::{self, TokenArgs},
};

/// One file of the app.
struct Asset {
    name: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal) => {
        Asset {
            name: $name,
            body: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../clients/web/dist/",
                $name
            )),
        }
    };
}

/// Every file of `clients/web/dist` (`npm run build` in `clients/web` writes them; a
/// test checks this list against the directory).
const ASSETS: &[Asset] = &[asset!("index.html"), asset!("app.js"), asset!("app.css")];

/// The longest request head read (the request line and headers).
const MAX_HEAD: usize = 8 * 1024;
/// How long a demo token lives.
const DEMO_TOKEN_TTL: Duration = Duration::from_secs(12 * 3600);

/// The app's half of the node: what it answers and whether it mints demo tokens.
pub struct App {
    demo: Option<DemoTokens>,
    write_timeout: Duration,
}

/// What a demo token is signed with: the node's own HS256 secret, `aud` and `iss`.
struct DemoTokens {
    jwt: plenary_auth::JwtArgs,
    secret: String,
}

impl App {
    /// The app of a node with `settings`. `--demo-tokens` on a node without an HS256
    /// secret was refused by [`crate::Config::validate`].
    pub fn new(settings: &Settings) -> Self {
        let demo = match (&settings.jwt_key, settings.config.demo_tokens) {
            (JwtKey::Secret(secret), true) => Some(DemoTokens {
                jwt: settings.config.jwt.clone(),
                secret: String::from_utf8_lossy(secret).into_owned(),
            }),
            _ => None,
        };
        if demo.is_some() {
            warn!(
                "DEMO TOKENS ARE ON (--demo-tokens): anyone who can reach this node's \
                 /app/demo-token gets a token for any user, moderators included. Never on \
                 a node people use for real."
            );
        }
        App {
            demo,
            write_timeout: settings.config.write_timeout(),
        }
    }

    /// Answers the one request of `stream` (which [`is_app_request`] chose) and
    /// closes it; the request head must arrive before `deadline`.
    pub async fn serve(&self, mut stream: TcpStream, deadline: Instant) {
        let mut head = Vec::with_capacity(1024);
        let read = timeout_at(deadline, read_head(&mut stream, &mut head)).await;
        let answer = match read {
            Ok(Ok(())) => self.answer(&head),
            Ok(Err(e)) => {
                debug!(error = %e, "app request unreadable");
                return;
            }
            Err(_) => {
                debug!("app request head not received in time");
                return;
            }
        };
        if timeout(self.write_timeout, stream.write_all(&answer))
            .await
            .is_err()
        {
            return;
        }
        // A FIN after the answer, then whatever the client still sends is read (for a
        // moment), so the close is not a reset that could destroy the answer in flight.
        let _ = stream.shutdown().await;
        let mut scratch = [0u8; 1024];
        let _ = timeout(Duration::from_secs(1), async {
            while matches!(stream.read(&mut scratch).await, Ok(1..)) {}
        })
        .await;
    }

    /// The whole HTTP answer to a request head.
    fn answer(&self, head: &[u8]) -> Vec<u8> {
        let Some((method, target)) = request_line(head) else {
            return response(400, "text/plain; charset=utf-8", b"bad request\n", false);
        };
        let head_only = method == "HEAD";
        if method != "GET" && !head_only {
            return response(405, "text/plain; charset=utf-8", b"GET only\n", false);
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let name = match path {
            "/app" | "/app/" => "index.html",
            _ => path.strip_prefix("/app/").unwrap_or(""),
        };
        if name == "demo-token" {
            return self.demo_token(query, head_only);
        }
        match ASSETS.iter().find(|a| a.name == name) {
            Some(asset) => response(200, content_type(asset.name), asset.body, head_only),
            None => response(404, "text/plain; charset=utf-8", b"not found\n", head_only),
        }
    }

    /// `/app/demo-token?sub=…&name=…&moderates=a,b`: a token for anyone who asks, so
    /// only with `--demo-tokens`; without it the path does not exist.
    fn demo_token(&self, query: &str, head_only: bool) -> Vec<u8> {
        let text = "text/plain; charset=utf-8";
        let Some(demo) = &self.demo else {
            return response(404, text, b"not found\n", head_only);
        };
        let mut args = TokenArgs {
            sub: String::new(),
            name: None,
            email: None,
            moderates: Vec::new(),
            admin: false,
            ttl: DEMO_TOKEN_TTL,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let Some(value) = percent_decode(value) else {
                return response(400, text, b"bad percent-encoding\n", head_only);
            };
            match key {
                "sub" => args.sub = value,
                "name" if !value.trim().is_empty() => args.name = Some(value),
                "moderates" => args.moderates.extend(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(String::from),
                ),
                _ => {}
            }
        }
        match token::mint(&demo.jwt, &args, Some(&demo.secret)) {
            Ok(token) => {
                debug!(sub = %args.sub, moderates = ?args.moderates, "demo token minted");
                response(200, text, format!("{token}\n").as_bytes(), head_only)
            }
            Err(e) => response(400, text, format!("{e}\n").as_bytes(), head_only),
        }
    }
}

/// Whether the socket's request is for the app: waits (until `deadline`) for enough
/// of its first bytes to tell, and consumes none of them.
pub async fn is_app_request(stream: &TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 16];
    loop {
        let n = match timeout_at(deadline, stream.peek(&mut buf)).await {
            Ok(Ok(n)) => n,
            _ => return false,
        };
        match route(&buf[..n]) {
            Some(is_app) => return is_app,
            // A request line split across segments (rare): wait for the rest. Peek
            // does not wait for more than what is there, so pause instead.
            None if n > 0 => tokio::time::sleep(Duration::from_millis(5)).await,
            None => return false,
        }
    }
}

/// Some(true) for the start of a request for `/app` or below (any method: the app
/// answers 405 to what it does not serve), Some(false) for anything else, None while
/// the bytes so far could still be either.
fn route(start: &[u8]) -> Option<bool> {
    const PATH: &[u8] = b"/app";
    const MAX_METHOD: usize = 7; // OPTIONS
    let method = |m: &[u8]| m.len() <= MAX_METHOD && m.iter().all(u8::is_ascii_uppercase);
    let Some(space) = start.iter().position(|&b| b == b' ') else {
        return if method(start) { None } else { Some(false) };
    };
    if space == 0 || !method(&start[..space]) {
        return Some(false);
    }
    let target = &start[space + 1..];
    if target.len() <= PATH.len() {
        return if PATH.starts_with(target) {
            None
        } else {
            Some(false)
        };
    }
    Some(target.starts_with(PATH) && matches!(target[PATH.len()], b' ' | b'/' | b'?'))
}

/// Reads until the end of the request head (the empty line), at most [`MAX_HEAD`].
async fn read_head(stream: &mut TcpStream, head: &mut Vec<u8>) -> std::io::Result<()> {
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&buf[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            return Ok(());
        }
        if head.len() > MAX_HEAD {
            return Err(std::io::Error::other("request head too long"));
        }
    }
}

/// The method and target of a request head's first line.
fn request_line(head: &[u8]) -> Option<(&str, &str)> {
    let line = head.split(|&b| b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    (version.starts_with("HTTP/1.") && parts.next().is_none()).then_some((method, target))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// A whole HTTP/1.1 answer. The app loads nothing from elsewhere, and the policy says so.
fn response(status: u16, content_type: &str, body: &[u8], head_only: bool) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\n\
         Content-Type: {content_type}\r\n\
         Content-Length: {}\r\n\
         Cache-Control: no-cache\r\n\
         X-Content-Type-Options: nosniff\r\n\
         Referrer-Policy: no-referrer\r\n\
         Content-Security-Policy: default-src 'self'; connect-src 'self'; img-src 'self' data:; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'none'\r\n\
         {}Connection: close\r\n\r\n",
        body.len(),
        if status == 405 {
            "Allow: GET, HEAD\r\n"
        } else {
            ""
        },
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body);
    }
    out
}

/// `%XX` and `+` (a space) decoded; None for a broken escape or invalid UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_requests_are_told_from_websocket_ones() {
        assert_eq!(route(b"GET /app HTTP/1.1\r\n"), Some(true));
        assert_eq!(route(b"GET /app/ HTTP/1.1"), Some(true));
        assert_eq!(route(b"GET /app/app.js HTT"), Some(true));
        assert_eq!(route(b"GET /app?x=1 HTTP/1"), Some(true));
        assert_eq!(route(b"HEAD /app HTTP/1.1"), Some(true));
        assert_eq!(route(b"GET /ws HTTP/1.1\r\n"), Some(false));
        assert_eq!(route(b"GET / HTTP/1.1\r\n"), Some(false));
        assert_eq!(route(b"GET /apple HTTP/1.1"), Some(false));
        assert_eq!(route(b"POST /app HTTP/1.1"), Some(true));
        assert_eq!(route(b"OPTIONS /app/ HTTP"), Some(true));
        assert_eq!(route(b"GET /ws"), Some(false));
        assert_eq!(route(b"get /app HTTP/1.1"), Some(false));
        assert_eq!(route(b"\x16\x03\x01\x02\x00"), Some(false));
        assert_eq!(route(b"GET /ap"), None);
        assert_eq!(route(b"GET /app"), None);
        assert_eq!(route(b""), None);
    }

    #[test]
    fn every_built_file_is_served_and_only_those() {
        let dist = concat!(env!("CARGO_MANIFEST_DIR"), "/../clients/web/dist");
        let mut on_disk: Vec<String> = std::fs::read_dir(dist)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        on_disk.sort();
        let mut served: Vec<String> = ASSETS.iter().map(|a| a.name.to_string()).collect();
        served.sort();
        assert_eq!(on_disk, served, "ASSETS must list clients/web/dist exactly");
        for asset in ASSETS {
            assert_ne!(content_type(asset.name), "application/octet-stream");
        }
    }

    #[test]
    fn queries_decode() {
        assert_eq!(percent_decode("Ann+Lee%21").as_deref(), Some("Ann Lee!"));
        assert_eq!(percent_decode("%C3%A9").as_deref(), Some("é"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%FF"), None);
    }

    #[test]
    fn request_lines_parse() {
        assert_eq!(
            request_line(b"GET /app/x HTTP/1.1\r\nHost: a\r\n\r\n"),
            Some(("GET", "/app/x"))
        );
        assert_eq!(request_line(b"GET /app\r\n\r\n"), None);
    }
}
