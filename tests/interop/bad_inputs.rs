//! Hostile variations of tokens made by the peers (and by idforge itself, so these checks run
//! even without peers): each must fail with a specific typed error, never panic or succeed.

use idforge_jose::crypto::{EcCurve, OkpCurve};
use idforge_jose::{b64, Header, JwsAlgorithm, JwsPolicy, Key, KeySet, KeySpec};
use idforge_jwe::{
    encrypt_compact, ContentEncryption, Error as JweError, JwePolicy, KeyManagementAlgorithm,
};
use serde_json::{json, Map, Value};

use crate::jwe_matrix::encryption_key;
use crate::jws_matrix::verifying;
use crate::peers::{self, jwk_value, ok_str, Kind};

/// Re-encodes segment `index` of a dot-separated token after `f` changed its bytes.
fn mutate_segment(token: &str, index: usize, f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut bytes = b64::decode(&parts[index], "segment").expect("token segment is base64url");
    f(&mut bytes);
    parts[index] = b64::encode(bytes);
    parts.join(".")
}

/// Rewrites the protected header (segment 0) as JSON.
fn mutate_header(token: &str, f: impl FnOnce(&mut Map<String, Value>)) -> String {
    mutate_segment(token, 0, |bytes| {
        let mut header: Map<String, Value> = serde_json::from_slice(bytes).expect("header JSON");
        f(&mut header);
        *bytes = serde_json::to_vec(&header).expect("JSON");
    })
}

#[allow(clippy::ptr_arg)] // used as `impl FnOnce(&mut Vec<u8>)`
fn flip_first_bit(bytes: &mut Vec<u8>) {
    if let Some(first) = bytes.first_mut() {
        *first ^= 1;
    }
}

struct JweCase {
    alg: KeyManagementAlgorithm,
    enc: ContentEncryption,
    key: Key,
}

fn jwe_cases() -> Vec<JweCase> {
    use ContentEncryption as E;
    use KeyManagementAlgorithm as A;
    let gen = |spec| Key::generate(spec).expect("key");
    vec![
        JweCase {
            alg: A::EcdhEsA128Kw,
            enc: E::A128Gcm,
            key: gen(KeySpec::Ec(EcCurve::P256)),
        },
        JweCase {
            alg: A::EcdhEs,
            enc: E::A256Gcm,
            key: gen(KeySpec::Ec(EcCurve::P384)),
        },
        JweCase {
            alg: A::EcdhEsA256Kw,
            enc: E::A192CbcHs384,
            key: gen(KeySpec::Okp(OkpCurve::X25519)),
        },
        JweCase {
            alg: A::RsaOaep256,
            enc: E::A128CbcHs256,
            key: gen(KeySpec::Rsa(2048)),
        },
        JweCase {
            alg: A::A256Kw,
            enc: E::A256CbcHs512,
            key: gen(KeySpec::Oct(32)),
        },
        JweCase {
            alg: A::Dir,
            enc: E::A192Gcm,
            key: gen(KeySpec::Oct(24)),
        },
    ]
}

const PLAINTEXT: &[u8] = b"{\"sub\":\"alice\",\"aud\":\"client\"}";

fn expect_code(what: &str, result: Result<impl std::fmt::Debug, JweError>, codes: &[&str]) {
    match result {
        Ok(v) => panic!("{what}: accepted: {v:?}"),
        Err(e) => assert!(
            codes.contains(&e.code()),
            "{what}: got {} ({e:?}), want {codes:?}",
            e.code()
        ),
    }
}

/// All the mutations of one well-formed compact JWE for `case`.
fn attack_jwe(source: &str, case: &JweCase, token: &str) {
    let keys = KeySet::new(vec![case.key.clone()]);
    let strict = JwePolicy::new([case.alg], [case.enc]);
    let what = |m: &str| format!("{source} {} {} {m}", case.alg.name(), case.enc.name());
    let d = strict
        .decrypt_compact(token, &keys)
        .unwrap_or_else(|e| panic!("{}: {e:?}", what("original")));
    assert_eq!(d.plaintext, PLAINTEXT);

    // Truncation: a missing segment, a cut segment, a shortened tag.
    let (head, _) = token.rsplit_once('.').expect("five segments");
    expect_code(
        &what("without tag segment"),
        strict.decrypt_compact(head, &keys),
        &["malformed"],
    );
    expect_code(
        &what("cut mid-token"),
        strict.decrypt_compact(&token[..token.len() / 2], &keys),
        &["malformed"],
    );
    let short_tag = mutate_segment(token, 4, |t| {
        t.pop();
    });
    expect_code(
        &what("tag one byte short"),
        strict.decrypt_compact(&short_tag, &keys),
        &["invalid_tag"],
    );
    let no_tag = mutate_segment(token, 4, Vec::clear);
    expect_code(
        &what("empty tag"),
        strict.decrypt_compact(&no_tag, &keys),
        &["invalid_tag"],
    );

    // Bit flips in the tag, the ciphertext, the IV, the encrypted key.
    for (index, name) in [(4, "tag"), (3, "ciphertext"), (2, "iv")] {
        let flipped = mutate_segment(token, index, flip_first_bit);
        expect_code(
            &what(&format!("flipped {name}")),
            strict.decrypt_compact(&flipped, &keys),
            &["invalid_tag"],
        );
    }
    if !case.alg.is_direct() {
        let flipped = mutate_segment(token, 1, flip_first_bit);
        expect_code(
            &what("flipped encrypted key"),
            strict.decrypt_compact(&flipped, &keys),
            &["invalid_tag"],
        );
    }

    // Swapped algorithms: refused by the allow-list, and still refused (by the key or the tag)
    // when the policy allows everything.
    let other_alg = if case.alg == KeyManagementAlgorithm::A256Kw {
        KeyManagementAlgorithm::A128Kw
    } else {
        KeyManagementAlgorithm::A256Kw
    };
    let swapped = mutate_header(token, |h| {
        h.insert("alg".into(), other_alg.name().into());
    });
    expect_code(
        &what("swapped alg"),
        strict.decrypt_compact(&swapped, &keys),
        &["algorithm_not_allowed"],
    );
    let everything = JwePolicy::new(KeyManagementAlgorithm::ALL, ContentEncryption::ALL);
    expect_code(
        &what("swapped alg, permissive policy"),
        everything.decrypt_compact(&swapped, &keys),
        &[
            "key_not_found",
            "invalid_tag",
            "invalid_key",
            "invalid_header",
        ],
    );
    let other_enc = if case.enc == ContentEncryption::A128Gcm {
        ContentEncryption::A256Gcm
    } else {
        ContentEncryption::A128Gcm
    };
    let swapped_enc = mutate_header(token, |h| {
        h.insert("enc".into(), other_enc.name().into());
    });
    expect_code(
        &what("swapped enc"),
        strict.decrypt_compact(&swapped_enc, &keys),
        &["algorithm_not_allowed"],
    );
    expect_code(
        &what("swapped enc, permissive policy"),
        everything.decrypt_compact(&swapped_enc, &keys),
        // For `dir` the key's length no longer fits the new `enc`: no key qualifies.
        &["invalid_tag", "key_not_found"],
    );
    let none = mutate_header(token, |h| {
        h.insert("alg".into(), "none".into());
    });
    expect_code(
        &what("alg none"),
        everything.decrypt_compact(&none, &keys),
        &["unsupported_algorithm"],
    );

    // Invalid-curve and wrong-curve ephemeral keys.
    if let Some(crv) = case.key.ec_curve() {
        let off_curve = mutate_header(token, |h| {
            let y = h["epk"]["y"].as_str().expect("epk.y").to_owned();
            let mut bytes = b64::decode(&y, "y").expect("y");
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            h["epk"]["y"] = b64::encode(bytes).into();
        });
        expect_code(
            &what("epk off the curve"),
            strict.decrypt_compact(&off_curve, &keys),
            &["invalid_key"],
        );
        let other = if crv == EcCurve::P256 {
            EcCurve::P384
        } else {
            EcCurve::P256
        };
        let foreign = Key::generate(KeySpec::Ec(other)).expect("ec");
        let foreign_epk = jwk_value(foreign.to_public().expect("public").jwk());
        let wrong_curve = mutate_header(token, |h| {
            h.insert("epk".into(), foreign_epk);
        });
        expect_code(
            &what("epk on another curve"),
            strict.decrypt_compact(&wrong_curve, &keys),
            &["invalid_key"],
        );
        // The classic invalid-curve point: a P-256 JWK whose coordinates satisfy no curve
        // equation we use (x = 1, y = 1), and the point at "zero".
        for (x, y) in [(1u8, 1u8), (0, 0)] {
            let len = crv.coordinate_len();
            let mut xs = vec![0u8; len];
            let mut ys = vec![0u8; len];
            xs[len - 1] = x;
            ys[len - 1] = y;
            let bogus = mutate_header(token, |h| {
                h.insert(
                    "epk".into(),
                    json!({"kty":"EC","crv":crv.name(),"x":b64::encode(&xs),"y":b64::encode(&ys)}),
                );
            });
            expect_code(
                &what("epk (x,y) small"),
                strict.decrypt_compact(&bogus, &keys),
                &["invalid_key"],
            );
        }
    }
    if case.key.okp_curve() == Some(OkpCurve::X25519) {
        // Small-order X25519 points give an all-zero shared secret (RFC 7748 §6.1).
        for x in [vec![0u8; 32], {
            let mut one = vec![0u8; 32];
            one[0] = 1;
            one
        }] {
            let small = mutate_header(token, |h| {
                h.insert(
                    "epk".into(),
                    json!({"kty":"OKP","crv":"X25519","x":b64::encode(&x)}),
                );
            });
            expect_code(
                &what("small-order X25519 epk"),
                strict.decrypt_compact(&small, &keys),
                &["invalid_key"],
            );
        }
    }
}

#[test]
fn jwe_mutations_of_peer_and_idforge_tokens() {
    let cases = jwe_cases();
    // idforge's own tokens: the mutations are exercised even without peers.
    for case in &cases {
        let token = encrypt_compact(
            PLAINTEXT,
            &encryption_key(&case.key),
            case.alg,
            case.enc,
            Header::new(),
        )
        .expect("encrypt");
        attack_jwe("idforge", case, &token);
    }
    for peer in peers::all("interop bad JWE inputs") {
        let ops: Vec<Value> = cases
            .iter()
            .map(|c| {
                json!({
                    "op": "jwe_encrypt", "alg": c.alg.name(), "enc": c.enc.name(),
                    "jwk": jwk_value(encryption_key(&c.key).jwk()),
                    "plaintext": b64::encode(PLAINTEXT),
                })
            })
            .collect();
        for (case, result) in cases.iter().zip(peer.run(&ops)) {
            let token = ok_str(&result, "token")
                .unwrap_or_else(|e| panic!("{} encrypt {}: {e}", peer.name, case.alg.name()));
            attack_jwe(&peer.name, case, token);
        }
    }
}

#[test]
fn zip_bombs_hit_the_plaintext_limit() {
    let key = Key::generate(KeySpec::Oct(32)).expect("oct");
    let keys = KeySet::new(vec![key.clone()]);
    let policy = JwePolicy::new(
        [KeyManagementAlgorithm::A256Kw],
        [ContentEncryption::A256Gcm],
    );
    // 4 MiB of zeros deflate to a few KiB: far over the default 250 KiB inflation limit.
    let bomb = vec![0u8; 4 << 20];
    let ours = encrypt_compact(
        &bomb,
        &key,
        KeyManagementAlgorithm::A256Kw,
        ContentEncryption::A256Gcm,
        Header::new().with("zip", "DEF"),
    )
    .expect("encrypt");
    assert!(
        ours.len() < 64 << 10,
        "compressed token is small: {}",
        ours.len()
    );
    expect_code(
        "idforge zip bomb",
        policy.decrypt_compact(&ours, &keys),
        &["limit_exceeded"],
    );
    // Just under the limit inflates fine.
    let fine = vec![0u8; 200 << 10];
    let ok = encrypt_compact(
        &fine,
        &key,
        KeyManagementAlgorithm::A256Kw,
        ContentEncryption::A256Gcm,
        Header::new().with("zip", "DEF"),
    )
    .expect("encrypt");
    assert_eq!(
        policy
            .decrypt_compact(&ok, &keys)
            .expect("inflates")
            .plaintext
            .len(),
        200 << 10
    );

    // jwcrypto compresses too (npm jose v6 removed "zip" support, so it is not asked).
    if let Some(peer) = peers::jwcrypto("interop zip bomb jwcrypto") {
        assert_eq!(peer.kind, Kind::Jwcrypto);
        let op = json!({
            "op": "jwe_encrypt_zip", "alg": "A256KW", "enc": "A256GCM",
            "jwk": jwk_value(key.jwk()), "plaintext": b64::encode(&bomb),
        });
        let result = peer.run(&[op]).remove(0);
        let token = ok_str(&result, "token").expect("jwcrypto zip");
        assert!(token.len() < 64 << 10);
        expect_code(
            "jwcrypto zip bomb",
            policy.decrypt_compact(token, &keys),
            &["limit_exceeded"],
        );
    }
}

/// Mutations of peer-signed (and idforge-signed) JWS tokens.
#[test]
fn jws_mutations_of_peer_tokens() {
    let keys: Vec<(JwsAlgorithm, Key)> = vec![
        (
            JwsAlgorithm::HS256,
            Key::generate(KeySpec::Oct(32)).expect("oct"),
        ),
        (
            JwsAlgorithm::RS256,
            Key::generate(KeySpec::Rsa(2048)).expect("rsa"),
        ),
        (
            JwsAlgorithm::ES256,
            Key::generate(KeySpec::Ec(EcCurve::P256)).expect("ec"),
        ),
        (
            JwsAlgorithm::EdDSA,
            Key::generate(KeySpec::Okp(OkpCurve::Ed25519)).expect("ed"),
        ),
    ];
    let mut tokens: Vec<(String, usize, String)> = Vec::new();
    for (i, (alg, key)) in keys.iter().enumerate() {
        let signer = idforge_jose::LocalSigner::new(key.clone(), *alg).expect("signer");
        let t = idforge_jose::jws::sign_compact(Header::new(), PLAINTEXT, &signer).expect("sign");
        tokens.push(("idforge".into(), i, t));
    }
    for peer in peers::all("interop bad JWS inputs") {
        let ops: Vec<Value> = keys
            .iter()
            .map(|(alg, key)| {
                json!({"op":"jws_sign","alg":alg.name(),"jwk":jwk_value(key.jwk()),"payload":b64::encode(PLAINTEXT)})
            })
            .collect();
        for (i, result) in peer.run(&ops).into_iter().enumerate() {
            let t = ok_str(&result, "token").unwrap_or_else(|e| panic!("{}: {e}", peer.name));
            tokens.push((peer.name.clone(), i, t.to_owned()));
        }
    }
    let everything = JwsPolicy::new(JwsAlgorithm::ALL);
    for (source, i, token) in &tokens {
        let (alg, key) = &keys[*i];
        let verifier = KeySet::new(vec![verifying(key)]);
        let what = |m: &str| format!("{source} {alg} {m}");
        let strict = JwsPolicy::new([*alg]);
        assert_eq!(
            strict
                .verify_compact(token, &verifier)
                .expect("original")
                .payload,
            PLAINTEXT
        );
        let code = |t: &str, p: &JwsPolicy| {
            p.verify_compact(t, &verifier)
                .map(|_| ())
                .map_err(|e| e.code())
        };
        let truncated = mutate_segment(token, 2, |s| s.truncate(s.len() - 1));
        assert_eq!(
            code(&truncated, &strict),
            Err("invalid_signature"),
            "{}",
            what("truncated")
        );
        let (head, _) = token.rsplit_once('.').expect("three parts");
        assert_eq!(
            code(head, &strict),
            Err("malformed"),
            "{}",
            what("no signature segment")
        );
        let flipped = mutate_segment(token, 2, flip_first_bit);
        assert_eq!(
            code(&flipped, &strict),
            Err("invalid_signature"),
            "{}",
            what("flipped")
        );
        let payload_flip = mutate_segment(token, 1, flip_first_bit);
        assert_eq!(
            code(&payload_flip, &strict),
            Err("invalid_signature"),
            "{}",
            what("payload")
        );
        let swapped_to = match alg {
            JwsAlgorithm::HS256 => JwsAlgorithm::HS384,
            JwsAlgorithm::RS256 => JwsAlgorithm::PS256,
            JwsAlgorithm::ES256 => JwsAlgorithm::ES384,
            _ => JwsAlgorithm::HS256,
        };
        let swapped = mutate_header(token, |h| {
            h.insert("alg".into(), swapped_to.name().into());
        });
        assert_eq!(
            code(&swapped, &strict),
            Err("algorithm_not_allowed"),
            "{}",
            what("swapped")
        );
        let permissive = code(&swapped, &everything);
        assert!(
            matches!(permissive, Err("invalid_signature" | "key_not_found")),
            "{}: {permissive:?}",
            what("swapped, permissive")
        );
        let none = format!(
            "{}.",
            mutate_header(head, |h| {
                h.insert("alg".into(), "none".into());
            })
        );
        assert_eq!(
            code(&none, &everything),
            Err("unsupported_algorithm"),
            "{}",
            what("none")
        );
    }
}
