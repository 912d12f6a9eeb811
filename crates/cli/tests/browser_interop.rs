//! The pages of `idforge serve` in a real browser: headless Chromium driven over WebDriver
//! (Debian's `chromium` and `chromium-driver`, installed by `.ci/browser.sh`). Signs in at one
//! relying party (login page, "remember me"), single sign-on into a second one without a form,
//! the consent page (`prompt=consent`), the device entry page, then logs out through the
//! confirmation page and checks that the browser requested both RPs' front-channel logout URIs
//! before being redirected. Screenshots of each page go to `target/browser/`.
//!
//! WebDriver is plain JSON over HTTP/1.1 (W3C WebDriver §6); this test speaks it with a few
//! lines over `std::net`, so no client library is needed. Skips with a printed reason when
//! Chromium is absent, unless `IDFORGE_INTEROP=require`.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod interop_common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use interop_common::{peers_ready, Serve};
use serde_json::{json, Value};

/// One HTTP/1.1 exchange over a fresh connection: the status and the body.
fn http(method: &str, url: &str, content_type: &str, body: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut s = TcpStream::connect(authority).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // Read the head, then the body by Content-Length or chunks (a server may keep the
    // connection open despite `Connection: close`).
    let mut reader = BufReader::new(s);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let (mut length, mut chunked) = (None, false);
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse::<usize>().ok();
        }
        if lower == "transfer-encoding: chunked" {
            chunked = true;
        }
    }
    let mut out = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).unwrap();
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            let mut chunk = vec![0u8; n + 2];
            reader.read_exact(&mut chunk).unwrap();
            out.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = length {
        out.resize(n, 0);
        reader.read_exact(&mut out).unwrap();
    } else {
        reader.read_to_end(&mut out).unwrap();
    }
    (status, String::from_utf8_lossy(&out).into_owned())
}

/// A WebDriver session on a `chromedriver`, quit (and the driver stopped) when dropped.
struct Browser {
    driver: Child,
    base: String,
    session: String,
}

impl Browser {
    fn start() -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1024,768"]
            }
        }}});
        let (status, body) = http(
            "POST",
            &format!("{base}/session"),
            "application/json",
            &caps.to_string(),
        );
        assert_eq!(status, 200, "new session: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let session = v["value"]["sessionId"].as_str().unwrap().to_owned();
        Browser {
            driver,
            base,
            session,
        }
    }

    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let (status, text) = http(method, &url, "application/json", &body);
        assert_eq!(status, 200, "{method} {path}: {text}");
        serde_json::from_str::<Value>(&text).unwrap()["value"].take()
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({ "url": url }));
    }

    fn url(&self) -> String {
        self.cmd("GET", "/url", Value::Null)
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn source(&self) -> String {
        self.cmd("GET", "/source", Value::Null)
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn element(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        v["element-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.element(css);
        self.cmd(
            "POST",
            &format!("/element/{e}/value"),
            json!({ "text": text }),
        );
    }

    fn click(&self, css: &str) {
        let e = self.element(css);
        self.cmd("POST", &format!("/element/{e}/click"), json!({}));
    }

    /// Saves a PNG screenshot under `target/browser/`.
    fn screenshot(&self, name: &str) {
        use base64::Engine;
        let b64 = self.cmd("GET", "/screenshot", Value::Null);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        let dir = artifacts();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Waits until the page contains `text`.
    fn wait_for_text(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self.source().contains(text) {
            assert!(
                Instant::now() < deadline,
                "no {text:?} in {}",
                self.source()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the current URL starts with `prefix`.
    fn wait_for_url(&self, prefix: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let url = self.url();
            if url.starts_with(prefix) {
                return url;
            }
            assert!(
                Instant::now() < deadline,
                "still at {url}, expected {prefix}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = std::panic::catch_unwind(|| http("DELETE", &url, "application/json", ""));
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn artifacts() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/browser"))
}

/// A relying party on loopback: answers every GET with a small page and records the request
/// targets (path and query) it saw.
fn relying_party() -> (u16, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut reader = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            // Drain the headers.
            let mut h = String::new();
            while reader.read_line(&mut h).is_ok_and(|n| n > 2) {
                h.clear();
            }
            let target = line.split(' ').nth(1).unwrap_or("").to_owned();
            log.lock().unwrap().push(target.clone());
            let body = format!("<!DOCTYPE html><html><body><p>RP page {target}</p></body></html>");
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, seen)
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[test]
fn login_sso_consent_device_and_logout_in_chromium() {
    let test = "browser test with headless chromium";
    let missing = ["chromium", "chromedriver"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_err())
        .map(str::to_owned);
    if !peers_ready(test, missing, ".ci/browser.sh") {
        return;
    }
    let (a, seen_a) = relying_party();
    let (b, seen_b) = relying_party();
    let config = format!(
        r#"
[[clients]]
client_id = "rp1"
client_secret = "rp1-secret"
redirect_uris = ["http://127.0.0.1:{a}/callback"]
post_logout_redirect_uris = ["http://127.0.0.1:{a}/bye"]
frontchannel_logout_uri = "http://127.0.0.1:{a}/fc"
frontchannel_logout_session_required = true

[[clients]]
client_id = "rp2"
client_secret = "rp2-secret"
redirect_uris = ["http://127.0.0.1:{b}/callback"]
frontchannel_logout_uri = "http://127.0.0.1:{b}/fc?rp=2"

[[clients]]
client_id = "tv"
grant_types = ["urn:ietf:params:oauth:grant-type:device_code"]
token_endpoint_auth_method = "none"

[[users]]
username = "alice"
password = "alice-password"
"#
    );
    let server = Serve::start("browser", Some(&config));
    let issuer = server.issuer.clone();
    let authorize = |client: &str, port: u16, extra: &str| {
        format!(
            "{issuer}/authorize?response_type=code&client_id={client}&redirect_uri={}&scope=openid&state=s{extra}",
            enc(&format!("http://127.0.0.1:{port}/callback"))
        )
    };
    let browser = Browser::start();

    // 1. The login page: sign in at rp1, remembered.
    browser.goto(&authorize("rp1", a, ""));
    assert!(browser.source().contains("Sign in"));
    browser.type_into("input[name=username]", "alice");
    browser.type_into("input[name=password]", "alice-password");
    browser.click("input[name=remember_me]");
    browser.screenshot("1-login");
    browser.click("button[type=submit]");
    let back = browser.wait_for_url(&format!("http://127.0.0.1:{a}/callback?code="));
    assert!(back.contains("state=s"));

    // 2. Single sign-on into rp2: straight back with a code, no form.
    browser.goto(&authorize("rp2", b, ""));
    browser.wait_for_url(&format!("http://127.0.0.1:{b}/callback?code="));

    // 3. The consent page (prompt=consent inside the session), approved.
    browser.goto(&authorize("rp2", b, "&prompt=consent"));
    assert!(
        browser.source().contains("Allow access?"),
        "consent, not login"
    );
    browser.screenshot("2-consent");
    browser.click("button[name=decision][value=approve]");
    browser.wait_for_url(&format!("http://127.0.0.1:{b}/callback?code="));

    // 4. The device entry page, pre-filled from verification_uri_complete.
    let (status, body) = http(
        "POST",
        &format!("{issuer}/device_authorization"),
        "application/x-www-form-urlencoded",
        "client_id=tv&scope=openid",
    );
    assert_eq!(status, 200, "{body}");
    let device: Value = serde_json::from_str(&body).unwrap();
    browser.goto(device["verification_uri_complete"].as_str().unwrap());
    let page = browser.source();
    assert!(
        page.contains(device["user_code"].as_str().unwrap()),
        "{page}"
    );
    browser.type_into("input[name=username]", "alice");
    browser.type_into("input[name=password]", "alice-password");
    browser.screenshot("3-device");
    browser.click("button[name=decision][value=approve]");
    browser.wait_for_text("Client <code>tv</code>");
    assert!(!browser.source().contains("name=\"password\""));
    browser.screenshot("4-device-done");

    // 5. Logout without an id_token_hint: the confirmation page, then the logged-out page
    // renders both RPs' front-channel iframes and redirects to rp1's registered URI.
    browser.goto(&format!(
        "{issuer}/logout?client_id=rp1&post_logout_redirect_uri={}&state=bye",
        enc(&format!("http://127.0.0.1:{a}/bye"))
    ));
    assert!(browser.source().contains("Sign out?"));
    browser.screenshot("5-logout-confirm");
    browser.click("button[name=decision][value=approve]");
    browser.wait_for_text("You are signed out");
    browser.screenshot("6-logged-out");
    let bye = browser.wait_for_url(&format!("http://127.0.0.1:{a}/bye"));
    assert!(bye.ends_with("?state=bye"), "{bye}");
    browser.screenshot("7-redirected");
    let fc_a: Vec<String> = seen_a
        .lock()
        .unwrap()
        .iter()
        .filter(|t| t.starts_with("/fc"))
        .cloned()
        .collect();
    assert_eq!(fc_a.len(), 1, "{fc_a:?}");
    assert!(
        fc_a[0].starts_with(&format!("/fc?iss={}&sid=", enc(&issuer))),
        "{fc_a:?}"
    );
    assert!(
        seen_b.lock().unwrap().iter().any(|t| t == "/fc?rp=2"),
        "{:?}",
        seen_b.lock().unwrap()
    );

    // 6. The session is over: rp2 gets the login page again.
    browser.goto(&authorize("rp2", b, ""));
    assert!(browser.source().contains("Sign in"));
}
