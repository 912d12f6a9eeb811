//! The one outbound HTTP POST `idforge serve` makes to relying parties: CIBA ping and push
//! notifications (CIBA Core §10.2, §10.3, JSON with a bearer token) and back-channel Logout
//! Tokens (Back-Channel Logout 1.0 §2.5, a form). HTTP/1.1 over a tokio socket, reading only
//! the status line; the caller bounds it with a timeout and decides on retries.
//!
//! `idforge serve` has no TLS client (decision 0001 keeps OpenSSL behind `idforge-jose`, which
//! does no I/O), so `https://` endpoints fail here and are reported by the callers; a host
//! embedding the crates implements the ports (`LogoutNotifier`, CIBA's `Notifier`) with its
//! own HTTPS client.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What is posted.
pub(crate) struct Post<'a> {
    /// `Content-Type` of `body`.
    pub(crate) content_type: &'a str,
    /// A bearer token for `Authorization`, if any.
    pub(crate) bearer: Option<&'a str>,
    /// The body.
    pub(crate) body: &'a str,
}

/// POSTs to an `http://` URL; returns the response status.
pub(crate) async fn post(url: &str, what: Post<'_>) -> std::io::Result<u16> {
    let invalid = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, m.to_owned());
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| invalid("only http:// endpoints can be reached from serve"))?;
    // The path may be empty, or start with the query (`http://host?x=1`).
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
        Some(i) => (&rest[..i], rest[i..].to_owned()),
        None => (rest, "/".to_owned()),
    };
    let has_port = authority
        .rsplit(':')
        .next()
        .is_some_and(|p| p.parse::<u16>().is_ok())
        && !authority.ends_with(']');
    let addr = if has_port {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let authorization = what
        .bearer
        .map(|b| format!("Authorization: Bearer {b}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\n{authorization}Content-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        what.content_type,
        what.body.len(),
        what.body
    );
    stream.write_all(request.as_bytes()).await?;
    // The status line is enough.
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 4096 {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    line.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("malformed HTTP response"))
}
