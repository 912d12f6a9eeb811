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

use interop_common::{missing_npm, node_dir, peers_ready, Serve};
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

    /// Runs a script in the page (W3C WebDriver §13.2.1 Execute Script) and returns its value.
    fn script(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": [] }),
        )
    }

    /// Emulates a viewport `width` CSS pixels wide (Chrome DevTools Protocol through
    /// chromedriver's `goog/cdp/execute`), as a phone below 500 px.
    fn viewport(&self, width: u32) {
        let height = if width < 600 { 812 } else { 900 };
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600
            }}),
        );
        assert_eq!(self.script("return window.innerWidth;"), json!(width));
    }

    /// Injects axe-core (the page's Content-Security-Policy does not apply to WebDriver's
    /// scripts) and returns every violation of its rules (WCAG 2.1 A and AA and best
    /// practices) as `rule: targets`.
    fn axe(&self, axe_source: &str) -> Vec<String> {
        self.script(&format!("{axe_source}\nreturn true;"));
        let v = self.cmd(
            "POST",
            "/execute/async",
            json!({"script": "const done = arguments[arguments.length - 1];\
                axe.run(document, {resultTypes: ['violations']})\
                  .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' +\
                    v.nodes.map(n => n.target.join(' ') + ' ' + n.failureSummary).join(' | '))))\
                  .catch(e => done(['axe failed: ' + e]));",
                   "args": []}),
        );
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect()
    }

    /// At 375 px and 1280 px: a screenshot `pages/<name>-<width>.png` and no axe violation.
    fn check_page(&self, axe_source: &str, name: &str) {
        for width in [375, 1280] {
            self.viewport(width);
            self.screenshot(&format!("pages/{name}-{width}"));
            let violations = self.axe(axe_source);
            assert!(
                violations.is_empty(),
                "{name} at {width}px: {violations:#?}"
            );
            // No horizontal scrolling at any width (WCAG 2.1 §1.4.10 Reflow).
            assert_eq!(
                self.script("return document.documentElement.scrollWidth <= window.innerWidth;"),
                json!(true),
                "{name} scrolls sideways at {width}px"
            );
        }
    }

    /// Saves a PNG screenshot under `target/browser/`.
    fn screenshot(&self, name: &str) {
        use base64::Engine;
        let b64 = self.cmd("GET", "/screenshot", Value::Null);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        let path = artifacts().join(format!("{name}.png"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
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
    browser.wait_for_text("Sign in");
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
    // Consent, not login.
    browser.wait_for_text("Allow access?");
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
    browser.wait_for_text(device["user_code"].as_str().unwrap());
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
    browser.wait_for_text("Sign out?");
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
    browser.wait_for_text("Sign in");
}

/// Serves one small SVG logo on loopback (any path); returns its URL.
fn logo_server() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut reader = BufReader::new(s.try_clone().unwrap());
            let mut h = String::new();
            while reader.read_line(&mut h).is_ok_and(|n| n > 2) {
                h.clear();
            }
            let body = r##"<svg xmlns="http://www.w3.org/2000/svg" width="160" height="40" viewBox="0 0 160 40"><rect width="40" height="40" rx="8" fill="#8a1538"/><text x="50" y="28" font-family="sans-serif" font-size="22" font-weight="700" fill="#8a1538">ACME</text></svg>"##;
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: image/svg+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://127.0.0.1:{port}/acme-logo.svg")
}

/// The chromedriver and axe-core, or a printed skip.
fn pages_peers(test: &str) -> Option<String> {
    let missing = ["chromium", "chromedriver"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_err())
        .map(str::to_owned)
        .or_else(|| missing_npm(&["axe-core"]));
    if !peers_ready(test, missing, ".ci/browser.sh and .ci/pages.sh") {
        return None;
    }
    Some(std::fs::read_to_string(node_dir().join("node_modules/axe-core/axe.min.js")).unwrap())
}

/// Every hosted page (login and its error, consent with claims, the device entry, prompt and
/// result, the CIBA login, approval with `authorization_details` and result, the logout
/// confirmation, cancellation and logged-out page, the error page) at 375 px and 1280 px:
/// a screenshot under `target/browser/pages/` and no axe-core violation; the form_post page
/// submits itself under its Content-Security-Policy.
#[test]
fn every_page_at_phone_and_desktop_widths_has_no_accessibility_violation() {
    let Some(axe) = pages_peers("pages accessibility test with headless chromium and axe-core")
    else {
        return;
    };
    let (a, seen_a) = relying_party();
    let ciba = "urn:openid:params:grant-type:ciba";
    let config = format!(
        r#"
[[clients]]
client_id = "photos"
client_secret = "photos-secret"
redirect_uris = ["http://127.0.0.1:{a}/callback"]
frontchannel_logout_uri = "http://127.0.0.1:{a}/fc"
[clients.branding]
name = "Photo Album"
home_url = "http://127.0.0.1:{a}/"

[[clients]]
client_id = "tv"
grant_types = ["urn:ietf:params:oauth:grant-type:device_code"]
token_endpoint_auth_method = "none"

[[clients]]
client_id = "assistant"
client_secret = "assistant-secret"
grant_types = ["{ciba}"]

[[users]]
username = "alice"
password = "alice-password"

[branding]
footer_links = [{{ label = "Privacy", url = "http://127.0.0.1:{a}/privacy" }}, {{ label = "Help", url = "http://127.0.0.1:{a}/help" }}]
"#
    );
    let server = Serve::start("pages", Some(&config));
    let issuer = server.issuer.clone();
    let authorize = |extra: &str| {
        format!(
            "{issuer}/authorize?response_type=code&client_id=photos&redirect_uri={}&scope={}&state=s{extra}",
            enc(&format!("http://127.0.0.1:{a}/callback")),
            enc("openid profile email offline_access")
        )
    };
    let browser = Browser::start();

    // The error page: an unknown application, explained, the code only as a detail.
    browser.goto(&format!(
        "{issuer}/authorize?response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fevil.example%2F"
    ));
    browser.wait_for_text("<h1>Something went wrong</h1>");
    let page = browser.source();
    assert!(
        page.contains("Go back to the application and try again"),
        "{page}"
    );
    // The protocol code only inside the collapsed details.
    let (before, details) = page.split_once("<details>").unwrap();
    assert!(!before.contains("invalid_request") && details.contains("invalid_request"));
    browser.check_page(&axe, "error");

    // Login, a failed attempt, then the right password.
    browser.goto(&authorize(""));
    browser.wait_for_text("Photo Album");
    browser.check_page(&axe, "login");
    browser.type_into("input[name=username]", "alice");
    browser.type_into("input[name=password]", "wrong");
    browser.click("button.primary");
    browser.wait_for_text("wrong username or password");
    // The typed name stays; only the password is asked again.
    assert_eq!(
        browser.script("return document.getElementById('username').value;"),
        json!("alice")
    );
    browser.check_page(&axe, "login-error");
    browser.type_into("input[name=password]", "alice-password");
    browser.click("button.primary");
    browser.wait_for_url(&format!("http://127.0.0.1:{a}/callback?code="));

    // Consent with individually requested claims, in French by ui_locales.
    let claims = enc(r#"{"userinfo":{"given_name":null,"email":null}}"#);
    browser.goto(&authorize(&format!("&prompt=consent&claims={claims}")));
    browser.wait_for_text("Allow access?");
    browser.wait_for_text("your first name");
    browser.check_page(&axe, "consent");
    browser.goto(&authorize(&format!(
        "&prompt=consent&claims={claims}&ui_locales=fr"
    )));
    browser.wait_for_text("Autoriser l'accès ?");
    browser.wait_for_text("lang=\"fr\"");
    browser.check_page(&axe, "consent-fr");
    browser.click("button[name=decision][value=approve]");
    browser.wait_for_url(&format!("http://127.0.0.1:{a}/callback?code="));

    // form_post: the auto-submit script runs under the page's CSP (allowed by its hash).
    browser.goto(&authorize("&response_mode=form_post"));
    // The POST's target has no query (the parameters are in the body).
    let deadline = Instant::now() + Duration::from_secs(15);
    while !seen_a.lock().unwrap().iter().any(|t| t == "/callback") {
        assert!(
            Instant::now() < deadline,
            "the form was not POSTed to the callback"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    browser.wait_for_url(&format!("http://127.0.0.1:{a}/callback"));
    browser.wait_for_text("RP page /callback</p>");
    // The checker itself: the relying party's bare page (no `lang`, no title) is caught.
    let rp_violations = browser.axe(&axe);
    assert!(
        rp_violations.iter().any(|v| v.starts_with("html-has-lang")),
        "{rp_violations:?}"
    );

    // The device entry page, then with the code known, then its result.
    browser.goto(&format!("{issuer}/device"));
    browser.wait_for_text("Enter the code shown on your device.");
    browser.check_page(&axe, "device-entry");
    let (status, body) = http(
        "POST",
        &format!("{issuer}/device_authorization"),
        "application/x-www-form-urlencoded",
        "client_id=tv&scope=openid%20profile",
    );
    assert_eq!(status, 200, "{body}");
    let device: Value = serde_json::from_str(&body).unwrap();
    browser.goto(device["verification_uri_complete"].as_str().unwrap());
    browser.wait_for_text("asks to access your account:");
    browser.check_page(&axe, "device-prompt");
    browser.type_into("input[name=username]", "alice");
    browser.type_into("input[name=password]", "alice-password");
    browser.click("button[name=decision][value=approve]");
    browser.wait_for_text("Device connected");
    browser.check_page(&axe, "device-done");

    // CIBA: the login for the request, the approval with its task, the result.
    let details = r#"[{"type":"payment_initiation","instructed_amount":{"currency":"EUR","amount":"42.00"},"creditor_name":"Bakery"}]"#;
    let basic = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode("assistant:assistant-secret")
    };
    let body = format!(
        "scope=openid&login_hint=alice&binding_message=PAY-42&authorization_details={}",
        enc(details)
    );
    let (status, text) = http_with_auth(
        &format!("{issuer}/bc-authorize"),
        &format!("Basic {basic}"),
        &body,
    );
    assert_eq!(status, 200, "{text}");
    let bc: Value = serde_json::from_str(&text).unwrap();
    browser.goto(bc["auth_url"].as_str().unwrap());
    browser.wait_for_text("<h1>Sign in</h1>");
    browser.check_page(&axe, "ciba-login");
    browser.type_into("input[name=password]", "alice-password");
    browser.click("button.primary");
    browser.wait_for_text("PAY-42");
    browser.wait_for_text("Bakery");
    browser.check_page(&axe, "ciba-approval");
    browser.click("button[name=decision][value=approve]");
    browser.wait_for_text("Request approved");
    browser.check_page(&axe, "ciba-done");

    // Logout: confirmation, "stay signed in", then signing out (no redirect: the page stays,
    // with the front-channel iframe its CSP allows).
    let logout = format!("{issuer}/logout?client_id=photos");
    browser.goto(&logout);
    browser.wait_for_text("Sign out?");
    browser.check_page(&axe, "logout-confirm");
    browser.click("button[name=decision][value=deny]");
    browser.wait_for_text("You are still signed in");
    browser.check_page(&axe, "logout-cancelled");
    browser.goto(&logout);
    browser.wait_for_text("Sign out?");
    browser.click("button[name=decision][value=approve]");
    browser.wait_for_text("You are signed out");
    browser.check_page(&axe, "logged-out");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen_a.lock().unwrap().iter().any(|t| t.starts_with("/fc")) {
        assert!(Instant::now() < deadline, "the front-channel iframe loaded");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A POST with an `Authorization` header (form body): the status and the body.
fn http_with_auth(url: &str, authorization: &str, body: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = TcpStream::connect(authority).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: {authorization}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (status, body.to_owned())
}

/// A host's template directory (one replaced template) and one organization's branding (name,
/// logo, primary colour), both seen in the browser; the rendered button takes the colour.
#[test]
fn a_template_override_and_an_organization_branding_show_in_the_browser() {
    let Some(axe) = pages_peers("pages override test with headless chromium and axe-core") else {
        return;
    };
    let (a, _) = relying_party();
    let logo = logo_server();
    let templates = std::env::temp_dir().join(format!("idforge-templates-{}", std::process::id()));
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("error.html"),
        r#"{% extends "base.html" %}
{% block title %}{{ title }}{% endblock %}
{% block content %}
<h1>{{ title }}</h1>
<p class="lead">{{ explanation }}</p>
<p>Need help? Call the ACME help desk on 555-0100.</p>
<details><summary>{{ t.error_details }}</summary><p><code>{{ code }}</code></p></details>
{% endblock %}
"#,
    )
    .unwrap();
    let config = format!(
        r##"
[pages]
templates_dir = "{dir}"

[[organizations]]
id = "acme"
name = "ACME"
handle = "acme"
[organizations.branding]
name = "ACME Corporation"
logo_url = "{logo}"
primary_color = "#8a1538"

[[clients]]
client_id = "shop"
client_secret = "shop-secret"
redirect_uris = ["http://127.0.0.1:{a}/callback"]
organization = "acme"

[[users]]
username = "alice"
password = "alice-password"
"##,
        dir = templates.display()
    );
    let server = Serve::start("pages-brand", Some(&config));
    let issuer = server.issuer.clone();
    let browser = Browser::start();

    browser.goto(&format!(
        "{issuer}/authorize?response_type=code&client_id=shop&redirect_uri={}&scope=openid&state=s",
        enc(&format!("http://127.0.0.1:{a}/callback"))
    ));
    browser.wait_for_text("alt=\"ACME Corporation\"");
    let page = browser.source();
    assert!(page.contains(&format!("src=\"{logo}\"")), "{page}");
    // The logo loaded (the CSP's img-src names it) and the button wears the colour.
    let deadline = Instant::now() + Duration::from_secs(10);
    while browser.script("return document.querySelector('img.logo').naturalWidth;") == json!(0) {
        assert!(Instant::now() < deadline, "the logo did not load");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        browser.script(
            "return getComputedStyle(document.querySelector('button.primary')).backgroundColor;"
        ),
        json!("rgb(138, 21, 56)")
    );
    browser.check_page(&axe, "branded-login");

    browser.goto(&format!(
        "{issuer}/authorize?response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fevil.example%2F"
    ));
    browser.wait_for_text("Need help? Call the ACME help desk on 555-0100.");
    browser.check_page(&axe, "overridden-error");
    drop(browser);
    drop(server);
    let _ = std::fs::remove_dir_all(&templates);
}
