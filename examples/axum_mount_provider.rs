//! An axum service that mounts the whole OpenID Provider of `idforge-server` next to its own
//! routes: its `/api/whoami` accepts the provider's JWT access tokens (RFC 9068), checked with
//! the provider's own keys.
//!
//! The example serves on 127.0.0.1 (ephemeral port), calls itself — its own route, discovery, a
//! `client_credentials` token, the protected route with and without that token — and exits 0
//! when every check holds.
//!
//! Run: `cargo run --example axum_mount_provider --features oauth-core`

mod common;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use idforge::jose::{verify_jwt, ClaimsValidation, JwsAlgorithm, JwsPolicy, SystemClock};
use idforge_server::{ClientConfig, ServeConfig, ServerState, TokenFormat};

use common::{basic, check, request};

/// The service's own route: who the bearer of a provider-issued JWT access token is.
async fn whoami(State(idp): State<ServerState>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    // The provider's current verification keys (its key store, as published at jwks_uri).
    let Ok(keys) = idp.provider().ctx.keys.verification_keys().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let validation = ClaimsValidation::default()
        .issuer(idp.issuer())
        .typ("at+jwt");
    match verify_jwt(
        token,
        &JwsPolicy::new([JwsAlgorithm::ES256]),
        keys.as_ref(),
        &validation,
        &SystemClock,
    ) {
        Ok(jwt) => Json(serde_json::json!({
            "client_id": jwt.claims.get("client_id"),
            "scope": jwt.claims.get("scope"),
        }))
        .into_response(),
        Err(_) => StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// The service: its own routes, then every route of the provider (discovery, JWKS, authorize
/// with its login pages, token, introspection, ...) merged in.
fn app(idp: &ServerState) -> Router {
    Router::new()
        .route("/hello", get(|| async { "hello from the service" }))
        .route("/api/whoami", get(whoami))
        .with_state(idp.clone())
        .merge(idforge_server::router(idp))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let config = ServeConfig::new().with_client(
        ClientConfig::new("backend")
            .with_secret("backend-secret")
            .with_grant_types(["client_credentials"])
            .with_scopes(["profile"])
            .with_access_token_format(TokenFormat::Jwt),
    );
    let idp = idforge_server::build(&config, &format!("http://{addr}"))?;
    common::spawn_server(listener, app(&idp));

    let hello = request(addr, "GET", "/hello", &[], "").await?;
    check(
        hello.body == "hello from the service",
        "the service's own route",
    )?;
    let discovery = request(addr, "GET", "/.well-known/openid-configuration", &[], "").await?;
    check(
        discovery.json()["issuer"] == idp.issuer(),
        "the provider's discovery document, same origin",
    )?;
    let token = request(
        addr,
        "POST",
        "/token",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("authorization", &basic("backend", "backend-secret")),
        ],
        "grant_type=client_credentials&scope=profile",
    )
    .await?;
    check(token.status == 200, "a client_credentials token")?;
    let at = token.json()["access_token"]
        .as_str()
        .ok_or("no access_token")?
        .to_owned();
    let me = request(
        addr,
        "GET",
        "/api/whoami",
        &[("authorization", &format!("Bearer {at}"))],
        "",
    )
    .await?;
    check(
        me.status == 200 && me.json()["client_id"] == "backend",
        "the service's route accepts the provider's access token",
    )?;
    let anonymous = request(addr, "GET", "/api/whoami", &[], "").await?;
    check(anonymous.status == 401, "and refuses a request without one")?;
    println!("axum_mount_provider: all checks passed");
    Ok(())
}
