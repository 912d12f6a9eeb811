//! Token exchange (RFC 8693) in `idforge serve`, through the router in process:
//! `[[trusted_issuers]]` with an inline JWK Set, implicit association by `email`, `act` from an
//! `actor_token`, `allow_impersonation`, and the validation of the new configuration fields.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod common;

use axum::Router;
use common::{basic, enc, post_form};
use idforge_jose::{
    crypto::EcCurve, sign_jwt, Header, JwkSet, JwsAlgorithm, Key, KeySpec, LocalSigner,
};
use idforge_server::{ConfigError, ServeConfig};
use serde_json::{json, Value};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
const AT: &str = "urn:ietf:params:oauth:token-type:access_token";
const IDP: &str = "https://idp.example";

fn setup() -> (Router, Key) {
    let k = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let k = Key::from_jwk(k.jwk().clone().with_kid("idp-1")).unwrap();
    let jwks = JwkSet {
        keys: vec![k.public_jwk().unwrap()],
    }
    .to_json();
    let config = format!(
        r#"
[[trusted_issuers]]
issuer = "{IDP}"
jwks = '{jwks}'
lookup_attributes = ["email"]

[[clients]]
client_id = "rp"
client_secret = "rp-secret"
grant_types = ["{GRANT}"]
allow_impersonation = true

[[clients]]
client_id = "agent"
client_secret = "agent-secret"
grant_types = ["{GRANT}", "client_credentials"]

[[users]]
username = "alice"
password = "alice-password"
[users.claims]
email = "alice@example.com"
"#
    );
    let config = ServeConfig::from_toml(&config).unwrap();
    let idp = idforge_server::build(&config, "http://op.example").unwrap();
    (idforge_server::router(&idp), k)
}

fn subject_token(k: &Key, email: &str) -> String {
    let signer = LocalSigner::new(k.clone(), JwsAlgorithm::ES256).unwrap();
    let claims = json!({
        "iss": IDP, "sub": "ext-123", "aud": "http://op.example/token", "email": email,
        "exp": 4_000_000_000_i64, "iat": 1_700_000_000, "scope": "openid profile"
    });
    sign_jwt(
        Header::new().with_kid("idp-1"),
        claims.as_object().unwrap(),
        &signer,
    )
    .unwrap()
}

fn payload(jwt: &str) -> Value {
    let p = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&idforge_jose::b64::decode(p, "payload").unwrap()).unwrap()
}

#[tokio::test]
async fn a_trusted_subject_token_is_exchanged_for_the_local_user() {
    let (app, k) = setup();
    let m = common::get(&app, "/.well-known/openid-configuration")
        .await
        .json();
    assert!(m["grant_types_supported"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g == GRANT));
    let body = format!(
        "grant_type={}&subject_token={}&subject_token_type={}&audience=https%3A%2F%2Fapi.example",
        enc(GRANT),
        subject_token(&k, "alice@example.com"),
        enc(JWT)
    );
    let r = post_form(
        &app,
        "/token",
        &[("authorization", &basic("rp", "rp-secret"))],
        &body,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = r.json();
    assert_eq!(r["issued_token_type"], AT);
    let at = payload(r["access_token"].as_str().unwrap());
    assert_eq!(at["sub"], "alice");
    assert_eq!(at["aud"], "https://api.example");
    // Unknown user: invalid_grant; bad token: invalid_request.
    let unknown = format!(
        "grant_type={}&subject_token={}&subject_token_type={}",
        enc(GRANT),
        subject_token(&k, "nobody@example.com"),
        enc(JWT)
    );
    let r = post_form(
        &app,
        "/token",
        &[("authorization", &basic("rp", "rp-secret"))],
        &unknown,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let bad = format!(
        "grant_type={}&subject_token=abc.def.ghi&subject_token_type={}",
        enc(GRANT),
        enc(JWT)
    );
    let r = post_form(
        &app,
        "/token",
        &[("authorization", &basic("rp", "rp-secret"))],
        &bad,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

#[tokio::test]
async fn an_actor_token_becomes_act_and_impersonation_needs_permission() {
    let (app, k) = setup();
    let auth = basic("agent", "agent-secret");
    let st = subject_token(&k, "alice@example.com");
    let without_actor = format!(
        "grant_type={}&subject_token={st}&subject_token_type={}",
        enc(GRANT),
        enc(JWT)
    );
    let r = post_form(&app, "/token", &[("authorization", &auth)], &without_actor).await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    let actor = post_form(
        &app,
        "/token",
        &[("authorization", &auth)],
        "grant_type=client_credentials",
    )
    .await
    .json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = format!(
        "{without_actor}&actor_token={}&actor_token_type={}",
        enc(&actor),
        enc(AT)
    );
    let r = post_form(&app, "/token", &[("authorization", &auth)], &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let at = payload(r.json()["access_token"].as_str().unwrap());
    assert_eq!(at["sub"], "alice");
    assert_eq!(at["act"], json!({"sub": "agent"}));
}

#[test]
fn trusted_issuer_settings_are_validated() {
    let err = |toml: &str| match ServeConfig::from_toml(toml) {
        Err(ConfigError::TrustedIssuer { reason, .. }) => reason,
        other => panic!("{other:?}"),
    };
    assert!(
        err("[[trusted_issuers]]\nissuer = \"https://i\"\nlookup_attributes = [\"email\"]")
            .contains("exactly one")
    );
    assert!(
        err("[[trusted_issuers]]\nissuer = \"https://i\"\njwks = '{\"keys\":[]}'")
            .contains("lookup_attributes")
    );
    assert!(err(
        "[[trusted_issuers]]\nissuer = \"https://i\"\njwks = '{\"keys\":[]}'\nlookup_attributes = [\"a\", \"b\", \"c\"]"
    )
    .contains("at most 2"));
    assert!(err(
        "[[trusted_issuers]]\nissuer = \"https://i\"\njwks = 'nope'\nimplicit_association = false"
    )
    .contains("jwks"));
    // A scheme the outbound client cannot fetch, or credentials in the URL, fail at load.
    for uri in ["ftp://i/jwks", "https://user@i/jwks", "/jwks"] {
        assert!(err(&format!("[[trusted_issuers]]\nissuer = \"https://i\"\njwks_uri = \"{uri}\"\nimplicit_association = false"))
            .contains("https://"), "{uri}");
    }
    // https is fetched through `[outbound]` (system roots and `ca_file`).
    ServeConfig::from_toml(
        "[[trusted_issuers]]\nissuer = \"https://i\"\njwks_uri = \"https://i/jwks\"\nimplicit_association = false",
    )
    .unwrap();
    let ok = ServeConfig::from_toml(
        "[[trusted_issuers]]\nissuer = \"https://i\"\njwks_uri = \"http://127.0.0.1:9/jwks\"\nimplicit_association = false\naudience = [\"x\"]",
    )
    .unwrap();
    assert!(!ok.trusted_issuers[0].implicit_association);
    assert!(
        ServeConfig::from_toml("[[trusted_issuers]]\nissuer = \"https://i\"\nbogus = 1").is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_fetched_from_jwks_uri() {
    let k = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let k = Key::from_jwk(k.jwk().clone().with_kid("idp-1")).unwrap();
    let jwks = JwkSet {
        keys: vec![k.public_jwk().unwrap()],
    }
    .to_json();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let keys = Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let jwks = jwks.clone();
            async move { jwks }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, keys).await });
    let config = format!(
        r#"
[[trusted_issuers]]
issuer = "{IDP}"
jwks_uri = "http://{addr}/jwks"
implicit_association = false

[[clients]]
client_id = "rp"
client_secret = "rp-secret"
grant_types = ["{GRANT}"]
allow_impersonation = true
"#
    );
    let idp = idforge_server::build(
        &ServeConfig::from_toml(&config).unwrap(),
        "http://op.example",
    )
    .unwrap();
    let app = idforge_server::router(&idp);
    let body = format!(
        "grant_type={}&subject_token={}&subject_token_type={}",
        enc(GRANT),
        subject_token(&k, "whoever@example.com"),
        enc(JWT)
    );
    let r = post_form(
        &app,
        "/token",
        &[("authorization", &basic("rp", "rp-secret"))],
        &body,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Association off: the external subject.
    assert_eq!(
        payload(r.json()["access_token"].as_str().unwrap())["sub"],
        "ext-123"
    );
}
