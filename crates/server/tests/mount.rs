//! The example's composed app (a service's own `/hello` next to the whole provider), driven in
//! process: the service's route, discovery, a client credentials token, 404 elsewhere; and the
//! provider nested under a prefix that is the issuer's path.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod common;
#[allow(dead_code)] // its `main` is not called here
#[path = "../examples/mount_in_axum.rs"]
mod example;

use axum::Router;
use common::{basic, call, enc, get, hidden, post_form, CHALLENGE};

const ISSUER: &str = "http://service.example";

#[tokio::test]
async fn provider_merged_next_to_the_service_routes() {
    let idp = idforge_server::build(&example::config(), ISSUER).unwrap();
    let app = example::app(&idp);

    let hello = get(&app, "/hello").await;
    assert_eq!(hello.status, 200);
    assert_eq!(hello.body, "hello from the service");

    let d = get(&app, "/.well-known/openid-configuration").await;
    assert_eq!(d.status, 200, "{}", d.body);
    let d = d.json();
    assert_eq!(d["issuer"], ISSUER);
    assert_eq!(d["token_endpoint"], format!("{ISSUER}/token"));
    let jwks = get(&app, "/jwks.json").await.json();
    assert!(jwks["keys"][0]["kty"].is_string());
    assert!(jwks["keys"][0].get("d").is_none(), "public keys only");

    let auth = basic("backend", "backend-secret");
    let t = post_form(
        &app,
        "/token",
        &[("authorization", &auth)],
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    let t = t.json();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["scope"], "profile", "the client's listed scopes");
    let i = post_form(
        &app,
        "/introspect",
        &[("authorization", &auth)],
        &format!("token={}", t["access_token"].as_str().unwrap()),
    )
    .await
    .json();
    assert_eq!(i["active"], true);
    assert_eq!(i["client_id"], "backend");

    let wrong = post_form(
        &app,
        "/token",
        &[("authorization", &basic("backend", "nope"))],
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json()["error"], "invalid_client");

    for path in ["/nope", "/hello/more", "/.well-known/nothing"] {
        let r = get(&app, path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
    }
    // The authorization endpoint is routed too: the login page for the web client.
    let q = format!(
        "/authorize?response_type=code&client_id=web&redirect_uri={}&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256",
        enc("http://127.0.0.1:3000/callback")
    );
    let page = get(&app, &q).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("action=\"/authorize\""));
}

#[tokio::test]
async fn provider_nested_under_the_issuer_path() {
    let issuer = format!("{ISSUER}/idp");
    let idp = idforge_server::build(&example::config(), &issuer).unwrap();
    let app = Router::new()
        .route("/hello", axum::routing::get(|| async { "hello" }))
        .nest("/idp", idforge_server::router(&idp));

    assert_eq!(get(&app, "/hello").await.body, "hello");
    let d = get(&app, "/idp/.well-known/openid-configuration").await;
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(d.json()["issuer"], issuer);
    assert_eq!(d.json()["token_endpoint"], format!("{issuer}/token"));
    let t = call(
        &app,
        "POST",
        "/idp/token",
        &[
            common::FORM,
            ("authorization", &basic("backend", "backend-secret")),
        ],
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    // The login form posts back under the prefix.
    let q = format!(
        "/idp/authorize?response_type=code&client_id=web&redirect_uri={}&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256",
        enc("http://127.0.0.1:3000/callback")
    );
    let page = get(&app, &q).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("action=\"/idp/authorize\""),
        "{}",
        page.body
    );
    let body = format!(
        "request={}&username=alice&password=alice-password",
        enc(&hidden(&page.body, "request"))
    );
    let r = post_form(&app, "/idp/authorize", &[], &body).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r
        .location()
        .starts_with("http://127.0.0.1:3000/callback?code="));
    assert_eq!(get(&app, "/idp/nope").await.status, 404);
    assert_eq!(
        get(&app, "/token").await.status,
        404,
        "only under the prefix"
    );
}
