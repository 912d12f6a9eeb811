//! Wycheproof (C2SP, Apache-2.0) vectors from `../shared/vectors/wycheproof`: every `valid` case
//! accepted, every `invalid` case rejected, each `acceptable` choice justified below.
#![allow(clippy::unwrap_used)]

mod common;

use common::{b64, hex, key, keyset, read_json, vectors};
use idforge_jose::crypto::{self, HashAlg, RsaPrivateParts};
use idforge_jose::jwk::{Jwk, KeyParams};
use idforge_jose::Key;
use idforge_jwe::{ContentEncryption, Error, KeyManagementAlgorithm};
use serde_json::Value;

fn tests_of(file: &Value) -> Vec<(&Value, &Value)> {
    file["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["tests"].as_array().unwrap().iter().map(move |t| (g, t)))
        .collect()
}

/// `json_web_encryption_test.json`: 139 compact JWEs against the group's private JWK, decrypted
/// with the CLI's default policy (every `alg` that fits the key, every `enc`).
///
/// Deliberate deviation: the `valid` cases using `RSA1_5` (tcId 100–105, 112, 128) are
/// refused with `unsupported_algorithm`, because this library never offers RSAES-PKCS1-v1_5
/// (Bleichenbacher; RFC 8725 §3.2 and the project's requirements). Every other `valid` case
/// decrypts to `pt`.
#[test]
fn json_web_encryption() {
    let Some(dir) = vectors("wycheproof") else {
        return;
    };
    let file = read_json(&dir.join("json_web_encryption_test.json"));
    let (mut valid, mut invalid, mut refused_rsa1_5) = (0, 0, 0);
    for (group, t) in tests_of(&file) {
        let id = t["tcId"].as_u64().unwrap();
        let k = key(&group["private"]);
        let policy = common::fitting(&k);
        let keys = keyset(vec![k]);
        let jwe = t["jwe"].as_str().unwrap();
        let result = policy.decrypt_compact(jwe, &keys);
        let rsa1_5 = jwe.starts_with("eyJhbGciOiJSU0ExXzUi");
        match t["result"].as_str().unwrap() {
            "valid" if rsa1_5 => {
                let err = result.expect_err("RSA1_5 must be refused");
                assert_eq!(err.code(), "unsupported_algorithm", "tcId {id}");
                refused_rsa1_5 += 1;
            }
            "valid" => {
                let d = result.unwrap_or_else(|e| panic!("tcId {id}: {e:?}"));
                assert_eq!(d.plaintext, hex(t["pt"].as_str().unwrap()), "tcId {id}");
                valid += 1;
            }
            "invalid" => {
                let err = result.expect_err(&format!("tcId {id} must be rejected"));
                // Tampering with the tag, ciphertext, IV or encrypted key must all surface as
                // the one authentication error (no oracle telling which part was wrong), unless
                // the edit broke the base64url itself, a syntax error visible to anyone.
                let c = t["comment"].as_str().unwrap();
                if !rsa1_5
                    && [
                        "ModifiedAuthenticationTag",
                        "ModifiedCiphertext",
                        "ModifiedIv",
                        "ModifiedEncryptedKey",
                    ]
                    .iter()
                    .any(|m| c.contains(m))
                {
                    assert!(
                        matches!(err, Error::InvalidTag | Error::Malformed(_)),
                        "tcId {id}: {err:?}"
                    );
                }
                invalid += 1;
            }
            other => panic!("tcId {id}: unexpected result {other}"),
        }
    }
    println!("json_web_encryption: {valid} valid accepted, {invalid} invalid rejected, {refused_rsa1_5} valid RSA1_5 refused by design");
    assert_eq!(valid + refused_rsa1_5, 65);
    assert_eq!(invalid, 74);
}

/// `a128cbc_hs256_test.json`, `a192cbc_hs384_test.json`, `a256cbc_hs512_test.json`: the
/// AES_CBC_HMAC_SHA2 AEAD of RFC 7518 §5.2 (no `acceptable` cases in these files).
#[test]
fn aes_cbc_hmac_sha2() {
    let Some(dir) = vectors("wycheproof") else {
        return;
    };
    for (name, enc) in [
        ("a128cbc_hs256_test.json", ContentEncryption::A128CbcHs256),
        ("a192cbc_hs384_test.json", ContentEncryption::A192CbcHs384),
        ("a256cbc_hs512_test.json", ContentEncryption::A256CbcHs512),
    ] {
        let file = read_json(&dir.join(name));
        let (mut valid, mut invalid) = (0, 0);
        for (_, t) in tests_of(&file) {
            let id = t["tcId"].as_u64().unwrap();
            let [k, iv, aad, msg, ct, tag] =
                ["key", "iv", "aad", "msg", "ct", "tag"].map(|f| hex(t[f].as_str().unwrap()));
            let opened = enc.decrypt(&k, &iv, &aad, &ct, &tag);
            match t["result"].as_str().unwrap() {
                "valid" => {
                    assert_eq!(opened.as_deref(), Ok(&msg[..]), "{name} tcId {id}");
                    assert_eq!(
                        enc.encrypt(&k, &iv, &aad, &msg).unwrap(),
                        (ct, tag),
                        "{name} tcId {id}"
                    );
                    valid += 1;
                }
                "invalid" => {
                    assert_eq!(opened, Err(Error::InvalidTag), "{name} tcId {id}");
                    invalid += 1;
                }
                other => panic!("{name} tcId {id}: unexpected {other}"),
            }
        }
        println!("{name}: {valid} valid, {invalid} invalid");
        assert_eq!((valid, invalid), (67, 27));
    }
}

/// `aes_wrap_test.json` (RFC 3394, used by A*KW, ECDH-ES+A*KW and PBES2).
///
/// `acceptable` (tcId 12, 54, 109: wrapping an 8-byte key): rejected. RFC 3394 §2 defines the
/// wrap for n ≥ 2 64-bit blocks, and every JWE CEK is at least 16 bytes, so a one-block key
/// can only be an attack or a bug.
#[test]
fn aes_key_wrap() {
    let Some(dir) = vectors("wycheproof") else {
        return;
    };
    let file = read_json(&dir.join("aes_wrap_test.json"));
    let (mut valid, mut invalid, mut acceptable) = (0, 0, 0);
    for (_, t) in tests_of(&file) {
        let id = t["tcId"].as_u64().unwrap();
        let [kek, msg, ct] = ["key", "msg", "ct"].map(|f| hex(t[f].as_str().unwrap()));
        let unwrapped = crypto::aes_key_unwrap(&kek, &ct);
        match t["result"].as_str().unwrap() {
            "valid" => {
                assert_eq!(unwrapped.as_deref(), Ok(&msg[..]), "tcId {id}");
                assert_eq!(
                    crypto::aes_key_wrap(&kek, &msg).as_deref(),
                    Ok(&ct[..]),
                    "tcId {id}"
                );
                valid += 1;
            }
            "invalid" => {
                assert!(unwrapped.is_err(), "tcId {id}");
                invalid += 1;
            }
            "acceptable" => {
                assert!(
                    unwrapped.is_err() && crypto::aes_key_wrap(&kek, &msg).is_err(),
                    "tcId {id}"
                );
                acceptable += 1;
            }
            other => panic!("tcId {id}: unexpected {other}"),
        }
    }
    println!("aes_wrap: {valid} valid, {invalid} invalid, {acceptable} acceptable (rejected)");
    assert_eq!((valid, invalid, acceptable), (36, 126, 3));
}

fn strip_hex(s: &str) -> Vec<u8> {
    let mut v = hex(s);
    while v.len() > 1 && v[0] == 0 {
        v.remove(0);
    }
    v
}

fn rsa_private(fields: &Value) -> Key {
    let f = |n: &str| strip_hex(fields[n].as_str().unwrap());
    let params = KeyParams::Rsa {
        n: f("modulus"),
        e: f("publicExponent"),
        private: Some(RsaPrivateParts {
            d: f("privateExponent"),
            crt: Some([
                f("prime1"),
                f("prime2"),
                f("exponent1"),
                f("exponent2"),
                f("coefficient"),
            ]),
        }),
    };
    Key::from_jwk(Jwk::from_params(params)).unwrap()
}

/// `rsa_oaep_2048_sha{256,384,512}_mgf1sha*_test.json`: RSA-OAEP-256/384/512 key transport.
///
/// Cases with a non-empty OAEP `label` (valid per Wycheproof) cannot occur in JWE, which always
/// uses the empty label (RFC 7518 §4.3 / RFC 8017 §7.1.1 default); for them we check the
/// opposite property: decrypting them with the JWE (empty) label fails.
#[test]
fn rsa_oaep() {
    let Some(dir) = vectors("wycheproof") else {
        return;
    };
    for (name, hash, alg) in [
        (
            "rsa_oaep_2048_sha256_mgf1sha256_test.json",
            HashAlg::Sha256,
            KeyManagementAlgorithm::RsaOaep256,
        ),
        (
            "rsa_oaep_2048_sha384_mgf1sha384_test.json",
            HashAlg::Sha384,
            KeyManagementAlgorithm::RsaOaep384,
        ),
        (
            "rsa_oaep_2048_sha512_mgf1sha512_test.json",
            HashAlg::Sha512,
            KeyManagementAlgorithm::RsaOaep512,
        ),
    ] {
        let file = read_json(&dir.join(name));
        let (mut valid, mut labelled, mut invalid) = (0, 0, 0);
        for (group, t) in tests_of(&file) {
            let id = t["tcId"].as_u64().unwrap();
            let k = rsa_private(&group["privateKey"]);
            assert!(alg.check_key(&k).is_ok());
            let [msg, ct, label] = ["msg", "ct", "label"].map(|f| hex(t[f].as_str().unwrap()));
            let out = crypto::rsa_oaep_decrypt(k.private_key().unwrap(), hash, &ct);
            match t["result"].as_str().unwrap() {
                "valid" if !label.is_empty() => {
                    assert!(
                        out.is_err(),
                        "{name} tcId {id}: labelled ciphertext must not open"
                    );
                    labelled += 1;
                }
                "valid" => {
                    assert_eq!(out.as_deref(), Ok(&msg[..]), "{name} tcId {id}");
                    valid += 1;
                }
                "invalid" => {
                    assert!(out.is_err(), "{name} tcId {id}");
                    invalid += 1;
                }
                other => panic!("{name} tcId {id}: unexpected {other}"),
            }
        }
        println!("{name}: {valid} valid, {labelled} valid-with-label (n/a to JWE, rejected), {invalid} invalid");
        assert!(valid >= 10 && invalid >= 18);
    }
}

/// `ecdh_secp{256,384,521}r1_webcrypto_test.json`: the public key plays the `epk`, passed
/// through the same validation as a JWE header (`idforge_jwe::ecdh::shared_secret`): invalid
/// curve points, wrong curves and malformed points must be rejected. No `acceptable` cases.
#[test]
fn ecdh_webcrypto() {
    let Some(dir) = vectors("wycheproof") else {
        return;
    };
    for name in [
        "ecdh_secp256r1_webcrypto_test.json",
        "ecdh_secp384r1_webcrypto_test.json",
        "ecdh_secp521r1_webcrypto_test.json",
    ] {
        let file = read_json(&dir.join(name));
        let (mut valid, mut invalid) = (0, 0);
        for (_, t) in tests_of(&file) {
            let id = t["tcId"].as_u64().unwrap();
            let private = key(&t["private"]);
            let z = idforge_jwe::ecdh::shared_secret(&private, &t["public"]);
            match t["result"].as_str().unwrap() {
                "valid" => {
                    assert_eq!(
                        z.as_deref(),
                        Ok(&hex(t["shared"].as_str().unwrap())[..]),
                        "{name} tcId {id}"
                    );
                    valid += 1;
                }
                "invalid" => {
                    assert!(z.is_err(), "{name} tcId {id}");
                    invalid += 1;
                }
                other => panic!("{name} tcId {id}: unexpected {other}"),
            }
        }
        println!("{name}: {valid} valid, {invalid} invalid");
        assert_eq!(invalid, 23);
    }
}

/// `x25519_jwk_test.json` (RFC 7748 / RFC 8037 §3.2 ECDH-ES with X25519), `epk` validation as
/// for JWE.
///
/// `acceptable` choices:
/// - public keys on the twist or non-canonical (`Twist`, `NonCanonicalPublic`) whose shared
///   secret is not zero: accepted, as RFC 7748 §5 requires X25519 to accept any 32-byte string;
/// - low-order public keys giving an all-zero shared secret (`ZeroSharedSecret`): rejected, as
///   RFC 7748 §6.1 allows and RFC 8037 §3.2 recommends (the result would be a known key).
#[test]
fn x25519_jwk() {
    let Some(dir) = vectors("wycheproof") else {
        return;
    };
    let file = read_json(&dir.join("x25519_jwk_test.json"));
    let (mut valid, mut invalid, mut acc_ok, mut acc_rejected) = (0, 0, 0, 0);
    for (_, t) in tests_of(&file) {
        let id = t["tcId"].as_u64().unwrap();
        let private = key(&t["private"]);
        let z = idforge_jwe::ecdh::shared_secret(&private, &t["public"]);
        let shared = t["shared"].as_str().map(hex).unwrap_or_default();
        let flags: Vec<&str> = t["flags"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        match t["result"].as_str().unwrap() {
            "valid" => {
                assert_eq!(z.as_deref(), Ok(&shared[..]), "tcId {id}");
                valid += 1;
            }
            "invalid" => {
                assert!(z.is_err(), "tcId {id}");
                invalid += 1;
            }
            "acceptable" => {
                if flags.contains(&"ZeroSharedSecret") {
                    assert!(shared.iter().all(|b| *b == 0));
                    assert!(
                        z.is_err(),
                        "tcId {id}: a zero shared secret must be rejected"
                    );
                    acc_rejected += 1;
                } else {
                    assert_eq!(z.as_deref(), Ok(&shared[..]), "tcId {id}");
                    acc_ok += 1;
                }
            }
            other => panic!("tcId {id}: unexpected {other}"),
        }
    }
    println!("x25519_jwk: {valid} valid, {invalid} invalid, acceptable: {acc_ok} accepted, {acc_rejected} rejected (zero shared secret)");
    assert_eq!(valid + invalid + acc_ok + acc_rejected, 531);
}

/// A Wycheproof `jwe_ec` private key reused as a JWE recipient: an `epk` from another curve in
/// an otherwise valid token is rejected before any key unwrap (the invalid-curve attack).
#[test]
fn wycheproof_invalid_curve_point_is_typed() {
    let Some(dir) = vectors("wycheproof") else {
        return;
    };
    let file = read_json(&dir.join("json_web_encryption_test.json"));
    let (group, t) = tests_of(&file)
        .into_iter()
        .find(|(_, t)| t["comment"] == "rejectsInvalidCurvePoint")
        .unwrap();
    let k = key(&group["private"]);
    let err = common::fitting(&k)
        .decrypt_compact(t["jwe"].as_str().unwrap(), &keyset(vec![k]))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_key", "{err:?}");
    assert!(!b64("AA").is_empty());
}
