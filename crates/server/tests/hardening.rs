//! `idforge serve` under hostile clients, over real sockets on loopback where the class needs
//! one: stalled connections past the connection cap while a real client still gets discovery,
//! a stalled body answered 408, malformed chunked encoding answered as JSON; and in process:
//! oversized `POST /authorize`, 405 with `Allow`, the RFC 6750 §3.1 malformed bearer, the
//! login form's single use, headers and attempt limits.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod common;

use std::time::{Duration, Instant};

use axum::Router;
use common::{call, enc, get, hidden, post_form};
use idforge_server::{LimitsConfig, ServeConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CONFIG: &str = r#"
[[clients]]
client_id = "web"
client_secret = "web-secret"
redirect_uris = ["http://127.0.0.1:3000/callback"]
grant_types = ["authorization_code", "client_credentials"]

[[users]]
username = "alice"
password = "alice-password"

[login]
max_attempts_per_user = 3
"#;

fn app() -> Router {
    let config = ServeConfig::from_toml(CONFIG).unwrap();
    let idp = idforge_server::build(&config, "http://op.example").unwrap();
    idforge_server::router(&idp)
}

/// Serves `CONFIG` with `limits` (connection bounds here, request bounds through the
/// configuration's `[limits]`, which `router` applies) on a loopback port.
async fn spawn(limits: LimitsConfig) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = ServeConfig::from_toml(CONFIG).unwrap();
    config.limits = limits;
    let idp = idforge_server::build(&config, &format!("http://{addr}")).unwrap();
    let app = idforge_server::router(&idp);
    tokio::spawn(async move { idforge_server::serve_with_limits(listener, app, &limits).await });
    addr
}

/// Sends `request` raw and reads the response until the server closes or `deadline` passes.
async fn raw(addr: std::net::SocketAddr, request: &[u8], deadline: Duration) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(deadline, s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_connections_past_the_cap_do_not_starve_a_real_client() {
    let limits = LimitsConfig::new()
        .with_max_connections(8)
        .with_header_read_timeout(Duration::from_millis(300));
    let addr = spawn(limits).await;
    // Three times the cap in connections that send half a request head and stall.
    let mut stalled = Vec::new();
    for _ in 0..24 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        stalled.push(s);
    }
    let start = Instant::now();
    let resp = raw(
        addr,
        b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    let took = start.elapsed();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"issuer\""), "{resp}");
    // Stalled slots are reclaimed by the header read timeout (3 rounds of 300 ms here).
    assert!(took < Duration::from_secs(4), "{took:?}");
    // The stalled connections were closed by the server.
    let mut closed = 0;
    for mut s in stalled {
        let mut buf = [0u8; 64];
        if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await {
            closed += 1;
        }
    }
    assert_eq!(closed, 24);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_answered_408_and_malformed_chunking_400_as_json() {
    let limits = LimitsConfig::new().with_request_timeout(Duration::from_millis(300));
    let addr = spawn(limits).await;
    let resp = raw(
        addr,
        b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=",
        Duration::from_secs(5),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 408"), "{resp}");
    assert!(resp.contains("\"error\":\"invalid_request\""), "{resp}");

    let resp = raw(
        addr,
        b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    assert!(resp.contains("application/json"), "{resp}");
    assert!(resp.contains("\"error\":\"invalid_request\""), "{resp}");
}

#[tokio::test]
async fn oauth_endpoint_errors_are_rfc_json_with_the_right_status() {
    let app = app();
    // Oversized bodies: the token endpoint and POST /authorize.
    let big = format!("grant_type={}", "a".repeat(70 * 1024));
    for path in ["/token", "/authorize"] {
        let r = post_form(&app, path, &[], &big).await;
        assert_eq!(r.status, 413, "{path}: {}", r.body);
        assert_eq!(r.json()["error"], "invalid_request", "{path}");
    }
    // 405 with Allow: oauth-core's endpoints and the host's routes.
    for (method, path, allow) in [
        ("GET", "/token", "POST"),
        ("POST", "/.well-known/openid-configuration", "GET"),
        ("DELETE", "/authorize", "GET"),
        ("PUT", "/userinfo", "GET"),
    ] {
        let r = call(&app, method, path, &[], "").await;
        assert_eq!(r.status, 405, "{method} {path}: {}", r.body);
        assert!(
            r.headers.get("allow").is_some_and(|a| a.contains(allow)),
            "{method} {path}: {:?}",
            r.headers
        );
        assert_eq!(r.json()["error"], "invalid_request");
    }
    // 414 and 431 as JSON.
    let r = get(&app, &format!("/token?{}", "a".repeat(9000))).await;
    assert_eq!(r.status, 414);
    assert_eq!(r.json()["error"], "invalid_request");
    let r = call(
        &app,
        "GET",
        "/.well-known/openid-configuration",
        &[("x-big", &"b".repeat(17 * 1024))],
        "",
    )
    .await;
    assert_eq!(r.status, 431);
    assert_eq!(r.json()["error"], "invalid_request");
    // Unknown paths too.
    let r = get(&app, "/nope").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"], "invalid_request");
}

#[tokio::test]
async fn userinfo_answers_a_malformed_bearer_per_rfc_6750() {
    let app = app();
    for bad in ["Bearer", "Bearer a b", "Bearer \"x\""] {
        let r = call(&app, "GET", "/userinfo", &[("authorization", bad)], "").await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(r.json()["error"], "invalid_request");
        assert!(
            r.headers["www-authenticate"].starts_with("Bearer error=\"invalid_request\""),
            "{:?}",
            r.headers
        );
    }
    // A well-formed unknown token stays invalid_token; another scheme stays a bare challenge.
    let r = call(
        &app,
        "GET",
        "/userinfo",
        &[("authorization", "Bearer abc")],
        "",
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "invalid_token");
    let r = call(
        &app,
        "GET",
        "/userinfo",
        &[("authorization", "Basic YTpi")],
        "",
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.headers["www-authenticate"], "Bearer");
}

fn authorize_uri() -> String {
    format!(
        "/authorize?response_type=code&client_id=web&redirect_uri={}&scope=openid&state=st&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        enc("http://127.0.0.1:3000/callback")
    )
}

#[tokio::test]
async fn the_login_form_is_single_use_unframeable_uncached_and_attempt_limited() {
    let app = app();
    let page = get(&app, &authorize_uri()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    // The pages' own strict policy (issue 21): nothing by default, never framed.
    let csp = &page.headers["content-security-policy"];
    assert!(csp.starts_with("default-src 'none'; "), "{csp}");
    assert!(csp.ends_with("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert_eq!(page.headers["cache-control"], "no-store");
    let sealed = hidden(&page.body, "request");
    let login = |s: &str, pw: &str| format!("request={}&username=alice&password={pw}", enc(s));

    let r = post_form(&app, "/authorize", &[], &login(&sealed, "alice-password")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    // Replayed: refused, even with the right password.
    let r = post_form(&app, "/authorize", &[], &login(&sealed, "alice-password")).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("altered or expired"));
    assert_eq!(r.headers["x-frame-options"], "DENY");

    // `[login] max_attempts_per_user = 3`: the first sign-in above was one; two wrong
    // passwords, then even the right one is refused with 429.
    let mut form = hidden(&get(&app, &authorize_uri()).await.body, "request");
    for _ in 0..2 {
        let r = post_form(&app, "/authorize", &[], &login(&form, "wrong")).await;
        assert_eq!(r.status, 401, "{}", r.body);
        form = hidden(&r.body, "request");
    }
    let r = post_form(&app, "/authorize", &[], &login(&form, "alice-password")).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("too many sign-in attempts"));
    assert!(r.headers.contains_key("retry-after"));
}

#[test]
fn login_and_limits_values_are_checked_when_loaded() {
    for bad in [
        "[login]\npending_request_minutes = 0",
        "[login]\nmax_attempts_per_user = 0",
        "[limits]\nmax_connections = 0",
        "[limits]\nmax_header_bytes = 10000000",
    ] {
        assert!(ServeConfig::from_toml(bad).is_err(), "{bad}");
    }
    let c = ServeConfig::from_toml("[login]\npending_request_minutes = 2").unwrap();
    assert_eq!(c.login.pending_request_minutes, 2);
}

#[test]
fn unsafe_redirect_uris_and_unknown_grant_types_are_refused_at_load() {
    let client =
        |extra: &str| format!("[[clients]]\nclient_id = \"c\"\nclient_secret = \"s\"\n{extra}\n");
    for (extra, says) in [
        ("redirect_uris = [\"javascript:alert(1)\"]", "scheme"),
        ("redirect_uris = [\"data:text/html,x\"]", "scheme"),
        ("redirect_uris = [\"https://app.example/cb#x\"]", "fragment"),
        ("redirect_uris = [\"http://app.example/cb\"]", "loopback"),
        ("redirect_uris = [\"com.example.app:/cb\"]", "native"),
        (
            "redirect_uris = [\"https://app.example/cb\"]\ngrant_types = [\"authorization_cod\"]",
            "authorization_cod",
        ),
    ] {
        let config = ServeConfig::from_toml(&client(extra)).unwrap();
        let e = idforge_server::build(&config, "http://op.example")
            .unwrap_err()
            .to_string();
        assert!(e.contains(says), "{extra}: {e}");
    }
    // A public native client may use a private-use scheme.
    let config = ServeConfig::from_toml(
        "[[clients]]\nclient_id = \"n\"\nredirect_uris = [\"com.example.app:/cb\"]\n",
    )
    .unwrap();
    assert!(idforge_server::build(&config, "http://op.example").is_ok());
}
