//! Negative tests for the JWS verification rules: each hostile or malformed input must give one
//! specific typed error (asserted by variant), never a panic and never success. Ends with
//! property tests feeding arbitrary text to the parsers.

use idforge_jose::crypto::{self, EcCurve, HashAlg, OkpCurve};
use idforge_jose::jws::{self, JsonSignature, Limits};
use idforge_jose::{
    b64, Error, Header, Jwk, JwkSet, JwsAlgorithm, JwsPolicy, Key, KeySet, KeySpec, LocalSigner,
};
use proptest::prelude::*;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn oct_key() -> Key {
    Key::from_json(&format!(r#"{{"kty":"oct","k":"{}"}}"#, b64::encode(SECRET))).expect("oct")
}

/// A compact JWS with an arbitrary protected header, MACed with HS256 under `key`.
fn hs256(header_json: &str, payload: &[u8], key: &[u8]) -> String {
    let input = format!("{}.{}", b64::encode(header_json), b64::encode(payload));
    let mac = crypto::hmac(HashAlg::Sha256, key, input.as_bytes()).expect("hmac");
    format!("{input}.{}", b64::encode(mac))
}

fn hs_policy() -> JwsPolicy {
    JwsPolicy::new([JwsAlgorithm::HS256])
}

fn err<T: std::fmt::Debug>(r: Result<T, Error>) -> Error {
    r.expect_err("must be rejected")
}

#[test]
fn the_baseline_token_verifies() {
    // Every negative case below differs from this accepted token in one respect.
    let token = hs256(r#"{"alg":"HS256"}"#, b"hi", SECRET);
    let v = hs_policy().verify_compact(&token, &oct_key()).expect("ok");
    assert_eq!(v.payload, b"hi");
}

#[test]
fn alg_outside_the_allow_list() {
    let token = hs256(r#"{"alg":"HS256"}"#, b"hi", SECRET);
    let policy = JwsPolicy::new([JwsAlgorithm::HS384, JwsAlgorithm::RS256]);
    assert_eq!(
        err(policy.verify_compact(&token, &oct_key())),
        Error::AlgorithmNotAllowed("HS256".into())
    );
    // An empty allow-list accepts nothing.
    assert_eq!(
        err(JwsPolicy::new([]).verify_compact(&token, &oct_key())).code(),
        "algorithm_not_allowed"
    );
}

#[test]
fn alg_none_and_unknown_names() {
    let everything = JwsPolicy::new(JwsAlgorithm::ALL);
    for alg in [
        "none", "None", "NONE", "hs256", "HS256 ", "RSA1_5", "ES256K", "",
    ] {
        let header = format!(r#"{{"alg":"{alg}"}}"#);
        let token = format!("{}.{}.", b64::encode(&header), b64::encode("hi"));
        assert_eq!(
            err(everything.verify_compact(&token, &oct_key())),
            Error::UnsupportedAlgorithm(alg.into()),
            "{alg}"
        );
    }
    let not_a_string = hs256(r#"{"alg":["HS256"]}"#, b"hi", SECRET);
    assert!(matches!(
        err(everything.verify_compact(&not_a_string, &oct_key())),
        Error::InvalidHeader(_)
    ));
    let missing = hs256(r#"{"typ":"JWT"}"#, b"hi", SECRET);
    assert!(matches!(
        err(everything.verify_compact(&missing, &oct_key())),
        Error::InvalidHeader(_)
    ));
}

#[test]
fn hs256_with_an_asymmetric_public_key_is_key_confusion() {
    // The classic attack: MAC the token with the bytes of the server's *public* key.
    let rsa = Key::generate(KeySpec::Rsa(2048)).expect("rsa");
    let ec = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("ec");
    let ed = Key::generate(KeySpec::Okp(OkpCurve::Ed25519)).expect("ed");
    let policy = JwsPolicy::new(JwsAlgorithm::ALL);
    for key in [rsa, ec, ed] {
        let public = key.to_public().expect("public");
        let public_json = public.jwk().to_json();
        let token = hs256(r#"{"alg":"HS256"}"#, b"admin", public_json.as_bytes());
        assert!(
            matches!(
                err(policy.verify_compact(&token, &public)),
                Error::KeyMismatch(_)
            ),
            "{}",
            public.jwk().kty()
        );
        let set = KeySet::new(vec![public]);
        assert!(matches!(
            err(policy.verify_compact(&token, &set)),
            Error::KeyNotFound(_)
        ));
    }
}

#[test]
fn crit_rules() {
    let p = hs_policy();
    let k = oct_key();
    let case = |header: &str| err(p.verify_compact(&hs256(header, b"hi", SECRET), &k));
    // An extension we do not understand.
    assert_eq!(
        case(r#"{"alg":"HS256","crit":["exp"],"exp":1363284000}"#),
        Error::UnsupportedCritical("exp".into())
    );
    // Registered names must not be listed (RFC 7515 §4.1.11).
    for name in ["alg", "kid", "typ", "crit", "x5t#S256"] {
        let header = format!(r#"{{"alg":"HS256","kid":"k","typ":"JWT","crit":["{name}"]}}"#);
        assert!(matches!(case(&header), Error::InvalidHeader(_)), "{name}");
    }
    // Listed but absent, empty, duplicated, not an array, not strings.
    for header in [
        r#"{"alg":"HS256","crit":["ext"]}"#,
        r#"{"alg":"HS256","crit":[]}"#,
        r#"{"alg":"HS256","crit":["ext","ext"],"ext":1}"#,
        r#"{"alg":"HS256","crit":"ext","ext":1}"#,
        r#"{"alg":"HS256","crit":[1],"ext":1}"#,
    ] {
        assert!(matches!(case(header), Error::InvalidHeader(_)), "{header}");
    }
    // Understood extensions are accepted.
    let token = hs256(r#"{"alg":"HS256","crit":["ext"],"ext":1}"#, b"hi", SECRET);
    assert!(hs_policy()
        .understanding("ext")
        .verify_compact(&token, &k)
        .is_ok());
}

/// A flattened JSON JWS with the given protected header and unprotected `header` member.
fn flattened(protected: &str, unprotected: &str) -> String {
    let protected_b64 = b64::encode(protected);
    let payload = b64::encode("hi");
    let mac = crypto::hmac(
        HashAlg::Sha256,
        SECRET,
        format!("{protected_b64}.{payload}").as_bytes(),
    )
    .expect("hmac");
    format!(
        r#"{{"payload":"{payload}","protected":"{protected_b64}","header":{unprotected},"signature":"{}"}}"#,
        b64::encode(mac)
    )
}

#[test]
fn crit_in_the_unprotected_header() {
    let p = hs_policy().understanding("ext");
    let ok = flattened(
        r#"{"alg":"HS256","crit":["ext"],"ext":1}"#,
        r#"{"kid":"a"}"#,
    );
    assert!(p.verify_json(&ok, &oct_key()).is_ok());
    let bad = flattened(r#"{"alg":"HS256","ext":1}"#, r#"{"crit":["ext"]}"#);
    assert!(matches!(
        err(p.verify_json(&bad, &oct_key())),
        Error::InvalidHeader(m) if m.contains("integrity protected")
    ));
}

#[test]
fn b64_rules() {
    let lenient = hs_policy().allowing_unencoded_payload();
    let k = oct_key();
    // b64 without crit, under either policy.
    let no_crit = {
        let h = b64::encode(r#"{"alg":"HS256","b64":false}"#);
        let mac = crypto::hmac(HashAlg::Sha256, SECRET, format!("{h}.hi").as_bytes()).expect("mac");
        format!("{h}.hi.{}", b64::encode(mac))
    };
    for p in [&hs_policy(), &lenient] {
        assert!(matches!(
            err(p.verify_compact(&no_crit, &k)),
            Error::InvalidHeader(m) if m.contains("crit")
        ));
    }
    // b64 that is not a boolean.
    let token = hs256(
        r#"{"alg":"HS256","b64":"false","crit":["b64"]}"#,
        b"hi",
        SECRET,
    );
    assert!(matches!(
        err(lenient.verify_compact(&token, &k)),
        Error::InvalidHeader(_)
    ));
    // b64 in the unprotected header.
    let json = flattened(r#"{"alg":"HS256"}"#, r#"{"b64":true}"#);
    assert!(matches!(
        err(lenient.verify_json(&json, &k)),
        Error::InvalidHeader(m) if m.contains("b64")
    ));
    // b64:false listed in crit but not allowed by the default policy.
    let token = {
        let h = b64::encode(r#"{"alg":"HS256","b64":false,"crit":["b64"]}"#);
        let mac = crypto::hmac(HashAlg::Sha256, SECRET, format!("{h}.hi").as_bytes()).expect("mac");
        format!("{h}.hi.{}", b64::encode(mac))
    };
    assert_eq!(
        err(hs_policy().verify_compact(&token, &k)),
        Error::UnsupportedCritical("b64".into())
    );
    assert_eq!(
        lenient.verify_compact(&token, &k).expect("ok").payload,
        b"hi"
    );
}

#[test]
fn duplicate_header_members() {
    let token = hs256(r#"{"alg":"HS256","alg":"none"}"#, b"hi", SECRET);
    assert!(matches!(
        err(hs_policy().verify_compact(&token, &oct_key())),
        Error::Malformed(m) if m.contains("duplicate")
    ));
    // Also in the JSON serialization's outer object.
    let json = flattened(r#"{"alg":"HS256"}"#, r#"{"kid":"a"}"#);
    let doubled = json.replacen('{', r#"{"payload":"aGk","#, 1);
    assert!(matches!(
        err(hs_policy().verify_json(&doubled, &oct_key())),
        Error::Malformed(m) if m.contains("duplicate")
    ));
}

#[test]
fn protected_and_unprotected_overlap() {
    let json = flattened(r#"{"alg":"HS256","kid":"a"}"#, r#"{"kid":"b"}"#);
    assert!(matches!(
        err(hs_policy().verify_json(&json, &oct_key())),
        Error::InvalidHeader(m) if m.contains("both")
    ));
    let json = flattened(r#"{"alg":"HS256"}"#, r#"{"alg":"HS256"}"#);
    assert!(matches!(
        err(hs_policy().verify_json(&json, &oct_key())),
        Error::InvalidHeader(_)
    ));
}

fn tamper_signature(token: &str, f: impl Fn(&mut Vec<u8>)) -> String {
    let (rest, sig) = token.rsplit_once('.').expect("three parts");
    let mut bytes = b64::decode(sig, "sig").expect("sig");
    f(&mut bytes);
    format!("{rest}.{}", b64::encode(bytes))
}

#[test]
fn truncated_extended_and_bit_flipped_signatures() {
    let keys: Vec<(JwsAlgorithm, Key)> = vec![
        (JwsAlgorithm::HS256, oct_key()),
        (
            JwsAlgorithm::RS256,
            Key::generate(KeySpec::Rsa(2048)).expect("rsa"),
        ),
        (
            JwsAlgorithm::PS256,
            Key::generate(KeySpec::Rsa(2048)).expect("rsa"),
        ),
        (
            JwsAlgorithm::ES256,
            Key::generate(KeySpec::Ec(EcCurve::P256)).expect("ec"),
        ),
        (
            JwsAlgorithm::ES384,
            Key::generate(KeySpec::Ec(EcCurve::P384)).expect("ec"),
        ),
        (
            JwsAlgorithm::ES512,
            Key::generate(KeySpec::Ec(EcCurve::P521)).expect("ec"),
        ),
        (
            JwsAlgorithm::EdDSA,
            Key::generate(KeySpec::Okp(OkpCurve::Ed25519)).expect("ed"),
        ),
    ];
    for (alg, key) in keys {
        let signer = LocalSigner::new(key.clone(), alg).expect("signer");
        let token = jws::sign_compact(Header::new(), b"payload", &signer).expect("sign");
        let verifier = key.to_public().unwrap_or(key);
        let policy = JwsPolicy::new([alg]);
        assert!(policy.verify_compact(&token, &verifier).is_ok(), "{alg}");
        let variants = [
            tamper_signature(&token, |s| {
                s.pop();
            }),
            tamper_signature(&token, |s| s.truncate(s.len() / 2)),
            tamper_signature(&token, |s| s.clear()),
            tamper_signature(&token, |s| s.push(0)),
            tamper_signature(&token, |s| s[0] ^= 0x80),
            tamper_signature(&token, |s| {
                let last = s.len() - 1;
                s[last] ^= 1;
            }),
        ];
        for (i, bad) in variants.iter().enumerate() {
            assert_eq!(
                err(policy.verify_compact(bad, &verifier)),
                Error::InvalidSignature,
                "{alg} variant {i}"
            );
        }
        // A flipped payload bit, and the signature moved onto another payload.
        let (h, rest) = token.split_once('.').expect("parts");
        let (_, s) = rest.split_once('.').expect("parts");
        let other = format!("{h}.{}.{s}", b64::encode("paylOad"));
        assert_eq!(
            err(policy.verify_compact(&other, &verifier)),
            Error::InvalidSignature
        );
        // A signature segment that is not base64url.
        let garbled = format!("{h}.{}.{s}!", b64::encode("payload"));
        assert_eq!(
            err(policy.verify_compact(&garbled, &verifier)),
            Error::Base64("signature")
        );
    }
}

/// Encodes a raw `r || s` ECDSA signature as DER (what OpenSSL and X.509 use).
fn der_ecdsa(raw: &[u8]) -> Vec<u8> {
    fn int(bytes: &[u8]) -> Vec<u8> {
        let first = bytes
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(bytes.len() - 1);
        let mut v = bytes[first..].to_vec();
        if v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30];
    if body.len() >= 0x80 {
        out.push(0x81);
    }
    out.push(body.len() as u8);
    out.extend(body);
    out
}

#[test]
fn der_encoded_ecdsa_signature_is_refused() {
    for (alg, crv) in [
        (JwsAlgorithm::ES256, EcCurve::P256),
        (JwsAlgorithm::ES384, EcCurve::P384),
        (JwsAlgorithm::ES512, EcCurve::P521),
    ] {
        let key = Key::generate(KeySpec::Ec(crv)).expect("ec");
        let signer = LocalSigner::new(key.clone(), alg).expect("signer");
        let token = jws::sign_compact(Header::new(), b"payload", &signer).expect("sign");
        let der = tamper_signature(&token, |s| *s = der_ecdsa(s));
        assert_eq!(
            err(JwsPolicy::new([alg]).verify_compact(&der, &key.to_public().expect("public"))),
            Error::InvalidSignature,
            "{alg}"
        );
    }
}

#[test]
fn oversize_and_deeply_nested_inputs() {
    let k = oct_key();
    let mut small = hs_policy();
    small.limits = Limits {
        max_input_bytes: 64,
        ..Limits::default()
    };
    let token = hs256(r#"{"alg":"HS256"}"#, &[b'a'; 100], SECRET);
    assert!(matches!(
        err(small.verify_compact(&token, &k)),
        Error::LimitExceeded(_)
    ));
    assert!(matches!(
        err(small.verify_json(&format!("{{\"payload\":\"{}\"}}", "A".repeat(100)), &k)),
        Error::LimitExceeded(_)
    ));
    // The default limit: 1 MiB.
    let huge = "a".repeat((1 << 20) + 1);
    assert!(matches!(
        err(hs_policy().verify_compact(&huge, &k)),
        Error::LimitExceeded(_)
    ));
    assert!(matches!(
        err(hs_policy().verify_json(&huge, &k)),
        Error::LimitExceeded(_)
    ));
    // A header far larger than max_header_bytes.
    let big_header = format!(r#"{{"alg":"HS256","x":"{}"}}"#, "y".repeat(20_000));
    assert!(matches!(
        err(hs_policy().verify_compact(&hs256(&big_header, b"hi", SECRET), &k)),
        Error::LimitExceeded(_)
    ));
    // Deep nesting in a header and in the JSON serialization.
    let deep = format!(
        r#"{{"alg":"HS256","x":{}1{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert!(matches!(
        err(hs_policy().verify_compact(&hs256(&deep, b"hi", SECRET), &k)),
        Error::LimitExceeded(_)
    ));
    let deep_json = format!(
        r#"{{"payload":"aGk","x":{}}}"#,
        "{\"a\":".repeat(5_000) + "1" + &"}".repeat(5_000)
    );
    assert!(matches!(
        err(hs_policy().verify_json(&deep_json, &k)),
        Error::LimitExceeded(_)
    ));
    // Too many signatures in the general serialization.
    let entry = r#"{"protected":"eyJhbGciOiJIUzI1NiJ9","signature":"AA"}"#;
    let many = format!(
        r#"{{"payload":"aGk","signatures":[{}]}}"#,
        [entry; 9].join(",")
    );
    assert!(matches!(
        err(hs_policy().verify_json(&many, &k)),
        Error::LimitExceeded(_)
    ));
}

#[test]
fn structurally_malformed_compact_and_json() {
    let k = oct_key();
    let p = hs_policy();
    let good = hs256(r#"{"alg":"HS256"}"#, b"hi", SECRET);
    for bad in ["", ".", "..", "...", "a.b", "a.b.c.d", &format!("{good}.")] {
        assert!(
            matches!(
                err(p.verify_compact(bad, &k)),
                Error::Malformed(_) | Error::Base64(_)
            ),
            "{bad:?}"
        );
    }
    let not_json_header = format!("{}.aGk.AA", b64::encode("not json"));
    assert!(matches!(
        err(p.verify_compact(&not_json_header, &k)),
        Error::Malformed(_)
    ));
    let array_header = format!("{}.aGk.AA", b64::encode("[]"));
    assert!(matches!(
        err(p.verify_compact(&array_header, &k)),
        Error::Malformed(_)
    ));
    for bad in [
        "{}",
        "[]",
        r#"{"payload":1,"signature":"AA"}"#,
        r#"{"payload":"aGk"}"#,
        r#"{"payload":"aGk","signatures":[]}"#,
        r#"{"payload":"aGk","signatures":{}}"#,
        r#"{"payload":"aGk","signatures":[1]}"#,
        r#"{"payload":"aGk","signatures":[{"protected":"eyJhbGciOiJIUzI1NiJ9","signature":"AA"}],"signature":"AA"}"#,
        r#"{"payload":"aGk","protected":7,"signature":"AA"}"#,
        r#"{"payload":"aGk","protected":"eyJhbGciOiJIUzI1NiJ9","header":[],"signature":"AA"}"#,
    ] {
        assert!(
            matches!(err(p.verify_json(bad, &k)), Error::Malformed(_)),
            "{bad}"
        );
    }
}

#[test]
fn sign_json_keeps_an_unprotected_kid_out_of_the_protected_header() {
    // Regression: the signer's kid used to be added to the protected header even when the
    // caller put `kid` in the unprotected one, making the two overlap (RFC 7520 §4.6).
    let key =
        Key::from_jwk(Jwk::generate(KeySpec::Oct(32)).expect("oct").with_kid("k1")).expect("key");
    let signer = LocalSigner::new(key.clone(), JwsAlgorithm::HS256).expect("signer");
    let out = jws::sign_json(
        b"hi",
        vec![JsonSignature {
            protected: Header::new(),
            unprotected: Some(Header::new().with_kid("k1")),
            signer: &signer,
        }],
        true,
    )
    .expect("sign");
    let value: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let protected = b64::decode(value["protected"].as_str().expect("protected"), "p").expect("b64");
    assert_eq!(protected, br#"{"alg":"HS256"}"#);
    assert_eq!(value["header"]["kid"], "k1");
    let v = hs_policy().verify_json(&out, &key).expect("verifies");
    assert_eq!(v.header.kid(), Some("k1"));
    // Without an unprotected kid, the signer's kid is still protected.
    let out = jws::sign_json(
        b"hi",
        vec![JsonSignature {
            protected: Header::new(),
            unprotected: None,
            signer: &signer,
        }],
        true,
    )
    .expect("sign");
    assert!(out.contains("eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0"), "{out}");
}

#[test]
fn ambiguous_jwk_sets_are_refused() {
    let secret = Jwk::generate(KeySpec::Oct(32)).expect("oct").with_kid("a");
    let ec = Jwk::generate(KeySpec::Ec(EcCurve::P256))
        .expect("ec")
        .with_kid("b");
    let ec_public = ec.to_public().expect("public");
    // Public keys mixed with secret or private ones (Wycheproof MixedKeySet).
    for keys in [
        vec![secret.clone(), ec_public.clone()],
        vec![ec.clone(), ec_public.clone().with_kid("c")],
    ] {
        assert!(matches!(
            KeySet::from_jwk_set(&JwkSet { keys }),
            Err(Error::InvalidKey(m)) if m.contains("mix")
        ));
    }
    // Two keys of one type with the same kid (Wycheproof DuplicateKid, RFC 7517 §4.5).
    let other = Jwk::generate(KeySpec::Oct(32)).expect("oct").with_kid("a");
    assert!(matches!(
        KeySet::from_jwk_set(&JwkSet { keys: vec![secret.clone(), other] }),
        Err(Error::InvalidKey(m)) if m.contains("kid")
    ));
    // A shared kid across key types is allowed by RFC 7517 §4.5 (RFC 7520 does it).
    let rsa = Jwk::generate(KeySpec::Rsa(2048))
        .expect("rsa")
        .with_kid("b");
    assert!(KeySet::from_jwk_set(&JwkSet {
        keys: vec![ec, rsa]
    })
    .is_ok());
    assert!(KeySet::from_jwk_set(&JwkSet { keys: vec![secret] }).is_ok());
}

#[test]
fn rsa_public_exponent_one_is_refused() {
    let rsa = Jwk::generate(KeySpec::Rsa(2048))
        .expect("rsa")
        .to_public()
        .expect("public");
    let mut value = rsa.to_value();
    value["e"] = "AQ".into();
    let jwk = Jwk::from_value(value).expect("syntactically fine");
    assert!(matches!(Key::from_jwk(jwk), Err(Error::InvalidKey(m)) if m.contains("exponent")));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,300}") {
        let policy = JwsPolicy::new(JwsAlgorithm::ALL);
        let key = oct_key();
        prop_assert!(policy.verify_compact(&text, &key).is_err());
        prop_assert!(policy.verify_json(&text, &key).is_err());
        let _ = policy.verify(&text, &key);
        let _ = Jwk::from_json(&text);
        let _ = JwkSet::from_json(&text);
        let _ = jws::peek_header(&text);
    }

    #[test]
    fn arbitrary_segments_never_panic(
        header in "[A-Za-z0-9_-]{0,80}",
        payload in "[A-Za-z0-9_.-]{0,40}",
        sig in "[A-Za-z0-9_-]{0,90}",
    ) {
        let token = format!("{header}.{payload}.{sig}");
        let policy = JwsPolicy::new(JwsAlgorithm::ALL).allowing_unencoded_payload();
        prop_assert!(policy.verify_compact(&token, &oct_key()).is_err());
    }

    #[test]
    fn arbitrary_headers_never_panic(
        members in proptest::collection::vec(("[a-z0-9#]{1,6}", any::<i8>(), "[a-zA-Z0-9]{0,8}"), 0..6),
        alg in prop::sample::select(vec!["HS256", "RS256", "ES256", "EdDSA", "none", "HS999"]),
    ) {
        let mut header = serde_json::Map::new();
        header.insert("alg".into(), alg.into());
        for (name, n, s) in members {
            let value = if n % 3 == 0 { serde_json::json!([s]) } else if n % 3 == 1 { n.into() } else { s.into() };
            header.insert(name, value);
        }
        let text = serde_json::Value::Object(header).to_string();
        let token = hs256(&text, b"p", SECRET);
        let _ = JwsPolicy::new(JwsAlgorithm::ALL).verify_compact(&token, &oct_key());
        let _ = JwsPolicy::new(JwsAlgorithm::ALL).verify_json(&flattened(&text, "{}"), &oct_key());
    }

    #[test]
    fn arbitrary_jwk_members_never_panic(
        kty in prop::sample::select(vec!["EC", "RSA", "OKP", "oct", "x"]),
        crv in prop::sample::select(vec!["P-256", "P-384", "P-521", "Ed25519", "X25519", "P-192"]),
        x in proptest::collection::vec(any::<u8>(), 0..70),
        y in proptest::collection::vec(any::<u8>(), 0..70),
        d in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..70)),
    ) {
        let mut v = serde_json::json!({
            "kty": kty, "crv": crv, "x": b64::encode(&x), "y": b64::encode(&y),
            "n": b64::encode(&x), "e": b64::encode(&y), "k": b64::encode(&x),
        });
        if let Some(d) = d {
            v["d"] = b64::encode(d).into();
        }
        if let Ok(jwk) = Jwk::from_value(v) {
            let _ = Key::from_jwk(jwk);
        }
    }
}

/// ECDSA scalar edge cases at the primitive (`crypto::verify` calls `ECDSA_do_verify`, see
/// decision 0009): r or s of 0 or ≥ n are invalid (FIPS 186-5 §6.4.2 step 1), a wrong length is
/// invalid (RFC 7518 §3.4), and `(r, n - s)`, the other valid signature for the same nonce,
/// verifies (JWS does not require low-s). No rejection leaves an entry on OpenSSL's error queue.
#[test]
fn ecdsa_scalar_edge_cases() {
    // P-256 group order n (SEC 2 §2.4.2).
    const N: [u8; 32] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63,
        0x25, 0x51,
    ];
    fn sub(a: &[u8; 32], b: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let d = i16::from(a[i]) - i16::from(b[i]) - borrow;
            borrow = i16::from(d < 0);
            out[i] = d.rem_euclid(256) as u8;
        }
        out
    }
    let scheme = crypto::SignatureScheme::Ecdsa(HashAlg::Sha256, EcCurve::P256);
    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("key");
    let (private, public) = (
        key.private_key().expect("private"),
        key.public_key().expect("public"),
    );
    let msg = b"edge cases";
    let sig = crypto::sign(private, scheme, msg).expect("sign");
    assert!(crypto::verify(public, scheme, msg, &sig).expect("verify"));
    let (r, s) = sig.split_at(32);
    let with = |r: &[u8], s: &[u8]| [r, s].concat();
    let zero = [0u8; 32];
    let high_s = sub(&N, s);
    assert!(
        crypto::verify(public, scheme, msg, &with(r, &high_s)).expect("verify"),
        "(r, n - s) is a valid ECDSA signature"
    );
    for (what, bad) in [
        ("r = 0", with(&zero, s)),
        ("s = 0", with(r, &zero)),
        ("r = n", with(&N, s)),
        ("s = n", with(r, &N)),
        ("r = s = 0", with(&zero, &zero)),
        ("short", sig[..63].to_vec()),
        ("long", [sig.as_slice(), &[0]].concat()),
        ("other message", sig.clone()),
    ] {
        let m: &[u8] = if what == "other message" {
            b"other"
        } else {
            msg
        };
        assert!(
            !crypto::verify(public, scheme, m, &bad).expect("a verdict, not an error"),
            "{what}"
        );
        assert!(
            openssl::error::ErrorStack::get().errors().is_empty(),
            "{what}: the error queue is left clean"
        );
    }
}
