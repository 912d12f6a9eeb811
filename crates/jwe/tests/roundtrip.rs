//! Every alg × enc pair round-trips through every serialization, and the JSON features
//! (multiple recipients, shared unprotected header, AAD) work together.
#![allow(clippy::unwrap_used)]

use idforge_jose::crypto::{EcCurve, OkpCurve};
use idforge_jose::jwk::{Jwk, KeyParams, KeyUse, SecretBytes};
use idforge_jose::{Header, JwkSet, Key, KeySet, KeySpec};
use idforge_jwe::nested::EncryptionPolicy;
use idforge_jwe::{
    encrypt_compact, ContentEncryption, Encryptor, JwePolicy, KeyManagementAlgorithm as A,
    Recipient,
};

fn key_for(alg: A, enc: ContentEncryption, rsa: &Key) -> Key {
    let oct = |n: usize| Key::generate(KeySpec::Oct(n)).unwrap();
    match alg {
        A::RsaOaep | A::RsaOaep256 | A::RsaOaep384 | A::RsaOaep512 => rsa.clone(),
        A::EcdhEs | A::EcdhEsA128Kw | A::EcdhEsA192Kw | A::EcdhEsA256Kw => {
            Key::generate(KeySpec::Ec(EcCurve::P384)).unwrap()
        }
        A::A128Kw | A::A128GcmKw => oct(16),
        A::A192Kw | A::A192GcmKw => oct(24),
        A::A256Kw | A::A256GcmKw => oct(32),
        A::Pbes2Hs256A128Kw | A::Pbes2Hs384A192Kw | A::Pbes2Hs512A256Kw => {
            let jwk = Jwk::from_params(KeyParams::Oct {
                k: SecretBytes::new(b"correct horse battery".to_vec()),
            })
            .with_alg(alg.name());
            Key::from_jwk(jwk).unwrap()
        }
        A::Dir => oct(enc.cek_len()),
    }
}

#[test]
fn every_alg_and_enc_round_trips() {
    let rsa = Key::generate(KeySpec::Rsa(2048)).unwrap();
    let mut n = 0;
    for alg in A::ALL {
        for enc in ContentEncryption::ALL {
            let key = key_for(alg, enc, &rsa);
            let recipient = key.to_public().unwrap_or_else(|| key.clone());
            let policy = JwePolicy::new([alg], [enc]);
            let keys = KeySet::new(vec![key.clone()]);
            let mut r = Recipient::new(&recipient, alg);
            if matches!(
                alg,
                A::Pbes2Hs256A128Kw | A::Pbes2Hs384A192Kw | A::Pbes2Hs512A256Kw
            ) {
                r = r.pbes2_count(1000);
            }
            let jwe = Encryptor::new(enc)
                .protected(Header::new().with("cty", "text/plain"))
                .recipient(r)
                .encrypt(b"round trip")
                .unwrap();
            for text in [
                jwe.compact().unwrap(),
                jwe.flattened_json().unwrap(),
                jwe.general_json(),
            ] {
                let d = policy
                    .decrypt(&text, &keys)
                    .unwrap_or_else(|e| panic!("{alg}/{enc}: {e:?}"));
                assert_eq!(d.plaintext, b"round trip");
                assert_eq!((d.alg, d.enc), (alg, enc));
                assert_eq!(d.header.cty(), Some("text/plain"));
            }
            n += 1;
        }
    }
    assert_eq!(n, 18 * 6);
}

#[test]
fn x25519_ecdh_es_round_trips() {
    let key = Key::generate(KeySpec::Okp(OkpCurve::X25519)).unwrap();
    for alg in [A::EcdhEs, A::EcdhEsA128Kw, A::EcdhEsA256Kw] {
        let token = encrypt_compact(
            b"x",
            &key.to_public().unwrap(),
            alg,
            ContentEncryption::A256Gcm,
            Header::new(),
        )
        .unwrap();
        let d = JwePolicy::new([alg], [ContentEncryption::A256Gcm])
            .decrypt_compact(&token, &KeySet::new(vec![key.clone()]))
            .unwrap();
        assert_eq!(d.plaintext, b"x");
    }
    // Ed25519 keys fit no JWE algorithm.
    let ed = Key::generate(KeySpec::Okp(OkpCurve::Ed25519)).unwrap();
    assert!(A::fitting(&ed).is_empty());
}

#[test]
fn json_multiple_recipients_shared_header_and_aad() {
    let ec = Key::generate(KeySpec::Ec(EcCurve::P256))
        .unwrap()
        .to_jwk_with_kid("ec");
    let kw = Key::from_jwk(Jwk::generate(KeySpec::Oct(16)).unwrap().with_kid("kw")).unwrap();
    let jwe = Encryptor::new(ContentEncryption::A128CbcHs256)
        .protected(Header::new().with("zip", "DEF"))
        .unprotected(Header::new().with("jku", "https://example.com/keys"))
        .aad(b"bound context".to_vec())
        .recipient(Recipient::new(&ec.to_public().unwrap(), A::EcdhEsA128Kw))
        .recipient(Recipient::new(&kw, A::A128Kw))
        .encrypt(&b"compressible ".repeat(50))
        .unwrap();
    assert!(
        jwe.compact().is_err(),
        "several recipients cannot be compact"
    );
    let text = jwe.general_json();
    let policy = JwePolicy::new(
        [A::EcdhEsA128Kw, A::A128Kw],
        [ContentEncryption::A128CbcHs256],
    );
    for (key, index) in [(ec.clone(), 0), (kw.clone(), 1)] {
        let d = policy.decrypt_json(&text, &KeySet::new(vec![key])).unwrap();
        assert_eq!(d.recipient_index, index);
        assert_eq!(d.plaintext, b"compressible ".repeat(50));
        assert_eq!(
            d.header.get("jku").and_then(|v| v.as_str()),
            Some("https://example.com/keys")
        );
    }
    // The AAD is authenticated: changing it fails with the generic error.
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["aad"] = idforge_jose::b64::encode(b"other context").into();
    let err = policy
        .decrypt_json(&v.to_string(), &KeySet::new(vec![kw]))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_tag");
}

trait WithKid {
    fn to_jwk_with_kid(self, kid: &str) -> Key;
}
impl WithKid for Key {
    fn to_jwk_with_kid(self, kid: &str) -> Key {
        Key::from_jwk(self.jwk().clone().with_kid(kid)).unwrap()
    }
}

#[test]
fn fitting_follows_kty_size_and_jwk_alg() {
    let rsa = Key::generate(KeySpec::Rsa(2048)).unwrap();
    assert_eq!(
        A::fitting(&rsa),
        vec![A::RsaOaep, A::RsaOaep256, A::RsaOaep384, A::RsaOaep512]
    );
    let oct16 = Key::generate(KeySpec::Oct(16)).unwrap();
    assert_eq!(A::fitting(&oct16), vec![A::A128Kw, A::A128GcmKw, A::Dir]);
    let oct64 = Key::generate(KeySpec::Oct(64)).unwrap();
    assert_eq!(A::fitting(&oct64), vec![A::Dir]);
    let pinned = Key::from_jwk(rsa.jwk().clone().with_alg("RSA-OAEP-256")).unwrap();
    assert_eq!(A::fitting(&pinned), vec![A::RsaOaep256]);
    let signing = Key::from_jwk(rsa.jwk().clone().with_use(KeyUse::Signature)).unwrap();
    assert!(A::fitting(&signing).is_empty());
    let rsa1_5 = Key::from_jwk(rsa.jwk().clone().with_alg("RSA1_5")).unwrap();
    assert!(A::fitting(&rsa1_5).is_empty());
}

#[test]
fn encryption_policy_prefers_use_enc_keys() {
    let sig = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let sig = Key::from_jwk(
        sig.jwk()
            .clone()
            .with_use(KeyUse::Signature)
            .with_kid("sig"),
    )
    .unwrap();
    let plain = Key::from_jwk(
        Jwk::generate(KeySpec::Ec(EcCurve::P256))
            .unwrap()
            .with_kid("plain"),
    )
    .unwrap();
    let enc = Key::from_jwk(
        Jwk::generate(KeySpec::Ec(EcCurve::P256))
            .unwrap()
            .with_kid("enc")
            .with_use(KeyUse::Encryption),
    )
    .unwrap();
    let rsa = Key::from_jwk(Jwk::generate(KeySpec::Rsa(2048)).unwrap().with_kid("rsa")).unwrap();
    let jwks = JwkSet {
        keys: [&sig, &rsa, &plain, &enc]
            .iter()
            .map(|k| k.public_jwk().unwrap())
            .collect(),
    };
    let policy = EncryptionPolicy::new(
        A::EcdhEsA256Kw,
        ContentEncryption::A128CbcHs256,
        jwks.clone(),
    );
    assert_eq!(policy.select_key().unwrap().kid(), Some("enc"));
    let token = policy.encrypt_jwt("a.b.c").unwrap();
    let d = JwePolicy::new([A::EcdhEsA256Kw], [ContentEncryption::A128CbcHs256])
        .decrypt_compact(&token, &KeySet::new(vec![enc]))
        .unwrap();
    assert_eq!(d.header.kid(), Some("enc"));
    assert_eq!(d.header.cty(), Some("JWT"));
    let rsa_policy = EncryptionPolicy::new(A::RsaOaep256, ContentEncryption::A256Gcm, jwks.clone());
    assert_eq!(rsa_policy.select_key().unwrap().kid(), Some("rsa"));
    let none = EncryptionPolicy::new(A::A128Kw, ContentEncryption::A256Gcm, jwks);
    assert_eq!(none.select_key().unwrap_err().code(), "key_not_found");
}
