//! RFC 7520 ("Examples of Protecting Content Using JOSE") JWK and JWS cases, RFC 8037 Ed25519 and
//! RFC 7797 unencoded-payload cases, from `../shared/vectors/jose-cookbook` (the ietf-jose cookbook).
//!
//! Every JWS is verified in each serialization it is given in (compact, flattened, general); where
//! the algorithm is deterministic (RSASSA-PKCS1-v1_5, HMAC, Ed25519) signing is checked byte for
//! byte, otherwise (RSA-PSS, ECDSA) our own signature must verify. JWKs are parsed, serialized,
//! reduced to their public part and thumbprinted.
//!
//! Without the vectors folder these tests print a skip line and pass (see `common`).

mod common;

use std::path::Path;

use idforge_jose::jws::{self, JsonSignature};
use idforge_jose::{b64, Error, Header, Jwk, JwsAlgorithm, JwsPolicy, Key, LocalSigner, Verifier};
use serde_json::{Map, Value};

fn cookbook(test: &str, rel: &str) -> Option<std::path::PathBuf> {
    common::vector_path(test, &format!("jose-cookbook/{rel}"))
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("missing string at {pointer}"))
}

fn key(v: &Value) -> Key {
    Key::from_jwk(Jwk::from_value(v.clone()).expect("cookbook JWK parses"))
        .expect("cookbook JWK is a valid key")
}

/// The key a verifier would hold: the public part of an asymmetric key, the secret otherwise.
fn verifying(key: &Key) -> Key {
    key.to_public().unwrap_or_else(|| key.clone())
}

fn header_of(v: &Value) -> Header {
    match v {
        Value::Object(m) => Header::from_map(m.clone()),
        other => panic!("not a header object: {other}"),
    }
}

fn is_deterministic(alg: JwsAlgorithm) -> bool {
    !matches!(
        alg,
        JwsAlgorithm::PS256
            | JwsAlgorithm::PS384
            | JwsAlgorithm::PS512
            | JwsAlgorithm::ES256
            | JwsAlgorithm::ES384
            | JwsAlgorithm::ES512
    )
}

/// Verifies `input` (compact string or JSON object) and checks the payload.
fn verify_any(
    policy: &JwsPolicy,
    input: &Value,
    verifier: &dyn Verifier,
    payload: &[u8],
    what: &str,
) -> idforge_jose::Verified {
    let verified = match input {
        Value::String(compact) => policy.verify_compact(compact, verifier),
        json => policy.verify_json(&json.to_string(), verifier),
    }
    .unwrap_or_else(|e| panic!("{what}: {e:?}"));
    assert_eq!(verified.payload, payload, "{what}: payload");
    verified
}

/// One RFC 7520 §4.1–4.4 style case: a single key, every serialization, and signing.
fn single_signer_case(file: &Path) {
    let case = common::read_json(file);
    let name = file
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    let alg = JwsAlgorithm::from_name(str_at(&case, "/input/alg")).expect("known alg");
    let payload = str_at(&case, "/input/payload").as_bytes().to_vec();
    let private = key(&case["input"]["key"]);
    let public = verifying(&private);
    let policy = JwsPolicy::new([alg]);

    let outputs = case["output"].as_object().expect("output object");
    assert!(!outputs.is_empty(), "{name}: no outputs");
    for (form, input) in outputs {
        let v = verify_any(&policy, input, &public, &payload, &format!("{name} {form}"));
        assert_eq!(v.alg, alg);
        assert_eq!(v.signature_index, 0);
        assert_eq!(v.header.kid(), case["input"]["key"]["kid"].as_str());
    }
    // The allow-list decides: the same token under a policy without its alg is refused.
    let others = JwsPolicy::new(JwsAlgorithm::ALL.into_iter().filter(|a| *a != alg));
    for (form, input) in outputs {
        let r = match input {
            Value::String(c) => others.verify_compact(c, &public),
            json => others.verify_json(&json.to_string(), &public),
        };
        assert_eq!(
            r.map(|_| ()),
            Err(Error::AlgorithmNotAllowed(alg.name().into())),
            "{name} {form}"
        );
    }

    let signer = LocalSigner::new(private.clone(), alg).expect("signer");
    let protected = header_of(&case["signing"]["protected"]);
    let compact = jws::sign_compact(protected.clone(), &payload, &signer).expect("sign");
    if is_deterministic(alg) {
        assert_eq!(compact, str_at(&case, "/output/compact"), "{name}: compact");
        let flat = jws::sign_json(
            &payload,
            vec![JsonSignature {
                protected: protected.clone(),
                unprotected: None,
                signer: &signer,
            }],
            true,
        )
        .expect("sign flattened");
        let flat: Value = serde_json::from_str(&flat).expect("JSON");
        assert_eq!(flat, case["output"]["json_flat"], "{name}: flattened");
        let general = jws::sign_json(
            &payload,
            vec![JsonSignature {
                protected,
                unprotected: None,
                signer: &signer,
            }],
            false,
        )
        .expect("sign general");
        let general: Value = serde_json::from_str(&general).expect("JSON");
        assert_eq!(general, case["output"]["json"], "{name}: general");
    } else {
        // Randomized signatures: same header, and our signature verifies.
        assert!(compact.starts_with(&format!("{}.", str_at(&case, "/signing/protected_b64u"))));
        let v = policy
            .verify_compact(&compact, &public)
            .expect("own signature");
        assert_eq!(v.payload, payload);
        assert_ne!(compact, str_at(&case, "/output/compact"));
    }
}

#[test]
fn rfc7520_4_1_to_4_4_single_signatures() {
    let Some(dir) = cookbook("rfc7520 §4.1-4.4", "jws") else {
        return;
    };
    let files = [
        "4_1.rsa_v15_signature.json",
        "4_2.rsa-pss_signature.json",
        "4_3.ecdsa_signature.json",
        "4_4.hmac-sha2_integrity_protection.json",
    ];
    for f in files {
        single_signer_case(&dir.join(f));
    }
}

#[test]
fn rfc8037_ed25519_signature() {
    let Some(file) = cookbook("rfc8037 Ed25519", "curve25519/jws.json") else {
        return;
    };
    single_signer_case(&file);
}

#[test]
fn rfc7520_4_5_detached_content() {
    let Some(file) = cookbook(
        "rfc7520 §4.5",
        "jws/4_5.signature_with_detached_content.json",
    ) else {
        return;
    };
    let case = common::read_json(&file);
    let payload = str_at(&case, "/input/payload").as_bytes().to_vec();
    let k = key(&case["input"]["key"]);
    let policy = JwsPolicy::new([JwsAlgorithm::HS256]);

    let compact = str_at(&case, "/output/compact");
    let v = policy
        .verify_compact_detached(compact, &payload, &k)
        .expect("detached compact");
    assert_eq!(v.payload, payload);
    // Without the payload the token's empty payload is what is "signed": it must not verify.
    assert_eq!(
        policy.verify_compact(compact, &k).map(|_| ()),
        Err(Error::InvalidSignature)
    );
    assert_eq!(
        policy
            .verify_compact_detached(compact, b"other content", &k)
            .map(|_| ()),
        Err(Error::InvalidSignature)
    );

    // The JSON forms omit `payload`; a recipient re-attaches it (RFC 7515 Appendix F).
    for form in ["json", "json_flat"] {
        let mut json = case["output"][form].clone();
        json.as_object_mut()
            .expect("object")
            .insert("payload".into(), b64::encode(&payload).into());
        verify_any(&policy, &json, &k, &payload, form);
        assert!(
            matches!(
                policy.verify_json(&case["output"][form].to_string(), &k),
                Err(Error::Malformed(_))
            ),
            "{form} without payload"
        );
    }

    let signer = LocalSigner::new(k, JwsAlgorithm::HS256).expect("signer");
    let detached =
        jws::sign_compact_detached(header_of(&case["signing"]["protected"]), &payload, &signer)
            .expect("sign detached");
    assert_eq!(detached, compact);
}

#[test]
fn rfc7520_4_6_protecting_specific_header_fields() {
    let Some(file) = cookbook(
        "rfc7520 §4.6",
        "jws/4_6.protecting_specific_header_fields.json",
    ) else {
        return;
    };
    let case = common::read_json(&file);
    let payload = str_at(&case, "/input/payload").as_bytes().to_vec();
    let k = key(&case["input"]["key"]);
    let policy = JwsPolicy::new([JwsAlgorithm::HS256]);
    for form in ["json", "json_flat"] {
        let v = verify_any(&policy, &case["output"][form], &k, &payload, form);
        // `kid` came from the unprotected header and is part of the merged header.
        assert_eq!(v.header.kid(), case["input"]["key"]["kid"].as_str());
    }

    // Signing with `kid` in the unprotected header reproduces the example byte for byte.
    let signer = LocalSigner::new(k, JwsAlgorithm::HS256).expect("signer");
    let flat = jws::sign_json(
        &payload,
        vec![JsonSignature {
            protected: header_of(&case["signing"]["protected"]),
            unprotected: Some(header_of(&case["signing"]["unprotected"])),
            signer: &signer,
        }],
        true,
    )
    .expect("sign with unprotected kid");
    let flat: Value = serde_json::from_str(&flat).expect("JSON");
    assert_eq!(flat, case["output"]["json_flat"]);
}

#[test]
fn rfc7520_4_7_protecting_content_only() {
    let Some(file) = cookbook("rfc7520 §4.7", "jws/4_7.protecting_content_only.json") else {
        return;
    };
    let case = common::read_json(&file);
    let payload = str_at(&case, "/input/payload").as_bytes().to_vec();
    let k = key(&case["input"]["key"]);
    let policy = JwsPolicy::new([JwsAlgorithm::HS256]);
    for form in ["json", "json_flat"] {
        let v = verify_any(&policy, &case["output"][form], &k, &payload, form);
        assert_eq!(v.header.alg(), Some("HS256"));
    }
    // idforge always integrity-protects `alg` when signing (RFC 8725 §3.1 spirit), so this
    // example's output (alg only in the unprotected header) is verified but not reproduced;
    // the MAC itself is checked against the example's signing input instead.
    let mac = idforge_jose::crypto::hmac(
        JwsAlgorithm::HS256.hash(),
        k.secret().expect("oct"),
        str_at(&case, "/signing/sig-input").as_bytes(),
    )
    .expect("hmac");
    assert_eq!(b64::encode(mac), str_at(&case, "/signing/sig"));
}

#[test]
fn rfc7520_4_8_multiple_signatures() {
    let Some(file) = cookbook("rfc7520 §4.8", "jws/4_8.multiple_signatures.json") else {
        return;
    };
    let case = common::read_json(&file);
    let payload = str_at(&case, "/input/payload").as_bytes().to_vec();
    let keys: Vec<Key> = case["input"]["key"]
        .as_array()
        .expect("keys")
        .iter()
        .map(key)
        .collect();
    let algs: Vec<JwsAlgorithm> = case["input"]["alg"]
        .as_array()
        .expect("algs")
        .iter()
        .map(|a| JwsAlgorithm::from_name(a.as_str().expect("str")).expect("alg"))
        .collect();
    let general = &case["output"]["json"];
    let all = JwsPolicy::new(algs.clone());
    // Each signer's key alone verifies exactly its own signature.
    for (index, (k, alg)) in keys.iter().zip(&algs).enumerate() {
        let v = verify_any(&all, general, &verifying(k), &payload, alg.name());
        assert_eq!(v.signature_index, index, "{alg}");
        assert_eq!(v.alg, *alg);
        // With only this algorithm allowed, the others are skipped and this one still verifies.
        let only = JwsPolicy::new([*alg]);
        let v = verify_any(&only, general, &verifying(k), &payload, alg.name());
        assert_eq!(v.signature_index, index);
    }
    // A key set holding all three verifies with the first signature.
    let set = idforge_jose::KeySet::new(keys.iter().map(verifying).collect());
    let v = verify_any(&all, general, &set, &payload, "key set");
    assert_eq!(v.signature_index, 0);

    // Deterministic entries (RS256 with unprotected kid, HS256 fully protected) are reproduced.
    let signing = case["signing"].as_array().expect("signing entries");
    for (index, entry) in signing.iter().enumerate() {
        let alg = algs[index];
        if !is_deterministic(alg) || entry.get("protected").is_none() {
            continue;
        }
        let signer = LocalSigner::new(keys[index].clone(), alg).expect("signer");
        let out = jws::sign_json(
            &payload,
            vec![JsonSignature {
                protected: header_of(&entry["protected"]),
                unprotected: entry.get("unprotected").map(header_of),
                signer: &signer,
            }],
            false,
        )
        .expect("sign");
        let out: Value = serde_json::from_str(&out).expect("JSON");
        assert_eq!(out["signatures"][0], entry["json"], "{alg}");
        assert_eq!(out["signatures"][0], general["signatures"][index], "{alg}");
    }
}

#[test]
fn rfc7797_unencoded_payload_compact_and_json() {
    let Some(file) = cookbook(
        "rfc7797 b64=false compact/JSON",
        "rfc7797/hmac-sha2_b64_false.json",
    ) else {
        return;
    };
    let case = common::read_json(&file);
    let payload = str_at(&case, "/input/payload").as_bytes().to_vec();
    let k = key(&case["input"]["key"]);
    let strict = JwsPolicy::new([JwsAlgorithm::HS256]);
    let lenient = JwsPolicy::new([JwsAlgorithm::HS256]).allowing_unencoded_payload();
    let outputs = case["output"].as_object().expect("outputs");
    assert_eq!(outputs.len(), 3);
    for (form, input) in outputs {
        let refused = match input {
            Value::String(c) => strict.verify_compact(c, &k),
            json => strict.verify_json(&json.to_string(), &k),
        };
        assert_eq!(
            refused.map(|_| ()),
            Err(Error::UnsupportedCritical("b64".into())),
            "{form}: b64=false must be refused by default"
        );
        let v = verify_any(&lenient, input, &k, &payload, form);
        assert!(v.header.unencoded_payload());
    }

    // The vector's `signing` section is internally inconsistent (its protected_b64u is not
    // valid JSON); the protected header of the outputs is {"alg","b64":false,"crit":["b64"]}.
    let signer = LocalSigner::new(k, JwsAlgorithm::HS256).expect("signer");
    let mut header = Map::new();
    header.insert("alg".into(), "HS256".into());
    header.insert("b64".into(), false.into());
    header.insert("crit".into(), Value::Array(vec!["b64".into()]));
    let compact =
        jws::sign_compact(Header::from_map(header.clone()), &payload, &signer).expect("sign");
    assert_eq!(compact, str_at(&case, "/output/compact"));
    let flat = jws::sign_json(
        &payload,
        vec![JsonSignature {
            protected: Header::from_map(header),
            unprotected: None,
            signer: &signer,
        }],
        true,
    )
    .expect("sign JSON");
    let flat: Value = serde_json::from_str(&flat).expect("JSON");
    assert_eq!(flat, case["output"]["json_flat"]);
}

#[test]
fn rfc7797_json_only_case_without_crit_is_refused() {
    let Some(file) = cookbook(
        "rfc7797 §4.2 draft (no crit)",
        "rfc7797/4.2.hmac-sha2_b64_false.json",
    ) else {
        return;
    };
    let case = common::read_json(&file);
    let k = key(&case["input"]["key"]);
    // This cookbook entry (file `4.2.…`) predates RFC 7797's final §4.2: its protected header
    // is {"alg":"HS256","b64":false} with no `crit` (the final §4.2 example, which has `crit`,
    // is transcribed in rfc_examples.rs and accepted there). RFC 7797 §6 requires `b64` to be listed in
    // `crit` (so that recipients unaware of the extension reject it rather than misread the
    // payload), and idforge refuses it under either policy — with a header error, not a
    // signature failure: the MAC itself is correct, as checked below.
    let mac = idforge_jose::crypto::hmac(
        JwsAlgorithm::HS256.hash(),
        k.secret().expect("oct"),
        str_at(&case, "/signing/sig-input").as_bytes(),
    )
    .expect("hmac");
    assert_eq!(b64::encode(mac), str_at(&case, "/signing/sig"));
    let strict = JwsPolicy::new([JwsAlgorithm::HS256]);
    let lenient = strict.clone().allowing_unencoded_payload();
    for form in ["json", "json_flat"] {
        let text = case["output"][form].to_string();
        for policy in [&strict, &lenient] {
            assert!(
                matches!(policy.verify_json(&text, &k), Err(Error::InvalidHeader(_))),
                "{form}"
            );
        }
    }
}

/// RFC 7638 thumbprints of the RFC 7520 §3 keys, computed independently (Python `hashlib` over
/// the RFC 7638 §3.2 canonical JSON of the files' required members).
const JWK_CASES: &[(&str, &str, Option<&str>)] = &[
    (
        "3_1.ec_public_key.json",
        "dHri3SADZkrush5HU_50AoRhcKFryN-PI6jPBtPL55M",
        None,
    ),
    (
        "3_2.ec_private_key.json",
        "dHri3SADZkrush5HU_50AoRhcKFryN-PI6jPBtPL55M",
        Some("3_1.ec_public_key.json"),
    ),
    (
        "3_3.rsa_public_key.json",
        "9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI",
        None,
    ),
    (
        "3_4.rsa_private_key.json",
        "9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI",
        Some("3_3.rsa_public_key.json"),
    ),
    (
        "3_5.symmetric_key_mac_computation.json",
        "RtoRur_1Dir5M4wuOfqNkDYOf9O_4RJ-aHkTA75RLA8",
        None,
    ),
    (
        "3_6.symmetric_key_encryption.json",
        "VDMp1ZgGGv1OKgOeDc1EUKHXNQzMdLkCnxPETHdA4v0",
        None,
    ),
];

#[test]
fn rfc7520_3_jwks_parse_serialize_thumbprint() {
    let Some(dir) = cookbook("rfc7520 §3", "jwk") else {
        return;
    };
    let files: Vec<String> = common::json_files(&dir)
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let listed: Vec<&str> = JWK_CASES.iter().map(|c| c.0).collect();
    assert_eq!(files, listed, "every JWK file of the cookbook is covered");

    for (file, thumbprint, public_file) in JWK_CASES {
        let original = common::read_json(&dir.join(file));
        let jwk = Jwk::from_value(original.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
        // Serialization keeps every member and value (order is not significant in JSON).
        assert_eq!(jwk.to_value(), original, "{file}: round trip");
        assert_eq!(Jwk::from_json(&jwk.to_json()).expect("reparse"), jwk);
        assert_eq!(&jwk.thumbprint(), thumbprint, "{file}: RFC 7638 thumbprint");
        let k = Key::from_jwk(jwk.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(k.is_private(), jwk.is_private());
        match public_file {
            Some(pf) => {
                let expected = common::read_json(&dir.join(pf));
                let public = jwk.to_public().expect("asymmetric");
                assert_eq!(public.to_value(), expected, "{file}: public view");
                assert_eq!(k.public_jwk().expect("public").to_value(), expected);
                assert!(!k.to_public().expect("public key").is_private());
            }
            None if jwk.kty() == "oct" => assert!(jwk.to_public().is_none()),
            None => assert!(!jwk.is_private(), "{file}"),
        }
    }
}

#[test]
fn rfc8037_ed25519_key_thumbprint() {
    let Some(file) = cookbook("rfc8037 key", "curve25519/jws.json") else {
        return;
    };
    let case = common::read_json(&file);
    let jwk = Jwk::from_value(case["input"]["key"].clone()).expect("OKP JWK");
    // RFC 8037 Appendix A.3.
    assert_eq!(
        jwk.thumbprint(),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
    assert_eq!(jwk.to_value(), case["input"]["key"]);
    let k = Key::from_jwk(jwk).expect("valid Ed25519 key");
    assert_eq!(JwsAlgorithm::fitting(&k), vec![JwsAlgorithm::EdDSA]);
}
