//! `idforge serve` end to end over real HTTP on loopback: discovery, JWKS, the login form,
//! code + PKCE, token, UserInfo, refresh, introspection, revocation, client credentials, and the
//! TOML configuration contract.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::http::{basic, enc, hidden, Resp, FORM};

struct Server {
    child: Child,
    addr: String,
    issuer: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(config: Option<&str>) -> Server {
    start_on(config, "memory")
}

/// Starts `idforge serve` on `database` (`memory` keeps the checkout free of database files).
fn start_on(config: Option<&str>, database: &str) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_idforge"));
    cmd.args(["serve", "--addr", "127.0.0.1:0", "--database", database]);
    let dir = std::env::temp_dir().join(format!("idforge-serve-{}", std::process::id()));
    if let Some(c) = config {
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("c{}.toml", c.len()));
        std::fs::write(&path, c).unwrap();
        cmd.arg("--config").arg(path);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut addr = None;
    let mut issuer = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(a) = line.strip_prefix("idforge serve: listening on http://") {
            addr = Some(a.to_owned());
        }
        if let Some(i) = line.strip_prefix("issuer: ") {
            issuer = Some(i.to_owned());
            break;
        }
    }
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        addr: addr.unwrap(),
        issuer: issuer.unwrap(),
    }
}

fn http(s: &Server, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    common::http::http(&s.addr, method, path, headers, body)
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// Logs in through the HTML form and returns the code.
fn login(s: &Server, client_id: &str, redirect_uri: &str, password: &str) -> Result<String, Resp> {
    let q = format!(
        "/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid%20email%20profile&state=st&nonce=nn&code_challenge={CHALLENGE}&code_challenge_method=S256",
        enc(redirect_uri)
    );
    let page = http(s, "GET", &q, &[], "");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("name=\"username\"") && page.body.contains("name=\"password\""));
    let sealed = hidden(&page.body, "request");
    let body = format!(
        "request={}&username=alice&password={}",
        enc(&sealed),
        enc(password)
    );
    let r = http(s, "POST", "/authorize", &[FORM], &body);
    if r.status != 303 {
        return Err(r);
    }
    let location = &r.headers["location"];
    assert!(location.starts_with(redirect_uri), "{location}");
    assert!(location.contains("state=st"));
    assert!(location.contains(&format!("iss={}", enc(&s.issuer))));
    let code = location
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("code="))
        .unwrap();
    Ok(code.to_owned())
}

#[test]
fn demo_config_full_flow() {
    let s = start(None);
    let d = http(&s, "GET", "/.well-known/openid-configuration", &[], "").json();
    assert_eq!(d["issuer"], s.issuer.as_str());
    assert!(d.get("authorization_endpoint").is_some());
    let jwks = http(&s, "GET", "/jwks.json", &[], "").json();
    assert!(jwks["keys"][0].get("d").is_none());

    // Wrong password: the form again, 401.
    let r = login(&s, "demo-client", "http://127.0.0.1:3000/callback", "nope").unwrap_err();
    assert_eq!(r.status, 401);
    assert!(r.body.contains("wrong username or password"));

    let code = login(
        &s,
        "demo-client",
        "http://127.0.0.1:3000/callback",
        "alice-password",
    )
    .unwrap();
    let auth = basic("demo-client", "demo-secret");
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        enc("http://127.0.0.1:3000/callback")
    );
    let t = http(
        &s,
        "POST",
        "/token",
        &[FORM, ("authorization", &auth)],
        &body,
    );
    assert_eq!(t.status, 200, "{}", t.body);
    let t = t.json();
    assert!(t["access_token"].is_string());
    assert!(t["id_token"].is_string());
    // Replay fails.
    let replay = http(
        &s,
        "POST",
        "/token",
        &[FORM, ("authorization", &auth)],
        &body,
    );
    assert_eq!(replay.status, 400);
    assert_eq!(replay.json()["error"], "invalid_grant");

    // Fresh login for the rest (the replay revoked the first family).
    let code = login(
        &s,
        "demo-client",
        "http://127.0.0.1:3000/callback",
        "alice-password",
    )
    .unwrap();
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        enc("http://127.0.0.1:3000/callback")
    );
    let t = http(
        &s,
        "POST",
        "/token",
        &[FORM, ("authorization", &auth)],
        &body,
    )
    .json();
    let at = t["access_token"].as_str().unwrap().to_owned();
    let u = http(
        &s,
        "GET",
        "/userinfo",
        &[("authorization", &format!("Bearer {at}"))],
        "",
    );
    assert_eq!(u.status, 200, "{}", u.body);
    assert_eq!(u.json()["email"], "alice@example.com");
    assert_eq!(u.json()["sub"], "alice");

    let rt = t["refresh_token"].as_str().unwrap();
    let r = http(
        &s,
        "POST",
        "/token",
        &[FORM, ("authorization", &auth)],
        &format!("grant_type=refresh_token&refresh_token={rt}"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let rt2 = r.json()["refresh_token"].as_str().unwrap().to_owned();

    let i = http(
        &s,
        "POST",
        "/introspect",
        &[FORM, ("authorization", &auth)],
        &format!("token={rt2}"),
    );
    assert_eq!(i.json()["active"], true);
    let v = http(
        &s,
        "POST",
        "/revoke",
        &[FORM, ("authorization", &auth)],
        &format!("token={rt2}"),
    );
    assert_eq!(v.status, 200);
    let i = http(
        &s,
        "POST",
        "/introspect",
        &[FORM, ("authorization", &auth)],
        &format!("token={rt2}"),
    );
    assert_eq!(i.json()["active"], false);

    let cc = http(
        &s,
        "POST",
        "/token",
        &[FORM, ("authorization", &auth)],
        "grant_type=client_credentials",
    );
    assert_eq!(cc.status, 200, "{}", cc.body);
    // An unregistered redirect URI: an error page, not a redirect.
    let bad = http(&s, "GET", "/authorize?response_type=code&client_id=demo-client&redirect_uri=https%3A%2F%2Fevil.example%2F", &[], "");
    assert_eq!(bad.status, 400);
    assert!(!bad.headers.contains_key("location"));
}

/// RFC 9126: the demo server serves the PAR endpoint through `handle_http`, and the login
/// page accepts the `request_uri` it returns (once).
#[test]
fn pushed_authorization_request() {
    let s = start(None);
    let d = http(&s, "GET", "/.well-known/openid-configuration", &[], "").json();
    assert_eq!(
        d["pushed_authorization_request_endpoint"],
        format!("{}/par", s.issuer)
    );
    let cb = "http://127.0.0.1:3000/callback";
    let auth = basic("demo-client", "demo-secret");
    let body = format!(
        "response_type=code&client_id=demo-client&redirect_uri={}&scope=openid%20email&state=st&nonce=nn&code_challenge={CHALLENGE}&code_challenge_method=S256",
        enc(cb)
    );
    let r = http(&s, "POST", "/par", &[FORM, ("authorization", &auth)], &body);
    assert_eq!(r.status, 201, "{}", r.body);
    let request_uri = r.json()["request_uri"].as_str().unwrap().to_owned();
    let q = format!(
        "/authorize?client_id=demo-client&request_uri={}",
        enc(&request_uri)
    );
    let page = http(&s, "GET", &q, &[], "");
    assert_eq!(page.status, 200, "{}", page.body);
    let sealed = hidden(&page.body, "request");
    let body = format!(
        "request={}&username=alice&password=alice-password",
        enc(&sealed)
    );
    let r = http(&s, "POST", "/authorize", &[FORM], &body);
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.headers["location"].starts_with(cb));
    assert!(r.headers["location"].contains("code="));
    // Single use.
    let again = http(&s, "GET", &q, &[], "");
    assert_ne!(again.status, 200);
}

#[test]
fn toml_config_contract() {
    let cfg = r#"
issuer = "http://127.0.0.1:1"
[[clients]]
client_id = "opaque-app"
client_secret = "s3cret"
redirect_uris = ["http://127.0.0.1:9999/cb"]
grant_types = ["authorization_code", "refresh_token", "client_credentials", "password"]
token_endpoint_auth_method = "client_secret_post"
access_token_format = "opaque"
scope_as_array = true

[[clients]]
client_id = "spa"
redirect_uris = ["http://127.0.0.1:9999/cb"]

[[users]]
username = "alice"
password = "pw"
[users.claims]
email = "a@example.com"
"#;
    let s = start(Some(cfg));
    assert_eq!(s.issuer, "http://127.0.0.1:1", "issuer from the file");
    let d = http(&s, "GET", "/.well-known/openid-configuration", &[], "").json();
    assert!(d["grant_types_supported"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g == "password"));
    let r = http(
        &s,
        "POST",
        "/token",
        &[FORM],
        "grant_type=client_credentials&client_id=opaque-app&client_secret=s3cret",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        !r.json()["access_token"].as_str().unwrap().contains('.'),
        "opaque"
    );
    let r = http(&s, "POST", "/token", &[FORM], "grant_type=password&username=alice&password=pw&scope=openid&client_id=opaque-app&client_secret=s3cret");
    assert_eq!(r.status, 200, "{}", r.body);
    // The public client logs in with PKCE and redeems without a secret.
    let code = login(&s, "spa", "http://127.0.0.1:9999/cb", "pw").unwrap();
    let body = format!(
        "grant_type=authorization_code&client_id=spa&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        enc("http://127.0.0.1:9999/cb")
    );
    let r = http(&s, "POST", "/token", &[FORM], &body);
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn bad_config_exits_1() {
    let dir = std::env::temp_dir().join(format!("idforge-serve-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(&path, "nonsense = true\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_idforge"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--database",
            "memory",
            "--config",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: config:"));
}

/// `--database`: a refresh token issued before a restart on the same SQLite file still
/// refreshes after it, and the JWKS keeps the signing key (so tokens signed before verify).
#[test]
fn restart_on_sqlite_keeps_refresh_tokens_and_keys() {
    let dir = std::env::temp_dir().join(format!("idforge-serve-db-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("state.db");
    let url = format!("sqlite://{}", db.display());
    let cfg = r#"
issuer = "http://127.0.0.1:1"
[[clients]]
client_id = "app"
client_secret = "s3cret"
redirect_uris = ["http://127.0.0.1:9999/cb"]
grant_types = ["password", "refresh_token"]
token_endpoint_auth_method = "client_secret_post"

[[users]]
username = "alice"
password = "pw"
[users.claims]
email = "a@example.com"
"#;
    let auth = "client_id=app&client_secret=s3cret";
    let (rt, kid) = {
        let s = start_on(Some(cfg), &url);
        assert!(db.exists(), "sqlite:///ABS/PATH creates the file");
        let r = http(
            &s,
            "POST",
            "/token",
            &[FORM],
            &format!("grant_type=password&username=alice&password=pw&scope=openid%20offline_access&{auth}"),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let rt = r.json()["refresh_token"].as_str().unwrap().to_owned();
        let jwks = http(&s, "GET", "/jwks.json", &[], "").json();
        let kid = jwks["keys"][0]["kid"].as_str().unwrap().to_owned();
        (rt, kid)
    };
    // The first process is gone (dropped = killed); a new one on the same file.
    let s = start_on(Some(cfg), &url);
    let jwks = http(&s, "GET", "/jwks.json", &[], "").json();
    assert_eq!(
        jwks["keys"][0]["kid"],
        kid.as_str(),
        "the signing key survives"
    );
    let r = http(
        &s,
        "POST",
        "/token",
        &[FORM],
        &format!("grant_type=refresh_token&refresh_token={rt}&{auth}"),
    );
    assert_eq!(r.status, 200, "refresh after restart: {}", r.body);
    let rt2 = r.json()["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt2, rt, "rotated");
    // The rotated token is now reuse (RFC 9700 §4.14.2), across the restart too.
    let again = http(
        &s,
        "POST",
        "/token",
        &[FORM],
        &format!("grant_type=refresh_token&refresh_token={rt}&{auth}"),
    );
    assert_eq!(again.status, 400, "{}", again.body);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}
