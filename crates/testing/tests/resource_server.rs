//! Example: a resource server's own tests. The service is axum with a JWT-validating
//! extractor built on the `jsonwebtoken` crate (as many Rust APIs are written); its tests use
//! `TestProvider` for a valid access token and for each negative fixture, which the service
//! must answer with 401.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use http_body_util::BodyExt;
use idforge_testing::{AccessTokenSpec, Defect, IssuerSpec, TestProvider};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use tower::ServiceExt;

// ---- The service under test (what a user's crate contains) -------------------------------

/// What the service trusts: the issuer, its keys (fetched from `jwks_uri` at start), the
/// service's own audience and the algorithms it accepts.
struct Trust {
    issuer: String,
    audience: String,
    jwks: JwkSet,
    algorithms: Vec<Algorithm>,
}

/// The validated claims of the request's bearer token (RFC 6750 §2.1, RFC 9068 §4).
struct Bearer(Value);

impl FromRequestParts<Arc<Trust>> for Bearer {
    type Rejection = StatusCode;

    async fn from_request_parts(
        parts: &mut Parts,
        trust: &Arc<Trust>,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(StatusCode::UNAUTHORIZED)?;
        let head = decode_header(token).map_err(|_| StatusCode::UNAUTHORIZED)?;
        // RFC 9068 §4: the `typ` must be at+jwt (an ID token is not an access token).
        if !head
            .typ
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("at+jwt"))
        {
            return Err(StatusCode::UNAUTHORIZED);
        }
        // RFC 8725 §3.1: only the algorithms the service chose, never the token's say.
        if !trust.algorithms.contains(&head.alg) {
            return Err(StatusCode::UNAUTHORIZED);
        }
        let kid = head.kid.as_deref().ok_or(StatusCode::UNAUTHORIZED)?;
        let jwk = trust.jwks.find(kid).ok_or(StatusCode::UNAUTHORIZED)?;
        let key = DecodingKey::from_jwk(jwk).map_err(|_| StatusCode::UNAUTHORIZED)?;
        let mut validation = Validation::new(head.alg);
        validation.algorithms = trust.algorithms.clone();
        validation.set_issuer(&[&trust.issuer]);
        validation.set_audience(&[&trust.audience]);
        validation.validate_nbf = true;
        validation.leeway = 60;
        let data =
            decode::<Value>(token, &key, &validation).map_err(|_| StatusCode::UNAUTHORIZED)?;
        Ok(Bearer(data.claims))
    }
}

async fn me(Bearer(claims): Bearer) -> Json<Value> {
    Json(json!({ "sub": claims["sub"], "scope": claims["scope"] }))
}

fn service(trust: Trust) -> Router {
    Router::new()
        .route("/me", get(me))
        .with_state(Arc::new(trust))
}

// ---- Its tests ---------------------------------------------------------------------------

const API: &str = "https://api.example";

/// The provider starts at the system time: `jsonwebtoken` checks `exp` and `nbf` against the
/// wall clock.
fn setup(spec: IssuerSpec) -> (TestProvider, Router) {
    let idp = TestProvider::builder()
        .seed(21)
        .start_at_system_time()
        .issuer(spec)
        .build()
        .unwrap();
    let issuer = idp.issuer();
    let alg = match issuer.algorithm().name() {
        "EdDSA" => Algorithm::EdDSA,
        "ES256" => Algorithm::ES256,
        "RS256" => Algorithm::RS256,
        other => panic!("not in this example: {other}"),
    };
    let trust = Trust {
        issuer: issuer.issuer().to_owned(),
        audience: API.into(),
        jwks: serde_json::from_str(&issuer.jwks().to_json()).unwrap(),
        algorithms: vec![alg],
    };
    (idp, service(trust))
}

async fn call(app: &Router, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = Request::get("/me");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_valid_token_is_accepted() {
    for alg in ["EdDSA", "ES256", "RS256"] {
        let alg = idforge_jose::JwsAlgorithm::from_name(alg).unwrap();
        let (idp, app) = setup(IssuerSpec::new("").with_algorithm(alg));
        let token = idp
            .issuer()
            .issue_access_token(&AccessTokenSpec::new("alice").audience(API).scope("read"))
            .await
            .unwrap();
        let (status, body) = call(&app, Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{alg:?}");
        assert_eq!(body, json!({"sub": "alice", "scope": "read"}));
    }
}

#[tokio::test]
async fn every_negative_fixture_is_rejected() {
    let (idp, app) = setup(IssuerSpec::new(""));
    let spec = AccessTokenSpec::new("alice").audience(API);
    for defect in Defect::ALL {
        let token = idp
            .issuer()
            .invalid_access_token(&spec, defect)
            .await
            .unwrap();
        let (status, _) = call(&app, Some(&token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{defect:?} was accepted");
    }
    assert_eq!(call(&app, None).await.0, StatusCode::UNAUTHORIZED);
    // An ID token is not an access token.
    let id = idp
        .issuer()
        .issue_id_token(&idforge_testing::IdTokenSpec::new("alice").audience(API))
        .await
        .unwrap();
    assert_eq!(call(&app, Some(&id)).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_token_expires_with_the_wall_clock_not_the_providers() {
    // `jsonwebtoken` reads the system time, so moving the provider's clock back issues a
    // token that is already expired for the service: what `Defect::Expired` does in one call.
    let (idp, app) = setup(IssuerSpec::new(""));
    idp.set_time(idp.now() - 7200);
    let token = idp
        .issuer()
        .issue_access_token(&AccessTokenSpec::new("alice").audience(API))
        .await
        .unwrap();
    assert_eq!(call(&app, Some(&token)).await.0, StatusCode::UNAUTHORIZED);
}
