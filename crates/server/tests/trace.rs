//! The request spans of `idforge_server::router` with a subscriber listening (in process, the
//! subscriber set for this thread): the fields recorded, the handlers still getting the form
//! the span layer read, the body limit still answering 413, and no secret in the output.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{basic, call, post_form};
use idforge_server::ServeConfig;

const CONFIG: &str = r#"
[limits]
max_body_bytes = 1024

[[clients]]
client_id = "backend"
client_secret = "backend-secret-Xq81"
grant_types = ["client_credentials"]
scopes = ["profile"]
"#;

/// A writer appending to a shared buffer (what the subscriber prints).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[tokio::test]
async fn spans_record_the_request_and_keep_its_behaviour() {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let state = idforge_server::build(
        &ServeConfig::from_toml(CONFIG).unwrap(),
        "http://op.example",
    )
    .unwrap();
    let app = idforge_server::router(&state);

    // The handler gets the form the span layer read: a token is issued.
    let auth = basic("backend", "backend-secret-Xq81");
    let ok = post_form(
        &app,
        "/token",
        &[("authorization", &auth), ("x-request-id", "req-42")],
        "grant_type=client_credentials&scope=profile",
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let token = ok.json()["access_token"].as_str().unwrap().to_owned();

    // client_secret_post's secret is in the body: only client_id is recorded.
    let bad = post_form(
        &app,
        "/token",
        &[],
        "grant_type=client_credentials&client_id=backend&client_secret=wrong-secret-Pz07",
    )
    .await;
    assert_eq!(bad.status, 401, "{}", bad.body);

    // Past max_body_bytes: still 413 with the JSON error, now recorded.
    let big = format!("grant_type=client_credentials&pad={}", "a".repeat(2048));
    let too_large = post_form(&app, "/token", &[("authorization", &auth)], &big).await;
    assert_eq!(too_large.status, 413);
    assert_eq!(too_large.json()["error"], "invalid_request");

    let userinfo = call(
        &app,
        "GET",
        "/userinfo",
        &[("authorization", "Bearer not-a-token-Kd55")],
        "",
    )
    .await;
    assert_eq!(userinfo.status, 401);

    let log = out.text();
    for expected in [
        "request_id=\"req-42\"",
        "endpoint=\"/token\"",
        "client_id=\"backend\"",
        "grant_type=\"client_credentials\"",
        "status=200",
        "status=401 error=\"invalid_client\"",
        "status=413 error=\"invalid_request\"",
        "endpoint=\"/userinfo\"",
        "error=\"invalid_token\"",
        "latency_ms=",
    ] {
        assert!(log.contains(expected), "missing {expected} in:\n{log}");
    }
    for secret in [
        "backend-secret-Xq81",
        "wrong-secret-Pz07",
        "not-a-token-Kd55",
        auth.strip_prefix("Basic ").unwrap(),
        token.as_str(),
        token.rsplit('.').next().unwrap(),
    ] {
        assert!(!log.contains(secret), "{secret} logged:\n{log}");
    }
}
