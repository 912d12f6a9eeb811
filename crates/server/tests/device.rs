//! The device authorization grant of `idforge serve` through the router, in process: discovery,
//! `POST /device_authorization`, the `/device` page (pre-filled by `verification_uri_complete`,
//! showing the client and scopes; approve and deny), the app-native JSON API `POST
//! /device/api`, `[device]` settings and the per-client lifetime.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod common;

use axum::Router;
use common::{basic, call, enc, get, post_form};
use idforge_server::ServeConfig;
use serde_json::{json, Value};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

const CONFIG: &str = r#"
[device]
expires_in_seconds = 300
interval_seconds = 1

[[clients]]
client_id = "tv"
grant_types = ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"]
scopes = ["openid", "profile", "offline_access"]

[[clients]]
client_id = "box"
client_secret = "box-secret"
grant_types = ["urn:ietf:params:oauth:grant-type:device_code"]
device_code_expiry_seconds = 60

[[clients]]
client_id = "web"
client_secret = "web-secret"
redirect_uris = ["http://127.0.0.1:3000/callback"]

[[users]]
username = "alice"
password = "alice-password"
"#;

fn app() -> Router {
    let config = ServeConfig::from_toml(CONFIG).unwrap();
    let idp = idforge_server::build(&config, "http://op.example").unwrap();
    idforge_server::router(&idp)
}

async fn start(app: &Router, scope: &str) -> Value {
    let r = post_form(
        app,
        "/device_authorization",
        &[],
        &format!("client_id=tv&scope={}", enc(scope)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

async fn poll(app: &Router, device_code: &str) -> common::Resp {
    post_form(
        app,
        "/token",
        &[],
        &format!(
            "grant_type={}&client_id=tv&device_code={}",
            enc(GRANT),
            enc(device_code)
        ),
    )
    .await
}

#[tokio::test]
async fn discovery_and_device_authorization_response() {
    let app = app();
    let m = get(&app, "/.well-known/openid-configuration").await.json();
    assert_eq!(
        m["device_authorization_endpoint"],
        "http://op.example/device_authorization"
    );
    let r = start(&app, "openid profile").await;
    assert_eq!(r["verification_uri"], "http://op.example/device");
    let uc = r["user_code"].as_str().unwrap();
    assert_eq!(
        r["verification_uri_complete"],
        format!("http://op.example/device?user_code={uc}")
    );
    assert_eq!(r["expires_in"], 300);
    assert_eq!(r["interval"], 1);
    // A client's own lifetime; client authentication as at the token endpoint.
    let r = post_form(
        &app,
        "/device_authorization",
        &[("authorization", &basic("box", "box-secret"))],
        "",
    )
    .await;
    assert_eq!(r.json()["expires_in"], 60);
    let r = post_form(
        &app,
        "/device_authorization",
        &[("authorization", &basic("web", "web-secret"))],
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    let r = post_form(
        &app,
        "/device_authorization",
        &[("authorization", &basic("box", "nope"))],
        "",
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(r.headers.contains_key("www-authenticate"));
}

#[tokio::test]
async fn the_page_approves_and_the_device_gets_tokens_once() {
    let app = app();
    let r = start(&app, "openid offline_access").await;
    let (dc, uc) = (
        r["device_code"].as_str().unwrap(),
        r["user_code"].as_str().unwrap(),
    );
    let pending = poll(&app, dc).await;
    assert_eq!(pending.status, 400);
    assert_eq!(pending.json()["error"], "authorization_pending");
    // verification_uri_complete pre-fills the code and shows client and scopes.
    let page = get(&app, &format!("/device?user_code={}", enc(uc))).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .body
        .contains(&format!("name=\"user_code\" value=\"{uc}\"")));
    assert!(page.body.contains("<code>tv</code>"));
    assert!(page.body.contains("<code>offline_access</code>"));
    for field in [
        "name=\"username\"",
        "name=\"password\"",
        "name=\"decision\" value=\"approve\"",
        "name=\"decision\" value=\"deny\"",
    ] {
        assert!(page.body.contains(field), "{field}");
    }
    // A wrong password shows the form again.
    let wrong = post_form(
        &app,
        "/device",
        &[],
        &format!(
            "user_code={}&username=alice&password=x&decision=approve",
            enc(uc)
        ),
    )
    .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("access_denied"));
    let ok = post_form(
        &app,
        "/device",
        &[],
        &format!(
            "user_code={}&username=alice&password=alice-password&decision=approve",
            enc(&uc.to_lowercase())
        ),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.body.contains("Device connected"));
    let t = poll(&app, dc).await;
    assert_eq!(t.status, 200, "{}", t.body);
    let t = t.json();
    assert!(t["access_token"].is_string() && t["id_token"].is_string());
    assert!(t["refresh_token"].is_string());
    let again = poll(&app, dc).await;
    assert_eq!(again.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn the_page_denies() {
    let app = app();
    let r = start(&app, "openid").await;
    let deny = post_form(
        &app,
        "/device",
        &[],
        &format!(
            "user_code={}&username=alice&password=alice-password&decision=deny",
            enc(r["user_code"].as_str().unwrap())
        ),
    )
    .await;
    assert_eq!(deny.status, 200);
    let t = poll(&app, r["device_code"].as_str().unwrap()).await;
    assert_eq!(
        (t.status, t.json()["error"].as_str()),
        (400, Some("access_denied"))
    );
}

async fn api(app: &Router, body: &Value) -> common::Resp {
    call(
        app,
        "POST",
        "/device/api",
        &[("content-type", "application/json")],
        &body.to_string(),
    )
    .await
}

#[tokio::test]
async fn the_app_native_api_approves_without_a_browser() {
    let app = app();
    let r = start(&app, "openid profile").await;
    let uc = r["user_code"].as_str().unwrap();
    let bad = api(
        &app,
        &json!({"user_code": uc, "username": "alice", "password": "x", "decision": "approve"}),
    )
    .await;
    assert_eq!(
        (bad.status, bad.json()["error"].as_str()),
        (400, Some("access_denied"))
    );
    let missing = api(&app, &json!({"user_code": uc, "decision": "approve"})).await;
    assert_eq!(missing.json()["error"], "invalid_request");
    let unknown = api(
        &app,
        &json!({"user_code": "BCDF-GHJK", "username": "alice", "password": "alice-password", "decision": "approve"}),
    )
    .await;
    assert_eq!(unknown.json()["error"], "invalid_grant");
    let ok = api(
        &app,
        &json!({"user_code": uc, "username": "alice", "password": "alice-password", "decision": "approve"}),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(
        ok.json(),
        json!({"status": "approved", "client_id": "tv", "scope": "openid profile"})
    );
    let used = api(
        &app,
        &json!({"user_code": uc, "username": "alice", "password": "alice-password", "decision": "deny"}),
    )
    .await;
    assert_eq!(used.json()["error"], "invalid_grant");
    let t = poll(&app, r["device_code"].as_str().unwrap()).await;
    assert_eq!(t.status, 200, "{}", t.body);
}

#[test]
fn device_settings_are_validated() {
    assert!(ServeConfig::from_toml("[device]\ninterval_seconds = 0").is_err());
    assert!(ServeConfig::from_toml("[device]\nbogus = 1").is_err());
    assert!(ServeConfig::from_toml(
        "[[clients]]\nclient_id = \"x\"\ndevice_code_expiry_seconds = -5"
    )
    .is_err());
    let c = ServeConfig::from_toml("[device]\nexpires_in_seconds = 900").unwrap();
    assert_eq!(c.device.expires_in_seconds, 900);
    assert_eq!(c.device.interval_seconds, 5);
}

#[tokio::test]
async fn the_blank_page_looks_the_code_up_first() {
    let app = app();
    let page = get(&app, "/device").await;
    assert_eq!(page.status, 200);
    assert!(page
        .body
        .contains("<form method=\"get\" action=\"/device\">"));
    assert!(page.body.contains("name=\"decision\" value=\"approve\""));
    let unknown = get(&app, "/device?user_code=BCDF-GHJK").await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.body.contains("invalid_grant"));
    // A prefilled, known code shows the client instead of the lookup form.
    let r = start(&app, "openid").await;
    let known = get(
        &app,
        &format!(
            "/device?user_code={}",
            enc(r["user_code"].as_str().unwrap())
        ),
    )
    .await;
    assert!(!known.body.contains("method=\"get\""));
    assert!(known.body.contains("<code>tv</code>"));
}
