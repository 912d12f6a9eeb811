//! The `http` adapters: paths, methods, headers.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use http::{Method, Request};
use idforge_oauth_core::http::HttpEndpoints;
use serde_json::{json, Value};

fn req(method: Method, path: &str, body: &[u8]) -> Request<Vec<u8>> {
    Request::builder()
        .method(method)
        .uri(path)
        .body(body.to_vec())
        .unwrap()
}

#[tokio::test]
async fn endpoints_answer_on_their_paths() {
    let env = env();
    let i = &env.issuer;
    let r = i
        .handle_http(req(
            Method::GET,
            "/.well-known/openid-credential-issuer",
            b"",
        ))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let m: Value = serde_json::from_slice(r.body()).unwrap();
    assert_eq!(m["credential_issuer"], ISSUER);
    let mut signed = req(Method::GET, "/.well-known/openid-credential-issuer", b"");
    signed
        .headers_mut()
        .insert("accept", "application/jwt".parse().unwrap());
    let r = i.handle_http(signed).await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/jwt");
    let r = i
        .handle_http(req(Method::GET, "/.well-known/jwt-vc-issuer", b""))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // §7.2: the nonce response is not cached.
    let r = i
        .handle_http(req(Method::POST, "/nonce", b""))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let nonce = serde_json::from_slice::<Value>(r.body()).unwrap()["c_nonce"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        i.handle_http(req(Method::GET, "/nonce", b""))
            .await
            .unwrap()
            .status(),
        400
    );

    // The credential endpoint: 401 with a Bearer challenge, then a credential.
    let r = i
        .handle_http(req(Method::POST, "/credential", b"{}"))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let token = env.anonymous_token(&["pid"]).await;
    let body = request("pid", &[proof(&holder(), &nonce)]).to_string();
    let mut c = req(Method::POST, "/credential", body.as_bytes());
    c.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let r = i.handle_http(c).await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = serde_json::from_slice(r.body()).unwrap();
    assert!(v["credentials"][0]["credential"]
        .as_str()
        .unwrap()
        .contains('~'));
    let uri = v["credentials"][0]["credential"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!uri.is_empty());

    // Notification: 204.
    let mut n = req(
        Method::POST,
        "/notification",
        json!({"notification_id": v["notification_id"], "event": "credential_accepted"})
            .to_string()
            .as_bytes(),
    );
    n.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    assert_eq!(i.handle_http(n).await.unwrap().status(), 204);

    // Status list token.
    let r = i
        .handle_http(req(Method::GET, "/status-lists/1", b""))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/statuslist+jwt");
    assert_eq!(
        i.handle_http(req(Method::GET, "/status-lists/7", b""))
            .await
            .unwrap()
            .status(),
        404
    );

    // Offer by reference.
    let o = env.offer(&["pid"], None).await;
    let path = o
        .credential_offer_uri
        .strip_prefix(ISSUER)
        .unwrap()
        .to_owned();
    let r = i.handle_http(req(Method::GET, &path, b"")).await.unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(r.body()).unwrap(),
        o.offer.to_json()
    );

    // Anything else comes back.
    assert!(i
        .handle_http(req(Method::GET, "/token", b""))
        .await
        .is_err());
}
