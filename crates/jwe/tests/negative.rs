//! Bad inputs give typed errors, never panics: truncation, bit-flipped tags, swapped `alg`,
//! invalid-curve `epk`, zip bombs, `crit`, misplaced `zip`, PBES2 bounds, recipients rules.
#![allow(clippy::unwrap_used)]

use idforge_jose::crypto::EcCurve;
use idforge_jose::{b64, Header, Key, KeySet, KeySpec};
use idforge_jwe::{
    encrypt_compact, ContentEncryption as E, Encryptor, Error, JwePolicy,
    KeyManagementAlgorithm as A, Limits, Recipient,
};
use serde_json::Value;

type HeaderMap = serde_json::Map<String, Value>;
type Edit = Box<dyn Fn(&mut HeaderMap)>;

fn ec() -> Key {
    Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap()
}

fn token(key: &Key, alg: A, enc: E, header: Header, pt: &[u8]) -> String {
    encrypt_compact(
        pt,
        &key.to_public().unwrap_or_else(|| key.clone()),
        alg,
        enc,
        header,
    )
    .unwrap()
}

fn parts(t: &str) -> Vec<String> {
    t.split('.').map(str::to_owned).collect()
}

fn with_header(t: &str, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let mut p = parts(t);
    let mut h: serde_json::Map<String, Value> =
        serde_json::from_slice(&b64::decode(&p[0], "h").unwrap()).unwrap();
    f(&mut h);
    p[0] = b64::encode(serde_json::to_vec(&h).unwrap());
    p.join(".")
}

#[test]
fn truncated_tokens_are_malformed_or_fail_authentication() {
    let k = ec();
    let t = token(&k, A::EcdhEsA256Kw, E::A256Gcm, Header::new(), b"payload");
    let policy = JwePolicy::new([A::EcdhEsA256Kw], [E::A256Gcm]);
    let keys = KeySet::new(vec![k]);
    for cut in 0..t.len() {
        let err = policy.decrypt_compact(&t[..cut], &keys).unwrap_err();
        assert!(
            matches!(
                err.code(),
                "malformed" | "invalid_tag" | "invalid_key" | "invalid_header"
            ),
            "cut {cut}: {err:?}"
        );
    }
    assert_eq!(
        policy.decrypt_compact(&t, &keys).unwrap().plaintext,
        b"payload"
    );
}

#[test]
fn every_flipped_tag_bit_is_invalid_tag() {
    let k = Key::generate(KeySpec::Oct(32)).unwrap();
    for enc in E::ALL {
        let t = token(&k, A::A256Kw, enc, Header::new(), b"payload");
        let p = parts(&t);
        let tag = b64::decode(&p[4], "tag").unwrap();
        let policy = JwePolicy::new([A::A256Kw], [enc]);
        let keys = KeySet::new(vec![k.clone()]);
        for bit in 0..tag.len() * 8 {
            let mut bad = tag.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let mut q = p.clone();
            q[4] = b64::encode(&bad);
            assert_eq!(
                policy.decrypt_compact(&q.join("."), &keys).unwrap_err(),
                Error::InvalidTag
            );
        }
        // Tags one byte short or long, and a full untruncated HMAC, are rejected too.
        for len in [tag.len() - 1, tag.len() + 1, tag.len() * 2] {
            let mut q = p.clone();
            q[4] = b64::encode(vec![0u8; len]);
            assert_eq!(
                policy.decrypt_compact(&q.join("."), &keys).unwrap_err(),
                Error::InvalidTag,
                "{enc} tag len {len}"
            );
        }
        // A flipped ciphertext or IV bit too (no padding oracle for CBC).
        for idx in [2, 3] {
            let mut raw = b64::decode(&p[idx], "x").unwrap();
            raw[0] ^= 0x80;
            let mut q = p.clone();
            q[idx] = b64::encode(&raw);
            assert_eq!(
                policy.decrypt_compact(&q.join("."), &keys).unwrap_err(),
                Error::InvalidTag
            );
        }
    }
}

#[test]
fn swapped_alg_is_not_allowed_or_does_not_authenticate() {
    let k = Key::generate(KeySpec::Oct(16)).unwrap();
    let t = token(&k, A::A128Kw, E::A128Gcm, Header::new(), b"payload");
    let keys = KeySet::new(vec![k]);
    // Outside the allow-list: refused before any key is touched.
    let swapped = with_header(&t, |h| {
        h.insert("alg".into(), "A128GCMKW".into());
    });
    let narrow = JwePolicy::new([A::A128Kw], [E::A128Gcm]);
    assert_eq!(
        narrow.decrypt_compact(&swapped, &keys).unwrap_err().code(),
        "algorithm_not_allowed"
    );
    let wide = JwePolicy::new(A::ALL, E::ALL);
    assert_eq!(
        wide.decrypt_compact(&swapped, &keys).unwrap_err().code(),
        "invalid_header",
        "A128GCMKW needs iv/tag"
    );
    // Swapped to dir with the same key: the header changed, so the AAD does not match.
    let dir = with_header(&t, |h| {
        h.insert("alg".into(), "dir".into());
    });
    assert_eq!(
        wide.decrypt_compact(&dir, &keys).unwrap_err().code(),
        "malformed",
        "dir needs an empty encrypted key"
    );
    // Swapped enc: the CEK length no longer fits, caught as an authentication failure.
    let enc = with_header(&t, |h| {
        h.insert("enc".into(), "A256GCM".into());
    });
    assert_eq!(
        wide.decrypt_compact(&enc, &keys).unwrap_err(),
        Error::InvalidTag
    );
    // RSA1_5 and `none` are not algorithms at all.
    for alg in ["RSA1_5", "none"] {
        let t2 = with_header(&t, |h| {
            h.insert("alg".into(), alg.into());
        });
        assert_eq!(
            wide.decrypt_compact(&t2, &keys).unwrap_err().code(),
            "unsupported_algorithm"
        );
    }
}

#[test]
fn invalid_curve_epk_is_rejected() {
    let k = ec();
    let t = token(&k, A::EcdhEsA128Kw, E::A128Gcm, Header::new(), b"payload");
    let policy = JwePolicy::new([A::EcdhEsA128Kw], [E::A128Gcm]);
    let keys = KeySet::new(vec![k]);
    // A point off the curve (y changed), a point on P-384, a point at (0,0), an X25519 key.
    let other = Key::generate(KeySpec::Ec(EcCurve::P384))
        .unwrap()
        .public_jwk()
        .unwrap()
        .to_value();
    let variants: Vec<Edit> = vec![
        Box::new(|h| {
            let y = h["epk"]["y"].as_str().unwrap().to_owned();
            let mut raw = b64::decode(&y, "y").unwrap();
            raw[31] ^= 1;
            h["epk"]["y"] = b64::encode(raw).into();
        }),
        Box::new(move |h| {
            h.insert("epk".into(), other.clone());
        }),
        Box::new(|h| {
            h["epk"]["x"] = b64::encode([0u8; 32]).into();
            h["epk"]["y"] = b64::encode([0u8; 32]).into();
        }),
        Box::new(|h| {
            h.insert(
                "epk".into(),
                serde_json::json!({"kty":"OKP","crv":"X25519","x":b64::encode([9u8;32])}),
            );
        }),
    ];
    for (i, f) in variants.into_iter().enumerate() {
        let bad = with_header(&t, f);
        let err = policy.decrypt_compact(&bad, &keys).unwrap_err();
        assert_eq!(err.code(), "invalid_key", "variant {i}: {err:?}");
    }
    let missing = with_header(&t, |h| {
        h.remove("epk");
    });
    assert_eq!(
        policy.decrypt_compact(&missing, &keys).unwrap_err().code(),
        "invalid_header"
    );
    let not_object = with_header(&t, |h| {
        h.insert("epk".into(), "x".into());
    });
    assert_eq!(
        policy
            .decrypt_compact(&not_object, &keys)
            .unwrap_err()
            .code(),
        "invalid_header"
    );
}

#[test]
fn zip_bomb_is_capped() {
    let k = Key::generate(KeySpec::Oct(16)).unwrap();
    let bomb = vec![b'A'; 5 << 20];
    let t = token(
        &k,
        A::A128Kw,
        E::A128Gcm,
        Header::new().with("zip", "DEF"),
        &bomb,
    );
    assert!(
        t.len() < 30_000,
        "5 MiB of 'A' compresses to {} bytes",
        t.len()
    );
    let keys = KeySet::new(vec![k]);
    let policy = JwePolicy::new([A::A128Kw], [E::A128Gcm]);
    assert_eq!(
        policy.decrypt_compact(&t, &keys).unwrap_err().code(),
        "limit_exceeded"
    );
    // With a limit above the size it decrypts.
    let roomy = policy.clone().with_limits(Limits {
        max_plaintext_bytes: 6 << 20,
        ..Limits::default()
    });
    assert_eq!(
        roomy.decrypt_compact(&t, &keys).unwrap().plaintext.len(),
        5 << 20
    );
}

#[test]
fn zip_must_be_protected_and_known() {
    let k = Key::generate(KeySpec::Oct(16)).unwrap();
    let err = Encryptor::new(E::A128Gcm)
        .unprotected(Header::new().with("zip", "DEF"))
        .recipient(Recipient::new(&k, A::A128Kw))
        .encrypt(b"x")
        .unwrap_err();
    assert_eq!(err.code(), "invalid_header");
    // A hand-made flattened JWE with zip in the shared unprotected header is refused.
    let jwe = Encryptor::new(E::A128Gcm)
        .recipient(Recipient::new(&k, A::A128Kw))
        .encrypt(b"x")
        .unwrap();
    let mut v: Value = serde_json::from_str(&jwe.flattened_json().unwrap()).unwrap();
    v["unprotected"] = serde_json::json!({"zip": "DEF"});
    let policy = JwePolicy::new([A::A128Kw], [E::A128Gcm]);
    let keys = KeySet::new(vec![k.clone()]);
    assert_eq!(
        policy
            .decrypt_json(&v.to_string(), &keys)
            .unwrap_err()
            .code(),
        "invalid_header"
    );
    let t = token(&k, A::A128Kw, E::A128Gcm, Header::new(), b"x");
    let lz = with_header(&t, |h| {
        h.insert("zip".into(), "LZW".into());
    });
    assert_eq!(
        policy.decrypt_compact(&lz, &keys).unwrap_err().code(),
        "unsupported_algorithm"
    );
}

#[test]
fn unknown_crit_is_rejected_and_understood_crit_accepted() {
    let k = Key::generate(KeySpec::Oct(16)).unwrap();
    let t = token(
        &k,
        A::A128Kw,
        E::A128Gcm,
        Header::new().with("exp", 1).with("crit", vec!["exp"]),
        b"x",
    );
    let keys = KeySet::new(vec![k]);
    let policy = JwePolicy::new([A::A128Kw], [E::A128Gcm]);
    assert_eq!(
        policy.decrypt_compact(&t, &keys).unwrap_err().code(),
        "unsupported_crit"
    );
    assert!(policy
        .clone()
        .understanding("exp")
        .decrypt_compact(&t, &keys)
        .is_ok());
    for crit in [
        serde_json::json!([]),
        serde_json::json!(["enc"]),
        serde_json::json!(["absent"]),
        serde_json::json!("exp"),
    ] {
        let bad = with_header(&t, |h| {
            h.insert("crit".into(), crit.clone());
        });
        assert_eq!(
            policy
                .clone()
                .understanding("absent")
                .decrypt_compact(&bad, &keys)
                .unwrap_err()
                .code(),
            "invalid_header",
            "{crit}"
        );
    }
}

#[test]
fn pbes2_count_and_salt_are_bounded() {
    let pw = Key::from_jwk(
        idforge_jose::Jwk::from_params(idforge_jose::KeyParams::Oct {
            k: idforge_jose::SecretBytes::new(b"hunter2hunter2".to_vec()),
        })
        .with_alg("PBES2-HS256+A128KW"),
    )
    .unwrap();
    let jwe = Encryptor::new(E::A128Gcm)
        .recipient(Recipient::new(&pw, A::Pbes2Hs256A128Kw).pbes2_count(2000))
        .encrypt(b"x")
        .unwrap()
        .compact()
        .unwrap();
    let keys = KeySet::new(vec![pw.clone()]);
    let policy = JwePolicy::new([A::Pbes2Hs256A128Kw], [E::A128Gcm]);
    assert!(policy.decrypt_compact(&jwe, &keys).is_ok());
    let huge = with_header(&jwe, |h| {
        h.insert("p2c".into(), 10_000_000.into());
    });
    assert_eq!(
        policy.decrypt_compact(&huge, &keys).unwrap_err().code(),
        "limit_exceeded"
    );
    for p2c in [
        Value::from(0),
        Value::from(-1),
        Value::from("2000"),
        Value::from(1.5),
    ] {
        let bad = with_header(&jwe, |h| {
            h.insert("p2c".into(), p2c.clone());
        });
        assert_eq!(
            policy.decrypt_compact(&bad, &keys).unwrap_err().code(),
            "invalid_header",
            "{p2c}"
        );
    }
    let short_salt = with_header(&jwe, |h| {
        h.insert("p2s".into(), b64::encode([1u8; 7]).into());
    });
    assert_eq!(
        policy
            .decrypt_compact(&short_salt, &keys)
            .unwrap_err()
            .code(),
        "invalid_header"
    );
    let err = Encryptor::new(E::A128Gcm)
        .recipient(Recipient::new(&pw, A::Pbes2Hs256A128Kw).pbes2_salt(vec![0; 4]))
        .encrypt(b"x")
        .unwrap_err();
    assert_eq!(err.code(), "invalid_header");
    assert!(Limits::default().max_pbes2_count <= 310_000);
}

#[test]
fn direct_modes_allow_a_single_recipient_only() {
    let a = Key::generate(KeySpec::Oct(16)).unwrap();
    let b = ec();
    let err = Encryptor::new(E::A128Gcm)
        .recipient(Recipient::new(&a, A::Dir))
        .recipient(Recipient::new(&b, A::EcdhEsA128Kw))
        .encrypt(b"x")
        .unwrap_err();
    assert_eq!(err.code(), "invalid_header");
    // A hand-built general JWE whose first recipient claims ECDH-ES next to another one.
    let jwe = Encryptor::new(E::A128Gcm)
        .recipient(Recipient::new(&a, A::A128Kw))
        .recipient(Recipient::new(&b.to_public().unwrap(), A::EcdhEsA128Kw))
        .encrypt(b"x")
        .unwrap();
    let mut v: Value = serde_json::from_str(&jwe.general_json()).unwrap();
    v["recipients"][1]["header"]["alg"] = "ECDH-ES".into();
    let policy = JwePolicy::new(A::ALL, E::ALL);
    let err = policy
        .decrypt_json(&v.to_string(), &KeySet::new(vec![b]))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_header");
}

#[test]
fn rsa_oaep_failures_are_indistinguishable() {
    let rsa = Key::generate(KeySpec::Rsa(2048)).unwrap();
    let public = rsa.to_public().unwrap();
    let t = token(&rsa, A::RsaOaep256, E::A128Gcm, Header::new(), b"x");
    let keys = KeySet::new(vec![rsa]);
    let policy = JwePolicy::new([A::RsaOaep256], [E::A128Gcm]);
    let mut p = parts(&t);
    // (1) a garbage encrypted key, (2) a valid OAEP ciphertext of a CEK of the wrong length:
    // both end as the same `invalid_tag` as a bad tag does (RFC 7516 §11.5).
    let mut ek = b64::decode(&p[1], "ek").unwrap();
    ek[10] ^= 1;
    p[1] = b64::encode(&ek);
    assert_eq!(
        policy.decrypt_compact(&p.join("."), &keys).unwrap_err(),
        Error::InvalidTag
    );
    let wrong_len = idforge_jose::crypto::rsa_oaep_encrypt(
        public.public_key().unwrap(),
        idforge_jose::crypto::HashAlg::Sha256,
        &[7u8; 32],
    )
    .unwrap();
    let mut q = parts(&t);
    q[1] = b64::encode(wrong_len);
    assert_eq!(
        policy.decrypt_compact(&q.join("."), &keys).unwrap_err(),
        Error::InvalidTag
    );
}

#[test]
fn duplicate_and_conflicting_headers_are_rejected() {
    let k = Key::generate(KeySpec::Oct(16)).unwrap();
    let keys = KeySet::new(vec![k.clone()]);
    let policy = JwePolicy::new([A::A128Kw], [E::A128Gcm]);
    let t = token(&k, A::A128Kw, E::A128Gcm, Header::new(), b"x");
    let mut p = parts(&t);
    p[0] = b64::encode(br#"{"alg":"A128KW","enc":"A128GCM","enc":"A128GCM"}"#);
    assert_eq!(
        policy
            .decrypt_compact(&p.join("."), &keys)
            .unwrap_err()
            .code(),
        "malformed"
    );
    let jwe = Encryptor::new(E::A128Gcm)
        .recipient(Recipient::new(&k, A::A128Kw))
        .encrypt(b"x")
        .unwrap();
    let mut v: Value = serde_json::from_str(&jwe.flattened_json().unwrap()).unwrap();
    v["unprotected"] = serde_json::json!({"enc": "A128GCM"});
    assert_eq!(
        policy
            .decrypt_json(&v.to_string(), &keys)
            .unwrap_err()
            .code(),
        "invalid_header"
    );
    let err = policy
        .decrypt_compact("x".repeat(2 << 20).as_str(), &keys)
        .unwrap_err();
    assert_eq!(err.code(), "limit_exceeded");
    let deep = format!(
        "{{\"protected\":\"\",\"unprotected\":{}1{}}}",
        "[".repeat(100),
        "]".repeat(100)
    );
    assert_eq!(
        policy.decrypt_json(&deep, &keys).unwrap_err().code(),
        "limit_exceeded"
    );
}

#[test]
fn wrong_key_is_not_found_or_fails() {
    let k = ec();
    let t = token(
        &k,
        A::EcdhEsA256Kw,
        E::A256Gcm,
        Header::new().with_kid("k1"),
        b"x",
    );
    let policy = JwePolicy::new([A::EcdhEsA256Kw], [E::A256Gcm]);
    let other = ec();
    // A `kid` in the header restricts the candidates to keys with that `kid` (RFC 7516 §4.1.6).
    assert_eq!(
        policy
            .decrypt_compact(&t, &KeySet::new(vec![other.clone()]))
            .unwrap_err()
            .code(),
        "key_not_found"
    );
    let anonymous = token(&k, A::EcdhEsA256Kw, E::A256Gcm, Header::new(), b"x");
    assert_eq!(
        policy
            .decrypt_compact(&anonymous, &KeySet::new(vec![other.clone()]))
            .unwrap_err(),
        Error::InvalidTag
    );
    let named = Key::from_jwk(other.jwk().clone().with_kid("k2")).unwrap();
    assert_eq!(
        policy
            .decrypt_compact(&t, &KeySet::new(vec![named]))
            .unwrap_err()
            .code(),
        "key_not_found"
    );
    let public_only = KeySet::new(vec![k.to_public().unwrap()]);
    assert_eq!(
        policy.decrypt_compact(&t, &public_only).unwrap_err().code(),
        "key_not_found"
    );
}
