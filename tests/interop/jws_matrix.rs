//! Every JWS algorithm in both directions with each peer.

use idforge_jose::crypto::{EcCurve, OkpCurve};
use idforge_jose::{b64, jws, Header, JwsAlgorithm, JwsPolicy, Key, KeySpec, LocalSigner};
use serde_json::json;

use crate::peers::{self, jwk_value, ok_bytes, ok_str, print_matrix, Peer};

/// One key per algorithm family: a 64-byte secret fits every HS*, one RSA key serves RS* and
/// PS*, one EC key per curve, one Ed25519 key.
pub(crate) fn signing_keys() -> Vec<(JwsAlgorithm, Key)> {
    let oct = Key::generate(KeySpec::Oct(64)).expect("oct");
    let rsa = Key::generate(KeySpec::Rsa(2048)).expect("rsa");
    let p256 = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("p256");
    let p384 = Key::generate(KeySpec::Ec(EcCurve::P384)).expect("p384");
    let p521 = Key::generate(KeySpec::Ec(EcCurve::P521)).expect("p521");
    let ed = Key::generate(KeySpec::Okp(OkpCurve::Ed25519)).expect("ed25519");
    JwsAlgorithm::ALL
        .into_iter()
        .map(|alg| {
            let key = match alg {
                JwsAlgorithm::HS256 | JwsAlgorithm::HS384 | JwsAlgorithm::HS512 => oct.clone(),
                JwsAlgorithm::ES256 => p256.clone(),
                JwsAlgorithm::ES384 => p384.clone(),
                JwsAlgorithm::ES512 => p521.clone(),
                JwsAlgorithm::EdDSA => ed.clone(),
                _ => rsa.clone(),
            };
            (alg, key)
        })
        .collect()
}

/// The key a verifier holds: the public part, or the secret for HMAC.
pub(crate) fn verifying(key: &Key) -> Key {
    key.to_public().unwrap_or_else(|| key.clone())
}

fn matrix(peer: Peer) {
    let keys = signing_keys();
    let mut ops = Vec::new();
    let mut ours = Vec::new();
    for (alg, key) in &keys {
        let payload = format!("{{\"iss\":\"idforge\",\"alg\":\"{alg}\",\"note\":\"héllo ✓\"}}");
        let signer = LocalSigner::new(key.clone(), *alg).expect("signer");
        let token = jws::sign_compact(Header::new().with_typ("JWT"), payload.as_bytes(), &signer)
            .expect("sign");
        ops.push(json!({
            "op": "jws_verify", "alg": alg.name(),
            "jwk": jwk_value(verifying(key).jwk()), "token": token,
        }));
        ops.push(json!({
            "op": "jws_sign", "alg": alg.name(),
            "jwk": jwk_value(key.jwk()), "payload": b64::encode(&payload),
        }));
        ours.push(payload);
    }
    let results = peer.run(&ops);
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for (i, (alg, key)) in keys.iter().enumerate() {
        let (verify, sign) = (&results[2 * i], &results[2 * i + 1]);
        let forward = match ok_bytes(verify, "payload") {
            Ok(p) if p == ours[i].as_bytes() => "ok".to_owned(),
            Ok(_) => "payload differs".to_owned(),
            Err(e) => e,
        };
        let backward = match ok_str(sign, "token") {
            Ok(token) => match JwsPolicy::new([*alg]).verify_compact(token, &verifying(key)) {
                Ok(v) if v.payload == ours[i].as_bytes() => "ok".to_owned(),
                Ok(_) => "payload differs".to_owned(),
                Err(e) => format!("idforge: {}", e.code()),
            },
            Err(e) => format!("peer: {e}"),
        };
        for (dir, outcome) in [("idforge → peer", &forward), ("peer → idforge", &backward)] {
            if outcome != "ok" {
                failures.push(format!("{alg} {dir}: {outcome}"));
            }
        }
        rows.push((alg.name().to_owned(), forward, backward));
    }
    print_matrix(&format!("JWS with {}", peer.name), &rows);
    assert!(
        failures.is_empty(),
        "{}: {} of {} JWS checks failed:\n{}",
        peer.name,
        failures.len(),
        2 * keys.len(),
        failures.join("\n")
    );
}

#[test]
fn jws_every_algorithm_with_npm_jose() {
    if let Some(peer) = peers::npm_jose("interop jws npm jose") {
        matrix(peer);
    }
}

#[test]
fn jws_every_algorithm_with_jwcrypto() {
    if let Some(peer) = peers::jwcrypto("interop jws jwcrypto") {
        matrix(peer);
    }
}
