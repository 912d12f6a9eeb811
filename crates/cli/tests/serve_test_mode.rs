//! `idforge serve --test`: the test provider as a standalone process, driven over HTTP the
//! way a suite in another language drives it (control endpoint: mint, move the clock, script
//! the login; discovery and JWKS).
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

struct Running {
    child: Child,
    base: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_idforge"))
        .args(["serve", "--test", "--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .split_once("listening on ")
        .map(|(_, b)| b.trim().to_owned())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    // Keep reading stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Running { child, base }
}

/// One HTTP/1.1 exchange; returns status, headers (lowercase names) and body.
fn request(base: &str, method: &str, path: &str, body: Option<Value>) -> (u16, String, Vec<u8>) {
    let host = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_lowercase();
    let status = head[9..12].parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, head, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16)
                .unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap()
}

fn payload(token: &str) -> Value {
    let p = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&idforge_jose::b64::decode(p, "payload").unwrap()).unwrap()
}

#[test]
fn serve_test_mints_moves_the_clock_and_scripts_logins_over_http() {
    let server = start(&["--seed", "5", "--issuer", "", "--issuer", "tenant:ES256"]);
    let base = &server.base;

    // Discovery of both issuers, each with its algorithm.
    let (status, _, body) = request(base, "GET", "/.well-known/openid-configuration", None);
    assert_eq!(status, 200);
    assert_eq!(json_of(&body)["issuer"], base.as_str());
    let (_, _, body) = request(
        base,
        "GET",
        "/tenant/.well-known/openid-configuration",
        None,
    );
    let meta = json_of(&body);
    assert_eq!(meta["issuer"], format!("{base}/tenant"));
    assert_eq!(
        meta["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );

    // Mint; the clock starts at the fixed default, so the token is the same every run.
    let mint = json!({"subject": "alice", "audience": "api", "scope": "read"});
    let (status, _, body) = request(base, "POST", "/_test/token", Some(mint.clone()));
    assert_eq!(status, 200);
    let token = json_of(&body)["token"].as_str().unwrap().to_owned();
    let claims = payload(&token);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["iat"], idforge_testing::DEFAULT_START_TIME);
    // A second process with the same seed mints the same first token.
    let twin = start(&["--seed", "5", "--issuer", "", "--issuer", "tenant:ES256"]);
    let (_, _, body) = request(&twin.base, "POST", "/_test/token", Some(mint));
    let twin_claims = payload(json_of(&body)["token"].as_str().unwrap());
    // Only the issuer (its port) differs.
    assert_eq!(claims["jti"], twin_claims["jti"]);
    assert_eq!(claims["exp"], twin_claims["exp"]);
    drop(twin);

    // The clock moves only on request.
    let (_, _, body) = request(base, "POST", "/_test/clock", Some(json!({"advance": 600})));
    assert_eq!(
        json_of(&body)["now"],
        idforge_testing::DEFAULT_START_TIME + 600
    );
    let (_, _, body) = request(
        base,
        "POST",
        "/_test/token",
        Some(json!({"subject": "bob", "defect": "expired"})),
    );
    let expired = payload(json_of(&body)["token"].as_str().unwrap());
    assert!(expired["exp"].as_i64().unwrap() < idforge_testing::DEFAULT_START_TIME + 600);

    // A scripted login answers the authorization endpoint with a redirect.
    let (status, _, _) = request(
        base,
        "POST",
        "/_test/login",
        Some(json!({"subject": "alice"})),
    );
    assert_eq!(status, 204);
    let (status, head, _) = request(
        base,
        "GET",
        "/authorize?response_type=code&client_id=test-client&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&scope=openid&state=xyz",
        None,
    );
    assert_eq!(status, 303);
    assert!(head.contains("location: http://127.0.0.1/callback?code="));
    assert!(head.contains("state=xyz"));
}

#[test]
fn serve_test_refuses_a_configuration_and_unknown_algorithms() {
    let out = common::idforge(&["serve", "--test", "--config", "x.toml"], b"");
    assert_eq!(out.status.code(), Some(2));
    let out = common::idforge(&["serve", "--test", "--issuer", "a:HS256"], b"");
    assert_eq!(out.status.code(), Some(2));
    let out = common::idforge(&["serve", "--seed", "3"], b"");
    assert_eq!(out.status.code(), Some(2));
}
