//! CIBA through the router, in process: the `idforge serve` contract (`/bc-authorize`, the
//! `auth_url` login and approval pages with `decision` buttons, the JSON approval, the
//! outbox for email and SMS, real HTTP POSTs for ping and push to a local listener, OBO with
//! an agent client's token as `actor_token`).
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod common;

use axum::Router;
use common::{basic, bc, call, enc, get, hidden, poll, post_form, CIBA};
use idforge_server::ServeConfig;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn config(listener_port: u16, outbox: &str) -> String {
    format!(
        r#"
[[clients]]
client_id = "assistant"
client_secret = "assistant-secret"
grant_types = ["{CIBA}", "client_credentials", "refresh_token"]
agent = true

[[clients]]
client_id = "mailer"
client_secret = "mailer-secret"
grant_types = ["{CIBA}"]
ciba_channels = ["email", "sms"]
ciba_expiry_seconds = 60

[[clients]]
client_id = "pinger"
client_secret = "pinger-secret"
grant_types = ["{CIBA}"]
backchannel_token_delivery_mode = "ping"
backchannel_client_notification_endpoint = "http://127.0.0.1:{listener_port}/ping"

[[clients]]
client_id = "pusher"
client_secret = "pusher-secret"
grant_types = ["{CIBA}", "refresh_token"]
backchannel_token_delivery_mode = "push"
backchannel_client_notification_endpoint = "http://127.0.0.1:{listener_port}/push"
backchannel_user_code_parameter = true

[[users]]
username = "alice"
password = "alice-password"
[users.claims]
email = "alice@example.com"
phone_number = "+15550100"

[[users]]
username = "bob"
password = "bob-password"

[notifications]
outbox = "{outbox}"
"#
    )
}

fn app(port: u16, outbox: &std::path::Path) -> Router {
    let config = ServeConfig::from_toml(&config(port, &outbox.display().to_string())).unwrap();
    let idp = idforge_server::build(&config, "http://op.example").unwrap();
    idforge_server::router(&idp)
}

fn outbox() -> std::path::PathBuf {
    let mut p = std::env::temp_dir();
    let mut r = [0u8; 8];
    idforge_jose::crypto::random_bytes(&mut r).unwrap();
    p.push(format!(
        "idforge-ciba-outbox-{}.jsonl",
        idforge_jose::b64::encode(r)
    ));
    p
}

fn path_of(url: &str) -> String {
    url.strip_prefix("http://op.example").unwrap().to_owned()
}

/// Opens `auth_url`, signs in as `user`, and answers `decision`; returns the last page.
async fn approve_via_pages(
    app: &Router,
    auth_url: &str,
    user: &str,
    decision: &str,
) -> common::Resp {
    let page = get(app, &path_of(auth_url)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("name=\"username\""));
    assert!(page.body.contains("name=\"password\""));
    let body = format!(
        "request={}&username={user}&password={user}-password",
        enc(&hidden(&page.body, "request"))
    );
    let approval = post_form(app, "/bc-approve", &[], &body).await;
    if approval.status != 200 || !approval.body.contains("name=\"decision\"") {
        return approval;
    }
    assert!(approval.body.contains("value=\"approve\""));
    assert!(approval.body.contains("value=\"deny\""));
    let body = format!(
        "consent={}&decision={decision}",
        enc(&hidden(&approval.body, "consent"))
    );
    post_form(app, "/bc-approve", &[], &body).await
}

#[tokio::test]
async fn poll_with_approval_through_auth_url_and_obo() {
    let out = outbox();
    let app = app(9, &out);
    // The agent's own client_credentials token is its actor_token.
    let auth = basic("assistant", "assistant-secret");
    let cc = post_form(
        &app,
        "/token",
        &[("authorization", &auth)],
        "grant_type=client_credentials",
    )
    .await;
    let actor = cc.json()["access_token"].as_str().unwrap().to_owned();
    let details = r#"[{"type":"calendar_event","action":"create","title":"Sync with Bob"}]"#;
    let r = bc(
        &app,
        "assistant",
        &format!(
            "scope=openid&login_hint=alice%40example.com&binding_message=MEET-42&actor_token={actor}&actor_token_type={}&authorization_details={}&resource={}",
            enc("urn:ietf:params:oauth:token-type:access_token"),
            enc(details),
            enc("https://calendar.example/")
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    let id = j["auth_req_id"].as_str().unwrap().to_owned();
    let auth_url = j["auth_url"].as_str().unwrap().to_owned();
    assert!(auth_url.starts_with("http://op.example/bc-approve?handle="));
    assert_eq!(j["interval"], 5);
    assert_eq!(
        poll(&app, "assistant", &id).await.json()["error"],
        "authorization_pending"
    );

    // bob cannot approve alice's request.
    let refused = approve_via_pages(&app, &auth_url, "bob", "approve").await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(refused
        .body
        .contains("sign in as the user this request is for"));

    // The app-native JSON view.
    let view = call(
        &app,
        "GET",
        &path_of(&auth_url),
        &[("accept", "application/json")],
        "",
    )
    .await;
    assert_eq!(view.json()["actor"], "assistant");
    assert_eq!(view.json()["binding_message"], "MEET-42");

    let done = approve_via_pages(&app, &auth_url, "alice", "approve").await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("approved"), "{}", done.body);
    let t = poll(&app, "assistant", &id).await;
    assert_eq!(t.status, 200, "{}", t.body);
    let at = claims(t.json()["access_token"].as_str().unwrap());
    assert_eq!(at["sub"], "alice");
    assert_eq!(at["act"], json!({"sub": "assistant"}));
    assert_eq!(at["aud"], "https://calendar.example/");
    assert_eq!(at["authorization_details"][0]["title"], "Sync with Bob");
    assert_eq!(
        poll(&app, "assistant", &id).await.json()["error"],
        "invalid_grant"
    );

    // Denial.
    let r = bc(&app, "assistant", "scope=openid&login_hint=alice").await;
    let j = r.json();
    let done = approve_via_pages(&app, j["auth_url"].as_str().unwrap(), "alice", "deny").await;
    assert!(done.body.contains("denied"), "{}", done.body);
    let e = poll(&app, "assistant", j["auth_req_id"].as_str().unwrap()).await;
    assert_eq!(
        (e.status, e.json()["error"].as_str()),
        (400, Some("access_denied"))
    );

    // §13 errors over HTTP.
    let r = bc(&app, "assistant", "scope=openid&login_hint=nobody").await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("unknown_user_id"))
    );
    let r = post_form(&app, "/bc-authorize", &[], "scope=openid&login_hint=alice").await;
    assert_eq!(r.status, 401);
    // Discovery.
    let d = get(&app, "/.well-known/openid-configuration").await.json();
    assert_eq!(
        d["backchannel_authentication_endpoint"],
        "http://op.example/bc-authorize"
    );
    let _ = std::fs::remove_file(out);
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&idforge_jose::b64::decode(payload, "jwt").unwrap()).unwrap()
}

#[tokio::test]
async fn email_and_sms_go_to_the_outbox_and_the_json_approval_works() {
    let out = outbox();
    let app = app(9, &out);
    let r = bc(
        &app,
        "mailer",
        "scope=openid&login_hint=alice&binding_message=W4SCT",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert!(
        j.get("auth_url").is_none(),
        "only the external channel has auth_url"
    );
    assert_eq!(j["expires_in"], 60);
    let lines: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["channel"], "email");
    assert_eq!(lines[0]["to"], "alice@example.com");
    assert_eq!(lines[1]["channel"], "sms");
    assert_eq!(lines[1]["to"], "+15550100");
    let text = lines[0]["text"].as_str().unwrap();
    assert!(text.contains("W4SCT"));
    assert!(lines[0]["subject"].is_string());
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/bc-approve?handle="))
        .unwrap();
    let handle = link.split_once("handle=").unwrap().1;
    // Wrong password, then the right one.
    let body =
        json!({"handle": handle, "username": "alice", "password": "x", "decision": "approve"});
    let r = call(
        &app,
        "POST",
        "/bc-approve",
        &[("content-type", "application/json")],
        &body.to_string(),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let body = json!({"handle": handle, "username": "alice", "password": "alice-password", "decision": "approve"});
    let r = call(
        &app,
        "POST",
        "/bc-approve",
        &[("content-type", "application/json")],
        &body.to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["state"], "approved");
    assert_eq!(
        poll(&app, "mailer", j["auth_req_id"].as_str().unwrap())
            .await
            .status,
        200
    );
    let _ = std::fs::remove_file(out);
}

/// Accepts `n` HTTP requests and returns (request line + headers + body) of each.
async fn listener(n: usize) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut got = Vec::new();
        for _ in 0..n {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let k = s.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..k]);
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
                if k == 0 {
                    break;
                }
            }
            s.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                .await
                .unwrap();
            got.push(String::from_utf8_lossy(&buf).into_owned());
        }
        got
    });
    (port, task)
}

#[tokio::test]
async fn ping_and_push_are_real_http_posts() {
    let (port, received) = listener(2).await;
    let out = outbox();
    let app = app(port, &out);
    // Ping.
    let r = bc(
        &app,
        "pinger",
        "scope=openid&login_hint=alice&client_notification_token=ping-token",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    let ping_id = j["auth_req_id"].as_str().unwrap().to_owned();
    approve_via_pages(&app, j["auth_url"].as_str().unwrap(), "alice", "approve").await;
    // Push (user_code = the user's password).
    let r = bc(
        &app,
        "pusher",
        "scope=openid&login_hint=alice&client_notification_token=push-token&user_code=wrong",
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_user_code");
    let r = bc(&app, "pusher", "scope=openid&login_hint=alice&client_notification_token=push-token&user_code=alice-password").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    let push_id = j["auth_req_id"].as_str().unwrap().to_owned();
    approve_via_pages(&app, j["auth_url"].as_str().unwrap(), "alice", "approve").await;
    let got = received.await.unwrap();
    let ping = &got[0];
    assert!(ping.starts_with("POST /ping HTTP/1.1"), "{ping}");
    assert!(ping.contains("Authorization: Bearer ping-token"));
    assert!(ping.ends_with(&json!({"auth_req_id": ping_id}).to_string()));
    assert_eq!(poll(&app, "pinger", &ping_id).await.status, 200);
    let push = &got[1];
    assert!(push.starts_with("POST /push HTTP/1.1"), "{push}");
    assert!(push.contains("Authorization: Bearer push-token"));
    let body: Value = serde_json::from_str(push.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(body["auth_req_id"], push_id.as_str());
    let idt = claims(body["id_token"].as_str().unwrap());
    assert_eq!(
        idt["urn:openid:params:jwt:claim:auth_req_id"],
        push_id.as_str()
    );
    assert!(idt["at_hash"].is_string() && idt["rt_hash"].is_string());
    let _ = std::fs::remove_file(out);
}

#[test]
fn ciba_settings_are_checked_when_loaded() {
    let bad = [
        "[[clients]]\nclient_id = \"x\"\nclient_secret = \"s\"\nbackchannel_token_delivery_mode = \"ping\"",
        "[[clients]]\nclient_id = \"x\"\nclient_secret = \"s\"\nbackchannel_token_delivery_mode = \"fax\"",
        "[[clients]]\nclient_id = \"x\"\nclient_secret = \"s\"\nciba_channels = [\"email\"]",
        "[[clients]]\nclient_id = \"x\"\nclient_secret = \"s\"\nbackchannel_token_delivery_mode = \"push\"\nbackchannel_client_notification_endpoint = \"http://rp.example/cb\"",
    ];
    for text in bad {
        assert!(ServeConfig::from_toml(text).is_err(), "{text}");
    }
}
