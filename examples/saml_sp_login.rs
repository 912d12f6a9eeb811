//! A SAML 2.0 SP login in axum with `idforge-saml-sp`: `GET /login` sends the browser to the
//! IdP with an AuthnRequest (HTTP-Redirect binding), `POST /saml/acs` takes the IdP's
//! Response (HTTP-POST binding: signature, audience, recipient, `InResponseTo` against the
//! stored request, replay), opens a session and sets its cookie; `GET /me` reads the session.
//!
//! The IdP is simulated with saml-sp's `testkit::TestIdp` (an RSA key, a signed assertion).
//! The example serves on 127.0.0.1 (ephemeral port), plays the browser and the IdP against
//! itself — including a replayed Response and a tampered one, both refused — and exits 0.
//!
//! Run: `cargo run --example saml_sp_login --features saml-sp`

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use idforge::saml_sp::authn::AuthnRequest;
use idforge::saml_sp::binding::decode_redirect;
use idforge::saml_sp::ports::{MemoryReplayCache, MemoryRequestStore, RequestStore};
use idforge::saml_sp::response::{AssertionConsumer, SpConfig};
use idforge::saml_sp::testkit::{ResponseSpec, TestIdp};
use idforge::saml_sp::xml::Limits;
use time::{Duration, OffsetDateTime};

use common::{check, request};

const IDP_ENTITY_ID: &str = "https://idp.example.org";
const IDP_SSO_URL: &str = "https://idp.example.org/sso";

/// The SP: its policy, the assertion consumer (trusted IdP, replay cache, outstanding
/// requests), and its sessions (id -> NameID).
struct Sp {
    config: SpConfig,
    acs: AssertionConsumer,
    requests: Arc<MemoryRequestStore>,
    sessions: Mutex<HashMap<String, String>>,
}

/// `GET /login`: an AuthnRequest, remembered for five minutes, sent by redirect.
async fn login(State(sp): State<Arc<Sp>>) -> Response {
    let now = OffsetDateTime::now_utc();
    let Ok(req) = AuthnRequest::new(&sp.config, IDP_SSO_URL, now) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let pending = req.pending(IDP_ENTITY_ID, Some("/me"), Duration::minutes(5));
    if sp.requests.save(pending).await.is_err() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    match req.redirect_url(Some("/me"), None) {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `POST /saml/acs`: the Response; on success a session cookie and a redirect to RelayState.
async fn acs(State(sp): State<Arc<Sp>>, Form(form): Form<HashMap<String, String>>) -> Response {
    let Some(value) = form.get("SAMLResponse") else {
        return (StatusCode::BAD_REQUEST, "SAMLResponse missing").into_response();
    };
    let (assertion, pending) = match sp
        .acs
        .handle_post(value.as_bytes(), OffsetDateTime::now_utc())
        .await
    {
        Ok(ok) => ok,
        Err(e) => return (StatusCode::FORBIDDEN, e.code()).into_response(),
    };
    let Some(name_id) = assertion.name_id.map(|n| n.value) else {
        return (StatusCode::FORBIDDEN, "no NameID").into_response();
    };
    let session = hex(&rand::random::<[u8; 16]>());
    if let Ok(mut s) = sp.sessions.lock() {
        s.insert(session.clone(), name_id);
    }
    // Only a local path from the stored request is followed (no open redirect).
    let to = pending
        .and_then(|p| p.relay_state)
        .filter(|r| r.starts_with('/') && !r.starts_with("//"))
        .unwrap_or_else(|| "/".into());
    (
        [(
            header::SET_COOKIE,
            format!("sp_session={session}; Path=/; HttpOnly; SameSite=Lax"),
        )],
        Redirect::to(&to),
    )
        .into_response()
}

/// `GET /me`: who the session cookie belongs to.
async fn me(State(sp): State<Arc<Sp>>, headers: HeaderMap) -> Response {
    let session = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split("; ").find_map(|kv| kv.strip_prefix("sp_session=")));
    let user = session.and_then(|id| sp.sessions.lock().ok()?.get(id).cloned());
    match user {
        Some(name_id) => format!("signed in as {name_id}").into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let config = SpConfig::new(format!("{base}/saml/metadata"), format!("{base}/saml/acs"));
    let idp = TestIdp::generate_rsa(IDP_ENTITY_ID)?;
    let requests = Arc::new(MemoryRequestStore::new(10_000));
    let sp = Arc::new(Sp {
        acs: AssertionConsumer {
            sp: config.clone(),
            idp: idp.trusted()?,
            replay: Arc::new(MemoryReplayCache::new(100_000)),
            requests: requests.clone(),
            decryption_keys: Vec::new(),
        },
        config: config.clone(),
        requests,
        sessions: Mutex::new(HashMap::new()),
    });
    let app = Router::new()
        .route("/login", get(login))
        .route("/saml/acs", post(acs))
        .route("/me", get(me))
        .with_state(sp);
    common::spawn_server(listener, app);

    // The browser: not signed in, sent to /login, then to the IdP with the AuthnRequest.
    let r = request(addr, "GET", "/me", &[], "").await?;
    check(r.header("location") == Some("/login"), "not signed in yet")?;
    let r = request(addr, "GET", "/login", &[], "").await?;
    let to_idp = r.header("location").unwrap_or_default().to_owned();
    check(
        to_idp.starts_with(&format!("{IDP_SSO_URL}?SAMLRequest=")),
        "AuthnRequest out (HTTP-Redirect)",
    )?;

    // The IdP: reads the AuthnRequest, answers its ID with a signed assertion.
    let query = to_idp.split_once('?').map_or("", |(_, q)| q);
    let message = decode_redirect(query, &Limits::default(), false)?;
    let xml = String::from_utf8(message.xml)?;
    let id = xml
        .split("ID=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("no request ID")?;
    let spec = ResponseSpec::new(&config, Some(id), OffsetDateTime::now_utc());
    let response = idp.signed_response(&spec, true, false)?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&response);
    let form = format!(
        "SAMLResponse={}&RelayState={}",
        enc(&b64),
        enc(message.relay_state.as_deref().unwrap_or(""))
    );
    let ctype = ("content-type", "application/x-www-form-urlencoded");

    // The browser posts it to the ACS: a session cookie, back to /me.
    let r = request(addr, "POST", "/saml/acs", &[ctype], &form).await?;
    check(
        r.status == 303 && r.header("location") == Some("/me"),
        "Response in: redirected to the RelayState",
    )?;
    let cookie = r
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .ok_or("no session cookie")?
        .to_owned();
    let r = request(addr, "GET", "/me", &[("cookie", &cookie)], "").await?;
    check(
        r.body == "signed in as alice@example.com",
        "the session cookie signs the user in",
    )?;

    // The same Response again, and a tampered one: refused.
    let replay = request(addr, "POST", "/saml/acs", &[ctype], &form).await?;
    check(replay.status == 403, "a replayed Response is refused")?;
    let tampered = base64::engine::general_purpose::STANDARD.encode(
        idp.signed_response(&spec, true, false)?.replace(
            "alice@example.com</saml:NameID>",
            "admin@example.com</saml:NameID>",
        ),
    );
    let r = request(
        addr,
        "POST",
        "/saml/acs",
        &[ctype],
        &format!("SAMLResponse={}", enc(&tampered)),
    )
    .await?;
    check(
        r.status == 403 && r.body == "signature_invalid",
        "a tampered Response is refused",
    )?;
    println!("saml_sp_login: all checks passed");
    Ok(())
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
