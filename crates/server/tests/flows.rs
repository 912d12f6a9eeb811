//! Authorization flows through the router, in process: per-client `scopes`, the consent page
//! (approve and deny), sealed form values that cannot be altered or reused for another form,
//! request objects sent by POST, and escaping of request values on the pages.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod common;

use axum::Router;
use common::{basic, enc, get, hidden, param, post_form, CHALLENGE, VERIFIER};
use idforge_server::ServeConfig;

const CB: &str = "http://127.0.0.1:3000/callback";

const CONFIG: &str = r#"
[[clients]]
client_id = "narrow"
client_secret = "narrow-secret"
redirect_uris = ["http://127.0.0.1:3000/callback"]
grant_types = ["authorization_code", "client_credentials"]
scopes = ["openid"]

[[clients]]
client_id = "wide"
client_secret = "wide-secret"
redirect_uris = ["http://127.0.0.1:3000/callback"]
grant_types = ["authorization_code", "refresh_token", "client_credentials"]

[[users]]
username = "alice"
password = "alice-password"
[users.claims]
email = "alice@example.com"
"#;

fn app() -> Router {
    let config = ServeConfig::from_toml(CONFIG).unwrap();
    let idp = idforge_server::build(&config, "http://op.example").unwrap();
    idforge_server::router(&idp)
}

fn authorize_uri(client_id: &str, scope: &str, extra: &str) -> String {
    format!(
        "/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope={}&state=st&nonce=nn&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        enc(CB),
        enc(scope)
    )
}

/// Opens the login page and signs in as alice; the response to the login form.
async fn sign_in(app: &Router, uri: &str) -> common::Resp {
    let page = get(app, uri).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = format!(
        "request={}&username=alice&password=alice-password",
        enc(&hidden(&page.body, "request"))
    );
    post_form(app, "/authorize", &[], &body).await
}

#[tokio::test]
async fn listed_scopes_limit_the_client() {
    let app = app();
    let narrow = basic("narrow", "narrow-secret");
    let r = post_form(
        &app,
        "/token",
        &[("authorization", &narrow)],
        "grant_type=client_credentials&scope=email",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["error"], "invalid_scope");

    // At the authorization endpoint: the client and redirect URI are trusted, so the error is
    // redirected (RFC 6749 §4.1.2.1), before any login.
    let r = get(&app, &authorize_uri("narrow", "openid email", "")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location().starts_with(CB));
    assert_eq!(
        param(r.location(), "error").as_deref(),
        Some("invalid_scope")
    );
    assert_eq!(param(r.location(), "state").as_deref(), Some("st"));

    // What it lists still works.
    let r = sign_in(&app, &authorize_uri("narrow", "openid", "")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(param(r.location(), "code").is_some(), "{}", r.location());

    // Without `scopes`: every supported scope but the administrative ones.
    let wide = basic("wide", "wide-secret");
    let r = post_form(
        &app,
        "/token",
        &[("authorization", &wide)],
        "grant_type=client_credentials&scope=email%20profile",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["scope"], "email profile");
    let r = post_form(
        &app,
        "/token",
        &[("authorization", &wide)],
        "grant_type=client_credentials&scope=org_admin",
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_scope");
}

#[tokio::test]
async fn prompt_consent_shows_the_consent_page() {
    let app = app();
    let uri = authorize_uri("wide", "openid email", "&prompt=consent");
    let consent = sign_in(&app, &uri).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert!(consent.body.contains("<b>wide</b>"), "{}", consent.body);
    assert!(consent.body.contains("<code>email</code>"));
    assert!(consent.body.contains("alice"));
    let sealed = hidden(&consent.body, "consent");

    // Deny: access_denied to the client.
    let r = post_form(
        &app,
        "/authorize",
        &[],
        &format!("consent={}&decision=deny", enc(&sealed)),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        param(r.location(), "error").as_deref(),
        Some("access_denied")
    );

    // The answered consent form is spent: replaying it (to approve after all) is refused.
    let r = post_form(
        &app,
        "/authorize",
        &[],
        &format!("consent={}&decision=approve", enc(&sealed)),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("altered or expired"), "{}", r.body);

    // Approve (a fresh form): a code that redeems for tokens with the consented scopes.
    let consent = sign_in(&app, &uri).await;
    let sealed = hidden(&consent.body, "consent");
    let r = post_form(
        &app,
        "/authorize",
        &[],
        &format!("consent={}&decision=approve", enc(&sealed)),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let code = param(r.location(), "code").unwrap();
    assert_eq!(param(r.location(), "state").as_deref(), Some("st"));
    let t = post_form(
        &app,
        "/token",
        &[("authorization", &basic("wide", "wide-secret"))],
        &format!(
            "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
            enc(CB)
        ),
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert!(t.json()["id_token"].is_string());

    // Without prompt=consent, configured clients are consent-implied: straight to the code.
    let r = sign_in(&app, &authorize_uri("wide", "openid email", "")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(param(r.location(), "code").is_some());
}

#[tokio::test]
async fn sealed_values_are_bound_to_their_form() {
    let app = app();
    let page = get(&app, &authorize_uri("wide", "openid", "")).await;
    let login = hidden(&page.body, "request");

    // A login value posted as a consent answer, and an altered login value.
    let r = post_form(
        &app,
        "/authorize",
        &[],
        &format!("consent={}&decision=approve", enc(&login)),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("altered or expired"), "{}", r.body);
    assert!(!r.headers.contains_key("location"));
    let (body, mac) = login.split_once('.').unwrap();
    let altered = format!("{}A.{mac}", &body[..body.len() - 1]);
    let r = post_form(
        &app,
        "/authorize",
        &[],
        &format!(
            "request={}&username=alice&password=alice-password",
            enc(&altered)
        ),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("altered or expired"));

    // Wrong password: the form again, 401, with a fresh sealed request that still works.
    let r = post_form(
        &app,
        "/authorize",
        &[],
        &format!("request={}&username=alice&password=nope", enc(&login)),
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("wrong username or password"));
    let again = hidden(&r.body, "request");
    let r = post_form(
        &app,
        "/authorize",
        &[],
        &format!(
            "request={}&username=alice&password=alice-password",
            enc(&again)
        ),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
}

#[tokio::test]
async fn a_request_object_posted_to_authorize_is_an_authorization_request() {
    let app = app();
    // A JWS-shaped `request` parameter goes to oauth-core's request object handling, not to
    // the login form (this client has no keys, so the request object is refused).
    let body = format!(
        "response_type=code&client_id=wide&redirect_uri={}&scope=openid&state=st&request=eyJhbGciOiJFUzI1NiJ9.eyJ9.c2ln",
        enc(CB)
    );
    let r = post_form(&app, "/authorize", &[], &body).await;
    assert!(!r.body.contains("altered"), "{}", r.body);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        param(r.location(), "error").as_deref(),
        Some("invalid_request_object")
    );
    // An authorization request by POST without `request` shows the login page.
    let body = format!(
        "response_type=code&client_id=wide&redirect_uri={}&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256",
        enc(CB)
    );
    let r = post_form(&app, "/authorize", &[], &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("name=\"password\""));
}

#[tokio::test]
async fn request_values_are_escaped_on_the_pages() {
    let app = app();
    let hint = "\"><script>alert(1)</script>";
    let page = get(
        &app,
        &authorize_uri("wide", "openid", &format!("&login_hint={}", enc(hint))),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains("<script>"), "{}", page.body);
    assert!(page
        .body
        .contains("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""));

    // An error page for an untrusted redirect URI: shown, escaped, never redirected.
    let r = get(
        &app,
        "/authorize?response_type=code&client_id=%3Cb%3Ex&redirect_uri=https%3A%2F%2Fevil.example%2F",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(!r.headers.contains_key("location"));
    assert!(!r.body.contains("<b>x"), "{}", r.body);
    assert!(r.headers["content-type"].starts_with("text/html"));
}
