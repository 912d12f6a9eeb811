//! Every JWE `alg` × `enc` pair in both directions with each peer.

use idforge_jose::crypto::{EcCurve, OkpCurve};
use idforge_jose::{b64, Header, Key, KeySet, KeySpec};
use idforge_jwe::{encrypt_compact, ContentEncryption, JwePolicy, KeyManagementAlgorithm};
use serde_json::json;

use crate::peers::{self, jwk_value, ok_bytes, ok_str, print_matrix, Kind, Peer};

/// One key-management case: the algorithm, a label (with the curve), the recipient's key.
pub(crate) struct KeyCase {
    pub(crate) alg: KeyManagementAlgorithm,
    pub(crate) label: String,
    pub(crate) key: Key,
}

/// The recipient key for `alg` × `enc` (for `dir` the key length depends on `enc`).
pub(crate) fn key_cases(enc: ContentEncryption, shared: &SharedKeys) -> Vec<KeyCase> {
    use KeyManagementAlgorithm as A;
    let mut cases = Vec::new();
    for alg in [A::RsaOaep, A::RsaOaep256, A::RsaOaep384, A::RsaOaep512] {
        cases.push(KeyCase {
            alg,
            label: alg.name().to_owned(),
            key: shared.rsa.clone(),
        });
    }
    for (curve, key) in &shared.agreement {
        for alg in [A::EcdhEs, A::EcdhEsA128Kw, A::EcdhEsA192Kw, A::EcdhEsA256Kw] {
            cases.push(KeyCase {
                alg,
                label: format!("{} {curve}", alg.name()),
                key: key.clone(),
            });
        }
    }
    for (alg, key) in [
        (A::A128Kw, &shared.kw128),
        (A::A192Kw, &shared.kw192),
        (A::A256Kw, &shared.kw256),
    ] {
        cases.push(KeyCase {
            alg,
            label: alg.name().to_owned(),
            key: key.clone(),
        });
    }
    cases.push(KeyCase {
        alg: A::Dir,
        label: "dir".into(),
        key: Key::generate(KeySpec::Oct(enc.cek_len())).expect("dir key"),
    });
    cases
}

/// Keys generated once per test and shared by every `enc`.
pub(crate) struct SharedKeys {
    rsa: Key,
    agreement: Vec<(&'static str, Key)>,
    kw128: Key,
    kw192: Key,
    kw256: Key,
}

impl SharedKeys {
    pub(crate) fn generate() -> Self {
        SharedKeys {
            rsa: Key::generate(KeySpec::Rsa(2048)).expect("rsa"),
            agreement: vec![
                (
                    "P-256",
                    Key::generate(KeySpec::Ec(EcCurve::P256)).expect("p256"),
                ),
                (
                    "P-384",
                    Key::generate(KeySpec::Ec(EcCurve::P384)).expect("p384"),
                ),
                (
                    "P-521",
                    Key::generate(KeySpec::Ec(EcCurve::P521)).expect("p521"),
                ),
                (
                    "X25519",
                    Key::generate(KeySpec::Okp(OkpCurve::X25519)).expect("x25519"),
                ),
            ],
            kw128: Key::generate(KeySpec::Oct(16)).expect("kw"),
            kw192: Key::generate(KeySpec::Oct(24)).expect("kw"),
            kw256: Key::generate(KeySpec::Oct(32)).expect("kw"),
        }
    }
}

/// What a peer lacks. jwcrypto 1.5/1.6 registers RSA-OAEP and RSA-OAEP-256 only (no -384/-512,
/// as the project brief notes); npm jose v6 has every pair.
pub(crate) fn peer_supports(kind: Kind, alg: KeyManagementAlgorithm) -> bool {
    match kind {
        Kind::NpmJose => true,
        Kind::Jwcrypto => !matches!(
            alg,
            KeyManagementAlgorithm::RsaOaep384 | KeyManagementAlgorithm::RsaOaep512
        ),
    }
}

/// The public key to encrypt to (the secret itself for symmetric algorithms).
pub(crate) fn encryption_key(key: &Key) -> Key {
    key.to_public().unwrap_or_else(|| key.clone())
}

fn matrix(peer: Peer) {
    let shared = SharedKeys::generate();
    let mut ops = Vec::new();
    let mut cases = Vec::new();
    for enc in ContentEncryption::ALL {
        for case in key_cases(enc, &shared) {
            if !peer_supports(peer.kind, case.alg) {
                // Confirm the peer really refuses it, so the exclusion cannot go stale.
                ops.push(json!({
                    "op": "jwe_encrypt", "alg": case.alg.name(), "enc": enc.name(),
                    "jwk": jwk_value(encryption_key(&case.key).jwk()), "plaintext": "AA",
                }));
                cases.push((enc, case, Err(ops.len() - 1)));
                continue;
            }
            let plaintext = format!("{} {} → {}: ID token ✓", case.label, enc.name(), peer.name);
            let token = encrypt_compact(
                plaintext.as_bytes(),
                &encryption_key(&case.key),
                case.alg,
                enc,
                Header::new().with("cty", "JWT"),
            )
            .unwrap_or_else(|e| panic!("idforge encrypt {} {}: {e:?}", case.label, enc.name()));
            ops.push(json!({
                "op": "jwe_decrypt", "alg": case.alg.name(), "enc": enc.name(),
                "jwk": jwk_value(case.key.jwk()), "token": token,
            }));
            ops.push(json!({
                "op": "jwe_encrypt", "alg": case.alg.name(), "enc": enc.name(),
                "jwk": jwk_value(encryption_key(&case.key).jwk()),
                "plaintext": b64::encode(&plaintext),
            }));
            cases.push((enc, case, Ok((ops.len() - 2, plaintext))));
        }
    }
    let results = peer.run(&ops);
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    let mut passed = 0;
    let mut missing = Vec::new();
    for (enc, case, slot) in &cases {
        let name = format!("{} / {}", case.label, enc.name());
        let (index, plaintext) = match slot {
            Ok(found) => found,
            Err(probe) => {
                if ok_str(&results[*probe], "token").is_ok() {
                    failures.push(format!(
                        "{name}: the peer now supports it; update peer_supports"
                    ));
                }
                missing.push(name.clone());
                rows.push((
                    name,
                    "n/a (peer lacks alg)".into(),
                    "n/a (peer lacks alg)".into(),
                ));
                continue;
            }
        };
        let forward = match ok_bytes(&results[*index], "plaintext") {
            Ok(p) if p == plaintext.as_bytes() => "ok".to_owned(),
            Ok(_) => "plaintext differs".to_owned(),
            Err(e) => format!("peer: {e}"),
        };
        let backward = match ok_str(&results[index + 1], "token") {
            Ok(token) => match JwePolicy::new([case.alg], [*enc])
                .decrypt_compact(token, &KeySet::new(vec![case.key.clone()]))
            {
                Ok(d) if d.plaintext == plaintext.as_bytes() && d.alg == case.alg => "ok".into(),
                Ok(_) => "plaintext differs".to_owned(),
                Err(e) => format!("idforge: {} ({e})", e.code()),
            },
            Err(e) => format!("peer: {e}"),
        };
        for (dir, outcome) in [("idforge → peer", &forward), ("peer → idforge", &backward)] {
            if outcome == "ok" {
                passed += 1;
            } else {
                failures.push(format!("{name} {dir}: {outcome}"));
            }
        }
        rows.push((name, forward, backward));
    }
    print_matrix(&format!("JWE with {}", peer.name), &rows);
    eprintln!(
        "{}: {passed} directions passed, {} failed, {} pairs not offered by the peer: {}",
        peer.name,
        failures.len(),
        missing.len(),
        missing.join(", ")
    );
    // 24 key-management cases × 6 enc = 144 pairs.
    assert_eq!(cases.len(), 144);
    assert!(
        failures.is_empty(),
        "{}: {} JWE checks failed:\n{}",
        peer.name,
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn jwe_every_pair_with_npm_jose() {
    if let Some(peer) = peers::npm_jose("interop jwe npm jose") {
        matrix(peer);
    }
}

#[test]
fn jwe_every_pair_with_jwcrypto() {
    if let Some(peer) = peers::jwcrypto("interop jwe jwcrypto") {
        matrix(peer);
    }
}
