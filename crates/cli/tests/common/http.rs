//! A plain HTTP/1.1 client over loopback for the tests that drive `idforge serve` as a process
//! (one request per connection, `Connection: close`), so the bytes on the wire are exactly the
//! test's.
#![allow(clippy::unwrap_used)] // a test aborts on a failed exchange by design

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;

/// `Content-Type` of a form POST.
pub(crate) const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

/// `s` form-urlencoded.
pub(crate) fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// An `Authorization: Basic` value for a client (RFC 6749 §2.3.1; the ids here need no
/// form-encoding).
pub(crate) fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// The value of the hidden form field `name` of a page (as the pages escape it).
pub(crate) fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap() + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end]
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// A response: status, headers by lower-case name (repeated fields such as `Set-Cookie` joined
/// by newlines), body.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: HashMap<String, String>,
    pub(crate) body: String,
}

impl Resp {
    /// The body as JSON (panics with the body otherwise).
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

/// Sends one request to `addr` (`host:port`) and reads the whole response.
pub(crate) fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut headers = HashMap::new();
    for (k, v) in lines.filter_map(|l| l.split_once(':')) {
        let k = k.trim().to_ascii_lowercase();
        let v = v.trim().to_owned();
        headers
            .entry(k)
            .and_modify(|old: &mut String| {
                old.push('\n');
                old.push_str(&v);
            })
            .or_insert(v);
    }
    Resp {
        status,
        headers,
        body: body.to_owned(),
    }
}
