//! CIBA interop with npm `openid-client` v6 (`initiateBackchannelAuthentication`,
//! `pollBackchannelAuthenticationGrant`) against a running `idforge serve`: approval through
//! `auth_url`, the ID token validated by openid-client, denial as `access_denied`, ping and
//! push delivered to a local listener, and on-behalf-of tokens carrying `act`.
//!
//! The peer is installed by `.ci/oauth.sh` into `$IDFORGE_PEERS_DIR/node`. Without it the
//! test skips, unless `IDFORGE_INTEROP=require`.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod interop_common;

use std::io::{Read, Write};
use std::net::TcpListener;

use interop_common::{missing_npm, node_report, node_script, peers_ready, Serve};

/// Accepts HTTP requests until `n` arrived; answers each 204; returns them whole.
fn listen(listener: TcpListener, n: usize) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut got = Vec::new();
        while got.len() < n {
            let Ok((mut s, _)) = listener.accept() else {
                break;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let k = s.read(&mut chunk).unwrap_or(0);
                buf.extend_from_slice(&chunk[..k]);
                let text = String::from_utf8_lossy(&buf).into_owned();
                let complete = text.split_once("\r\n\r\n").is_some_and(|(head, body)| {
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    body.len() >= len
                });
                if complete || k == 0 {
                    break;
                }
            }
            let _ = s.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
            got.push(String::from_utf8_lossy(&buf).into_owned());
        }
        got
    })
}

#[test]
fn openid_client_v6_ciba_against_idforge_serve() {
    let test = "CIBA interop with openid-client";
    if !peers_ready(test, missing_npm(&["openid-client"]), ".ci/oauth.sh") {
        return;
    }
    let script = node_script(
        "idforge-ciba-interop.mjs",
        include_str!("interop/ciba_openid_client.mjs"),
    );

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = listen(listener, 2);
    let ciba = "urn:openid:params:grant-type:ciba";
    let config = format!(
        r#"
[[clients]]
client_id = "assistant"
client_secret = "assistant-secret"
grant_types = ["{ciba}", "client_credentials", "refresh_token"]
agent = true

[[clients]]
client_id = "pinger"
client_secret = "pinger-secret"
grant_types = ["{ciba}"]
backchannel_token_delivery_mode = "ping"
backchannel_client_notification_endpoint = "http://127.0.0.1:{port}/ping"

[[clients]]
client_id = "pusher"
client_secret = "pusher-secret"
grant_types = ["{ciba}", "refresh_token"]
backchannel_token_delivery_mode = "push"
backchannel_client_notification_endpoint = "http://127.0.0.1:{port}/push"

[[users]]
username = "alice"
password = "alice-password"
[users.claims]
email = "alice@example.com"
"#
    );
    let server = Serve::start("ciba-interop", Some(&config));
    let report = node_report("openid-client", &script, &[&server.issuer]);
    drop(server);
    assert_eq!(report["ok"], true);
    assert_eq!(report["sub"], "alice");
    assert_eq!(report["id_token_validated"], true);
    assert_eq!(report["denied"], "access_denied");
    assert_eq!(report["act"], serde_json::json!({"sub": "assistant"}));
    assert_eq!(report["obo_sub"], "alice");
    assert_eq!(report["obo_aud"], "https://calendar.example/");
    assert_eq!(report["obo_task"], "Sync with Bob");
    assert_eq!(report["ping_sub"], "alice");

    let got = received.join().unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    let ping = &got[0];
    assert!(ping.starts_with("POST /ping HTTP/1.1"), "{ping}");
    assert!(ping.contains("Authorization: Bearer ping-token"));
    let body: serde_json::Value =
        serde_json::from_str(ping.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(body["auth_req_id"], report["ping_auth_req_id"]);
    let push = &got[1];
    assert!(push.starts_with("POST /push HTTP/1.1"), "{push}");
    assert!(push.contains("Authorization: Bearer push-token"));
    let body: serde_json::Value =
        serde_json::from_str(push.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(body["auth_req_id"], report["push_auth_req_id"]);
    assert!(body["access_token"].is_string() && body["id_token"].is_string());
}
