//! A SAML service provider built with axum and idforge-saml-sp, and its test suite against
//! idforge-testing's SAML IdP: a full SP-initiated login, then every attack of
//! [`SamlAttack::ALL`] posted to the ACS and refused, plus replay and unsolicited responses.
//!
//! `cargo run -p idforge-testing --example saml_sp` serves it on 127.0.0.1:8080 trusting the
//! fixed test IdP (a demo: never trust that key); `cargo test -p idforge-testing --example
//! saml_sp` runs the tests below (CI does, through `cargo test --workspace`).

use std::sync::Arc;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use idforge_saml_sp::authn::AuthnRequest;
use idforge_saml_sp::ports::{MemoryReplayCache, MemoryRequestStore, RequestStore};
use idforge_saml_sp::response::{AssertionConsumer, IdentityProvider, SpConfig};
use serde::Deserialize;
use time::OffsetDateTime;

const SP_ENTITY_ID: &str = "https://sp.example.com/metadata";
const ACS_URL: &str = "https://sp.example.com/saml/acs";
const IDP_ENTITY_ID: &str = "https://idp.example.org";
const IDP_SSO_URL: &str = "https://idp.example.org/sso";

/// The SP's state: the ACS (validation, replay cache, outstanding requests) and its clock.
#[derive(Clone)]
struct Sp {
    consumer: Arc<AssertionConsumer>,
    requests: Arc<MemoryRequestStore>,
    now: Arc<dyn Fn() -> OffsetDateTime + Send + Sync>,
}

/// The SP application: `GET /saml/login` starts a login (HTTP-Redirect AuthnRequest, SAML
/// Bindings §3.4), `POST /saml/acs` consumes the IdP's Response (HTTP-POST, §3.5).
fn app(idp: IdentityProvider, now: Arc<dyn Fn() -> OffsetDateTime + Send + Sync>) -> Router {
    let requests = Arc::new(MemoryRequestStore::default());
    let consumer = AssertionConsumer {
        sp: SpConfig::new(SP_ENTITY_ID, ACS_URL),
        idp,
        replay: Arc::new(MemoryReplayCache::default()),
        requests: requests.clone(),
        decryption_keys: Vec::new(),
    };
    Router::new()
        .route("/saml/login", get(login))
        .route("/saml/acs", post(acs))
        .with_state(Sp {
            consumer: Arc::new(consumer),
            requests,
            now,
        })
}

async fn login(State(sp): State<Sp>) -> Response {
    let now = (sp.now)();
    let started = AuthnRequest::new(&sp.consumer.sp, IDP_SSO_URL, now).and_then(|request| {
        let url = request.redirect_url(Some("/home"), None)?;
        Ok((request, url))
    });
    let (request, url) = match started {
        Ok(v) => v,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let pending = request.pending(IDP_ENTITY_ID, Some("/home"), time::Duration::minutes(10));
    if sp.requests.save(pending).await.is_err() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    Redirect::to(&url).into_response()
}

#[derive(Deserialize)]
struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
}

async fn acs(State(sp): State<Sp>, Form(form): Form<AcsForm>) -> Response {
    match sp
        .consumer
        .handle_post(form.saml_response.as_bytes(), (sp.now)())
        .await
    {
        Ok((assertion, _request)) => {
            let who = assertion.name_id.map(|n| n.value).unwrap_or_default();
            // A real SP would start its session here; this one says who logged in.
            (StatusCode::OK, format!("welcome {who}")).into_response()
        }
        // The error code only: the details stay in the SP's logs.
        Err(e) => (StatusCode::FORBIDDEN, e.code()).into_response(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let idp = idforge_testing::saml::TestSamlIdp::fixed(IDP_ENTITY_ID)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    println!(
        "SP on http://{}/saml/login, trusting the fixed test IdP",
        listener.local_addr()?
    );
    axum::serve(
        listener,
        app(idp.trusted()?, Arc::new(OffsetDateTime::now_utc)),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{header, Request};
    use http_body_util::BodyExt as _;
    use idforge_saml_sp::binding::decode_redirect;
    use idforge_saml_sp::xml::Limits;
    use idforge_testing::saml::{Expected, SamlAttack, Signing, TestSamlIdp};
    use tower::ServiceExt as _;

    fn now() -> OffsetDateTime {
        // A fixed instant: the SP and the IdP agree on it, and runs are reproducible.
        OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time")
    }

    fn setup() -> (TestSamlIdp, Router) {
        let idp = TestSamlIdp::fixed(IDP_ENTITY_ID).expect("idp");
        let sp = app(idp.trusted().expect("trusted"), Arc::new(now));
        (idp, sp)
    }

    /// Starts a login and returns the AuthnRequest ID the SP is now waiting for.
    async fn start_login(sp: &Router) -> String {
        let res = sp
            .clone()
            .oneshot(
                Request::get("/saml/login")
                    .body(Body::empty())
                    .expect("req"),
            )
            .await
            .expect("login");
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let location = res.headers()[header::LOCATION].to_str().expect("ascii");
        let (endpoint, query) = location.split_once('?').expect("query");
        assert_eq!(endpoint, IDP_SSO_URL);
        let msg = decode_redirect(query, &Limits::default(), false).expect("AuthnRequest");
        assert_eq!(msg.relay_state.as_deref(), Some("/home"));
        let xml = String::from_utf8(msg.xml).expect("utf-8");
        let id = xml.split("ID=\"").nth(1).expect("ID").split('"').next();
        id.expect("ID").to_owned()
    }

    async fn post(sp: &Router, xml: &str) -> (StatusCode, String) {
        let form = format!(
            "SAMLResponse={}",
            percent_encode(&TestSamlIdp::post_value(xml))
        );
        let res = sp
            .clone()
            .oneshot(
                Request::post("/saml/acs")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(form))
                    .expect("req"),
            )
            .await
            .expect("acs");
        let status = res.status();
        let body = res.into_body().collect().await.expect("body").to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// Base64 in a form body: `+`, `/` and `=` are escaped.
    fn percent_encode(s: &str) -> String {
        s.replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D")
    }

    #[tokio::test]
    async fn sp_initiated_login_succeeds_once() {
        let (idp, sp) = setup();
        let request_id = start_login(&sp).await;
        let spec = idp.response_spec(
            &SpConfig::new(SP_ENTITY_ID, ACS_URL),
            Some(&request_id),
            now(),
        );
        let xml = idp.response(&spec, Signing::Assertion).expect("response");
        assert_eq!(
            post(&sp, &xml).await,
            (StatusCode::OK, "welcome alice@example.com".into())
        );
        // SAML Profiles §4.1.4.5: the same assertion again is a replay.
        assert_eq!(
            post(&sp, &xml).await,
            (StatusCode::FORBIDDEN, "replay".into())
        );
    }

    #[tokio::test]
    async fn a_signed_response_without_a_signed_assertion_is_enough() {
        let (idp, sp) = setup();
        let request_id = start_login(&sp).await;
        let spec = idp.response_spec(
            &SpConfig::new(SP_ENTITY_ID, ACS_URL),
            Some(&request_id),
            now(),
        );
        let xml = idp.response(&spec, Signing::Response).expect("response");
        assert_eq!(post(&sp, &xml).await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn unsigned_and_unsolicited_responses_are_refused() {
        let (idp, sp) = setup();
        let request_id = start_login(&sp).await;
        let cfg = SpConfig::new(SP_ENTITY_ID, ACS_URL);
        let spec = idp.response_spec(&cfg, Some(&request_id), now());
        let unsigned = idp.response(&spec, Signing::Unsigned).expect("response");
        assert_eq!(post(&sp, &unsigned).await.0, StatusCode::FORBIDDEN);
        let unsolicited = idp
            .response(&idp.response_spec(&cfg, None, now()), Signing::Both)
            .expect("response");
        assert_eq!(
            post(&sp, &unsolicited).await,
            (StatusCode::FORBIDDEN, "unsolicited_not_allowed".into())
        );
    }

    /// Every attack of the suite against this SP's ACS, each for a request it is really
    /// waiting for (so only the attack can be the reason for a refusal).
    #[tokio::test]
    async fn every_attack_is_refused() {
        let (idp, sp) = setup();
        let cfg = SpConfig::new(SP_ENTITY_ID, ACS_URL);
        for attack in SamlAttack::ALL.iter().copied() {
            let request_id = start_login(&sp).await;
            let spec = idp.response_spec(&cfg, Some(&request_id), now());
            let xml = idp.attack(&spec, attack).expect("attack");
            let (status, body) = post(&sp, &xml).await;
            match attack.expected() {
                Expected::Rejected => {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{attack}: {body}")
                }
                Expected::RejectedOrNameId(name) => assert!(
                    status == StatusCode::FORBIDDEN || body == format!("welcome {name}"),
                    "{attack}: {status} {body}"
                ),
            }
        }
    }
}
