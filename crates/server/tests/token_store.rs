//! `[token_store]` (issue 19 §4): a bounded memory grant store answers HTTP 503
//! `temporarily_unavailable` naming the full limit, and self-contained tokens store nothing yet
//! stay introspectable and revocable.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod common;

use axum::Router;
use common::{basic, post_form};
use idforge_server::ServeConfig;

const CLIENT: &str = r#"
[[clients]]
client_id = "svc"
client_secret = "svc-secret"
grant_types = ["client_credentials"]
scopes = ["email"]
"#;

fn app(token_store: &str) -> Router {
    let config =
        ServeConfig::from_toml(&format!("{CLIENT}\n[token_store]\n{token_store}")).unwrap();
    let idp = idforge_server::build(&config, "http://op.example").unwrap();
    idforge_server::router(&idp)
}

async fn issue(app: &Router) -> common::Resp {
    let auth = basic("svc", "svc-secret");
    post_form(
        app,
        "/token",
        &[("authorization", &auth)],
        "grant_type=client_credentials",
    )
    .await
}

async fn active(app: &Router, token: &str) -> bool {
    let auth = basic("svc", "svc-secret");
    let r = post_form(
        app,
        "/introspect",
        &[("authorization", &auth)],
        &format!("token={token}"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["active"] == true
}

async fn revoke(app: &Router, token: &str) {
    let auth = basic("svc", "svc-secret");
    let r = post_form(
        app,
        "/revoke",
        &[("authorization", &auth)],
        &format!("token={token}"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn a_full_store_refuses_with_a_typed_error() {
    let app = app("max_grants = 2\nmax_tokens = 100\n");
    let first = issue(&app).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(issue(&app).await.status, 200);
    let r = issue(&app).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.json()["error"], "temporarily_unavailable");
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("max_grants"),
        "{}",
        r.body
    );
    // What was stored still works: introspection, then revocation frees nothing it should not.
    let token = first.json()["access_token"].as_str().unwrap().to_owned();
    assert!(active(&app, &token).await);
    revoke(&app, &token).await;
    assert!(!active(&app, &token).await);
}

#[tokio::test]
async fn self_contained_tokens_take_no_room() {
    let app = app("persistence = \"self_contained\"\nmax_grants = 1\nmax_tokens = 1\n");
    let mut tokens = Vec::new();
    for _ in 0..5 {
        let r = issue(&app).await;
        assert_eq!(r.status, 200, "{}", r.body);
        tokens.push(r.json()["access_token"].as_str().unwrap().to_owned());
    }
    assert!(active(&app, &tokens[0]).await);
    // Revocation is recorded in the deny-list (a mark), not as a stored token.
    revoke(&app, &tokens[0]).await;
    assert!(!active(&app, &tokens[0]).await);
    assert!(active(&app, &tokens[1]).await);
}
