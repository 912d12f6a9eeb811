//! The `http` feature's adapters.
#![cfg(feature = "http")]
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use http::{Method, Request, StatusCode};
use idforge_oauth_core::http::interaction_response;
use serde_json::Value;

fn post(path: &str, body: &str, auth: Option<&str>) -> Request<Vec<u8>> {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    b.body(body.as_bytes().to_vec()).unwrap()
}

fn json(r: &http::Response<Vec<u8>>) -> Value {
    serde_json::from_slice(r.body()).unwrap()
}

#[tokio::test]
async fn full_flow_over_http_types() {
    let env = env();
    let p = &env.provider;
    // Authorization: a redirect becomes 303 + Location.
    let i = p
        .authorization
        .start(web_query().as_bytes(), Some(&alice()))
        .await;
    let r = interaction_response(&i).unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(RP_CB));
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        urlencode(RP_CB)
    );
    let r = p
        .handle_http(post("/token", &body, Some(&basic("web", "web-secret"))))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let tokens = json(&r);
    let at = tokens["access_token"].as_str().unwrap();
    // UserInfo by header, and by form body.
    let req = Request::get("/userinfo")
        .header("authorization", format!("Bearer {at}"))
        .body(Vec::new())
        .unwrap();
    let r = p.handle_http(req).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json(&r)["sub"], "alice-sub");
    let r = p
        .handle_http(post("/userinfo", &format!("access_token={at}"), None))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Introspection and revocation.
    let cc = basic("cc-only", "cc-secret");
    let r = p
        .handle_http(post("/introspect", &format!("token={at}"), Some(&cc)))
        .await
        .unwrap();
    assert_eq!(json(&r)["active"], true);
    let r = p
        .handle_http(post(
            "/revoke",
            &format!("token={at}"),
            Some(&basic("web", "web-secret")),
        ))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.body().is_empty());
    let req = Request::get("/userinfo")
        .header("authorization", format!("Bearer {at}"))
        .body(Vec::new())
        .unwrap();
    let r = p.handle_http(req).await.unwrap();
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\""),
        "{challenge}"
    );
}

#[tokio::test]
async fn errors_and_metadata() {
    let env = env();
    let p = &env.provider;
    let r = p
        .handle_http(post(
            "/token",
            "grant_type=client_credentials",
            Some(&basic("web", "bad")),
        ))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    assert_eq!(json(&r)["error"], "invalid_client");
    let req = Request::get("/token").body(Vec::new()).unwrap();
    assert_eq!(p.handle_http(req).await.unwrap().status(), 405);
    let req = Request::post("/token")
        .header("content-type", "application/json")
        .body(b"{}".to_vec())
        .unwrap();
    let r = p.handle_http(req).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(json(&r)["error"], "invalid_request");
    let req = Request::get("/userinfo").body(Vec::new()).unwrap();
    let r = p.handle_http(req).await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let r = p
            .handle_http(Request::get(path).body(Vec::new()).unwrap())
            .await
            .unwrap();
        assert_eq!(json(&r)["issuer"], ISSUER);
    }
    let r = p
        .handle_http(Request::get("/jwks.json").body(Vec::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/jwk-set+json");
    assert!(p
        .handle_http(Request::get("/nope").body(Vec::new()).unwrap())
        .await
        .is_err());
    // An untrusted redirect URI: an HTML error page, escaped.
    let i = p
        .authorization
        .start(
            b"response_type=code&client_id=web&redirect_uri=https%3A%2F%2Fevil%2F%3Cscript%3E",
            None,
        )
        .await;
    let r = interaction_response(&i).unwrap();
    assert_eq!(r.status(), 400);
    assert!(!String::from_utf8(r.body().clone())
        .unwrap()
        .contains("<script>"));
}

/// Another crate's endpoints (say CIBA's backchannel authentication endpoint).
struct Backchannel;

#[async_trait::async_trait]
impl idforge_oauth_core::http::HttpEndpoints for Backchannel {
    async fn handle_http(
        &self,
        req: Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, Request<Vec<u8>>> {
        if req.uri().path() != "/bc-authorize" {
            return Err(req);
        }
        let echoed = req.into_body();
        Ok(http::Response::new(echoed))
    }
}

#[tokio::test]
async fn endpoint_sets_compose_without_copying_the_request() {
    use idforge_oauth_core::http::{route, HttpEndpoints};
    let env = env();
    let handlers: [&dyn HttpEndpoints; 2] = [&env.provider, &Backchannel];
    // oauth-core answers its own paths...
    let r = route(
        &handlers,
        post(
            "/token",
            "grant_type=client_credentials",
            Some(&basic("cc-only", "cc-secret")),
        ),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // ...passes the others on, body and all...
    let r = route(&handlers, post("/bc-authorize", "login_hint=alice", None))
        .await
        .unwrap();
    assert_eq!(r.body(), b"login_hint=alice");
    // ...and a path nobody serves comes back to the host unchanged.
    let back = route(&handlers, post("/nope", "x=1", None))
        .await
        .unwrap_err();
    assert_eq!(back.uri().path(), "/nope");
    assert_eq!(back.body(), b"x=1");
}
