//! No secret reaches the log of `idforge serve`, at the most verbose level (`RUST_LOG=trace`,
//! every crate, `log` records included): real flows over loopback HTTP — the login form with
//! a password (a wrong one, then the right one), authorization code + PKCE, UserInfo, refresh,
//! introspection, revocation, client credentials (secret in `Authorization: Basic` and in the
//! form), the device authorization grant with its user code page, CIBA in poll mode with its
//! approval page, CIBA in ping mode (the notification's bearer token POSTed to a relying party
//! by the outbound client), and single sign-on with the session cookie — then everything the server wrote to stderr (the access log and the
//! `tracing` output) is searched for each secret value the flows saw. The log is also checked
//! to hold the request spans, so that the search is over real output. The user attributes API
//! on SQLite (the driver's statement log included) never logs an attribute value either.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

use common::http::{basic, enc, hidden, Resp, FORM};

const CLIENT_SECRET: &str = "cs-Vt7pQ2mZ9xL4";
const PASSWORD: &str = "pw-Hk3nR8wJ5sD1";
const WRONG_PASSWORD: &str = "pw-wrong-Yb6cN0";
const POST_SECRET: &str = "post-secret-Mf2gT9";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT: &str = "http://127.0.0.1:3000/callback";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const CIBA_GRANT: &str = "urn:openid:params:grant-type:ciba";
const CIBA_SECRET: &str = "ciba-secret-Wn4eJ7";
const PING_SECRET: &str = "ping-secret-Zr5uK3";
const NOTIFICATION_TOKEN: &str = "notification-token-Gd8sV2";

fn config(ping_port: u16) -> String {
    format!(
        r#"
[device]
interval_seconds = 1

[[clients]]
client_id = "web"
client_secret = "{CLIENT_SECRET}"
redirect_uris = ["{REDIRECT}"]
grant_types = ["authorization_code", "refresh_token", "client_credentials"]
token_endpoint_auth_method = "client_secret_basic"
access_token_format = "jwt"

[[clients]]
client_id = "poster"
client_secret = "{POST_SECRET}"
grant_types = ["client_credentials"]
token_endpoint_auth_method = "client_secret_post"

[[clients]]
client_id = "tv"
grant_types = ["{DEVICE_GRANT}", "refresh_token"]

[[clients]]
client_id = "assistant"
client_secret = "{CIBA_SECRET}"
grant_types = ["{CIBA_GRANT}"]

[[clients]]
client_id = "pinger"
client_secret = "{PING_SECRET}"
grant_types = ["{CIBA_GRANT}"]
backchannel_token_delivery_mode = "ping"
backchannel_client_notification_endpoint = "http://127.0.0.1:{ping_port}/ping"

[[users]]
username = "alice"
password = "{PASSWORD}"
[users.claims]
email = "alice@example.com"
"#
    )
}

struct Server {
    child: Child,
    addr: String,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Server {
    fn start(ping_port: u16) -> Server {
        Server::with(&config(ping_port), "log-secrets", |_| "memory".to_owned())
    }

    /// `idforge serve` on `config`, in a temporary directory named after `name`, on the
    /// database `database(dir)` names.
    fn with(config: &str, name: &str, database: impl Fn(&std::path::Path) -> String) -> Server {
        let dir = std::env::temp_dir().join(format!("idforge-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        std::fs::write(&path, config).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_idforge"))
            .args(["serve", "--addr", "127.0.0.1:0", "--database"])
            .arg(database(&dir))
            .arg("--config")
            .arg(&path)
            .env("RUST_LOG", "trace")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = err.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = lines
            .by_ref()
            .map(|l| l.unwrap())
            .find_map(|l| {
                l.strip_prefix("idforge serve: listening on http://")
                    .map(str::to_owned)
            })
            .unwrap();
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            addr,
            stderr: Some(stderr),
        }
    }

    /// Stops the server once its access log has been flushed (every 100 ms) and returns
    /// everything it wrote to stderr.
    fn log(mut self) -> String {
        std::thread::sleep(std::time::Duration::from_millis(400));
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr.take().unwrap().join().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http(s: &Server, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    common::http::http(&s.addr, method, path, headers, body)
}

fn code_of(location: &str) -> String {
    location
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("code="))
        .unwrap()
        .to_owned()
}

/// Every secret value the flows handled; the log must contain none of them.
#[derive(Default)]
struct Secrets(Vec<(&'static str, String)>);

impl Secrets {
    fn add(&mut self, what: &'static str, value: &str) {
        assert!(value.len() >= 8, "{what} too short to search for: {value}");
        self.0.push((what, value.to_owned()));
        // A JWT's signature alone is as much a secret as the whole token.
        if value.matches('.').count() == 2 {
            let sig = value.rsplit('.').next().unwrap();
            if sig.len() >= 16 {
                self.0.push((what, sig.to_owned()));
            }
        }
        let encoded = enc(value);
        if encoded != value {
            self.0.push((what, encoded));
        }
    }

    fn token_response(&mut self, t: &serde_json::Value) {
        for (name, what) in [
            ("access_token", "access token"),
            ("refresh_token", "refresh token"),
            ("id_token", "ID token"),
        ] {
            if let Some(v) = t[name].as_str() {
                self.add(what, v);
            }
        }
    }

    fn cookies(&mut self, r: &Resp) {
        for line in r
            .headers
            .get("set-cookie")
            .into_iter()
            .flat_map(|v| v.lines())
        {
            let pair = line.split(';').next().unwrap();
            let value = pair.split_once('=').unwrap().1;
            if value.len() >= 8 {
                self.add("cookie", value);
            }
        }
    }
}

/// The login form (first with `WRONG_PASSWORD` when `wrong_first`), then the consent page if
/// one comes: the authorization code and the session cookie.
fn log_in(
    s: &Server,
    secrets: &mut Secrets,
    authorize: &str,
    wrong_first: bool,
) -> (String, Option<String>) {
    let page = http(s, "GET", authorize, &[], "");
    assert_eq!(page.status, 200, "{}", page.body);
    let mut sealed = hidden(&page.body, "request");
    secrets.add("sealed request", &sealed);
    if wrong_first {
        let wrong = http(
            s,
            "POST",
            "/authorize",
            &[FORM],
            &format!(
                "request={}&username=alice&password={}",
                enc(&sealed),
                enc(WRONG_PASSWORD)
            ),
        );
        assert_eq!(wrong.status, 401);
        sealed = hidden(&wrong.body, "request");
        secrets.add("sealed request", &sealed);
    }
    let mut r = http(
        s,
        "POST",
        "/authorize",
        &[FORM],
        &format!(
            "request={}&username=alice&password={}",
            enc(&sealed),
            enc(PASSWORD)
        ),
    );
    secrets.cookies(&r);
    let cookie = r
        .headers
        .get("set-cookie")
        .and_then(|c| c.lines().next())
        .map(|c| c.split(';').next().unwrap().to_owned());
    if r.status == 200 {
        let sealed = hidden(&r.body, "consent");
        secrets.add("sealed consent", &sealed);
        r = http(
            s,
            "POST",
            "/authorize",
            &[FORM],
            &format!("consent={}&decision=approve", enc(&sealed)),
        );
        secrets.cookies(&r);
    }
    assert_eq!(r.status, 303, "{}", r.body);
    let code = code_of(&r.headers["location"]);
    secrets.add("authorization code", &code);
    (code, cookie)
}

/// A relying party's notification endpoint: accepts one POST, answers 204, and hands over the
/// request (head and body).
fn notification_endpoint() -> (u16, std::sync::mpsc::Receiver<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = conn.read(&mut chunk).unwrap();
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Length: "))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if body.len() >= len {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        conn.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
    });
    (port, rx)
}

/// Approves a CIBA request on its approval page (`auth_url`) as alice.
fn approve_ciba(s: &Server, secrets: &mut Secrets, auth_url: &str) {
    let path = &auth_url[auth_url.find("/bc-approve").unwrap()..];
    let page = http(s, "GET", path, &[], "");
    assert_eq!(page.status, 200, "{}", page.body);
    let sealed = hidden(&page.body, "request");
    secrets.add("sealed request", &sealed);
    let mut approval = http(
        s,
        "POST",
        "/bc-approve",
        &[FORM],
        &format!(
            "request={}&username=alice&password={}",
            enc(&sealed),
            enc(PASSWORD)
        ),
    );
    if approval.body.contains("name=\"consent\"") {
        let sealed = hidden(&approval.body, "consent");
        secrets.add("sealed consent", &sealed);
        approval = http(
            s,
            "POST",
            "/bc-approve",
            &[FORM],
            &format!("consent={}&decision=approve", enc(&sealed)),
        );
    }
    assert_eq!(approval.status, 200, "{}", approval.body);
}

#[test]
fn no_secret_reaches_the_log_at_trace_level() {
    let (ping_port, pinged) = notification_endpoint();
    let s = Server::start(ping_port);
    let mut secrets = Secrets::default();
    for v in [
        CLIENT_SECRET,
        PASSWORD,
        WRONG_PASSWORD,
        POST_SECRET,
        VERIFIER,
        PING_SECRET,
        NOTIFICATION_TOKEN,
    ] {
        secrets.add("configured secret", v);
    }
    let web = basic("web", CLIENT_SECRET);
    secrets.add("basic credentials", web.strip_prefix("Basic ").unwrap());

    assert_eq!(
        http(&s, "GET", "/.well-known/openid-configuration", &[], "").status,
        200
    );

    // The login form: a wrong password, then the right one; authorization code + PKCE.
    let authorize = format!(
        "/authorize?response_type=code&client_id=web&redirect_uri={}&scope=openid%20email%20offline_access&state=st&nonce=nn&code_challenge={CHALLENGE}&code_challenge_method=S256&prompt=consent",
        enc(REDIRECT)
    );
    let (code, cookie) = log_in(&s, &mut secrets, &authorize, true);
    let exchange = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={VERIFIER}",
        enc(&code),
        enc(REDIRECT)
    );
    let t = http(
        &s,
        "POST",
        "/token",
        &[FORM, ("authorization", &web)],
        &exchange,
    );
    assert_eq!(t.status, 200, "{}", t.body);
    let t = t.json();
    secrets.token_response(&t);
    // The replay is refused (and recorded as invalid_grant).
    let replay = http(
        &s,
        "POST",
        "/token",
        &[FORM, ("authorization", &web)],
        &exchange,
    );
    assert_eq!(replay.json()["error"], "invalid_grant");

    // Single sign-on with the session cookie: a second code without the form.
    if let Some(cookie) = &cookie {
        let r = http(
            &s,
            "GET",
            &authorize.replace("&prompt=consent", ""),
            &[("cookie", cookie)],
            "",
        );
        if r.status == 303 {
            secrets.add("authorization code", &code_of(&r.headers["location"]));
        }
    }

    // Refresh, UserInfo, introspection and revocation of a fresh family.
    let (code, _) = log_in(&s, &mut secrets, &authorize, false);
    let t = http(
        &s,
        "POST",
        "/token",
        &[FORM, ("authorization", &web)],
        &format!(
            "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={VERIFIER}",
            enc(&code),
            enc(REDIRECT)
        ),
    )
    .json();
    secrets.token_response(&t);
    let at = t["access_token"].as_str().unwrap();
    let u = http(
        &s,
        "GET",
        "/userinfo",
        &[("authorization", &format!("Bearer {at}"))],
        "",
    );
    assert_eq!(u.status, 200, "{}", u.body);
    let bad = http(
        &s,
        "GET",
        "/userinfo",
        &[("authorization", "Bearer not-a-real-token-Qw8")],
        "",
    );
    assert_eq!(bad.status, 401);
    secrets.add("bearer token", "not-a-real-token-Qw8");
    let rt = t["refresh_token"].as_str().unwrap();
    let refreshed = http(
        &s,
        "POST",
        "/token",
        &[FORM, ("authorization", &web)],
        &format!("grant_type=refresh_token&refresh_token={}", enc(rt)),
    );
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let refreshed = refreshed.json();
    secrets.token_response(&refreshed);
    let rt2 = refreshed["refresh_token"].as_str().unwrap();
    let i = http(
        &s,
        "POST",
        "/introspect",
        &[FORM, ("authorization", &web)],
        &format!("token={}", enc(rt2)),
    );
    assert_eq!(i.json()["active"], true);
    let v = http(
        &s,
        "POST",
        "/revoke",
        &[FORM, ("authorization", &web)],
        &format!("token={}", enc(rt2)),
    );
    assert_eq!(v.status, 200);

    // Client credentials: the secret in Basic, then in the form (client_secret_post).
    let cc = http(
        &s,
        "POST",
        "/token",
        &[
            FORM,
            ("authorization", &web),
            ("x-request-id", "cc-request-1"),
        ],
        "grant_type=client_credentials",
    );
    assert_eq!(cc.status, 200, "{}", cc.body);
    secrets.token_response(&cc.json());
    let cc = http(
        &s,
        "POST",
        "/token",
        &[FORM],
        &format!("grant_type=client_credentials&client_id=poster&client_secret={POST_SECRET}"),
    );
    assert_eq!(cc.status, 200, "{}", cc.body);
    secrets.token_response(&cc.json());

    // The device authorization grant: device code, user code, the page with the password.
    let d = http(
        &s,
        "POST",
        "/device_authorization",
        &[FORM],
        "client_id=tv&scope=openid%20offline_access",
    );
    assert_eq!(d.status, 200, "{}", d.body);
    let d = d.json();
    let (dc, uc) = (
        d["device_code"].as_str().unwrap(),
        d["user_code"].as_str().unwrap(),
    );
    secrets.add("device code", dc);
    secrets.add("user code", uc);
    secrets.add("user code", &uc.replace('-', ""));
    let poll = format!(
        "grant_type={}&client_id=tv&device_code={}",
        enc(DEVICE_GRANT),
        enc(dc)
    );
    let pending = http(&s, "POST", "/token", &[FORM], &poll);
    assert_eq!(pending.json()["error"], "authorization_pending");
    let page = http(
        &s,
        "GET",
        &format!("/device?user_code={}", enc(uc)),
        &[],
        "",
    );
    assert_eq!(page.status, 200, "{}", page.body);
    let ok = http(
        &s,
        "POST",
        "/device",
        &[FORM],
        &format!(
            "user_code={}&username=alice&password={}&decision=approve",
            enc(uc),
            enc(PASSWORD)
        ),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let t = http(&s, "POST", "/token", &[FORM], &poll);
    assert_eq!(t.status, 200, "{}", t.body);
    secrets.token_response(&t.json());

    // CIBA (poll mode): the request, the approval page with the password, the token.
    let assistant = basic("assistant", CIBA_SECRET);
    secrets.add(
        "basic credentials",
        assistant.strip_prefix("Basic ").unwrap(),
    );
    let bc = http(
        &s,
        "POST",
        "/bc-authorize",
        &[FORM, ("authorization", &assistant)],
        "scope=openid&login_hint=alice",
    );
    assert_eq!(bc.status, 200, "{}", bc.body);
    let bc = bc.json();
    let id = bc["auth_req_id"].as_str().unwrap().to_owned();
    let auth_url = bc["auth_url"].as_str().unwrap().to_owned();
    secrets.add("auth_req_id", &id);
    let handle = auth_url.split_once("handle=").unwrap().1.to_owned();
    secrets.add("approval handle", &handle);
    let ciba_poll = format!("grant_type={}&auth_req_id={}", enc(CIBA_GRANT), enc(&id));
    let pending = http(
        &s,
        "POST",
        "/token",
        &[FORM, ("authorization", &assistant)],
        &ciba_poll,
    );
    assert_eq!(pending.json()["error"], "authorization_pending");
    approve_ciba(&s, &mut secrets, &auth_url);
    let t = http(
        &s,
        "POST",
        "/token",
        &[FORM, ("authorization", &assistant)],
        &ciba_poll,
    );
    assert_eq!(t.status, 200, "{}", t.body);
    secrets.token_response(&t.json());

    // CIBA (ping mode): the outbound client POSTs the notification token as a bearer token.
    let pinger = basic("pinger", PING_SECRET);
    secrets.add("basic credentials", pinger.strip_prefix("Basic ").unwrap());
    let bc = http(
        &s,
        "POST",
        "/bc-authorize",
        &[FORM, ("authorization", &pinger)],
        &format!("scope=openid&login_hint=alice&client_notification_token={NOTIFICATION_TOKEN}"),
    );
    assert_eq!(bc.status, 200, "{}", bc.body);
    let bc = bc.json();
    let id = bc["auth_req_id"].as_str().unwrap().to_owned();
    secrets.add("auth_req_id", &id);
    let auth_url = bc["auth_url"].as_str().unwrap().to_owned();
    secrets.add("approval handle", auth_url.split_once("handle=").unwrap().1);
    approve_ciba(&s, &mut secrets, &auth_url);
    let ping = pinged
        .recv_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    assert!(ping.starts_with("POST /ping HTTP/1.1"), "{ping}");
    assert!(
        ping.contains(&format!("Authorization: Bearer {NOTIFICATION_TOKEN}")),
        "{ping}"
    );
    let t = http(
        &s,
        "POST",
        "/token",
        &[FORM, ("authorization", &pinger)],
        &format!("grant_type={}&auth_req_id={}", enc(CIBA_GRANT), enc(&id)),
    );
    assert_eq!(t.status, 200, "{}", t.body);
    secrets.token_response(&t.json());

    let log = s.log();

    // The search is over real output: the spans and the access log are there.
    for expected in [
        "POST /token 200",
        "request_id=\"cc-request-1\"",
        "grant_type=\"client_credentials\"",
        "client_id=\"web\"",
        "client_id=\"poster\"",
        "client_id=\"tv\"",
        "client_id=\"assistant\"",
        "client_id=\"pinger\"",
        "grant_type=\"urn:openid:params:grant-type:ciba\"",
        "endpoint=\"/bc-authorize\"",
        "error=\"invalid_grant\"",
        "error=\"authorization_pending\"",
        "error=\"invalid_token\"",
        "endpoint=\"/introspect\"",
    ] {
        assert!(log.contains(expected), "the log lacks {expected}:\n{log}");
    }
    // hyper-util's client traces the outbound ping too, so its output is searched as well.
    let outbound = format!("connecting to 127.0.0.1:{ping_port}");
    assert!(log.contains(&outbound), "the log lacks {outbound}:\n{log}");
    for (what, value) in &secrets.0 {
        if let Some(at) = log.find(value.as_str()) {
            let from = log[..at].rfind('\n').map_or(0, |n| n + 1);
            let to = log[at..].find('\n').map_or(log.len(), |n| at + n);
            panic!("a {what} reached the log: {}", &log[from..to]);
        }
    }
}

const ADMIN_SECRET: &str = "admin-secret-Qa4xW9";
const WRITTEN_VALUE: &str = "nick-value-Lp3vC6";
const REFUSED_VALUE: &str = "mail-value-Ju7bE2";

#[test]
fn no_attribute_value_reaches_the_log_at_trace_level() {
    let config = format!(
        r#"
[attributes]
local = ["nickname"]

[[clients]]
client_id = "admin"
client_secret = "{ADMIN_SECRET}"
grant_types = ["client_credentials"]
scopes = ["user_admin"]

[[users]]
username = "alice"
password = "{PASSWORD}"
[users.claims]
email = "alice@example.com"
"#
    );
    let s = Server::with(&config, "log-attributes", |dir| {
        format!("sqlite://{}/state.db", dir.display())
    });
    let mut secrets = Secrets::default();
    for v in [ADMIN_SECRET, PASSWORD, WRITTEN_VALUE, REFUSED_VALUE] {
        secrets.add("configured secret or attribute value", v);
    }
    let t = http(
        &s,
        "POST",
        "/token",
        &[FORM, ("authorization", &basic("admin", ADMIN_SECRET))],
        "grant_type=client_credentials&scope=user_admin",
    );
    assert_eq!(t.status, 200, "{}", t.body);
    secrets.token_response(&t.json());
    let bearer = format!("Bearer {}", t.json()["access_token"].as_str().unwrap());
    let json = ("content-type", "application/json");
    let r = http(
        &s,
        "PATCH",
        "/api/users/alice/attributes",
        &[json, ("authorization", &bearer)],
        &format!(r#"{{"nickname": "{WRITTEN_VALUE}"}}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = http(
        &s,
        "PATCH",
        "/api/users/alice/attributes",
        &[json, ("authorization", &bearer)],
        &format!(r#"{{"email": "{REFUSED_VALUE}"}}"#),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    let r = http(
        &s,
        "GET",
        "/api/users/alice/attributes",
        &[("authorization", &bearer)],
        "",
    );
    assert_eq!(r.json()["attributes"]["nickname"], WRITTEN_VALUE);

    let log = s.log();
    for expected in [
        "PATCH /api/users/alice/attributes 200",
        "error=\"attribute_read_only\"",
        // The SQL driver's statement log is part of the output searched.
        "local_user_attributes",
    ] {
        assert!(log.contains(expected), "the log lacks {expected}:\n{log}");
    }
    for (what, value) in &secrets.0 {
        if let Some(at) = log.find(value.as_str()) {
            let from = log[..at].rfind('\n').map_or(0, |n| n + 1);
            let to = log[at..].find('\n').map_or(log.len(), |n| at + n);
            panic!("a {what} reached the log: {}", &log[from..to]);
        }
    }
}
