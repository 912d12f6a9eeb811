//! A wallet backend issuing SD-JWT VCs (RFC 9901, SD-JWT VC) with `idforge-sd-jwt` alone — no
//! OAuth: its `POST /credentials` takes the holder's public key and returns an identity
//! credential whose personal claims are selectively disclosable, bound to that key (`cnf`).
//!
//! The example serves on 127.0.0.1 (ephemeral port), asks itself for a credential, presents
//! two claims with a key binding JWT as a holder would, verifies the presentation as a
//! verifier would (signature, RFC 9901 §7, key binding, SD-JWT VC rules), checks that nothing
//! else was disclosed, and exits 0.
//!
//! Run: `cargo run --example sd_jwt_wallet_backend --features sd-jwt`

mod common;

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use idforge::jose::{crypto::EcCurve, Jwk, JwsAlgorithm, Key, KeySpec, LocalSigner, SystemClock};
use idforge::sd_jwt::{
    ClaimPath, Credential, Issuance, IssuerConfig, KeyBindingInput, VcIssuer, VcPolicy, VcVerifier,
    VerifierConfig,
};
use serde_json::json;

use common::{check, request};

const VCT: &str = "https://credentials.example.com/identity_credential";

/// The backend: its issuer key and its issuer identifier.
struct Backend {
    signer: LocalSigner,
    issuer: String,
}

/// `POST /credentials` `{"holder_jwk": {...}}`: a credential for the (here fixed) user.
async fn issue(State(b): State<Arc<Backend>>, Json(req): Json<serde_json::Value>) -> Response {
    let Ok(holder) = serde_json::from_value::<Jwk>(req["holder_jwk"].clone()) else {
        return (StatusCode::BAD_REQUEST, "holder_jwk: a public JWK").into_response();
    };
    if holder.is_private() {
        return (StatusCode::BAD_REQUEST, "holder_jwk must be public").into_response();
    }
    let now = unix_now();
    let claims = json!({
        "vct": VCT, "iss": b.issuer, "iat": now, "exp": now + 365 * 86_400,
        "given_name": "Erika", "family_name": "Mustermann", "birthdate": "1963-08-12",
        "address": {"street_address": "Heidestr. 17", "locality": "Köln", "country": "DE"},
    });
    let issuance = Issuance::new(claims.as_object().cloned().unwrap_or_default())
        .disclose([
            "/given_name",
            "/family_name",
            "/birthdate",
            "/address",
            "/address/street_address",
        ])
        .map(|i| i.holder_key(holder));
    let issued = issuance.and_then(|i| {
        VcIssuer::new(IssuerConfig::default().decoys(2)).issue(
            &i,
            &b.signer,
            &mut rand::thread_rng(),
        )
    });
    match issued {
        Ok(credential) => Json(json!({ "credential": credential })).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let issuer_key = Key::generate(KeySpec::Ec(EcCurve::P256))?;
    let backend = Arc::new(Backend {
        signer: LocalSigner::new(issuer_key.clone(), JwsAlgorithm::ES256)?,
        issuer: format!("http://{addr}"),
    });
    let app = Router::new()
        .route("/credentials", post(issue))
        .with_state(backend.clone());
    common::spawn_server(listener, app);

    // The holder's wallet: its own key, the public half sent with the request.
    let holder_key = Key::generate(KeySpec::Ec(EcCurve::P256))?;
    let body = json!({ "holder_jwk": holder_key.public_jwk().ok_or("EC key")? }).to_string();
    let r = request(
        addr,
        "POST",
        "/credentials",
        &[("content-type", "application/json")],
        &body,
    )
    .await?;
    check(r.status == 200, "a credential was issued")?;
    let issued = r.json()["credential"]
        .as_str()
        .ok_or("no credential")?
        .to_owned();

    // Holder: five claims can be disclosed; present the street (its `address` follows) and
    // the family name, bound to a verifier's nonce.
    let credential = Credential::parse(&issued, &Default::default())?;
    check(
        credential.disclosable().len() == 5,
        "five selectively disclosable claims",
    )?;
    let presentation = credential.present_with_key_binding(
        &[
            ClaimPath::parse("/address/street_address")?,
            ClaimPath::parse("/family_name")?,
        ],
        &KeyBindingInput::new("https://verifier.example.org", "n-0S6_WzA2Mj"),
        &LocalSigner::new(holder_key, JwsAlgorithm::ES256)?,
        &SystemClock,
    )?;

    // Verifier: the issuer's key, RFC 9901 §7, the key binding, the SD-JWT VC rules.
    let verifier = VcVerifier::new(
        VerifierConfig::default()
            .algorithms([JwsAlgorithm::ES256])
            .require_key_binding("https://verifier.example.org", "n-0S6_WzA2Mj"),
        VcPolicy {
            vcts: vec![VCT.into()],
            ..VcPolicy::default()
        },
    );
    let vc = verifier.verify(
        &presentation,
        &issuer_key.to_public().ok_or("EC key")?,
        &SystemClock,
    )?;
    let c = &vc.sd_jwt.claims;
    check(
        c["family_name"] == "Mustermann" && c["address"]["street_address"] == "Heidestr. 17",
        "the presented claims verify",
    )?;
    check(
        c.get("given_name").is_none() && c.get("birthdate").is_none(),
        "the claims not presented stay hidden",
    )?;
    let bad = request(
        addr,
        "POST",
        "/credentials",
        &[("content-type", "application/json")],
        &json!({ "holder_jwk": Jwk::generate(KeySpec::Ec(EcCurve::P256))? }).to_string(),
    )
    .await?;
    check(bad.status == 400, "a private holder key is refused")?;
    println!("sd_jwt_wallet_backend: all checks passed");
    Ok(())
}
