//! The same kind of service as `axum_mount_provider`, but wiring oauth-core's endpoints to
//! axum by hand: the provider is built from its ports (memory stores here), and the glue
//! between axum and oauth-core — the interactive authorization endpoint and every other
//! endpoint through `Provider::handle_http` — is the 15 lines between the `glue` markers.
//!
//! The service's own login is out of scope: it trusts an `x-demo-user` header set by its
//! (imagined) authentication in front. The example serves on 127.0.0.1 (ephemeral port), runs
//! authorization code + PKCE, the token exchange, UserInfo and a replay against itself, and
//! exits 0 when every check holds.
//!
//! Run: `cargo run --example axum_by_hand --features oauth-core`

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use idforge::jose::{crypto::EcCurve, JwsAlgorithm, Key, KeyRing, KeySpec, LocalSigner};
use idforge::oauth_core::http::interaction_response;
use idforge::oauth_core::memory::{MemoryClientStore, MemoryGrantStore, MemoryUserStore};
use idforge::oauth_core::{Client, Config, OsRng, Provider, Session};

use common::{basic, check, request};

type Op = Arc<Provider>;

// glue begins: oauth-core's endpoints in axum (kept compact, hence unformatted).
#[rustfmt::skip]
async fn authorize(State(op): State<Op>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let session = signed_in_user(&headers).map(|sub| Session::new(sub, now()));
    let i = op.authorization.start(q.unwrap_or_default().as_bytes(), session.as_ref()).await;
    interaction_response(&i).map_or(StatusCode::UNAUTHORIZED.into_response(), |r| r.map(Body::from))
}
#[rustfmt::skip]
async fn endpoints(State(op): State<Op>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 64 * 1024).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let resp = op.handle_http(axum::http::Request::from_parts(parts, body.to_vec())).await;
    resp.map_or(StatusCode::NOT_FOUND.into_response(), |r| r.map(Body::from))
}
// glue ends.

/// Who the service's own authentication says is signed in.
fn signed_in_user(headers: &HeaderMap) -> Option<String> {
    headers.get("x-demo-user")?.to_str().ok().map(str::to_owned)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT: &str = "http%3A%2F%2F127.0.0.1%3A3000%2Fcb";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;

    // The provider from its ports (oauth-core's README shows each one).
    let key = Key::generate(KeySpec::Ec(EcCurve::P256))?;
    let users = Arc::new(MemoryUserStore::new());
    let claims = serde_json::json!({"email": "alice@example.com"});
    users.add_user(
        "alice",
        "unused-here",
        claims.as_object().cloned().unwrap_or_default(),
        &OsRng::new(),
    )?;
    let op: Op = Arc::new(
        Provider::builder(Config::new(format!("http://{addr}")))
            .clients(Arc::new(MemoryClientStore::with_clients([
                Client::confidential("rp", "rp-secret")
                    .with_redirect_uri("http://127.0.0.1:3000/cb")
                    .with_consent_implied(),
            ])))
            .grants(Arc::new(MemoryGrantStore::new()))
            .claims(users.clone())
            .passwords(users)
            .keys(Arc::new(KeyRing::new(LocalSigner::new(
                key,
                JwsAlgorithm::ES256,
            )?)))
            .build()?,
    );
    let app = Router::new()
        .route("/hello", get(|| async { "hello from the service" }))
        .route("/authorize", get(authorize))
        .fallback(endpoints)
        .with_state(op);
    common::spawn_server(listener, app);

    check(
        request(addr, "GET", "/hello", &[], "").await?.body == "hello from the service",
        "the service's own route",
    )?;
    let authorize = format!(
        "/authorize?response_type=code&client_id=rp&redirect_uri={REDIRECT}&scope=openid%20email&state=st&nonce=nn&code_challenge={CHALLENGE}&code_challenge_method=S256"
    );
    let nobody = request(addr, "GET", &authorize, &[], "").await?;
    check(
        nobody.status == 401,
        "nobody signed in: the service's login",
    )?;
    let r = request(addr, "GET", &authorize, &[("x-demo-user", "alice")], "").await?;
    let location = r.header("location").unwrap_or_default().to_owned();
    check(
        r.status == 303 && location.contains("state=st"),
        "signed in: redirected back with a code",
    )?;
    let code = location
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("code="))
        .ok_or("no code")?;
    let exchange = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={REDIRECT}&code_verifier={VERIFIER}"
    );
    let form = ("content-type", "application/x-www-form-urlencoded");
    let auth = basic("rp", "rp-secret");
    let t = request(
        addr,
        "POST",
        "/token",
        &[form, ("authorization", &auth)],
        &exchange,
    )
    .await?;
    check(t.status == 200, "the code exchange")?;
    let at = t.json()["access_token"]
        .as_str()
        .ok_or("no access_token")?
        .to_owned();
    let bearer = format!("Bearer {at}");
    let u = request(addr, "GET", "/userinfo", &[("authorization", &bearer)], "").await?;
    check(
        u.status == 200 && u.json()["email"] == "alice@example.com",
        "UserInfo",
    )?;
    let replay = request(
        addr,
        "POST",
        "/token",
        &[form, ("authorization", &auth)],
        &exchange,
    )
    .await?;
    check(
        replay.status == 400 && replay.json()["error"] == "invalid_grant",
        "a replayed code is refused",
    )?;
    println!("axum_by_hand: all checks passed");
    Ok(())
}
