//! RFC 7520 §5 ("Examples of Protecting Content Using JOSE", JWE), RFC 7520 §6 (nesting) and the
//! RFC 8037 X25519 example, from the ietf-jose/cookbook JSON in `../shared/vectors/jose-cookbook`:
//! every JWE is decrypted in every serialization given, and re-encrypted byte for byte with the
//! generated CEK/IV/EPK injected wherever the output is deterministic.
#![allow(clippy::unwrap_used)]

mod common;

use common::{b64, key, keyset, read_json, vectors};
use idforge_jose::jwk::{Jwk, KeyParams, SecretBytes};
use idforge_jose::{Header, JwsAlgorithm, JwsPolicy, Key, KeySet};
use idforge_jwe::{
    nested, ContentEncryption, Encryptor, JwePolicy, KeyManagementAlgorithm, Recipient,
};
use serde_json::{Map, Value};

const GENERATED: [&str; 5] = ["epk", "iv", "tag", "p2s", "p2c"];

fn input_keys(case: &Value) -> Vec<Key> {
    let input = &case["input"];
    if let Some(pwd) = input["pwd"].as_str() {
        // RFC 7520 §5.3: the password is used as an `oct` key; its JWK names the PBES2 alg.
        let jwk = Jwk::from_params(KeyParams::Oct {
            k: SecretBytes::new(pwd.as_bytes().to_vec()),
        })
        .with_alg(input["alg"].as_str().unwrap());
        return vec![Key::from_jwk(jwk).unwrap()];
    }
    match &input["key"] {
        Value::Array(keys) => keys.iter().map(key).collect(),
        k => vec![key(k)],
    }
}

fn policy() -> JwePolicy {
    common::allow_all()
}

fn strip(h: &Value) -> Option<Header> {
    let Value::Object(m) = h else { return None };
    let m: Map<String, Value> = m
        .iter()
        .filter(|(k, _)| !GENERATED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Some(Header::from_map(m))
}

fn outputs(case: &Value) -> Vec<(&'static str, String)> {
    let out = &case["output"];
    let mut v = Vec::new();
    if let Some(c) = out["compact"].as_str() {
        v.push(("compact", c.to_owned()));
    }
    for form in ["json", "json_flat"] {
        if out[form].is_object() {
            v.push((form, out[form].to_string()));
        }
    }
    v
}

fn check_case(name: &str, case: &Value) -> usize {
    let keys = input_keys(case);
    let plaintext = case["input"]["plaintext"].as_str().unwrap().as_bytes();
    let alg_names: Vec<&str> = match &case["input"]["alg"] {
        Value::Array(a) => a.iter().map(|v| v.as_str().unwrap()).collect(),
        v => vec![v.as_str().unwrap()],
    };
    let mut checked = 0;
    for (form, text) in outputs(case) {
        let result = policy().decrypt(&text, &keyset(keys.clone()));
        if alg_names == ["RSA1_5"] {
            // RFC 7520 §5.1 uses RSAES-PKCS1-v1_5, which this library refuses by design.
            assert_eq!(
                result.unwrap_err().code(),
                "unsupported_algorithm",
                "{name} {form}"
            );
        } else {
            let d = result.unwrap_or_else(|e| panic!("{name} {form}: {e:?}"));
            assert_eq!(d.plaintext, plaintext, "{name} {form}");
        }
        checked += 1;
    }
    checked
}

/// Re-encrypts with everything random injected and compares with the published output.
fn reencrypt(case: &Value, keys: &[Key], alg: KeyManagementAlgorithm) -> idforge_jwe::Jwe {
    let content = &case["encrypting_content"];
    let enc = ContentEncryption::from_name(case["input"]["enc"].as_str().unwrap()).unwrap();
    let gen = &case["generated"];
    let ek = &case["encrypting_key"];
    let mut e = Encryptor::new(enc);
    if let Some(h) = strip(&content["protected"]) {
        e = e.protected(h);
    }
    if let Some(p) = content["protected_b64u"].as_str() {
        e = e.protected_encoding(p);
    }
    if let Some(h) = strip(&content["unprotected"]) {
        e = e.unprotected(h);
    }
    if let Some(aad) = case["input"]["aad"].as_str() {
        e = e.aad(aad.as_bytes());
    }
    if let Some(c) = gen["cek"].as_str() {
        e = e.cek(b64(c));
    }
    e = e.iv(b64(gen["iv"].as_str().unwrap()));
    let mut r = Recipient::new(&keys[0], alg);
    if ek["epk"].is_object() {
        r = r.ephemeral_key(key(&ek["epk"]));
    }
    if let Some(iv) = ek["iv"].as_str() {
        r = r.wrap_iv(b64(iv));
    }
    if let Some(s) = ek["salt"].as_str() {
        r = r
            .pbes2_salt(b64(s))
            .pbes2_count(ek["iteration_count"].as_u64().unwrap() as u32);
    }
    e.recipient(r)
        .encrypt(case["input"]["plaintext"].as_str().unwrap().as_bytes())
        .unwrap()
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

#[test]
fn rfc7520_jwe_examples() {
    let Some(dir) = vectors("jose-cookbook") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(dir.join("jwe"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.push(dir.join("curve25519/ecdh-es.json"));
    files.sort();
    let (mut decrypted, mut byte_for_byte) = (0, 0);
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let case = read_json(path);
        decrypted += check_case(&name, &case);
        let keys = input_keys(&case);
        let alg_name = case["input"]["alg"].as_str().unwrap_or("multi");
        let Ok(alg) = KeyManagementAlgorithm::from_name(alg_name) else {
            continue; // RSA1_5 (§5.1) and the multi-recipient §5.13 (tested below)
        };
        if case["reproducible"] == Value::Bool(false) {
            // The X25519 example's published ephemeral private key does not match its `epk`,
            // so only decryption can be checked.
            continue;
        }
        let jwe = reencrypt(&case, &keys, alg);
        let out = &case["output"];
        let content = &case["encrypting_content"];
        if let Some(compressed) = case["generated"]["plaintext_c"].as_str() {
            // RFC 7520 §5.9: DEFLATE output is implementation-specific, so our compressed
            // bytes differ; check the content encryption over the published compressed bytes,
            // and that our own JWE decrypts to the plaintext.
            let enc = ContentEncryption::from_name(case["input"]["enc"].as_str().unwrap()).unwrap();
            let (ct, tag) = enc
                .encrypt(
                    &b64(case["generated"]["cek"].as_str().unwrap()),
                    &b64(case["generated"]["iv"].as_str().unwrap()),
                    content["protected_b64u"].as_str().unwrap().as_bytes(),
                    &b64(compressed),
                )
                .unwrap();
            assert_eq!(
                idforge_jose::b64::encode(ct),
                content["ciphertext"],
                "{name}"
            );
            assert_eq!(idforge_jose::b64::encode(tag), content["tag"], "{name}");
            let d = policy()
                .decrypt(&jwe.compact().unwrap(), &keyset(keys.clone()))
                .unwrap();
            assert_eq!(
                d.plaintext,
                case["input"]["plaintext"].as_str().unwrap().as_bytes()
            );
            byte_for_byte += 1;
            continue;
        }
        // The content part is deterministic in every case.
        assert_eq!(
            idforge_jose::b64::encode(&jwe.ciphertext),
            content["ciphertext"],
            "{name}"
        );
        assert_eq!(
            idforge_jose::b64::encode(&jwe.tag),
            content["tag"],
            "{name}"
        );
        if matches!(alg, KeyManagementAlgorithm::RsaOaep) {
            // RSA-OAEP is randomized: the encrypted key differs, but must open with the key.
            let d = policy()
                .decrypt(&jwe.general_json(), &keyset(keys.clone()))
                .unwrap();
            assert_eq!(
                d.plaintext,
                case["input"]["plaintext"].as_str().unwrap().as_bytes()
            );
            continue;
        }
        if let Some(c) = out["compact"].as_str() {
            assert_eq!(jwe.compact().unwrap(), c, "{name} compact");
            byte_for_byte += 1;
        }
        if out["json"].is_object() {
            // For dir/ECDH-ES, RFC 7520 prints the "general" form without `recipients` (there
            // is no per-recipient data), which is the flattened syntax of RFC 7516 §7.2.2.
            let ours = if out["json"].get("recipients").is_some() {
                jwe.general_json()
            } else {
                jwe.flattened_json().unwrap()
            };
            assert_eq!(json(&ours), out["json"], "{name} json");
            byte_for_byte += 1;
        }
        if out["json_flat"].is_object() {
            assert_eq!(
                json(&jwe.flattened_json().unwrap()),
                out["json_flat"],
                "{name} json_flat"
            );
            byte_for_byte += 1;
        }
    }
    println!("RFC 7520 §5 + RFC 8037: {decrypted} serializations decrypted (RSA1_5 refused), {byte_for_byte} re-encrypted byte for byte");
    assert_eq!(decrypted, 37, "13 files × their serializations + X25519");
}

/// RFC 7520 §5.13: three recipients (RSA1_5, ECDH-ES+A256KW, A256GCMKW). The RSA1_5 recipient
/// is refused; each other key opens the JWE through its own recipient; re-encrypting to the two
/// supported recipients reproduces their entries and the shared content byte for byte.
#[test]
fn rfc7520_5_13_multiple_recipients() {
    let Some(dir) = vectors("jose-cookbook") else {
        return;
    };
    let case = read_json(&dir.join("jwe/5_13.encrypting_to_multiple_recipients.json"));
    let keys = input_keys(&case);
    let text = case["output"]["json"].to_string();
    let err = policy()
        .decrypt(&text, &keyset(vec![keys[0].clone()]))
        .unwrap_err();
    assert_eq!(err.code(), "unsupported_algorithm");
    for (i, k) in keys.iter().enumerate().skip(1) {
        let d = policy().decrypt(&text, &keyset(vec![k.clone()])).unwrap();
        assert_eq!(d.recipient_index, i);
        assert_eq!(d.header.get("cty"), Some(&Value::from("text/plain")));
        assert_eq!(
            d.plaintext,
            case["input"]["plaintext"].as_str().unwrap().as_bytes()
        );
    }
    let gen = &case["generated"];
    let eks = case["encrypting_key"].as_array().unwrap();
    let recipient_header = |i: usize| {
        let h = &eks[i]["header"];
        let mut m = Map::new();
        m.insert("alg".into(), h["alg"].clone());
        Header::from_map(m)
    };
    let jwe = Encryptor::new(ContentEncryption::A128CbcHs256)
        .unprotected(Header::new().with("cty", "text/plain"))
        .protected_encoding(
            case["encrypting_content"]["protected_b64u"]
                .as_str()
                .unwrap(),
        )
        .cek(b64(gen["cek"].as_str().unwrap()))
        .iv(b64(gen["iv"].as_str().unwrap()))
        .recipient(
            Recipient::new(&keys[1], KeyManagementAlgorithm::EcdhEsA256Kw)
                .header(recipient_header(1))
                .ephemeral_key(key(&eks[1]["epk"])),
        )
        .recipient(
            Recipient::new(&keys[2], KeyManagementAlgorithm::A256GcmKw)
                .header(recipient_header(2))
                .wrap_iv(b64(eks[2]["iv"].as_str().unwrap())),
        )
        .encrypt(case["input"]["plaintext"].as_str().unwrap().as_bytes())
        .unwrap();
    let mut ours = json(&jwe.general_json());
    let mut expected = case["output"]["json"].clone();
    let expected_recipients: Vec<Value> = expected["recipients"].as_array().unwrap()[1..].to_vec();
    assert_eq!(ours["recipients"].as_array().unwrap(), &expected_recipients);
    ours.as_object_mut().unwrap().remove("recipients");
    expected.as_object_mut().unwrap().remove("recipients");
    assert_eq!(ours, expected);
}

/// RFC 7520 §6: a JWS (PS256) nested in a JWE (RSA-OAEP, A128GCM, `cty: "JWT"`).
#[test]
fn rfc7520_6_nesting() {
    let Some(dir) = vectors("jose-cookbook") else {
        return;
    };
    let case = read_json(&dir.join("6.nesting_signatures_and_encryption.json"));
    let enc_key = key(&case["encrypt"]["input"]["key"]);
    let sig_key = key(&case["sign"]["input"]["key"]);
    let token = case["encrypt"]["output"]["compact"].as_str().unwrap();
    let jwe_policy = JwePolicy::new(
        [KeyManagementAlgorithm::RsaOaep],
        [ContentEncryption::A128Gcm],
    );
    let verifier = KeySet::new(vec![sig_key.to_public().unwrap()]);
    let n = nested::decrypt_and_verify(
        token,
        &jwe_policy,
        &keyset(vec![enc_key]),
        &JwsPolicy::new([JwsAlgorithm::PS256]),
        &verifier,
    )
    .unwrap();
    assert_eq!(
        n.decrypted.plaintext,
        case["sign"]["output"]["compact"]
            .as_str()
            .unwrap()
            .as_bytes()
    );
    assert_eq!(
        n.verified.payload,
        case["sign"]["input"]["payload"]
            .as_str()
            .unwrap()
            .as_bytes()
    );
    for form in ["json", "json_flat"] {
        let text = case["encrypt"]["output"][form].to_string();
        assert!(
            nested::decrypt_and_verify(
                &text,
                &jwe_policy,
                &keyset(vec![key(&case["encrypt"]["input"]["key"])]),
                &JwsPolicy::new([JwsAlgorithm::PS256]),
                &verifier
            )
            .is_ok(),
            "{form}"
        );
    }
}
